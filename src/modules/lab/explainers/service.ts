// Explainers of a run's model: global (permutation importance, partial dependence) and local (KernelSHAP on
// a dataset's rows). Creating one checks everything a user can fix (422 naming it); the computation is an
// ExplainerJob (explainers/job.ts) whose result and Plotly figures are stored on the row.
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import { DATASET_STATUS } from "../datasets/datasets.schema.js";
import type { LabDatasetService } from "../datasets/service.js";
import type { Task } from "../engine/index.js";
import { findExplainer, splitOfRun } from "../engine/explain/index.js";
import { unprocessable } from "../errors.js";
import type { LabJobService } from "../jobs/service.js";
import type { ModelSessionOut } from "../model-sessions/model-sessions.schema.js";
import type { LabModelSessionService } from "../model-sessions/service.js";
import { RUN_STATUS } from "../runs/runs.schema.js";
import type { LabRunService, RunRow } from "../runs/service.js";
import type { Artifact, ModelSource } from "./compute.js";
import { EXPLAINER_STATUS, type ExplainerScope, type LabExplainerOut } from "./explainers.schema.js";

export interface ExplainerRow {
  id: number;
  runId: number;
  scope: string;
  name: string;
  explainerName: string;
  datasetId: number | null;
  parameters: unknown;
  fitParameters: unknown;
  instances: unknown;
  backend: string;
  status: number;
  jobId: string | null;
  error: string | null;
  explanation: unknown;
  plots: unknown;
  plotOverrides: unknown;
  createdAt: Date;
  updatedAt: Date;
}

const object = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

const BUSY = new Set<number>([EXPLAINER_STATUS.DELIVERED, EXPLAINER_STATUS.STARTED]);

export function explainerOut(row: ExplainerRow): LabExplainerOut {
  const scope = row.scope as ExplainerScope;
  return {
    id: row.id,
    name: row.name,
    run_id: row.runId,
    scope,
    explainer_name: row.explainerName,
    dataset_id: row.datasetId,
    parameters: object(row.parameters),
    fit_parameters: object(row.fitParameters),
    instances: object(row.instances),
    backend: row.backend === "onnx" ? "onnx" : "auto",
    status: row.status,
    job_id: row.jobId,
    error: row.error,
    plot_path: row.status === EXPLAINER_STATUS.FINISHED ? `/api/v1/explainer/${scope}/plot/${row.id}` : null,
    created: row.createdAt.toISOString(),
    created_at: row.createdAt.toISOString(),
    last_modified: row.updatedAt.toISOString(),
  };
}

/** The session's split ratios and seed (the model session stores them as a JSON string). */
export function sessionSplits(session: ModelSessionOut) {
  const splits = JSON.parse(session.splits) as Record<string, number>;
  return {
    ratios: { train: splits.train!, validation: splits.validation!, test: splits.test! },
    seed: Number(splits.seed ?? 42),
  };
}

export const defaultScoring = (task: string, goal: string | null) =>
  goal ?? (task === "RegressionTask" ? "R2" : "Accuracy");

