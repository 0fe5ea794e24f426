// Tools from an MCP server: discover its tool list with the official SDK's client over Streamable HTTP or stdio
// (a child process, only for the executables an administrator listed in BENCH_MCP_STDIO_COMMANDS), and import
// chosen tools as a suite (MCP `inputSchema` → OpenAI `function.parameters`), optionally with one generated case
// per tool. Failures are clear errors: 422 for a URL we do not call or a command nobody allowed, 502 when the
// server cannot be reached or started or goes away, 504 when it does not answer in time.
import { basename } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { AppError, isDatabaseConnectionError, ValidationError } from "../../../platform/errors.js";
import { VERSION } from "../../../version.js";
import type { ToolDefinition } from "./suites.schema.js";
import type { SuiteService } from "./suites.service.js";

export const MCP_TIMEOUT_MS = 10_000;
/** More pages than this is a server looping on its cursor. */
const MAX_PAGES = 50;

export interface McpTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

export class McpError extends AppError {}

const badGateway = (message: string) => new McpError("BAD_GATEWAY", 502, message);
const gatewayTimeout = (message: string) => new McpError("GATEWAY_TIMEOUT", 504, message);

function checkUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw ValidationError.field(["body", "url"], "url must be an absolute http(s) URL", "url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw ValidationError.field(["body", "url"], "url must be an absolute http(s) URL", "url");
  return url;
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: "nothing is listening at that address",
  ECONNRESET: "the connection was dropped",
  EPIPE: "the connection was dropped",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve",
  EHOSTUNREACH: "the host cannot be reached",
  ENETUNREACH: "the host cannot be reached",
  ETIMEDOUT: "the connection timed out",
  // Starting a stdio server's command.
  ENOENT: "the command was not found",
  EACCES: "the command may not be run (permissions)",
};

/**
 * The cause in words. Socket error texts ("connect ECONNREFUSED ...") are replaced: besides being cryptic, the
 * error mapping would take them for the database's own connection failing (a 503).
 */
function causeText(code: string | undefined, message: string): string {
  if (code && CAUSES[code]) return CAUSES[code];
  const text = message.replace(/\s+/g, " ").slice(0, 200);
  return isDatabaseConnectionError(new Error(text)) ? "the connection failed" : text;
}

/** What went wrong talking to the server, in words a user can act on (no stack, no internals). */
function describe(error: unknown, phase: "connect" | "list", kind: "http" | "stdio"): McpError {
  if (error instanceof McpError) return error;
  const text = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  const code = cause?.code ?? (error as { code?: unknown } | null)?.code;
  if (
    (error as Error | null)?.name === "TimeoutError" ||
    /timed out|timeout/i.test(text) ||
    code === -32001 // the SDK's RequestTimeout
  )
    return gatewayTimeout(`The MCP server did not answer within ${MCP_TIMEOUT_MS / 1000} s`);
  const detail = causeText(typeof code === "string" ? code : undefined, cause?.message ?? text);
  if (phase === "connect" && kind === "stdio")
    return badGateway(
      `Could not start the MCP server (${/connection closed/i.test(detail) ? "it exited before answering" : detail || "it did not start"})`,
    );
  if (phase === "connect")
    return badGateway(`Could not connect to the MCP server (${detail || "connection failed"})`);
  return badGateway(`The MCP server went away while listing its tools (${detail || "connection lost"})`);
}

/** Where the tools come from: a Streamable HTTP endpoint, or a command started as a child process (stdio). */
export type McpSource = { url: string } | { command: string; args?: string[] };

/** Connects over Streamable HTTP, lists every tool (following the cursor), disconnects. */
export async function listMcpTools(rawUrl: string, timeoutMs = MCP_TIMEOUT_MS) {
  const url = checkUrl(rawUrl);
  const transport = new StreamableHTTPClientTransport(url, {
    // No retries on a lost stream: an import should fail clearly, not hang reconnecting.
    reconnectionOptions: {
      maxReconnectionDelay: 1000,
      initialReconnectionDelay: 1000,
      reconnectionDelayGrowFactor: 1,
      maxRetries: 0,
    },
  });
  return listOver(transport, "http", url.host, timeoutMs);
}

/**
 * Starts an allowed command as a stdio MCP server, lists its tools, and stops it. The child gets the SDK's safe
 * environment (HOME, LOGNAME, PATH, SHELL, TERM, USER: none of this server's secrets); its stderr is dropped.
 */
export async function listMcpToolsStdio(command: string, args: string[], timeoutMs = MCP_TIMEOUT_MS) {
  const transport = new StdioClientTransport({
    command,
    args,
    env: getDefaultEnvironment(),
    stderr: "ignore",
  });
  return listOver(transport, "stdio", basename(command), timeoutMs);
}

async function listOver(
  transport: Transport,
  kind: "http" | "stdio",
  fallbackName: string,
  timeoutMs: number,
) {
  const signal = AbortSignal.timeout(timeoutMs);
  const client = new Client({ name: "hiveguard-bench", version: VERSION });
  const options = { signal, timeout: timeoutMs };
  try {
    try {
      await client.connect(transport, options);
    } catch (error) {
      throw describe(error, "connect", kind);
    }
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await client.listTools(cursor ? { cursor } : {}, options);
        for (const tool of answer.tools)
          tools.push({
            name: tool.name,
            description: tool.description,
            inputSchema: tool.inputSchema as Record<string, unknown>,
          });
        cursor = answer.nextCursor;
        if (!cursor) break;
      }
    } catch (error) {
      throw describe(error, "list", kind);
    }
    return { serverName: client.getServerVersion()?.name ?? fallbackName, tools };
  } finally {
    // Closing the stdio transport ends the child (stdin closed, then SIGTERM, then SIGKILL).
    await client.close().catch(() => {});
  }
}

