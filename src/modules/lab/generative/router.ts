// /api/v1/generative-session (CRUD, parameter history) and the JSON reads of /api/v1/generative-process.
// PATCH takes its fields as query parameters (DashAI's frontend sends `?name=…` with no body) or a JSON body.
// POST /generative-process/ (a form), the images and the SSE stream are plain routes (http.ts).
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { deletedSchema } from "../datasets/datasets.schema.js";
import {
  bulkDeleteGenerativeSessionsSchema,
  createGenerativeSessionSchema,
  generativeProcessIdSchema,
  generativeProcessSchema,
  generativeSessionIdSchema,
  generativeSessionSchema,
  parameterHistorySchema,
  processResultsSchema,
  replaceParametersSchema,
  updateGenerativeSessionSchema,
} from "./generative.schema.js";

const tags = ["lab: generative"];
const hidden = { hidden: true } as const;
const S = "/api/v1/generative-session";
const P = "/api/v1/generative-process";

export const labGenerativeRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: `${S}/`, tags, summary: "List generative sessions (oldest first)" },
      graphql: hidden,
    })
    .input(z.object({ task_name: z.string().min(1).max(100).optional() }))
    .output(z.array(generativeSessionSchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.generative.list(input.task_name)),

  create: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: `${S}/`,
        tags,
        summary: "Create a generative session (its first parameter snapshot is recorded)",
        description:
          "`parameters.api_key` is sealed (AES-256-GCM under SECRET_KEY, as bench's provider keys) and never " +
          "returned: answers say `api_key_set`. 422 names the parameter that does not fit the model's schema.",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createGenerativeSessionSchema)
    .output(generativeSessionSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.generative.create(input)),

  deleteMany: dashboardProcedure
    .meta({
      openapi: { method: "DELETE", path: `${S}/`, tags, summary: "Delete generative sessions by id" },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(bulkDeleteGenerativeSessionsSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => ({
      deleted: await ctx.deps.services.lab.generative.deleteMany(input.ids),
    })),

  history: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: `${S}/{session_id}/parameters-history`,
        tags,
        summary: "Parameter snapshots of a session, oldest first",
      },
      graphql: hidden,
    })
    .input(generativeSessionIdSchema)
    .output(z.array(parameterHistorySchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.generative.history(input.session_id)),

  historyAlias: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: `${S}/parameters-history/{session_id}`,
        tags,
        summary: "Parameter snapshots of a session (the other path DashAI's frontend calls)",
      },
      graphql: hidden,
    })
    .input(generativeSessionIdSchema)
    .output(z.array(parameterHistorySchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.generative.history(input.session_id)),

  get: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: `${S}/{session_id}`, tags, summary: "Get a generative session" },
      graphql: hidden,
    })
    .input(generativeSessionIdSchema)
    .output(generativeSessionSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.generative.get(input.session_id)),

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: `${S}/{session_id}`,
        tags,
        summary: "Update a generative session and record a parameter snapshot",
        description:
          "Fields as a JSON body, or as query parameters with no body (as DashAI sends them). `parameters` " +
          'is merged over the stored ones; `api_key: ""` removes the stored key.',
      },
      graphql: hidden,
    })
    .input(updateGenerativeSessionSchema)
    .output(generativeSessionSchema)
    .mutation(({ ctx, input }) => {
      const { session_id: id, ...patch } = input;
      return ctx.deps.services.lab.generative.update(id, patch);
    }),

  replaceParameters: dashboardProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: `${S}/{session_id}/parameters`,
        tags,
        summary: "Replace a session's parameters and record a snapshot",
      },
      graphql: hidden,
    })
    .input(replaceParametersSchema)
    .output(generativeSessionSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.lab.generative.update(
        input.session_id,
        { parameters: input.parameters },
        { replace: true },
      ),
    ),

  delete: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: `${S}/{session_id}`,
        tags,
        summary: "Delete a generative session, its processes and their images",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(generativeSessionIdSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.generative.delete(input.session_id);
      return { deleted: 1 };
    }),

  processesOfSession: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: `${P}/session/{session_id}`,
        tags,
        summary: "The processes of a session, oldest first (the chat's history)",
      },
      graphql: hidden,
    })
    .input(generativeSessionIdSchema)
    .output(z.array(generativeProcessSchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.generative.processesOf(input.session_id)),

  process: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: `${P}/{process_id}`,
        tags,
        summary: "A generative process: status, inputs and outputs (text so far while it streams)",
      },
      graphql: hidden,
    })
    .input(generativeProcessIdSchema)
    .output(generativeProcessSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.generative.process(input.process_id)),

  results: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: `${P}/{process_id}/results`,
        tags,
        summary: "The outputs of a finished process (422 while it runs, or with its error when it failed)",
      },
      graphql: hidden,
    })
    .input(generativeProcessIdSchema)
    .output(processResultsSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.generative.results(input.process_id)),

  deleteProcess: dashboardProcedure
    .meta({
      openapi: { method: "DELETE", path: `${P}/{process_id}`, tags, summary: "Delete a generative process" },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(generativeProcessIdSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.generative.deleteProcess(input.process_id);
      return { deleted: 1 };
    }),
});
