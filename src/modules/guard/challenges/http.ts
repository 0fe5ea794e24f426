// The non-JSON side of the challenge engine: the widget script, the hosted challenge page with its own
// generate/submit routes (they set the token cookie), and CORS for sites that embed the widget.
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { ValidationError, zodIssuesToDetail } from "../../../platform/errors.js";
import type { AppDeps } from "../../../trpc/context.js";
import { BYPASS_HEADER, challengeSchema, submitResultSchema, submitSchema } from "./challenge.schema.js";
import type { Requester } from "./service.js";
import { TOKEN_COOKIE } from "./token.js";

export const WIDGET_PATH = "/_hiveguard/widget.js";
export const HOSTED_PAGE = "/_hiveguard/challenge";
const HOSTED_GENERATE = "/_hiveguard/challenge/generate";
const HOSTED_SUBMIT = "/_hiveguard/challenge/submit";
const WIDGET_SOURCE = fileURLToPath(new URL("../../../../clients/widget/widget.ts", import.meta.url));

let widgetBundle: Promise<string> | null = null;

/**
 * The widget, bundled and minified by esbuild on first request and kept in memory: nothing generated is
 * committed and `npm start` needs no build step.
 */
export function widgetScript(): Promise<string> {
  widgetBundle ??= import("esbuild")
    .then((esbuild) =>
      esbuild.build({
        entryPoints: [WIDGET_SOURCE],
        bundle: true,
        minify: true,
        format: "iife",
        target: "es2019",
        write: false,
        legalComments: "none",
      }),
    )
    .then((result) => result.outputFiles[0]!.text)
    .catch((error: unknown) => {
      widgetBundle = null; // try again on the next request
      throw error;
    });
  return widgetBundle;
}

/** A same-origin path (`/...`, not `//host` nor `/\host`), else "/". */
export function safeReturnPath(value: unknown): string {
  if (
    typeof value !== "string" ||
    !value.startsWith("/") ||
    value.startsWith("//") ||
    value.startsWith("/\\")
  )
    return "/";
  try {
    const url = new URL(value, "http://hiveguard.invalid");
    if (url.origin !== "http://hiveguard.invalid") return "/";
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return "/";
  }
}

function hostedRequester(request: FastifyRequest): Requester {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    keyId: null,
    scope: null,
    sampleRate: 1,
    client: { ip: request.ip, userAgent: header("user-agent") ?? "" },
    headers: { acceptLanguage: header("accept-language"), accept: header("accept") },
  };
}

