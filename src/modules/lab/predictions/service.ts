// Predictions of a run: the synchronous preview (nothing stored), persisted predictions made by a PredictJob
// (predictions/job.ts) on a dataset, a split of the training dataset or rows typed in, their results, and
// which datasets a run can predict. A trained run predicts with its recorded preprocessing + model
// (model.json, in process); an uploaded ONNX run with onnxruntime-node (engine/onnx).
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError } from "../../../platform/errors.js";
import { neutralizeCsvCell } from "../../../platform/csv.js";
import type { LabDatasetService } from "../datasets/service.js";
import {
  type ColumnType,
  EngineError,
  predict,
  type Predictions,
  type SplitName,
  splitsOf,
  type Table,
  type TableColumn,
  type Task,
} from "../engine/index.js";
import { OnnxModelRejected, OnnxPredictor } from "../engine/onnx/index.js";
import { unprocessable } from "../errors.js";
import type { LabJobService } from "../jobs/service.js";
import type { ModelSessionOut } from "../model-sessions/model-sessions.schema.js";
import type { LabModelSessionService } from "../model-sessions/service.js";
import { RUN_STATUS } from "../runs/runs.schema.js";
import type { LabRunService, RunRow } from "../runs/service.js";
import { type LabPredictionOut, PREDICTION_STATUS, type PredictionTable } from "./predictions.schema.js";

/** At most this many rows typed in (preview and manual PredictJobs); bigger inputs belong in a dataset. */
export const MAX_MANUAL_ROWS = 10_000;
/** Rows predicted per batch in a PredictJob (progress and cancel between batches). */
const BATCH_ROWS = 5_000;

const BUSY = new Set<number>([PREDICTION_STATUS.DELIVERED, PREDICTION_STATUS.STARTED]);

