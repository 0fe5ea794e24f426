// The worker thread a ModelJob trains in (runs/thread.ts starts it): the engine's `train` is synchronous
// CPU work, so it runs here and the job's process keeps its heartbeat, progress and cancel (which
// terminates this thread: the training really stops).
import { parentPort, workerData } from "node:worker_threads";
import { EngineError, type Table, train, type TrainRequest } from "../engine/index.js";
import { registerPlugins } from "../plugins/loader.js";

const { table, request, plugins } = workerData as {
  table: Table;
  request: TrainRequest;
  plugins: { name: string; entry: string }[];
};
let lastSent = -1;
let lastAt = 0;
try {
  // A plugin model is known in this thread only once its plugin is imported here.
  await registerPlugins(plugins);
  const result = train(table, request, {
    progress: (percent, message) => {
      const now = Date.now();
      // At most every 200 ms (or each whole percent): a boosting run reports thousands of times.
      if (Math.floor(percent) === lastSent && now - lastAt < 200) return;
      lastSent = Math.floor(percent);
      lastAt = now;
      parentPort!.postMessage({ type: "progress", percent, message });
    },
  });
  parentPort!.postMessage({
    type: "done",
    result: {
      trained: result.trained,
      metrics: result.metrics,
      trials: result.trials,
      searchedParams: result.searchedParams,
      bestParams: result.bestParams,
      splitRows: {
        train: result.splits.train.length,
        validation: result.splits.validation.length,
        test: result.splits.test.length,
      },
    },
  });
} catch (error) {
  parentPort!.postMessage({
    type: "error",
    engine: error instanceof EngineError,
    message: (error as Error).message ?? String(error),
  });
}
