// The lab's plain routes: `POST /api/v1/job/` (a form with a file, as DashAI's frontend sends it) and the
// streamed CSV exports. Declared with platform/http/route.ts (auth, validation, OpenAPI from one place).
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import fastifyMultipart from "@fastify/multipart";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { ForbiddenError, NUL_MESSAGE, ValidationError } from "../../platform/errors.js";
import { isCrossSite } from "../../platform/http/cross-site.js";
import { defineRoute, HTTP_ERROR_REF, type Route } from "../../platform/http/route.js";
import type { AppDeps } from "../../platform/module.js";
import { datasetIdParamSchema } from "./datasets/datasets.schema.js";
import { tooLarge } from "./errors.js";
import { jobCreatedSchema } from "./jobs/jobs.schema.js";
import type { UploadedFile } from "./jobs/service.js";
import { predictionRoutes } from "./predictions/http.js";
import { runRoutes } from "./runs/http.js";

/** A query string of a plain route (procedures refuse NUL on their own; plain routes say it here). */
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !value.includes("\0"), NUL_MESSAGE);

const FORM_FIELD_BYTES = 1024 * 1024;
const FORM_OVERHEAD = 2 * FORM_FIELD_BYTES;

/** Multipart (the upload) and URL-encoded forms, in the lab module's own scope only. */
export async function labPlugin(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  await scope.register(fastifyMultipart, {
    limits: { fileSize: deps.config.lab.maxUploadBytes, files: 1, fields: 16, fieldSize: FORM_FIELD_BYTES },
  });
  scope.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: FORM_OVERHEAD },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body.toString()))),
  );
}

const errorContent = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: HTTP_ERROR_REF } } },
});

/** A file name as sent in DashAI's `filename` header (URL-encoded) or the part's own name. */
function fileNameOf(request: FastifyRequest, partName: string | undefined): string {
  const header = request.headers.filename;
  const raw = typeof header === "string" && header !== "" ? header : (partName ?? "");
  let name = raw;
  try {
    name = decodeURIComponent(raw);
  } catch {
    // keep it as sent
  }
  return name.replace(/[\\/\0]/g, "_").slice(0, 255);
}

