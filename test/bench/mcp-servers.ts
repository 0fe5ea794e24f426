// MCP servers built with the official SDK (@modelcontextprotocol/sdk), shared by test/bench/mcp.test.ts (over
// Streamable HTTP) and test/bench/mcp-stdio-server.ts (the same servers over stdio, as a child process).
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
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
