import SchemaBuilder from "@pothos/core";
import RelayPlugin, { resolveOffsetConnection } from "@pothos/plugin-relay";
import type { AnyRouter } from "@trpc/server";
import type { GraphQLSchema } from "graphql";
import { GraphQLError } from "graphql";
import { DateTimeResolver } from "graphql-scalars";
import { toWireError } from "../platform/errors.js";
import { type Context, createContext } from "../trpc/context.js";
import { createCallerFactory, type GraphQLNest } from "../trpc/init.js";
import { listPageSchema, TOTAL_COUNT_HEADER } from "../trpc/paging.js";
import { inputSchemaOf, listProcedures, outputSchemaOf } from "../trpc/procedures.js";
import { defineLiveMetrics } from "./live.js";
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
const pascal = (text: string) => text.replace(/^./, (c) => c.toUpperCase());

/** Connections: page size when neither `first` nor `last` is given, and the largest page one call returns. */
export const CONNECTION_DEFAULT_SIZE = 50;
export const CONNECTION_MAX_SIZE = 250;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Pothos field builders for run-time generated fields
type AnyFieldBuilder = any;
type Call = (input: unknown) => Promise<unknown>;

/**
 * The GraphQL schema for dashboards, derived from the tRPC router: every query procedure the dashboard may
 * call (auth `dashboard` or `public`; API-key and user procedures stay on REST/tRPC) becomes a Query field,
 * every mutation a Mutation field, with types from its zod schemas. Resolvers call the procedure through a
 * server-side caller, so auth, validation and business logic stay in one place. Conventions (docs/dashboard.md):
 * - root fields are nullable: one failing pane is `null` with its error (and code) in `errors`, the rest of
 *   the answer stands;
 * - a mutation takes one `input` argument of its own input type (`createDataset(input: CreateDatasetInput!)`),
 *   except one whose input is only an `id`, which takes `id: ID!`;
 * - lists that a dashboard pages through are Relay connections (`first`/`after`/`last`/`before`, `edges`,
 *   `nodes`, `pageInfo`, `totalCount`): the procedures with `listPageSchema` input, and offset-paged
 *   procedures (input `limit`+`offset`, output `total` + one list) get a connection named after the list;
 * - errors carry `extensions.code` and `extensions.status` and the REST `detail`.
 */
