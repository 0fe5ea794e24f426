import { get as httpGet, type IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encode } from "../../src/modules/guard/labels/http.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, createDataset, createKey, seedLabels, UNKNOWN_UUID } from "./helpers.js";

let t: TestServer;
let c: ReturnType<typeof clients>;
let cats: { id: string; name: string };
let dogs: { id: string; name: string };
beforeAll(async () => {
  t = await startTestServer();
  c = clients(t);
  cats = await createDataset(t, { name: "ImageNet Cats", modality: "image" });
  dogs = await createDataset(t, { name: "Dogs", modality: "image" });
  await seedLabels(t, cats.id, 250);
  await seedLabels(t, cats.id, 5, { state: "needs_review", dataRefPrefix: "https://example.com/review-" });
  await seedLabels(t, dogs.id, 3, { dataRefPrefix: "https://example.com/dog-" });
});
afterAll(async () => {
  await t?.close();
});

const exportPath = (id: string, fmt?: string) =>
  `/dashboard/api/item-datasets/${id}/labeled/export${fmt === undefined ? "" : `?fmt=${fmt}`}`;

describe("GET /api/v1/data/labeled", () => {
  it("returns finalized labels in the documented shape, without items flagged for review", async () => {
    const key = await createKey(t);
    const res = await c.api(key.raw_key).get("/api/v1/data/labeled?limit=1000");
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(253);
    expect(res.body[0]).toEqual({
      item_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      data_ref: "https://example.com/img-1",
      modality: "image",
      label: "no",
      confidence: 0.92,
      solver_count: 5,
      created_at: expect.any(String),
      dataset_id: cats.id,
      // reliability-weighted agreement: null for labels written without per-vote reliabilities (seeded here)
      weighted_confidence: null,
    });
    expect(res.text).not.toContain("review-");
  });

  it("pages with limit (default 100) and offset, in a stable order", async () => {
    const key = await createKey(t);
    const api = c.api(key.raw_key);
    expect((await api.get("/api/v1/data/labeled")).body).toHaveLength(100);
    const pages = [];
    for (let offset = 0; offset < 260; offset += 70)
      pages.push(...(await api.get(`/api/v1/data/labeled?limit=70&offset=${offset}`)).body);
    const all = (await api.get("/api/v1/data/labeled?limit=1000")).body;
    expect(pages).toEqual(all);
    expect((await api.get("/api/v1/data/labeled?offset=10000")).body).toEqual([]);
    for (const query of ["limit=1001", "limit=-5", "offset=x"]) {
      const bad = await api.get(`/api/v1/data/labeled?${query}`);
      expect(bad.status, query).toBe(422);
      expect(bad.body.detail[0].loc).toEqual(["query", query.split("=")[0]]);
    }
  });

  it("shows a scoped key only its datasets' labels", async () => {
    const key = await createKey(t, { label: "dogs only", datasets: [dogs.id] });
    const res = await c.api(key.raw_key).get("/api/v1/data/labeled");
    expect(res.body.map((l: { data_ref: string }) => l.data_ref)).toEqual([
      "https://example.com/dog-1",
      "https://example.com/dog-2",
      "https://example.com/dog-3",
    ]);
  });
});

