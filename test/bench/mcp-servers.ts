// MCP servers built with the official SDK (@modelcontextprotocol/sdk), shared by test/bench/mcp.test.ts (over
// Streamable HTTP) and test/bench/mcp-stdio-server.ts (the same servers over stdio, as a child process).
import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

/** Three tools: one with an enum, one whose name providers refuse (`files.read`), one without parameters. */
export const weatherServer = () => {
  const server = new McpServer({ name: "weather-mcp", version: "1.0.0" });
  server.registerTool(
    "get_weather",
    {
      description: "Current weather for a city.",
      inputSchema: { city: z.string(), unit: z.enum(["celsius", "fahrenheit"]).optional() },
    },
    async () => ({ content: [{ type: "text", text: "sunny" }] }),
  );
  server.registerTool(
    "files.read",
    { description: "Read a file", inputSchema: { path: z.string(), max_bytes: z.number().int() } },
    async () => ({ content: [{ type: "text", text: "" }] }),
  );
  server.registerTool("ping", { description: "Are you there" }, async () => ({
    content: [{ type: "text", text: "pong" }],
  }));
  return server;
};

/** A server whose tool list has two pages; asking for the second calls `dies` (which must not return). */
export const flakyServer = (dies: () => Promise<never>) => {
  const server = new Server({ name: "flaky-mcp", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async (req) => {
    if (!req.params?.cursor)
      return { tools: [{ name: "first", inputSchema: { type: "object" as const } }], nextCursor: "page-2" };
    return dies();
  });
  return server;
};

/**
 * An MCP server over Streamable HTTP (stateless: a server and transport per request, as the SDK shows) on a free
 * port of 127.0.0.1; its URL. The HTTP server is pushed onto `servers` for the caller to close.
 */
export async function serveMcpHttp(
  build: (http: HttpServer) => Server | McpServer,
  servers: HttpServer[],
): Promise<string> {
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const mcp = build(http);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on("close", () => {
        void transport.close();
        void mcp.close();
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  servers.push(http);
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
}
