// Background jobs: progress, cooperative cancel, retries with backoff, schedules, and workers that run in
// the server or in a separate `hiveguard worker` process. The queue is pg-boss (docs/jobs.md says why) on
// the same database as everything else: PostgreSQL, or embedded PGlite through `Database.execute`.
//
// What pg-boss gives: durable jobs in tables of their own schema, `FOR UPDATE SKIP LOCKED` fetching (one
// worker gets a job, on any number of processes), retries with exponential backoff, expiry, cron
// schedules that fire once across instances, archiving. What this file adds on top, in pg-boss's own job
// row (the `output` column, which pg-boss overwrites with the result or the error when the job ends):
// - progress (0–100) and a message, written by the worker with a heartbeat (the database clock);
// - cancel that stops the work: the heartbeat finds the row no longer active and aborts the handler's
//   AbortSignal, so a handler that checks its signal stops within a heartbeat;
// - recovery from a dead worker: any instance fails an active job whose heartbeat is older than
//   `staleSeconds`; pg-boss then retries it (when its type allows retries) or marks it failed, so a job is
//   never left "active" by a process that was killed;
// - interval schedules (`everySeconds`): every instance offers a job per slot, pg-boss's singleton slot
//   index keeps exactly one.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import PgBoss from "pg-boss";
import type { Logger } from "pino";
import type { Database } from "./db.js";
import { ConflictError } from "./errors.js";

export type JobState = "queued" | "running" | "retrying" | "completed" | "failed" | "cancelled";

/** A job as a module shows it (modules map it onto their documented wire shapes). */
export interface JobStatus<R = unknown> {
  id: string;
  /** The job type's name. */
  type: string;
  state: JobState;
  /** 0–100 (100 once completed). */
  progress: number;
  message: string | null;
  /** The handler's return value once completed. */
  result: R | null;
  /** Why it failed, was cancelled, or why the last attempt failed while it waits to be retried. */
  error: string | null;
  /** 1 for the first attempt. */
  attempt: number;
  maxAttempts: number;
  data: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** When a queued or retrying job becomes eligible to run. */
  runAfter: Date | null;
}

export interface JobContext<D> {
  id: string;
  data: D;
  /** 1 for the first attempt, 2 for the first retry... */
  attempt: number;
  /**
   * Aborted when the job is cancelled, times out, is taken over by recovery, or the process shuts down.
   * Check it between steps (`signal.throwIfAborted()`): the work stops only if the handler looks.
   */
  signal: AbortSignal;
  /** Records progress (0–100, clamped) and an optional message; written with the next heartbeat. */
  progress(percent: number, message?: string): void;
  log: Logger;
}

export interface JobSchedule<D> {
  /** A 5-field cron expression (minute granularity); one job per firing across all instances. */
  cron?: string;
  tz?: string;
  /** Or: one job every this many seconds (≥ 1) across all instances. */
  everySeconds?: number;
  data?: D;
}

export interface JobType<D = unknown, R = unknown> {
  /** Unique, stable (it names the queue in the database): letters, digits, `.`, `_`, `-`. */
  name: string;
  run(context: JobContext<D>): Promise<R>;
  /**
   * Retries after a failure (or after the worker running it died). Only for work that is safe to run
   * twice. `backoff`: the delay doubles each attempt (with jitter). Default: no retries.
   */
  retry?: { limit: number; delaySeconds: number; backoff?: boolean };
  /** The handler is aborted and the attempt failed after this long (default one hour). */
  timeoutSeconds?: number;
  /** At most one job of this type queued or running at a time: `enqueue` throws JobConflictError. */
  exclusive?: boolean;
  schedule?: JobSchedule<D>;
  /**
   * Workers of this type in this process when it is not a dedicated worker (`hiveguard worker`), instead of
   * the queue's `workers` (e.g. LAB_WORKERS=0: the server only queues lab jobs). Default: the queue's.
   */
  serverWorkers?: number;
}

/** Any job type, whatever its data and result (what the queue holds). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- data types differ per job type
export type AnyJobType = JobType<any, unknown>;

/** Declares a job type (identity function, for inference). */
export function defineJob<D = void, R = void>(type: JobType<D, R>): JobType<D, R> {
  return type;
}

/** Thrown inside a handler: fail now, without the retries the type allows (the input can never work). */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

/** `enqueue` of an exclusive type while one is queued or running (409 on the wire). */
export class JobConflictError extends ConflictError {
  constructor(readonly existing: JobStatus) {
    super(`a job of type ${existing.type} is already ${existing.state} (id ${existing.id})`);
  }
}

