// A stdio MCP server for test/bench/mcp.test.ts, run as a child process by HiveGuard's SDK client (through an
// executable wrapper the test lists in BENCH_MCP_STDIO_COMMANDS). Arguments: `weather` (the three tools of
// mcp-servers.ts) or `exit-mid-list` (the process exits when its second page of tools is asked for), then
// optionally `--pid-file <path>` (writes its pid there, so the test can see it stopped).
import { writeFileSync } from "node:fs";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { flakyServer, weatherServer } from "./mcp-servers.js";

const [mode, flag, pidFile] = process.argv.slice(2);
if (flag === "--pid-file" && pidFile) writeFileSync(pidFile, String(process.pid));
const server =
  mode === "exit-mid-list"
    ? flakyServer(() => {
        process.exit(3);
      })
    : weatherServer();
await server.connect(new StdioServerTransport());
