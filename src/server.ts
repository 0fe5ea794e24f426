import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp } from "./app.js";
import type { Config } from "./config.js";
import { ApiKeyService } from "./modules/guard/apikeys/service.js";
import { ClientHasher } from "./modules/guard/challenges/client.js";
import { ConsensusService } from "./modules/guard/challenges/consensus.js";
import { ChallengeRateLimits } from "./modules/guard/challenges/rate-limits.js";
import { ChallengeService } from "./modules/guard/challenges/service.js";
import { TokenService } from "./modules/guard/challenges/token.js";
import { DatasetService } from "./modules/guard/datasets/service.js";
import { ItemService } from "./modules/guard/items/service.js";
import { LabelService } from "./modules/guard/labels/service.js";
import { MetricsService } from "./modules/guard/metrics/service.js";
import { ProxyRuleService } from "./modules/guard/proxy-rules/service.js";
import { RuntimeConfigService } from "./modules/guard/runtime-config/service.js";
import { DashboardAuthenticator } from "./platform/auth.js";
import { type Database, openDatabase } from "./platform/db.js";
import { createStateStore, type StateStore } from "./platform/state/index.js";
import type { AppDeps } from "./trpc/context.js";
import { VERSION } from "./version.js";

export interface HiveGuardServer {
  app: FastifyInstance;
  deps: AppDeps;
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

    const clients = new ClientHasher(config.secretKey, config.previousSecretKey);
    const challenges = new ChallengeService({
      prisma: db.prisma,
      state,
      runtimeConfig,
      metrics,
      consensus: new ConsensusService(db.prisma),
      tokens: new TokenService(config.secretKey, config.previousSecretKey, clients),
      clients,
      rateLimits: new ChallengeRateLimits(state),
      log,
    });

    const deps: AppDeps = {
      config,
      log,
      db,
      state,
      auth: {
        dashboard: new DashboardAuthenticator(config.dashboard, state),
        apiKey: (rawKey) => apiKeys.verify(rawKey),
      },
      services: {
        runtimeConfig,
        apiKeys,
        datasets: new DatasetService(db.prisma, metrics),
        items: new ItemService(db.prisma, metrics),
        labels: new LabelService(db.prisma),
        metrics,
        proxyRules,
        challenges,
      },
      version: VERSION,
      startedAt: new Date(),
    };
    const app = await buildApp(deps);
    await app.ready();

    return {
      app,
      deps,
      async close() {
        await app.close();
        for (const resource of opened.reverse()) await resource.close();
      },
    };
  } catch (error) {
    for (const resource of opened.reverse()) await resource.close().catch(() => {});
    throw error;
  }
}
