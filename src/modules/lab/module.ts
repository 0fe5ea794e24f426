// The ML workbench (`lab`, DashAI's API under /api/v1): datasets, components, model sessions, runs, jobs,
// predictions, notebooks with their converter steps and explorers, generative sessions and processes. The paths live under /api/v1, which the system module already owns on the main port.
// Every lab route needs the dashboard credentials (docs/lab.md).
import { defineModule } from "../../platform/module.js";
import { router } from "../../trpc/init.js";
import { labComponentsRouter } from "./components/router.js";
import { converterJob, converterRevertJob } from "./converters/job.js";
import { labConvertersRouter } from "./converters/router.js";
import { LabConverterService } from "./converters/service.js";
import { explorerJob } from "./explorers/job.js";
import { labExplorersRouter } from "./explorers/router.js";
import { LabExplorerService } from "./explorers/service.js";
import { LabComponentService } from "./components/service.js";
import { datasetJob } from "./datasets/job.js";
import { labDatasetsRouter } from "./datasets/router.js";
import { LabDatasetService } from "./datasets/service.js";
import { DatasetStore } from "./datasets/store.js";
import { SecretBox } from "../bench/index.js";
import { generativeRoutes } from "./generative/http.js";
import { generativeJob } from "./generative/job.js";
import { labGenerativeRouter } from "./generative/router.js";
import { LabGenerativeService } from "./generative/service.js";
import { labPlugin, labRoutes } from "./http.js";
import { explainerJob } from "./explainers/job.js";
import { labExplainersRouter } from "./explainers/router.js";
import { LabExplainerService } from "./explainers/service.js";
import { labPluginsRouter } from "./plugins/router.js";
import { LabPluginService } from "./plugins/service.js";
import { labJobsRouter } from "./jobs/router.js";
import { LabJobService } from "./jobs/service.js";
import { labModelSessionsRouter } from "./model-sessions/router.js";
import { LabModelSessionService } from "./model-sessions/service.js";
import { labNotebooksRouter } from "./notebooks/router.js";
import { LabNotebookService } from "./notebooks/service.js";
import { NotebookStore } from "./notebooks/store.js";
import { predictJob } from "./predictions/job.js";
import { labPredictionsRouter } from "./predictions/router.js";
import { LabPredictionService } from "./predictions/service.js";
import { modelJob } from "./runs/job.js";
import { labRunsRouter } from "./runs/router.js";
import { LabRunService } from "./runs/service.js";
import { RunStore } from "./runs/store.js";

export interface LabServices {
  components: LabComponentService;
  datasets: LabDatasetService;
  jobs: LabJobService;
  sessions: LabModelSessionService;
  runs: LabRunService;
  predictions: LabPredictionService;
  notebooks: LabNotebookService;
  converters: LabConverterService;
  explorers: LabExplorerService;
  explainers: LabExplainerService;
  generative: LabGenerativeService;
  plugins: LabPluginService;
}

declare module "../../platform/module.js" {
  interface Services {
    lab: LabServices;
  }
}

export const labRouter = router({
  datasets: labDatasetsRouter,
  jobs: labJobsRouter,
  components: labComponentsRouter,
  sessions: labModelSessionsRouter,
  runs: labRunsRouter,
  predictions: labPredictionsRouter,
  notebooks: labNotebooksRouter,
  converters: labConvertersRouter,
  explorers: labExplorersRouter,
  explainers: labExplainersRouter,
  generative: labGenerativeRouter,
  plugins: labPluginsRouter,
});

export default defineModule({
  name: "lab",
  ownPaths: [],
  create: ({ config, db, jobs, log }, modules) => {
    const labJobs = new LabJobService(jobs, config.lab.dataDir, config.lab.workers);
    const store = new DatasetStore(config.lab.dataDir);
    const runStore = new RunStore(config.lab.dataDir);
    const datasets = new LabDatasetService(db.prisma, store, labJobs, runStore);
    const components = new LabComponentService();
    const sessions = new LabModelSessionService(db.prisma, datasets, components, runStore);
    const runs = new LabRunService(db.prisma, runStore, sessions, components, labJobs);
    const notebookStore = new NotebookStore(config.lab.dataDir);
    const notebooks = new LabNotebookService(db.prisma, notebookStore, datasets, labJobs);
    const converters = new LabConverterService(db.prisma, notebooks, labJobs);
    const explorers = new LabExplorerService(db.prisma, notebooks, labJobs);
    labJobs.register(
      datasetJob({ prisma: db.prisma, store, jobs: labJobs, labels: modules.need("labels"), notebooks }),
    );
    const plugins = new LabPluginService(db.prisma, components, config.lab.dataDir, log);
    const syncPlugins = () => plugins.sync();
    labJobs.register(converterJob({ prisma: db.prisma, notebooks, syncPlugins }));
    labJobs.register(converterRevertJob({ prisma: db.prisma, notebooks, syncPlugins }));
    labJobs.register(explorerJob({ prisma: db.prisma, explorers, syncPlugins }));
    const benchProviders = modules.need("benchProviders");
    const generative = new LabGenerativeService(
      db.prisma,
      new SecretBox(config.secretKey, config.previousSecretKey),
      components,
      config.lab.dataDir,
      (email, modelId) => benchProviders.resolveModelOf(email, modelId),
    );
    labJobs.register(generativeJob({ prisma: db.prisma, generative }));
    labJobs.register(
      modelJob({
        prisma: db.prisma,
        runs,
        sessions,
        datasets,
        tracking: modules.need("tracking"),
        log,
        plugins: () => plugins.entries(),
      }),
    );
    const predictions = new LabPredictionService(db.prisma, runs, sessions, datasets, labJobs);
    labJobs.register(predictJob(predictions));
    const explainers = new LabExplainerService(db.prisma, runs, sessions, datasets, labJobs);
    runs.explainers = explainers;
    labJobs.register(explainerJob({ prisma: db.prisma, explainers, sessions, datasets }));
    return {
      services: {
        lab: {
          datasets,
          jobs: labJobs,
          components,
          sessions,
          runs,
          predictions,
          notebooks,
          converters,
          explorers,
          explainers,
          generative,
          plugins,
        },
      },
      // Leftovers of a process killed mid-load (a load runs at most DatasetJob's 6 h timeout).
      start: async () => {
        const removed = await store.sweep(24 * 3600 * 1000).catch(() => 0);
        if (removed > 0) log.info({ removed }, "lab: removed stale uploads and staging directories");
        await plugins.loadAll();
      },
    };
  },
  routes: (deps) => [...labRoutes(deps), ...generativeRoutes(deps)],
  plugin: (scope, deps) => labPlugin(scope, deps),
});
