// Loads a plugin's entry module and checks what it exports against plugin-api.ts. Shared by the server (the
// registry) and the training thread (which imports the enabled plugins before it trains). A fresh import
// URL each time (`?v=`) so a reinstalled plugin is loaded anew without a restart.
import { pathToFileURL } from "node:url";
import { type ConverterDefinition, CONVERTERS } from "../engine/converters.js";
import { EngineError } from "../engine/errors.js";
import { EXPLORERS, type ExplorerDefinition, type Figure } from "../engine/explorers.js";
import {
  MODELS,
  type ModelDefinition,
  paramsSchema,
  registerPluginModel,
  type Table,
} from "../engine/index.js";
import type {
  LabPluginComponent,
  LabPluginConverter,
  LabPluginExplorer,
  LabPluginModel,
} from "./plugin-api.js";

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
const TASKS = ["TabularClassificationTask", "RegressionTask"];
const KINDS = ["numeric", "string", "any"];
const TYPES = ["Model", "Explorer", "Converter"];
const NUMERIC_TYPES = ["integer", "float", "boolean", "datetime"];
const STRING_TYPES = ["categorical", "text"];
let generation = 0;

const isLocalized = (value: unknown) =>
  !!value &&
  typeof (value as { en?: unknown }).en === "string" &&
  typeof (value as { es?: unknown }).es === "string";

const builtIn = (type: string, name: string) =>
  type === "Model"
    ? MODELS.some((m) => m.name === name)
    : type === "Explorer"
      ? EXPLORERS.some((e) => e.name === name)
      : CONVERTERS.some((c) => c.name === name);

/** The plugin's components, checked; throws an Error saying what is wrong (or what the module threw). */
export async function loadPlugin(entry: string): Promise<LabPluginComponent[]> {
  const module = (await import(`${pathToFileURL(entry).href}?v=${Date.now()}-${++generation}`)) as {
    default?: unknown;
    components?: unknown;
  };
  const plugin = (module.default ?? module) as { components?: unknown };
  if (!plugin || !Array.isArray(plugin.components))
    throw new Error("The entry module does not export { components: [...] } (as its default export)");
  const components: LabPluginComponent[] = [];
  for (const [index, raw] of (plugin.components as unknown[]).entries()) {
    const c = raw as Record<string, unknown>;
    const where = `components[${index}]${typeof c?.name === "string" ? ` (${c.name})` : ""}`;
    if (!TYPES.includes(c?.type as string))
      throw new Error(
        `${where}: type ${JSON.stringify(c?.type)} is not supported (plugins export ${TYPES.map((t) => `"${t}"`).join(", ")})`,
      );
    const type = c.type as string;
    if (typeof c.name !== "string" || !NAME.test(c.name))
      throw new Error(`${where}: name must be letters, digits and _ (starting with a letter)`);
    if (builtIn(type, c.name)) throw new Error(`${where}: ${c.name} is a built-in ${type.toLowerCase()}`);
    if (!isLocalized(c.displayName) || !isLocalized(c.description))
      throw new Error(`${where}: displayName and description need { en, es } strings`);
    if (!c.params || typeof c.params !== "object") throw new Error(`${where}: params must be an object`);
    try {
      paramsSchema(c.params as never);
    } catch (error) {
      throw new Error(`${where}: params: ${(error as Error).message}`);
    }
    if (type === "Model") {
      if (!TASKS.includes(c.task as string))
        throw new Error(`${where}: task must be one of ${TASKS.join(", ")}`);
      if (typeof c.standardize !== "boolean") throw new Error(`${where}: standardize must be a boolean`);
      if (typeof c.fit !== "function") throw new Error(`${where}: fit must be a function`);
    } else {
      if (!KINDS.includes(c.accepts as string))
        throw new Error(`${where}: accepts must be one of ${KINDS.join(", ")}`);
      if (type === "Explorer") {
        const min = c.minColumns as number;
        const max = c.maxColumns as number;
        if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min || max > 1000)
          throw new Error(`${where}: minColumns and maxColumns must be integers, 1 ≤ min ≤ max ≤ 1000`);
        if (c.rows !== "stats" && c.rows !== "points")
          throw new Error(`${where}: rows must be "stats" or "points"`);
        if (typeof c.compute !== "function") throw new Error(`${where}: compute must be a function`);
      } else if (typeof c.apply !== "function") throw new Error(`${where}: apply must be a function`);
    }
    if (components.some((m) => m.name === c.name)) throw new Error(`${where}: ${c.name} is exported twice`);
    components.push(c as unknown as LabPluginComponent);
  }
  return components;
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

