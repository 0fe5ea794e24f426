/**
 * Auth matrix. The list of routes comes from the server's own /openapi.json, so a route another branch adds
 * later is covered without touching this file:
 * - every route documented with dashboard credentials (/dashboard/api/*, and the tracking API, whose default
 *   auth model is the dashboard's: docs/tracking.md) refuses no credentials, wrong credentials and an API
 *   key with 401 {"detail": "Unauthorized"} + WWW-Authenticate, on REST and on tRPC, and changes nothing;
 * - every route documented with an API key refuses no key, a malformed key, a revoked key and dashboard
 *   credentials with 401 {"detail": "Invalid or missing API key"};
 * - every siteverify route (its credential is the `secret` in the body) refuses a missing or wrong secret, an API
 *   key and dashboard credentials in the services' shape (200, `success: false`, `error-codes`), and writes
 *   nothing;
 * - a key scoped to dataset A never sees dataset B: no GET route answers anything of B, uploads into B are
 *   refused as "not found", challenges never serve B's items, a challenge of B's key cannot be answered with
 *   A's, and A's label export (every format) holds A's labels only.
 */
import { hkdfSync, randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listProcedures } from "../../src/trpc/procedures.js";
import { appRouter } from "../../src/trpc/router.js";
import { answersFor, configure, type Seeded, seed, visitor } from "../guard/challenge-helpers.js";
import { call, clients, createDataset, createKey, seedLabels, UNKNOWN_UUID } from "../guard/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";

interface Operation {
  method: string;
  path: string;
  operationId?: string;
  scheme: string | undefined;
  query: string[];
  /** Documented only for admin routes (bench: "Admin access required"). */
  forbidden?: string;
}

let t: TestServer;
let operations: Operation[] = [];
let a: Seeded;
let b: Seeded;
let revokedKey: string;
let emptyKey: string;
/** Strings that only dataset B's data contains: its id, its items' ids and data_refs. */
let bMarkers: string[] = [];

// Every request gets its own client address (TRUSTED_PROXIES=loopback + X-Forwarded-For), so the failed-login
// limit (10 a minute per IP) never turns the expected 401s into 429s.
let ipSeq = 0;
const freshIp = () => `10.9.${Math.floor(++ipSeq / 250)}.${ipSeq % 250}`;
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

beforeAll(async () => {
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
    paths: Record<
      string,
      Record<
        string,
        {
          operationId?: string;
          security?: Record<string, unknown>[];
          parameters?: { in: string; name: string }[];
          responses?: Record<string, { description?: string }>;
        }
      >
    >;
  };
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      operationId: op.operationId,
      scheme: Object.keys(op.security?.[0] ?? {})[0],
      query: (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
      forbidden: op.responses?.["403"]?.description,
    })),
  );

  await configure(t);
  a = await seed(t, { gt: 6, unknown: 6, name: "dataset-a" });
  b = await seed(t, { gt: 6, unknown: 6, name: "dataset-b" });
  await seedLabels(t, a.datasetId, 5, { dataRefPrefix: "https://a.example/label-" });
  await seedLabels(t, b.datasetId, 5, { dataRefPrefix: "https://b.example/label-" });
  const revoked = await createKey(t, { label: "revoked", datasets: [a.datasetId] });
  const res = await clients(t).dash.del(`/dashboard/api/apikeys/${revoked.id}`);
  expect(res.status).toBe(204);
  revokedKey = revoked.raw_key;
  const empty = await createDataset(t, { name: "empty", modality: "image" });
  emptyKey = (await createKey(t, { label: "empty", datasets: [empty.id] })).raw_key;

  const prisma = t.server.deps.db.prisma;
  const bItems = await prisma.item.findMany({
    where: { datasetId: b.datasetId },
    select: { id: true, dataRef: true },
  });
  expect(bItems.length).toBe(17);
  bMarkers = [b.datasetId, ...bItems.flatMap((item) => [item.id, item.dataRef]), "b.example"];
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/** A concrete URL for a documented path: ids that exist nowhere, valid names, a real modality. */
function concrete(path: string): string {
  return path
    .replace("{id}", UNKNOWN_UUID)
    .replace("{project}", "matrix-project")
    .replace("{run}", "matrix-run")
    .replace("{modality}", "image")
    .replace(/\{\w+\}/g, UNKNOWN_UUID);
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

async function restCall(op: Operation, headers: Record<string, string>) {
  return call(t, concrete(op.path), {
    method: op.method,
    headers: {
      "x-forwarded-for": freshIp(),
      ...(BODY_METHODS.has(op.method) && { "content-type": "application/json" }),
      ...headers,
    },
    ...(BODY_METHODS.has(op.method) && { body: "{}" }),
  });
}

/** The same procedure on /trpc (operation ids are the procedure paths with dashes). */
async function trpcCall(op: Operation, headers: Record<string, string>) {
  const procedure = op.operationId!.replaceAll("-", ".");
  const input = JSON.stringify(concreteInput(op.path));
  const init: RequestInit =
    op.method === "GET"
      ? { headers: { "x-forwarded-for": freshIp(), ...headers } }
      : {
          method: "POST",
          headers: { "x-forwarded-for": freshIp(), "content-type": "application/json", ...headers },
          body: input,
        };
  const url =
    op.method === "GET" ? `/trpc/${procedure}?input=${encodeURIComponent(input)}` : `/trpc/${procedure}`;
  return call(t, url, init);
}

function concreteInput(path: string): Record<string, string> {
  const input: Record<string, string> = {};
  for (const [, name] of path.matchAll(/\{(\w+)\}/g)) input[name!] = concrete(`{${name}}`);
  return input;
}

/** Row counts of every table: a refused request must not have written anything. */
async function tableCounts(): Promise<Record<string, number>> {
  const prisma = t.server.deps.db.prisma;
  const tables = await prisma.$queryRawUnsafe<{ table_name: string }[]>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'",
  );
  const [row] = await prisma.$queryRawUnsafe<Record<string, number>[]>(
    `SELECT ${tables.map(({ table_name }) => `(SELECT count(*) FROM "${table_name}")::int AS "${table_name}"`).join(", ")}`,
  );
  return row!;
}

