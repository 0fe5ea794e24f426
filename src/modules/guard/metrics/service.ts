import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { Increment, StateStore } from "../../../platform/state/index.js";
import type { Metrics } from "./metrics.schema.js";

const SERVED = "metrics:challenges:served";
const PASSED = "metrics:challenges:passed";
const FAILED = "metrics:challenges:failed";
/** Submits naming a challenge that was never served to that client (made up, foreign, already answered). */
const INVALID = "metrics:challenges:invalid_submits";
const ITEMS = "metrics:items:total";
const ITEMS_VERSION = "metrics:items:version";
const MINUTE_PREFIX = "metrics:sessions:minute:";
/** Published after items were added or removed (the proxy's cached "is there a GT pool" listens). */
export const ITEMS_CHANGED_CHANNEL = "items:changed";
/**
 * Published (coalesced, at most about four times a second per instance) when counters moved, so live
 * dashboards (the GraphQL `liveMetrics` subscription, on every instance) re-read them instead of polling.
 */
export const METRICS_CHANGED_CHANNEL = "metrics:changed";
const NOTIFY_DELAY_MS = 250;
/** The window of `recent_sessions`. */
export const RECENT_WINDOW_MIN = 15;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const TIER_PREFIX = "metrics:challenges:tier:";
/** Per-bucket counters of the time series: `metrics:ts:<resolution>:<bucket>:<served|passed|failed>`. */
const SERIES_PREFIX = "metrics:ts:";
/** How far back each resolution of the time series reaches (older buckets expire in the state store). */
export const SERIES_RETENTION = { minute: 24 * 60, hour: 30 * 24 } as const;
export type SeriesResolution = keyof typeof SERIES_RETENTION;
const BUCKET_MS: Record<SeriesResolution, number> = { minute: MINUTE_MS, hour: HOUR_MS };
const SERIES_KINDS = ["served", "passed", "failed"] as const;
type SeriesKind = (typeof SERIES_KINDS)[number];
/** Tiers that serve a challenge (tier 4, no ground-truth pool, serves none). */
export const SERVED_TIERS = [1, 2, 3] as const;
/** A cached item total is trusted at most this long, even if an invalidation was missed. */
const ITEMS_CACHE_MS = 60_000;

/**
 * Dashboard metrics as counters in the state store, so reading them costs a fixed number of key reads
 * (shared by every instance through Redis) and never a scan:
 * - challenges served / passed / failed: plain counters the challenge engine increments;
 * - recent sessions: one counter per minute (expiring after the window), the last 15 are summed;
 * - total items: the sum of the exact per-dataset `item_count` columns, cached in the state store under a
 *   version that every upload or delete bumps after committing; a cached sum is used only while its
 *   version is current, so it never drifts from the database (not even when a write races a read).
 */
export class MetricsService {
  constructor(
    private readonly state: StateStore,
    private readonly prisma: PrismaClient,
    private readonly now: () => number = Date.now,
  ) {}

  private notifyTimer: NodeJS.Timeout | null = null;

