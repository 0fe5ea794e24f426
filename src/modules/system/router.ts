import { z } from "zod";
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
        errorResponses: { 503: "A dependency is not answering" },
      },
      graphql: { name: "readiness" },
    })
    .input(z.void())
    .output(readinessOutput)
    .query(({ ctx }) => checkReadiness(ctx.deps)),
});
