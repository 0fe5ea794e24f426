/**
 * LLMs scored against the crowd, over real HTTP against the stand-in provider scripted to answer labels: a
 * labeling suite made from a guard dataset's finalized labels, a run streamed as SSE with every figure of a
 * small worked example as exact numbers (accuracy, confidence-weighted agreement, cost per 1,000 labels, the
 * crowd's vote agreement and record on ground truth), image items sent as the provider's image input, stored
 * history, refusals, cancel.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseModelLabel } from "../../src/modules/bench/engine/index.js";
import { createDataset } from "../guard/helpers.js";
import { startLlmStandin, type LlmStandin, type StandinChat } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";
import { openEventStream } from "./sse.js";

let t: TestServer;
let standin: LlmStandin;
let admin: SignedInUser;

// The worked example: four text items, their consensus labels and confidences.
const ITEMS = [
  { text: "meow", label: "cat", confidence: 1.0 },
  { text: "woof", label: "dog", confidence: 0.8 },
  { text: "tweet", label: "bird", confidence: 0.6 },
  { text: "purr", label: "cat", confidence: 0.6 },
];
// Model "good" gets 3 of 4 (i4 wrong), with one token per answer; "vague" answers the same 5-token sentence.
const GOOD: Record<string, string> = { meow: "cat", woof: "Dog.", tweet: "bird", purr: "dog" };

function script(chat: StandinChat) {
  const text = chat.prompt.split("Text:\n")[1]?.trim() ?? "";
  if (chat.model === "good") return { text: GOOD[text] ?? "?" };
  if (chat.model === "vague") return { text: "I think it's a cat" };
  if (chat.model === "eye") return { text: "yes" };
  return null; // "slow": the usual word stream
}

/** Guard data as the consensus engine writes it: items, labels, votes, and the voters' GT records. */
async function seedCrowd(datasetId: string, otherDatasetId: string): Promise<string[]> {
  const prisma = t.server.deps.db.prisma;
  const ids: string[] = [];
  for (const item of ITEMS) {
    const row = await prisma.item.create({
      data: { datasetId, dataRef: item.text, modality: "text", state: "labeled", voteCount: 1 },
    });
    await prisma.label.create({
      data: {
        itemId: row.id,
        datasetId,
        label: item.label,
        confidence: item.confidence,
        solverCount: 2,
        voteCount: 2,
      },
    });
    ids.push(row.id);
  }
  // 8 votes, 6 agree with the consensus: i1 cat,cat,dog; i2 dog,dog; i3 bird,cat; i4 cat.
  const votes: [number, string, string][] = [
    [0, "s1", "cat"],
    [0, "s2", "cat"],
    [0, "s3", "dog"],
    [1, "s1", "dog"],
    [1, "s2", "dog"],
    [2, "s1", "bird"],
    [2, "s3", "cat"],
    [3, "s2", "cat"],
  ];
  for (const [i, solverId, answer] of votes)
    await prisma.vote.create({ data: { itemId: ids[i]!, solverId, answer } });
  // Their record on ground-truth items: 9/10 + 4/5 + 1/5 = 14/20. s4 voted elsewhere only.
  await prisma.solver.createMany({
    data: [
      { id: "s1", gtCorrect: 9, gtTotal: 10 },
      { id: "s2", gtCorrect: 4, gtTotal: 5 },
      { id: "s3", gtCorrect: 1, gtTotal: 5 },
      { id: "s4", gtCorrect: 0, gtTotal: 10 },
    ],
  });
  const other = await prisma.item.create({
    data: { datasetId: otherDatasetId, dataRef: "x", modality: "text", state: "labeled" },
  });
  await prisma.vote.create({ data: { itemId: other.id, solverId: "s4", answer: "dog" } });
  return ids;
}

let textDataset: string;
let imageDataset: string;
let imageItems: string[];

