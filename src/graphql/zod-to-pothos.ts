/**
 * Turns the zod schemas of tRPC procedures into Pothos (GraphQL) types, so that every procedure appears in
 * the GraphQL schema without a second definition. Field names stay exactly as on the wire (snake_case).
 * Shapes GraphQL cannot express (records, unions, tuples, transforms) become the `JSON` scalar.
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
}

type ZodAny = z.core.$ZodType;

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const INT_FORMATS = new Set(["safeint", "int32", "uint32"]);

function def(schema: ZodAny): z.core.$ZodTypeDef & Record<string, unknown> {
  return schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
}

function isInt(schema: ZodAny): boolean {
  const d = def(schema);
  if (INT_FORMATS.has(d.format as string)) return true;
  const checks = (d.checks ?? []) as unknown as ZodAny[];
  return checks.some((check) => INT_FORMATS.has(def(check).format as string));
}

const pascal = (text: string) =>
  text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");

export class ZodToPothos {
  private readonly outputRefs = new Map<ZodAny, TypeRef>();
  private readonly inputRefs = new Map<ZodAny, TypeRef>();
  private readonly usedNames = new Set<string>();
  private readonly objectsByName = new Map<string, TypeRef>();

  constructor(private readonly builder: AnyBuilder) {}

  /** A unique GraphQL type name: the schema's registered `id` when it has one, else the suggested name. */
  private nameFor(schema: ZodAny, suggested: string, suffix = ""): string {
    const id = z.globalRegistry.get(schema)?.id;
    const base = `${pascal(id ?? suggested)}${suffix}`;
    let name = base;
    for (let n = 2; this.usedNames.has(name); n++) name = `${base}${n}`;
    this.usedNames.add(name);
    return name;
  }

  output(schema: ZodAny, suggestedName: string): FieldType {
    return this.convert(schema, suggestedName, "output");
  }

  /** The output object type of that GraphQL name, if a converted schema produced it. */
  objectNamed(name: string): TypeRef | undefined {
    return this.objectsByName.get(name);
  }

  input(schema: ZodAny, suggestedName: string): FieldType {
    return this.convert(schema, suggestedName, "input");
  }

  private convert(schema: ZodAny, name: string, mode: "input" | "output"): FieldType {
    const d = def(schema);
    switch (d.type) {
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "catch": {
        const inner = this.convert(d.innerType as ZodAny, name, mode);
        // An output with a default is always present; an input with a default may be omitted.
        if (mode === "output" && d.type === "default") return inner;
        return { type: inner.type, nullable: asNullable(inner.nullable) };
      }
      case "readonly":
      case "nonoptional":
        return this.convert(d.innerType as ZodAny, name, mode);
      case "pipe":
        return this.convert((mode === "input" ? d.in : d.out) as ZodAny, name, mode);
      case "string":
        return { type: "String", nullable: false };
      case "number":
        return { type: isInt(schema) ? "Int" : "Float", nullable: false };
      case "boolean":
        return { type: "Boolean", nullable: false };
      case "date":
        return { type: "String", nullable: false };
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
        return { type: this.enumRef(schema, name, mode), nullable: false };
      case "array": {
        const item = this.convert(d.element as ZodAny, `${name}Item`, mode);
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

  private enumRef(schema: ZodAny, name: string, mode: "input" | "output"): TypeRef {
    const values = Object.values(def(schema).entries as Record<string, string | number>);
    if (!values.every((value) => typeof value === "string" && GRAPHQL_NAME.test(value))) return "String";
    const cache = mode === "output" ? this.outputRefs : this.inputRefs;
    const cached = cache.get(schema) ?? this.outputRefs.get(schema) ?? this.inputRefs.get(schema);
    if (cached) return cached;
    const ref = this.builder.enumType(this.nameFor(schema, name), { values: values as string[] });
    this.outputRefs.set(schema, ref);
    this.inputRefs.set(schema, ref);
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
    const fields = this.shapeOf(schema).map(
      ([key, fieldSchema]) =>
        [key, this.convert(fieldSchema, `${typeName}${pascal(key)}`, "output")] as const,
    );
    const description = z.globalRegistry.get(schema)?.description;
    ref.implement({
      description,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos field builder
      fields: (t: any) =>
        Object.fromEntries(
          fields.map(([key, field]) => [
            key,
            t.field({
              type: field.type,
              nullable: field.nullable,
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
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos input field builder
    ref.implement({ fields: (t: any) => this.buildArgs((options) => t.field(options), fields) });
    return ref;
  }

  /** The fields of an object input, used both for input types and for top-level field arguments. */
  inputFields(schema: ZodAny, prefix: string): [string, FieldType][] {
    return this.shapeOf(schema).map(([key, fieldSchema]) => [
      key,
      this.convert(fieldSchema, `${prefix}${pascal(key)}`, "input"),
    ]);
  }

  /** Arguments or input fields; `make` is Pothos' `t.arg` for arguments and `t.field` for input types. */
  buildArgs(make: (options: { type: TypeRef; required: unknown }) => TypeRef, fields: [string, FieldType][]) {
    return Object.fromEntries(
      fields.map(([key, field]) => [key, make({ type: field.type, required: requiredOf(field.nullable) })]),
    );
  }

  /** Whether a schema is a plain object whose fields can become arguments. */
  static isObject(schema: unknown): schema is ZodAny {
    return schema instanceof z.ZodObject;
  }
}

function requiredOf(nullable: FieldType["nullable"]): boolean | { list: boolean; items: boolean } {
  if (typeof nullable === "boolean") return !nullable;
  return { list: !nullable.list, items: !nullable.items };
}

function asNullable(nullable: FieldType["nullable"]): FieldType["nullable"] {
  return typeof nullable === "boolean" ? true : { list: true, items: nullable.items };
}
