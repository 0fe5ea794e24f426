// The lifecycle every kind of bench run shares (benchmarks, tool evals, param and prompt tunes, judge runs,
// labeling runs), next to their registry (run-registry.ts): one of the user's run slots taken for the run
// (`acquireRunSlot`, one at a time per user by default, upstream's lock), held while it goes on with the slot's
// TTL and the run row's heartbeat renewed together (`holdRunSlot`), given back at the end; and the rows of runs
// left "running" by an instance that died, closed by the schedules' tick (`staleRunsWhere` / `staleRunData`).
import type { StateStore } from "../../../platform/state/index.js";

export const SLOT_TTL_MS = 60_000;
/** A running run whose heartbeat (every SLOT_TTL_MS / 3) is older than this was on an instance that died. */
export const STALE_RUN_MS = 3 * SLOT_TTL_MS;
export const STALE_RUN_ERROR = "interrupted: the instance running it stopped";

/**
 * Takes one of the user's run slots (`max_concurrent`, default 1), shared by every kind of run: the slot's key,
 * or null when all are taken. The holder renews its TTL (holdRunSlot does).
 */
export async function acquireRunSlot(
  state: StateStore,
  userId: string,
  runId: string,
  maxConcurrent: number,
): Promise<string | null> {
  for (let slot = 0; slot < Math.max(1, maxConcurrent); slot++) {
    const key = `bench:run-slot:${userId}:${slot}`;
    if (await state.set(key, runId, { ttlMs: SLOT_TTL_MS, ifNotExists: true })) return key;
  }
  return null;
}

/**
 * A run slot held while a run goes on: every SLOT_TTL_MS / 3 its TTL is renewed and `heartbeat` called (the
 * run row's `heartbeatAt`, so that `staleRunsWhere` can tell a run whose instance died). Returns the slot's
 * release (stops the renewal, gives the slot back if it is still this run's), or null when every slot of the
 * user is taken (the caller answers 409).
 */
export async function holdRunSlot(
  state: StateStore,
  userId: string,
  runId: string,
  maxConcurrent: number,
  heartbeat: () => Promise<unknown>,
): Promise<(() => Promise<void>) | null> {
  const slot = await acquireRunSlot(state, userId, runId, maxConcurrent);
  if (slot === null) return null;
  const refresh = setInterval(() => {
    void state.set(slot, runId, { ttlMs: SLOT_TTL_MS }).catch(() => {});
    void heartbeat().catch(() => {});
  }, SLOT_TTL_MS / 3);
  refresh.unref();
  return async () => {
    clearInterval(refresh);
    if ((await state.get(slot).catch(() => null)) === runId) await state.del(slot).catch(() => {});
  };
}

/** The heartbeat of a run's row: `updateMany` of its table with this (only while it is still running). */
export const heartbeatOf = (id: string) => ({
  where: { id, status: "running" },
  data: { heartbeatAt: new Date() },
});

/** Rows still "running" that no run of this instance owns and whose heartbeat stopped `staleMs` ago or more. */
export const staleRunsWhere = (runningHere: string[], staleMs = STALE_RUN_MS) => ({
  status: "running",
  id: { notIn: runningHere },
  OR: [{ heartbeatAt: { lt: new Date(Date.now() - staleMs) } }, { heartbeatAt: null }],
});

/** What a stale run's row becomes (`failed`; judge reports say `error`). */
export const staleRunData = (status: "failed" | "error" = "failed") => ({
  status,
  finishedAt: new Date(),
  error: STALE_RUN_ERROR,
});
