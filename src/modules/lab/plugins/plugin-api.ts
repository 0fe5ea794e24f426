// The interface a lab plugin implements (docs/lab.md, "Plugins"). A plugin is an npm package (a folder with a
// package.json, or its `npm pack` .tgz) whose entry module (package.json `main`, default index.js, ESM)
// default-exports a `LabPlugin`: a list of components, each a model, an explorer or a converter.
// - Models train like the built-in ones: `fit` returns one of the engine's artifacts (linear, trees, knn,
//   naive_bayes, dummy), so prediction, explainers and the ONNX export (linear and trees) work on them.
// - Explorers compute Plotly JSON figures of a notebook's (sampled) table, run by an ExplorerJob.
// - Converters transform a notebook's table, run by a ConverterJob (and re-applied when a step is reverted).
// Names are unique in the registry (a built-in or another plugin's name is refused): letters, digits and `_`,
// starting with a letter. Every text is given in English and Spanish (`Accept-Language` picks one).
import type { ColumnKind, ConverterOutput } from "../engine/converters.js";
import type { Figure } from "../engine/explorers.js";
import type {
  ColumnType,
  Labels,
  Localized,
  Matrix,
  ModelArtifact,
  ParamSpecs,
  Table,
  TableColumn,
  Task,
} from "../engine/index.js";

export type {
  ColumnKind,
  ColumnType,
  ConverterOutput,
  Figure,
  Labels,
  Localized,
  Matrix,
  ModelArtifact,
  ParamSpecs,
  Table,
  TableColumn,
  Task,
};

interface Described {
  /** Unique in the registry: letters, digits and `_`, starting with a letter. */
  name: string;
  displayName: Localized;
  description: Localized;
  /**
   * The parameters (their JSON Schema in GET /api/v1/component/ is generated from these; a request's
   * parameters are validated against them and defaults filled in before the component sees them).
   */
  params: ParamSpecs;
}

/** A model component: DashAI's Model type, trained by a ModelJob like any other. */
export interface LabPluginModel extends Described {
  type: "Model";
  task: Task;
  /** Whether numeric inputs are z-scaled before `fit` and prediction (linear models, distances). */
  standardize: boolean;
  /**
   * Fits on the preprocessed training rows: `x` row-major (rows × cols), `labels.y` the class index
   * (classification, `labels.classCount` classes) or the value (regression); `params` validated against
   * `params`; `seed` the run's. Synchronous (it runs in the training thread).
   */
  fit(x: Matrix, labels: Labels, params: Record<string, unknown>, seed: number): ModelArtifact;
}

/** An explorer: figures of a notebook's columns (`POST /api/v1/explorer/` with `exploration_type: name`). */
export interface LabPluginExplorer extends Described {
  type: "Explorer";
  /** Column types it reads: numeric (integer, float, boolean, datetime), string (categorical, text), any. */
  accepts: ColumnKind;
  /** How many columns it reads (an explorer without columns gets every accepted one, up to the maximum). */
  minColumns: number;
  maxColumns: number;
  /** Rows it reads: "stats" (up to 200,000 evenly spaced rows) or "points" (up to 5,000). */
  rows: "stats" | "points";
  /**
   * The figures (Plotly JSON `{data, layout}`) of `table` (the chosen columns, in order, sampled by the rule
   * above); `note` says "sample of N of M rows" when sampled (put it in a title). Synchronous; throwing
   * fails the explorer with the message.
   */
  compute(table: Table, params: Record<string, unknown>, note: string): Figure[];
}

/** A converter: one step applied to a notebook (`POST /api/v1/converter/` with `converter: name`). */
export interface LabPluginConverter extends Described {
  type: "Converter";
  /** Column types it applies to (a scope column of another type is refused with 422). */
  accepts: ColumnKind;
  /**
   * The whole table after the step: `columns` is the scope (every accepted column when none was given).
   * Return a new table (do not change `table`); numeric columns are Float64Array with NaN for missing,
   * categorical/text columns string arrays with null; `info` is shown with the step. Synchronous.
   */
  apply(table: Table, columns: string[], params: Record<string, unknown>): ConverterOutput;
}

/** What a plugin exports (metrics and explainers: not yet, docs/lab.md says why). */
export type LabPluginComponent = LabPluginModel | LabPluginExplorer | LabPluginConverter;

export interface LabPlugin {
  components: LabPluginComponent[];
}

/** Identity with a type, for plugins written in TypeScript: `export default definePlugin({...})`. */
export function definePlugin(plugin: LabPlugin): LabPlugin {
  return plugin;
}
