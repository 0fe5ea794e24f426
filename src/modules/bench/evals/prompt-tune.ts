// Prompt tuner: a meta model proposes system prompts (quick: one generation from the base prompt; evolutionary:
// each later generation mutates the survivors of the one before), each prompt is scored on the suite with every
// target model (as an eval scores a case), the best of each generation is kept. Estimated before anything is
// spent and refused above the user's max_api_calls; same run slot, hourly limit, cancel and detachment as evals.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { AdminService } from "../admin/service.js";
import {
  CallCancelledError,
  measureCall,
  runToolCase,
  scrubSecrets,
  summarizeCases,
  type BenchTarget,
} from "../engine/index.js";
import type { MeasureDeps } from "../engine/measure.js";
import {
  DEFAULT_BASE_PROMPT,
  estimatePromptTune,
  evolveMetaPrompt,
  parseProposedPrompts,
  quickMetaPrompt,
  survivorCount,
  type ProposedPrompt,
} from "../engine/prompt-tune.js";
import type { ProviderService } from "../providers/service.js";
import { targetOf, upstreamTimestamp, UUID } from "../runs/service.js";
import type { SettingsService } from "../settings/service.js";
import { LiveRun } from "../shared/live-run.js";
import { RunRegistry } from "../shared/run-registry.js";
import { heartbeatOf, holdRunSlot, STALE_RUN_MS, staleRunData, staleRunsWhere } from "../shared/run-slot.js";
import type { SuiteService } from "../tools/suites.service.js";
import type { PromptTuneRequest } from "./prompt-tune.schema.js";
import { checkHourlyLimit, EVAL_ALREADY_RUNNING, type EvalStatus } from "./service.js";

export const PROMPT_TUNE_NOT_FOUND = "Tune run not found";
const META_MAX_TOKENS = 4096;
const META_TEMPERATURE = 0.9;

export type PromptTuneEvent =
  | {
      type: "tune_start";
      tune_id: string;
      mode: "quick" | "evolutionary";
      total_prompts: number;
      total_eval_calls: number;
      suite_name: string;
    }
  | { type: "generation_start"; generation: number; total_generations: number; population_size: number }
  | {
      type: "prompt_generated";
      generation: number;
      prompt_index: number;
      prompt_text: string;
      style: string;
      parent_prompt: string | null;
    }
  | { type: "prompt_eval_start"; generation: number; prompt_index: number; model: string; model_id: string }
  | {
      type: "prompt_eval_result";
      generation: number;
      prompt_index: number;
      model_id: string;
      overall_score: number;
      tool_accuracy: number;
      param_accuracy: number;
    }
  | {
      type: "generation_complete";
      generation: number;
      best_score: number;
      best_prompt_index: number;
      survivors: number[];
    }
  | {
      type: "tune_complete";
      tune_id: string;
      best_prompt: string | null;
      best_score: number | null;
      duration_s: number;
    }
  | { type: "heartbeat" }
  | { type: "cancelled" }
  | { type: "error"; message: string };

export const isTerminalPromptTune = (event: PromptTuneEvent) =>
  event.type === "tune_complete" || event.type === "cancelled" || event.type === "error";

interface ScoredPrompt {
  prompt_index: number;
  prompt_text: string;
  style: string;
  parent_prompt: string | null;
  scores: { model_id: string; overall_score: number; tool_accuracy: number; param_accuracy: number }[];
  avg_score: number | null;
}

interface Generation {
  generation: number;
  prompts: ScoredPrompt[];
  best_prompt_index: number | null;
  survivors: number[];
}

interface Running {
  id: string;
  userId: string;
  controller: AbortController;
  subscribe(listener: (event: PromptTuneEvent) => void): () => void;
  done: Promise<EvalStatus>;
}

type TuneRow = Awaited<ReturnType<PrismaClient["benchPromptTune"]["findFirstOrThrow"]>>;

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const preview = (text: string) => (text.length > 300 ? `${text.slice(0, 297)}...` : text);

export class PromptTuneService {
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

