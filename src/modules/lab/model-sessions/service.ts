// Model sessions: the experiment configuration (dataset, task, input/output columns, split ratios, metrics)
// that runs train under. Create, update and POST /validation check the columns against the task: a column
// that does not fit is a 422 naming it.
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { LabComponentService } from "../components/service.js";
import type { LabDatasetService } from "../datasets/service.js";
import type { RunStore } from "../runs/store.js";
import { NUMERIC_TYPES, type StoredColumn } from "../datasets/store.js";
import { unprocessable } from "../errors.js";
import type { ModelSessionOut } from "./model-sessions.schema.js";

export interface Splits {
  splitter_name: string;
  train: number;
  validation: number;
  test: number;
  seed: number;
  shuffle: boolean;
  [key: string]: unknown;
}

export const DEFAULT_SPLITS: Splits = {
  splitter_name: "TrainValidationTestSplitter",
  train: 0.6,
  validation: 0.2,
  test: 0.2,
  seed: 42,
  shuffle: true,
};

/** Reads DashAI's `splits` (a JSON string or an object) into ratios that sum to 1; 422 naming the problem. */
export function parseSplits(input: string | Record<string, unknown> | undefined): Splits {
  if (input === undefined || input === "") return { ...DEFAULT_SPLITS };
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch {
      throw ValidationError.field(["body", "splits"], "splits is not valid JSON");
    }
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw ValidationError.field(["body", "splits"], "splits must be a JSON object");
  const given = raw as Record<string, unknown>;
  const pick = (...keys: string[]) => keys.map((key) => given[key]).find((value) => value !== undefined);
  const ratio = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined || value === null) return fallback;
    const number = typeof value === "string" ? Number(value) : value;
    if (typeof number !== "number" || !Number.isFinite(number) || number < 0 || number > 1)
      throw ValidationError.field(["body", "splits", name], `${name} must be a ratio between 0 and 1`);
    return number;
  };
  const test = ratio("test", pick("test", "test_size"), DEFAULT_SPLITS.test);
  const validation = ratio(
    "validation",
    pick("validation", "validation_size", "val_size"),
    DEFAULT_SPLITS.validation,
  );
  const train = ratio("train", pick("train", "train_size"), 1 - test - validation);
  if (!(train > 0))
    throw ValidationError.field(["body", "splits", "train"], "the train ratio must be above 0");
  if (Math.abs(train + validation + test - 1) > 1e-6)
    throw ValidationError.field(
      ["body", "splits"],
      `the train, validation and test ratios must sum to 1 (they sum to ${+(train + validation + test).toFixed(6)})`,
    );
  const seedValue = pick("seed", "random_state");
  const seed = seedValue === undefined || seedValue === null ? DEFAULT_SPLITS.seed : Number(seedValue);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw ValidationError.field(["body", "splits", "seed"], "seed must be a non-negative integer");
  const known = new Set([
    "train",
    "train_size",
    "validation",
    "validation_size",
    "val_size",
    "test",
    "test_size",
  ]);
  const rest = Object.fromEntries(Object.entries(given).filter(([key]) => !known.has(key)));
  return {
    ...rest,
    splitter_name:
      typeof given.splitter_name === "string" ? given.splitter_name : DEFAULT_SPLITS.splitter_name,
    train,
    validation,
    test,
    seed,
    shuffle: given.shuffle === undefined ? true : given.shuffle !== false && given.shuffle !== "false",
  };
}

/** Rows per split for `n` rows (the engine's rounding, before stratification). */
export function splitSizes(n: number, splits: Splits) {
  const test = Math.round(n * splits.test);
  const validation = Math.round(n * splits.validation);
  return { train: Math.max(0, n - test - validation), validation, test };
}

