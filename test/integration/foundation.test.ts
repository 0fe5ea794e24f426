import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};
const STACK_TRACE = /\n\s+at |node_modules|\.(ts|js|mjs):\d+/;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(`${t.url}${path}`, init);
  const text = await response.text();
  expect(text).not.toMatch(STACK_TRACE);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: body as Record<string, unknown> };
}

const json = (body: unknown, auth?: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(auth ? { authorization: auth } : {}) },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("health and readiness", () => {
  it("GET /api/v1/health answers ok with the package version, without auth", async () => {
    const res = await call("/api/v1/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", version });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("GET /api/v1/ready answers anyone with the status, and operators with the backends", async () => {
    const anonymous = await call("/api/v1/ready");
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: "ready" });
    const wrong = await call("/api/v1/ready", { headers: { authorization: "Basic d3Jvbmc6d3Jvbmc=" } });
    expect(wrong.status).toBe(401);
    const res = await call("/api/v1/ready", { headers: { authorization: t.dashboardAuth } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("ready");
    expect(res.body.database).toMatchObject({
      ok: true,
      backend: process.env.DATABASE_URL ? "postgres" : "pglite",
    });
    expect(res.body.state).toMatchObject({ ok: true, backend: process.env.REDIS_URL ? "redis" : "memory" });
  });

  it("echoes a caller's request id", async () => {
    const res = await call("/api/v1/health", { headers: { "x-request-id": "abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("abc-123");
  });
});

describe("OpenAPI document and docs", () => {
  it("/openapi.json is a valid OpenAPI 3 document listing every REST path with its auth", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const validation = await new Validator().validate(res.body as never);
    expect(validation.errors ?? []).toEqual([]);
    expect(validation.valid).toBe(true);
    const paths = res.body.paths as Record<string, Record<string, { security?: unknown; responses: object }>>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining(["/api/v1/health", "/api/v1/ready", "/dashboard/api/config"]),
    );
    // Public operations say so explicitly (an empty requirement list), as Redocly asks.
    expect(paths["/api/v1/health"]!.get!.security).toEqual([]);
    expect(paths["/dashboard/api/config"]!.get!.security).toEqual([{ dashboardBasic: [] }]);
    expect(Object.keys(paths["/dashboard/api/config"]!.post!.responses)).toEqual(
      expect.arrayContaining(["200", "401", "422"]),
    );
  });

  it("/docs serves the interactive docs from the package, with no CDN", async () => {
    const page = await fetch(`${t.url}/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("swagger");
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)/);
    const scripts = [...html.matchAll(/src="\.?\/?([^"]+\.js)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const asset = await fetch(`${t.url}/docs/${script.replace(/^docs\//, "")}`);
      expect(asset.status, script).toBe(200);
      expect((await asset.arrayBuffer()).byteLength, script).toBeGreaterThan(0);
    }
    // Our logo, not the host framework's (issue 17, point 9).
    const initializer = await (await fetch(`${t.url}/docs/static/swagger-initializer.js`)).text();
    const logo = /data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/.exec(initializer)?.[1];
    expect(logo).toBeDefined();
    expect(Buffer.from(logo!, "base64").toString("utf8")).toContain("HiveGuard");
  });
});

describe("errors", () => {
  it("an unknown route of HiveGuard's own is a JSON 404", async () => {
    // Paths outside HiveGuard's own (/api/v1, /dashboard, ...) belong to the proxied site (issue 5).
    const res = await call("/api/v1/no/such/route");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(typeof res.body.detail).toBe("string");
  });

  it("dashboard routes refuse missing and wrong credentials with the documented 401", async () => {
    const missing = await call("/dashboard/api/config");
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ detail: "Unauthorized" });
    expect(missing.headers.get("www-authenticate")).toMatch(/^Basic /);

    const wrong = await call("/dashboard/api/config", {
      headers: { authorization: `Basic ${Buffer.from("admin:nope").toString("base64")}` },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ detail: "Unauthorized" });

    const apiKeyOnly = await call("/dashboard/api/config", { headers: { "x-hiveguard-key": "hg_whatever" } });
    expect(apiKeyOnly.status).toBe(401);
  });

  it("validation errors are 422 naming the field, and change nothing", async () => {
    const before = await call("/dashboard/api/config", { headers: { authorization: t.dashboardAuth } });
    expect(before.status).toBe(200);

    const outOfRange = await call(
      "/dashboard/api/config",
      json({ risk_threshold: 2, proxy_timeout: 5 }, t.dashboardAuth),
    );
    expect(outOfRange.status).toBe(422);
    const detail = outOfRange.body.detail as { loc: unknown[]; msg: string; type: string }[];
    expect(detail).toHaveLength(1);
    expect(detail[0]!.loc).toEqual(["body", "risk_threshold"]);
    expect(detail[0]!.msg).toBeTruthy();
    expect(detail[0]!.type).toBeTruthy();

    const wrongType = await call(
      "/dashboard/api/config",
      json({ challenge_token_ttl: "soon" }, t.dashboardAuth),
    );
    expect(wrongType.status).toBe(422);
    expect((wrongType.body.detail as { loc: unknown[] }[])[0]!.loc).toEqual(["body", "challenge_token_ttl"]);

    const unknownField = await call("/dashboard/api/config", json({ risk_treshold: 0.7 }, t.dashboardAuth));
    expect(unknownField.status).toBe(422);

    const after = await call("/dashboard/api/config", { headers: { authorization: t.dashboardAuth } });
    expect(after.body).toEqual(before.body);
  });

  it("malformed JSON and wrong content types are 422 too, never 500", async () => {
    const malformed = await call("/dashboard/api/config", json("{not json", t.dashboardAuth));
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail).toEqual([{ loc: ["body"], msg: expect.any(String), type: "json_invalid" }]);

    const text = await call("/dashboard/api/config", {
      method: "POST",
      headers: { "content-type": "text/plain", authorization: t.dashboardAuth },
      body: "risk_threshold=1",
    });
    expect(text.status).toBe(422);

    const array = await call("/dashboard/api/config", json([1, 2], t.dashboardAuth));
    expect(array.status).toBe(422);
  });

  it("a valid update is applied and the whole config returned", async () => {
    const res = await call("/dashboard/api/config", json({ risk_threshold: 0.7 }, t.dashboardAuth));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      risk_threshold: 0.7,
      consensus_threshold: 0.6,
      proxy_timeout: 30,
      challenge_token_ttl: 300,
      fail_mode: "open",
    });
    const read = await call("/dashboard/api/config", { headers: { authorization: t.dashboardAuth } });
    expect(read.body.risk_threshold).toBe(0.7);
  });
  it("a runtime log_level change applies to the running server's logger", async () => {
    const res = await call("/dashboard/api/config", json({ log_level: "WARNING" }, t.dashboardAuth));
    expect(res.status).toBe(200);
    expect(res.body.log_level).toBe("WARNING");
    expect(t.server.deps.log.level).toBe("warn");
    await call("/dashboard/api/config", json({ log_level: "ERROR" }, t.dashboardAuth));
    expect(t.server.deps.log.level).toBe("error");
  });
});

