// Siteverify (issue 19) as a plain Fastify route: it takes form-encoded, multipart and JSON bodies, as the
// hCaptcha, Turnstile and reCAPTCHA endpoints do, and answers every refusal in their shape (200,
// `success: false`, `error-codes`), which the REST facade's JSON-only procedures cannot.
import { z } from "zod";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from "zod-openapi";
import { AppError } from "../../../platform/errors.js";
import { consumeOrRetryAfter, createRateLimiter } from "../../../platform/rate-limit.js";
import type { AppDeps } from "../../../platform/module.js";
import { bundleScript, widgetSource } from "../challenges/bundle.js";
import { failure, SiteverifyService } from "./service.js";
import {
  siteverifyAnswerSchema,
  siteverifyRequestSchema,
  type SiteverifyInput,
} from "./siteverify.schema.js";

/** Ours, under the public API. */
export const SITEVERIFY_PATH = "/api/v1/siteverify";
/**
 * Where each service's siteverify sits relative to its base URL, so a library whose base URL (or full URL)
 * can be set works unchanged: hCaptcha `https://api.hcaptcha.com/siteverify`, Turnstile
 * `https://challenges.cloudflare.com/turnstile/v0/siteverify`, reCAPTCHA
 * `https://www.google.com/recaptcha/api/siteverify`. Each is served at the root of the main port and under
 * `/_hiveguard` (which is HiveGuard's on every listener, PROXY_PORT included).
 */
export const SERVICE_SITEVERIFY_PATHS = {
  hcaptcha: "/siteverify",
  turnstile: "/turnstile/v0/siteverify",
  recaptcha: "/recaptcha/api/siteverify",
} as const;
export const SITEVERIFY_ROOT_PATHS: readonly string[] = Object.values(SERVICE_SITEVERIFY_PATHS);
export const SITEVERIFY_PATHS: readonly string[] = [
  SITEVERIFY_PATH,
  ...SITEVERIFY_ROOT_PATHS.map((path) => `/_hiveguard${path}`),
  ...SITEVERIFY_ROOT_PATHS,
];

/**
 * The front-end drop-ins (issue 19, part 2): one small entry script per service, so a page loads only what it
 * uses. Each replaces the service's own script URL (hCaptcha `https://js.hcaptcha.com/1/api.js`, Turnstile
 * `https://challenges.cloudflare.com/turnstile/v0/api.js`, reCAPTCHA `https://www.google.com/recaptcha/api.js`).
 */
export const DROP_IN_SCRIPTS = {
  hcaptcha: "/_hiveguard/hcaptcha.js",
  turnstile: "/_hiveguard/turnstile.js",
  recaptcha: "/_hiveguard/recaptcha.js",
} as const;

/** A siteverify body is a few short fields: 64 KB is generous. */
const BODY_LIMIT = 64 * 1024;
const FIELDS = ["secret", "response", "remoteip", "sitekey", "idempotency_key"] as const;
const MAX_LENGTH: Record<(typeof FIELDS)[number], number> = {
  secret: 256,
  response: 4096,
  remoteip: 64,
  sitekey: 256,
  idempotency_key: 128,
};

