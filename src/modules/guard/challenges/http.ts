// The non-JSON side of the challenge engine: the widget script and the hosted challenge page with its own
// generate/submit routes (they set the token cookie).
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { escapeHtml, htmlPage, sendHtml } from "../../../platform/html.js";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { bundleScript, widgetSource } from "./bundle.js";
import { BYPASS_HEADER, challengeSchema, submitResultSchema, submitSchema } from "./challenge.schema.js";
import type { Requester } from "./service.js";
import { tokenCookie } from "./token.js";

export const WIDGET_PATH = "/_hiveguard/widget.js";
export const HOSTED_PAGE = "/_hiveguard/challenge";
const HOSTED_GENERATE = "/_hiveguard/challenge/generate";
const HOSTED_SUBMIT = "/_hiveguard/challenge/submit";

/** The widget, bundled on first request (challenges/bundle.ts). */
export function widgetScript(): Promise<string> {
  return bundleScript(widgetSource("widget.ts"));
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
    const path = `${url.pathname}${url.search}${url.hash}`;
    // The check that counts is on the final, normalised value: `/..//evil.example` resolves to
    // `//evil.example`, which a browser reads as another host.
    return path.startsWith("//") || path.startsWith("/\\") ? "/" : path;
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
  reply.header("set-cookie", tokenCookie(token, ttl, request.protocol === "https"));
}

// The page around the widget: centred on a quiet background, one column that fits a 320 px screen, dark when
// the visitor's system is.
const HOSTED_STYLE = `<style>
html{background:#f1f3f4;color-scheme:light dark}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f1f1f}
main{box-sizing:border-box;max-width:440px;margin:0 auto;padding:48px 16px 24px}
h1{font-size:1.4em;line-height:1.3;margin:0 0 8px}
main>p{margin:0 0 20px;color:#444746}
.hg{margin:0 auto}
@media (max-width:480px){main{padding-top:24px}h1{font-size:1.25em}}
@media (prefers-color-scheme:dark){html{background:#131314}body{color:#e3e3e3}main>p{color:#c4c7c5}}
</style>`;

/** The hosted page's own words; the widget inside speaks the same language (clients/widget/strings.ts). */
const HOSTED_TEXT: Record<
  string,
  { title: string; heading: string; thisSite: string; intro: string; noscript: string }
> = {
  en: {
    title: "Verification",
    heading: "One moment: please verify you are human",
    thisSite: "This site",
    intro: "checks that visitors are people before letting them in. Answer the question below to continue.",
    noscript: "This check needs JavaScript. Please turn it on and reload the page.",
  },
  es: {
    title: "Verificación",
    heading: "Un momento: confirme que es una persona",
    thisSite: "Este sitio",
    intro:
      "comprueba que los visitantes son personas antes de dejarlos pasar. Responda la pregunta para continuar.",
    noscript: "Esta comprobación necesita JavaScript. Actívelo y vuelva a cargar la página.",
  },
  fr: {
    title: "Vérification",
    heading: "Un instant : confirmez que vous êtes une personne",
    thisSite: "Ce site",
    intro:
      "vérifie que les visiteurs sont des personnes avant de les laisser entrer. Répondez à la question pour continuer.",
    noscript: "Cette vérification nécessite JavaScript. Activez-le et rechargez la page.",
  },
  de: {
    title: "Überprüfung",
    heading: "Einen Moment: Bitte bestätigen Sie, dass Sie ein Mensch sind",
    thisSite: "Diese Website",
    intro:
      "prüft, dass Besucher Menschen sind, bevor sie eingelassen werden. Beantworten Sie die Frage, um fortzufahren.",
    noscript: "Diese Prüfung benötigt JavaScript. Bitte aktivieren Sie es und laden Sie die Seite neu.",
  },
  pt: {
    title: "Verificação",
    heading: "Um momento: confirme que é uma pessoa",
    thisSite: "Este site",
    intro:
      "verifica que os visitantes são pessoas antes de deixá-los entrar. Responda à pergunta para continuar.",
    noscript: "Esta verificação precisa de JavaScript. Ative-o e recarregue a página.",
  },
};

/** The first language of an `Accept-Language` header (by q-value) that the page speaks, else English. */
export function hostedLanguage(acceptLanguage: string | undefined): string {
  const ranked = (acceptLanguage ?? "")
    .split(",")
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = Number(
        params
          .find((p) => p.trim().startsWith("q="))
          ?.trim()
          .slice(2) ?? 1,
      );
      return { base: tag.trim().toLowerCase().split("-")[0]!, q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.q > 0 && entry.base in HOSTED_TEXT)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked[0]?.base ?? "en";
}

