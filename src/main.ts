import cluster from "node:cluster";
import { createServer as createNetServer } from "node:net";
import { config as loadDotenv } from "dotenv";
import { type Config, ConfigError, loadConfig, redactUrl } from "./config.js";
import { openDatabase } from "./platform/db.js";
import { createLogger, type Logger } from "./platform/logger.js";
import { createServer } from "./server.js";

loadDotenv({ quiet: true });

function printFirstRunSecrets(config: Config): void {
  const generated = config.generatedSecrets;
  if (!generated) return;
  if (generated.createdNow) {
    // Printed on the terminal once, never through the logger: logs are shipped elsewhere.
    process.stdout.write(
      [
        "",
        "  HiveGuard first run: development secrets generated (set SECRET_KEY, DASHBOARD_USERNAME and",
        "  DASHBOARD_PASSWORD for real deployments).",
        `    dashboard username: ${generated.dashboardUsername}`,
        `    dashboard password: ${generated.dashboardPassword}`,
        `  Stored in ${generated.file}`,
        "",
      ].join("\n") + "\n",
    );
  } else {
    process.stdout.write(`  Using development secrets from ${generated.file}\n`);
  }
}

async function runServer(config: Config, log: Logger, migrate: boolean): Promise<void> {
  const server = await createServer({ config, log, migrate });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: finishing in-flight requests");
    const timer = setTimeout(() => {
      log.error("shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    try {
      await server.close();
      log.info("shut down cleanly");
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, "error during shutdown");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // Cluster workers are told to stop by the primary with a message as well as a signal.
  process.on("message", (message) => message === "shutdown" && void stop("primary"));

  const address = await server.app.listen({ host: config.host, port: config.port });
  const proxyAddress = await server.listenProxy(config.host);
  log.info(
    { address, proxyAddress, database: server.deps.db.kind, state: server.deps.state.kind },
    "HiveGuard listening",
  );
  if (!cluster.isWorker) {
    const upstream = config.targetUrl
      ? redactUrl(config.targetUrl)
      : "the built-in demo page (no TARGET_URL)";
    process.stdout.write(`  HiveGuard ${server.deps.version} at ${address}  (API docs: ${address}/docs)\n`);
    process.stdout.write(`  Dashboard: ${address}/dashboard  ·  tracking: ${address}/\n`);
    process.stdout.write(
      `  Protecting ${upstream}${proxyAddress ? `; proxy-only listener at ${proxyAddress}` : ""}\n`,
    );
  }
}

/** Young-generation semi-space of each cluster worker, in MB (V8's default tops out at 16). */
const WORKER_SEMI_SPACE_MB = 32;

/** WORKERS > 1: the primary applies migrations once, forks the workers and restarts any that die. */
async function runPrimary(config: Config, log: Logger): Promise<void> {
  log.info({ database: redactUrl(config.databaseUrl!), workers: config.workers }, "starting cluster");
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    migrate: true,
    logger: log,
  });
  await db.close();

  // A proxy worker allocates a few KB per request that die young: a larger young generation means
  // fewer scavenges (each one pauses every request in flight), for at most 64 MB more per worker.
  // An operator's own setting (NODE_OPTIONS or node flags) wins.
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  if (!flags.some((flag) => flag.startsWith("--max-semi-space-size")))
    cluster.setupPrimary({
      execArgv: [...process.execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`],
    });

  let stopping = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < config.workers; i++) fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    log.warn({ pid: worker.process.pid, code, signal }, "worker died; starting another");
    setTimeout(fork, 1000).unref();
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send("shutdown");
    const timer = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 2000);
    timer.unref();
    cluster.on("exit", () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/**
 * Fails fast when a port is taken, before secrets are generated or migrations run (another HiveGuard is
 * probably running). Reads PORT / PROXY_PORT / HOST as given; a malformed value is loadConfig's to report.
 */
async function assertPortsFree(): Promise<void> {
  const host = process.env.HOST || "0.0.0.0";
  for (const name of ["PORT", "PROXY_PORT"] as const) {
    const raw = process.env[name] || (name === "PORT" ? "8000" : "");
    const port = Number(raw);
    if (!raw || !Number.isInteger(port) || port <= 0 || port > 65535) continue;
    const taken = await new Promise<boolean>((resolve) => {
      const probe = createNetServer();
      probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE"));
      probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
    });
    if (taken) {
      process.stderr.write(
        `hiveguard: ${name} ${port} on ${host} is already in use (another HiveGuard?); stop it or set ${name}.\n`,
      );
      process.exit(2);
    }
  }
}

async function main(): Promise<void> {
  if (cluster.isPrimary) await assertPortsFree();
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hiveguard: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  if (cluster.isPrimary) printFirstRunSecrets(config);

  if (config.workers > 1 && cluster.isPrimary) await runPrimary(config, log);
  else await runServer(config, log, !cluster.isWorker);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hiveguard: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
