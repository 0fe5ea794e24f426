// Generative sessions (the model, its parameters and endpoint, a parameter history) and their processes (one
// per invocation, with stored inputs and outputs). The API key given in the parameters is taken out of them and
// sealed with bench's SecretBox (bound to the session id), so neither the API nor the history holds it.
import { randomUUID } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { z } from "zod";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import { lastFourOf, type ResolvedModel, type SecretBox } from "../../bench/index.js";
import type { LabComponentService } from "../components/service.js";
import { unprocessable } from "../errors.js";
import { RUN_STATUS } from "../runs/runs.schema.js";
import type { Endpoint } from "./client.js";
import { type GenerativeModel, MODEL_PARAMS, TASK_OF_MODEL } from "./components.js";
import type { GenerativeProcessOut, GenerativeSessionOut } from "./generative.schema.js";

export const PROCESS_STATUS = RUN_STATUS;
const STATUS_NAME = ["NOT_STARTED", "DELIVERED", "STARTED", "FINISHED", "ERROR"];
const DEFAULT_TIMEOUT_MS = 120_000;
const IMAGE_NAME = /^[0-9a-f-]{36}\.png$/;

/** Looks up a bench user's provider model (bench's ProviderService.resolveModelOf), when bench runs. */
export type BenchModelResolver = (email: string, modelId: string) => Promise<ResolvedModel>;

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === "P2002";
const object = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

type SessionRow = NonNullable<Awaited<ReturnType<PrismaClient["labGenerativeSession"]["findUnique"]>>>;

export interface SessionInput {
  task_name: string;
  model_name: string;
  name: string;
  description?: string | null;
  parameters: Record<string, unknown>;
}

