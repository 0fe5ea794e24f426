import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalPath, compileRule, patternProblem } from "../../src/modules/guard/proxy-rules/matcher.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, deleteDefaultProxyRules, UNKNOWN_UUID } from "./helpers.js";

let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = await startTestServer();
  b = await startTestServer({ sharedWith: a });
  // These tests read the whole list: start from none (the defaults are tested in proxy/decision.test.ts).
  await deleteDefaultProxyRules(a);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const RULES = "/dashboard/api/proxy-rules";

describe("proxy rules (/dashboard/api/proxy-rules)", () => {
  it("creates the documented example (201) with defaults, and lists rules by priority", async () => {
    const dash = clients(a).dash;
    const health = await dash.post(RULES, { pattern: "/health", match_type: "exact", priority: 100 });
    expect(health.status).toBe(201);
    expect(health.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      pattern: "/health",
      match_type: "exact",
      priority: 100,
      enabled: true,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const publicRule = await dash.post(RULES, { pattern: "/public/", priority: 50 });
    expect(publicRule.body).toMatchObject({ match_type: "prefix", priority: 50, enabled: true });
    const docs = await dash.post(RULES, { pattern: "/api/v*/docs", match_type: "glob" });
    expect(docs.body).toMatchObject({ match_type: "glob", priority: 0, enabled: true });

    const list = await dash.get(RULES);
    expect(list.status).toBe(200);
    expect(list.body.map((r: { pattern: string }) => r.pattern)).toEqual([
      "/health",
      "/public/",
      "/api/v*/docs",
    ]);
    expect(list.body[0]).toEqual(health.body);
  });

  it("matches paths with the compiled rules, in priority order, on every instance", async () => {
    for (const t of [a, b]) {
      const rules = t.server.deps.services.proxyRules;
      await expect
        .poll(() => rules.matchRule("/health")?.pattern, { timeout: 2000, interval: 20 })
        .toBe("/health");
      expect(rules.matchRule("/health/deep")).toBeNull();
      expect(rules.matchRule("/public/css/site.css")?.pattern).toBe("/public/");
      expect(rules.matchRule("/public")).toBeNull();
      expect(rules.matchRule("/api/v1/docs")?.pattern).toBe("/api/v*/docs");
      expect(rules.matchRule("/api/v2/docs?x=1")?.pattern).toBe("/api/v*/docs");
      expect(rules.matchRule("/api/v1/x/docs")).toBeNull();
      expect(rules.matchRule("/admin")).toBeNull();
      // Dot segments cannot smuggle a path under an exempt prefix.
      expect(rules.matchRule("/public/../admin")).toBeNull();
      expect(rules.matchRule("/public/%2e%2e/admin")).toBeNull();
    }
  });

  it("updates partially (PATCH), and the change applies on every instance", async () => {
    const dash = clients(a).dash;
    const rule = (await dash.post(RULES, { pattern: "/static/", priority: 10 })).body;
    await expect
      .poll(() => b.server.deps.services.proxyRules.matchRule("/static/a.js")?.id, {
        timeout: 2000,
        interval: 20,
      })
      .toBe(rule.id);

    const disabled = await dash.patch(`${RULES}/${rule.id}`, { enabled: false });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toEqual({ ...rule, enabled: false, updated_at: expect.any(String) });
    expect(a.server.deps.services.proxyRules.matchRule("/static/a.js")).toBeNull();
    await expect
      .poll(() => b.server.deps.services.proxyRules.matchRule("/static/a.js"), {
        timeout: 2000,
        interval: 20,
      })
      .toBeNull();

    const moved = await dash.patch(`${RULES}/${rule.id}`, {
      enabled: true,
      pattern: "/assets/**",
      match_type: "glob",
      priority: 500,
    });
    expect(moved.body).toMatchObject({
      pattern: "/assets/**",
      match_type: "glob",
      priority: 500,
      enabled: true,
    });
    expect((await dash.get(RULES)).body[0].id).toBe(rule.id);
    expect(a.server.deps.services.proxyRules.matchRule("/assets/img/x.png")?.id).toBe(rule.id);

    const unchanged = await dash.patch(`${RULES}/${rule.id}`, {});
    expect(unchanged.status).toBe(200);
    expect(unchanged.body).toMatchObject({ pattern: "/assets/**", priority: 500 });
  });

  it("deletes (204) immediately, on every instance", async () => {
    const dash = clients(a).dash;
    const rule = (await dash.post(RULES, { pattern: "/gone", match_type: "exact", priority: 7 })).body;
    await expect
      .poll(() => b.server.deps.services.proxyRules.matchRule("/gone")?.id, { timeout: 2000, interval: 20 })
      .toBe(rule.id);
    const res = await clients(b).dash.del(`${RULES}/${rule.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect(b.server.deps.services.proxyRules.matchRule("/gone")).toBeNull();
    await expect
      .poll(() => a.server.deps.services.proxyRules.matchRule("/gone"), { timeout: 2000, interval: 20 })
      .toBeNull();
    expect((await dash.del(`${RULES}/${rule.id}`)).status).toBe(404);
    expect((await dash.get(RULES)).body.map((r: { id: string }) => r.id)).not.toContain(rule.id);
  });

  it("refuses bad input with 422 naming the field, and changes nothing", async () => {
    const dash = clients(a).dash;
    const before = (await dash.get(RULES)).body;
    const bad: [unknown, string][] = [
      [{}, "pattern"],
      [{ pattern: "health" }, "pattern"],
      [{ pattern: "" }, "pattern"],
      [{ pattern: "/a b" }, "pattern"],
      [{ pattern: "/a?b", match_type: "prefix" }, "pattern"],
      [{ pattern: "/api/[v1", match_type: "glob" }, "pattern"],
      [{ pattern: "/api/{a,b", match_type: "glob" }, "pattern"],
      [{ pattern: `/${"x".repeat(1024)}` }, "pattern"],
      [{ pattern: "/x", match_type: "regex" }, "match_type"],
      [{ pattern: "/x", priority: 1.5 }, "priority"],
      [{ pattern: "/x", priority: "high" }, "priority"],
      [{ pattern: "/x", priority: 10_000_000 }, "priority"],
      [{ pattern: "/x", enabled: "yes" }, "enabled"],
      // JSON bodies are not coerced: "false" must not silently become true, nor null become 0.
      [{ pattern: "/x", enabled: "false" }, "enabled"],
      [{ pattern: "/x", priority: null }, "priority"],
      [{ pattern: "/x", priority: "" }, "priority"],
    ];
    for (const [body, field] of bad) {
      const res = await dash.post(RULES, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.detail[0].loc, JSON.stringify(body)).toEqual(["body", field]);
    }
    const rule = before[0];
    const badPatches: [unknown, string][] = [
      [{ pattern: "nope" }, "pattern"],
      [{ match_type: "glob", pattern: "/[" }, "pattern"],
      [{ priority: "x" }, "priority"],
      [{ colour: "red" }, ""],
    ];
    for (const [body, field] of badPatches) {
      const res = await dash.patch(`${RULES}/${rule.id}`, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      if (field) expect(res.body.detail[0].loc).toEqual(["body", field]);
    }
    expect((await dash.get(RULES)).body).toEqual(before);

    expect((await dash.patch(`${RULES}/${UNKNOWN_UUID}`, { priority: 1 })).status).toBe(404);
    expect((await dash.patch(`${RULES}/${UNKNOWN_UUID}`, { priority: 1 })).body).toEqual({
      detail: "Proxy rule not found",
    });
    expect((await dash.del(`${RULES}/${UNKNOWN_UUID}`)).status).toBe(404);
    const malformed = await dash.patch(`${RULES}/zzz`, { priority: 1 });
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0].loc).toEqual(["path", "id"]);
  });

  it("requires the dashboard credentials", async () => {
    for (const [method, path] of [
      ["GET", RULES],
      ["POST", RULES],
      ["PATCH", `${RULES}/${UNKNOWN_UUID}`],
      ["DELETE", `${RULES}/${UNKNOWN_UUID}`],
    ] as const) {
      const res = await call(a, path, {
        method,
        headers: { "content-type": "application/json" },
        body: method === "POST" || method === "PATCH" ? "{}" : undefined,
      });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body).toEqual({ detail: "Unauthorized" });
    }
  });
});

describe("rule matching", () => {
  const rule = (pattern: string, matchType: "exact" | "prefix" | "glob") =>
    compileRule({ id: "r", pattern, matchType, priority: 0, enabled: true });

  it("implements exact, prefix and glob", () => {
    expect(rule("/health", "exact").test("/health")).toBe(true);
    expect(rule("/health", "exact").test("/healthz")).toBe(false);
    expect(rule("/public/", "prefix").test("/public/x")).toBe(true);
    expect(rule("/a/*", "glob").test("/a/b")).toBe(true);
    expect(rule("/a/*", "glob").test("/a/b/c")).toBe(false);
    expect(rule("/a/**", "glob").test("/a/b/c")).toBe(true);
    expect(rule("/img/*.{png,jpg}", "glob").test("/img/x.jpg")).toBe(true);
    expect(rule("/v[0-9]/x", "glob").test("/v7/x")).toBe(true);
  });

  it("matches the percent-decoded path, and only a path every upstream reads the same way", () => {
    expect(canonicalPath("/public/x.css")).toEqual({ canonical: true, path: "/public/x.css" });
    expect(canonicalPath("/")).toEqual({ canonical: true, path: "/" });
    expect(canonicalPath("/blog/")).toEqual({ canonical: true, path: "/blog/" });
    expect(canonicalPath("/%70ublic/caf%C3%A9")).toEqual({ canonical: true, path: "/public/café" });
    expect(canonicalPath("/.well-known/security.txt")).toEqual({
      canonical: true,
      path: "/.well-known/security.txt",
    });
    expect(canonicalPath("/a;jsessionid=1/b")).toEqual({ canonical: true, path: "/a;jsessionid=1/b" });
    const refused: [string, RegExp][] = [
      ["/public/..%2fprivate.txt", /encoded \//],
      ["/public/..%2Fprivate.txt", /encoded \//],
      ["/public/..%5cprivate.txt", /encoded/],
      ["/public/%2e%2e/private.txt", /dot segment/],
      ["/public/%2E./private.txt", /dot segment/],
      ["/public/../private.txt", /dot segment/],
      ["/public/./x", /dot segment/],
      ["/public/.../x", /dot segment/],
      ["/public/..;/private.txt", /dot segment/],
      ["/public//../private.txt", /empty segment/],
      ["//public/x", /empty segment/],
      ["/public/;x/y", /empty segment/],
      ["/public/..%252fprivate.txt", /encoded twice/],
      ["/public/%25%32%65%25%32%65/x", /encoded twice/],
      ["/public/%c0%af../private.txt", /invalid UTF-8/],
      ["/public/%e0%80%af", /invalid UTF-8/],
      ["/public/%zz", /malformed/],
      ["/public\\..\\private.txt", /backslash/],
      ["/public/x%00", /control/],
      ["/public/private.txt.", /dot or space/],
      ["/public/x%20", /dot or space/],
      ["/public/x#/../../private.txt", /#/],
    ];
    for (const [path, reason] of refused) {
      const verdict = canonicalPath(path);
      expect(verdict.canonical, path).toBe(false);
      if (!verdict.canonical) expect(verdict.reason, path).toMatch(reason);
    }
  });

  it("explains what is wrong with a pattern", () => {
    expect(patternProblem("/ok/**", "glob")).toBeNull();
    expect(patternProblem("x", "exact")).toMatch(/start with \//);
    expect(patternProblem("/[a", "glob")).toMatch(/invalid glob/);
  });
});
