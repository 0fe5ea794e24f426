// The system module: health and readiness of the server itself.
import { defineModule } from "../../platform/module.js";
import { systemRouter } from "./router.js";

export { systemRouter };

export default defineModule({
  name: "system",
  ownPaths: [{ path: "/api/v1", match: "segment" }],
  create: () => ({ services: {} }),
});
