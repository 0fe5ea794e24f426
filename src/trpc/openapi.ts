import type { AnyRouter } from "@trpc/server";
import type { SchemaObject } from "openapi3-ts/oas31";
import { generateOpenApiDocument, type OpenAPIObject } from "trpc-to-openapi";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import type { AuthLevel } from "./init.js";
import { listProcedures } from "./procedures.js";

const SECURITY_BY_AUTH: Record<AuthLevel, Record<string, string[]>[] | undefined> = {
  public: undefined,
  dashboard: [{ dashboardBasic: [] }],
  apiKey: [{ apiKey: [] }],
  user: [{ bearer: [] }],
};

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

const errorResponse = (description: string, ref = "#/components/schemas/HTTPError") => ({
  description,
  content: { "application/json": { schema: { $ref: ref } } },
});

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
      "Human-verification gateway and ML workbench. Every operation here is also a tRPC procedure at /trpc and a GraphQL field at /graphql.",
    version: options.version,
    baseUrl: "/",
    securitySchemes: {
      dashboardBasic: { type: "http", scheme: "basic", description: "Dashboard credentials" },
      apiKey: { type: "apiKey", in: "header", name: "X-HiveGuard-Key" },
      bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
    },
    paths: options.extraPaths,
  });

  doc.components ??= {};
  doc.components.schemas = {
    ...doc.components.schemas,
    HTTPError: errorSchema,
    HTTPValidationError: validationErrorSchema,
  };

  for (const { meta } of listProcedures(router)) {
    if (!meta.openapi || meta.openapi.enabled === false) continue;
    const path = meta.openapi.path;
    const operation = doc.paths?.[path]?.[meta.openapi.method.toLowerCase() as "get"];
    if (!operation) continue;

    const auth = meta.auth ?? "public";
    const security = SECURITY_BY_AUTH[auth];
    if (security) operation.security = security;
    else delete operation.security;

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
    const hasInput = Boolean(operation.requestBody) || (operation.parameters?.length ?? 0) > 0;
    if (hasInput)
      responses["422"] = errorResponse("Validation error", "#/components/schemas/HTTPValidationError");
    if (auth !== "public") responses["401"] = errorResponse("Missing or invalid credentials");
    if (auth === "dashboard") responses["429"] = errorResponse("Too many failed login attempts");
    if (auth === "dashboard" && meta.openapi.method !== "GET")
      responses["403"] = errorResponse(
        "Signed in with the dashboard's session cookie but without X-Requested-With (CSRF protection)",
      );
    if (path.includes("{")) responses["404"] = errorResponse("Not found");
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
    responses["500"] = errorResponse("Unexpected error (logged with the returned error_id)");
    operation.responses = responses as typeof operation.responses;
  }
  return doc;
}
