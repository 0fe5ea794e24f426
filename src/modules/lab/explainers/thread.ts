// Computes an explanation in a worker thread (explain-thread.ts) through the runner training uses
// (runs/thread.ts): the model source and the tables are copied to the thread, progress comes back as
// messages, and a cancel terminates the thread (the promise rejects once it has exited).
import { runInThread } from "../runs/thread.js";
import type { Explained, ExplainTask, ModelSource } from "./compute.js";

export function explainInThread(
  source: ModelSource,
  task: ExplainTask,
  options: { signal: AbortSignal; progress: (percent: number, message: string) => void },
): Promise<Explained> {
  return runInThread<Explained>(
    import.meta.url,
    "explain-thread",
    { source, task },
    { ...options, what: "explanation" },
  );
}
