// Issue 19, part 3: real client libraries nobody here wrote, run unchanged against HiveGuard.
// - @hcaptcha/react-hcaptcha (hCaptcha's own React wrapper; `scriptSource` set to our drop-in script),
// - @marsidev/react-turnstile (the most used Turnstile React wrapper; `injectScript={false}` and the page's own
//   script tag pointing at our drop-in, as its docs show for a self-managed script),
// - recaptcha-node (a server-side verify library whose host, port and protocol can be set: it posts to
//   `/recaptcha/api/siteverify` relative to that base).
// Each React page is bundled by esbuild from the packages as installed, rendered in Chromium, solved by a
// person-like script (keyboard only), the form posts, and the site's server verifies the token with the library.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { RecaptchaV2, RecaptchaV3 } from "recaptcha-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium, solveChallenge } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { configure, seed, type Seeded } from "./challenge-helpers.js";
import { clients } from "./helpers.js";

const withBrowser = chromiumAvailable("the browser tests of guard/siteverify-third-party.test.ts");

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let t: TestServer;
let s: Seeded;
let browser: Browser;
let site: Server;
let siteUrl: string;
let siteKey: string;
let secret: string;
const bundles: Record<string, string> = {};
const outside: string[] = [];
const errors: string[] = [];

/** The integrator's React apps, written as each wrapper's README shows (JSX spelled as createElement). */
const APPS: Record<string, string> = {
  hcaptcha: `
    import { createElement as h, useRef, useState } from "react";
    import { createRoot } from "react-dom/client";
    import HCaptcha from "@hcaptcha/react-hcaptcha";
    function Form() {
      const [token, setToken] = useState("");
      const captcha = useRef(null);
      return h("form", { method: "POST", action: "/submit/hcaptcha" },
        h("label", null, "Email ", h("input", { name: "email", defaultValue: "a@example.com" })),
        h(HCaptcha, {
          sitekey: window.SITE.sitekey,
          scriptSource: window.SITE.script,
          sentry: false,
          ref: captcha,
          onVerify: (value) => { setToken(value); window.__token = value; },
          onExpire: () => setToken(""),
        }),
        h("input", { type: "hidden", name: "captcha_token", value: token }),
        h("button", { type: "submit", disabled: !token }, "Send"));
    }
    createRoot(document.getElementById("root")).render(h(Form));`,
  turnstile: `
    import { createElement as h, useState } from "react";
    import { createRoot } from "react-dom/client";
    import { Turnstile } from "@marsidev/react-turnstile";
    function Form() {
      const [token, setToken] = useState("");
      return h("form", { method: "POST", action: "/submit/turnstile" },
        h("label", null, "Email ", h("input", { name: "email", defaultValue: "a@example.com" })),
        h(Turnstile, {
          siteKey: window.SITE.sitekey,
          injectScript: false,
          onSuccess: (value) => { setToken(value); window.__token = value; },
        }),
        h("button", { type: "submit", disabled: !token }, "Send"));
    }
    createRoot(document.getElementById("root")).render(h(Form));`,
};

function page(service: string): string {
  const config = JSON.stringify({ sitekey: siteKey, script: `${t.url}/_hiveguard/hcaptcha.js` });
  // Turnstile with injectScript={false}: the page carries the script tag, with the id the wrapper watches for.
  const script =
    service === "turnstile"
      ? `<script id="cf-turnstile-script" src="${t.url}/_hiveguard/turnstile.js?onload=onloadTurnstileCallback&render=explicit" async defer></script>`
      : "";
  return `<!doctype html><html lang="en"><head><title>${service} with React</title></head><body>
<div id="root"></div><script>window.SITE = ${config};</script>
<script src="/app-${service}.js"></script>${script}</body></html>`;
}

