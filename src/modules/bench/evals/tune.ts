// Param tuner: a suite evaluated once per combination of parameters (the grid of the search space, or a random
// sample of it above the limit), per model; every (combination, model) scored as an eval's model summary, ranked.
// Same run slot, cancel channel and detachment as evals and benchmarks.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { AdminService } from "../admin/service.js";
import {
  CallCancelledError,
  runToolCase,
  scrubSecrets,
  searchCombinations,
  summarizeCases,
  type SearchSpace,
  type SearchValue,
  type ToolEvalResult,
} from "../engine/index.js";
import type { MeasureDeps } from "../engine/measure.js";
import type { ProviderService } from "../providers/service.js";
import { targetOf, upstreamTimestamp, UUID } from "../runs/service.js";
import type { SettingsService } from "../settings/service.js";
import { LiveRun } from "../shared/live-run.js";
import { RunRegistry } from "../shared/run-registry.js";
import { heartbeatOf, holdRunSlot, STALE_RUN_MS, staleRunData, staleRunsWhere } from "../shared/run-slot.js";
import type { SuiteService } from "../tools/suites.service.js";
import type { ParamTuneRequest } from "./evals.schema.js";
import { checkHourlyLimit, EVAL_ALREADY_RUNNING, type EvalStatus } from "./service.js";

export const TUNE_NOT_FOUND = "Tune run not found";

export interface ComboResult {
  type: "combo_result";
  combo_index: number;
  model_id: string;
  model_name: string;
  config: Record<string, SearchValue>;
  overall_score: number;
  tool_accuracy: number;
  param_accuracy: number;
  latency_avg_ms: number;
  cases_passed: number;
  cases_total: number;
}

export type TuneEvent =
  | {
      type: "tune_start";
      tune_id: string;
      total_combos: number;
      models: string[];
      suite_name: string;
      strategy: string;
    }
  | ComboResult
  | { type: "tune_progress"; completed: number; total: number; elapsed_s: number }
  | {
      type: "tune_complete";
      tune_id: string;
      best_config: Record<string, SearchValue> | null;
      best_model_id: string | null;
      best_score: number | null;
      duration_s: number;
    }
  | { type: "heartbeat" }
  | { type: "cancelled" }
  | { type: "error"; message: string };

export const isTerminalTune = (event: TuneEvent) =>
  event.type === "tune_complete" || event.type === "cancelled" || event.type === "error";