/** The reason a handler's signal was aborted. */
export class JobAbortedError extends Error {
  override name = "JobAbortedError";
}

export interface JobQueueOptions {
  db: Database;
  log: Logger;
  /** Workers per job type in this process (concurrent jobs of one type); 0: this process only enqueues. */
  workers: number;
  /** An active job whose worker has not written a heartbeat for this long is failed (then retried). */
  staleSeconds?: number;
  /** How often an idle worker looks for a job (default 1 s). */
  pollSeconds?: number;
  /** How often running jobs write progress and look for a cancel (default 1 s). */
  heartbeatMs?: number;
  /** How often pg-boss's cron clock looks at the schedules (default 30 s; 1–45). */
  cronCheckSeconds?: number;
  /** pg-boss's schema (default: `<database schema>_jobs`, or `hiveguard_jobs` on the default schema). */
  schema?: string;
  /** A dedicated worker process (`hiveguard worker`): job types' `serverWorkers` do not apply. */
  dedicated?: boolean;
}

interface Running {
  id: string;
  name: string;
  controller: AbortController;
  progress: number;
  message: string | null;
}

interface Row {
  id: string;
  name: string;
  state: string;
  data: unknown;
  output: Record<string, unknown> | null;
  retry_count: number;
  retry_limit: number;
  created_on: Date | string;
  started_on: Date | string | null;
  completed_on: Date | string | null;
  start_after: Date | string | null;
}

const COLUMNS =
  "id::text AS id, name, state::text AS state, data, output, retry_count, retry_limit, created_on, started_on, completed_on, start_after";

export const DEFAULT_STALE_SECONDS = 30;
const DEFAULT_TIMEOUT_SECONDS = 3600;

export function jobsSchemaFor(dbSchema: string | undefined): string {
  return `${dbSchema && dbSchema !== "public" ? dbSchema : "hiveguard"}_jobs`;
}

export class JobQueue {
  readonly schema: string;
  /** This process, as written in the heartbeat of the jobs it runs. */
  readonly worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private boss!: PgBoss;
  private readonly types = new Map<string, AnyJobType>();
  private readonly running = new Map<string, Running>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly staleSeconds: number;
  private readonly heartbeatMs: number;
  private state: "new" | "starting" | "started" | "stopped" = "new";
  private beating = false;

  constructor(private readonly options: JobQueueOptions) {
    this.schema = options.schema ?? jobsSchemaFor(options.db.schema);
    this.staleSeconds = options.staleSeconds ?? DEFAULT_STALE_SECONDS;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
  }

  /** Adds job types; before `start()`. */
  register(...types: AnyJobType[]): void {
    if (this.state !== "new") throw new Error("register job types before starting the queue");
    for (const type of types) {
      if (this.types.has(type.name)) throw new Error(`job type ${type.name} registered twice`);
      this.types.set(type.name, type);
    }
  }

  get workers(): number {
    return this.options.workers;
  }

