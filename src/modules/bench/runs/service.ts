// Benchmark runs: start (limits, one at a time per user, models resolved), run through the engine detached from
// the HTTP request (a client that goes away does not stop it), cancel across instances (the state store's
// pub/sub reaches the instance running it, which aborts the provider calls in flight), store the results, and
// read them back as history.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../../../generated/prisma/client.js";
import {
  ConflictError,
  NotFoundError,
  TooManyRequestsError,
  ValidationError,
} from "../../../platform/errors.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { AdminService, BenchUsageSource } from "../admin/service.js";
import {
  runBenchmark,
  scrubSecrets,
  type BenchEvent,
  type BenchTarget,
  type BenchmarkPlan,
  type GenerationParams,
  type ResultEvent,
} from "../engine/index.js";
import type { MeasureDeps } from "../engine/measure.js";
import type { ProviderService, ResolvedModel } from "../providers/service.js";
import { LiveRun } from "../shared/live-run.js";
import { RunRegistry } from "../shared/run-registry.js";
import { heartbeatOf, holdRunSlot, STALE_RUN_MS, staleRunData, staleRunsWhere } from "../shared/run-slot.js";
import type { BenchmarkRequest } from "./runs.schema.js";

export const ALREADY_RUNNING = "Benchmark already running";
const HOUR_MS = 3_600_000;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One of the user's runs with its results in order; 404 for another user's run or an id that is no UUID. */
export async function findUserRun(prisma: PrismaClient, userId: string, runId: string) {
  const row = UUID.test(runId)
    ? await prisma.benchRun.findFirst({
        where: { id: runId, userId },
        include: { results: { orderBy: { seq: "asc" } } },
      })
    : null;
  if (!row) throw new NotFoundError("Run not found");
  return row;
}

export type RunStatus = "running" | "completed" | "empty" | "cancelled" | "failed";
export type RunSource = "api" | "schedule";

/** Events a stream ends on. */
export const isTerminal = (event: BenchEvent) =>
  event.type === "complete" || event.type === "cancelled" || (event.type === "error" && !event.provider);

/** A benchmark running on this instance. */
export interface ActiveRun {
  id: string;
  userId: string;
  /** Every event so far is replayed to a new listener, then live ones; returns the unsubscribe. */
  subscribe(listener: (event: BenchEvent) => void): () => void;
  /** Settles when the run is stored (or has failed). */
  done: Promise<RunStatus>;
}

interface Running extends ActiveRun {
  controller: AbortController;
}

export interface StartOptions {
  source?: RunSource;
  /** Schedules: {source, schedule_id, schedule_name}, stored as the run's metadata. */
  metadata?: Record<string, unknown> | null;
  scheduleId?: string | null;
  /** Skip the hourly limit (a schedule's firing is not an interactive request). */
  skipRateLimit?: boolean;
}

export interface RunServiceDeps {
  prisma: PrismaClient;
  state: StateStore;
  providers: ProviderService;
  admin: AdminService;
  log: Logger;
  /** What the engine calls through (tests inject nothing: real fetch). */
  measure?: MeasureDeps;
}

/** "YYYY-MM-DD HH:MM:SS" in UTC, upstream's timestamp format. */
export function upstreamTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace("T", " ");
}

type RunRow = Prisma.BenchRunGetPayload<{ include: { results: true } }>;

export class RunService {
  private readonly running: RunRegistry<Running>;
  /** Names this process in the runs it holds. */
  readonly instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(private readonly deps: RunServiceDeps) {
    this.running = new RunRegistry(deps.state);
  }

  /** Listens for cancels published by any instance. */
  start(): Promise<void> {
    return this.running.start();
  }

  /** Shutdown: the runs of this instance are aborted and stored as failed ("interrupted"). */
  stop(): Promise<void> {
    return this.running.stop();
  }

  /** Benchmarks running on this instance. */
  get activeCount(): number {
    return this.running.size;
  }

