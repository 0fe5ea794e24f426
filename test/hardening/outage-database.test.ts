/**
 * Database outage: HiveGuard reaches PostgreSQL through a TCP proxy this test owns, which it cuts (every
 * connection dropped, new ones refused) under traffic and then restores. While the database is away: no hang,
 * no crash, no 500: what needs the database answers 503 {"detail"} with Retry-After on REST, tRPC and GraphQL;
 * readiness names the database; visitors holding a token still reach the site. Afterwards the same process
 * serves again by itself, and every vote that was acknowledged is in the database.
 * Needs PostgreSQL (DATABASE_URL, else the local default server); skipped only where PostgreSQL is not installed.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answersFor, configure, type Seeded, seed } from "../guard/challenge-helpers.js";
import { startUpstream, type Upstream } from "../proxy/helpers.js";
import {
  expectAcknowledgedVotesStored,
  hasBinary,
  requestWithin,
  startTcpProxy,
  type TcpProxy,
} from "../support/outage.js";
import { startTestServer, type TestServer } from "../support/server.js";

const POSTGRES_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const POSTGRES = Boolean(process.env.DATABASE_URL) || hasBinary("pg_isready") || hasBinary("postgres");
const HANG_MS = 20_000;

let proxy: TcpProxy;
let upstream: Upstream;
let t: TestServer;
let seeded: Seeded;
const acknowledged = new Map<string, number>();

const request = (path: string, init: RequestInit = {}) => requestWithin(HANG_MS, `${t.url}${path}`, init);

async function round(userAgent = `voter-${randomBytes(6).toString("hex")}`) {
  const headers = { "x-hiveguard-key": seeded.key, "user-agent": userAgent };
  const generated = await request("/api/v1/challenge/generate", { headers });
  if (generated.status !== 200)
    return { generate: generated.status, body: generated.body, headers: generated.headers };
  const unknown = generated.body.items.find((item: any) => !seeded.gt.has(item.data_ref));
  const submitted = await request("/api/v1/challenge/submit", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(answersFor(generated.body, seeded)),
  });
  if (submitted.status === 200 && submitted.body.passed === true && unknown) {
    acknowledged.set(unknown.data_ref, (acknowledged.get(unknown.data_ref) ?? 0) + 1);
  }
  return {
    generate: 200,
    submit: submitted.status,
    body: submitted.body,
    headers: submitted.headers,
    token: submitted.body.token as string | null,
  };
}

async function traffic(count: number, concurrency = 4) {
  const results: Awaited<ReturnType<typeof round>>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) results.push(await round());
    }),
  );
  return results;
}

describe.skipIf(!POSTGRES)(
  "database outage (PostgreSQL behind a TCP proxy the test owns)",
  { timeout: 120_000 },
  () => {
    beforeAll(async () => {
      proxy = await startTcpProxy(POSTGRES_URL, 5432);
      upstream = await startUpstream();
      // Submits wait up to 50 ms for company when the writer is idle, so the mid-batch case gets one batch.
      t = await startTestServer({
        databaseUrl: proxy.url,
        env: { TARGET_URL: upstream.url, SUBMIT_BATCH_MAX_WAIT_US: "50000" },
      });
      await configure(t, { consensus_min_votes: 1000 });
      seeded = await seed(t, { gt: 10, unknown: 200 });
    }, 120_000);

    afterAll(async () => {
      await proxy?.restore().catch(() => {});
      await t?.close();
      await upstream?.close();
      await proxy?.stop();
    });

    it("cut under traffic: 503 {detail} + Retry-After everywhere the database is needed, readiness unready, tokens still pass", async () => {
      const holderUa = "db-outage-token-holder/1.0";
      const holder = await round(holderUa);
      expect(holder.submit).toBe(200);
      const tokenHeaders = {
        "user-agent": holderUa,
        "x-hiveguard-token": holder.token!,
        accept: "application/json",
      };

      const running = traffic(40, 4);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await proxy.cut();
      const during = await traffic(8, 2);
      const all = [...(await running), ...during];
      for (const result of all) {
        for (const status of [result.generate, result.submit ?? result.generate])
          expect([200, 503]).toContain(status);
      }
      for (const result of during) {
        expect(result.generate === 503 || result.submit === 503).toBe(true);
        expect(result.body).toEqual({ detail: "Service temporarily unavailable, try again shortly" });
        expect(result.headers.get("retry-after")).toBe("5");
      }

      const ready = await request("/api/v1/ready", { headers: { authorization: t.dashboardAuth } });
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ detail: "Not ready: database not answering" });
      const anonymous = await request("/api/v1/ready");
      expect([anonymous.status, anonymous.body]).toEqual([503, { detail: "Not ready" }]);

      const auth = { authorization: t.dashboardAuth };
      const rest = await request("/dashboard/api/item-datasets", { headers: auth });
      expect(rest.status).toBe(503);
      expect(rest.body.detail).toMatch(/unavailable/);
      const rpc = await request("/trpc/guard.datasets.list", { headers: auth });
      expect(rpc.status).toBe(503);
      const gql = await request("/graphql", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ query: "{ __schema { queryType { name } } }" }),
      });
      expect(gql.status).toBe(200);
      const exportRes = await request(
        `/dashboard/api/item-datasets/${seeded.datasetId}/labeled/export?fmt=json`,
        {
          headers: auth,
        },
      );
      expect(exportRes.status).toBe(503);
      const items = await request("/api/v1/data/items", { headers: { "x-hiveguard-key": seeded.key } });
      expect(items.status).toBe(503);
      // Runtime config lives in the state store: still served.
      expect((await request("/dashboard/api/config", { headers: auth })).status).toBe(200);
      // The proxy decides from memory (rules, GT pool, token check): the site stays reachable for token holders.
      const proxied = await request("/a/page", { headers: tokenHeaders });
      expect(proxied.status).toBe(200);
      expect(proxied.headers.get("x-upstream")).toBe("yes");

      await proxy.restore();
    });

    it("recovers without a restart, and no acknowledged vote is lost", async () => {
      await expect.poll(async () => (await request("/api/v1/ready")).status, { timeout: 30_000 }).toBe(200);
      const after = await traffic(10, 2);
      expect(after.map((r) => [r.generate, r.submit])).toEqual(after.map(() => [200, 200]));

      const total = await expectAcknowledgedVotesStored(
        t.server.deps.db.prisma,
        seeded.datasetId,
        acknowledged,
      );
      expect(total).toBeGreaterThan(10);
    });

    it("cut mid-batch: every submit of the batch answers 503, none is acknowledged, nothing of the batch is written", async () => {
      await expect.poll(async () => (await request("/api/v1/ready")).status, { timeout: 30_000 }).toBe(200);
      const schema = `"${t.shared.dbSchema ?? "public"}"`;
      const direct = new pg.Client({ connectionString: POSTGRES_URL });
      const watcher = new pg.Client({ connectionString: POSTGRES_URL });
      await direct.connect();
      await watcher.connect();
      try {
        const visitors = Array.from({ length: 5 }, (_, i) => ({
          "x-hiveguard-key": seeded.key,
          "user-agent": `batch-voter-${i}-${randomBytes(6).toString("hex")}`,
        }));
        const generated = await Promise.all(
          visitors.map((headers) => request("/api/v1/challenge/generate", { headers })),
        );
        expect(generated.map((g) => g.status)).toEqual(visitors.map(() => 200));
        const books = async () =>
          (
            await direct.query(`SELECT (SELECT count(*) FROM ${schema}.challenge_sessions)::int AS sessions,
                (SELECT count(*) FROM ${schema}.votes)::int AS votes,
                (SELECT coalesce(sum(vote_count), 0) FROM ${schema}.items)::int AS counted,
                (SELECT count(*) FROM ${schema}.solvers)::int AS solvers,
                (SELECT coalesce(sum(gt_total), 0) FROM ${schema}.solvers)::int AS gt_total`)
          ).rows[0];
        const before = await books();
        const writer = t.server.deps.services.challenges.writer;
        const statsBefore = writer.stats();

        // Hold every item of the dataset: the batch writes its session rows and solvers' records, then waits
        // for the items it votes on.
        await direct.query("BEGIN");
        await direct.query(`SELECT 1 FROM ${schema}.items WHERE dataset_id = $1 FOR UPDATE`, [
          seeded.datasetId,
        ]);
        const submits = visitors.map((headers, i) =>
          request("/api/v1/challenge/submit", {
            method: "POST",
            headers: { ...headers, "content-type": "application/json" },
            body: JSON.stringify(answersFor(generated[i]!.body, seeded)),
          }),
        );
        let pid = 0;
        await expect
          .poll(
            async () => {
              const waiting = await watcher.query(
                `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock'
                   AND query LIKE '%hiveguard_submit_batch%'`,
              );
              pid = waiting.rows[0]?.pid ?? 0;
              return pid;
            },
            { timeout: 20_000 },
          )
          .not.toBe(0);
        // The database goes away mid-batch: connections dropped, the half-done transaction killed.
        await proxy.cut();
        await watcher.query("SELECT pg_terminate_backend($1)", [pid]);
        await direct.query("ROLLBACK");

        const answers = await Promise.all(submits);
        expect(answers.map((a) => a.status)).toEqual(visitors.map(() => 503));
        for (const answer of answers) {
          expect(answer.body).toEqual({ detail: "Service temporarily unavailable, try again shortly" });
          expect(answer.headers.get("retry-after")).toBe("5");
        }
        const statsAfter = writer.stats();
        expect(statsAfter.rows - statsBefore.rows).toBe(5);
        expect(statsAfter.writes - statsBefore.writes).toBeLessThan(5); // submits shared a write

        await proxy.restore();
        expect(await books()).toEqual(before);
        const ids = generated.map((g) => g.body.challenge_id as string);
        const sessions = await direct.query(
          `SELECT count(*)::int AS n FROM ${schema}.challenge_sessions WHERE challenge_id = ANY($1)`,
          [ids],
        );
        expect(sessions.rows[0].n).toBe(0);
        await expect.poll(async () => (await request("/api/v1/ready")).status, { timeout: 30_000 }).toBe(200);
        expect((await round()).submit).toBe(200);
      } finally {
        await direct.query("ROLLBACK").catch(() => {});
        await direct.end();
        await watcher.end();
      }
    });
  },
);