export interface PredictionRow {
  id: number;
  runId: number;
  datasetId: number | null;
  split: string | null;
  manualInput: unknown;
  status: number;
  jobId: string | null;
  error: string | null;
  rows: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export function predictionOut(row: PredictionRow): LabPredictionOut {
  return {
    id: row.id,
    run_id: row.runId,
    dataset_id: row.datasetId,
    split: (row.split as SplitName | null) ?? null,
    manual_input: row.manualInput !== null && row.manualInput !== undefined,
    status: row.status,
    job_id: row.jobId,
    error: row.error,
    rows: row.rows,
    results_path: row.status === PREDICTION_STATUS.FINISHED ? `/api/v1/predict/download/${row.id}` : null,
    created: row.createdAt.toISOString(),
    last_modified: row.updatedAt.toISOString(),
  };
}

/** How a column's values compare across datasets: integer and float are both numbers. */
type Kind = "number" | "boolean" | "datetime" | "string";
const kindOf = (type: ColumnType): Kind =>
  type === "integer" || type === "float"
    ? "number"
    : type === "categorical" || type === "text"
      ? "string"
      : type;

/** A run ready to predict: its session's columns and a predict function over a Table of the input columns. */
export interface ServedRun {
  run: RunRow;
  session: ModelSessionOut;
  task: Task;
  target: string;
  /** The training dataset's type of each input column (what typed-in values are read as). */
  inputTypes: Map<string, ColumnType>;
  classes: string[] | undefined;
  predict(table: Table): Promise<Predictions>;
  release(): Promise<void>;
}

export class LabPredictionService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly runs: LabRunService,
    private readonly sessions: LabModelSessionService,
    private readonly datasets: LabDatasetService,
    private readonly jobs: LabJobService,
  ) {}

  // --- serving ------------------------------------------------------------------------------------------

  /** Loads a FINISHED run's model (422 when the run is not trained). The caller releases it. */
  async serve(runId: number): Promise<ServedRun> {
    const run = await this.runs.row(runId);
    if (run.status !== RUN_STATUS.FINISHED)
      throw unprocessable(
        `Run ${runId} is not trained (status ${["NOT_STARTED", "DELIVERED", "STARTED", "FINISHED", "ERROR"][run.status] ?? run.status}): train it first`,
      );
    const session = await this.sessions.get(run.sessionId);
    const trainingColumns = await this.datasets.columns(session.dataset_id);
    const inputTypes = new Map<string, ColumnType>();
    for (const name of session.input_columns) {
      const column = trainingColumns.find((c) => c.name === name);
      inputTypes.set(name, column?.type ?? "float");
    }
    const task = session.task_name as Task;
    const target = session.output_columns[0]!;
    if (run.source === "onnx") {
      const bytes = await this.runs.store.onnx(runId);
      if (!bytes) throw unprocessable(`Run ${runId} has no ONNX model file`);
      const classes = uploadedClasses(run.parameters);
      let predictor: OnnxPredictor;
      try {
        predictor = await OnnxPredictor.load(bytes, session.input_columns, {
          inputColumns: session.input_columns,
          classes,
        });
      } catch (error) {
        if (error instanceof OnnxModelRejected) throw unprocessable(`Run ${runId}: ${error.message}`);
        throw error;
      }
      return {
        run,
        session,
        task,
        target,
        inputTypes,
        classes: predictor.classes,
        predict: async (table) => {
          try {
            return await predictor.predict(table);
          } catch (error) {
            if (error instanceof OnnxModelRejected) throw unprocessable(error.message);
            throw error;
          }
        },
        release: () => predictor.release(),
      };
    }
    const trained = await this.runs.store.model(runId);
    if (!trained) throw unprocessable(`Run ${runId} has no trained model file: train it again`);
    // A numeric preprocessing step needs numbers even if the training dataset's column changed type since.
    for (const step of trained.preprocessing.steps)
      if (step.kind === "numeric" && kindOf(inputTypes.get(step.column) ?? "float") === "string")
        inputTypes.set(step.column, "float");
    return {
      run,
      session,
      task,
      target,
      inputTypes,
      classes: trained.classes,
      predict: async (table) => {
        try {
          return predict(trained, table);
        } catch (error) {
          if (error instanceof EngineError) throw unprocessable(error.message);
          throw error;
        }
      },
      release: async () => {},
    };
  }

  /** The prediction table: input columns, the predicted output, and the class probabilities. */
  static resultTable(served: ServedRun, table: Table, predictions: Predictions): PredictionTable {
    const classes = served.classes ?? [];
    const probabilityColumns =
      served.task === "TabularClassificationTask" && predictions.probabilities
        ? classes.map((c) => `probability(${c})`)
        : [];
    const columns = [...served.session.input_columns, served.target, ...probabilityColumns];
    const byName = new Map(table.columns.map((c) => [c.name, c]));
    const inputs = served.session.input_columns.map((name) => byName.get(name)!);
    const rows = Array.from({ length: table.rowCount }, (_, i) => {
      const row: PredictionTable["rows"][number] = inputs.map((column) => cellOf(column, i));
      if (served.task === "RegressionTask") row.push(predictions.values ? predictions.values[i]! : null);
      else row.push(predictions.labels?.[i] ?? null);
      if (probabilityColumns.length > 0)
        for (let c = 0; c < probabilityColumns.length; c++)
          row.push(predictions.probabilities![i]?.[c] ?? null);
      return row;
    });
    return { columns, rows };
  }

  /** `POST /api/v1/predict/preview`: predicts rows typed in, stores nothing. */
  async preview(runId: number, manualInput: unknown): Promise<PredictionTable> {
    const served = await this.serve(runId);
    try {
      const table = manualTable(served, manualInput);
      return LabPredictionService.resultTable(served, table, await served.predict(table));
    } finally {
      await served.release();
    }
  }

  // --- datasets a run can predict ------------------------------------------------------------------------

  /** Why `datasetId` cannot be predicted by the session's runs (null when it can). */
  async incompatibility(session: ModelSessionOut, datasetId: number): Promise<string | null> {
    const training = await this.datasets.columns(session.dataset_id);
    let columns;
    try {
      columns = await this.datasets.columns(datasetId);
    } catch (error) {
      if (error instanceof NotFoundError) throw error;
      return `Dataset ${datasetId} is not in finished state`;
    }
    for (const name of session.input_columns) {
      const want = training.find((c) => c.name === name);
      const have = columns.find((c) => c.name === name);
      if (!have) return `Dataset ${datasetId} has no column "${name}" (an input column of the run)`;
      if (want && kindOf(want.type) !== kindOf(have.type))
        return `Column "${name}" of dataset ${datasetId} is ${have.type}; the run was trained on ${want.type}`;
    }
    return null;
  }

  /** `GET /api/v1/predict/filter_datasets`: the FINISHED datasets holding the run's input columns, typed alike. */
  async filterDatasets(query: {
    run_id?: number;
    model_session_id?: number;
    train_dataset_id?: number;
  }): Promise<{ valid_dataset_ids: number[] }> {
    let session: ModelSessionOut | null = null;
    if (query.run_id !== undefined)
      session = await this.sessions.get((await this.runs.row(query.run_id)).sessionId);
    else if (query.model_session_id !== undefined) session = await this.sessions.get(query.model_session_id);
    const all = await this.datasets.list();
    const finished = all.filter((d) => d.status === 3);
    if (!session) {
      if (query.train_dataset_id === undefined)
        throw unprocessable("Give run_id (or model_session_id, or train_dataset_id)");
      const training = await this.datasets.columns(query.train_dataset_id);
      const valid: number[] = [];
      for (const dataset of finished) {
        const columns = await this.datasets.columns(dataset.id).catch(() => null);
        if (
          columns &&
          training.every((want) =>
            columns.some((c) => c.name === want.name && kindOf(c.type) === kindOf(want.type)),
          )
        )
          valid.push(dataset.id);
      }
      return { valid_dataset_ids: valid };
    }
    const valid: number[] = [];
    for (const dataset of finished)
      if ((await this.incompatibility(session, dataset.id).catch(() => "gone")) === null)
        valid.push(dataset.id);
    return { valid_dataset_ids: valid };
  }

  /** `GET /api/v1/predict/splits/{run_id}`: the training dataset's splits a prediction can read. */
  async splits(runId: number) {
    const run = await this.runs.row(runId);
    const session = await this.sessions.get(run.sessionId);
    const sizes = session.split_sizes ?? { train: 0, validation: 0, test: 0 };
    return {
      splits: (["train", "validation", "test"] as const).map((name) => ({ name, rows: sizes[name] })),
      training_dataset_id: session.dataset_id,
    };
  }

  // --- persisted predictions -----------------------------------------------------------------------------

  async row(id: number): Promise<PredictionRow> {
    const row = await this.prisma.labPrediction.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`Prediction ${id} not found`);
    return this.reconcile(row);
  }

  /** A prediction whose job ended without reaching it (cancelled while queued, lost worker) reads as ERROR. */
  private async reconcile(row: PredictionRow): Promise<PredictionRow> {
    if (!BUSY.has(row.status) || !row.jobId) return row;
    const state = await this.jobs.state(row.jobId);
    if (state !== "failed" && state !== "cancelled" && state !== null) return row;
    const error =
      state === "cancelled" ? "the prediction was cancelled" : "the prediction job ended without finishing";
    const updated = await this.prisma.labPrediction.updateMany({
      where: { id: row.id, status: row.status, jobId: row.jobId },
      data: { status: PREDICTION_STATUS.ERROR, error },
    });
    if (updated.count > 0) return { ...row, status: PREDICTION_STATUS.ERROR, error };
    return (await this.prisma.labPrediction.findUnique({ where: { id: row.id } })) ?? row;
  }

  async get(id: number): Promise<LabPredictionOut> {
    return predictionOut(await this.row(id));
  }

  async list(query: { run_id?: number; prediction_id?: number }): Promise<LabPredictionOut[]> {
    if (query.run_id !== undefined) await this.runs.row(query.run_id);
    const rows = await this.prisma.labPrediction.findMany({
      where: {
        ...(query.run_id !== undefined ? { runId: query.run_id } : {}),
        ...(query.prediction_id !== undefined ? { id: query.prediction_id } : {}),
      },
      orderBy: { id: "desc" },
    });
    return Promise.all(rows.map(async (row) => predictionOut(await this.reconcile(row))));
  }

  /** `POST /api/v1/predict/`: a prediction (status 0) of a trained run on a compatible dataset or a split. */
  async create(input: {
    run_id: number;
    dataset_id?: number | null;
    split?: SplitName | null;
  }): Promise<LabPredictionOut> {
    const run = await this.runs.row(input.run_id);
    if (run.status !== RUN_STATUS.FINISHED)
      throw unprocessable(`Run ${input.run_id} is not trained: train it first`);
    const session = await this.sessions.get(run.sessionId);
    if (input.dataset_id && input.split) throw unprocessable("Give dataset_id or split, not both");
    if (input.split && run.source === "onnx")
      throw unprocessable(
        "An uploaded ONNX run has no training splits: predict a dataset (or its session's dataset with dataset_id)",
      );
    if (input.dataset_id) {
      await this.datasets.get(input.dataset_id); // 404 first
      const problem = await this.incompatibility(session, input.dataset_id);
      if (problem) throw unprocessable(problem);
    }
    const row = await this.prisma.labPrediction.create({
      data: {
        runId: run.id,
        datasetId: input.dataset_id ?? null,
        split: input.split ?? null,
      },
    });
    return predictionOut(row);
  }

  /** Deletes the prediction and its results (a job still running is cancelled). */
  async delete(id: number): Promise<void> {
    const row = await this.row(id);
    if (BUSY.has(row.status) && row.jobId) await this.jobs.cancel(row.jobId).catch(() => {});
    await this.prisma.labPrediction.deleteMany({ where: { id } });
    await this.runs.store.removePrediction(id);
  }

  /** The stored results of a FINISHED prediction (422 before). */
  async results(id: number): Promise<PredictionTable> {
    const row = await this.row(id);
    if (row.status !== PREDICTION_STATUS.FINISHED)
      throw unprocessable(`Prediction ${id} has not finished (status ${row.status})`);
    const table = (await this.runs.store.prediction(id)) as PredictionTable | null;
    if (!table) throw unprocessable(`Prediction ${id} has no stored results`);
    return table;
  }

  async resultsPage(id: number, offset: number, limit: number) {
    const table = await this.results(id);
    return {
      columns: table.columns,
      rows: table.rows.slice(offset, offset + limit),
      total: table.rows.length,
    };
  }

  /** The results as CSV lines (formula-looking cells neutralized, as every CSV HiveGuard writes). */
  async *csv(id: number): AsyncGenerator<string> {
    const table = await this.results(id);
    yield `${table.columns.map(csvCell).join(",")}\n`;
    let chunk = "";
    for (const row of table.rows) {
      chunk += `${row.map(csvCell).join(",")}\n`;
      if (chunk.length > 64 * 1024) {
        yield chunk;
        chunk = "";
      }
    }
    if (chunk) yield chunk;
  }

  // --- the PredictJob's work -----------------------------------------------------------------------------

  /**
   * Checks a PredictJob before it is queued (404 unknown, 409 busy, 422 not trained / incompatible / bad
   * rows), then clears the prediction's previous results: done before the job exists, so a job that starts
   * (even finishes) before `markQueued` runs is never overwritten.
   */
  async prepareJob(predictionId: number, manualInput: unknown): Promise<void> {
    const row = await this.row(predictionId);
    if (BUSY.has(row.status))
      throw new ConflictError(`Prediction ${predictionId} is already running (job ${row.jobId})`);
    const served = await this.serve(row.runId);
    try {
      if (manualInput !== undefined && manualInput !== null) manualTable(served, manualInput);
      else if (row.datasetId === null && row.split === null && row.manualInput === null)
        throw unprocessable(
          `Prediction ${predictionId} names no dataset, split or manual_input_data: nothing to predict`,
        );
      else if (row.datasetId !== null) {
        const problem = await this.incompatibility(served.session, row.datasetId);
        if (problem) throw unprocessable(problem);
      }
    } finally {
      await served.release();
    }
    await this.runs.store.removePrediction(predictionId);
    await this.prisma.labPrediction.updateMany({
      where: { id: predictionId },
      data: {
        status: PREDICTION_STATUS.NOT_STARTED,
        jobId: null,
        error: null,
        rows: null,
        ...(manualInput !== undefined && manualInput !== null
          ? {
              manualInput: (typeof manualInput === "string"
                ? JSON.parse(manualInput)
                : manualInput) as object,
            }
          : {}),
      },
    });
  }

  /** DELIVERED with its job, unless the job already took it (its start writes the job id too). */
  async markQueued(predictionId: number, jobId: string): Promise<void> {
    await this.prisma.labPrediction.updateMany({
      where: { id: predictionId, status: PREDICTION_STATUS.NOT_STARTED, jobId: null },
      data: { status: PREDICTION_STATUS.DELIVERED, jobId },
    });
  }

  /** Runs a queued prediction: reads its rows, predicts them in batches, stores the results. */
  async execute(
    predictionId: number,
    options: { jobId: string; signal: AbortSignal; progress: (percent: number, message: string) => void },
  ): Promise<{ rows: number }> {
    const { signal, progress } = options;
    const started = await this.prisma.labPrediction.updateMany({
      where: { id: predictionId },
      data: { status: PREDICTION_STATUS.STARTED, error: null, jobId: options.jobId },
    });
    if (started.count === 0) throw new PredictionGone(predictionId);
    const row = (await this.prisma.labPrediction.findUnique({ where: { id: predictionId } }))!;
    const served = await this.serve(row.runId);
    try {
      progress(0, "Reading the rows");
      const table = await this.inputTable(served, row);
      signal.throwIfAborted();
      const result: PredictionTable = { columns: [], rows: [] };
      for (let start = 0; start < table.rowCount || start === 0; start += BATCH_ROWS) {
        const batch = sliceTable(table, start, Math.min(table.rowCount, start + BATCH_ROWS));
        const part = LabPredictionService.resultTable(served, batch, await served.predict(batch));
        result.columns = part.columns;
        for (const r of part.rows) result.rows.push(r);
        signal.throwIfAborted();
        const done = Math.min(table.rowCount, start + BATCH_ROWS);
        progress((done / Math.max(1, table.rowCount)) * 95, `Predicted ${done} of ${table.rowCount} rows`);
        // Let the heartbeat and cancel checks run between batches.
        await new Promise((resolve) => setImmediate(resolve));
        if (table.rowCount === 0) break;
      }
      progress(97, "Saving the results");
      await this.runs.store.savePrediction(predictionId, result);
      const finished = await this.prisma.labPrediction.updateMany({
        where: { id: predictionId },
        data: { status: PREDICTION_STATUS.FINISHED, error: null, rows: result.rows.length },
      });
      if (finished.count === 0) {
        await this.runs.store.removePrediction(predictionId);
        throw new PredictionGone(predictionId);
      }
      progress(100, "Finished");
      return { rows: result.rows.length };
    } finally {
      await served.release();
    }
  }

  async markFailed(predictionId: number, error: string): Promise<void> {
    await this.prisma.labPrediction
      .updateMany({ where: { id: predictionId }, data: { status: PREDICTION_STATUS.ERROR, error } })
      .catch(() => {});
  }

  private async inputTable(served: ServedRun, row: PredictionRow): Promise<Table> {
    const inputs = served.session.input_columns;
    if (row.manualInput !== null && row.manualInput !== undefined)
      return manualTable(served, row.manualInput);
    if (row.datasetId !== null) {
      const problem = await this.incompatibility(served.session, row.datasetId);
      if (problem) throw unprocessable(problem);
      return this.datasets.table(row.datasetId, inputs);
    }
    const split = row.split as SplitName;
    const session = served.session;
    const ratios = JSON.parse(session.splits) as Record<string, number>;
    const full = await this.datasets.table(session.dataset_id, [...inputs, served.target]);
    let parts;
    try {
      parts = splitsOf(full, {
        task: served.task,
        outputColumn: served.target,
        splits: { train: ratios.train!, validation: ratios.validation!, test: ratios.test! },
        seed: Number(ratios.seed ?? 42),
      });
    } catch (error) {
      if (error instanceof EngineError) throw unprocessable(error.message);
      throw error;
    }
    return pickRows({ rowCount: full.rowCount, columns: full.columns.slice(0, inputs.length) }, parts[split]);
  }
}

