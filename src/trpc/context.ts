import type { IncomingHttpHeaders } from "node:http";
import type { FastifyBaseLogger } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { RuntimeConfigService } from "../modules/guard/runtime-config/service.js";
import type { TrackingService } from "../modules/tracking/service.js";
import type { Authenticators } from "../platform/auth.js";
import type { Database } from "../platform/db.js";
import type { StateStore } from "../platform/state/index.js";

/** Everything long-lived the procedures need, built once in server.ts and passed down explicitly. */
export interface AppDeps {
  config: Config;
  log: Logger;
  db: Database;
  state: StateStore;
  auth: Authenticators;
  services: Services;
  version: string;
  startedAt: Date;
}

/** Module services, each built once with its dependencies. */
export interface Services {
  runtimeConfig: RuntimeConfigService;
  tracking: TrackingService;
}

/** What a procedure may know about the request, whichever transport carried it. */
export interface RequestInfo {
  id: string;
  ip: string;
  headers: IncomingHttpHeaders;
}

export interface Context {
  deps: AppDeps;
  req: RequestInfo;
  /** Request-scoped logger (carries the request id). */
  log: FastifyBaseLogger;
}

export function createContext(deps: AppDeps, req: RequestInfo, log: FastifyBaseLogger): Context {
  return { deps, req, log };
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
