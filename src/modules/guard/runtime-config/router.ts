import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { runtimeConfigPatchSchema, runtimeConfigSchema } from "./runtime-config.schema.js";

export const runtimeConfigRouter = router({
  get: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/config",
        tags: ["dashboard"],
        summary: "Read runtime config",
      },
      graphql: { name: "runtimeConfig" },
    })
    .input(z.void())
    .output(runtimeConfigSchema)
    .query(({ ctx }) => ctx.deps.services.runtimeConfig.get()),

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/dashboard/api/config",
        tags: ["dashboard"],
        summary: "Update runtime config (only the fields given; out-of-range values change nothing)",
      },
      graphql: { name: "updateRuntimeConfig" },
    })
    .input(runtimeConfigPatchSchema)
    .output(runtimeConfigSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.runtimeConfig.update(input)),
});