describe("GET /dashboard/api/item-datasets/{id}/labeled/export", () => {
  it("streams CSV (the default) with a header, the right Content-Type and a file name", async () => {
    for (const fmt of ["csv", undefined]) {
      const res = await c.dash.get(exportPath(cats.id, fmt));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(res.headers.get("content-disposition")).toBe('attachment; filename="labels-imagenet-cats.csv"');
      const lines = res.text.trimEnd().split("\n");
      expect(lines[0]).toBe("item_id,data_ref,modality,label,confidence,solver_count,created_at");
      expect(lines).toHaveLength(251);
      expect(lines[1]).toMatch(/^[0-9a-f-]{36},https:\/\/example\.com\/img-1,image,no,0\.92,5,\d{4}-.+Z$/);
      expect(res.text).not.toContain("review-");
    }
  });

  it("streams JSON and JSONL with the same rows", async () => {
    const json = await c.dash.get(exportPath(cats.id, "json"));
    expect(json.status).toBe(200);
    expect(json.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(json.headers.get("content-disposition")).toContain('filename="labels-imagenet-cats.json"');
    expect(json.body).toHaveLength(250);
    const jsonl = await c.dash.get(exportPath(cats.id, "jsonl"));
    expect(jsonl.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const rows = jsonl.text
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(rows).toEqual(json.body);
    expect(rows[1]).toEqual({
      item_id: expect.any(String),
      data_ref: "https://example.com/img-2",
      modality: "image",
      label: "yes",
      confidence: 0.92,
      solver_count: 5,
      created_at: expect.any(String),
    });
    const api = await c.api((await createKey(t)).raw_key).get("/api/v1/data/labeled?limit=1000");
    const fromApi = api.body.filter((l: { dataset_id: string }) => l.dataset_id === cats.id);
    // The export carries the documented columns; the list adds dataset_id and weighted_confidence.
    expect(rows).toEqual(
      fromApi.map(
        ({
          dataset_id: _d,
          weighted_confidence: _w,
          ...rest
        }: {
          dataset_id: string;
          weighted_confidence: unknown;
        }) => rest,
      ),
    );
  });

  it("quotes CSV fields that need it and writes grid labels as JSON", async () => {
    const tricky = await createDataset(t, {
      name: 'Tricky, "quoted" — ünïcode',
      modality: "image",
      challenge_type: "grid_select",
    });
    const prisma = t.server.deps.db.prisma;
    const item = await prisma.item.create({
      data: { datasetId: tricky.id, dataRef: 'https://x/a,b "q"\nline', modality: "image", state: "labeled" },
    });
    await prisma.label.create({
      data: {
        itemId: item.id,
        datasetId: tricky.id,
        label: [1, 4],
        confidence: 0.75,
        solverCount: 4,
        voteCount: 4,
      },
    });
    const csv = await c.dash.get(exportPath(tricky.id, "csv"));
    expect(csv.headers.get("content-disposition")).toBe(
      'attachment; filename="labels-tricky-quoted-unicode.csv"',
    );
    expect(csv.text).toContain(`,"https://x/a,b ""q""\nline",image,"[1,4]",0.75,4,`);
    const json = await c.dash.get(exportPath(tricky.id, "json"));
    expect(json.body[0]).toMatchObject({ label: [1, 4], data_ref: 'https://x/a,b "q"\nline' });
  });

  it("neutralizes cells a spreadsheet would run as formulas in CSV (not in JSON), and keeps plain numbers", async () => {
    const planted = await createDataset(t, { name: "Planted", modality: "text" });
    const prisma = t.server.deps.db.prisma;
    const cases: [dataRef: string, label: string, csvDataRef: string, csvLabel: string][] = [
      [
        "+cmd|' /C calc'!A0",
        '=HYPERLINK("https://evil.example","x")',
        "'+cmd|' /C calc'!A0",
        `"'=HYPERLINK(""https://evil.example"",""x"")"`,
      ],
      ["@SUM(1+1)", "-2+3", "'@SUM(1+1)", "'-2+3"],
      ["\tcell", "\rcell", "'\tcell", `"'\rcell"`],
      ["https://x/1", "-2", "https://x/1", "-2"],
      ["https://x/2", "+1.5e3", "https://x/2", "+1.5e3"],
      ["https://x/3", "yes", "https://x/3", "yes"],
    ];
    for (const [dataRef, label] of cases) {
      const item = await prisma.item.create({
        data: { datasetId: planted.id, dataRef, modality: "text", state: "labeled" },
      });
      await prisma.label.create({
        data: {
          itemId: item.id,
          datasetId: planted.id,
          label,
          confidence: 0.9,
          solverCount: 3,
          voteCount: 3,
        },
      });
    }
    const expected = cases.map(
      ([, , csvDataRef, csvLabel]) =>
        `,${csvDataRef.includes(",") ? `"${csvDataRef}"` : csvDataRef},text,${csvLabel},0.9,3,`,
    );
    // The server's export (PostgreSQL's COPY, or the batch encoder on PGlite)...
    const csv = (await c.dash.get(exportPath(planted.id, "csv"))).text;
    for (const cell of expected) expect(csv).toContain(cell);
    // ...and the batch encoder on its own, whichever database this run has: the same rule in both.
    const rows = cases.map(([dataRef, label], i) => ({
      itemId: `00000000-0000-4000-8000-00000000000${i}`,
      dataRef,
      modality: "text" as const,
      labelCsv: label,
      labelJson: JSON.stringify(label),
      confidence: 0.9,
      solverCount: 3,
      createdAt: "2026-01-01T00:00:00.000Z",
    }));
    let encoded = "";
    for await (const chunk of encode(
      (async function* () {
        yield rows;
      })(),
      "csv",
    ))
      encoded += chunk;
    for (const cell of expected) expect(encoded).toContain(cell);

    // JSON keeps the data exactly as stored.
    const json = (await c.dash.get(exportPath(planted.id, "json"))).body;
    expect(json.map((r: { data_ref: string }) => r.data_ref)).toEqual(cases.map(([dataRef]) => dataRef));
  });

  it("exports an empty dataset as a header, [] or nothing", async () => {
    const empty = await createDataset(t, { name: "Empty", modality: "text" });
    expect((await c.dash.get(exportPath(empty.id, "csv"))).text).toBe(
      "item_id,data_ref,modality,label,confidence,solver_count,created_at\n",
    );
    expect((await c.dash.get(exportPath(empty.id, "json"))).body).toEqual([]);
    expect((await c.dash.get(exportPath(empty.id, "jsonl"))).text).toBe("");
  });

  it("refuses an unknown fmt with 422, unknown datasets with 404, malformed ids with 422, no auth with 401", async () => {
    for (const fmt of ["xml", "CSV", ""]) {
      const res = await c.dash.get(exportPath(cats.id, fmt));
      expect(res.status, fmt).toBe(422);
      expect(res.body.detail[0].loc).toEqual(["query", "fmt"]);
    }
    const missing = await c.dash.get(exportPath(UNKNOWN_UUID, "csv"));
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ detail: "Dataset not found" });
    const malformed = await c.dash.get(exportPath("nope", "csv"));
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0].loc).toEqual(["path", "id"]);
    const anonymous = await call(t, exportPath(cats.id, "csv"));
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ detail: "Unauthorized" });
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic /);
    const withKey = await call(t, exportPath(cats.id, "csv"), {
      headers: { "x-hiveguard-key": (await createKey(t)).raw_key },
    });
    expect(withKey.status).toBe(401);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await call(t, "/openapi.json");
    const op = doc.body.paths["/dashboard/api/item-datasets/{id}/labeled/export"].get;
    expect(op.security).toEqual([{ dashboardBasic: [] }]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "401", "404", "422"]));
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["id", "fmt"]));
  });
});

