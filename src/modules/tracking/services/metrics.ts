// Tracking metrics: batched ingestion (points plus packed chunks), downsampled reads with a per-instance
// cache, and the records a reconnecting live stream missed.
import { endianness } from "node:os";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { copyBinaryRows } from "../../../platform/copy-binary.js";
import type { Database } from "../../../platform/db.js";
import { ValidationError } from "../../../platform/errors.js";
import type { MetricEvent, TrackingEvents } from "../events.js";
import { lttbIndices } from "../lttb.js";
import { LIMITS, type MetricRecordInput, type MetricValue } from "../tracking.schema.js";
import { findProject, findRunId, type TrackingStoreDeps } from "./shared.js";

/** Raw series as read from the database: values may be NaN/±Infinity (JSON callers map them to null). */
export interface RawSeries {
  steps: number[];
  values: number[];
  timestamps: number[];
}

export interface MetricsQuery {
  since?: number;
  threshold?: number;
}

export class TrackingMetrics {
  readonly #db: PrismaClient;
  readonly #reader: Pick<Database, "kind" | "copyBinary">;
  readonly #events: TrackingEvents;
  readonly #now: () => Date;
  readonly #config: { lttbThreshold: number; maxPointsPerRun: number };

  constructor(
    deps: TrackingStoreDeps & {
      db: Pick<Database, "kind" | "copyBinary">;
      events: TrackingEvents;
      config: { lttbThreshold: number; maxPointsPerRun: number };
    },
  ) {
    this.#db = deps.prisma;
    this.#reader = deps.db;
    this.#events = deps.events;
    this.#now = deps.now;
    this.#config = deps.config;
  }

