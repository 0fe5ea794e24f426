// An exempt proxy rule must not open other paths: requests whose path an upstream may read differently
// from us (encoded slashes, dot segments, merged slashes, double encoding, overlong UTF-8, `;` params,
// backslashes, trailing dots) are never exempt. Each attempt is sent as-is, with no token, through
// HiveGuard to upstreams that decode and merge: a Node one that reads paths as leniently as the servers
// people run (Python's http.server, nginx, Tomcat, IIS), and nginx itself where it is installed.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clients } from "../guard/helpers.js";
import { nginxAvailable, type Nginx, startNginx } from "../support/nginx.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { http, startUpstream, type Upstream, withGtPool } from "./helpers.js";

const PRIVATE = "PRIVATE-CONTENT";
const PUBLIC = "public-content";
const RULES = "/dashboard/api/proxy-rules";
const JSON_CLIENT = { accept: "application/json", "user-agent": "attacker/1.0" };

/** Every request target below means `/private.txt` to at least one common upstream. */
const ATTEMPTS = [
  "/public/..%2fprivate.txt",
  "/public/..%2Fprivate.txt",
  "/public/%2e%2e%2fprivate.txt",
  "/public/%2E%2E/private.txt",
  "/public/%2e%2e/private.txt",
  "/public/.%2e/private.txt",
  "/public/../private.txt",
  "/public/./../private.txt",
  "/public//../private.txt",
  "/public///../../private.txt",
  "/public/..%252fprivate.txt",
  "/public/%252e%252e/private.txt",
  "/public/..%c0%afprivate.txt",
  "/public/%c0%ae%c0%ae/private.txt",
  "/public/..;/private.txt",
  "/public/x/..;/..;/private.txt",
  "/public\\..\\private.txt",
  "/public/..%5cprivate.txt",
  "/public/..%5Cprivate.txt",
  "/public/../private.txt.",
  "/public/...%2fprivate.txt",
  "/public/index.html/../../private.txt",
  "/public/index.html%2f..%2f..%2fprivate.txt",
];

/**
 * How a lenient server reads a path: percent-decodes it (twice, as double-decoding stacks do, with the
 * overlong `%c0%af`/`%c0%ae` forms old servers accepted), takes `\` for `/`, drops `;params`, merges
 * slashes, resolves dot segments and strips trailing dots and spaces (Windows).
 */
