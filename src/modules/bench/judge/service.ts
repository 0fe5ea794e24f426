// The LLM judge: grades a tool eval's results case by case (inside the eval, live or after it, or on its own over
// a stored eval), writes a cross-case report per model, or compares two models' results case by case. Every
// judge call's prompt and raw answer are stored with what was read from it; an answer that does not parse is
// recorded as unparsed (no score, never a default one). Standalone runs take the user's run slot, count in the
// hourly limit, cancel over the shared channel and run detached from the request, like evals.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { AdminService } from "../admin/service.js";
import {
  CallCancelledError,
  comparePrompt,
  compareSummaryPrompt,
  crossCasePrompt,
  measureCall,
  readCompareSummary,
  readComparison,
  readCrossCase,
  readVerdict,
  scrubSecrets,
  toolDefinitionsText,
  verdictPrompt,
  type BenchTarget,
  type Comparison,
  type CrossCaseReport,
  type FunctionTool,
  type ToolEvalResult,
  type Verdict,
} from "../engine/index.js";
import type { MeasureDeps } from "../engine/measure.js";
import type { ProviderService } from "../providers/service.js";
import { targetOf, upstreamTimestamp, UUID } from "../runs/service.js";
import { heartbeatOf, holdRunSlot, STALE_RUN_MS, staleRunData, staleRunsWhere } from "../shared/run-slot.js";
import type { SettingsService } from "../settings/service.js";
import { LiveRun } from "../shared/live-run.js";
import { RunRegistry } from "../shared/run-registry.js";
import type { SuiteService } from "../tools/suites.service.js";
import type { CompareRequest, EvalJudge, JudgeRequest } from "./judge.schema.js";

export const JUDGE_NOT_FOUND = "Judge report not found";
export const JUDGE_ALREADY_RUNNING = "A benchmark or eval is already running";
/** Judge calls in flight at once while grading live (the eval's own calls go on meanwhile). */
export const LIVE_CONCURRENCY = 4;
const ANSWER_MAX = 20_000;

export type JudgeMode = "post_eval" | "live_inline" | "comparative";
export type JudgeStatus = "running" | "completed" | "cancelled" | "error";
/** parsed: read as asked; unparsed: the answer was not the JSON asked for; failed: the judge call failed. */
export type JudgeCallStatus = "parsed" | "unparsed" | "failed";

export interface VerdictEvent {
  type: "judge_verdict";
  test_case_id: string;
  model_id: string;
  model_name: string;
  /** null unless parsed. */
  quality_score: number | null;
  /** "error" unless parsed (upstream's value for a verdict that could not be had). */
  verdict: Verdict["verdict"] | "error";
  summary: string;
  reasoning: string;
  tool_selection_assessment: Verdict["tool_selection_assessment"];
  param_assessment: Verdict["param_assessment"];
  parsed: boolean;
  judge_status: JudgeCallStatus;
  judge_error: string | null;
}

export interface ModelReport extends Omit<CrossCaseReport, "overall_score"> {
  overall_score: number | null;
  model_id: string;
  model_name: string;
  parsed: boolean;
  judge_status: JudgeCallStatus | "skipped";
  verdicts_parsed: number;
  verdicts_unparsed: number;
  /** Mean quality_score (1-5) of the parsed verdicts; null when none parsed. */
  mean_quality_score: number | null;
}

export interface CompareCaseEvent {
  type: "compare_case";
  test_case_id: string;
  winner: Comparison["winner"] | null;
  confidence: number | null;
  reasoning: string;
  parsed: boolean;
  judge_status: JudgeCallStatus;
  judge_error: string | null;
}

export interface CompareCompleteEvent {
  type: "compare_complete";
  judge_report_id: string;
  model_a: string;
  model_b: string;
  overall_winner: Comparison["winner"];
  score_a: number;
  score_b: number;
  summary: string;
  /** "judge": the judge's summary parsed; "computed": counted from the parsed cases (the summary did not parse). */
  summary_source: "judge" | "computed";
  a_wins: number;
  b_wins: number;
  tie_cases: number;
  unparsed_cases: number;
  case_comparisons: Omit<CompareCaseEvent, "type">[];
}

