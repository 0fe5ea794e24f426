import SchemaBuilder from "@pothos/core";
import type { AnyRouter } from "@trpc/server";
import type { GraphQLSchema } from "graphql";
import { GraphQLError } from "graphql";
import { toWireError } from "../platform/errors.js";
import type { Context } from "../trpc/context.js";
import { createCallerFactory, type GraphQLNest } from "../trpc/init.js";
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
  const nested: { field: FieldDefinition; nest: GraphQLNest; item: FieldType }[] = [];
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
    const field: FieldDefinition = {
      name,
      path,
      result,
      args,
      argsFromObject,
      description: meta.openapi?.summary ?? meta.openapi?.description,
    };
    fields[type].push(field);
    const nest = meta.graphql?.nest;
    if (nest && type === "query" && Array.isArray(result.type)) {
      nested.push({ field, nest, item: { type: result.type[0], nullable: true } });
    }
  }

  const procedureOf = (ctx: GraphQLContext, path: string) => {
    let caller = callers.get(ctx.trpc);
    if (!caller) {
      caller = createCaller(ctx.trpc) as unknown as Record<string, unknown>;
      callers.set(ctx.trpc, caller);
    }
    return path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (
      input: unknown,
    ) => Promise<unknown>;
  };

  const rethrow = (ctx: GraphQLContext, error: unknown): never => {
    const wire = toWireError(error, { log: ctx.trpc.log, locFor: (p) => ["args", ...p.map(String)] });
    throw new GraphQLError(typeof wire.body.detail === "string" ? wire.body.detail : "Validation error", {
      extensions: { code: statusName(wire.status), status: wire.status, ...wire.body },
    });
  };

  // Nested batch fields: one loader per request and field collects the parents' keys and calls once.
  const loaders = new WeakMap<Context, Map<string, Batcher>>();
  const loaderFor = (ctx: GraphQLContext, field: FieldDefinition, nest: GraphQLNest): Batcher => {
    let perRequest = loaders.get(ctx.trpc);
    if (!perRequest) loaders.set(ctx.trpc, (perRequest = new Map()));
    let loader = perRequest.get(field.path);
    if (!loader) {
      const call = procedureOf(ctx, field.path);
      loader = new Batcher(async (keys) => {
        const results = (await call({ [nest.batchArg]: keys })) as Record<string, unknown>[];
        return new Map(results.map((item) => [String(item[nest.resultKey]), item]));
      });
      perRequest.set(field.path, loader);
    }
    return loader;
  };
  for (const { field, nest, item } of nested) {
    const parent = types.objectNamed(nest.on);
    if (!parent) throw new Error(`GraphQL nest: no object type ${nest.on} for ${field.path}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos field builder for run-time generated fields
    builder.objectField(parent, nest.field, (t: any) =>
      t.field({
        type: item.type,
        nullable: true,
        description: `${field.description ?? ""} (batched: one call per request for every ${nest.on})`.trim(),
        resolve: async (root: Record<string, unknown>, _args: unknown, ctx: GraphQLContext) => {
          try {
            return await loaderFor(ctx, field, nest).load(String(root[nest.key]));
          } catch (error) {
            return rethrow(ctx, error);
          }
        },
      }),
    );
  }

  const resolverFor =
    (field: FieldDefinition) =>
    async (_root: unknown, args: Record<string, unknown>, ctx: GraphQLContext) => {
      const procedureFn = procedureOf(ctx, field.path);
      const input = field.argsFromObject ? withoutNulls(args) : args.input;
      try {
        return await procedureFn(input);
      } catch (error) {
        return rethrow(ctx, error);
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

/**
 * A minimal DataLoader: keys asked for in the same tick (GraphQL resolves a list's items synchronously one
 * after another) are deduplicated and fetched with one call; a key the batch does not answer is null.
 */
class Batcher {
  private pending: Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }[]> | null =
    null;

  constructor(private readonly fetch: (keys: string[]) => Promise<Map<string, unknown>>) {}

  load(key: string): Promise<unknown> {
    if (!this.pending) {
      const batch = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }[]>();
      this.pending = batch;
      // After the current resolvers ran (as DataLoader does): a resolved promise, then nextTick.
      void Promise.resolve().then(() => process.nextTick(() => void this.dispatch(batch)));
    }
    const batch = this.pending;
    return new Promise((resolve, reject) => {
      const waiting = batch.get(key) ?? [];
      waiting.push({ resolve, reject });
      batch.set(key, waiting);
    });
  }

  private async dispatch(
    batch: Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }[]>,
  ): Promise<void> {
    if (this.pending === batch) this.pending = null;
    try {
      const results = await this.fetch([...batch.keys()]);
      for (const [key, waiting] of batch) for (const w of waiting) w.resolve(results.get(key) ?? null);
    } catch (error) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(error);
    }
  }
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
