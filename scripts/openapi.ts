// Writes the OpenAPI document exactly as the server serves it at /openapi.json (embedded defaults, a
// throw-away data directory): `npm run lint:api` lints it with Redocly's recommended rules (redocly.yaml).
//
//   tsx scripts/openapi.ts [out.json]     (default: .hiveguard/openapi.json)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/platform/logger.js";
import { createServer } from "../src/server.js";

const out = process.argv[2] ?? ".hiveguard/openapi.json";
const dataDir = mkdtempSync(join(tmpdir(), "hiveguard-openapi-"));
try {
  const config = loadConfig({ ...process.env, DATABASE_URL: "", REDIS_URL: "", HIVEGUARD_DATA_DIR: dataDir });
  const server = await createServer({ config, log: createLogger("error") });
  try {
    const response = await server.app.inject({ url: "/openapi.json" });
    if (response.statusCode !== 200) throw new Error(`/openapi.json answered ${response.statusCode}`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(response.json(), null, 2)}\n`);
    console.log(`OpenAPI document written to ${out}`);
  } finally {
    await server.close();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
