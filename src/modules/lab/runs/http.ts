// The runs' plain routes: the .onnx download (`GET /api/v1/run/{run_id}/onnx`) and a user's own ONNX model
// uploaded as a run (`POST /api/v1/run/onnx`, multipart).
import { z } from "zod";
import { ForbiddenError, ValidationError } from "../../../platform/errors.js";
import { isCrossSite } from "../../../platform/http/cross-site.js";
import { defineRoute, HTTP_ERROR_REF, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { readSmallForm } from "../form.js";
import { labRunSchema, runIdParamSchema } from "./runs.schema.js";

const errorContent = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: HTTP_ERROR_REF } } },
});

const uploadForm = z.object({
  model_session_id: z.string().describe("The model session the run belongs to (its input columns and task)"),
  name: z.string().describe("The run's name"),
  description: z.string().optional(),
  classes: z
    .string()
    .optional()
    .describe(
      'Classification: JSON array of the class labels in probability-column order (else the model\'s "classes" metadata)',
    ),
  file: z.string().meta({ format: "binary" }).describe("The .onnx file"),
});

export function runRoutes(deps: AppDeps): Route[] {
  const upload = defineRoute({
    method: "POST",
    path: "/api/v1/run/onnx",
    auth: "dashboard",
    openapi: {
      operationId: "labUploadOnnxRun",
      tags: ["lab: runs"],
      summary:
        "Upload your own ONNX model as a run of a model session (FINISHED at once, predicts like any run)",
      description:
        "The file is loaded with onnxruntime-node and its inputs bound to the session's input columns (by " +
        "name, or one numeric [N, d] input for all of them); a file that does not load, an input that is not an " +
        "input column, or outputs that do not fit the session's task are a 422 with the reason.",
      requestBody: { required: true, content: { "multipart/form-data": { schema: uploadForm } } },
      responses: {
        201: { description: "The run", content: { "application/json": { schema: labRunSchema } } },
        403: errorContent("Sent by a browser on behalf of another site"),
        404: errorContent("Unknown model session"),
        413: errorContent("The file is larger than LAB_MAX_UPLOAD_MB"),
      },
    },
    handler: async (_input, request, reply) => {
      if (isCrossSite(request)) throw new ForbiddenError("Cross-site upload refused");
      const { fields, file } = await readSmallForm(request, deps.config.lab.maxUploadBytes);
      const sessionId = Number(fields.model_session_id);
      if (!Number.isInteger(sessionId) || sessionId < 1 || sessionId > 2_147_483_647)
        throw ValidationError.field(["body", "model_session_id"], "model_session_id must be a session id");
      const name = (fields.name ?? "").trim();
      if (!name || name.length > 255)
        throw ValidationError.field(["body", "name"], "name must be 1–255 characters");
      if (!file || file.bytes.length === 0)
        throw ValidationError.field(["body", "file"], "The .onnx file is missing (form part `file`)");
      let classes: string[] | undefined;
      if (fields.classes) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(fields.classes);
        } catch {
          parsed = null;
        }
        if (!Array.isArray(parsed) || parsed.length < 2 || parsed.length > 10_000)
          throw ValidationError.field(
            ["body", "classes"],
            "classes must be a JSON array of at least two labels",
          );
        classes = parsed.map(String);
      }
      const run = await deps.services.lab.runs.uploadOnnx({
        sessionId,
        name,
        description: fields.description || null,
        classes,
        fileName: file.name,
        bytes: file.bytes,
      });
      return reply.code(201).send(run);
    },
  });
  return [
    upload,
    defineRoute({
      method: "GET",
      path: "/api/v1/run/{run_id}/onnx",
      auth: "dashboard",
      params: runIdParamSchema,
      openapi: {
        operationId: "labDownloadRunOnnx",
        tags: ["lab: runs"],
        summary: "Download the run's model as ONNX (its preprocessing included; see docs/lab.md)",
        responses: {
          200: {
            description: "The .onnx file (Content-Disposition: attachment; filename=run-<id>.onnx)",
            content: { "application/octet-stream": { schema: z.string().meta({ format: "binary" }) } },
          },
          404: errorContent(
            "Unknown run, or the run has no ONNX file (not trained, or a model ONNX cannot express)",
          ),
        },
      },
      handler: async ({ params }, _request, reply) => {
        const bytes = await deps.services.lab.runs.onnxFile(params.run_id);
        return reply
          .header("content-type", "application/octet-stream")
          .header("content-disposition", `attachment; filename="run-${params.run_id}.onnx"`)
          .header("cache-control", "no-store")
          .send(bytes);
      },
    }),
  ];
}
