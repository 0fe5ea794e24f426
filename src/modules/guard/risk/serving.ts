// Serving: the model this instance scores with (onnxruntime-node, in memory), replicated across instances
// with a LiveSnapshot: whoever stores a version publishes its number, every instance loads the newest stored
// version (also on a pub/sub resync, and every REFRESH_MS in case a message was missed). The scorer is the
// challenge submit path's risk hook.
import type { Logger } from "pino";
import { LiveSnapshot } from "../../../platform/live.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { RiskScorer } from "../challenges/service.js";
import { FEATURE_NAMES, featureBatch, type SessionFeatures } from "./features.js";
import type { ModelInfo } from "./ml.schema.js";
import { OnnxRiskModel } from "./onnx.js";
import type { RiskModelRegistry } from "./registry.js";

/** Published (with the new version number) whenever a model version is stored. */
export const MODEL_CHANGED_CHANNEL = "ml:model:changed";
/** How often every instance checks for a newer model even without a notice (a missed message). */
const REFRESH_MS = 30_000;

interface Loaded {
  info: ModelInfo;
  model: OnnxRiskModel;
}

export class RiskModelServing {
  private readonly active: LiveSnapshot<Loaded | null>;
  private readonly failedVersions = new Set<number>();
  private stopping = false;

  constructor(private readonly deps: { registry: RiskModelRegistry; state: StateStore; log: Logger }) {
    this.active = new LiveSnapshot<Loaded | null>({
      state: deps.state,
      channel: MODEL_CHANGED_CHANNEL,
      initial: null,
      load: (current) => this.newest(current),
      onLoadError: (error) =>
        deps.log.warn({ err: error }, "loading the newest risk model failed; keeping the active one"),
      refreshMs: REFRESH_MS,
      onReplace: (_next, previous) => {
        // A submit may still be scoring with the previous session: release it a little later.
        if (previous && !this.stopping)
          setTimeout(() => void previous.model.release().catch(() => {}), 10_000).unref();
      },
    });
  }

  /** Loads the newest stored model and listens for newer ones. */
  start(): Promise<void> {
    return this.active.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.active.stop();
    // After any load under way: release the active model now (not later, as a replaced one is).
    await this.active.update(async (current) => {
      await current?.model.release().catch(() => {});
      return null;
    });
  }

  /** Human confidence of a submitted session (1.0 with no model, or when the model fails). */
  readonly scorer: RiskScorer = {
    score: async (features) => {
      const current = this.active.value;
      if (!current) return 1.0;
      try {
        const [score] = await current.model.score(featureBatch([features as SessionFeatures]), 1);
        return Math.min(1, Math.max(0, score!));
      } catch (error) {
        this.deps.log.warn({ err: error, version: current.info.version }, "risk model failed; scoring 1.0");
        return 1.0;
      }
    },
  };

  /** The model this instance serves (null before the first one). */
  get activeModel(): ModelInfo | null {
    return this.active.value?.info ?? null;
  }

  /** Scores raw feature rows with the active model (null with no model). */
  async scoreBatch(batch: Float32Array): Promise<Float32Array | null> {
    const current = this.active.value;
    return current ? current.model.score(batch) : null;
  }

  /**
   * Makes a freshly stored model active here (when it is newer than the active one) and tells the other
   * instances. The caller keeps ownership of `model` unless it became the active one (`isActive`).
   */
  async activate(model: OnnxRiskModel, info: ModelInfo): Promise<void> {
    await this.active.update((current) =>
      !this.stopping && (!current || current.info.version < info.version) ? { info, model } : current,
    );
    await this.active.publish(String(info.version));
  }

  isActive(model: OnnxRiskModel): boolean {
    return this.active.value?.model === model;
  }

  /** Loads the newest stored version when it is newer than the active one (serialized). */
  refresh(): Promise<void> {
    return this.active.refresh();
  }

  /**
   * The newest stored version loaded, or `current` when that is already the newest or cannot be used. Never
   * throws: a model that fails to load must not stop an instance from starting.
   */
  private async newest(current: Loaded | null): Promise<Loaded | null> {
    if (this.stopping) return current;
    try {
      const newest = await this.deps.registry.newestVersion();
      if (newest === null || (current && current.info.version >= newest)) return current;
      if (this.failedVersions.has(newest)) return current;
      const stored = await this.deps.registry.get(newest);
      if (stored.featureNames.join(",") !== FEATURE_NAMES.join(",")) {
        this.failedVersions.add(newest);
        this.deps.log.warn({ version: newest }, "risk model was made for another feature vector; not loaded");
        return current;
      }
      const model = await OnnxRiskModel.load(stored.onnx);
      if (this.stopping) {
        await model.release();
        return current;
      }
      this.deps.log.info({ version: newest }, "risk model loaded");
      return { info: stored.info, model };
    } catch (error) {
      this.deps.log.warn({ err: error }, "loading the newest risk model failed; keeping the active one");
      return current;
    }
  }
}