  /** GET …/prompt-tune/estimate: what a tune would spend (no call made). */
  async estimate(
    userId: string,
    query: {
      suite_id: string;
      mode: "quick" | "evolutionary";
      population_size: number;
      generations?: number;
      num_models: number;
      target_models?: string;
      meta_model?: string;
      base_prompt?: string;
    },
  ) {
    const suite = await this.deps.suites.forEval(userId, query.suite_id);
    const settings = (await this.deps.settings.phase10(userId)).prompt_tuner;
    const ids = (query.target_models ?? "")
      .split(",")
      .map((id) => id.trim())
      .filter(Boolean);
    const targets = ids.length ? await this.resolve(userId, ids, ["query", "target_models"]) : [];
    const meta = query.meta_model
      ? (await this.resolve(userId, [query.meta_model], ["query", "meta_model"]))[0]!
      : null;
    const estimate = estimatePromptTune({
      mode: query.mode,
      populationSize: query.population_size,
      generations: query.generations ?? 3,
      numModels: targets.length || query.num_models,
      basePrompt: query.base_prompt || DEFAULT_BASE_PROMPT,
      tools: suite.tools,
      cases: suite.cases,
      targetPrices: targets.map((t) => t.prices),
      metaPrices: meta?.prices ?? null,
    });
    const { generations: _g, ...rest } = estimate;
    return { ...rest, max_api_calls: settings.max_api_calls };
  }

  private async resolve(userId: string, ids: string[], loc: string[]): Promise<BenchTarget[]> {
    const { resolved, missing } = await this.deps.providers.resolveModels(userId, [...new Set(ids)]);
    if (missing.length > 0)
      throw ValidationError.field(
        loc,
        `models not found in your config: ${missing.slice(0, 10).join(", ")}`,
        "unknown_model",
      );
    return resolved.map(targetOf);
  }

