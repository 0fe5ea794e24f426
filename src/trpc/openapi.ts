import type { AnyRouter } from "@trpc/server";
import type { SchemaObject } from "openapi3-ts/oas31";
import { generateOpenApiDocument, type OpenAPIObject } from "trpc-to-openapi";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { errorResponse, SECURITY_BY_AUTH, standardErrorResponses } from "../platform/http/route.js";
import { TOTAL_COUNT_HEADER, listPageSchema } from "./paging.js";
import { inputSchemaOf, listProcedures } from "./procedures.js";
import { documentListParameters } from "./query-coercion.js";

const errorSchema: SchemaObject = {
  type: "object",
  required: ["detail"],
  properties: { detail: { type: "string" }, error_id: { type: "string" } },
};

const validationErrorSchema: SchemaObject = {
  type: "object",
  required: ["detail"],
  properties: {
    detail: {
      type: "array",
      items: {
        type: "object",
        required: ["loc", "msg", "type"],
        properties: {
          loc: { type: "array", items: { oneOf: [{ type: "string" }, { type: "integer" }] } },
          msg: { type: "string" },
          type: { type: "string" },
        },
      },
    },
  },
};

/**
 * The OpenAPI document of the REST facade: generated from the router by trpc-to-openapi, then given
 * HiveGuard's auth schemes per operation, its real success statuses and its documented error shapes.
 * `extraPaths` documents the plain Fastify routes (streams, downloads) that JSON procedures cannot carry.
 */
export function buildOpenApiDocument(
  router: AnyRouter,
  options: { version: string; extraPaths?: ZodOpenApiPathsObject },
): OpenAPIObject {
  const doc = generateOpenApiDocument(router, {
    title: "HiveGuard API",
    description:
      "Human-verification gateway (challenges, consensus labels, reverse proxy, risk model) and experiment tracking. Every operation here is also a tRPC procedure at /trpc and a GraphQL field at /graphql.",
    version: options.version,
    baseUrl: "/",
    license: { name: "MIT", identifier: "MIT" },
    securitySchemes: {
      dashboardBasic: { type: "http", scheme: "basic", description: "Dashboard credentials" },
      apiKey: { type: "apiKey", in: "header", name: "X-HiveGuard-Key" },
      bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
      metricsToken: {
        type: "http",
        scheme: "bearer",
        description: "METRICS_TOKEN, for Prometheus scrapers (/_hiveguard/metrics)",
      },
    },
    paths: options.extraPaths,
  });

  doc.components ??= {};
  doc.components.schemas = {
    ...doc.components.schemas,
    HTTPError: errorSchema,
    HTTPValidationError: validationErrorSchema,
  };

  for (const { meta, procedure } of listProcedures(router)) {
    if (!meta.openapi || meta.openapi.enabled === false) continue;
    // The generator lists a path with a trailing slash (DashAI's `/api/v1/dataset/`) without it.
    const path =
      meta.openapi.path.length > 1 && !doc.paths?.[meta.openapi.path]
        ? meta.openapi.path.replace(/\/$/, "")
        : meta.openapi.path;
    const operation = doc.paths?.[path]?.[meta.openapi.method.toLowerCase() as "get"];
    if (!operation) continue;

    documentListParameters(operation as Parameters<typeof documentListParameters>[0]);
    const auth = meta.auth ?? "public";
    operation.security = SECURITY_BY_AUTH[auth];

    const responses: Record<string, unknown> = { ...operation.responses };
    const status = meta.httpStatus ?? 200;
    if (status !== 200 && responses["200"]) {
      const success = responses["200"] as { description?: string };
      delete responses["200"];
      responses[String(status)] =
        status === 204 ? { description: success.description ?? "No content" } : success;
    }
    for (const code of Object.keys(responses)) {
      if (Number(code) >= 400) delete responses[code];
    }
    Object.assign(
      responses,
      standardErrorResponses({
        auth,
        method: meta.openapi.method,
        hasInput: Boolean(operation.requestBody) || (operation.parameters?.length ?? 0) > 0,
        hasPathParams: path.includes("{"),
      }),
    );
    const documented = meta.openapi.errorResponses;
    if (documented) {
      const entries = Array.isArray(documented)
        ? documented.map((code) => [code, "Error"] as const)
        : Object.entries(documented);
      for (const [code, description] of entries) responses[String(code)] = errorResponse(description);
    }
    for (const [code, extra] of Object.entries(meta.extraResponses ?? {})) {
      responses[code] = {
        description: extra.description,
        ...(extra.headers && {
          headers: Object.fromEntries(
            Object.entries(extra.headers).map(([name, description]) => [
              name,
              { description, schema: { type: "string" } },
            ]),
          ),
        }),
      };
    }
    const success = responses["200"] as { headers?: Record<string, unknown> } | undefined;
    if (success && inputSchemaOf(procedure) === listPageSchema)
      success.headers = {
        ...success.headers,
        [TOTAL_COUNT_HEADER.replace(/\b\w/g, (c) => c.toUpperCase())]: {
          description: "Number of entries in the whole list (whatever limit and offset were asked)",
          schema: { type: "integer", minimum: 0 },
        },
      };
    responses["500"] = errorResponse("Unexpected error (logged with the returned error_id)");
    operation.responses = responses as typeof operation.responses;
  }
  dropUnusedComponents(doc);
  return doc;
}

/**
 * trpc-to-openapi adds schemas (its `error.*` shapes) and schemes that no operation refers to once HiveGuard's
 * own error answers replace them: keep only what the document uses.
 */
function dropUnusedComponents(doc: OpenAPIObject): void {
  const components = doc.components;
  if (!components) return;
  const usedSchemes = new Set(
    Object.values(doc.paths ?? {}).flatMap((item) =>
      Object.values(item as Record<string, { security?: Record<string, string[]>[] }>).flatMap((operation) =>
        (operation.security ?? []).flatMap((requirement) => Object.keys(requirement)),
      ),
    ),
  );
  for (const name of Object.keys(components.securitySchemes ?? {}))
    if (!usedSchemes.has(name)) delete components.securitySchemes![name];

  // Schemas: reachable from the paths, directly or through other schemas.
  const schemas = components.schemas ?? {};
  const reachable = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string" && value.startsWith("#/components/schemas/")) {
        const name = value.slice("#/components/schemas/".length);
        if (!reachable.has(name)) {
          reachable.add(name);
          visit(schemas[name]);
        }
      } else visit(value);
    }
  };
  visit(doc.paths);
  for (const name of Object.keys(schemas)) if (!reachable.has(name)) delete schemas[name];
}
