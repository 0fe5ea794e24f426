// The risk model: (1) synthetic traffic through the real API, a training run, ROC-AUC on held-out traffic;
// (2) scoring latency (one session) and batch-256 throughput through onnxruntime-node, as ratios to the
// same model evaluated in plain TypeScript in this run; (3) a training run on 100,000 sessions.
// Uses PostgreSQL (DATABASE_URL, default the local test database; a throwaway schema).
import { performance } from "node:perf_hooks";
import { FEATURE_COUNT, featureBatch, type SessionFeatures } from "../src/modules/guard/risk/features.js";
import { predict, predictOne, rocAuc, seededRandom } from "../src/modules/guard/risk/logistic.js";
import { OnnxRiskModel } from "../src/modules/guard/risk/onnx.js";
import { trainOnRows } from "../src/modules/guard/risk/service.js";
import { featureVector } from "../src/modules/guard/risk/features.js";
import {
  runTraffic,
  setUpTrafficSite,
  syntheticSessionFeatures,
  visitorProfiles,
} from "../test/support/traffic.js";
import { fmt, startBenchServer } from "./support.js";

const HUMANS = Number(process.env.BENCH_ML_HUMANS ?? 150);
const BOTS = Number(process.env.BENCH_ML_BOTS ?? 40);
const LARGE = Number(process.env.BENCH_ML_SESSIONS ?? 100_000);

