import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp, type NodeHandler } from "./app.js";
import type { Config } from "./config.js";
import { ApiKeyService } from "./modules/guard/apikeys/service.js";
import { ClientHasher } from "./modules/guard/challenges/client.js";
import { ConsensusService } from "./modules/guard/challenges/consensus.js";
import { GtPoolMonitor } from "./modules/guard/challenges/gt-pool.js";
import { ChallengeRateLimits } from "./modules/guard/challenges/rate-limits.js";
import { ChallengeService } from "./modules/guard/challenges/service.js";
import { TokenService } from "./modules/guard/challenges/token.js";
import { MlService } from "./modules/guard/ml/service.js";
import { DatasetService } from "./modules/guard/datasets/service.js";
import { ItemService } from "./modules/guard/items/service.js";
import { LabelService } from "./modules/guard/labels/service.js";
import { MetricsService } from "./modules/guard/metrics/service.js";
import { Gateway } from "./modules/guard/proxy/gateway.js";
import { ProxyMetrics } from "./modules/guard/proxy/metrics.js";
import { isHiveGuardPath } from "./modules/guard/proxy/paths.js";
import { ProxyRuleService } from "./modules/guard/proxy-rules/service.js";
import { RuntimeConfigService } from "./modules/guard/runtime-config/service.js";
import { ArtifactStore } from "./modules/tracking/artifacts.js";
import { TrackingEvents } from "./modules/tracking/events.js";
import { TrackingService } from "./modules/tracking/service.js";
import { DashboardAuthenticator } from "./platform/auth.js";
import { type Database, openDatabase } from "./platform/db.js";
import { createStateStore, type StateStore } from "./platform/state/index.js";
import type { AppDeps } from "./trpc/context.js";
import { VERSION } from "./version.js";

export interface HiveGuardServer {
  app: FastifyInstance;
  deps: AppDeps;
  /** The PROXY_PORT listener (every path proxied but /_hiveguard/*), when PROXY_PORT is set. */
  proxyServer: Server | null;
  /** Starts the PROXY_PORT listener, if configured; resolves to its address (null when not configured). */
  listenProxy(host: string): Promise<string | null>;
  /** Stops accepting connections, lets in-flight requests finish, then closes what this server opened. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  config: Config;
  log: Logger;
  /** Provided by tests that own a fresh database; otherwise opened from the config (migrations applied). */
  db?: Database;
  /** Provided by tests that own a fresh state prefix; otherwise opened from the config. */
  state?: StateStore;
  /** Apply pending migrations when opening the database (default true; cluster workers leave it to the primary). */
  migrate?: boolean;
}