beforeAll(async () => {
  standin = await startLlmStandin({
    behaviour: { ttftMs: 5, tokensPerSecond: 2000, reply: script },
    models: { slow: { ttftMs: 300, tokensPerSecond: 20, outputTokens: 50 } },
  });
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback", BENCH_HEARTBEAT_MS: "200" } });
  admin = await registerUser(t); // the first user: admin
  const post = (path: string, body: unknown) => request(t, "POST", path, { token: admin.token, body });
  await post("/api/config/provider", {
    provider_key: "local",
    display_name: "Local",
    kind: "openai_compatible",
    model_id_prefix: "local",
    api_base: standin.baseUrl,
  });
  // $1,000 per million output tokens, nothing for input: one answer token costs $0.001.
  for (const id of ["good", "vague", "eye", "slow"])
    await post("/api/config/model", {
      provider_key: "local",
      id,
      input_cost_per_mtok: 0,
      output_cost_per_mtok: 1000,
    });

  const text = await createDataset(t, {
    name: "Animal sounds",
    modality: "text",
    prompt: "Which animal makes this sound?",
    choices: ["cat", "dog", "bird"],
  });
  const other = await createDataset(t, { name: "Other", modality: "text", choices: ["cat", "dog"] });
  textDataset = text.id;
  await seedCrowd(text.id, other.id);

  const image = await createDataset(t, {
    name: "Street signs",
    modality: "image",
    prompt: "Is there a stop sign?",
  });
  imageDataset = image.id;
  const prisma = t.server.deps.db.prisma;
  imageItems = [];
  for (const ref of ["https://img.example/sign-1.png", "bucket/sign-2.png"]) {
    const item = await prisma.item.create({
      data: { datasetId: image.id, dataRef: ref, modality: "image", state: "labeled" },
    });
    await prisma.label.create({
      data: {
        itemId: item.id,
        datasetId: image.id,
        label: "yes",
        confidence: 0.9,
        solverCount: 3,
        voteCount: 3,
      },
    });
    imageItems.push(item.id);
  }
}, 60_000);
afterAll(async () => {
  await t?.close();
  await standin?.close();
});

const api = (user: SignedInUser, method: string, path: string, body?: unknown) =>
  request(t, method, path, { token: user.token, body });

describe("reading a model's answer", () => {
  const shape = { modality: "text", challengeType: "text", prompt: null, choices: ["cat", "dog", "bird"] };
  it("finds the one choice named, in any case, with quotes, a period or a prefix", () => {
    expect(parseModelLabel("Dog.", shape)).toBe("dog");
    expect(parseModelLabel('"CAT"', shape)).toBe("cat");
    expect(parseModelLabel("Answer: bird", shape)).toBe("bird");
    expect(parseModelLabel("I think it's a cat", shape)).toBe("cat");
    expect(parseModelLabel("cat or dog", shape)).toBeNull();
    expect(parseModelLabel("a horse", shape)).toBeNull();
  });
  it("reads grid answers as sorted cell indices", () => {
    const grid = { modality: "image", challengeType: "grid_select", prompt: null, choices: [] };
    expect(parseModelLabel("4, 1, 4", grid)).toBe("[1,4]");
    expect(parseModelLabel("none", grid)).toBe("[]");
    expect(parseModelLabel("cell 12", grid)).toBeNull();
  });
});

describe("labeling suites", () => {
  it("lists the guard's datasets and snapshots a dataset's finalized labels (admins only)", async () => {
    const datasets = await api(admin, "GET", "/api/labeling/datasets");
    expect(datasets.status).toBe(200);
    expect(datasets.body.datasets.map((d: any) => d.name)).toEqual(
      expect.arrayContaining(["Animal sounds", "Street signs"]),
    );
    const made = await api(admin, "POST", "/api/labeling/suites", { dataset_id: textDataset });
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({
      type: "labeling",
      name: "Animal sounds",
      modality: "text",
      choices: ["cat", "dog", "bird"],
      item_count: 4,
    });
    const detail = await api(admin, "GET", `/api/labeling/suites/${made.body.id}`);
    expect(detail.body.items.map((i: any) => [i.data_ref, i.label, i.confidence])).toEqual(
      ITEMS.map((i) => [i.text, i.label, i.confidence]),
    );
    const filtered = await api(admin, "POST", "/api/labeling/suites", {
      dataset_id: textDataset,
      name: "sure only",
      min_confidence: 0.7,
      max_items: 1,
    });
    expect(filtered.body).toMatchObject({ name: "sure only", item_count: 1 });

    const user = await registerUser(t);
    const refused = await api(user, "POST", "/api/labeling/suites", { dataset_id: textDataset });
    expect(refused.status).toBe(403);
    expect((await api(user, "GET", "/api/labeling/datasets")).status).toBe(403);
    expect((await api(user, "GET", `/api/labeling/suites/${made.body.id}`)).status).toBe(404);
    expect((await request(t, "GET", "/api/labeling/suites")).status).toBe(401);
  });

  it("refuses an unknown dataset (404), a bad id or limit (422 naming the field)", async () => {
    const unknown = await api(admin, "POST", "/api/labeling/suites", {
      dataset_id: "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69",
    });
    expect(unknown.status).toBe(404);
    const bad = await api(admin, "POST", "/api/labeling/suites", { dataset_id: "nope", max_items: 0 });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain("dataset_id");
    expect(bad.text).toContain("max_items");
    expect(bad.text).not.toMatch(/\n\s+at /);
  });
});

