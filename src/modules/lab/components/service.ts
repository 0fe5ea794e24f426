// The component registry (`GET /api/v1/component/`): the engine's models, metrics and optimizers
// (engine/components.ts) plus the tasks, each with a JSON Schema of its parameters (from its zod schema),
// a display name and a description in English or Spanish (Accept-Language).
import { z } from "zod";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import { CONVERTERS } from "../engine/converters.js";
import { EXPLORERS } from "../engine/explorers.js";
import { COMPONENTS, type ComponentDefinition } from "../engine/index.js";
import type { Localized } from "../engine/params.js";
import type { Task } from "../engine/types.js";
import { GENERATIVE_COMPONENTS } from "../generative/components.js";

export type Language = "en" | "es";
export const COMPONENT_TYPES = [
  "Task",
  "GenerativeTask",
  "Model",
  "Metric",
  "Optimizer",
  "Converter",
  "Explorer",
  "GlobalExplainer",
  "LocalExplainer",
] as const;
export type LabComponentType = (typeof COMPONENT_TYPES)[number];

export interface Registered {
  name: string;
  type: LabComponentType;
  tasks: Task[];
  displayName: Localized;
  description: Localized;
  schema: z.ZodObject;
  maximize?: boolean;
}

const L = (en: string, es: string): Localized => ({ en, es });

/** The tasks a model session can pick (DashAI's names). */
export const TASKS: Registered[] = [
  {
    name: "TabularClassificationTask",
    type: "Task",
    tasks: ["TabularClassificationTask"],
    displayName: L("Tabular Classification", "Clasificación tabular"),
    description: L(
      "Predict a category (the output column) from the input columns of a table.",
      "Predecir una categoría (la columna de salida) a partir de las columnas de entrada de una tabla.",
    ),
    schema: z.object({}),
  },
  {
    name: "RegressionTask",
    type: "Task",
    tasks: ["RegressionTask"],
    displayName: L("Regression", "Regresión"),
    description: L(
      "Predict a number (the output column) from the input columns of a table.",
      "Predecir un número (la columna de salida) a partir de las columnas de entrada de una tabla.",
    ),
    schema: z.object({}),
  },
];

/** `Accept-Language`: Spanish when its most preferred language is Spanish, English otherwise. */
export function languageOf(header: string | string[] | undefined): Language {
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  const ranked = value
    .split(",")
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find(Boolean);
      return { tag: (tag ?? "").trim().toLowerCase(), q: q === undefined ? 1 : Number(q), index };
    })
    .filter(({ tag, q }) => tag !== "" && q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    if (tag === "es" || tag.startsWith("es-")) return "es";
    if (tag === "en" || tag.startsWith("en-")) return "en";
  }
  return "en";
}

/** A parameter schema as JSON Schema, its texts in the language asked for. */
function jsonSchemaOf(schema: z.ZodObject, language: Language): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete json.$schema;
  const properties = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const property of Object.values(properties)) {
    if (language === "es") {
      if (typeof property["x-display-name-es"] === "string") {
        property.title = property["x-display-name-es"];
        property.display_name = property["x-display-name-es"];
      }
      if (typeof property["x-description-es"] === "string")
        property.description = property["x-description-es"];
    }
    delete property["x-display-name-es"];
    delete property["x-description-es"];
  }
  return json;
}

export interface ComponentQuery {
  select_types?: string[];
  ignore_types?: string[];
  related_component?: string;
}

export class LabComponentService {
  private readonly builtIn: Registered[] = [
    ...TASKS,
    ...(COMPONENTS as ComponentDefinition[] as Registered[]),
    // Converters and explorers fit any task: they work on a notebook's table.
    ...CONVERTERS.map((c) => ({ ...c, tasks: [] as Task[] })),
    ...EXPLORERS.map((e) => ({ ...e, tasks: [] as Task[] })),
    ...(GENERATIVE_COMPONENTS as unknown as Registered[]),
  ];
  /** Components of the loaded plugins, by plugin name (plugins/service.ts keeps it current). */
  private readonly plugins = new Map<string, Registered[]>();

  private get all(): Registered[] {
    return [...this.builtIn, ...[...this.plugins.values()].flat()];
  }

  addPluginComponents(plugin: string, components: Registered[]): void {
    this.plugins.set(plugin, components);
  }

  removePluginComponents(plugin: string): void {
    this.plugins.delete(plugin);
  }

  names(type: LabComponentType): string[] {
    return this.all.filter((c) => c.type === type).map((c) => c.name);
  }

  /** A registered component of a type, or undefined. */
  find(name: string, type?: LabComponentType): Registered | undefined {
    return this.all.find((c) => c.name === name && (type === undefined || c.type === type));
  }

  list(query: ComponentQuery, language: Language) {
    const check = (types: string[] | undefined, param: string) => {
      for (const [i, type] of (types ?? []).entries())
        if (!(COMPONENT_TYPES as readonly string[]).includes(type))
          throw ValidationError.field(
            ["query", param, i],
            `Component type "${type}" does not exist (one of ${COMPONENT_TYPES.join(", ")})`,
          );
    };
    check(query.select_types, "select_types");
    check(query.ignore_types, "ignore_types");
    query = {
      ...query,
      select_types: query.select_types?.filter((type) => type !== ""),
      ignore_types: query.ignore_types?.filter((type) => type !== ""),
    };
    let related: Registered | undefined;
    if (query.related_component !== undefined) {
      related = this.find(query.related_component);
      if (!related)
        throw ValidationError.field(
          ["query", "related_component"],
          `Component ${query.related_component} does not exist`,
        );
    }
    return this.all
      .filter((c) => !query.select_types?.length || query.select_types.includes(c.type))
      .filter((c) => !query.ignore_types?.includes(c.type))
      .filter((c) => !related || (c !== related && c.tasks.some((task) => related.tasks.includes(task))))
      .map((c) => this.out(c, language));
  }

  get(name: string, language: Language) {
    const found = this.find(name);
    if (!found) throw new NotFoundError(`Component ${name} not found`);
    return this.out(found, language);
  }

  private out(c: Registered, language: Language) {
    return {
      name: c.name,
      type: c.type,
      display_name: c.displayName[language],
      description: c.description[language],
      schema: jsonSchemaOf(c.schema, language),
      compatible_components: c.tasks,
      ...(c.maximize !== undefined && { maximize: c.maximize }),
    };
  }
}
