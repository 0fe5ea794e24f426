import { benchRouter } from "../modules/bench/module.js";
import { guardRouter } from "../modules/guard/module.js";
import { labRouter } from "../modules/lab/module.js";
import { systemRouter } from "../modules/system/module.js";
import { trackingRouter } from "../modules/tracking/module.js";
import { router } from "./init.js";

/** The root router: the single source of truth for REST (/api, /dashboard/api...), tRPC (/trpc) and GraphQL. */
export const appRouter = router({
  system: systemRouter,
  guard: guardRouter,
  tracking: trackingRouter,
  lab: labRouter,
  bench: benchRouter,
});

export type AppRouter = typeof appRouter;