export function buildGraphQLSchema(router: AnyRouter): GraphQLSchema {
  const builder = new SchemaBuilder<{
    Context: GraphQLContext;
    Scalars: {
      JSON: { Input: unknown; Output: unknown };
      DateTime: { Input: Date; Output: Date | string };
    };
    Connection: { totalCount: number };
  }>({
    plugins: [RelayPlugin],
    relay: {
      nodeQueryOptions: false,
      nodesQueryOptions: false,
      nodesOnConnection: true,
      cursorType: "String",
    },
  });
  builder.scalarType("JSON", {
    description: "Any JSON value (used where a shape has no GraphQL equivalent, e.g. free-form maps)",
    serialize: (value) => value,
    parseValue: (value) => value,
  });
  builder.addScalarType("DateTime", DateTimeResolver);
  builder.globalConnectionField("totalCount", (t) =>
    t.int({
      description: "Number of entries in the whole list, whatever page was asked for",
      resolve: (parent) => parent.totalCount,
    }),
  );
  const types = new ZodToPothos(builder);
  const createCaller = createCallerFactory(router);
  const callers = new WeakMap<Context, Record<string, unknown>>();

  const callerFor = (ctx: Context) => {
    let caller = callers.get(ctx);
    if (!caller) {
      caller = createCaller(ctx) as unknown as Record<string, unknown>;
      callers.set(ctx, caller);
    }
    return caller;
  };
  const procedureAt = (caller: Record<string, unknown>, path: string) =>
    path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as Call;
  const procedureOf = (ctx: GraphQLContext, path: string) => procedureAt(callerFor(ctx.trpc), path);

  const rethrow = (ctx: GraphQLContext, error: unknown, argRoot = "args"): never => {
    const wire = toWireError(error, { log: ctx.trpc.log, locFor: (p) => [argRoot, ...p.map(String)] });
    throw new GraphQLError(typeof wire.body.detail === "string" ? wire.body.detail : "Validation error", {
      extensions: { code: statusName(wire.status), status: wire.status, ...wire.body },
    });
  };

  const fields = { query: [] as FieldDefinition[], mutation: [] as FieldDefinition[] };
  const connections: ConnectionDefinition[] = [];
  const nested: { field: FieldDefinition; nest: GraphQLNest; item: FieldType }[] = [];
  for (const { path, type, meta, procedure } of listProcedures(router)) {
    if (meta.graphql?.hidden || type === "subscription") continue;
    // The dashboard schema: API keys and user tokens never authorize dashboard operations.
    if (meta.auth === "apiKey" || meta.auth === "user") continue;
    const name = meta.graphql?.name ?? camel(path);
    const typeName = pascal(camel(path));
    const output = outputSchemaOf(procedure);
    const result: FieldType = output
      ? types.output(output as never, `${typeName}Result`)
      : { type: "JSON", nullable: true };
    const input = inputSchemaOf(procedure);
    const description = meta.openapi?.summary ?? meta.openapi?.description;

    if (type === "query" && input === listPageSchema && Array.isArray(result.type)) {
      connections.push({ name, path, node: result.type[0], description, args: [], kind: "totalHeader" });
      continue;
    }

    const inputObject = ZodToPothos.isObject(input) ? input : undefined;
    let args: [string, FieldType][] = [];
    let argsFrom: FieldDefinition["argsFrom"] = "none";
    if (type === "mutation" && inputObject) {
      const inputFields = types.inputFields(inputObject, typeName);
      if (inputFields.length === 1 && inputFields[0]![0] === "id") {
        args = inputFields;
        argsFrom = "args";
      } else {
        args = [["input", types.mutationInput(inputObject, `${pascal(name)}Input`)]];
        argsFrom = "input";
      }
    } else if (inputObject) {
      args = types.inputFields(inputObject, typeName);
      argsFrom = "args";
    } else if (input && !isVoid(input)) {
      args = [["input", types.input(input as never, `${typeName}Input`)]];
      argsFrom = "input";
    }
    const field: FieldDefinition = { name, path, result, args, argsFrom, description };
    fields[type].push(field);

    const page = type === "query" && output ? offsetPageOf(output, args) : undefined;
    if (page && !fields.query.some((f) => f.name === page.items)) {
      const item = types.output((output as { shape: Record<string, never> }).shape[page.items]!, "");
      if (Array.isArray(item.type))
        connections.push({
          name: page.items,
          path,
          node: item.type[0],
          description: `${description ?? ""} (as a connection)`.trim(),
          args: args.filter(([key]) => key !== "limit" && key !== "offset"),
          kind: "offsetPage",
          items: page.items,
        });
    }
    const nest = meta.graphql?.nest;
    if (nest && type === "query" && Array.isArray(result.type)) {
      nested.push({ field, nest, item: { type: result.type[0], nullable: true } });
    }
  }

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
    builder.objectField(parent, nest.field, (t: AnyFieldBuilder) =>
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
      const input =
        field.argsFrom === "args"
          ? toWireInput(withoutNulls(args))
          : field.argsFrom === "input"
            ? toWireInput(withoutNullFields(args.input))
            : undefined;
      try {
        return await procedureFn(input);
      } catch (error) {
        return rethrow(ctx, error, field.argsFrom === "input" ? "input" : "args");
      }
    };

  const define = (kind: "query" | "mutation") => (t: AnyFieldBuilder) => ({
    ...Object.fromEntries(
      fields[kind].map((field) => [
        field.name,
        t.field({
          type: field.result.type,
          // Root fields fail independently: a failing one is null with its error, the others stand.
          nullable: nullableRoot(field.result.nullable),
          description: field.description,
          args: types.buildArgs((options) => t.arg(options), field.args),
          resolve: resolverFor(field),
        }),
      ]),
    ),
    ...(kind === "query" ? Object.fromEntries(connections.map((c) => [c.name, connectionField(t, c)])) : {}),
  });

  const connectionField = (t: AnyFieldBuilder, c: ConnectionDefinition) => {
    const nodeName = types.typeNameOf(c.node) ?? pascal(c.name);
    return t.connection(
      {
        type: c.node,
        nullable: true,
        description: c.description,
        args: types.buildArgs((options) => t.arg(options), c.args),
        resolve: async (_root: unknown, args: Record<string, unknown>, ctx: GraphQLContext) => {
          const { first, last, after, before, ...rest } = args;
          const filters = toWireInput(withoutNulls(rest));
          // A context of its own: the total comes back in this call's response headers.
          const own: Context = createContext(ctx.trpc.deps, ctx.trpc.req, ctx.trpc.log);
          const call = procedureAt(callerFor(own), c.path);
          let totalCount = 0;
          const fetchPage = async ({ offset, limit }: { offset: number; limit: number }) => {
            const answer = await call({ ...filters, limit, offset });
            if (c.kind === "totalHeader") {
              totalCount = Number(own.response.headers[TOTAL_COUNT_HEADER] ?? 0);
              return answer as unknown[];
            }
            const page = answer as Record<string, unknown>;
            totalCount = Number(page.total ?? 0);
            return page[c.items!] as unknown[];
          };
          try {
            // `last` without `before` counts back from the end, which needs the total first.
            if (last != null && before == null) await fetchPage({ offset: 0, limit: 1 });
            const connection = await resolveOffsetConnection(
              {
                args: { first, last, after, before } as never,
                defaultSize: CONNECTION_DEFAULT_SIZE,
                maxSize: CONNECTION_MAX_SIZE,
                ...(last != null && before == null ? { totalCount } : {}),
              },
              fetchPage,
            );
            return { ...connection, totalCount };
          } catch (error) {
            return rethrow(ctx, error);
          }
        },
      },
      { name: `${nodeName}Connection`, description: `A page of ${nodeName} entries (Relay connection)` },
      { name: `${nodeName}Edge` },
    );
  };

  builder.queryType({ fields: define("query") });
  if (fields.mutation.length > 0) builder.mutationType({ fields: define("mutation") });
  defineLiveMetrics({ builder, types, router, procedureOf, rethrow });
  return builder.toSchema({ sortSchema: false });
}

