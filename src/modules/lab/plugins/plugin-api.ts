// The interface a lab plugin implements (docs/lab.md, "Plugins"). A plugin is an npm package (a folder with a
// package.json, or its `npm pack` .tgz) whose entry module (package.json `main`, default index.js, ESM)
// default-exports a `LabPlugin`. Its models train like the built-in ones: `fit` returns one of the engine's
// artifacts (linear, trees, knn, naive_bayes, dummy), so prediction, explainers and the ONNX export (linear
// and trees) work on them unchanged.
import type { Labels, Localized, Matrix, ModelArtifact, ParamSpecs, Task } from "../engine/index.js";

export type { Labels, Localized, Matrix, ModelArtifact, ParamSpecs, Task };

/** A model component: DashAI's Model type, trained by a ModelJob like any other. */
export interface LabPluginModel {
  type: "Model";
  /** Unique in the registry (a built-in name is refused): letters, digits and `_`, starting with a letter. */
  name: string;
  task: Task;
  displayName: Localized;
  description: Localized;
  /** The parameters (their JSON Schema in GET /api/v1/component/ is generated from these). */
  params: ParamSpecs;
  /** Whether numeric inputs are z-scaled before `fit` and prediction (linear models, distances). */
  standardize: boolean;
  /**
   * Fits on the preprocessed training rows: `x` row-major (rows × cols), `labels.y` the class index
   * (classification, `labels.classCount` classes) or the value (regression); `params` validated against
   * `params`; `seed` the run's. Synchronous (it runs in the training thread).
   */
  fit(x: Matrix, labels: Labels, params: Record<string, unknown>, seed: number): ModelArtifact;
}

/** What a plugin exports. Only models for now (docs/lab.md says why). */
export type LabPluginComponent = LabPluginModel;

export interface LabPlugin {
  components: LabPluginComponent[];
}

/** Identity with a type, for plugins written in TypeScript: `export default definePlugin({...})`. */
export function definePlugin(plugin: LabPlugin): LabPlugin {
  return plugin;
}
