// Shared by the guard benchmarks: a real server on PostgreSQL (a throwaway schema), in-process state.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/platform/db.js";
import { createLogger } from "../src/platform/logger.js";
import { createStateStore } from "../src/platform/state/index.js";
import { createServer, type HiveGuardServer } from "../src/server.js";
import { dropSchema, randomSchemaName } from "../test/support/db.js";

export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test";

export interface BenchServer {
  url: string;
  server: HiveGuardServer;
  databaseUrl: string;
  schema: string;
  dashboardAuth: string;
  close(): Promise<void>;
}

export async function startBenchServer(): Promise<BenchServer> {
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const schema = randomSchemaName().replace("test_", "bench_");
  const log = createLogger("error");
  const db = await openDatabase({ databaseUrl, schema, logger: log });
  const state = await createStateStore({ prefix: `bench-${schema}`, logger: log });
  const dataDir = mkdtempSync(join(tmpdir(), "hiveguard-bench-"));
  const password = randomBytes(12).toString("hex");
  const config = loadConfig({
    NODE_ENV: "test",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DASHBOARD_USERNAME: "admin",
    DASHBOARD_PASSWORD: password,
    HIVEGUARD_DATA_DIR: dataDir,
    LOG_LEVEL: "error",
  });
  const server = await createServer({ config, log, db, state });
  const url = await server.app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url,
    server,
    databaseUrl,
    schema,
    dashboardAuth: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`,
    async close() {
      await server.close();
      await db.close();
      await state.close();
      await dropSchema(databaseUrl, schema);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MB`;
