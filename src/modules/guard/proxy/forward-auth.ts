// Forward-auth mode (issue 20): the gateway's decision for a request that another reverse proxy (nginx
// `auth_request`, Traefik `forwardAuth`, Caddy `forward_auth`) carries. HiveGuard does not touch the
// request's bytes: it answers 2xx (let it through) or 401 with the challenge location, and the front
// proxy acts on that. Same rules, same token check and cache, same client address as the built-in proxy:
// everything comes from the Gateway and platform/http/trusted-proxies.ts, nothing is decided twice.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { safeReturnPath } from "../challenges/http.js";
import { TOKEN_COOKIE, TOKEN_HEADER } from "../challenges/token.js";
import { clientAddress, peerTrusted } from "../../../platform/http/trusted-proxies.js";
import { DECISION_INDEX, type Decision, type ProxyMetrics } from "./metrics.js";
import { wantsHtml } from "./pages.js";
import { challengeUrl, FORWARD_AUTH_PATH } from "./paths.js";
import { splitTokenCookie } from "./token-cookie.js";

export { FORWARD_AUTH_PATH };
/** Where the front proxy sends a visitor without a valid token (a path on the site's own host). */
export const CHALLENGE_HEADER = "X-HiveGuard-Challenge";
/** What was decided: exempt, token, bypass, closed or challenge (for logs and for caching in the front). */
export const DECISION_HEADER = "X-HiveGuard-Decision";
const BYPASS_HEADER = "X-HiveGuard-Bypass";
const COOKIE_PREFIX = `${TOKEN_COOKIE}=`;
const TOKEN_HEADER_LOWER = TOKEN_HEADER.toLowerCase();

export interface ForwardAuthAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The built-in proxy's decision (Gateway.decideForwarded): `url` null when the original path is unknown. */
export type DecideForwarded = (
  url: string | null,
  token: string | undefined,
  userAgent: string,
  ip: string,
) => Decision | Promise<Decision>;

interface ForwardAuthDeps {
  decide: DecideForwarded;
  trustedProxies: string[];
  metrics: ProxyMetrics;
  log: Logger;
}

const one = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/**
 * Decides one forward-auth request. What the front proxy reports about the original request
 * (`X-Forwarded-Uri` or `X-Original-URI`, `X-Forwarded-Method`) is believed only when the peer is in
 * TRUSTED_PROXIES, exactly like `X-Forwarded-For` for the client address; from anyone else the original
 * path is unknown, so no proxy rule can exempt it (only a valid token passes).
 */
export class ForwardAuth {
  private readonly clientIp: (req: IncomingMessage) => string;
  private readonly trustedPeer: (address: string) => boolean;
  private warnedUntrusted = false;

  constructor(private readonly deps: ForwardAuthDeps) {
    this.clientIp = clientAddress(deps.trustedProxies);
    this.trustedPeer = peerTrusted(deps.trustedProxies);
  }

