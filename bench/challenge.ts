// Challenge round trips (generate + submit with the right ground truth, the vote recorded) per second,
// as a ratio to a bare Fastify route doing one Redis SET and one GET, both measured in this run.
// Then a crowd of simulated humans and bots, with the books balanced at the end.
// Uses DATABASE_URL (a throwaway schema) and REDIS_URL (a throwaway prefix) when set; otherwise embedded
// PGlite and the in-process store (and the reference route uses the in-process store too).
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import pg from "pg";
import { loadConfig } from "../src/config.js";
import type { ApiKeyPrincipal } from "../src/platform/auth.js";
import { IN_MEMORY, openDatabase } from "../src/platform/db.js";
import { createLogger } from "../src/platform/logger.js";
import { createStateStore, RedisStateStore } from "../src/platform/state/index.js";
import { createServer } from "../src/server.js";
import { fmt, load } from "./_load.js";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const GT_ITEMS = 500;
const UNKNOWN_ITEMS = 20_000;
const CROWD_GT_ITEMS = 50;
const CROWD_UNKNOWN_ITEMS = 60;

export default async function main(): Promise<void> {
  const log = createLogger("silent");
  const databaseUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  const prefix = `bench-${randomBytes(6).toString("hex")}`;
  const dataDir = mkdtempSync(join(tmpdir(), "hiveguard-bench-"));
  console.log(
    `challenge bench: ${databaseUrl ? "PostgreSQL" : "PGlite"} + ${redisUrl ? "Redis" : "in-process state"}, ` +
      `${CONCURRENCY} concurrent clients, ${DURATION_MS / 1000} s per measurement`,
  );

  const db = await openDatabase(
    databaseUrl ? { databaseUrl, schema, logger: log } : { dataDir: IN_MEMORY, logger: log },
  );
  const state = await createStateStore({ redisUrl, prefix, logger: log });
  const config = loadConfig({
    NODE_ENV: "test",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DASHBOARD_USERNAME: "admin",
    DASHBOARD_PASSWORD: randomBytes(12).toString("hex"),
    HIVEGUARD_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
  });
  const server = await createServer({ config, log, db, state });
  const url = await server.app.listen({ host: "127.0.0.1", port: 0 });
  const services = server.deps.services;

  // The reference: a bare Fastify route, one SET and one GET on the same store.
  const bare = Fastify();
  bare.get("/ref", async () => {
    const key = `ref:${randomInt(0, 1000)}`;
    if (state instanceof RedisStateStore) {
      await state.client.set(`${prefix}:${key}`, "v");
      return { v: await state.client.get(`${prefix}:${key}`) };
    }
    await state.set(key, "v");
    return { v: await state.get(key) };
  });
  const bareUrl = await bare.listen({ host: "127.0.0.1", port: 0 });

  try {
    await services.runtimeConfig.update({
      challenge_rate_limit_ip: 1_000_000,
      challenge_rate_limit_key: 10_000_000,
    });
    const dataset = await services.datasets.create({ name: "bench", modality: "image", prompt: "A cat?" });
    const admin: ApiKeyPrincipal = {
      kind: "apiKey",
      keyId: "bench",
      datasets: [],
      sampleRate: 1,
      scopes: ["challenge", "data:read", "data:write"],
    };
    const gt = new Map<string, string>();
    const items = [];
    for (let i = 0; i < GT_ITEMS; i++) {
      const ref = `https://example.com/gt/${i}.jpg`;
      gt.set(ref, i % 2 ? "yes" : "no");
      items.push({
        dataset_id: dataset.id,
        data_ref: ref,
        modality: "image" as const,
        ground_truth: gt.get(ref),
      });
    }
    // Hidden truth of the unknown items, for the crowd simulation.
    const truth = new Map<string, string>();
    for (let i = 0; i < UNKNOWN_ITEMS; i++) {
      const ref = `https://example.com/unknown/${i}.jpg`;
      truth.set(ref, randomInt(0, 2) ? "yes" : "no");
      items.push({ dataset_id: dataset.id, data_ref: ref, modality: "image" as const });
    }
    // The crowd's own small dataset, so that its items gather enough votes for labels within seconds.
    const crowdDataset = await services.datasets.create({
      name: "crowd",
      modality: "image",
      prompt: "A dog?",
    });
    for (let i = 0; i < CROWD_GT_ITEMS; i++) {
      const ref = `https://example.com/crowd-gt/${i}.jpg`;
      gt.set(ref, i % 2 ? "yes" : "no");
      items.push({
        dataset_id: crowdDataset.id,
        data_ref: ref,
        modality: "image" as const,
        ground_truth: gt.get(ref),
      });
    }
    for (let i = 0; i < CROWD_UNKNOWN_ITEMS; i++) {
      const ref = `https://example.com/crowd/${i}.jpg`;
      truth.set(ref, randomInt(0, 2) ? "yes" : "no");
      items.push({ dataset_id: crowdDataset.id, data_ref: ref, modality: "image" as const });
    }
    for (let i = 0; i < items.length; i += 1000) await services.items.upload(admin, items.slice(i, i + 1000));
    // Table statistics, as autovacuum gathers them within a minute of an upload: without them the ladder's
    // plans read about three times as much (a cached plan is replaced when the statistics arrive).
    await db.queryRows("ANALYZE");
    const { raw_key: key } = await services.apiKeys.create({
      label: "bench",
      datasets: [dataset.id],
      sample_rate: 1,
    });
    const { raw_key: crowdKey } = await services.apiKeys.create({
      label: "crowd",
      datasets: [crowdDataset.id],
      sample_rate: 1,
    });

    const roundTrip = async (userAgent: string, answer: (item: any) => string, apiKey = key) => {
      const headers = { "x-hiveguard-key": apiKey, "user-agent": userAgent };
      const gen = await fetch(`${url}/api/v1/challenge/generate`, { headers });
      if (gen.status !== 200) throw new Error(`generate ${gen.status}`);
      const challenge = (await gen.json()) as any;
      const res = await fetch(`${url}/api/v1/challenge/submit`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({
          challenge_id: challenge.challenge_id,
          responses: challenge.items.map((item: any) => ({ item_id: item.id, answer: answer(item) })),
        }),
      });
      if (res.status !== 200) throw new Error(`submit ${res.status}`);
      const result = (await res.json()) as { passed: boolean };
      return { ...result, voted: result.passed && challenge.items.length === 2 };
    };
    const human = (item: any) =>
      gt.get(item.data_ref) ?? (randomInt(0, 10) < 9 ? truth.get(item.data_ref)! : "yes");
    const bot = () => (randomInt(0, 2) ? "yes" : "no");

    // Warm up both (JIT, connection pools, the widget of nothing).
    await load(async () => void (await fetch(`${bareUrl}/ref`)).text(), { concurrency: 4, durationMs: 1000 });
    await load((w, i) => roundTrip(`warm-${w}-${i}`, human).then(() => {}), {
      concurrency: 4,
      durationMs: 1000,
    });

    const ref = await load(async () => void (await (await fetch(`${bareUrl}/ref`)).text()), {
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS,
    });
    const votesBefore = await db.prisma.vote.count();
    let failedHumans = 0;
    const trips = await load(
      async (w, i) => {
        if (!(await roundTrip(`bench-${w}-${i}`, human)).passed) failedHumans++;
      },
      { concurrency: CONCURRENCY, durationMs: DURATION_MS },
    );
    const recorded = (await db.prisma.vote.count()) - votesBefore;

    // The same round trips as direct service calls, without HTTP: what the engine itself costs.
    const { keyId } = (await services.apiKeys.verify(key))!;
    const direct = await load(
      async (w, i) => {
        const who = {
          keyId,
          scope: null,
          sampleRate: 1,
          client: { ip: "127.0.0.1", userAgent: `direct-${w}-${i}` },
          headers: {},
        };
        const generated = await services.challenges.generate(who);
        if (generated.kind !== "challenge") throw new Error(`generate: ${generated.reason}`);
        const { challenge } = generated;
        const result = await services.challenges.submit(who, {
          challenge_id: challenge.challenge_id,
          responses: challenge.items.map((item) => ({ item_id: item.id, answer: human(item) })),
        });
        if (!result.passed) failedHumans++;
      },
      { concurrency: CONCURRENCY, durationMs: DURATION_MS },
    );

    console.log(`reference  (bare Fastify, 1 SET + 1 GET)  ${fmt(ref, "req")}`);
    console.log(`challenge  (generate + submit + vote)     ${fmt(trips, "rt ")}`);
    console.log(`  the same as service calls, no HTTP      ${fmt(direct, "rt ")}`);
    console.log(
      `ratio: ${(trips.perSec / ref.perSec).toFixed(3)}× round trips per reference request ` +
        `(${((2 * trips.perSec) / ref.perSec).toFixed(3)}× counting HTTP requests; target ≥ 0.3×)`,
    );
    console.log(
      `votes recorded during the run: ${recorded} of ${trips.ops} round trips; humans failed: ${failedHumans}`,
    );

    // The crowd, on its own small dataset: humans (right ground truth, 90 % right on unknown items) and bots
    // (random answers), half and half.
    const crowd = { humans: { passed: 0, total: 0 }, bots: { passed: 0, total: 0 }, voted: 0 };
    const votesBeforeCrowd = await db.prisma.vote.count();
    await load(
      async (w, i) => {
        const who = i % 2 ? "bots" : "humans";
        const result = await roundTrip(`crowd-${w}-${i}`, who === "bots" ? bot : human, crowdKey);
        crowd[who].total++;
        if (result.passed) crowd[who].passed++;
        if (result.voted) crowd.voted++;
      },
      { concurrency: CONCURRENCY, durationMs: 4000 },
    );
    const crowdVotes = (await db.prisma.vote.count()) - votesBeforeCrowd;
    const pct = (g: { passed: number; total: number }) => ((100 * g.passed) / g.total).toFixed(1);
    console.log(
      `crowd: humans passed ${crowd.humans.passed}/${crowd.humans.total} (${pct(crowd.humans)} %), ` +
        `bots passed ${crowd.bots.passed}/${crowd.bots.total} (${pct(crowd.bots)} %, ground-truth guess rate 50 %)`,
    );
    console.log(
      `crowd votes recorded: ${crowdVotes} = passed round trips with an unknown item ${crowd.voted}: ` +
        `${crowdVotes === crowd.voted ? "OK" : "MISMATCH"}`,
    );
    const states = await db.prisma.item.groupBy({
      by: ["state"],
      where: { datasetId: crowdDataset.id, dataRef: { startsWith: "https://example.com/crowd/" } },
      _count: true,
    });
    const crowdLabels = await db.prisma.label.findMany({
      where: { datasetId: crowdDataset.id },
      include: { item: { select: { dataRef: true, state: true } } },
    });
    const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
    console.log(
      `crowd items: ${states.map((row) => `${row._count} ${row.state}`).join(", ")}; ` +
        `${crowdLabels.length} labels, mean confidence ${mean(crowdLabels.map((l) => l.confidence)).toFixed(2)} ` +
        `(reliability-weighted ${mean(crowdLabels.map((l) => l.weightedConfidence ?? 0)).toFixed(2)}), ` +
        `mean solvers ${mean(crowdLabels.map((l) => l.solverCount)).toFixed(1)}; ` +
        `${crowdLabels.filter((l) => truth.get(l.item.dataRef) === l.label).length}/${crowdLabels.length} match the hidden truth`,
    );

    // The books: every vote in exactly one item's count; every label's counts equal its item's votes.
    const [books] = await db.prisma.$queryRaw<any[]>`
      SELECT (SELECT count(*)::int FROM votes) AS votes,
             (SELECT coalesce(sum(vote_count), 0)::int FROM items) AS item_votes,
             (SELECT count(*)::int FROM labels) AS labels,
             (SELECT count(*)::int FROM labels l JOIN items i ON i.id = l.item_id
                WHERE l.vote_count <> i.vote_count OR l.solver_count <> i.vote_count) AS label_mismatches,
             (SELECT count(*)::int FROM labels l JOIN items i ON i.id = l.item_id
                WHERE l.label #>> '{}' = 'yes') AS yes_labels`;
    const correct = await db.prisma.label.findMany({ include: { item: { select: { dataRef: true } } } });
    const right = correct.filter((l) => truth.get(l.item.dataRef) === l.label).length;
    console.log(
      `books: ${books.votes} votes, ${books.item_votes} counted on items (${books.votes === books.item_votes ? "OK" : "MISMATCH"}); ` +
        `${books.labels} labels, ${books.label_mismatches} with counts off; ${right}/${correct.length} labels match the hidden truth`,
    );
  } finally {
    await bare.close();
    await server.close();
    if (state instanceof RedisStateStore && state.client.isReady) {
      for await (const keys of state.client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 }))
        if (keys.length > 0) await state.client.del(keys);
    }
    await state.close();
    await db.close();
    if (databaseUrl) {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}
