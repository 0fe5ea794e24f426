// Model parameters: one declaration per parameter gives the zod schema (defaults, bounds, the JSON Schema
// the UI draws), the default search range, and how the HPO samples it. DashAI's frontend sends each
// parameter either as a bare value or as the envelope {optimize, fixed_value, lower_bound, upper_bound,
// choices}; `resolveParams` accepts both.
import { z } from "zod";
import { EngineError } from "./errors.js";

export interface Localized {
  en: string;
  es: string;
}

export type ParamSpec =
  | {
      kind: "int" | "float";
      default: number | null;
      nullable?: boolean;
      min?: number;
      /** Exclusive lower bound. */
      gt?: number;
      max?: number;
      /** The default search range; absent: not optimizable. */
      search?: [number, number];
      /** Sample on a log scale (e.g. regularization strengths). */
      log?: boolean;
      label: Localized;
      description: Localized;
    }
  | {
      kind: "enum";
      default: string | null;
      options: string[];
      nullable?: boolean;
      searchable?: boolean;
      label: Localized;
      description: Localized;
    }
  | { kind: "bool"; default: boolean; searchable?: boolean; label: Localized; description: Localized }
  | {
      /** max_features: "sqrt", "log2", a fraction in (0, 1], a count > 1, or null (all). */
      kind: "features";
      default: string | number | null;
      label: Localized;
      description: Localized;
    };

export type ParamSpecs = Record<string, ParamSpec>;

/** How a searched parameter is sampled. */
export type SearchDimension =
  | { name: string; type: "int" | "float"; low: number; high: number; log: boolean }
  | { name: string; type: "categorical"; choices: (string | number | boolean | null)[] };

function placeholder(spec: ParamSpec): unknown {
  if ((spec.kind === "int" || spec.kind === "float") && spec.search)
    return {
      optimize: false,
      fixed_value: spec.default,
      lower_bound: spec.search[0],
      upper_bound: spec.search[1],
    };
  if (spec.kind === "enum" && spec.searchable)
    return { optimize: false, fixed_value: spec.default, choices: spec.options };
  if (spec.kind === "bool" && spec.searchable)
    return { optimize: false, fixed_value: spec.default, choices: [false, true] };
  return spec.default;
}

function searchDtype(spec: ParamSpec): string | undefined {
  if (spec.kind === "int" && spec.search) return "integer";
  if (spec.kind === "float" && spec.search) return "number";
  if ((spec.kind === "enum" || spec.kind === "bool") && spec.searchable) return "categorical";
  return undefined;
}

/** The zod type of one parameter's (fixed) value. */
export function valueSchema(spec: ParamSpec): z.ZodType {
  let schema: z.ZodType;
  switch (spec.kind) {
    case "int":
    case "float": {
      let n = spec.kind === "int" ? z.number().int() : z.number();
      if (spec.min !== undefined) n = n.min(spec.min);
      if (spec.gt !== undefined) n = n.gt(spec.gt);
      if (spec.max !== undefined) n = n.max(spec.max);
      schema = spec.nullable ? n.nullable() : n;
      break;
    }
    case "enum": {
      const e = z.enum(spec.options as [string, ...string[]]);
      schema = spec.nullable ? e.nullable() : e;
      break;
    }
    case "bool":
      schema = z.boolean();
      break;
    case "features":
      schema = z.union([z.enum(["sqrt", "log2"]), z.number().gt(0)]).nullable();
      break;
  }
  return schema;
}

/** The component's zod schema (parameters with defaults, bounds and the UI metadata). */
export function paramsSchema(specs: ParamSpecs): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const meta: Record<string, unknown> = {
      title: spec.label.en,
      description: spec.description.en,
      display_name: spec.label.en,
      "x-display-name-es": spec.label.es,
      "x-description-es": spec.description.es,
      placeholder: placeholder(spec),
    };
    const dtype = searchDtype(spec);
    if (dtype) meta["x-dashai-search-dtype"] = dtype;
    shape[name] = (valueSchema(spec) as z.ZodType<unknown>).default(spec.default as never).meta(meta);
  }
  return z.object(shape);
}

function isEnvelope(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    ("optimize" in value || "fixed_value" in value)
  );
}

function fail(message: string): never {
  throw new EngineError("invalid_input", message);
}

/**
 * The fixed parameters (defaults filled in, each validated) and the dimensions to search. Unknown keys are
 * ignored (DashAI sends scikit-learn options we do not model, such as n_jobs or verbose).
 */
export function resolveParams(
  model: string,
  specs: ParamSpecs,
  raw: Record<string, unknown> | null | undefined,
): { fixed: Record<string, unknown>; space: SearchDimension[] } {
  const fixed: Record<string, unknown> = {};
  const space: SearchDimension[] = [];
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    let value: unknown = raw?.[name];
    if (isEnvelope(value)) {
      const envelope = value;
      if (envelope.optimize === true) {
        if (spec.kind === "int" || spec.kind === "float") {
          const low = Number(envelope.lower_bound ?? spec.search?.[0]);
          const high = Number(envelope.upper_bound ?? spec.search?.[1]);
          const check = valueSchema({ ...spec, nullable: false });
          if (!Number.isFinite(low) || !Number.isFinite(high) || low >= high)
            problems.push(`${name}: lower_bound must be below upper_bound`);
          else if (
            !check.safeParse(spec.kind === "int" ? Math.ceil(low) : low).success ||
            !check.safeParse(spec.kind === "int" ? Math.floor(high) : high).success
          )
            problems.push(
              `${name}: the search range [${low}, ${high}] is outside the parameter's allowed values`,
            );
          else space.push({ name, type: spec.kind, low, high, log: spec.log === true && low > 0 });
        } else if (spec.kind === "enum" || spec.kind === "bool") {
          const choices = (
            Array.isArray(envelope.choices)
              ? envelope.choices
              : spec.kind === "bool"
                ? [false, true]
                : spec.options
          ) as (string | boolean | null)[];
          const check = valueSchema(spec);
          if (choices.length < 2) problems.push(`${name}: a categorical search needs at least two choices`);
          else if (choices.some((c) => !check.safeParse(c).success))
            problems.push(`${name}: choices must be among the parameter's allowed values`);
          else space.push({ name, type: "categorical", choices });
        } else problems.push(`${name}: this parameter cannot be optimized`);
      }
      value = "fixed_value" in envelope ? envelope.fixed_value : undefined;
    }
    if (value === undefined) value = spec.default;
    if (
      typeof value === "string" &&
      (spec.kind === "int" || spec.kind === "float") &&
      value.trim() !== "" &&
      Number.isFinite(Number(value))
    )
      value = Number(value);
    const parsed = valueSchema(spec).safeParse(value);
    if (!parsed.success) problems.push(`${name}: ${parsed.error.issues[0]?.message ?? "invalid value"}`);
    else fixed[name] = parsed.data;
  }
  if (problems.length > 0) fail(`Invalid parameters for ${model}: ${problems.join("; ")}`);
  return { fixed, space };
}

/** max_features as a feature count. */
export function featureCount(value: unknown, p: number): number {
  if (value === null || value === undefined) return p;
  if (value === "sqrt") return Math.max(1, Math.floor(Math.sqrt(p)));
  if (value === "log2") return Math.max(1, Math.floor(Math.log2(p)));
  const v = Number(value);
  if (v <= 1) return Math.max(1, Math.floor(v * p));
  return Math.max(1, Math.min(p, Math.floor(v)));
}