/** Reads the job form: fields, and the file saved under LAB_DATA_DIR/uploads/ (413 beyond the limit). */
async function readJobForm(
  deps: AppDeps,
  request: FastifyRequest,
): Promise<{ fields: Record<string, string>; file: UploadedFile | null }> {
  const jobs = deps.services.lab.jobs;
  const limit = deps.config.lab.maxUploadBytes;
  const claimed = Number(request.headers["content-length"] ?? 0);
  if (claimed > limit + FORM_OVERHEAD)
    throw tooLarge(`The upload is larger than LAB_MAX_UPLOAD_MB (${Math.round(limit / 1048576)} MiB)`);
  if (!request.isMultipart()) {
    const body = request.body;
    if (
      body &&
      typeof body === "object" &&
      !Array.isArray(body) &&
      request.headers["content-type"]?.includes("form-urlencoded")
    )
      return { fields: body as Record<string, string>, file: null };
    throw ValidationError.field(
      ["body"],
      "Missing job_type or kwargs (send a form: multipart/form-data or urlencoded)",
    );
  }
  const fields: Record<string, string> = {};
  let file: UploadedFile | null = null;
  try {
    for await (const part of request.parts()) {
      if (part.type === "field") {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      if (file || part.fieldname !== "file") {
        part.file.resume();
        continue;
      }
      const dir = await jobs.uploadDir(randomUUID());
      file = { path: `${dir.relative}/upload`, name: fileNameOf(request, part.filename), size: 0 };
      const target = jobs.uploadPath(file.path);
      let size = 0;
      part.file.on("data", (chunk: Buffer) => (size += chunk.length));
      await pipeline(part.file, createWriteStream(target));
      if (part.file.truncated)
        throw tooLarge(`The file is larger than LAB_MAX_UPLOAD_MB (${Math.round(limit / 1048576)} MiB)`);
      file.size = size;
    }
  } catch (error) {
    await jobs.removeUpload(file);
    const code = (error as { code?: string }).code;
    if (code === "FST_REQ_FILE_TOO_LARGE")
      throw tooLarge(`The file is larger than LAB_MAX_UPLOAD_MB (${Math.round(limit / 1048576)} MiB)`);
    if (code?.startsWith("FST_") || /multipart|boundary|Unexpected end/i.test((error as Error).message ?? ""))
      throw ValidationError.field(
        ["body"],
        `Malformed multipart/form-data body (${code ?? "parse error"})`,
        "multipart",
      );
    throw error;
  }
  return { fields, file };
}

export function labRoutes(deps: AppDeps): Route[] {
  const csvResponse = {
    description: "The dataset as CSV, streamed (Content-Disposition: attachment; filename=<name>.csv)",
    content: { "text/csv": { schema: z.string() } },
  };
  const exportDescription =
    "Cells a spreadsheet would run as formulas (starting with =, +, -, @, tab or CR, and not a plain number) " +
    "get a leading `'`. Read in chunks of rows from the columnar files: memory stays flat whatever the size.";

  const sendCsv = async (
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    models: { filterModel?: string; sortModel?: string },
  ) => {
    const abort = new AbortController();
    const { name, chunks } = await deps.services.lab.datasets.exportCsv(id, {
      ...models,
      signal: abort.signal,
    });
    const body = Readable.from(chunks, { objectMode: false, highWaterMark: 1 });
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) {
        abort.abort();
        body.destroy();
      }
    });
    body.on("error", (error) => request.log.error({ err: error, datasetId: id }, "dataset export failed"));
    const ascii = name.replace(/[^\w.-]+/g, "_").slice(0, 120) || "dataset";
    return reply
      .header("content-type", "text/csv; charset=utf-8")
      .header(
        "content-disposition",
        `attachment; filename="${ascii}.csv"; filename*=UTF-8''${encodeURIComponent(name)}.csv`,
      )
      .header("cache-control", "no-store")
      .send(body);
  };

  const enqueue = defineRoute({
    method: "POST",
    path: "/api/v1/job",
    auth: "dashboard",
    openapi: {
      operationId: "labEnqueueJob",
      tags: ["lab: jobs"],
      summary: "Queue a job (a form: job_type, kwargs as a JSON string, and for DatasetJob the file)",
      description:
        "As DashAI's frontend sends it: `multipart/form-data` (or urlencoded without a file) with `job_type` " +
        "(`DatasetJob`, `ModelJob`, `PredictJob`), `kwargs` (a JSON string; DatasetJob: `{dataset_id, params: {dataloader, separator, " +
        "inferred_types, column_renames}}`) and the file in `file` (CSV, JSON, JSONL or Parquet; its name in the " +
        "`filename` header or the part). A JSON body is refused (422 `Missing job_type or kwargs`). The file is " +
        "checked before anything is queued (format, empty file, and a complete parse up to 64 MiB): a bad one " +
        "gets 422 with the reason. Then poll `GET /api/v1/job/status/{id}`.",
      requestBody: {
        required: true,
        content: {
          "multipart/form-data": {
            schema: z.object({
              job_type: z.string(),
              kwargs: z.string().describe("JSON object"),
              file: z.string().meta({ format: "binary" }).optional(),
            }),
          },
          "application/x-www-form-urlencoded": {
            schema: z.object({ job_type: z.string(), kwargs: z.string().describe("JSON object") }),
          },
        },
      },
      responses: {
        201: { description: "Queued", content: { "application/json": { schema: jobCreatedSchema } } },
        403: errorContent("Sent by a browser on behalf of another site"),
        404: errorContent("The entity the kwargs name does not exist"),
        409: errorContent("The dataset is already being loaded"),
        413: errorContent("The file is larger than LAB_MAX_UPLOAD_MB"),
        422: errorContent(
          "Missing job_type or kwargs, kwargs not a JSON object, unknown job_type, or a file that cannot be loaded (the reason says why)",
        ),
      },
    },
    handler: async (_input, request, reply) => {
      if (isCrossSite(request)) throw new ForbiddenError("Cross-site job submission refused");
      const { fields, file } = await readJobForm(deps, request);
      const jobs = deps.services.lab.jobs;
      try {
        if (!fields.job_type || fields.kwargs === undefined)
          throw ValidationError.field(["body"], "Missing job_type or kwargs");
        let kwargs: unknown;
        try {
          kwargs = JSON.parse(fields.kwargs);
        } catch {
          throw ValidationError.field(["body", "kwargs"], "kwargs is not valid JSON");
        }
        if (!kwargs || typeof kwargs !== "object" || Array.isArray(kwargs))
          throw ValidationError.field(["body", "kwargs"], "kwargs must be a JSON object");
        const id = await jobs.submit(fields.job_type, kwargs as Record<string, unknown>, file);
        return reply.code(201).send({ id });
      } catch (error) {
        await jobs.removeUpload(file);
        throw error;
      }
    },
  });
  return [
    ...runRoutes(deps),
    ...predictionRoutes(deps),
    enqueue,
    // DashAI's path (with the slash): the same route, documented once without it.
    { ...enqueue, path: "/api/v1/job/", openapi: false },
    defineRoute({
      method: "GET",
      path: "/api/v1/dataset/{dataset_id}/export/csv",
      auth: "dashboard",
      params: datasetIdParamSchema,
      openapi: {
        operationId: "labExportDatasetCsv",
        tags: ["lab: datasets"],
        summary: "Download a dataset as CSV",
        description: exportDescription,
        responses: { 200: csvResponse, 422: errorContent("Dataset is not in finished state") },
      },
      handler: async ({ params }, request, reply) => sendCsv(request, reply, params.dataset_id, {}),
    }),
    defineRoute({
      method: "GET",
      path: "/api/v1/dataset/export/csv",
      auth: "dashboard",
      query: z.object({
        path: text(200).describe("The dataset's `file_path` (`datasets/<id>`)"),
        filter_model: text(100_000).optional().describe("MUI filter model as JSON"),
        sort_model: text(10_000).optional().describe("Sort model as JSON: [{id, desc}]"),
      }),
      openapi: {
        operationId: "labExportDatasetCsvByPath",
        tags: ["lab: datasets"],
        summary: "Download a dataset (by file_path), filtered and sorted, as CSV",
        description: exportDescription,
        responses: {
          200: csvResponse,
          404: errorContent("No dataset at that path"),
          422: errorContent("Dataset is not in finished state, or a bad filter/sort model"),
        },
      },
      handler: async ({ query }, request, reply) =>
        sendCsv(request, reply, deps.services.lab.datasets.idOfPath(query.path), {
          filterModel: query.filter_model,
          sortModel: query.sort_model,
        }),
    }),
  ];
}
