import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { type Duplex, Readable } from "node:stream";
import type { Logger } from "pino";
import { type Dispatcher, Pool } from "undici";
import type { Config } from "../../../config.js";
import type { GtPoolMonitor } from "../challenges/gt-pool.js";
import { type TokenService, tokenCookie } from "../challenges/token.js";
import { safeReturnPath } from "../challenges/http.js";
import type { ProxyRuleService } from "../proxy-rules/service.js";
import type { RuntimeConfigService } from "../runtime-config/service.js";
import { type ClientAddress, clientAddress, peerTrusted } from "../../../platform/http/trusted-proxies.js";
import { DECISION_INDEX, type Decision, type ProxyMetrics } from "./metrics.js";
import { ForwardAuth } from "./forward-auth.js";
import { isFormNavigation, sendDemoPage, sendError, sendExpiredPage, wantsHtml } from "./pages.js";
import { challengeUrl, isForwardAuthPath } from "./paths.js";
import { renewalDue } from "./renewal.js";
import { type VerifiedToken, VerifiedTokenCache } from "./token-cache.js";
import { rawReply } from "./raw-reply.js";
import { COOKIE_PREFIX, SESSION_PREFIX, splitTokenCookie } from "./token-cookie.js";
import { tunnelUpgrade } from "./websocket.js";

export interface GatewayDeps {
  config: Config;
  log: Logger;
  proxyRules: ProxyRuleService;
  runtimeConfig: RuntimeConfigService;
  tokens: TokenService;
  gtPool: GtPoolMonitor;
  metrics: ProxyMetrics;
}

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1), plus Expect (Node answers it). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
  "http2-settings",
]);
const TOKEN_HEADER_LOWER = "x-hiveguard-token";
const BYPASS_HEADER = "x-hiveguard-bypass";
export { splitTokenCookie };

/** What one pass over the raw request headers found. */
export interface RequestFacts {
  /** The headers to send upstream, flat [name, value, ...], already cleaned. */
  forward: string[];
  token: string | undefined;
  /** The token came from the cookie (no X-HiveGuard-Token header): only such a token is renewed. */
  fromCookie: boolean;
  /** The verified-token cache entry of `token`, set by the decision when the token is valid. */
  verified: VerifiedToken | undefined;
  /** The visitor reached us over HTTPS (the socket, or X-Forwarded-Proto from a trusted proxy). */
  https: boolean;
  /** The host the visitor asked for (X-Forwarded-Host from a trusted proxy, else Host). */
  siteHost: string | undefined;
  /** The client address the token is bound to (clientAddress: the peer, or X-Forwarded-For from a trusted one). */
  ip: string;
  userAgent: string;
  accept: string | undefined;
  host: string | undefined;
  contentLength: string | undefined;
  chunked: boolean;
  upgrade: string | undefined;
}

class BodyTooLargeError extends Error {}

/**
 * The reverse proxy's request path. A request that is not HiveGuard's own reaches `handle` straight from
 * the node:http server (Fastify's router is never involved), and is decided in memory:
 * exempting proxy rule → valid token (cache, then `verifyToken`) → no GT pool (bypass, or 503 when
 * fail_mode is closed) → challenge. Allowed requests are streamed to TARGET_URL through an undici Pool
 * (keep-alive connections), or to the built-in demo page when no TARGET_URL is set.
 */
export class Gateway {
  private readonly pool: Pool | null;
  private readonly upstream: URL | null;
  private readonly basePath: string;
  private readonly clientIp: ClientAddress;
  private readonly trustedPeer: (address: string) => boolean;
  private readonly verified = new VerifiedTokenCache();
  private readonly rewriteHost: boolean;
  private readonly bodyLimit: number;
  private readonly forwardAuth: ForwardAuth;
  private timeoutMs = 30_000;
  private failClosed = false;
  private tokenTtl = 300;

