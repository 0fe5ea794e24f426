import type { Logger } from "pino";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { LiveSnapshot } from "../../../platform/live.js";
import type { StateStore } from "../../../platform/state/index.js";
import { ITEMS_CHANGED_CHANNEL } from "../metrics/service.js";

/** Longest a cached answer is trusted without a change notice (covers items promoted to GT by re-validation). */
const REFRESH_MS = 5_000;

/**
 * Whether any ground-truth item exists (the ladder's tier 4 is "no GT pool"), answered from memory so the
 * proxy's hot path never queries the database. Re-read on start, whenever items are added or removed on
 * any instance (pub/sub), and every few seconds in the background.
 */
export class GtPoolMonitor {
  private readonly present: LiveSnapshot<boolean>;

  constructor(prisma: PrismaClient, state: StateStore, log: Logger, refreshMs = REFRESH_MS) {
    this.present = new LiveSnapshot({
      state,
      channel: ITEMS_CHANGED_CHANNEL,
      initial: false,
      load: async () =>
        (await prisma.item.findFirst({ where: { isGt: true }, select: { id: true } })) !== null,
      onLoadError: (error) =>
        log.warn({ err: error }, "checking the ground-truth pool failed; keeping the previous answer"),
      refreshMs,
    });
  }

  start(): Promise<void> {
    return this.present.start();
  }

  stop(): Promise<void> {
    return this.present.stop();
  }

  /** True when at least one GT item exists (as of the last refresh). */
  hasGtPool(): boolean {
    return this.present.value;
  }

  /** Re-reads the answer now (serialized; a failed read keeps the previous answer). */
  refresh(): Promise<void> {
    return this.present.refresh();
  }
}
