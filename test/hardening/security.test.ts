/**
 * Security review, as tests (SECURITY.md points here): response headers of HiveGuard's own pages and APIs,
 * HSTS only over HTTPS (directly or from a trusted proxy), the token cookie's flags, open-redirect protection
 * of the hosted page's `return=`, constant-time comparisons of secrets, and no secret in the logs.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answersFor, configure, type Seeded, seed } from "../guard/challenge-helpers.js";
import { call, send } from "../guard/helpers.js";
import { http } from "../proxy/helpers.js";
import { FEATURE_COUNT } from "../../src/modules/guard/risk/features.js";
import { exportLogisticOnnx } from "../../src/modules/guard/risk/onnx.js";
import { createLogger } from "../../src/platform/logger.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** Everything the server logs, at the most verbose level. */
const logLines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString());
    done();
  },
});

let t: TestServer;
let seeded: Seeded;
const WRONG_PASSWORD = "wrong-password-4c1f9e7a2b";

beforeAll(async () => {
  t = await startTestServer({
    env: { TRUSTED_PROXIES: "loopback", LOG_LEVEL: "trace" },
    log: createLogger("trace", { destination: capture }),
  });
  await configure(t);
  seeded = await seed(t, { gt: 4, unknown: 4 });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const FRAME_ANCESTORS_NONE = /(^|;)\s*frame-ancestors 'none'\s*(;|$)/;

describe("headers of HiveGuard's own pages", () => {
  const auth = () => ({ authorization: t.dashboardAuth });

  async function page(path: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${t.url}${path}`, { headers: { accept: "text/html", ...headers } });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  }

  it("every page (challenge, docs, GraphiQL, tracking, demo site) forbids framing and sniffing", async () => {
    const run = await call(
      t,
      "/tracker/api/v1/projects/headers-audit/runs",
      send("POST", { name: "r1" }, auth()),
    );
    expect(run.status).toBe(201);
    const pages: [string, Record<string, string>][] = [
      ["/_hiveguard/challenge?return=/shop", {}],
      ["/docs/static/index.html", {}],
      ["/graphql", {}],
      ["/", auth()],
      ["/projects/headers-audit", auth()],
      ["/projects/headers-audit/runs/r1", auth()],
      ["/demo/page", { "user-agent": "no token" }],
    ];
    for (const [path, headers] of pages) {
      const res = await page(path, headers);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect({ path, html: res.headers.get("content-type")?.startsWith("text/html") }).toEqual({
        path,
        html: true,
      });
      expect({ path, csp: FRAME_ANCESTORS_NONE.test(csp) }).toEqual({ path, csp: true });
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    }
  });

  it("the challenge page keeps its strict script policy; the docs keep theirs, tightened to no framing", async () => {
    const challenge = (await page("/_hiveguard/challenge")).headers.get("content-security-policy")!;
    expect(challenge).toContain("default-src 'none'");
    expect(challenge).toContain("script-src 'self'");
    const docs = (await page("/docs/static/index.html")).headers.get("content-security-policy")!;
    expect(docs).toContain("script-src 'self'");
    expect(docs).not.toContain("frame-ancestors 'self'");
    // Swagger UI's components set style attributes, and the docs work on plain HTTP (issue 17, point 9).
    expect(docs).toContain("style-src 'self' 'unsafe-inline'");
    expect(docs).not.toContain("upgrade-insecure-requests");
  });

  it("JSON answers carry nosniff; errors HiveGuard writes on the proxy path do too", async () => {
    for (const path of ["/api/v1/health", "/dashboard/api/config", "/openapi.json", "/api/v1/nothing-here"]) {
      const res = await call(t, path);
      expect({ path, nosniff: res.headers.get("x-content-type-options") }).toEqual({
        path,
        nosniff: "nosniff",
      });
    }
    const challengeRequired = await http(`${t.url}/members`, { headers: { accept: "application/json" } });
    expect(challengeRequired.status).toBe(401);
    expect(challengeRequired.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("HSTS only over HTTPS: from a trusted proxy saying so, never on plain HTTP, never on a spoofed header", async () => {
    const viaTls = await call(t, "/api/v1/health", { headers: { "x-forwarded-proto": "https" } });
    expect(viaTls.headers.get("strict-transport-security")).toBe("max-age=31536000");
    const pageViaTls = await page("/_hiveguard/challenge", { "x-forwarded-proto": "https" });
    expect(pageViaTls.headers.get("strict-transport-security")).toBe("max-age=31536000");
    const plain = await call(t, "/api/v1/health");
    expect(plain.headers.get("strict-transport-security")).toBeNull();

    // A server that trusts no proxy ignores X-Forwarded-Proto from anyone.
    const untrusting = await startTestServer({ sharedWith: t });
    try {
      const spoofed = await call(untrusting, "/api/v1/health", { headers: { "x-forwarded-proto": "https" } });
      expect(spoofed.headers.get("strict-transport-security")).toBeNull();
    } finally {
      await untrusting.close();
    }
  });
});

describe("the token cookie", () => {
  async function solveHosted(headers: Record<string, string>) {
    const generated = await call(t, "/_hiveguard/challenge/generate", { headers });
    expect(generated.status).toBe(200);
    const submitted = await call(
      t,
      "/_hiveguard/challenge/submit",
      send("POST", answersFor(generated.body, seeded), headers),
    );
    expect(submitted.body).toEqual({ passed: true, token: null });
    return submitted.headers.get("set-cookie")!;
  }

  it("is HttpOnly, SameSite=Lax, Path=/, bounded by Max-Age, and never in the page's reach", async () => {
    const cookie = await solveHosted({ "user-agent": "cookie-test/1" });
    expect(cookie).toMatch(/^hiveguard_token=[\w-]+\.[\w-]+\.[\w-]+; /);
    const flags = cookie.split(";").map((part) => part.trim());
    expect(flags).toEqual(expect.arrayContaining(["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=300"]));
    expect(flags).not.toContain("Secure"); // plain HTTP: a Secure cookie would never come back
  });

  it("is Secure when the visitor came over HTTPS (trusted proxy)", async () => {
    const cookie = await solveHosted({ "user-agent": "cookie-test/2", "x-forwarded-proto": "https" });
    expect(cookie.split(";").map((part) => part.trim())).toContain("Secure");
  });
});

describe("cross-site requests with remembered Basic credentials (CSRF)", () => {
  const auth = () => ({ authorization: t.dashboardAuth });

  it("mutations take JSON only, so a cross-site form (no preflight) cannot send one", async () => {
    const formTypes = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"];
    for (const type of formTypes) {
      for (const [path, body] of [
        ["/dashboard/api/config", { risk_threshold: 0.11 }],
        ["/trpc/guard.config.update", { risk_threshold: 0.11 }],
        [
          "/graphql",
          { query: "mutation { configUpdate(input: {risk_threshold: 0.11}) { risk_threshold } }" },
        ],
      ] as const) {
        const res = await call(t, path, {
          method: "POST",
          headers: { ...auth(), "content-type": type },
          body: JSON.stringify(body),
        });
        expect({ path, type, refused: res.status >= 400 }).toEqual({ path, type, refused: true });
      }
    }
    const config = await call(t, "/dashboard/api/config", { headers: auth() });
    expect(config.body.risk_threshold).not.toBe(0.11);
  });

  it("the model upload takes application/octet-stream only and refuses cross-site browsers", async () => {
    const d = FEATURE_COUNT;
    const onnxModel = exportLogisticOnnx({
      mean: new Array(d).fill(0),
      scale: new Array(d).fill(1),
      weights: new Array(d).fill(0),
      intercept: 8,
    });
    const activeVersion = async () =>
      (await call(t, "/dashboard/api/ml/status", { headers: auth() })).body.model?.version ?? null;
    const before = await activeVersion();
    const post = (headers: Record<string, string>, body: BodyInit) =>
      call(t, "/dashboard/api/ml/models", { method: "POST", headers: { ...auth(), ...headers }, body });

    // What a cross-site HTML form can send: refused before the model is read, whatever it holds.
    const form = new FormData();
    form.append("file", new Blob([onnxModel as BlobPart]), "model.onnx");
    const formPosts: [Record<string, string>, BodyInit][] = [
      [{}, form],
      [{ "content-type": "application/x-www-form-urlencoded" }, Buffer.from(onnxModel)],
      [{ "content-type": "text/plain" }, Buffer.from(onnxModel)],
    ];
    for (const [headers, body] of formPosts) {
      const origins: Record<string, string>[] = [{ origin: "https://evil.example" }, {}];
      for (const origin of origins) {
        const res = await post({ ...origin, ...headers }, body);
        expect([403, 422]).toContain(res.status);
        // Even without an Origin (an old browser), a form body is not a model upload.
        if (!("origin" in origin)) expect(res.body.detail[0].loc).toEqual(["body"]);
      }
    }
    // Raw bytes with a cross-site Origin or Sec-Fetch-Site (fetch with no-cors cannot set this type,
    // but a browser extension or an old client might).
    const crossSite: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { "sec-fetch-site": "cross-site" },
      { origin: "null" },
    ];
    for (const headers of crossSite) {
      const res = await post(
        { ...headers, "content-type": "application/octet-stream" },
        Buffer.from(onnxModel),
      );
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ detail: "Cross-site upload refused" });
    }
    expect(await activeVersion()).toBe(before);

    // The CLI's and a script's upload still works.
    const ok = await post({ "content-type": "application/octet-stream" }, Buffer.from(onnxModel));
    expect(ok.status).toBe(201);
    expect(await activeVersion()).toBe(ok.body.version);
  });

  it("the multipart artifact upload refuses cross-site browsers and still takes the SDK's uploads", async () => {
    expect(
      (await call(t, "/tracker/api/v1/projects/csrf/runs", send("POST", { name: "r" }, auth()))).status,
    ).toBe(201);
    const upload = (headers: Record<string, string>) => {
      const form = new FormData();
      form.append("file", new Blob(["weights"]), "model.bin");
      return call(t, "/tracker/api/v1/projects/csrf/runs/r/artifacts", {
        method: "POST",
        headers: { ...auth(), ...headers },
        body: form,
      });
    };
    const crossSite: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { "sec-fetch-site": "cross-site" },
      { origin: "null" },
    ];
    for (const headers of crossSite) {
      const refused = await upload(headers);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ detail: "Cross-site upload refused" });
    }
    expect((await upload({})).status).toBe(201);
    expect((await upload({ origin: t.url, "sec-fetch-site": "same-origin" })).status).toBe(201);
  });
});

describe("open-redirect protection of return=", () => {
  const dataReturn = async (value: string) => {
    const res = await call(t, `/_hiveguard/challenge?return=${encodeURIComponent(value)}`);
    expect(res.status).toBe(200);
    return /data-return="([^"]*)"/.exec(res.text)![1]!.replaceAll(/&amp;|&#38;/g, "&");
  };

  it("keeps same-origin paths and turns everything else into /", async () => {
    expect(await dataReturn("/shop/cart?item=1&x=2#top")).toBe("/shop/cart?item=1&x=2#top");
    for (const evil of [
      "//evil.example/",
      "///evil.example/",
      "/\\evil.example",
      "\\\\evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      " //evil.example",
      "https://evil.example/",
      "HTTPS://evil.example/",
      "javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "evil.example",
      "http:/evil.example",
      "/%09/evil.example",
      // Paths that become `//evil.example` only once dot segments are resolved.
      "/..//evil.example",
      "/./\\evil.example",
      "/x/..//evil.example",
      "/x/../..//evil.example/path?q=1",
      "/.//evil.example",
      "/%2e%2e//evil.example",
    ]) {
      const kept = await dataReturn(evil);
      // Whatever is kept must stay on this origin once a browser resolves it.
      const resolved = new URL(kept, "https://hiveguard.test/");
      expect({ evil, origin: resolved.origin }).toEqual({ evil, origin: "https://hiveguard.test" });
      expect(kept.startsWith("/")).toBe(true);
      expect(kept.startsWith("//")).toBe(false);
    }
  });

  it("the proxy's redirect to the challenge page carries a path that stays same-origin too", async () => {
    const res = await http(`${t.url}//evil.example/login`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(302);
    const location = res.headers.location!;
    expect(location.startsWith("/_hiveguard/challenge?return=")).toBe(true);
    const back = new URL(location, "https://hiveguard.test/").searchParams.get("return")!;
    expect(new URL(await dataReturn(back), "https://hiveguard.test/").origin).toBe("https://hiveguard.test");
  });
});

