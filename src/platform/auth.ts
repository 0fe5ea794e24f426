import { createHash, timingSafeEqual } from "node:crypto";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import type { Config } from "../config.js";
import { TooManyRequestsError, UnauthorizedError } from "./errors.js";
import { consumeOrRetryAfter, createRateLimiter } from "./rate-limit.js";
import type { StateStore } from "./state/index.js";

/**
 * What an API key may do. A key embedded in public pages (the widget) should hold `challenge` only: with
 * `data:read` anyone reading the page could list labels, including answers of items promoted to the GT pool.
 */
export const API_KEY_SCOPES = ["challenge", "data:read", "data:write"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Who is calling, once a procedure's auth middleware has accepted the request. */
export type Principal =
  | { kind: "dashboard"; username: string }
  | { kind: "apiKey"; keyId: string; datasets: string[]; sampleRate: number; scopes: ApiKeyScope[] }
  | { kind: "user"; userId: string; role: string };

export type ApiKeyPrincipal = Extract<Principal, { kind: "apiKey" }>;
export type UserPrincipal = Extract<Principal, { kind: "user" }>;

/** Constant-time comparison of two secrets of any length (both are hashed first, so lengths leak nothing). */
export function safeEqual(a: string, b: string): boolean {
  const digestA = createHash("sha256").update(a).digest();
  const digestB = createHash("sha256").update(b).digest();
  return timingSafeEqual(digestA, digestB);
}

export function parseBasicAuth(header: string | undefined): { username: string; password: string } | null {
  if (!header) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export const DASHBOARD_REALM = 'Basic realm="HiveGuard dashboard", charset="UTF-8"';
export const DASHBOARD_UNAUTHORIZED = "Unauthorized";
export const API_KEY_INVALID = "Invalid or missing API key";

/** Failed dashboard logins allowed per client IP in the window before it is blocked. */
const LOGIN_FAILURES_ALLOWED = 10;
const LOGIN_WINDOW_SEC = 60;
const LOGIN_BLOCK_SEC = 300;

/**
 * HTTP Basic check of the dashboard credentials. Failures count per IP in the state store (so every
 * instance sees them); an IP over the limit gets 429 with Retry-After even with the right password,
 * which makes guessing pointless.
 */
export class DashboardAuthenticator {
  private readonly failures: RateLimiterAbstract;

  constructor(
    private readonly credentials: Config["dashboard"],
    state: StateStore,
  ) {
    this.failures = createRateLimiter(state, {
      keyPrefix: "auth:dashboard-failures",
      points: LOGIN_FAILURES_ALLOWED,
      durationSec: LOGIN_WINDOW_SEC,
      blockDurationSec: LOGIN_BLOCK_SEC,
    });
  }

  async authenticate(authorization: string | undefined, ip: string): Promise<Principal> {
    const blocked = await this.failures.get(ip);
    if (blocked && blocked.remainingPoints <= 0 && blocked.msBeforeNext > 0) {
      throw new TooManyRequestsError(blocked.msBeforeNext / 1000, "Too many failed login attempts");
    }
    const given = parseBasicAuth(authorization);
    // Both comparisons always run, so timing does not tell which half was wrong.
    const userOk = safeEqual(given?.username ?? "", this.credentials.username);
    const passOk = safeEqual(given?.password ?? "", this.credentials.password);
    if (given && userOk && passOk) return { kind: "dashboard", username: given.username };
    // A request without credentials is not a guess (a browser's first request never has them): only wrong
    // credentials count towards the limit.
    if (!given) throw new UnauthorizedError(DASHBOARD_UNAUTHORIZED, { "WWW-Authenticate": DASHBOARD_REALM });

    const outcome = await consumeOrRetryAfter(this.failures, ip);
    if (!outcome.allowed) {
      throw new TooManyRequestsError(outcome.retryAfterSec, "Too many failed login attempts");
    }
    throw new UnauthorizedError(DASHBOARD_UNAUTHORIZED, { "WWW-Authenticate": DASHBOARD_REALM });
  }
}

/** Seams filled by later modules: the guard module verifies API keys, the bench module verifies user JWTs. */
export interface Authenticators {
  dashboard: DashboardAuthenticator;
  apiKey?: (rawKey: string, ip: string) => Promise<ApiKeyPrincipal | null>;
  user?: (bearerToken: string) => Promise<UserPrincipal | null>;
}
