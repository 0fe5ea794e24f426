import { z } from "zod";
import { API_KEY_SCOPES } from "../../../platform/auth.js";
import { timestampSchema, uuidSchema } from "../shared.schema.js";

/** One enum for the concept, wherever it appears (GraphQL `ApiKeyScope`: CHALLENGE, DATA_READ, DATA_WRITE). */
export const apiKeyScopeSchema = z.enum(API_KEY_SCOPES).meta({ id: "ApiKeyScope" });

const scopesDescription =
  "What the key may do: `challenge` (generate and submit challenges), `data:read` (list items and labels), `data:write` (upload items). A key in public pages (the widget) should hold `challenge` only.";

/** A hostname as a site key's allow-list holds it: lower case, no scheme, port or path (subdomains match). */
export const hostnameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/,
    "a hostname such as example.com (no scheme, port or path)",
  );

const hostnamesDescription =
  "Hostnames the widget may run on with this key as a site key (siteverify); each one includes its subdomains. Empty = any.";

export const apiKeySchema = z
  .object({
    id: z.string(),
    label: z.string(),
    key_prefix: z.string().describe("First characters of the key, to tell keys apart; never the whole key"),
    datasets: z.array(z.string()).describe("Datasets the key may see and draw challenges from; empty = all"),
    sample_rate: z.number().describe("Fraction of generate calls that get a challenge"),
    scopes: z.array(apiKeyScopeSchema).describe(scopesDescription),
    created_at: timestampSchema,
    hostnames: z.array(z.string()).describe(hostnamesDescription),
    secret_prefix: z
      .string()
      .nullable()
      .describe(
        "First characters of the key's siteverify secret; null = no secret (siteverify refuses the key)",
      ),
    secret_created_at: timestampSchema.nullable().describe("When the current siteverify secret was made"),
    previous_secret_expires_at: timestampSchema
      .nullable()
      .describe("Until when the secret the last rotation replaced is still accepted; null = none is"),
  })
  .meta({ id: "ApiKey" });

export const createdApiKeySchema = apiKeySchema
  .extend({ raw_key: z.string().describe("The key itself: shown once, never retrievable again") })
  .meta({ id: "CreatedApiKey" });

export const createApiKeySchema = z
  .object({
    label: z.string().trim().min(1).max(200),
    datasets: z.array(uuidSchema).max(1000).default([]),
    sample_rate: z.number().min(0).max(1).default(1.0),
    scopes: z
      .array(apiKeyScopeSchema)
      .min(1)
      .max(API_KEY_SCOPES.length)
      .default([...API_KEY_SCOPES])
      .describe(`${scopesDescription} Default: all three.`),
    hostnames: z.array(hostnameSchema).max(100).default([]).describe(hostnamesDescription),
  })
  .strict()
  .meta({ id: "ApiKeyCreate" });

export const updateApiKeySchema = z
  .object({
    id: uuidSchema,
    hostnames: z.array(hostnameSchema).max(100).optional().describe(hostnamesDescription),
  })
  .strict()
  .meta({ id: "ApiKeyUpdate" });

/** Default overlap of a rotation: the old secret keeps working two hours (as Turnstile's rotation does). */
export const DEFAULT_SECRET_OVERLAP_SEC = 7200;

export const rotateSecretSchema = z
  .object({
    id: uuidSchema,
    overlap_seconds: z
      .int()
      .min(0)
      .max(30 * 86400)
      .default(DEFAULT_SECRET_OVERLAP_SEC)
      .describe(
        "When the key already has a secret: seconds the old one stays valid beside the new one (0 = refused at once). Default 7200.",
      ),
  })
  .strict()
  .meta({ id: "ApiKeySecretRotate" });

export const createdSecretSchema = z
  .object({
    id: z.string().describe("The API key (site key) id"),
    secret: z.string().describe("The siteverify secret: shown once, never retrievable again"),
    secret_prefix: z.string(),
    secret_created_at: timestampSchema,
    previous_secret_expires_at: timestampSchema
      .nullable()
      .describe("Until when the replaced secret is still accepted; null when there was none"),
  })
  .meta({ id: "ApiKeySecret" });

export type ApiKeyOut = z.infer<typeof apiKeySchema>;
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;
export type CreatedSecret = z.infer<typeof createdSecretSchema>;
/** Callers inside the server (benchmarks, tests) may leave the scopes out: all of them. */
export type CreateApiKeyInput = Omit<z.infer<typeof createApiKeySchema>, "scopes" | "hostnames"> & {
  scopes?: z.infer<typeof createApiKeySchema>["scopes"];
  hostnames?: string[];
};