describe("a large export", () => {
  it("streams every row in batches, and a client that disconnects stops the export", async () => {
    const big = await createDataset(t, { name: "Big", modality: "image" });
    // 30,000 rows of about 1 KB: far more than the socket and stream buffers hold.
    await seedLabels(t, big.id, 30_000, { dataRefPrefix: `https://example.com/${"x".repeat(1000)}-` });
    const labels = t.server.deps.services.labels;

    const full = await fetch(`${t.url}${exportPath(big.id, "jsonl")}`, {
      headers: { authorization: t.dashboardAuth },
    });
    let lines = 0;
    const decoder = new TextDecoder();
    for await (const chunk of full.body as unknown as AsyncIterable<Uint8Array>)
      lines += (decoder.decode(chunk as Uint8Array, { stream: true }).match(/\n/g) ?? []).length;
    expect(lines).toBe(30_000);

    // A client of its own (no keep-alive pool) that reads one chunk, then stops reading, then hangs up.
    const request = httpGet(`${t.url}${exportPath(big.id, "csv")}`, {
      headers: { authorization: t.dashboardAuth },
      agent: false,
    });
    const response = await new Promise<IncomingMessage>((resolve) => request.on("response", resolve));
    expect(response.statusCode).toBe(200);
    await new Promise((resolve) => response.once("data", resolve));
    response.pause();
    // The client reads nothing more: backpressure holds the export where it is.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(labels.activeExports).toBe(1);
    request.destroy();
    await expect.poll(() => labels.activeExports, { timeout: 3000, interval: 20 }).toBe(0);
    // The server is fine afterwards.
    expect((await c.dash.get(exportPath(dogs.id, "jsonl"))).text.trimEnd().split("\n")).toHaveLength(3);
  }, 120_000);

  it.runIf(process.env.DATABASE_URL)(
    "on PostgreSQL writes CSV with COPY, byte for byte the batch encoding, and a disconnect ends the query",
    async () => {
      const odd = await createDataset(t, {
        name: "Odd values",
        modality: "image",
        challenge_type: "grid_select",
      });
      const prisma = t.server.deps.db.prisma;
      const refs = ['a,b "q"\nline', "tab\there", " lead and trail ", "cr\rhere", "ünï — ☃", "\\.", "x"];
      const labels: unknown[] = ["", "yes, no", 'say "hi"', [], [0], [1, 4, 8], "multi\nline"];
      for (const [n, dataRef] of refs.entries()) {
        const item = await prisma.item.create({
          data: { datasetId: odd.id, dataRef, modality: "image", state: "labeled" },
        });
        await prisma.label.create({
          data: {
            itemId: item.id,
            datasetId: odd.id,
            label: labels[n] as string,
            confidence: [0.1, 1, 0, 0.333333333333, 0.5, 0.95, 0.0001][n]!,
            solverCount: n,
            voteCount: n,
          },
        });
      }
      await seedLabels(t, odd.id, 500);
      const service = t.server.deps.services.labels;
      let batched = "";
      for await (const chunk of encode(service.exportBatches(odd.id, { batchSize: 64 }), "csv"))
        batched += chunk;
      const copied = await service.exportCsvStream(odd.id);
      expect(copied).not.toBeNull();
      let viaCopy = "";
      for await (const chunk of copied!) viaCopy += chunk.toString();
      expect(viaCopy).toBe(batched);
      expect((await c.dash.get(exportPath(odd.id, "csv"))).text).toBe(batched);

      // A client that hangs up mid-COPY: the query is gone from pg_stat_activity.
      const big = await createDataset(t, { name: "Big copy", modality: "image" });
      await seedLabels(t, big.id, 30_000, { dataRefPrefix: `https://example.com/${"x".repeat(1000)}-` });
      const copies = async () =>
        Number(
          (
            await t.server.deps.db.queryRows(
              `SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'COPY (%' AND query LIKE $1`,
              [`%${big.id}%`],
            )
          )[0]![0],
        );
      const request = httpGet(`${t.url}${exportPath(big.id, "csv")}`, {
        headers: { authorization: t.dashboardAuth },
        agent: false,
      });
      const response = await new Promise<IncomingMessage>((resolve) => request.on("response", resolve));
      await new Promise((resolve) => response.once("data", resolve));
      response.pause();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await copies()).toBe(1);
      request.destroy();
      await expect.poll(copies, { timeout: 5000, interval: 50 }).toBe(0);
      await expect.poll(() => service.activeExports, { timeout: 3000, interval: 20 }).toBe(0);
    },
    120_000,
  );
});
