/**
 * The typed HiveGuard client: the tRPC client typed by the server's own router (inputs and outputs are
 * checked at compile time), plus helpers for what tRPC does not carry (streaming exports, batched uploads).
 *
 *   const hg = createHiveGuardClient({ url: "http://localhost:8000", username: "admin", password: "pw" });
 *   const datasets = await hg.guard.datasets.list.query();
 *
 * A bench user (LLM benchmarking, docs/bench.md) signs in and passes the token instead:
 *
 *   const { access_token } = await createHiveGuardClient({ url }).trpc.bench.auth.login.mutate({ email, password });
 *   const bench = createHiveGuardClient({ url, token: access_token });
 *   for await (const event of bench.benchmark({ models: ["local/llama3"], context_tiers: [0, 5000] })) ...
 */
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../src/trpc/router.js";
import type { SiteverifyAnswer } from "../../src/modules/guard/siteverify/siteverify.schema.js";
import type { BenchEvent } from "../../src/modules/bench/engine/types.js";
import type { BenchmarkRequest } from "../../src/modules/bench/runs/runs.schema.js";
import type { PromptTuneEvent } from "../../src/modules/bench/evals/prompt-tune.js";
import type { TuneEvent as ParamTuneEvent } from "../../src/modules/bench/evals/tune.js";
import type { PromptTuneRequest } from "../../src/modules/bench/evals/prompt-tune.schema.js";
import type { LabelRunRequest } from "../../src/modules/bench/labeling/labeling.schema.js";
import type { LabelEvent } from "../../src/modules/bench/labeling/service.js";
import type { ParamTuneRequest, ToolEvalRequest } from "../../src/modules/bench/evals/evals.schema.js";
import type { EvalEvent } from "../../src/modules/bench/evals/service.js";
import type { CompareRequest, JudgeRequest } from "../../src/modules/bench/judge/judge.schema.js";
import type { JudgeEvent } from "../../src/modules/bench/judge/service.js";

export type { AppRouter };
export type { SiteverifyAnswer };
export type {
  BenchEvent,
  BenchmarkRequest,
  CompareRequest,
  EvalEvent,
  JudgeEvent,
  JudgeRequest,
  ParamTuneEvent,
  ParamTuneRequest,
  ToolEvalRequest,
};
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type ItemInput = RouterInputs["guard"]["items"]["upload"]["items"][number];
export type Label = RouterOutputs["guard"]["labels"]["list"][number];
export type ExportFormat = "csv" | "json" | "jsonl";
export type MlStatus = RouterOutputs["guard"]["ml"]["status"];
export type RiskModelInfo = RouterOutputs["guard"]["ml"]["uploadModel"];

export interface HiveGuardClientOptions {
  /** Server URL, e.g. http://localhost:8000 */
  url: string;
  /** `X-HiveGuard-Key` for the public API (the CLI's `HIVEGUARD_API_KEY`). */
  apiKey?: string;
  /**
   * The dashboard's credentials (the server's `DASHBOARD_USERNAME` / `DASHBOARD_PASSWORD`), sent as HTTP
   * Basic to the dashboard API; the CLI and the tracking SDK read them from `HIVEGUARD_USERNAME` /
   * `HIVEGUARD_PASSWORD`.
   */
  username?: string;
  password?: string;
  /** Older spelling of the same credentials: base64 of `user:password` (`HIVEGUARD_DASHBOARD_TOKEN`). */
  dashboardToken?: string;
  /**
   * A bench user's token, sent as `Authorization: Bearer` to the bench procedures and routes (`bench.*`,
   * `benchmark()`): the `access_token` of `bench.auth.login` / `register` (15 minutes) or, for scripts, a
   * CLI token from `bench.auth.cliToken` (30 days, revocable). Not together with the dashboard credentials.
   */
  token?: string;
  fetch?: typeof fetch;
}

/** Which credentials a client sends; a 401 then means they were rejected, or that none were sent. */
export type CredentialsSent = "dashboard" | "apiKey" | "dashboard and apiKey" | "token" | "none";

/**
 * What every failed call throws: the HTTP status and the documented `detail` (a string, or the list of
 * `{loc, msg, type}` entries of a 422), plus `url` when the server could not be reached at all. A 401 says
 * whether credentials were sent and rejected (`rejected`) or none were sent.
 */
export class HiveGuardError extends Error {
  override name = "HiveGuardError";
  constructor(
    message: string,
    readonly status: number | null,
    readonly detail: unknown,
    readonly url: string,
    readonly credentials: CredentialsSent = "none",
  ) {
    super(message);
  }

