// LLMs scored against the crowd: labeling suites are a guard dataset's finalized labels (snapshotted), and a
// labeling run has each model label every item (image items as the provider's image input), scored against the
// consensus label, beside the crowd's own figures. Runs share the user's run slot, the hourly limit and the
// cancel channel with benchmarks, evals and tunes, run detached from the request, and are stored.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { StateStore } from "../../../platform/state/index.js";
import { finalizedLabelRows, type GuardCrowdReader, type GuardDatasetList } from "../../guard/index.js";
import type { AdminService } from "../admin/service.js";
import {
  CallCancelledError,
  isImageUrl,
  labelingQuestion,
  measureCall,
  parseModelLabel,
  scrubSecrets,
  summarizeCrowd,
  summarizeLabels,
  type BenchTarget,
  type CrowdSummary,
  type LabelingItem,
  type LabelingShape,
  type LabelModelSummary,
  type LabelResult,
} from "../engine/index.js";
import type { MeasureDeps } from "../engine/measure.js";
import { checkHourlyLimit, EVAL_ALREADY_RUNNING, type EvalStatus } from "../evals/service.js";
import type { ProviderService } from "../providers/service.js";
import { targetOf, upstreamTimestamp, UUID } from "../runs/service.js";
import { LiveRun } from "../shared/live-run.js";
import { RunRegistry } from "../shared/run-registry.js";
import { heartbeatOf, holdRunSlot, STALE_RUN_MS, staleRunData, staleRunsWhere } from "../shared/run-slot.js";
import type { LabelRunRequest, LabelSuiteCreate } from "./labeling.schema.js";

export const LABEL_SUITE_NOT_FOUND = "Labeling suite not found";
export const LABEL_RUN_NOT_FOUND = "Labeling run not found";

export type LabelEvent =
  | {
      type: "label_start";
      run_id: string;
      suite_name: string;
      dataset_id: string;
      items: number;
      models: string[];
      total: number;
    }
  | ({ type: "crowd_summary" } & CrowdSummary)
  | {
      type: "progress";
      current: number;
      total: number;
      model: string;
      model_id: string;
      provider: string;
      item_id: string;
    }
  | LabelResult
  | ({ type: "model_summary" } & LabelModelSummary)
  | { type: "heartbeat" }
  | { type: "cancelled" }
  | { type: "complete"; run_id: string }
  | { type: "error"; message: string };

export const isTerminalLabelEvent = (event: LabelEvent) =>
  event.type === "complete" || event.type === "cancelled" || event.type === "error";

interface Running {
  id: string;
  userId: string;
  controller: AbortController;
  subscribe(listener: (event: LabelEvent) => void): () => void;
  done: Promise<EvalStatus>;
}

type SuiteRow = Awaited<ReturnType<PrismaClient["benchLabelSuite"]["findFirstOrThrow"]>>;
type RunRow = Awaited<ReturnType<PrismaClient["benchLabelRun"]["findFirstOrThrow"]>>;

export interface LabelingServiceDeps {
  prisma: PrismaClient;
  state: StateStore;
  providers: ProviderService;
  admin: AdminService;
  datasets: GuardDatasetList;
  labels: GuardCrowdReader;
  log: Logger;
  measure?: MeasureDeps;
}

export class LabelingService {
  private readonly running: RunRegistry<Running>;

