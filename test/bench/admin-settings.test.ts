/**
 * Bench administration and settings through real HTTP: users list, role change, deletion (the user's data goes
 * with them), per-user limits, stats, system health, the audit log (who, when, from where); phase10 settings,
 * onboarding, /healthz, robots.txt, sitemap.xml, and the settings backup/restore (no secret out, none in,
 * validated before anything is stored).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";

let t: TestServer;
let admin: SignedInUser;
let user: SignedInUser;

beforeAll(async () => {
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  admin = await registerUser(t, "boss@example.com");
  user = await registerUser(t, "worker@example.com");
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe("admin", () => {
  it("lists users; changes roles (not its own); refuses non-admins", async () => {
    const list = await request(t, "GET", "/api/admin/users", { token: admin.token });
    expect(list.status).toBe(200);
    expect(list.body.users).toEqual([
      {
        id: admin.id,
        email: "boss@example.com",
        role: "admin",
        created_at: expect.any(String),
        last_login: expect.any(String),
        benchmark_count: 0,
        key_count: 0,
      },
      {
        id: user.id,
        email: "worker@example.com",
        role: "user",
        created_at: expect.any(String),
        last_login: expect.any(String),
        benchmark_count: 0,
        key_count: 0,
      },
    ]);
    expect((await request(t, "GET", "/api/admin/users", { token: user.token })).status).toBe(403);
    const self = await request(t, "PUT", `/api/admin/users/${admin.id}/role`, {
      token: admin.token,
      body: { role: "user" },
    });
    expect(self.status).toBe(400);
    expect(self.body.error).toBe("Cannot change your own role");
    const bad = await request(t, "PUT", `/api/admin/users/${user.id}/role`, {
      token: admin.token,
      body: { role: "root" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(["body", "role"]);
    const promote = await request(t, "PUT", `/api/admin/users/${user.id}/role`, {
      token: admin.token,
      body: { role: "admin" },
    });
    expect(promote.body).toEqual({ status: "ok" });
    // The role applies at once, with the token the user already holds.
    expect((await request(t, "GET", "/api/admin/stats", { token: user.token })).status).toBe(200);
    await request(t, "PUT", `/api/admin/users/${user.id}/role`, {
      token: admin.token,
      body: { role: "user" },
    });
    expect((await request(t, "GET", "/api/admin/stats", { token: user.token })).status).toBe(403);
    const unknown = await request(t, "PUT", `/api/admin/users/3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69/role`, {
      token: admin.token,
      body: { role: "user" },
    });
    expect(unknown.status).toBe(404);
  });

  it("stores per-user limits and exposes them to the runner", async () => {
    const before = await request(t, "GET", `/api/admin/users/${user.id}/rate-limit`, { token: admin.token });
    expect(before.body).toEqual({ benchmarks_per_hour: 2000, max_concurrent: 1, max_runs_per_benchmark: 20 });
    const set = await request(t, "PUT", `/api/admin/users/${user.id}/rate-limit`, {
      token: admin.token,
      body: { benchmarks_per_hour: 5 },
    });
    expect(set.body).toEqual({ status: "ok" });
    expect(await t.server.deps.services.benchAdmin.rateLimitFor(user.id)).toEqual({
      benchmarksPerHour: 5,
      maxConcurrent: 1,
      maxRunsPerBenchmark: 20,
    });
    const bad = await request(t, "PUT", `/api/admin/users/${user.id}/rate-limit`, {
      token: admin.token,
      body: { max_runs_per_benchmark: 0 },
    });
    expect(bad.status).toBe(422);
  });

  it("reports stats and system health", async () => {
    await request(t, "PUT", "/api/keys", {
      token: user.token,
      body: { provider_key: "openai", value: "sk-user-key-12345678" },
    });
    const stats = await request(t, "GET", "/api/admin/stats", { token: admin.token });
    expect(stats.body).toEqual({
      benchmarks_24h: 0,
      benchmarks_7d: 0,
      benchmarks_30d: 0,
      top_users: [],
      keys_by_provider: [{ provider: "openai", user_count: 1 }],
      total_users: 2,
    });
    const system = await request(t, "GET", "/api/admin/system", { token: admin.token });
    expect(system.body).toEqual({
      db_size_mb: expect.any(Number),
      results_size_mb: expect.any(Number), // the empty tables' pages and indexes
      results_count: 0,
      benchmark_active: 0,
      process_uptime_s: expect.any(Number),
    });
    expect(system.body.db_size_mb).toBeGreaterThan(0);
    expect(system.body.results_size_mb).toBeLessThan(1);
  });

  it("deletes a user with all their data; the audit log keeps who did what, when and from where", async () => {
    const doomed = await registerUser(t, "doomed@example.com");
    await request(t, "POST", "/api/config/provider", {
      token: doomed.token,
      body: { provider_key: "mine", api_key: "sk-doomed-abcdefgh" },
    });
    await request(t, "POST", "/api/auth/cli-token", { token: doomed.token });
    const self = await request(t, "DELETE", `/api/admin/users/${admin.id}`, { token: admin.token });
    expect(self.status).toBe(400);
    const del = await request(t, "DELETE", `/api/admin/users/${doomed.id}`, {
      token: admin.token,
      headers: { "x-forwarded-for": "203.0.113.7", "user-agent": "admin-console/1.0" },
    });
    expect(del.body).toEqual({ status: "ok" });
    const prisma = t.server.deps.db.prisma;
    for (const count of [
      prisma.benchUser.count({ where: { id: doomed.id } }),
      prisma.benchProvider.count({ where: { userId: doomed.id } }),
      prisma.benchProviderKey.count({ where: { userId: doomed.id } }),
      prisma.benchRefreshToken.count({ where: { userId: doomed.id } }),
      prisma.benchCliToken.count({ where: { userId: doomed.id } }),
      prisma.benchPromptTemplate.count({ where: { userId: doomed.id } }),
      prisma.benchUserSettings.count({ where: { userId: doomed.id } }),
    ])
      expect(await count).toBe(0);
    expect((await request(t, "GET", "/api/auth/me", { token: doomed.token })).status).toBe(401);
    expect((await request(t, "DELETE", `/api/admin/users/${doomed.id}`, { token: admin.token })).status).toBe(
      404,
    );

    const audit = await request(t, "GET", "/api/admin/audit?action=user_deleted", { token: admin.token });
    expect(audit.body.entries).toEqual([
      {
        id: expect.any(Number),
        timestamp: expect.any(String),
        user_id: admin.id,
        username: "boss@example.com",
        action: "user_deleted",
        resource_type: "user",
        resource_id: doomed.id,
        detail: "doomed@example.com",
        ip_address: "203.0.113.7",
        user_agent: "admin-console/1.0",
      },
    ]);
    const all = await request(t, "GET", "/api/admin/audit?limit=1000", { token: admin.token });
    const actions = new Set(all.body.entries.map((e: { action: string }) => e.action));
    for (const action of [
      "register",
      "role_changed",
      "provider_key_set",
      "rate_limit_changed",
      "cli_token_created",
      "user_deleted",
    ])
      expect({ action, logged: actions.has(action) }).toEqual({ action, logged: true });
    const byUser = await request(t, "GET", `/api/admin/audit?user=worker`, { token: admin.token });
    expect(byUser.body.entries.length).toBeGreaterThan(0);
    expect(byUser.body.entries.every((e: { username: string }) => e.username === "worker@example.com")).toBe(
      true,
    );
    // No audit entry holds a key.
    expect(all.text).not.toContain("sk-doomed");
    expect(all.text).not.toContain("sk-user-key");
    const paged = await request(t, "GET", "/api/admin/audit?limit=2&offset=1", { token: admin.token });
    expect(paged.body.entries).toEqual(all.body.entries.slice(1, 3));
  });
});

describe("settings", () => {
  it("phase10 merges sections over the defaults and answers {ok: true}", async () => {
    const before = await request(t, "GET", "/api/settings/phase10", { token: user.token });
    expect(before.body.judge).toEqual({
      enabled: false,
      model_id: "",
      mode: "post_eval",
      temperature: 0,
      max_tokens: 4096,
    });
    const put = await request(t, "PUT", "/api/settings/phase10", {
      token: user.token,
      body: { judge: { enabled: true, model_id: "gpt-4o" } },
    });
    expect(put.body).toEqual({ ok: true });
    const after = await request(t, "GET", "/api/settings/phase10", { token: user.token });
    expect(after.body.judge).toEqual({ ...before.body.judge, enabled: true, model_id: "gpt-4o" });
    expect(after.body.param_tuner).toEqual(before.body.param_tuner);
    const bad = await request(t, "PUT", "/api/settings/phase10", {
      token: user.token,
      body: { prompt_tuner: { mode: "wild" } },
    });
    expect(bad.status).toBe(422);
  });

  it("onboarding status and completion", async () => {
    expect((await request(t, "GET", "/api/onboarding/status", { token: user.token })).body).toEqual({
      completed: false,
    });
    expect((await request(t, "POST", "/api/onboarding/complete", { token: user.token })).body).toEqual({
      status: "ok",
    });
    expect((await request(t, "GET", "/api/onboarding/status", { token: user.token })).body).toEqual({
      completed: true,
    });
  });

  it("backs up settings without secrets and restores them into another account, validated first", async () => {
    await request(t, "POST", "/api/config/provider", {
      token: user.token,
      body: {
        provider_key: "lab",
        display_name: "Lab box",
        api_base: "http://10.0.0.5:8000/v1",
        model_id_prefix: "lab",
        api_key: "sk-lab-secret-value",
        timeout_s: 200,
      },
    });
    await request(t, "POST", "/api/config/model", {
      token: user.token,
      body: { provider_key: "lab", id: "mistral", context_window: 32768, input_cost_per_mtok: 0.2 },
    });
    const backup = await request(t, "GET", "/api/export/settings", { token: user.token });
    expect(backup.status).toBe(200);
    expect(backup.headers.get("content-disposition")).toContain("attachment");
    expect(backup.text).not.toContain("sk-lab-secret-value");
    expect(backup.text).not.toContain("sk-user-key");
    expect(backup.body).toMatchObject({
      export_version: 1,
      exported_at: expect.any(String),
      defaults: { max_tokens: 512 },
    });
    expect(backup.body.providers.lab).toMatchObject({
      display_name: "Lab box",
      api_base: "http://10.0.0.5:8000/v1",
      timeout_s: 200,
    });
    expect(backup.body.providers.lab.models[0]).toMatchObject({
      model_id: "lab/mistral",
      context_window: 32768,
      input_cost_per_mtok: 0.2,
    });
    expect(backup.body.api_keys).toContainEqual({ provider_key: "lab", key_name: "" });

    const other = await registerUser(t);
    const prisma = t.server.deps.db.prisma;
    const countBefore = await prisma.benchProvider.count({ where: { userId: other.id } });
    // Invalid somewhere deep: nothing is stored.
    const broken = structuredClone(backup.body);
    broken.providers.lab.models[0].context_window = -5;
    const refused = await request(t, "POST", "/api/import/settings", { token: other.token, body: broken });
    expect(refused.status).toBe(422);
    expect(refused.body.detail[0].loc).toEqual(["body", "providers", "lab", "models", 0, "context_window"]);
    expect(await prisma.benchProvider.count({ where: { userId: other.id } })).toBe(countBefore);
    const noVersion = await request(t, "POST", "/api/import/settings", {
      token: other.token,
      body: { providers: {} },
    });
    expect(noVersion.status).toBe(422);

    // A key smuggled into the backup is ignored.
    const smuggled = structuredClone(backup.body);
    smuggled.providers.lab.api_key = "sk-smuggled-key";
    const restored = await request(t, "POST", "/api/import/settings", { token: other.token, body: smuggled });
    expect(restored.body).toEqual({
      status: "ok",
      providers_imported: 4,
      providers_updated: 3,
      providers_added: 1,
    });
    const config = await request(t, "GET", "/api/config", { token: other.token });
    expect(config.body.providers["Lab box"]).toMatchObject({
      provider_key: "lab",
      api_key: "",
      timeout_s: 200,
    });
    expect(config.body.providers["Lab box"].models[0].model_id).toBe("lab/mistral");
    expect(await prisma.benchProviderKey.count({ where: { userId: other.id } })).toBe(0);
    const phase10 = await request(t, "GET", "/api/settings/phase10", { token: other.token });
    expect(phase10.body.judge.model_id).toBe("gpt-4o");
  });
});

describe("health and SEO", () => {
  it("serves /healthz, robots.txt and sitemap.xml to anyone", async () => {
    const health = await request(t, "GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok", version: t.server.deps.version });
    const robots = await request(t, "GET", "/robots.txt");
    expect(robots.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(robots.text).toContain("Disallow: /api/");
    expect(robots.text).toMatch(/Sitemap: http:\/\/127\.0\.0\.1:\d+\/sitemap\.xml/);
    const sitemap = await request(t, "GET", "/sitemap.xml");
    expect(sitemap.headers.get("content-type")).toMatch(/^application\/xml/);
    expect(sitemap.text).toContain("<urlset");
    const spoofed = await request(t, "GET", "/sitemap.xml", { headers: { host: 'evil.example"><script>' } });
    expect(spoofed.text).not.toContain("<script>");
  });

  it("answers unknown bench paths with {error, detail}", async () => {
    const res = await request(t, "GET", "/api/config/nope", { token: user.token });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe(res.body.detail);
  });
});
