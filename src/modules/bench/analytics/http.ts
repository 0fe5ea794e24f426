// The bench exports (plain routes: a JSON procedure cannot stream a file): history and leaderboard as CSV
// (streamed with csv-stringify, every text cell neutralized against spreadsheet formulas) or JSON, one run as
// JSON (or CSV).
import { Readable } from "node:stream";
import { stringify } from "csv-stringify/sync";
import type { FastifyReply } from "fastify";
import { z } from "zod";
import { neutralizeCsvCell } from "../../../platform/csv.js";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import type { ResultEvent } from "../engine/index.js";
import { upstreamTimestamp } from "../runs/service.js";
import { leaderboardQuerySchema } from "./analytics.schema.js";

export const HISTORY_COLUMNS = [
  "timestamp",
  "run_id",
  "prompt",
  "model",
  "provider",
  "model_id",
  "context_tokens",
  "run",
  "success",
  "tokens_per_second",
  "ttft_ms",
  "output_speed_tps",
  "itl_ms",
  "cost",
  "output_tokens",
  "input_tokens",
  "reasoning_tokens",
  "error",
] as const;
export const LEADERBOARD_COLUMNS = [
  "rank",
  "model",
  "provider",
  "avg_tps",
  "avg_ttft_ms",
  "avg_cost",
  "total_runs",
  "last_run",
] as const;
export const TOOL_EVAL_LEADERBOARD_COLUMNS = [
  "rank",
  "model",
  "provider",
  "avg_tool_pct",
  "avg_param_pct",
  "avg_overall_pct",
  "total_evals",
  "last_eval",
] as const;
export const TOOL_EVAL_COLUMNS = [
  "timestamp",
  "suite_name",
  "model",
  "provider",
  "tool_accuracy_pct",
  "param_accuracy_pct",
  "overall_pct",
  "cases_run",
  "cases_passed",
  "eval_id",
  "model_id",
] as const;
export const RUN_COLUMNS = [
  "model",
  "provider",
  "model_id",
  "context_tokens",
  "run",
  "success",
  "tokens_per_second",
  "ttft_ms",
  "total_time_s",
  "output_speed_tps",
  "itl_ms",
  "input_tokens_per_second",
  "cost",
  "output_tokens",
  "input_tokens",
  "reasoning_tokens",
  "tokens_source",
  "error",
] as const;

/** A CSV cell: text neutralized (a leading = + - @ tab or CR gets a `'`), numbers and booleans as they are. */
const cell = (value: unknown): string | number | boolean =>
  typeof value === "number" || typeof value === "boolean"
    ? value
    : value === null || value === undefined
      ? ""
      : neutralizeCsvCell(String(value));

const csvRows = (columns: readonly string[], rows: Record<string, unknown>[], header: boolean) =>
  stringify(
    rows.map((row) => columns.map((column) => cell(row[column]))),
    { header, columns: [...columns] },
  );

const formatQuery = z.object({
  format: z.enum(["csv", "json"]).default("csv").describe("csv (default) or json"),
});
const runFormatQuery = z.object({
  format: z.enum(["json", "csv"]).default("json").describe("json (default) or csv"),
});

const tags = ["bench: export"];
const fileContent = {
  "text/csv": { schema: z.string() },
  "application/json": { schema: z.unknown() },
};

