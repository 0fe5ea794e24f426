import { z } from "zod";
import { SESSION_COOKIE } from "../../platform/auth.js";
import { publicProcedure, router } from "../../trpc/init.js";
import { checkReadiness } from "./service.js";
import { healthOutput, readinessOutput } from "./system.schema.js";

export const systemRouter = router({
  health: publicProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/health", tags: ["system"], summary: "Check server health" },
      graphql: { name: "health" },
    })
    .input(z.void())
    .output(healthOutput)
    .query(({ ctx }) => ({ status: "ok" as const, version: ctx.deps.version })),

  ready: publicProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/ready",
        tags: ["system"],
        summary: "Readiness: whether the database and the state store (Redis) answer",
        description:
          "Anyone gets the status (200, or 503 `Not ready`). With the dashboard credentials, the answer also " +
          "names the backends with their latency, and a 503 names the one that does not answer.",
        errorResponses: {
          401: "Credentials were given and are wrong (leave them out for the status alone)",
          429: "Too many failed login attempts",
          503: "A dependency is not answering",
        },
      },
      graphql: { name: "readiness" },
    })
    .input(z.void())
    .output(readinessOutput)
    .query(async ({ ctx }) => {
      // Credentials are optional here; when given they must be right (401 and the login limit otherwise).
      const { authorization, cookie } = ctx.req.headers;
      const withCredentials = Boolean(authorization) || Boolean(cookie?.includes(`${SESSION_COOKIE}=`));
      if (withCredentials)
        await ctx.deps.auth.dashboard.authenticateRequest(ctx.req.headers, ctx.req.ip, { write: false });
      return checkReadiness(ctx.deps, { detailed: withCredentials });
    }),
});
