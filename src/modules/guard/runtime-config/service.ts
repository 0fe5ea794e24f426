import type { Logger } from "pino";
import { ValidationError } from "../../../platform/errors.js";
import { LiveSnapshot } from "../../../platform/live.js";
import type { StateStore } from "../../../platform/state/index.js";
import {
  RUNTIME_CONFIG_DEFAULTS,
  type RuntimeConfig,
  type RuntimeConfigPatch,
  runtimeConfigSchema,
} from "./runtime-config.schema.js";

const CONFIG_KEY = "config:runtime";
const CHANGED_CHANNEL = "config:runtime:changed";
const PINO_LEVELS: Record<RuntimeConfig["log_level"], string> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warn",
  ERROR: "error",
};

/**
 * Runtime config in the state store (a hash of JSON values), held in memory on every instance. A change is
 * published, and every instance re-reads it and applies the new log level, so no restart is needed anywhere.
 */
export class RuntimeConfigService {
  /** Null until the first read. */
  private readonly config: LiveSnapshot<RuntimeConfig | null>;
  /** Whether an operator set log_level at run time; until then LOG_LEVEL from the environment rules. */
  private logLevelSet = false;
  private readonly defaults: RuntimeConfig;

  constructor(
    private readonly state: StateStore,
    private readonly log: Logger,
    environmentLogLevel: string,
  ) {
    this.defaults = { ...RUNTIME_CONFIG_DEFAULTS, log_level: documentedLevel(environmentLogLevel) };
    this.config = new LiveSnapshot<RuntimeConfig | null>({
      state,
      channel: CHANGED_CHANNEL,
      initial: null,
      load: () => this.read(),
      onLoadError: (error) =>
        this.log.warn({ err: error }, "re-reading the runtime config failed; keeping the previous one"),
      onReplace: (config) => {
        if (config) this.applyLogLevel(config);
      },
    });
  }

  start(): Promise<void> {
    return this.config.start();
  }

  stop(): Promise<void> {
    return this.config.stop();
  }

  /** The config held in memory without waiting (null before the first read): the proxy's hot path. */
  peek(): RuntimeConfig | null {
    return this.config.value;
  }

  async get(): Promise<RuntimeConfig> {
    return this.config.value ?? (await this.config.reload())!;
  }

  async update(patch: RuntimeConfigPatch): Promise<RuntimeConfig> {
    const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
    const merged = { ...(await this.get()), ...patch };
    if (merged.revalidation_floor >= merged.revalidation_exit_confidence) {
      const field = "revalidation_floor" in patch ? "revalidation_floor" : "revalidation_exit_confidence";
      throw ValidationError.field(
        ["body", field],
        "revalidation_floor must be below revalidation_exit_confidence",
      );
    }
    if (entries.length === 0) return this.get();
    await this.state.hset(
      CONFIG_KEY,
      Object.fromEntries(entries.map(([key, value]) => [key, JSON.stringify(value)])),
    );
    const config = (await this.config.reload())!;
    await this.config.publish(JSON.stringify(Object.keys(patch)));
    return config;
  }

  /** The stored config over the defaults. */
  private async read(): Promise<RuntimeConfig> {
    const stored = await this.state.hgetall(CONFIG_KEY);
    this.logLevelSet = "log_level" in stored;
    const merged: Record<string, unknown> = { ...this.defaults };
    for (const [key, raw] of Object.entries(stored)) {
      try {
        merged[key] = JSON.parse(raw);
      } catch {
        // a value written by hand that is not JSON: keep the default
      }
    }
    // A stored value that no longer validates (older version, hand edit) falls back to its default.
    const parsed = runtimeConfigSchema.safeParse(merged);
    return parsed.success ? parsed.data : { ...this.defaults, ...validFields(merged) };
  }

  private applyLogLevel(config: RuntimeConfig): void {
    if (!this.logLevelSet) return;
    const level = PINO_LEVELS[config.log_level];
    if (this.log.level !== level) this.log.level = level;
  }
}

function validFields(values: Record<string, unknown>): Partial<RuntimeConfig> {
  const valid: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(runtimeConfigSchema.shape)) {
    const result = schema.safeParse(values[key]);
    if (result.success) valid[key] = result.data;
  }
  return valid as Partial<RuntimeConfig>;
}

function documentedLevel(pinoLevel: string): RuntimeConfig["log_level"] {
  if (pinoLevel === "trace" || pinoLevel === "debug") return "DEBUG";
  if (pinoLevel === "warn") return "WARNING";
  if (pinoLevel === "error" || pinoLevel === "fatal" || pinoLevel === "silent") return "ERROR";
  return "INFO";
}
