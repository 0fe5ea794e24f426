import type { ApiKeyPrincipal } from "../../../platform/auth.js";
import { type Context, headerValue } from "../../../trpc/context.js";
import { apiKeyProcedure, router } from "../../../trpc/init.js";
import { scopeOf } from "../items/service.js";
import type { Modality } from "../shared.schema.js";
import {
  BYPASS_HEADER,
  challengeSchema,
  generatePathSchema,
  generateQuerySchema,
  submitResultSchema,
  submitSchema,
} from "./challenge.schema.js";
import type { Requester } from "./service.js";
import { TOKEN_HEADER } from "./token.js";

const tags = ["challenge"];

/** The caller as the challenge service sees it. */
export function requesterOf(ctx: Context, principal: ApiKeyPrincipal): Requester {
  return {
    keyId: principal.keyId,
    scope: scopeOf(principal),
    sampleRate: principal.sampleRate,
    client: { ip: ctx.req.ip, userAgent: headerValue(ctx.req.headers, "user-agent") ?? "" },
    headers: {
      acceptLanguage: headerValue(ctx.req.headers, "accept-language"),
      accept: headerValue(ctx.req.headers, "accept"),
    },
    hostname: pageHostname(ctx.req.headers),
    allowedHostnames: principal.hostnames ?? [],
  };
}

/** The hostname of the page making the request: its Origin, else its Referer; null when neither names one. */
export function pageHostname(headers: Context["req"]["headers"]): string | null {
  for (const name of ["origin", "referer"]) {
    const value = headerValue(headers, name);
    if (!value || value === "null") continue;
    try {
      const host = new URL(value).hostname.toLowerCase();
      if (host) return host.replace(/^\[|\]$/g, "");
    } catch {
      // not a URL: try the next header
    }
  }
  return null;
}

async function generate(ctx: Context, principal: ApiKeyPrincipal, modality: Modality | undefined) {
  const who = requesterOf(ctx, principal);
  const result = await ctx.deps.services.challenges.generate(who, modality);
  if (result.kind === "challenge") return result.challenge;
  ctx.response.status = 204;
  ctx.response.headers[BYPASS_HEADER] = result.reason;
  // The visitor is let through: a token saying why, so a site that checks tokens with siteverify agrees.
  ctx.response.headers[TOKEN_HEADER] = await ctx.deps.services.challenges.bypassToken(
    who.client,
    result.reason,
    who,
  );
  return null;
}

const generateDocs = {
  extraResponses: {
    204: {
      description:
        "No challenge: the key's sample_rate skipped this call (`sampled`) or there is no ground truth " +
        "to build one (`no-gt-pool`, fail-open). The visitor is let through.",
      headers: {
        [BYPASS_HEADER]: "`sampled` or `no-gt-pool`",
        [TOKEN_HEADER]:
          "A token for the visitor let through (claim `bypass`), to hand to the site like a solved one: siteverify accepts it",
      },
    },
  },
  graphql: { hidden: true },
} as const;
/** The widget calls these from the site's own origin; the API key is public by design. */
const cors = { exposeHeaders: [BYPASS_HEADER, TOKEN_HEADER, "Retry-After"] };
const generateErrors = {
  429: "Too many generate requests from this IP or key (Retry-After)",
  503: "Challenge pool empty and fail_mode is closed",
};

export const challengesRouter = router({
  generate: apiKeyProcedure
    .meta({
      scope: "challenge",
      cors,
      openapi: {
        method: "GET",
        path: "/api/v1/challenge/generate",
        tags,
        summary: "Generate a challenge",
        description:
          "Tier 1: a ground-truth item and an unlabeled one; tier 2: a ground-truth item and one in " +
          "re-validation; tier 3: a ground-truth item alone; tier 4: 204. Items come in random order with " +
          "opaque per-challenge ids.",
        errorResponses: generateErrors,
      },
      ...generateDocs,
    })
    .input(generateQuerySchema)
    .output(challengeSchema.nullable())
    .query(({ ctx, input }) => generate(ctx, ctx.principal, input.modality)),

  generateFor: apiKeyProcedure
    .meta({
      scope: "challenge",
      cors,
      openapi: {
        method: "GET",
        path: "/api/v1/challenge/generate/{modality}",
        tags,
        summary: "Generate a challenge of a modality (falls back to another one when it has no ground truth)",
        errorResponses: generateErrors,
      },
      ...generateDocs,
    })
    .input(generatePathSchema)
    .output(challengeSchema.nullable())
    .query(({ ctx, input }) => generate(ctx, ctx.principal, input.modality)),

  submit: apiKeyProcedure
    .meta({
      scope: "challenge",
      cors,
      openapi: {
        method: "POST",
        path: "/api/v1/challenge/submit",
        tags,
        summary: "Submit the answers of a challenge",
        description:
          "Ground truth right (and risk score ≥ risk_threshold): passed with a token, and the answer on the " +
          "other item counts as a vote. Wrong, unknown, expired or already used challenge: " +
          '`{"passed": false, "token": null}` with status 200.',
        errorResponses: { 429: "Too many submit requests from this IP or key (Retry-After)" },
      },
      graphql: { hidden: true },
    })
    .input(submitSchema)
    .output(submitResultSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.challenges.submit(requesterOf(ctx, ctx.principal), input),
    ),
});