function hostedHtml(returnPath: string, host: string, language: string): string {
  const text = HOSTED_TEXT[language] ?? HOSTED_TEXT.en!;
  const site = host ? `<strong>${escapeHtml(host)}</strong>` : text.thisSite;
  return htmlPage({
    title: text.title,
    lang: language,
    head: `<meta name="robots" content="noindex">\n${HOSTED_STYLE}`,
    body: `<main><h1>${text.heading}</h1>
<p>${site} ${text.intro}</p>
<div data-hiveguard data-api="${HOSTED_PAGE}" data-return="${escapeHtml(returnPath)}" data-language="${language}"></div>
<noscript><p>${text.noscript}</p></noscript></main>
<script src="${WIDGET_PATH}"></script>`,
  });
}

const CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; img-src * data: blob:; media-src * data: blob:; " +
  "style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const tags = ["challenge: widget"];
const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } };

/**
 * The widget script and the hosted challenge page with its own generate/submit (they set the token cookie).
 * CORS of the API-key challenge procedures is declared on the procedures (`cors` meta).
 */
export function challengeRoutes(deps: AppDeps): Route[] {
  const challenges = deps.services.challenges;
  return [
    defineRoute({
      method: "GET",
      path: WIDGET_PATH,
      auth: "public",
      openapi: {
        operationId: "widgetScript",
        tags,
        summary: "The embeddable widget script (< 15 KB gzipped)",
        description:
          "Load this script on the page and place a `div` with `data-hiveguard-key` (the site's API key) and " +
          '`data-callback="fn"`; the token is passed to `window.fn(token)` (docs/challenges.md shows the markup).',
        responses: {
          200: { description: "JavaScript", content: { "application/javascript": { schema: z.string() } } },
        },
      },
      handler: async (_input, _request, reply) =>
        reply
          .type("application/javascript; charset=utf-8")
          .header("cache-control", "public, max-age=300")
          .header("access-control-allow-origin", "*")
          .send(await widgetScript()),
    }),

    defineRoute({
      method: "GET",
      path: HOSTED_PAGE,
      auth: "public",
      // Any `return` is accepted: what is not a same-origin path becomes "/".
      openapi: {
        operationId: "hostedChallengePage",
        tags,
        summary: "Hosted challenge page; on success sets the hiveguard_token cookie and returns to `return`",
        requestParams: {
          query: z.object({
            return: z
              .string()
              .optional()
              .describe("Same-origin path to go back to (anything else becomes /)"),
          }),
        },
        responses: { 200: { description: "HTML page", content: { "text/html": { schema: z.string() } } } },
      },
      handler: async (_input, request, reply) => {
        const returnPath = safeReturnPath((request.query as Record<string, unknown>).return);
        reply.header("x-content-type-options", "nosniff").header("referrer-policy", "same-origin");
        const language = hostedLanguage(request.headers["accept-language"]);
        reply.header("content-language", language).header("vary", "Accept-Language");
        return sendHtml(reply, hostedHtml(returnPath, request.hostname, language), {
          csp: CSP,
          cacheControl: "no-store",
        });
      },
    }),

    defineRoute({
      method: "GET",
      path: HOSTED_GENERATE,
      auth: "public",
      openapi: {
        operationId: "hostedChallengeGenerate",
        tags,
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
      handler: async (_input, request, reply) => {
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
      },
    }),

    defineRoute({
      method: "POST",
      path: HOSTED_SUBMIT,
      auth: "public",
      body: submitSchema,
      openapi: {
        operationId: "hostedChallengeSubmit",
        tags,
        summary: "Submit for the hosted page; on success sets the hiveguard_token cookie (HttpOnly)",
        responses: {
          200: {
            description: "Result (the token is in the cookie, never in the body)",
            content: { "application/json": { schema: submitResultSchema } },
          },
          429: { description: "Too many submit requests (Retry-After)", content: errorContent },
        },
      },
      handler: async ({ body }, request, reply) => {
        const result = await challenges.submit(hostedRequester(request), body);
        reply.header("cache-control", "no-store");
        if (!result.passed || !result.token) return reply.send({ passed: false, token: null });
        await setTokenCookie(deps, request, reply, result.token);
        // The token travels in the HttpOnly cookie only: the page's script never sees it.
        return reply.send({ passed: true, token: null });
      },
    }),
  ];
}