export class LabGenerativeService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly box: SecretBox,
    private readonly components: LabComponentService,
    private readonly dataDir: string,
    private readonly bench: BenchModelResolver | null,
  ) {}

  // ── sessions ──────────────────────────────────────────────────────────────────────────────────────────

  /** Checks model, task and parameters; splits off the key. 422 naming the field that does not fit. */
  private check(input: { task_name: string; model_name: string; parameters: Record<string, unknown> }) {
    const schema = MODEL_PARAMS[input.model_name as GenerativeModel];
    if (!schema) {
      const known = Object.keys(MODEL_PARAMS).join(", ");
      throw ValidationError.field(
        ["body", "model_name"],
        `${input.model_name} is not a generative model (one of ${known})`,
      );
    }
    if (!this.components.find(input.task_name, "GenerativeTask"))
      throw ValidationError.field(["body", "task_name"], `${input.task_name} is not a generative task`);
    if (TASK_OF_MODEL[input.model_name as GenerativeModel] !== input.task_name)
      throw ValidationError.field(
        ["body", "model_name"],
        `${input.model_name} does not do ${input.task_name} (it does ${TASK_OF_MODEL[input.model_name as GenerativeModel]})`,
      );
    const parsed = (schema as z.ZodObject).safeParse(input.parameters);
    if (!parsed.success)
      throw new ValidationError(
        parsed.error.issues.map((issue) => ({
          loc: ["body", "parameters", ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
          msg: issue.message,
          type: "value_error",
        })),
      );
    const { api_key: apiKey, ...parameters } = parsed.data as Record<string, unknown>;
    const viaBench = parameters.bench_user !== undefined || parameters.bench_model !== undefined;
    if (viaBench) {
      for (const field of ["bench_user", "bench_model"])
        if (parameters[field] === undefined)
          throw ValidationError.field(
            ["body", "parameters", field],
            `${field} is required with a bench endpoint`,
          );
    } else {
      for (const field of ["base_url", "model"])
        if (parameters[field] === undefined)
          throw ValidationError.field(
            ["body", "parameters", field],
            `${field} is required (or bench_user and bench_model)`,
          );
    }
    return { parameters, apiKey: apiKey as string | undefined };
  }

  private keyContext = (id: number) => `lab-generative-session:${id}`;

  private out(row: SessionRow): GenerativeSessionOut {
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      task_name: row.taskName,
      model_name: row.modelName,
      parameters: object(row.parameters),
      api_key_set: row.keyCiphertext !== null,
      created: row.createdAt.toISOString(),
      last_modified: row.updatedAt.toISOString(),
    };
  }

  private async row(id: number): Promise<SessionRow> {
    const row = await this.prisma.labGenerativeSession.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`Generative session ${id} does not exist`);
    return row;
  }

  async list(taskName?: string): Promise<GenerativeSessionOut[]> {
    const rows = await this.prisma.labGenerativeSession.findMany({
      where: taskName ? { taskName } : {},
      orderBy: { id: "asc" },
    });
    return rows.map((row) => this.out(row));
  }

  async get(id: number): Promise<GenerativeSessionOut> {
    return this.out(await this.row(id));
  }

  async create(input: SessionInput): Promise<GenerativeSessionOut> {
    const { parameters, apiKey } = this.check(input);
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const created = await tx.labGenerativeSession.create({
          data: {
            name: input.name,
            description: input.description ?? null,
            taskName: input.task_name,
            modelName: input.model_name,
            parameters: parameters as never,
          },
        });
        await tx.labGenerativeParameterHistory.create({
          data: { sessionId: created.id, modelName: created.modelName, parameters: parameters as never },
        });
        if (apiKey === undefined) return created;
        const sealed = this.box.seal(apiKey, this.keyContext(created.id));
        return tx.labGenerativeSession.update({
          where: { id: created.id },
          data: { keyCiphertext: sealed.ciphertext, keyId: sealed.keyId, keyLastFour: lastFourOf(apiKey) },
        });
      });
      return this.out(row);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`Generative session with name '${input.name}' already exists`);
      throw error;
    }
  }

  /**
   * PATCH: the fields given; `parameters` merged over the stored ones (or, with `replace`, instead of them).
   * Every update records a snapshot of the resulting model and parameters in the history.
   */
  async update(
    id: number,
    patch: Partial<Omit<SessionInput, "parameters">> & { parameters?: Record<string, unknown> | string },
    options: { replace?: boolean } = {},
  ): Promise<GenerativeSessionOut> {
    const row = await this.row(id);
    let given = patch.parameters;
    if (typeof given === "string") {
      try {
        given = object(JSON.parse(given));
      } catch {
        throw ValidationError.field(["query", "parameters"], "parameters must be a JSON object");
      }
    }
    const merged = options.replace ? { ...given } : { ...object(row.parameters), ...given };
    const removeKey = merged.api_key === "";
    if (removeKey) delete merged.api_key;
    const modelName = patch.model_name ?? row.modelName;
    const taskName =
      patch.task_name ??
      (patch.model_name ? TASK_OF_MODEL[modelName as GenerativeModel] : undefined) ??
      row.taskName;
    const { parameters, apiKey } = this.check({
      task_name: taskName,
      model_name: modelName,
      parameters: merged,
    });
    const key =
      apiKey !== undefined
        ? { ...this.box.seal(apiKey, this.keyContext(id)), keyLastFour: lastFourOf(apiKey) }
        : removeKey
          ? { ciphertext: null, keyId: null, keyLastFour: null }
          : null;
    try {
      const updated = await this.prisma.$transaction(async (tx) => {
        const next = await tx.labGenerativeSession.update({
          where: { id },
          data: {
            ...(patch.name !== undefined && { name: patch.name }),
            ...(patch.description !== undefined && { description: patch.description }),
            taskName,
            modelName,
            parameters: parameters as never,
            ...(key && { keyCiphertext: key.ciphertext, keyId: key.keyId, keyLastFour: key.keyLastFour }),
          },
        });
        await tx.labGenerativeParameterHistory.create({
          data: { sessionId: id, modelName, parameters: parameters as never },
        });
        return next;
      });
      return this.out(updated);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`Generative session with name '${patch.name}' already exists`);
      throw error;
    }
  }

  async history(id: number) {
    await this.row(id);
    const rows = await this.prisma.labGenerativeParameterHistory.findMany({
      where: { sessionId: id },
      orderBy: { id: "asc" },
    });
    return rows.map((h) => ({
      id: h.id,
      session_id: h.sessionId,
      model_name: h.modelName,
      parameters: object(h.parameters),
      modified_at: h.modifiedAt.toISOString(),
    }));
  }

  async delete(id: number): Promise<void> {
    await this.row(id);
    await this.deleteMany([id]);
  }

  async deleteMany(ids: number[]): Promise<number> {
    const images = await this.prisma.labProcessData.findMany({
      where: { dataType: "Image", process: { sessionId: { in: ids } } },
      select: { data: true },
    });
    const { count } = await this.prisma.labGenerativeSession.deleteMany({ where: { id: { in: ids } } });
    await Promise.all(images.map((image) => rm(this.imagePath(image.data), { force: true })));
    return count;
  }

  /** What a call needs: the session's own endpoint and key, or the bench user's provider model. */
  async endpointOf(sessionId: number): Promise<Endpoint> {
    const row = await this.row(sessionId);
    const parameters = object(row.parameters);
    if (typeof parameters.bench_user === "string" && typeof parameters.bench_model === "string") {
      if (!this.bench) throw unprocessable("The bench module is not running: bench_user cannot be resolved");
      const resolved = await this.bench(parameters.bench_user, parameters.bench_model);
      return {
        baseUrl: resolved.apiBase,
        model: resolved.model,
        apiKey: resolved.apiKey,
        timeoutMs: resolved.timeoutMs,
      };
    }
    let apiKey: string | null = null;
    if (row.keyCiphertext && row.keyId) {
      apiKey = this.box.open(row.keyCiphertext, row.keyId, this.keyContext(row.id));
      if (apiKey === null)
        throw unprocessable("The session's API key cannot be decrypted (SECRET_KEY changed): set it again");
    }
    return {
      baseUrl: String(parameters.base_url),
      model: String(parameters.model),
      apiKey,
      timeoutMs: DEFAULT_TIMEOUT_MS,
    };
  }

  // ── processes ─────────────────────────────────────────────────────────────────────────────────────────

  /** A process with its inputs (the texts, in order); status NOT_STARTED until a GenerativeJob runs it. */
  async createProcess(sessionId: number, texts: string[]): Promise<GenerativeProcessOut> {
    const session = await this.prisma.labGenerativeSession.findUnique({ where: { id: sessionId } });
    if (!session) throw new NotFoundError(`Session with ID ${sessionId} does not exist.`);
    if (texts.length === 0 || texts[0]!.trim() === "")
      throw ValidationError.field(["body", "text_0"], "text_0 (the prompt) is required");
    const process = await this.prisma.labGenerativeProcess.create({
      data: {
        sessionId,
        parameters: session.parameters as never,
        data: { create: texts.map((data, position) => ({ isInput: true, dataType: "str", data, position })) },
      },
    });
    return this.process(process.id);
  }

  async process(id: number): Promise<GenerativeProcessOut> {
    const row = await this.prisma.labGenerativeProcess.findUnique({
      where: { id },
      include: { data: { orderBy: [{ position: "asc" }, { id: "asc" }] } },
    });
    if (!row) throw new NotFoundError(`Generative process with ID ${id} does not exist.`);
    const data = row.data.map((d) => ({
      id: d.id,
      process_id: d.processId,
      is_input: d.isInput,
      data_type: d.dataType as "str" | "Image",
      data: d.data,
    }));
    return {
      id: row.id,
      session_id: row.sessionId,
      status: row.status,
      error: row.error,
      job_id: row.jobId,
      parameters: object(row.parameters),
      created: row.createdAt.toISOString(),
      start_time: row.startTime?.toISOString() ?? null,
      end_time: row.endTime?.toISOString() ?? null,
      input: data.filter((d) => d.is_input),
      output: data.filter((d) => !d.is_input),
    };
  }

  async processesOf(sessionId: number): Promise<GenerativeProcessOut[]> {
    await this.row(sessionId);
    const rows = await this.prisma.labGenerativeProcess.findMany({
      where: { sessionId },
      orderBy: { id: "asc" },
      select: { id: true },
    });
    return Promise.all(rows.map((row) => this.process(row.id)));
  }

  /** The outputs of a finished process; 422 while it runs or when it failed (with its error). */
  async results(id: number) {
    const process = await this.process(id);
    if (process.status === PROCESS_STATUS.ERROR)
      throw unprocessable(`Generative process ${id} failed: ${process.error ?? "unknown error"}`);
    if (process.status !== PROCESS_STATUS.FINISHED)
      throw unprocessable(`Generative process ${id} is not finished (status ${STATUS_NAME[process.status]})`);
    return { id, status: process.status, output: process.output };
  }

  async deleteProcess(id: number): Promise<void> {
    const process = await this.process(id);
    await this.prisma.labGenerativeProcess.delete({ where: { id } });
    await Promise.all(
      process.output
        .filter((d) => d.data_type === "Image")
        .map((d) => rm(this.imagePath(d.data), { force: true })),
    );
  }

  /** Earlier finished exchanges of the session (prompt, answer), oldest first. */
  async historyBefore(
    process: { id: number; session_id: number },
    turns: number,
  ): Promise<[string, string][]> {
    if (turns === 0) return [];
    const rows = await this.prisma.labGenerativeProcess.findMany({
      where: { sessionId: process.session_id, id: { lt: process.id }, status: PROCESS_STATUS.FINISHED },
      orderBy: { id: "desc" },
      take: turns,
      include: { data: { orderBy: [{ position: "asc" }, { id: "asc" }] } },
    });
    return rows.reverse().flatMap((row) => {
      const input = row.data.find((d) => d.isInput && d.dataType === "str");
      const output = row.data.find((d) => !d.isInput && d.dataType === "str");
      return input && output ? [[input.data, output.data] as [string, string]] : [];
    });
  }

  // ── images ────────────────────────────────────────────────────────────────────────────────────────────

  get imageDir(): string {
    return join(this.dataDir, "generative");
  }

  /** The file of a generated image; 404 for any name we did not make (no path escapes LAB_DATA_DIR). */
  imagePath(name: string): string {
    if (!IMAGE_NAME.test(name)) throw new NotFoundError("File not found");
    return join(this.imageDir, name);
  }

  async saveImage(bytes: Buffer): Promise<string> {
    await mkdir(this.imageDir, { recursive: true });
    const name = `${randomUUID()}.png`;
    await writeFile(join(this.imageDir, name), bytes);
    return name;
  }
}

/** Whether a queued or running process may be queued again (409 otherwise). */
export function assertQueueable(status: number, id: number): void {
  if (status === PROCESS_STATUS.DELIVERED || status === PROCESS_STATUS.STARTED)
    throw new ConflictError(`Generative process ${id} is already ${STATUS_NAME[status]!.toLowerCase()}`);
}
