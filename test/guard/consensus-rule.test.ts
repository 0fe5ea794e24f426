// The consensus rule is written twice: in SQL (`hiveguard_record_vote`, the submit hot path, which records a
// vote that does not finalize a label and hands the rest over) and in TypeScript (ConsensusService's
// transaction, which finalizes labels and runs re-validation). This file plays every worked example of the
// concepts file and docs/challenges.md through both paths on one real database and checks that they agree,
// vote by vote: the SQL hands over exactly the votes the TypeScript rule finalizes, and the item and its
// label end up the same whichever path a vote took.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsensusService, type VoteOutcome } from "../../src/modules/guard/challenges/consensus.js";
import {
  RUNTIME_CONFIG_DEFAULTS,
  type RuntimeConfig,
} from "../../src/modules/guard/runtime-config/runtime-config.schema.js";
import type { ChallengeType } from "../../src/modules/guard/shared.schema.js";
import { createLogger } from "../../src/platform/logger.js";
import { openTestDatabase, type TestDatabase } from "../support/db.js";

interface Example {
  name: string;
  votes: string[];
  config?: Partial<RuntimeConfig>;
  type?: ChallengeType;
  choices?: string[];
  /** Ground-truth record of some voters (by index in `votes`): their reliability weight. */
  reliability?: Record<number, { gtCorrect: number; gtTotal: number }>;
  /** The same solver votes twice: these vote indices reuse the solver of the vote before. */
  repeats?: number[];
  expected: {
    state: string;
    label?: { label: unknown; confidence: number; weightedConfidence?: number; voteCount: number } | null;
    isGt?: boolean;
  };
}

const EXAMPLES: Example[] = [
  {
    name: "2 of 3 agree → finalized at the 3rd vote, confidence 0.67",
    votes: ["yes", "no", "yes"],
    expected: { state: "revalidating", label: { label: "yes", confidence: 0.67, voteCount: 3 } },
  },
  {
    name: "yes, no, maybe, yes → no consensus; + yes → 3 of 5 = 0.6 finalizes",
    votes: ["yes", "no", "maybe", "yes", "yes"],
    choices: ["yes", "no", "maybe"],
    expected: { state: "revalidating", label: { label: "yes", confidence: 0.6, voteCount: 5 } },
  },
  {
    name: "yes, no, maybe, yes → stays unlabeled, collecting votes",
    votes: ["yes", "no", "maybe", "yes"],
    choices: ["yes", "no", "maybe"],
    expected: { state: "unlabeled", label: null },
  },
  {
    name: "fewer than consensus_min_votes never finalize, however unanimous",
    votes: ["yes", "yes"],
    expected: { state: "unlabeled", label: null },
  },
  {
    name: "consensus_threshold 0.67: 2 of 3 (0.666…) is not enough, 3 of 4 is",
    votes: ["yes", "no", "yes", "yes"],
    config: { consensus_threshold: 0.67 },
    expected: { state: "revalidating", label: { label: "yes", confidence: 0.75, voteCount: 4 } },
  },
  {
    name: "consensus_min_votes 1: the first vote finalizes",
    votes: ["no"],
    config: { consensus_min_votes: 1 },
    expected: { state: "revalidating", label: { label: "no", confidence: 1, voteCount: 1 } },
  },
  {
    name: "a tie at the threshold: the answer sorting first wins (no, yes → 0.5 with threshold 0.5)",
    votes: ["yes", "no"],
    config: { consensus_min_votes: 2, consensus_threshold: 0.5 },
    expected: { state: "revalidating", label: { label: "no", confidence: 0.5, voteCount: 2 } },
  },
  {
    name: "a solver's second vote on the item is not counted",
    votes: ["yes", "yes", "no", "yes"],
    repeats: [1],
    expected: { state: "revalidating", label: { label: "yes", confidence: 0.67, voteCount: 3 } },
  },
  {
    name: "reliability-weighted agreement beside the plain one: (2/3 + 2/3) / (2/3 + 2/3 + 2/7) = 0.8235",
    votes: ["yes", "yes", "no"],
    reliability: {
      0: { gtCorrect: 1, gtTotal: 1 },
      1: { gtCorrect: 1, gtTotal: 1 },
      2: { gtCorrect: 1, gtTotal: 5 },
    },
    expected: {
      state: "revalidating",
      label: { label: "yes", confidence: 0.67, weightedConfidence: 0.8235, voteCount: 3 },
    },
  },
  {
    name: "grid answers: the same cells in any order are one answer",
    votes: ["[0,4,8]", "[1]", "[0,4,8]"],
    type: "grid_select",
    choices: [],
    expected: { state: "revalidating", label: { label: [0, 4, 8], confidence: 0.67, voteCount: 3 } },
  },
  {
    name: "re-validation worked example: 0.67 + 3 × 0.05 = 0.82 → stays in the pool",
    votes: ["yes", "no", "yes", "yes", "yes", "yes"],
    expected: { state: "revalidating", label: { label: "yes", confidence: 0.82, voteCount: 6 } },
  },
  {
    name: "disagreeing votes subtract: 0.67 − 3 × 0.05 = 0.52 < 0.60 → needs_review",
    votes: ["yes", "no", "yes", "no", "no", "no"],
    expected: { state: "needs_review", label: { label: "yes", confidence: 0.52, voteCount: 6 } },
  },
  {
    name: "mixed batch: 2 agree, 1 disagrees → 0.72",
    votes: ["yes", "no", "yes", "yes", "no", "yes"],
    expected: { state: "revalidating", label: { label: "yes", confidence: 0.72, voteCount: 6 } },
  },
  {
    name: "graduates at ≥ 0.85 with ≥ 15 votes, joins the ground-truth pool, later votes only counted",
    votes: ["yes", "no", "yes", ...Array<string>(12).fill("yes"), "no"],
    expected: { state: "graduated", isGt: true, label: { label: "yes", confidence: 1, voteCount: 16 } },
  },
  {
    name: "with revalidation_promote_to_gt off, a graduated item stays out of the ground-truth pool",
    votes: ["yes", "no", "yes", ...Array<string>(12).fill("yes")],
    config: { revalidation_promote_to_gt: false },
    expected: { state: "graduated", isGt: false, label: { label: "yes", confidence: 1, voteCount: 15 } },
  },
];

