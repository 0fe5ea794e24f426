import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { AnyRouter } from "@trpc/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { GraphQLError } from "graphql";
import { createYoga, maskError } from "graphql-yoga";
import { type AppDeps, createContext } from "../trpc/context.js";
import { requestInfo } from "../trpc/rest.js";
import { buildGraphQLSchema, type GraphQLContext } from "./schema.js";

interface ServerContext {
  req: FastifyRequest;
  reply: FastifyReply;
}

/** GraphQL at /graphql (graphql-yoga), GraphiQL from the npm package (no CDN), depth and cost bounded. */
export function registerGraphQL(app: FastifyInstance, router: AnyRouter, deps: AppDeps): void {
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema: buildGraphQLSchema(router),
    graphqlEndpoint: "/graphql",
    logging: false,
    maskedErrors: {
      // Errors our resolvers raised on purpose (they carry an HTTP status) pass; anything else is masked.
      maskError: (error, message, isDev) =>
        hasStatus(error) ? (error as Error) : maskError(error, message, isDev),
    },
    graphiql: { title: "HiveGuard GraphQL" },
    renderGraphiQL,
    landingPage: false,
    context: ({ req }) => ({ trpc: createContext(deps, requestInfo(req), req.log) }),
    plugins: [
      // API_DOCS=dashboard: the schema is described only to operators (the fields stay protected anyway).
      useDisableIntrospection({
        isDisabled: async (_request, serverContext) =>
          deps.config.apiDocs === "dashboard" &&
          !(await isOperator(deps, (serverContext as unknown as ServerContext).req)),
      }),
      EnvelopArmorPlugin({
        maxDepth: {
          n: LIMITS.depth,
          ignoreIntrospection: false,
          flattenFragments: true,
          ...limitError("depth"),
        },
        costLimit: { maxCost: LIMITS.cost, ...limitError("cost") },
        maxAliases: { n: LIMITS.aliases, ...limitError("aliases") },
        maxDirectives: { n: LIMITS.directives, ...limitError("directives") },
        maxTokens: { n: LIMITS.tokens, ...limitError("tokens") },
      }),
      {
        // graphql-yoga answers a rejected document 200 for `Accept: application/json` (GraphQL over HTTP);
        // a limit rejection is the client's error whatever it accepts: 400.
        // Errors our resolvers raised on purpose (they carry `status`) are answers, not server failures:
        // 200, also when they are the only result (a refused subscription), whatever GraphQLError class
        // identity yoga sees (it would call a foreign instance "unexpected" and answer 500).
        onResultProcess({ result }) {
          if (Array.isArray(result) || !("errors" in result)) return;
          for (const error of result.errors ?? []) {
            const extensions = error.extensions as Record<string, unknown> | undefined;
            if (!extensions) continue;
            // (A parse-time rejection already has yoga's `{spec: true, status: 400}`, which it ignores
            // for `Accept: application/json`: replaced.)
            if (extensions.code === "QUERY_LIMIT_EXCEEDED") extensions.http = { status: 400 };
            else if (typeof extensions.status === "number" && !extensions.http)
              extensions.http = { status: 200 };
          }
        },
      },
    ],
  });

  app.route({
    url: "/graphql",
    method: ["GET", "POST", "OPTIONS"],
    handler: async (req, reply) => {
      const response = await yoga.handleNodeRequestAndResponse(req, reply, { req, reply });
      for (const [key, value] of response.headers) reply.header(key, value);
      reply.status(response.status);
      reply.send(response.body);
      return reply;
    },
  });
}

async function isOperator(deps: AppDeps, req: FastifyRequest): Promise<boolean> {
  try {
    await deps.auth.dashboard.authenticateRequest(req.headers, req.ip, { write: false });
    return true;
  } catch {
    return false;
  }
}

/** The query limits (graphql-armor). */
export const LIMITS = { depth: 15, cost: 5000, aliases: 20, directives: 20, tokens: 2000 } as const;

/**
 * A limit rejection in the documented error shape: graphql-armor reports it as a "Syntax Error" with no
 * code; it becomes `{message, extensions: {code: "QUERY_LIMIT_EXCEEDED", status: 400, detail, limit}}` and
 * the HTTP answer is 400 (set in `onResultProcess`: yoga takes the status from `extensions.http`, never sent).
 */
function limitError(limit: keyof typeof LIMITS) {
  return {
    propagateOnRejection: true,
    onReject: [
      (_ctx: unknown, error: GraphQLError) => {
        const detail = error.message.replace(/^Syntax Error: /, "");
        error.message = detail;
        Object.assign(error.extensions as Record<string, unknown>, {
          code: "QUERY_LIMIT_EXCEEDED",
          status: 400,
          detail,
          limit,
        });
      },
    ],
  };
}

function hasStatus(error: unknown): boolean {
  const original = (error as { originalError?: { extensions?: Record<string, unknown> } }).originalError;
  return typeof original?.extensions?.status === "number";
}
