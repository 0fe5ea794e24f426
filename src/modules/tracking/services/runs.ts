// Tracking runs: create or resume, status (finish, maybe_failed), config, tags, metadata, deletion.
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, ValidationError } from "../../../platform/errors.js";
import type { ArtifactStore } from "../artifacts.js";
import type { TrackingEvents } from "../events.js";
import { LIMITS, type RunDetailWire, type RunWire } from "../tracking.schema.js";
import type { TrackingArtifacts } from "./artifacts.js";
import type { TrackingMetrics } from "./metrics.js";
import { dedupe, findProject, findRunId, runNotFound, type TrackingStoreDeps } from "./shared.js";

/** A wip run with no activity for this long reads as `maybe_failed`. */
export const MAYBE_FAILED_AFTER_MS = 60 * 60 * 1000;

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

export class TrackingRuns {
  readonly #db: PrismaClient;
  readonly #now: () => Date;
  readonly #events: TrackingEvents;
  readonly #files: ArtifactStore;
  readonly #metrics: TrackingMetrics;
  readonly #artifacts: TrackingArtifacts;

  constructor(
    deps: TrackingStoreDeps & {
      events: TrackingEvents;
      files: ArtifactStore;
      metrics: TrackingMetrics;
      artifacts: TrackingArtifacts;
    },
  ) {
    this.#db = deps.prisma;
    this.#now = deps.now;
    this.#events = deps.events;
    this.#files = deps.files;
    this.#metrics = deps.metrics;
    this.#artifacts = deps.artifacts;
  }

  async #runRow(project: string, run: string): Promise<RunRow> {
    const row = await this.#db.trackingRun.findFirst({
      where: { name: run, project: { name: project } },
      include: runInclude,
    });
    if (!row) throw await runNotFound(this.#db, project, run);
    return row as RunRow;
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
      summary: (row.summary ?? {}) as Record<string, unknown>,
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
   * Creates the run. A run of that name that exists already is resumed (status back to wip, config merged,
   * tags added, notes replaced when given) when `resume` is true, and is a 409 otherwise (as upstream). The
   * project is created on first use; `project_tags` are added to the project's tags (as upstream).
   */
  async createOrResumeRun(
    projectName: string,
    input: {
      name?: string;
      config?: Record<string, unknown>;
      tags?: string[];
      notes?: string;
      resume?: boolean;
      project_tags?: string[] | null;
    },
  ): Promise<{ run: RunWire; resumed: boolean; run_id: string }> {
    const name = input.name ?? generateRunName(this.#now());
    const project = await this.#db.trackingProject.upsert({
      where: { name: projectName },
      create: { name: projectName },
      update: {},
    });
    if (input.project_tags?.length) {
      const projectTags = dedupe([...project.tags, ...input.project_tags]);
      if (projectTags.length > LIMITS.tags)
        throw ValidationError.field(["body", "project_tags"], `A project holds at most ${LIMITS.tags} tags`);
      await this.#db.trackingProject.update({ where: { id: project.id }, data: { tags: projectTags } });
    }
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
    if (existing && !input.resume) throw new ConflictError("Run already exists");
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
    const row = await this.#runRow(projectName, name);
    const run = this.#toWire(row);
    await this.#publishStatus(run);
    return { run, resumed: Boolean(existing), run_id: publicRunId(row.id) };
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
    const projectRow = await findProject(this.#db, project);
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
    const [latestMetrics, artifacts] = await Promise.all([
      this.#metrics.latestValues(row.id),
      this.#artifacts.list(project, run, row.id),
    ]);
    // The storage key is internal (where the bytes are on disk): never on the wire.
    const files = artifacts.map(({ storageKey: _key, ...artifact }) => artifact);
    return { ...this.#toWire(row), latest_metrics: latestMetrics, artifacts: files };
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

  /** Replaces the run's summary (upstream's client sends the whole summary on every change). */
  async setSummary(project: string, run: string, summary: Record<string, unknown>) {
    const row = await this.#runRow(project, run);
    await this.#db.trackingRun.update({
      where: { id: row.id },
      data: { summary: summary as object, lastActivityAt: this.#now() },
    });
    return this.getRun(project, run);
  }

  /** Replaces the run's tags (upstream's `POST .../tags`). */
  async setTags(project: string, run: string, tags: string[]) {
    const row = await this.#runRow(project, run);
    await this.#db.trackingRun.update({ where: { id: row.id }, data: { tags: dedupe(tags) } });
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
    const row = await findRunId(this.#db, project, run);
    const artifacts = await this.#db.trackingArtifact.findMany({
      where: { runId: row.id },
      select: { storageKey: true },
    });
    await this.#db.trackingRun.delete({ where: { id: row.id } });
    await this.#files.remove(artifacts.map((a) => a.storageKey));
    return { message: `Run '${project}/${run}' deleted successfully` };
  }
}

/** Upstream's `run_id`: 16 hex characters, stable for the run's life (here derived from its row id). */
export function publicRunId(id: number): string {
  return id.toString(16).padStart(16, "0");
}

const ADJECTIVES = ["amber", "brisk", "calm", "dapper", "eager", "fuzzy", "gentle", "hasty", "icy", "jolly"];
const NOUNS = ["otter", "falcon", "maple", "comet", "badger", "lynx", "heron", "cedar", "quartz", "wren"];

/** e.g. `calm-heron-20250110-a3f9`: readable, sortable by day, unique enough to retry on conflict. */
export function generateRunName(now: Date): string {
  const bytes = randomBytes(4);
  const day = now.toISOString().slice(0, 10).replaceAll("-", "");
  return `${ADJECTIVES[bytes[0]! % ADJECTIVES.length]}-${NOUNS[bytes[1]! % NOUNS.length]}-${day}-${bytes.subarray(2).toString("hex")}`;
}
