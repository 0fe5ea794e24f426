import { z } from "zod";
import { timestampSchema, uuidSchema } from "../shared.schema.js";

export const MATCH_TYPES = ["exact", "prefix", "glob"] as const;
export const matchTypeSchema = z.enum(MATCH_TYPES).meta({ id: "MatchType" });
export type MatchType = z.infer<typeof matchTypeSchema>;

export const MAX_PATTERN = 1024;

export const proxyRuleSchema = z
  .object({
    id: z.string(),
    pattern: z.string(),
    match_type: matchTypeSchema,
    priority: z.int().describe("Higher is evaluated first"),
    enabled: z.boolean(),
    created_at: timestampSchema,
    updated_at: timestampSchema,
  })
  .meta({ id: "ProxyRule" });

const patternSchema = z
  .string()
  .min(1)
  .max(MAX_PATTERN)
  .describe("Path pattern; must start with /. Globs: * (within a segment), ** (across), ?, [a-z], {a,b}");
const prioritySchema = z.int().min(-1_000_000).max(1_000_000);

export const createProxyRuleSchema = z
  .object({
    pattern: patternSchema,
    match_type: matchTypeSchema.default("prefix"),
    priority: prioritySchema.default(0),
    enabled: z.boolean().default(true),
  })
  .strict()
  .meta({ id: "ProxyRuleCreate" });

export const updateProxyRuleSchema = z
  .object({
    id: uuidSchema,
    pattern: patternSchema.optional(),
    match_type: matchTypeSchema.optional(),
    priority: prioritySchema.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .meta({ id: "ProxyRuleUpdate" });

export const proxyRuleTestSchema = z
  .object({ path: z.string().min(1).max(2048).describe("A request path, e.g. /blog/post-1?x=1") })
  .strict();

export const proxyRuleMatchSchema = z
  .object({
    path: z.string().describe("The path as rules see it: no query, percent-decoded when canonical"),
    canonical: z
      .boolean()
      .describe(
        "False for a path an upstream may read differently (encoded / or \\, //, dot segments, double encoding...): never exempt",
      ),
    reason: z.string().nullable().describe("Why the path is not canonical, or null"),
    exempt: z.boolean().describe("True when a rule lets the request through without a challenge"),
    rule: proxyRuleSchema.nullable().describe("The first enabled rule that matches, in evaluation order"),
  })
  .meta({ id: "ProxyRuleMatch" });

export type ProxyRuleOut = z.infer<typeof proxyRuleSchema>;
export type CreateProxyRuleInput = z.infer<typeof createProxyRuleSchema>;
export type UpdateProxyRuleInput = z.infer<typeof updateProxyRuleSchema>;
