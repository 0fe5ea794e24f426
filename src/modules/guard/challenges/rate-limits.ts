import type { RateLimiterAbstract } from "rate-limiter-flexible";
import { TooManyRequestsError } from "../../../platform/errors.js";
import { consumeOrRetryAfter, createRateLimiter } from "../../../platform/rate-limit.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { RuntimeConfig } from "../runtime-config/runtime-config.schema.js";

export type LimitedAction = "generate" | "submit";

const WINDOW_SEC = 60;

/**
 * Per-minute limits on generate and on submit, per client IP and per API key, with counters in the state
 * store (shared by every instance through Redis) via rate-limiter-flexible. The numbers are runtime
 * settings (challenge_rate_limit_ip, challenge_rate_limit_key); a changed number starts fresh counters.
 */
export class ChallengeRateLimits {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly state: StateStore) {}

  async check(
    action: LimitedAction,
    who: { ip: string; keyId: string },
    config: RuntimeConfig,
  ): Promise<void> {
    const [byIp, byKey] = await Promise.all([
      consumeOrRetryAfter(this.limiter(action, "ip", config.challenge_rate_limit_ip), who.ip),
      consumeOrRetryAfter(this.limiter(action, "key", config.challenge_rate_limit_key), who.keyId),
    ]);
    const blocked = [byIp, byKey].filter((outcome) => !outcome.allowed);
    if (blocked.length === 0) return;
    const wait = Math.max(...blocked.map((outcome) => (outcome.allowed ? 0 : outcome.retryAfterSec)));
    throw new TooManyRequestsError(
      wait,
      `Too many challenge ${action} requests; retry in ${Math.ceil(wait)} s`,
    );
  }

  private limiter(action: LimitedAction, scope: "ip" | "key", points: number): RateLimiterAbstract {
    const id = `challenge:${action}:${scope}:${points}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = createRateLimiter(this.state, { keyPrefix: id, points, durationSec: WINDOW_SEC });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}