export type JudgeEvent =
  | {
      type: "judge_start";
      mode: JudgeMode;
      judge_model: string;
      cases_to_review: number;
      judge_report_id: string;
    }
  | VerdictEvent
  | { type: "judge_report"; eval_id: string; report: ModelReport }
  | { type: "judge_complete"; judge_report_id: string }
  | {
      type: "compare_start";
      model_a: string;
      model_b: string;
      cases: number;
      judge_report_id: string;
    }
  | CompareCaseEvent
  | CompareCompleteEvent
  | { type: "heartbeat" }
  | { type: "cancelled" }
  | { type: "error"; message: string };

export const isTerminalJudge = (event: JudgeEvent) =>
  event.type === "judge_complete" ||
  event.type === "compare_complete" ||
  event.type === "cancelled" ||
  event.type === "error";

/** What each judge call keeps for audit, beside the event's fields. */
interface Audit {
  judge_prompt: string;
  judge_answer: string | null;
}

/** A judge model resolved for a user, with the call settings of their phase10 judge settings. */
export interface JudgeSetup {
  target: BenchTarget;
  temperature: number;
  maxTokens: number;
  customInstructions: string | null;
}

export interface JudgeServiceDeps {
  prisma: PrismaClient;
  state: StateStore;
  providers: ProviderService;
  admin: AdminService;
  suites: SuiteService;
  settings: SettingsService;
  log: Logger;
  measure?: MeasureDeps;
  /** The shared hourly limit (evals/service.ts), given to avoid an import cycle. */
  checkHourlyLimit: (userId: string, limit: number) => Promise<void>;
}

