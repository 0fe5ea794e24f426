// The runs (benchmarks, tool evals, tunes...) going on in this instance, and their cancel: a user's cancel is
// published on the state store's channel so that whichever instance runs the user's run aborts it (the provider
// calls in flight too). One channel for every kind of run: one cancel stops whatever the user runs.
import type { StateStore } from "../../../platform/state/index.js";

export const CANCEL_CHANNEL = "bench:cancel";

export interface RegisteredRun {
  id: string;
  userId: string;
  controller: AbortController;
  /** Settles when the run is stored (or has failed). */
  done: Promise<unknown>;
}

export class RunRegistry<R extends RegisteredRun = RegisteredRun> {
  private readonly runs = new Map<string, R>();
  private unsubscribeCancel: (() => Promise<void>) | null = null;
  private stoppingFlag = false;

  constructor(private readonly state: StateStore) {}

  /** Listens for cancels published by any instance. */
  async start(): Promise<void> {
    this.unsubscribeCancel = await this.state.subscribe(CANCEL_CHANNEL, (message) => {
      try {
        const { userId } = JSON.parse(message) as { userId?: string };
        if (userId) this.abortUser(userId);
      } catch {
        // not ours
      }
    });
  }

  /** Shutdown: every run here is aborted, and awaited until stored. */
  async stop(): Promise<void> {
    this.stoppingFlag = true;
    await this.unsubscribeCancel?.().catch(() => {});
    const runs = [...this.runs.values()];
    for (const run of runs) run.controller.abort(new Error("server shutting down"));
    await Promise.allSettled(runs.map((run) => run.done));
  }

  /** True once `stop` began: an aborted run was interrupted by the shutdown, not cancelled by its user. */
  get stopping(): boolean {
    return this.stoppingFlag;
  }

  add(run: R): void {
    this.runs.set(run.id, run);
  }

  delete(runId: string): void {
    this.runs.delete(runId);
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  get size(): number {
    return this.runs.size;
  }

  ids(): string[] {
    return [...this.runs.keys()];
  }

  /** Aborts one run if this instance runs it. */
  abort(runId: string): void {
    this.runs.get(runId)?.controller.abort(new Error("cancelled"));
  }

  /** Aborts the user's runs on this instance. */
  abortUser(userId: string): void {
    for (const run of this.runs.values())
      if (run.userId === userId) run.controller.abort(new Error("cancelled"));
  }

  /** A user's cancel: here, and on every other instance through the channel. */
  async cancel(userId: string) {
    this.abortUser(userId);
    await this.state.publish(CANCEL_CHANNEL, JSON.stringify({ userId }));
    return { status: "ok" as const, message: "Cancellation requested" };
  }
}