let database: TestDatabase;
let consensus: ConsensusService;
const prisma = () => database.db.prisma;

beforeAll(async () => {
  database = await openTestDatabase(createLogger("silent"));
  consensus = new ConsensusService(prisma());
});
afterAll(async () => {
  await database?.cleanup();
});

/** One vote through the hot path: the SQL function first, the TypeScript transaction when it hands over. */
async function voteThroughSql(vote: Vote, config: RuntimeConfig) {
  const [tried] = await prisma().$queryRawUnsafe<{ outcome: string | null; item_state: string | null }[]>(
    `SELECT outcome, item_state FROM hiveguard_record_vote($1::uuid, NULL, $2, $3, $4, $5)`,
    vote.itemId,
    vote.solverId,
    vote.answer,
    config.consensus_min_votes,
    config.consensus_threshold,
  );
  const outcome = await consensus.settleVote(
    vote,
    { outcome: tried!.outcome, state: tried!.item_state },
    config,
  );
  return { outcome, handedOver: tried!.outcome === "fallback" };
}

/** The same vote decided by the TypeScript rule alone. */
function voteThroughTypeScript(vote: Vote, config: RuntimeConfig): Promise<VoteOutcome> {
  return consensus.settleVote(vote, { outcome: null, state: null }, config);
}

type Vote = Parameters<ConsensusService["settleVote"]>[0];

async function itemState(itemId: string) {
  const item = await prisma().item.findUniqueOrThrow({ where: { id: itemId }, include: { label: true } });
  return {
    state: item.state,
    isGt: item.isGt,
    voteCount: item.voteCount,
    label: item.label && {
      label: item.label.label,
      confidence: item.label.confidence,
      weightedConfidence: item.label.weightedConfidence,
      voteCount: item.label.voteCount,
      solverCount: item.label.solverCount,
    },
  };
}

describe("the consensus rule in SQL and in TypeScript agree on every worked example", () => {
  it.each(EXAMPLES)("$name", async (example) => {
    const config = { ...RUNTIME_CONFIG_DEFAULTS, ...example.config };
    const type = example.type ?? "text";
    const choices = example.choices ?? ["yes", "no"];
    const dataset = await prisma().dataset.create({
      data: { name: example.name.slice(0, 60), modality: "text", challengeType: type, choices },
    });
    const newItem = (ref: string) =>
      prisma().item.create({ data: { datasetId: dataset.id, dataRef: ref, modality: "text" } });
    const [viaSql, viaTs] = await Promise.all([newItem("via-sql"), newItem("via-ts")]);
    const run = Math.random().toString(36).slice(2, 8);

    let solver = "";
    for (const [index, answer] of example.votes.entries()) {
      if (!example.repeats?.includes(index)) solver = `solver-${run}-${index}`;
      const record = example.reliability?.[index];
      if (record)
        await prisma().solver.upsert({
          where: { id: solver },
          create: { id: solver, gtCorrect: record.gtCorrect, gtTotal: record.gtTotal },
          update: {},
        });
      const vote = (itemId: string): Vote => ({
        itemId,
        solverId: solver,
        sessionId: null,
        answer,
        type,
        choices,
      });
      const before = await itemState(viaSql.id);
      const sql = await voteThroughSql(vote(viaSql.id), config);
      const ts = await voteThroughTypeScript(vote(viaTs.id), config);

      const where = `vote ${index + 1} (${answer})`;
      expect(sql.outcome, where).toEqual(ts);
      // The SQL keeps a vote only when the TypeScript rule would not finalize a label with it.
      if (before.state === "unlabeled" && !before.isGt && ts.recorded)
        expect({ where, handedOver: sql.handedOver }).toEqual({ where, handedOver: ts.finalized });
      const [afterSql, afterTs] = await Promise.all([itemState(viaSql.id), itemState(viaTs.id)]);
      expect(afterSql, where).toEqual(afterTs);
    }

    const final = await itemState(viaSql.id);
    expect(final.state).toBe(example.expected.state);
    if (example.expected.isGt !== undefined) expect(final.isGt).toBe(example.expected.isGt);
    if (example.expected.label === null) expect(final.label).toBeNull();
    else if (example.expected.label) expect(final.label).toMatchObject(example.expected.label);
  });
});
