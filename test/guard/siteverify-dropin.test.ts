// The hCaptcha, Turnstile and reCAPTCHA drop-ins (issue 19, part 2) in Debian's Chromium: pages written for
// each service, with only the script URL and the site key changed, are solved by a person-like script; the
// form posts the service's field to the site's server, which checks it with siteverify and its secret.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium, solveChallenge } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { configure, seed, type Seeded } from "./challenge-helpers.js";
import { clients } from "./helpers.js";

const withBrowser = chromiumAvailable("the browser tests of guard/siteverify-dropin.test.ts");

let t: TestServer;
let s: Seeded;
let browser: Browser;
let site: Server;
let siteUrl: string;
let siteKey: string;
let secret: string;
const errors: string[] = [];

/** The pages, as each service's documentation shows them, with HiveGuard's script URL and site key. */
function pages(): Record<string, string> {
  const form = (service: string, widget: string, script: string) => `<!doctype html>
<html lang="en"><head><title>${service} form</title></head><body>
<form method="POST" action="/submit/${service}">
  <label>Email <input name="email" value="a@example.com"></label>
  ${widget}
  <button type="submit">Send</button>
</form>
<script>window.onDone = (token) => { window.__token = token; };
window.onExpired = () => { window.__expired = true; };</script>
${script}</body></html>`;
  return {
    "/hcaptcha": form(
      "hcaptcha",
      `<div class="h-captcha" data-sitekey="${siteKey}" data-callback="onDone" data-expired-callback="onExpired"></div>`,
      `<script src="${t.url}/_hiveguard/hcaptcha.js" async defer></script>`,
    ),
    "/turnstile": form(
      "turnstile",
      `<div class="cf-turnstile" data-sitekey="${siteKey}" data-callback="onDone"></div>`,
      `<script src="${t.url}/_hiveguard/turnstile.js" async defer></script>`,
    ),
    "/recaptcha": form(
      "recaptcha",
      `<div class="g-recaptcha" data-sitekey="${siteKey}" data-callback="onDone"></div>`,
      `<script src="${t.url}/_hiveguard/recaptcha.js" async defer></script>`,
    ),
    // Explicit rendering with an onload callback, and the JavaScript API.
    "/hcaptcha-explicit": form(
      "hcaptcha",
      `<div id="box"></div>`,
      `<script>window.onApi = () => {
         window.__id = hcaptcha.render("box", { sitekey: "${siteKey}", callback: (t) => { window.__token = t; } });
       };</script>
       <script src="${t.url}/_hiveguard/hcaptcha.js?render=explicit&onload=onApi" async defer></script>`,
    ),
    // reCAPTCHA v2 invisible: the challenge appears when the page calls execute().
    "/recaptcha-invisible": form(
      "recaptcha",
      `<div id="inv"></div>`,
      `<script>window.onApi = () => {
         window.__id = grecaptcha.render("inv", { sitekey: "${siteKey}", size: "invisible", callback: "onDone" });
       };</script>
       <script src="${t.url}/_hiveguard/recaptcha.js?render=explicit&onload=onApi"></script>`,
    ),
  };
}

const FIELDS: Record<string, string> = {
  hcaptcha: "h-captcha-response",
  turnstile: "cf-turnstile-response",
  recaptcha: "g-recaptcha-response",
};

beforeAll(async () => {
  t = await startTestServer();
  await configure(t);
  s = await seed(t, { gt: 6, unknown: 4, modality: "text" });
  const key = await clients(t).dash.post("/dashboard/api/apikeys", {
    label: "drop-in",
    datasets: [s.datasetId],
    scopes: ["challenge"],
  });
  siteKey = key.body.raw_key;
  secret = (await clients(t).dash.post(`/dashboard/api/apikeys/${key.body.id}/secret`, {})).body.secret;
  if (withBrowser) browser = await launchChromium();
  // The customer's site: serves the pages and, on a form post, verifies the service's field with its secret.
  site = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    if (req.method === "POST" && path.startsWith("/submit/")) {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", async () => {
        const form = new URLSearchParams(body);
        const service = path.slice("/submit/".length);
        const verdict = await fetch(`${t.url}/api/v1/siteverify`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            secret,
            response: form.get(FIELDS[service]!) ?? "",
            remoteip: "127.0.0.1",
          }),
        }).then((r) => r.json());
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ fields: [...form.keys()], verdict }));
      });
      return;
    }
    if (path === "/favicon.ico") return void res.writeHead(204).end();
    const page = pages()[path];
    res.statusCode = page ? 200 : 404;
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(page ?? "not found");
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
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
  await page.goto(`${siteUrl}${path}`);
  return page;
}