interface Running {
  id: string;
  userId: string;
  controller: AbortController;
  subscribe(listener: (event: TuneEvent) => void): () => void;
  done: Promise<EvalStatus>;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export class TuneService {
  private readonly running: RunRegistry<Running>;

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      state: StateStore;
      providers: ProviderService;
      admin: AdminService;
      suites: SuiteService;
      settings: SettingsService;
      log: Logger;
      measure?: MeasureDeps;
    },
  ) {
    this.running = new RunRegistry(deps.state);
  }

  start(): Promise<void> {
    return this.running.start();
  }

  stop(): Promise<void> {
    return this.running.stop();
  }

  cancel(userId: string) {
    return this.running.cancel(userId);
  }

  async begin(user: { userId: string }, input: ParamTuneRequest) {
    const { userId } = user;
    if (Object.keys(input.search_space).length === 0)
      throw ValidationError.field(["body", "search_space"], "search_space names no parameter", "empty");
    const suite = await this.deps.suites.forEval(userId, input.suite_id);
    if (suite.cases.length === 0)
      throw ValidationError.field(["body", "suite_id"], "Suite has no test cases", "empty_suite");
    const { resolved, missing } = await this.deps.providers.resolveModels(userId, [...new Set(input.models)]);
    if (missing.length > 0)
      throw ValidationError.field(
        ["body", "models"],
        `models not found in your config: ${missing.slice(0, 10).join(", ")}`,
        "unknown_model",
      );
    const limit =
      input.max_combinations ?? (await this.deps.settings.phase10(userId)).param_tuner.max_combinations;
    const { combos, strategy } = searchCombinations(input.search_space as SearchSpace, limit);
    if (combos.length === 0)
      throw ValidationError.field(["body", "search_space"], "search_space gives no combination", "empty");

    const limits = await this.deps.admin.rateLimitFor(userId);
    const tuneId = randomUUID();
    const release = await holdRunSlot(this.deps.state, userId, tuneId, limits.maxConcurrent, () =>
      this.deps.prisma.benchParamTune.updateMany(heartbeatOf(tuneId)),
    );
    if (release === null) throw new ConflictError(EVAL_ALREADY_RUNNING);
    try {
      await checkHourlyLimit(this.deps.prisma, userId, limits.benchmarksPerHour);
      await this.deps.prisma.benchParamTune.create({
        data: {
          id: tuneId,
          userId,
          suiteId: suite.id,
          suiteName: suite.name,
          models: input.models,
          searchSpace: input.search_space as Prisma.InputJsonObject,
          strategy,
          totalCombos: combos.length,
          heartbeatAt: new Date(),
        },
      });
    } catch (error) {
      await release();
      throw error;
    }

    const controller = new AbortController();
    const live = new LiveRun<TuneEvent>();
    const emit = (event: TuneEvent) => live.emit(event);
    const run: Running = {
      id: tuneId,
      userId,
      controller,
      subscribe: (listener) => live.subscribe(listener),
      done: Promise.resolve("running"),
    };
    this.running.add(run);
    const targets = resolved.map(targetOf);
    const started = performance.now();
    const elapsed = () => round((performance.now() - started) / 1000, 3);
    run.done = (async (): Promise<EvalStatus> => {
      const results: ComboResult[] = [];
      let status: EvalStatus = "failed";
      try {
        emit({
          type: "tune_start",
          tune_id: tuneId,
          total_combos: combos.length,
          models: input.models,
          suite_name: suite.name,
          strategy,
        });
        const total = combos.length * targets.length;
        // Combinations in order; per combination, each model runs the whole suite.
        for (const [comboIndex, config] of combos.entries()) {
          for (const target of targets) {
            const { temperature, ...params } = config;
            const cases: ToolEvalResult[] = [];
            for (const c of suite.cases) {
              if (controller.signal.aborted) throw new CallCancelledError();
              cases.push(
                await runToolCase(
                  target,
                  c,
                  {
                    tools: suite.tools,
                    toolChoice: input.tool_choice,
                    temperature: typeof temperature === "number" ? temperature : 0,
                    maxTokens: input.max_tokens,
                    params: { ...(target.params ?? {}), ...params },
                  },
                  controller.signal,
                  this.deps.measure,
                ),
              );
            }
            const summary = summarizeCases(cases);
            const combo: ComboResult = {
              type: "combo_result",
              combo_index: comboIndex,
              model_id: target.modelId,
              model_name: target.modelName,
              config,
              overall_score: round(summary.overall_pct / 100, 4),
              tool_accuracy: summary.tool_accuracy_pct,
              param_accuracy: summary.param_accuracy_pct,
              latency_avg_ms: Math.round(
                cases.reduce((sum, r) => sum + r.latency_ms, 0) / Math.max(1, cases.length),
              ),
              cases_passed: summary.cases_passed,
              cases_total: cases.length,
            };
            results.push(combo);
            emit(combo);
            emit({ type: "tune_progress", completed: results.length, total, elapsed_s: elapsed() });
          }
        }
        // Best first; ties keep the earlier combination.
        const ranked = results
          .map((r, i) => ({ r, i }))
          .sort((a, b) => b.r.overall_score - a.r.overall_score || a.i - b.i)
          .map(({ r }) => r);
        const best = ranked[0] ?? null;
        status = "completed";
        await this.finish(tuneId, status, ranked, best, elapsed(), null);
        emit({
          type: "tune_complete",
          tune_id: tuneId,
          best_config: best?.config ?? null,
          best_model_id: best?.model_id ?? null,
          best_score: best?.overall_score ?? null,
          duration_s: elapsed(),
        });
      } catch (error) {
        if (controller.signal.aborted) {
          status = this.running.stopping ? "failed" : "cancelled";
          await this.finish(
            tuneId,
            status,
            results,
            null,
            elapsed(),
            status === "failed" ? "interrupted" : null,
          );
          emit(
            status === "cancelled" ? { type: "cancelled" } : { type: "error", message: "Tune interrupted" },
          );
        } else {
          status = "failed";
          const message = scrubSecrets(error instanceof Error ? error.message : String(error), [
            ...targets.map((t) => t.connection.apiKey),
          ]).slice(0, 300);
          this.deps.log.error({ tuneId, err: message }, "param tune failed");
          await this.finish(tuneId, "failed", results, null, elapsed(), message).catch(() => {});
          emit({ type: "error", message: `Tune failed: ${message}` });
        }
      } finally {
        this.running.delete(tuneId);
        live.close();
        await release();
      }
      return status;
    })();
    return run;
  }

  private async finish(
    tuneId: string,
    status: EvalStatus,
    results: ComboResult[],
    best: ComboResult | null,
    durationS: number,
    error: string | null,
  ) {
    await this.deps.prisma.benchParamTune.updateMany({
      where: { id: tuneId },
      data: {
        status,
        finishedAt: new Date(),
        completedCombos: new Set(results.map((r) => r.combo_index)).size,
        results: results.map(({ type: _type, ...r }) => r) as unknown as Prisma.InputJsonArray,
        ...(best && { bestConfig: best.config as Prisma.InputJsonObject, bestScore: best.overall_score }),
        durationS,
        error,
      },
    });
  }

  /** Tunes left "running" by an instance that died become `failed` (called by the schedules' tick). */
  async failStale(staleMs = STALE_RUN_MS): Promise<number> {
    const { count } = await this.deps.prisma.benchParamTune.updateMany({
      where: staleRunsWhere(this.running.ids(), staleMs),
      data: staleRunData(),
    });
    return count;
  }

  async history(userId: string) {
    const rows = await this.deps.prisma.benchParamTune.findMany({
      where: { userId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 100,
    });
    return { runs: rows.map(listed) };
  }

  async get(userId: string, tuneId: string) {
    const row = UUID.test(tuneId)
      ? await this.deps.prisma.benchParamTune.findFirst({ where: { id: tuneId, userId } })
      : null;
    if (!row) throw new NotFoundError(TUNE_NOT_FOUND);
    return {
      ...listed(row),
      user_id: row.userId,
      strategy: row.strategy as "grid" | "random",
      search_space: row.searchSpace as Record<string, unknown>,
      best_config: (row.bestConfig as Record<string, unknown> | null) ?? null,
      results: (Array.isArray(row.results) ? row.results : []) as Record<string, unknown>[],
      error: row.error,
    };
  }

  async delete(userId: string, tuneId: string) {
    const deleted = UUID.test(tuneId)
      ? await this.deps.prisma.benchParamTune.deleteMany({
          where: { id: tuneId, userId, status: { not: "running" } },
        })
      : { count: 0 };
    if (deleted.count === 0) {
      if (UUID.test(tuneId) && this.running.has(tuneId))
        throw new ConflictError("Tune is still running: cancel it first");
      throw new NotFoundError(TUNE_NOT_FOUND);
    }
    return { status: "ok" as const };
  }
}

type TuneRow = NonNullable<Awaited<ReturnType<PrismaClient["benchParamTune"]["findFirst"]>>>;

function listed(row: TuneRow) {
  return {
    id: row.id,
    suite_id: row.suiteId,
    suite_name: row.suiteName,
    models_json: JSON.stringify(row.models),
    models: row.models,
    total_combos: row.totalCombos,
    completed_combos: row.completedCombos,
    best_score: row.bestScore,
    status: row.status as EvalStatus,
    duration_s: row.durationS,
    timestamp: upstreamTimestamp(row.createdAt),
  };
}