  /**
   * Writes a batch of records (≤ 10,000 points) with one multi-row insert. A (metric, step) written again
   * overwrites the earlier value, so replaying a batch never duplicates points.
   */
  async logMetrics(
    project: string,
    run: string,
    records: MetricRecordInput[],
  ): Promise<{ records: number; points: number; last_step: number | null }> {
    const row = await findRunId(this.#db, project, run);
    const nowMs = this.#now().getTime();

    // Steps first: records without one continue from the run's last step, in order.
    let nextStep = row.lastStep + 1;
    const resolved = records.map((record) => {
      const step = record.step ?? nextStep;
      nextStep = Math.max(nextStep, step + 1);
      const timestamp =
        record.timestamp === undefined
          ? nowMs
          : typeof record.timestamp === "number"
            ? record.timestamp
            : parseIsoUtc(record.timestamp);
      return { step, timestamp, metrics: record.metrics };
    });
    const lastStep = nextStep - 1;

    const names = new Set<string>();
    for (const record of resolved) for (const name of Object.keys(record.metrics)) names.add(name);
    const seriesIds = await this.#ensureSeries(row.id, [...names]);

    // One value per (metric, step): the last record of the batch wins (ON CONFLICT needs distinct keys).
    const points = new Map<string, { series: number; step: number; value: string; ts: number }>();
    for (const record of resolved) {
      for (const [name, value] of Object.entries(record.metrics)) {
        const series = seriesIds.get(name)!;
        points.set(`${series}:${record.step}`, {
          series,
          step: record.step,
          value: valueText(value),
          ts: record.timestamp,
        });
      }
    }
    if (row.pointCount + points.size > this.#config.maxPointsPerRun) {
      throw ValidationError.field(
        ["body", "records"],
        `A run holds at most ${this.#config.maxPointsPerRun} points (this one has ${row.pointCount})`,
        "limit_exceeded",
      );
    }

    const series: number[] = [];
    const steps: number[] = [];
    const values: string[] = [];
    const timestamps: number[] = [];
    for (const point of points.values()) {
      series.push(point.series);
      steps.push(point.step);
      values.push(point.value);
      timestamps.push(point.ts);
    }
    const touchedSeries = [...new Set(series)].sort((a, b) => a - b);
    await this.#db.$transaction([
      // Writers of the same series take turns, so each chunk rebuild sees every committed point.
      this.#db.$queryRawUnsafe(LOCK_SERIES, touchedSeries),
      this.#db.$executeRawUnsafe(INSERT_POINTS, series, steps, values, timestamps),
      this.#db.$executeRawUnsafe(REBUILD_CHUNKS, series, steps),
      this.#db.$executeRawUnsafe(
        `UPDATE tracking_runs SET last_step = GREATEST(last_step, $2), point_count = point_count + $3,
                last_activity_at = $4, updated_at = $4 WHERE id = $1`,
        row.id,
        lastStep,
        points.size,
        new Date(nowMs),
      ),
    ]);

    await this.#events.publish(project, {
      kind: "metric",
      records: resolved.map((record) => ({
        project,
        run,
        step: record.step,
        timestamp_ms: record.timestamp,
        metrics: Object.fromEntries(
          Object.entries(record.metrics).map(([name, value]) => [name, finiteOrNull(value)]),
        ),
      })),
    });
    return { records: records.length, points: points.size, last_step: lastStep >= 0 ? lastStep : null };
  }

  /** Ids of the run's series for these metric names, creating the missing ones within the per-run limit. */
  async #ensureSeries(runId: number, names: string[]): Promise<Map<string, number>> {
    const existing = await this.#db.trackingSeries.findMany({
      where: { runId },
      select: { id: true, name: true },
    });
    const ids = new Map(existing.map((s) => [s.name, s.id]));
    const missing = names.filter((name) => !ids.has(name));
    if (missing.length === 0) return ids;
    if (ids.size + missing.length > LIMITS.metricNamesPerRun) {
      throw ValidationError.field(
        ["body", "records"],
        `A run holds at most ${LIMITS.metricNamesPerRun} metric names (it has ${ids.size}, this batch adds ${missing.length})`,
        "limit_exceeded",
      );
    }
    await this.#db.trackingSeries.createMany({
      data: missing.map((name) => ({ runId, name })),
      skipDuplicates: true,
    });
    const created = await this.#db.trackingSeries.findMany({
      where: { runId, name: { in: missing } },
      select: { id: true, name: true },
    });
    for (const s of created) ids.set(s.name, s.id);
    return ids;
  }

  /**
   * Every series of these runs, LTTB-downsampled above the threshold. Downsampled series are cached per
   * instance, keyed by series and threshold and checked against the run's write version (point count and
   * last activity), so a dashboard re-reading unchanged runs never re-reads their raw points. Raw points are
   * read as packed binary arrays (one bytea per column and series), several times faster than row by row.
   */
  async #readSeries(
    runIds: number[],
    query: MetricsQuery,
  ): Promise<{ runId: number; name: string; series: RawSeries }[]> {
    const threshold = query.threshold ?? this.#config.lttbThreshold;
    const catalog = await this.#db.$queryRawUnsafe<
      { id: number; run_id: number; name: string; point_count: number; activity: number }[]
    >(
      `SELECT s.id, s.run_id, s.name, r.point_count,
              (extract(epoch FROM r.last_activity_at) * 1000)::float8 AS activity
         FROM tracking_metric_series s JOIN tracking_runs r ON r.id = s.run_id
        WHERE s.run_id = ANY($1::int4[])
        ORDER BY s.name, s.run_id`,
      runIds,
    );
    const results = new Map<number, RawSeries>();
    const missing: number[] = [];
    const keyOf = (id: number) => `${id}:${threshold}`;
    const versionOf = (row: (typeof catalog)[number]) => `${row.point_count}:${row.activity}`;
    for (const row of catalog) {
      const cached = query.since === undefined ? this.#cache.get(keyOf(row.id)) : undefined;
      if (cached && cached.version === versionOf(row)) results.set(row.id, cached.series);
      else missing.push(row.id);
    }
    if (missing.length > 0) {
      for (const [id, series] of await this.#readDownsampled(missing, threshold, query.since)) {
        results.set(id, series);
        if (query.since === undefined) {
          const row = catalog.find((r) => r.id === id)!;
          this.#remember(keyOf(id), { version: versionOf(row), series });
        }
      }
    }
    return catalog
      .filter((row) => results.has(row.id))
      .map((row) => ({ runId: row.run_id, name: row.name, series: results.get(row.id)! }));
  }

  /**
   * Reads the raw points of these series and downsamples each as soon as its row arrives (so at most one
   * raw series per connection is in memory). Whole series (no `since`) come from their packed chunks
   * (tracking_metric_chunks, ~100 rows per 100,000 points, concatenated per series on the server); with
   * `since`, the matching rows are packed the same way on the fly. Both travel as binary COPY (see
   * copy-binary.ts): bytes as stored, no hex text, no per-value parsing. On PostgreSQL the series are split
   * over READ_CONNECTIONS pooled connections read in parallel, so the server's work overlaps ours.
   */
  async #readDownsampled(
    seriesIds: number[],
    threshold: number,
    since: number | undefined,
  ): Promise<Map<number, RawSeries>> {
    const out = new Map<number, RawSeries>();
    const parts = this.#reader.kind === "postgres" ? READ_CONNECTIONS : 1;
    const groups = Array.from({ length: Math.min(parts, seriesIds.length) }, (_, g) =>
      seriesIds.filter((_, i) => i % parts === g),
    );
    await Promise.all(
      groups.map(async (group) => {
        for await (const [id, steps, values, timestamps] of copyBinaryRows(
          this.#reader.copyBinary(packedSeriesSql(group, since)),
        )) {
          out.set(id!.readInt32BE(0), downsample(unpackSeries(steps!, values!, timestamps!), threshold));
        }
      }),
    );
    return out;
  }

  /** Small LRU of downsampled series (each at most `threshold` points). */
  readonly #cache = new Map<string, { version: string; series: RawSeries }>();

  #remember(key: string, entry: { version: string; series: RawSeries }): void {
    this.#cache.delete(key);
    this.#cache.set(key, entry);
    while (this.#cache.size > SERIES_CACHE_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
  }

  /** One run's metrics: `{metric: {steps, values, timestamps}}`. */
  async runMetrics(project: string, run: string, query: MetricsQuery): Promise<Record<string, RawSeries>> {
    const row = await findRunId(this.#db, project, run);
    const series = await this.#readSeries([row.id], query);
    return Object.fromEntries(series.map((s) => [s.name, s.series]));
  }

  /**
   * Several runs' metrics, metric-first: `{metric: {run: {steps, values, timestamps}}}`. Unknown run names
   * are left out (as upstream does); an unknown project is a 404.
   */
  async runsMetrics(
    project: string,
    runs: string[],
    query: MetricsQuery,
  ): Promise<Record<string, Record<string, RawSeries>>> {
    const projectRow = await findProject(this.#db, project);
    const rows = await this.#db.trackingRun.findMany({
      where: { projectId: projectRow.id, name: { in: runs } },
      select: { id: true, name: true },
    });
    const nameOf = new Map(rows.map((r) => [r.id, r.name]));
    const metrics: Record<string, Record<string, RawSeries>> = {};
    if (rows.length === 0) return metrics;
    for (const { runId, name, series } of await this.#readSeries([...nameOf.keys()], query)) {
      (metrics[name] ??= {})[nameOf.get(runId)!] = series;
    }
    return metrics;
  }

  /** Logged records (one per run and step) with timestamp ≥ since, oldest first: what a reconnecting stream missed. */
  async recordsSince(project: string, runs: string[] | null, since: number): Promise<MetricEvent[]> {
    const rows = await this.#db.$queryRawUnsafe<
      { run: string; step: number; ts: number; names: string[]; vals: number[] }[]
    >(
      `SELECT r.name AS run, p.step, (extract(epoch FROM max(p."timestamp")) * 1000)::float8 AS ts,
              array_agg(s.name ORDER BY s.name) AS names, array_agg(p.value ORDER BY s.name) AS vals
         FROM tracking_projects pr
         JOIN tracking_runs r ON r.project_id = pr.id
         JOIN tracking_metric_series s ON s.run_id = r.id
         JOIN tracking_metric_points p ON p.series_id = s.id
        WHERE pr.name = $1 AND p."timestamp" >= to_timestamp($2 / 1000.0)
          ${runs ? "AND r.name = ANY($3::text[])" : ""}
        GROUP BY r.name, p.step
        ORDER BY ts, r.name COLLATE "C", p.step
        LIMIT 100000`,
      project,
      since,
      ...(runs ? [runs] : []),
    );
    return rows.map((row) => ({
      project,
      run: row.run,
      step: row.step,
      timestamp_ms: Math.round(row.ts),
      metrics: Object.fromEntries(row.names.map((name, i) => [name, finiteOrNull(row.vals[i]!)])),
    }));
  }

  /** The value at the highest step of each of the run's metrics (null for NaN/±Infinity). */
  async latestValues(runId: number): Promise<Record<string, number | null>> {
    const latest = await this.#db.$queryRawUnsafe<{ name: string; value: number }[]>(
      `SELECT DISTINCT ON (s.id) s.name, p.value
         FROM tracking_metric_series s JOIN tracking_metric_points p ON p.series_id = s.id
        WHERE s.run_id = $1 ORDER BY s.id, p.step DESC`,
      runId,
    );
    return Object.fromEntries(latest.map((m) => [m.name, Number.isFinite(m.value) ? m.value : null]));
  }
}