  /**
   * node:http handler for `/_hiveguard/auth` (reached before Fastify, like proxied requests: a front proxy
   * asks once per visitor request, so this path is as hot as the proxy's own).
   */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method;
    if (method !== "GET" && method !== "HEAD") {
      const body = JSON.stringify({
        detail: `Method not allowed: ${method} ${FORWARD_AUTH_PATH} (allowed: GET, HEAD)`,
      });
      res.writeHead(405, {
        allow: "GET, HEAD",
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
        "x-content-type-options": "nosniff",
      });
      res.end(body);
      return;
    }
    const url = req.url ?? FORWARD_AUTH_PATH;
    const query = url.indexOf("?");
    const redirect = query === -1 ? null : new URLSearchParams(url.slice(query + 1)).get("redirect");
    const send = (answer: ForwardAuthAnswer) => {
      res.writeHead(answer.status, answer.headers);
      res.end(method === "HEAD" ? undefined : answer.body);
    };
    let answer: ForwardAuthAnswer | Promise<ForwardAuthAnswer>;
    try {
      answer = this.check(req, redirect === "1" || redirect === "true");
    } catch (error) {
      answer = Promise.reject(error);
    }
    if (answer instanceof Promise)
      answer.then(send, (error: unknown) => {
        this.deps.log.error({ err: error }, "forward auth decision failed");
        const body = JSON.stringify({ detail: "Internal server error" });
        send({
          status: 500,
          headers: {
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
            "X-Accel-Expires": "0",
            "content-type": "application/json; charset=utf-8",
            "content-length": String(Buffer.byteLength(body)),
          },
          body,
        });
      });
    else send(answer);
  }

  /** `redirect`: answer a browser navigation with 302 to the challenge (Traefik, Caddy) instead of 401. */
  check(req: IncomingMessage, redirect: boolean): ForwardAuthAnswer | Promise<ForwardAuthAnswer> {
    const headers = req.headers;
    const trusted = this.trustedPeer(req.socket.remoteAddress ?? "");
    let url: string | null = null;
    let method: string | undefined;
    if (trusted) {
      url = reportedPath(req.rawHeaders);
      method = one(headers["x-forwarded-method"]);
    } else if (
      !this.warnedUntrusted &&
      (headers["x-forwarded-uri"] !== undefined || headers["x-original-uri"] !== undefined)
    ) {
      this.warnedUntrusted = true;
      this.deps.log.warn(
        { peer: req.socket.remoteAddress },
        "forward auth: X-Forwarded-Uri from a peer not in TRUSTED_PROXIES is ignored (no proxy rule can exempt, tokens are bound to the peer's address); add the front proxy to TRUSTED_PROXIES",
      );
    }
    const ip = this.clientIp(req);
    const userAgent = one(headers["user-agent"]) ?? "";
    const token = one(headers[TOKEN_HEADER_LOWER]) ?? cookieToken(one(headers.cookie));
    const browser = redirect && wantsHtml(method ?? req.method, one(headers.accept));
    const answer = (decision: Decision) => this.answer(decision, url, browser);
    const decided = this.deps.decide(url, token, userAgent, ip);
    return typeof decided === "string" ? answer(decided) : decided.then(answer);
  }

  private answer(decision: Decision, url: string | null, browser: boolean): ForwardAuthAnswer {
    this.deps.metrics.forwardAuthDecision(DECISION_INDEX[decision]);
    switch (decision) {
      case "exempt":
        return LET_THROUGH.exempt;
      case "token":
        return LET_THROUGH.token;
      case "bypass":
        return LET_THROUGH.bypass;
      case "closed":
        return json(503, "closed", {}, { detail: "Challenge pool empty" });
      case "challenge": {
        const location = challengeUrl(safeReturnPath(url ?? "/"));
        if (browser)
          return {
            status: 302,
            headers: {
              ...ownHeaders("challenge"),
              [CHALLENGE_HEADER]: location,
              location,
              "content-length": "0",
            },
            body: "",
          };
        return json(
          401,
          "challenge",
          { [CHALLENGE_HEADER]: location },
          { detail: "Challenge required", challenge_url: location },
        );
      }
    }
  }
}

/**
 * Headers on every answer: never stored by a browser or an intermediary on its own; only a valid token's
 * answer may be remembered by a front proxy's cache configured for it (the cache key holds the token and
 * the client), so every other answer carries `X-Accel-Expires: 0` (nginx: do not cache), as an exempt
 * path, a bypass or a refusal says nothing about the next request.
 */
function ownHeaders(decision: Decision): Record<string, string> {
  return {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    [DECISION_HEADER]: decision,
    ...(decision !== "token" && { "X-Accel-Expires": "0" }),
  };
}

/** The answers that let a request through, built once (they are the hot path). */
const LET_THROUGH: Record<"exempt" | "token" | "bypass", ForwardAuthAnswer> = {
  exempt: { status: 200, headers: { ...ownHeaders("exempt"), "content-length": "0" }, body: "" },
  token: { status: 200, headers: { ...ownHeaders("token"), "content-length": "0" }, body: "" },
  bypass: {
    status: 200,
    headers: { ...ownHeaders("bypass"), [BYPASS_HEADER]: "no-gt-pool", "content-length": "0" },
    body: "",
  },
};

