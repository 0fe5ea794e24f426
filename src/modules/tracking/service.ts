// Experiment tracking: projects, runs, metric ingestion and reads. Routers and HTTP routes stay thin and
// call this service; it receives its dependencies (database, events, artifact store, limits, clock).
import { randomBytes } from "node:crypto";
import { endianness } from "node:os";
import type { Readable } from "node:stream";
import type { TrackingConfig } from "../../config.js";
import type { PrismaClient } from "../../generated/prisma/client.js";
import { copyBinaryRows } from "../../platform/copy-binary.js";
import type { Database } from "../../platform/db.js";
import { AppError, ConflictError, NotFoundError, ValidationError } from "../../platform/errors.js";
import type { ArtifactStore } from "./artifacts.js";
import type { MetricEvent, TrackingEvents } from "./events.js";
import { lttbIndices } from "./lttb.js";
import {
  LIMITS,
  type MetricRecordInput,
  type MetricValue,
  type ProjectWire,
  type RunDetailWire,
  type RunWire,
} from "./tracking.schema.js";

/** A wip run with no activity for this long reads as `maybe_failed`. */
export const MAYBE_FAILED_AFTER_MS = 60 * 60 * 1000;

export interface TrackingServiceDeps {
  prisma: PrismaClient;
  /** Bulk reads of packed series (binary COPY). */
  db: Pick<Database, "kind" | "copyBinary">;
  events: TrackingEvents;
  artifacts: ArtifactStore;
  config: TrackingConfig;
  now?: () => Date;
}

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

const runInclude = {
  project: { select: { name: true } },
  series: { select: { name: true }, orderBy: { name: "asc" } },
  _count: { select: { artifacts: true } },
} as const;

type RunRow = Awaited<ReturnType<PrismaClient["trackingRun"]["findFirstOrThrow"]>> & {
  project: { name: string };
  series: { name: string }[];
  _count: { artifacts: number };
};

export class TrackingService {
  readonly #db: PrismaClient;
  readonly #reader: Pick<Database, "kind" | "copyBinary">;
  readonly #events: TrackingEvents;
  readonly #now: () => Date;
  readonly artifacts: ArtifactStore;
  readonly config: TrackingConfig;

  constructor(deps: TrackingServiceDeps) {
    this.#db = deps.prisma;
    this.#reader = deps.db;
    this.#events = deps.events;
    this.artifacts = deps.artifacts;
    this.config = deps.config;
    this.#now = deps.now ?? (() => new Date());
  }

  get events(): TrackingEvents {
    return this.#events;
  }

  // ── projects ─────────────────────────────────────────────────────────────────────────────────────────

