// REST conventions every module inherits from the shared layer (issue 26): list query parameters in both
// forms, 405 with Allow for a wrong method, limit/offset with X-Total-Count on the bare-array dashboard lists.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, clients, createDataset, createKey } from "../guard/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
let doc: { paths: Record<string, Record<string, any>> };

beforeAll(async () => {
  t = await startTestServer();
  doc = (await call(t, "/openapi.json")).body;
});
afterAll(() => t?.close());

describe("list query parameters", () => {
  it("accept ?ids=a,b, repeated ids= and a mix of both, with the same answer", async () => {
    const [a, b, c] = [
      await createDataset(t, { name: "A", modality: "text" }),
      await createDataset(t, { name: "B", modality: "text" }),
      await createDataset(t, { name: "C", modality: "text" }),
    ];
    const path = "/dashboard/api/item-datasets/progress";
    const ids = (res: { body: { dataset_id: string }[] }) => res.body.map((p) => p.dataset_id).sort();
    const comma = await clients(t).dash.get(`${path}?ids=${a.id},${b.id}`);
    expect(comma.status).toBe(200);
    expect(ids(comma)).toEqual([a.id, b.id].sort());
    const repeated = await clients(t).dash.get(`${path}?ids=${a.id}&ids=${b.id}`);
    expect(ids(repeated)).toEqual(ids(comma));
    const mixed = await clients(t).dash.get(`${path}?ids=${a.id},${b.id}&ids=${c.id}`);
    expect(ids(mixed)).toEqual([a.id, b.id, c.id].sort());
    const encoded = await clients(t).dash.get(`${path}?ids=${a.id}%2C${c.id}`);
    expect(ids(encoded)).toEqual([a.id, c.id].sort());
    // Each value is still validated, and the 422 names its position.
    const bad = await clients(t).dash.get(`${path}?ids=${a.id},nope`);
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(["query", "ids", 1]);
  });

  it("are documented as form/explode with the comma form in the description", () => {
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods))
        for (const p of op.parameters ?? [])
          if (p.in === "query" && p.schema?.type === "array") {
            expect({ path, method, style: p.style, explode: p.explode }).toEqual({
              path,
              method,
              style: "form",
              explode: true,
            });
            expect(p.description).toContain(`${p.name}=a,b`);
          }
    const ids = doc.paths["/dashboard/api/item-datasets/progress"]!.get.parameters[0];
    expect(ids).toMatchObject({ name: "ids", style: "form", explode: true });
  });
});

describe("a wrong method on a known path", () => {
  it("answers 405 with Allow, in the documented error shape; unknown paths stay 404", async () => {
    const cases: [string, string, string][] = [
      ["DELETE", "/dashboard/api/item-datasets", "GET, HEAD, POST"],
      ["PUT", "/dashboard/api/proxy-rules/3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69", "DELETE, PATCH"],
      ["POST", "/api/v1/health", "GET, HEAD"],
      ["GET", "/api/v1/challenge/submit", "POST"],
      ["DELETE", "/openapi.json", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await call(t, path, { method, headers: { authorization: t.dashboardAuth } });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 405 });
      expect(res.headers.get("allow")).toBe(allow);
      expect(res.body).toEqual({ detail: `Method not allowed: ${method} ${path} (allowed: ${allow})` });
    }
    expect((await call(t, "/api/v1/nothing-here", { method: "POST" })).status).toBe(404);
    // The dashboard app's catch-all GET does not make every path under /dashboard "known".
    expect((await call(t, "/dashboard/api/nothing-here", { method: "POST" })).status).toBe(404);
    // The right method still works.
    expect((await call(t, "/api/v1/health")).status).toBe(200);
  });
});

