import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, createDataset, createKey, NIL_UUID, send, UNKNOWN_UUID } from "./helpers.js";

let t: TestServer;
let c: ReturnType<typeof clients>;
beforeAll(async () => {
  t = await startTestServer();
  c = clients(t);
});
afterAll(async () => {
  await t?.close();
});

const item = (datasetId: string, extra: Record<string, unknown> = {}) => ({
  dataset_id: datasetId,
  data_ref: "https://example.com/img.jpg",
  modality: "image",
  ...extra,
});

describe("datasets (/dashboard/api/item-datasets)", () => {
  it("creates the documented example (201) and reads it back, alone and in the list", async () => {
    const created = await c.dash.post("/dashboard/api/item-datasets", {
      name: "My Dataset",
      modality: "image",
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "My Dataset",
      modality: "image",
      item_count: 0,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      prompt: null,
      challenge_type: "image",
      choices: ["yes", "no"],
    });
    const one = await c.dash.get(`/dashboard/api/item-datasets/${created.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);
    const list = await c.dash.get("/dashboard/api/item-datasets");
    expect(list.status).toBe(200);
    expect(list.body).toContainEqual(created.body);
  });

  it("accepts labeling defaults: prompt, grid challenge type, choices", async () => {
    const grid = await c.dash.post("/dashboard/api/item-datasets", {
      name: "Street grid",
      modality: "image",
      challenge_type: "grid_select",
      prompt: "Select every square with a bus",
    });
    expect(grid.status).toBe(201);
    expect(grid.body).toMatchObject({
      challenge_type: "grid_select",
      choices: [],
      prompt: "Select every square with a bus",
    });
    const text = await c.dash.post("/dashboard/api/item-datasets", {
      name: "Sentiment",
      modality: "text",
      choices: ["positive", "negative", "neutral"],
    });
    expect(text.body).toMatchObject({ challenge_type: "text", choices: ["positive", "negative", "neutral"] });
  });

  it("refuses bad input with 422 naming the field, and creates nothing", async () => {
    const before = (await c.dash.get("/dashboard/api/item-datasets")).body.length;
    const cases: [unknown, string[]][] = [
      [{ modality: "image" }, ["body", "name"]],
      [{ name: "x" }, ["body", "modality"]],
      [{ name: "x", modality: "video" }, ["body", "modality"]],
      [{ name: 5, modality: "image" }, ["body", "name"]],
      [{ name: "   ", modality: "image" }, ["body", "name"]],
      [{ name: "x".repeat(201), modality: "image" }, ["body", "name"]],
      [{ name: "x", modality: "text", challenge_type: "grid_select" }, ["body", "challenge_type"]],
      [{ name: "x", modality: "image", challenge_type: "audio" }, ["body", "challenge_type"]],
      [{ name: "x", modality: "image", choices: ["yes", "yes"] }, ["body", "choices"]],
      [{ name: "x", modality: "image", extra: 1 }, ["body"]],
    ];
    for (const [body, loc] of cases) {
      const res = await c.dash.post("/dashboard/api/item-datasets", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.detail[0].loc.slice(0, loc.length), JSON.stringify(body)).toEqual(loc);
      expect(res.body.detail[0]).toEqual({
        loc: expect.any(Array),
        msg: expect.any(String),
        type: expect.any(String),
      });
    }
    expect((await c.dash.get("/dashboard/api/item-datasets")).body.length).toBe(before);
  });

  it("answers 404 for unknown ids and 422 for malformed ones", async () => {
    for (const id of [UNKNOWN_UUID, NIL_UUID]) {
      const res = await c.dash.get(`/dashboard/api/item-datasets/${id}`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ detail: "Dataset not found" });
      expect((await c.dash.del(`/dashboard/api/item-datasets/${id}`)).status).toBe(404);
    }
    const malformed = await c.dash.get("/dashboard/api/item-datasets/not-a-uuid");
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0].loc).toEqual(["path", "id"]);
    expect((await c.dash.del("/dashboard/api/item-datasets/1234")).status).toBe(422);
  });

  it("requires the dashboard credentials on every dataset path", async () => {
    for (const [method, path] of [
      ["GET", "/dashboard/api/item-datasets"],
      ["POST", "/dashboard/api/item-datasets"],
      ["GET", `/dashboard/api/item-datasets/${UNKNOWN_UUID}`],
      ["DELETE", `/dashboard/api/item-datasets/${UNKNOWN_UUID}`],
    ] as const) {
      const res = await call(t, path, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "POST" ? "{}" : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body).toEqual({ detail: "Unauthorized" });
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
    }
  });
});

describe("items (/api/v1/data/items)", () => {
  it("uploads the documented example (201) and counts items exactly", async () => {
    const dataset = await createDataset(t);
    const key = await createKey(t);
    const res = await c.api(key.raw_key).post("/api/v1/data/items", {
      items: [{ dataset_id: dataset.id, data_ref: "https://example.com/img.jpg", modality: "image" }],
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ created: 1, item_ids: [expect.stringMatching(/^[0-9a-f-]{36}$/)] });
    expect((await c.dash.get(`/dashboard/api/item-datasets/${dataset.id}`)).body.item_count).toBe(1);

    const list = await c.api(key.raw_key).get("/api/v1/data/items");
    expect(list.status).toBe(200);
    expect(list.body).toContainEqual({
      id: res.body.item_ids[0],
      dataset_id: dataset.id,
      data_ref: "https://example.com/img.jpg",
      modality: "image",
      created_at: expect.any(String),
      challenge_type: null,
      prompt: null,
    });
  });

  it("takes 1,000 items in one request, returns their ids in order, and pages them stably", async () => {
    const dataset = await createDataset(t, { name: "Big", modality: "text", choices: ["a", "b"] });
    const key = await createKey(t, { label: "scoped", datasets: [dataset.id] });
    const items = Array.from({ length: 1000 }, (_, i) => ({
      dataset_id: dataset.id,
      data_ref: `text #${i}`,
      modality: "text",
      ...(i % 10 === 0 && { ground_truth: "a" }),
    }));
    const res = await c.api(key.raw_key).post("/api/v1/data/items", { items });
    expect(res.status).toBe(201);
    expect(res.body.created).toBe(1000);
    expect(new Set(res.body.item_ids).size).toBe(1000);

    const first = await c.api(key.raw_key).get("/api/v1/data/items");
    expect(first.body).toHaveLength(100);
    const all: { id: string; data_ref: string }[] = [];
    for (let offset = 0; offset < 1200; offset += 300) {
      const page = await c.api(key.raw_key).get(`/api/v1/data/items?limit=300&offset=${offset}`);
      expect(page.status).toBe(200);
      all.push(...page.body);
    }
    expect(all.map((row) => row.id)).toEqual(res.body.item_ids);
    expect(all.map((row) => row.data_ref)).toEqual(items.map((i) => i.data_ref));
    expect((await c.api(key.raw_key).get("/api/v1/data/items?limit=1000")).body).toHaveLength(1000);
    expect((await c.dash.get(`/dashboard/api/item-datasets/${dataset.id}`)).body.item_count).toBe(1000);
  });

  it("refuses more than 1,000 items with 422 naming the limit, and stores nothing", async () => {
    const dataset = await createDataset(t);
    const key = await createKey(t);
    const items = Array.from({ length: 1001 }, () => item(dataset.id));
    const res = await c.api(key.raw_key).post("/api/v1/data/items", { items });
    expect(res.status).toBe(422);
    expect(res.body.detail).toContainEqual({
      loc: ["body", "items"],
      msg: expect.stringContaining("1000"),
      type: "too_big",
    });
    expect((await c.dash.get(`/dashboard/api/item-datasets/${dataset.id}`)).body.item_count).toBe(0);
  });

  it("validates every item and stores none of them when one is bad (all or nothing)", async () => {
    const image = await createDataset(t);
    const grid = await createDataset(t, { name: "Grid", modality: "image", challenge_type: "grid_select" });
    const other = await createDataset(t, { name: "Hidden", modality: "image" });
    const key = await createKey(t, { label: "two datasets", datasets: [image.id, grid.id] });
    const cases: [Record<string, unknown>, (string | number)[]][] = [
      [item(image.id, { modality: "text" }), ["body", "items", 1, "modality"]],
      [item(image.id, { data_ref: "" }), ["body", "items", 1, "data_ref"]],
      [item(image.id, { data_ref: "   " }), ["body", "items", 1, "data_ref"]],
      [item(image.id, { data_ref: "x".repeat(2049) }), ["body", "items", 1, "data_ref"]],
      [item(image.id, { data_ref: 42 }), ["body", "items", 1, "data_ref"]],
      [{ dataset_id: image.id, modality: "image" }, ["body", "items", 1, "data_ref"]],
      [item("not-a-uuid"), ["body", "items", 1, "dataset_id"]],
      [item(UNKNOWN_UUID), ["body", "items", 1, "dataset_id"]],
      [item(other.id), ["body", "items", 1, "dataset_id"]],
      [item(image.id, { challenge_type: "text" }), ["body", "items", 1, "challenge_type"]],
      [item(image.id, { challenge_type: "quiz" }), ["body", "items", 1, "challenge_type"]],
      [item(image.id, { ground_truth: "maybe" }), ["body", "items", 1, "ground_truth"]],
      [item(image.id, { ground_truth: [1, 2] }), ["body", "items", 1, "ground_truth"]],
      [item(grid.id, { ground_truth: "yes" }), ["body", "items", 1, "ground_truth"]],
      [item(grid.id, { ground_truth: [-1] }), ["body", "items", 1, "ground_truth", 0]],
      [item(image.id, { prompt: "" }), ["body", "items", 1, "prompt"]],
      [item(image.id, { unknown_field: 1 }), ["body", "items", 1]],
    ];
    for (const [bad, loc] of cases) {
      const res = await c.api(key.raw_key).post("/api/v1/data/items", { items: [item(image.id), bad] });
      expect(res.status, JSON.stringify(bad).slice(0, 80)).toBe(422);
      expect(
        res.body.detail.map((d: { loc: unknown }) => d.loc),
        JSON.stringify(bad).slice(0, 80),
      ).toContainEqual(loc);
    }
    for (const body of [{}, { items: [] }, { items: "x" }, [], { items: [item(image.id)], extra: true }]) {
      const res = await c.api(key.raw_key).post("/api/v1/data/items", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
    const malformed = await call(
      t,
      "/api/v1/data/items",
      send("POST", "{oops", { "x-hiveguard-key": key.raw_key }),
    );
    expect(malformed.status).toBe(422);
    // A hidden dataset is reported exactly like a missing one.
    const hidden = await c.api(key.raw_key).post("/api/v1/data/items", { items: [item(other.id)] });
    const missing = await c.api(key.raw_key).post("/api/v1/data/items", { items: [item(UNKNOWN_UUID)] });
    expect(hidden.body).toEqual(missing.body);

    for (const dataset of [image, grid, other]) {
      expect((await c.dash.get(`/dashboard/api/item-datasets/${dataset.id}`)).body.item_count).toBe(0);
    }
    expect((await c.api(key.raw_key).get("/api/v1/data/items")).body).toEqual([]);
  });

  it("stores ground truth, prompts and grid answers that fit the dataset", async () => {
    const grid = await createDataset(t, { name: "Grid", modality: "image", challenge_type: "grid_select" });
    const key = await createKey(t, { label: "grid", datasets: [grid.id] });
    const res = await c.api(key.raw_key).post("/api/v1/data/items", {
      items: [
        item(grid.id, { ground_truth: [5, 1, 3, 1], prompt: "Select the buses" }),
        item(grid.id, { challenge_type: "select_all" }),
        item(grid.id, { challenge_type: "image", ground_truth: "yes" }),
      ],
    });
    expect(res.status).toBe(201);
    const rows = await t.server.deps.db.prisma.item.findMany({
      where: { datasetId: grid.id },
      orderBy: { seq: "asc" },
    });
    expect(rows.map((r) => [r.groundTruth, r.isGt, r.state])).toEqual([
      [[1, 3, 5], true, "unlabeled"],
      [null, false, "unlabeled"],
      ["yes", true, "unlabeled"],
    ]);
    // The public listing never reveals answers.
    const listed = await c.api(key.raw_key).get("/api/v1/data/items");
    expect(JSON.stringify(listed.body)).not.toContain("ground_truth");
    expect(listed.body[0].prompt).toBe("Select the buses");
  });

  it("shows a scoped key only its datasets' items", async () => {
    const mine = await createDataset(t, { name: "Mine", modality: "audio" });
    const theirs = await createDataset(t, { name: "Theirs", modality: "audio" });
    const all = await createKey(t, { label: "all" });
    await c.api(all.raw_key).post("/api/v1/data/items", {
      items: [
        { dataset_id: mine.id, data_ref: "a.mp3", modality: "audio" },
        { dataset_id: theirs.id, data_ref: "b.mp3", modality: "audio" },
      ],
    });
    const scoped = await createKey(t, { label: "mine", datasets: [mine.id] });
    const listed = await c.api(scoped.raw_key).get("/api/v1/data/items?limit=1000");
    expect(listed.body.map((r: { data_ref: string }) => r.data_ref)).toEqual(["a.mp3"]);
  });

  it("refuses bad paging with 422 naming the parameter", async () => {
    const key = await createKey(t);
    for (const query of ["limit=0", "limit=1001", "limit=abc", "offset=-1", "limit=1.5"]) {
      const res = await c.api(key.raw_key).get(`/api/v1/data/items?${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body.detail[0].loc, query).toEqual(["query", query.split("=")[0]]);
    }
  });

  it("refuses a missing, malformed, unknown or revoked key with the documented 401", async () => {
    const key = await createKey(t);
    const headerSets: Record<string, string>[] = [
      {},
      { "x-hiveguard-key": "" },
      { "x-hiveguard-key": "not-a-key" },
      {
        "x-hiveguard-key":
          `${key.raw_key.slice(0, -1)}A` === key.raw_key
            ? `${key.raw_key.slice(0, -1)}B`
            : `${key.raw_key.slice(0, -1)}A`,
      },
      { authorization: t.dashboardAuth },
    ];
    for (const headers of headerSets) {
      for (const path of ["/api/v1/data/items", "/api/v1/data/labeled"]) {
        const res = await call(t, path, { headers });
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ detail: "Invalid or missing API key" });
      }
      const post = await call(t, "/api/v1/data/items", send("POST", { items: [] }, headers));
      expect(post.status).toBe(401);
    }
  });

  it("deleting a dataset removes its items, votes and labels in one go (204)", async () => {
    const dataset = await createDataset(t, { name: "Doomed", modality: "image" });
    const key = await createKey(t, { label: "doomed", datasets: [dataset.id] });
    const up = await c
      .api(key.raw_key)
      .post("/api/v1/data/items", { items: [item(dataset.id), item(dataset.id)] });
    const prisma = t.server.deps.db.prisma;
    await prisma.vote.create({ data: { itemId: up.body.item_ids[0], solverId: "s1", answer: "yes" } });
    await prisma.label.create({
      data: {
        itemId: up.body.item_ids[0],
        datasetId: dataset.id,
        label: "yes",
        confidence: 1,
        solverCount: 1,
        voteCount: 1,
      },
    });

    const res = await c.dash.del(`/dashboard/api/item-datasets/${dataset.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect((await c.dash.get(`/dashboard/api/item-datasets/${dataset.id}`)).status).toBe(404);
    expect(await prisma.item.count({ where: { datasetId: dataset.id } })).toBe(0);
    expect(await prisma.vote.count({ where: { itemId: { in: up.body.item_ids } } })).toBe(0);
    expect(await prisma.label.count({ where: { datasetId: dataset.id } })).toBe(0);
    expect((await c.dash.del(`/dashboard/api/item-datasets/${dataset.id}`)).status).toBe(404);
  });

  it("keeps the body limit: an oversize request is refused without storing anything", async () => {
    const dataset = await createDataset(t);
    const key = await createKey(t);
    const huge = { items: [item(dataset.id, { data_ref: "x".repeat(11 * 1024 * 1024) })] };
    const res = await c.api(key.raw_key).post("/api/v1/data/items", huge);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ detail: expect.any(String) });
    expect((await c.dash.get(`/dashboard/api/item-datasets/${dataset.id}`)).body.item_count).toBe(0);
  });
});

describe("the same procedures on GraphQL", () => {
  it("lists datasets and creates one", async () => {
    const gql = (query: string) =>
      call(t, "/graphql", send("POST", { query }, { authorization: t.dashboardAuth }));
    const created = await gql(
      'mutation { createDataset(input: {name: "From GraphQL", modality: text}) { id name modality item_count choices } }',
    );
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data.createDataset).toMatchObject({
      name: "From GraphQL",
      modality: "text",
      item_count: 0,
    });
    const listed = await gql("{ datasets { nodes { id name } } }");
    expect(listed.body.data.datasets.nodes).toContainEqual({
      id: created.body.data.createDataset.id,
      name: "From GraphQL",
    });
  });
});
