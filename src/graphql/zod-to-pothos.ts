/**
 * Turns the zod schemas of tRPC procedures into Pothos (GraphQL) types, so that every procedure appears in
 * the GraphQL schema without a second definition. Field names stay exactly as on the wire (snake_case).
 * Shapes GraphQL cannot express (records, unions, tuples, transforms) become the `JSON` scalar.
 *
 * The conventions every module inherits from here:
 * - descriptions: a field's or argument's zod description (`.describe()` / `.meta({description})`, found on
 *   any wrapper) becomes its GraphQL description; input bounds (min/max, lengths, list sizes) and defaults
 *   are appended, so a dashboard developer sees them in introspection;
 * - `ID` for identifiers: string fields and arguments named `id`, `*_id`, `ids`, `*_ids`, and UUID inputs;
 * - `DateTime` (graphql-scalars) for timestamps: strings with zod's `datetime` format (`timestampSchema`);
 * - one enum per concept: an enum is named by the registry `id` of the schema it was derived from (a
 *   `.describe()` or `.optional()` copy of `modalitySchema` is still `Modality`); values that are not
 *   GraphQL names (`data:read`) get upper-snake names (`DATA_READ`) mapped to the wire value.
 */
import { z } from "zod";

// Pothos' generics cannot follow types built at run time; this module works with its untyped surface.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
type AnyBuilder = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Pothos type reference of any kind
type TypeRef = any;

export interface FieldType {
  type: TypeRef;
  nullable: boolean | { list: boolean; items: boolean };
  /** The GraphQL description: the zod description, plus bounds and default for inputs. */
  description?: string;
}

type ZodAny = z.core.$ZodType;
type Mode = "input" | "output";

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const INT_FORMATS = new Set(["safeint", "int32", "uint32"]);
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"]);
/** Bounds that only restate the number type (safe integers) say nothing to a reader. */
const TRIVIAL_BOUND = Number.MAX_SAFE_INTEGER;

function def(schema: ZodAny): z.core.$ZodTypeDef & Record<string, unknown> {
  return schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
}

function isInt(schema: ZodAny): boolean {
  const d = def(schema);
  if (INT_FORMATS.has(d.format as string)) return true;
  const checks = (d.checks ?? []) as unknown as ZodAny[];
  return checks.some((check) => INT_FORMATS.has(def(check).format as string));
}

/** Whether a field of this name holds an identifier (typed `ID`). */
export const isIdName = (key: string) => key === "id" || key === "ids" || /_ids?$/.test(key);

const pascal = (text: string) =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");

/** The schema a clone (`.describe()`, `.meta()`, `.check()`) was made from, up to the one holding an id. */
function registeredRoot(schema: ZodAny): { schema: ZodAny; id: string | undefined } {
  let current: ZodAny | undefined = schema;
  for (let depth = 0; current && depth < 20; depth++) {
    const id = z.globalRegistry.get(current)?.id;
    if (id) return { schema: current, id };
    current = (current._zod as { parent?: ZodAny }).parent;
  }
  return { schema, id: undefined };
}

/** The description written on a schema or any of the wrappers around its core type. */
function descriptionOf(schema: ZodAny, mode: Mode): string | undefined {
  let current: ZodAny | undefined = schema;
  for (let depth = 0; current && depth < 20; depth++) {
    const description = z.globalRegistry.get(current)?.description;
    if (description) return description;
    const d = def(current);
    if (WRAPPERS.has(d.type)) current = d.innerType as ZodAny;
    else if (d.type === "pipe") current = (mode === "input" ? d.in : d.out) as ZodAny;
    else return undefined;
  }
  return undefined;
}

