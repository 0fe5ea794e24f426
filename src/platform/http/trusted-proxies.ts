import type { IncomingMessage } from "node:http";
import proxyAddr from "proxy-addr";

export type ClientAddress = (req: IncomingMessage) => string;

/**
 * The client's address: the socket's peer, or, only when that peer is in TRUSTED_PROXIES, the nearest
 * untrusted address in X-Forwarded-For (proxy-addr, the same library and list Fastify's `trustProxy`
 * uses, so the hosted challenge page binds tokens to the very address the proxy checks).
 */
export function clientAddress(trustedProxies: string[]): ClientAddress {
  if (trustedProxies.length === 0) return (req) => req.socket.remoteAddress ?? "";
  const trust = proxyAddr.compile(trustedProxies);
  return (req) => proxyAddr(req, trust);
}

/** Whether the immediate peer is a trusted proxy (then its X-Forwarded-* headers are kept). */
export function peerTrusted(trustedProxies: string[]): (address: string) => boolean {
  if (trustedProxies.length === 0) return () => false;
  const trust = proxyAddr.compile(trustedProxies);
  return (address) => trust(address, 0);
}
