// Tool evals: start (suite and models checked, the user's run slot shared with benchmarks, the hourly limit),
// run detached from the HTTP request (providers in parallel, each provider's models and cases in sequence),
// cancel across instances (the same channel as benchmarks: one cancel stops whatever the user runs), store
// per-case results and per-model summaries, and read them back as history.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../../../generated/prisma/client.js";
import {
  ConflictError,
  NotFoundError,
  TooManyRequestsError,
  ValidationError,
} from "../../../platform/errors.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { AdminService } from "../admin/service.js";
import {
  CallCancelledError,
  runToolCase,
  scrubSecrets,
  summarizeCases,
  type BenchTarget,
  type EvalCase,
  type EvalSettings,
  type GenerationParams,
  type ToolEvalResult,
} from "../engine/index.js";
import type { MeasureDeps } from "../engine/measure.js";
import type { ProviderService } from "../providers/service.js";
import { targetOf, upstreamTimestamp, UUID } from "../runs/service.js";
import { LiveRun } from "../shared/live-run.js";
import { RunRegistry } from "../shared/run-registry.js";
import { heartbeatOf, holdRunSlot, STALE_RUN_MS, staleRunData, staleRunsWhere } from "../shared/run-slot.js";
import type { SuiteService } from "../tools/suites.service.js";
import {
  gradeAll,
  JudgeSession,
  type JudgeEvent,
  type JudgeMode,
  type JudgeService,
  type JudgeSetup,
} from "../judge/service.js";
import type { ToolEvalRequest } from "./evals.schema.js";

export const EVAL_ALREADY_RUNNING = "A benchmark or eval is already running";
export const EVAL_NOT_FOUND = "Eval run not found";
const HOUR_MS = 3_600_000;

export interface ProgressEvent {
  type: "progress";
  current: number;
  total: number;
  model: string;
  model_id: string;
  provider: string;
  test_case: string;
}

export interface ModelSummaryEvent {
  type: "model_summary";
  model_id: string;
  model_name: string;
  provider: string;
  provider_key: string;
  tool_accuracy_pct: number;
  param_accuracy_pct: number;
  overall_pct: number;
  cases_run: number;
  cases_passed: number;
}

export type EvalEvent =
  | ProgressEvent
  | ToolEvalResult
  | ModelSummaryEvent
  | JudgeEvent
  | { type: "heartbeat" }
  | { type: "cancelled" }
  | { type: "complete"; eval_id: string }
  | { type: "error"; message: string };

export type EvalStatus = "running" | "completed" | "cancelled" | "failed";

export const isTerminalEval = (event: EvalEvent) =>
  event.type === "complete" || event.type === "cancelled" || event.type === "error";

export interface ActiveEval {
  id: string;
  userId: string;
  subscribe(listener: (event: EvalEvent) => void): () => void;
  done: Promise<EvalStatus>;
}

interface Running extends ActiveEval {
  controller: AbortController;
}

export interface EvalServiceDeps {
  prisma: PrismaClient;
  state: StateStore;
  providers: ProviderService;
  admin: AdminService;
  suites: SuiteService;
  judge: JudgeService;
  log: Logger;
  measure?: MeasureDeps;
}

type EvalRow = Prisma.BenchEvalRunGetPayload<{ include: { results: true } }>;

/**
 * Evals and param tunes count towards the user's hourly limit together with benchmarks (upstream: one limit for
 * every kind of stream); 429 when it is spent.
 */
export async function checkHourlyLimit(prisma: PrismaClient, userId: string, limit: number): Promise<void> {
  const since = new Date(Date.now() - HOUR_MS);
  const counts = await Promise.all([
    prisma.benchRun.count({ where: { userId, source: "api", createdAt: { gte: since } } }),
    prisma.benchEvalRun.count({ where: { userId, createdAt: { gte: since } } }),
    prisma.benchParamTune.count({ where: { userId, createdAt: { gte: since } } }),
    prisma.benchJudgeReport.count({ where: { userId, standalone: true, createdAt: { gte: since } } }),
    prisma.benchLabelRun.count({ where: { userId, createdAt: { gte: since } } }),
    prisma.benchPromptTune.count({ where: { userId, createdAt: { gte: since } } }),
  ]);
  if (counts.reduce((sum, n) => sum + n, 0) < limit) return;
  throw new TooManyRequestsError(60, `Rate limit exceeded. Max ${limit} benchmarks per hour.`);
}