/** `between 1 and 1000`, `at most 200 characters`, `default 0`: what an input accepts beyond its type. */
function inputConstraints(schema: ZodAny): string[] {
  const notes: string[] = [];
  let current: ZodAny = schema;
  for (let depth = 0; depth < 20; depth++) {
    const d = def(current);
    if (d.type === "default" || d.type === "prefault") {
      const value = (d as { defaultValue?: unknown }).defaultValue;
      if (value !== undefined && (typeof value !== "object" || Array.isArray(value)))
        notes.push(`default ${JSON.stringify(value)}`);
    }
    if (WRAPPERS.has(d.type)) current = d.innerType as ZodAny;
    else if (d.type === "pipe") current = d.in as ZodAny;
    else break;
  }
  const d = def(current);
  const unit = d.type === "string" ? " characters" : d.type === "array" ? " entries" : "";
  let min: number | undefined;
  let max: number | undefined;
  let exclusiveMin = false;
  let exclusiveMax = false;
  for (const check of (d.checks ?? []) as unknown as ZodAny[]) {
    const c = def(check) as Record<string, unknown>;
    switch (c.check) {
      case "greater_than":
        min = c.value as number;
        exclusiveMin = !c.inclusive;
        break;
      case "less_than":
        max = c.value as number;
        exclusiveMax = !c.inclusive;
        break;
      case "min_length":
        min = c.minimum as number;
        break;
      case "max_length":
        max = c.maximum as number;
        break;
      case "length_equals":
        min = max = c.length as number;
        break;
      case "number_format": {
        // z.int().min(1) records its own bounds beside the format's.
        const bag = (check._zod as { bag?: { minimum?: number; maximum?: number } }).bag ?? {};
        if (typeof bag.minimum === "number" && Math.abs(bag.minimum) < TRIVIAL_BOUND) min ??= bag.minimum;
        if (typeof bag.maximum === "number" && Math.abs(bag.maximum) < TRIVIAL_BOUND) max ??= bag.maximum;
        break;
      }
    }
  }
  const bag = (current._zod as { bag?: Record<string, unknown> }).bag ?? {};
  if (min === undefined && typeof bag.minimum === "number" && Math.abs(bag.minimum) < TRIVIAL_BOUND)
    min = bag.minimum;
  if (max === undefined && typeof bag.maximum === "number" && Math.abs(bag.maximum) < TRIVIAL_BOUND)
    max = bag.maximum;
  if (min !== undefined && max !== undefined && !exclusiveMin && !exclusiveMax)
    notes.unshift(min === max ? `exactly ${min}${unit}` : `between ${min} and ${max}${unit}`);
  else {
    if (max !== undefined) notes.unshift(`${exclusiveMax ? "less than" : "at most"} ${max}${unit}`);
    if (min !== undefined) notes.unshift(`${exclusiveMin ? "more than" : "at least"} ${min}${unit}`);
  }
  return notes;
}

function describe(schema: ZodAny, mode: Mode): string | undefined {
  const text = descriptionOf(schema, mode);
  const notes = mode === "input" ? inputConstraints(schema) : [];
  if (notes.length === 0) return text;
  const bounds = notes.join("; ");
  return text ? `${text} (${bounds})` : bounds[0]!.toUpperCase() + bounds.slice(1);
}

export class ZodToPothos {
  private readonly outputRefs = new Map<ZodAny, TypeRef>();
  private readonly inputRefs = new Map<ZodAny, TypeRef>();
  private readonly usedNames = new Set<string>();
  private readonly objectsByName = new Map<string, TypeRef>();

  constructor(private readonly builder: AnyBuilder) {}

  /** A unique GraphQL type name: the schema's registered `id` when it has one, else the suggested name. */
  private nameFor(schema: ZodAny, suggested: string, suffix = ""): string {
    const id = registeredRoot(schema).id;
    const base = `${pascal(id ?? suggested)}${suffix}`;
    let name = base;
    for (let n = 2; this.usedNames.has(name); n++) name = `${base}${n}`;
    this.usedNames.add(name);
    return name;
  }

  output(schema: ZodAny, suggestedName: string): FieldType {
    return this.convert(schema, suggestedName, "output", "");
  }

  /** The output object type of that GraphQL name, if a converted schema produced it. */
  objectNamed(name: string): TypeRef | undefined {
    return this.objectsByName.get(name);
  }

  input(schema: ZodAny, suggestedName: string): FieldType {
    return this.convert(schema, suggestedName, "input", "");
  }

