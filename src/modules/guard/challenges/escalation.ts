import { isIP } from "node:net";
import type { Increment, StateStore } from "../../../platform/state/index.js";
import type { RuntimeConfig } from "../runtime-config/runtime-config.schema.js";

/**
 * Escalation for clients that fail (issue 18). Failed challenges are counted per client binding (the client
 * hash of IP + User-Agent) and per network (IPv4 /24, IPv6 /64) in the state store, in sliding windows of
 * `escalation_window` seconds: a counter per window, and the count "now" is this window's plus the previous
 * window's weighted by the share of it still inside the last `escalation_window` seconds, so a failure fades
 * out linearly. A client's recent failures are
 *
 *     failures = client failures + escalation_network_share × network failures
 *
 * and the guess rate its next challenge may have is `max_guess_rate / escalation_factor ^ failures` (so
 * more ground-truth items); at `escalation_block_after` failures generate answers 429 with Retry-After =
 * the seconds until the count has decayed below it. A passed challenge clears the client's counters and
 * takes one failure off its network's, so a person who fails once and then succeeds is not penalised.
 * Generate reads the four counters beside the calls it makes anyway (pipelined on Redis); a submit adds
 * its increments to the same round trip as the rest of its writes.
 */

/** What generate read: the counts (decayed), and what it needs to write later. */
export interface FailureState {
  /** The client's recent failures. */
  client: number;
  /** Its network's recent failures (every client in the /24 or /64, this one included). */
  network: number;
  /** client + escalation_network_share × network. */
  failures: number;
  /** Whether the network's current window counter is above 0 (a pass may take one off). */
  networkCurrent: number;
  windowSec: number;
  bucket: number;
  networkId: string;
  /** The counters as read: client this window, client previous window, network this, network previous. */
  raw: [number, number, number, number];
}

/** The network a client address belongs to: IPv4 /24, IPv6 /64 (IPv4-mapped IPv6 counts as IPv4). */
export function networkOf(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const address = mapped ? mapped[1]! : ip;
  const version = isIP(address);
  if (version === 4) return `${address.split(".").slice(0, 3).join(".")}.0/24`;
  if (version === 6) {
    const groups = expandIpv6(address.split("%")[0]!);
    return `${groups.slice(0, 4).join(":")}::/64`;
  }
  return `other:${address}`;
}

function expandIpv6(address: string): string[] {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...fill, ...right].map((group) => (parseInt(group, 16) || 0).toString(16));
}

/** The guess rate the client's next challenge may have. */
export function allowedGuessRate(config: RuntimeConfig, failures: number): number {
  return config.max_guess_rate / config.escalation_factor ** Math.max(0, failures);
}

/**
 * Seconds until a sliding-window count below `threshold` again, with no new failures: `current` and
 * `previous` are the window counters, `elapsed` the share (0–1) of the current window gone by.
 */
export function secondsUntilBelow(
  current: number,
  previous: number,
  elapsed: number,
  windowSec: number,
  threshold: number,
): number {
  const left = (1 - elapsed) * windowSec;
  if (current < threshold) {
    if (previous <= 0) return 0;
    // current + previous × (1 − elapsed − t/W) < threshold
    const t = windowSec * (1 - elapsed - (threshold - current) / previous);
    return Math.max(0, Math.min(left, t));
  }
  // Next window: current × (1 − t/W) < threshold
  return left + windowSec * (1 - threshold / current);
}

export class Escalation {
  constructor(private readonly state: StateStore) {}

  /** Reads the client's and its network's counters (four GETs, sent together). */
  async read(client: string, ip: string, config: RuntimeConfig, now: number): Promise<FailureState> {
    const windowSec = config.escalation_window;
    const windowMs = windowSec * 1000;
    const bucket = Math.floor(now / windowMs);
    const network = networkOf(ip);
    const raw = (
      await Promise.all([
        this.state.get(clientKey(windowSec, client, bucket)),
        this.state.get(clientKey(windowSec, client, bucket - 1)),
        this.state.get(networkKey(windowSec, network, bucket)),
        this.state.get(networkKey(windowSec, network, bucket - 1)),
      ])
    ).map(count) as [number, number, number, number];
    const [cc, cp, nc, np] = raw;
    const weight = 1 - (now - bucket * windowMs) / windowMs;
    const clientCount = Math.max(0, cc + cp * weight);
    const networkCount = Math.max(0, nc + Math.max(0, np) * weight);
    return {
      raw,
      client: clientCount,
      network: networkCount,
      failures: clientCount + config.escalation_network_share * networkCount,
      networkCurrent: nc,
      windowSec,
      bucket,
      networkId: network,
    };
  }

  /** Seconds to wait when the client is at `escalation_block_after` recent failures or more, else null. */
  retryAfter(config: RuntimeConfig, now: number, read: FailureState): number | null {
    if (read.failures < config.escalation_block_after) return null;
    const windowMs = read.windowSec * 1000;
    const elapsed = (now - read.bucket * windowMs) / windowMs;
    const share = config.escalation_network_share;
    const [cc, cp, nc, np] = read.raw;
    const current = cc + share * Math.max(0, nc);
    const previous = cp + share * Math.max(0, np);
    return Math.max(
      1,
      Math.ceil(secondsUntilBelow(current, previous, elapsed, read.windowSec, config.escalation_block_after)),
    );
  }

  /** The increments of a failed challenge (for the submit's `incrMany`). */
  failureIncrements(client: string, read: FailureState): Increment[] {
    const ttlMs = 2 * read.windowSec * 1000 + 60_000;
    return [
      { key: clientKey(read.windowSec, client, read.bucket), ttlMs },
      { key: networkKey(read.windowSec, read.networkId, read.bucket), ttlMs },
    ];
  }

  /** A passed challenge: the client's failures are forgotten, its network's count one fewer. */
  async recordPass(client: string, read: FailureState): Promise<void> {
    const work: Promise<unknown>[] = [];
    if (read.client > 0) {
      work.push(
        this.state.del(
          clientKey(read.windowSec, client, read.bucket),
          clientKey(read.windowSec, client, read.bucket - 1),
        ),
      );
    }
    if (read.networkCurrent > 0) {
      work.push(this.state.incr(networkKey(read.windowSec, read.networkId, read.bucket), -1));
    }
    await Promise.all(work);
  }
}

const count = (raw: string | null): number => {
  const value = raw === null ? 0 : Number(raw);
  return Number.isFinite(value) ? value : 0;
};

function clientKey(windowSec: number, client: string, bucket: number): string {
  return `challenge:fail:c:${windowSec}:${client}:${bucket}`;
}

function networkKey(windowSec: number, network: string, bucket: number): string {
  return `challenge:fail:n:${windowSec}:${network}:${bucket}`;
}
