// The GraphQL dashboard schema: authentication (Basic, session cookie, CSRF header), limits, and every
// dashboard query and mutation against a real server, with challenge traffic produced by real visitors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answersFor, configure, seed, type Seeded, visitor } from "../guard/challenge-helpers.js";
import { call, clients, deleteDefaultProxyRules, send } from "../guard/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { gql, gqlOk, signIn } from "./helpers.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await configure(t);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const CREATE = 'mutation { createDataset(input: {name: "via cookie", modality: text}) { id } }';

describe("authentication", () => {
  it("refuses a query without credentials, with wrong Basic credentials, and with an API key", async () => {
    const none = await gql(t, "{ metrics { total_challenges } }", {}, {});
    expect(none.errors?.[0]?.extensions).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
    // Root fields are nullable: the failing field is null, with its error and code.
    expect(none.data).toEqual({ metrics: null });
    expect(none.errors?.[0]?.path).toEqual(["metrics"]);

    const wrong = `Basic ${Buffer.from("admin:not-the-password").toString("base64")}`;
    const bad = await gql(t, "{ datasets { nodes { id } } }", {}, { authorization: wrong });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ status: 401 });

    const { raw_key } = (await clients(t).dash.post("/dashboard/api/apikeys", { label: "not-dash" })).body;
    const keyed = await gql(t, "{ apiKeys { nodes { id } } }", {}, { "x-hiveguard-key": raw_key });
    expect(keyed.errors?.[0]?.extensions).toMatchObject({ status: 401 });
    const keyedMutation = await gql(t, CREATE, {}, { "x-hiveguard-key": raw_key });
    expect(keyedMutation.errors?.[0]?.extensions).toMatchObject({ status: 401 });
  });

  it("a login session works for queries; mutations with the cookie need X-Requested-With", async () => {
    const cookie = await signIn(t);
    const read = await gqlOk(t, "{ metrics { total_challenges } }", {}, { cookie });
    expect(typeof read.metrics.total_challenges).toBe("number");

    const forged = await gql(t, CREATE, {}, { cookie });
    expect(forged.errors?.[0]?.extensions).toMatchObject({ status: 403, code: "FORBIDDEN" });
    expect(forged.errors?.[0]?.message).toMatch(/X-Requested-With/);
    const datasets = await gqlOk(t, "{ datasets { nodes { name } } }");
    expect(datasets.datasets.nodes.map((d: any) => d.name)).not.toContain("via cookie");

    const crossOrigin = await gql(
      t,
      CREATE,
      {},
      {
        cookie,
        "x-requested-with": "x",
        origin: "https://evil.example",
      },
    );
    expect(crossOrigin.errors?.[0]?.extensions).toMatchObject({ status: 403 });

    const ok = await gqlOk(t, CREATE, {}, { cookie, "x-requested-with": "hiveguard-dashboard" });
    expect(ok.createDataset.id).toMatch(/^[0-9a-f-]{36}$/);

    // The REST facade and the export route take the same cookie.
    const rest = await call(t, "/dashboard/api/metrics", { headers: { cookie } });
    expect(rest.status).toBe(200);
    const restWrite = await call(
      t,
      "/dashboard/api/proxy-rules",
      send("POST", { pattern: "/x" }, { cookie }),
    );
    expect(restWrite.status).toBe(403);
    const exported = await call(
      t,
      `/dashboard/api/item-datasets/${ok.createDataset.id}/labeled/export?fmt=jsonl`,
      {
        headers: { cookie },
      },
    );
    expect(exported.status).toBe(200);

    expect((await call(t, "/dashboard/session", { headers: { cookie } })).body).toEqual({
      username: "admin",
    });
    // Signing out needs the header too, then the session is gone everywhere.
    expect((await call(t, "/dashboard/logout", { method: "POST", headers: { cookie } })).status).toBe(403);
    const out = await call(t, "/dashboard/logout", {
      method: "POST",
      headers: { cookie, "x-requested-with": "hiveguard-dashboard" },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(
      /hg_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/,
    );
    const after = await gql(t, "{ metrics { total_challenges } }", {}, { cookie });
    expect(after.errors?.[0]?.extensions).toMatchObject({ status: 401 });
    expect((await call(t, "/dashboard/session", { headers: { cookie } })).body).toEqual({ username: null });
    const forgedCookie = await call(t, "/dashboard/session", { headers: { cookie: "hg_session=forged" } });
    expect(forgedCookie.body).toEqual({ username: null });
  });

  it("a changed dashboard password signs every session out (an instance restarted with the new one)", async () => {
    const cookie = await signIn(t);
    const restarted = await startTestServer({
      sharedWith: t,
      env: { DASHBOARD_PASSWORD: "a-new-password-for-the-dashboard" },
    });
    try {
      // Same state store, so the session record is there, but it was opened with the old password.
      expect((await call(restarted, "/dashboard/session", { headers: { cookie } })).body).toEqual({
        username: null,
      });
      expect((await call(restarted, "/dashboard/api/metrics", { headers: { cookie } })).status).toBe(401);
      const fresh = await signIn(restarted, "a-new-password-for-the-dashboard");
      expect((await call(restarted, "/dashboard/api/metrics", { headers: { cookie: fresh } })).status).toBe(
        200,
      );
      // The instance still on the old password keeps its sessions, and refuses the new one's.
      expect((await call(t, "/dashboard/api/metrics", { headers: { cookie } })).status).toBe(200);
      expect((await call(t, "/dashboard/api/metrics", { headers: { cookie: fresh } })).status).toBe(401);
    } finally {
      await restarted.close();
    }
  });

  it("the session cookie is HttpOnly and SameSite=Strict, and Secure when the request came over HTTPS", async () => {
    const res = await call(
      t,
      "/dashboard/login",
      send("POST", { username: "admin", password: t.shared.dashboardPassword }),
    );
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/);

    const behindTls = await startTestServer({ env: { TRUSTED_PROXIES: "127.0.0.1" } });
    try {
      const tls = await call(
        behindTls,
        "/dashboard/login",
        send(
          "POST",
          { username: "admin", password: behindTls.shared.dashboardPassword },
          { "x-forwarded-proto": "https" },
        ),
      );
      expect(tls.status).toBe(200);
      expect(tls.headers.get("set-cookie")).toMatch(/; Secure/);
    } finally {
      await behindTls.close();
    }
  });

  it("a session started on one instance works on another sharing the state store, and signing out ends it on both", async () => {
    const second = await startTestServer({ sharedWith: t });
    try {
      const cookie = await signIn(t);
      const there = await gqlOk(second, "{ metrics { total_challenges } }", {}, { cookie });
      expect(typeof there.metrics.total_challenges).toBe("number");
      const out = await call(second, "/dashboard/logout", {
        method: "POST",
        headers: { cookie, "x-requested-with": "hiveguard-dashboard" },
      });
      expect(out.status).toBe(204);
      const here = await gql(t, "{ metrics { total_challenges } }", {}, { cookie });
      expect(here.errors?.[0]?.extensions).toMatchObject({ status: 401 });
    } finally {
      await second.close();
    }
  });

  it("a wrong password at the login form is 401 without a browser prompt; bad bodies are 422", async () => {
    const res = await call(t, "/dashboard/login", send("POST", { username: "admin", password: "nope" }));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: "Invalid username or password" });
    expect(res.headers.get("www-authenticate")).toBeNull();
    expect(res.headers.get("set-cookie")).toBeNull();
    const malformed = await call(t, "/dashboard/login", send("POST", { username: "admin" }));
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0].loc).toEqual(["body", "password"]);
  });

  it("failed logins through the form and through Basic share the per-IP limit (429 with Retry-After)", async () => {
    const own = await startTestServer();
    try {
      const wrongBasic = `Basic ${Buffer.from("admin:wrong").toString("base64")}`;
      for (let i = 0; i < 5; i++) {
        expect(
          (await call(own, "/dashboard/login", send("POST", { username: "admin", password: `x${i}` })))
            .status,
        ).toBe(401);
        expect(
          (await call(own, "/dashboard/api/metrics", { headers: { authorization: wrongBasic } })).status,
        ).toBe(401);
      }
      const blocked = await call(
        own,
        "/dashboard/login",
        send("POST", { username: "admin", password: own.shared.dashboardPassword }),
      );
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
      // While blocked, even the right password is refused, through Basic as through the form.
      expect(
        (await call(own, "/dashboard/api/metrics", { headers: { authorization: own.dashboardAuth } })).status,
      ).toBe(429);
    } finally {
      await own.close();
    }
  });
});

