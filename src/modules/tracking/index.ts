// What other modules may use of tracking (modules reach each other only through a module's index.ts).
import type { TrackingService } from "./service.js";

/** Records runs into experiment tracking from inside the server (no HTTP, no credentials). */
export type TrackingRecorder = Pick<
  TrackingService,
  "createOrResumeRun" | "logMetrics" | "setConfig" | "finish"
>;

/** A run logged from a server job: calls are queued in order; a failure is reported, never thrown. */
export interface RecordedRun {
  log(metrics: Record<string, number>, options?: { step?: number }): void;
  setConfig(config: Record<string, unknown>): void;
  /** Waits for everything logged so far, then marks the run finished (0 = completed, else failed). */
  finish(exitCode: number): Promise<void>;
}

/**
 * Starts a run on the recorder. Tracking is a by-product of the job that logs it: a database hiccup while
 * logging must not fail the job, so errors go to `onWarning` and the job carries on.
 */
export function recordRun(
  recorder: TrackingRecorder,
  run: { project: string; name: string; config?: Record<string, unknown>; tags?: string[] },
  onWarning: (message: string) => void,
): RecordedRun {
  let chain: Promise<unknown> = recorder
    .createOrResumeRun(run.project, { name: run.name, config: run.config, tags: run.tags, resume: true })
    .catch((error: unknown) => onWarning(`could not create the run: ${(error as Error).message}`));
  const then = (what: string, call: () => Promise<unknown>) => {
    chain = chain.then(call).catch((error: unknown) => onWarning(`${what}: ${(error as Error).message}`));
  };
  return {
    log(metrics, options = {}) {
      then("could not log metrics", () =>
        recorder.logMetrics(run.project, run.name, [{ step: options.step, metrics }]),
      );
    },
    setConfig(config) {
      then("could not set the config", () => recorder.setConfig(run.project, run.name, config));
    },
    async finish(exitCode) {
      then("could not finish the run", () => recorder.finish(run.project, run.name, exitCode));
      await chain;
    },
  };
}