  /** Counters moved: tell live dashboards, once for everything that happens within NOTIFY_DELAY_MS. */
  notifyChanged(): void {
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      // Best effort: a dashboard that misses one message gets the next (or its own refresh).
      this.state.publish(METRICS_CHANGED_CHANNEL, "changed").catch(() => undefined);
    }, NOTIFY_DELAY_MS);
    this.notifyTimer.unref();
  }

  /** Called each time a challenge (a new session) of a ladder tier is served. */
  async recordChallengeServed(count = 1, tier?: number): Promise<void> {
    await this.state.incrMany(this.servedIncrements(count, tier));
    this.notifyChanged();
  }

  /** Called once per submitted challenge. */
  async recordChallengeResult(passed: boolean): Promise<void> {
    await this.state.incrMany(this.resultIncrements(passed));
    this.notifyChanged();
  }

  /** A submit for a challenge this client was not served: not a result, so not in passed/failed. */
  async recordInvalidSubmit(): Promise<void> {
    await this.state.incr(INVALID);
    this.notifyChanged();
  }

  /** The counters a served challenge bumps, for callers that send them with their own in one step. */
  servedIncrements(count = 1, tier?: number): Increment[] {
    const minute = Math.floor(this.now() / MINUTE_MS);
    return [
      { key: SERVED, by: count },
      { key: `${MINUTE_PREFIX}${minute}`, by: count, ttlMs: (RECENT_WINDOW_MIN + 1) * MINUTE_MS },
      ...(tier === undefined ? [] : [{ key: `${TIER_PREFIX}${tier}`, by: count }]),
      ...this.seriesIncrements("served", count),
    ];
  }

  resultIncrements(passed: boolean): Increment[] {
    return [{ key: passed ? PASSED : FAILED }, ...this.seriesIncrements(passed ? "passed" : "failed", 1)];
  }

  /** One counter per bucket and kind, created with the TTL of its resolution's retention. */
  private seriesIncrements(kind: SeriesKind, count: number): Increment[] {
    const now = this.now();
    return (Object.keys(BUCKET_MS) as SeriesResolution[]).map((resolution) => ({
      key: `${SERIES_PREFIX}${resolution}:${Math.floor(now / BUCKET_MS[resolution])}:${kind}`,
      by: count,
      ttlMs: (SERIES_RETENTION[resolution] + 1) * BUCKET_MS[resolution],
    }));
  }

  /**
   * The last `buckets` buckets of a resolution, oldest first, ending with the current (partial) one: three
   * key reads per bucket, whatever the traffic (O(buckets)). Empty buckets are zeros, so the series has no gaps.
   */
  async timeseries(resolution: SeriesResolution, buckets: number): Promise<SeriesPoint[]> {
    const size = BUCKET_MS[resolution];
    const last = Math.floor(this.now() / size);
    const first = last - buckets + 1;
    const values = await Promise.all(
      Array.from({ length: buckets }, (_, i) =>
        Promise.all(
          SERIES_KINDS.map((kind) => this.state.get(`${SERIES_PREFIX}${resolution}:${first + i}:${kind}`)),
        ),
      ),
    );
    return values.map(([served, passed, failed], i) => ({
      start: new Date((first + i) * size).toISOString(),
      served: toInt(served ?? null),
      passed: toInt(passed ?? null),
      failed: toInt(failed ?? null),
    }));
  }

  /** Challenges served per ladder tier since the counters started. */
  async tiers(): Promise<{ tier: number; served: number }[]> {
    const values = await Promise.all(SERVED_TIERS.map((tier) => this.state.get(`${TIER_PREFIX}${tier}`)));
    return SERVED_TIERS.map((tier, i) => ({ tier, served: toInt(values[i] ?? null) }));
  }

  /** Items were added or removed: the next read recomputes the total. */
  async itemsChanged(): Promise<void> {
    await this.state.incr(ITEMS_VERSION);
    await this.state.publish(ITEMS_CHANGED_CHANNEL, "changed");
  }

  async snapshot(): Promise<Metrics> {
    const minute = Math.floor(this.now() / MINUTE_MS);
    const minuteKeys = Array.from({ length: RECENT_WINDOW_MIN }, (_, i) => `${MINUTE_PREFIX}${minute - i}`);
    const [served, passed, failed, invalid, totalItems, ...minutes] = await Promise.all([
      this.state.get(SERVED),
      this.state.get(PASSED),
      this.state.get(FAILED),
      this.state.get(INVALID),
      this.totalItems(),
      ...minuteKeys.map((key) => this.state.get(key)),
    ]);
    const ok = toInt(passed);
    const ko = toInt(failed);
    const submitted = ok + ko;
    return {
      total_challenges: toInt(served),
      total_items: totalItems,
      solve_rate_pct: submitted === 0 ? 0 : Math.round((ok / submitted) * 1000) / 10,
      recent_sessions: minutes.reduce<number>((sum, value) => sum + toInt(value as string | null), 0),
      challenges_passed: ok,
      challenges_failed: ko,
      invalid_submits: toInt(invalid as string | null),
    };
  }

  private async totalItems(): Promise<number> {
    // The version is read before the sum: a write committed after this read bumps it, so a sum that
    // missed that write is stored under an old version and never used.
    const [version, cached] = await Promise.all([this.state.get(ITEMS_VERSION), this.state.get(ITEMS)]);
    const current = version ?? "0";
    if (cached !== null) {
      const [cachedVersion, total] = cached.split(":");
      if (cachedVersion === current) return toInt(total ?? null);
    }
    const { _sum } = await this.prisma.dataset.aggregate({ _sum: { itemCount: true } });
    const total = _sum.itemCount ?? 0;
    await this.state.set(ITEMS, `${current}:${total}`, { ttlMs: ITEMS_CACHE_MS });
    return total;
  }
}

export interface SeriesPoint {
  start: string;
  served: number;
  passed: number;
  failed: number;
}

function toInt(value: string | null): number {
  const n = value === null ? 0 : Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : 0;
}
