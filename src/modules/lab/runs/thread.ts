// Runs the engine's `train` in a worker thread (train-thread.ts): the event loop stays free for the job's
// heartbeat and progress, and a cancel terminates the thread at once, whatever the model is doing.
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

type Message =
  | { type: "progress"; percent: number; message: string }
  | { type: "done"; result: ThreadTrainResult }
  | { type: "error"; engine: boolean; message: string };

/** The thread's entry: the built .js next to this file, or (tests, tsx) the .ts source through tsx. */
function startThread(workerData: unknown): Worker {
  const here = import.meta.url;
  if (here.endsWith(".ts")) {
    const entry = new URL("./train-thread.ts", here).href;
    const code = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(fileURLToPath(new URL("./train-thread.js", here)), { workerData });
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
  options.signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const worker = startThread({ table, request, plugins: options.plugins ?? [] });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      settle(() => reject(options.signal.reason ?? new Error("cancelled")));
      void worker.terminate();
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    worker.on("message", (message: Message) => {
      if (message.type === "progress") options.progress(message.percent, message.message);
      else if (message.type === "done") settle(() => resolve(message.result));
      else
        settle(() =>
          reject(
            message.engine ? new EngineError("invalid_input", message.message) : new Error(message.message),
          ),
        );
      if (message.type !== "progress") void worker.terminate();
    });
    worker.on("error", (error) => settle(() => reject(error)));
    worker.on("exit", (code) =>
      settle(() => reject(new Error(`the training thread exited (code ${code}) before finishing`))),
    );
  });
}
