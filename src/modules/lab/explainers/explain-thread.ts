// The worker thread an ExplainerJob computes in (explainers/thread.ts starts it): permutation importance,
// partial dependence and KernelSHAP are CPU work of many model predictions, so they run here and the server's
// event loop keeps answering HTTP, heartbeats and progress; a cancel terminates this thread.
import { parentPort, workerData } from "node:worker_threads";
import { EngineError } from "../engine/index.js";
import { computeExplanation, type ExplainTask, type ModelSource, openModel } from "./compute.js";

const { source, task } = workerData as { source: ModelSource; task: ExplainTask };
let lastSent = -1;
let lastAt = 0;
try {
  const { model, release } = await openModel(source);
  try {
    const result = await computeExplanation(model, task, (percent, message) => {
      const now = Date.now();
      // At most every 200 ms, or each whole percent.
      if (Math.floor(percent) === lastSent && now - lastAt < 200) return;
      lastSent = Math.floor(percent);
      lastAt = now;
      parentPort!.postMessage({ type: "progress", percent, message });
    });
    parentPort!.postMessage({ type: "done", result });
  } finally {
    await release().catch(() => {});
  }
} catch (error) {
  parentPort!.postMessage({
    type: "error",
    engine: error instanceof EngineError,
    message: (error as Error).message ?? String(error),
  });
}