interface FieldDefinition {
  name: string;
  path: string;
  result: FieldType;
  args: [string, FieldType][];
  /** Whether GraphQL arguments are the input's fields, one `input` object, or nothing. */
  argsFrom: "args" | "input" | "none";
  description: string | undefined;
}

interface ConnectionDefinition {
  name: string;
  path: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Pothos type reference
  node: any;
  description: string | undefined;
  /** Arguments besides first/after/last/before (filters). */
  args: [string, FieldType][];
  /** Where the total comes from: the X-Total-Count of a bare-array list, or the page's `total`. */
  kind: "totalHeader" | "offsetPage";
  items?: string;
}

/** An offset-paged procedure: input `limit` and `offset`, output an object with `total` and one list. */
function offsetPageOf(output: unknown, args: [string, FieldType][]): { items: string } | undefined {
  const names = new Set(args.map(([key]) => key));
  if (!names.has("limit") || !names.has("offset") || !ZodToPothos.isObject(output)) return undefined;
  const shape = (output as unknown as { shape: Record<string, { _zod: { def: { type: string } } }> }).shape;
  if (!shape.total) return undefined;
  const lists = Object.keys(shape).filter((key) => shape[key]!._zod.def.type === "array");
  return lists.length === 1 ? { items: lists[0]! } : undefined;
}

function nullableRoot(nullable: FieldType["nullable"]): FieldType["nullable"] {
  return typeof nullable === "boolean" ? true : { list: true, items: nullable.items };
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

function withoutNullFields(value: unknown): unknown {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? withoutNulls(value as Record<string, unknown>)
    : value;
}

/** Values as on the wire: `DateTime` arguments arrive as Dates, the procedures take ISO 8601 strings. */
function toWireInput<T>(value: T): T {
  if (value instanceof Date) return value.toISOString() as T;
  if (Array.isArray(value)) return value.map(toWireInput) as T;
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWireInput(v)])) as T;
  return value;
}

const STATUS_NAMES: Record<number, string> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  422: "BAD_USER_INPUT",
  429: "RATE_LIMITED",
  503: "SERVICE_UNAVAILABLE",
};

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST");
}