describe("constant-time comparisons (source audit)", () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (name === "generated") return [];
      return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
    });

  it("no secret is compared with === / !== (passwords, key hashes, token subjects, GT answers)", () => {
    const risky =
      /\b(password|passwd|secret|secretKey|keyHash|key_hash|rawKey|raw_key|token|sub|digest|hmac|signature)\b\s*[!=]==(?!\s*(undefined|null|""|''|"string"))|[!=]==\s*[\w.]*\b(password|secret|keyHash|rawKey|signature|digest|hmac)\b/;
    const offenders: string[] = [];
    for (const file of files("src")) {
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, index) => {
          if (risky.test(line) && !/typeof/.test(line))
            offenders.push(`${file}:${index + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });

  it("the places that compare secrets use timingSafeEqual", () => {
    const uses = (file: string) => readFileSync(file, "utf8");
    expect(uses("src/platform/auth.ts")).toMatch(/timingSafeEqual/);
    expect(uses("src/platform/auth.ts")).toMatch(/safeEqual\(given\??\.password/);
    expect(uses("src/modules/guard/apikeys/service.ts")).toMatch(/timingSafeEqual/);
    expect(uses("src/modules/guard/challenges/token.ts")).toMatch(/timingSafeEqual|safeEqual/);
    expect(uses("src/modules/guard/challenges/answers.ts")).toMatch(/timingSafeEqual|safeEqual/);
  });
});

describe("secrets in logs", () => {
  it("a run with wrong and right credentials, API keys, tokens and cookies logs none of them", async () => {
    const secrets: string[] = [t.shared.dashboardPassword, t.shared.secretKey, WRONG_PASSWORD, seeded.key];
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    secrets.push(basic("admin", WRONG_PASSWORD).slice(6), t.dashboardAuth.slice(6));

    // Dashboard: wrong, then right credentials (from addresses of their own, so nothing gets throttled).
    for (let i = 0; i < 3; i++) {
      await call(t, "/dashboard/api/config", {
        headers: { authorization: basic("admin", WRONG_PASSWORD), "x-forwarded-for": `10.3.0.${i}` },
      });
    }
    await call(t, "/dashboard/api/config", { headers: { authorization: t.dashboardAuth } });
    await call(t, "/trpc/guard.config.get", { headers: { authorization: basic("admin", WRONG_PASSWORD) } });
    await call(t, "/graphql", {
      method: "POST",
      headers: { authorization: basic("admin", WRONG_PASSWORD), "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    // A new API key (its raw value is in the answer, never in the log), used right and wrong.
    const created = await call(
      t,
      "/dashboard/api/apikeys",
      send("POST", { label: "log-audit" }, { authorization: t.dashboardAuth }),
    );
    expect(created.status).toBe(201);
    secrets.push(created.body.raw_key);
    await call(t, "/api/v1/data/items", { headers: { "x-hiveguard-key": created.body.raw_key } });
    await call(t, "/api/v1/data/items", {
      headers: { "x-hiveguard-key": `${created.body.raw_key.slice(0, -2)}xx` },
    });
    secrets.push(`${created.body.raw_key.slice(0, -2)}xx`);
    // A token earned on the public API, then used as header and cookie on the proxy, and a forged one.
    const ua = { "user-agent": "log-audit/1", "x-hiveguard-key": seeded.key };
    const generated = await call(t, "/api/v1/challenge/generate", { headers: ua });
    const passed = await call(
      t,
      "/api/v1/challenge/submit",
      send("POST", answersFor(generated.body, seeded), ua),
    );
    const token: string = passed.body.token;
    secrets.push(token, token.split(".")[2]!);
    await http(`${t.url}/members`, { headers: { "user-agent": "log-audit/1", "x-hiveguard-token": token } });
    await http(`${t.url}/members`, {
      headers: { "user-agent": "log-audit/1", cookie: `hiveguard_token=${token}` },
    });
    await http(`${t.url}/members`, { headers: { "user-agent": "other", "x-hiveguard-token": `${token}x` } });
    // A multipart upload (its parser logs the request headers at trace level).
    await call(
      t,
      "/tracker/api/v1/projects/log-audit/runs",
      send("POST", { name: "r" }, { authorization: t.dashboardAuth }),
    );
    const form = new FormData();
    form.append("file", new Blob(["weights"]), "model.bin");
    const uploaded = await call(t, "/tracker/api/v1/projects/log-audit/runs/r/artifacts", {
      method: "POST",
      headers: { authorization: t.dashboardAuth, cookie: `hiveguard_token=${token}` },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    // A request that fails inside (an error is logged with its cause) carrying every secret in its headers.
    await call(t, "/dashboard/api/item-datasets/not-a-uuid", {
      headers: {
        authorization: t.dashboardAuth,
        "x-hiveguard-key": seeded.key,
        cookie: `hiveguard_token=${token}`,
      },
    });

    await new Promise((resolve) => setTimeout(resolve, 100));
    const log = logLines.join("");
    expect(log.length).toBeGreaterThan(1000); // the run did log (trace level), requests included
    expect(log).toContain('"msg":"request"'); // the per-request line (debug) was written
    for (const secret of secrets) {
      expect({ secret: secret.slice(0, 6), logged: log.includes(secret) }).toEqual({
        secret: secret.slice(0, 6),
        logged: false,
      });
    }
  });
});
