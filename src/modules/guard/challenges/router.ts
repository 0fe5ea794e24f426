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
  };
}

async function generate(ctx: Context, principal: ApiKeyPrincipal, modality: Modality | undefined) {
  const result = await ctx.deps.services.challenges.generate(requesterOf(ctx, principal), modality);
  if (result.kind === "challenge") return result.challenge;
  ctx.response.status = 204;
  ctx.response.headers[BYPASS_HEADER] = result.reason;
  return null;
}

const generateDocs = {
  extraResponses: {
    204: {
      description:
        "No challenge: the key's sample_rate skipped this call (`sampled`) or there is no ground truth " +
        "to build one (`no-gt-pool`, fail-open). The visitor is let through.",
      headers: { [BYPASS_HEADER]: "`sampled` or `no-gt-pool`" },
    },
  },
  graphql: { hidden: true },
} as const;
const generateErrors = {
  429: "Too many generate requests from this IP or key (Retry-After)",
  503: "Challenge pool empty and fail_mode is closed",
};

export const challengesRouter = router({
  generate: apiKeyProcedure
    .meta({
      scope: "challenge",
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