const INSERT_POINTS = `
  INSERT INTO tracking_metric_points (series_id, step, value, "timestamp")
  SELECT s, st, v::float8, to_timestamp(t / 1000.0)
    FROM unnest($1::int4[], $2::int4[], $3::text[], $4::float8[]) AS u(s, st, v, t)
  ON CONFLICT (series_id, step) DO UPDATE SET value = EXCLUDED.value, "timestamp" = EXCLUDED."timestamp"`;

const LOCK_SERIES = `SELECT id FROM tracking_metric_series WHERE id = ANY($1::int4[]) ORDER BY id FOR NO KEY UPDATE`;

/**
 * Rebuilds every chunk (1,000 steps: chunk = step / 1000) that the batch touched from the points table, so the
 * packed copy always equals the rows, whatever was overwritten. The BETWEEN bounds let the primary key range
 * scan (int8: the last chunk of int4 steps ends past 2^31 - 1); steps are ≥ 0.
 */
const REBUILD_CHUNKS = `
  INSERT INTO tracking_metric_chunks (series_id, chunk, steps, "values", timestamps)
  SELECT p.series_id, t.c,
         string_agg(int4send(p.step), ''::bytea ORDER BY p.step),
         string_agg(float8send(p.value), ''::bytea ORDER BY p.step),
         string_agg(float8send((extract(epoch FROM p."timestamp") * 1000)::int8::float8), ''::bytea ORDER BY p.step)
    FROM (SELECT DISTINCT s, st / 1000 AS c FROM unnest($1::int4[], $2::int4[]) AS u(s, st)) t
    JOIN tracking_metric_points p ON p.series_id = t.s AND p.step BETWEEN t.c::int8 * 1000 AND t.c::int8 * 1000 + 999
   GROUP BY p.series_id, t.c
  ON CONFLICT (series_id, chunk) DO UPDATE
    SET steps = EXCLUDED.steps, "values" = EXCLUDED."values", timestamps = EXCLUDED.timestamps`;