function sendFile(reply: FastifyReply, body: Readable | string, format: "csv" | "json", name: string) {
  return reply
    .header("content-type", format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8")
    .header("content-disposition", `attachment; filename="${name}.${format}"`)
    .header("cache-control", "no-store")
    .send(body);
}

export function exportRoutes(deps: AppDeps): Route[] {
  const analytics = () => deps.services.benchAnalytics;
  return [
    defineRoute({
      method: "GET",
      path: "/api/export/history",
      auth: "user",
      query: formatQuery,
      openapi: {
        operationId: "bench-export-history",
        tags,
        summary: "Every result of your completed runs, newest run first, as CSV (streamed) or JSON",
        description: `CSV columns: ${HISTORY_COLUMNS.join(", ")}. JSON: an array of objects with the same keys.`,
        responses: { 200: { description: "benchmark_history.csv (or .json)", content: fileContent } },
      },
      handler: async ({ query, user }, request, reply) => {
        const abort = new AbortController();
        const batches = analytics().historyBatches(user!.userId, abort.signal);
        const record = ({
          source,
          ...r
        }: ResultEvent & { source: { id: string; createdAt: Date; prompt: string } }): Record<
          string,
          unknown
        > => ({
          ...r,
          timestamp: upstreamTimestamp(source.createdAt),
          run_id: source.id,
          prompt: source.prompt,
        });
        async function* encode() {
          let first = true;
          if (query.format === "json") yield "[";
          for await (const rows of batches) {
            if (rows.length === 0) continue;
            if (query.format === "csv") yield csvRows(HISTORY_COLUMNS, rows.map(record), first);
            else
              yield (
                (first ? "\n" : ",\n") +
                rows
                  .map(record)
                  .map((row) => JSON.stringify(Object.fromEntries(HISTORY_COLUMNS.map((c) => [c, row[c]]))))
                  .join(",\n")
              );
            first = false;
          }
          if (query.format === "json") yield "\n]\n";
          else if (first) yield csvRows(HISTORY_COLUMNS, [], true);
        }
        const body = Readable.from(encode(), { objectMode: false, highWaterMark: 1 });
        reply.raw.on("close", () => {
          if (!reply.raw.writableFinished) {
            abort.abort();
            body.destroy();
          }
        });
        body.on("error", (error) => request.log.error({ err: error }, "history export failed"));
        return sendFile(reply, body, query.format, "benchmark_history");
      },
    }),
    defineRoute({
      method: "GET",
      path: "/api/export/leaderboard",
      auth: "user",
      query: leaderboardQuerySchema.extend(formatQuery.shape),
      openapi: {
        operationId: "bench-export-leaderboard",
        tags,
        summary: "The leaderboard of a period as CSV or JSON",
        description: `CSV columns: ${LEADERBOARD_COLUMNS.join(", ")}; for type=tool_eval: ${TOOL_EVAL_LEADERBOARD_COLUMNS.join(", ")}.`,
        responses: { 200: { description: "leaderboard.csv (or .json)", content: fileContent } },
      },
      handler: async ({ query, user }, _request, reply) => {
        const board = await analytics().leaderboard(user!.userId, { type: query.type, period: query.period });
        const rows = board.models.map((row, index) => ({ rank: index + 1, ...row }));
        const name = `leaderboard_${query.type}_${query.period}`;
        return query.format === "csv"
          ? sendFile(
              reply,
              csvRows(
                query.type === "tool_eval" ? TOOL_EVAL_LEADERBOARD_COLUMNS : LEADERBOARD_COLUMNS,
                rows,
                true,
              ),
              "csv",
              name,
            )
          : sendFile(reply, JSON.stringify(board), "json", name);
      },
    }),
    defineRoute({
      method: "GET",
      path: "/api/export/run/{run_id}",
      auth: "user",
      params: z.object({ run_id: z.string().min(1).max(100) }),
      query: runFormatQuery,
      openapi: {
        operationId: "bench-export-run",
        tags,
        summary: "One run as JSON (settings, results, aggregates) or its results as CSV",
        description: `CSV columns: ${RUN_COLUMNS.join(", ")}.`,
        responses: { 200: { description: "benchmark_run_<id>.json (or .csv)", content: fileContent } },
      },
      handler: async ({ params, query, user }, _request, reply) => {
        const run = await analytics().runExport(user!.userId, params.run_id);
        const name = `benchmark_run_${run.run_id}`;
        return query.format === "csv"
          ? sendFile(
              reply,
              csvRows(RUN_COLUMNS, run.results as unknown as Record<string, unknown>[], true),
              "csv",
              name,
            )
          : sendFile(reply, JSON.stringify(run, null, 2), "json", name);
      },
    }),
    defineRoute({
      method: "GET",
      path: "/api/export/tool-eval",
      auth: "user",
      query: formatQuery,
      openapi: {
        operationId: "bench-export-tool-eval",
        tags,
        summary: "Your completed tool evals, one row per eval and model, as CSV or JSON",
        description: `CSV columns: ${TOOL_EVAL_COLUMNS.join(", ")}.`,
        responses: { 200: { description: "tool_eval_history.csv (or .json)", content: fileContent } },
      },
      handler: async ({ query, user }, _request, reply) => {
        const rows = await analytics().toolEvalRows(user!.userId);
        return query.format === "csv"
          ? sendFile(reply, csvRows(TOOL_EVAL_COLUMNS, rows, true), "csv", "tool_eval_history")
          : sendFile(reply, JSON.stringify(rows), "json", "tool_eval_history");
      },
    }),
    defineRoute({
      method: "GET",
      path: "/api/export/eval/{eval_id}",
      auth: "user",
      params: z.object({ eval_id: z.string().min(1).max(100) }),
      openapi: {
        operationId: "bench-export-eval",
        tags,
        summary:
          "One tool eval as JSON: {eval_id, suite_name, models, temperature, timestamp, results, summary}",
        responses: { 200: { description: "tool_eval_<id>.json", content: fileContent } },
      },
      handler: async ({ params, user }, _request, reply) => {
        const run = await deps.services.benchEvals.get(user!.userId, params.eval_id);
        const body = {
          eval_id: run.id,
          suite_name: run.suite_name,
          models: run.models,
          temperature: run.temperature,
          tool_choice: run.tool_choice,
          timestamp: run.timestamp,
          status: run.status,
          results: run.results,
          summary: run.summary,
        };
        return sendFile(reply, JSON.stringify(body, null, 2), "json", `tool_eval_${run.id}`);
      },
    }),
  ];
}
