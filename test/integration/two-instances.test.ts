import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, type Seeded, seed } from "../guard/challenge-helpers.js";
import { call, clients, createKey, send } from "../guard/helpers.js";
import { http, startUpstream, type Upstream } from "../proxy/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";

// Two servers on one database and one state store (PostgreSQL + Redis when configured, as in production;
// the embedded run shares one in-process store, the closest a single process gets), in front of one site.
let a: TestServer;
let b: TestServer;
let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream();
  // TRUSTED_PROXIES: the login-throttling test blocks an address of its own (X-Forwarded-For), not 127.0.0.1.
  const env = { TARGET_URL: upstream.url, TRUSTED_PROXIES: "loopback" };
  a = await startTestServer({ env });
  b = await startTestServer({ sharedWith: a, env });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
  await upstream?.close();
});

const readConfig = async (server: TestServer) => {
  const res = await fetch(`${server.url}/dashboard/api/config`, {
    headers: { authorization: server.dashboardAuth },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
};

describe("two instances on the same backends", () => {
  it("a runtime config change on one is served by the other at once (no stale cache)", async () => {
    expect((await readConfig(b)).risk_threshold).toBe(0.5); // b has cached the defaults now
    const res = await fetch(`${a.url}/dashboard/api/config`, {
      method: "POST",
      headers: { authorization: a.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ risk_threshold: 0.9, fail_mode: "closed" }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await expect.poll(async () => (await readConfig(b)).risk_threshold, { timeout: 2000 }).toBe(0.9);
    expect((await readConfig(b)).fail_mode).toBe("closed");
  });

  it("failed dashboard logins counted on one instance block the same IP on the other", async () => {
    const wrong = {
      authorization: `Basic ${Buffer.from("admin:wrong").toString("base64")}`,
      "x-forwarded-for": "10.77.0.1",
    };
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const server = i % 2 === 0 ? a : b;
      const res = await fetch(`${server.url}/dashboard/api/config`, { headers: wrong });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
    const blocked = await fetch(`${b.url}/dashboard/api/config`, {
      headers: { authorization: b.dashboardAuth, "x-forwarded-for": "10.77.0.1" },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await blocked.json()).toEqual({ detail: "Too many failed login attempts" });
  });

  it("both answer readiness on the shared database", async () => {
    for (const server of [a, b]) {
      const res = await fetch(`${server.url}/api/v1/ready`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  });
});

/** Answers of a visitor who knows every item: ground truth for GT items, `answers` for the others. */
function knowingAnswers(challenge: any, seeded: Seeded, answers: Map<string, string>) {
  return {
    challenge_id: challenge.challenge_id,
    responses: challenge.items.map((item: any) => ({
      item_id: item.id,
      answer: seeded.gt.get(item.data_ref) ?? answers.get(item.data_ref)!,
    })),
  };
}

function visitorOn(key: string) {
  const headers = { "x-hiveguard-key": key, "user-agent": `two-instances-${randomBytes(6).toString("hex")}` };
  return {
    headers,
    generate: (server: TestServer) => call(server, "/api/v1/challenge/generate", { headers }),
    submit: (server: TestServer, body: unknown) =>
      call(server, "/api/v1/challenge/submit", send("POST", body, headers)),
  };
}

describe("two instances: challenges, keys, rules, config and consensus", () => {
  let seeded: Seeded;
  const answerOf = new Map<string, string>();
  /** data_ref of a non-GT item → submits answered `passed: true` that carried a vote on it (every test here). */
  const acknowledged = new Map<string, number>();

  /** Generates on one instance, submits on another, and counts the vote when the submit is acknowledged. */
  async function solve(visitor: ReturnType<typeof visitorOn>, genOn: TestServer, submitOn: TestServer) {
    const generated = await visitor.generate(genOn);
    if (generated.status !== 200) return { generated, submitted: null };
    const submitted = await visitor.submit(submitOn, knowingAnswers(generated.body, seeded, answerOf));
    const voted = generated.body.items.find((item: any) => answerOf.has(item.data_ref));
    if (submitted.status === 200 && submitted.body.passed === true && voted) {
      acknowledged.set(voted.data_ref, (acknowledged.get(voted.data_ref) ?? 0) + 1);
    }
    return { generated, submitted };
  }

  beforeAll(async () => {
    await configure(a, {
      consensus_min_votes: 3,
      consensus_threshold: 0.6,
      revalidation_promote_to_gt: false,
      revalidation_min_total_votes: 100_000,
    });
    seeded = await seed(a, { gt: 8, unknown: 4 });
    seeded.unknownRefs.forEach((ref, index) => answerOf.set(ref, index % 2 === 0 ? "yes" : "no"));
  });

  it("a challenge generated on one instance is submitted on the other, once", async () => {
    const visitor = visitorOn(seeded.key);
    const { generated, submitted: passed } = await solve(visitor, a, b);
    expect(generated.status).toBe(200);
    const body = knowingAnswers(generated.body, seeded, answerOf);
    expect(passed!.status).toBe(200);
    expect(passed!.body.passed).toBe(true);
    expect(typeof passed!.body.token).toBe("string");
    // Spent everywhere: a replay on either instance fails.
    for (const server of [a, b])
      expect((await visitor.submit(server, body)).body).toEqual({ passed: false, token: null });
  });

  it("a key revoked on one instance is refused on the other at once", async () => {
    const key = await createKey(a, { label: "revoke-me", datasets: [seeded.datasetId] });
    const use = (server: TestServer) =>
      call(server, "/api/v1/data/items?limit=1", { headers: { "x-hiveguard-key": key.raw_key } });
    expect((await use(a)).status).toBe(200);
    expect((await use(b)).status).toBe(200); // cached on both
    expect((await clients(a).dash.del(`/dashboard/api/apikeys/${key.id}`)).status).toBe(204);
    // Revocation is published before the DELETE answers; b drops its cache when the message lands (ms).
    await expect.poll(async () => (await use(b)).status, { timeout: 1000, interval: 5 }).toBe(401);
    expect((await use(a)).status).toBe(401);
  });

  it("a proxy rule created, disabled and deleted on one instance applies on the other's proxy", async () => {
    const page = (server: TestServer) =>
      http(`${server.url}/status/health-check`, { headers: { accept: "application/json" } });
    expect((await page(b)).status).toBe(401); // GT pool exists: challenge required
    const created = await clients(a).dash.post("/dashboard/api/proxy-rules", {
      pattern: "/status/",
      match_type: "prefix",
      priority: 10,
    });
    expect(created.status).toBe(201);
    await expect.poll(async () => (await page(b)).status, { timeout: 2000, interval: 10 }).toBe(200);
    expect(
      (await clients(b).dash.patch(`/dashboard/api/proxy-rules/${created.body.id}`, { enabled: false }))
        .status,
    ).toBe(200);
    await expect.poll(async () => (await page(a)).status, { timeout: 2000, interval: 10 }).toBe(401);
    expect(
      (await clients(b).dash.patch(`/dashboard/api/proxy-rules/${created.body.id}`, { enabled: true }))
        .status,
    ).toBe(200);
    await expect.poll(async () => (await page(a)).status, { timeout: 2000, interval: 10 }).toBe(200);
    expect((await clients(b).dash.del(`/dashboard/api/proxy-rules/${created.body.id}`)).status).toBe(204);
    await expect.poll(async () => (await page(a)).status, { timeout: 2000, interval: 10 }).toBe(401);
  });

  it("a token lifetime set on one instance is used by tokens the other issues, which open the first one's proxy", async () => {
    expect((await clients(a).dash.post("/dashboard/api/config", { challenge_token_ttl: 1234 })).status).toBe(
      200,
    );
    const visitor = visitorOn(seeded.key);
    let token = "";
    await expect
      .poll(
        async () => {
          const { submitted } = await solve(visitor, b, b);
          token = submitted!.body.token;
          const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
          return claims.exp - claims.iat;
        },
        { timeout: 2000, interval: 10 },
      )
      .toBe(1234);
    const page = await http(`${a.url}/members`, {
      headers: {
        "user-agent": visitor.headers["user-agent"],
        accept: "application/json",
        "x-hiveguard-token": token,
      },
    });
    expect(page.status).toBe(200);
    expect(page.headers["x-upstream"]).toBe("yes");
  });

  it("consensus stays exact under concurrent voters spread over both instances", async () => {
    const outcomes: number[] = [];
    const voters = 60;
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < voters) {
          const i = next++;
          const { generated, submitted } = await solve(visitorOn(seeded.key), i % 2 ? a : b, i % 2 ? b : a);
          outcomes.push(generated.status, submitted?.status ?? 0);
        }
      }),
    );
    expect(outcomes.every((status) => status === 200)).toBe(true);

    const rows = await a.server.deps.db.prisma.$queryRawUnsafe<
      { data_ref: string; votes: number; label: string | null; label_votes: number | null; labels: number }[]
    >(
      `SELECT i.data_ref, (SELECT count(*) FROM votes v WHERE v.item_id = i.id)::int AS votes,
              l.label #>> '{}' AS label, l.vote_count AS label_votes,
              (SELECT count(*) FROM labels x WHERE x.item_id = i.id)::int AS labels
       FROM items i LEFT JOIN labels l ON l.item_id = i.id
       WHERE i.dataset_id = $1::uuid AND NOT i.is_gt`,
      seeded.datasetId,
    );
    // Every acknowledged vote is stored exactly once, and nothing else is.
    let total = 0;
    for (const row of rows) {
      const expected = acknowledged.get(row.data_ref) ?? 0;
      total += expected;
      expect({ ref: row.data_ref, votes: row.votes }).toEqual({ ref: row.data_ref, votes: expected });
      expect(row.labels).toBeLessThanOrEqual(1);
      if (row.labels === 1) {
        // One label per item, with the agreed answer, counting exactly the votes stored.
        expect({ ref: row.data_ref, label: row.label, votes: row.label_votes }).toEqual({
          ref: row.data_ref,
          label: answerOf.get(row.data_ref),
          votes: row.votes,
        });
      }
    }
    expect(total).toBeGreaterThan(40);
    expect(rows.filter((row) => row.labels === 1).length).toBe(4);
  });
});
