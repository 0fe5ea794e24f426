import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { TAGS } from "../shared/procedures.js";
import {
  createdSchema,
  createScheduleSchema,
  scheduleIdSchema,
  schedulesSchema,
  triggeredSchema,
  updateScheduleSchema,
} from "./schedules.schema.js";

const tags = [...TAGS.schedules];
const okSchema = z.object({ status: z.literal("ok") });
const notFound = { 404: "Schedule not found" };

export const schedulesRouter = router({
  list: userProcedure
    .meta({ openapi: { method: "GET", path: "/api/schedules", tags, summary: "Your schedules" } })
    .input(z.void())
    .output(schedulesSchema)
    .query(({ ctx }) => ctx.deps.services.benchSchedules.list(ctx.principal.userId)),

  create: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/schedules",
        tags,
        summary: "Schedule a benchmark every interval_hours or on a cron expression",
      },
    })
    .input(createScheduleSchema)
    .output(createdSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchSchedules.create(ctx.principal.userId, input)),

  update: userProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/schedules/{schedule_id}",
        tags,
        summary: "Change a schedule (changing its timing or enabling it resets next_run)",
        errorResponses: notFound,
      },
    })
    .input(updateScheduleSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchSchedules.update(ctx.principal.userId, input)),

  delete: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/schedules/{schedule_id}",
        tags,
        summary: "Delete a schedule (its past runs stay in history)",
        errorResponses: notFound,
      },
    })
    .input(scheduleIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchSchedules.delete(ctx.principal.userId, input.schedule_id),
    ),

  trigger: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/schedules/{schedule_id}/trigger",
        tags,
        summary: "Run the scheduled benchmark now, in the background (results land in history)",
        errorResponses: notFound,
      },
    })
    .input(scheduleIdSchema)
    .output(triggeredSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchSchedules.trigger(ctx.principal.userId, input.schedule_id),
    ),
});
