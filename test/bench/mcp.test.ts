/**
 * Importing tools from an MCP server over real HTTP: real MCP servers built with the official SDK
 * (@modelcontextprotocol/sdk, Streamable HTTP, stateless) answer HiveGuard's SDK client. Discover lists the
 * tools; import makes a suite of them in OpenAI's format with generated cases; a server with no tools, one that
 * is not there, one that goes away in the middle of its tool list, and a URL we do not call are clear errors.
 */
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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";

let t: TestServer;
let user: SignedInUser;
const servers: HttpServer[] = [];

/** An MCP server over Streamable HTTP (stateless: a server and transport per request, as the SDK shows). */
async function serveMcp(build: (http: HttpServer) => Server | McpServer): Promise<string> {
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

const weatherServer = () => {
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

beforeAll(async () => {
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  user = await registerUser(t);
}, 60_000);
afterAll(async () => {
  for (const http of servers) {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
  await t?.close();
});

const post = (path: string, body: unknown) => request(t, "POST", path, { token: user.token, body });

describe("MCP import", () => {
  it("discovers a real MCP server's tools and imports them as a suite with one generated case per tool", async () => {
    const url = await serveMcp(weatherServer);
    const found = await post("/api/mcp/discover", { url });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ status: "ok", server_name: "weather-mcp", tool_count: 3 });
    expect(found.body.tools.map((tool: any) => [tool.name, tool.parameter_count])).toEqual([
      ["get_weather", 2],
      ["files.read", 2],
      ["ping", 0],
    ]);
    expect(found.body.tools[0].inputSchema).toMatchObject({
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } },
      required: ["city"],
    });

    const imported = await post("/api/mcp/import", {
      tools: found.body.tools,
      suite_name: "",
      suite_description: "from MCP",
      generate_test_cases: true,
    });
    expect(imported.status).toBe(200);
    expect(imported.body).toEqual({
      status: "ok",
      suite_id: expect.any(String),
      tools_imported: 3,
      test_cases_generated: 3,
    });
    const suite = (
      await request(t, "GET", `/api/tool-suites/${imported.body.suite_id}`, { token: user.token })
    ).body;
    expect(suite.name).toBe("MCP: get_weather, files.read, ping");
    expect(suite.description).toBe("from MCP");
    // OpenAI's function format; a name providers refuse ("files.read") made safe.
    expect(suite.tools.map((tool: any) => tool.function.name)).toEqual(["get_weather", "files_read", "ping"]);
    expect(suite.tools[0]).toMatchObject({
      type: "function",
      function: {
        description: "Current weather for a city.",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    });
    expect(
      suite.test_cases.map((c: any) => ({
        tool: c.expected_tool,
        params: c.expected_params,
        prompt: c.prompt,
      })),
    ).toEqual([
      {
        tool: "get_weather",
        params: { city: "example" },
        prompt: 'Use the get_weather tool (Current weather for a city) with these values: city="example"',
      },
      {
        tool: "files_read",
        params: { path: "/tmp/example.txt", max_bytes: 1 },
        prompt:
          'Use the files_read tool (Read a file) with these values: path="/tmp/example.txt", max_bytes=1',
      },
      { tool: "ping", params: null, prompt: "Use the ping tool: Are you there" },
    ]);

    // Without generated cases, and duplicate names made unique.
    const dup = await post("/api/mcp/import", {
      tools: [found.body.tools[2], found.body.tools[2]],
      suite_name: "pings",
    });
    expect(dup.body).toMatchObject({ tools_imported: 2, test_cases_generated: 0 });
    const dupSuite = (await request(t, "GET", `/api/tool-suites/${dup.body.suite_id}`, { token: user.token }))
      .body;
    expect(dupSuite.tools.map((tool: any) => tool.function.name)).toEqual(["ping", "ping_2"]);
  });

  it("a server without tools is a 200 with an error saying so (upstream's answer)", async () => {
    const url = await serveMcp(() => {
      const server = new Server({ name: "empty-mcp", version: "1.0.0" }, { capabilities: { tools: {} } });
      server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [] }));
      return server;
    });
    const res = await post("/api/mcp/discover", { url });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      server_name: "empty-mcp",
      tool_count: 0,
      error: "Connected successfully, but the server has no tools available.",
    });
  });

  it("a server that goes away in the middle of its tool list is a 502 saying so", async () => {
    const url = await serveMcp((http) => {
      const server = new Server({ name: "flaky-mcp", version: "1.0.0" }, { capabilities: { tools: {} } });
      server.setRequestHandler(ListToolsRequestSchema, async (req) => {
        if (!req.params?.cursor)
          return { tools: [{ name: "first", inputSchema: { type: "object" } }], nextCursor: "page-2" };
        // Second page: the server dies (every connection dropped, nothing more answers).
        http.closeAllConnections();
        http.close();
        return new Promise<never>(() => {});
      });
      return server;
    });
    const res = await post("/api/mcp/discover", { url });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/^The MCP server went away while listing its tools/);
    expect(res.text).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it("a server that is not there is a 502; a URL that is not http(s) or no tools chosen is a 422", async () => {
    const gone = await serveMcp(weatherServer);
    const http = servers.pop()!;
    await new Promise((resolve) => http.close(resolve));
    const refused = await post("/api/mcp/discover", { url: gone });
    expect(refused.status).toBe(502);
    expect(refused.body.error).toBe(
      "Could not connect to the MCP server (nothing is listening at that address)",
    );

    for (const url of ["ftp://127.0.0.1/mcp", "not a url", ""]) {
      const res = await post("/api/mcp/discover", { url });
      expect({ url, status: res.status, loc: res.body.detail?.[0]?.loc }).toEqual({
        url,
        status: 422,
        loc: ["body", "url"],
      });
    }
    const none = await post("/api/mcp/import", { tools: [] });
    expect(none.status).toBe(422);
    expect(none.body.error).toMatch(/No tools selected/);
  });
});
