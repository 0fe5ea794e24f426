import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, loadConfig } from "../../src/config.js";
import { type Database, openDatabase } from "../../src/platform/db.js";
import { createLogger, type Logger } from "../../src/platform/logger.js";
import type { StateStore } from "../../src/platform/state/index.js";
import { createServer, type HiveGuardServer } from "../../src/server.js";
import { openTestDatabase } from "./db.js";
import { openTestState } from "./state.js";

export interface TestServer {
  url: string;
  /** The PROXY_PORT listener's URL when the test set PROXY_PORT (use "0"), else null. */
  proxyUrl: string | null;
  server: HiveGuardServer;
  config: Config;
  /** `Authorization` header value with the dashboard credentials of this server. */
  dashboardAuth: string;
  /** Where this server's state lives, so a second instance can share it. */
  shared: SharedBackends;
  close(): Promise<void>;
}

export interface SharedBackends {
  db: Database;
  /** PostgreSQL schema of this test's database (undefined on PGlite). */
  dbSchema: string | undefined;
  state: StateStore;
  statePrefix: string;
  secretKey: string;
  dashboardPassword: string;
  /** The PostgreSQL URL the database was opened on (DATABASE_URL, or the test's own `databaseUrl`). */
  databaseUrl: string | undefined;
  /** The Redis URL the state store was opened on (REDIS_URL, or the test's own `redisUrl`). */
  redisUrl: string | undefined;
}

const testLog = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");

/**
 * Starts the real server on an ephemeral port against a fresh database (in-memory PGlite, or a fresh
 * PostgreSQL schema when DATABASE_URL is set) and a fresh state prefix (Redis when REDIS_URL is set), so
 * test files can run in parallel. Pass `sharedWith` to start a second instance on the same backends.
 */
export async function startTestServer(
  options: {
    env?: Record<string, string>;
    sharedWith?: TestServer;
    /** A PostgreSQL server of the test's own (e.g. behind a proxy it can cut) instead of DATABASE_URL. */
    databaseUrl?: string;
    /** A Redis of the test's own (e.g. a redis-server it can stop) instead of REDIS_URL. */
    redisUrl?: string;
    /** The server's logger (default: silent, or TEST_LOG_LEVEL), e.g. to capture what it logs. */
    log?: Logger;
  } = {},
): Promise<TestServer> {
  const cleanups: (() => Promise<void>)[] = [];
  const base = options.sharedWith?.shared;
  const databaseUrl = base ? base.databaseUrl : (options.databaseUrl ?? process.env.DATABASE_URL);
  const redisUrl = base ? base.redisUrl : (options.redisUrl ?? process.env.REDIS_URL);

  // The configuration first: a bad setting fails before any database or state store is opened.
  const dataDir = mkdtempSync(join(tmpdir(), "hiveguard-test-"));
  const secretKey = base?.secretKey ?? randomBytes(32).toString("hex");
  const dashboardPassword = base?.dashboardPassword ?? randomBytes(12).toString("hex");
  let config: Config;
  try {
    config = loadConfig({
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      SECRET_KEY: secretKey,
      DASHBOARD_USERNAME: "admin",
      DASHBOARD_PASSWORD: dashboardPassword,
      HIVEGUARD_DATA_DIR: dataDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      ...options.env,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

  let db: Database;
  let dbSchema = base?.dbSchema;
  if (base && databaseUrl) {
    // A second instance gets its own connection to the same schema, as a second process would.
    db = await openDatabase({ databaseUrl, schema: base.dbSchema, logger: testLog });
    cleanups.push(() => db.close());
  } else if (base) {
    db = base.db;
  } else {
    const fresh = await openTestDatabase(testLog, databaseUrl);
    db = fresh.db;
    dbSchema = fresh.schema;
    cleanups.push(fresh.cleanup);
  }

  const kind = redisUrl ? "redis" : "memory";
  let state: StateStore;
  let statePrefix: string;
  if (base && kind === "memory") {
    state = base.state;
    statePrefix = base.statePrefix;
  } else {
    const opened = await openTestState(testLog, kind, { prefix: base?.statePrefix, redisUrl });
    state = opened.store;
    statePrefix = opened.prefix;
    cleanups.push(base ? () => opened.store.close() : opened.cleanup);
  }

  const server = await createServer({ config, log: options.log ?? testLog, db, state });
  const address = await server.app.listen({ host: "127.0.0.1", port: 0 });
  const proxyUrl = await server.listenProxy("127.0.0.1");

  return {
    url: address,
    proxyUrl,
    server,
    config,
    dashboardAuth: `Basic ${Buffer.from(`admin:${dashboardPassword}`).toString("base64")}`,
    shared: { db, dbSchema, state, statePrefix, secretKey, dashboardPassword, databaseUrl, redisUrl },
    async close() {
      await server.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}
