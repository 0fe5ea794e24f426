// The predictions' plain routes: `POST /api/v1/predict/preview` (a form, as DashAI's frontend sends it) and
// `GET /api/v1/predict/download/{id}` (the results as CSV).
import { Readable } from "node:stream";
import { z } from "zod";
import { ForbiddenError, ValidationError } from "../../../platform/errors.js";
import { isCrossSite } from "../../../platform/http/cross-site.js";
import { defineRoute, HTTP_ERROR_REF, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { readSmallForm } from "../form.js";
import { predictionIdParamSchema, predictionTableSchema } from "./predictions.schema.js";

const errorContent = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: HTTP_ERROR_REF } } },
});

const previewForm = z.object({
  run_id: z.string().describe("The run's id"),
  manual_input_data: z
    .string()
    .describe(
      'JSON: a non-empty array of row objects keyed by input column, e.g. [{"age": 41, "city": "Lima"}]',
    ),
});

export function predictionRoutes(deps: AppDeps): Route[] {
  const preview = defineRoute({
    method: "POST",
    path: "/api/v1/predict/preview",
    auth: "dashboard",
    openapi: {
      operationId: "labPredictPreview",
      tags: ["lab: predictions"],
      summary: "Predict rows typed in, at once; nothing is stored",
      description:
        "A form (multipart or urlencoded; a JSON object with the same keys is taken too): `run_id` and " +
        "`manual_input_data`. Values are read as the training dataset's column types; missing values are " +
        "imputed as in training. 422 (naming the problem): a missing field, JSON that is not a non-empty array " +
        "of objects, an unknown column, an input column no row has, a value that does not fit its column, a " +
        "run that is not trained. At most 10,000 rows.",
      requestBody: {
        required: true,
        content: {
          "multipart/form-data": { schema: previewForm },
          "application/x-www-form-urlencoded": { schema: previewForm },
        },
      },
      responses: {
        200: {
          description: "The predictions",
          content: { "application/json": { schema: predictionTableSchema } },
        },
        403: errorContent("Sent by a browser on behalf of another site"),
        404: errorContent("Unknown run"),
      },
    },
    handler: async (_input, request) => {
      if (isCrossSite(request)) throw new ForbiddenError("Cross-site prediction refused");
      const { fields } = await readSmallForm(request, 1 << 20);
      const runId = Number(fields.run_id);
      if (!fields.run_id || !Number.isInteger(runId) || runId < 1 || runId > 2_147_483_647)
        throw ValidationError.field(["body", "run_id"], "run_id must be a run id (a positive integer)");
      if (fields.manual_input_data === undefined || fields.manual_input_data === "")
        throw ValidationError.field(["body", "manual_input_data"], "manual_input_data is required");
      return deps.services.lab.predictions.preview(runId, fields.manual_input_data);
    },
  });
  return [
    preview,
    { ...preview, path: "/api/v1/predict/preview/", openapi: false },
    defineRoute({
      method: "GET",
      path: "/api/v1/predict/download/{prediction_id}",
      auth: "dashboard",
      params: predictionIdParamSchema,
      openapi: {
        operationId: "labDownloadPrediction",
        tags: ["lab: predictions"],
        summary: "Download a finished prediction's results as CSV",
        description:
          "Columns: the input columns, the output column (the prediction), and for classification " +
          "`probability(<class>)` per class. Cells a spreadsheet would run as formulas get a leading `'`.",
        responses: {
          200: {
            description: "The results (Content-Disposition: attachment; filename=prediction-<id>.csv)",
            content: { "text/csv": { schema: z.string() } },
          },
          404: errorContent("Unknown prediction"),
          422: errorContent("The prediction has not finished"),
        },
      },
      handler: async ({ params }, _request, reply) => {
        const predictions = deps.services.lab.predictions;
        // Read (and fail with 404/422) before the first byte is sent.
        await predictions.results(params.prediction_id);
        return reply
          .header("content-type", "text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="prediction-${params.prediction_id}.csv"`)
          .header("cache-control", "no-store")
          .send(Readable.from(predictions.csv(params.prediction_id)));
      },
    }),
  ];
}