  constructor(private readonly deps: GatewayDeps) {
    const { config } = deps;
    this.upstream = config.targetUrl ? new URL(config.targetUrl) : null;
    this.basePath = this.upstream ? this.upstream.pathname.replace(/\/+$/, "") : "";
    this.pool = this.upstream
      ? new Pool(this.upstream.origin, {
          connections: 256,
          pipelining: 1,
          keepAliveTimeout: 10_000,
          keepAliveMaxTimeout: 60_000,
        })
      : null;
    this.clientIp = clientAddress(config.proxy.trustedProxies);
    this.trustedPeer = peerTrusted(config.proxy.trustedProxies);
    this.rewriteHost = config.proxy.hostHeader === "rewrite";
    this.bodyLimit = config.proxy.bodyLimit;
    this.forwardAuth = new ForwardAuth({
      decide: (url, token, userAgent, ip) => this.decideForwarded(url, token, userAgent, ip),
      trustedProxies: config.proxy.trustedProxies,
      metrics: deps.metrics,
      log: deps.log,
    });
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  /** Settings that change at run time, read from the runtime config's in-memory cache. */
  private refreshSettings(): void {
    const current = this.deps.runtimeConfig.peek();
    if (current) {
      this.timeoutMs = current.proxy_timeout * 1000;
      this.failClosed = current.fail_mode === "closed";
      this.tokenTtl = current.challenge_token_ttl;
    } else {
      // Not read yet: read it in the background; the last values serve meanwhile.
      void this.deps.runtimeConfig.get().catch(() => {});
    }
  }

  /** node:http request handler for a proxied path, and for the forward-auth endpoint (forward-auth.ts). */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const url = req.url ?? "/";
    if (url.charCodeAt(0) !== 47 /* / */) {
      sendError(res, 400, "Bad request target", false);
      return;
    }
    if (isForwardAuthPath(url)) {
      this.forwardAuth.handle(req, res);
      return;
    }
    this.refreshSettings();
    const ip = this.clientIp(req);
    const facts = this.inspect(req, ip);
    const decided = this.decide(url, facts, ip);
    if (typeof decided === "string") this.act(decided, req, res, url, facts, started);
    else
      decided.then(
        (decision) => this.act(decision, req, res, url, facts, started),
        (error: unknown) => {
          this.deps.log.error({ err: error }, "proxy decision failed");
          sendError(res, 502, "Bad gateway", wantsHtml(req.method, facts.accept));
        },
      );
  };

