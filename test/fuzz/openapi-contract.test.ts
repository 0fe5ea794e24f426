/**
 * Contract fuzzing: reads /openapi.json and throws generated invalid input at every operation. Whatever
 * arrives, the server must answer with a documented status and shape: no 5xx, no stack trace or internal
 * message, 422 bodies listing {loc, msg, type}, and nothing written to the database by a rejected request.
 * FUZZ_RUNS sets the number of cases per operation (default keeps CI within its time budget).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 40);
/** Cases every operation gets before the time budget applies. */
const MIN_RUNS_PER_OPERATION = 3;
/** Wall-clock budget of the invalid-input phase, spread over the operations (FUZZ_SECONDS to change). */
const BUDGET_MS = Number(process.env.FUZZ_SECONDS ?? 90) * 1000;
/** Fixed by default so CI is repeatable; FUZZ_SEED=random explores new cases (the seed is printed). */
const SEED =
  process.env.FUZZ_SEED === "random"
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.FUZZ_SEED ?? 20261122);
const LEAK =
  /\n\s+at |node_modules|\.(ts|js|mjs):\d+|prisma|SELECT |INSERT |ZodError|TypeError|ReferenceError/i;

interface Operation {
  method: string;
  path: string;
  auth: "public" | "dashboard" | "apiKey" | "user";
  pathParams: string[];
  queryParams: { name: string; schema: JsonSchema }[];
  body: JsonSchema | undefined;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  $ref?: string;
}

let t: TestServer;
const operations: Operation[] = [];
let apiKey: string | undefined;
/** A bench user's bearer token (the first user, so an admin: admin routes get past auth too). */
let userToken: string | undefined;