/** The prediction (or its run) was deleted while its job ran. */
export class PredictionGone extends Error {
  constructor(id: number) {
    super(`prediction ${id} no longer exists`);
  }
}

/** An uploaded run's class labels (kept in its parameters), when the user gave them. */
function uploadedClasses(parameters: unknown): string[] | undefined {
  const classes = (parameters as { classes?: unknown } | null)?.classes;
  return Array.isArray(classes) ? classes.map(String) : undefined;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = neutralizeCsvCell(String(value));
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A cell as the API shows it: booleans true/false, dates ISO 8601, missing null. */
function cellOf(column: TableColumn, i: number): string | number | boolean | null {
  if (column.values instanceof Float64Array) {
    const v = column.values[i]!;
    if (Number.isNaN(v)) return null;
    if (column.type === "boolean") return v !== 0;
    if (column.type === "datetime") return new Date(v).toISOString();
    return v;
  }
  return column.values[i] ?? null;
}

function sliceTable(table: Table, start: number, end: number): Table {
  return {
    rowCount: end - start,
    columns: table.columns.map((c) =>
      c.values instanceof Float64Array
        ? ({ ...c, values: c.values.subarray(start, end) } as TableColumn)
        : ({ ...c, values: c.values.slice(start, end) } as TableColumn),
    ),
  };
}

function pickRows(table: Table, rows: number[]): Table {
  return {
    rowCount: rows.length,
    columns: table.columns.map((c) =>
      c.values instanceof Float64Array
        ? ({ ...c, values: Float64Array.from(rows, (r) => (c.values as Float64Array)[r]!) } as TableColumn)
        : ({ ...c, values: rows.map((r) => (c.values as (string | null)[])[r] ?? null) } as TableColumn),
    ),
  };
}

const MISSING = new Set(["", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "<NA>", "#N/A"]);

/**
 * DashAI's `manual_input_data` (a non-empty array of row objects keyed by column, or its JSON string) as a
 * Table of the run's input columns, each read as the training dataset's type. 422 naming the problem: an
 * unknown column, an input column no row has, a value that does not fit its column's type.
 */
export function manualTable(
  served: Pick<ServedRun, "session" | "inputTypes" | "target">,
  input: unknown,
): Table {
  let rows = input;
  if (typeof rows === "string") {
    try {
      rows = JSON.parse(rows);
    } catch {
      throw unprocessable("manual_input_data is not valid JSON");
    }
  }
  if (!Array.isArray(rows) || rows.length === 0)
    throw unprocessable("manual_input_data must be a non-empty array of row objects");
  if (rows.length > MAX_MANUAL_ROWS)
    throw unprocessable(
      `manual_input_data has ${rows.length} rows; at most ${MAX_MANUAL_ROWS} (upload a dataset for more)`,
    );
  const inputs = served.session.input_columns;
  const known = new Set([...inputs, served.target]);
  const seen = new Set<string>();
  rows.forEach((row, r) => {
    if (!row || typeof row !== "object" || Array.isArray(row))
      throw unprocessable(`manual_input_data row ${r} is not an object`);
    for (const key of Object.keys(row)) {
      if (!known.has(key))
        throw unprocessable(
          `Unknown column "${key}" in manual_input_data (the run's input columns: ${inputs.join(", ")})`,
        );
      seen.add(key);
    }
  });
  const missing = inputs.filter((c) => !seen.has(c));
  if (missing.length > 0)
    throw unprocessable(
      `manual_input_data has no value for the input column${missing.length > 1 ? "s" : ""} ${missing.map((c) => `"${c}"`).join(", ")}`,
    );
  const objects = rows as Record<string, unknown>[];
  const columns: TableColumn[] = inputs.map((name) => {
    const type = served.inputTypes.get(name) ?? "float";
    const raw = objects.map((o) => o[name]);
    const bad = (r: number, what: string): never => {
      throw unprocessable(`Column "${name}": ${JSON.stringify(raw[r])} in row ${r} is not ${what}`);
    };
    const isMissing = (v: unknown) =>
      v === null || v === undefined || (typeof v === "string" && MISSING.has(v.trim()));
    // Text is kept as sent, "" included: a loaded dataset keeps its text cells verbatim too, so a row
    // predicts the same typed in or read from a dataset.
    if (type === "categorical" || type === "text")
      return {
        name,
        type,
        values: raw.map((v, r) =>
          v === null || v === undefined ? null : typeof v === "object" ? bad(r, "a text value") : String(v),
        ),
      };
    const values = new Float64Array(raw.length);
    raw.forEach((v, r) => {
      if (isMissing(v)) values[r] = Number.NaN;
      else if (type === "boolean") {
        const s = String(v).trim().toLowerCase();
        if (v === true || s === "true" || s === "1") values[r] = 1;
        else if (v === false || s === "false" || s === "0") values[r] = 0;
        else bad(r, "a boolean");
      } else if (type === "datetime") {
        const t = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : Number.NaN;
        if (!Number.isFinite(t)) bad(r, "a date (ISO 8601)");
        values[r] = t;
      } else {
        const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : Number.NaN;
        if (!Number.isFinite(n)) bad(r, "a number");
        values[r] = n;
      }
    });
    return { name, type, values };
  });
  return { rowCount: objects.length, columns };
}
