// The siteverify wire contract (issue 19): the request fields and the answer of hCaptcha, Cloudflare Turnstile
// and Google reCAPTCHA, whose integrations a site can point at HiveGuard unchanged.
import { z } from "zod";

/** Every error code siteverify answers; the first seven are the three services' common ones. */
export const SITEVERIFY_ERROR_CODES = [
  "missing-input-secret",
  "invalid-input-secret",
  "missing-input-response",
  "invalid-input-response",
  "timeout-or-duplicate",
  "bad-request",
  "internal-error",
  /** hCaptcha's: a `sitekey` was given that is not the secret's site key. */
  "sitekey-secret-mismatch",
  /** Ours (with status 429): too many siteverify calls from the caller's IP. */
  "too-many-requests",
] as const;
export type SiteverifyErrorCode = (typeof SITEVERIFY_ERROR_CODES)[number];

/** Why a token was refused, in our own extras (`hiveguard.reason`): for the site's logs, never for visitors. */
export const SITEVERIFY_REASONS = [
  "malformed",
  "algorithm",
  "signature",
  "claims",
  "expired",
  "duplicate",
  "not_a_site_token",
  "other_site",
  "hostname",
  "remoteip",
] as const;
export type SiteverifyReason = (typeof SITEVERIFY_REASONS)[number];

export const siteverifyRequestSchema = z
  .object({
    secret: z.string().max(256).describe("The site key's siteverify secret (`hgs_...`)"),
    response: z
      .string()
      .max(4096)
      .describe(
        "The token the widget gave the page (the form field `h-captcha-response`, `cf-turnstile-response`, `g-recaptcha-response` or `hiveguard-token`)",
      ),
    remoteip: z
      .string()
      .max(64)
      .optional()
      .describe("The visitor's IP address: when given, it must be the one the challenge was solved from"),
    sitekey: z
      .string()
      .max(256)
      .optional()
      .describe("The site key the token is expected for (hCaptcha's parameter): must be the secret's"),
    idempotency_key: z
      .string()
      .max(128)
      .optional()
      .describe(
        "Turnstile's retry key: a second call with the same token and the same key gets the first answer again instead of `timeout-or-duplicate`",
      ),
  })
  .meta({ id: "SiteverifyRequest" });

export const siteverifyExtrasSchema = z
  .object({
    site_key_id: z.string().nullable().describe("Id of the API key (site key) the token was issued for"),
    tier: z.int().nullable().describe("Tier of the solved challenge (docs/challenges.md); null for a bypass"),
    bypass: z
      .string()
      .nullable()
      .describe("Set when the visitor was let through without a challenge: `sampled` or `no-gt-pool`"),
    expires_at: z.string().nullable().describe("When the token stops being accepted (ISO 8601)"),
    reason: z
      .enum(SITEVERIFY_REASONS)
      .nullable()
      .describe("Why a token was refused (for the site's own logs); null on success"),
    replayed: z
      .boolean()
      .describe("The answer to an earlier call with the same token and idempotency_key, repeated"),
  })
  .meta({ id: "SiteverifyExtras" });

export const siteverifyAnswerSchema = z
  .object({
    success: z.boolean(),
    challenge_ts: z.string().optional().describe("When the challenge was solved (ISO 8601); on success only"),
    hostname: z
      .string()
      .optional()
      .describe("Hostname of the page the widget ran on (its Origin); empty when unknown; on success only"),
    "error-codes": z.array(z.enum(SITEVERIFY_ERROR_CODES)),
    score: z
      .number()
      .nullable()
      .optional()
      .describe("HiveGuard's risk score of the solved session, 0–1 (1 = surely human); null for a bypass"),
    action: z.string().optional().describe("Always empty (Turnstile/reCAPTCHA v3 field, kept for shape)"),
    cdata: z.string().optional().describe("Always empty (Turnstile field, kept for shape)"),
    hiveguard: siteverifyExtrasSchema.optional().describe("HiveGuard's own extras"),
    detail: z.string().optional().describe("With 429 only: the project's usual error text"),
  })
  .meta({ id: "SiteverifyAnswer" });

export type SiteverifyAnswer = z.infer<typeof siteverifyAnswerSchema>;
export type SiteverifyExtras = z.infer<typeof siteverifyExtrasSchema>;

/** The request as the service takes it: every field as it arrived, strings or absent. */
export interface SiteverifyInput {
  secret?: string;
  response?: string;
  remoteip?: string;
  sitekey?: string;
  idempotencyKey?: string;
}
