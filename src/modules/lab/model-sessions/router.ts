// /api/v1/model-session: CRUD and column validation. PATCH takes its fields as query parameters (DashAI's
// frontend sends `?name=…&task_name=…` with no body) or as a JSON body.
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { deletedSchema } from "../datasets/datasets.schema.js";
import {
  bulkDeleteSessionsSchema,
  createSessionSchema,
  modelSessionSchema,
  sessionIdParamSchema,
  updateSessionSchema,
  validationResultSchema,
  validationSchema,
} from "./model-sessions.schema.js";

const tags = ["lab: model sessions"];
const hidden = { hidden: true } as const;

export const labModelSessionsRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/model-session/", tags, summary: "List model sessions" },
      graphql: hidden,
    })
    .input(z.object({}))
    .output(z.array(modelSessionSchema))
    .query(({ ctx }) => ctx.deps.services.lab.sessions.list()),

  create: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/model-session/",
        tags,
        summary: "Create a model session (the columns are validated as POST /validation does)",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createSessionSchema)
    .output(modelSessionSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.sessions.create(input)),

  deleteMany: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/model-session/",
        tags,
        summary: "Delete model sessions by id",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(bulkDeleteSessionsSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => ({
      deleted: await ctx.deps.services.lab.sessions.deleteMany(input.ids),
    })),

  validation: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/model-session/validation",
        tags,
        summary:
          "Check that columns fit a task on a dataset: 200 valid, or 422 naming the column that does not",
      },
      graphql: hidden,
    })
    .input(validationSchema)
    .output(validationResultSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.sessions.validate({
        task_name: input.task_name,
        dataset_id: input.dataset_id,
        inputs: input.inputs_columns,
        outputs: input.outputs_columns,
      });
      return { dataset_status: "valid" as const };
    }),

  get: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/model-session/{session_id}",
        tags,
        summary: "Get a model session",
      },
      graphql: hidden,
    })
    .input(sessionIdParamSchema)
    .output(modelSessionSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.sessions.get(input.session_id)),

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/model-session/{session_id}",
        tags,
        summary:
          "Update a model session (fields as a JSON body, or as query parameters with no body, as DashAI sends them)",
      },
      graphql: hidden,
    })
    .input(updateSessionSchema)
    .output(modelSessionSchema)
    .mutation(({ ctx, input }) => {
      const { session_id: id, ...patch } = input;
      return ctx.deps.services.lab.sessions.update(id, patch);
    }),

  delete: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/model-session/{session_id}",
        tags,
        summary: "Delete a model session",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(sessionIdParamSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.sessions.delete(input.session_id);
      return { deleted: 1 };
    }),
});