describe("tRPC", () => {
  it("calls the health procedure, single and batched", async () => {
    const single = await call("/trpc/system.health");
    expect(single.status).toBe(200);
    expect((single.body.result as { data: unknown }).data).toEqual({ status: "ok", version });

    const batch = await fetch(
      `${t.url}/trpc/system.health,system.ready?batch=1&input=${encodeURIComponent("{}")}`,
    );
    expect(batch.status).toBe(200);
    const results = (await batch.json()) as { result: { data: { status: string } } }[];
    expect(results.map((r) => r.result.data.status)).toEqual(["ok", "ready"]);
  });

  it("tRPC errors carry the detail and no stack", async () => {
    const res = await call("/trpc/guard.config.update", json({ risk_threshold: -1 }, t.dashboardAuth));
    expect(res.status).toBe(422);
    const error = res.body.error as { data: { detail: { loc: unknown[] }[] } };
    expect(error.data.detail[0]!.loc).toEqual(["input", "risk_threshold"]);
    const anonymous = await call("/trpc/guard.config.get");
    expect(anonymous.status).toBe(401);
  });
});

describe("GraphQL", () => {
  const gql = (query: string, auth?: string) =>
    call("/graphql", json({ query }, auth)).then(
      (res) => res.body as { data?: Record<string, any>; errors?: any[] },
    );

  it("answers an introspection query with every procedure as a field", async () => {
    const body = await gql("{ __schema { queryType { fields { name } } mutationType { fields { name } } } }");
    expect(body.errors).toBeUndefined();
    const queries = body.data!.__schema.queryType.fields.map((f: { name: string }) => f.name);
    const mutations = body.data!.__schema.mutationType.fields.map((f: { name: string }) => f.name);
    expect(queries).toEqual(expect.arrayContaining(["health", "readiness", "runtimeConfig"]));
    expect(mutations).toContain("updateRuntimeConfig");
  });

  it("resolves through the procedures, with their auth", async () => {
    expect(await gql("{ health { status version } }")).toEqual({
      data: { health: { status: "ok", version } },
    });

    const anonymous = await gql("{ runtimeConfig { risk_threshold } }");
    expect(anonymous.errors?.[0]).toMatchObject({
      message: "Unauthorized",
      extensions: { code: "UNAUTHENTICATED", status: 401 },
    });

    const updated = await gql(
      "mutation { updateRuntimeConfig(input: {consensus_min_votes: 5}) { consensus_min_votes fail_mode } }",
      t.dashboardAuth,
    );
    expect(updated).toEqual({ data: { updateRuntimeConfig: { consensus_min_votes: 5, fail_mode: "open" } } });

    const invalid = await gql(
      "mutation { updateRuntimeConfig(input: {risk_threshold: 3}) { risk_threshold } }",
      t.dashboardAuth,
    );
    expect(invalid.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      status: 422,
      detail: [{ loc: ["input", "risk_threshold"] }],
    });
  });

  it("bounds query depth", async () => {
    const nested = "fields { type { ".repeat(8);
    const deep = `{ __schema { types { ${nested} name ${"} } ".repeat(8)} } } }`;
    const body = await gql(deep);
    expect(body.data ?? null).toBeNull();
    expect(JSON.stringify(body.errors)).toMatch(/depth/i);
  });

  it("serves GraphiQL without a CDN", async () => {
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("GraphiQL");
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
  });
});
