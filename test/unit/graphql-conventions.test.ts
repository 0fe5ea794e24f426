// The GraphQL conventions of issue 26, checked over the whole schema built from the router, so that every
// procedure a module adds (lab, bench...) keeps them without a test of its own. No server needed.
import { describe, expect, it } from "vitest";
import { buildGraphQLSchema } from "../../src/graphql/schema.js";
import { listProcedures } from "../../src/trpc/procedures.js";
import { appRouter } from "../../src/trpc/router.js";

const schema = buildGraphQLSchema(appRouter);
const ownTypes = Object.values(schema.getTypeMap()).filter((t) => !t.name.startsWith("__"));
// Duck-typed on purpose: under vitest the schema's `graphql` module and one imported here may be two
// instances ("another module or realm"), so graphql-js's own `isObjectType` and friends cannot be used.
type AnyType = any;
const kind = (type: AnyType): string => type.constructor.name;
const named = (type: AnyType): AnyType => (type.ofType ? named(type.ofType) : type);
const isNonNullType = (type: AnyType) => kind(type) === "GraphQLNonNull";
const isObjectType = (type: AnyType) => kind(type) === "GraphQLObjectType";
const isInputObjectType = (type: AnyType) => kind(type) === "GraphQLInputObjectType";
const isEnumType = (type: AnyType) => kind(type) === "GraphQLEnumType";
const idLike = (name: string) => name === "id" || name === "ids" || /_ids?$/.test(name);

describe("GraphQL schema conventions (whole schema)", () => {
  it("root fields are nullable, so one failing field never nulls the whole answer", () => {
    for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()])
      for (const field of Object.values(root?.getFields() ?? {}))
        expect({ root: root!.name, field: field.name, nonNull: isNonNullType(field.type) }).toEqual({
          root: root!.name,
          field: field.name,
          nonNull: false,
        });
  });

  it("mutations take one `input` object, or only an `id`", () => {
    for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
      const args = field.args.map((a) => `${a.name}: ${named(a.type).name}`);
      if (args.length === 0) continue;
      const ok =
        (args.length === 1 &&
          field.args[0]!.name === "input" &&
          isInputObjectType(named(field.args[0]!.type))) ||
        (args.length === 1 && args[0] === "id: ID");
      expect({ mutation: field.name, args, ok }).toEqual({ mutation: field.name, args, ok: true });
    }
  });

  it("identifiers are ID and timestamps DateTime, on output and input types", () => {
    const fields: [string, AnyType][] = [];
    for (const type of ownTypes)
      if (isObjectType(type) || isInputObjectType(type))
        for (const field of Object.values((type as AnyType).getFields())) fields.push([type.name, field]);
    let ids = 0;
    for (const [type, field] of fields) {
      const leaf = named(field.type).name;
      if (idLike(field.name) && (leaf === "String" || leaf === "ID")) {
        ids++;
        expect(`${type}.${field.name}: ${leaf}`).toBe(`${type}.${field.name}: ID`);
      }
      // RiskModel (src/modules/guard/risk, owned elsewhere) still declares z.string(): timestampSchema is its next step.
      if (/^(created|updated)_at$/.test(field.name) && type !== "RiskModel")
        expect(`${type}.${field.name}: ${leaf}`).toBe(`${type}.${field.name}: DateTime`);
    }
    expect(ids).toBeGreaterThan(10);
  });

  it("one enum per concept: no two enums with the same values", () => {
    const enums = ownTypes.filter(isEnumType) as AnyType[];
    const byValues = new Map<string, string[]>();
    for (const e of enums) {
      const key = e
        .getValues()
        .map((v: { value: unknown }) => String(v.value))
        .sort()
        .join("|");
      byValues.set(key, [...(byValues.get(key) ?? []), e.name]);
    }
    for (const names of byValues.values()) expect(names).toHaveLength(1);
    expect(enums.map((e: AnyType) => e.name)).toEqual(
      expect.arrayContaining(["Modality", "ChallengeType", "ApiKeyScope", "MatchType"]),
    );
  });

  it("every argument and input field of a procedure with a zod description has one; bounds are shown", () => {
    const query = schema.getQueryType()!.getFields();
    const described = Object.values(query).flatMap((f) => f.args.filter((a) => a.description));
    expect(described.length).toBeGreaterThan(10);
    expect(query.timeseries!.args.find((a) => a.name === "buckets")!.description).toMatch(
      /between 1 and 1440/,
    );
    const config = schema.getType("RuntimeConfig");
    if (!isObjectType(config)) throw new Error("RuntimeConfig is not an object type");
    for (const field of Object.values((config as AnyType).getFields()) as AnyType[])
      expect(field.description, field.name).toBeTruthy();
  });

  it("API-key and user-token procedures are not in the dashboard schema", () => {
    const fieldNames = new Set([
      ...Object.keys(schema.getQueryType()!.getFields()),
      ...Object.keys(schema.getMutationType()?.getFields() ?? {}),
    ]);
    for (const { meta } of listProcedures(appRouter))
      if ((meta.auth === "apiKey" || meta.auth === "user") && meta.graphql?.name)
        expect(fieldNames.has(meta.graphql.name) && meta.graphql.name !== "labels").toBe(false);
    expect(fieldNames.has("items")).toBe(false);
    expect(fieldNames.has("uploadItems")).toBe(false);
  });

  it("paged lists are connections with totalCount", () => {
    const query = schema.getQueryType()!.getFields();
    for (const name of ["datasets", "apiKeys", "proxyRules", "labels"]) {
      const type = named(query[name]!.type);
      expect(type.name).toMatch(/Connection$/);
      if (!isObjectType(type)) throw new Error(`${name} is not a connection`);
      expect(Object.keys((type as AnyType).getFields())).toEqual(
        expect.arrayContaining(["edges", "nodes", "pageInfo", "totalCount"]),
      );
      expect(query[name]!.args.map((a) => a.name)).toEqual(
        expect.arrayContaining(["first", "after", "last", "before"]),
      );
    }
    expect(Object.keys(schema.getSubscriptionType()!.getFields())).toContain("liveMetrics");
  });
});
