// Item upload: 100,000 items through POST /api/v1/data/items in batches of 1,000 (as the CLI sends them),
// against one `INSERT ... SELECT` of the same rows in the same run. Reports items/s and the ratio.
import { fmt, startBenchServer } from "./support.js";

const ITEMS = Number(process.env.BENCH_UPLOAD_ITEMS ?? 100_000);
const BATCH = 1000;

export async function run(): Promise<void> {
  const bench = await startBenchServer();
  try {
    const { datasets, apiKeys } = bench.server.deps.services;
    const prisma = bench.server.deps.db.prisma;
    const viaApi = await datasets.create({ name: "Via API", modality: "image" });
    const viaSql = await datasets.create({ name: "Via SQL", modality: "image" });
    const key = await apiKeys.create({ label: "bench", datasets: [], sample_rate: 1 });
    const batches = Array.from({ length: Math.ceil(ITEMS / BATCH) }, (_, b) =>
      JSON.stringify({
        items: Array.from({ length: Math.min(BATCH, ITEMS - b * BATCH) }, (_, i) => ({
          dataset_id: viaApi.id,
          data_ref: `https://cdn.example.com/images/${b * BATCH + i}.jpg`,
          modality: "image",
        })),
      }),
    );
    const post = async (body: string) => {
      const res = await fetch(`${bench.url}/api/v1/data/items`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hiveguard-key": key.raw_key },
        body,
      });
      if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    };
    // Warm-up (JIT, connections, plans) on a throwaway dataset's worth of one batch.
    await post(batches[0]!.replaceAll(viaApi.id, viaSql.id));

    let started = performance.now();
    await prisma.$executeRawUnsafe(
      `INSERT INTO items (dataset_id, data_ref, modality)
       SELECT $1::uuid, 'https://cdn.example.com/images/' || g || '.jpg', 'image' FROM generate_series(1, $2::int) g`,
      viaSql.id,
      ITEMS,
    );
    const sqlSec = (performance.now() - started) / 1000;

    started = performance.now();
    for (const body of batches) await post(body);
    const apiSec = (performance.now() - started) / 1000;

    const stored = await prisma.item.count({ where: { datasetId: viaApi.id } });
    if (stored !== ITEMS) throw new Error(`expected ${ITEMS} items, found ${stored}`);
    console.log(`items:                        ${fmt(ITEMS)} (batches of ${fmt(BATCH)}, sequential)`);
    console.log(`INSERT ... SELECT:            ${fmt(sqlSec, 2)} s  ${fmt(ITEMS / sqlSec)} items/s`);
    console.log(`POST /api/v1/data/items:      ${fmt(apiSec, 2)} s  ${fmt(ITEMS / apiSec)} items/s`);
    console.log(`ratio:                        ${fmt(sqlSec / apiSec, 2)}× of INSERT ... SELECT`);
  } finally {
    await bench.close();
  }
}
