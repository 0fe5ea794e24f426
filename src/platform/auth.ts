import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import type { Config } from "../config.js";
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from "./errors.js";
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
  | {
      kind: "apiKey";
      keyId: string;
      datasets: string[];
      sampleRate: number;
      scopes: ApiKeyScope[];
      /** Hostnames the key may be used on as a site key (issue 19); empty or absent = any. */
      hostnames?: string[];
    }
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

  readonly sessions: DashboardSessions;

  constructor(
    private readonly credentials: Config["dashboard"],
    state: StateStore,
    /** SECRET_KEY: sessions are bound to the credentials through an HMAC keyed with it. */
    secretKey: string,
  ) {
    this.sessions = new DashboardSessions(state, credentialsFingerprint(credentials, secretKey));
    this.failures = createRateLimiter(state, {
      keyPrefix: "auth:dashboard-failures",
      points: LOGIN_FAILURES_ALLOWED,
      durationSec: LOGIN_WINDOW_SEC,
      blockDurationSec: LOGIN_BLOCK_SEC,
    });
  }

  async authenticate(authorization: string | undefined, ip: string): Promise<Principal> {
    const given = parseBasicAuth(authorization);
    // A request without credentials is not a guess (a browser's first request never has them): only wrong
    // credentials count towards the limit.
    if (!given) {
      await this.refuseWhileBlocked(ip);
      throw new UnauthorizedError(DASHBOARD_UNAUTHORIZED, { "WWW-Authenticate": DASHBOARD_REALM });
    }
    return this.verify(given, ip, { "WWW-Authenticate": DASHBOARD_REALM });
  }

  /**
   * The login form's check: the same credentials, the same per-IP failure limit as HTTP Basic (a guess
   * through the form counts exactly like one through Basic), but a 401 without WWW-Authenticate, so a
   * browser never shows its own password prompt over the page.
   */
  async login(username: string, password: string, ip: string): Promise<Principal> {
    return this.verify({ username, password }, ip, {}, "Invalid username or password");
  }

  /**
   * Every dashboard request: HTTP Basic when an Authorization header is given, else the session cookie of
   * the login form. A cookie alone does not authorize a change (`write`): it also needs the
   * `X-Requested-With` header, which a cross-site form or link cannot send (a script on another site needs
   * a CORS preflight HiveGuard never grants), and an Origin, when sent, of this host.
   */
  async authenticateRequest(
    headers: IncomingHttpHeaders,
    ip: string,
    options: { write: boolean },
  ): Promise<Principal> {
    const authorization = firstHeader(headers.authorization);
    const token = authorization ? null : sessionCookie(headers.cookie);
    if (!token) return this.authenticate(authorization, ip);
    const username = await this.sessions.lookup(token);
    if (!username) throw new UnauthorizedError("Session expired or signed out");
    if (options.write) {
      if (!firstHeader(headers["x-requested-with"]))
        throw new ForbiddenError(
          "A change made with a session cookie needs the X-Requested-With header (CSRF protection)",
        );
      if (!sameOrigin(headers)) throw new ForbiddenError("Cross-origin request refused (CSRF protection)");
    }
    return { kind: "dashboard", username };
  }

  private async refuseWhileBlocked(ip: string): Promise<void> {
    const blocked = await this.failures.get(ip);
    if (blocked && blocked.remainingPoints <= 0 && blocked.msBeforeNext > 0) {
      throw new TooManyRequestsError(blocked.msBeforeNext / 1000, "Too many failed login attempts");
    }
  }

  private async verify(
    given: { username: string; password: string },
    ip: string,
    challenge: Record<string, string>,
    detail = DASHBOARD_UNAUTHORIZED,
  ): Promise<Principal> {
    await this.refuseWhileBlocked(ip);
    // Both comparisons always run, so timing does not tell which half was wrong.
    const userOk = safeEqual(given.username, this.credentials.username);
    const passOk = safeEqual(given.password, this.credentials.password);
    if (userOk && passOk) return { kind: "dashboard", username: given.username };
    const outcome = await consumeOrRetryAfter(this.failures, ip);
    if (!outcome.allowed) {
      throw new TooManyRequestsError(outcome.retryAfterSec, "Too many failed login attempts");
    }
    throw new UnauthorizedError(detail, challenge);
  }
}

export const SESSION_COOKIE = "hg_session";
/** Lifetime of a dashboard session (the cookie and its record in the state store). */
export const SESSION_TTL_SEC = 12 * 3600;
const SESSION_PREFIX = "auth:dashboard-session:";

/**
 * Which dashboard credentials (and SECRET_KEY) a session was opened with: an HMAC, so the state store never
 * holds anything a password could be guessed from offline. Changing the password (or the key) on restart
 * signs every session out.
 */
function credentialsFingerprint(credentials: Config["dashboard"], secretKey: string): string {
  return createHmac("sha256", secretKey)
    .update(`hiveguard:dashboard-credentials:v1\0${credentials.username}\0${credentials.password}`)
    .digest("base64url");
}

/**
 * Dashboard sessions of the login form: an opaque random token in the cookie; the state store keeps only
 * its SHA-256 (shared by every instance), with the session's lifetime as TTL and the fingerprint of the
 * credentials it was opened with. Signing out deletes it; a session opened with other credentials (the
 * password changed since) is refused.
 */
export class DashboardSessions {
  constructor(
    private readonly state: StateStore,
    private readonly credentials: string,
  ) {}

  async create(username: string): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    await this.state.set(
      `${SESSION_PREFIX}${sha256(token)}`,
      JSON.stringify({ username, credentials: this.credentials }),
      { ttlMs: SESSION_TTL_SEC * 1000 },
    );
    return token;
  }

  async lookup(token: string): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const stored = await this.state.get(`${SESSION_PREFIX}${sha256(token)}`);
    if (!stored) return null;
    try {
      const session = JSON.parse(stored) as { username: string; credentials?: string };
      if (typeof session.credentials !== "string" || !safeEqual(session.credentials, this.credentials))
        return null;
      return session.username;
    } catch {
      return null;
    }
  }

  async destroy(token: string): Promise<void> {
    await this.state.del(`${SESSION_PREFIX}${sha256(token)}`);
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The value of the session cookie in a Cookie header, or null. */
export function sessionCookie(cookie: string | string[] | undefined): string | null {
  const header = Array.isArray(cookie) ? cookie.join("; ") : cookie;
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** An Origin header, when the browser sends one, must name the host the request was sent to. */
function sameOrigin(headers: IncomingHttpHeaders): boolean {
  const origin = firstHeader(headers.origin);
  if (!origin) return true;
  try {
    const host = firstHeader(headers["x-forwarded-host"]) ?? firstHeader(headers.host);
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Seams filled by later modules: the guard module verifies API keys, the bench module verifies user JWTs. */
export interface Authenticators {
  dashboard: DashboardAuthenticator;
  apiKey?: (rawKey: string, ip: string) => Promise<ApiKeyPrincipal | null>;
  user?: (bearerToken: string) => Promise<UserPrincipal | null>;
}
