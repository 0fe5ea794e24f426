// The token attack list, against the real TokenService (jose) and through the real server.
import { randomBytes } from "node:crypto";
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientHasher } from "../../src/modules/guard/challenges/client.js";
import { keyId, TokenService } from "../../src/modules/guard/challenges/token.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { answersFor, configure, seed, visitor } from "./challenge-helpers.js";

const SECRET = randomBytes(32).toString("hex");
const OLD_SECRET = randomBytes(32).toString("hex");
const client = { ip: "203.0.113.7", userAgent: "Mozilla/5.0 test" };
const hasher = new ClientHasher(SECRET, OLD_SECRET);
const service = new TokenService(SECRET, OLD_SECRET, hasher);
const enc = (s: string) => new TextEncoder().encode(s);
const now = () => Math.floor(Date.now() / 1000);

/** A token signed by hand, so every claim and header can be wrong on purpose. */
async function forge(opts: {
  secret?: string;
  alg?: string;
  kid?: string | null;
  claims?: Record<string, unknown>;
  sub?: string;
}) {
  const secret = opts.secret ?? SECRET;
  const header: Record<string, unknown> = { alg: opts.alg ?? "HS256", typ: "JWT" };
  if (opts.kid !== null) header.kid = opts.kid ?? keyId(secret);
  return new SignJWT({
    iss: "hiveguard",
    aud: "hiveguard",
    jti: "j1",
    iat: now(),
    nbf: now(),
    exp: now() + 300,
    sub: opts.sub ?? hasher.hash(client),
    ...opts.claims,
  })
    .setProtectedHeader(header as never)
    .sign(enc(secret));
}