export class EvalService {
  private readonly running: RunRegistry<Running>;

  constructor(private readonly deps: EvalServiceDeps) {
    this.running = new RunRegistry(deps.state);
  }

  start(): Promise<void> {
    return this.running.start();
  }

  stop(): Promise<void> {
    return this.running.stop();
  }

  get activeCount(): number {
    return this.running.size;
  }

  /** Validates and starts an eval; throws (404, 422, 429, 409) before anything streams. */
  async begin(user: { userId: string }, input: ToolEvalRequest): Promise<ActiveEval> {
    const { userId } = user;
    const suite = await this.deps.suites.forEval(userId, input.suite_id);
    if (suite.cases.length === 0)
      throw ValidationError.field(["body", "suite_id"], "Suite has no test cases", "empty_suite");
    if (suite.tools.length === 0)
      throw ValidationError.field(["body", "suite_id"], "Suite has no tools", "empty_suite");
    const { resolved, missing } = await this.deps.providers.resolveModels(userId, [...new Set(input.models)]);
    if (missing.length > 0)
      throw ValidationError.field(
        ["body", "models"],
        `models not found in your config: ${missing.slice(0, 10).join(", ")}`,
        "unknown_model",
      );
    const judge = input.judge?.enabled ? await this.deps.judge.prepareForEval(userId, input.judge) : null;
    const limits = await this.deps.admin.rateLimitFor(userId);
    const evalId = randomUUID();
    const release = await holdRunSlot(this.deps.state, userId, evalId, limits.maxConcurrent, () =>
      this.deps.prisma.benchEvalRun.updateMany(heartbeatOf(evalId)),
    );
    if (release === null) throw new ConflictError(EVAL_ALREADY_RUNNING);
    try {
      await this.checkRateLimit(userId, limits.benchmarksPerHour);
      await this.deps.prisma.benchEvalRun.create({
        data: {
          id: evalId,
          userId,
          suiteId: suite.id,
          suiteName: suite.name,
          models: input.models,
          temperature: input.temperature,
          toolChoice: input.tool_choice,
          heartbeatAt: new Date(),
          settings: {
            max_tokens: input.max_tokens,
            system_prompt: input.system_prompt ?? null,
            provider_params: (input.provider_params ?? null) as Prisma.InputJsonValue,
          } as Prisma.InputJsonObject,
        },
      });
    } catch (error) {
      await release();
      throw error;
    }
    const targets = resolved.map(targetOf);
    const settings = {
      tools: suite.tools,
      toolChoice: input.tool_choice,
      temperature: input.temperature,
      maxTokens: input.max_tokens,
      system: input.system_prompt ?? null,
      providerParams: (input.provider_params ?? null) as GenerationParams | null,
    };
    return this.execute(evalId, userId, targets, suite.cases, settings, release, judge);
  }

