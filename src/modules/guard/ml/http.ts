// The model upload takes the ONNX file as the raw request body, which a JSON procedure cannot carry: a plain
// Fastify route in its own encapsulated scope (the binary body parser applies to this route only).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { ValidationError } from "../../../platform/errors.js";
import type { AppDeps } from "../../../trpc/context.js";
import { FEATURE_COUNT } from "./features.js";
import { modelInfoSchema } from "./ml.schema.js";

export const MODELS_PATH = "/dashboard/api/ml/models";
export const MODEL_BODY_LIMIT = 16 * 1024 * 1024;

export async function registerMlHttp(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(async (scope) => {
    // Any non-JSON body arrives as bytes (application/octet-stream, application/x-onnx...).
    scope.addContentTypeParser(
      "*",
      { parseAs: "buffer", bodyLimit: MODEL_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      MODELS_PATH,
      { schema: { hide: true }, bodyLimit: MODEL_BODY_LIMIT },
      async (request, reply) => {
        await deps.auth.dashboard.authenticate(request.headers.authorization, request.ip);
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
    );
  });
}

const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } };

export const mlExtraPaths: ZodOpenApiPathsObject = {
  [MODELS_PATH]: {
    post: {
      tags: ["dashboard: ml"],
      summary: "Upload an ONNX risk model (bring your own model)",
      description:
        `The raw ONNX file as the body (Content-Type: application/octet-stream, at most 16 MiB). It must take ` +
        `one float32 input [N, ${FEATURE_COUNT}] (the feature vector documented in docs/ml.md) and give a ` +
        "float32 output `score` [N] / [N, 1], or `probabilities` [N, 2] (scikit-learn via skl2onnx with " +
        "zipmap disabled: column 1 is the human confidence). It is loaded in onnxruntime-node and must score " +
        "a probe batch within 0–1 before it becomes the active model on every instance; otherwise 422 and the " +
        "active model is unchanged. tRPC/GraphQL: `guard.ml.uploadModel` / `mlUploadModel` take it base64.",
      security: [{ dashboardBasic: [] }],
      requestBody: {
        required: true,
        content: { "application/octet-stream": { schema: z.string().meta({ format: "binary" }) } },
      },
      responses: {
        201: {
          description: "Stored as the newest version and active",
          content: { "application/json": { schema: modelInfoSchema } },
        },
        401: { description: "Missing or invalid credentials", content: errorContent },
        413: { description: "Larger than 16 MiB", content: errorContent },
        422: {
          description: "Not an ONNX model, or its input/output does not fit the feature vector",
          content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPValidationError" } } },
        },
        429: { description: "Too many failed login attempts", content: errorContent },
      },
    },
  },
};
