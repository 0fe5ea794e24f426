import { runtimeConfigRouter } from "../modules/guard/runtime-config/router.js";
import { systemRouter } from "../modules/system/router.js";
import { trackingRouter } from "../modules/tracking/router.js";
import { router } from "./init.js";

/** The root router: the single source of truth for REST (/api, /dashboard/api...), tRPC (/trpc) and GraphQL. */
export const appRouter = router({
  system: systemRouter,
  guard: router({
    config: runtimeConfigRouter,
  }),
  tracking: trackingRouter,
});

export type AppRouter = typeof appRouter;
