// The bench procedure builders: signed-in users (`userProcedure`, platform) and admins.
import type { ClientInfo } from "../admin/audit.js";
import { ForbiddenError } from "../../../platform/errors.js";
import type { Context } from "../../../trpc/context.js";
import { headerValue } from "../../../trpc/context.js";
import { userProcedure } from "../../../trpc/init.js";

export const ADMIN_REQUIRED = "Admin access required";

/** A signed-in user whose role is admin (403 otherwise, as upstream). */
export const adminProcedure = userProcedure.use(({ ctx, next }) => {
  if (ctx.principal.role !== "admin") throw new ForbiddenError(ADMIN_REQUIRED);
  return next();
});

/** Where the request came from, for the audit log. */
export function clientOf(ctx: Pick<Context, "req">): ClientInfo {
  return { ip: ctx.req.ip, userAgent: headerValue(ctx.req.headers, "user-agent") };
}

/** Tags of the bench operations in the OpenAPI document. */
export const TAGS = {
  auth: ["bench: auth"],
  config: ["bench: config"],
  keys: ["bench: keys"],
  params: ["bench: provider params"],
  settings: ["bench: settings"],
  admin: ["bench: admin"],
  benchmarks: ["bench: benchmarks"],
  history: ["bench: history"],
  analytics: ["bench: analytics"],
  schedules: ["bench: schedules"],
  export: ["bench: export"],
  toolSuites: ["bench: tool suites"],
  toolEval: ["bench: tool eval"],
  mcp: ["bench: mcp"],
  labeling: ["bench: labeling (crowd vs models)"],
} as const;
