/**
 * Importing tools from an MCP server over real HTTP: real MCP servers built with the official SDK
 * (@modelcontextprotocol/sdk, Streamable HTTP, stateless) answer HiveGuard's SDK client. Discover lists the
 * tools; import makes a suite of them in OpenAI's format with generated cases; a server with no tools, one that
 * is not there, one that goes away in the middle of its tool list, and a URL we do not call are clear errors.
 * Over stdio: the same server as a child process (test/bench/mcp-stdio-server.ts, through an executable listed in
 * BENCH_MCP_STDIO_COMMANDS) is discovered and stopped afterwards; a command nobody listed is a 422 saying how to
 * allow it; a listed command that does not exist, or a server that exits mid-list, is a 502.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpService } from "../../src/modules/bench/tools/mcp.js";
import type { SuiteService } from "../../src/modules/bench/tools/suites.service.js";
import { ValidationError } from "../../src/platform/errors.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";
import { flakyServer, serveMcpHttp, weatherServer } from "./mcp-servers.js";

let t: TestServer;
let user: SignedInUser;
const servers: HttpServer[] = [];
// An executable an administrator could list: it starts test/bench/mcp-stdio-server.ts with its arguments.
const dir = mkdtempSync(join(tmpdir(), "hiveguard-mcp-"));
const WRAPPER = join(dir, "weather-mcp");
const MISSING = join(dir, "not-installed-mcp");

const serveMcp = (build: (http: HttpServer) => Server | McpServer) => serveMcpHttp(build, servers);

beforeAll(async () => {
  writeFileSync(
    WRAPPER,
    `#!/bin/sh\ncd '${process.cwd()}' && exec '${process.execPath}' --import tsx test/bench/mcp-stdio-server.ts "$@"\n`,
  );
  chmodSync(WRAPPER, 0o755);
  t = await startTestServer({
    env: { TRUSTED_PROXIES: "loopback", BENCH_MCP_STDIO_COMMANDS: JSON.stringify([WRAPPER, MISSING]) },
  });
  user = await registerUser(t);
}, 60_000);
afterAll(async () => {
  for (const http of servers) {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
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
    const url = await serveMcp((http) =>
      // Second page: the server dies (every connection dropped, nothing more answers).
      flakyServer(() => {
        http.closeAllConnections();
        http.close();
        return new Promise<never>(() => {});
      }),
    );
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

describe("MCP import over stdio", () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it("starts an allowed command as a child, lists its tools, imports them, and stops it", async () => {
    const pidFile = join(dir, "weather.pid");
    const found = await post("/api/mcp/discover", {
      command: WRAPPER,
      args: ["weather", "--pid-file", pidFile],
    });
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ status: "ok", server_name: "weather-mcp", tool_count: 3 });
    expect(found.body.tools.map((tool: any) => [tool.name, tool.parameter_count])).toEqual([
      ["get_weather", 2],
      ["files.read", 2],
      ["ping", 0],
    ]);
    // The child is gone once the tools are listed.
    const pid = Number(readFileSync(pidFile, "utf8"));
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe(false);

    const imported = await post("/api/mcp/import", {
      tools: found.body.tools.slice(0, 1),
      suite_name: "Weather over stdio",
      generate_test_cases: true,
    });
    expect(imported.body).toMatchObject({ status: "ok", tools_imported: 1, test_cases_generated: 1 });
  });

  it("a command nobody listed is a 422 naming it and how to allow it; nothing is started", async () => {
    const marker = join(dir, "ran");
    for (const command of ["/bin/sh", `${dir}/./weather-mcp`, "weather-mcp"]) {
      const res = await post("/api/mcp/discover", { command, args: ["-c", `touch ${marker}`] });
      expect(res.status).toBe(422);
      expect(res.body.detail).toEqual([
        {
          loc: ["body", "command"],
          msg:
            `The command "${command}" may not be started as an MCP server: an administrator adds it to ` +
            `BENCH_MCP_STDIO_COMMANDS (allowed now: ${WRAPPER}, ${MISSING})`,
          type: "command_not_allowed",
        },
      ]);
    }
    expect(existsSync(marker)).toBe(false);

    // A url and a command at once, or neither: 422 naming the field.
    const both = await post("/api/mcp/discover", { url: "http://127.0.0.1:1/mcp", command: WRAPPER });
    expect([both.status, both.body.detail?.[0]?.loc]).toEqual([422, ["body", "command"]]);
    const neither = await post("/api/mcp/discover", { args: ["weather"] });
    expect([neither.status, neither.body.detail?.[0]?.loc]).toEqual([422, ["body", "url"]]);

    // A server where no command is listed says so.
    const service = new McpService({ suites: {} as SuiteService });
    const refused = await service.discover({ command: "/bin/true" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).detail).toEqual([
      {
        loc: ["body", "command"],
        msg:
          'The command "/bin/true" may not be started as an MCP server: no command is allowed on this server: ' +
          "an administrator lists the MCP servers users may start in BENCH_MCP_STDIO_COMMANDS",
        type: "command_not_allowed",
      },
    ]);
  });

  it("a listed command that is not installed, or a server that exits mid-list, is a 502 saying so", async () => {
    const missing = await post("/api/mcp/discover", { command: MISSING });
    expect(missing.status).toBe(502);
    expect(missing.body.error).toBe("Could not start the MCP server (the command was not found)");

    const exits = await post("/api/mcp/discover", { command: WRAPPER, args: ["exit-mid-list"] });
    expect(exits.status).toBe(502);
    expect(exits.body.error).toMatch(/^The MCP server went away while listing its tools \(.+\)$/);
    expect(exits.text).not.toMatch(/at .*\.[jt]s:\d+/); // no stack trace
  });
});
