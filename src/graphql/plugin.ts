import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import type { AnyRouter } from "@trpc/server";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
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
      EnvelopArmorPlugin({
        maxDepth: { n: 15, ignoreIntrospection: false, flattenFragments: true },
        costLimit: { maxCost: 5000 },
        maxAliases: { n: 20 },
        maxDirectives: { n: 20 },
        maxTokens: { n: 2000 },
      }),
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

function hasStatus(error: unknown): boolean {
  const original = (error as { originalError?: { extensions?: Record<string, unknown> } }).originalError;
  return typeof original?.extensions?.status === "number";
}