  /** The GraphQL name of an object type this converter made from a schema (after `output`). */
  typeNameOf(ref: TypeRef): string | undefined {
    for (const [name, candidate] of this.objectsByName) if (candidate === ref) return name;
    return undefined;
  }

  private convert(schema: ZodAny, name: string, mode: Mode, key: string): FieldType {
    const d = def(schema);
    switch (d.type) {
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "catch": {
        const inner = this.convert(d.innerType as ZodAny, name, mode, key);
        // An output with a default is always present; an input with a default may be omitted.
        if (mode === "output" && d.type === "default") return inner;
        return { type: inner.type, nullable: asNullable(inner.nullable) };
      }
      case "readonly":
      case "nonoptional":
        return this.convert(d.innerType as ZodAny, name, mode, key);
      case "pipe":
        return this.convert((mode === "input" ? d.in : d.out) as ZodAny, name, mode, key);
      case "string":
        if (d.format === "datetime") return { type: "DateTime", nullable: false };
        // Identifiers: by name (`id`, `*_id`, `ids`), or any UUID an input takes (e.g. a key's `datasets`).
        if (isIdName(key) || (mode === "input" && (d.format === "guid" || d.format === "uuid")))
          return { type: "ID", nullable: false };
        return { type: "String", nullable: false };
      case "number":
        return { type: isInt(schema) ? "Int" : "Float", nullable: false };
      case "boolean":
        return { type: "Boolean", nullable: false };
      case "date":
        return { type: "DateTime", nullable: false };
      case "literal": {
        const values = d.values as unknown[];
        const kinds = new Set(values.map((value) => typeof value));
        if (kinds.size === 1 && kinds.has("string")) return { type: "String", nullable: false };
        if (kinds.size === 1 && kinds.has("boolean")) return { type: "Boolean", nullable: false };
        if (kinds.size === 1 && kinds.has("number"))
          return { type: values.every(Number.isInteger) ? "Int" : "Float", nullable: false };
        return { type: "JSON", nullable: false };
      }
      case "enum":
        return { type: this.enumRef(schema, name), nullable: false };
      case "array": {
        const item = this.convert(d.element as ZodAny, `${name}Item`, mode, key);
        return { type: [item.type], nullable: { list: false, items: item.nullable !== false } };
      }
      case "object":
        return {
          type: mode === "output" ? this.objectRef(schema, name) : this.inputObjectRef(schema, name),
          nullable: false,
        };
      default:
        return { type: "JSON", nullable: false };
    }
  }

  /** One GraphQL enum per registered zod enum, whatever copies of it the schemas use. */
  private enumRef(schema: ZodAny, name: string): TypeRef {
    const root = registeredRoot(schema).schema;
    const cached = this.outputRefs.get(root);
    if (cached) return cached;
    const values = Object.values(def(root).entries as Record<string, string | number>);
    if (!values.every((value) => typeof value === "string")) return "String";
    // Wire values that are GraphQL names stay as they are (`image`); if any is not (`data:read`), every
    // value gets an upper-snake name (CHALLENGE, DATA_READ), so one enum never mixes two styles.
    const rename = !(values as string[]).every((value) => GRAPHQL_NAME.test(value));
    const names = (values as string[]).map((value) =>
      rename ? value.replace(/[^_0-9A-Za-z]/g, "_").toUpperCase() : value,
    );
    if (new Set(names).size !== names.length || !names.every((n) => GRAPHQL_NAME.test(n))) return "String";
    const ref = this.builder.enumType(this.nameFor(root, name), {
      description: z.globalRegistry.get(root)?.description,
      values: Object.fromEntries(names.map((n, i) => [n, { value: values[i] }])),
    });
    this.outputRefs.set(root, ref);
    this.inputRefs.set(root, ref);
    return ref;
  }

  private shapeOf(schema: ZodAny): [string, ZodAny][] {
    const shape = def(schema).shape as Record<string, ZodAny>;
    return Object.entries(shape).filter(([key]) => GRAPHQL_NAME.test(key));
  }