async function json(url: string, auth: string, method = "GET") {
  const response = await fetch(url, { method, headers: { authorization: auth } });
  const body = (await response.json()) as any;
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function trainAndWait(base: string, auth: string): Promise<{ status: any; wallMs: number }> {
  const started = performance.now();
  await json(`${base}/dashboard/api/ml/train`, auth, "POST");
  for (;;) {
    const status = await json(`${base}/dashboard/api/ml/status`, auth);
    if (status.training.state !== "running") {
      if (status.training.state !== "completed")
        throw new Error(`training ${status.training.state}: ${status.training.error}`);
      return { status, wallMs: performance.now() - started };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export default async function main(): Promise<void> {
  const t = await startBenchServer();
  const ml = t.server.deps.services.ml;
  const prisma = t.server.deps.db.prisma;
  try {
    console.log(
      `ml bench: PostgreSQL, ${HUMANS} human + ${BOTS} bot visitors through the API (the machine may be shared)`,
    );

    // 1. Traffic through the API, training, held-out evaluation.
    const site = await setUpTrafficSite(t, { gt: 300, unknown: 1000 });
    let started = performance.now();
    const traffic = await runTraffic(t, site, visitorProfiles({ humans: HUMANS, bots: BOTS, seed: 21 }), {
      concurrency: 64,
    });
    console.log(`traffic: ${traffic.length} sessions in ${fmt((performance.now() - started) / 1000, 1)} s`);
    const { status } = await trainAndWait(t.url, t.dashboardAuth);
    const m = status.model.metrics;
    console.log(
      `model v${status.model.version} on ${status.model.trained_on} sessions: held-out (${m.test_sessions}) ` +
        `accuracy ${fmt(m.accuracy, 3)}, ROC-AUC ${fmt(m.roc_auc, 3)} (label: ground truth answered right), ` +
        `log-loss ${fmt(m.log_loss, 3)}, ONNX vs TS max |diff| ${m.onnx_max_abs_diff.toExponential(1)}`,
    );

    // Fresh traffic the model has never seen: does its score tell bots from humans?
    const since = new Date();
    await runTraffic(
      t,
      site,
      visitorProfiles({ humans: Math.ceil(HUMANS / 3), bots: Math.ceil(BOTS / 3), seed: 22 }),
      {
        concurrency: 64,
        seed: 23,
      },
    );
    const fresh = await prisma.challengeSession.findMany({
      where: { createdAt: { gte: since }, gtCorrect: { not: null } },
      select: { features: true, gtCorrect: true },
    });
    const freshFeatures = fresh.map((row) => row.features as SessionFeatures);
    const freshScores = (await ml.scoreBatch(featureBatch(freshFeatures)))!;
    // The generator's humans always send Accept-Language and its bots never do: that is the kind.
    const isHuman = freshFeatures.map((f) => (f.has_accept_language ? 1 : 0));
    const label = fresh.map((row) => (row.gtCorrect ? 1 : 0));
    console.log(
      `held-out traffic (${fresh.length} new sessions): ROC-AUC human vs bot ${fmt(rocAuc(freshScores, isHuman)!, 3)}, ` +
        `vs the training label ${fmt(rocAuc(freshScores, label)!, 3)}`,
    );

    // 2. Scoring: the served ONNX model against the same logistic model in TypeScript.
    const row = await prisma.riskModel.findFirstOrThrow({ orderBy: { version: "desc" } });
    const onnx = await OnnxRiskModel.load(row.onnx);
    const rows = await prisma.challengeSession.findMany({
      where: { gtCorrect: { not: null }, createdAt: { lt: since } },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { features: true, gtCorrect: true },
    });
    const x = Float64Array.from(rows.flatMap((r) => featureVector(r.features as SessionFeatures)));
    const y = Float64Array.from(rows, (r) => (r.gtCorrect ? 1 : 0));
    const tsModel = (await trainOnRows(x, y)).model; // deterministic: the same model the server exported
    const sample = freshFeatures.length > 0 ? freshFeatures : rows.map((r) => r.features as SessionFeatures);

    const single = async (label: string, fn: (f: SessionFeatures) => Promise<number> | number) => {
      for (let i = 0; i < 2000; i++) await fn(sample[i % sample.length]!); // warm-up
      const times: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        const s = performance.now();
        await fn(sample[i % sample.length]!);
        times.push(performance.now() - s);
      }
      times.sort((p, q) => p - q);
      return { label, p50: percentile(times, 0.5) * 1000, p99: percentile(times, 0.99) * 1000 };
    };
    const onnxSingle = await single(
      "onnxruntime-node",
      async (f) => (await onnx.score(featureBatch([f]), 1))[0]!,
    );
    const tsSingle = await single("TypeScript", (f) => predictOne(tsModel, featureVector(f)));
    const scorerSingle = await single("submit-path scorer", (f) => ml.scorer.score(f));
    console.log("one session (features → score), µs:");
    for (const r of [onnxSingle, tsSingle, scorerSingle])
      console.log(
        `  ${r.label.padEnd(20)} p50 ${fmt(r.p50, 1).padStart(7)}  p99 ${fmt(r.p99, 1).padStart(7)}`,
      );
    console.log(
      `  ratio onnx/TS: p50 ${fmt(onnxSingle.p50 / tsSingle.p50, 1)}x, p99 ${fmt(onnxSingle.p99 / tsSingle.p99, 1)}x`,
    );

    const batchRows = 256;
    const random = seededRandom(5);
    const batch = featureBatch(
      Array.from({ length: batchRows }, () =>
        syntheticSessionFeatures(random() < 0.5 ? "human" : "bot", random),
      ),
    );
    const throughput = async (fn: () => Promise<unknown> | unknown) => {
      for (let i = 0; i < 200; i++) await fn();
      const until = performance.now() + 2000;
      let batches = 0;
      while (performance.now() < until) {
        await fn();
        batches++;
      }
      return (batches * batchRows) / 2;
    };
    const onnxRate = await throughput(() => onnx.score(batch, batchRows));
    const tsRate = await throughput(() => predict(tsModel, batch, batchRows));
    console.log(
      `batches of 256: onnxruntime-node ${fmt(onnxRate)} sessions/s, TypeScript ${fmt(tsRate)} sessions/s, ` +
        `ratio ${fmt(onnxRate / tsRate, 2)}x`,
    );
    await onnx.release();

    // 3. Training on 100,000 sessions: rows written straight into challenge_sessions, then the real job.
    started = performance.now();
    const big = seededRandom(77);
    for (let done = 0; done < LARGE; done += 5000) {
      await prisma.challengeSession.createMany({
        data: Array.from({ length: Math.min(5000, LARGE - done) }, (_, i) => {
          const features = syntheticSessionFeatures(big() < 0.5 ? "human" : "bot", big);
          return {
            challengeId: `bench_${done + i}`,
            clientHash: `bench-${(done + i) % 5000}`,
            tier: 1,
            outcome: "passed" as const,
            gtCorrect: features.gt_correct as boolean,
            features,
          };
        }),
      });
    }
    console.log(
      `wrote ${fmt(LARGE)} synthetic sessions in ${fmt((performance.now() - started) / 1000, 1)} s`,
    );
    const large = await trainAndWait(t.url, t.dashboardAuth);
    const lm = large.status.model.metrics;
    console.log(
      `training on ${fmt(large.status.model.trained_on)} sessions: fit ${fmt(lm.training_ms)} ms ` +
        `(${lm.iterations} Newton steps), whole job (read, fit, export, store, load) ${fmt(large.wallMs)} ms; ` +
        `held-out ROC-AUC ${fmt(lm.roc_auc, 3)}, accuracy ${fmt(lm.accuracy, 3)}`,
    );
    // Reference in the same run: the same fit on the same rows in memory, no database.
    const memRandom = seededRandom(78);
    const memX = new Float64Array(LARGE * FEATURE_COUNT);
    const memY = new Float64Array(LARGE);
    for (let i = 0; i < LARGE; i++) {
      const f = syntheticSessionFeatures(memRandom() < 0.5 ? "human" : "bot", memRandom);
      memX.set(featureVector(f), i * FEATURE_COUNT);
      memY[i] = f.gt_correct ? 1 : 0;
    }
    started = performance.now();
    await trainOnRows(memX, memY);
    const memMs = performance.now() - started;
    console.log(
      `  the fit alone in memory (split, fit, evaluate): ${fmt(memMs)} ms; the job takes ${fmt(large.wallMs / memMs, 1)}x that`,
    );
  } finally {
    await t.close();
  }
}
