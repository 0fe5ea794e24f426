// Runs CPU-bound engine work in a worker thread: the engine's `train` (train-thread.ts) here, the explainers
// (explainers/thread.ts) through `runInThread`. The event loop stays free for HTTP, the job's heartbeat and
// progress, and a cancel terminates the thread at once, whatever the model is doing.
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  EngineError,
  type MetricValues,
  type Table,
  type TrainedModel,
  type TrainRequest,
  type Trial,
} from "../engine/index.js";

export interface ThreadTrainResult {
  trained: TrainedModel;
  metrics: Record<"train" | "validation" | "test", MetricValues>;
  trials?: Trial[];
  searchedParams?: string[];
  bestParams?: Record<string, unknown>;
  splitRows: { train: number; validation: number; test: number };
}

type Message<T> =
  | { type: "progress"; percent: number; message: string }
  | { type: "done"; result: T }
  | { type: "error"; engine: boolean; message: string };

/**
 * The thread's entry `entry` (a file name without extension, next to `moduleUrl`): the built .js, or (tests,
 * tsx) the .ts source through tsx.
 */
function startThread(moduleUrl: string, entry: string, workerData: unknown): Worker {
  if (moduleUrl.endsWith(".ts")) {
    const href = new URL(`./${entry}.ts`, moduleUrl).href;
    const code = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(href)}); })`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(fileURLToPath(new URL(`./${entry}.js`, moduleUrl)), { workerData });
}

let running = 0;

/** How many engine threads (training, explanations) are running in this process now. */
export function runningThreads(): number {
  return running;
}

/**
 * Runs a thread entry that posts `progress` messages and then one `done` (its result) or `error` message
 * (`engine`: an EngineError, a 422 for the user). A cancel (`signal`) terminates the thread and rejects once
 * it has exited, so whatever it was computing has really stopped.
 */
export function runInThread<T>(
  moduleUrl: string,
  entry: string,
  workerData: unknown,
  options: { signal: AbortSignal; progress: (percent: number, message: string) => void; what: string },
): Promise<T> {
  options.signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const worker = startThread(moduleUrl, entry, workerData);
    running++;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      const reason = options.signal.reason ?? new Error("cancelled");
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      void worker.terminate().finally(() => reject(reason));
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    worker.on("message", (message: Message<T>) => {
      if (message.type === "progress") {
        if (!settled) options.progress(message.percent, message.message);
      } else if (message.type === "done") settle(() => resolve(message.result));
      else
        settle(() =>
          reject(
            message.engine ? new EngineError("invalid_input", message.message) : new Error(message.message),
          ),
        );
      if (message.type !== "progress") void worker.terminate();
    });
    worker.on("error", (error) => settle(() => reject(error)));
    worker.on("exit", (code) => {
      running--;
      settle(() => reject(new Error(`the ${options.what} thread exited (code ${code}) before finishing`)));
    });
  });
}

export function trainInThread(
  table: Table,
  request: TrainRequest,
  options: {
    signal: AbortSignal;
    progress: (percent: number, message: string) => void;
    /** Enabled lab plugins: the thread imports them and registers their models before it trains. */
    plugins?: { name: string; entry: string }[];
  },
): Promise<ThreadTrainResult> {
  return runInThread<ThreadTrainResult>(
    import.meta.url,
    "train-thread",
    { table, request, plugins: options.plugins ?? [] },
    { signal: options.signal, progress: options.progress, what: "training" },
  );
}