describe("dashboard-credential routes (from /openapi.json)", () => {
  const refusals = (): [string, Record<string, string>][] => [
    ["no credentials", {}],
    ["wrong password", { authorization: basic("admin", "not-the-password") }],
    ["wrong user", { authorization: basic("root", t.shared.dashboardPassword) }],
    ["empty basic", { authorization: "Basic " }],
    ["an API key header", { "x-hiveguard-key": a.key }],
    ["an API key as bearer", { authorization: `Bearer ${a.key}` }],
    ["an API key as basic password", { authorization: basic("admin", a.key) }],
  ];

  it("covers every documented dashboard route, the tracking API included", () => {
    const dashboard = operations.filter((op) => op.scheme === "dashboardBasic");
    // Sanity: the document lists the families this file is about, and no route is left without a scheme.
    expect(dashboard.some((op) => op.path.startsWith("/dashboard/api/"))).toBe(true);
    expect(dashboard.some((op) => op.path.startsWith("/api/projects"))).toBe(true);
    expect(dashboard.some((op) => op.path.startsWith("/tracker/"))).toBe(true);
    // The lab (DashAI's API under /api/v1): every route needs the dashboard credentials (docs/lab.md).
    for (const lab of [
      "/api/v1/dataset",
      "/api/v1/dataset/export/csv",
      "/api/v1/job",
      "/api/v1/job/status/{job_id}",
    ])
      expect(dashboard.some((op) => op.path === lab)).toBe(true);
    // Routes without header credentials are only these: health, readiness (and the tracker's health check,
    // which Aspara's remote client probes, as upstream, without credentials), the widget and the hosted
    // challenge page, the dashboard's sign-in, sign-out and "who am I" (test/dashboard/graphql.test.ts covers
    // them), siteverify, whose credential is the `secret` field of its body (covered below), and bench's
    // register/login/refresh/logout (their credential is the body or the refresh cookie: test/bench/auth.test.ts),
    // /healthz, robots.txt and sitemap.xml.
    const unauthenticated = operations.filter((op) => !op.scheme).map((op) => op.path);
    for (const path of unauthenticated) {
      expect(path).toMatch(
        /^(\/tracker)?\/api\/v1\/(health|ready)$|^\/_hiveguard\/|^\/dashboard\/(login|logout|session)$|\/siteverify$|^\/api\/auth\/(register|login|refresh|logout)$|^\/(healthz|robots\.txt|sitemap\.xml)$/,
      );
    }
  });

  it("REST: every one refuses missing, wrong and API-key credentials with the documented 401, and writes nothing", async () => {
    const before = await tableCounts();
    const dashboard = operations.filter((op) => op.scheme === "dashboardBasic");
    for (const op of dashboard) {
      for (const [why, headers] of refusals()) {
        const res = await restCall(op, headers);
        expect({ route: `${op.method} ${op.path}`, why, status: res.status, body: res.body }).toEqual({
          route: `${op.method} ${op.path}`,
          why,
          status: 401,
          body: { detail: "Unauthorized" },
        });
        expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
      }
    }
    expect(await tableCounts()).toEqual(before);
    // The same requests with the right credentials get past auth (404/422 for the made-up ids and empty bodies).
    for (const op of dashboard.filter((op) => op.method === "GET")) {
      const res = await restCall(op, { authorization: t.dashboardAuth });
      expect({ route: `${op.method} ${op.path}`, status: res.status }).not.toMatchObject({
        status: expect.toSatisfy((s: number) => s === 401 || s === 403 || s === 429),
      });
    }
  });

  it("tRPC: every dashboard procedure refuses the same way", async () => {
    // Operations that are procedures (plain routes, streams and files, have no tRPC twin).
    const procedurePaths = new Set(listProcedures(appRouter).map(({ path }) => path));
    const procedures = operations.filter(
      (op) =>
        op.scheme === "dashboardBasic" && procedurePaths.has(op.operationId?.replaceAll("-", ".") ?? ""),
    );
    expect(procedures.length).toBeGreaterThan(10);
    const before = await tableCounts();
    for (const op of procedures) {
      for (const [why, headers] of refusals()) {
        const res = await trpcCall(op, headers);
        expect({ procedure: op.operationId, why, status: res.status }).toEqual({
          procedure: op.operationId,
          why,
          status: 401,
        });
        expect(res.body.error.data.detail).toBe("Unauthorized");
      }
    }
    expect(await tableCounts()).toEqual(before);
  });

  it("GraphQL: every query field without required arguments refuses a caller holding only an API key", async () => {
    const gql = (query: string, headers: Record<string, string> = {}) =>
      call(t, "/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": freshIp(), ...headers },
        body: JSON.stringify({ query }),
      });
    const schema = await gql(
      "{ __schema { queryType { fields { name args { type { kind } } type { kind ofType { kind ofType { kind ofType { kind } } } } } } } }",
    );
    expect(schema.status).toBe(200);
    type TypeRef = { kind: string; ofType?: TypeRef | null };
    const leaf = (type: TypeRef): string => (type.ofType ? leaf(type.ofType) : type.kind);
    const fields = (
      schema.body.data.__schema.queryType.fields as {
        name: string;
        args: { type: { kind: string } }[];
        type: TypeRef;
      }[]
    ).filter((field) => field.args.every((arg) => arg.type.kind !== "NON_NULL"));
    let refused = 0;
    for (const field of fields) {
      const selection =
        leaf(field.type) === "OBJECT" ? `{ ${field.name} { __typename } }` : `{ ${field.name} }`;
      const variants: Record<string, string>[] = [
        {},
        { "x-hiveguard-key": a.key },
        { authorization: basic("admin", "wrong") },
      ];
      for (const headers of variants) {
        const res = await gql(selection, headers);
        // Only health and readiness answer anyone.
        if (/^(health|ready|readiness)$/.test(field.name) && !res.body.errors) continue;
        const apiKeyField = "x-hiveguard-key" in headers && !res.body.errors;
        if (apiKeyField) {
          // An API-key field answering the key: it must still be scoped (nothing of B).
          for (const marker of bMarkers) expect(res.text).not.toContain(marker);
          continue;
        }
        expect({ field: field.name, data: res.body.data?.[field.name] ?? null }).toEqual({
          field: field.name,
          data: null,
        });
        expect(res.body.errors[0].extensions.status).toBe(401);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(10);
  });

  it("the tracking pages outside the OpenAPI document refuse too", async () => {
    for (const path of ["/", "/projects/matrix-project", "/projects/matrix-project/runs"]) {
      // A client: the documented 401.
      const res = await call(t, path, { headers: { "x-forwarded-for": freshIp() } });
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic/);
      // A browser: sent to the dashboard's sign-in, with nothing of the page.
      const browser = await call(t, path, {
        headers: { "x-forwarded-for": freshIp(), accept: "text/html" },
        redirect: "manual",
      });
      expect({ path, status: browser.status }).toEqual({ path, status: 303 });
      expect(browser.headers.get("location")).toBe(`/dashboard/?return=${encodeURIComponent(path)}`);
      expect(browser.text).toBe("");
    }
  });
});