  /**
   * Validates and starts a benchmark; throws (422, 429, 409) before anything streams. The run goes on
   * whether anyone listens or not.
   */
  async begin(
    user: { userId: string },
    input: BenchmarkRequest,
    options: StartOptions = {},
  ): Promise<ActiveRun> {
    const { userId } = user;
    const limits = await this.deps.admin.rateLimitFor(userId);
    if (input.runs > limits.maxRunsPerBenchmark)
      throw ValidationError.field(
        ["body", "runs"],
        `runs must be at most ${limits.maxRunsPerBenchmark} (your limit)`,
        "less_than_equal",
      );
    const defaults = await this.deps.providers.defaults(userId);
    const { resolved, missing } = await this.deps.providers.resolveModels(userId, [...new Set(input.models)]);
    if (missing.length > 0)
      throw ValidationError.field(
        ["body", "models"],
        `models not found in your config: ${missing.slice(0, 10).join(", ")}`,
        "unknown_model",
      );
    const plan: BenchmarkPlan = {
      targets: resolved.map(targetOf),
      prompt: input.prompt?.trim() ? input.prompt : defaults.prompt,
      runs: input.runs,
      maxTokens: input.max_tokens ?? defaults.max_tokens,
      temperature: input.temperature ?? defaults.temperature,
      contextTiers: input.context_tiers ?? defaults.context_tiers,
      warmup: input.warmup,
      providerParams: (input.provider_params ?? null) as GenerationParams | null,
    };

    const runId = randomUUID();
    const release = await holdRunSlot(this.deps.state, userId, runId, limits.maxConcurrent, () =>
      this.deps.prisma.benchRun.updateMany(heartbeatOf(runId)),
    );
    if (release === null) throw new ConflictError(ALREADY_RUNNING);
    try {
      if (!options.skipRateLimit) await this.checkRateLimit(userId, limits.benchmarksPerHour);
      await this.deps.prisma.benchRun.create({
        data: {
          id: runId,
          userId,
          source: options.source ?? "api",
          instance: this.instance,
          heartbeatAt: new Date(),
          scheduleId: options.scheduleId ?? null,
          prompt: plan.prompt,
          contextTiers: [...plan.contextTiers],
          settings: {
            models: input.models,
            runs: plan.runs,
            max_tokens: plan.maxTokens,
            temperature: plan.temperature,
            warmup: plan.warmup,
            provider_params: (input.provider_params ?? null) as Prisma.InputJsonValue,
          } as Prisma.InputJsonObject,
          metadata: (options.metadata ?? undefined) as Prisma.InputJsonValue | undefined,
        },
      });
    } catch (error) {
      await release();
      throw error;
    }
    return this.execute(runId, userId, plan, resolved, release);
  }

  private execute(
    runId: string,
    userId: string,
    plan: BenchmarkPlan,
    resolved: ResolvedModel[],
    release: () => Promise<void>,
  ): ActiveRun {
    const controller = new AbortController();
    const live = new LiveRun<BenchEvent>();
    const emit = (event: BenchEvent) => live.emit(event);
    const secrets = resolved.map((model) => model.apiKey);
    const run: Running = {
      id: runId,
      userId,
      controller,
      subscribe: (listener) => live.subscribe(listener),
      done: Promise.resolve("running"),
    };
    this.running.add(run);
    run.done = (async (): Promise<RunStatus> => {
      let status: RunStatus = "failed";
      try {
        const outcome = await runBenchmark(plan, emit, controller.signal, this.deps.measure);
        if (outcome.cancelled) {
          status = this.running.stopping ? "failed" : "cancelled";
          await this.finish(
            runId,
            status,
            [],
            status === "failed" ? "interrupted: the server shut down" : null,
          );
          emit(
            status === "cancelled"
              ? { type: "cancelled" }
              : { type: "error", message: "Benchmark interrupted: the server shut down" },
          );
        } else {
          status = outcome.results.length > 0 ? "completed" : "empty";
          await this.finish(runId, status, outcome.results, null);
          emit({
            type: "complete",
            saved_to: status === "completed" ? `/api/history/${runId}` : "",
            run_id: status === "completed" ? runId : null,
          });
        }
      } catch (error) {
        status = "failed";
        const message = scrubSecrets(error instanceof Error ? error.message : String(error), secrets).slice(
          0,
          300,
        );
        this.deps.log.error({ runId, err: message }, "benchmark failed");
        await this.finish(runId, "failed", [], message).catch(() => {});
        emit({ type: "error", message: `Benchmark failed: ${message}` });
      } finally {
        this.running.delete(runId);
        live.close();
        await release();
      }
      return status;
    })();
    return run;
  }

