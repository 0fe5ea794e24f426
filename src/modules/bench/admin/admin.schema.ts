// The wire contract of bench administration (/api/admin/*), in LLM Benchmark Studio's shapes.
import { z } from "zod";
import { roleSchema } from "../users/users.schema.js";

export const userIdParamSchema = z.object({ user_id: z.uuid("user_id must be a UUID") });

export const adminUsersSchema = z.object({
  users: z.array(
    z.object({
      id: z.string(),
      email: z.string(),
      role: roleSchema,
      created_at: z.string(),
      last_login: z.string().nullable(),
      benchmark_count: z.number(),
      key_count: z.number(),
    }),
  ),
});

export const setRoleSchema = userIdParamSchema.extend({ role: roleSchema });

export const rateLimitsSchema = z.object({
  benchmarks_per_hour: z.int().min(0).max(1_000_000),
  max_concurrent: z.int().min(1).max(100),
  max_runs_per_benchmark: z.int().min(1).max(20),
});
export const setRateLimitsSchema = userIdParamSchema.extend(rateLimitsSchema.partial().shape);

export const statsSchema = z.object({
  benchmarks_24h: z.number(),
  benchmarks_7d: z.number(),
  benchmarks_30d: z.number(),
  top_users: z.array(z.object({ username: z.string(), cnt: z.number() })),
  keys_by_provider: z.array(z.object({ provider: z.string(), user_count: z.number() })),
  total_users: z.number(),
});

export const systemSchema = z.object({
  db_size_mb: z.number(),
  results_size_mb: z.number(),
  results_count: z.number(),
  benchmark_active: z.number(),
  process_uptime_s: z.number(),
});

export const auditQuerySchema = z.object({
  user: z.string().max(254).optional().describe("A user id, or part of an email"),
  action: z.string().max(64).optional(),
  since: z.iso.datetime({ offset: true, local: true }).optional().describe("ISO 8601 date-time"),
  limit: z.int().min(1).max(1000).default(100),
  offset: z.int().min(0).max(1_000_000).default(0),
});

export const auditSchema = z.object({
  entries: z.array(
    z.object({
      id: z.number(),
      timestamp: z.string(),
      user_id: z.string().nullable(),
      username: z.string().nullable(),
      action: z.string(),
      resource_type: z.string().nullable(),
      resource_id: z.string().nullable(),
      detail: z.string().nullable(),
      ip_address: z.string().nullable(),
      user_agent: z.string().nullable(),
    }),
  ),
});
