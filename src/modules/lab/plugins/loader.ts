// Loads a plugin's entry module and checks what it exports against plugin-api.ts. Shared by the server (the
// registry) and the training thread (which imports the enabled plugins before it trains). A fresh import
// URL each time (`?v=`) so a reinstalled plugin is loaded anew without a restart.
import { pathToFileURL } from "node:url";
import { MODELS, type ModelDefinition, paramsSchema, registerPluginModel } from "../engine/index.js";
import type { LabPluginModel } from "./plugin-api.js";

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
const TASKS = ["TabularClassificationTask", "RegressionTask"];
let generation = 0;

const isLocalized = (value: unknown) =>
  !!value &&
  typeof (value as { en?: unknown }).en === "string" &&
  typeof (value as { es?: unknown }).es === "string";

/** The plugin's models, checked; throws an Error saying what is wrong (or what the module threw). */
export async function loadPlugin(entry: string): Promise<LabPluginModel[]> {
  const module = (await import(`${pathToFileURL(entry).href}?v=${Date.now()}-${++generation}`)) as {
    default?: unknown;
    components?: unknown;
  };
  const plugin = (module.default ?? module) as { components?: unknown };
  if (!plugin || !Array.isArray(plugin.components))
    throw new Error("The entry module does not export { components: [...] } (as its default export)");
  const models: LabPluginModel[] = [];
  for (const [index, raw] of (plugin.components as unknown[]).entries()) {
    const c = raw as Partial<LabPluginModel> & { type?: unknown };
    const where = `components[${index}]${typeof c?.name === "string" ? ` (${c.name})` : ""}`;
    if (c?.type !== "Model")
      throw new Error(`${where}: type ${JSON.stringify(c?.type)} is not supported (plugins export "Model")`);
    if (typeof c.name !== "string" || !NAME.test(c.name))
      throw new Error(`${where}: name must be letters, digits and _ (starting with a letter)`);
    if (MODELS.some((m) => m.name === c.name)) throw new Error(`${where}: ${c.name} is a built-in model`);
    if (!TASKS.includes(c.task as string))
      throw new Error(`${where}: task must be one of ${TASKS.join(", ")}`);
    if (!isLocalized(c.displayName) || !isLocalized(c.description))
      throw new Error(`${where}: displayName and description need { en, es } strings`);
    if (!c.params || typeof c.params !== "object") throw new Error(`${where}: params must be an object`);
    if (typeof c.standardize !== "boolean") throw new Error(`${where}: standardize must be a boolean`);
    if (typeof c.fit !== "function") throw new Error(`${where}: fit must be a function`);
    try {
      paramsSchema(c.params);
    } catch (error) {
      throw new Error(`${where}: params: ${(error as Error).message}`);
    }
    if (models.some((m) => m.name === c.name)) throw new Error(`${where}: ${c.name} is exported twice`);
    models.push(c as LabPluginModel);
  }
  return models;
}

/** The engine's model definition of a plugin model. */
export function modelDefinition(model: LabPluginModel, plugin: string): ModelDefinition {
  return {
    name: model.name,
    task: model.task,
    displayName: model.displayName,
    description: model.description,
    params: model.params,
    standardize: model.standardize,
    implementation: `plugin ${plugin}`,
    fit: (x, labels, params, seed) => model.fit(x, labels, params, seed),
  };
}

/** Loads the plugins and registers their models in this thread's engine (the training thread's start). */
export async function registerPlugins(plugins: { name: string; entry: string }[]): Promise<void> {
  for (const plugin of plugins)
    for (const model of await loadPlugin(plugin.entry))
      registerPluginModel(modelDefinition(model, plugin.name));
}