describe("limits", () => {
  it("refuses too deep, too many aliases, too costly and too long queries: 400, QUERY_LIMIT_EXCEEDED", async () => {
    const deep = `{ ${"__schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } }"} }`;
    const aliases = Array.from({ length: 25 }, (_, i) => `a${i}: metrics { total_challenges }`).join(" ");
    const costly = ["a", "b", "c"]
      .map((a) => `${a}: datasets(first: 250) { nodes { id progress { labeled } } }`)
      .join(" ");
    const cases: [string, string, RegExp][] = [
      [deep, "depth", /depth limit of 15/i],
      [`{ ${aliases} }`, "aliases", /aliases limit of 20/i],
      [`{ ${costly} }`, "cost", /cost limit of 5000/i],
      [`{ ${"metrics { total_challenges } ".repeat(600)} }`, "tokens", /token limit of 2000/i],
    ];
    for (const [query, limit, message] of cases) {
      for (const accept of ["application/json", "application/graphql-response+json"]) {
        const res = await gql(t, query, {}, { authorization: t.dashboardAuth, accept });
        expect({ limit, accept, status: res.status }).toEqual({ limit, accept, status: 400 });
        expect(res.errors).toHaveLength(1);
        const error = res.errors![0]!;
        expect(error.message).toMatch(message);
        expect(error.message).not.toMatch(/Syntax Error/);
        expect(error.extensions).toEqual({
          code: "QUERY_LIMIT_EXCEEDED",
          status: 400,
          detail: error.message,
          limit,
        });
      }
    }
  });
});