  private async finish(runId: string, status: RunStatus, results: ResultEvent[], error: string | null) {
    const { prisma } = this.deps;
    const run = await prisma.benchRun.findUnique({
      where: { id: runId },
      select: { userId: true, createdAt: true },
    });
    if (!run) return; // deleted meanwhile (its user was)
    await prisma.$transaction([
      prisma.benchResult.createMany({
        data: results.map((r, seq) => ({
          runId,
          userId: run.userId,
          createdAt: run.createdAt,
          seq,
          provider: r.provider,
          providerKey: r.provider_key,
          model: r.model,
          modelId: r.model_id,
          runIndex: r.run,
          runs: r.runs,
          contextTokens: r.context_tokens,
          ttftMs: r.ttft_ms,
          totalTimeS: r.total_time_s,
          outputTokens: r.output_tokens,
          inputTokens: r.input_tokens,
          reasoningTokens: r.reasoning_tokens,
          tokensPerSecond: r.tokens_per_second,
          outputSpeedTps: r.output_speed_tps,
          itlMs: r.itl_ms,
          inputTokensPerSecond: r.input_tokens_per_second,
          cost: r.cost,
          tokensSource: r.tokens_source,
          success: r.success,
          error: r.error,
        })),
      }),
      prisma.benchRun.updateMany({
        where: { id: runId },
        data: { status, finishedAt: new Date(), error },
      }),
    ]);
  }

  /**
   * Runs left "running" by an instance that died (no heartbeat for `staleMs`) become `failed` ("interrupted"),
   * so history and statistics do not show them running forever. Called by the schedules' tick job.
   */
  async failStale(staleMs = STALE_RUN_MS): Promise<number> {
    const { count } = await this.deps.prisma.benchRun.updateMany({
      where: staleRunsWhere(this.running.ids(), staleMs),
      data: staleRunData(),
    });
    if (count > 0) this.deps.log.warn({ count }, "benchmark runs interrupted by a stopped instance closed");
    return count;
  }

  /** POST /api/benchmark/cancel: every instance aborts this user's runs (the provider calls in flight too). */
  cancel(userId: string) {
    return this.running.cancel(userId);
  }

  /** Aborts one run if this instance runs it (a schedule's job that was cancelled or timed out). */
  abortRun(runId: string): void {
    this.running.abort(runId);
  }

  private async checkRateLimit(userId: string, limit: number): Promise<void> {
    const since = new Date(Date.now() - HOUR_MS);
    const where = { userId, source: "api", createdAt: { gte: since } };
    const used = await this.deps.prisma.benchRun.count({ where });
    if (used < limit) return;
    const oldest = await this.deps.prisma.benchRun.findFirst({
      where,
      orderBy: { createdAt: "asc" },
      select: { createdAt: true },
    });
    const retryAfter = oldest ? (oldest.createdAt.getTime() + HOUR_MS - Date.now()) / 1000 : 60;
    throw new TooManyRequestsError(retryAfter, `Rate limit exceeded. Max ${limit} benchmarks per hour.`);
  }

  /** GET /api/user/rate-limit */
  async rateLimit(userId: string) {
    const { benchmarksPerHour } = await this.deps.admin.rateLimitFor(userId);
    const used = await this.deps.prisma.benchRun.count({
      where: { userId, source: "api", createdAt: { gte: new Date(Date.now() - HOUR_MS) } },
    });
    return {
      limit: benchmarksPerHour,
      remaining: Math.max(0, benchmarksPerHour - used),
      window: "1 hour" as const,
    };
  }

  // ── history ───────────────────────────────────────────────────────────────────────────────────────────

  /** GET /api/history: the completed runs, newest first. */
  async history(userId: string, query: { limit: number; offset: number }) {
    const rows = await this.deps.prisma.benchRun.findMany({
      where: { userId, status: "completed" },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: query.limit,
      skip: query.offset,
      include: { results: { orderBy: { seq: "asc" } } },
    });
    return { runs: rows.map(historyRun) };
  }