describe("limit/offset on the bare-array dashboard lists", () => {
  it("datasets, API keys and proxy rules: the whole list by default, a page on request, X-Total-Count always", async () => {
    const before = await clients(t).dash.get("/dashboard/api/item-datasets");
    for (let i = 0; i < 5; i++) await createDataset(t, { name: `Paged ${i}`, modality: "image" });
    for (let i = 0; i < 4; i++) await createKey(t, { label: `paged ${i}` });
    for (let i = 0; i < 3; i++)
      expect(
        (
          await clients(t).dash.post("/dashboard/api/proxy-rules", {
            pattern: `/paged-${i}`,
            match_type: "exact",
            priority: 100 - i,
          })
        ).status,
      ).toBe(201);

    for (const [path, added] of [
      ["/dashboard/api/item-datasets", 5],
      ["/dashboard/api/apikeys", 4],
      ["/dashboard/api/proxy-rules", 3],
    ] as const) {
      const all = await clients(t).dash.get(path);
      expect(all.status).toBe(200);
      expect(Array.isArray(all.body)).toBe(true);
      const total = Number(all.headers.get("x-total-count"));
      expect(total).toBe(all.body.length);
      expect(total).toBeGreaterThanOrEqual(added);

      const page = await clients(t).dash.get(`${path}?limit=2&offset=1`);
      expect(page.status).toBe(200);
      expect(page.body).toEqual(all.body.slice(1, 3));
      expect(page.headers.get("x-total-count")).toBe(String(total));
      const tail = await clients(t).dash.get(`${path}?offset=${total - 1}`);
      expect(tail.body).toEqual(all.body.slice(-1));
      const beyond = await clients(t).dash.get(`${path}?limit=10&offset=${total + 5}`);
      expect(beyond.body).toEqual([]);
      expect(beyond.headers.get("x-total-count")).toBe(String(total));
      // Unknown query parameters are still ignored (cache busters keep working).
      expect((await clients(t).dash.get(`${path}?_=123`)).body).toEqual(all.body);

      for (const bad of ["limit=0", "limit=1001", "offset=-1", "limit=x"]) {
        const res = await clients(t).dash.get(`${path}?${bad}`);
        expect(res.status).toBe(422);
        expect(res.body.detail[0].loc[0]).toBe("query");
      }
      const op = doc.paths[path]!.get;
      expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(["limit", "offset"]);
      expect(op.responses["200"].headers["X-Total-Count"].schema).toEqual({ type: "integer", minimum: 0 });
    }
    expect(before.headers.get("x-total-count")).toBe(String(before.body.length));
  });

  it("typed tRPC clients may still call list() without input", async () => {
    const res = await call(t, "/trpc/guard.datasets.list", { headers: { authorization: t.dashboardAuth } });
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.result.data)).toBe(true);
    const paged = await call(
      t,
      `/trpc/guard.datasets.list?input=${encodeURIComponent(JSON.stringify({ limit: 1 }))}`,
      { headers: { authorization: t.dashboardAuth } },
    );
    expect(paged.body.result.data).toHaveLength(1);
  });
});

describe("validation messages", () => {
  it("say what is wrong with a present value, once per field; only an absent one is 'Field required'", async () => {
    const dash = clients(t).dash;
    const wrongType = await dash.post("/dashboard/api/config", { risk_threshold: "abc" });
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.detail).toEqual([
      {
        loc: ["body", "risk_threshold"],
        msg: expect.stringContaining("expected number"),
        type: "invalid_type",
      },
    ]);

    const login = await call(t, "/dashboard/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: 42 }),
    });
    expect(login.status).toBe(422);
    expect(login.body.detail).toEqual([
      { loc: ["body", "username"], msg: expect.stringContaining("expected string"), type: "invalid_type" },
      { loc: ["body", "password"], msg: "Field required", type: "missing" },
    ]);

    // A query number that is not one (issue 17, point 5): what is wrong, not "Field required".
    const nan = await dash.get("/dashboard/api/labels?min_confidence=NaN");
    expect(nan.status).toBe(422);
    expect(nan.body.detail).toHaveLength(1);
    expect(nan.body.detail[0].loc).toEqual(["query", "min_confidence"]);
    expect(nan.body.detail[0].type).not.toBe("missing");
    expect(nan.body.detail[0].msg).not.toBe("Field required");

    const huge = await dash.get("/dashboard/api/item-datasets?limit=100000000000000000000");
    expect(huge.status).toBe(422);
    expect(huge.body.detail).toHaveLength(1);
    expect(huge.body.detail[0].loc).toEqual(["query", "limit"]);
  });
});
