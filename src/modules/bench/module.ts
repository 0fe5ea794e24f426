// LLM benchmarking (`bench`, LLM Benchmark Studio's API): users with JWT auth, providers and models,
// streamed benchmarks, history, analytics, schedules, export, admin.
import { defineModule, type OwnPath } from "../../platform/module.js";
import { router } from "../../trpc/init.js";
import { AuditLog } from "./admin/audit.js";
import { adminRouter } from "./admin/router.js";
import { AdminService } from "./admin/service.js";
import { KeyService } from "./providers/keys.service.js";
import { configRouter, keysRouter, providerParamsRouter } from "./providers/router.js";
import { ProviderService } from "./providers/service.js";
import { exportRoutes } from "./analytics/http.js";
import { analyticsRouter } from "./analytics/router.js";
import { AnalyticsService } from "./analytics/service.js";
import { runRoutes } from "./runs/http.js";
import { schedulesRouter } from "./schedules/router.js";
import { ScheduleService } from "./schedules/service.js";
import { benchmarkRouter, historyRouter } from "./runs/router.js";
import { RunService } from "./runs/service.js";
import { siteRoutes } from "./settings/http.js";
import { settingsRouter } from "./settings/router.js";
import { SettingsService } from "./settings/service.js";
import { SecretBox } from "./shared/secret-box.js";
import { evalRoutes } from "./evals/http.js";
import { paramTuneRouter, toolEvalRouter } from "./evals/router.js";
import { promptTuneRoutes } from "./evals/prompt-tune.http.js";
import { PromptTuneService } from "./evals/prompt-tune.js";
import { promptTuneRouter } from "./evals/prompt-tune.router.js";
import { TuneService } from "./evals/tune.js";
import { labelingRoutes } from "./labeling/http.js";
import { labelingRouter } from "./labeling/router.js";
import { LabelingService } from "./labeling/service.js";
import { EvalService, checkHourlyLimit } from "./evals/service.js";
import { judgeRoutes } from "./judge/http.js";
import { judgeRouter } from "./judge/router.js";
import { JudgeService } from "./judge/service.js";
import { McpService } from "./tools/mcp.js";
import { mcpRouter, toolSuitesRouter } from "./tools/suites.router.js";
import { SuiteService } from "./tools/suites.service.js";
import { AuthService } from "./users/auth.service.js";
import { authRouter } from "./users/router.js";
import { JwtService } from "./users/tokens.js";

declare module "../../platform/module.js" {
  interface Services {
    /** Registration, login, refresh, logout, CLI tokens, and the bearer check of every user route. */
    benchAuth: AuthService;
    /** Providers, models, prompts, defaults; `resolveModels` gives bench-runner what a call needs. */
    benchProviders: ProviderService;
    /** Users' provider keys and admins' env keys (encrypted at rest). */
    benchKeys: KeyService;
    /** The bench audit log. */
    benchAudit: AuditLog;
    /** Phase10 settings, onboarding, settings backup and restore. */
    benchSettings: SettingsService;
    /** Users, roles, per-user limits (`rateLimitFor`), stats (`setUsageSource`), system health, audit log. */
    benchAdmin: AdminService;
    /** Benchmark runs (SSE), cancel across instances, hourly limits, history. */
    benchRuns: RunService;
    /** Leaderboard, trends, compare and the exports over stored results. */
    benchAnalytics: AnalyticsService;
    /** Scheduled benchmarks, fired by the job queue. */
    benchSchedules: ScheduleService;
    /** Tool-calling suites and their cases. */
    benchSuites: SuiteService;
    /** Tool-calling evals (SSE), cancel, history. */
    benchEvals: EvalService;
    /** Tools from an MCP server (discover, import as a suite). */
    benchMcp: McpService;
    /** The param tuner (SSE), cancel, history. */
    benchTunes: TuneService;
    /** The prompt tuner (SSE), its estimate, cancel, history. */
    benchPromptTunes: PromptTuneService;
    /** Labeling suites from guard datasets and labeling runs (LLMs scored against the crowd). */
    benchLabeling: LabelingService;
    /** The LLM judge (inside evals, standalone, compare), its reports. */
    benchJudge: JudgeService;
  }
}

export const benchRouter = router({
  auth: authRouter,
  config: configRouter,
  keys: keysRouter,
  providerParams: providerParamsRouter,
  settings: settingsRouter,
  admin: adminRouter,
  benchmark: benchmarkRouter,
  history: historyRouter,
  analytics: analyticsRouter,
  schedules: schedulesRouter,
  toolSuites: toolSuitesRouter,
  toolEval: toolEvalRouter,
  mcp: mcpRouter,
  paramTune: paramTuneRouter,
  promptTune: promptTuneRouter,
  labeling: labelingRouter,
  judge: judgeRouter,
});

