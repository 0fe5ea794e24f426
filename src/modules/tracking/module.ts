// The tracking module: experiment tracking with Aspara's API (projects, runs, metrics, artifacts, pages).
import { defineModule } from "../../platform/module.js";
import { ArtifactStore } from "./artifacts.js";
import { TrackingEvents } from "./events.js";
import { trackingPlugin, trackingRoutes } from "./http.js";
import { trackingPageRoutes } from "./pages.js";
import { trackingRouter } from "./router.js";
import { TrackingService } from "./service.js";

declare module "../../platform/module.js" {
  interface Services {
    tracking: TrackingService;
  }
}

export { trackingRouter };

export default defineModule({
  name: "tracking",
  ownPaths: [
    { path: "/api/projects", match: "segment" },
    { path: "/tracker", match: "segment" },
    // The pages sit where a protected site has its own: they yield to it when the main port fronts a site.
    { path: "/", match: "exact", sitePage: true },
    { path: "/projects", match: "segment", sitePage: true },
  ],
  create: ({ config, log, db, state }) => ({
    services: {
      tracking: new TrackingService({
        prisma: db.prisma,
        db,
        events: new TrackingEvents(state, log),
        artifacts: new ArtifactStore(config.tracking.artifactsDir),
        config: config.tracking,
      }),
    },
  }),
  routes: (deps) => [...trackingRoutes(deps), ...trackingPageRoutes(deps)],
  plugin: trackingPlugin,
});