export async function createServer(options: CreateServerOptions): Promise<HiveGuardServer> {
  const { config, log } = options;
  const opened: { close(): Promise<void> }[] = [];
  try {
    const db =
      options.db ??
      (await openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        migrate: options.migrate ?? true,
        logger: log,
      }));
    if (!options.db) opened.push(db);
    const state =
      options.state ??
      (await createStateStore({ redisUrl: config.redisUrl, prefix: config.redisPrefix, logger: log }));
    if (!options.state) opened.push(state);

    const runtimeConfig = new RuntimeConfigService(state, log, config.logLevel);
    await runtimeConfig.start();
    opened.push({ close: () => runtimeConfig.stop() });

    const metrics = new MetricsService(state, db.prisma);
    const apiKeys = new ApiKeyService(db.prisma, state, log);
    await apiKeys.start();
    opened.push({ close: () => apiKeys.stop() });
    const proxyRules = new ProxyRuleService(db.prisma, state, log);
    await proxyRules.start();
    opened.push({ close: () => proxyRules.stop() });

    const tracking = new TrackingService({
      prisma: db.prisma,
      db,
      events: new TrackingEvents(state, log),
      artifacts: new ArtifactStore(config.tracking.artifactsDir),
      config: config.tracking,
    });
    const ml = new MlService({
      prisma: db.prisma,
      state,
      log,
      tracking,
      trackingQueueDir: join(config.dataDir, "tracking-queue"),
    });
    await ml.start();
    opened.push({ close: () => ml.stop() });
    const clients = new ClientHasher(config.secretKey, config.previousSecretKey);
    const tokens = new TokenService(config.secretKey, config.previousSecretKey, clients);
    const challenges = new ChallengeService({
      prisma: db.prisma,
      db,
      state,
      runtimeConfig,
      metrics,
      consensus: new ConsensusService(db.prisma),
      tokens,
      clients,
      rateLimits: new ChallengeRateLimits(state),
      risk: ml.scorer,
      log,
    });

    const deps: AppDeps = {
      config,
      log,
      db,
      state,
      auth: {
        dashboard: new DashboardAuthenticator(config.dashboard, state, config.secretKey),
        apiKey: (rawKey) => apiKeys.verify(rawKey),
      },
      services: {
        runtimeConfig,
        apiKeys,
        datasets: new DatasetService(db.prisma, metrics),
        items: new ItemService(db.prisma, metrics),
        labels: new LabelService(db.prisma, db),
        metrics,
        proxyRules,
        tracking,
        challenges,
        ml,
      },
      version: VERSION,
      startedAt: new Date(),
    };
    const gtPool = new GtPoolMonitor(db.prisma, state, log);
    await gtPool.start();
    opened.push({ close: () => gtPool.stop() });
    const proxyMetrics = new ProxyMetrics(state, metrics, log);
    proxyMetrics.start();
    opened.push({ close: () => proxyMetrics.stop() });
    const gateway = new Gateway({
      config,
      log,
      proxyRules,
      runtimeConfig,
      tokens,
      gtPool,
      metrics: proxyMetrics,
    });
    opened.push({ close: () => gateway.close() });

    let fastifyHandler: NodeHandler | null = null;
    const app = await buildApp(deps, {
      gateway,
      metrics: proxyMetrics,
      onFastifyHandler: (handler) => (fastifyHandler = handler),
    });
    await app.ready();

    // PROXY_PORT: the upstream owns every path here (its own /api/v1, /docs...) except /_hiveguard/*.
    let proxyServer: Server | null = null;
    if (config.proxy.port !== undefined) {
      const server = createHttpServer((req, res) => {
        if (isHiveGuardPath(req.url ?? "/")) fastifyHandler!(req, res);
        else gateway.handle(req, res);
      });
      server.on("upgrade", (req, socket, head: Buffer) => {
        if (isHiveGuardPath(req.url ?? "/"))
          socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        else gateway.upgrade(req, socket, head);
      });
      server.keepAliveTimeout = app.server.keepAliveTimeout;
      proxyServer = server;
    }

    return {
      app,
      deps,
      proxyServer,
      async listenProxy(host) {
        if (!proxyServer) return null;
        await new Promise<void>((resolve, reject) => {
          proxyServer!.once("error", reject);
          proxyServer!.listen(config.proxy.port, host, () => resolve());
        });
        const address = proxyServer.address() as AddressInfo;
        const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
        return `http://${shown}:${address.port}`;
      },
      async close() {
        // A keep-alive connection whose request was in flight when the close began becomes idle only when
        // that response ends (proxied responses do not pass through Fastify's "connection: close" hook):
        // sweep idle connections until the listeners are closed, so the drain ends with the last response.
        const sweep = setInterval(() => {
          app.server.closeIdleConnections();
          proxyServer?.closeIdleConnections();
        }, 100);
        try {
          if (proxyServer?.listening) {
            const closed = new Promise<void>((resolve) => proxyServer!.close(() => resolve()));
            proxyServer.closeIdleConnections();
            await closed;
          }
          await app.close();
        } finally {
          clearInterval(sweep);
        }
        for (const resource of opened.reverse()) await resource.close();
      },
    };
  } catch (error) {
    for (const resource of opened.reverse()) await resource.close().catch(() => {});
    throw error;
  }
}