describe("verifyToken", () => {
  it("accepts what sign() issues: HS256, kid, exp = now + ttl, unique jti, sub, aud", async () => {
    const token = await service.sign({ client: hasher.hash(client), ttlSec: 300, tier: 1 });
    const verdict = await service.verifyToken(token, client);
    expect(verdict.valid).toBe(true);
    if (!verdict.valid) return;
    expect(verdict.claims.exp - verdict.claims.iat).toBe(300);
    const [header] = token.split(".");
    expect(JSON.parse(Buffer.from(header!, "base64url").toString())).toEqual({
      alg: "HS256",
      typ: "JWT",
      kid: keyId(SECRET),
    });
    const other = await service.sign({ client: hasher.hash(client), ttlSec: 300 });
    const otherVerdict = await service.verifyToken(other, client);
    expect(otherVerdict.valid && otherVerdict.claims.jti).not.toBe(verdict.claims.jti);
  });

  it("rejects alg none", async () => {
    const token = new UnsecuredJWT({
      sub: hasher.hash(client),
      aud: "hiveguard",
      iss: "hiveguard",
      jti: "x",
      nbf: now(),
    })
      .setIssuedAt()
      .setExpirationTime("5m")
      .encode();
    expect(await service.verifyToken(token, client)).toMatchObject({ valid: false });
  });

  it("rejects other algorithms, even signed with the right secret", async () => {
    for (const alg of ["HS384", "HS512"]) {
      expect(await service.verifyToken(await forge({ alg }), client)).toEqual({
        valid: false,
        reason: "algorithm",
      });
    }
  });

  it("rejects a wrong key, a missing or unknown kid", async () => {
    const wrong = randomBytes(32).toString("hex");
    expect(await service.verifyToken(await forge({ secret: wrong }), client)).toEqual({
      valid: false,
      reason: "signature",
    });
    expect(await service.verifyToken(await forge({ secret: wrong, kid: keyId(SECRET) }), client)).toEqual({
      valid: false,
      reason: "signature",
    });
    expect(await service.verifyToken(await forge({ kid: null }), client)).toMatchObject({ valid: false });
  });

  it("rejects expired and not-yet-valid tokens", async () => {
    expect(await service.verifyToken(await forge({ claims: { exp: now() - 60 } }), client)).toEqual({
      valid: false,
      reason: "expired",
    });
    expect(await service.verifyToken(await forge({ claims: { nbf: now() + 120 } }), client)).toEqual({
      valid: false,
      reason: "claims",
    });
  });

  it("rejects a wrong audience or issuer", async () => {
    expect(await service.verifyToken(await forge({ claims: { aud: "someone-else" } }), client)).toEqual({
      valid: false,
      reason: "claims",
    });
    expect(await service.verifyToken(await forge({ claims: { iss: "evil" } }), client)).toEqual({
      valid: false,
      reason: "claims",
    });
  });

  it("rejects another client (IP or User-Agent differ)", async () => {
    const token = await forge({});
    expect(await service.verifyToken(token, { ...client, ip: "203.0.113.8" })).toEqual({
      valid: false,
      reason: "client",
    });
    expect(await service.verifyToken(token, { ...client, userAgent: "curl/8" })).toEqual({
      valid: false,
      reason: "client",
    });
  });

  it("rejects tampered and garbage tokens", async () => {
    const token = await forge({});
    const [h, p, s] = token.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, exp: now() + 99999 })).toString("base64url")}.${s}`;
    expect(await service.verifyToken(tampered, client)).toEqual({ valid: false, reason: "signature" });
    for (const garbage of ["", "abc", "a.b.c", "x".repeat(5000)]) {
      expect((await service.verifyToken(garbage, client)).valid).toBe(false);
    }
  });

  it("accepts tokens of the previous key during a rotation, and nothing once it is dropped", async () => {
    const before = new TokenService(OLD_SECRET, undefined, new ClientHasher(OLD_SECRET));
    const oldToken = await before.sign({ client: new ClientHasher(OLD_SECRET).hash(client), ttlSec: 300 });
    expect((await service.verifyToken(oldToken, client)).valid).toBe(true);
    const after = new TokenService(SECRET, undefined, new ClientHasher(SECRET));
    expect(await after.verifyToken(oldToken, client)).toEqual({ valid: false, reason: "signature" });
  });

  it("renews a token under the current key and client hash, so a rotation can finish", async () => {
    const before = new TokenService(OLD_SECRET, undefined, new ClientHasher(OLD_SECRET));
    const oldToken = await before.sign({
      client: new ClientHasher(OLD_SECRET).hash(client),
      ttlSec: 300,
      tier: 3,
      score: 0.7,
    });
    const verdict = await service.verifyToken(oldToken, client);
    if (!verdict.valid) throw new Error("the old token should verify during the rotation");
    const renewed = await service.renew(verdict.claims, client, 120);
    const after = new TokenService(SECRET, undefined, new ClientHasher(SECRET));
    const checked = await after.verifyToken(renewed, client);
    expect(checked).toMatchObject({ valid: true, claims: { tier: 3, score: 0.7 } });
    if (!checked.valid) return;
    expect(checked.claims.jti).not.toBe(verdict.claims.jti);
    expect(checked.claims.exp - checked.claims.iat).toBe(120);
    expect(checked.claims.bypass).toBeUndefined();
  });
});

describe("tokens from the real server", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("exp follows challenge_token_ttl; the token verifies for the solver only", async () => {
    await configure(t, { challenge_token_ttl: 60 });
    const seeded = await seed(t, { gt: 2, unknown: 2 });
    const v = visitor(t, seeded.key);
    const c = (await v.generate()).body;
    const { token } = (await v.submit(answersFor(c, seeded))).body;
    const tokens = t.server.deps.services.challenges.tokens;
    const verdict = await tokens.verifyToken(token, { ip: "127.0.0.1", userAgent: v.userAgent });
    expect(verdict.valid).toBe(true);
    if (verdict.valid) expect(verdict.claims.exp - verdict.claims.iat).toBe(60);
    expect((await tokens.verifyToken(token, { ip: "10.0.0.1", userAgent: v.userAgent })).valid).toBe(false);
  });
});
