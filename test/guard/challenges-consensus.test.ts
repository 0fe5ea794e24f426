// Consensus and re-validation with the concepts file's numbers, and votes under concurrency.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { answersFor, configure, seed, type Seeded, visitor } from "./challenge-helpers.js";
import { clients } from "./helpers.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await configure(t);
});
afterAll(async () => {
  await t?.close();
});

const prisma = () => t.server.deps.db.prisma;

/** A fresh visitor answers the challenge right on ground truth and `answer` on the unknown item. */
async function vote(s: Seeded, answer: string, server: TestServer = t) {
  const v = visitor(server, s.key);
  const res = await v.generate();
  expect(res.status).toBe(200);
  expect(res.body.items.map((i: any) => i.data_ref)).toContain(s.unknownRefs[0]);
  const result = await v.submit(answersFor(res.body, s, { unknownAnswer: answer }));
  expect(result.body.passed).toBe(true);
}

const itemOf = (s: Seeded) =>
  prisma().item.findFirstOrThrow({ where: { dataRef: s.unknownRefs[0] }, include: { label: true } });

async function publicLabel(s: Seeded) {
  const res = await clients(t).api(s.key).get("/api/v1/data/labeled?limit=1000");
  expect(res.status).toBe(200);
  return res.body.find((label: any) => label.data_ref === s.unknownRefs[0]);
}

describe("consensus", () => {
  it("finalizes at consensus_min_votes with the top share ≥ consensus_threshold: 2 of 3 → 0.67", async () => {
    const s = await seed(t, { gt: 4, unknown: 1 });
    for (const answer of ["yes", "no", "yes"]) await vote(s, answer);
    const item = await itemOf(s);
    expect(item.state).toBe("revalidating");
    expect(item.label).toMatchObject({ label: "yes", confidence: 0.67, solverCount: 3, voteCount: 3 });
    expect(await publicLabel(s)).toMatchObject({ label: "yes", confidence: 0.67, solver_count: 3 });
  });

  it("items without agreement stay in the pool and collect more votes (yes,no,maybe,yes → none; +yes → 0.6)", async () => {
    const s = await seed(t, { gt: 4, unknown: 1, choices: ["yes", "no", "maybe"] });
    for (const answer of ["yes", "no", "maybe", "yes"]) await vote(s, answer);
    expect((await itemOf(s)).label).toBeNull();
    expect((await itemOf(s)).state).toBe("unlabeled");
    await vote(s, "yes");
    expect((await itemOf(s)).label).toMatchObject({
      label: "yes",
      confidence: 0.6,
      solverCount: 5,
      voteCount: 5,
    });
  });

  it("reports a reliability-weighted agreement beside the plain one", async () => {
    const s = await seed(t, { gt: 4, unknown: 1 });
    const elsewhere = await seed(t, { gt: 4 });
    // The dissenter failed ground truth four times elsewhere before: reliability (1+1)/(5+2) = 2/7.
    const dissenter = visitor(t, elsewhere.key);
    for (let i = 0; i < 4; i++) {
      const c = (await dissenter.generate()).body;
      expect((await dissenter.submit(answersFor(c, elsewhere, { gtWrong: true }))).body.passed).toBe(false);
    }
    await vote(s, "yes");
    await vote(s, "yes");
    const v = visitor(t, s.key, dissenter.userAgent);
    const c = (await v.generate()).body;
    expect((await v.submit(answersFor(c, s, { unknownAnswer: "no" }))).body.passed).toBe(true);
    // Plain: 2/3 = 0.67. Weighted: (2/3 + 2/3) / (2/3 + 2/3 + 2/7) = 28/34.
    expect((await itemOf(s)).label).toMatchObject({ confidence: 0.67, weightedConfidence: 0.8235 });
    expect(await publicLabel(s)).toMatchObject({ confidence: 0.67, weighted_confidence: 0.8235 });
    const solver = await prisma().solver.findMany({ where: { gtTotal: 5 } });
    expect(solver).toEqual([expect.objectContaining({ gtCorrect: 1, gtTotal: 5, votes: 1 })]);
  });
});