function json(
  status: number,
  decision: Decision,
  extra: Record<string, string>,
  body: Record<string, string>,
): ForwardAuthAnswer {
  const text = JSON.stringify(body);
  return {
    status,
    headers: {
      ...ownHeaders(decision),
      ...extra,
      "content-type": "application/json; charset=utf-8",
      "content-length": String(Buffer.byteLength(text)),
    },
    body: text,
  };
}

/**
 * The original path and query as the front proxy reported it (`X-Forwarded-Uri`, or `X-Original-URI`), or
 * null when it cannot be relied on: absent, not a path (absolute form, `*`), sent twice, or sent in both
 * headers with different values (a proxy that sets one of them passes the other on from the client).
 */
function reportedPath(raw: string[]): string | null {
  let forwarded: string | undefined;
  let original: string | undefined;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 15 && name.length !== 14) continue;
    const lower = name.toLowerCase();
    if (lower === "x-forwarded-uri") {
      if (forwarded !== undefined) return null;
      forwarded = raw[i + 1]!;
      seen++;
    } else if (lower === "x-original-uri") {
      if (original !== undefined) return null;
      original = raw[i + 1]!;
      seen++;
    }
  }
  if (seen === 0) return null;
  if (forwarded !== undefined && original !== undefined && forwarded !== original) return null;
  const path = (forwarded ?? original)!;
  return path.startsWith("/") ? path : null;
}

function cookieToken(header: string | undefined): string | undefined {
  if (header === undefined || !header.includes(COOKIE_PREFIX)) return undefined;
  return splitTokenCookie(header).found;
}

const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } };
const decisionHeader = z
  .enum(["exempt", "token", "bypass", "closed", "challenge"])
  .describe("What HiveGuard decided");

export const forwardAuthExtraPaths: ZodOpenApiPathsObject = {
  [FORWARD_AUTH_PATH]: {
    get: {
      tags: ["proxy: forward auth"],
      operationId: "forwardAuth",
      summary: "Forward auth: may this request (as reported by the front proxy) reach the site?",
      description:
        "For nginx `auth_request`, Traefik `forwardAuth` and Caddy `forward_auth` (see docs/proxy.md). " +
        "The visitor's token comes from the `X-HiveGuard-Token` header or the `hiveguard_token` cookie " +
        "of the original request, bound to its client address (X-Forwarded-For) and User-Agent. The " +
        "original path (`X-Forwarded-Uri`, else `X-Original-URI`) and method (`X-Forwarded-Method`) " +
        "are read only when the caller is in TRUSTED_PROXIES: make this endpoint reachable by the " +
        "front proxy only. No credentials: the answer depends on the visitor's token alone.",
      security: [],
      requestParams: {
        query: z.object({
          redirect: z
            .enum(["1", "true"])
            .optional()
            .describe("Answer browser navigations (GET accepting text/html) with 302 instead of 401"),
        }),
        header: z.object({
          "x-forwarded-uri": z.string().optional().describe("Original path and query (Traefik, Caddy)"),
          "x-original-uri": z.string().optional().describe("Original path and query (nginx)"),
          "x-forwarded-method": z.string().optional().describe("Original method"),
          "x-hiveguard-token": z.string().optional().describe("The visitor's token, if sent as a header"),
        }),
      },
      responses: {
        200: {
          description:
            "Let through: valid token, a proxy rule exempts the path, or no ground-truth pool (fail-open, " +
            "`X-HiveGuard-Bypass: no-gt-pool`)",
          headers: z.object({ [DECISION_HEADER]: decisionHeader }),
        },
        302: {
          description:
            "With `redirect=1`, a browser navigation without a valid token: Location is the challenge",
          headers: z.object({ location: z.string(), [CHALLENGE_HEADER]: z.string() }),
        },
        401: {
          description:
            "No valid token: `X-HiveGuard-Challenge` (and `challenge_url`) is where to send the visitor, " +
            "a path on the site's host (`/_hiveguard/challenge?return=...`, same-site return only)",
          headers: z.object({ [CHALLENGE_HEADER]: z.string(), [DECISION_HEADER]: decisionHeader }),
          content: {
            "application/json": {
              schema: z.object({ detail: z.string(), challenge_url: z.string() }),
            },
          },
        },
        503: { description: "No ground-truth pool and fail_mode is closed", content: errorContent },
      },
    },
  },
};
