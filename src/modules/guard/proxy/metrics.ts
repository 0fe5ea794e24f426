import type { Logger } from "pino";
import { Counter, Histogram, Registry } from "prom-client";
import type { StateStore } from "../../../platform/state/index.js";
import type { MetricsService } from "../metrics/service.js";

/** What the proxy did with a request. */
export const DECISIONS = ["exempt", "token", "bypass", "closed", "challenge"] as const;
export type Decision = (typeof DECISIONS)[number];
export const DECISION_INDEX = Object.fromEntries(DECISIONS.map((d, i) => [d, i])) as Record<Decision, number>;
export const UPSTREAM_ERRORS = ["timeout", "unreachable", "body_too_large"] as const;
export type UpstreamError = (typeof UPSTREAM_ERRORS)[number];

const SHARED_KEY = "metrics:proxy";
const FLUSH_MS = 1_000;

/**
 * Proxy observability. Counting a request is one array increment on the hot path; the counts are added
 * to a hash in the state store once a second, so the totals `/_hiveguard/metrics` shows are the same on
 * every instance and worker (Redis) whichever one a scrape reaches. The upstream latency histogram is
 * per process (prom-client), and the challenge outcomes come from the engine's shared counters.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly pendingDecisions = new Array<number>(DECISIONS.length).fill(0);
  private readonly pendingErrors = new Array<number>(UPSTREAM_ERRORS.length).fill(0);
  private readonly pendingForwardAuth = new Array<number>(DECISIONS.length).fill(0);
  private readonly upstreamSeconds: Histogram;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: StateStore,
    metrics: MetricsService,
    private readonly log: Logger,
  ) {
    const shared = async () => {
      await this.flush();
      return this.state.hgetall(SHARED_KEY);
    };
    new Counter({
      name: "hiveguard_proxy_requests_total",
      help: "Proxied requests by decision (exempt by a rule, valid token, bypass with no GT pool, closed: 503 with no GT pool, challenge), all instances",
      labelNames: ["decision"],
      registers: [this.registry],
      async collect() {
        const totals = await shared();
        this.reset();
        for (const decision of DECISIONS) this.inc({ decision }, Number(totals[`decision:${decision}`] ?? 0));
      },
    });
    new Counter({
      name: "hiveguard_forward_auth_requests_total",
      help: "Forward-auth checks (GET /_hiveguard/auth, asked by nginx/Traefik/Caddy) by decision, all instances",
      labelNames: ["decision"],
      registers: [this.registry],
      async collect() {
        const totals = await shared();
        this.reset();
        for (const decision of DECISIONS)
          this.inc({ decision }, Number(totals[`forward_auth:${decision}`] ?? 0));
      },
    });
    new Counter({
      name: "hiveguard_proxy_upstream_errors_total",
      help: "Requests the upstream could not answer (timeout: 504, unreachable: 502) or that were refused (body_too_large: 413), all instances",
      labelNames: ["kind"],
      registers: [this.registry],
      async collect() {
        const totals = await shared();
        this.reset();
        for (const kind of UPSTREAM_ERRORS) this.inc({ kind }, Number(totals[`error:${kind}`] ?? 0));
      },
    });
    new Counter({
      name: "hiveguard_challenges_total",
      help: "Challenges served, passed and failed, and submits of challenges never served (invalid), all instances",
      labelNames: ["outcome"],
      registers: [this.registry],
      async collect() {
        const snapshot = await metrics.snapshot();
        this.reset();
        this.inc({ outcome: "served" }, snapshot.total_challenges);
        this.inc({ outcome: "passed" }, snapshot.challenges_passed);
        this.inc({ outcome: "failed" }, snapshot.challenges_failed);
        this.inc({ outcome: "invalid" }, snapshot.invalid_submits);
      },
    });
    this.upstreamSeconds = new Histogram({
      name: "hiveguard_proxy_upstream_duration_seconds",
      help: "Time from forwarding a request to the upstream's response headers (this process)",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  decision(index: number): void {
    this.pendingDecisions[index]! += 1;
  }

  /** A forward-auth answer (counted apart from the requests the built-in proxy carries). */
  forwardAuthDecision(index: number): void {
    this.pendingForwardAuth[index]! += 1;
  }

  upstreamError(kind: UpstreamError): void {
    this.pendingErrors[UPSTREAM_ERRORS.indexOf(kind)]! += 1;
  }

  upstreamLatency(ms: number): void {
    this.upstreamSeconds.observe(ms / 1000);
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Moves the pending counts into the shared hash (one write per non-zero counter). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const writes: Promise<number>[] = [];
      const take = (names: readonly string[], pending: number[], prefix: string) => {
        pending.forEach((count, index) => {
          if (count === 0) return;
          pending[index] = 0;
          writes.push(this.state.hincrby(SHARED_KEY, `${prefix}:${names[index]}`, count));
        });
      };
      take(DECISIONS, this.pendingDecisions, "decision");
      take(UPSTREAM_ERRORS, this.pendingErrors, "error");
      take(DECISIONS, this.pendingForwardAuth, "forward_auth");
      try {
        await Promise.all(writes);
      } catch (error) {
        this.log.warn({ err: error }, "storing proxy counters failed; these counts are lost");
      }
    });
    return this.flushing;
  }
}
