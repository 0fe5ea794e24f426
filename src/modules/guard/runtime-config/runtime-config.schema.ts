import { z } from "zod";

/** Upper bound of max_gt_items: with the unknown item, a challenge has at most MAX_GT_ITEMS + 1 items. */
export const MAX_GT_ITEMS = 8;

export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;

/** Runtime settings: live in the state store, change without restart, and apply on every instance. */
export const runtimeConfigSchema = z
  .object({
    risk_threshold: z
      .number()
      .min(0)
      .max(1)
      .describe("Minimum human-confidence score a response needs to pass"),
    consensus_threshold: z
      .number()
      .min(0)
      .max(1)
      .describe("Agreement fraction a label needs to be finalized"),
    consensus_min_votes: z.int().min(1).max(1000).describe("Votes an item needs before it can be finalized"),
    proxy_timeout: z.number().gt(0).max(3600).describe("Upstream timeout in seconds"),
    challenge_token_ttl: z
      .int()
      .min(10)
      .max(7 * 24 * 3600)
      .describe("Lifetime of the challenge token in seconds"),
    log_level: z.enum(LOG_LEVELS).describe("Runtime log level"),
    fail_mode: z
      .enum(["open", "closed"])
      .describe("With no ground-truth pool: let visitors through (open) or answer 503 (closed)"),
    revalidation_exit_confidence: z
      .number()
      .min(0)
      .max(1)
      .describe("An item in re-validation graduates at this confidence (with enough votes)"),
    revalidation_min_total_votes: z
      .int()
      .min(1)
      .max(100_000)
      .describe("Total votes an item needs before it can graduate"),
    revalidation_min_votes: z
      .int()
      .min(1)
      .max(1000)
      .describe("Unprocessed re-validation votes that trigger a batch"),
    revalidation_delta: z
      .number()
      .gt(0)
      .max(1)
      .describe("Confidence added per agreeing vote, subtracted per disagreeing one"),
    revalidation_floor: z
      .number()
      .min(0)
      .max(1)
      .describe("Below this confidence an item is flagged needs_review and left out of exports"),
    revalidation_promote_to_gt: z
      .boolean()
      .describe("Graduated items join the ground-truth pool, so the ladder rarely falls to tier 4"),
    challenge_lifetime: z
      .int()
      .min(2)
      .max(3600)
      .describe("Seconds a served challenge can be submitted (its expires_at)"),
    challenge_rate_limit_ip: z
      .int()
      .min(1)
      .max(1_000_000)
      .describe("Generate calls, and separately submit calls, allowed per client IP per minute"),
    challenge_rate_limit_key: z
      .int()
      .min(1)
      .max(10_000_000)
      .describe("Generate calls, and separately submit calls, allowed per API key per minute"),
    siteverify_rate_limit_ip: z
      .int()
      .min(1)
      .max(10_000_000)
      .describe("Siteverify calls allowed per calling IP (a site's servers) per minute"),
    max_guess_rate: z
      .number()
      .gt(0)
      .max(1)
      .describe(
        "Highest chance that random answers pass a challenge: ground-truth items are added until the product of their guess rates is at most this",
      ),
    max_gt_items: z
      .int()
      .min(1)
      .max(MAX_GT_ITEMS)
      .describe("Most ground-truth items in one challenge (the guess-rate bound stops here if not met)"),
    escalation_factor: z
      .number()
      .min(1)
      .max(1000)
      .describe("The allowed guess rate is divided by this for each recent failure of the client (1 = off)"),
    escalation_window: z
      .int()
      .min(10)
      .max(7 * 24 * 3600)
      .describe("Seconds over which a failure is forgotten (sliding window, linear decay)"),
    escalation_network_share: z
      .number()
      .min(0)
      .max(1)
      .describe("How much each recent failure of the client's network (IPv4 /24, IPv6 /64) counts for it"),
    escalation_block_after: z
      .number()
      .gt(0)
      .max(1000)
      .describe("Recent failures at which generate answers 429 with Retry-After until they decay"),
    vote_hold_failures: z
      .number()
      .gt(0)
      .max(1000)
      .describe(
        "A right answer is not counted as a vote when the client had at least this many recent failures",
      ),
    vote_min_risk_score: z
      .number()
      .min(0)
      .max(1)
      .describe("A right answer whose risk score is below this is not counted as a vote"),
  })
  .meta({ id: "RuntimeConfig" });

export const runtimeConfigPatchSchema = runtimeConfigSchema
  .partial()
  .strict()
  .meta({ id: "RuntimeConfigPatch", description: "Only the fields given are changed" });

export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
export type RuntimeConfigPatch = z.infer<typeof runtimeConfigPatchSchema>;

export const RUNTIME_CONFIG_DEFAULTS: RuntimeConfig = {
  risk_threshold: 0.5,
  consensus_threshold: 0.6,
  consensus_min_votes: 3,
  proxy_timeout: 30.0,
  challenge_token_ttl: 300,
  log_level: "INFO",
  fail_mode: "open",
  revalidation_exit_confidence: 0.85,
  revalidation_min_total_votes: 15,
  revalidation_min_votes: 3,
  revalidation_delta: 0.05,
  revalidation_floor: 0.6,
  revalidation_promote_to_gt: true,
  challenge_lifetime: 300,
  challenge_rate_limit_ip: 60,
  challenge_rate_limit_key: 6000,
  siteverify_rate_limit_ip: 6000,
  max_guess_rate: 0.05,
  max_gt_items: 6,
  escalation_factor: 4,
  escalation_window: 900,
  escalation_network_share: 0.1,
  escalation_block_after: 5,
  vote_hold_failures: 1,
  vote_min_risk_score: 0.7,
};