const SERIES_CACHE_ENTRIES = 5_000;
const LITTLE_ENDIAN = endianness() === "LE";

/** Parallel binary COPY reads of one multi-series query (PostgreSQL; PGlite runs one query at a time). */
const READ_CONNECTIONS = 2;

/**
 * One row per series: `series_id, steps, values, timestamps`, each column a packed big-endian array in
 * step order (int4 steps, float8 values, float8 whole UNIX-ms timestamps). Only numbers are inlined.
 */
function packedSeriesSql(seriesIds: number[], since: number | undefined): string {
  if (!seriesIds.every(Number.isSafeInteger)) throw new TypeError("series ids must be integers");
  const ids = `'{${seriesIds.join(",")}}'::int4[]`;
  if (since === undefined) {
    return `SELECT series_id, string_agg(steps, ''::bytea ORDER BY chunk),
                   string_agg("values", ''::bytea ORDER BY chunk), string_agg(timestamps, ''::bytea ORDER BY chunk)
              FROM tracking_metric_chunks WHERE series_id = ANY(${ids}) GROUP BY series_id`;
  }
  if (!Number.isSafeInteger(since)) throw new TypeError("since must be an integer");
  return `SELECT p.series_id,
                 string_agg(int4send(p.step), ''::bytea ORDER BY p.step),
                 string_agg(float8send(p.value), ''::bytea ORDER BY p.step),
                 string_agg(float8send((extract(epoch FROM p."timestamp") * 1000)::int8::float8), ''::bytea ORDER BY p.step)
            FROM tracking_metric_points p
           WHERE p.series_id = ANY(${ids}) AND p."timestamp" >= to_timestamp(${since} / 1000.0)
           GROUP BY p.series_id`;
}

