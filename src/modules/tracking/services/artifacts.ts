// Tracking artifacts: the files attached to a run (bytes in the ArtifactStore, a row per file in the database).
import type { Readable } from "node:stream";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { AppError, ConflictError } from "../../../platform/errors.js";
import type { ArtifactStore } from "../artifacts.js";
import { findRunId, type TrackingStoreDeps } from "./shared.js";

export class TrackingArtifacts {
  readonly #db: PrismaClient;
  readonly #now: () => Date;
  readonly #files: ArtifactStore;
  readonly #maxBytes: number;

  constructor(deps: TrackingStoreDeps & { files: ArtifactStore; maxArtifactBytes: number }) {
    this.#db = deps.prisma;
    this.#now = deps.now;
    this.#files = deps.files;
    this.#maxBytes = deps.maxArtifactBytes;
  }

  async list(project: string, run: string, runId?: number) {
    const id = runId ?? (await findRunId(this.#db, project, run)).id;
    const rows = await this.#db.trackingArtifact.findMany({ where: { runId: id }, orderBy: { name: "asc" } });
    return rows.map((a) => ({
      name: a.name,
      size: Number(a.size),
      content_type: a.contentType,
      created_at: a.createdAt.toISOString(),
      description: a.description,
      category: a.category,
      storageKey: a.storageKey,
    }));
  }

  /** Stores an uploaded file; a file of the same name on the same run is replaced. */
  async add(
    project: string,
    run: string,
    name: string,
    contentType: string,
    source: Readable,
    details: { description?: string | null; category?: string | null } = {},
  ) {
    const description = details.description ?? null;
    const category = details.category ?? null;
    const row = await findRunId(this.#db, project, run);
    const saved = await this.#files.save(source);
    // Multipart streams stop at the size limit and say so with `truncated`.
    if ((source as { truncated?: boolean }).truncated) {
      await this.#files.remove([saved.key]);
      throw new PayloadTooLargeError(
        `Artifacts are limited to ${Math.round((this.#maxBytes / 1024 / 1024) * 100) / 100} MB each`,
      );
    }
    const previous = await this.#db.trackingArtifact.findUnique({
      where: { runId_name: { runId: row.id, name } },
    });
    try {
      const artifact = await this.#db.trackingArtifact.upsert({
        where: { runId_name: { runId: row.id, name } },
        create: {
          runId: row.id,
          name,
          size: saved.size,
          contentType,
          storageKey: saved.key,
          description,
          category,
        },
        update: {
          size: saved.size,
          contentType,
          storageKey: saved.key,
          description,
          category,
          createdAt: this.#now(),
        },
      });
      if (previous) await this.#files.remove([previous.storageKey]);
      await this.#db.trackingRun.update({ where: { id: row.id }, data: { lastActivityAt: this.#now() } });
      return {
        name: artifact.name,
        size: Number(artifact.size),
        content_type: artifact.contentType,
        created_at: artifact.createdAt.toISOString(),
        description: artifact.description,
        category: artifact.category,
      };
    } catch (error) {
      await this.#files.remove([saved.key]);
      if ((error as { code?: string }).code === "P2002")
        throw new ConflictError(`Artifact '${name}' is being uploaded concurrently`);
      throw error;
    }
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(detail: string) {
    super("PAYLOAD_TOO_LARGE", 413, detail);
  }
}