async function setTokenCookie(deps: AppDeps, request: FastifyRequest, reply: FastifyReply, token: string) {
  const ttl = (await deps.services.runtimeConfig.get()).challenge_token_ttl;
  const secure = request.protocol === "https" ? "; Secure" : "";
  reply.header(
    "set-cookie",
    `${TOKEN_COOKIE}=${token}; Path=/; Max-Age=${ttl}; HttpOnly; SameSite=Lax${secure}`,
  );
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function hostedHtml(returnPath: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Verification</title><meta name="robots" content="noindex"></head>
<body style="font-family:system-ui,sans-serif;display:flex;justify-content:center;padding:40px 12px">
<main><h1 style="font-size:1.3em">One moment: please verify you are human</h1>
<div data-hiveguard data-api="${HOSTED_PAGE}" data-return="${escapeHtml(returnPath)}"></div>
<noscript>This check needs JavaScript.</noscript></main>
<script src="${WIDGET_PATH}"></script></body></html>`;
}

const CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; img-src * data: blob:; media-src * data: blob:; " +
  "style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function registerChallengeHttp(app: FastifyInstance, deps: AppDeps): void {
  const challenges = deps.services.challenges;

  // CORS: the widget calls generate/submit from the site's own origin; the API key is public by design.
  app.addHook("onRequest", async (request, reply) => {
    if (!request.url.startsWith("/api/v1/challenge/")) return;
    reply.header("access-control-allow-origin", "*");
    reply.header("access-control-expose-headers", `${BYPASS_HEADER}, Retry-After`);
  });
  app.options("/api/v1/challenge/*", { schema: { hide: true } }, async (_request, reply) =>
    reply
      .code(204)
      .header("access-control-allow-methods", "GET, POST")
      .header("access-control-allow-headers", "Content-Type, X-HiveGuard-Key")
      .header("access-control-max-age", "600")
      .send(),
  );

  app.get(WIDGET_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type("application/javascript; charset=utf-8")
      .header("cache-control", "public, max-age=300")
      .header("access-control-allow-origin", "*")
      .send(await widgetScript()),
  );

  app.get(HOSTED_PAGE, { schema: { hide: true } }, async (request, reply) => {
    const returnPath = safeReturnPath((request.query as Record<string, unknown>).return);
    return reply
      .type("text/html; charset=utf-8")
      .header("content-security-policy", CSP)
      .header("cache-control", "no-store")
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "same-origin")
      .send(hostedHtml(returnPath));
  });

  app.get(HOSTED_GENERATE, { schema: { hide: true } }, async (request, reply) => {
    const result = await challenges.generate(hostedRequester(request));
    reply.header("cache-control", "no-store");
    if (result.kind === "challenge") return reply.send(result.challenge);
    // Fail-open with an empty pool: the visitor is let through, with a token saying why.
    await setTokenCookie(
      deps,
      request,
      reply,
      await challenges.bypassToken(hostedRequester(request).client, result.reason),
    );
    return reply.code(204).header(BYPASS_HEADER, result.reason).send();
  });

  app.post(HOSTED_SUBMIT, { schema: { hide: true } }, async (request, reply) => {
    const parsed = submitSchema.safeParse(request.body);
    if (!parsed.success) throw new ValidationError(zodIssuesToDetail(parsed.error.issues));
    const result = await challenges.submit(hostedRequester(request), parsed.data);
    reply.header("cache-control", "no-store");
    if (!result.passed || !result.token) return reply.send({ passed: false, token: null });
    await setTokenCookie(deps, request, reply, result.token);
    // The token travels in the HttpOnly cookie only: the page's script never sees it.
    return reply.send({ passed: true, token: null });
  });
}

const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } };
const validationContent = {
  "application/json": { schema: { $ref: "#/components/schemas/HTTPValidationError" } },
};

export const challengeExtraPaths: ZodOpenApiPathsObject = {
  [WIDGET_PATH]: {
    get: {
      tags: ["challenge: widget"],
      summary: "The embeddable widget script (< 15 KB gzipped)",
      description:
        'Include with `<script src="/_hiveguard/widget.js">` and place `<div data-hiveguard-key="..." ' +
        'data-callback="fn">`; the token is passed to `window.fn(token)`.',
      responses: {
        200: { description: "JavaScript", content: { "application/javascript": { schema: z.string() } } },
      },
    },
  },
  [HOSTED_PAGE]: {
    get: {
      tags: ["challenge: widget"],
      summary: "Hosted challenge page; on success sets the hiveguard_token cookie and returns to `return`",
      requestParams: {
        query: z.object({
          return: z.string().optional().describe("Same-origin path to go back to (anything else becomes /)"),
        }),
      },
      responses: { 200: { description: "HTML page", content: { "text/html": { schema: z.string() } } } },
    },
  },
  [HOSTED_GENERATE]: {
    get: {
      tags: ["challenge: widget"],
      summary: "Generate for the hosted page (no API key; every dataset)",
      responses: {
        200: { description: "A challenge", content: { "application/json": { schema: challengeSchema } } },
        204: {
          description: "Empty pool, fail-open: a bypass token is set as the cookie",
          headers: z.object({ [BYPASS_HEADER]: z.string() }),
        },
        429: { description: "Too many generate requests (Retry-After)", content: errorContent },
        503: { description: "Challenge pool empty and fail_mode is closed", content: errorContent },
      },
    },
  },
  [HOSTED_SUBMIT]: {
    post: {
      tags: ["challenge: widget"],
      summary: "Submit for the hosted page; on success sets the hiveguard_token cookie (HttpOnly)",
      requestBody: { content: { "application/json": { schema: submitSchema } } },
      responses: {
        200: {
          description: "Result (the token is in the cookie, never in the body)",
          content: { "application/json": { schema: submitResultSchema } },
        },
        422: { description: "Validation error", content: validationContent },
        429: { description: "Too many submit requests (Retry-After)", content: errorContent },
      },
    },
  },
};