  /** GET /api/history/{run_id}: any run of the user's (a running one has status "running" and no results yet). */
  async run(userId: string, runId: string) {
    return historyRun(await findUserRun(this.deps.prisma, userId, runId));
  }

  async deleteRun(userId: string, runId: string) {
    const deleted = UUID.test(runId)
      ? await this.deps.prisma.benchRun.deleteMany({
          where: { id: runId, userId, status: { not: "running" } },
        })
      : { count: 0 };
    if (deleted.count === 0) {
      if (UUID.test(runId) && this.running.has(runId))
        throw new ConflictError("Run is still running: cancel it first");
      throw new NotFoundError("Run not found");
    }
    return { status: "ok" as const };
  }

  /** What admin statistics count (AdminService.setUsageSource). */
  usageSource(): BenchUsageSource {
    const { prisma } = this.deps;
    return {
      countRuns: ({ since, userId }) =>
        prisma.benchRun.count({
          where: { ...(since && { createdAt: { gte: since } }), ...(userId && { userId }) },
        }),
      runsByUser: async ({ since, limit }) => {
        const rows = await prisma.benchRun.groupBy({
          by: ["userId"],
          where: { createdAt: { gte: since } },
          _count: { id: true },
          orderBy: { _count: { id: "desc" } },
          take: limit,
        });
        return rows.map((row) => ({ userId: row.userId, count: row._count.id }));
      },
      results: async () => {
        const [count, size] = await Promise.all([
          prisma.benchResult.count(),
          prisma.$queryRawUnsafe<{ bytes: number }[]>(
            "SELECT (coalesce(pg_total_relation_size(to_regclass('bench_results')), 0) + coalesce(pg_total_relation_size(to_regclass('bench_runs')), 0))::float8 AS bytes",
          ),
        ]);
        return { count, bytes: Number(size[0]?.bytes ?? 0) };
      },
      active: () => this.running.size,
    };
  }
}

export function targetOf(model: ResolvedModel): BenchTarget {
  return {
    providerKey: model.providerKey,
    providerName: model.providerName,
    modelId: model.modelId,
    modelName: model.displayName,
    connection: { kind: model.kind, apiBase: model.apiBase, apiKey: model.apiKey, model: model.model },
    contextWindow: model.contextWindow,
    skipParams: model.skipParams,
    prices: model.prices,
    timeoutMs: model.timeoutMs,
    params: model.params as GenerationParams,
  };
}

export function resultOf(row: RunRow["results"][number]): ResultEvent {
  return {
    type: "result",
    provider: row.provider,
    provider_key: row.providerKey,
    model: row.model,
    model_id: row.modelId,
    run: row.runIndex,
    runs: row.runs,
    context_tokens: row.contextTokens,
    ttft_ms: row.ttftMs,
    total_time_s: row.totalTimeS,
    output_tokens: row.outputTokens,
    input_tokens: row.inputTokens,
    reasoning_tokens: row.reasoningTokens,
    tokens_per_second: row.tokensPerSecond,
    output_speed_tps: row.outputSpeedTps,
    itl_ms: row.itlMs,
    input_tokens_per_second: row.inputTokensPerSecond,
    cost: row.cost,
    tokens_source: row.tokensSource === "usage" ? "usage" : "counted",
    success: row.success,
    error: row.error,
  };
}

function historyRun(row: RunRow) {
  const settings = (row.settings ?? {}) as Record<string, unknown>;
  return {
    id: row.id,
    timestamp: upstreamTimestamp(row.createdAt),
    prompt: row.prompt,
    context_tiers: row.contextTiers,
    results: row.results.map(resultOf),
    metadata: row.metadata === null || row.metadata === undefined ? null : JSON.stringify(row.metadata),
    status: row.status as RunStatus,
    models: Array.isArray(settings.models) ? (settings.models as string[]) : [],
    runs: typeof settings.runs === "number" ? settings.runs : 0,
    max_tokens: typeof settings.max_tokens === "number" ? settings.max_tokens : 0,
    temperature: typeof settings.temperature === "number" ? settings.temperature : 0,
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}
