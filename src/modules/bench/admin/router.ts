import { z } from "zod";
import { router } from "../../../trpc/init.js";
import { adminProcedure, ADMIN_REQUIRED, clientOf, TAGS } from "../shared/procedures.js";
import {
  adminUsersSchema,
  auditQuerySchema,
  auditSchema,
  rateLimitsSchema,
  setRateLimitsSchema,
  setRoleSchema,
  statsSchema,
  systemSchema,
  userIdParamSchema,
} from "./admin.schema.js";

const tags = [...TAGS.admin];
const okSchema = z.object({ status: z.literal("ok") });
const forbidden = { 403: ADMIN_REQUIRED };

export const adminRouter = router({
  users: adminProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/admin/users",
        tags,
        summary: "Every user, with usage counts",
        errorResponses: forbidden,
      },
    })
    .input(z.void())
    .output(adminUsersSchema)
    .query(({ ctx }) => ctx.deps.services.benchAdmin.users()),

  setRole: adminProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/admin/users/{user_id}/role",
        tags,
        summary: "Change a user's role (not your own)",
        errorResponses: { ...forbidden, 400: "Cannot change your own role", 404: "User not found" },
      },
    })
    .input(setRoleSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchAdmin.setRole(ctx.principal, input.user_id, input.role, clientOf(ctx)),
    ),

  deleteUser: adminProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/admin/users/{user_id}",
        tags,
        summary: "Delete a user and all their data (not yourself)",
        errorResponses: { ...forbidden, 400: "Cannot delete yourself", 404: "User not found" },
      },
    })
    .input(userIdParamSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchAdmin.deleteUser(ctx.principal, input.user_id, clientOf(ctx)),
    ),

  getRateLimit: adminProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/admin/users/{user_id}/rate-limit",
        tags,
        summary: "A user's benchmark limits (admin-set, else the defaults)",
        errorResponses: { ...forbidden, 404: "User not found" },
      },
    })
    .input(userIdParamSchema)
    .output(rateLimitsSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchAdmin.getRateLimits(input.user_id)),

  setRateLimit: adminProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/admin/users/{user_id}/rate-limit",
        tags,
        summary:
          "Set a user's benchmark limits (benchmarks_per_hour, max_concurrent, max_runs_per_benchmark)",
        errorResponses: { ...forbidden, 404: "User not found" },
      },
    })
    .input(setRateLimitsSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => {
      const { user_id, ...limits } = input;
      return ctx.deps.services.benchAdmin.setRateLimits(ctx.principal, user_id, limits, clientOf(ctx));
    }),

  stats: adminProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/admin/stats",
        tags,
        summary: "Usage statistics",
        errorResponses: forbidden,
      },
    })
    .input(z.void())
    .output(statsSchema)
    .query(({ ctx }) => ctx.deps.services.benchAdmin.stats()),

  system: adminProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/admin/system",
        tags,
        summary: "System health: database size, results, active benchmarks, uptime",
        errorResponses: forbidden,
      },
    })
    .input(z.void())
    .output(systemSchema)
    .query(({ ctx }) => ctx.deps.services.benchAdmin.system()),

  audit: adminProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/admin/audit",
        tags,
        summary: "Audit log (logins, failed logins, key changes, role changes, deletions), newest first",
        errorResponses: forbidden,
      },
    })
    .input(auditQuerySchema)
    .output(auditSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchAdmin.audit(input)),
});
