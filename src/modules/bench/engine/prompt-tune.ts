// The prompt tuner's pure parts: what the meta model is asked (new system prompts from a base, or mutations of
// the last generation's survivors), how its reply is read, who survives a generation, and the estimate of calls,
// tokens and cost made before anything is spent.
import { countContextTokens } from "./context.js";
import { costOf } from "./measure.js";
import type { EvalCase, FunctionTool } from "./toolcall.js";
import type { ModelPrices } from "./types.js";

export type PromptTuneMode = "quick" | "evolutionary";

export const DEFAULT_BASE_PROMPT =
  "You are a helpful assistant that uses tools to answer questions. When the user asks you to perform an " +
  "action, use the appropriate tool.";

/** A system prompt the meta model proposed. */
export interface ProposedPrompt {
  prompt: string;
  /** quick: the style asked for; evolutionary: the mutation (bold, conservative, ...). */
  style: string;
  /** Index into the parents given (evolutionary), else null. */
  parent_index: number | null;
}

// Assumptions of the estimate (documented in docs/bench.md): what a tool call and a proposed prompt cost.
export const EST_EVAL_OUTPUT_TOKENS = 60;
export const EST_PROMPT_TOKENS = 150;
const EST_EVAL_CALL_S = 2;
const EST_META_CALL_S = 5;

function toolsSummary(tools: readonly FunctionTool[]): string {
  return tools
    .map((t) => `${t.function.name}${t.function.description ? ` (${t.function.description})` : ""}`)
    .join("; ");
}

function casesSummary(cases: readonly Pick<EvalCase, "prompt">[]): string {
  return cases
    .slice(0, 10)
    .map((c) => `"${c.prompt.slice(0, 120)}"`)
    .join("; ");
}

/** Generation 1: `n` different system prompts built from the base. */
export function quickMetaPrompt(
  n: number,
  basePrompt: string,
  tools: readonly FunctionTool[],
  cases: readonly Pick<EvalCase, "prompt">[],
): string {
  return [
    `You write system prompts. Write ${n} different system prompts for a model that answers users by calling tools.`,
    `Tools: ${toolsSummary(tools)}`,
    `Requests it must handle: ${casesSummary(cases)}`,
    `Prompt to improve on: "${basePrompt}"`,
    "Vary the approach (concise, detailed, numbered rules, conversational, specification-like), not just the " +
      "wording. Every prompt must tell the model to use the tools. At most 300 words each.",
    'Reply with JSON only: {"prompts": [{"style": "concise", "prompt": "..."}, ...]}',
  ].join("\n\n");
}

/** Later generations: `n` mutations of the survivors (parents numbered from 0). */
export function evolveMetaPrompt(
  n: number,
  parents: readonly string[],
  tools: readonly FunctionTool[],
  cases: readonly Pick<EvalCase, "prompt">[],
): string {
  return [
    `You improve system prompts by mutation. These scored best in the last round:`,
    parents.map((p, i) => `[${i}] ${p}`).join("\n\n"),
    `Tools: ${toolsSummary(tools)}`,
    `Requests it must handle: ${casesSummary(cases)}`,
    `Write ${n} new system prompts, each a mutation of one parent: keep what made it work, change structure, ` +
      "phrasing or emphasis; make at least one bold and one conservative mutation. At most 300 words each.",
    'Reply with JSON only: {"prompts": [{"parent_index": 0, "mutation_type": "bold", "prompt": "..."}, ...]}',
  ].join("\n\n");
}

/**
 * The prompts of a meta model's reply: a JSON object with `prompts` (or a bare list), possibly inside a code
 * fence or with text around it. Entries without a non-empty `prompt` string are skipped; at most `max`.
 */
export function parseProposedPrompts(text: string, max: number, parents = 0): ProposedPrompt[] {
  const candidates = [text.trim()];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fenced) candidates.push(fenced[1]!.trim());
  const start = text.search(/[[{]/);
  if (start >= 0)
    candidates.push(text.slice(start, Math.max(text.lastIndexOf("}"), text.lastIndexOf("]")) + 1));
  for (const candidate of candidates) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(candidate);
    } catch {
      continue;
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { prompts?: unknown } | null)?.prompts;
    if (!Array.isArray(list)) continue;
    const prompts: ProposedPrompt[] = [];
    for (const entry of list) {
      if (!entry || typeof entry !== "object") continue;
      const e = entry as Record<string, unknown>;
      if (typeof e.prompt !== "string" || e.prompt.trim() === "") continue;
      const style = [e.style, e.mutation_type].find((s): s is string => typeof s === "string") ?? "variant";
      const parent =
        typeof e.parent_index === "number" && Number.isInteger(e.parent_index) && e.parent_index < parents
          ? Math.max(0, e.parent_index)
          : parents > 0
            ? 0
            : null;
      prompts.push({
        prompt: e.prompt.trim().slice(0, 20_000),
        style: style.slice(0, 60),
        parent_index: parent,
      });
    }
    if (prompts.length > 0) return prompts.slice(0, max);
  }
  return [];
}

