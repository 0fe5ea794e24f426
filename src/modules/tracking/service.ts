// Experiment tracking: one service for the router and the HTTP routes, composed of one service per concern
// (services/projects.ts, runs.ts, metrics.ts, artifacts.ts). It receives its dependencies (database, events,
// artifact store, limits, clock) and hands each part only what it needs.
import type { Readable } from "node:stream";
import type { TrackingConfig } from "../../config.js";
import type { PrismaClient } from "../../generated/prisma/client.js";
import type { Database } from "../../platform/db.js";
import type { ArtifactStore } from "./artifacts.js";
import type { MetricEvent, TrackingEvents } from "./events.js";
import { TrackingArtifacts } from "./services/artifacts.js";
import { type MetricsQuery, type RawSeries, TrackingMetrics } from "./services/metrics.js";
import { TrackingProjects } from "./services/projects.js";
import { TrackingRuns } from "./services/runs.js";
import type { MetricRecordInput, ProjectWire, RunDetailWire, RunWire } from "./tracking.schema.js";

export { PayloadTooLargeError } from "./services/artifacts.js";
export { downsample, jsonSeries, type MetricsQuery, type RawSeries } from "./services/metrics.js";
export { generateRunName, MAYBE_FAILED_AFTER_MS } from "./services/runs.js";

export interface TrackingServiceDeps {
  prisma: PrismaClient;
  /** Bulk reads of packed series (binary COPY). */
  db: Pick<Database, "kind" | "copyBinary">;
  events: TrackingEvents;
  artifacts: ArtifactStore;
  config: TrackingConfig;
  now?: () => Date;
}

export class TrackingService {
  readonly #events: TrackingEvents;
  readonly #projects: TrackingProjects;
  readonly #runs: TrackingRuns;
  readonly #metrics: TrackingMetrics;
  readonly #artifacts: TrackingArtifacts;
  readonly artifacts: ArtifactStore;
  readonly config: TrackingConfig;

  constructor(deps: TrackingServiceDeps) {
    this.#events = deps.events;
    this.artifacts = deps.artifacts;
    this.config = deps.config;
    const store = { prisma: deps.prisma, now: deps.now ?? (() => new Date()) };
    this.#projects = new TrackingProjects({ ...store, files: deps.artifacts });
    this.#metrics = new TrackingMetrics({ ...store, db: deps.db, events: deps.events, config: deps.config });
    this.#artifacts = new TrackingArtifacts({
      ...store,
      files: deps.artifacts,
      maxArtifactBytes: deps.config.maxArtifactBytes,
    });
    this.#runs = new TrackingRuns({
      ...store,
      events: deps.events,
      files: deps.artifacts,
      metrics: this.#metrics,
      artifacts: this.#artifacts,
    });
  }

  get events(): TrackingEvents {
    return this.#events;
  }

  // ── projects ─────────────────────────────────────────────────────────────────────────────────────────

  /** Projects, newest activity first; `q` matches a substring of the name or a tag (case-insensitive). */
  listProjects(q?: string): Promise<ProjectWire[]> {
    return this.#projects.listProjects(q);
  }

  projectExists(name: string): Promise<boolean> {
    return this.#projects.projectExists(name);
  }

  projectMetadata(name: string) {
    return this.#projects.projectMetadata(name);
  }

  updateProjectMetadata(name: string, update: { notes?: string; tags?: string[] }) {
    return this.#projects.updateProjectMetadata(name, update);
  }

  deleteProject(name: string): Promise<{ message: string }> {
    return this.#projects.deleteProject(name);
  }

  // ── runs ─────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Creates the run; a run of that name that exists is resumed when `resume` is true (status back to wip,
   * config merged, tags added, notes replaced when given), a 409 otherwise. The project is created on first
   * use; `project_tags` are added to the project's tags.
   */
  createOrResumeRun(
    projectName: string,
    input: Parameters<TrackingRuns["createOrResumeRun"]>[1],
  ): ReturnType<TrackingRuns["createOrResumeRun"]> {
    return this.#runs.createOrResumeRun(projectName, input);
  }

  listRuns(project: string): Promise<RunWire[]> {
    return this.#runs.listRuns(project);
  }

  getRun(project: string, run: string): Promise<RunWire> {
    return this.#runs.getRun(project, run);
  }

  runDetail(project: string, run: string): Promise<RunDetailWire> {
    return this.#runs.runDetail(project, run);
  }

  setConfig(project: string, run: string, config: Record<string, unknown>, replace = false) {
    return this.#runs.setConfig(project, run, config, replace);
  }

  setSummary(project: string, run: string, summary: Record<string, unknown>) {
    return this.#runs.setSummary(project, run, summary);
  }

  setTags(project: string, run: string, tags: string[]) {
    return this.#runs.setTags(project, run, tags);
  }

  addTags(project: string, run: string, tags: string[]) {
    return this.#runs.addTags(project, run, tags);
  }

  /** exit code 0 → completed, anything else → failed. Finishing again just records the new outcome. */
  finish(project: string, run: string, exitCode: number) {
    return this.#runs.finish(project, run, exitCode);
  }

  runMetadata(project: string, run: string) {
    return this.#runs.runMetadata(project, run);
  }

  updateRunMetadata(project: string, run: string, update: { notes?: string; tags?: string[] }) {
    return this.#runs.updateRunMetadata(project, run, update);
  }

  deleteRun(project: string, run: string): Promise<{ message: string }> {
    return this.#runs.deleteRun(project, run);
  }

  // ── metrics ──────────────────────────────────────────────────────────────────────────────────────────

  /** Writes a batch of records; a (metric, step) written again overwrites the earlier value. */
  logMetrics(
    project: string,
    run: string,
    records: MetricRecordInput[],
  ): Promise<{ records: number; points: number; last_step: number | null }> {
    return this.#metrics.logMetrics(project, run, records);
  }

  /** One run's metrics: `{metric: {steps, values, timestamps}}`. */
  runMetrics(project: string, run: string, query: MetricsQuery): Promise<Record<string, RawSeries>> {
    return this.#metrics.runMetrics(project, run, query);
  }

  /** Several runs' metrics, metric-first: `{metric: {run: {steps, values, timestamps}}}`. */
  runsMetrics(
    project: string,
    runs: string[],
    query: MetricsQuery,
  ): Promise<Record<string, Record<string, RawSeries>>> {
    return this.#metrics.runsMetrics(project, runs, query);
  }

  /** Logged records with timestamp ≥ since, oldest first: what a reconnecting stream missed. */
  recordsSince(project: string, runs: string[] | null, since: number): Promise<MetricEvent[]> {
    return this.#metrics.recordsSince(project, runs, since);
  }

  // ── artifacts ────────────────────────────────────────────────────────────────────────────────────────

  listArtifacts(project: string, run: string, runId?: number) {
    return this.#artifacts.list(project, run, runId);
  }

  /** Stores an uploaded file; a file of the same name on the same run is replaced. */
  addArtifact(
    project: string,
    run: string,
    name: string,
    contentType: string,
    source: Readable,
    details?: { description?: string | null; category?: string | null },
  ) {
    return this.#artifacts.add(project, run, name, contentType, source, details);
  }
}