  /** Projects, newest activity first; `q` matches a substring of the name or a tag (case-insensitive). */
  async listProjects(q?: string): Promise<ProjectWire[]> {
    const projects = await this.#db.trackingProject.findMany({
      include: {
        _count: { select: { runs: true } },
        runs: { select: { lastActivityAt: true }, orderBy: { lastActivityAt: "desc" }, take: 1 },
      },
      orderBy: { name: "asc" },
    });
    const needle = q?.trim().toLowerCase();
    return projects
      .filter(
        (p) =>
          !needle ||
          p.name.toLowerCase().includes(needle) ||
          p.tags.some((tag) => tag.toLowerCase().includes(needle)),
      )
      .map((p) => ({
        name: p.name,
        notes: p.notes,
        tags: p.tags,
        run_count: p._count.runs,
        last_update: p.runs[0]?.lastActivityAt.toISOString() ?? null,
        created_at: p.createdAt.toISOString(),
        updated_at: p.updatedAt.toISOString(),
      }))
      .sort((a, b) => (b.last_update ?? b.created_at).localeCompare(a.last_update ?? a.created_at));
  }

  async #project(name: string) {
    const project = await this.#db.trackingProject.findUnique({ where: { name } });
    if (!project) throw new NotFoundError(`Project '${name}' not found`);
    return project;
  }

  async projectExists(name: string): Promise<boolean> {
    return (await this.#db.trackingProject.count({ where: { name } })) > 0;
  }

  async projectMetadata(name: string) {
    const project = await this.#project(name);
    return {
      notes: project.notes,
      tags: project.tags,
      created_at: project.createdAt.toISOString(),
      updated_at: project.updatedAt.toISOString(),
    };
  }

  async updateProjectMetadata(name: string, update: { notes?: string; tags?: string[] }) {
    await this.#project(name);
    await this.#db.trackingProject.update({
      where: { name },
      data: { notes: update.notes, tags: update.tags && dedupe(update.tags) },
    });
    return this.projectMetadata(name);
  }

  async deleteProject(name: string): Promise<{ message: string }> {
    const project = await this.#project(name);
    const artifacts = await this.#db.trackingArtifact.findMany({
      where: { run: { projectId: project.id } },
      select: { storageKey: true },
    });
    await this.#db.trackingProject.delete({ where: { id: project.id } });
    await this.artifacts.remove(artifacts.map((a) => a.storageKey));
    return { message: `Project '${name}' deleted successfully` };
  }

  // ── runs ─────────────────────────────────────────────────────────────────────────────────────────────

  async #runRow(project: string, run: string): Promise<RunRow> {
    const row = await this.#db.trackingRun.findFirst({
      where: { name: run, project: { name: project } },
      include: runInclude,
    });
    if (!row) {
      await this.#project(project);
      throw new NotFoundError(`Run '${run}' not found in project '${project}'`);
    }
    return row as RunRow;
  }

  async #runId(project: string, run: string): Promise<{ id: number; lastStep: number; pointCount: number }> {
    const row = await this.#db.trackingRun.findFirst({
      where: { name: run, project: { name: project } },
      select: { id: true, lastStep: true, pointCount: true },
    });
    if (!row) {
      await this.#project(project);
      throw new NotFoundError(`Run '${run}' not found in project '${project}'`);
    }
    return row;
  }

  #status(row: { status: string; lastActivityAt: Date }): RunWire["status"] {
    if (row.status === "wip" && this.#now().getTime() - row.lastActivityAt.getTime() > MAYBE_FAILED_AFTER_MS)
      return "maybe_failed";
    return row.status as RunWire["status"];
  }

  #toWire(row: RunRow): RunWire {
    const params = (row.config ?? {}) as Record<string, unknown>;
    return {
      project: row.project.name,
      name: row.name,
      status: this.#status(row),
      is_finished: row.status !== "wip",
      exit_code: row.exitCode,
      tags: row.tags,
      notes: row.notes,
      params,
      param_count: Object.keys(params).length,
      metric_names: row.series.map((s) => s.name),
      artifact_count: row._count.artifacts,
      last_step: row.lastStep >= 0 ? row.lastStep : null,
      start_time: row.startedAt.toISOString(),
      finish_time: row.finishedAt?.toISOString() ?? null,
      last_update: row.lastActivityAt.toISOString(),
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
    };
  }

  /**
   * Creates the run, or resumes it when a run of that name exists (status back to wip, config merged, tags
   * added, notes replaced when given). The project is created on first use.
   */
  async createOrResumeRun(
    projectName: string,
    input: { name?: string; config?: Record<string, unknown>; tags?: string[]; notes?: string },
  ): Promise<{ run: RunWire; resumed: boolean }> {
    const name = input.name ?? generateRunName(this.#now());
    const project = await this.#db.trackingProject.upsert({
      where: { name: projectName },
      create: { name: projectName },
      update: {},
    });
    const now = this.#now();
    let existing = await this.#db.trackingRun.findUnique({
      where: { projectId_name: { projectId: project.id, name } },
    });
    if (!existing) {
      try {
        await this.#db.trackingRun.create({
          data: {
            projectId: project.id,
            name,
            config: (input.config ?? {}) as object,
            tags: dedupe(input.tags ?? []),
            notes: input.notes ?? "",
            startedAt: now,
            lastActivityAt: now,
          },
        });
      } catch (error) {
        if ((error as { code?: string }).code !== "P2002") throw error;
        // Created concurrently by another request: resume it below.
        existing = await this.#db.trackingRun.findUniqueOrThrow({
          where: { projectId_name: { projectId: project.id, name } },
        });
      }
    }
    if (existing) {
      const tags = dedupe([...existing.tags, ...(input.tags ?? [])]);
      if (tags.length > LIMITS.tags)
        throw ValidationError.field(["body", "tags"], `A run holds at most ${LIMITS.tags} tags`);
      await this.#db.trackingRun.update({
        where: { id: existing.id },
        data: {
          status: "wip",
          exitCode: null,
          finishedAt: null,
          lastActivityAt: now,
          tags,
          config: { ...(existing.config as object), ...(input.config ?? {}) } as object,
          ...(input.notes !== undefined && { notes: input.notes }),
        },
      });
    }
    const run = this.#toWire(await this.#runRow(projectName, name));
    await this.#publishStatus(run);
    return { run, resumed: Boolean(existing) };
  }

  async #publishStatus(run: RunWire): Promise<void> {
    await this.#events.publish(run.project, {
      kind: "status",
      status: {
        project: run.project,
        run: run.name,
        status: run.status,
        is_finished: run.is_finished,
        exit_code: run.exit_code,
        timestamp_ms: Date.parse(run.last_update),
      },
    });
  }

  async listRuns(project: string): Promise<RunWire[]> {
    const projectRow = await this.#project(project);
    const rows = await this.#db.trackingRun.findMany({
      where: { projectId: projectRow.id },
      include: runInclude,
      orderBy: { startedAt: "desc" },
    });
    return rows.map((row) => this.#toWire(row as RunRow));
  }

  async getRun(project: string, run: string): Promise<RunWire> {
    return this.#toWire(await this.#runRow(project, run));
  }

  async runDetail(project: string, run: string): Promise<RunDetailWire> {
    const row = await this.#runRow(project, run);
    const [latest, artifacts] = await Promise.all([
      this.#db.$queryRawUnsafe<{ name: string; value: number }[]>(
        `SELECT DISTINCT ON (s.id) s.name, p.value
           FROM tracking_metric_series s JOIN tracking_metric_points p ON p.series_id = s.id
          WHERE s.run_id = $1 ORDER BY s.id, p.step DESC`,
        row.id,
      ),
      this.listArtifacts(project, run, row.id),
    ]);
    return {
      ...this.#toWire(row),
      latest_metrics: Object.fromEntries(
        latest.map((m) => [m.name, Number.isFinite(m.value) ? m.value : null]),
      ),
      artifacts,
    };
  }

  async setConfig(project: string, run: string, config: Record<string, unknown>, replace = false) {
    const row = await this.#runRow(project, run);
    await this.#db.trackingRun.update({
      where: { id: row.id },
      data: {
        config: (replace ? config : { ...(row.config as object), ...config }) as object,
        lastActivityAt: this.#now(),
      },
    });
    return this.getRun(project, run);
  }

  async addTags(project: string, run: string, tags: string[]) {
    const row = await this.#runRow(project, run);
    const merged = dedupe([...row.tags, ...tags]);
    if (merged.length > LIMITS.tags)
      throw ValidationError.field(["body", "tags"], `A run holds at most ${LIMITS.tags} tags`);
    await this.#db.trackingRun.update({ where: { id: row.id }, data: { tags: merged } });
    return this.getRun(project, run);
  }

  /** exit code 0 → completed, anything else → failed. Finishing again just records the new outcome. */
  async finish(project: string, run: string, exitCode: number) {
    const row = await this.#runRow(project, run);
    const now = this.#now();
    await this.#db.trackingRun.update({
      where: { id: row.id },
      data: {
        status: exitCode === 0 ? "completed" : "failed",
        exitCode,
        finishedAt: now,
        lastActivityAt: now,
      },
    });
    const wire = await this.getRun(project, run);
    await this.#publishStatus(wire);
    return wire;
  }

  async runMetadata(project: string, run: string) {
    const wire = await this.getRun(project, run);
    return {
      notes: wire.notes,
      tags: wire.tags,
      created_at: wire.created_at,
      updated_at: wire.updated_at,
      params: wire.params,
      status: wire.status,
      is_finished: wire.is_finished,
      exit_code: wire.exit_code,
      start_time: wire.start_time,
      finish_time: wire.finish_time,
    };
  }

  async updateRunMetadata(project: string, run: string, update: { notes?: string; tags?: string[] }) {
    const row = await this.#runRow(project, run);
    await this.#db.trackingRun.update({
      where: { id: row.id },
      data: { notes: update.notes, tags: update.tags && dedupe(update.tags) },
    });
    return this.runMetadata(project, run);
  }

  async deleteRun(project: string, run: string): Promise<{ message: string }> {
    const row = await this.#runId(project, run);
    const artifacts = await this.#db.trackingArtifact.findMany({
      where: { runId: row.id },
      select: { storageKey: true },
    });
    await this.#db.trackingRun.delete({ where: { id: row.id } });
    await this.artifacts.remove(artifacts.map((a) => a.storageKey));
    return { message: `Run '${project}/${run}' deleted successfully` };
  }

  // ── metrics ──────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Writes a batch of records (≤ 10,000 points) with one multi-row insert. A (metric, step) written again
   * overwrites the earlier value, so replaying a batch never duplicates points.
   */
  async logMetrics(
    project: string,
    run: string,
    records: MetricRecordInput[],
  ): Promise<{ records: number; points: number; last_step: number | null }> {
    const row = await this.#runId(project, run);
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
            : Date.parse(record.timestamp);
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
    if (row.pointCount + points.size > this.config.maxPointsPerRun) {
      throw ValidationError.field(
        ["body", "records"],
        `A run holds at most ${this.config.maxPointsPerRun} points (this one has ${row.pointCount})`,
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
    const threshold = query.threshold ?? this.config.lttbThreshold;
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
    const row = await this.#runId(project, run);
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
    const projectRow = await this.#project(project);
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
        ORDER BY ts, r.name, p.step
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

  // ── artifacts ────────────────────────────────────────────────────────────────────────────────────────

  async listArtifacts(project: string, run: string, runId?: number) {
    const id = runId ?? (await this.#runId(project, run)).id;
    const rows = await this.#db.trackingArtifact.findMany({ where: { runId: id }, orderBy: { name: "asc" } });
    return rows.map((a) => ({
      name: a.name,
      size: Number(a.size),
      content_type: a.contentType,
      created_at: a.createdAt.toISOString(),
      storageKey: a.storageKey,
    }));
  }

  /** Stores an uploaded file; a file of the same name on the same run is replaced. */
  async addArtifact(project: string, run: string, name: string, contentType: string, source: Readable) {
    const row = await this.#runId(project, run);
    const saved = await this.artifacts.save(source);
    // Multipart streams stop at the size limit and say so with `truncated`.
    if ((source as { truncated?: boolean }).truncated) {
      await this.artifacts.remove([saved.key]);
      throw new PayloadTooLargeError(
        `Artifacts are limited to ${Math.round((this.config.maxArtifactBytes / 1024 / 1024) * 100) / 100} MB each`,
      );
    }
    const previous = await this.#db.trackingArtifact.findUnique({
      where: { runId_name: { runId: row.id, name } },
    });
    try {
      const artifact = await this.#db.trackingArtifact.upsert({
        where: { runId_name: { runId: row.id, name } },
        create: { runId: row.id, name, size: saved.size, contentType, storageKey: saved.key },
        update: { size: saved.size, contentType, storageKey: saved.key, createdAt: this.#now() },
      });
      if (previous) await this.artifacts.remove([previous.storageKey]);
      await this.#db.trackingRun.update({ where: { id: row.id }, data: { lastActivityAt: this.#now() } });
      return {
        name: artifact.name,
        size: Number(artifact.size),
        content_type: artifact.contentType,
        created_at: artifact.createdAt.toISOString(),
      };
    } catch (error) {
      await this.artifacts.remove([saved.key]);
      if ((error as { code?: string }).code === "P2002")
        throw new ConflictError(`Artifact '${name}' is being uploaded concurrently`);
      throw error;
    }
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
export function jsonSeries(series: RawSeries) {
  return { ...series, values: series.values.map((v) => (Number.isFinite(v) ? v : null)) };
}

function dedupe(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim()))];
}

const ADJECTIVES = ["amber", "brisk", "calm", "dapper", "eager", "fuzzy", "gentle", "hasty", "icy", "jolly"];
const NOUNS = ["otter", "falcon", "maple", "comet", "badger", "lynx", "heron", "cedar", "quartz", "wren"];

/** e.g. `calm-heron-20250110-a3f9`: readable, sortable by day, unique enough to retry on conflict. */
export function generateRunName(now: Date): string {
  const bytes = randomBytes(4);
  const day = now.toISOString().slice(0, 10).replaceAll("-", "");
  return `${ADJECTIVES[bytes[0]! % ADJECTIVES.length]}-${NOUNS[bytes[1]! % NOUNS.length]}-${day}-${bytes.subarray(2).toString("hex")}`;
}

export class PayloadTooLargeError extends AppError {
  constructor(detail: string) {
    super("PAYLOAD_TOO_LARGE", 413, detail);
  }
}
