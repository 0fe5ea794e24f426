// The ML workbench (`lab`, DashAI's API under /api/v1): datasets, components, model sessions, runs, jobs,
// predictions. The paths live under /api/v1, which the system module already owns on the main port.
import { defineModule } from "../../platform/module.js";
import { router } from "../../trpc/init.js";

export const labRouter = router({});

export default defineModule({
  name: "lab",
  ownPaths: [],
  create: () => ({ services: {} }),
});