function lenientRead(rawPath: string): string {
  let path = rawPath.split("?")[0]!;
  for (let i = 0; i < 2; i++) {
    path = path.replace(/%c0%af/gi, "/").replace(/%c0%ae/gi, ".");
    path = path.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  const out: string[] = [];
  for (let segment of path.replace(/\\/g, "/").split("/")) {
    segment = segment.split(";")[0]!;
    if (segment === "" || segment === ".") continue;
    if (/^\.+$/.test(segment)) out.pop();
    else out.push(segment.replace(/[. ]+$/, ""));
  }
  return `/${out.join("/")}`;
}

function serveSite(resolved: string): { status: number; body: string } {
  if (resolved === "/private.txt") return { status: 200, body: PRIVATE };
  if (resolved.startsWith("/public/")) return { status: 200, body: PUBLIC };
  return { status: 404, body: "not found" };
}

const RULE_TYPES = [
  { pattern: "/public/", match_type: "prefix", allowed: "/public/index.html" },
  { pattern: "/public/**", match_type: "glob", allowed: "/public/index.html" },
  { pattern: "/public/index.html", match_type: "exact", allowed: "/public/index.html" },
] as const;

async function exempts(t: TestServer, path: string): Promise<boolean> {
  const reply = await http(`${t.url}${path}`, { headers: JSON_CLIENT });
  return reply.status === 200;
}

/** Runs every attempt against every rule type through `site` (a server started with TARGET_URL). */
function attackEveryRuleType(getServer: () => TestServer) {
  for (const rule of RULE_TYPES) {
    it(`a ${rule.match_type} rule ${rule.pattern} exempts its own paths and nothing an upstream reads as /private.txt`, async () => {
      const t = getServer();
      const dash = clients(t).dash;
      const created = await dash.post(RULES, { pattern: rule.pattern, match_type: rule.match_type });
      expect(created.status).toBe(201);
      try {
        await expect.poll(() => exempts(t, rule.allowed), { timeout: 5000, interval: 25 }).toBe(true);
        const control = await http(`${t.url}/private.txt`, { headers: JSON_CLIENT });
        expect(control.status).toBe(401);

        for (const attempt of ATTEMPTS) {
          const reply = await http(`${t.url}${attempt}`, { headers: JSON_CLIENT });
          expect(reply.text, attempt).not.toContain(PRIVATE);
          expect(reply.status, attempt).toBe(401);
          expect(reply.json, attempt).toMatchObject({ detail: "Challenge required" });

          // The rule tester gives the same answer as the proxy.
          const tested = await dash.get(`${RULES}/test?path=${encodeURIComponent(attempt)}`);
          expect(tested.status, attempt).toBe(200);
          expect(tested.body, attempt).toMatchObject({ exempt: false, rule: null, canonical: false });
          expect(tested.body.reason, attempt).toEqual(expect.any(String));
        }
      } finally {
        await dash.del(`${RULES}/${created.body.id}`);
      }
    });
  }
}

describe("exempt rules and paths an upstream reads differently (lenient Node upstream)", () => {
  let upstream: Upstream;
  let t: TestServer;
  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const { status, body } = serveSite(lenientRead(req.url!));
      res.writeHead(status, { "content-type": "text/plain" });
      res.end(body);
    });
    t = await startTestServer({ env: { TARGET_URL: upstream.url } });
    await withGtPool(t);
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it("the upstream really is lenient: every attempt sent to it directly is served /private.txt", async () => {
    for (const attempt of ATTEMPTS) {
      const reply = await http(`${upstream.url}${attempt}`);
      expect(reply.text, attempt).toBe(PRIVATE);
    }
  });

  attackEveryRuleType(() => t);

  it("a visitor's canonical, percent-encoded path still matches its rule, decoded", async () => {
    const dash = clients(t).dash;
    const created = await dash.post(RULES, { pattern: "/public/", match_type: "prefix" });
    try {
      await expect
        .poll(() => exempts(t, "/%70ublic/caf%C3%A9.html"), { timeout: 5000, interval: 25 })
        .toBe(true);
      const tested = await dash.get(
        `${RULES}/test?path=${encodeURIComponent("/%70ublic/caf%C3%A9.html?x=1")}`,
      );
      expect(tested.body).toMatchObject({
        path: "/public/café.html",
        canonical: true,
        reason: null,
        exempt: true,
      });
    } finally {
      await dash.del(`${RULES}/${created.body.id}`);
    }
  });
});

describe("exempt rules and paths an upstream reads differently (nginx serving files)", () => {
  const available = nginxAvailable("the nginx path-bypass test");
  let nginx: Nginx;
  let t: TestServer;
  beforeAll(async () => {
    if (!available) return;
    nginx = await startNginx(
      (dir) => `    root ${dir}/site;\n    merge_slashes on;`,
      (dir) => {
        mkdirSync(join(dir, "site/public"), { recursive: true });
        writeFileSync(join(dir, "site/private.txt"), PRIVATE);
        writeFileSync(join(dir, "site/public/index.html"), PUBLIC);
      },
    );
    t = await startTestServer({ env: { TARGET_URL: nginx.url } });
    await withGtPool(t);
  });
  afterAll(async () => {
    await t?.close();
    await nginx?.close();
  });

  it.skipIf(!available)(
    "nginx itself serves /private.txt for some attempts sent to it directly",
    async () => {
      let served = 0;
      for (const attempt of ATTEMPTS) {
        if ((await http(`${nginx.url}${attempt}`)).text === PRIVATE) served++;
      }
      expect(served).toBeGreaterThan(3);
    },
  );

  if (available) attackEveryRuleType(() => t);
});