/** Form fields as one record; a repeated field becomes a list (refused as `bad-request`). */
function formRecord(entries: Iterable<[string, unknown]>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    const previous = record[name];
    record[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return record;
}

/** The request's fields, or null when the body is not a record of short strings (`bad-request`). */
export function readInput(body: unknown): SiteverifyInput | null {
  if (body === undefined || body === null) return {};
  if (typeof body !== "object" || Array.isArray(body)) return null;
  const record = body as Record<string, unknown>;
  const values: Partial<Record<(typeof FIELDS)[number], string>> = {};
  for (const field of FIELDS) {
    const value = record[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string" || value.length > MAX_LENGTH[field] || value.includes("\0")) return null;
    values[field] = value.trim();
  }
  return {
    secret: values.secret,
    response: values.response,
    remoteip: values.remoteip,
    sitekey: values.sitekey,
    idempotencyKey: values.idempotency_key,
  };
}

/**
 * Registered from the guard module's plugin (its OpenAPI entries are the module's `openApiPaths`): the
 * services' answer shapes need their own body parsers and error handler, in a scope of their own.
 */
export async function siteverifyPlugin(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const service = new SiteverifyService({
    sites: deps.services.apiKeys,
    tokens: deps.services.challenges.tokens,
    state: deps.state,
    log: deps.log,
  });
  // Calls per minute from one caller IP: runtime setting `siteverify_rate_limit_ip` (default 6,000: a site's
  // servers verify once per form post; this stops a flood that would fill the spent-token set). A changed
  // number starts fresh counters, as the challenge limits do.
  const limiters = new Map<number, ReturnType<typeof createRateLimiter>>();
  const limiterFor = (points: number) => {
    let limiter = limiters.get(points);
    if (!limiter) {
      limiter = createRateLimiter(deps.state, {
        keyPrefix: `siteverify:ip:${points}`,
        points,
        durationSec: 60,
      });
      limiters.set(points, limiter);
    }
    return limiter;
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header("cache-control", "no-store");
    const points = (await deps.services.runtimeConfig.get()).siteverify_rate_limit_ip;
    const limit = await consumeOrRetryAfter(limiterFor(points), request.ip);
    if (!limit.allowed)
      return reply
        .code(429)
        .header("retry-after", String(limit.retryAfterSec))
        .send({
          ...failure(["too-many-requests"]),
          detail: `Too many siteverify requests; retry in ${limit.retryAfterSec} s`,
        });
    const input = readInput(request.body);
    if (!input) return reply.send(failure(["bad-request"]));
    try {
      return reply.send(await service.verify(input));
    } catch (error) {
      // The database or the state store is away: the services' "try again" answer, never a stack trace.
      request.log.error({ err: error }, "siteverify failed");
      return reply.header("retry-after", "5").send(failure(["internal-error"]));
    }
  };

  for (const [service, path] of Object.entries(DROP_IN_SCRIPTS)) {
    app.get(path, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type("application/javascript; charset=utf-8")
        .header("cache-control", "public, max-age=300")
        .header("access-control-allow-origin", "*")
        .send(await bundleScript(widgetSource(`${service}.ts`))),
    );
  }

  // An encapsulated scope: its body parsers and error handler apply to siteverify only.
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string" },
      (_request, body, done) => {
        // A NUL in a value is refused by readInput (bad-request).
        done(null, formRecord(new URLSearchParams(body as string)));
      },
    );
    // Turnstile's own example posts FormData (multipart); undici's parser reads it.
    scope.addContentTypeParser(
      "multipart/form-data",
      { parseAs: "buffer" },
      (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
        new Response(new Uint8Array(body as Buffer), {
          headers: { "content-type": String(request.headers["content-type"]) },
        })
          .formData()
          .then((form) => done(null, formRecord(form.entries())))
          .catch(() => done(null, "not a form"));
      },
    );
    // Whatever the body was (bad JSON, an unknown content type, too large, a NUL): the services' bad-request.
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error instanceof AppError ? error.status : (error.statusCode ?? 500);
      if (status >= 500 && !(error instanceof SyntaxError)) {
        request.log.error({ err: error }, "siteverify failed");
        return reply
          .code(200)
          .header("cache-control", "no-store")
          .send(failure(["internal-error"]));
      }
      return reply
        .code(200)
        .header("cache-control", "no-store")
        .send(failure(["bad-request"]));
    });
    for (const path of SITEVERIFY_PATHS) {
      scope.post(path, { schema: { hide: true }, bodyLimit: BODY_LIMIT }, handler);
    }
  });
}

