// The guard module: challenges, consensus, data plane, API keys, proxy rules, the risk model and the reverse
// proxy in front of the protected site.
import { defineModule } from "../../platform/module.js";
import { router } from "../../trpc/init.js";
import { ApiKeyService } from "./apikeys/service.js";
import { apiKeysRouter } from "./apikeys/router.js";
import { ClientHasher } from "./challenges/client.js";
import { ConsensusService } from "./challenges/consensus.js";
import { GtPoolMonitor } from "./challenges/gt-pool.js";
import { challengeRoutes } from "./challenges/http.js";
import { ChallengeRateLimits } from "./challenges/rate-limits.js";
import { challengesRouter } from "./challenges/router.js";
import { ChallengeService } from "./challenges/service.js";
import { TokenService } from "./challenges/token.js";
import { datasetsRouter } from "./datasets/router.js";
import { DatasetService } from "./datasets/service.js";
import { itemsRouter } from "./items/router.js";
import { ItemService } from "./items/service.js";
import { labelExportRoutes } from "./labels/http.js";
import { labelsRouter } from "./labels/router.js";
import { LabelService } from "./labels/service.js";
import { metricsRouter } from "./metrics/router.js";
import { MetricsService } from "./metrics/service.js";
import { Gateway } from "./proxy/gateway.js";
import { prometheusRoutes } from "./proxy/http.js";
import { ProxyMetrics } from "./proxy/metrics.js";
import { forwardAuthExtraPaths } from "./proxy/forward-auth.js";
import { HIVEGUARD_PREFIX, isForwardAuthPath, isHiveGuardPath } from "./proxy/paths.js";
import { proxyRulesRouter } from "./proxy-rules/router.js";
import { ProxyRuleService } from "./proxy-rules/service.js";
import { modelUploadPlugin, modelUploadRoutes } from "./risk/http.js";
import { mlRouter } from "./risk/router.js";
import { RiskModelService } from "./risk/service.js";
import { runtimeConfigRouter } from "./runtime-config/router.js";
import { SITEVERIFY_ROOT_PATHS, siteverifyExtraPaths, siteverifyPlugin } from "./siteverify/http.js";
import { RuntimeConfigService } from "./runtime-config/service.js";

declare module "../../platform/module.js" {
  interface Services {
    runtimeConfig: RuntimeConfigService;
    apiKeys: ApiKeyService;
    datasets: DatasetService;
    items: ItemService;
    labels: LabelService;
    metrics: MetricsService;
    proxyRules: ProxyRuleService;
    /** Generate/submit; `challenges.tokens.verifyToken(token, client)` is the proxy's token check. */
    challenges: ChallengeService;
    /** The risk model: status, training, uploads, and the scorer the submit path calls. */
    ml: RiskModelService;
    /** Prometheus counters of the proxy (request decisions, upstream latency, challenge outcomes). */
    proxyMetrics: ProxyMetrics;
  }
}

export const guardRouter = router({
  config: runtimeConfigRouter,
  metrics: metricsRouter,
  datasets: datasetsRouter,
  apiKeys: apiKeysRouter,
  proxyRules: proxyRulesRouter,
  items: itemsRouter,
  labels: labelsRouter,
  challenges: challengesRouter,
  ml: mlRouter,
});

export default defineModule({
  name: "guard",
  ownPaths: [
    { path: "/api/v1", match: "segment" },
    { path: HIVEGUARD_PREFIX, match: "segment" },
    // Siteverify where hCaptcha, Turnstile and reCAPTCHA libraries look for it (exactly these paths).
    ...SITEVERIFY_ROOT_PATHS.map((path) => ({ path, match: "exact" as const })),
  ],

  async create({ config, log, db, state, jobs }, modules) {
    const started: { stop(): Promise<void> }[] = [];
    const stop = async () => {
      for (const part of started.reverse()) await part.stop();
    };
    try {
      const runtimeConfig = new RuntimeConfigService(state, log, config.logLevel);
      await runtimeConfig.start();
      started.push(runtimeConfig);
      const metrics = new MetricsService(state, db.prisma);
      const apiKeys = new ApiKeyService(db.prisma, state, log);
      await apiKeys.start();
      started.push(apiKeys);
      const proxyRules = new ProxyRuleService(db.prisma, state, log);
      await proxyRules.start();
      started.push(proxyRules);
      const ml = new RiskModelService({
        prisma: db.prisma,
        state,
        log,
        tracking: modules.need("tracking"),
        jobs,
      });
      await ml.start();
      started.push(ml);
      const clients = new ClientHasher(config.secretKey, config.previousSecretKey);
      const tokens = new TokenService(config.secretKey, config.previousSecretKey, clients);
      const challenges = new ChallengeService({
        prisma: db.prisma,
        db,
        state,
        runtimeConfig,
        metrics,
        consensus: new ConsensusService(db.prisma),
        tokens,
        clients,
        rateLimits: new ChallengeRateLimits(state),
        risk: ml.scorer,
        log,
        submitBatch: config.submitBatch,
      });
      const gtPool = new GtPoolMonitor(db.prisma, state, log);
      await gtPool.start();
      started.push(gtPool);
      const proxyMetrics = new ProxyMetrics(state, metrics, log);
      proxyMetrics.start();
      started.push({ stop: async () => proxyMetrics.stop() });
      const gateway = new Gateway({
        config,
        log,
        proxyRules,
        runtimeConfig,
        tokens,
        gtPool,
        metrics: proxyMetrics,
      });

      return {
        services: {
          runtimeConfig,
          apiKeys,
          datasets: new DatasetService(db.prisma, metrics),
          items: new ItemService(db.prisma, metrics),
          labels: new LabelService(db.prisma, db),
          metrics,
          proxyRules,
          challenges,
          ml,
          proxyMetrics,
        },
        authenticators: { apiKey: (rawKey) => apiKeys.verify(rawKey) },
        front: {
          handle: (req, res) => gateway.handle(req, res),
          upgrade: (req, socket, head) => gateway.upgrade(req, socket, head),
          takesOwnPath: isForwardAuthPath,
          // PROXY_PORT: the site owns every path there (its own /api/v1, /docs...) except /_hiveguard/*.
          ...(config.proxy.port !== undefined && {
            ownPort: { port: config.proxy.port, appPaths: isHiveGuardPath },
          }),
          close: () => gateway.close(),
        },
        stop,
      };
    } catch (error) {
      await stop().catch(() => {});
      throw error;
    }
  },

  routes: (deps) => [
    ...labelExportRoutes(deps),
    ...modelUploadRoutes(deps),
    ...challengeRoutes(deps),
    ...prometheusRoutes(deps),
  ],
  async plugin(scope, deps) {
    modelUploadPlugin(scope);
    await siteverifyPlugin(scope, deps);
  },
  openApiPaths: { ...siteverifyExtraPaths, ...forwardAuthExtraPaths },
});
