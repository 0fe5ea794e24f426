import { createServer as createHttpServer, type Server } from "node:http";
import { listenerOptions } from "./platform/http/listener.js";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp, type NodeHandler } from "./app.js";
import type { Config } from "./config.js";
import { modules } from "./modules/index.js";
import { DashboardAuthenticator } from "./platform/auth.js";
import { type Database, openDatabase } from "./platform/db.js";
import { JobQueue } from "./platform/jobs.js";
import type { AppDeps, FrontHandler, ModuleLookup, Platform, Services } from "./platform/module.js";
import { OpenStreams } from "./platform/sse.js";
import { createStateStore, type StateStore } from "./platform/state/index.js";
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
  /** Job workers per job type in this process (default: config.jobs.workers; `hiveguard worker` sets it). */
  jobWorkers?: number;
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

    // ── background jobs (platform/jobs.ts): services register their job types on it while they are built;
    // it starts (schema, queues, schedules, this process's workers) once every service exists, below. ──
    const jobs = new JobQueue({
      db,
      log,
      workers: options.jobWorkers ?? config.jobs.workers,
      dedicated: options.jobWorkers !== undefined,
      staleSeconds: config.jobs.staleSeconds,
    });

    // ── modules (src/modules/index.ts), in order: each one creates its services from the platform and
    // may use the services of the modules listed before it. ──
    const platform: Platform = { config, log, db, state, jobs };
    const services = {} as Services;
    const lookup: ModuleLookup = {
      need(name) {
        const found = services[name];
        if (!found)
          throw new Error(`A module needs "${String(name)}": list its module earlier in modules/index.ts`);
        return found;
      },
    };
    const created = [];
    for (const definition of modules) {
      const instance = await definition.create(platform, lookup);
      created.push({ definition, instance });
      Object.assign(services, instance.services);
      if (instance.stop) opened.push({ close: () => instance.stop!() });
    }
    const fronts = created.flatMap(({ instance }) => (instance.front ? [instance.front] : []));
    if (fronts.length > 1) throw new Error("At most one module may take the requests no module owns");
    const front: FrontHandler | undefined = fronts[0];

    const deps: AppDeps = {
      ...platform,
      auth: Object.assign(
        { dashboard: new DashboardAuthenticator(config.dashboard, state, config.secretKey) },
        ...created.map(({ instance }) => instance.authenticators ?? {}),
      ),
      services,
      sse: new OpenStreams(),
      version: VERSION,
      startedAt: new Date(),
    };
    // ── background jobs: every job type is registered now; stopped before the services they run. ──
    await jobs.start();
    opened.push({ close: () => jobs.stop() });
    for (const { instance } of created) await instance.start?.();
    if (front) opened.push({ close: () => front.close() });

    let fastifyHandler: NodeHandler | null = null;
    const app = await buildApp(deps, {
      modules: created,
      front,
      onFastifyHandler: (handler) => (fastifyHandler = handler),
    });
    await app.ready();

    // The front's own port (PROXY_PORT): the site owns every path there except the ones the front hands back.
    let proxyServer: Server | null = null;
    const ownPort = front?.ownPort;
    if (front && ownPort) {
      const server = createHttpServer(listenerOptions(config.http), (req, res) => {
        if (ownPort.appPaths(req.url ?? "/")) fastifyHandler!(req, res);
        else front.handle(req, res);
      });
      server.on("upgrade", (req, socket, head: Buffer) => {
        if (ownPort.appPaths(req.url ?? "/"))
          socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        else front.upgrade(req, socket, head);
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
          proxyServer!.listen(ownPort!.port, host, () => resolve());
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
