import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { clientOf, TAGS } from "../shared/procedures.js";
import {
  importResultSchema,
  okTrueSchema,
  onboardingSchema,
  phase10Schema,
  settingsBackupSchema,
  settingsExportSchema,
  statusOkSchema,
  updatePhase10Schema,
} from "./settings.schema.js";

const tags = [...TAGS.settings];

export const settingsRouter = router({
  phase10: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/settings/phase10",
        tags,
        summary: "Judge, param tuner and prompt tuner settings",
      },
    })
    .input(z.void())
    .output(phase10Schema)
    .query(({ ctx }) => ctx.deps.services.benchSettings.phase10(ctx.principal.userId)),

  updatePhase10: userProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/settings/phase10",
        tags,
        summary: "Change phase10 settings (sections merge over the current ones)",
      },
    })
    .input(updatePhase10Schema)
    .output(okTrueSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchSettings.updatePhase10(ctx.principal.userId, input)),

  onboardingStatus: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/onboarding/status",
        tags,
        summary: "Whether the user finished onboarding",
      },
    })
    .input(z.void())
    .output(onboardingSchema)
    .query(({ ctx }) => ctx.deps.services.benchSettings.onboarding(ctx.principal.userId)),

  completeOnboarding: userProcedure
    .meta({
      openapi: { method: "POST", path: "/api/onboarding/complete", tags, summary: "Mark onboarding as done" },
    })
    .input(z.void())
    .output(statusOkSchema)
    .mutation(({ ctx }) => ctx.deps.services.benchSettings.completeOnboarding(ctx.principal.userId)),

  exportSettings: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/export/settings",
        tags,
        summary: "Settings backup as JSON (defaults, providers and models, prompts, phase10; never a key)",
      },
    })
    .input(z.void())
    .output(settingsExportSchema)
    .query(async ({ ctx }) => {
      ctx.response.headers["content-disposition"] = 'attachment; filename="benchmark_settings.json"';
      return ctx.deps.services.benchSettings.exportSettings(ctx.principal.userId);
    }),

  importSettings: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/import/settings",
        tags,
        summary:
          "Restore a settings backup (validated whole before anything is stored; keys are never imported)",
      },
    })
    .input(settingsBackupSchema)
    .output(importResultSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchSettings.importSettings(ctx.principal.userId, input, clientOf(ctx)),
    ),
});