  /** True when the server was not reachable (no HTTP answer). */
  get unreachable(): boolean {
    return this.status === null;
  }

  /** True when the server refused the credentials that were sent (401 with credentials). */
  get rejected(): boolean {
    return this.status === 401 && this.credentials !== "none";
  }
}

const CREDENTIAL_NAMES: Record<CredentialsSent, string> = {
  dashboard: "dashboard username/password",
  apiKey: "API key",
  "dashboard and apiKey": "dashboard username/password and API key",
  token: "bench token",
  none: "",
};

/** A 401's message says what was rejected, or that nothing was sent; other errors pass unchanged. */
function withCredentials(error: HiveGuardError, credentials: CredentialsSent): HiveGuardError {
  if (error.status !== 401) return error;
  const message =
    credentials === "none"
      ? `HiveGuard at ${error.url} needs credentials: none were sent (401 ${detailMessage(error.detail, "Unauthorized")})`
      : `HiveGuard at ${error.url} rejected the ${CREDENTIAL_NAMES[credentials]} (401 ${detailMessage(error.detail, "Unauthorized")})`;
  return new HiveGuardError(message, error.status, error.detail, error.url, credentials);
}

/** The HTTP Basic value of the dashboard credentials in `options`, if any. */
function basicCredentials(options: HiveGuardClientOptions): string | undefined {
  if (options.username !== undefined && options.password !== undefined) {
    return Buffer.from(`${options.username}:${options.password}`).toString("base64");
  }
  return options.dashboardToken || undefined;
}

function detailMessage(detail: unknown, fallback: string): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map(
        (issue: { loc?: unknown[]; msg?: string }) =>
          `${(issue.loc ?? []).join(".")}: ${issue.msg ?? "invalid"}`,
      )
      .join("; ");
  }
  return fallback;
}

export function toHiveGuardError(error: unknown, url: string): HiveGuardError {
  if (error instanceof HiveGuardError) return error;
  if (error instanceof TRPCClientError) {
    const data = error.data as { httpStatus?: number; detail?: unknown } | undefined;
    if (data?.httpStatus) {
      const detail = data.detail ?? error.message;
      return new HiveGuardError(detailMessage(detail, error.message), data.httpStatus, detail, url);
    }
    error = error.cause ?? error;
  }
  const cause = (error as { cause?: { code?: string } }).cause;
  const reason = cause?.code ?? (error instanceof Error ? error.message : String(error));
  return new HiveGuardError(`Cannot reach HiveGuard at ${url} (${reason})`, null, null, url);
}