  /** Creates pg-boss's tables (first start), the queues, the schedules, and this process's workers. */
  async start(): Promise<void> {
    if (this.state !== "new") return;
    this.state = "starting";
    const db = this.options.db;
    // Processes starting at once on a fresh database (cluster workers) race to create pg-boss's schema:
    // `CREATE SCHEMA IF NOT EXISTS` is not atomic in PostgreSQL, so the loser sees a unique violation
    // (23505) or "schema already exists" (42P06). The schema is there by then: start again.
    for (let attempt = 1; ; attempt++) {
      this.boss = new PgBoss({
        db: { executeSql: (text: string, values?: unknown[]) => db.execute(text, values) },
        schema: this.schema,
        migrate: true,
        supervise: true,
        // The cron clock only where some type has a cron schedule (it polls the database).
        schedule: [...this.types.values()].some((type) => type.schedule?.cron),
        ...(this.options.cronCheckSeconds
          ? { cronMonitorIntervalSeconds: this.options.cronCheckSeconds }
          : {}),
        // Keep finished jobs (and their status) a week before archiving, a month before deleting.
        archiveCompletedAfterSeconds: 7 * 24 * 3600,
        deleteAfterDays: 30,
      } as PgBoss.ConstructorOptions);
      this.boss.on("error", (error) => this.warn(error, "job queue"));
      try {
        await this.boss.start();
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= 3 || (code !== "23505" && code !== "42P06")) throw error;
        await this.boss.stop({ graceful: false }).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
    for (const type of this.types.values()) {
      const existing = await this.boss.getQueue(type.name);
      const queue: PgBoss.Queue = {
        name: type.name,
        policy: type.exclusive ? "stately" : "standard",
        retryLimit: type.retry?.limit ?? 0,
        retryDelay: type.retry?.delaySeconds ?? 0,
        retryBackoff: type.retry?.backoff ?? false,
        expireInSeconds: type.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
      };
      if (!existing) {
        // Two instances starting at once: the loser's create fails on the primary key; update then.
        await this.boss.createQueue(type.name, queue).catch(() => this.boss.updateQueue(type.name, queue));
      } else {
        // (pg-boss's updateQueue resets an omitted policy to "standard": always pass it.)
        await this.boss.updateQueue(type.name, queue);
      }
    }
    for (const type of this.types.values()) await this.startSchedule(type);
    for (const type of this.types.values()) {
      const workers =
        type.serverWorkers !== undefined && !this.options.dedicated
          ? type.serverWorkers
          : this.options.workers;
      for (let i = 0; i < workers; i++) await this.startWorker(type);
    }

    const heartbeat = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    const sweep = setInterval(
      () => void this.recoverStale().catch((error: unknown) => this.warn(error, "job recovery")),
      Math.max(1000, (this.staleSeconds * 1000) / 3),
    );
    heartbeat.unref();
    sweep.unref();
    this.timers.push(heartbeat, sweep);
    this.state = "started";
    await this.recoverStale().catch((error: unknown) => this.warn(error, "job recovery"));
  }

  /**
   * Stops taking jobs, aborts the running ones (they fail with "shutting down", and are retried by
   * whichever worker comes next when their type allows it) and waits for their handlers to return.
   */
  async stop(): Promise<void> {
    if (this.state === "stopped" || this.state === "new") {
      this.state = "stopped";
      return;
    }
    this.state = "stopped";
    for (const timer of this.timers) clearInterval(timer);
    for (const job of this.running.values())
      job.controller.abort(new JobAbortedError("the process running it is shutting down"));
    await this.boss.stop({ graceful: true, wait: true, close: false, timeout: 15_000 });
  }

  /** Queues a job; returns its id. Exclusive types throw JobConflictError while one is queued or running. */
  async enqueue<D>(type: JobType<D, unknown>, data: D, options: { startAfterSeconds?: number } = {}) {
    this.assertKnown(type.name);
    const send = () =>
      this.boss.send(type.name, (data ?? {}) as object, {
        ...(options.startAfterSeconds ? { startAfter: options.startAfterSeconds } : {}),
      });
    if (!type.exclusive) {
      const id = await send();
      if (!id) throw new Error(`job ${type.name} was not queued`);
      return id;
    }
    const before = await this.pending(type.name);
    if (before) throw new JobConflictError(before);
    // The stately queue keeps at most one queued job: a concurrent enqueue gets null.
    const id = await send();
    const other = await this.pending(type.name, id ?? undefined);
    if (!id || other) {
      if (id) await this.boss.deleteJob(type.name, id);
      const existing = other ?? (await this.pending(type.name));
      if (existing) throw new JobConflictError(existing);
      throw new Error(`job ${type.name} was not queued`);
    }
    return id;
  }

  /** A job's status by id (any type), or null. */
  async get(id: string): Promise<JobStatus | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.options.db.execute(
      `SELECT ${COLUMNS} FROM ${this.schema}.job WHERE id = $1::uuid
       UNION ALL SELECT ${COLUMNS} FROM ${this.schema}.archive WHERE id = $1::uuid LIMIT 1`,
      [id],
    );
    return rows[0] ? toStatus(rows[0] as unknown as Row) : null;
  }

  /** The newest job of a type (queued, running or finished), or null. */
  async latest(type: AnyJobType | string): Promise<JobStatus | null> {
    const name = typeof type === "string" ? type : type.name;
    const { rows } = await this.options.db.execute(
      `SELECT * FROM (SELECT ${COLUMNS} FROM ${this.schema}.job WHERE name = $1
       UNION ALL SELECT ${COLUMNS} FROM ${this.schema}.archive WHERE name = $1) jobs
       ORDER BY created_on DESC LIMIT 1`,
      [name],
    );
    return rows[0] ? toStatus(rows[0] as unknown as Row) : null;
  }

  /** Jobs of the given types, newest first (finished ones included until they are archived after a week). */
  async list(options: { types: string[]; states?: JobState[]; limit?: number }): Promise<JobStatus[]> {
    const states = options.states?.flatMap((state) => PG_STATES[state]);
    const { rows } = await this.options.db.execute(
      `SELECT ${COLUMNS} FROM ${this.schema}.job
       WHERE name = ANY($1::text[]) AND ($2::text[] IS NULL OR state::text = ANY($2::text[]))
       ORDER BY created_on DESC, id LIMIT $3`,
      [options.types, states ?? null, Math.min(1000, Math.max(1, options.limit ?? 100))],
    );
    return (rows as unknown as Row[]).map(toStatus);
  }