const pluginFailure = (name: string, plugin: string, error: unknown) =>
  error instanceof EngineError
    ? error
    : new EngineError(
        "invalid_input",
        `${name} (plugin ${plugin}) failed: ${(error as Error)?.message ?? error}`,
      );

/** The engine's explorer definition of a plugin explorer: what it returns is checked to be figures. */
export function explorerDefinition(explorer: LabPluginExplorer, plugin: string): ExplorerDefinition {
  return {
    name: explorer.name,
    type: "Explorer",
    displayName: explorer.displayName,
    description: explorer.description,
    schema: paramsSchema(explorer.params),
    accepts: explorer.accepts,
    minColumns: explorer.minColumns,
    maxColumns: explorer.maxColumns,
    rows: explorer.rows,
    compute: (table, params, note) => {
      let figures: unknown;
      try {
        figures = explorer.compute(table, params, note);
      } catch (error) {
        throw pluginFailure(explorer.name, plugin, error);
      }
      const isFigure = (f: unknown) =>
        !!f &&
        Array.isArray((f as Figure).data) &&
        !!(f as Figure).layout &&
        typeof (f as Figure).layout === "object";
      if (!Array.isArray(figures) || !figures.every(isFigure))
        throw new EngineError(
          "invalid_input",
          `${explorer.name} (plugin ${plugin}) did not return figures ([{data: [...], layout: {...}}])`,
        );
      // Plain JSON (what is stored): no class instances or functions leak into the result.
      return JSON.parse(JSON.stringify(figures)) as Figure[];
    },
  };
}

/** Whether a converter's output is a table the notebook store can write (the column shapes of engine/types.ts). */
function checkTable(table: unknown): string | null {
  const t = table as Table;
  if (!t || !Number.isInteger(t.rowCount) || t.rowCount < 0 || !Array.isArray(t.columns))
    return "a table {rowCount, columns}";
  const names = new Set<string>();
  for (const column of t.columns) {
    if (!column || typeof column.name !== "string" || column.name === "") return "named columns";
    if (names.has(column.name)) return `unique column names (${column.name} twice)`;
    names.add(column.name);
    if (NUMERIC_TYPES.includes(column.type)) {
      if (!(column.values instanceof Float64Array))
        return `a Float64Array for ${column.type} column ${column.name}`;
    } else if (STRING_TYPES.includes(column.type)) {
      if (!Array.isArray(column.values) || column.values.some((v) => v !== null && typeof v !== "string"))
        return `strings or null for ${column.type} column ${column.name}`;
    } else return `a known type for column ${column.name}`;
    if (column.values.length !== t.rowCount) return `${t.rowCount} values in column ${column.name}`;
  }
  return null;
}

/** The engine's converter definition of a plugin converter: its output table is checked before it is written. */
export function converterDefinition(converter: LabPluginConverter, plugin: string): ConverterDefinition {
  return {
    name: converter.name,
    type: "Converter",
    displayName: converter.displayName,
    description: converter.description,
    schema: paramsSchema(converter.params),
    accepts: converter.accepts,
    apply: (table, columns, params) => {
      let out;
      try {
        out = converter.apply(table, columns, params);
      } catch (error) {
        throw pluginFailure(converter.name, plugin, error);
      }
      const wrong = checkTable(out?.table);
      if (wrong)
        throw new EngineError("invalid_input", `${converter.name} (plugin ${plugin}) must return ${wrong}`);
      return out;
    },
  };
}

/** Loads the plugins and registers their models in this thread's engine (the training thread's start). */
export async function registerPlugins(plugins: { name: string; entry: string }[]): Promise<void> {
  for (const plugin of plugins)
    for (const component of await loadPlugin(plugin.entry))
      if (component.type === "Model") registerPluginModel(modelDefinition(component, plugin.name));
}
