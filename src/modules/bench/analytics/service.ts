// Leaderboard, trends, compare and the exports, over the stored results of a user's completed runs. The
// statistics are the engine's (engine/stats.ts); figures are rounded as the result events are.
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import { aggregateResults, type AggregateRow, type ResultEvent } from "../engine/index.js";
import { mean } from "../engine/stats.js";
import { findUserRun, resultOf, upstreamTimestamp, UUID } from "../runs/service.js";
import type { Period } from "./analytics.schema.js";

const DAY_MS = 86_400_000;
const PERIOD_DAYS: Record<Period, number | null> = { "7d": 7, "30d": 30, "90d": 90, all: null };

export const since = (period: Period): Date | undefined => {
  const days = PERIOD_DAYS[period];
  return days === null ? undefined : new Date(Date.now() - days * DAY_MS);
};

const round = (value: number, digits: number) => {
  if (!Number.isFinite(value)) return 0;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** A result counts for speed figures when it succeeded and produced tokens (never a 0 tok/s of old data). */
const measured = (r: Pick<ResultEvent, "success" | "output_tokens" | "tokens_per_second">) =>
  r.success && r.output_tokens > 0 && r.tokens_per_second > 0;

function roundAggregate(row: AggregateRow): AggregateRow {
  const out = { ...row } as Record<string, unknown>;
  for (const [key, value] of Object.entries(row)) {
    if (typeof value !== "number" || Number.isInteger(value)) continue;
    out[key] = round(value, key.includes("cost") ? 8 : 2);
  }
  return out as unknown as AggregateRow;
}

export interface LeaderboardRow {
  model: string;
  provider: string;
  model_id: string;
  provider_key: string;
  avg_tps: number;
  avg_ttft_ms: number;
  avg_cost: number;
  total_runs: number;
  last_run: string | null;
}

/** A per-model summary as tool evals store it. */
interface ToolEvalSummary {
  model_id: string;
  model_name: string;
  provider: string;
  provider_key?: string;
  tool_accuracy_pct: number;
  param_accuracy_pct: number;
  overall_pct: number;
  cases_run: number;
  cases_passed: number;
}

export class AnalyticsService {
  constructor(private readonly deps: { prisma: PrismaClient }) {}

  private async results(userId: string, from?: Date) {
    const rows = await this.deps.prisma.benchResult.findMany({
      where: { userId, run: { status: "completed" }, ...(from && { createdAt: { gte: from } }) },
      orderBy: [{ createdAt: "asc" }, { runId: "asc" }, { seq: "asc" }],
    });
    return rows.map((row) => ({ ...resultOf(row), run_id: row.runId, created_at: row.createdAt }));
  }

  /** GET /api/analytics/leaderboard */
  async leaderboard(userId: string, query: { type: "benchmark" | "tool_eval"; period: Period }) {
    if (query.type === "tool_eval")
      return {
        type: query.type,
        period: query.period,
        models: await this.toolEvalBoard(userId, query.period),
        aggregates: [],
      };
    const results = await this.results(userId, since(query.period));
    const groups = new Map<string, typeof results>();
    for (const r of results) {
      if (!measured(r)) continue;
      const key = JSON.stringify([r.model_id, r.provider_key]);
      const group = groups.get(key);
      if (group) group.push(r);
      else groups.set(key, [r]);
    }
    const models: LeaderboardRow[] = [...groups.values()].map((group) => {
      const last = group.at(-1)!;
      return {
        // The newest display names (a provider or model renamed since shows under its current name).
        model: last.model,
        provider: last.provider,
        model_id: last.model_id,
        provider_key: last.provider_key,
        avg_tps: round(mean(group.map((r) => r.tokens_per_second)), 2),
        avg_ttft_ms: round(mean(group.map((r) => r.ttft_ms)), 2),
        avg_cost: round(mean(group.map((r) => r.cost)), 8),
        total_runs: group.length,
        last_run: upstreamTimestamp(last.created_at),
      };
    });
    models.sort((a, b) => b.avg_tps - a.avg_tps || a.model.localeCompare(b.model));
    return {
      type: query.type,
      period: query.period,
      models,
      aggregates: aggregateResults(
        results.map((r) => (r.success && !measured(r) ? { ...r, success: false } : r)),
      ).map(roundAggregate),
    };
  }

  /** The tool-eval leaderboard: each model's per-eval summaries (completed evals of the period) averaged. */
  async toolEvalBoard(userId: string, period: Period) {
    const from = since(period);
    const runs = await this.deps.prisma.benchEvalRun.findMany({
      where: { userId, status: "completed", ...(from && { createdAt: { gte: from } }) },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { createdAt: true, summary: true },
    });
    const groups = new Map<string, { summary: ToolEvalSummary; at: Date }[]>();
    for (const run of runs)
      for (const summary of (Array.isArray(run.summary) ? run.summary : []) as unknown as ToolEvalSummary[]) {
        if (!summary || typeof summary.model_id !== "string") continue;
        const key = JSON.stringify([summary.model_id, summary.provider_key ?? ""]);
        groups.set(key, [...(groups.get(key) ?? []), { summary, at: run.createdAt }]);
      }
    const rows = [...groups.values()].map((group) => {
      const last = group.at(-1)!;
      const avg = (pick: (s: ToolEvalSummary) => number) => round(mean(group.map((g) => pick(g.summary))), 1);
      return {
        model: last.summary.model_name,
        provider: last.summary.provider,
        model_id: last.summary.model_id,
        provider_key: last.summary.provider_key ?? "",
        avg_tool_pct: avg((s) => s.tool_accuracy_pct),
        avg_param_pct: avg((s) => s.param_accuracy_pct),
        avg_overall_pct: avg((s) => s.overall_pct),
        total_evals: group.length,
        last_eval: upstreamTimestamp(last.at),
      };
    });
    rows.sort((a, b) => b.avg_overall_pct - a.avg_overall_pct || a.model.localeCompare(b.model));
    return rows;
  }

  /** GET /api/export/tool-eval: one row per (eval, model) of the completed evals, newest first. */
  async toolEvalRows(userId: string) {
    const runs = await this.deps.prisma.benchEvalRun.findMany({
      where: { userId, status: "completed" },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      select: { id: true, createdAt: true, suiteName: true, summary: true },
    });
    return runs.flatMap((run) =>
      ((Array.isArray(run.summary) ? run.summary : []) as unknown as ToolEvalSummary[]).map((s) => ({
        timestamp: upstreamTimestamp(run.createdAt),
        eval_id: run.id,
        suite_name: run.suiteName,
        model: s.model_name,
        provider: s.provider,
        model_id: s.model_id,
        tool_accuracy_pct: s.tool_accuracy_pct,
        param_accuracy_pct: s.param_accuracy_pct,
        overall_pct: s.overall_pct,
        cases_run: s.cases_run,
        cases_passed: s.cases_passed,
      })),
    );
  }

  /** GET /api/analytics/trends: one point per run and model (the mean of its measured results). */
  async trends(userId: string, query: { models: string; metric: "tps" | "ttft"; period: Period }) {
    const wanted = new Set(
      query.models
        .split(",")
        .map((m) => m.trim())
        .filter(Boolean),
    );
    if (wanted.size === 0)
      throw ValidationError.field(["query", "models"], "models must name at least one model");
    const results = (await this.results(userId, since(query.period))).filter(
      (r) => (wanted.has(r.model) || wanted.has(r.model_id)) && measured(r),
    );
    const series = new Map<
      string,
      { model: string; model_id: string; provider: string; runs: Map<string, { at: Date; values: number[] }> }
    >();
    for (const r of results) {
      const key = JSON.stringify([r.model_id, r.provider_key]);
      let entry = series.get(key);
      if (!entry) {
        entry = { model: r.model, model_id: r.model_id, provider: r.provider, runs: new Map() };
        series.set(key, entry);
      }
      entry.model = r.model;
      entry.provider = r.provider;
      const point = entry.runs.get(r.run_id) ?? { at: r.created_at, values: [] };
      point.values.push(query.metric === "tps" ? r.tokens_per_second : r.ttft_ms);
      entry.runs.set(r.run_id, point);
    }
    return {
      metric: query.metric,
      period: query.period,
      series: [...series.values()].map((entry) => ({
        model: entry.model,
        model_id: entry.model_id,
        provider: entry.provider,
        points: [...entry.runs.entries()].map(([runId, point]) => ({
          timestamp: upstreamTimestamp(point.at),
          value: round(mean(point.values), 2),
          run_id: runId,
        })),
      })),
    };
  }

  /** GET /api/analytics/compare: 2–4 runs side by side, per (model, provider, tier). */
  async compare(userId: string, query: { runs: string }) {
    const ids = [
      ...new Set(
        query.runs
          .split(",")
          .map((id) => id.trim())
          .filter(Boolean),
      ),
    ];
    if (ids.length < 2 || ids.length > 4)
      throw ValidationError.field(["query", "runs"], "runs must name 2 to 4 different run ids");
    const rows = ids.every((id) => UUID.test(id))
      ? await this.deps.prisma.benchRun.findMany({
          where: { id: { in: ids }, userId },
          include: { results: { orderBy: { seq: "asc" } } },
        })
      : [];
    if (rows.length !== ids.length) throw new NotFoundError("Run not found");
    const byId = new Map(rows.map((row) => [row.id, row]));
    return {
      runs: ids.map((id) => {
        const row = byId.get(id)!;
        const results = row.results
          .map(resultOf)
          .map((r) => (r.success && !measured(r) ? { ...r, success: false } : r));
        return {
          id,
          timestamp: upstreamTimestamp(row.createdAt),
          prompt: row.prompt,
          models: aggregateResults(results).map((a) => ({
            model: a.model,
            provider: a.provider,
            model_id: a.model_id,
            context_tokens: a.context_tokens,
            avg_tps: round(a.avg_tps, 2),
            avg_tokens_per_second: round(a.avg_tps, 2),
            avg_ttft_ms: round(a.avg_ttft_ms, 2),
            avg_cost: round(a.avg_cost, 8),
            runs: a.runs,
            failures: a.failures,
          })),
        };
      }),
    };
  }

  /** The results of a user's completed runs, newest run first, in batches (keyset on the run). */
  async *historyBatches(userId: string, signal?: AbortSignal) {
    let cursor: { createdAt: Date; id: string } | null = null;
    for (;;) {
      if (signal?.aborted) return;
      const runs: { id: string; createdAt: Date; prompt: string }[] =
        await this.deps.prisma.benchRun.findMany({
          where: {
            userId,
            status: "completed",
            ...(cursor && {
              OR: [
                { createdAt: { lt: cursor.createdAt } },
                { createdAt: cursor.createdAt, id: { lt: cursor.id } },
              ],
            }),
          },
          orderBy: [{ createdAt: "desc" }, { id: "desc" }],
          take: 20,
          select: { id: true, createdAt: true, prompt: true },
        });
      if (runs.length === 0) return;
      const prompts = new Map(runs.map((run) => [run.id, run]));
      const results = await this.deps.prisma.benchResult.findMany({
        where: { runId: { in: runs.map((run) => run.id) } },
        orderBy: [{ createdAt: "desc" }, { runId: "desc" }, { seq: "asc" }],
      });
      yield results.map((r) => ({ ...resultOf(r), source: prompts.get(r.runId)! }));
      const last = runs.at(-1)!;
      cursor = { createdAt: last.createdAt, id: last.id };
    }
  }

  /** One run with its aggregates (GET /api/export/run/{run_id}). */
  async runExport(userId: string, runId: string) {
    const row = await findUserRun(this.deps.prisma, userId, runId);
    const results = row.results.map(resultOf);
    return {
      run_id: row.id,
      timestamp: upstreamTimestamp(row.createdAt),
      status: row.status,
      prompt: row.prompt,
      context_tiers: row.contextTiers,
      settings: row.settings,
      metadata: row.metadata ?? null,
      results,
      aggregates: aggregateResults(results).map(roundAggregate),
    };
  }
}