/** Sends the page's form and returns what the site's server answered (the fields it got and the verdict). */
async function send(page: Page): Promise<{ fields: string[]; verdict: Record<string, unknown> }> {
  await page.getByRole("button", { name: "Send" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/submit\//);
  return JSON.parse((await page.locator("body").textContent())!);
}

describe("drop-in scripts", () => {
  it("are served as JavaScript, each under 15 KB gzipped", async () => {
    for (const service of ["hcaptcha", "turnstile", "recaptcha"]) {
      const res = await fetch(`${t.url}/_hiveguard/${service}.js`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("application/javascript");
      const body = Buffer.from(await res.arrayBuffer());
      expect(gzipSync(body).length).toBeLessThan(15 * 1024);
    }
  });

  for (const service of ["hcaptcha", "turnstile", "recaptcha"]) {
    it.skipIf(!withBrowser)(
      `a page written for ${service} works: rendered from its markup, solved, posted, verified`,
      async () => {
        const page = await open(`/${service}`);
        try {
          await solveChallenge(page, s.gt);
          await page.waitForFunction(() => typeof (window as any).__token === "string", null, {
            timeout: 10_000,
          });
          const token = await page.evaluate(() => (window as any).__token as string);
          expect(await page.locator(`[name="${FIELDS[service]}"]`).first().inputValue()).toBe(token);
          const api = { hcaptcha: "hcaptcha", turnstile: "turnstile", recaptcha: "grecaptcha" }[service]!;
          expect(await page.evaluate((name) => (window as any)[name].getResponse(), api)).toBe(token);
          const posted = await send(page);
          expect(posted.fields).toContain(FIELDS[service]);
          if (service === "hcaptcha") expect(posted.fields).toContain("g-recaptcha-response");
          expect(posted.verdict).toMatchObject({
            success: true,
            hostname: "127.0.0.1",
            "error-codes": [],
            score: 1,
          });
        } finally {
          await page.close();
        }
      },
    );
  }

  it.skipIf(!withBrowser)(
    "hCaptcha explicit rendering: onload, render, getResponse, reset, remove",
    async () => {
      const page = await open("/hcaptcha-explicit");
      try {
        await expect.poll(() => page.evaluate(() => typeof (window as any).__id)).toBe("string");
        await solveChallenge(page, s.gt);
        await page.waitForFunction(() => typeof (window as any).__token === "string");
        const token = await page.evaluate(() => (window as any).__token as string);
        expect(await page.evaluate(() => (window as any).hcaptcha.getResponse((window as any).__id))).toBe(
          token,
        );
        await page.evaluate(() => (window as any).hcaptcha.reset((window as any).__id));
        expect(await page.evaluate(() => (window as any).hcaptcha.getResponse())).toBe("");
        await expect.poll(() => page.locator("fieldset").count()).toBeGreaterThan(0);
        await page.evaluate(() => (window as any).hcaptcha.remove((window as any).__id));
        expect(await page.locator("#box").innerHTML()).toBe("");
      } finally {
        await page.close();
      }
    },
  );

  it.skipIf(!withBrowser)(
    "reCAPTCHA v2 invisible: nothing until execute(), then a dialog; the field lands in the form",
    async () => {
      const page = await open("/recaptcha-invisible");
      try {
        await expect.poll(() => page.evaluate(() => typeof (window as any).__id)).toBe("number");
        expect(await page.locator("fieldset").count()).toBe(0);
        await page.evaluate(() => (window as any).grecaptcha.execute((window as any).__id));
        await page.getByRole("dialog", { name: "Verification" }).waitFor();
        await solveChallenge(page, s.gt);
        await page.waitForFunction(() => typeof (window as any).__token === "string");
        await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
        const posted = await send(page);
        expect(posted.fields).toContain("g-recaptcha-response");
        expect(posted.verdict.success).toBe(true);
      } finally {
        await page.close();
      }
    },
  );

  it.skipIf(!withBrowser)("logged no console errors", () => {
    expect(errors).toEqual([]);
  });
});