const requestBody = {
  required: true,
  content: {
    "application/x-www-form-urlencoded": { schema: siteverifyRequestSchema },
    "multipart/form-data": { schema: siteverifyRequestSchema },
    "application/json": { schema: siteverifyRequestSchema },
  },
};

function operation(operationId: string, summary: string, description: string): ZodOpenApiOperationObject {
  return {
    operationId,
    tags: ["siteverify"],
    summary,
    description,
    // No header credentials: the `secret` field of the body is the credential.
    security: [],
    requestBody,
    responses: {
      200: {
        description:
          "The verdict, in the shape of hCaptcha, Turnstile and reCAPTCHA: `success` with `challenge_ts`, " +
          "`hostname`, `score` and our extras under `hiveguard`; or `success: false` with `error-codes` " +
          "(every refusal, a malformed request included, is a 200 as those services answer)",
        content: { "application/json": { schema: siteverifyAnswerSchema } },
      },
      429: {
        description:
          "Too many siteverify calls from this IP (Retry-After); `error-codes: [too-many-requests]`",
        content: { "application/json": { schema: siteverifyAnswerSchema } },
      },
    },
  };
}

const ourDescription =
  "Checks a widget token with the site key's secret (`POST /dashboard/api/apikeys/{id}/secret`). A token " +
  "passes once (a second check, on any instance, answers `timeout-or-duplicate`), within " +
  "`challenge_token_ttl`, for the secret's site key, on one of the key's hostnames, and from `remoteip` " +
  "when given. Form-encoded, multipart or JSON bodies. See docs/siteverify.md.";

const SCRIPT_NAMES = { hcaptcha: "hCaptcha", turnstile: "Turnstile", recaptcha: "reCAPTCHA v2" } as const;

export const siteverifyExtraPaths: ZodOpenApiPathsObject = {
  ...Object.fromEntries(
    Object.entries(DROP_IN_SCRIPTS).map(([service, path]) => [
      path,
      {
        get: {
          operationId: `guard-dropin-${service}`,
          tags: ["siteverify"],
          security: [],
          summary: `${SCRIPT_NAMES[service as keyof typeof SCRIPT_NAMES]} drop-in script (< 15 KB gzipped)`,
          description:
            `The JavaScript API, markup (\`.${service === "hcaptcha" ? "h-captcha" : service === "turnstile" ? "cf-turnstile" : "g-recaptcha"}\` ` +
            "with `data-sitekey`, `data-callback`...) and hidden form field of the service, drawing HiveGuard's " +
            "challenge; `onload` and `render=explicit` query parameters. See docs/siteverify.md.",
          requestParams: {
            query: z.object({
              onload: z
                .string()
                .optional()
                .describe("Name of a global function to call once the API is ready"),
              render: z
                .enum(["explicit", "onload"])
                .optional()
                .describe("`explicit`: no automatic rendering"),
            }),
          },
          responses: {
            200: { description: "JavaScript", content: { "application/javascript": { schema: z.string() } } },
          },
        },
      },
    ]),
  ),
  [SITEVERIFY_PATH]: {
    post: operation("guard-siteverify", "Verify a widget token (siteverify)", ourDescription),
  },
  ...Object.fromEntries(
    Object.entries(SERVICE_SITEVERIFY_PATHS).flatMap(([service, path]) => {
      const summary = `Siteverify at ${service}'s path (base URL drop-in)`;
      const description = `The same as \`POST ${SITEVERIFY_PATH}\`, where ${service} libraries look for it relative to a configurable base URL.`;
      return [
        [path, { post: operation(`guard-siteverify-${service}`, summary, description) }],
        [
          `/_hiveguard${path}`,
          {
            post: operation(
              `guard-siteverify-${service}-hiveguard`,
              `${summary}, under /_hiveguard`,
              `${description} Under \`/_hiveguard\`, which HiveGuard keeps on every listener.`,
            ),
          },
        ],
      ];
    }),
  ),
};
