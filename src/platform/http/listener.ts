import type { ServerOptions } from "node:http";
import type { Config } from "../../config.js";

/**
 * Options of every node:http listener HiveGuard opens (the main port and PROXY_PORT), so a slow client
 * cannot hold a connection open for ever: the headers must arrive within `headersTimeoutMs` (slowloris)
 * and the whole request, body included, within `requestTimeoutMs` (a slow but steady upload of a few MB
 * survives the default 5 minutes). Node checks both every `connectionsCheckingInterval`; checking every
 * second (or at a quarter of the shortest timeout) makes a refused connection go away promptly.
 */
export function listenerOptions(http: Config["http"]): ServerOptions {
  return {
    headersTimeout: http.headersTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(http.headersTimeoutMs / 4))),
  };
}