describe("schema conventions", () => {
  const introspect = async (name: string) =>
    (
      await gqlOk(
        t,
        `query($name: String!) { __type(name: $name) { kind description enumValues { name }
          fields { name description type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
            args { name description type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } }
          inputFields { name description type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }`,
        { name },
      )
    ).__type;
  const named = (type: any): string => (type.name ? type.name : named(type.ofType));

  it("partial results: a failing root field is null with its code, the others stand", async () => {
    const res = await gql(
      t,
      `query($id: ID!) { metrics { total_challenges } dataset(id: $id) { id } runtimeConfig { risk_threshold } }`,
      { id: "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69" },
    );
    expect(res.status).toBe(200);
    expect(res.data.dataset).toBeNull();
    expect(typeof res.data.metrics.total_challenges).toBe("number");
    expect(typeof res.data.runtimeConfig.risk_threshold).toBe("number");
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]).toMatchObject({
      path: ["dataset"],
      extensions: { code: "NOT_FOUND", status: 404, detail: "Dataset not found" },
    });
    const invalid = await gql(t, `{ metrics { total_challenges } dataset(id: "nope") { id } }`);
    expect(invalid.data.metrics).not.toBeNull();
    expect(invalid.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", status: 422 });
    for (const kind of ["Query", "Mutation"]) {
      const root = await introspect(kind);
      for (const field of root.fields)
        expect({ kind, field: field.name, nullable: field.type.kind }).not.toEqual({
          kind,
          field: field.name,
          nullable: "NON_NULL",
        });
    }
  });

  it("descriptions and bounds from zod on fields and arguments", async () => {
    const config = await introspect("RuntimeConfig");
    for (const field of config.fields) expect(field.description, field.name).toBeTruthy();
    const dataset = await introspect("Dataset");
    expect(dataset.fields.find((f: any) => f.name === "item_count").description).toBe(
      "Exact number of items in the dataset",
    );
    const query = await introspect("Query");
    const timeseries = query.fields.find((f: any) => f.name === "timeseries");
    expect(timeseries.args.find((a: any) => a.name === "buckets").description).toMatch(/between 1 and 1440/);
    const labelPage = query.fields.find((f: any) => f.name === "labelPage");
    expect(labelPage.args.find((a: any) => a.name === "limit").description).toMatch(
      /between 1 and 500; default 50/,
    );
    const create = await introspect("CreateDatasetInput");
    expect(create.inputFields.find((f: any) => f.name === "name").description).toMatch(
      /between 1 and 200 characters/i,
    );
    const config2 = await introspect("UpdateRuntimeConfigInput");
    expect(config2.inputFields.find((f: any) => f.name === "risk_threshold").description).toMatch(
      /between 0 and 1/,
    );
  });

  it("ID for ids, DateTime for timestamps, one enum per concept, enums where REST has enums", async () => {
    const dataset = await introspect("Dataset");
    const typeOf = (type: any, field: string) => named(type.fields.find((f: any) => f.name === field).type);
    expect(typeOf(dataset, "id")).toBe("ID");
    expect(typeOf(dataset, "created_at")).toBe("DateTime");
    expect(typeOf(dataset, "modality")).toBe("Modality");
    expect(typeOf(dataset, "challenge_type")).toBe("ChallengeType");
    expect(typeOf(await introspect("SeriesPoint"), "start")).toBe("DateTime");
    expect(typeOf(await introspect("LabelRow"), "dataset_id")).toBe("ID");
    const apiKey = await introspect("ApiKey");
    expect(typeOf(apiKey, "scopes")).toBe("ApiKeyScope");
    expect((await introspect("ApiKeyScope")).enumValues.map((v: any) => v.name)).toEqual([
      "CHALLENGE",
      "DATA_READ",
      "DATA_WRITE",
    ]);
    const types = (await gqlOk(t, "{ __schema { types { name kind } } }")).__schema.types as any[];
    const enums = types.filter((x) => x.kind === "ENUM" && !x.name.startsWith("__")).map((x) => x.name);
    for (const duplicate of ["DatasetChallengeType", "ItemUploadInputModality", "DatasetCreateModality"])
      expect(enums).not.toContain(duplicate);
    expect(enums.filter((n) => /Modality/.test(n))).toEqual(["Modality"]);
    expect(enums.filter((n) => /ChallengeType/.test(n))).toEqual(["ChallengeType"]);
    // Mutations take input objects (an id-only one takes `id: ID!`).
    const mutation = await introspect("Mutation");
    const argsOf = (name: string) =>
      mutation.fields.find((f: any) => f.name === name).args.map((a: any) => `${a.name}: ${named(a.type)}`);
    expect(argsOf("createApiKey")).toEqual(["input: CreateApiKeyInput"]);
    expect(argsOf("updateProxyRule")).toEqual(["input: UpdateProxyRuleInput"]);
    expect(argsOf("deleteDataset")).toEqual(["id: ID"]);
    const scopes = (await introspect("CreateApiKeyInput")).inputFields.find((f: any) => f.name === "scopes");
    expect(named(scopes.type)).toBe("ApiKeyScope");

    // The enum names map to the wire values.
    const created = await gqlOk(
      t,
      `mutation { createApiKey(input: {label: "scoped", scopes: [CHALLENGE, DATA_READ]}) { id scopes created_at } }`,
    );
    expect(created.createApiKey.scopes).toEqual(["CHALLENGE", "DATA_READ"]);
    expect(Number.isNaN(Date.parse(created.createApiKey.created_at))).toBe(false);
    const rest = await clients(t).dash.get("/dashboard/api/apikeys");
    expect(rest.body.find((k: any) => k.id === created.createApiKey.id).scopes).toEqual([
      "challenge",
      "data:read",
    ]);
    const bad = await gql(t, `mutation { createApiKey(input: {label: "x", scopes: ["data:read"]}) { id } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("labels, items and uploadItems (API-key procedures) are not in the dashboard schema", async () => {
    const query = await introspect("Query");
    const mutation = await introspect("Mutation");
    const names = [...query.fields, ...mutation.fields].map((f: any) => f.name);
    expect(names).not.toContain("items");
    expect(names).not.toContain("uploadItems");
    // `labels` is now the dashboard's own connection over labelPage, and works with dashboard credentials.
    const cookie = await signIn(t);
    const labels = await gqlOk(t, "{ labels(first: 1) { totalCount nodes { label } } }", {}, { cookie });
    expect(typeof labels.labels.totalCount).toBe("number");
  });

  it("Relay connections: first/after, last/before, pageInfo, totalCount, nodes and edges", async () => {
    for (let i = 0; i < 5; i++)
      await gqlOk(t, `mutation { createDataset(input: {name: "conn ${i}", modality: text}) { id } }`);
    const all = await gqlOk(t, "{ datasets(first: 250) { totalCount nodes { id } } }");
    const ids = all.datasets.nodes.map((n: any) => n.id);
    expect(all.datasets.totalCount).toBe(ids.length);
    const q = `query($first: Int, $after: String, $last: Int, $before: String) {
      datasets(first: $first, after: $after, last: $last, before: $before) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const page: any = (await gqlOk(t, q, { first: 2, after })).datasets;
      expect(page.totalCount).toBe(ids.length);
      expect(page.edges.length).toBeLessThanOrEqual(2);
      seen.push(...page.edges.map((e: any) => e.node.id));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
    expect(pages).toBe(Math.ceil(ids.length / 2));
    const tail = (await gqlOk(t, q, { last: 2 })).datasets;
    expect(tail.edges.map((e: any) => e.node.id)).toEqual(ids.slice(-2));
    expect(tail.pageInfo.hasPreviousPage).toBe(true);
    const before = (await gqlOk(t, q, { last: 1, before: tail.pageInfo.startCursor })).datasets;
    expect(before.edges.map((e: any) => e.node.id)).toEqual(ids.slice(-3, -2));
    // The same lists on REST stay bare arrays (X-Total-Count carries the total).
    const rest = await clients(t).dash.get("/dashboard/api/item-datasets?limit=2");
    expect(rest.body.map((d: any) => d.id)).toEqual(ids.slice(0, 2));
    expect(rest.headers.get("x-total-count")).toBe(String(ids.length));
    for (const list of ["apiKeys", "proxyRules", "labels"]) {
      const page = await gqlOk(
        t,
        `{ ${list}(first: 1) { totalCount pageInfo { hasNextPage } nodes { __typename } } }`,
      );
      expect(page[list].nodes.length).toBeLessThanOrEqual(1);
      expect(page[list].pageInfo.hasNextPage).toBe(page[list].totalCount > 1);
    }
  });
});

/** Reads SSE events from a GraphQL subscription until `until` returns true for the parsed events. */
async function sse(
  url: string,
  headers: Record<string, string>,
  until: (events: { event: string; data: any }[]) => boolean,
  onOpen?: () => Promise<void>,
) {
  const controller = new AbortController();
  const res = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  if (res.status !== 200) expect(`${res.status} ${await res.text()}`).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: any }[] = [];
  let buffer = "";
  let opened = false;
  const deadline = Date.now() + 15_000;
  try {
    while (!until(events) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event) events.push({ event, data: data ? JSON.parse(data) : null });
      }
      if (!opened && events.length > 0 && onOpen) {
        opened = true;
        await onOpen();
      }
    }
  } finally {
    controller.abort();
  }
  return events;
}