  constructor(private readonly deps: LabelingServiceDeps) {
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

  // ── suites ──────────────────────────────────────────────────────────────────────────────────────────

  /** The guard's datasets a suite can be built from (audio is left out: no model hears it here). */
  async datasets() {
    const { rows } = await this.deps.datasets.list({ limit: 1000, offset: 0 });
    return {
      datasets: rows
        .filter((row) => row.modality !== "audio")
        .map((row) => ({
          id: row.id,
          name: row.name,
          modality: row.modality,
          challenge_type: row.challenge_type,
          choices: row.choices,
          item_count: row.item_count,
        })),
    };
  }

  async createSuite(userId: string, input: LabelSuiteCreate) {
    const dataset = await this.deps.datasets.get(input.dataset_id);
    if (dataset.modality === "audio")
      throw ValidationError.field(
        ["body", "dataset_id"],
        "audio datasets cannot be labeled by a model here (no audio input)",
        "unsupported_modality",
      );
    const items: LabelingItem[] = [];
    for await (const batch of finalizedLabelRows(this.deps.labels, dataset.id)) {
      for (const row of batch) {
        if (row.confidence < input.min_confidence) continue;
        items.push({
          item_id: row.item_id,
          data_ref: row.data_ref,
          modality: row.modality,
          label: row.label,
          confidence: row.confidence,
          solver_count: row.solver_count,
        });
        if (items.length >= input.max_items) break;
      }
      if (items.length >= input.max_items) break;
    }
    if (items.length === 0)
      throw ValidationError.field(
        ["body", "dataset_id"],
        "the dataset has no finalized labels (at this min_confidence)",
        "no_labels",
      );
    const row = await this.deps.prisma.benchLabelSuite.create({
      data: {
        userId,
        name: input.name ?? dataset.name,
        datasetId: dataset.id,
        datasetName: dataset.name,
        modality: dataset.modality,
        challengeType: dataset.challenge_type,
        prompt: dataset.prompt ?? null,
        choices: dataset.choices,
        items: items as unknown as Prisma.InputJsonArray,
        itemCount: items.length,
      },
    });
    return suiteOut(row);
  }

  async listSuites(userId: string) {
    const rows = await this.deps.prisma.benchLabelSuite.findMany({
      where: { userId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      omit: { items: true },
    });
    return { suites: rows.map(suiteOut) };
  }

  async getSuite(userId: string, suiteId: string) {
    const row = await this.findSuite(userId, suiteId);
    return { ...suiteOut(row), items: itemsOf(row) };
  }

  async deleteSuite(userId: string, suiteId: string) {
    const { count } = UUID.test(suiteId)
      ? await this.deps.prisma.benchLabelSuite.deleteMany({ where: { id: suiteId, userId } })
      : { count: 0 };
    if (count === 0) throw new NotFoundError(LABEL_SUITE_NOT_FOUND);
    await this.deps.prisma.benchLabelRun.updateMany({ where: { suiteId, userId }, data: { suiteId: null } });
    return { status: "ok" as const };
  }

  private async findSuite(userId: string, suiteId: string): Promise<SuiteRow> {
    const row = UUID.test(suiteId)
      ? await this.deps.prisma.benchLabelSuite.findFirst({ where: { id: suiteId, userId } })
      : null;
    if (!row) throw new NotFoundError(LABEL_SUITE_NOT_FOUND);
    return row;
  }

  // ── runs ────────────────────────────────────────────────────────────────────────────────────────────

  /** Validates and starts a run; throws (404, 422, 429, 409) before anything streams. */
  async begin(user: { userId: string }, input: LabelRunRequest) {
    const { userId } = user;
    const suite = await this.findSuite(userId, input.suite_id);
    const items = itemsOf(suite);
    const { resolved, missing } = await this.deps.providers.resolveModels(userId, [...new Set(input.models)]);
    if (missing.length > 0)
      throw ValidationError.field(
        ["body", "models"],
        `models not found in your config: ${missing.slice(0, 10).join(", ")}`,
        "unknown_model",
      );
    const limits = await this.deps.admin.rateLimitFor(userId);
    const runId = randomUUID();
    const release = await holdRunSlot(this.deps.state, userId, runId, limits.maxConcurrent, () =>
      this.deps.prisma.benchLabelRun.updateMany(heartbeatOf(runId)),
    );
    if (release === null) throw new ConflictError(EVAL_ALREADY_RUNNING);
    let crowd: CrowdSummary;
    try {
      await checkHourlyLimit(this.deps.prisma, userId, limits.benchmarksPerHour);
      const record = await this.deps.labels.crowdRecord(
        suite.datasetId,
        items.map((item) => item.item_id),
      );
      crowd = summarizeCrowd(items, record);
      await this.deps.prisma.benchLabelRun.create({
        data: {
          id: runId,
          userId,
          suiteId: suite.id,
          suiteName: suite.name,
          datasetId: suite.datasetId,
          models: input.models,
          temperature: input.temperature,
          crowd: crowd as unknown as Prisma.InputJsonObject,
          heartbeatAt: new Date(),
        },
      });
    } catch (error) {
      await release();
      throw error;
    }
    const shape: LabelingShape = {
      modality: suite.modality,
      challengeType: suite.challengeType,
      prompt: suite.prompt,
      choices: suite.choices,
    };
    return this.execute(runId, userId, suite, shape, items, resolved.map(targetOf), crowd, input, release);
  }

  private execute(
    runId: string,
    userId: string,
    suite: SuiteRow,
    shape: LabelingShape,
    items: LabelingItem[],
    targets: BenchTarget[],
    crowd: CrowdSummary,
    input: LabelRunRequest,
    release: () => Promise<void>,
  ): Running {
    const controller = new AbortController();
    const live = new LiveRun<LabelEvent>();
    const emit = (event: LabelEvent) => live.emit(event);
    const run: Running = {
      id: runId,
      userId,
      controller,
      subscribe: (listener) => live.subscribe(listener),
      done: Promise.resolve("running"),
    };
    this.running.add(run);
    const secrets = targets.map((t) => t.connection.apiKey);
    const total = targets.length * items.length;
    run.done = (async (): Promise<EvalStatus> => {
      const results: LabelResult[] = [];
      let status: EvalStatus = "failed";
      try {
        emit({
          type: "label_start",
          run_id: runId,
          suite_name: suite.name,
          dataset_id: suite.datasetId,
          items: items.length,
          models: input.models,
          total,
        });
        emit({ type: "crowd_summary", ...crowd });
        // Providers in parallel; per provider, models in sequence; per model, `concurrency` items in flight.
        const groups = new Map<string, BenchTarget[]>();
        for (const target of targets)
          groups.set(target.providerKey, [...(groups.get(target.providerKey) ?? []), target]);
        const outcomes = await Promise.allSettled(
          [...groups.values()].map(async (group) => {
            for (const target of group) {
              let next = 0;
              const worker = async () => {
                while (next < items.length && !controller.signal.aborted) {
                  const item = items[next++]!;
                  const result = await this.labelOne(target, shape, item, input, controller.signal);
                  if (controller.signal.aborted) return;
                  results.push(result);
                  emit({
                    type: "progress",
                    current: results.length,
                    total,
                    model: target.modelName,
                    model_id: target.modelId,
                    provider: target.providerName,
                    item_id: item.item_id,
                  });
                  emit(result);
                }
              };
              await Promise.all(Array.from({ length: Math.min(input.concurrency, items.length) }, worker));
            }
          }),
        );
        const failure = outcomes.find(
          (o): o is PromiseRejectedResult =>
            o.status === "rejected" && !(o.reason instanceof CallCancelledError),
        );
        if (controller.signal.aborted) {
          status = this.running.stopping ? "failed" : "cancelled";
          await this.finish(
            runId,
            status,
            results,
            [],
            status === "failed" ? "interrupted: the server shut down" : null,
          );
          emit(
            status === "cancelled"
              ? { type: "cancelled" }
              : { type: "error", message: "Run interrupted: the server shut down" },
          );
        } else if (failure) {
          throw failure.reason;
        } else {
          const summaries: LabelModelSummary[] = targets.map((target) => ({
            model_id: target.modelId,
            model_name: target.modelName,
            provider: target.providerName,
            provider_key: target.providerKey,
            ...summarizeLabels(
              results.filter((r) => r.model_id === target.modelId && r.provider_key === target.providerKey),
            ),
          }));
          status = "completed";
          await this.finish(runId, status, results, summaries, null);
          for (const summary of summaries) emit({ type: "model_summary", ...summary });
          emit({ type: "complete", run_id: runId });
        }
      } catch (error) {
        status = "failed";
        const message = scrubSecrets(error instanceof Error ? error.message : String(error), secrets).slice(
          0,
          300,
        );
        this.deps.log.error({ runId, err: message }, "labeling run failed");
        await this.finish(runId, "failed", results, [], message).catch(() => {});
        emit({ type: "error", message: `Run failed: ${message}` });
      } finally {
        this.running.delete(runId);
        live.close();
        await release();
      }
      return status;
    })();
    return run;
  }

  private async labelOne(
    target: BenchTarget,
    shape: LabelingShape,
    item: LabelingItem,
    input: LabelRunRequest,
    signal: AbortSignal,
  ): Promise<LabelResult> {
    const base = {
      type: "label_result" as const,
      model_id: target.modelId,
      model_name: target.modelName,
      provider: target.providerName,
      provider_key: target.providerKey,
      item_id: item.item_id,
      expected: item.label,
      confidence: item.confidence,
    };
    const question = labelingQuestion(shape, item);
    if (question.image !== undefined && !isImageUrl(question.image))
      return {
        ...base,
        answer: null,
        raw_answer: "",
        correct: false,
        success: false,
        error: "data_ref is not an http(s) or data: image URL: it cannot be sent to the model",
        latency_ms: 0,
        input_tokens: 0,
        output_tokens: 0,
        cost: 0,
      };
    const call = await measureCall(
      target,
      {
        system: question.system,
        prompt: question.prompt,
        image: question.image,
        maxTokens: input.max_tokens,
        temperature: input.temperature,
        params: target.params ?? null,
      },
      signal,
      this.deps.measure,
    );
    const answer = call.success ? parseModelLabel(call.text, shape) : null;
    return {
      ...base,
      answer,
      raw_answer: call.text.slice(0, 200),
      correct: answer !== null && answer === item.label,
      success: call.success,
      error: call.error,
      latency_ms: Math.round(call.totalTimeS * 1000 * 10) / 10,
      input_tokens: call.inputTokens,
      output_tokens: call.outputTokens,
      cost: call.cost,
    };
  }

  private async finish(
    runId: string,
    status: EvalStatus,
    results: LabelResult[],
    summaries: LabelModelSummary[],
    error: string | null,
  ) {
    await this.deps.prisma.benchLabelRun.updateMany({
      where: { id: runId },
      data: {
        status,
        finishedAt: new Date(),
        error,
        results: results as unknown as Prisma.InputJsonArray,
        summary: summaries as unknown as Prisma.InputJsonArray,
      },
    });
  }

  /** Runs left "running" by an instance that died become `failed` (called by the schedules' tick). */
  async failStale(staleMs = STALE_RUN_MS): Promise<number> {
    const { count } = await this.deps.prisma.benchLabelRun.updateMany({
      where: staleRunsWhere(this.running.ids(), staleMs),
      data: staleRunData(),
    });
    return count;
  }

  // ── history ─────────────────────────────────────────────────────────────────────────────────────────

  async history(userId: string) {
    const rows = await this.deps.prisma.benchLabelRun.findMany({
      where: { userId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 100,
      omit: { results: true },
    });
    return { runs: rows.map(runListed) };
  }

  async get(userId: string, runId: string) {
    const row = UUID.test(runId)
      ? await this.deps.prisma.benchLabelRun.findFirst({ where: { id: runId, userId } })
      : null;
    if (!row) throw new NotFoundError(LABEL_RUN_NOT_FOUND);
    return {
      ...runListed(row),
      error: row.error,
      results: (Array.isArray(row.results) ? row.results : []) as Record<string, unknown>[],
    };
  }

  async delete(userId: string, runId: string) {
    const deleted = UUID.test(runId)
      ? await this.deps.prisma.benchLabelRun.deleteMany({
          where: { id: runId, userId, status: { not: "running" } },
        })
      : { count: 0 };
    if (deleted.count === 0) {
      if (UUID.test(runId) && this.running.has(runId))
        throw new ConflictError("Run is still running: cancel it first");
      throw new NotFoundError(LABEL_RUN_NOT_FOUND);
    }
    return { status: "ok" as const };
  }
}

function suiteOut(row: Omit<SuiteRow, "items">) {
  return {
    id: row.id,
    type: "labeling" as const,
    name: row.name,
    dataset_id: row.datasetId,
    dataset_name: row.datasetName,
    modality: row.modality,
    challenge_type: row.challengeType,
    prompt: row.prompt,
    choices: row.choices,
    item_count: row.itemCount,
    created_at: row.createdAt.toISOString(),
  };
}

const itemsOf = (row: SuiteRow) => (Array.isArray(row.items) ? row.items : []) as unknown as LabelingItem[];

function runListed(row: Omit<RunRow, "results">) {
  return {
    id: row.id,
    suite_id: row.suiteId,
    suite_name: row.suiteName,
    dataset_id: row.datasetId,
    models: row.models,
    temperature: row.temperature,
    summary: (Array.isArray(row.summary) ? row.summary : []) as unknown as LabelModelSummary[],
    crowd: (row.crowd ?? null) as unknown as CrowdSummary | null,
    status: row.status as EvalStatus,
    timestamp: upstreamTimestamp(row.createdAt),
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}