  /** node:http `upgrade` handler for a proxied path (WebSocket): same decision, then a byte tunnel. */
  upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    const url = req.url ?? "/";
    if (url.charCodeAt(0) !== 47) {
      rawReply(socket, 400, { detail: "Bad request target" });
      return;
    }
    if (isForwardAuthPath(url)) {
      rawReply(socket, 404, { detail: "Not found" });
      return;
    }
    this.refreshSettings();
    const ip = this.clientIp(req);
    const facts = this.inspect(req, ip);
    void Promise.resolve(this.decide(url, facts, ip)).then(
      (decision) => {
        this.deps.metrics.decision(DECISION_INDEX[decision]);
        if (decision === "challenge") {
          rawReply(socket, 401, { detail: "Challenge required", challenge_url: challengeUrl(url) });
        } else if (decision === "closed") {
          rawReply(socket, 503, { detail: "Challenge pool empty" });
        } else if (!this.upstream) {
          rawReply(socket, 404, { detail: "The demo site has no WebSocket endpoint" });
        } else {
          tunnelUpgrade({
            req,
            socket,
            head,
            upstream: this.upstream,
            path: this.basePath + url,
            headers:
              facts.upgrade === undefined
                ? facts.forward
                : [...facts.forward, "connection", "upgrade", "upgrade", facts.upgrade],
            timeoutMs: this.timeoutMs,
            log: this.deps.log,
            onError: (kind) => this.deps.metrics.upstreamError(kind),
          });
        }
      },
      () => rawReply(socket, 502, { detail: "Bad gateway" }),
    );
  };

  /** The decision, synchronously when no token needs a fresh signature check. */
  decide(url: string, facts: RequestFacts, ip: string): Decision | Promise<Decision> {
    return this.decision(url, facts.token, facts.userAgent, ip, facts);
  }

  /**
   * The same decision for a request another proxy carries (forward auth, `forward-auth.ts`): `url` is the
   * path and query that proxy reported, or null when it is not known (then no rule can exempt it).
   */
  decideForwarded(
    url: string | null,
    token: string | undefined,
    userAgent: string,
    ip: string,
  ): Decision | Promise<Decision> {
    this.refreshSettings();
    return this.decision(url, token, userAgent, ip);
  }

  /** exempting rule → valid token (cache, then verifyToken) → no GT pool (bypass or closed) → challenge. */
  private decision(
    url: string | null,
    token: string | undefined,
    userAgent: string,
    ip: string,
    facts?: RequestFacts,
  ): Decision | Promise<Decision> {
    if (url !== null) {
      const query = url.indexOf("?");
      const path = query === -1 ? url : url.slice(0, query);
      if (this.deps.proxyRules.exemptingRule(path)) return "exempt";
    }
    if (token !== undefined) {
      const key = VerifiedTokenCache.key(token, ip, userAgent);
      const cached = this.verified.get(key);
      if (cached !== undefined) {
        if (facts !== undefined) facts.verified = cached;
        return "token";
      }
      return this.deps.tokens.verifyToken(token, { ip, userAgent }).then((verdict) => {
        if (verdict.valid) {
          // Concurrent first requests with one token share one entry, hence one renewal.
          const entry =
            this.verified.get(key) ?? this.verified.add(key, verdict.claims, renewalDue(verdict.claims));
          if (facts !== undefined) facts.verified = entry;
          return "token";
        }
        return this.withoutToken();
      });
    }
    return this.withoutToken();
  }

  private withoutToken(): Decision {
    if (this.deps.gtPool.hasGtPool()) return "challenge";
    return this.failClosed ? "closed" : "bypass";
  }

  private act(
    decision: Decision,
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    facts: RequestFacts,
    started: number,
  ): void {
    this.deps.metrics.decision(DECISION_INDEX[decision]);
    switch (decision) {
      case "challenge": {
        const target = challengeUrl(url);
        if (req.method === "GET" && wantsHtml(req.method, facts.accept)) {
          res.writeHead(302, { location: target, "cache-control": "no-store", "content-length": 0 });
          res.end();
        } else if (isFormNavigation(req.method, facts.accept, one(req.headers["sec-fetch-mode"]))) {
          // A form sent after the token expired: a page for the person, back to the form's page.
          sendExpiredPage(res, challengeUrl(this.formPage(req, url, facts)));
        } else {
          sendError(res, 401, "Challenge required", false, { challenge_url: target });
        }
        this.logLine(req, url, decision, res.statusCode, started);
        return;
      }
      case "closed":
        sendError(res, 503, "Challenge pool empty", wantsHtml(req.method, facts.accept));
        this.logLine(req, url, decision, 503, started);
        return;
      default: {
        const verified = facts.verified;
        const renewal =
          verified !== undefined && facts.fromCookie && verified.renewAt <= Date.now()
            ? this.renew(verified, facts)
            : null;
        if (!this.pool) {
          if (decision === "bypass") res.setHeader(BYPASS_HEADER, "no-gt-pool");
          const send = () => {
            sendDemoPage(res, req.method, url, this.renewedCookie(renewal, facts.https));
            this.logLine(req, url, decision, 200, started);
          };
          if (renewal?.renewed === null && renewal.renewing !== null) void renewal.renewing.then(send);
          else send();
          return;
        }
        this.forward(req, res, url, facts, decision, started, renewal);
      }
    }
  }

  /**
   * Starts signing the renewed token of a verified one, once per token (and client) per instance: the same
   * claims and client binding (`sub`, tier, score), a new jti/iat/exp for `challenge_token_ttl`. The
   * response goes on meanwhile; it carries the cookie once signed (ForwardHandler waits for it, if need be).
   */
  private renew(entry: VerifiedToken, facts: RequestFacts): VerifiedToken {
    if (entry.renewing === null && entry.renewed === null) {
      entry.renewing = this.deps.tokens
        .renew(entry.claims, { ip: facts.ip, userAgent: facts.userAgent }, this.tokenTtl)
        .then(
          (token) => {
            entry.renewed = token;
            entry.renewing = null;
          },
          (error: unknown) => {
            entry.renewing = null; // a later request tries again
            this.deps.log.warn({ err: error }, "token renewal failed");
          },
        );
    }
    return entry;
  }

  /** @internal the Set-Cookie of a renewal that is signed, else undefined. */
  renewedCookie(renewal: VerifiedToken | null, https: boolean): string | undefined {
    if (renewal === null || renewal.renewed === null) return undefined;
    return tokenCookie(renewal.renewed, this.tokenTtl, https);
  }

  /** The page a form was sent from: the Referer when it is on this site, else the form's own URL. */
  private formPage(req: IncomingMessage, url: string, facts: RequestFacts): string {
    const referer = one(req.headers.referer);
    if (referer !== undefined && facts.siteHost !== undefined) {
      try {
        const from = new URL(referer);
        if ((from.protocol === "http:" || from.protocol === "https:") && from.host === facts.siteHost)
          return safeReturnPath(`${from.pathname}${from.search}`);
      } catch {
        // not a URL: fall back to the form's URL
      }
    }
    return url;
  }

  /**
   * One pass over the raw headers: reads what the decision needs and builds the upstream's header list
   * (hop-by-hop headers, the token header and the token cookie removed; X-Forwarded-* set).
   */
  inspect(req: IncomingMessage, ip: string): RequestFacts {
    const raw = req.rawHeaders;
    const forward: string[] = [];
    let token: string | undefined;
    let cookieToken: string | undefined;
    let userAgent = "";
    let accept: string | undefined;
    let host: string | undefined;
    let contentLength: string | undefined;
    let chunked = false;
    let upgrade: string | undefined;
    let connection: string | undefined;
    let xff: string | undefined;
    let xfProto: string | undefined;
    let xfHost: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      const value = raw[i + 1]!;
      switch (name) {
        case "host":
          host = value;
          continue;
        case "user-agent":
          userAgent = value;
          break;
        case "accept":
          accept = value;
          break;
        case "content-length":
          contentLength = value;
          break;
        case "transfer-encoding":
          chunked = true;
          continue;
        case "connection":
          connection = value;
          continue;
        case "upgrade":
          upgrade = value;
          continue;
        case "expect":
          continue;
        case TOKEN_HEADER_LOWER:
          token ??= value;
          continue;
        case "x-forwarded-for":
          xff = xff === undefined ? value : `${xff}, ${value}`;
          continue;
        case "x-forwarded-proto":
          xfProto ??= value;
          continue;
        case "x-forwarded-host":
          xfHost ??= value;
          continue;
        case "cookie":
          if (value.includes(COOKIE_PREFIX) || value.includes(SESSION_PREFIX)) {
            const { found, rest } = splitTokenCookie(value);
            cookieToken ??= found;
            if (rest !== "") forward.push(raw[i]!, rest);
            continue;
          }
          break;
        default:
          if (HOP_BY_HOP.has(name)) continue;
      }
      forward.push(raw[i]!, value);
    }

    const peer = req.socket.remoteAddress ?? "";
    const trusted = this.trustedPeer(peer);
    const proto = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
    forward.push(
      "x-forwarded-for",
      trusted && xff !== undefined ? `${xff}, ${peer}` : ip,
      "x-forwarded-proto",
      trusted && xfProto !== undefined ? xfProto : proto,
    );
    const visibleHost = trusted && xfHost !== undefined ? xfHost : host;
    if (visibleHost !== undefined) forward.push("x-forwarded-host", visibleHost);
    if (host !== undefined && !this.rewriteHost) forward.push("host", host);
    if (connection !== undefined) dropConnectionListed(forward, connection);
    return {
      forward,
      token: token ?? cookieToken,
      fromCookie: token === undefined && cookieToken !== undefined,
      verified: undefined,
      https: (trusted && xfProto !== undefined ? xfProto : proto) === "https",
      siteHost: visibleHost,
      ip,
      userAgent,
      accept,
      host,
      contentLength,
      chunked,
      upgrade,
    };
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    facts: RequestFacts,
    decision: Decision,
    started: number,
    renewal: VerifiedToken | null,
  ): void {
    const html = wantsHtml(req.method, facts.accept);
    let body: Dispatcher.DispatchOptions["body"] = null;
    if (facts.contentLength !== undefined) {
      const length = Number(facts.contentLength);
      if (!Number.isSafeInteger(length) || length < 0) {
        sendError(res, 400, "Invalid Content-Length", html);
        return;
      }
      if (length > this.bodyLimit) {
        this.deps.metrics.upstreamError("body_too_large");
        res.shouldKeepAlive = false;
        sendError(res, 413, "Request body too large", html);
        return;
      }
      if (length > 0) body = req;
    } else if (facts.chunked) {
      body = Readable.from(limitBody(req, this.bodyLimit), { objectMode: false });
    }

    const handler = new ForwardHandler(this, req, res, url, decision, html, started, renewal, facts.https);
    this.pool!.dispatch(
      {
        path: this.basePath + url,
        method: req.method ?? "GET",
        headers: facts.forward,
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      },
      handler,
    );
  }

  /** @internal for ForwardHandler */
  get metrics(): ProxyMetrics {
    return this.deps.metrics;
  }

  /** @internal the per-request log line (debug): decision, upstream status, duration; never the query or headers. */
  logLine(req: IncomingMessage, url: string, decision: Decision, status: number, started: number): void {
    const log = this.deps.log;
    if (!log.isLevelEnabled("debug")) return;
    const query = url.indexOf("?");
    log.debug(
      {
        decision,
        method: req.method,
        path: query === -1 ? url : url.slice(0, query),
        status,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      },
      "proxied request",
    );
  }

  /** @internal */
  upstreamFailed(error: Error): void {
    this.deps.log.warn({ code: (error as { code?: string }).code, message: error.message }, "upstream error");
  }
}

