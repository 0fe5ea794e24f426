// /api/v1/converter (lab-api.txt): one converter step of a notebook per POST, applied by a ConverterJob.
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import {
  converterIdParamSchema,
  createConverterSchema,
  labConverterSchema,
  revertSchema,
} from "./converters.schema.js";
import { notebookIdParamSchema } from "../notebooks/notebooks.schema.js";

const tags = ["lab: converters"];
const hidden = { hidden: true } as const;

export const labConvertersRouter = router({
  create: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/converter/",
        tags,
        summary:
          "Save one converter step to a notebook and queue its ConverterJob (job_id); 422 names an unknown column or a column of the wrong type, 409 while another step of the notebook runs",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createConverterSchema)
    .output(labConverterSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.converters.create(input)),

  ofNotebook: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/converter/notebook/{notebook_id}",
        tags,
        summary: "The notebook's finished converter steps, in the order they were applied",
      },
      graphql: hidden,
    })
    .input(notebookIdParamSchema)
    .output(z.array(labConverterSchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.converters.finished(input.notebook_id)),

  get: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/converter/{converter_list_id}",
        tags,
        summary: "A converter step",
      },
      graphql: hidden,
    })
    .input(converterIdParamSchema)
    .output(labConverterSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.converters.get(input.converter_list_id)),

  delete: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/converter/{converter_list_id}",
        tags,
        summary:
          "Revert the notebook to the state before this step: the step and every later one are deleted and the steps before it re-applied from the notebook's base copy by one job ({jobId}; null when none precedes it)",
      },
      graphql: hidden,
    })
    .input(converterIdParamSchema)
    .output(revertSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.converters.delete(input.converter_list_id)),
});