interface Running {
  id: string;
  userId: string;
  controller: AbortController;
  subscribe(listener: (event: JudgeEvent) => void): () => void;
  done: Promise<JudgeStatus>;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * One judge report being written: its row, the calls to the judge and what they gave. Used by the standalone
 * judge and compare, and by a tool eval with a judge.
 */
export class JudgeSession {
  readonly verdicts: (VerdictEvent & Audit)[] = [];
  readonly reports: (ModelReport & Partial<Audit>)[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private readonly tools: string;

  constructor(
    private readonly deps: Pick<JudgeServiceDeps, "prisma" | "measure" | "log">,
    readonly reportId: string,
    readonly setup: JudgeSetup,
    tools: readonly FunctionTool[],
    private readonly signal: AbortSignal,
    private readonly emit: (event: JudgeEvent) => void,
  ) {
    this.tools = toolDefinitionsText(tools);
  }

  /** Creates the report's row (status running) and its session. */
  static async open(
    deps: Pick<JudgeServiceDeps, "prisma" | "measure" | "log">,
    row: {
      userId: string;
      mode: JudgeMode;
      evalRunId: string;
      evalRunIdB?: string | null;
      standalone: boolean;
      instance?: string;
    },
    setup: JudgeSetup,
    tools: readonly FunctionTool[],
    signal: AbortSignal,
    emit: (event: JudgeEvent) => void,
  ): Promise<JudgeSession> {
    const id = randomUUID();
    await deps.prisma.benchJudgeReport.create({
      data: {
        id,
        userId: row.userId,
        mode: row.mode,
        evalRunId: row.evalRunId,
        evalRunIdB: row.evalRunIdB ?? null,
        standalone: row.standalone,
        judgeModel: setup.target.modelId,
        judgeModelName: setup.target.modelName,
        customInstructions: setup.customInstructions,
        heartbeatAt: new Date(),
        instance: row.instance ?? null,
      },
    });
    return new JudgeSession(deps, id, setup, tools, signal, emit);
  }

  /** One call to the judge: its text, or the call's error. Rejects with CallCancelledError on cancel. */
  private async ask(prompt: string): Promise<{ answer: string | null; error: string | null }> {
    const call = await measureCall(
      this.setup.target,
      { prompt, maxTokens: this.setup.maxTokens, temperature: this.setup.temperature },
      this.signal,
      this.deps.measure,
    );
    return call.success
      ? { answer: call.text.slice(0, ANSWER_MAX), error: null }
      : { answer: null, error: call.error ?? "judge call failed" };
  }

  /** Grades one result and emits its verdict. */
  async grade(result: ToolEvalResult): Promise<VerdictEvent> {
    const prompt = verdictPrompt(this.tools, result, this.setup.customInstructions);
    const { answer, error } = await this.ask(prompt);
    const read = answer === null ? null : readVerdict(answer);
    const status: JudgeCallStatus = read ? "parsed" : answer === null ? "failed" : "unparsed";
    const event: VerdictEvent = {
      type: "judge_verdict",
      test_case_id: result.test_case_id,
      model_id: result.model_id,
      model_name: result.model_name,
      quality_score: read?.quality_score ?? null,
      verdict: read?.verdict ?? "error",
      summary:
        read?.summary ??
        (status === "failed" ? "The judge call failed" : "The judge's answer could not be parsed"),
      reasoning: read?.reasoning ?? "",
      tool_selection_assessment: read?.tool_selection_assessment ?? "unknown",
      param_assessment: read?.param_assessment ?? "unknown",
      parsed: read !== null,
      judge_status: status,
      judge_error: error,
    };
    this.verdicts.push({ ...event, judge_prompt: prompt, judge_answer: answer });
    this.emit(event);
    return event;
  }

  /** Live inline: grades the result as soon as a place is free (at most LIVE_CONCURRENCY at once). */
  gradeLive(result: ToolEvalResult): void {
    const task = (async () => {
      if (this.active >= LIVE_CONCURRENCY) await new Promise<void>((resolve) => this.waiting.push(resolve));
      this.active++;
      try {
        if (!this.signal.aborted) await this.grade(result);
      } catch (error) {
        if (!(error instanceof CallCancelledError))
          this.deps.log.warn({ err: String(error), reportId: this.reportId }, "judge verdict failed");
      } finally {
        this.active--;
        this.waiting.shift()?.();
      }
    })();
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Settles when every live verdict asked for is in. */
  async drained(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** The cross-case report of one model from its parsed verdicts; emitted as `judge_report`. */
  async crossCase(evalId: string, model: { id: string; name: string }): Promise<ModelReport> {
    const mine = this.verdicts.filter((v) => v.model_id === model.id);
    const parsed = mine.filter((v) => v.parsed) as (VerdictEvent & { quality_score: number })[];
    const base = {
      model_id: model.id,
      model_name: model.name,
      verdicts_parsed: parsed.length,
      verdicts_unparsed: mine.length - parsed.length,
      mean_quality_score:
        parsed.length > 0 ? round(parsed.reduce((s, v) => s + v.quality_score, 0) / parsed.length, 2) : null,
    };
    let report: ModelReport & Partial<Audit>;
    if (parsed.length === 0) {
      report = { ...emptyReport(), ...base, parsed: false, judge_status: "skipped" };
    } else {
      const prompt = crossCasePrompt(
        model.name,
        parsed.map((v) => ({ ...v, verdict: v.verdict as Verdict["verdict"] })),
        this.setup.customInstructions,
      );
      const { answer } = await this.ask(prompt);
      const read = answer === null ? null : readCrossCase(answer);
      report = {
        ...(read ?? emptyReport()),
        ...base,
        parsed: read !== null,
        judge_status: read ? "parsed" : answer === null ? "failed" : "unparsed",
        judge_prompt: prompt,
        judge_answer: answer,
      };
    }
    this.reports.push(report);
    this.emit({ type: "judge_report", eval_id: evalId, report: withoutAudit(report) });
    return report;
  }

  /** Stores what the session has (any status) with the best parsed model report as the overall grade. */
  async store(status: JudgeStatus, error: string | null = null): Promise<void> {
    const best = this.reports
      .filter((r) => r.parsed && r.overall_score !== null)
      .sort((a, b) => (b.overall_score ?? 0) - (a.overall_score ?? 0))[0];
    await this.deps.prisma.benchJudgeReport.updateMany({
      where: { id: this.reportId },
      data: {
        status,
        finishedAt: new Date(),
        error,
        verdicts: this.verdicts as unknown as Prisma.InputJsonArray,
        report: this.reports as unknown as Prisma.InputJsonArray,
        overallGrade: best?.overall_grade ?? null,
        overallScore: best?.overall_score ?? null,
      },
    });
  }

  /** Comparative: one case, both models' results; emitted as `compare_case`. */
  async compareCase(
    index: { n: number; total: number },
    a: { name: string; result: ToolEvalResult },
    b: { name: string; result: ToolEvalResult },
  ): Promise<CompareCaseEvent & Audit> {
    const prompt = comparePrompt(this.tools, index, a, b, this.setup.customInstructions);
    const { answer, error } = await this.ask(prompt);
    const read = answer === null ? null : readComparison(answer);
    const event: CompareCaseEvent = {
      type: "compare_case",
      test_case_id: a.result.test_case_id,
      winner: read?.winner ?? null,
      confidence: read?.confidence ?? null,
      reasoning: read?.reasoning ?? "",
      parsed: read !== null,
      judge_status: read ? "parsed" : answer === null ? "failed" : "unparsed",
      judge_error: error,
    };
    const record = { ...event, judge_prompt: prompt, judge_answer: answer };
    this.verdicts.push(record as never);
    this.emit(event);
    return record;
  }

  /** Comparative: the summary (the judge's when it parses, else counted from the parsed cases); stored. */
  async compareSummary(
    names: { a: string; b: string },
    cases: (CompareCaseEvent & Audit)[],
  ): Promise<CompareCompleteEvent> {
    const parsed = cases.filter((c) => c.parsed) as (CompareCaseEvent & { winner: Comparison["winner"] })[];
    const aWins = parsed.filter((c) => c.winner === "model_a").length;
    const bWins = parsed.filter((c) => c.winner === "model_b").length;
    const ties = parsed.length - aWins - bWins;
    let prompt: string | null = null;
    let answer: string | null = null;
    let read = null;
    if (parsed.length > 0) {
      prompt = compareSummaryPrompt(
        names,
        parsed.map((c) => ({ ...c, confidence: c.confidence ?? 0 })),
        this.setup.customInstructions,
      );
      answer = (await this.ask(prompt)).answer;
      read = answer === null ? null : readCompareSummary(answer);
    }
    const computedWinner = aWins > bWins ? "model_a" : bWins > aWins ? "model_b" : "tie";
    const summary: CompareCompleteEvent = {
      type: "compare_complete",
      judge_report_id: this.reportId,
      model_a: names.a,
      model_b: names.b,
      overall_winner: read?.overall_winner ?? computedWinner,
      score_a: read?.score_a ?? (parsed.length ? Math.round((aWins / parsed.length) * 100) : 0),
      score_b: read?.score_b ?? (parsed.length ? Math.round((bWins / parsed.length) * 100) : 0),
      summary:
        read?.summary ??
        `${names.a} won ${aWins}, ${names.b} won ${bWins}, ${ties} ties` +
          (cases.length > parsed.length ? `, ${cases.length - parsed.length} unparsed.` : "."),
      summary_source: read ? "judge" : "computed",
      a_wins: aWins,
      b_wins: bWins,
      tie_cases: ties,
      unparsed_cases: cases.length - parsed.length,
      case_comparisons: cases.map(({ type: _type, judge_prompt: _p, judge_answer: _a, ...c }) => c),
    };
    const { type: _type, ...stored } = summary;
    await this.deps.prisma.benchJudgeReport.updateMany({
      where: { id: this.reportId },
      data: {
        status: "completed",
        finishedAt: new Date(),
        verdicts: cases as unknown as Prisma.InputJsonArray,
        report: { ...stored, summary_prompt: prompt, summary_answer: answer } as Prisma.InputJsonObject,
        overallGrade: summary.overall_winner,
        overallScore: Math.max(summary.score_a, summary.score_b),
      },
    });
    return summary;
  }
}

function emptyReport(): CrossCaseReport & { overall_score: number | null } {
  return {
    overall_grade: null,
    overall_score: null as unknown as number,
    strengths: [],
    weaknesses: [],
    cross_case_analysis: "",
    recommendations: [],
  };
}

function withoutAudit<T extends Partial<Audit>>(value: T): Omit<T, keyof Audit> {
  const { judge_prompt: _p, judge_answer: _a, ...rest } = value;
  return rest;
}

type EvalWithResults = Prisma.BenchEvalRunGetPayload<{ include: { results: true } }>;

export class JudgeService {
  private readonly running: RunRegistry<Running>;

  constructor(private readonly deps: JudgeServiceDeps) {
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

  /**
   * The judge model (any configured model) and the user's judge settings; 422 at `loc` when none is given or
   * it is not configured.
   */
  async prepare(
    userId: string,
    input: {
      judge_model?: string | null;
      judge_provider_key?: string | null;
      custom_instructions?: string | null;
    },
    loc: string[],
  ): Promise<JudgeSetup> {
    const settings = (await this.deps.settings.phase10(userId)).judge;
    const modelId = input.judge_model?.trim() || settings.model_id;
    if (!modelId)
      throw ValidationError.field(
        [...loc, "judge_model"],
        "judge_model is required (or set a judge model in your settings)",
        "missing",
      );
    const { resolved } = await this.deps.providers.resolveModels(userId, [modelId]);
    const model = input.judge_provider_key
      ? resolved.find((m) => m.providerKey === input.judge_provider_key)
      : resolved[0];
    if (!model)
      throw ValidationError.field(
        [...loc, "judge_model"],
        `Judge model '${modelId}' not found in your config`,
        "unknown_model",
      );
    return {
      target: targetOf(model),
      temperature: settings.temperature,
      maxTokens: settings.max_tokens,
      customInstructions: input.custom_instructions?.trim() || null,
    };
  }

  private async evalRun(userId: string, id: string, loc: string[]): Promise<EvalWithResults> {
    const row = UUID.test(id)
      ? await this.deps.prisma.benchEvalRun.findFirst({
          where: { id, userId },
          include: { results: { orderBy: { seq: "asc" } } },
        })
      : null;
    if (!row) throw new NotFoundError("Eval run not found");
    if (row.results.length === 0)
      throw ValidationError.field(["body", ...loc], "Eval run has no results", "no_results");
    return row;
  }

  private async toolsOf(userId: string, suiteId: string | null): Promise<FunctionTool[]> {
    if (!suiteId) return [];
    const suite = await this.deps.suites.forEval(userId, suiteId).catch(() => null);
    return (suite?.tools ?? []) as unknown as FunctionTool[];
  }

  /** POST /api/tool-eval/judge: grades a stored eval's results, then a cross-case report per model. */
  async beginPostEval(user: { userId: string }, input: JudgeRequest): Promise<Running> {
    const { userId } = user;
    const evalRun = await this.evalRun(userId, input.eval_run_id, ["eval_run_id"]);
    const setup = await this.prepare(userId, input, ["body"]);
    const tools = await this.toolsOf(userId, evalRun.suiteId);
    const results = evalRun.results.map((r) => r.result as unknown as ToolEvalResult);
    return this.launch(
      userId,
      async (session, emit) => {
        emit({
          type: "judge_start",
          mode: "post_eval",
          judge_model: setup.target.modelName,
          cases_to_review: results.length,
          judge_report_id: session.reportId,
        });
        await gradeAll(session, evalRun.id, results);
        await session.store("completed");
        emit({ type: "judge_complete", judge_report_id: session.reportId });
      },
      { mode: "post_eval", evalRunId: evalRun.id, setup, tools },
    );
  }

  /** POST /api/tool-eval/judge/compare: two models' results side by side, case by case. */
  async beginCompare(user: { userId: string }, input: CompareRequest): Promise<Running> {
    const { userId } = user;
    const runA = await this.evalRun(userId, input.eval_run_id_a, ["eval_run_id_a"]);
    const runB =
      input.eval_run_id_b === input.eval_run_id_a
        ? runA
        : await this.evalRun(userId, input.eval_run_id_b, ["eval_run_id_b"]);
    const resultsOf = (run: EvalWithResults) => run.results.map((r) => r.result as unknown as ToolEvalResult);
    const modelsOf = (run: EvalWithResults) => [...new Set(resultsOf(run).map((r) => r.model_id))];
    const modelA = input.model_a ?? modelsOf(runA)[0]!;
    const modelB =
      input.model_b ?? (runB === runA ? modelsOf(runA).find((m) => m !== modelA) : modelsOf(runB)[0]);
    const pick = (run: EvalWithResults, model: string | undefined, field: string) => {
      const picked = resultsOf(run).filter((r) => r.model_id === model);
      if (!model || picked.length === 0)
        throw ValidationError.field(
          ["body", field],
          model ? `model '${model}' has no results in that run` : "the run has a single model: name model_b",
          "unknown_model",
        );
      return picked;
    };
    const a = pick(runA, modelA, "model_a");
    const b = pick(runB, modelB, "model_b");
    if (runA === runB && modelA === modelB)
      throw ValidationError.field(["body", "model_b"], "compare two different models", "same_model");
    const byCase = new Map(b.map((r) => [r.test_case_id, r]));
    const pairs = a.filter((r) => byCase.has(r.test_case_id)).map((r) => [r, byCase.get(r.test_case_id)!]);
    if (pairs.length === 0)
      throw ValidationError.field(
        ["body", "eval_run_id_b"],
        "No common test cases between the two runs",
        "no_common",
      );
    const setup = await this.prepare(userId, input, ["body"]);
    const tools = await this.toolsOf(userId, runA.suiteId);
    const names = { a: a[0]!.model_name, b: b[0]!.model_name };
    return this.launch(
      userId,
      async (session, emit) => {
        emit({
          type: "compare_start",
          model_a: names.a,
          model_b: names.b,
          cases: pairs.length,
          judge_report_id: session.reportId,
        });
        const cases = [];
        for (const [n, [ra, rb]] of pairs.entries())
          cases.push(
            await session.compareCase(
              { n: n + 1, total: pairs.length },
              { name: names.a, result: ra! },
              { name: names.b, result: rb! },
            ),
          );
        emit(await session.compareSummary(names, cases));
      },
      { mode: "comparative", evalRunId: runA.id, evalRunIdB: runB.id, setup, tools },
    );
  }

  /** Takes the run slot, opens the report and runs `work` detached; cancel and failures stored. */
  private async launch(
    userId: string,
    work: (session: JudgeSession, emit: (event: JudgeEvent) => void) => Promise<void>,
    row: {
      mode: JudgeMode;
      evalRunId: string;
      evalRunIdB?: string;
      setup: JudgeSetup;
      tools: FunctionTool[];
    },
  ): Promise<Running> {
    const limits = await this.deps.admin.rateLimitFor(userId);
    let session: JudgeSession | undefined;
    const release = await holdRunSlot(
      this.deps.state,
      userId,
      randomUUID(),
      limits.maxConcurrent,
      async () => {
        if (session) await this.deps.prisma.benchJudgeReport.updateMany(heartbeatOf(session.reportId));
      },
    );
    if (!release) throw new ConflictError(JUDGE_ALREADY_RUNNING);
    const controller = new AbortController();
    const live = new LiveRun<JudgeEvent>();
    const emit = (event: JudgeEvent) => live.emit(event);
    try {
      await this.deps.checkHourlyLimit(userId, limits.benchmarksPerHour);
      session = await JudgeSession.open(
        this.deps,
        { userId, mode: row.mode, evalRunId: row.evalRunId, evalRunIdB: row.evalRunIdB, standalone: true },
        row.setup,
        row.tools,
        controller.signal,
        emit,
      );
    } catch (error) {
      await release();
      throw error;
    }
    const opened = session;
    const run: Running = {
      id: opened.reportId,
      userId,
      controller,
      subscribe: (listener) => live.subscribe(listener),
      done: Promise.resolve("running"),
    };
    this.running.add(run);
    run.done = (async (): Promise<JudgeStatus> => {
      let status: JudgeStatus = "error";
      try {
        await work(opened, emit);
        status = "completed";
      } catch (error) {
        if (controller.signal.aborted) {
          status = this.running.stopping ? "error" : "cancelled";
          await opened
            .store(status, status === "error" ? "interrupted: the server shut down" : null)
            .catch(() => {});
          emit(
            status === "cancelled"
              ? { type: "cancelled" }
              : { type: "error", message: "Judge interrupted: the server shut down" },
          );
        } else {
          const message = scrubSecrets(error instanceof Error ? error.message : String(error), [
            row.setup.target.connection.apiKey,
          ]).slice(0, 300);
          this.deps.log.error({ reportId: opened.reportId, err: message }, "judge failed");
          await opened.store("error", message).catch(() => {});
          emit({ type: "error", message: `Judge failed: ${message}` });
        }
      } finally {
        this.running.delete(run.id);
        live.close();
        await release();
      }
      return status;
    })();
    return run;
  }

  /** Reports left "running" by an instance that died become `error` (called by the schedules' tick). */
  async failStale(staleMs = STALE_RUN_MS): Promise<number> {
    const { count } = await this.deps.prisma.benchJudgeReport.updateMany({
      where: staleRunsWhere(this.running.ids(), staleMs),
      data: staleRunData("error"),
    });
    return count;
  }

  async list(userId: string) {
    const rows = await this.deps.prisma.benchJudgeReport.findMany({
      where: { userId },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: 100,
      omit: { verdicts: true, report: true },
    });
    return { reports: rows.map(listed) };
  }

  async get(userId: string, reportId: string) {
    const row = UUID.test(reportId)
      ? await this.deps.prisma.benchJudgeReport.findFirst({ where: { id: reportId, userId } })
      : null;
    if (!row) throw new NotFoundError(JUDGE_NOT_FOUND);
    const verdicts = (Array.isArray(row.verdicts) ? row.verdicts : []) as Record<string, unknown>[];
    return {
      ...listed(row),
      user_id: row.userId,
      error: row.error,
      verdicts,
      report: row.report ?? null,
      verdicts_json: JSON.stringify(verdicts),
      report_json: row.report === null ? null : JSON.stringify(row.report),
    };
  }

  async delete(userId: string, reportId: string) {
    const deleted = UUID.test(reportId)
      ? await this.deps.prisma.benchJudgeReport.deleteMany({
          where: { id: reportId, userId, status: { not: "running" } },
        })
      : { count: 0 };
    if (deleted.count === 0) {
      const running =
        UUID.test(reportId) &&
        (await this.deps.prisma.benchJudgeReport.count({ where: { id: reportId, userId } })) > 0;
      if (running) throw new ConflictError("Judge report is still running: cancel it first");
      throw new NotFoundError(JUDGE_NOT_FOUND);
    }
    return { status: "ok" as const };
  }

  /** A tool eval's judge (live_inline or post_eval): checked before the eval starts. */
  async prepareForEval(userId: string, judge: EvalJudge): Promise<{ mode: JudgeMode; setup: JudgeSetup }> {
    const settings = (await this.deps.settings.phase10(userId)).judge;
    const mode = judge.mode ?? (settings.mode === "live_inline" ? "live_inline" : "post_eval");
    return { mode, setup: await this.prepare(userId, judge, ["body", "judge"]) };
  }
}

/** Post-eval grading: per model, every result in order, then the model's cross-case report. */
export async function gradeAll(session: JudgeSession, evalId: string, results: ToolEvalResult[]) {
  const models = new Map<string, string>();
  for (const r of results) if (!models.has(r.model_id)) models.set(r.model_id, r.model_name);
  for (const [id, name] of models) {
    for (const r of results) if (r.model_id === id) await session.grade(r);
    await session.crossCase(evalId, { id, name });
  }
}

type ReportRow = Omit<
  NonNullable<Awaited<ReturnType<PrismaClient["benchJudgeReport"]["findFirst"]>>>,
  "verdicts" | "report"
>;

function listed(row: ReportRow) {
  return {
    id: row.id,
    eval_run_id: row.evalRunId,
    eval_run_id_b: row.evalRunIdB,
    judge_model: row.judgeModel,
    judge_model_name: row.judgeModelName,
    mode: row.mode as JudgeMode,
    custom_instructions: row.customInstructions,
    overall_grade: row.overallGrade,
    overall_score: row.overallScore,
    status: row.status as JudgeStatus,
    timestamp: upstreamTimestamp(row.createdAt),
    finished_at: row.finishedAt?.toISOString() ?? null,
  };
}
