// The model upload takes the ONNX file as the raw request body, which a JSON procedure cannot carry: a plain
// route; the binary body parser is added in the guard module's own encapsulated scope only.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ForbiddenError, ValidationError } from "../../../platform/errors.js";
import { isCrossSite } from "../../../platform/http/cross-site.js";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { FEATURE_COUNT } from "./features.js";
import { modelInfoSchema } from "./ml.schema.js";

export const MODELS_PATH = "/dashboard/api/ml/models";
export const MODEL_BODY_LIMIT = 16 * 1024 * 1024;

/**
 * Only application/octet-stream: a cross-site HTML form can send multipart, url-encoded and text/plain
 * bodies, never this type. Any other type is refused with 422 before the handler runs.
 */
export function modelUploadPlugin(scope: FastifyInstance): void {
  scope.addContentTypeParser(
    "application/octet-stream",
    { parseAs: "buffer", bodyLimit: MODEL_BODY_LIMIT },
    (_request, body, done) => done(null, body),
  );
}

export function modelUploadRoutes(deps: AppDeps): Route[] {
  return [
    defineRoute({
      method: "POST",
      path: MODELS_PATH,
      auth: "dashboardBasic",
      bodyLimit: MODEL_BODY_LIMIT,
      openapi: {
        operationId: "uploadRiskModel",
        tags: ["dashboard: ml"],
        summary: "Upload an ONNX risk model (bring your own model)",
        description:
          `The raw ONNX file as the body (Content-Type: application/octet-stream, at most 16 MiB). It must take ` +
          `one float32 input [N, ${FEATURE_COUNT}] (the feature vector documented in docs/ml.md) and give a ` +
          "float32 output `score` [N] / [N, 1], or `probabilities` [N, 2] (scikit-learn via skl2onnx with " +
          "zipmap disabled: column 1 is the human confidence). It is loaded in onnxruntime-node and must score " +
          "a probe batch within 0–1 before it becomes the active model on every instance; otherwise 422 and the " +
          "active model is unchanged. tRPC/GraphQL: `guard.ml.uploadModel` / `mlUploadModel` take it base64.",
        requestBody: {
          required: true,
          content: { "application/octet-stream": { schema: z.string().meta({ format: "binary" }) } },
        },
        responses: {
          201: {
            description: "Stored as the newest version and active",
            content: { "application/json": { schema: modelInfoSchema } },
          },
          403: {
            description: "Sent by a browser on behalf of another site",
            content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
          },
          413: {
            description: "Larger than 16 MiB",
            content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
          },
          422: {
            description:
              "Another Content-Type than application/octet-stream (form posts are refused), not an ONNX model, or its input/output does not fit the feature vector",
            content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPValidationError" } } },
          },
        },
      },
      handler: async (_input, request, reply) => {
        if (isCrossSite(request)) throw new ForbiddenError("Cross-site upload refused");
        const body = request.body;
        if (!Buffer.isBuffer(body)) {
          throw ValidationError.field(
            ["body"],
            "send the ONNX file as the raw request body (Content-Type: application/octet-stream)",
            "onnx_invalid",
          );
        }
        const model = await deps.services.ml.uploadModel(body);
        return reply.code(201).type("application/json").send(JSON.stringify(model));
      },
    }),
  ];
}
