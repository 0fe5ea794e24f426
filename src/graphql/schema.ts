import SchemaBuilder from "@pothos/core";
import type { AnyRouter } from "@trpc/server";
import type { GraphQLSchema } from "graphql";
import { GraphQLError } from "graphql";
import { toWireError } from "../platform/errors.js";
import type { Context } from "../trpc/context.js";
import { createCallerFactory } from "../trpc/init.js";
import { inputSchemaOf, listProcedures, outputSchemaOf } from "../trpc/procedures.js";
import { type FieldType, ZodToPothos } from "./zod-to-pothos.js";

export interface GraphQLContext {
  trpc: Context;
}

const camel = (path: string) =>
  path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part, index) => (index === 0 ? part : part[0]!.toUpperCase() + part.slice(1)))
    .join("");

/**
 * The GraphQL schema, derived from the tRPC router: every query procedure becomes a Query field, every
 * mutation a Mutation field, with arguments from its zod input and a type from its zod output. Resolvers
 * call the procedure through a server-side caller, so auth, validation and business logic stay in one place.
 */
export function buildGraphQLSchema(router: AnyRouter): GraphQLSchema {
  const builder = new SchemaBuilder<{
    Context: GraphQLContext;
    Scalars: { JSON: { Input: unknown; Output: unknown } };
  }>({});
  builder.scalarType("JSON", {
    description: "Any JSON value (used where a shape has no GraphQL equivalent, e.g. free-form maps)",
    serialize: (value) => value,
    parseValue: (value) => value,
  });
  const types = new ZodToPothos(builder);
  const createCaller = createCallerFactory(router);
  const callers = new WeakMap<Context, Record<string, unknown>>();

  const fields = { query: [] as FieldDefinition[], mutation: [] as FieldDefinition[] };
  for (const { path, type, meta, procedure } of listProcedures(router)) {
    if (meta.graphql?.hidden || type === "subscription") continue;
    const name = meta.graphql?.name ?? camel(path);
    const typeName = camel(path).replace(/^./, (c) => c.toUpperCase());
    const output = outputSchemaOf(procedure);
    const result: FieldType = output
      ? types.output(output as never, `${typeName}Result`)
      : { type: "JSON", nullable: true };
    const input = inputSchemaOf(procedure);
    const argsFromObject = ZodToPothos.isObject(input);
    const args: [string, FieldType][] = argsFromObject
      ? types.inputFields(input, `${typeName}`)
      : input && !isVoid(input)
        ? [["input", types.input(input as never, `${typeName}Input`)]]
        : [];
    fields[type].push({
      name,
      path,
      result,
      args,
      argsFromObject,
      description: meta.openapi?.summary ?? meta.openapi?.description,
    });
  }

  const resolverFor =
    (field: FieldDefinition) =>
    async (_root: unknown, args: Record<string, unknown>, ctx: GraphQLContext) => {
      let caller = callers.get(ctx.trpc);
      if (!caller) {
        caller = createCaller(ctx.trpc) as unknown as Record<string, unknown>;
        callers.set(ctx.trpc, caller);
      }
      const procedureFn = field.path
        .split(".")
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (
        input: unknown,
      ) => Promise<unknown>;
      const input = field.argsFromObject ? withoutNulls(args) : args.input;
      try {
        return await procedureFn(input);
      } catch (error) {
        const wire = toWireError(error, { log: ctx.trpc.log, locFor: (p) => ["args", ...p.map(String)] });
        throw new GraphQLError(typeof wire.body.detail === "string" ? wire.body.detail : "Validation error", {
          extensions: { code: statusName(wire.status), status: wire.status, ...wire.body },
        });
      }
    };

  const define =
    (kind: "query" | "mutation") =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos field builder for run-time generated fields
    (t: any) =>
      Object.fromEntries(
        fields[kind].map((field) => [
          field.name,
          t.field({
            type: field.result.type,
            nullable: field.result.nullable,
            description: field.description,
            args: types.buildArgs((options) => t.arg(options), field.args),
            resolve: resolverFor(field),
          }),
        ]),
      );

  builder.queryType({ fields: define("query") });
  if (fields.mutation.length > 0) builder.mutationType({ fields: define("mutation") });
  return builder.toSchema({ sortSchema: false });
}

interface FieldDefinition {
  name: string;
  path: string;
  result: FieldType;
  args: [string, FieldType][];
  argsFromObject: boolean;
  description: string | undefined;
}

function isVoid(schema: unknown): boolean {
  const type = (schema as { _zod?: { def?: { type?: string } } })._zod?.def?.type;
  return type === "void" || type === "undefined";
}

/** GraphQL sends omitted optional arguments as absent but explicit nulls as null; zod optionals want absent. */
function withoutNulls(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(args).filter(([, value]) => value !== null && value !== undefined),
  );
}

const STATUS_NAMES: Record<number, string> = {
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  422: "BAD_USER_INPUT",
  429: "RATE_LIMITED",
  503: "SERVICE_UNAVAILABLE",
};

function statusName(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST");
}
