// The benchmark runner: providers in parallel, the models of one provider in sequence (per provider: tiers
// outer, models inner, as upstream), an optional warm-up call per model and tier that is discarded, tiers
// that do not fit a model's context reported as `skipped`, and `progress` just before each `result`.
// Cancelling (the signal) aborts the HTTP calls in flight; no further event is emitted for them.
import { contextText } from "./context.js";
import { CallCancelledError, measureCall, type CallMeasurement, type MeasureDeps } from "./measure.js";
import { scrubSecrets } from "./scrub.js";
import type { BenchEvent, BenchTarget, BenchmarkPlan, ResultEvent } from "./types.js";

/** Room kept for the prompt itself when deciding whether a tier fits (the upstream's rule). */
export const PROMPT_HEADROOM_TOKENS = 100;

export interface BenchmarkOutcome {
  /** Every `result` event emitted, in emission order (what history stores). */
  results: ResultEvent[];
  cancelled: boolean;
}

export function tierFits(target: BenchTarget, tier: number, maxTokens: number): boolean {
  return tier === 0 || tier <= target.contextWindow - maxTokens - PROMPT_HEADROOM_TOKENS;
}

/** Results the plan will produce: runs × the tiers that fit, over all targets (skipped tiers not counted). */
export function plannedResults(plan: BenchmarkPlan): number {
  let total = 0;
  for (const target of plan.targets) {
    for (const tier of plan.contextTiers) if (tierFits(target, tier, plan.maxTokens)) total += plan.runs;
  }
  return total;
}

const kilo = (tokens: number) => `${Math.floor(tokens / 1000)}K`;

export function skipReason(target: BenchTarget, tier: number): string {
  return `${kilo(tier)} exceeds ${kilo(target.contextWindow)} context window`;
}

/** The system message of a tier: the model's own system prompt, then the padding. */
export function systemMessage(target: BenchTarget, tier: number): string | undefined {
  const padding = tier > 0 ? contextText(tier) : "";
  if (target.systemPrompt) return padding ? `${target.systemPrompt}\n\n${padding}` : target.systemPrompt;
  return padding || undefined;
}

const round = (value: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export function resultEvent(
  target: BenchTarget,
  run: number,
  runs: number,
  tier: number,
  m: CallMeasurement,
): ResultEvent {
  return {
    type: "result",
    provider: target.providerName,
    provider_key: target.providerKey,
    model: target.modelName,
    model_id: target.modelId,
    run,
    runs,
    context_tokens: tier,
    ttft_ms: round(m.ttftMs, 2),
    total_time_s: round(m.totalTimeS, 3),
    output_tokens: m.outputTokens,
    input_tokens: m.inputTokens,
    reasoning_tokens: m.reasoningTokens,
    tokens_per_second: round(m.tokensPerSecond, 2),
    output_speed_tps: round(m.outputSpeedTps, 2),
    itl_ms: round(m.itlMs, 2),
    input_tokens_per_second: round(m.inputTokensPerSecond, 2),
    cost: round(m.cost, 8),
    tokens_source: m.tokensSource,
    success: m.success,
    error: m.error,
  };
}

export async function runBenchmark(
  plan: BenchmarkPlan,
  emit: (event: BenchEvent) => void,
  signal: AbortSignal,
  deps: MeasureDeps = {},
): Promise<BenchmarkOutcome> {
  const total = plannedResults(plan);
  const results: ResultEvent[] = [];
  let current = 0;

  const groups = new Map<string, BenchTarget[]>();
  for (const target of plan.targets) {
    const group = groups.get(target.providerKey);
    if (group) group.push(target);
    else groups.set(target.providerKey, [target]);
  }

  const runProvider = async (targets: readonly BenchTarget[]) => {
    for (const tier of plan.contextTiers) {
      for (const target of targets) {
        if (signal.aborted) return;
        if (!tierFits(target, tier, plan.maxTokens)) {
          emit({
            type: "skipped",
            provider: target.providerName,
            model: target.modelName,
            model_id: target.modelId,
            context_tokens: tier,
            reason: skipReason(target, tier),
          });
          continue;
        }
        const request = {
          system: systemMessage(target, tier),
          prompt: plan.prompt,
          maxTokens: plan.maxTokens,
          temperature: plan.temperature,
          params: { ...(target.params ?? {}), ...(plan.providerParams ?? {}) },
        };
        if (plan.warmup) await measureCall(target, request, signal, deps); // discarded
        for (let run = 1; run <= plan.runs; run++) {
          if (signal.aborted) return;
          const measurement = await measureCall(target, request, signal, deps);
          if (signal.aborted) return;
          current += 1;
          emit({
            type: "progress",
            current,
            total,
            provider: target.providerName,
            model: target.modelName,
            model_id: target.modelId,
            run,
            runs: plan.runs,
            context_tokens: tier,
          });
          const result = resultEvent(target, run, plan.runs, tier, measurement);
          results.push(result);
          emit(result);
        }
      }
    }
  };

  await Promise.all(
    [...groups.values()].map(async (targets) => {
      try {
        await runProvider(targets);
      } catch (error) {
        if (error instanceof CallCancelledError || signal.aborted) return;
        // Not a call failure (those are results): something broke around the calls; the other providers go on.
        const secrets = targets.flatMap((t) => [t.connection.apiKey]);
        const message = error instanceof Error ? error.message : String(error);
        emit({ type: "error", provider: targets[0]!.providerName, message: scrubSecrets(message, secrets) });
      }
    }),
  );
  return { results, cancelled: signal.aborted };
}

/**
 * Wraps an emitter so that `{type:"heartbeat"}` goes out after `intervalMs` without any event (and again
 * after each further `intervalMs` of silence). `stop()` ends the timer.
 */
export function withHeartbeat(
  emit: (event: BenchEvent) => void,
  intervalMs = 15_000,
): { emit: (event: BenchEvent) => void; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const arm = () => {
    if (timer) clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => {
      emit({ type: "heartbeat" });
      arm();
    }, intervalMs);
    timer.unref?.();
  };
  arm();
  return {
    emit: (event) => {
      emit(event);
      arm();
    },
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
