// What the tracking services share: finding a project or a run by name (404 when missing), and tag lists.
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError } from "../../../platform/errors.js";

/** What every tracking service receives. */
export interface TrackingStoreDeps {
  prisma: PrismaClient;
  now: () => Date;
}

export async function findProject(prisma: PrismaClient, name: string) {
  const project = await prisma.trackingProject.findUnique({ where: { name } });
  if (!project) throw new NotFoundError(`Project '${name}' not found`);
  return project;
}

/** A run's id and write position; 404 names the project when it is the project that is missing. */
export async function findRunId(
  prisma: PrismaClient,
  project: string,
  run: string,
): Promise<{ id: number; lastStep: number; pointCount: number }> {
  const row = await prisma.trackingRun.findFirst({
    where: { name: run, project: { name: project } },
    select: { id: true, lastStep: true, pointCount: true },
  });
  if (!row) throw await runNotFound(prisma, project, run);
  return row;
}

/** The 404 for a missing run, or for its project when that is missing too. */
export async function runNotFound(
  prisma: PrismaClient,
  project: string,
  run: string,
): Promise<NotFoundError> {
  await findProject(prisma, project);
  return new NotFoundError(`Run '${run}' not found in project '${project}'`);
}

export function dedupe(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim()))];
}
