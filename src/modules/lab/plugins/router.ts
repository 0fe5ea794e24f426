// /api/v1/plugin: list (installed and available), install from a folder or .tgz, enable/disable, uninstall.
// The dashboard credentials are the administrator's: every route needs them (anonymous → 401).
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { deletedSchema, labIdSchema } from "../datasets/datasets.schema.js";

const tags = ["lab: plugins"];
const hidden = { hidden: true } as const;

const pluginSchema = z
  .object({
    id: z.int().nullable().describe("null for an available plugin that is not installed"),
    name: z.string(),
    version: z.string(),
    description: z.string().nullable(),
    source: z.string(),
    status: z.int().describe("0 available, 1 installed but disabled, 2 installed, 99 error (see `error`)"),
    enabled: z.boolean(),
    error: z.string().nullable().describe("What the plugin threw at its last load"),
    components: z.array(z.string()).describe("The components it registered"),
    installed_at: z.string().nullable(),
  })
  .meta({ id: "LabPlugin" });

const idSchema = z.object({ plugin_id: labIdSchema.describe("Plugin id") });

const listProcedure = (method: "GET" | "POST", path: `/${string}`, summary: string) =>
  dashboardProcedure
    .meta({ openapi: { method, path, tags, summary }, graphql: hidden })
    .input(z.object({}))
    .output(z.array(pluginSchema));

export const labPluginsRouter = router({
  list: listProcedure("GET", "/api/v1/plugin/", "Installed plugins, then the available ones").query(
    ({ ctx }) => ctx.deps.services.lab.plugins.list(),
  ),

  index: listProcedure(
    "POST",
    "/api/v1/plugin/index",
    "The plugin list (DashAI's frontend POSTs for it)",
  ).mutation(({ ctx }) => ctx.deps.services.lab.plugins.list()),

  install: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/plugin/",
        tags,
        summary:
          "Install a plugin from a folder or an npm pack .tgz on the server, or an available one by name",
        description:
          "Its components are registered at once (GET /api/v1/component/ lists them). A plugin that throws " +
          "at load (or exports something plugin-api.ts does not allow) is installed with status 99 and the " +
          "error, and registers nothing. 409 when a plugin of that package name is installed.",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(
      z.object({
        source: z.string().min(1).max(4096).optional().describe("Absolute path of a folder or a .tgz"),
        name: z.string().min(1).max(214).optional().describe("The package name of an available plugin"),
      }),
    )
    .output(pluginSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.plugins.install(input)),

  get: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/plugin/{plugin_id}", tags, summary: "One installed plugin" },
      graphql: hidden,
    })
    .input(idSchema)
    .output(pluginSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.plugins.get(input.plugin_id)),

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/plugin/{plugin_id}",
        tags,
        summary: "Enable or disable a plugin (`enabled`, or DashAI's `new_status`: 2 enable, 1 disable)",
      },
      graphql: hidden,
    })
    .input(
      idSchema.extend({
        enabled: z.boolean().optional(),
        new_status: z.union([z.literal(1), z.literal(2)]).optional(),
      }),
    )
    .output(pluginSchema)
    .mutation(({ ctx, input }) => {
      const enabled = input.enabled ?? (input.new_status === undefined ? undefined : input.new_status === 2);
      if (enabled === undefined) return ctx.deps.services.lab.plugins.get(input.plugin_id);
      return ctx.deps.services.lab.plugins.setEnabled(input.plugin_id, enabled);
    }),

  uninstall: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/plugin/{plugin_id}",
        tags,
        summary: "Uninstall a plugin: its components leave the registry, its files are removed",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(idSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.plugins.uninstall(input.plugin_id);
      return { deleted: 1 };
    }),
});
