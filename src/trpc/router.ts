import { apiKeysRouter } from "../modules/guard/apikeys/router.js";
import { challengesRouter } from "../modules/guard/challenges/router.js";
import { datasetsRouter } from "../modules/guard/datasets/router.js";
import { itemsRouter } from "../modules/guard/items/router.js";
import { labelsRouter } from "../modules/guard/labels/router.js";
import { mlRouter } from "../modules/guard/ml/router.js";
import { metricsRouter } from "../modules/guard/metrics/router.js";
import { proxyRulesRouter } from "../modules/guard/proxy-rules/router.js";
import { runtimeConfigRouter } from "../modules/guard/runtime-config/router.js";
import { systemRouter } from "../modules/system/router.js";
import { trackingRouter } from "../modules/tracking/router.js";
import { router } from "./init.js";

/** The root router: the single source of truth for REST (/api, /dashboard/api...), tRPC (/trpc) and GraphQL. */
export const appRouter = router({
  system: systemRouter,
  guard: router({
    config: runtimeConfigRouter,
    metrics: metricsRouter,
    datasets: datasetsRouter,
    apiKeys: apiKeysRouter,
    proxyRules: proxyRulesRouter,
    items: itemsRouter,
    labels: labelsRouter,
    challenges: challengesRouter,
    ml: mlRouter,
  }),
  tracking: trackingRouter,
});

export type AppRouter = typeof appRouter;