describe("bench user routes (bearer JWT, from /openapi.json)", () => {
  const userOps = () => operations.filter((op) => op.scheme === "bearer");
  const jwtKey = (secret: string) =>
    new Uint8Array(hkdfSync("sha256", secret, "hiveguard:bench", "jwt:v1", 32));
  let user: { id: string; token: string };
  let refusals: [string, Record<string, string>][];

  beforeAll(async () => {
    const register = () =>
      call(t, "/api/auth/register", {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": freshIp() },
        body: JSON.stringify({
          email: `matrix-${randomBytes(4).toString("hex")}@example.com`,
          password: "matrix password",
        }),
      });
    // The first user is admin: the matrix's user is the second, a plain user.
    expect((await register()).status).toBe(200);
    const res = await register();
    expect(res.status).toBe(200);
    expect(res.body.user.role).toBe("user");
    user = { id: res.body.user.id, token: res.body.access_token };
    const [header, payload] = user.token.split(".") as [string, string];
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    const signed = (key: Uint8Array, exp: number) =>
      new SignJWT({ role: "admin", type: "access" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(user.id)
        .setIssuer("hiveguard:bench")
        .setIssuedAt(now - 3600)
        .setExpirationTime(exp)
        .sign(key);
    refusals = [
      ["no token", {}],
      ["empty bearer", { authorization: "Bearer " }],
      ["expired", { authorization: `Bearer ${await signed(jwtKey(t.shared.secretKey), now - 60)}` }],
      [
        "forged (another key)",
        { authorization: `Bearer ${await signed(jwtKey(randomBytes(32).toString("hex")), now + 600)}` },
      ],
      [
        "alg none",
        { authorization: `Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims, role: "admin" })}.` },
      ],
      [
        "signature of another payload",
        {
          authorization: `Bearer ${header}.${b64({ ...claims, role: "admin" })}.${user.token.split(".")[2]}`,
        },
      ],
      ["dashboard credentials", { authorization: t.dashboardAuth }],
      ["an API key", { "x-hiveguard-key": a.key }],
    ];
  });

  it("every one refuses missing, expired, forged and alg-none tokens with 401 {error, detail}, and writes nothing", async () => {
    expect(userOps().length).toBeGreaterThan(20);
    // The runner's routes are bearer routes too (the SSE stream is a plain route documented by hand).
    const bearer = new Set(userOps().map((op) => `${op.method} ${op.path}`));
    for (const route of [
      "POST /api/benchmark",
      "POST /api/benchmark/cancel",
      "GET /api/user/rate-limit",
      "GET /api/history",
      "GET /api/history/{run_id}",
      "DELETE /api/history/{run_id}",
      "GET /api/analytics/leaderboard",
      "GET /api/analytics/trends",
      "GET /api/analytics/compare",
      "GET /api/export/history",
      "GET /api/export/leaderboard",
      "GET /api/export/run/{run_id}",
      "GET /api/schedules",
      "POST /api/schedules",
      "PUT /api/schedules/{schedule_id}",
      "DELETE /api/schedules/{schedule_id}",
      "POST /api/schedules/{schedule_id}/trigger",
      "GET /api/tool-suites",
      "POST /api/tool-suites",
      "GET /api/tool-suites/{suite_id}",
      "PUT /api/tool-suites/{suite_id}",
      "DELETE /api/tool-suites/{suite_id}",
      "GET /api/tool-suites/{suite_id}/cases",
      "POST /api/tool-suites/{suite_id}/cases",
      "PUT /api/tool-suites/{suite_id}/cases/{case_id}",
      "DELETE /api/tool-suites/{suite_id}/cases/{case_id}",
      "POST /api/tool-eval/import",
      "POST /api/tool-eval",
      "POST /api/tool-eval/cancel",
      "GET /api/tool-eval/history",
      "GET /api/tool-eval/history/{eval_id}",
      "DELETE /api/tool-eval/history/{eval_id}",
      "POST /api/mcp/discover",
      "POST /api/mcp/import",
      "GET /api/export/tool-eval",
      "GET /api/export/eval/{eval_id}",
    ])
      expect(bearer.has(route), route).toBe(true);
    const before = await tableCounts();
    for (const op of userOps()) {
      for (const [why, headers] of refusals) {
        const res = await restCall(op, headers);
        expect({ route: `${op.method} ${op.path}`, why, status: res.status, body: res.body }).toEqual({
          route: `${op.method} ${op.path}`,
          why,
          status: 401,
          body: { error: "Not authenticated", detail: "Not authenticated" },
        });
      }
    }
    expect(await tableCounts()).toEqual(before);
  });

  it("tRPC: every bench user procedure refuses the same way", async () => {
    const procedurePaths = new Set(listProcedures(appRouter).map(({ path }) => path));
    const procedures = userOps().filter((op) =>
      procedurePaths.has(op.operationId?.replaceAll("-", ".") ?? ""),
    );
    expect(procedures.length).toBeGreaterThan(20);
    for (const op of procedures) {
      for (const [why, headers] of refusals.slice(0, 5)) {
        const res = await trpcCall(op, headers);
        expect({ procedure: op.operationId, why, status: res.status }).toEqual({
          procedure: op.operationId,
          why,
          status: 401,
        });
      }
    }
  });

  it("admin routes refuse a signed-in non-admin with 403, and accept the user elsewhere", async () => {
    const adminOps = userOps().filter((op) => op.forbidden === "Admin access required");
    expect(adminOps.length).toBeGreaterThanOrEqual(3);
    const before = await tableCounts();
    for (const op of adminOps) {
      const res = await restCall(op, { authorization: `Bearer ${user.token}` });
      expect({ route: `${op.method} ${op.path}`, status: res.status, body: res.body }).toEqual({
        route: `${op.method} ${op.path}`,
        status: 403,
        body: { error: "Admin access required", detail: "Admin access required" },
      });
    }
    expect(await tableCounts()).toEqual(before);
    for (const op of userOps().filter((op) => op.method === "GET" && !op.forbidden)) {
      const res = await restCall(op, { authorization: `Bearer ${user.token}` });
      expect({ route: `${op.method} ${op.path}`, status: res.status }).not.toMatchObject({
        status: expect.toSatisfy((s: number) => s === 401 || s === 403 || s >= 500),
      });
    }
  });
});

describe("API-key routes (from /openapi.json)", () => {
  const apiKeyOps = () => operations.filter((op) => op.scheme === "apiKey");

  it("every one refuses no key, a malformed key, a revoked key and dashboard credentials with the documented 401", async () => {
    expect(apiKeyOps().length).toBeGreaterThanOrEqual(6);
    const before = await tableCounts();
    const cases: [string, Record<string, string>][] = [
      ["no key", {}],
      ["empty key", { "x-hiveguard-key": "" }],
      ["malformed key", { "x-hiveguard-key": "hg_short" }],
      ["unknown key", { "x-hiveguard-key": `hg_${randomBytes(32).toString("base64url")}` }],
      ["revoked key", { "x-hiveguard-key": revokedKey }],
      ["dashboard credentials", { authorization: t.dashboardAuth }],
      ["key as bearer", { authorization: `Bearer ${a.key}` }],
    ];
    for (const op of apiKeyOps()) {
      for (const [why, headers] of cases) {
        const res = await restCall(op, headers);
        expect({ route: `${op.method} ${op.path}`, why, status: res.status, body: res.body }).toEqual({
          route: `${op.method} ${op.path}`,
          why,
          status: 401,
          body: { detail: "Invalid or missing API key" },
        });
        if (op.operationId) {
          const rpc = await trpcCall(op, headers);
          expect({ procedure: op.operationId, why, status: rpc.status }).toEqual({
            procedure: op.operationId,
            why,
            status: 401,
          });
        }
      }
    }
    expect(await tableCounts()).toEqual(before);
  });

  it("no GET route shows a key scoped to A anything of dataset B (REST and tRPC, every page size)", async () => {
    const gets = apiKeyOps().filter((op) => op.method === "GET");
    expect(gets.length).toBeGreaterThanOrEqual(3);
    for (const op of gets) {
      const modalities = op.path.includes("{modality}") ? ["image", "text", "audio"] : ["image"];
      for (const modality of modalities) {
        const queries = ["", "?limit=1000", "?offset=1", "?modality=image", "?modality=text"].filter(
          (query) => query === "" || op.query.includes(query.slice(1).split("=")[0]!),
        );
        for (const query of queries) {
          for (let i = 0; i < 5; i++) {
            const path = concrete(op.path).replace("/image", `/${modality}`) + query;
            const res = await call(t, path, {
              headers: {
                "x-hiveguard-key": a.key,
                "user-agent": `matrix-${i}`,
                "x-forwarded-for": freshIp(),
              },
            });
            expect([200, 204]).toContain(res.status);
            for (const marker of bMarkers)
              expect({ path, leaked: res.text.includes(marker) }).toEqual({ path, leaked: false });
          }
        }
      }
      if (op.operationId && !op.path.includes("{")) {
        const rpc = await trpcCall(op, { "x-hiveguard-key": a.key });
        expect(rpc.status).toBe(200);
        for (const marker of bMarkers) expect(rpc.text).not.toContain(marker);
      }
    }
  });

  it("items and labels lists show A's rows only, all of them", async () => {
    const api = clients(t).api(a.key);
    const items = await api.get<{ dataset_id: string }[]>("/api/v1/data/items?limit=1000");
    expect(items.status).toBe(200);
    expect(items.body.length).toBe(17); // 6 GT + 6 unknown + 5 labeled
    expect(new Set(items.body.map((item) => item.dataset_id))).toEqual(new Set([a.datasetId]));
    const labels = await api.get<{ data_ref: string }[]>("/api/v1/data/labeled?limit=1000");
    expect(labels.body.length).toBe(5);
    expect(labels.body.every((label) => label.data_ref.startsWith("https://a.example/"))).toBe(true);
  });

  it("uploading into another dataset is refused as not found, and nothing is written", async () => {
    const before = await tableCounts();
    const res = await clients(t)
      .api(a.key)
      .post("/api/v1/data/items", {
        items: [
          { dataset_id: a.datasetId, data_ref: "https://a.example/new", modality: "image" },
          { dataset_id: b.datasetId, data_ref: "https://b.example/sneaky", modality: "image" },
        ],
      });
    expect(res.status).toBe(422);
    expect(res.body.detail).toEqual([
      { loc: ["body", "items", 1, "dataset_id"], msg: "Dataset not found", type: "not_found" },
    ]);
    expect(await tableCounts()).toEqual(before);
  });

  it("challenges for a key scoped to A are drawn from A only; a key whose dataset is empty never gets B's items", async () => {
    const aRefs = new Set([...a.gt.keys(), ...a.unknownRefs]);
    for (let i = 0; i < 40; i++) {
      const res = await visitor(t, a.key).generate(i % 2 ? "image" : undefined, i % 3 ? "query" : "path");
      expect(res.status).toBe(200);
      for (const item of res.body.items)
        expect(aRefs.has(item.data_ref) || item.data_ref.startsWith("https://a.example/")).toBe(true);
    }
    for (const modality of [undefined, "image", "text", "audio"]) {
      const res = await visitor(t, emptyKey).generate(modality);
      expect(res.status).toBe(204);
      expect(res.headers.get("x-hiveguard-bypass")).toBe("no-gt-pool");
    }
  });

  it("a challenge generated for B's key cannot be answered with A's key, and stays usable for B", async () => {
    const bVisitor = visitor(t, b.key);
    const generated = await bVisitor.generate();
    expect(generated.status).toBe(200);
    const answers = answersFor(generated.body, b);
    const asA = visitor(t, a.key, bVisitor.userAgent);
    const stolen = await asA.submit(answers);
    expect(stolen.status).toBe(200);
    expect(stolen.body).toEqual({ passed: false, token: null });
    const own = await bVisitor.submit(answers);
    expect(own.body.passed).toBe(true);
  });

  it("A's label export holds A's labels only, in every format", async () => {
    for (const fmt of ["csv", "json", "jsonl"]) {
      const res = await clients(t).dash.get(
        `/dashboard/api/item-datasets/${a.datasetId}/labeled/export?fmt=${fmt}`,
      );
      expect(res.status).toBe(200);
      expect(res.text.match(/https:\/\/a\.example\/label-/g)?.length).toBe(5);
      for (const marker of bMarkers)
        expect({ fmt, leaked: res.text.includes(marker) }).toEqual({ fmt, leaked: false });
    }
  });
});

describe("with TRACKING_AUTH=none (docs/tracking.md)", () => {
  it("the tracking API opens, the dashboard API stays closed", async () => {
    const open = await startTestServer({ env: { TRACKING_AUTH: "none" }, sharedWith: t });
    try {
      const tracking = await call(open, "/api/projects");
      expect(tracking.status).toBe(200);
      for (const path of [
        "/dashboard/api/config",
        "/dashboard/api/apikeys",
        "/dashboard/api/item-datasets",
      ]) {
        const res = await call(open, path);
        expect({ path, status: res.status, body: res.body }).toEqual({
          path,
          status: 401,
          body: { detail: "Unauthorized" },
        });
      }
    } finally {
      await open.close();
    }
  });
});

describe("siteverify routes (from /openapi.json)", () => {
  const siteverifyOps = () => operations.filter((op) => op.path.endsWith("/siteverify"));

  it("every one refuses a missing or wrong secret, an API key and dashboard credentials in the services' shape, and writes nothing", async () => {
    expect(siteverifyOps().length).toBe(7);
    for (const op of siteverifyOps()) {
      expect(op.method).toBe("POST");
      expect(op.scheme).toBeUndefined();
    }
    // A real token of A's key, so only the secret decides.
    const v = visitor(t, a.key);
    const generated = await v.generate();
    const token = (await v.submit(answersFor(generated.body, a))).body.token as string;
    expect(token).toMatch(/^ey/);
    const before = await tableCounts();
    const cases: [string, Record<string, string>, Record<string, string>, string[]][] = [
      ["no secret", {}, { response: token }, ["missing-input-secret"]],
      ["nothing", {}, {}, ["missing-input-secret", "missing-input-response"]],
      ["an API key header", { "x-hiveguard-key": a.key }, { response: token }, ["missing-input-secret"]],
      [
        "dashboard credentials",
        { authorization: t.dashboardAuth },
        { response: token },
        ["missing-input-secret"],
      ],
      ["an API key as the secret", {}, { secret: a.key, response: token }, ["invalid-input-secret"]],
      ["a revoked key as the secret", {}, { secret: revokedKey, response: token }, ["invalid-input-secret"]],
      [
        "a made-up secret",
        {},
        { secret: `hgs_${randomBytes(32).toString("base64url")}`, response: token },
        ["invalid-input-secret"],
      ],
      [
        "the dashboard password as the secret",
        {},
        { secret: t.shared.dashboardPassword, response: token },
        ["invalid-input-secret"],
      ],
    ];
    for (const op of siteverifyOps()) {
      for (const [why, headers, fields, codes] of cases) {
        const res = await call(t, op.path, {
          method: "POST",
          headers: {
            "x-forwarded-for": freshIp(),
            "content-type": "application/x-www-form-urlencoded",
            ...headers,
          },
          body: new URLSearchParams(fields).toString(),
        });
        expect({ route: op.path, why, status: res.status, body: res.body }).toEqual({
          route: op.path,
          why,
          status: 200,
          body: { success: false, "error-codes": codes },
        });
      }
    }
    expect(await tableCounts()).toEqual(before);
  });
});

describe("Prometheus metrics (/_hiveguard/metrics) are the operators'", () => {
  const TOKEN = "metrics-token-0123456789";
  let m: TestServer;
  beforeAll(async () => {
    // The test client is a trusted proxy, so X-Forwarded-For plays a visitor from elsewhere.
    m = await startTestServer({ env: { TRUSTED_PROXIES: "loopback", METRICS_TOKEN: TOKEN } });
  });
  afterAll(() => m?.close());

  const scrape = (headers: Record<string, string>) => call(m, "/_hiveguard/metrics", { headers });
  const remote = { "x-forwarded-for": "203.0.113.7" };

  it("refuses a remote client without credentials or with a wrong token, and serves the token, Basic and loopback", async () => {
    for (const headers of [remote, { ...remote, authorization: "Bearer wrong-token-0123456789" }]) {
      const refused = await scrape(headers);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(refused.text).not.toContain("hiveguard_");
    }
    const wrongBasic = await scrape({
      ...remote,
      authorization: "Basic " + Buffer.from("admin:nope").toString("base64"),
    });
    expect(wrongBasic.status).toBe(401);

    for (const headers of [
      { ...remote, authorization: `Bearer ${TOKEN}` },
      { ...remote, authorization: m.dashboardAuth },
      {}, // loopback, METRICS_ALLOW_FROM's default
    ]) {
      const served = await scrape(headers);
      expect(served.status).toBe(200);
      expect(served.text).toContain("hiveguard_proxy_requests_total");
    }
  });
});
