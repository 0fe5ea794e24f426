// A/B of hiveguard_generate: the previous six-argument function (one ground-truth item) against the
// composing one (issue 18), on the same data, interleaved, in-process PGlite or PostgreSQL (DATABASE_URL).
import { randomBytes, randomInt } from "node:crypto";
import pg from "pg";
import { IN_MEMORY, openDatabase } from "../src/platform/db.js";
import { createLogger } from "../src/platform/logger.js";

const log = createLogger("silent");
const databaseUrl = process.env.DATABASE_URL;
const schema = `ab_${randomBytes(6).toString("hex")}`;
const db = await openDatabase(
  databaseUrl ? { databaseUrl, schema, logger: log } : { dataDir: IN_MEMORY, logger: log },
);
const q = (sql: string, params?: unknown[]) => db.queryRows(sql, params);
try {
  const [[yesno]] = (await q(
    `INSERT INTO datasets (name, modality, challenge_type, choices) VALUES ('yn', 'image', 'image', '{yes,no}') RETURNING id::text`,
  )) as [[string]];
  const [[grid]] = (await q(
    `INSERT INTO datasets (name, modality, challenge_type, choices) VALUES ('g', 'image', 'grid_select', '{}') RETURNING id::text`,
  )) as [[string]];
  const [[choice]] = (await q(
    `INSERT INTO datasets (name, modality, challenge_type, choices) VALUES ('c', 'image', 'image', '{a,b,c,d}') RETURNING id::text`,
  )) as [[string]];
  await q(
    `INSERT INTO items (dataset_id, data_ref, modality, ground_truth, is_gt)
           SELECT $1::uuid, 'gt' || g, 'image', '"yes"'::jsonb, true FROM generate_series(1, 500) g`,
    [yesno],
  );
  await q(
    `INSERT INTO items (dataset_id, data_ref, modality, ground_truth, is_gt)
           SELECT $1::uuid, 'grid' || g, 'image', '[1,2]'::jsonb, true FROM generate_series(1, 100) g`,
    [grid],
  );
  await q(
    `INSERT INTO items (dataset_id, data_ref, modality, ground_truth, is_gt)
           SELECT $1::uuid, 'ch' || g, 'image', '"a"'::jsonb, true FROM generate_series(1, 100) g`,
    [choice],
  );
  await q(
    `INSERT INTO items (dataset_id, data_ref, modality)
           SELECT $1::uuid, 'u' || g, 'image' FROM generate_series(1, 20000) g`,
    [yesno],
  );
  await q("ANALYZE");
  const rnd = (n: number) => Array.from({ length: n }, () => randomInt(0, 2 ** 47) / 2 ** 47);
  const variants = {
    "before (6 args, one GT item), yes/no scope": () =>
      q(
        `SELECT * FROM hiveguard_generate($1::text[]::modality[], false, $2::uuid[], $3, '{}'::uuid[], $4::float8[])`,
        [["image", "text", "audio"], [yesno], `c${randomInt(0, 1e9)}`, rnd(12)],
      ),
    "after, yes/no-only scope (5 GT items)": () =>
      q(
        `SELECT * FROM hiveguard_generate($1::text[]::modality[], false, $2::uuid[], $3, '{}'::uuid[], $4::float8[], 0.05, 6)`,
        [["image", "text", "audio"], [yesno], `c${randomInt(0, 1e9)}`, rnd(14)],
      ),
    "before (6 args, one GT item), mixed scope": () =>
      q(
        `SELECT * FROM hiveguard_generate($1::text[]::modality[], false, $2::uuid[], $3, '{}'::uuid[], $4::float8[])`,
        [["image", "text", "audio"], [yesno, grid, choice], `c${randomInt(0, 1e9)}`, rnd(12)],
      ),
    "after, mixed scope (1 grid item)": () =>
      q(
        `SELECT * FROM hiveguard_generate($1::text[]::modality[], false, $2::uuid[], $3, '{}'::uuid[], $4::float8[], 0.05, 6)`,
        [["image", "text", "audio"], [yesno, grid, choice], `c${randomInt(0, 1e9)}`, rnd(14)],
      ),
  };
  const totals = new Map<string, number>();
  for (const fn of Object.values(variants)) for (let i = 0; i < 200; i++) await fn(); // warm up
  for (let round = 0; round < 10; round++) {
    for (const [name, fn] of Object.entries(variants)) {
      const t0 = performance.now();
      for (let i = 0; i < 200; i++) await fn();
      totals.set(name, (totals.get(name) ?? 0) + (performance.now() - t0));
    }
  }
  for (const [name, ms] of totals) console.log(`${name.padEnd(46)} ${(ms / 2000).toFixed(3)} ms per call`);
  console.log(`schema ${schema}`);
} finally {
  await db.close();
  if (databaseUrl && !process.env.KEEP) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}
