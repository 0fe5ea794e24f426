// `hiveguard worker` (also `npm run worker`): a process that only runs background jobs. It builds the same
// services as the server (every module registers its job types the same way) but listens on no port, and
// runs JOB_WORKERS workers per job type (at least 1). Start it on another machine to take training and other
// long work off the web servers, and set JOB_WORKERS=0 on those. It needs the shared PostgreSQL
// (DATABASE_URL): the embedded PGlite database belongs to one process.
import { config as loadDotenv } from "dotenv";
import { type Config, ConfigError, loadConfig, redactUrl } from "./config.js";
import { createLogger } from "./platform/logger.js";
import { createServer } from "./server.js";

loadDotenv({ quiet: true });

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
    if (!config.databaseUrl)
      throw new ConfigError(
        "the worker needs DATABASE_URL (PostgreSQL shared with the servers): the embedded PGlite database serves one process only, whose own JOB_WORKERS run its jobs",
      );
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hiveguard worker: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  const workers = Math.max(1, config.jobs.workers);
  const server = await createServer({ config, log, jobWorkers: workers });
  if (!config.redisUrl)
    log.warn(
      "no REDIS_URL: the servers learn of a model this worker trains by polling the database (within 30 s), not at once",
    );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "worker shutting down: stopping the running jobs");
    const timer = setTimeout(() => {
      log.error("shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs + 15_000);
    timer.unref();
    try {
      await server.close();
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, "error during shutdown");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  log.info(
    { database: redactUrl(config.databaseUrl!), workers, worker: server.deps.jobs.worker },
    "HiveGuard worker running",
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hiveguard worker: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