  private objectRef(schema: ZodAny, name: string): TypeRef {
    const cached = this.outputRefs.get(schema);
    if (cached) return cached;
    const typeName = this.nameFor(schema, name);
    const ref = this.builder.objectRef(typeName);
    this.outputRefs.set(schema, ref);
    this.objectsByName.set(typeName, ref);
    const fields = this.shapeOf(schema).map(([key, fieldSchema]) => {
      const field = this.convert(fieldSchema, `${typeName}${pascal(key)}`, "output", key);
      return [key, { ...field, description: describe(fieldSchema, "output") }] as const;
    });
    ref.implement({
      description: descriptionOf(schema, "output"),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos field builder
      fields: (t: any) =>
        Object.fromEntries(
          fields.map(([key, field]) => [
            key,
            t.field({
              type: field.type,
              nullable: field.nullable,
              description: field.description,
              resolve: (parent: Record<string, unknown>) => parent[key],
            }),
          ]),
        ),
    });
    return ref;
  }

  private inputObjectRef(schema: ZodAny, name: string): TypeRef {
    const cached = this.inputRefs.get(schema);
    if (cached) return cached;
    const typeName = this.nameFor(schema, name, "Input");
    const ref = this.builder.inputRef(typeName);
    this.inputRefs.set(schema, ref);
    const fields = this.inputFields(schema, typeName);
    ref.implement({
      description: descriptionOf(schema, "input"),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos input field builder
      fields: (t: any) => this.buildArgs((options) => t.field(options), fields),
    });
    return ref;
  }

  /** The fields of an object input, used both for input types and for top-level field arguments. */
  inputFields(schema: ZodAny, prefix: string): [string, FieldType][] {
    return this.shapeOf(schema).map(([key, fieldSchema]) => [
      key,
      {
        ...this.convert(fieldSchema, `${prefix}${pascal(key)}`, "input", key),
        description: describe(fieldSchema, "input"),
      },
    ]);
  }

  /** Arguments or input fields; `make` is Pothos' `t.arg` for arguments and `t.field` for input types. */
  buildArgs(
    make: (options: { type: TypeRef; required: unknown; description?: string }) => TypeRef,
    fields: [string, FieldType][],
  ) {
    return Object.fromEntries(
      fields.map(([key, field]) => [
        key,
        make({ type: field.type, required: requiredOf(field.nullable), description: field.description }),
      ]),
    );
  }

  /**
   * The single `input` argument of a mutation: an input object of that exact name (Relay's
   * `<MutationName>Input`), whatever registry id the schema has; nested objects keep their own names.
   */
  mutationInput(schema: ZodAny, typeName: string): FieldType {
    this.usedNames.add(typeName);
    const ref = this.builder.inputRef(typeName);
    const fields = this.inputFields(schema, typeName);
    ref.implement({
      description: descriptionOf(schema, "input"),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos input field builder
      fields: (t: any) => this.buildArgs((options) => t.field(options), fields),
    });
    return { type: ref, nullable: false };
  }

  /** Whether a schema is a plain object whose fields can become arguments. */
  static isObject(schema: unknown): schema is ZodAny {
    return schema instanceof z.ZodObject;
  }

  /** The object under an `.optional()` (inputs that may be left out entirely, such as list pages). */
  static objectOf(schema: unknown): ZodAny | undefined {
    if (schema instanceof z.ZodObject) return schema;
    if (schema instanceof z.ZodOptional) return ZodToPothos.objectOf(schema.unwrap());
    return undefined;
  }
}

/** The zod description of a schema (wrappers included), for callers outside this module. */
export const zodDescription = (schema: unknown): string | undefined =>
  descriptionOf(schema as ZodAny, "output");

function requiredOf(nullable: FieldType["nullable"]): boolean | { list: boolean; items: boolean } {
  if (typeof nullable === "boolean") return !nullable;
  return { list: !nullable.list, items: !nullable.items };
}

function asNullable(nullable: FieldType["nullable"]): FieldType["nullable"] {
  return typeof nullable === "boolean" ? true : { list: true, items: nullable.items };
}