/** How many of a generation go on: selection_ratio of the population, at least one. */
export const survivorCount = (population: number, ratio: number) =>
  Math.max(1, Math.min(population, Math.ceil(population * ratio)));

export interface PromptTuneEstimateInput {
  mode: PromptTuneMode;
  populationSize: number;
  generations: number;
  numModels: number;
  basePrompt: string;
  tools: readonly FunctionTool[];
  cases: readonly Pick<EvalCase, "prompt" | "multiTurn">[];
  /** Prices of the target models (cost is null when one is unknown) and of the meta model. */
  targetPrices?: readonly (ModelPrices | null | undefined)[];
  metaPrices?: ModelPrices | null;
}

export interface PromptTuneEstimate {
  generations: number;
  total_prompt_generations: number;
  total_eval_calls: number;
  total_meta_calls: number;
  total_api_calls: number;
  estimated_input_tokens: number;
  estimated_output_tokens: number;
  /** USD; null when a model's prices are unknown or no models were named. */
  estimated_cost: number | null;
  estimated_duration_s: number;
  warning: string | null;
}

/**
 * Expected calls, tokens and cost. Calls: one meta call per generation, and per proposed prompt one call per case
 * and model (a multi-turn case counts its optimal hops). Tokens: each eval call sends the system prompt (the
 * base prompt's size), the case's prompt and the tools' JSON, and gets ~60 tokens back; each meta call sends
 * its instructions (with the parents, ~150 tokens each) and gets ~150 tokens per prompt back.
 */
export function estimatePromptTune(input: PromptTuneEstimateInput): PromptTuneEstimate {
  const generations = input.mode === "quick" ? 1 : input.generations;
  const prompts = input.populationSize * generations;
  const systemTokens = Math.max(countContextTokens(input.basePrompt), 1);
  const toolTokens = countContextTokens(JSON.stringify(input.tools));
  let callsPerPrompt = 0;
  let inputPerPrompt = 0;
  for (const c of input.cases) {
    const calls = c.multiTurn ? Math.max(1, c.multiTurn.optimal_hops) : 1;
    callsPerPrompt += calls;
    // Each later round resends the conversation so far: the first round's input, plus a round of output.
    for (let round = 0; round < calls; round++)
      inputPerPrompt +=
        systemTokens + countContextTokens(c.prompt) + toolTokens + round * EST_EVAL_OUTPUT_TOKENS * 2;
  }
  const evalCalls = prompts * callsPerPrompt * input.numModels;
  const evalInput = prompts * inputPerPrompt * input.numModels;
  const evalOutput = evalCalls * EST_EVAL_OUTPUT_TOKENS;
  const survivors = survivorCount(input.populationSize, 0.4);
  const firstMeta = countContextTokens(
    quickMetaPrompt(input.populationSize, input.basePrompt, input.tools, input.cases),
  );
  const laterMeta =
    countContextTokens(evolveMetaPrompt(input.populationSize, [], input.tools, input.cases)) +
    survivors * EST_PROMPT_TOKENS;
  const metaInput = firstMeta + (generations - 1) * laterMeta;
  const metaOutput = generations * input.populationSize * EST_PROMPT_TOKENS;

  let cost: number | null = null;
  const prices = input.targetPrices ?? [];
  if (prices.length > 0 && prices.every((p) => p) && input.metaPrices) {
    const perModelInput = prompts * inputPerPrompt;
    const perModelOutput = prompts * callsPerPrompt * EST_EVAL_OUTPUT_TOKENS;
    cost =
      prices.reduce((sum, p) => sum + costOf(p, perModelInput, perModelOutput), 0) +
      costOf(input.metaPrices, metaInput, metaOutput);
    cost = Math.round(cost * 1e6) / 1e6;
  }
  const apiCalls = evalCalls + generations;
  return {
    generations,
    total_prompt_generations: prompts,
    total_eval_calls: evalCalls,
    total_meta_calls: generations,
    total_api_calls: apiCalls,
    estimated_input_tokens: evalInput + metaInput,
    estimated_output_tokens: evalOutput + metaOutput,
    estimated_cost: cost,
    estimated_duration_s: generations * EST_META_CALL_S + evalCalls * EST_EVAL_CALL_S,
    warning:
      apiCalls > 100
        ? `This will make ${apiCalls} API calls. Consider reducing population or generations.`
        : null,
  };
}