  private execute(
    evalId: string,
    userId: string,
    targets: BenchTarget[],
    cases: EvalCase[],
    settings: Omit<EvalSettings, "params"> & { providerParams: GenerationParams | null },
    release: () => Promise<void>,
    judge: { mode: JudgeMode; setup: JudgeSetup } | null,
  ): ActiveEval {
    const controller = new AbortController();
    const live = new LiveRun<EvalEvent>();
    const emit = (event: EvalEvent) => live.emit(event);
    const run: Running = {
      id: evalId,
      userId,
      controller,
      subscribe: (listener) => live.subscribe(listener),
      done: Promise.resolve("running"),
    };
    this.running.add(run);
    const secrets = targets.map((t) => t.connection.apiKey);
    run.done = (async (): Promise<EvalStatus> => {
      const results: ToolEvalResult[] = [];
      let status: EvalStatus = "failed";
      let session: JudgeSession | null = null;
      try {
        const total = targets.length * cases.length;
        if (judge) {
          session = await JudgeSession.open(
            this.deps,
            { userId, mode: judge.mode, evalRunId: evalId, standalone: false },
            judge.setup,
            settings.tools,
            controller.signal,
            emit,
          );
          if (judge.mode === "live_inline")
            emit({
              type: "judge_start",
              mode: "live_inline",
              judge_model: judge.setup.target.modelName,
              cases_to_review: total,
              judge_report_id: session.reportId,
            });
        }
        // Providers in parallel; per provider, models then cases in sequence (upstream's order).
        const groups = new Map<string, BenchTarget[]>();
        for (const target of targets)
          groups.set(target.providerKey, [...(groups.get(target.providerKey) ?? []), target]);
        const outcomes = await Promise.allSettled(
          [...groups.values()].map(async (group) => {
            for (const target of group) {
              const caseSettings: EvalSettings = {
                ...settings,
                params: { ...(target.params ?? {}), ...(settings.providerParams ?? {}) },
              };
              for (const c of cases) {
                if (controller.signal.aborted) return;
                const result = await runToolCase(
                  target,
                  c,
                  caseSettings,
                  controller.signal,
                  this.deps.measure,
                );
                if (controller.signal.aborted) return;
                results.push(result);
                emit({
                  type: "progress",
                  current: results.length,
                  total,
                  model: target.modelName,
                  model_id: target.modelId,
                  provider: target.providerName,
                  test_case: c.id,
                });
                emit(result);
                if (judge?.mode === "live_inline") session?.gradeLive(result);
              }
            }
          }),
        );
        const failure = outcomes.find(
          (o): o is PromiseRejectedResult =>
            o.status === "rejected" && !(o.reason instanceof CallCancelledError),
        );
        await session?.drained();
        if (controller.signal.aborted) {
          await session?.store(this.running.stopping ? "error" : "cancelled").catch(() => {});
          status = this.running.stopping ? "failed" : "cancelled";
          await this.finish(
            evalId,
            status,
            results,
            [],
            status === "failed" ? "interrupted: the server shut down" : null,
          );
          emit(
            status === "cancelled"
              ? { type: "cancelled" }
              : { type: "error", message: "Eval interrupted: the server shut down" },
          );
        } else if (failure) {
          throw failure.reason;
        } else {
          const summaries: ModelSummaryEvent[] = targets.map((target) => ({
            type: "model_summary",
            model_id: target.modelId,
            model_name: target.modelName,
            provider: target.providerName,
            provider_key: target.providerKey,
            ...summarizeCases(
              results.filter((r) => r.model_id === target.modelId && r.provider_key === target.providerKey),
            ),
          }));
          status = "completed";
          await this.finish(evalId, status, results, summaries, null);
          for (const summary of summaries) emit(summary);
          if (session && !(await this.runJudge(session, judge!.mode, evalId, results, targets, emit)))
            return status;
          emit({ type: "complete", eval_id: evalId });
        }
      } catch (error) {
        status = "failed";
        const message = scrubSecrets(error instanceof Error ? error.message : String(error), secrets).slice(
          0,
          300,
        );
        this.deps.log.error({ evalId, err: message }, "tool eval failed");
        await this.finish(evalId, "failed", results, [], message).catch(() => {});
        await session?.store("error", message).catch(() => {});
        emit({ type: "error", message: `Eval failed: ${message}` });
      } finally {
        this.running.delete(evalId);
        live.close();
        await release();
      }
      return status;
    })();
    return run;
  }

  /**
   * The eval's judge once its results are stored: post_eval grades them all, then (both modes) a cross-case
   * report per model. False when it was cancelled (or interrupted): the stream ended there.
   */
  private async runJudge(
    session: JudgeSession,
    mode: JudgeMode,
    evalId: string,
    results: ToolEvalResult[],
    targets: BenchTarget[],
    emit: (event: EvalEvent) => void,
  ): Promise<boolean> {
    try {
      if (mode === "post_eval") {
        emit({
          type: "judge_start",
          mode,
          judge_model: session.setup.target.modelName,
          cases_to_review: results.length,
          judge_report_id: session.reportId,
        });
        await gradeAll(session, evalId, results);
      } else {
        for (const target of targets)
          if (session.verdicts.some((v) => v.model_id === target.modelId))
            await session.crossCase(evalId, { id: target.modelId, name: target.modelName });
      }
      await session.store("completed");
      emit({ type: "judge_complete", judge_report_id: session.reportId });
      return true;
    } catch (error) {
      if (!(error instanceof CallCancelledError)) throw error;
      const interrupted = this.running.stopping;
      await session.store(interrupted ? "error" : "cancelled").catch(() => {});
      emit(
        interrupted
          ? { type: "error", message: "Judge interrupted: the server shut down" }
          : { type: "cancelled" },
      );
      return false;
    }
  }