export function createHiveGuardClient(options: HiveGuardClientOptions) {
  const url = options.url.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const basic = basicCredentials(options);
  // Both would be the Authorization header: one of them would silently not be sent.
  if (basic && options.token)
    throw new TypeError(
      "createHiveGuardClient: pass either the dashboard credentials or a bench token, not both",
    );
  const credentials: CredentialsSent = options.token
    ? "token"
    : basic && options.apiKey
      ? "dashboard and apiKey"
      : basic
        ? "dashboard"
        : options.apiKey
          ? "apiKey"
          : "none";
  const headers = (): Record<string, string> => ({
    ...(options.apiKey ? { "x-hiveguard-key": options.apiKey } : {}),
    ...(basic ? { authorization: `Basic ${basic}` } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
  });

  const trpc = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${url}/trpc`, headers, fetch: doFetch })],
  });

  /** A REST call whose errors become HiveGuardErrors; for routes tRPC cannot carry. */
  async function rest(path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await doFetch(`${url}${path}`, { ...init, headers: { ...headers(), ...init.headers } });
    } catch (error) {
      throw toHiveGuardError(error, url);
    }
    if (!response.ok && response.status !== 204) {
      const text = await response.text();
      let detail: unknown = text;
      try {
        detail = (JSON.parse(text) as { detail?: unknown }).detail ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw withCredentials(
        new HiveGuardError(detailMessage(detail, response.statusText), response.status, detail, url),
        credentials,
      );
    }
    return response;
  }

  /**
   * A bench event stream (POST with a JSON body; upstream's framing, one `data: <JSON>` line per event), yielded
   * as it arrives. Leaving the loop early closes the connection; the run itself goes on server-side.
   */
  async function* events<E>(path: string, body: unknown): AsyncGenerator<E> {
    const controller = new AbortController();
    const response = await rest(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of block.split("\n"))
            if (line.startsWith("data: ")) yield JSON.parse(line.slice(6)) as E;
        }
      }
    } finally {
      controller.abort();
    }
  }

  /** Runs a tRPC call, converting any failure to a HiveGuardError. */
  async function call<T>(run: (client: typeof trpc) => Promise<T>): Promise<T> {
    try {
      return await run(trpc);
    } catch (error) {
      throw withCredentials(toHiveGuardError(error, url), credentials);
    }
  }

  return {
    url,
    trpc,
    call,
    rest,

    /** The risk model: what this instance serves, labeled sessions, and the latest training run. */
    mlStatus(): Promise<MlStatus> {
      return call((c) => c.guard.ml.status.query());
    },

    /** Starts a training run (returns at once); 409 while one runs, 422 under 100 labeled sessions. */
    mlTrain(): Promise<{ status: "training_started" }> {
      return call((c) => c.guard.ml.train.mutate());
    },

    /**
     * Polls the status until the latest training run is no longer running; `onProgress` gets 0–1. Resolves
     * with the final status (its `training.state` says completed or failed).
     */
    async mlWaitForTraining(
      opts: { intervalMs?: number; onProgress?: (progress: number) => void } = {},
    ): Promise<MlStatus> {
      for (;;) {
        const status = await call((c) => c.guard.ml.status.query());
        opts.onProgress?.(status.training.progress);
        if (status.training.state !== "running") return status;
        await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 500));
      }
    },

    /** Uploads an ONNX model file (raw body to POST /dashboard/api/ml/models); it becomes the active model. */
    async mlUploadModel(onnx: Uint8Array): Promise<RiskModelInfo> {
      const response = await rest("/dashboard/api/ml/models", {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: onnx as BodyInit,
      });
      return (await response.json()) as RiskModelInfo;
    },

    /**
     * Checks a widget token with a site key's secret (`POST /api/v1/siteverify`, issue 19), as a site's server
     * does. Refusals are answers (`success: false` with `error-codes`), not errors; only a 429 throws.
     */
    async siteverify(input: {
      secret: string;
      response: string;
      remoteip?: string;
      sitekey?: string;
      idempotency_key?: string;
    }): Promise<SiteverifyAnswer> {
      const fields = Object.entries(input).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      );
      const response = await rest("/api/v1/siteverify", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      });
      return (await response.json()) as SiteverifyAnswer;
    },

    /**
     * Runs a benchmark as the bench user of `token` (`POST /api/benchmark`) and yields its events as they
     * stream (`progress`, `result`, `skipped`, `heartbeat`, `error`, then `complete` or `cancelled`).
     * Refusals before the stream opens (409 running, 422 naming the field, 429) throw a HiveGuardError.
     * Leaving the loop early closes the stream, but the run goes on and lands in history (docs/bench.md);
     * `bench.benchmark.cancel` stops it.
     */
    async *benchmark(input: Partial<BenchmarkRequest> & { models: string[] }): AsyncGenerator<BenchEvent> {
      yield* events<BenchEvent>("/api/benchmark", input);
    },

    /**
     * Runs a labeling suite (LLMs scored against the crowd, `POST /api/labeling/run`) and yields its events:
     * `label_start`, `crowd_summary`, `progress`/`label_result` per item and model, `model_summary` per model,
     * then `complete`, `cancelled` or `error`. Refusals before the stream throw a HiveGuardError.
     */
    async *labelingRun(
      input: Partial<LabelRunRequest> & { suite_id: string; models: string[] },
    ): AsyncGenerator<LabelEvent> {
      yield* events<LabelEvent>("/api/labeling/run", input);
    },

    /**
     * Runs the prompt tuner (`POST /api/tool-eval/prompt-tune`) and yields its events (`tune_start`, per
     * generation `generation_start`, `prompt_generated`, `prompt_eval_start`/`prompt_eval_result`,
     * `generation_complete`, then `tune_complete`, `cancelled` or `error`). `bench.promptTune.estimate` says
     * what it will spend first.
     */
    async *promptTune(
      input: Omit<PromptTuneRequest, "config"> & { config?: Partial<PromptTuneRequest["config"]> },
    ): AsyncGenerator<PromptTuneEvent> {
      yield* events<PromptTuneEvent>("/api/tool-eval/prompt-tune", input);
    },

    /**
     * Runs the param tuner (`POST /api/tool-eval/param-tune`) and yields its events: `tune_start`, a
     * `combo_result` and a `tune_progress` per (combination, model), then `tune_complete` (the best
     * combination), `cancelled` or `error`. `bench.paramTune.history` / `get` list the stored tunes, ranked.
     */
    async *paramTune(
      input: Partial<ParamTuneRequest> & Pick<ParamTuneRequest, "suite_id" | "models" | "search_space">,
    ): AsyncGenerator<ParamTuneEvent> {
      yield* events<ParamTuneEvent>("/api/tool-eval/param-tune", input);
    },

    /**
     * Runs a tool eval (`POST /api/tool-eval`) and yields its events: `progress`, `result`, `model_summary`,
     * with a `judge` the `judge_*` events (live verdicts interleaved with the results, or after them), then
     * `complete`, `cancelled` or `error`. Refusals throw a HiveGuardError; `bench.toolEval.cancel` stops it.
     */
    async *toolEval(
      input: Partial<ToolEvalRequest> & { suite_id: string; models: string[] },
    ): AsyncGenerator<EvalEvent> {
      yield* events<EvalEvent>("/api/tool-eval", input);
    },

    /**
     * Judges a stored eval (`POST /api/tool-eval/judge`): `judge_start`, a `judge_verdict` per result (an
     * answer the judge did not give as asked is `parsed: false`, with no score), a `judge_report` per model,
     * then `judge_complete`. The report stays readable with `bench.judge.get`.
     */
    async *judge(input: JudgeRequest): AsyncGenerator<JudgeEvent> {
      yield* events<JudgeEvent>("/api/tool-eval/judge", input);
    },

    /** Compares two models' results case by case with a judge (`POST /api/tool-eval/judge/compare`). */
    async *judgeCompare(input: CompareRequest): AsyncGenerator<JudgeEvent> {
      yield* events<JudgeEvent>("/api/tool-eval/judge/compare", input);
    },

    /** The bench user's history export as the server streams it (`/api/export/history`, CSV or JSON). */
    async exportBenchHistory(format: "csv" | "json" = "csv"): Promise<ReadableStream<Uint8Array>> {
      const response = await rest(`/api/export/history?format=${format}`);
      return response.body ?? new ReadableStream({ start: (controller) => controller.close() });
    },

    /** Every finalized label visible to the API key, page by page (flat memory for any number of rows). */
    async *labels(pageSize = 1000): AsyncGenerator<Label> {
      for (let offset = 0; ; offset += pageSize) {
        const page = await call((c) => c.guard.labels.list.query({ limit: pageSize, offset }));
        yield* page;
        if (page.length < pageSize) return;
      }
    },

    /** Every item visible to the API key, page by page. */
    async *items(pageSize = 1000) {
      for (let offset = 0; ; offset += pageSize) {
        const page = await call((c) => c.guard.items.list.query({ limit: pageSize, offset }));
        yield* page;
        if (page.length < pageSize) return;
      }
    },

    /** The streaming export of one dataset's labels, as the server sends it (bytes, never buffered). */
    async exportDataset(datasetId: string, fmt: ExportFormat): Promise<ReadableStream<Uint8Array>> {
      const response = await rest(
        `/dashboard/api/item-datasets/${encodeURIComponent(datasetId)}/labeled/export?fmt=${fmt}`,
      );
      return response.body ?? new ReadableStream({ start: (controller) => controller.close() });
    },

    /**
     * Uploads items in batches (1,000 by default: the server's limit per request). A failed batch is
     * reported through `onBatch` and the rest continue; the result says how many were created.
     */
    async uploadItems(
      items: AsyncIterable<ItemInput> | Iterable<ItemInput>,
      opts: {
        batchSize?: number;
        onBatch?: (result: { index: number; size: number; created: number; error?: HiveGuardError }) => void;
      } = {},
    ): Promise<{ created: number; failed: number; itemIds: string[] }> {
      const batchSize = opts.batchSize ?? 1000;
      const summary = { created: 0, failed: 0, itemIds: [] as string[] };
      let batch: ItemInput[] = [];
      let index = 0;
      const send = async () => {
        const size = batch.length;
        index++;
        try {
          const result = await call((c) => c.guard.items.upload.mutate({ items: batch }));
          summary.created += result.created;
          summary.itemIds.push(...result.item_ids);
          opts.onBatch?.({ index, size, created: result.created });
        } catch (error) {
          summary.failed += size;
          opts.onBatch?.({ index, size, created: 0, error: toHiveGuardError(error, url) });
        }
        batch = [];
      };
      for await (const item of items) {
        batch.push(item);
        if (batch.length === batchSize) await send();
      }
      if (batch.length > 0) await send();
      return summary;
    },
  };
}

export type HiveGuardClient = ReturnType<typeof createHiveGuardClient>;
