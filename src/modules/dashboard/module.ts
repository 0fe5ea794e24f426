// The dashboard module: the web dashboard (a built SPA) and its session sign-in.
import { defineModule } from "../../platform/module.js";
import { dashboardRoutes } from "./http.js";

export default defineModule({
  name: "dashboard",
  ownPaths: [{ path: "/dashboard", match: "prefix" }],
  create: () => ({ services: {} }),
  routes: (deps) => dashboardRoutes(deps),
});
