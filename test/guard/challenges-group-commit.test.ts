// Group commit of challenge submits (issue 20): concurrent submits share one write, votes on one item in one
// batch are applied in arrival order, consensus and re-validation stay exact.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsensusService } from "../../src/modules/guard/challenges/consensus.js";
import { type SubmitRow, SubmitWriter } from "../../src/modules/guard/challenges/submit-writer.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { answersFor, configure, seed, visitor } from "./challenge-helpers.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await configure(t);
});
afterAll(async () => {
  await t?.close();
});

const prisma = () => t.server.deps.db.prisma;

describe("group commit of submits", () => {
  it("40 concurrent submits on one item share writes; one label, exact re-validation batches, every vote counted", async () => {
    const s = await seed(t, { gt: 10, unknown: 1 });
    const writer = t.server.deps.services.challenges.writer;
    const before = writer.stats();
    const visitors = Array.from({ length: 40 }, () => visitor(t, s.key));
    const challenges = await Promise.all(visitors.map((v) => v.generate()));
    for (const c of challenges) expect(c.body.items.map((i: any) => i.data_ref)).toContain(s.unknownRefs[0]);
    const results = await Promise.all(
      visitors.map((v, i) => v.submit(answersFor(challenges[i]!.body, s, { unknownAnswer: "yes" }))),
    );
    expect(results.map((r) => r.body.passed)).toEqual(results.map(() => true));

    const after = writer.stats();
    expect(after.rows - before.rows).toBe(40);
    // Shared writes: fewer transactions than submits.
    expect(after.writes - before.writes).toBeLessThan(40);
    expect(after.largest).toBeGreaterThan(1);

    const item = await prisma().item.findFirstOrThrow({
      where: { dataRef: s.unknownRefs[0] },
      include: { label: true },
    });
    expect(await prisma().label.count({ where: { itemId: item.id } })).toBe(1);
    expect(item).toMatchObject({ state: "graduated", voteCount: 40 });
    expect(item.label).toMatchObject({ label: "yes", confidence: 1, solverCount: 40, voteCount: 40 });
    // Votes 1-3 made the label, 4-15 were re-validation (4 batches of 3, all processed), 16-40 after graduation.
    const counts = await prisma().vote.groupBy({
      by: ["revalidation", "processed"],
      where: { itemId: item.id },
      _count: true,
    });
    expect(Object.fromEntries(counts.map((c) => [`${c.revalidation}/${c.processed}`, c._count]))).toEqual({
      "false/false": 28,
      "true/true": 12,
    });
    expect(await prisma().challengeSession.count({ where: { unknownItemId: item.id } })).toBe(40);
  });

  it("votes on one item in one batch are applied in arrival order (yes, no, yes → label; then re-validation)", async () => {
    const s = await seed(t, { gt: 2, unknown: 1 });
    const unknown = await prisma().item.findFirstOrThrow({ where: { dataRef: s.unknownRefs[0] } });
    const gt = await prisma().item.findFirstOrThrow({ where: { datasetId: s.datasetId, isGt: true } });
    const config = await t.server.deps.services.runtimeConfig.get();
    // One batch for sure: room for all six rows, and a long wait for them.
    const writer = new SubmitWriter(t.server.deps.db, { maxRows: 6, maxWaitUs: 100_000 });
    const consensus = new ConsensusService(prisma());
    const solvers = Array.from({ length: 5 }, () => `solver-${randomBytes(6).toString("hex")}`);
    // The sixth is the first solver again: one vote per solver per item.
    const votes = [
      ["yes", solvers[0]],
      ["no", solvers[1]],
      ["yes", solvers[2]],
      ["no", solvers[3]],
      ["yes", solvers[4]],
      ["no", solvers[0]],
    ] as const;
    const now = Date.now();
    const rows: SubmitRow[] = votes.map(([answer, solver]) => ({
      session: randomUUID(),
      challenge: `chal_${randomBytes(8).toString("hex")}`,
      apiKey: null,
      solver: solver!,
      tier: 1,
      modality: "image",
      challengeType: "image",
      gtItem: gt.id,
      unknownItem: unknown.id,
      issuedAtMs: now - 5000,
      submittedAtMs: now,
      correct: true,
      riskScore: 1,
      outcome: "passed",
      features: { test: true },
      answer,
      minVotes: config.consensus_min_votes,
      threshold: config.consensus_threshold,
    }));
    // As the service does: each submit settles its vote as soon as its write has committed.
    const settled = await Promise.all(
      rows.map(async (row, i) => {
        const written = await writer.write(row);
        const outcome = await consensus.settleVote(
          {
            itemId: unknown.id,
            solverId: row.solver,
            sessionId: row.session,
            answer: row.answer!,
            type: "image",
            choices: ["yes", "no"],
          },
          written,
          config,
        );
        return { i, written: written.outcome, outcome };
      }),
    );
    expect(writer.stats()).toEqual({ writes: 1, rows: 6, largest: 6 });
    // The third vote would finalize (2 of 3): it and every later vote on the item go to the TypeScript rule.
    expect(settled.map((r) => r.written)).toEqual([
      "recorded",
      "recorded",
      "fallback",
      "fallback",
      "fallback",
      "fallback",
    ]);
    expect(settled.map((r) => r.outcome)).toEqual([
      { recorded: true, revalidation: false, finalized: false, state: "unlabeled" },
      { recorded: true, revalidation: false, finalized: false, state: "unlabeled" },
      { recorded: true, revalidation: false, finalized: true, state: "revalidating" },
      { recorded: true, revalidation: true, finalized: false, state: "revalidating" },
      { recorded: true, revalidation: true, finalized: false, state: "revalidating" },
      { recorded: false, reason: "duplicate" },
    ]);
    const item = await prisma().item.findUniqueOrThrow({
      where: { id: unknown.id },
      include: { label: true },
    });
    expect(item).toMatchObject({ state: "revalidating", voteCount: 5 });
    expect(item.label).toMatchObject({ label: "yes", confidence: 0.67, solverCount: 5, voteCount: 5 });
    expect(await prisma().vote.count({ where: { itemId: unknown.id, revalidation: true } })).toBe(2);
    // Every session row written, the solvers' records summed (the first solver answered twice).
    expect(await prisma().challengeSession.count({ where: { id: { in: rows.map((r) => r.session) } } })).toBe(
      6,
    );
    expect(await prisma().solver.findUniqueOrThrow({ where: { id: solvers[0]! } })).toMatchObject({
      gtCorrect: 2,
      gtTotal: 2,
      votes: 2,
    });
  });
});