/**
 * Packed big-endian columns (as int4send / float8send write them, each in a buffer of its own) as typed
 * arrays: swapped to the machine's order in place (native code; x86 and ARM are little-endian).
 */
function unpackSeries(steps: Buffer, values: Buffer, timestamps: Buffer): RawSeries {
  const typed = <T>(
    bytes: Buffer,
    width: 4 | 8,
    Kind: new (b: ArrayBufferLike, o: number, n: number) => T,
  ) => {
    if (LITTLE_ENDIAN) {
      if (width === 4) bytes.swap32();
      else bytes.swap64();
    }
    return new Kind(bytes.buffer, bytes.byteOffset, bytes.byteLength / width);
  };
  return {
    steps: typed(steps, 4, Int32Array) as unknown as number[],
    values: typed(values, 8, Float64Array) as unknown as number[],
    timestamps: typed(timestamps, 8, Float64Array) as unknown as number[],
  };
}

/** float8 input text: exact for finite doubles, and PostgreSQL's spelling of NaN and ±Infinity. */
function valueText(value: MetricValue): string {
  return typeof value === "number" ? String(value) : value;
}

function finiteOrNull(value: MetricValue | number): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function downsample(series: RawSeries, threshold: number): RawSeries {
  if (series.steps.length <= threshold) {
    // Series read from chunks hold typed arrays: hand out plain arrays (JSON, null for non-finite values).
    if (Array.isArray(series.steps) && Array.isArray(series.values) && Array.isArray(series.timestamps))
      return series;
    return {
      steps: Array.from(series.steps),
      values: Array.from(series.values),
      timestamps: Array.from(series.timestamps),
    };
  }
  const kept = lttbIndices(series.steps, series.values, threshold);
  const pick = <T>(values: T[]) => Array.from(kept, (i) => values[i]!);
  return { steps: pick(series.steps), values: pick(series.values), timestamps: pick(series.timestamps) };
}

/** JSON has no NaN/Infinity: those values become null (msgpack keeps them). */
/**
 * An ISO 8601 date-time in UNIX ms; one without an offset (Python's `datetime.now().isoformat()`, which
 * Aspara's client may send) is UTC, as upstream reads it, not the server's local time.
 */
export function parseIsoUtc(value: string): number {
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`);
}

export function jsonSeries(series: RawSeries) {
  return { ...series, values: series.values.map((v) => (Number.isFinite(v) ? v : null)) };
}
