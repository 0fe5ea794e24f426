// Challenge round trips (generate + submit with the right ground truth, the vote recorded) per second,
// as ratios to two bare Fastify routes measured in the same run: reference A does one Redis SET and one GET;
// reference B (issue 20) one Redis GET + SET and one single-row INSERT committed per request, the cheapest
// durable web request there is.
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
import { runCrowd } from "./_crowd.js";
import { fmt, load } from "./_load.js";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const GT_ITEMS = 500;
/** BENCH_CROWD_ONLY=1: only the crowd (no upload of the big pool, no throughput measurements). */
const CROWD_ONLY = process.env.BENCH_CROWD_ONLY === "1";
const UNKNOWN_ITEMS = CROWD_ONLY ? 0 : 20_000;
/** Ground-truth items of the other answer types in the round trips' pool (a mixed pool, as deployments have). */
const GRID_GT_ITEMS = 100;
const CHOICE_GT_ITEMS = 100;

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
    ...(process.env.SUBMIT_BATCH_MAX_ROWS && { SUBMIT_BATCH_MAX_ROWS: process.env.SUBMIT_BATCH_MAX_ROWS }),
    ...(process.env.SUBMIT_BATCH_MAX_WAIT_US && {
      SUBMIT_BATCH_MAX_WAIT_US: process.env.SUBMIT_BATCH_MAX_WAIT_US,
    }),
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
  // Reference B: the same store round trip, plus one single-row INSERT committed per request (autocommit), on
  // the same database (PostgreSQL through a pool of its own, like a bare app; PGlite through its driver).
  await db.queryRows(
    "CREATE TABLE bench_reference_b (id bigserial PRIMARY KEY, k text NOT NULL, at timestamptz NOT NULL DEFAULT now())",
  );
  const refPool = databaseUrl
    ? new pg.Pool({ connectionString: databaseUrl, max: 10, options: `-c search_path="${schema}"` })
    : null;
  const insert = (k: string) =>
    refPool
      ? refPool.query("INSERT INTO bench_reference_b (k) VALUES ($1)", [k])
      : db.queryRows("INSERT INTO bench_reference_b (k) VALUES ($1)", [k]);
  bare.get("/ref-b", async () => {
    const key = `ref:${randomInt(0, 1000)}`;
    let v: string | null;
    if (state instanceof RedisStateStore) {
      v = await state.client.get(`${prefix}:${key}`);
      await state.client.set(`${prefix}:${key}`, "v");
    } else {
      v = await state.get(key);
      await state.set(key, "v");
    }
    await insert(key);
    return { v };
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
    const gt = new Map<string, string | number[]>();
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
    // The rest of a mixed ground-truth pool: 3 × 3 grids and 4-way choices (issue 18). With the default
    // max_guess_rate a challenge is then one grid (1/512) + the unknown item, as with one yes/no item before.
    const gridDataset = await services.datasets.create({
      name: "bench-grid",
      modality: "image",
      prompt: "Select the cats",
      challenge_type: "grid_select",
    });
    const choiceDataset = await services.datasets.create({
      name: "bench-choice",
      modality: "image",
      prompt: "Which animal?",
      choices: ["cat", "dog", "bird", "fish"],
    });
    const mixed: Record<string, unknown>[] = [];
    for (let i = 0; i < GRID_GT_ITEMS; i++) {
      const ref = `https://example.com/gt-grid/${i}.jpg`;
      gt.set(
        ref,
        [i % 9, (i + 4) % 9].sort((a, b) => a - b),
      );
      mixed.push({ dataset_id: gridDataset.id, data_ref: ref, modality: "image", ground_truth: gt.get(ref) });
    }
    for (let i = 0; i < CHOICE_GT_ITEMS; i++) {
      const ref = `https://example.com/gt-choice/${i}.jpg`;
      gt.set(ref, ["cat", "dog", "bird", "fish"][i % 4]!);
      mixed.push({
        dataset_id: choiceDataset.id,
        data_ref: ref,
        modality: "image",
        ground_truth: gt.get(ref),
      });
    }
    for (let i = 0; i < items.length; i += 1000) await services.items.upload(admin, items.slice(i, i + 1000));
    await services.items.upload(admin, mixed as never);
    // Table statistics, as autovacuum gathers them within a minute of an upload: without them the ladder's
    // plans read about three times as much (a cached plan is replaced when the statistics arrive).
    await db.queryRows("ANALYZE");
    const { raw_key: key } = await services.apiKeys.create({
      label: "bench",
      datasets: [dataset.id, gridDataset.id, choiceDataset.id],
      sample_rate: 1,
    });

    const roundTrip = async (userAgent: string, answer: (item: any) => string | number[], apiKey = key) => {
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
      return { ...result, items: challenge.items.length as number };
    };
    const human = (item: any) =>
      gt.get(item.data_ref) ?? (randomInt(0, 10) < 9 ? truth.get(item.data_ref)! : "yes");

    if (!CROWD_ONLY) {
      // Warm up both (JIT, connection pools, the widget of nothing).
      await load(async () => void (await fetch(`${bareUrl}/ref`)).text(), {
        concurrency: 4,
        durationMs: 1000,
      });
      await load((w, i) => roundTrip(`warm-${w}-${i}`, human).then(() => {}), {
        concurrency: 4,
        durationMs: 1000,
      });

      await load(async () => void (await fetch(`${bareUrl}/ref-b`)).text(), {
        concurrency: 4,
        durationMs: 1000,
      });
      const ref = await load(async () => void (await (await fetch(`${bareUrl}/ref`)).text()), {
        concurrency: CONCURRENCY,
        durationMs: DURATION_MS,
      });
      const refB = await load(async () => void (await (await fetch(`${bareUrl}/ref-b`)).text()), {
        concurrency: CONCURRENCY,
        durationMs: DURATION_MS,
      });
      const writesBefore = services.challenges.writer.stats();
      const votesBefore = await db.prisma.vote.count();
      let failedHumans = 0;
      let itemsServed = 0;
      const trips = await load(
        async (w, i) => {
          const result = await roundTrip(`bench-${w}-${i}`, human);
          if (!result.passed) failedHumans++;
          itemsServed += result.items;
        },
        { concurrency: CONCURRENCY, durationMs: DURATION_MS },
      );
      const recorded = (await db.prisma.vote.count()) - votesBefore;
      const writesAfter = services.challenges.writer.stats();

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
            responses: challenge.items.map((item) => ({ item_id: item.id, answer: human(item) as never })),
          });
          if (!result.passed) failedHumans++;
        },
        { concurrency: CONCURRENCY, durationMs: DURATION_MS },
      );

      console.log(`reference A (bare Fastify, 1 SET + 1 GET)            ${fmt(ref, "req")}`);
      console.log(`reference B (bare Fastify, GET + SET + 1 INSERT commit) ${fmt(refB, "req")}`);
      console.log(`challenge  (generate + submit + vote)               ${fmt(trips, "rt ")}`);
      console.log(`  the same as service calls, no HTTP                ${fmt(direct, "rt ")}`);
      console.log(
        `ratio: ${(trips.perSec / ref.perSec).toFixed(3)}× reference A (target ≥ 0.15×), ` +
          `${(trips.perSec / refB.perSec).toFixed(3)}× reference B (target ≥ 0.6×); ` +
          `p99 ${trips.p99.toFixed(1)} ms against ${ref.p99.toFixed(1)} (A) and ${refB.p99.toFixed(1)} ms (B)`,
      );
      const batchWrites = writesAfter.writes - writesBefore.writes;
      console.log(
        `group commit over HTTP: ${writesAfter.rows - writesBefore.rows} submits in ${batchWrites} writes ` +
          `(${((writesAfter.rows - writesBefore.rows) / Math.max(1, batchWrites)).toFixed(2)} per transaction; ` +
          `SUBMIT_BATCH_MAX_ROWS ${config.submitBatch.maxRows}, SUBMIT_BATCH_MAX_WAIT_US ${config.submitBatch.maxWaitUs})`,
      );
      console.log(
        `votes recorded during the run: ${recorded} of ${trips.ops} round trips; humans failed: ${failedHumans}; ` +
          `${(itemsServed / Math.max(1, trips.ops)).toFixed(2)} items per challenge (mixed pool, max_guess_rate 0.05)`,
      );
    }

    // The crowd (issue 18): humans and bots on a mixed ground-truth pool, escalation, labels with bots.
    await runCrowd({ services, db, config, admin });

    // The books: every vote in exactly one item's count; every label's counts equal its item's votes.
    const [books] = await db.prisma.$queryRaw<any[]>`
      SELECT (SELECT count(*)::int FROM votes) AS votes,
             (SELECT coalesce(sum(vote_count), 0)::int FROM items) AS item_votes,
             (SELECT count(*)::int FROM labels) AS labels,
             (SELECT count(*)::int FROM labels l JOIN items i ON i.id = l.item_id
                WHERE l.vote_count <> i.vote_count OR l.solver_count <> i.vote_count) AS label_mismatches,
             (SELECT count(*)::int FROM labels l JOIN items i ON i.id = l.item_id
                WHERE l.label #>> '{}' = 'yes') AS yes_labels`;
    console.log(
      `books: ${books.votes} votes, ${books.item_votes} counted on items (${books.votes === books.item_votes ? "OK" : "MISMATCH"}); ` +
        `${books.labels} labels, ${books.label_mismatches} with counts off`,
    );
  } finally {
    await bare.close();
    await refPool?.end();
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