/** Streams one upstream response to the client (undici dispatch handler; backpressure both ways). */
class ForwardHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private dispatched: number;

  constructor(
    private readonly gateway: Gateway,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly url: string,
    private readonly decision: Decision,
    private readonly html: boolean,
    private readonly started: number,
    private readonly renewal: VerifiedToken | null,
    private readonly https: boolean,
  ) {
    this.dispatched = performance.now();
    res.once("close", this.onClientClose);
  }

  private onClientClose = () => {
    if (!this.res.writableFinished) this.controller?.abort(new Error("client went away"));
  };

  private resume = () => this.controller?.resume();

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.dispatched = performance.now();
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return; // 1xx informational: the final answer follows
    this.gateway.metrics.upstreamLatency(performance.now() - this.dispatched);
    const out: string[] = [];
    const connection = headers.connection;
    for (const name in headers) {
      if (HOP_BY_HOP.has(name)) continue;
      const value = headers[name];
      if (value === undefined) continue;
      if (typeof value === "string") out.push(name, value);
      else for (const item of value) out.push(name, item);
    }
    if (typeof connection === "string") dropConnectionListed(out, connection);
    if (this.decision === "bypass") out.push(BYPASS_HEADER, "no-gt-pool");
    const renewal = this.renewal;
    if (renewal !== null && renewal.renewed === null && renewal.renewing !== null) {
      // The renewed token is still being signed (it started before the request went upstream, so this is
      // rare and short): hold the response until it is, then send it with the cookie.
      const held: Buffer[] = [];
      this.held = held;
      _controller.pause();
      void renewal.renewing.then(() => this.release(statusCode, statusMessage, out, held));
      return;
    }
    this.writeHead(statusCode, statusMessage, out);
  }

  private held: Buffer[] | null = null;
  private endedWhileHeld = false;

  private writeHead(statusCode: number, statusMessage: string | undefined, out: string[]): void {
    const cookie = this.gateway.renewedCookie(this.renewal, this.https);
    if (cookie !== undefined) out.push("set-cookie", cookie);
    this.res.writeHead(statusCode, statusMessage || undefined, out);
  }

  private release(
    statusCode: number,
    statusMessage: string | undefined,
    out: string[],
    held: Buffer[],
  ): void {
    this.held = null;
    if (this.res.destroyed || this.res.headersSent) return; // the client left, or an error was answered
    this.writeHead(statusCode, statusMessage, out);
    for (const chunk of held) this.res.write(chunk);
    if (this.endedWhileHeld) this.onResponseEnd();
    else this.controller?.resume();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.held !== null) {
      this.held.push(chunk);
      return;
    }
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once("drain", this.resume);
    }
  }

  onResponseEnd(): void {
    if (this.held !== null) {
      this.endedWhileHeld = true;
      return;
    }
    this.res.end();
    this.gateway.logLine(this.req, this.url, this.decision, this.res.statusCode, this.started);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.res.destroyed) return; // the client left first
    const code = (error as { code?: string }).code;
    if (error instanceof BodyTooLargeError) {
      this.gateway.metrics.upstreamError("body_too_large");
      this.res.shouldKeepAlive = false;
      sendError(this.res, 413, "Request body too large", this.html);
    } else if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      this.gateway.metrics.upstreamError("timeout");
      sendError(this.res, 504, "Upstream timed out", this.html);
    } else {
      this.gateway.metrics.upstreamError("unreachable");
      this.gateway.upstreamFailed(error);
      sendError(this.res, 502, "Upstream unreachable", this.html);
    }
    this.gateway.logLine(this.req, this.url, this.decision, this.res.statusCode, this.started);
  }
}

const one = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/** Removes headers a `Connection` header lists (other than the usual keep-alive/close/upgrade tokens). */
function dropConnectionListed(flat: string[], connection: string): void {
  const listed = connection
    .toLowerCase()
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "" && t !== "keep-alive" && t !== "close" && t !== "upgrade");
  if (listed.length === 0) return;
  for (let i = flat.length - 2; i >= 0; i -= 2) {
    if (listed.includes(flat[i]!.toLowerCase())) flat.splice(i, 2);
  }
}

/** A chunked request body, streamed, failing once it passes `limit` bytes. */
async function* limitBody(req: IncomingMessage, limit: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new BodyTooLargeError("request body too large");
    yield chunk;
  }
}
