import type { Logger } from "pino";
import type { PrismaClient } from "../../../generated/prisma/client.js";
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
  private present = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private loading: Promise<void> = Promise.resolve();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly state: StateStore,
    private readonly log: Logger,
    private readonly refreshMs = REFRESH_MS,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.state.subscribe(ITEMS_CHANGED_CHANNEL, () => void this.refresh(), {
      onResync: () => void this.refresh(),
    });
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.unsubscribe?.();
  }

  /** True when at least one GT item exists (as of the last refresh). */
  hasGtPool(): boolean {
    return this.present;
  }

  /** Re-reads the answer now (serialized; a failed read keeps the previous answer). */
  refresh(): Promise<void> {
    this.loading = this.loading.then(async () => {
      try {
        const row = await this.prisma.item.findFirst({ where: { isGt: true }, select: { id: true } });
        this.present = row !== null;
      } catch (error) {
        this.log.warn({ err: error }, "checking the ground-truth pool failed; keeping the previous answer");
      }
    });
    return this.loading;
  }
}
