import type { IncomingHttpHeaders } from "node:http";
import type { FastifyBaseLogger } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { ApiKeyService } from "../modules/guard/apikeys/service.js";
import type { ChallengeService } from "../modules/guard/challenges/service.js";
import type { DatasetService } from "../modules/guard/datasets/service.js";
import type { ItemService } from "../modules/guard/items/service.js";
import type { LabelService } from "../modules/guard/labels/service.js";
import type { MlService } from "../modules/guard/ml/service.js";
import type { MetricsService } from "../modules/guard/metrics/service.js";
import type { ProxyRuleService } from "../modules/guard/proxy-rules/service.js";
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
  apiKeys: ApiKeyService;
  datasets: DatasetService;
  items: ItemService;
  labels: LabelService;
  metrics: MetricsService;
  proxyRules: ProxyRuleService;
  tracking: TrackingService;
  /** Generate/submit; `challenges.tokens.verifyToken(token, client)` is the proxy's token check. */
  challenges: ChallengeService;
  /** The risk model: status, training, uploads, and the scorer the submit path calls. */
  ml: MlService;
}

/** What a procedure may know about the request, whichever transport carried it. */
export interface RequestInfo {
  id: string;
  ip: string;
  headers: IncomingHttpHeaders;
}

/**
 * What a procedure may add to its HTTP answer on the REST facade: a success status other than the documented
 * default (e.g. 204 when generate has no challenge to serve) and response headers.
 */
export interface ResponseMeta {
  status?: 200 | 201 | 202 | 204;
  headers: Record<string, string>;
}

export interface Context {
  deps: AppDeps;
  req: RequestInfo;
  /** Request-scoped logger (carries the request id). */
  log: FastifyBaseLogger;
  response: ResponseMeta;
}

export function createContext(deps: AppDeps, req: RequestInfo, log: FastifyBaseLogger): Context {
  return { deps, req, log, response: { headers: {} } };
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
