// The GraphQL dashboard schema: authentication (Basic, session cookie, CSRF header), limits, and every
// dashboard query and mutation against a real server, with challenge traffic produced by real visitors.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answersFor, configure, seed, type Seeded, visitor } from "../guard/challenge-helpers.js";
import { call, clients, send } from "../guard/helpers.js";
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

const CREATE = 'mutation { createDataset(name: "via cookie", modality: text) { id } }';

describe("authentication", () => {
  it("refuses a query without credentials, with wrong Basic credentials, and with an API key", async () => {
    const none = await gql(t, "{ metrics { total_challenges } }", {}, {});
    expect(none.errors?.[0]?.extensions).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
    expect(none.data).toBeNull();

    const wrong = `Basic ${Buffer.from("admin:not-the-password").toString("base64")}`;
    const bad = await gql(t, "{ datasets { id } }", {}, { authorization: wrong });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ status: 401 });

    const { raw_key } = (await clients(t).dash.post("/dashboard/api/apikeys", { label: "not-dash" })).body;
    const keyed = await gql(t, "{ apiKeys { id } }", {}, { "x-hiveguard-key": raw_key });
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
    const datasets = await gqlOk(t, "{ datasets { name } }");
    expect(datasets.datasets.map((d: any) => d.name)).not.toContain("via cookie");

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
  it("refuses queries deeper than the depth limit, and too many aliases", async () => {
    const deep = `{ ${"__schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } }"} }`;
    const tooDeep = await gql(t, deep);
    expect(tooDeep.errors?.[0]?.message).toMatch(/depth/i);
    const aliases = Array.from({ length: 25 }, (_, i) => `a${i}: metrics { total_challenges }`).join(" ");
    const tooMany = await gql(t, `{ ${aliases} }`);
    expect(tooMany.errors?.[0]?.message).toMatch(/alias/i);
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
        `{ datasets { id name item_count progress { ground_truth unlabeled labeled revalidating graduated needs_review } } }`,
      );
      expect(data.datasets.length).toBeGreaterThan(1);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toHaveLength(data.datasets.length);
      const traffic = data.datasets.find((d: any) => d.id === s.datasetId);
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
      `query($id: String!) { dataset(id: $id) { name progress { ground_truth } } datasetProgress(ids: [$id]) { dataset_id revalidating } }`,
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
      'mutation { createDataset(name: "uploads", modality: image, challenge_type: grid_select, prompt: "Pick the cats") { id item_count challenge_type choices } }',
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
      "mutation($id: String!, $items: [DatasetItemUploadInput!]!) { uploadDatasetItems(id: $id, items: $items) { created item_ids } }",
      { id, items },
    );
    expect(up.uploadDatasetItems.created).toBe(2);
    const after = await gqlOk(
      t,
      `query($id: String!) { dataset(id: $id) { item_count progress { ground_truth unlabeled } } }`,
      { id },
    );
    expect(after.dataset).toEqual({ item_count: 2, progress: { ground_truth: 1, unlabeled: 1 } });

    const bad = await gql(
      t,
      "mutation($id: String!, $items: [DatasetItemUploadInput!]!) { uploadDatasetItems(id: $id, items: $items) { created } }",
      {
        id,
        items: [{ data_ref: "x", ground_truth: "yes" }],
      },
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ status: 422 });
    expect(JSON.stringify(bad.errors?.[0]?.extensions?.detail)).toContain("ground_truth");
    const rest = await clients(t).dash.post(`/dashboard/api/item-datasets/${id}/items`, {
      items: [{ data_ref: "c" }],
    });
    expect(rest.status).toBe(201);

    const deleted = await gqlOk(t, "mutation($id: String!) { deleteDataset(id: $id) { id deleted } }", {
      id,
    });
    expect(deleted.deleteDataset).toEqual({ id, deleted: true });
    const gone = await gql(t, "query($id: String!) { dataset(id: $id) { id } }", { id });
    expect(gone.errors?.[0]?.extensions).toMatchObject({ status: 404 });
  });

  it("labels with paging and filters (dataset, minimum confidence)", async () => {
    const q = `query($dataset_id: String, $min_confidence: Float, $limit: Int, $offset: Int) {
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
      `mutation($datasets: [String!]) { createApiKey(label: "gql", datasets: $datasets, sample_rate: 0.5) { id label key_prefix raw_key datasets sample_rate } }`,
      { datasets: [s.datasetId] },
    );
    const key = created.createApiKey;
    expect(key.raw_key.startsWith(key.key_prefix)).toBe(true);
    expect(key).toMatchObject({ label: "gql", datasets: [s.datasetId], sample_rate: 0.5 });
    const listed = await gqlOk(t, "{ apiKeys { id label key_prefix } }");
    expect(listed.apiKeys).toContainEqual({ id: key.id, label: "gql", key_prefix: key.key_prefix });
    expect(JSON.stringify(listed)).not.toContain(key.raw_key);
    expect((await clients(t).api(key.raw_key).get("/api/v1/data/items")).status).toBe(200);

    const revoked = await gqlOk(t, "mutation($id: String!) { revokeApiKey(id: $id) { id deleted } }", {
      id: key.id,
    });
    expect(revoked.revokeApiKey).toEqual({ id: key.id, deleted: true });
    expect((await gqlOk(t, "{ apiKeys { id } }")).apiKeys).not.toContainEqual({ id: key.id });
    expect((await clients(t).api(key.raw_key).get("/api/v1/data/items")).status).toBe(401);
  });

  it("proxy rules: create, update, test which rule matches a path, delete", async () => {
    const fields = "id pattern match_type priority enabled";
    const a = (
      await gqlOk(
        t,
        `mutation { createProxyRule(pattern: "/static/", match_type: prefix, priority: 10) { ${fields} } }`,
      )
    ).createProxyRule;
    const b = (
      await gqlOk(
        t,
        `mutation { createProxyRule(pattern: "/static/**/*.map", match_type: glob, priority: 20) { ${fields} } }`,
      )
    ).createProxyRule;
    expect((await gqlOk(t, "{ proxyRules { id } }")).proxyRules.map((r: any) => r.id)).toEqual([b.id, a.id]);

    const match = (path: string) =>
      gqlOk(t, `query($path: String!) { proxyRuleMatch(path: $path) { path exempt rule { id pattern } } }`, {
        path,
      });
    expect((await match("/static/js/app.js.map?v=1")).proxyRuleMatch).toEqual({
      path: "/static/js/app.js.map",
      exempt: true,
      rule: { id: b.id, pattern: "/static/**/*.map" },
    });
    expect((await match("/static/../admin")).proxyRuleMatch).toEqual({
      path: "/admin",
      exempt: false,
      rule: null,
    });

    const updated = await gqlOk(
      t,
      `mutation($id: String!) { updateProxyRule(id: $id, enabled: false) { ${fields} } }`,
      { id: b.id },
    );
    expect(updated.updateProxyRule).toMatchObject({ id: b.id, enabled: false });
    expect((await match("/static/app.js.map")).proxyRuleMatch.rule.id).toBe(a.id);
    const invalid = await gql(t, `mutation { createProxyRule(pattern: "no-slash") { id } }`);
    expect(invalid.errors?.[0]?.extensions).toMatchObject({ status: 422 });

    for (const rule of [a, b]) {
      const del = await gqlOk(t, "mutation($id: String!) { deleteProxyRule(id: $id) { id deleted } }", {
        id: rule.id,
      });
      expect(del.deleteProxyRule.deleted).toBe(true);
    }
    expect((await match("/static/x")).proxyRuleMatch.exempt).toBe(false);
    const rest = await clients(t).dash.get("/dashboard/api/proxy-rules/test?path=/health");
    expect(rest.body).toEqual({ path: "/health", exempt: false, rule: null });
  });

  it("runtime config: read, update, and out-of-range values change nothing (422 naming the field)", async () => {
    const before = (await gqlOk(t, "{ runtimeConfig { risk_threshold fail_mode } }")).runtimeConfig;
    const updated = await gqlOk(
      t,
      "mutation { updateRuntimeConfig(risk_threshold: 0.7, fail_mode: closed) { risk_threshold fail_mode } }",
    );
    expect(updated.updateRuntimeConfig).toEqual({ risk_threshold: 0.7, fail_mode: "closed" });
    const bad = await gql(
      t,
      "mutation { updateRuntimeConfig(risk_threshold: 1.5, consensus_threshold: 0.9) { risk_threshold } }",
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ status: 422 });
    expect(JSON.stringify(bad.errors?.[0]?.extensions?.detail)).toContain("risk_threshold");
    const after = (await gqlOk(t, "{ runtimeConfig { risk_threshold consensus_threshold } }")).runtimeConfig;
    expect(after.risk_threshold).toBe(0.7);
    expect(after.consensus_threshold).not.toBe(0.9);
    await gqlOk(
      t,
      "mutation($r: Float) { updateRuntimeConfig(risk_threshold: $r, fail_mode: open) { risk_threshold } }",
      { r: before.risk_threshold },
    );
  });
});
