// Explorers of a notebook (DashAI's `/api/v1/explorer/`).
import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { LabNotebookService } from "../notebooks/service.js";
import type { LabExplorerOut } from "./explorers.schema.js";

export interface ExplorerRow {
  id: number;
  notebookId: number;
  name: string | null;
  explorationType: string;
  columns: unknown;
  parameters: unknown;
  status: number;
  jobId: string | null;
  error: string | null;
  result: unknown;
  overrides: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export function explorerOut(row: ExplorerRow): LabExplorerOut {
  return {
    id: row.id,
    notebook_id: row.notebookId,
    name: row.name,
    exploration_type: row.explorationType,
    columns: (row.columns ?? []) as unknown[],
    parameters: (row.parameters ?? {}) as Record<string, unknown>,
    status: row.status,
    job_id: row.jobId,
    error: row.error,
    created: row.createdAt.toISOString(),
    last_modified: row.updatedAt.toISOString(),
  };
}

export class LabExplorerService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly notebooks: LabNotebookService,
  ) {}

  async ofNotebook(notebookId: number, skip = 0, limit = 0): Promise<LabExplorerOut[]> {
    await this.notebooks.row(notebookId);
    const rows = await this.prisma.labExplorer.findMany({
      where: { notebookId },
      orderBy: { id: "asc" },
      skip,
      ...(limit > 0 && { take: limit }),
    });
    return rows.map(explorerOut);
  }
}