  private async finish(
    evalId: string,
    status: EvalStatus,
    results: ToolEvalResult[],
    summaries: ModelSummaryEvent[],
    error: string | null,
  ) {
    const { prisma } = this.deps;
    const row = await prisma.benchEvalRun.findUnique({
      where: { id: evalId },
      select: { userId: true, createdAt: true },
    });
    if (!row) return;
    await prisma.$transaction([
      prisma.benchEvalResult.createMany({
        data: results.map((r, seq) => ({
          runId: evalId,
          userId: row.userId,
          createdAt: row.createdAt,
          seq,
          modelId: r.model_id,
          providerKey: r.provider_key,
          testCaseId: r.test_case_id,
          toolSelectionScore: r.tool_selection_score,
          paramAccuracy: r.param_accuracy,
          overallScore: r.overall_score,
          success: r.success,
          result: r as unknown as Prisma.InputJsonObject,
        })),
      }),
      prisma.benchEvalRun.updateMany({
        where: { id: evalId },
        data: {
          status,
          finishedAt: new Date(),
          error,
          summary: summaries.map(({ type: _type, ...summary }) => summary) as Prisma.InputJsonArray,
        },
      }),
    ]);
  }

  /** POST /api/tool-eval/cancel: every instance aborts this user's evals and benchmarks (calls in flight too). */
  cancel(userId: string) {
    return this.running.cancel(userId);
  }

  private checkRateLimit(userId: string, limit: number): Promise<void> {
    return checkHourlyLimit(this.deps.prisma, userId, limit);
  }

  /** Evals left "running" by an instance that died become `failed` (called by the schedules' tick). */
  async failStale(staleMs = STALE_RUN_MS): Promise<number> {
    const { count } = await this.deps.prisma.benchEvalRun.updateMany({
      where: staleRunsWhere(this.running.ids(), staleMs),
      data: staleRunData(),
    });
    return count;
  }

  // ── history ───────────────────────────────────────────────────────────────────────────────────────────

  async history(userId: string, query: { limit: number; offset: number }) {
    const rows = await this.deps.prisma.benchEvalRun.findMany({
      where: { userId, status: "completed" },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: query.limit,
      skip: query.offset,
    });
    return { runs: rows.map(listed) };
  }

  async get(userId: string, evalId: string) {
    const row = UUID.test(evalId)
      ? await this.deps.prisma.benchEvalRun.findFirst({
          where: { id: evalId, userId },
          include: { results: { orderBy: { seq: "asc" } } },
        })
      : null;
    if (!row) throw new NotFoundError(EVAL_NOT_FOUND);
    return detailed(row);
  }

  async delete(userId: string, evalId: string) {
    const deleted = UUID.test(evalId)
      ? await this.deps.prisma.benchEvalRun.deleteMany({
          where: { id: evalId, userId, status: { not: "running" } },
        })
      : { count: 0 };
    if (deleted.count === 0) {
      if (UUID.test(evalId) && this.running.has(evalId))
        throw new ConflictError("Eval is still running: cancel it first");
      throw new NotFoundError(EVAL_NOT_FOUND);
    }
    return { status: "ok" as const };
  }
}

function listed(row: Omit<EvalRow, "results">) {
  return {
    id: row.id,
    suite_id: row.suiteId,
    suite_name: row.suiteName,
    models: row.models,
    summary: (Array.isArray(row.summary) ? row.summary : []) as unknown as Omit<ModelSummaryEvent, "type">[],
    temperature: row.temperature,
    tool_choice: row.toolChoice as EvalSettings["toolChoice"],
    timestamp: upstreamTimestamp(row.createdAt),
    status: row.status as EvalStatus,
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}

function detailed(row: EvalRow) {
  return {
    ...listed(row),
    user_id: row.userId,
    error: row.error,
    results: row.results.map((r) => r.result as Record<string, unknown>),
  };
}
