// /api/v1/explorer (lab-api.txt; trailing slashes as documented): explorations of a notebook, computed by
// an ExplorerJob queued on POST; results read with POST /{id}/results/ (DashAI's verb) as Plotly JSON.
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import {
  createExplorerSchema,
  explorerIdParamSchema,
  figureSchema,
  labExplorerSchema,
  listExplorersSchema,
  messageSchema,
  overrideIndexSchema,
  overrideSchema,
  resultsQuerySchema,
  updateExplorerSchema,
} from "./explorers.schema.js";

const tags = ["lab: explorers"];
const hidden = { hidden: true } as const;

export const labExplorersRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/explorer/", tags, summary: "List explorers (skip, limit)" },
      graphql: hidden,
    })
    .input(listExplorersSchema)
    .output(z.array(labExplorerSchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.explorers.list(input.skip, input.limit)),

  create: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/explorer/",
        tags,
        summary:
          "Create an explorer of a notebook and queue its ExplorerJob (job_id); 422 names an unknown column, a column of the wrong type, a wrong column count or a bad parameter",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createExplorerSchema)
    .output(labExplorerSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.explorers.create(input)),

  get: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/explorer/{explorer_id}/", tags, summary: "An explorer" },
      graphql: hidden,
    })
    .input(explorerIdParamSchema)
    .output(labExplorerSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.explorers.get(input.explorer_id)),

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/explorer/{explorer_id}/",
        tags,
        summary:
          "Change an explorer's name, columns or parameters (new columns or parameters: computed again by a new job)",
      },
      graphql: hidden,
    })
    .input(updateExplorerSchema)
    .output(labExplorerSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.explorers.update(input)),

  delete: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/explorer/{explorer_id}/",
        tags,
        summary: "Delete an explorer (its running job is cancelled)",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(explorerIdParamSchema)
    .output(z.void())
    .mutation(({ ctx, input }) => ctx.deps.services.lab.explorers.delete(input.explorer_id)),

  results: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/explorer/{explorer_id}/results/",
        tags,
        summary:
          "The explorer's figures as Plotly JSON ({data, layout}; word cloud: also words and svg), overrides in place; 422 until it has finished",
      },
      graphql: hidden,
    })
    .input(resultsQuerySchema)
    .output(z.array(figureSchema))
    .mutation(({ ctx, input }) => ctx.deps.services.lab.explorers.results(input.explorer_id)),

  override: dashboardProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/v1/explorer/{explorer_id}/results/",
        tags,
        summary: "Replace one figure ({index, figure}) as the user edited it; the computed one is kept apart",
      },
      graphql: hidden,
    })
    .input(overrideSchema)
    .output(messageSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.lab.explorers.override(input.explorer_id, input.index, input.figure),
    ),

  removeOverride: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/explorer/{explorer_id}/results/override/{index}",
        tags,
        summary: "Restore the computed figure at index (404 when it has no override)",
      },
      graphql: hidden,
    })
    .input(overrideIndexSchema)
    .output(messageSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.lab.explorers.removeOverride(input.explorer_id, input.index),
    ),
});
