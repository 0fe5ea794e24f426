import { z } from "zod";
import { uuidSchema } from "../shared.schema.js";

export const apiKeySchema = z
  .object({
    id: z.string(),
    label: z.string(),
    key_prefix: z.string().describe("First characters of the key, to tell keys apart; never the whole key"),
    datasets: z.array(z.string()).describe("Datasets the key may see and draw challenges from; empty = all"),
    sample_rate: z.number().describe("Fraction of generate calls that get a challenge"),
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
  })
  .strict()
  .meta({ id: "ApiKeyCreate" });

export type ApiKeyOut = z.infer<typeof apiKeySchema>;
export type CreatedApiKey = z.infer<typeof createdApiKeySchema>;
export type CreateApiKeyInput = z.infer<typeof createApiKeySchema>;
