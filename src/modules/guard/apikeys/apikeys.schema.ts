import { z } from "zod";
import { API_KEY_SCOPES } from "../../../platform/auth.js";
import { uuidSchema } from "../shared.schema.js";

const scopesDescription =
  "What the key may do: `challenge` (generate and submit challenges), `data:read` (list items and labels), `data:write` (upload items). A key in public pages (the widget) should hold `challenge` only.";

export const apiKeySchema = z
  .object({
    id: z.string(),
    label: z.string(),
    key_prefix: z.string().describe("First characters of the key, to tell keys apart; never the whole key"),
    datasets: z.array(z.string()).describe("Datasets the key may see and draw challenges from; empty = all"),
    sample_rate: z.number().describe("Fraction of generate calls that get a challenge"),
    scopes: z.array(z.enum(API_KEY_SCOPES)).describe(scopesDescription),
    created_at: z.string(),
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
      .array(z.enum(API_KEY_SCOPES))
      .min(1)
      .max(API_KEY_SCOPES.length)
      .default([...API_KEY_SCOPES])
      .describe(`${scopesDescription} Default: all three.`),
  })
  .strict()
  .meta({ id: "ApiKeyCreate" });

export type ApiKeyOut = z.infer<typeof apiKeySchema>;
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;
/** Callers inside the server (benchmarks, tests) may leave the scopes out: all of them. */
export type CreateApiKeyInput = Omit<z.infer<typeof createApiKeySchema>, "scopes"> & {
  scopes?: z.infer<typeof createApiKeySchema>["scopes"];
};
