import { z } from "zod";

export const healthOutput = z
  .object({
    status: z.literal("ok"),
    version: z.string().describe("Version of the running HiveGuard server"),
  })
  .meta({ id: "Health" });

export const dependencyCheck = z
  .object({
    ok: z.boolean(),
    backend: z.string().describe("Which implementation answered: pglite/postgres, memory/redis"),
    latency_ms: z.number(),
    error: z.string().nullable(),
  })
  .meta({ id: "DependencyCheck" });

export const readinessOutput = z
  .object({
    status: z.literal("ready"),
    database: dependencyCheck.optional().describe("Only with the dashboard credentials"),
    state: dependencyCheck.optional().describe("Only with the dashboard credentials"),
  })
  .meta({ id: "Readiness" });

export type DependencyCheck = z.infer<typeof dependencyCheck>;
