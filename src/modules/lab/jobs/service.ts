// Lab jobs (`POST /api/v1/job/`, `GET /api/v1/job/status/{job_id}`, cancel) on the platform queue
// (platform/jobs.ts). A registry maps DashAI's `job_type` (DatasetJob; ModelJob, PredictJob... later) to a
// kind: a platform job type plus how the form's `kwargs` (and an uploaded file) become the job's data.
import { mkdir, rm } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import type { JobQueue, JobState, JobStatus, JobType } from "../../../platform/jobs.js";
import { NotFoundError } from "../../../platform/errors.js";
import { unprocessable } from "../errors.js";

/** A file sent with the job form, saved under LAB_DATA_DIR/uploads/ (`path` is relative to LAB_DATA_DIR). */
export interface UploadedFile {
  path: string;
  name: string;
  size: number;
}

export interface LabJobKind<D> {
  /** DashAI's `job_type` (`DatasetJob`, `ModelJob`...). */
  jobType: string;
  /** The platform job type that runs it (its name: `lab.<jobType>`). */
  type: JobType<D, unknown>;
  /** The job's data from the form (4xx errors for bad kwargs); may take ownership of the uploaded file. */
  prepare(input: { kwargs: Record<string, unknown>; file: UploadedFile | null }): Promise<D>;
  /**
   * The job already queued for this data, if any: answered instead of queuing a twin (a converter or
   * explorer is queued when it is created; DashAI's frontend then submits its job again).
   */
  existing?(data: D): Promise<string | null>;
  /** After the job is queued (e.g. mark the entity DELIVERED and remember the job id). */
  enqueued?(data: D, jobId: string): Promise<void>;
}

/** DashAI's job status vocabulary (lowercase strings). */
export type LabJobStatusName = "not_started" | "started" | "finished" | "error" | "cancelled";

const STATUS_OF: Record<JobState, LabJobStatusName> = {
  queued: "not_started",
  retrying: "not_started",
  running: "started",
  completed: "finished",
  failed: "error",
  cancelled: "cancelled",
};

export interface LabJobRow {
  id: string;
  status: LabJobStatusName;
  task_type: string;
  job_name: string;
  enqueued_at: string;
  last_update: string;
  error_msg: string | null;
  progress: number;
  progress_message: string | null;
  result: unknown;
}

export class LabJobService {
  private readonly kinds = new Map<string, LabJobKind<unknown>>();
  private readonly byQueue = new Map<string, string>();

  constructor(
    private readonly jobs: JobQueue,
    readonly dataDir: string,
    private readonly serverWorkers: number | undefined,
  ) {}

  /** Adds a kind; while the module is created (before the platform queue starts). */
  register<D>(kind: LabJobKind<D>): void {
    if (this.kinds.has(kind.jobType)) throw new Error(`lab job ${kind.jobType} registered twice`);
    this.kinds.set(kind.jobType, kind as LabJobKind<unknown>);
    this.byQueue.set(kind.type.name, kind.jobType);
    this.jobs.register({ ...kind.type, serverWorkers: this.serverWorkers } as JobType<unknown, unknown>);
  }

  get jobTypes(): string[] {
    return [...this.kinds.keys()];
  }

  /** A fresh place for an upload: LAB_DATA_DIR/uploads/<uuid>/ (absolute) and its relative form. */
  async uploadDir(id: string): Promise<{ absolute: string; relative: string }> {
    const relative = join("uploads", id);
    const absolute = join(this.dataDir, relative);
    await mkdir(absolute, { recursive: true });
    return { absolute, relative };
  }

  /** An upload's absolute path (refuses anything outside LAB_DATA_DIR/uploads). */
  uploadPath(relative: string): string {
    const root = resolve(this.dataDir, "uploads");
    const path = resolve(this.dataDir, relative);
    if (!path.startsWith(root + sep)) throw new Error("upload path outside LAB_DATA_DIR/uploads");
    return path;
  }

  async removeUpload(file: { path: string } | null | undefined): Promise<void> {
    if (!file) return;
    const path = this.uploadPath(file.path);
    await rm(resolve(path, ".."), { recursive: true, force: true });
  }

  /** Queues a job of a registered kind; returns its id. */
  async submit(jobType: string, kwargs: Record<string, unknown>, file: UploadedFile | null): Promise<string> {
    const kind = this.kinds.get(jobType);
    try {
      if (!kind)
        throw unprocessable(`Unknown job_type "${jobType}" (known: ${this.jobTypes.join(", ") || "none"})`);
      const data = await kind.prepare({ kwargs, file });
      const existing = await kind.existing?.(data);
      if (existing) return existing;
      const id = await this.jobs.enqueue(kind.type, data);
      await kind.enqueued?.(data, id);
      return id;
    } catch (error) {
      await this.removeUpload(file);
      throw error;
    }
  }

  /** Queues a job of a kind from code (e.g. the guard-labels import). */
  async enqueue<D>(jobType: string, data: D): Promise<string> {
    const kind = this.kinds.get(jobType) as LabJobKind<D> | undefined;
    if (!kind) throw new Error(`lab job ${jobType} is not registered`);
    const id = await this.jobs.enqueue(kind.type, data);
    await kind.enqueued?.(data, id);
    return id;
  }

  private async find(id: string): Promise<JobStatus | null> {
    const job = await this.jobs.get(id);
    return job && this.byQueue.has(job.type) ? job : null;
  }

  async status(id: string): Promise<LabJobRow> {
    const job = await this.find(id);
    if (!job) throw new NotFoundError(`Job ${id} not found`);
    return this.row(job);
  }

  /** Lab jobs state of the platform job (null when it is not a lab job). */
  async state(id: string): Promise<JobState | null> {
    return (await this.find(id))?.state ?? null;
  }

  async list(limit = 100): Promise<LabJobRow[]> {
    const jobs = await this.jobs.list({ types: [...this.byQueue.keys()], limit });
    return jobs.map((job) => this.row(job));
  }

  /** Cancels a queued or running job (its handler stops within a heartbeat); a finished one is left as is. */
  async cancel(id: string): Promise<void> {
    const job = await this.find(id);
    if (!job) throw new NotFoundError(`Job ${id} not found`);
    if (job.state === "queued" || job.state === "running" || job.state === "retrying")
      await this.jobs.cancel(id);
  }

  private row(job: JobStatus): LabJobRow {
    const jobType = this.byQueue.get(job.type) ?? job.type;
    return {
      id: job.id,
      status: STATUS_OF[job.state],
      task_type: jobType,
      job_name: jobType,
      enqueued_at: job.createdAt.toISOString(),
      last_update: (job.finishedAt ?? job.startedAt ?? job.createdAt).toISOString(),
      error_msg: job.state === "failed" || job.state === "cancelled" ? job.error : null,
      progress: Math.round(job.progress * 10) / 10,
      progress_message: job.message,
      result: job.result ?? null,
    };
  }
}
