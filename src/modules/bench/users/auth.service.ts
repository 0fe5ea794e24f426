import { createHash, randomBytes, randomUUID } from "node:crypto";
import { hash as argon2Hash, verify as argon2Verify } from "@node-rs/argon2";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { UserPrincipal } from "../../../platform/auth.js";
import {
  ConflictError,
  NotFoundError,
  TooManyRequestsError,
  UnauthorizedError,
} from "../../../platform/errors.js";
import { createRateLimiter } from "../../../platform/rate-limit.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { AuditLog, ClientInfo } from "../admin/audit.js";
import type { ProviderService } from "../providers/service.js";
import { ACCESS_TOKEN_TTL_SEC, CLI_TOKEN_TTL_DAYS, type JwtService } from "./tokens.js";
import type { Role, User } from "./users.schema.js";

export const REFRESH_COOKIE = "refresh_token";
export const REFRESH_TOKEN_TTL_SEC = 7 * 24 * 3600;
/** Login: 5 failures per client IP within 5 minutes lock that IP out for 15 minutes (bench-notes.md). */
export const LOGIN_FAILURES_ALLOWED = 5;
export const LOGIN_WINDOW_SEC = 5 * 60;
export const LOGIN_LOCKOUT_SEC = 15 * 60;

const INVALID_CREDENTIALS = "Invalid email or password";