export class LabExplainerService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly runs: LabRunService,
    private readonly sessions: LabModelSessionService,
    private readonly datasets: LabDatasetService,
    private readonly jobs: LabJobService,
  ) {}

  async list(scope: ExplainerScope, runId?: number): Promise<LabExplainerOut[]> {
    if (runId !== undefined) await this.runs.row(runId);
    const rows = await this.prisma.labExplainer.findMany({
      where: { scope, ...(runId !== undefined && { runId }) },
      orderBy: { id: "asc" },
    });
    return Promise.all(rows.map(async (row) => explainerOut(await this.reconcile(row))));
  }

  async row(scope: ExplainerScope, id: number): Promise<ExplainerRow> {
    const row = await this.prisma.labExplainer.findUnique({ where: { id } });
    if (!row || row.scope !== scope) throw new NotFoundError(`Explainer ${id} not found`);
    return this.reconcile(row);
  }

  /** A computation whose job ended without reaching the row (cancelled while queued, lost worker) → ERROR. */
  private async reconcile(row: ExplainerRow): Promise<ExplainerRow> {
    if (!BUSY.has(row.status) || !row.jobId) return row;
    const state = await this.jobs.state(row.jobId);
    if (state !== "failed" && state !== "cancelled" && state !== null) return row;
    const error =
      state === "cancelled" ? "the explanation was cancelled" : "the explanation job ended without finishing";
    const updated = await this.prisma.labExplainer.updateMany({
      where: { id: row.id, status: row.status, jobId: row.jobId },
      data: { status: EXPLAINER_STATUS.ERROR, error },
    });
    if (updated.count > 0) return { ...row, status: EXPLAINER_STATUS.ERROR, error };
    return (await this.prisma.labExplainer.findUnique({ where: { id: row.id } })) ?? row;
  }

  async get(scope: ExplainerScope, id: number) {
    const row = await this.row(scope, id);
    return { ...explainerOut(row), explanation: row.explanation ?? null };
  }

  /** The run, its session, and a 422 when it has no trained model to explain. */
  async explainableRun(runId: number, backend: string): Promise<{ run: RunRow; session: ModelSessionOut }> {
    const run = await this.runs.row(runId);
    if (run.status !== RUN_STATUS.FINISHED)
      throw unprocessable(
        `Run ${runId} has not finished training (status ${run.status}): train it before explaining it`,
      );
    if ((backend === "onnx" || run.source === "onnx") && !run.hasOnnx)
      throw unprocessable(`Run ${runId} has no ONNX model (its model type is served in process only)`);
    return { run, session: await this.sessions.get(run.sessionId) };
  }

  /** The explainer's parameters with defaults filled in (422 naming a bad one). */
  checkParameters(
    scope: ExplainerScope,
    explainerName: string,
    raw: Record<string, unknown>,
    session: ModelSessionOut,
    field: string,
  ): Record<string, unknown> {
    const type = scope === "global" ? "GlobalExplainer" : "LocalExplainer";
    const definition = findExplainer(explainerName, type);
    if (!definition)
      throw ValidationError.field(
        ["body", "explainer_name"],
        `Unknown ${scope} explainer "${explainerName}"${findExplainer(explainerName) ? ` (it is a ${scope === "global" ? "local" : "global"} explainer)` : ""}`,
      );
    const parsed = definition.schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw ValidationError.field(["body", field, ...issue.path.map(String)], issue.message);
    }
    const params = parsed.data as Record<string, unknown>;
    const task = session.task_name as Task;
    if (explainerName === "PermutationFeatureImportance" && params.scoring !== null) {
      const classification = task === "TabularClassificationTask";
      const metric = params.scoring as string;
      const fits = classification
        ? !["MAE", "MSE", "RMSE", "R2"].includes(metric)
        : ["MAE", "MSE", "RMSE", "R2"].includes(metric);
      if (!fits)
        throw ValidationError.field([`body`, field, "scoring"], `"${metric}" is not a metric of ${task}`);
    }
    if (explainerName === "PartialDependence") {
      for (const [i, column] of (params.features as string[]).entries())
        if (!session.input_columns.includes(column))
          throw ValidationError.field(
            ["body", field, "features", i],
            `Unknown column "${column}": the run's input columns are ${session.input_columns.join(", ")}`,
          );
      if ((params.lower_percentile as number) >= (params.upper_percentile as number))
        throw ValidationError.field(
          ["body", field, "upper_percentile"],
          "must be greater than lower_percentile",
        );
    }
    return params;
  }

  async createGlobal(input: {
    run_id: number;
    explainer_name: string;
    parameters: Record<string, unknown>;
    name?: string;
    backend: "auto" | "onnx";
  }): Promise<LabExplainerOut> {
    const { session } = await this.explainableRun(input.run_id, input.backend);
    const parameters = this.checkParameters(
      "global",
      input.explainer_name,
      input.parameters,
      session,
      "parameters",
    );
    const row = await this.prisma.labExplainer.create({
      data: {
        runId: input.run_id,
        scope: "global",
        name: input.name ?? input.explainer_name,
        explainerName: input.explainer_name,
        parameters: parameters as object,
        backend: input.backend,
      },
    });
    return explainerOut(row);
  }

  async createLocal(input: {
    run_id: number;
    dataset_id: number;
    explainer_name: string;
    parameters: Record<string, unknown>;
    fit_parameters: Record<string, unknown>;
    scope: { rows?: number[] };
    name?: string;
    backend: "auto" | "onnx";
  }): Promise<LabExplainerOut> {
    const { session } = await this.explainableRun(input.run_id, input.backend);
    const parameters = this.checkParameters(
      "local",
      input.explainer_name,
      { ...input.fit_parameters, ...input.parameters },
      session,
      "parameters",
    );
    const validation = await this.validateDataset(input.run_id, input.dataset_id, false);
    if (validation.dataset_status === "invalid")
      throw ValidationError.field(
        ["body", "dataset_id"],
        validation.missing_columns
          ? `Dataset ${input.dataset_id} lacks the run's input columns: ${validation.missing_columns.join(", ")}`
          : `Dataset ${input.dataset_id} has other column types than the run's dataset: ${Object.entries(
              validation.type_mismatches ?? {},
            )
              .map(([c, m]) => `${c} (${m.got}, expected ${m.expected})`)
              .join(", ")}`,
      );
    const total = (await this.datasets.get(input.dataset_id)).total_rows ?? 0;
    const rows = input.scope.rows;
    for (const [i, r] of (rows ?? []).entries())
      if (r >= total)
        throw ValidationError.field(
          ["body", "scope", "rows", i],
          `Row ${r} is beyond the dataset's ${total} rows`,
        );
    const row = await this.prisma.labExplainer.create({
      data: {
        runId: input.run_id,
        scope: "local",
        name: input.name ?? input.explainer_name,
        explainerName: input.explainer_name,
        datasetId: input.dataset_id,
        parameters: parameters as object,
        fitParameters: input.fit_parameters as object,
        instances: {
          rows:
            rows ?? Array.from({ length: Math.min(total, parameters.max_instances as number) }, (_, i) => i),
        },
        backend: input.backend,
      },
    });
    return explainerOut(row);
  }

  /**
   * Whether a dataset can be explained by the run's model: it has the input columns, with the types they
   * have in the run's dataset (DashAI's answer: 200 either way). `withOutput` also asks for the output column.
   */
  async validateDataset(runId: number, datasetId: number, withOutput = true) {
    const run = await this.runs.row(runId);
    const session = await this.sessions.get(run.sessionId);
    await this.datasets.get(datasetId); // 404
    const columns = await this.datasets.columns(datasetId); // 422 when not FINISHED
    const required = withOutput
      ? [...session.input_columns, ...session.output_columns]
      : session.input_columns;
    const have = new Map(columns.map((c) => [c.name, c.type]));
    const missing = required.filter((c) => !have.has(c));
    if (missing.length > 0) return { dataset_status: "invalid" as const, missing_columns: missing };
    const training = new Map((await this.datasets.columns(session.dataset_id)).map((c) => [c.name, c.type]));
    const numeric = (t: string | undefined) => t === "integer" || t === "float";
    const mismatches: Record<string, { expected: string; got: string }> = {};
    for (const c of required) {
      const expected = training.get(c);
      const got = have.get(c)!;
      // An integer column where the model read floats (or the reverse) is read the same way.
      if (expected && expected !== got && !(numeric(expected) && numeric(got)))
        mismatches[c] = { expected, got };
    }
    if (Object.keys(mismatches).length > 0)
      return { dataset_status: "invalid" as const, type_mismatches: mismatches };
    return { dataset_status: "valid" as const };
  }

  /** `POST /local/valid-datasets`: the finished datasets `validateDataset` finds valid for the run. */
  async validDatasets(runId: number): Promise<{ valid_dataset_ids: number[] }> {
    await this.runs.row(runId); // 404
    const valid: number[] = [];
    for (const dataset of await this.datasets.list()) {
      if (dataset.status !== DATASET_STATUS.FINISHED) continue;
      const check = await this.validateDataset(runId, dataset.id).catch(() => null);
      if (check?.dataset_status === "valid") valid.push(dataset.id);
    }
    return { valid_dataset_ids: valid };
  }

  /**
   * `GET /explainable-splits/{run_id}`: the splits of the run's dataset a global explainer can read, with
   * their rows, drawn exactly as training and the ExplainerJob draw them (rows without an output value left out).
   */
  async explainableSplits(runId: number) {
    const run = await this.runs.row(runId);
    const session = await this.sessions.get(run.sessionId);
    const target = session.output_columns[0]!;
    const table = await this.datasets.table(session.dataset_id, [target]);
    const { ratios, seed } = sessionSplits(session);
    const splits = (["train", "validation", "test"] as const).map((name) => ({
      name,
      rows: splitOfRun(table, { task: session.task_name as Task, target, ratios, seed }, name).length,
    }));
    return { splits: splits.filter((s) => s.rows > 0) };
  }

  /** `PUT /{scope}/plot/{id}/override`: keeps the user's edit of a plotly artifact (the computed one stays). */
  async saveOverride(scope: ExplainerScope, id: number, index: number, figure: string | object) {
    const artifacts = await this.plot(scope, id);
    if (index >= artifacts.length)
      throw ValidationError.field(
        ["body", "index"],
        `Explainer ${id} has ${artifacts.length} artifacts: index ${index} is out of range`,
      );
    if (artifacts[index]!.type !== "plotly")
      throw ValidationError.field(
        ["body", "index"],
        `Artifact ${index} of explainer ${id} is a ${artifacts[index]!.type}, not a plotly figure`,
      );
    let parsed: unknown = figure;
    if (typeof figure === "string")
      try {
        parsed = JSON.parse(figure);
      } catch {
        throw ValidationError.field(["body", "figure"], "is not JSON: give the Plotly figure {data, layout}");
      }
    if (!parsed || typeof parsed !== "object" || !Array.isArray((parsed as { data?: unknown }).data))
      throw ValidationError.field(["body", "figure"], "must be a Plotly figure with a data array");
    const row = await this.row(scope, id);
    const overrides = { ...object(row.plotOverrides), [String(index)]: JSON.stringify(parsed) };
    await this.prisma.labExplainer.update({ where: { id }, data: { plotOverrides: overrides as object } });
    return { status: "ok" as const };
  }

  /** `DELETE /{scope}/plot/{id}/override/{index}`: the computed figure is back (200 also when none was edited). */
  async removeOverride(scope: ExplainerScope, id: number, index: number) {
    const row = await this.row(scope, id);
    const overrides = { ...object(row.plotOverrides) };
    if (String(index) in overrides) {
      delete overrides[String(index)];
      await this.prisma.labExplainer.update({
        where: { id },
        data: { plotOverrides: Object.keys(overrides).length > 0 ? (overrides as object) : (null as never) },
      });
    }
    return { status: "ok" as const };
  }

  async rename(scope: ExplainerScope, id: number, name: string): Promise<LabExplainerOut> {
    await this.row(scope, id);
    return explainerOut(await this.prisma.labExplainer.update({ where: { id }, data: { name } }));
  }

  async delete(scope: ExplainerScope, id: number): Promise<void> {
    const row = await this.row(scope, id);
    if (BUSY.has(row.status) && row.jobId) await this.jobs.cancel(row.jobId).catch(() => {});
    await this.prisma.labExplainer.deleteMany({ where: { id } });
  }

  /** The figures: an array of DashAI artifacts (`plotly`: the figure as a JSON string), the user's edits in place. */
  async plot(scope: ExplainerScope, id: number) {
    const row = await this.row(scope, id);
    if (row.status !== EXPLAINER_STATUS.FINISHED)
      throw unprocessable(
        row.status === EXPLAINER_STATUS.ERROR
          ? `Explainer ${id} failed: ${row.error ?? "unknown error"}`
          : `Explainer ${id} has not finished (status ${row.status})`,
      );
    const overrides = object(row.plotOverrides);
    return ((row.plots ?? []) as Artifact[]).map((artifact, i) =>
      typeof overrides[String(i)] === "string" && artifact.type === "plotly"
        ? { ...artifact, payload: overrides[String(i)] }
        : artifact,
    );
  }

  /** The model the explainer reads, as data a worker thread can open (compute.ts `openModel`). */
  async modelSource(run: RunRow, session: ModelSessionOut, backend: string): Promise<ModelSource> {
    const trained = run.source === "onnx" ? null : await this.runs.store.model(run.id);
    if (backend !== "onnx" && trained) return { kind: "trained", trained };
    // An uploaded ONNX run keeps the class labels the user gave in its parameters.
    const given = (run.parameters as { classes?: unknown } | null)?.classes;
    const classes = trained?.classes ?? (Array.isArray(given) ? given.map(String) : undefined);
    const bytes = await this.runs.store.onnx(run.id);
    if (!bytes) throw unprocessable(`Run ${run.id} has no trained model to explain (train it again)`);
    return {
      kind: "onnx",
      bytes,
      task: session.task_name as Task,
      inputColumns: session.input_columns,
      target: session.output_columns[0]!,
      classes,
    };
  }

  async count(runId: number): Promise<number> {
    return this.prisma.labExplainer.count({ where: { runId } });
  }

  /** Deletes a run's explainers, cancelling their jobs. */
  async deleteForRun(runId: number): Promise<void> {
    const rows = await this.prisma.labExplainer.findMany({ where: { runId } });
    for (const row of rows)
      if (BUSY.has(row.status) && row.jobId) await this.jobs.cancel(row.jobId).catch(() => {});
    await this.prisma.labExplainer.deleteMany({ where: { runId } });
  }

  /** Marks a row busy with its job (the job's `enqueued`). */
  async delivered(id: number, jobId: string): Promise<void> {
    await this.prisma.labExplainer.updateMany({
      where: { id },
      data: {
        status: EXPLAINER_STATUS.DELIVERED,
        jobId,
        error: null,
        explanation: null as never,
        plots: null as never,
        plotOverrides: null as never,
      },
    });
  }

  busy(row: ExplainerRow): boolean {
    return BUSY.has(row.status);
  }
}