interface SessionRow {
  id: number;
  name: string;
  datasetId: number;
  taskName: string;
  inputColumns: unknown;
  outputColumns: unknown;
  trainMetrics: unknown;
  validationMetrics: unknown;
  testMetrics: unknown;
  evaluationStrategy: string | null;
  splits: unknown;
  converters: unknown;
  createdAt: Date;
  updatedAt: Date;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === "P2002";

const CLASSIFICATION_TARGETS = new Set(["categorical", "boolean", "integer"]);
const REGRESSION_TARGETS = new Set(["integer", "float"]);

export interface SessionInput {
  dataset_id: number;
  task_name: string;
  name: string;
  input_columns: string[];
  output_columns: string[];
  train_metrics?: string[];
  validation_metrics?: string[];
  test_metrics?: string[];
  evaluation_strategy?: string | null;
  splits?: string | Record<string, unknown>;
  converters?: unknown[];
}

export class LabModelSessionService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly datasets: LabDatasetService,
    private readonly components: LabComponentService,
    private readonly runFiles: RunStore,
  ) {}

  private async out(row: SessionRow, rowCount?: number | null): Promise<ModelSessionOut> {
    const splits = { ...DEFAULT_SPLITS, ...(row.splits as Record<string, unknown>) } as Splits;
    const n =
      rowCount !== undefined
        ? rowCount
        : ((
            await this.prisma.labDataset.findUnique({
              where: { id: row.datasetId },
              select: { totalRows: true },
            })
          )?.totalRows ?? null);
    return {
      id: row.id,
      name: row.name,
      dataset_id: row.datasetId,
      task_name: row.taskName,
      input_columns: strings(row.inputColumns),
      output_columns: strings(row.outputColumns),
      train_metrics: strings(row.trainMetrics),
      validation_metrics: strings(row.validationMetrics),
      test_metrics: strings(row.testMetrics),
      evaluation_strategy: row.evaluationStrategy,
      splits: JSON.stringify(splits),
      split_sizes: n === null ? null : splitSizes(n, splits),
      converters: Array.isArray(row.converters) ? row.converters : [],
      created: row.createdAt.toISOString(),
      last_modified: row.updatedAt.toISOString(),
    };
  }

  async list(): Promise<ModelSessionOut[]> {
    const rows = await this.prisma.labModelSession.findMany({
      orderBy: { id: "asc" },
      include: { dataset: { select: { totalRows: true } } },
    });
    return Promise.all(rows.map((row) => this.out(row, row.dataset.totalRows)));
  }

  private async row(id: number): Promise<SessionRow> {
    const row = await this.prisma.labModelSession.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`Model session ${id} not found`);
    return row;
  }

  async get(id: number): Promise<ModelSessionOut> {
    return this.out(await this.row(id));
  }

  /** The task (404 when unknown, as upstream). */
  private task(name: string): "TabularClassificationTask" | "RegressionTask" {
    if (!this.components.find(name, "Task")) throw new NotFoundError(`Task ${name} not found`);
    return name as "TabularClassificationTask" | "RegressionTask";
  }

  /**
   * Checks that the columns fit the task on the dataset: each exists, inputs and outputs do not overlap, one
   * output column of a type the task can learn (classification: categorical, boolean or integer with at least
   * two classes; regression: integer or float), not entirely missing. 404 unknown dataset or task, 422 otherwise.
   */
  async validate(input: { task_name: string; dataset_id: number; inputs: string[]; outputs: string[] }) {
    const task = this.task(input.task_name);
    const columns = await this.datasets.columns(input.dataset_id);
    const byName = new Map(columns.map((column) => [column.name, column]));
    const dataset = input.dataset_id;
    if (input.inputs.length === 0) throw unprocessable("Choose at least one input column");
    if (input.outputs.length === 0) throw unprocessable("Choose an output column");
    if (input.outputs.length > 1)
      throw unprocessable(
        `${task} predicts one output column; ${input.outputs.length} were selected (${input.outputs.join(", ")})`,
      );
    for (const name of [...input.inputs, ...input.outputs])
      if (!byName.has(name)) throw unprocessable(`Column "${name}" is not in dataset ${dataset}`);
    const seen = new Set<string>();
    for (const name of input.inputs) {
      if (seen.has(name)) throw unprocessable(`Input column "${name}" is selected twice`);
      seen.add(name);
    }
    const target = byName.get(input.outputs[0]!)!;
    if (seen.has(target.name))
      throw unprocessable(`Column "${target.name}" cannot be both an input and the output column`);
    const rows = await this.rowCount(dataset);
    for (const name of input.inputs) {
      const column = byName.get(name)!;
      if (column.nulls >= rows) throw unprocessable(`Input column "${name}" has no values`);
    }
    const allowed = task === "TabularClassificationTask" ? CLASSIFICATION_TARGETS : REGRESSION_TARGETS;
    if (!allowed.has(target.type))
      throw unprocessable(
        task === "TabularClassificationTask"
          ? `Output column "${target.name}" is ${target.type}: ${task} needs a categorical, boolean or integer column` +
              (target.type === "text" ? " (change its type to categorical if it holds classes)" : "")
          : `Output column "${target.name}" is ${target.type}: ${task} needs an integer or float column`,
      );
    await this.checkTarget(dataset, target, task);
  }

  private async rowCount(dataset: number): Promise<number> {
    return (await this.datasets.row(dataset)).totalRows ?? 0;
  }

  /** The output column has values, and a classification target at least two classes. */
  private async checkTarget(dataset: number, target: StoredColumn, task: string): Promise<void> {
    const table = await this.datasets.table(dataset, [target.name]);
    const column = table.columns[0]!;
    const distinct = new Set<string | number>();
    let present = 0;
    if (NUMERIC_TYPES.has(column.type)) {
      for (const value of column.values as Float64Array)
        if (!Number.isNaN(value)) {
          present++;
          if (distinct.size < 3) distinct.add(value);
        }
    } else {
      for (const value of column.values as (string | null)[])
        if (value !== null) {
          present++;
          if (distinct.size < 3) distinct.add(value);
        }
    }
    if (present === 0) throw unprocessable(`Output column "${target.name}" has no values`);
    if (task === "TabularClassificationTask" && distinct.size < 2)
      throw unprocessable(
        `Output column "${target.name}" has a single class: classification needs at least two`,
      );
  }

  /** Metrics of the task (all of them when none is given); 422 naming one that is unknown or of another task. */
  private metrics(task: string, given: string[] | undefined, field: string): string[] {
    const known = this.components
      .names("Metric")
      .filter((name) => this.components.find(name, "Metric")!.tasks.includes(task as never));
    if (!given || given.length === 0) return known;
    for (const [i, name] of given.entries())
      if (!known.includes(name))
        throw ValidationError.field(
          ["body", field, i],
          this.components.find(name, "Metric")
            ? `Metric ${name} does not apply to ${task}`
            : `Unknown metric ${name} (for ${task}: ${known.join(", ")})`,
        );
    return [...new Set(given)];
  }

  async create(input: SessionInput): Promise<ModelSessionOut> {
    this.task(input.task_name);
    await this.datasets.row(input.dataset_id);
    const splits = parseSplits(input.splits);
    await this.validate({
      task_name: input.task_name,
      dataset_id: input.dataset_id,
      inputs: input.input_columns,
      outputs: input.output_columns,
    });
    try {
      const row = await this.prisma.labModelSession.create({
        data: {
          name: input.name,
          datasetId: input.dataset_id,
          taskName: input.task_name,
          inputColumns: input.input_columns,
          outputColumns: input.output_columns,
          trainMetrics: this.metrics(input.task_name, input.train_metrics, "train_metrics"),
          validationMetrics: this.metrics(input.task_name, input.validation_metrics, "validation_metrics"),
          testMetrics: this.metrics(input.task_name, input.test_metrics, "test_metrics"),
          evaluationStrategy: input.evaluation_strategy ?? null,
          splits: splits as never,
          converters: (input.converters ?? []) as never,
        },
      });
      return this.out(row);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`A model session named "${input.name}" already exists`);
      throw error;
    }
  }

  async update(
    id: number,
    patch: Partial<Omit<SessionInput, "input_columns" | "output_columns">> & {
      input_columns?: string[] | string;
      output_columns?: string[] | string;
    },
  ): Promise<ModelSessionOut> {
    const row = await this.row(id);
    const list = (value: string[] | string | undefined, field: string): string[] | undefined => {
      if (value === undefined || Array.isArray(value)) return value;
      try {
        const parsed: unknown = JSON.parse(value);
        if (Array.isArray(parsed) && parsed.every((item) => typeof item === "string")) return parsed;
      } catch {
        // fall through
      }
      throw ValidationError.field(["body", field], `${field} must be a list of column names (or its JSON)`);
    };
    const next: SessionInput = {
      name: patch.name ?? row.name,
      dataset_id: patch.dataset_id ?? row.datasetId,
      task_name: patch.task_name ?? row.taskName,
      input_columns: list(patch.input_columns, "input_columns") ?? strings(row.inputColumns),
      output_columns: list(patch.output_columns, "output_columns") ?? strings(row.outputColumns),
      train_metrics: patch.train_metrics ?? strings(row.trainMetrics),
      validation_metrics: patch.validation_metrics ?? strings(row.validationMetrics),
      test_metrics: patch.test_metrics ?? strings(row.testMetrics),
      evaluation_strategy:
        patch.evaluation_strategy === undefined ? row.evaluationStrategy : patch.evaluation_strategy,
    };
    const taskChanged = next.task_name !== row.taskName;
    const splits = patch.splits === undefined ? (row.splits as Splits) : parseSplits(patch.splits);
    const columnsChanged =
      taskChanged ||
      next.dataset_id !== row.datasetId ||
      patch.input_columns !== undefined ||
      patch.output_columns !== undefined;
    this.task(next.task_name);
    if (columnsChanged) {
      await this.datasets.row(next.dataset_id);
      await this.validate({
        task_name: next.task_name,
        dataset_id: next.dataset_id,
        inputs: next.input_columns,
        outputs: next.output_columns,
      });
    }
    // Metrics of the old task are dropped when the task changes and none are given.
    const metricsOf = (given: string[] | undefined, stored: unknown, field: string) =>
      this.metrics(next.task_name, given ?? (taskChanged ? undefined : strings(stored)), field);
    try {
      const updated = await this.prisma.labModelSession.update({
        where: { id },
        data: {
          name: next.name,
          datasetId: next.dataset_id,
          taskName: next.task_name,
          inputColumns: next.input_columns,
          outputColumns: next.output_columns,
          trainMetrics: metricsOf(patch.train_metrics, row.trainMetrics, "train_metrics"),
          validationMetrics: metricsOf(patch.validation_metrics, row.validationMetrics, "validation_metrics"),
          testMetrics: metricsOf(patch.test_metrics, row.testMetrics, "test_metrics"),
          evaluationStrategy: next.evaluation_strategy ?? null,
          splits: splits as never,
        },
      });
      return this.out(updated);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`A model session named "${next.name}" already exists`);
      throw error;
    }
  }

  /** Deletes the session; its runs and their predictions go by cascade, and their files with them. */
  async delete(id: number): Promise<void> {
    await this.row(id);
    await this.deleteMany([id]);
  }

  async deleteMany(ids: number[]): Promise<number> {
    const files = await this.runFiles.filesOf(this.prisma, { sessionId: { in: ids } });
    const { count } = await this.prisma.labModelSession.deleteMany({ where: { id: { in: ids } } });
    await this.runFiles.removeFiles(files);
    return count;
  }
}
