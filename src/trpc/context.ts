import type { IncomingHttpHeaders } from "node:http";
import type { FastifyBaseLogger } from "fastify";
import type { AppDeps } from "../platform/module.js";

// The deps and the services are the platform's (platform/module.ts); each module adds its services' types there.
export type { AppDeps, Services } from "../platform/module.js";

/** What a procedure may know about the request, whichever transport carried it. */
export interface RequestInfo {
  id: string;
  ip: string;
  headers: IncomingHttpHeaders;
  /** "https" when the request came over TLS (directly, or per X-Forwarded-Proto from a trusted proxy). */
  protocol?: "http" | "https";
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