describe("liveMetrics subscription over SSE", () => {
  const SUB = `subscription($buckets: Int) { liveMetrics(buckets: $buckets) {
    metrics { total_challenges challenges_passed } timeseries { points { served } } tierDistribution { tier served } } }`;
  const url = (variables: Record<string, unknown> = { buckets: 5 }) =>
    `${t.url}/graphql?${new URLSearchParams({ query: SUB, variables: JSON.stringify(variables) })}`;

  it("sends the metrics at once, then again when traffic on another instance moves the counters", async () => {
    const second = await startTestServer({ sharedWith: t });
    try {
      const s = await seed(second, { gt: 4, unknown: 1, modality: "text", name: "live" });
      const cookie = await signIn(t);
      const events = await sse(
        url(),
        { cookie },
        (ev) => ev.filter((e) => e.event === "next").length >= 2,
        async () => {
          // Traffic on the other instance: its counters reach this one through the state store's pub/sub.
          const v = visitor(second, s.key);
          const c = await v.generate();
          expect((await v.submit(answersFor(c.body, s))).body.passed).toBe(true);
        },
      );
      const next = events.filter((e) => e.event === "next").map((e) => e.data);
      expect(next.length).toBeGreaterThanOrEqual(2);
      const [first, last] = [next[0].data.liveMetrics, next.at(-1).data.liveMetrics];
      expect(last.metrics.total_challenges).toBe(first.metrics.total_challenges + 1);
      expect(last.metrics.challenges_passed).toBe(first.metrics.challenges_passed + 1);
      expect(last.timeseries.points).toHaveLength(5);
      expect(last.timeseries.points.at(-1).served).toBeGreaterThanOrEqual(1);
    } finally {
      await second.close();
    }
  });

  it("refuses without dashboard credentials (401 in the event) and validates its arguments", async () => {
    const events = await sse(url(), {}, (ev) => ev.some((e) => e.event === "complete"));
    expect(events[0]!.data.errors[0].extensions).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
    const bad = await sse(url({ buckets: 0 }), { authorization: t.dashboardAuth }, (ev) =>
      ev.some((e) => e.event === "complete"),
    );
    expect(bad[0]!.data.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", status: 422 });
  });
});

describe("every dashboard query and mutation", () => {
  let s: Seeded;
  beforeAll(async () => {
    // Real traffic: visitors generate and submit challenges; three agree on the unknown item → a label.
    s = await seed(t, { gt: 4, unknown: 1, modality: "text", name: "traffic" });
    for (const answer of ["yes", "yes", "yes"]) {
      const v = visitor(t, s.key);
      const res = await v.generate();
      const result = await v.submit(answersFor(res.body, s, { unknownAnswer: answer }));
      expect(result.body.passed).toBe(true);
    }
    const loser = visitor(t, s.key);
    const res = await loser.generate();
    expect((await loser.submit(answersFor(res.body, s, { gtWrong: true }))).body.passed).toBe(false);
  }, 60_000);

  it("metrics, timeseries per minute and per hour, tier distribution", async () => {
    const data = await gqlOk(
      t,
      `{ metrics { total_challenges solve_rate_pct challenges_passed challenges_failed recent_sessions total_items }
         minute: timeseries { resolution points { start served passed failed } }
         hour: timeseries(resolution: hour, buckets: 3) { resolution points { start served passed failed } }
         tierDistribution { tier served } }`,
    );
    expect(data.metrics.total_challenges).toBeGreaterThanOrEqual(4);
    expect(data.metrics.challenges_passed).toBeGreaterThanOrEqual(3);
    expect(data.metrics.challenges_failed).toBeGreaterThanOrEqual(1);
    expect(data.minute.points).toHaveLength(60);
    expect(data.hour.points).toHaveLength(3);
    for (const series of [data.minute, data.hour]) {
      const sum = (k: string) => series.points.reduce((n: number, p: any) => n + p[k], 0);
      expect(sum("served")).toBe(data.metrics.total_challenges);
      expect(sum("passed")).toBe(data.metrics.challenges_passed);
      expect(sum("failed")).toBe(data.metrics.challenges_failed);
      const starts = series.points.map((p: any) => Date.parse(p.start));
      expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    }
    expect(Date.parse(data.hour.points[2].start) - Date.parse(data.hour.points[1].start)).toBe(3_600_000);
    const served = data.tierDistribution.reduce((n: number, x: any) => n + x.served, 0);
    expect(served).toBe(data.metrics.total_challenges);
    expect(data.tierDistribution.map((x: any) => x.tier)).toEqual([1, 2, 3]);

    const rest = await clients(t).dash.get("/dashboard/api/metrics/timeseries?resolution=hour&buckets=2");
    expect(rest.status).toBe(200);
    expect(rest.body.points).toHaveLength(2);
    const tooMany = await clients(t).dash.get("/dashboard/api/metrics/timeseries?buckets=5000");
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.detail[0].loc).toEqual(["query", "buckets"]);
  });

  it("datasets with labeling progress, batched into one call for the whole list (no N+1)", async () => {
    const service = t.server.deps.services.datasets;
    const original = service.progress.bind(service);
    const calls: (string[] | undefined)[] = [];
    service.progress = (ids) => (calls.push(ids), original(ids));
    try {
      const data = await gqlOk(
        t,
        `{ datasets { nodes { id name item_count progress { ground_truth unlabeled labeled revalidating graduated needs_review } } } }`,
      );
      expect(data.datasets.nodes.length).toBeGreaterThan(1);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toHaveLength(data.datasets.nodes.length);
      const traffic = data.datasets.nodes.find((d: any) => d.id === s.datasetId);
      expect(traffic.item_count).toBe(5);
      // The unknown item reached consensus and is now being re-validated.
      expect(traffic.progress).toEqual({
        ground_truth: 4,
        unlabeled: 0,
        labeled: 0,
        revalidating: 1,
        graduated: 0,
        needs_review: 0,
      });
    } finally {
      service.progress = original;
    }
    const one = await gqlOk(
      t,
      `query($id: ID!) { dataset(id: $id) { name progress { ground_truth } } datasetProgress(ids: [$id]) { dataset_id revalidating } }`,
      { id: s.datasetId },
    );
    expect(one.dataset).toEqual({ name: "traffic", progress: { ground_truth: 4 } });
    expect(one.datasetProgress).toEqual([{ dataset_id: s.datasetId, revalidating: 1 }]);
    const rest = await clients(t).dash.get(`/dashboard/api/item-datasets/progress?ids=${s.datasetId}`);
    expect(rest.status).toBe(200);
    expect(rest.body[0]).toMatchObject({ dataset_id: s.datasetId, ground_truth: 4 });
  });

  it("create a dataset, upload items into it, see the counts, delete it", async () => {
    const created = await gqlOk(
      t,
      'mutation { createDataset(input: {name: "uploads", modality: image, challenge_type: grid_select, prompt: "Pick the cats"}) { id item_count challenge_type choices } }',
    );
    const id = created.createDataset.id;
    expect(created.createDataset).toMatchObject({
      item_count: 0,
      challenge_type: "grid_select",
      choices: [],
    });
    const items = [
      { data_ref: "https://example.com/a.jpg" },
      { data_ref: "https://example.com/b.jpg", ground_truth: [4, 1] },
    ];
    const up = await gqlOk(
      t,
      "mutation($input: UploadDatasetItemsInput!) { uploadDatasetItems(input: $input) { created item_ids } }",
      { input: { id, items } },
    );
    expect(up.uploadDatasetItems.created).toBe(2);
    const after = await gqlOk(
      t,
      `query($id: ID!) { dataset(id: $id) { item_count progress { ground_truth unlabeled } } }`,
      { id },
    );
    expect(after.dataset).toEqual({ item_count: 2, progress: { ground_truth: 1, unlabeled: 1 } });

    const bad = await gql(
      t,
      "mutation($input: UploadDatasetItemsInput!) { uploadDatasetItems(input: $input) { created } }",
      { input: { id, items: [{ data_ref: "x", ground_truth: "yes" }] } },
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ status: 422 });
    expect(JSON.stringify(bad.errors?.[0]?.extensions?.detail)).toContain("ground_truth");
    const rest = await clients(t).dash.post(`/dashboard/api/item-datasets/${id}/items`, {
      items: [{ data_ref: "c" }],
    });
    expect(rest.status).toBe(201);

    const deleted = await gqlOk(t, "mutation($id: ID!) { deleteDataset(id: $id) { id deleted } }", {
      id,
    });
    expect(deleted.deleteDataset).toEqual({ id, deleted: true });
    const gone = await gql(t, "query($id: ID!) { dataset(id: $id) { id } }", { id });
    expect(gone.errors?.[0]?.extensions).toMatchObject({ status: 404, code: "NOT_FOUND" });
  });

  it("labels with paging and filters (dataset, minimum confidence)", async () => {
    const q = `query($dataset_id: ID, $min_confidence: Float, $limit: Int, $offset: Int) {
      labelPage(dataset_id: $dataset_id, min_confidence: $min_confidence, limit: $limit, offset: $offset) {
        total limit offset labels { data_ref label confidence solver_count state dataset_id } } }`;
    const page = await gqlOk(t, q, { dataset_id: s.datasetId });
    expect(page.labelPage).toMatchObject({ total: 1, limit: 50, offset: 0 });
    expect(page.labelPage.labels[0]).toMatchObject({
      data_ref: s.unknownRefs[0],
      label: "yes",
      confidence: 1,
      solver_count: 3,
      state: "revalidating",
    });
    // A second labeled dataset: 2 of 3 agree → 0.67.
    const other = await seed(t, { gt: 4, unknown: 1, modality: "text", name: "other" });
    for (const answer of ["yes", "no", "yes"]) {
      const v = visitor(t, other.key);
      const res = await v.generate();
      await v.submit(answersFor(res.body, other, { unknownAnswer: answer }));
    }
    expect((await gqlOk(t, q, {})).labelPage.total).toBe(2);
    const confident = await gqlOk(t, q, { min_confidence: 0.9 });
    expect(confident.labelPage.labels.map((l: any) => l.dataset_id)).toEqual([s.datasetId]);
    const paged = await gqlOk(t, q, { limit: 1, offset: 1 });
    expect(paged.labelPage).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(paged.labelPage.labels).toHaveLength(1);
    // Newest first: the first page holds the other dataset's label.
    expect((await gqlOk(t, q, { limit: 1 })).labelPage.labels[0].dataset_id).toBe(other.datasetId);

    const bad = await gql(t, q, { min_confidence: 2 });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ status: 422 });
    const rest = await clients(t).dash.get(
      `/dashboard/api/labels?min_confidence=0.9&dataset_id=${s.datasetId}`,
    );
    expect(rest.status).toBe(200);
    expect(rest.body.total).toBe(1);
  });

  it("API keys: create (raw key once), list, revoke", async () => {
    const created = await gqlOk(
      t,
      `mutation($datasets: [ID!]) { createApiKey(input: {label: "gql", datasets: $datasets, sample_rate: 0.5}) { id label key_prefix raw_key datasets sample_rate } }`,
      { datasets: [s.datasetId] },
    );
    const key = created.createApiKey;
    expect(key.raw_key.startsWith(key.key_prefix)).toBe(true);
    expect(key).toMatchObject({ label: "gql", datasets: [s.datasetId], sample_rate: 0.5 });
    const listed = await gqlOk(t, "{ apiKeys { nodes { id label key_prefix } } }");
    expect(listed.apiKeys.nodes).toContainEqual({ id: key.id, label: "gql", key_prefix: key.key_prefix });
    expect(JSON.stringify(listed)).not.toContain(key.raw_key);
    expect((await clients(t).api(key.raw_key).get("/api/v1/data/items")).status).toBe(200);

    const revoked = await gqlOk(t, "mutation($id: ID!) { revokeApiKey(id: $id) { id deleted } }", {
      id: key.id,
    });
    expect(revoked.revokeApiKey).toEqual({ id: key.id, deleted: true });
    expect((await gqlOk(t, "{ apiKeys { nodes { id } } }")).apiKeys.nodes).not.toContainEqual({ id: key.id });
    expect((await clients(t).api(key.raw_key).get("/api/v1/data/items")).status).toBe(401);
  });

  it("proxy rules: create, update, test which rule matches a path, delete", async () => {
    // The list below is compared whole: without the default rules (/favicon.ico, /robots.txt).
    await deleteDefaultProxyRules(t);
    const fields = "id pattern match_type priority enabled";
    const a = (
      await gqlOk(
        t,
        `mutation { createProxyRule(input: {pattern: "/static/", match_type: prefix, priority: 10}) { ${fields} } }`,
      )
    ).createProxyRule;
    const b = (
      await gqlOk(
        t,
        `mutation { createProxyRule(input: {pattern: "/static/**/*.map", match_type: glob, priority: 20}) { ${fields} } }`,
      )
    ).createProxyRule;
    expect(
      (await gqlOk(t, "{ proxyRules { nodes { id } } }")).proxyRules.nodes.map((r: any) => r.id),
    ).toEqual([b.id, a.id]);

    const match = (path: string) =>
      gqlOk(
        t,
        `query($path: String!) { proxyRuleMatch(path: $path) { path canonical reason exempt rule { id pattern } } }`,
        {
          path,
        },
      );
    expect((await match("/static/js/app.js.map?v=1")).proxyRuleMatch).toEqual({
      path: "/static/js/app.js.map",
      canonical: true,
      reason: null,
      exempt: true,
      rule: { id: b.id, pattern: "/static/**/*.map" },
    });
    expect((await match("/static/../admin")).proxyRuleMatch).toEqual({
      path: "/static/../admin",
      canonical: false,
      reason: "holds a dot segment",
      exempt: false,
      rule: null,
    });

    const updated = await gqlOk(
      t,
      `mutation($id: ID!) { updateProxyRule(input: {id: $id, enabled: false}) { ${fields} } }`,
      { id: b.id },
    );
    expect(updated.updateProxyRule).toMatchObject({ id: b.id, enabled: false });
    expect((await match("/static/app.js.map")).proxyRuleMatch.rule.id).toBe(a.id);
    const invalid = await gql(t, `mutation { createProxyRule(input: {pattern: "no-slash"}) { id } }`);
    expect(invalid.errors?.[0]?.extensions).toMatchObject({ status: 422 });

    for (const rule of [a, b]) {
      const del = await gqlOk(t, "mutation($id: ID!) { deleteProxyRule(id: $id) { id deleted } }", {
        id: rule.id,
      });
      expect(del.deleteProxyRule.deleted).toBe(true);
    }
    expect((await match("/static/x")).proxyRuleMatch.exempt).toBe(false);
    const rest = await clients(t).dash.get("/dashboard/api/proxy-rules/test?path=/health");
    expect(rest.body).toEqual({ path: "/health", canonical: true, reason: null, exempt: false, rule: null });
  });

  it("runtime config: read, update, and out-of-range values change nothing (422 naming the field)", async () => {
    const before = (await gqlOk(t, "{ runtimeConfig { risk_threshold fail_mode } }")).runtimeConfig;
    const updated = await gqlOk(
      t,
      "mutation { updateRuntimeConfig(input: {risk_threshold: 0.7, fail_mode: closed}) { risk_threshold fail_mode } }",
    );
    expect(updated.updateRuntimeConfig).toEqual({ risk_threshold: 0.7, fail_mode: "closed" });
    const bad = await gql(
      t,
      "mutation { updateRuntimeConfig(input: {risk_threshold: 1.5, consensus_threshold: 0.9}) { risk_threshold } }",
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ status: 422 });
    expect(JSON.stringify(bad.errors?.[0]?.extensions?.detail)).toContain("risk_threshold");
    const after = (await gqlOk(t, "{ runtimeConfig { risk_threshold consensus_threshold } }")).runtimeConfig;
    expect(after.risk_threshold).toBe(0.7);
    expect(after.consensus_threshold).not.toBe(0.9);
    await gqlOk(
      t,
      "mutation($r: Float) { updateRuntimeConfig(input: {risk_threshold: $r, fail_mode: open}) { risk_threshold } }",
      { r: before.risk_threshold },
    );
  });
});