describe("re-validation", () => {
  async function labeled067() {
    const s = await seed(t, { gt: 4, unknown: 1 });
    for (const answer of ["yes", "no", "yes"]) await vote(s, answer);
    expect((await itemOf(s)).label?.confidence).toBe(0.67);
    return s;
  }

  it("worked example: 0.67 + 3 × 0.05 = 0.82 → stays in the pool; the batch is marked processed", async () => {
    const s = await labeled067();
    await vote(s, "yes");
    await vote(s, "yes");
    // Two unprocessed votes: below revalidation_min_votes, nothing applied yet.
    expect((await itemOf(s)).label?.confidence).toBe(0.67);
    await vote(s, "yes");
    const item = await itemOf(s);
    expect(item.label).toMatchObject({ confidence: 0.82, voteCount: 6, solverCount: 6 });
    expect(item.state).toBe("revalidating");
    const votes = await prisma().vote.findMany({ where: { itemId: item.id, revalidation: true } });
    expect(votes.map((v) => v.processed)).toEqual([true, true, true]);
  });

  it("disagreeing votes subtract: 0.67 − 3 × 0.05 = 0.52 < 0.60 → needs_review, left out of the labels list", async () => {
    const s = await labeled067();
    for (let i = 0; i < 3; i++) await vote(s, "no");
    const item = await itemOf(s);
    expect(item.state).toBe("needs_review");
    expect(item.label?.confidence).toBe(0.52);
    expect(await publicLabel(s)).toBeUndefined();
    // No longer in the re-validation pool: with nothing else left, only ground truth is served.
    expect((await visitor(t, s.key).generate()).body.items).toHaveLength(1);
  });

  it("mixed batch: 2 agree, 1 disagrees → +0.05", async () => {
    const s = await labeled067();
    for (const answer of ["yes", "no", "yes"]) await vote(s, answer);
    expect((await itemOf(s)).label?.confidence).toBe(0.72);
  });

  it("graduates at ≥ 0.85 with ≥ 15 votes and joins the ground-truth pool", async () => {
    const s = await labeled067();
    const path: number[] = [];
    for (let i = 0; i < 12; i++) {
      await vote(s, "yes");
      if (i % 3 === 2) path.push((await itemOf(s)).label!.confidence);
      if (i < 11) expect((await itemOf(s)).state).toBe("revalidating");
    }
    // 6 votes: 0.82; 9: 0.97 (but < 15 votes); 12: 1.0 (clamped); 15: graduates.
    expect(path).toEqual([0.82, 0.97, 1, 1]);
    const item = await itemOf(s);
    expect(item).toMatchObject({ state: "graduated", isGt: true, groundTruth: "yes", voteCount: 15 });
    expect(item.label).toMatchObject({ voteCount: 15, solverCount: 15 });
  });

  it("with revalidation_promote_to_gt off, a graduated item stays out of the ground-truth pool", async () => {
    await configure(t, { revalidation_promote_to_gt: false });
    try {
      const s = await labeled067();
      for (let i = 0; i < 12; i++) await vote(s, "yes");
      expect(await itemOf(s)).toMatchObject({ state: "graduated", isGt: false, groundTruth: null });
    } finally {
      await configure(t, { revalidation_promote_to_gt: true });
    }
  });
});

describe("100 concurrent voters on one item across two instances", () => {
  let second: TestServer;
  beforeAll(async () => {
    second = await startTestServer({ sharedWith: t });
  });
  afterAll(async () => {
    await second?.close();
  });

  async function crowd(s: Seeded, answers: string[]) {
    const visitors = answers.map((answer, i) => ({
      v: visitor(i % 2 ? second : t, s.key),
      answer,
      server: i % 2 ? second : t,
    }));
    const challenges = await Promise.all(visitors.map(({ v }) => v.generate()));
    for (const c of challenges) expect(c.body.items.map((i: any) => i.data_ref)).toContain(s.unknownRefs[0]);
    const results = await Promise.all(
      visitors.map(({ v, answer, server }, i) =>
        v.submit(answersFor(challenges[i]!.body, s, { unknownAnswer: answer }), server),
      ),
    );
    expect(results.filter((r) => r.body.passed)).toHaveLength(answers.length);
  }

  it("finalizing at the 100th vote: one label, 70/100 → 0.7, 100 solvers, 100 votes", async () => {
    await configure(t, { consensus_min_votes: 100 });
    try {
      const s = await seed(t, { gt: 10, unknown: 1 });
      await crowd(
        s,
        Array.from({ length: 100 }, (_, i) => (i % 10 < 7 ? "yes" : "no")),
      );
      const item = await itemOf(s);
      expect(await prisma().label.count({ where: { itemId: item.id } })).toBe(1);
      expect(item).toMatchObject({ state: "revalidating", voteCount: 100 });
      expect(item.label).toMatchObject({ label: "yes", confidence: 0.7, solverCount: 100, voteCount: 100 });
      expect(await prisma().vote.count({ where: { itemId: item.id } })).toBe(100);
    } finally {
      await configure(t, { consensus_min_votes: 3 });
    }
  });

  it("finalizing at the 3rd vote: one label, exact re-validation batches, graduation at 15, all 100 votes kept", async () => {
    const s = await seed(t, { gt: 10, unknown: 1 });
    await crowd(
      s,
      Array.from({ length: 100 }, () => "yes"),
    );
    const item = await itemOf(s);
    expect(await prisma().label.count({ where: { itemId: item.id } })).toBe(1);
    expect(item).toMatchObject({ state: "graduated", isGt: true, voteCount: 100 });
    expect(item.label).toMatchObject({ label: "yes", confidence: 1, solverCount: 100, voteCount: 100 });
    // Votes 1-3 made the label, 4-15 were re-validation (4 batches of 3, all processed), 16-100 came after
    // graduation.
    const counts = await prisma().vote.groupBy({
      by: ["revalidation", "processed"],
      where: { itemId: item.id },
      _count: true,
    });
    expect(Object.fromEntries(counts.map((c) => [`${c.revalidation}/${c.processed}`, c._count]))).toEqual({
      "false/false": 88,
      "true/true": 12,
    });
  });
});
