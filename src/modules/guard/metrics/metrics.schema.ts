import { z } from "zod";

export const metricsSchema = z
  .object({
    total_challenges: z.int().describe("Challenges served since the counters started"),
    total_items: z.int().describe("Items in all datasets (exact)"),
    solve_rate_pct: z
      .number()
      .describe("Passed submissions as a percentage of all submissions (0 when none)"),
    recent_sessions: z.int().describe("Challenge sessions started in the last 15 minutes"),
    challenges_passed: z.int(),
    challenges_failed: z.int(),
  })
  .meta({ id: "Metrics" });

export type Metrics = z.infer<typeof metricsSchema>;