  /**
   * Cancels a queued or running job: it will not start, or its handler's signal is aborted within a
   * heartbeat (at once when it runs in this process). Returns the status after the cancel (null: unknown id).
   */
  async cancel(id: string): Promise<JobStatus | null> {
    const job = await this.get(id);
    if (!job) return null;
    await this.boss.cancel(job.type, id);
    this.running.get(id)?.controller.abort(new JobAbortedError("cancelled"));
    return this.get(id);
  }

  /** Resolves once no job of the given type runs in this process (tests, shutdown paths). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // ── workers ─────────────────────────────────────────────────────────────────────────────────────

  private async startWorker(type: AnyJobType): Promise<void> {
    await this.boss.work<unknown>(
      type.name,
      {
        includeMetadata: true,
        batchSize: 1,
        pollingIntervalSeconds: Math.max(0.5, this.options.pollSeconds ?? 1),
      },
      async ([job]) => (job ? this.runJob(type, job) : undefined),
    );
  }

  private async runJob(type: AnyJobType, job: PgBoss.JobWithMetadata<unknown>) {
    const controller = new AbortController();
    const running: Running = { id: job.id, name: type.name, controller, progress: 0, message: null };
    this.running.set(job.id, running);
    const log = this.options.log.child({ job: job.id, jobType: type.name });
    const timeoutSeconds = type.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    // pg-boss gives up on the handler at the expiry; stop the work a moment before.
    const timeout = setTimeout(
      () => controller.abort(new JobAbortedError(`timed out after ${timeoutSeconds} s`)),
      Math.max(1, timeoutSeconds * 1000 - 500),
    );
    timeout.unref();
    try {
      if (this.state === "stopped")
        controller.abort(new JobAbortedError("the process running it is shutting down"));
      await this.beat(running);
      const result = await type.run({
        id: job.id,
        data: job.data as never,
        attempt: job.retryCount + 1,
        signal: controller.signal,
        log,
        progress: (percent, message) => {
          running.progress = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
          if (message !== undefined) running.message = message;
        },
      });
      controller.signal.throwIfAborted();
      return { progress: 100, message: running.message, result: result ?? null };
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      const message = reason instanceof Error ? reason.message : String(reason);
      if (reason instanceof PermanentJobError) await this.noMoreRetries(job.id);
      log.warn({ err: error, attempt: job.retryCount + 1 }, "job failed");
      // pg-boss stores what it is thrown (serialized): keep the progress with the error.
      throw Object.assign(new Error(message), {
        progress: running.progress,
        progress_message: running.message,
      });
    } finally {
      clearTimeout(timeout);
      this.running.delete(job.id);
    }
  }

  /** Writes progress and the heartbeat of every job running here; aborts those no longer active. */
  private async heartbeat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      for (const job of [...this.running.values()]) await this.beat(job);
    } catch (error) {
      this.warn(error, "job heartbeat");
    } finally {
      this.beating = false;
    }
  }

  private async beat(job: Running): Promise<void> {
    if (job.controller.signal.aborted) return;
    const { rows } = await this.options.db.execute(
      `UPDATE ${this.schema}.job SET output = jsonb_build_object(
         'progress', $3::float8, 'message', $4::text, 'worker', $5::text,
         'heartbeat_at', floor(extract(epoch from now()) * 1000))
       WHERE name = $1 AND id = $2::uuid AND state = 'active' RETURNING id`,
      [job.name, job.id, job.progress, job.message, this.worker],
    );
    if (rows.length > 0) return;
    const now = await this.get(job.id);
    job.controller.abort(
      new JobAbortedError(
        now?.state === "cancelled" ? "cancelled" : `no longer active here (now ${now?.state ?? "gone"})`,
      ),
    );
  }

  /** Fails active jobs whose worker stopped writing its heartbeat (killed, frozen, cut off). */
  private async recoverStale(): Promise<void> {
    if (this.state !== "started" || this.types.size === 0) return;
    const { rows } = await this.options.db.execute(
      `SELECT id::text AS id, name, output->'progress' AS progress, output->>'message' AS message
       FROM ${this.schema}.job
       WHERE state = 'active' AND name = ANY($1::text[])
         AND COALESCE((output->>'heartbeat_at')::float8, extract(epoch from started_on) * 1000)
             < extract(epoch from now()) * 1000 - $2::float8`,
      [[...this.types.keys()], this.staleSeconds * 1000],
    );
    for (const row of rows as { id: string; name: string; progress: unknown; message: string | null }[]) {
      if (this.running.has(row.id)) continue;
      this.options.log.warn({ job: row.id, jobType: row.name }, "job lost its worker; failing it");
      await this.boss.fail(row.name, row.id, {
        message: `interrupted: the worker running it stopped (no heartbeat for ${this.staleSeconds} s)`,
        progress: typeof row.progress === "number" ? row.progress : 0,
        progress_message: row.message,
      });
    }
  }

  private async noMoreRetries(id: string): Promise<void> {
    await this.options.db
      .execute(`UPDATE ${this.schema}.job SET retry_limit = retry_count WHERE id = $1::uuid`, [id])
      .catch((error: unknown) => this.warn(error, "job retry limit"));
  }

  // ── schedules ───────────────────────────────────────────────────────────────────────────────────

  private async startSchedule(type: AnyJobType): Promise<void> {
    const schedule = type.schedule;
    if (!schedule) return;
    const data = (schedule.data ?? {}) as object;
    if (schedule.cron) {
      await this.boss.schedule(type.name, schedule.cron, data, schedule.tz ? { tz: schedule.tz } : {});
    }
    if (schedule.everySeconds) {
      const seconds = Math.max(1, Math.round(schedule.everySeconds));
      // Every instance offers one job per slot of `seconds` (pg-boss's singleton slot: a unique index),
      // ticking twice per slot so that no slot is missed; exactly one offer per slot is stored.
      const offer = () =>
        void this.boss
          .sendThrottled(type.name, data, {}, seconds, "schedule")
          .catch((error: unknown) => this.warn(error, "scheduling a job"));
      offer();
      const timer = setInterval(offer, (seconds * 1000) / 2);
      timer.unref();
      this.timers.push(timer);
    }
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────────

  private async pending(name: string, except?: string): Promise<JobStatus | null> {
    const { rows } = await this.options.db.execute(
      `SELECT ${COLUMNS} FROM ${this.schema}.job
       WHERE name = $1 AND state IN ('created', 'retry', 'active') AND ($2::text IS NULL OR id::text <> $2)
       ORDER BY created_on LIMIT 1`,
      [name, except ?? null],
    );
    return rows[0] ? toStatus(rows[0] as unknown as Row) : null;
  }

  private assertKnown(name: string): void {
    if (!this.types.has(name)) throw new Error(`job type ${name} is not registered`);
    if (this.state !== "started") throw new Error("the job queue is not started");
  }

  private warn(error: unknown, what: string): void {
    if (this.state === "stopped") return;
    this.options.log.warn({ err: error }, `${what} failed`);
  }
}