  /** Validates, estimates and starts a tune; throws (404, 422, 429, 409) before anything streams. */
  async begin(user: { userId: string }, input: PromptTuneRequest) {
    const { userId } = user;
    const suite = await this.deps.suites.forEval(userId, input.suite_id);
    if (suite.cases.length === 0)
      throw ValidationError.field(["body", "suite_id"], "Suite has no test cases", "empty_suite");
    const targets = await this.resolve(userId, input.target_models, ["body", "target_models"]);
    const meta = (await this.resolve(userId, [input.meta_model], ["body", "meta_model"]))[0]!;
    const settings = (await this.deps.settings.phase10(userId)).prompt_tuner;
    const mode = input.mode ?? settings.mode;
    const population = input.config.population_size ?? settings.population_size;
    const generations = mode === "quick" ? 1 : (input.config.generations ?? settings.generations);
    const basePrompt = input.base_prompt?.trim() || DEFAULT_BASE_PROMPT;
    const estimate = estimatePromptTune({
      mode,
      populationSize: population,
      generations,
      numModels: targets.length,
      basePrompt,
      tools: suite.tools,
      cases: suite.cases,
    });
    if (estimate.total_api_calls > settings.max_api_calls)
      throw ValidationError.field(
        ["body", "config"],
        `this tune would make ${estimate.total_api_calls} API calls, above your prompt_tuner.max_api_calls ` +
          `(${settings.max_api_calls}): lower population_size or generations, or raise the setting`,
        "too_many_calls",
      );

    const limits = await this.deps.admin.rateLimitFor(userId);
    const tuneId = randomUUID();
    const release = await holdRunSlot(this.deps.state, userId, tuneId, limits.maxConcurrent, () =>
      this.deps.prisma.benchPromptTune.updateMany(heartbeatOf(tuneId)),
    );
    if (release === null) throw new ConflictError(EVAL_ALREADY_RUNNING);
    const config = {
      population_size: population,
      generations,
      selection_ratio: input.config.selection_ratio,
      temperature: input.config.temperature,
      tool_choice: input.config.tool_choice,
      max_tokens: input.config.max_tokens,
    };
    try {
      await checkHourlyLimit(this.deps.prisma, userId, limits.benchmarksPerHour);
      await this.deps.prisma.benchPromptTune.create({
        data: {
          id: tuneId,
          userId,
          suiteId: suite.id,
          suiteName: suite.name,
          targetModels: input.target_models,
          metaModel: input.meta_model,
          mode,
          basePrompt,
          config,
          totalPrompts: estimate.total_prompt_generations,
          heartbeatAt: new Date(),
        },
      });
    } catch (error) {
      await release();
      throw error;
    }

    const controller = new AbortController();
    const live = new LiveRun<PromptTuneEvent>();
    const emit = (event: PromptTuneEvent) => live.emit(event);
    const run: Running = {
      id: tuneId,
      userId,
      controller,
      subscribe: (listener) => live.subscribe(listener),
      done: Promise.resolve("running"),
    };
    this.running.add(run);
    const secrets = [...targets, meta].map((t) => t.connection.apiKey);
    const started = performance.now();
    const elapsed = () => round((performance.now() - started) / 1000, 3);
    const signal = controller.signal;

    /** The meta model's proposals (one more try when its reply holds none). */
    const propose = async (metaPrompt: string, parents: number): Promise<ProposedPrompt[]> => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const call = await measureCall(
          meta,
          {
            prompt: metaPrompt,
            maxTokens: META_MAX_TOKENS,
            temperature: META_TEMPERATURE,
            params: meta.params,
          },
          signal,
          this.deps.measure,
        );
        if (!call.success) throw new Error(`the meta model's call failed: ${call.error}`);
        const prompts = parseProposedPrompts(call.text, population, parents);
        if (prompts.length > 0) return prompts;
      }
      throw new Error("the meta model's reply held no prompts (twice)");
    };

    run.done = (async (): Promise<EvalStatus> => {
      const history: Generation[] = [];
      let best: { prompt: string; score: number } | null = null;
      let status: EvalStatus = "failed";
      try {
        emit({
          type: "tune_start",
          tune_id: tuneId,
          mode,
          total_prompts: estimate.total_prompt_generations,
          total_eval_calls: estimate.total_eval_calls,
          suite_name: suite.name,
        });
        let parents: string[] = [];
        for (let generation = 1; generation <= generations; generation++) {
          if (signal.aborted) throw new CallCancelledError();
          emit({
            type: "generation_start",
            generation,
            total_generations: generations,
            population_size: population,
          });
          const proposed = await propose(
            generation === 1
              ? quickMetaPrompt(population, basePrompt, suite.tools, suite.cases)
              : evolveMetaPrompt(population, parents, suite.tools, suite.cases),
            parents.length,
          );
          const current: Generation = { generation, prompts: [], best_prompt_index: null, survivors: [] };
          history.push(current);
          for (const [index, p] of proposed.entries()) {
            const parent = p.parent_index === null ? null : (parents[p.parent_index] ?? null);
            current.prompts.push({
              prompt_index: index,
              prompt_text: p.prompt,
              style: p.style,
              parent_prompt: parent,
              scores: [],
              avg_score: null,
            });
            emit({
              type: "prompt_generated",
              generation,
              prompt_index: index,
              prompt_text: preview(p.prompt),
              style: p.style,
              parent_prompt: parent === null ? null : preview(parent),
            });
          }
          for (const scored of current.prompts) {
            for (const target of targets) {
              emit({
                type: "prompt_eval_start",
                generation,
                prompt_index: scored.prompt_index,
                model: target.modelName,
                model_id: target.modelId,
              });
              const results = [];
              for (const c of suite.cases) {
                if (signal.aborted) throw new CallCancelledError();
                results.push(
                  await runToolCase(
                    target,
                    c,
                    {
                      tools: suite.tools,
                      toolChoice: config.tool_choice,
                      temperature: config.temperature,
                      maxTokens: config.max_tokens,
                      system: scored.prompt_text,
                      params: target.params ?? null,
                    },
                    signal,
                    this.deps.measure,
                  ),
                );
              }
              const summary = summarizeCases(results);
              const score = {
                model_id: target.modelId,
                overall_score: round(summary.overall_pct / 100, 4),
                tool_accuracy: summary.tool_accuracy_pct,
                param_accuracy: summary.param_accuracy_pct,
              };
              scored.scores.push(score);
              emit({ type: "prompt_eval_result", generation, prompt_index: scored.prompt_index, ...score });
            }
            scored.avg_score = round(
              scored.scores.reduce((sum, s) => sum + s.overall_score, 0) / scored.scores.length,
              4,
            );
          }
          // Best first; ties keep the earlier prompt.
          const ranked = [...current.prompts].sort(
            (a, b) => (b.avg_score ?? 0) - (a.avg_score ?? 0) || a.prompt_index - b.prompt_index,
          );
          const top = ranked[0]!;
          current.best_prompt_index = top.prompt_index;
          current.survivors = ranked
            .slice(0, survivorCount(ranked.length, config.selection_ratio))
            .map((p) => p.prompt_index);
          parents = current.survivors.map((i) => current.prompts[i]!.prompt_text);
          if (best === null || (top.avg_score ?? 0) > best.score)
            best = { prompt: top.prompt_text, score: top.avg_score ?? 0 };
          await this.save(tuneId, { history, best, status: "running" });
          emit({
            type: "generation_complete",
            generation,
            best_score: top.avg_score ?? 0,
            best_prompt_index: top.prompt_index,
            survivors: current.survivors,
          });
        }
        status = "completed";
        await this.save(tuneId, { history, best, status, durationS: elapsed() });
        emit({
          type: "tune_complete",
          tune_id: tuneId,
          best_prompt: best?.prompt ?? null,
          best_score: best?.score ?? null,
          duration_s: elapsed(),
        });
      } catch (error) {
        if (signal.aborted) {
          status = this.running.stopping ? "failed" : "cancelled";
          await this.save(tuneId, {
            history,
            best,
            status,
            durationS: elapsed(),
            error: status === "failed" ? "interrupted: the server shut down" : null,
          });
          emit(
            status === "cancelled" ? { type: "cancelled" } : { type: "error", message: "Tune interrupted" },
          );
        } else {
          status = "failed";
          const message = scrubSecrets(error instanceof Error ? error.message : String(error), secrets).slice(
            0,
            300,
          );
          this.deps.log.error({ tuneId, err: message }, "prompt tune failed");
          await this.save(tuneId, { history, best, status, durationS: elapsed(), error: message }).catch(
            () => {},
          );
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

  private async save(
    tuneId: string,
    state: {
      history: Generation[];
      best: { prompt: string; score: number } | null;
      status: EvalStatus;
      durationS?: number;
      error?: string | null;
    },
  ) {
    await this.deps.prisma.benchPromptTune.updateMany({
      where: { id: tuneId },
      data: {
        status: state.status,
        generations: state.history as unknown as Prisma.InputJsonArray,
        completedPrompts: state.history.reduce(
          (n, g) => n + g.prompts.filter((p) => p.avg_score !== null).length,
          0,
        ),
        bestPrompt: state.best?.prompt ?? null,
        bestScore: state.best?.score ?? null,
        ...(state.status !== "running" && { finishedAt: new Date(), durationS: state.durationS ?? null }),
        error: state.error ?? null,
      },
    });
  }

  /** Tunes left "running" by an instance that died become `failed` (called by the schedules' tick). */
  async failStale(staleMs = STALE_RUN_MS): Promise<number> {
    const { count } = await this.deps.prisma.benchPromptTune.updateMany({
      where: staleRunsWhere(this.running.ids(), staleMs),
      data: staleRunData(),
    });
    return count;
  }

  async history(userId: string) {
    const rows = await this.deps.prisma.benchPromptTune.findMany({
      where: { userId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 100,
      omit: { generations: true },
    });
    return { runs: rows.map(listed) };
  }

  async get(userId: string, tuneId: string) {
    const row = UUID.test(tuneId)
      ? await this.deps.prisma.benchPromptTune.findFirst({ where: { id: tuneId, userId } })
      : null;
    if (!row) throw new NotFoundError(PROMPT_TUNE_NOT_FOUND);
    return {
      ...listed(row),
      user_id: row.userId,
      base_prompt: row.basePrompt,
      best_prompt: row.bestPrompt,
      config: (row.config ?? {}) as Record<string, unknown>,
      generations: (Array.isArray(row.generations) ? row.generations : []) as unknown as Generation[],
      error: row.error,
    };
  }

  async delete(userId: string, tuneId: string) {
    const deleted = UUID.test(tuneId)
      ? await this.deps.prisma.benchPromptTune.deleteMany({
          where: { id: tuneId, userId, status: { not: "running" } },
        })
      : { count: 0 };
    if (deleted.count === 0) {
      if (UUID.test(tuneId) && this.running.has(tuneId))
        throw new ConflictError("Tune is still running: cancel it first");
      throw new NotFoundError(PROMPT_TUNE_NOT_FOUND);
    }
    return { status: "ok" as const };
  }
}

function listed(row: Omit<TuneRow, "generations">) {
  return {
    id: row.id,
    suite_id: row.suiteId,
    suite_name: row.suiteName,
    target_models_json: JSON.stringify(row.targetModels),
    target_models: row.targetModels,
    meta_model: row.metaModel,
    mode: row.mode as "quick" | "evolutionary",
    best_score: row.bestScore,
    status: row.status as EvalStatus,
    total_prompts: row.totalPrompts,
    completed_prompts: row.completedPrompts,
    duration_s: row.durationS,
    timestamp: upstreamTimestamp(row.createdAt),
  };
}