export interface SignedIn {
  user: User;
  access_token: string;
  token_type: "bearer";
  /** The new refresh token: goes into the HttpOnly cookie, never into a body. */
  refreshToken: string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Users and their sessions: registration (the first user is admin), login with a per-IP lockout, refresh
 * tokens rotated on every use (a rotated token presented again revokes its whole family: someone copied it),
 * logout, CLI tokens (30 days, revocable by jti), and the bearer check every user route goes through.
 */
export class AuthService {
  private readonly loginFailures: RateLimiterAbstract;
  /** A hash to verify against when the email is unknown, so timing does not tell which emails exist. */
  private readonly decoyHash: Promise<string>;

  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      state: StateStore;
      jwt: JwtService;
      audit: AuditLog;
      providers: ProviderService;
    },
  ) {
    this.loginFailures = createRateLimiter(deps.state, {
      keyPrefix: "bench:login-failures",
      points: LOGIN_FAILURES_ALLOWED,
      durationSec: LOGIN_WINDOW_SEC,
    });
    this.decoyHash = argon2Hash(randomBytes(16).toString("hex"));
    this.decoyHash.catch(() => undefined);
  }

  async register(email: string, password: string, client: ClientInfo): Promise<SignedIn> {
    const passwordHash = await argon2Hash(password);
    const { prisma } = this.deps;
    const user = await prisma.$transaction(async (tx) => {
      // Serializes registrations, so exactly one first user becomes admin even when two register at once.
      await tx.$executeRawUnsafe("SELECT pg_advisory_xact_lock(hashtext('hiveguard:bench:register'))");
      if (await tx.benchUser.findUnique({ where: { email }, select: { id: true } }))
        throw new ConflictError("Email already registered");
      const role: Role = (await tx.benchUser.count()) === 0 ? "admin" : "user";
      const created = await tx.benchUser.create({
        data: { email, passwordHash, role, lastLoginAt: new Date() },
      });
      await this.deps.providers.seedDefaults(tx, created.id);
      return created;
    });
    await this.deps.audit.record({
      userId: user.id,
      username: email,
      action: "register",
      detail: `role ${user.role}`,
      client,
    });
    return this.signIn(toUser(user));
  }

  /**
   * ADMIN_EMAIL / ADMIN_PASSWORD at start-up (as upstream): the account is created as admin, or an existing one
   * promoted (its password is left alone). Safe on every instance and every restart.
   */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const passwordHash = await argon2Hash(password);
    await this.deps.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe("SELECT pg_advisory_xact_lock(hashtext('hiveguard:bench:register'))");
      const existing = await tx.benchUser.findUnique({ where: { email }, select: { id: true, role: true } });
      if (existing) {
        if (existing.role !== "admin")
          await tx.benchUser.update({ where: { id: existing.id }, data: { role: "admin" } });
        return;
      }
      const created = await tx.benchUser.create({ data: { email, passwordHash, role: "admin" } });
      await this.deps.providers.seedDefaults(tx, created.id);
    });
  }

  async login(email: string, password: string, client: ClientInfo): Promise<SignedIn> {
    const ip = client.ip ?? "unknown";
    const state = await this.loginFailures.get(ip);
    if (state && state.consumedPoints > LOGIN_FAILURES_ALLOWED && state.msBeforeNext > 0) {
      const seconds = Math.max(1, Math.ceil(state.msBeforeNext / 1000));
      await this.deps.audit.record({ username: email, action: "login_locked", client });
      throw new TooManyRequestsError(seconds, `Too many login attempts. Try again in ${seconds} seconds.`);
    }
    const user = await this.deps.prisma.benchUser.findUnique({ where: { email } });
    const ok = await argon2Verify(user?.passwordHash ?? (await this.decoyHash), password).catch(() => false);
    if (!user || !ok) {
      const failed = await this.loginFailures.penalty(ip, 1);
      // The fifth failure inside the window locks the IP out for 15 minutes (the next attempt gets 429).
      if (failed.consumedPoints >= LOGIN_FAILURES_ALLOWED)
        await this.loginFailures.block(ip, LOGIN_LOCKOUT_SEC);
      await this.deps.audit.record({ userId: user?.id, username: email, action: "login_failed", client });
      throw new UnauthorizedError(INVALID_CREDENTIALS);
    }
    await this.deps.prisma.benchUser.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
    await this.deps.audit.record({ userId: user.id, username: email, action: "login", client });
    return this.signIn(toUser(user));
  }

  /** Exchanges a refresh token for a new access token and a new refresh token (the old one is spent). */
  async refresh(refreshToken: string | null, client: ClientInfo): Promise<SignedIn> {
    if (!refreshToken) throw new UnauthorizedError("No refresh token");
    const { prisma } = this.deps;
    const row = await prisma.benchRefreshToken.findUnique({
      where: { tokenHash: sha256(refreshToken) },
      include: { user: true },
    });
    if (!row) throw new UnauthorizedError("Invalid refresh token");
    if (row.revokedAt) throw new UnauthorizedError("Refresh token revoked");
    if (row.expiresAt.getTime() <= Date.now()) throw new UnauthorizedError("Refresh token expired");
    // Spend it atomically: of two requests with the same token, one wins; the other is a reuse.
    const spent = await prisma.benchRefreshToken.updateMany({
      where: { id: row.id, rotatedAt: null, revokedAt: null },
      data: { rotatedAt: new Date() },
    });
    if (spent.count === 0) {
      await prisma.benchRefreshToken.updateMany({
        where: { familyId: row.familyId, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      await this.deps.audit.record({
        userId: row.userId,
        username: row.user.email,
        action: "refresh_token_reuse",
        detail: "a rotated refresh token was presented again: every session of its family is revoked",
        client,
      });
      throw new UnauthorizedError("Refresh token revoked");
    }
    return this.signIn(toUser(row.user), row.familyId);
  }

  /** Revokes the cookie's session (its whole rotation family). Never fails. */
  async logout(refreshToken: string | null, client: ClientInfo): Promise<void> {
    if (!refreshToken) return;
    const row = await this.deps.prisma.benchRefreshToken.findUnique({
      where: { tokenHash: sha256(refreshToken) },
      include: { user: { select: { email: true } } },
    });
    if (!row) return;
    await this.deps.prisma.benchRefreshToken.updateMany({
      where: { familyId: row.familyId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    await this.deps.audit.record({ userId: row.userId, username: row.user.email, action: "logout", client });
  }

  async me(userId: string): Promise<User> {
    const user = await this.deps.prisma.benchUser.findUnique({ where: { id: userId } });
    if (!user) throw new UnauthorizedError("Not authenticated");
    return toUser(user);
  }

  async createCliToken(
    principal: UserPrincipal,
    client: ClientInfo,
  ): Promise<{ token: string; token_id: string }> {
    const expiresAt = new Date(Date.now() + CLI_TOKEN_TTL_DAYS * 86_400_000);
    const row = await this.deps.prisma.benchCliToken.create({
      data: { userId: principal.userId, expiresAt },
    });
    const token = await this.deps.jwt.sign(
      { sub: principal.userId, role: principal.role, type: "cli", jti: row.id },
      CLI_TOKEN_TTL_DAYS * 86_400,
    );
    await this.deps.audit.record({
      userId: principal.userId,
      action: "cli_token_created",
      resourceType: "cli_token",
      resourceId: row.id,
      client,
    });
    return { token, token_id: row.id };
  }

  async revokeCliTokens(userId: string, tokenId: string | undefined, client: ClientInfo): Promise<void> {
    const revoked = await this.deps.prisma.benchCliToken.updateMany({
      where: { userId, revokedAt: null, ...(tokenId && { id: tokenId }) },
      data: { revokedAt: new Date() },
    });
    if (tokenId && revoked.count === 0) throw new NotFoundError("Token not found");
    await this.deps.audit.record({
      userId,
      action: "cli_token_revoked",
      resourceType: "cli_token",
      resourceId: tokenId ?? "all",
      client,
    });
  }

  /**
   * The bearer check of every user route: a valid JWT (HS256, not expired) of a user who still exists; a CLI
   * token must also not be revoked. The role is read from the database, so a role change applies at once.
   */
  async verifyBearer(token: string): Promise<UserPrincipal | null> {
    if (token.length > 4096) return null;
    const claims = await this.deps.jwt.verify(token);
    if (!claims) return null;
    if (!/^[0-9a-f-]{36}$/i.test(claims.sub)) return null;
    if (claims.type === "cli") {
      if (!claims.jti || !/^[0-9a-f-]{36}$/i.test(claims.jti)) return null;
      const row = await this.deps.prisma.benchCliToken.findUnique({
        where: { id: claims.jti },
        select: { userId: true, revokedAt: true, expiresAt: true, user: { select: { role: true } } },
      });
      if (!row || row.revokedAt || row.expiresAt.getTime() <= Date.now() || row.userId !== claims.sub)
        return null;
      return { kind: "user", userId: row.userId, role: row.user.role };
    }
    const user = await this.deps.prisma.benchUser.findUnique({
      where: { id: claims.sub },
      select: { role: true },
    });
    return user ? { kind: "user", userId: claims.sub, role: user.role } : null;
  }

  private async signIn(user: User, familyId: string = randomUUID()): Promise<SignedIn> {
    const refreshToken = randomBytes(32).toString("base64url");
    // The user's expired tokens are of no use any more (a spent one is kept until it expires: reuse detection).
    await this.deps.prisma.benchRefreshToken.deleteMany({
      where: { userId: user.id, expiresAt: { lt: new Date() } },
    });
    await this.deps.prisma.benchRefreshToken.create({
      data: {
        userId: user.id,
        familyId,
        tokenHash: sha256(refreshToken),
        expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_SEC * 1000),
      },
    });
    const accessToken = await this.deps.jwt.sign(
      { sub: user.id, role: user.role, type: "access" },
      ACCESS_TOKEN_TTL_SEC,
    );
    return { user, access_token: accessToken, token_type: "bearer", refreshToken };
  }
}

function toUser(row: { id: string; email: string; role: string }): User {
  return { id: row.id, email: row.email, role: row.role === "admin" ? "admin" : "user" };
}

/** The Set-Cookie value carrying a refresh token (HttpOnly, SameSite=Strict, Secure over HTTPS). */
export function refreshCookie(token: string, secure: boolean): string {
  return `${REFRESH_COOKIE}=${token}; Path=/api/auth; Max-Age=${REFRESH_TOKEN_TTL_SEC}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

export function clearedRefreshCookie(secure: boolean): string {
  return `${REFRESH_COOKIE}=; Path=/api/auth; Max-Age=0; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/** The refresh token of a Cookie header, or null. */
export function refreshTokenOf(cookie: string | string[] | undefined): string | null {
  const header = Array.isArray(cookie) ? cookie.join("; ") : cookie;
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === REFRESH_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
    }
  }
  return null;
}
