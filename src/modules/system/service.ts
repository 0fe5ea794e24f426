import type { Database } from "../../platform/db.js";
import { UnavailableError } from "../../platform/errors.js";
import type { StateStore } from "../../platform/state/index.js";
import type { DependencyCheck } from "./system.schema.js";

async function check(backend: string, ping: () => Promise<void>): Promise<DependencyCheck> {
  const started = performance.now();
  try {
    await ping();
    return { ok: true, backend, latency_ms: round(performance.now() - started), error: null };
  } catch {
    // The reason stays in the server log (the store logs it); the wire only says which dependency failed.
    return { ok: false, backend, latency_ms: round(performance.now() - started), error: "not answering" };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Readiness for load balancers: 200 when the database and the state store answer, 503 otherwise. Only an
 * operator (`detailed`) learns which backends answered, how fast, and which one does not: anyone else gets
 * the status alone, so the answer maps nothing of the deployment.
 */
export async function checkReadiness(
  deps: { db: Database; state: StateStore },
  options: { detailed: boolean },
) {
  const [database, state] = await Promise.all([
    check(deps.db.kind, () => deps.db.ping()),
    check(deps.state.kind, () => deps.state.ping()),
  ]);
  const failing = [database.ok ? null : "database", state.ok ? null : "state store"].filter(Boolean);
  if (failing.length > 0)
    throw new UnavailableError(
      options.detailed ? `Not ready: ${failing.join(" and ")} not answering` : "Not ready",
    );
  return options.detailed ? { status: "ready" as const, database, state } : { status: "ready" as const };
}