beforeAll(async () => {
  t = await startTestServer();
  await configure(t);
  s = await seed(t, { gt: 6, unknown: 4, modality: "text" });
  const key = await clients(t).dash.post("/dashboard/api/apikeys", {
    label: "react site",
    datasets: [s.datasetId],
    scopes: ["challenge"],
    hostnames: ["127.0.0.1"],
  });
  siteKey = key.body.raw_key;
  secret = (await clients(t).dash.post(`/dashboard/api/apikeys/${key.body.id}/secret`, {})).body.secret;
  for (const [service, source] of Object.entries(APPS)) {
    const result = await build({
      stdin: { contents: source, resolveDir: ROOT, loader: "js" },
      bundle: true,
      format: "iife",
      write: false,
      define: { "process.env.NODE_ENV": '"production"' },
      logLevel: "silent",
    });
    bundles[service] = result.outputFiles[0]!.text;
  }
  const hg = new URL(t.url);
  const base = { hostname: hg.hostname, port: Number(hg.port), protocol: "http" as const };
  site = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "POST" && path.startsWith("/submit/")) {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", async () => {
        const form = new URLSearchParams(body);
        const field = path.endsWith("turnstile") ? "cf-turnstile-response" : "h-captcha-response";
        const token = form.get(field) ?? "";
        // The site's server, with the library pointed at HiveGuard: host, port, protocol and the secret.
        const v3 = await new RecaptchaV3(secret, base).verify(token, "127.0.0.1");
        const replay = await new RecaptchaV2(secret, base).verify(token, "127.0.0.1");
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({ fields: [...form.keys()], same: form.get("captcha_token"), token, v3, replay }),
        );
      });
      return;
    }
    res.setHeader(
      "content-type",
      path.endsWith(".js") ? "application/javascript" : "text/html; charset=utf-8",
    );
    if (path === "/favicon.ico") return void res.writeHead(204).end();
    const match = /^\/app-(\w+)\.js$/.exec(path);
    if (match && bundles[match[1]!]) return void res.end(bundles[match[1]!]);
    const service = path.slice(1);
    if (service in APPS) return void res.end(page(service));
    res.statusCode = 404;
    res.end("not found");
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  if (withBrowser) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  await t?.close();
});

async function open(path: string): Promise<Page> {
  const page = await browser.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${path}: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`${path}: ${error.message}`));
  // The wrappers must call nothing but the site and HiveGuard (no Sentry, no CDN).
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(siteUrl) || url.startsWith(t.url)) return route.continue();
    outside.push(url);
    return route.abort();
  });
  await page.goto(`${siteUrl}${path}`);
  return page;
}

describe("third-party wrappers and a verify library, unchanged", () => {
  for (const service of ["hcaptcha", "turnstile"]) {
    it.skipIf(!withBrowser)(
      `${service === "hcaptcha" ? "@hcaptcha/react-hcaptcha" : "@marsidev/react-turnstile"} renders HiveGuard's challenge; the form posts; recaptcha-node verifies it once`,
      async () => {
        const page = await open(`/${service}`);
        try {
          await solveChallenge(page, s.gt);
          await page.waitForFunction(() => typeof (window as any).__token === "string", null, {
            timeout: 10_000,
          });
          const token = await page.evaluate(() => (window as any).__token as string);
          await expect.poll(() => page.getByRole("button", { name: "Send" }).isEnabled()).toBe(true);
          await page.getByRole("button", { name: "Send" }).focus();
          await page.keyboard.press("Enter");
          await page.waitForURL(/\/submit\//);
          const posted = JSON.parse((await page.locator("body").textContent())!);
          expect(posted.token).toBe(token);
          if (service === "hcaptcha") expect(posted.same).toBe(token);
          // The library reads the answer's fields: success, challenge_ts, hostname, score, error-codes.
          expect(posted.v3).toMatchObject({
            success: true,
            challengeTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
            hostname: "127.0.0.1",
            score: 1,
            action: "",
            errorCodes: [],
          });
          // Single use: the same token a second time.
          expect(posted.replay).toMatchObject({ success: false, errorCodes: ["timeout-or-duplicate"] });
        } finally {
          await page.close();
        }
      },
    );
  }

  it("recaptcha-node reports a wrong secret as HiveGuard answers it", async () => {
    const hg = new URL(t.url);
    const result = await new RecaptchaV2(`hgs_${"x".repeat(43)}`, {
      hostname: hg.hostname,
      port: Number(hg.port),
      protocol: "http",
    }).verify("not-a-token");
    expect(result).toMatchObject({ success: false, errorCodes: ["invalid-input-secret"] });
  });

  it.skipIf(!withBrowser)(
    "nothing outside the site and HiveGuard was requested, and no console errors",
    () => {
      expect(outside).toEqual([]);
      expect(errors).toEqual([]);
    },
  );
});
