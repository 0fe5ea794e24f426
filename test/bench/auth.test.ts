/**
 * Bench users and auth through real HTTP: register (first user admin), login, the refresh cookie (rotated on
 * use, reuse revokes the family), logout, me, CLI tokens (revocable), refused tokens (expired, forged,
 * alg none), the login lockout, and the {error, detail} error bodies upstream's frontend reads.
 */
import { createHmac, hkdfSync } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { cookieOf, freshIp, registerUser, request, type SignedInUser } from "./helpers.js";

let t: TestServer;
let admin: SignedInUser;

beforeAll(async () => {
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  admin = await registerUser(t, "first@example.com");
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("register and login", () => {
  it("makes the first user admin and the next ones users, with upstream's answer shape and the refresh cookie", async () => {
    expect(admin.role).toBe("admin");
    const res = await request(t, "POST", "/api/auth/register", {
      body: { email: "  Second@Example.com ", password: "another password" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      user: { id: expect.any(String), email: "second@example.com", role: "user" },
      access_token: expect.stringMatching(/^eyJ/),
      token_type: "bearer",
    });
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(
      /^refresh_token=[A-Za-z0-9_-]{43}; Path=\/api\/auth; Max-Age=604800; HttpOnly; SameSite=Strict$/,
    );
    // The stored token is its SHA-256, never the value.
    const value = cookieOf(res).split("=")[1]!;
    const rows = await t.server.deps.db.prisma.benchRefreshToken.findMany({
      where: { userId: res.body.user.id },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.tokenHash).not.toContain(value);
    expect(rows[0]!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("sets the cookie Secure when the request came over HTTPS (trusted proxy)", async () => {
    const res = await request(t, "POST", "/api/auth/register", {
      body: { email: "secure@example.com", password: "long enough" },
      headers: { "x-forwarded-proto": "https" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/; Secure$/);
  });

  it("refuses a short password (422 naming the field), a bad email, and a taken email (409), with {error, detail}", async () => {
    const short = await request(t, "POST", "/api/auth/register", {
      body: { email: "x@example.com", password: "short" },
    });
    expect(short.status).toBe(422);
    expect(short.body.error).toBe("Password must be at least 8 characters");
    expect(short.body.detail).toEqual([
      { loc: ["body", "password"], msg: "Password must be at least 8 characters", type: "too_small" },
    ]);
    const email = await request(t, "POST", "/api/auth/register", {
      body: { email: "nope", password: "long enough" },
    });
    expect(email.status).toBe(422);
    expect(email.body.detail[0].loc).toEqual(["body", "email"]);
    const taken = await request(t, "POST", "/api/auth/register", {
      body: { email: "FIRST@example.com", password: "long enough" },
    });
    expect(taken.status).toBe(409);
    expect(taken.body).toEqual({ error: "Email already registered", detail: "Email already registered" });
    expect(await t.server.deps.db.prisma.benchUser.count({ where: { email: "x@example.com" } })).toBe(0);
  });

  it("logs in with the right password only; the password is stored as an argon2id hash", async () => {
    const ip = freshIp();
    const wrong = await request(t, "POST", "/api/auth/login", {
      body: { email: "first@example.com", password: "wrong password" },
      headers: { "x-forwarded-for": ip },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe("Invalid email or password");
    const unknown = await request(t, "POST", "/api/auth/login", {
      body: { email: "nobody@example.com", password: "wrong password" },
      headers: { "x-forwarded-for": ip },
    });
    expect(unknown.body.error).toBe("Invalid email or password");
    const ok = await request(t, "POST", "/api/auth/login", {
      body: { email: "First@example.com", password: "correct horse battery" },
      headers: { "x-forwarded-for": ip },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.user).toEqual({ id: admin.id, email: "first@example.com", role: "admin" });
    const me = await request(t, "GET", "/api/auth/me", { token: ok.body.access_token });
    expect(me.body).toEqual({ user: { id: admin.id, email: "first@example.com", role: "admin" } });
    const row = await t.server.deps.db.prisma.benchUser.findUniqueOrThrow({ where: { id: admin.id } });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row.passwordHash).not.toContain("correct horse");
  });

  it("locks an IP out after 5 failures in 5 minutes: the 6th attempt gets 429 with Retry-After, even with the right password", async () => {
    const ip = freshIp();
    const attempt = (password: string) =>
      request(t, "POST", "/api/auth/login", {
        body: { email: "first@example.com", password },
        headers: { "x-forwarded-for": ip },
      });
    for (let i = 0; i < 5; i++) expect((await attempt(`wrong-${i}-password`)).status).toBe(401);
    const locked = await attempt("correct horse battery");
    expect(locked.status).toBe(429);
    expect(locked.body.error).toMatch(/^Too many login attempts\. Try again in \d+ seconds\.$/);
    const retryAfter = Number(locked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // Another IP is not affected.
    const other = await request(t, "POST", "/api/auth/login", {
      body: { email: "first@example.com", password: "correct horse battery" },
      headers: { "x-forwarded-for": freshIp() },
    });
    expect(other.status).toBe(200);
    const audit = await t.server.deps.db.prisma.benchAuditEvent.findMany({ where: { ipAddress: ip } });
    expect(audit.filter((e) => e.action === "login_failed")).toHaveLength(5);
    expect(audit.some((e) => e.action === "login_locked")).toBe(true);
  });
});

describe("refresh tokens", () => {
  it("rotates the cookie on every refresh; reusing a spent token revokes the whole family", async () => {
    const user = await registerUser(t);
    const first = await request(t, "POST", "/api/auth/refresh", { cookie: user.cookie });
    expect(first.status).toBe(200);
    expect(first.body.user.email).toBe(user.email);
    expect(first.body.access_token).toMatch(/^eyJ/);
    const second = cookieOf(first);
    expect(second).not.toBe(user.cookie);
    const third = await request(t, "POST", "/api/auth/refresh", { cookie: second });
    expect(third.status).toBe(200);
    const current = cookieOf(third);

    // The first cookie was spent: presenting it again is a theft signal.
    const reuse = await request(t, "POST", "/api/auth/refresh", { cookie: user.cookie });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error).toBe("Refresh token revoked");
    // ...so even the newest token of that sign-in no longer works.
    const after = await request(t, "POST", "/api/auth/refresh", { cookie: current });
    expect(after.status).toBe(401);
    const audit = await t.server.deps.db.prisma.benchAuditEvent.count({
      where: { userId: user.id, action: "refresh_token_reuse" },
    });
    expect(audit).toBe(1);
  });

  it("refuses a missing or unknown cookie; logout revokes the session and clears the cookie", async () => {
    expect((await request(t, "POST", "/api/auth/refresh")).body.error).toBe("No refresh token");
    const unknown = await request(t, "POST", "/api/auth/refresh", {
      cookie: `refresh_token=${"A".repeat(43)}`,
    });
    expect(unknown.status).toBe(401);
    const user = await registerUser(t);
    const out = await request(t, "POST", "/api/auth/logout", { cookie: user.cookie });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ status: "ok" });
    expect(out.headers.get("set-cookie")).toMatch(/^refresh_token=; Path=\/api\/auth; Max-Age=0/);
    expect((await request(t, "POST", "/api/auth/refresh", { cookie: user.cookie })).status).toBe(401);
    // Logout without a cookie still answers ok.
    expect((await request(t, "POST", "/api/auth/logout")).body).toEqual({ status: "ok" });
  });
});

describe("bearer tokens", () => {
  const jwtKey = () =>
    new Uint8Array(hkdfSync("sha256", t.shared.secretKey, "hiveguard:bench", "jwt:v1", 32));

  it("refuses missing, malformed, expired, forged and alg-none tokens with 401 {error, detail}", async () => {
    const valid = admin.token;
    const [header, payload] = valid.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const expired = await new SignJWT({ role: "admin", type: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(admin.id)
      .setIssuer("hiveguard:bench")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(jwtKey());
    const forged = `${header}.${payload}.${createHmac("sha256", "not-the-key").update(`${header}.${payload}`).digest("base64url")}`;
    const algNone = `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
    // A user's own token with the claims changed (sub → the admin) keeps the user's signature: refused.
    const other = await registerUser(t);
    const [otherHeader, otherPayload, otherSignature] = other.token.split(".");
    const otherClaims = JSON.parse(Buffer.from(otherPayload!, "base64url").toString());
    const escalated = `${otherHeader}.${b64({ ...otherClaims, sub: admin.id })}.${otherSignature}`;
    const refreshAsBearer = admin.cookie.split("=")[1]!;
    for (const [why, token] of Object.entries({
      expired,
      forged,
      algNone,
      escalated,
      refreshAsBearer,
      garbage: "abc",
    })) {
      const res = await request(t, "GET", "/api/auth/me", { token });
      expect({ why, status: res.status, body: res.body }).toEqual({
        why,
        status: 401,
        body: { error: "Not authenticated", detail: "Not authenticated" },
      });
    }
    const none = await request(t, "GET", "/api/auth/me");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("issues 30-day CLI tokens that work as bearer until revoked", async () => {
    const user = await registerUser(t);
    const res = await request(t, "POST", "/api/auth/cli-token", { token: user.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      token: expect.stringMatching(/^eyJ/),
      expires_in_days: 30,
      token_id: expect.any(String),
    });
    const claims = JSON.parse(Buffer.from(res.body.token.split(".")[1], "base64url").toString());
    expect(claims.type).toBe("cli");
    expect(claims.exp - claims.iat).toBe(30 * 86400);
    expect((await request(t, "GET", "/api/auth/me", { token: res.body.token })).status).toBe(200);
    const revoke = await request(t, "DELETE", `/api/auth/cli-token?token_id=${res.body.token_id}`, {
      token: user.token,
    });
    expect(revoke.status).toBe(200);
    expect((await request(t, "GET", "/api/auth/me", { token: res.body.token })).status).toBe(401);
  });

  it("an access token of a deleted user is refused at once", async () => {
    const user = await registerUser(t);
    await t.server.deps.db.prisma.benchUser.delete({ where: { id: user.id } });
    expect((await request(t, "GET", "/api/auth/me", { token: user.token })).status).toBe(401);
  });
});

describe("ADMIN_EMAIL / ADMIN_PASSWORD", () => {
  it("promotes an existing account at start-up, and creates a missing one as admin", async () => {
    const plain = await registerUser(t, "promote-me@example.com");
    expect(plain.role).toBe("user");
    const second = await startTestServer({
      sharedWith: t,
      env: {
        TRUSTED_PROXIES: "loopback",
        ADMIN_EMAIL: "Promote-Me@example.com",
        ADMIN_PASSWORD: "ignored for an existing account",
      },
    });
    try {
      const me = await request(second, "GET", "/api/auth/me", { token: plain.token });
      expect(me.body.user.role).toBe("admin");
      // The existing password is kept.
      const login = await request(second, "POST", "/api/auth/login", {
        body: { email: "promote-me@example.com", password: "correct horse battery" },
        headers: { "x-forwarded-for": freshIp() },
      });
      expect(login.status).toBe(200);
    } finally {
      await second.close();
    }
    const third = await startTestServer({
      sharedWith: t,
      env: { TRUSTED_PROXIES: "loopback", ADMIN_EMAIL: "ops@example.com", ADMIN_PASSWORD: "ops password 1" },
    });
    try {
      const login = await request(third, "POST", "/api/auth/login", {
        body: { email: "ops@example.com", password: "ops password 1" },
        headers: { "x-forwarded-for": freshIp() },
      });
      expect(login.status).toBe(200);
      expect(login.body.user.role).toBe("admin");
      const config = await request(third, "GET", "/api/config", { token: login.body.access_token });
      expect(Object.keys(config.body.providers)).toEqual(["OpenAI", "Anthropic", "Google Gemini"]);
    } finally {
      await third.close();
    }
  });
});
