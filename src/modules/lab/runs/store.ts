// A run's files under LAB_DATA_DIR/runs/<id>/: model.json (the engine's TrainedModel: what in-process
// prediction reads) and model.onnx (the ONNX export, or a user's uploaded model). Written through a temporary
// name and renamed, so a reader never sees half a file.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Prisma, PrismaClient } from "../../../generated/prisma/client.js";
import type { TrainedModel } from "../engine/index.js";

/** The files of runs (and their predictions) whose rows a cascade is about to delete. */
export interface RunFiles {
  runIds: number[];
  predictionIds: number[];
}

export class RunStore {
  constructor(private readonly dataDir: string) {}

  dir(runId: number): string {
    return join(this.dataDir, "runs", String(runId));
  }

  private async write(runId: number, name: string, bytes: string | Uint8Array): Promise<void> {
    const dir = this.dir(runId);
    await mkdir(dir, { recursive: true });
    const target = join(dir, name);
    const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, bytes);
    await rename(temp, target);
  }

  async saveModel(runId: number, trained: TrainedModel): Promise<void> {
    await this.write(runId, "model.json", JSON.stringify(trained));
  }

  async saveOnnx(runId: number, bytes: Uint8Array): Promise<void> {
    await this.write(runId, "model.onnx", bytes);
  }

  /** The trained model, or null when the run has none (never trained, reset, or an uploaded ONNX model). */
  async model(runId: number): Promise<TrainedModel | null> {
    try {
      return JSON.parse(await readFile(join(this.dir(runId), "model.json"), "utf8")) as TrainedModel;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async onnx(runId: number): Promise<Buffer | null> {
    try {
      return await readFile(join(this.dir(runId), "model.onnx"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async remove(runId: number): Promise<void> {
    await rm(this.dir(runId), { recursive: true, force: true });
  }

  /**
   * The files of the runs matching `where`, read before a cascade deletes their rows (a model session, or
   * the dataset under it): the database forgets them in one statement, their files must go too.
   */
  async filesOf(prisma: PrismaClient, where: Prisma.LabRunWhereInput): Promise<RunFiles> {
    const runs = await prisma.labRun.findMany({
      where,
      select: { id: true, predictions: { select: { id: true } } },
    });
    return {
      runIds: runs.map((run) => run.id),
      predictionIds: runs.flatMap((run) => run.predictions.map((p) => p.id)),
    };
  }

  async removeFiles(files: RunFiles): Promise<void> {
    for (const id of files.runIds) await this.remove(id);
    for (const id of files.predictionIds) await this.removePrediction(id);
  }

  predictionPath(predictionId: number): string {
    return join(this.dataDir, "predictions", `${predictionId}.json`);
  }

  async savePrediction(predictionId: number, result: unknown): Promise<void> {
    const target = this.predictionPath(predictionId);
    await mkdir(join(this.dataDir, "predictions"), { recursive: true });
    const temp = `${target}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(result));
    await rename(temp, target);
  }

  async prediction(predictionId: number): Promise<unknown> {
    try {
      return JSON.parse(await readFile(this.predictionPath(predictionId), "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async removePrediction(predictionId: number): Promise<void> {
    await rm(this.predictionPath(predictionId), { force: true });
  }
}
