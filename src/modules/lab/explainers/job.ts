// ExplainerJob (`POST /api/v1/job/` with `{"explainer_id", "explainer_scope"}`, as DashAI's frontend starts an
// explanation): reads the run's dataset (global: a sample of a split; local: the background from the train
// split and the chosen rows of the explainer's dataset), runs the explainer on the run's model (in process
// or through onnxruntime), and stores the result and its Plotly figures on the explainer.
import { z } from "zod";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, ValidationError } from "../../../platform/errors.js";
import { defineJob, PermanentJobError } from "../../../platform/jobs.js";
import type { LabDatasetService } from "../datasets/service.js";
import { EngineError, type MetricName, type Table, type Task } from "../engine/index.js";
import {
  kernelShap,
  partialDependence,
  partialDependencePlots,
  permutationImportance,
  permutationPlot,
  sampleRows,
  shapPlots,
  splitOfRun,
  takeRows,
} from "../engine/explain/index.js";
import type { LabJobKind } from "../jobs/service.js";
import type { LabModelSessionService } from "../model-sessions/service.js";
import { EXPLAINER_STATUS, type ExplainerScope } from "./explainers.schema.js";
import { defaultScoring, type LabExplainerService, sessionSplits } from "./service.js";

export interface ExplainerJobData {
  explainerId: number;
  scope: ExplainerScope;
}

const kwargsSchema = z.object({
  explainer_id: z.coerce.number().int().min(1).max(2_147_483_647),
  explainer_scope: z.enum(["global", "local"]).default("global"),
});

const object = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

type Artifact = {
  type: "plotly" | "table";
  payload: unknown;
  title: string | null;
  role: "input" | "explanation";
};

const plotly = (figure: { layout: Record<string, unknown> }): Artifact => ({
  type: "plotly",
  payload: JSON.stringify(figure),
  title: ((figure.layout.title as { text?: string } | undefined)?.text ?? null) as string | null,
  role: "explanation",
});

/** The cells of `rows` of a table, for the explained-rows artifact. */
function cells(table: Table): (number | string | null)[][] {
  return Array.from({ length: table.rowCount }, (_, i) =>
    table.columns.map((c) => {
      const v = c.values[i];
      return typeof v === "number" ? (Number.isNaN(v) ? null : v) : (v ?? null);
    }),
  );
}