const parameterCount = (schema: Record<string, unknown>) => {
  const properties = schema.properties;
  return properties && typeof properties === "object" ? Object.keys(properties).length : 0;
};

/** MCP tool names may hold characters providers refuse (`.`, `/`): those become `_`, cut to 64. */
export function providerToolName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
  return cleaned || "tool";
}

/** An MCP tool in OpenAI's function format. */
export function toOpenAiTool(tool: McpTool, name = providerToolName(tool.name)): ToolDefinition {
  const schema = { ...tool.inputSchema };
  if (schema.type === undefined) schema.type = "object";
  return {
    type: "function",
    function: { name, ...(tool.description ? { description: tool.description } : {}), parameters: schema },
  };
}

/** A placeholder value for a required parameter (enum's first, the default, else one per type). */
function exampleValue(name: string, schema: Record<string, unknown>): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  switch (schema.type) {
    case "integer":
    case "number": {
      // 1, moved into the schema's range when it excludes 1.
      const min = typeof schema.minimum === "number" ? schema.minimum : -Infinity;
      const max = typeof schema.maximum === "number" ? schema.maximum : Infinity;
      return Math.min(Math.max(1, min), max);
    }
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
      return {};
  }
  const lower = name.toLowerCase();
  if (/url|uri|link/.test(lower)) return "https://example.com";
  if (/email/.test(lower)) return "user@example.com";
  if (/path|file/.test(lower)) return "/tmp/example.txt";
  return "example";
}

/** One case per tool: a prompt naming the tool and the values of its required parameters. */
export function generatedCase(tool: ToolDefinition) {
  const schema = (tool.function.parameters ?? {}) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  const params: Record<string, unknown> = {};
  for (const name of schema.required ?? [])
    params[name] = exampleValue(name, schema.properties?.[name] ?? {});
  const what = (tool.function.description ?? tool.function.name).trim().replace(/\.$/, "");
  const values = Object.entries(params)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
  return {
    prompt: values
      ? `Use the ${tool.function.name} tool (${what}) with these values: ${values}`
      : `Use the ${tool.function.name} tool: ${what}`,
    expected_tool: tool.function.name,
    expected_params: Object.keys(params).length > 0 ? params : null,
  };
}

export const STDIO_SETTING = "BENCH_MCP_STDIO_COMMANDS";

export class McpService {
  private readonly allowed: Set<string>;

  constructor(private readonly deps: { suites: SuiteService; stdioCommands?: string[] }) {
    this.allowed = new Set(deps.stdioCommands ?? []);
  }

  /**
   * A stdio server's command must be one an administrator listed, exactly as listed: starting whatever a request
   * names would let any bench user run programs on this machine.
   */
  private checkCommand(command: string) {
    if (this.allowed.has(command)) return;
    const how =
      this.allowed.size === 0
        ? `no command is allowed on this server: an administrator lists the MCP servers users may start in ${STDIO_SETTING}`
        : `an administrator adds it to ${STDIO_SETTING} (allowed now: ${[...this.allowed].slice(0, 10).join(", ")})`;
    throw ValidationError.field(
      ["body", "command"],
      `The command "${command.slice(0, 200)}" may not be started as an MCP server: ${how}`,
      "command_not_allowed",
    );
  }

  /** POST /api/mcp/discover */
  async discover(source: McpSource) {
    let listed: Awaited<ReturnType<typeof listMcpTools>>;
    if ("command" in source) {
      this.checkCommand(source.command);
      listed = await listMcpToolsStdio(source.command, source.args ?? []);
    } else listed = await listMcpTools(source.url);
    const { serverName, tools } = listed;
    if (tools.length === 0)
      // Upstream's answer: a connection that worked, with an `error` saying there is nothing to import.
      return {
        status: "ok" as const,
        server_name: serverName,
        tools: [],
        tool_count: 0,
        error: "Connected successfully, but the server has no tools available.",
      };
    return {
      status: "ok" as const,
      server_name: serverName,
      tools: tools.map((tool) => ({
        name: tool.name,
        description: tool.description ?? "",
        inputSchema: tool.inputSchema,
        parameter_count: parameterCount(tool.inputSchema),
      })),
      tool_count: tools.length,
    };
  }

  /** POST /api/mcp/import: the tools chosen (as discover listed them) become a suite. */
  async import(
    userId: string,
    input: {
      tools: McpTool[];
      suite_name?: string | null;
      suite_description?: string | null;
      generate_test_cases?: boolean;
    },
  ) {
    // Names made provider-safe, then made unique (`name_2`, `name_3`, ...), as upstream does for duplicates.
    const seen = new Map<string, number>();
    const tools = input.tools.map((tool) => {
      const base = providerToolName(tool.name);
      const count = (seen.get(base) ?? 0) + 1;
      seen.set(base, count);
      return toOpenAiTool(tool, count === 1 ? base : `${base.slice(0, 60)}_${count}`);
    });
    const name =
      input.suite_name?.trim() ||
      `MCP: ${input.tools
        .slice(0, 3)
        .map((t) => t.name)
        .join(", ")}${input.tools.length > 3 ? "..." : ""}`.slice(0, 200);
    const cases = input.generate_test_cases ? tools.map(generatedCase) : [];
    const imported = await this.deps.suites.importSuite(userId, {
      name,
      description: input.suite_description ?? "",
      tools,
      test_cases: cases,
    });
    return {
      status: "ok" as const,
      suite_id: imported.suite_id,
      tools_imported: tools.length,
      test_cases_generated: imported.test_cases_created,
    };
  }
}