function toStatus(row: Row): JobStatus {
  const output = (row.output ?? {}) as Record<string, unknown>;
  const state = mapState(row.state);
  const number = (value: unknown) => (typeof value === "number" ? value : Number(value ?? 0) || 0);
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  const errorText =
    state === "failed" || state === "retrying"
      ? (text(output.message) ?? text(output.value) ?? "failed")
      : state === "cancelled"
        ? "cancelled"
        : null;
  return {
    id: row.id,
    type: row.name,
    state,
    progress: state === "completed" ? 100 : number(output.progress),
    message:
      state === "failed" || state === "retrying" ? text(output.progress_message) : text(output.message),
    result: state === "completed" ? (output.result ?? null) : null,
    error: errorText,
    attempt: Number(row.retry_count) + (row.started_on ? 1 : 0),
    maxAttempts: Number(row.retry_limit) + 1,
    data: row.data,
    createdAt: toDate(row.created_on)!,
    startedAt: toDate(row.started_on),
    finishedAt: state === "retrying" ? null : toDate(row.completed_on),
    runAfter: state === "queued" || state === "retrying" ? toDate(row.start_after) : null,
  };
}

const PG_STATES: Record<JobState, string[]> = {
  queued: ["created"],
  retrying: ["retry"],
  running: ["active"],
  completed: ["completed"],
  cancelled: ["cancelled"],
  failed: ["failed"],
};

function mapState(state: string): JobState {
  switch (state) {
    case "created":
      return "queued";
    case "retry":
      return "retrying";
    case "active":
      return "running";
    case "completed":
      return "completed";
    case "cancelled":
      return "cancelled";
    default:
      return "failed";
  }
}

function toDate(value: Date | string | null): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function isUuid(value: string): boolean {
  return UUID.test(value);
}
