import { useEffect, useMemo, useState } from "preact/hooks";
import { subscribe } from "../api.js";
import { Chart, Notice } from "../ui.js";

interface Point {
  start: string;
  served: number;
  passed: number;
  failed: number;
}
interface OverviewData {
  metrics: {
    total_challenges: number;
    total_items: number;
    solve_rate_pct: number;
    recent_sessions: number;
    challenges_passed: number;
    challenges_failed: number;
  };
  timeseries: { resolution: string; points: Point[] };
  tierDistribution: { tier: number; served: number }[];
}

/** Live: the server pushes a new snapshot whenever the counters change (on any instance); no polling. */
const SUBSCRIPTION = `subscription Overview($resolution: SeriesResolution, $buckets: Int) {
  liveMetrics(resolution: $resolution, buckets: $buckets) {
    metrics { total_challenges total_items solve_rate_pct recent_sessions challenges_passed challenges_failed }
    timeseries { resolution points { start served passed failed } }
    tierDistribution { tier served }
  }
}`;

const TIER_NAMES: Record<number, string> = {
  1: "Tier 1 · known + unlabeled item",
  2: "Tier 2 · known + re-validation item",
  3: "Tier 3 · known item only",
};

export function OverviewPage() {
  const [resolution, setResolution] = useState<"minute" | "hour">("minute");
  const [data, setData] = useState<OverviewData | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(
    () =>
      subscribe<{ liveMetrics: OverviewData }>(
        SUBSCRIPTION,
        { resolution, buckets: resolution === "minute" ? 60 : 48 },
        (d) => {
          setData(d.liveMetrics);
          setError(null);
        },
        (e) => setError(e.message),
      ),
    [resolution],
  );

  const points = data?.timeseries.points ?? [];
  const x = useMemo(() => points.map((p) => Date.parse(p.start) / 1000), [points]);
  const traffic = useMemo(
    () => [
      { label: "served", values: points.map((p) => p.served), color: "#d97706" },
      { label: "passed", values: points.map((p) => p.passed), color: "#16a34a" },
      { label: "failed", values: points.map((p) => p.failed), color: "#dc2626" },
    ],
    [points],
  );
  const solveRate = useMemo(
    () => [
      {
        label: "solve rate %",
        values: points.map((p) =>
          p.passed + p.failed > 0 ? Math.round((p.passed / (p.passed + p.failed)) * 1000) / 10 : null,
        ),
        color: "#2563eb",
      },
    ],
    [points],
  );
  const tiers = data?.tierDistribution ?? [];
  const tierTotal = tiers.reduce((sum, t) => sum + t.served, 0);
  const m = data?.metrics;

  return (
    <>
      <Notice error={error} />
      <section class="cards" aria-label="Metrics">
        <div class="card" data-metric="total_challenges">
          <span>Challenges served</span>
          <strong>{m?.total_challenges.toLocaleString() ?? "…"}</strong>
        </div>
        <div class="card" data-metric="solve_rate_pct">
          <span>Solve rate</span>
          <strong>{m ? `${m.solve_rate_pct}%` : "…"}</strong>
          <small>
            {m
              ? `${m.challenges_passed.toLocaleString()} passed · ${m.challenges_failed.toLocaleString()} failed`
              : ""}
          </small>
        </div>
        <div class="card" data-metric="recent_sessions">
          <span>Sessions, last 15 min</span>
          <strong>{m?.recent_sessions.toLocaleString() ?? "…"}</strong>
        </div>
        <div class="card" data-metric="total_items">
          <span>Items</span>
          <strong>{m?.total_items.toLocaleString() ?? "…"}</strong>
        </div>
      </section>

      <div class="row">
        <label>
          Resolution{" "}
          <select
            value={resolution}
            onChange={(e) => setResolution((e.currentTarget as HTMLSelectElement).value as "minute" | "hour")}
          >
            <option value="minute">per minute (last hour)</option>
            <option value="hour">per hour (last 48 hours)</option>
          </select>
        </label>
        <span class="live" role="status">
          updates every 5 s
        </span>
      </div>
      <div class="charts">
        <Chart id="traffic" title="Challenges per bucket" x={x} series={traffic} yLabel="challenges" />
        <Chart
          id="solve-rate"
          title="Solve rate"
          x={x}
          series={solveRate}
          yLabel="%"
          yRange={[0, 100]}
          dots
        />
      </div>

      <section aria-labelledby="tiers-title">
        <h2 id="tiers-title">Tier distribution</h2>
        <ul class="bars" data-chart="tiers">
          {tiers.map((t) => {
            const pct = tierTotal > 0 ? Math.round((t.served / tierTotal) * 1000) / 10 : 0;
            return (
              <li key={t.tier} data-tier={t.tier}>
                <span class="bar-label">{TIER_NAMES[t.tier] ?? `Tier ${t.tier}`}</span>
                <span class="bar" aria-hidden="true">
                  <span style={{ width: `${pct}%` }} />
                </span>
                <span class="bar-value">
                  {t.served.toLocaleString()} ({pct}%)
                </span>
              </li>
            );
          })}
        </ul>
      </section>
    </>
  );
}
