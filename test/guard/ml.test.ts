// The risk model end to end: synthetic traffic through the real API, training on request, ONNX scoring in
// the submit path, uploads, and a second instance picking the model up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEATURE_COUNT, featureVector, type SessionFeatures } from "../../src/modules/guard/risk/features.js";
import { predict } from "../../src/modules/guard/risk/logistic.js";
import { exportLogisticOnnx, OnnxRiskModel } from "../../src/modules/guard/risk/onnx.js";
import { trainOnRows } from "../../src/modules/guard/risk/service.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runTraffic, setUpTrafficSite, type TrafficSite, visitorProfiles } from "../support/traffic.js";
import { call, clients } from "./helpers.js";
import { sklearnStyleOnnx } from "./ml-onnx-helpers.js";

const THRESHOLD = 0.6;
let a: TestServer;
let b: TestServer;
let site: TrafficSite;

async function status(t: TestServer) {
  const res = await clients(t).dash.get("/dashboard/api/ml/status");
  expect(res.status).toBe(200);
  return res.body;
}

async function waitForTraining(t: TestServer) {
  for (let i = 0; i < 600; i++) {
    const s = await status(t);
    if (s.training.state !== "running") return s;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("training did not finish within a minute");
}

function upload(t: TestServer, body: Uint8Array | string, contentType = "application/octet-stream") {
  return call(t, "/dashboard/api/ml/models", {
    method: "POST",
    headers: { authorization: t.dashboardAuth, "content-type": contentType },
    body: body as BodyInit,
  });
}

/** Guessing bots: right 1 time in 4, and then they pass on ground truth alone unless the risk model stops them. */
const guessingBots = (seed: number) => visitorProfiles({ humans: 0, bots: 4, seed, sessions: 8 });
const freshHumans = (seed: number) =>
  visitorProfiles({ humans: 8, bots: 0, seed, timeScale: 1, sessions: 1 }).map((p) => ({
    ...p,
    accuracy: 1,
  }));

beforeAll(async () => {
  a = await startTestServer();
  site = await setUpTrafficSite(a, { gt: 200, unknown: 300 });
  const res = await clients(a).dash.post("/dashboard/api/config", { risk_threshold: THRESHOLD });
  expect(res.status).toBe(200);
}, 60_000);
afterAll(async () => {
  await b?.close();
  await a?.close();
});

/**
 * Bots' lucky guesses are refused. Without a model every lucky guess passes; with one, at most one in a run
 * may, and never the only one: a loaded machine stretches a bot's answer time (measured by the server from
 * generate to submit) toward a human's, one of the model's strongest signals.
 */
function expectBotsRefused(bots: { gtCorrect: boolean; passed: boolean }[]): void {
  const lucky = bots.filter((r) => r.gtCorrect).length;
  expect(lucky).toBeGreaterThan(0);
  expect(bots.filter((r) => r.passed).length).toBeLessThanOrEqual(Math.min(1, lucky - 1));
}

describe("risk model", () => {
  it("reports no model, scores 1.0 (lucky bot guesses pass) and refuses training under 100 sessions", async () => {
    const before = await status(a);
    expect(before).toMatchObject({
      model_ready: false,
      last_trained: null,
      model: null,
      min_sessions_to_train: 100,
      training: { state: "idle", progress: 0, error: null },
    });

    const bots = await runTraffic(a, site, guessingBots(11));
    // Without a model every response scores 1.0: a bot's lucky guesses get tokens.
    expect(bots.filter((r) => r.gtCorrect).length).toBeGreaterThan(0);
    expect(bots.every((r) => r.passed === r.gtCorrect)).toBe(true);

    const res = await clients(a).dash.post("/dashboard/api/ml/train", undefined);
    expect(res.status).toBe(422);
    expect(res.body.detail[0].msg).toMatch(
      /at least 100 labeled sessions .*there are 32, so 68 more are needed/,
    );
    const after = await status(a);
    expect(after.sessions_with_features).toBe(32);
    expect(after.labeled_sessions).toBe(32);
  }, 30_000);

  it("trains on synthetic traffic; afterwards bots are refused tokens and humans are not", async () => {
    const traffic = await runTraffic(a, site, visitorProfiles({ humans: 60, bots: 18, seed: 3 }), {
      concurrency: 40,
    });
    expect(traffic.length).toBeGreaterThan(150);

    // Two concurrent requests (on two instances): exactly one starts a run, the other is told one is running.
    b = await startTestServer({ sharedWith: a });
    const [first, second] = await Promise.all([
      clients(a).dash.post("/dashboard/api/ml/train", undefined),
      clients(b).dash.post("/dashboard/api/ml/train", undefined),
    ]);
    expect([first.status, second.status].sort()).toEqual([200, 409]);
    const started = first.status === 200 ? first : second;
    const refused = first.status === 200 ? second : first;
    expect(started.body).toEqual({ status: "training_started" });
    expect(refused.body.detail).toMatch(/already in progress/);

    const trainedOn = started === first ? a : b;
    const done = await waitForTraining(trainedOn);
    expect(done.training).toMatchObject({ state: "completed", progress: 1, error: null });
    expect(done.training.finished_at).not.toBeNull();
    await expect.poll(async () => (await status(a)).model?.version, { timeout: 5000 }).toBe(1);
    const s = await status(a);
    expect(s.model_ready).toBe(true);
    expect(s.last_trained).toBe(s.model.created_at);
    expect(s.model).toMatchObject({ version: 1, source: "trained", trained_on: s.labeled_sessions });
    // The label is "answered ground truth right", so even a perfect bot/human split ranks a human's slip
    // and a bot's lucky guess wrongly: with these rates the ceiling is about 0.85 (docs/ml.md). The held-out
    // split here is ~35 sessions with few negatives, so both figures move by ±0.1 between runs (AUC 0.747,
    // accuracy 0.724 seen in CI on a loaded box): the bounds say "better than chance"; what a user notices is
    // asserted below (bots refused, humans pass), and the benchmark reports the figures on large samples.
    expect(s.model.metrics.roc_auc).toBeGreaterThan(0.6);
    expect(s.model.metrics.accuracy).toBeGreaterThan(0.6);
    expect(s.model.metrics.log_loss).toBeGreaterThan(0);
    expect(s.model.metrics.training_ms).toBeGreaterThan(0);
    expect(s.model.metrics.onnx_max_abs_diff).toBeLessThan(1e-5);

    // Bots like those before the model: the lucky guesses are refused now too.
    const bots = await runTraffic(a, site, guessingBots(12));
    expectBotsRefused(bots);
    // New humans answering right get their tokens.
    const humans = await runTraffic(a, site, freshHumans(13));
    expect(humans.every((r) => r.gtCorrect && r.passed && r.token)).toBe(true);
  }, 120_000);

  it("the second instance serves the new model (pub/sub), and refuses bots too", async () => {
    await expect.poll(async () => (await status(b)).model?.version, { timeout: 5000 }).toBe(1);
    const bots = await runTraffic(b, site, guessingBots(14));
    expectBotsRefused(bots);
    const humans = await runTraffic(b, site, freshHumans(15));
    expect(humans.every((r) => r.passed)).toBe(true);
  }, 60_000);

  it("the stored ONNX model scores exactly as the model fitted in TypeScript on the same sessions", async () => {
    const prisma = a.shared.db.prisma;
    const rows = await prisma.challengeSession.findMany({
      where: { gtCorrect: { not: null }, createdAt: { lte: new Date((await status(a)).model.created_at) } },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { features: true, gtCorrect: true },
    });
    const stored = await prisma.riskModel.findUniqueOrThrow({ where: { version: 1 } });
    expect(rows.length).toBe(stored.trainedOn);
    const x = Float64Array.from(rows.flatMap((row) => featureVector(row.features as SessionFeatures)));
    const y = Float64Array.from(rows, (row) => (row.gtCorrect ? 1 : 0));
    const fitted = await trainOnRows(x, y);
    const onnx = await OnnxRiskModel.load(stored.onnx);
    try {
      const onnxScores = await onnx.score(Float32Array.from(x), rows.length);
      const tsScores = predict(fitted.model, Float32Array.from(x), rows.length);
      let worst = 0;
      for (let i = 0; i < rows.length; i++) worst = Math.max(worst, Math.abs(onnxScores[i]! - tsScores[i]!));
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await onnx.release();
    }
  });

  it("logs the training run to the tracking project hiveguard-risk-model with its params and metrics", async () => {
    const runs = await clients(a).dash.get("/api/projects/hiveguard-risk-model/runs");
    expect(runs.status).toBe(200);
    expect(runs.body).toHaveLength(1);
    const run = runs.body[0];
    expect(run.status).toBe("completed");
    const params = await clients(a).dash.get(`/api/projects/hiveguard-risk-model/runs/${run.name}/params`);
    expect(params.status).toBe(200);
    expect(JSON.stringify(params.body)).toMatch(/logistic_regression/);
    const metrics = await clients(a).dash.get(`/api/projects/hiveguard-risk-model/runs/${run.name}/metrics`);
    expect(metrics.status).toBe(200);
    expect(Object.keys(metrics.body.metrics)).toEqual(
      expect.arrayContaining(["roc_auc", "accuracy", "log_loss", "training_ms", "train_loss"]),
    );
  });

  it("refuses corrupt and mismatched uploads with 422 and keeps the active model", async () => {
    const cases: [string, Uint8Array | string, string?][] = [
      ["random bytes", new Uint8Array([8, 1, 2, 3, 4, 5, 6, 7, 255, 0, 13])],
      ["truncated model", exportLogisticOnnx(model(FEATURE_COUNT)).subarray(0, 200)],
      ["wrong input width", exportLogisticOnnx(model(FEATURE_COUNT - 3))],
      ["scores outside 0-1", sklearnStyleOnnx(model(FEATURE_COUNT), { raw: true })],
      ["empty body", new Uint8Array()],
      ["JSON instead of a file", JSON.stringify({ model: "x" }), "application/json"],
    ];
    for (const [what, body, type] of cases) {
      const res = await upload(a, body, type);
      expect(res.status, what).toBe(422);
      expect(res.body.detail[0].loc, what).toEqual(["body"]);
      expect(typeof res.body.detail[0].msg, what).toBe("string");
    }
    const s = await status(a);
    expect(s.model).toMatchObject({ version: 1, source: "trained" });
    const bots = await runTraffic(a, site, guessingBots(16));
    expectBotsRefused(bots);

    const noAuth = await call(a, "/dashboard/api/ml/models", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: exportLogisticOnnx(model(FEATURE_COUNT)) as BodyInit,
    });
    expect(noAuth.status).toBe(401);
  }, 30_000);

  it("accepts a scikit-learn style model (probabilities [N, 2]) and serves it on both instances", async () => {
    // Everyone is human to this model: a large intercept.
    const everyoneHuman = {
      ...model(FEATURE_COUNT),
      weights: new Array(FEATURE_COUNT).fill(0),
      intercept: 8,
    };
    const res = await upload(a, sklearnStyleOnnx(everyoneHuman));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ version: 2, source: "uploaded", trained_on: 0 });
    expect(res.body.metrics.test_sessions).toBeGreaterThan(100);
    expect(res.body.metrics.training_ms).toBeNull();
    await expect.poll(async () => (await status(b)).model?.version, { timeout: 5000 }).toBe(2);
    const bots = await runTraffic(b, site, guessingBots(17));
    expect(bots.every((r) => r.passed === r.gtCorrect)).toBe(true);

    // The base64 form (tRPC and GraphQL) goes through the same checks.
    const gql = await call(a, "/graphql", {
      method: "POST",
      headers: { authorization: a.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({
        query: "mutation($m: String!) { mlUploadModel(input: {model_base64: $m}) { version source } }",
        variables: { m: Buffer.from("not a model").toString("base64") },
      }),
    });
    expect(gql.text).toMatch(/not a loadable ONNX model/);
    const st = await call(a, "/graphql", {
      method: "POST",
      headers: { authorization: a.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({
        query: "{ mlStatus { model_ready model { version source } training { state } } }",
      }),
    });
    expect(st.body.data.mlStatus).toEqual({
      model_ready: true,
      model: { version: 2, source: "uploaded" },
      training: { state: "completed" },
    });
  }, 30_000);
});

function model(d: number) {
  return {
    mean: Array.from({ length: d }, (_, j) => j / 10),
    scale: Array.from({ length: d }, (_, j) => 1 + j / 7),
    weights: Array.from({ length: d }, (_, j) => ((j % 5) - 2) / 3),
    intercept: 0.4,
  };
}
