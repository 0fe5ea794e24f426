// Tracking projects: listing, metadata and deletion (a project is created by its first run).
import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { ArtifactStore } from "../artifacts.js";
import type { ProjectWire } from "../tracking.schema.js";
import { dedupe, findProject, type TrackingStoreDeps } from "./shared.js";

export class TrackingProjects {
  readonly #db: PrismaClient;
  readonly #files: ArtifactStore;

  constructor(deps: TrackingStoreDeps & { files: ArtifactStore }) {
    this.#db = deps.prisma;
    this.#files = deps.files;
  }

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

  async projectExists(name: string): Promise<boolean> {
    return (await this.#db.trackingProject.count({ where: { name } })) > 0;
  }

  async projectMetadata(name: string) {
    const project = await findProject(this.#db, name);
    return {
      notes: project.notes,
      tags: project.tags,
      created_at: project.createdAt.toISOString(),
      updated_at: project.updatedAt.toISOString(),
    };
  }

  async updateProjectMetadata(name: string, update: { notes?: string; tags?: string[] }) {
    await findProject(this.#db, name);
    await this.#db.trackingProject.update({
      where: { name },
      data: { notes: update.notes, tags: update.tags && dedupe(update.tags) },
    });
    return this.projectMetadata(name);
  }

  async deleteProject(name: string): Promise<{ message: string }> {
    const project = await findProject(this.#db, name);
    const artifacts = await this.#db.trackingArtifact.findMany({
      where: { run: { projectId: project.id } },
      select: { storageKey: true },
    });
    await this.#db.trackingProject.delete({ where: { id: project.id } });
    await this.#files.remove(artifacts.map((a) => a.storageKey));
    return { message: `Project '${name}' deleted successfully` };
  }
}