/** Every path of LLM Benchmark Studio's API (segments: `/api/auth` and `/api/auth/...`, not `/api/authx`). */
const API_SEGMENTS = [
  "/api/auth",
  "/api/config",
  "/api/keys",
  "/api/env",
  "/api/models",
  "/api/user",
  "/api/benchmark",
  "/api/history",
  "/api/analytics",
  "/api/schedules",
  "/api/export",
  "/api/import",
  "/api/provider-params",
  "/api/health",
  "/api/settings",
  "/api/onboarding",
  "/api/admin",
  "/api/tool-suites",
  "/api/tool-eval",
  "/api/mcp",
  "/api/labeling",
];

export const BENCH_OWN_PATHS: OwnPath[] = [
  ...API_SEGMENTS.map((path) => ({ path, match: "segment" as const })),
  { path: "/healthz", match: "exact" },
  // Where a fronted site has its own: they yield to it when the main port fronts a site.
  { path: "/robots.txt", match: "exact", sitePage: true },
  { path: "/sitemap.xml", match: "exact", sitePage: true },
];

export default defineModule({
  name: "bench",
  ownPaths: BENCH_OWN_PATHS,
  // LLM Benchmark Studio's frontend shows `err.error`: every error body carries it beside `detail`.
  errorMessageField: "error",
  create: ({ config, log, db, state, jobs }, modules) => {
    const prisma = db.prisma;
    const box = new SecretBox(config.secretKey, config.previousSecretKey);
    const audit = new AuditLog(prisma, log);
    const keys = new KeyService({ prisma, box, audit, env: process.env });
    const providers = new ProviderService({ prisma, keys });
    const jwt = new JwtService(config.secretKey, config.previousSecretKey);
    const auth = new AuthService({ prisma, state, jwt, audit, providers });
    const settings = new SettingsService({ prisma, providers, audit });
    const admin = new AdminService({ prisma, audit });
    const runs = new RunService({ prisma, state, providers, admin, log });
    admin.setUsageSource(runs.usageSource());
    const suites = new SuiteService({ prisma });
    const judge = new JudgeService({
      prisma,
      state,
      providers,
      admin,
      suites,
      settings,
      log,
      checkHourlyLimit: (userId, limit) => checkHourlyLimit(prisma, userId, limit),
    });
    const evals = new EvalService({ prisma, state, providers, admin, suites, judge, log });
    const tunes = new TuneService({ prisma, state, providers, admin, suites, settings, log });
    const promptTunes = new PromptTuneService({ prisma, state, providers, admin, suites, settings, log });
    const labeling = new LabelingService({
      prisma,
      state,
      providers,
      admin,
      datasets: modules.need("datasets"),
      labels: modules.need("labels"),
      log,
    });
    const schedules = new ScheduleService({
      prisma,
      jobs,
      runs,
      evals: {
        failStale: async () =>
          (await evals.failStale()) +
          (await tunes.failStale()) +
          (await judge.failStale()) +
          (await promptTunes.failStale()) +
          (await labeling.failStale()),
      },
      providers,
      log,
      tickSeconds: config.bench.scheduleTickSeconds,
    });
    return {
      services: {
        benchAuth: auth,
        benchProviders: providers,
        benchKeys: keys,
        benchAudit: audit,
        benchSettings: settings,
        benchAdmin: admin,
        benchRuns: runs,
        benchAnalytics: new AnalyticsService({ prisma }),
        benchSchedules: schedules,
        benchSuites: suites,
        benchEvals: evals,
        benchMcp: new McpService({ suites, stdioCommands: config.bench.mcpStdioCommands }),
        benchTunes: tunes,
        benchPromptTunes: promptTunes,
        benchLabeling: labeling,
        benchJudge: judge,
      },
      authenticators: { user: (token: string) => auth.verifyBearer(token) },
      start: async () => {
        await runs.start();
        await evals.start();
        await tunes.start();
        await promptTunes.start();
        await labeling.start();
        await judge.start();
        const { adminEmail, adminPassword } = config.bench;
        if (adminEmail && adminPassword) {
          await auth.ensureAdmin(adminEmail, adminPassword);
          log.info({ email: adminEmail }, "bench admin account ensured (ADMIN_EMAIL)");
        }
      },
      stop: async () => {
        await Promise.all([
          runs.stop(),
          evals.stop(),
          tunes.stop(),
          judge.stop(),
          promptTunes.stop(),
          labeling.stop(),
        ]);
      },
    };
  },
  routes: (deps) => [
    ...siteRoutes(deps),
    ...runRoutes(deps),
    ...evalRoutes(deps),
    ...promptTuneRoutes(deps),
    ...labelingRoutes(deps),
    ...judgeRoutes(deps),
    ...exportRoutes(deps),
  ],
});