export function explainerJob(deps: {
  prisma: PrismaClient;
  explainers: LabExplainerService;
  sessions: LabModelSessionService;
  datasets: LabDatasetService;
}): LabJobKind<ExplainerJobData> {
  const { prisma, explainers, datasets } = deps;

  const type = defineJob<ExplainerJobData, { explainer_id: number }>({
    name: "lab.ExplainerJob",
    timeoutSeconds: 6 * 3600,
    run: async ({ data, signal, progress }) => {
      try {
        const started = await prisma.labExplainer.updateMany({
          where: { id: data.explainerId },
          data: { status: EXPLAINER_STATUS.STARTED, error: null },
        });
        if (started.count === 0)
          throw new PermanentJobError(`explainer ${data.explainerId} no longer exists`);
        const row = await explainers.row(data.scope, data.explainerId);
        const { run, session } = await explainers.explainableRun(row.runId, row.backend);
        const params = object(row.parameters);
        const task = session.task_name as Task;
        const target = session.output_columns[0]!;
        const { ratios, seed } = sessionSplits(session);
        progress(0, "Reading the dataset");
        const table = await datasets.table(session.dataset_id, [...session.input_columns, target]);
        signal.throwIfAborted();
        const splitRows = (split: "train" | "validation" | "test", max: number) => {
          const rows = splitOfRun(table, { task, target, ratios, seed }, split);
          if (rows.length === 0)
            throw new EngineError("invalid_input", `The run's ${split} split is empty: choose another split`);
          return takeRows(table, sampleRows(rows, max, params.random_state as number));
        };
        const { model, release } = await explainers.model(run, session, row.backend);
        const report = (percent: number, message: string) =>
          progress(Math.min(97, 3 + percent * 0.94), message);
        let explanation: unknown;
        let plots: Artifact[];
        try {
          if (row.explainerName === "PermutationFeatureImportance") {
            const result = await permutationImportance(
              model,
              splitRows(params.split as "test", params.max_samples as number),
              {
                target,
                metric: ((params.scoring as string | null) ??
                  defaultScoring(task, run.goalMetric)) as MetricName,
                nRepeats: params.n_repeats as number,
                seed: params.random_state as number,
                signal,
                progress: report,
              },
            );
            explanation = result;
            plots = [plotly(permutationPlot(result))];
          } else if (row.explainerName === "PartialDependence") {
            const features = params.features as string[];
            const result = await partialDependence(
              model,
              splitRows(params.split as "test", params.max_samples as number),
              {
                features: features.length > 0 ? features : session.input_columns,
                gridResolution: params.grid_resolution as number,
                lowerPercentile: params.lower_percentile as number,
                upperPercentile: params.upper_percentile as number,
                signal,
                progress: report,
              },
            );
            explanation = result;
            plots = partialDependencePlots(result).map(plotly);
          } else if (row.explainerName === "KernelShap") {
            const background = splitRows("train", params.n_background_samples as number);
            const rows = (object(row.instances).rows as number[] | undefined) ?? [];
            const data = await datasets.table(row.datasetId!, session.input_columns);
            for (const r of rows)
              if (r >= data.rowCount)
                throw new EngineError(
                  "invalid_input",
                  `Row ${r} is beyond the dataset's ${data.rowCount} rows`,
                );
            const instances = takeRows(data, rows);
            const result = await kernelShap(model, background, instances, {
              nSamples: params.n_samples as number,
              seed: params.random_state as number,
              signal,
              progress: report,
            });
            explanation = {
              ...result,
              instances: result.instances.map((instance, i) => ({ row: rows[i], ...instance })),
            };
            plots = [
              {
                type: "table",
                payload: { columns: session.input_columns, rows: cells(instances), highlight: [] },
                title: "Explained rows",
                role: "input",
              },
              ...shapPlots(
                result,
                rows.map((r) => `Row ${r}`),
              ).map(plotly),
            ];
          } else throw new EngineError("invalid_input", `Unknown explainer "${row.explainerName}"`);
        } finally {
          await release().catch(() => {});
        }
        signal.throwIfAborted();
        progress(98, "Saving the explanation");
        const done = await prisma.labExplainer.updateMany({
          where: { id: data.explainerId },
          data: {
            status: EXPLAINER_STATUS.FINISHED,
            error: null,
            explanation: explanation as object,
            plots: plots as object,
          },
        });
        if (done.count === 0)
          throw new PermanentJobError(`explainer ${data.explainerId} was deleted meanwhile`);
        progress(100, "Finished");
        return { explainer_id: data.explainerId };
      } catch (error) {
        const message = signal.aborted
          ? String((signal.reason as Error | undefined)?.message ?? "cancelled")
          : (error as Error).message;
        await prisma.labExplainer
          .updateMany({
            where: { id: data.explainerId },
            data: { status: EXPLAINER_STATUS.ERROR, error: message },
          })
          .catch(() => {});
        if (error instanceof EngineError || (error as { status?: number }).status === 422)
          throw new PermanentJobError(message);
        throw error;
      }
    },
  });

  return {
    jobType: "ExplainerJob",
    type,
    async prepare({ kwargs, file }) {
      if (file) throw ValidationError.field(["body", "file"], "ExplainerJob takes no file");
      const parsed = kwargsSchema.safeParse(kwargs);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw ValidationError.field(["body", "kwargs", ...issue.path.map(String)], issue.message);
      }
      const scope = parsed.data.explainer_scope;
      const row = await explainers.row(scope, parsed.data.explainer_id);
      if (explainers.busy(row))
        throw new ConflictError(`Explainer ${row.id} is already running (job ${row.jobId})`);
      await explainers.explainableRun(row.runId, row.backend);
      return { explainerId: row.id, scope };
    },
    async enqueued(data, jobId) {
      await explainers.delivered(data.explainerId, jobId);
    },
  };
}