beforeAll(async () => {
  // No job workers: a job an earlier accepted request enqueued (risk-model training records a tracking run)
  // would otherwise write while a later refused request is checked for "nothing stored changed".
  t = await startTestServer({ env: { JOB_WORKERS: "0" } });
  const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, any>>;
    components?: { schemas?: Record<string, JsonSchema> };
  };
  const resolve = (schema: JsonSchema | undefined): JsonSchema | undefined =>
    schema?.$ref ? doc.components?.schemas?.[schema.$ref.split("/").pop()!] : schema;

  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const security = (op.security ?? []) as Record<string, unknown>[];
      const scheme = Object.keys(security[0] ?? {})[0];
      // An empty requirement among the alternatives means "or no credentials" (e.g. /_hiveguard/metrics
      // from a loopback scraper): such an operation is not refused to an anonymous caller here.
      const optional = security.some((requirement) => Object.keys(requirement).length === 0);
      const auth = optional
        ? "public"
        : scheme === "dashboardBasic"
          ? "dashboard"
          : scheme === "apiKey"
            ? "apiKey"
            : scheme
              ? "user"
              : "public";
      const params = (op.parameters ?? []) as { in: string; name: string; schema: JsonSchema }[];
      operations.push({
        method: method.toUpperCase(),
        path,
        auth,
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
        queryParams: params.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: p.schema })),
        body: resolve(op.requestBody?.content?.["application/json"]?.schema),
      });
    }
  }
  // Public data routes need a key to get past auth to validation, when the key API exists.
  if (doc.paths["/dashboard/api/apikeys"]?.post) {
    const res = await fetch(`${t.url}/dashboard/api/apikeys`, {
      method: "POST",
      headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ label: "fuzz" }),
    });
    apiKey = ((await res.json()) as { raw_key?: string }).raw_key;
  }
  // User (bearer JWT) routes need a signed-in user to get past auth to validation, when bench exists.
  if (doc.paths["/api/auth/register"]?.post) {
    const res = await fetch(`${t.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "fuzz-admin@example.com", password: "fuzz password" }),
    });
    userToken = ((await res.json()) as { access_token?: string }).access_token;
  }
});

afterAll(async () => {
  await t?.close();
});

function headersFor(op: Operation): Record<string, string> {
  if (op.auth === "dashboard") return { authorization: t.dashboardAuth };
  if (op.auth === "apiKey" && apiKey) return { "x-hiveguard-key": apiKey };
  if (op.auth === "user" && userToken) return { authorization: `Bearer ${userToken}` };
  return {};
}

/** Row counts of every table of this test's database: a rejected request must not change any. */
let countQuery: string | undefined;
async function tableCounts(): Promise<Record<string, number>> {
  const prisma = t.server.deps.db.prisma;
  if (!countQuery) {
    const tables = await prisma.$queryRawUnsafe<{ table_name: string }[]>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    );
    // Audit logs record refusals on purpose (bench: a failed login is written down, who and from where).
    const audited = new Set(["bench_audit_events"]);
    tables.splice(0, tables.length, ...tables.filter(({ table_name }) => !audited.has(table_name)));
    // One round trip for every table's count.
    countQuery = `SELECT ${tables.map(({ table_name }) => `(SELECT count(*) FROM "${table_name}")::int AS "${table_name}"`).join(", ")}`;
  }
  const [row] = await prisma.$queryRawUnsafe<Record<string, number>[]>(countQuery);
  return row!;
}

const weirdStrings = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\uFFFF",
    "%00",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>",
    "🐝".repeat(100),
  ),
  fc.constant("x".repeat(100_000)),
);
const weirdNumbers = fc.oneof(
  fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 53 + 1, 0.5, -0.0),
  fc.double({ noNaN: true }),
  fc.integer(),
);
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  weirdStrings,
  weirdNumbers,
  fc.array(fc.jsonValue(), { maxLength: 2000 }),
  fc.constant(null),
);

/** A value of the wrong kind for a schema (or a random one when the schema is unknown). */
function wrongFor(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  const type = Array.isArray(schema?.type) ? schema?.type[0] : schema?.type;
  switch (type) {
    case "string":
      return fc.oneof(weirdNumbers, fc.boolean(), fc.array(fc.string()), fc.object());
    case "number":
    case "integer":
      return fc.oneof(weirdStrings, fc.boolean(), weirdNumbers, fc.constant({}));
    case "boolean":
      return fc.oneof(weirdStrings, weirdNumbers);
    case "array":
      return fc.oneof(weirdStrings, fc.object(), fc.array(anyJson, { minLength: 1001, maxLength: 1100 }));
    default:
      return anyJson;
  }
}

/** A body that breaks the schema: a wrong field, a missing required field, extra fields, or garbage. */
function invalidBody(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  const properties = Object.entries(schema?.properties ?? {});
  const required = schema?.required ?? [];
  const options: fc.Arbitrary<unknown>[] = [
    anyJson,
    fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), anyJson, { minKeys: 1, maxKeys: 5 }),
  ];
  if (properties.length > 0) {
    options.push(
      fc
        .constantFrom(...properties)
        .chain(([name, propertySchema]) => wrongFor(propertySchema).map((value) => ({ [name]: value }))),
    );
  }
  if (required.length > 0) options.push(fc.constant({}));
  return fc.oneof(...options);
}

const pathValue = fc.oneof(
  fc.constantFrom(
    "not-a-uuid",
    "0",
    "-1",
    "%20",
    "00000000-0000-0000-0000-000000000000",
    "ffffffff".repeat(10),
  ),
  fc.uuid(),
  fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
);

/** Text of a generated value for a query string (objects without a prototype cannot go through String()). */
function asText(value: unknown): string {
  return typeof value === "string" ? value : asJson(value);
}

function asJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return "{}";
  }
}

function invalidRequest(op: Operation): fc.Arbitrary<{ url: string; init: RequestInit }> {
  const path = fc
    .tuple(...op.pathParams.map(() => pathValue))
    .map((values) => op.pathParams.reduce((p, name, i) => p.replace(`{${name}}`, values[i]!), op.path));
  const query = fc
    .tuple(
      ...op.queryParams.map((param) => fc.option(wrongFor(param.schema).map(asText), { nil: undefined })),
    )
    .map((values) => {
      const search = new URLSearchParams();
      op.queryParams.forEach((param, i) => values[i] !== undefined && search.set(param.name, values[i]!));
      return search.toString();
    });
  const hasBody = ["POST", "PUT", "PATCH"].includes(op.method);
  const body = hasBody
    ? fc.oneof(
        {
          weight: 5,
          arbitrary: invalidBody(op.body).map((value) => ({
            type: "application/json",
            text: asJson(value),
          })),
        },
        { weight: 1, arbitrary: fc.string().map((text) => ({ type: "application/json", text: `{${text}` })) },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom("text/plain", "application/xml", "multipart/form-data")
            .map((type) => ({ type, text: "a=1" })),
        },
      )
    : fc.constant(undefined);
  return fc.tuple(path, query, body).map(([p, q, b]) => ({
    url: `${t.url}${p}${q ? `?${q}` : ""}`,
    init: {
      method: op.method,
      headers: { ...headersFor(op), ...(b ? { "content-type": b.type } : {}) },
      body: b?.text,
    },
  }));
}

async function assertDocumentedAnswer(url: string, init: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  const text = await res.text();
  const where = `${init.method} ${url.slice(0, 200)} body=${String(init.body ?? "").slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  // Scripts and pages served as assets may legitimately contain ".js:" or "TypeError"; answers may not.
  const isAsset = res.status < 400 && !(res.headers.get("content-type") ?? "").includes("json");
  if (!isAsset) expect(text, where).not.toMatch(LEAK);
  if (res.status >= 400 && res.status !== 405) {
    const body = JSON.parse(text) as { detail: unknown };
    expect(body, where).toHaveProperty("detail");
    if (res.status === 422) {
      expect(Array.isArray(body.detail), where).toBe(true);
      for (const issue of body.detail as { loc: unknown; msg: unknown; type: unknown }[]) {
        expect(Array.isArray(issue.loc), where).toBe(true);
        expect(typeof issue.msg, where).toBe("string");
        expect(typeof issue.type, where).toBe("string");
      }
    } else {
      expect(typeof body.detail, where).toBe("string");
    }
  }
  return res.status;
}

describe("contract fuzzing from /openapi.json", () => {
  it("finds the operations to fuzz", () => {
    expect(operations.length).toBeGreaterThanOrEqual(3);
  });

  it(
    "answers every malformed request with a documented status, and a refused one writes nothing",
    async () => {
      let cases = 0;
      let refusedWrites = 0;
      console.log(`contract fuzzing seed: ${SEED}`);
      const started = Date.now();
      for (const [index, op] of operations.entries()) {
        const writes = op.method !== "GET";
        const fuzzCase = async (url: string, init: RequestInit) => {
          cases++;
          const before = writes ? await tableCounts() : undefined;
          const status = await assertDocumentedAnswer(url, init);
          // Generated values are mostly invalid but may happen to be valid (a number in range): only a
          // refused write is held to "nothing stored changed".
          if (before && status >= 400) {
            refusedWrites++;
            const after = await tableCounts();
            const changed = Object.keys(after).filter((table) => after[table] !== before[table]);
            expect(
              changed.map((table) => `${table}: ${before[table]} → ${after[table]}`),
              `${init.method} ${url} ${String(init.body).slice(0, 200)}`,
            ).toEqual([]);
          }
        };
        /** The last case's outcome: its error, if it failed. */
        let inFlight: Promise<unknown> = Promise.resolve();
        const property = fc.asyncProperty(invalidRequest(op), ({ url, init }) => {
          const run = fuzzCase(url, init);
          inFlight = run.then(
            () => undefined,
            (error: unknown) => error,
          );
          return run;
        });
        // Every operation gets its first cases whatever the clock says (a slow machine must not leave an
        // operation untried), then what is left of the budget, shared by the operations still to come.
        await fc.assert(property, { numRuns: MIN_RUNS_PER_OPERATION, seed: SEED + index });
        const left = (BUDGET_MS - (Date.now() - started)) / (operations.length - index);
        if (left > 0) {
          // fc.check, not fc.assert: a budget that runs out before the first case is not a failure (assert
          // reports "interrupted after 0 tests"), a counterexample is.
          const details = await fc.check(property, {
            numRuns: RUNS_PER_OPERATION - MIN_RUNS_PER_OPERATION,
            seed: SEED + index + 100_000,
            interruptAfterTimeLimit: left,
            markInterruptAsFailure: false,
          });
          if (details.counterexample) throw new Error(await fc.asyncDefaultReportMessage(details));
          // An interrupted case is abandoned, not stopped: its request may still be writing, and would be
          // counted against the next operation's first refused write. If it failed, that is a finding.
          const abandoned = await inFlight;
          if (abandoned) throw abandoned;
        }
      }
      console.log(`contract fuzzing: ${cases} cases over ${operations.length} operations`);
      expect(cases).toBeGreaterThanOrEqual(operations.length * MIN_RUNS_PER_OPERATION);
      expect(refusedWrites).toBeGreaterThan(0);
    },
    BUDGET_MS * 4 + 60_000,
  );

  it("refuses a NUL character in any string field with 422 naming the field, and stores nothing", async () => {
    const filled = (op: Operation) =>
      `${t.url}${op.path.replace(/\{\w+\}/g, "00000000-0000-4000-8000-000000000000")}`;
    let checked = 0;
    // HiveGuard's own pages (`/_hiveguard/*`) answer HTML and fall back to safe defaults instead; siteverify
    // answers in the captcha services' shape (checked below).
    for (const op of operations.filter(
      (o) => !o.path.startsWith("/_hiveguard/") && !o.path.endsWith("/siteverify"),
    )) {
      const isString = (schema: JsonSchema | undefined) =>
        schema?.type === "string" || (Array.isArray(schema?.type) && schema.type.includes("string"));
      const bodyFields = Object.entries(op.body?.properties ?? {}).filter(([, schema]) => isString(schema));
      const queryFields = op.queryParams.filter((param) => isString(param.schema) && !param.schema.enum);
      for (const [name] of bodyFields) {
        const before = await tableCounts();
        const res = await fetch(filled(op), {
          method: op.method,
          headers: { ...headersFor(op), "content-type": "application/json" },
          body: JSON.stringify({ [name]: "a\u0000b" }),
        });
        const where = `${op.method} ${op.path} body.${name}`;
        expect(res.status, where).toBe(422);
        const body = (await res.json()) as { detail: { loc: unknown[]; msg: string }[] };
        expect(body.detail, where).toContainEqual(
          expect.objectContaining({ loc: ["body", name], msg: expect.stringMatching(/NUL/) }),
        );
        expect(await tableCounts(), where).toEqual(before);
        checked++;
      }
      for (const param of queryFields) {
        const res = await fetch(`${filled(op)}?${param.name}=a%00b`, {
          method: op.method,
          headers: headersFor(op),
        });
        const where = `${op.method} ${op.path} query.${param.name}`;
        expect(res.status, where).toBe(422);
        const body = (await res.json()) as { detail: { loc: unknown[] }[] };
        expect(
          // A list parameter names the element (["query", "runs", 0]).
          body.detail.map((d) => d.loc.slice(0, 2)),
          where,
        ).toContainEqual(["query", param.name]);
        checked++;
      }
    }
    console.log(`NUL refused in ${checked} string fields`);
    expect(checked).toBeGreaterThan(10);
  });

  it("siteverify answers a NUL in any field, and every malformed body, as the services do: 200 bad-request", async () => {
    const siteverify = operations.filter((o) => o.path.endsWith("/siteverify"));
    expect(siteverify.length).toBe(7);
    for (const op of siteverify) {
      const fields = Object.keys(op.body?.properties ?? {});
      expect(fields).toEqual(["secret", "response", "remoteip", "sitekey", "idempotency_key"]);
      for (const name of fields) {
        const res = await fetch(`${t.url}${op.path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ secret: "s", response: "r", [name]: "a\u0000b" }),
        });
        expect(res.status, `${op.path} body.${name}`).toBe(200);
        expect(await res.json(), `${op.path} body.${name}`).toEqual({
          success: false,
          "error-codes": ["bad-request"],
        });
      }
    }
  });

  it("refuses anonymous calls on every protected operation", async () => {
    for (const op of operations.filter((o) => o.auth !== "public")) {
      const url = `${t.url}${op.path.replace(/\{\w+\}/g, "00000000-0000-4000-8000-000000000000")}`;
      const res = await fetch(url, {
        method: op.method,
        headers: { "content-type": "application/json" },
        body: ["POST", "PUT", "PATCH"].includes(op.method) ? "{}" : undefined,
      });
      expect(res.status, `${op.method} ${op.path}`).toBe(401);
      await res.arrayBuffer();
    }
  });
});
