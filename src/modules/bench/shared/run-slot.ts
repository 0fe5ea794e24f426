// A run's hold on one of the user's run slots (`acquireRunSlot`): renewed while the run goes on, together with
// the run row's heartbeat (so the schedules' tick can tell a run whose instance died), and given back at the end.
import type { StateStore } from "../../../platform/state/index.js";
import { acquireRunSlot, SLOT_TTL_MS } from "../runs/service.js";

/** The slot's release, or null when every slot of the user is taken (the caller answers 409). */
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
