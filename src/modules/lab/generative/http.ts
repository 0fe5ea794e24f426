// The plain routes of the generative processes: POST /api/v1/generative-process/ (a form, as DashAI's frontend
// sends it: `session_id` and the inputs as `text_0`, `text_1`…), the generated images, and the stream of a
// process's text as it is produced (Server-Sent Events, beside the documented routes).
import { readFile } from "node:fs/promises";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { ForbiddenError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import { isCrossSite } from "../../../platform/http/cross-site.js";
import { defineRoute, HTTP_ERROR_REF, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { labIdSchema } from "../datasets/datasets.schema.js";
import { generativeProcessIdSchema, generativeProcessSchema } from "./generative.schema.js";
import { PROCESS_STATUS } from "./service.js";

const tags = ["lab: generative"];
const POLL_MS = 100;
const HEARTBEAT_MS = 15_000;
const MAX_INPUTS = 16;
const MAX_TEXT = 100_000;

const errorContent = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: HTTP_ERROR_REF } } },
});

/** The form's fields (urlencoded, multipart or JSON): text parts only; a file input is refused. */
async function readFields(request: FastifyRequest): Promise<Record<string, string>> {
  if (request.isMultipart()) {
    const fields: Record<string, string> = {};
    for await (const part of request.parts()) {
      if (part.type === "file") {
        part.file.resume();
        throw ValidationError.field(
          ["body", part.fieldname],
          "File inputs are not supported by these models",
        );
      }
      fields[part.fieldname] = String(part.value);
    }
    return fields;
  }
  const body = request.body;
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw ValidationError.field(["body"], "Send a form (or JSON) with session_id and text_0");
  return Object.fromEntries(
    Object.entries(body as Record<string, unknown>).map(([key, value]) => [
      key,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
}

export function generativeRoutes(deps: AppDeps): Route[] {
  const generative = () => deps.services.lab.generative;

  const create = defineRoute({
    method: "POST",
    path: "/api/v1/generative-process",
    auth: "dashboard",
    openapi: {
      operationId: "labCreateGenerativeProcess",
      tags,
      summary: "Create a generative process (a form: session_id, text_0…); run it with a GenerativeJob",
      description:
        "As DashAI's frontend sends it: `application/x-www-form-urlencoded` (or multipart, or JSON) with " +
        "`session_id` and the inputs `text_0`, `text_1`… The process starts NOT_STARTED (status 0); " +
        '`POST /api/v1/job/` with `job_type=GenerativeJob`, `kwargs={"generative_process_id": id}` runs it. ' +
        "`run=true` queues that job at once (its id in `job_id`). Follow the text as it is produced on " +
        "`GET /api/v1/generative-process/{id}/stream`.",
      requestBody: {
        required: true,
        content: {
          "application/x-www-form-urlencoded": {
            schema: z.object({
              session_id: z.string(),
              text_0: z.string(),
              run: z.enum(["true", "false"]).optional(),
            }),
          },
        },
      },
      responses: {
        201: { description: "Created", content: { "application/json": { schema: generativeProcessSchema } } },
        403: errorContent("Sent by a browser on behalf of another site"),
        404: errorContent("No such session"),
        422: errorContent("session_id or text_0 missing or invalid, or a file input"),
      },
    },
    handler: async (_input, request, reply) => {
      if (isCrossSite(request)) throw new ForbiddenError("Cross-site request refused");
      const fields = await readFields(request);
      const sessionId = labIdSchema.safeParse(fields.session_id);
      if (!sessionId.success)
        throw ValidationError.field(["body", "session_id"], "session_id must be a positive integer");
      const texts: string[] = [];
      for (const [key, value] of Object.entries(fields)) {
        const match = /^text_(\d+)$/.exec(key);
        if (!match) continue;
        const index = Number(match[1]);
        if (index >= MAX_INPUTS) throw ValidationError.field(["body", key], `At most ${MAX_INPUTS} inputs`);
        if (value.length > MAX_TEXT || value.includes("\0"))
          throw ValidationError.field(["body", key], `Must be text of at most ${MAX_TEXT} characters`);
        texts[index] = value;
      }
      const process = await generative().createProcess(
        sessionId.data,
        texts.filter((text) => text !== undefined),
      );
      if (fields.run === "true") {
        const jobId = await deps.services.lab.jobs.enqueue("GenerativeJob", { processId: process.id });
        return reply.code(201).send({ ...process, status: PROCESS_STATUS.DELIVERED, job_id: jobId });
      }
      return reply.code(201).send(process);
    },
  });

  const image = (path: string, operationId: string): Route =>
    defineRoute({
      method: "GET",
      path,
      auth: "dashboard",
      params: z.object({ name: z.string().min(1).max(100) }),
      openapi: {
        operationId,
        tags,
        summary: "A generated image (PNG), usable as an <img src>",
        responses: {
          200: { description: "The image", content: { "image/png": { schema: z.string() } } },
          404: errorContent("No such image"),
        },
      },
      handler: async ({ params }, _request, reply) => {
        const path = generative().imagePath(params.name);
        const bytes = await readFile(path).catch(() => {
          throw new NotFoundError("File not found");
        });
        return reply
          .header("content-type", "image/png")
          .header("cache-control", "private, max-age=86400")
          .header("x-content-type-options", "nosniff")
          .send(bytes);
      },
    });

  const stream = defineRoute({
    method: "GET",
    path: "/api/v1/generative-process/{process_id}/stream",
    auth: "dashboard",
    params: generativeProcessIdSchema,
    openapi: {
      operationId: "labStreamGenerativeProcess",
      tags,
      summary: "Server-Sent Events: a process's text while it is produced, then its end",
      description:
        "Events: `status` {status} when the status changes; `text` {delta} for each new piece of the output " +
        "text (the text so far is the concatenation, from the first event); `done` {status, error, output} " +
        "at the end (FINISHED or ERROR), after which the stream closes. A finished process answers its " +
        "whole text and `done` at once. Comments keep the connection open.",
      responses: {
        200: { description: "The event stream", content: { "text/event-stream": { schema: z.string() } } },
        404: errorContent("No such process"),
      },
    },
    handler: async ({ params }, request, reply) => {
      await generative().process(params.process_id); // 404 before the stream starts
      streamProcess(deps, request, reply, params.process_id);
    },
  });

  return [
    create,
    // DashAI's path (with the slash): the same route, documented once without it.
    { ...create, path: "/api/v1/generative-process/", openapi: false },
    image("/api/v1/generative-process/image/{name}", "labGenerativeImage"),
    image("/api/v1/generative-process/file/{name}", "labGenerativeFile"),
    stream,
  ];
}

/** Polls the process (its rows are written by whichever worker runs the job) and sends what changed. */
function streamProcess(deps: AppDeps, request: FastifyRequest, reply: FastifyReply, id: number): void {
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-store, must-revalidate",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "x-request-id": request.id,
  });
  raw.write(": generative process stream\n\n");
  let ended = false;
  let sent = "";
  let status = -1;
  let lastWrite = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const send = (event: string, data: unknown) => {
    if (ended || raw.writableEnded) return;
    raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    lastWrite = Date.now();
  };
  const end = () => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    deps.sse.delete(end);
    if (!raw.writableEnded) raw.end();
  };
  deps.sse.add(end);
  request.raw.on("close", end);
  raw.on("error", end);
  const tick = async () => {
    if (ended) return;
    try {
      const process = await deps.services.lab.generative.process(id);
      if (process.status !== status) {
        status = process.status;
        send("status", { status });
      }
      const text = process.output.find((d) => d.data_type === "str")?.data ?? "";
      if (text.length > sent.length && text.startsWith(sent)) {
        send("text", { delta: text.slice(sent.length) });
        sent = text;
      }
      if (process.status === PROCESS_STATUS.FINISHED || process.status === PROCESS_STATUS.ERROR) {
        send("done", { status: process.status, error: process.error, output: process.output });
        return end();
      }
      if (Date.now() - lastWrite > HEARTBEAT_MS && !raw.writableEnded) {
        raw.write(": heartbeat\n\n");
        lastWrite = Date.now();
      }
    } catch (error) {
      send("done", { status: PROCESS_STATUS.ERROR, error: (error as Error).message, output: [] });
      return end();
    }
    timer = setTimeout(() => void tick(), POLL_MS);
  };
  void tick();
}