describe("a labeling run", () => {
  it("scores each model against the consensus, beside the crowd, and stores it", async () => {
    const suite = (await api(admin, "POST", "/api/labeling/suites", { dataset_id: textDataset })).body;
    standin.reset();
    const stream = await openEventStream(t, admin.token, "/api/labeling/run", {
      suite_id: suite.id,
      models: ["local/good", "local/vague"],
      concurrency: 2,
    });
    expect(stream.status).toBe(200);
    await stream.ended;
    const types = stream.events.map((e) => e.type).filter((type) => type !== "heartbeat");
    expect(types[0]).toBe("label_start");
    expect(types[1]).toBe("crowd_summary");
    expect(types.at(-1)).toBe("complete");
    expect(types.filter((x) => x === "label_result")).toHaveLength(8);
    expect(stream.events.find((e) => e.type === "label_start")).toMatchObject({
      items: 4,
      total: 8,
      models: ["local/good", "local/vague"],
    });

    const crowd = {
      items: 4,
      mean_confidence: 0.75,
      solvers: 3,
      votes: 8,
      vote_agreement: 0.75,
      gt_correct: 14,
      gt_total: 20,
      gt_accuracy: 0.7,
    };
    expect(stream.events.find((e) => e.type === "crowd_summary")).toEqual({
      type: "crowd_summary",
      ...crowd,
    });

    const summaries = stream.events.filter((e) => e.type === "model_summary");
    const good = summaries.find((s) => s.model_id === "local/good");
    const vague = summaries.find((s) => s.model_id === "local/vague");
    expect(good).toMatchObject({
      items: 4,
      answered: 4,
      errors: 0,
      correct: 3,
      accuracy: 0.75,
      weighted_agreement: 0.8, // (1.0 + 0.8 + 0.6) / 3.0
      output_tokens: 4,
      cost_total: 0.004,
      cost_per_1k_labels: 1,
    });
    expect(vague).toMatchObject({
      correct: 2,
      accuracy: 0.5,
      weighted_agreement: 0.5333, // (1.0 + 0.6) / 3.0
      output_tokens: 20,
      cost_total: 0.02,
      cost_per_1k_labels: 5,
    });
    expect(good.avg_latency_ms).toBeGreaterThan(0);
    // One call at a time: 60,000 / the mean latency. avg_latency_ms is rounded to 0.1 ms (up to 0.05 ms
    // off, a relative error of 0.05 / latency) and labels_per_minute to 0.01.
    expect(Math.abs(good.labels_per_minute - 60_000 / good.avg_latency_ms)).toBeLessThanOrEqual(
      (good.labels_per_minute * 0.05) / good.avg_latency_ms + 0.01,
    );

    const wrong = stream.events.find(
      (e) => e.type === "label_result" && e.model_id === "local/good" && !e.correct,
    );
    expect(wrong).toMatchObject({ expected: "cat", answer: "dog", raw_answer: "dog", success: true });

    // Each call asked the dataset's question with the item's text.
    const asked = standin.requests.filter((r) => r.protocol === "openai").map((r) => JSON.stringify(r.body));
    expect(asked).toHaveLength(8);
    expect(asked.every((b) => b.includes("Which animal makes this sound?"))).toBe(true);
    expect(asked.some((b) => b.includes("Text:\\nwoof"))).toBe(true);

    const runId = stream.events.at(-1).run_id;
    expect(stream.headers.get("x-run-id")).toBe(runId);
    const stored = await api(admin, "GET", `/api/labeling/history/${runId}`);
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ status: "completed", crowd, suite_id: suite.id });
    expect(stored.body.results).toHaveLength(8);
    expect(stored.body.summary.find((s: any) => s.model_id === "local/good")).toEqual(
      (({ type: _t, ...rest }) => rest)(good),
    );
    const list = await api(admin, "GET", "/api/labeling/history");
    expect(list.body.runs[0]).toMatchObject({ id: runId, status: "completed" });
    expect(list.body.runs[0].results).toBeUndefined();

    expect((await api(admin, "DELETE", `/api/labeling/suites/${suite.id}`)).status).toBe(200);
    expect((await api(admin, "GET", `/api/labeling/history/${runId}`)).body.suite_id).toBeNull();
    expect((await api(admin, "DELETE", `/api/labeling/history/${runId}`)).status).toBe(200);
    expect((await api(admin, "GET", `/api/labeling/history/${runId}`)).status).toBe(404);
  });

  it("sends image items as the provider's image input; a data_ref that is not a URL is an error", async () => {
    const suite = (await api(admin, "POST", "/api/labeling/suites", { dataset_id: imageDataset })).body;
    standin.reset();
    const stream = await openEventStream(t, admin.token, "/api/labeling/run", {
      suite_id: suite.id,
      models: ["local/eye"],
    });
    await stream.ended;
    expect(standin.requests).toHaveLength(1);
    const content = (standin.requests[0]!.body!.messages as any[]).find((m) => m.role === "user").content;
    expect(content).toEqual([
      { type: "text", text: expect.stringContaining("Is there a stop sign?") },
      { type: "image_url", image_url: { url: "https://img.example/sign-1.png" } },
    ]);
    // In flight together: in the order they finished, so in item order for the comparison.
    const results = stream.events
      .filter((e) => e.type === "label_result")
      .sort((a, b) => imageItems.indexOf(a.item_id) - imageItems.indexOf(b.item_id));
    expect(results.map((r) => [r.item_id, r.correct, r.success])).toEqual([
      [imageItems[0], true, true],
      [imageItems[1], false, false],
    ]);
    expect(results[1].error).toContain("not an http(s) or data: image URL");
    expect(stream.events.find((e) => e.type === "model_summary")).toMatchObject({
      items: 2,
      answered: 1,
      errors: 1,
      correct: 1,
      accuracy: 0.5,
      weighted_agreement: 0.5,
      cost_per_1k_labels: 1,
    });
  });

  it("refuses unknown suites and models before streaming; cancel stops the calls in flight", async () => {
    const suite = (await api(admin, "POST", "/api/labeling/suites", { dataset_id: textDataset })).body;
    const missing = await api(admin, "POST", "/api/labeling/run", {
      suite_id: "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69",
      models: ["local/good"],
    });
    expect(missing.status).toBe(404);
    const unknownModel = await api(admin, "POST", "/api/labeling/run", {
      suite_id: suite.id,
      models: ["nope/x"],
    });
    expect(unknownModel.status).toBe(422);
    expect(unknownModel.text).toContain("models");

    standin.reset();
    const stream = await openEventStream(t, admin.token, "/api/labeling/run", {
      suite_id: suite.id,
      models: ["local/slow"],
      concurrency: 1,
    });
    await standin.waitFor(() => standin.activeStreams.length > 0);
    const busy = await api(admin, "POST", "/api/labeling/run", {
      suite_id: suite.id,
      models: ["local/good"],
    });
    expect(busy.status).toBe(409);
    expect((await api(admin, "POST", "/api/labeling/run/cancel")).body.status).toBe("ok");
    await stream.ended;
    expect(stream.events.at(-1).type).toBe("cancelled");
    await standin.waitFor(() => standin.disconnects.length === 1);
    const runId = stream.headers.get("x-run-id");
    const stored = await api(admin, "GET", `/api/labeling/history/${runId}`);
    expect(stored.body.status).toBe("cancelled");
  });
});
