// The challenge benchmark's crowd (issue 18): simulated humans and bots solving a mixed ground-truth pool
// (yes/no, 4-way choice, 9-tile grid) through the challenge service, with the figures the issue asks for.
// Service calls (no HTTP), so that each simulated visitor has its own IP address (and network).
import { randomInt } from "node:crypto";
import type { ApiKeyPrincipal } from "../src/platform/auth.js";
import type { Database } from "../src/platform/db.js";
import { TooManyRequestsError } from "../src/platform/errors.js";
import type { Config } from "../src/config.js";
import { ClientHasher } from "../src/modules/guard/challenges/client.js";
import type { Requester } from "../src/modules/guard/challenges/service.js";
import { featureBatch, type SessionFeatures } from "../src/modules/guard/risk/features.js";
import { rocAuc } from "../src/modules/guard/risk/logistic.js";
import type { HiveGuardServer } from "../src/server.js";

type Services = HiveGuardServer["deps"]["services"];

const GT_PER_KIND = 40;
const UNKNOWN = 60;
const HUMANS = Number(process.env.BENCH_CROWD_HUMANS ?? 400);
const BOT_SHARE = 0.3;
const FRESH_BOTS = Number(process.env.BENCH_CROWD_BOTS ?? 1000);
const RETRY_BOTS = 20;
const RETRY_TRIES = 20;
const CURVE_VISITORS = Number(process.env.BENCH_CURVE_VISITORS ?? 200);
const CONCURRENCY = 16;
/** Human accuracy: a yes/no or choice item right with 0.95, a grid exactly right with 0.9. */
const HUMAN_CLASSIFY = 0.95;
const HUMAN_GRID = 0.9;
/** Assumed seconds of a human's work per item, for "seconds of work per challenge". */
const SECONDS = { yesno: 2, choice: 3, grid: 6 } as const;

const CHOICES4 = ["cat", "dog", "bird", "fish"];

interface Visit {
  outcome: "passed" | "failed" | "refused";
  items: number;
  seconds: number;
}

export async function runCrowd(ctx: {
  services: Services;
  db: Database;
  config: Config;
  admin: ApiKeyPrincipal;
}): Promise<void> {
  const { services, db } = ctx;
  const prisma = db.prisma;
  const hasher = new ClientHasher(ctx.config.secretKey);
  const defaults = await services.runtimeConfig.get();

  // Datasets: four copies of one yes/no dataset (ground truth + unknown items with the same hidden
  // truths: A for humans only, B for humans with a 30 % bot share, C for the yes/no-only runs, D for the
  // bot-only runs), a 4-way choice pool and a 3 × 3 grid pool, all images.
  const mk = (name: string, extra: Record<string, unknown>) =>
    services.datasets.create({ name, modality: "image", ...extra } as never);
  const yesno = {
    A: await mk("crowd-yesno-A", { prompt: "A dog?", choices: ["yes", "no"] }),
    B: await mk("crowd-yesno-B", { prompt: "A dog?", choices: ["yes", "no"] }),
    C: await mk("crowd-yesno-C", { prompt: "A dog?", choices: ["yes", "no"] }),
    D: await mk("crowd-yesno-D", { prompt: "A dog?", choices: ["yes", "no"] }),
  };
  const choice = await mk("crowd-choice", { prompt: "Which animal?", choices: CHOICES4 });
  const grid = await mk("crowd-grid", { prompt: "Select the dogs", challenge_type: "grid_select" });
  const gt = new Map<string, { kind: keyof typeof SECONDS; answer: string | number[] }>();
  const truth = new Map<string, string>();
  const hidden = Array.from({ length: UNKNOWN }, () => (randomInt(0, 2) ? "yes" : "no"));
  const items: Record<string, unknown>[] = [];
  for (const [copy, ds] of Object.entries(yesno)) {
    for (let i = 0; i < GT_PER_KIND; i++) {
      const ref = `https://example.com/crowd-${copy}/gt-${i}.jpg`;
      gt.set(ref, { kind: "yesno", answer: i % 2 ? "yes" : "no" });
      items.push({ dataset_id: ds.id, data_ref: ref, modality: "image", ground_truth: i % 2 ? "yes" : "no" });
    }
    for (let i = 0; i < UNKNOWN; i++) {
      const ref = `https://example.com/crowd-${copy}/u-${i}.jpg`;
      truth.set(ref, hidden[i]!);
      items.push({ dataset_id: ds.id, data_ref: ref, modality: "image" });
    }
  }
  for (let i = 0; i < GT_PER_KIND; i++) {
    const cref = `https://example.com/crowd-choice/gt-${i}.jpg`;
    gt.set(cref, { kind: "choice", answer: CHOICES4[i % 4]! });
    items.push({ dataset_id: choice.id, data_ref: cref, modality: "image", ground_truth: CHOICES4[i % 4] });
    const gref = `https://example.com/crowd-grid/gt-${i}.jpg`;
    const cells = Array.from({ length: 9 }, (_, c) => c).filter(() => randomInt(0, 3) === 0);
    const answer = cells.length > 0 ? cells : [randomInt(0, 9)];
    gt.set(gref, { kind: "grid", answer });
    items.push({ dataset_id: grid.id, data_ref: gref, modality: "image", ground_truth: answer });
  }
  await services.items.upload(ctx.admin, items as never);
  await db.queryRows("ANALYZE");

  const mixed = (copy: keyof typeof yesno) => [yesno[copy].id, choice.id, grid.id];
  const bots = new Set<string>(); // solver ids (client hashes) of every simulated bot
  const humans = new Set<string>();
  const randomIp = () =>
    `${randomInt(1, 224)}.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
  let seq = 0;
  const requester = (scope: string[], kind: "human" | "bot", ip = randomIp()): Requester => {
    // The same kind of User-Agent and headers for both: only behaviour tells them apart.
    const client = { ip, userAgent: `Mozilla/5.0 (X11; Linux x86_64) visitor/${++seq}` };
    (kind === "bot" ? bots : humans).add(hasher.hash(client));
    return { keyId: null, scope, sampleRate: 1, client, headers: { accept: "*/*", acceptLanguage: "en" } };
  };

  const kindOf = (item: any): keyof typeof SECONDS =>
    item.grid ? "grid" : item.choices.length === 4 ? "choice" : "yesno";
  const human = (item: any): string | number[] => {
    const known = gt.get(item.data_ref);
    if (item.grid) {
      const right = known!.answer as number[];
      if (Math.random() < HUMAN_GRID) return right;
      const flip = randomInt(0, 9); // one cell missed or one too many
      return right.includes(flip) ? right.filter((c) => c !== flip) : [...right, flip];
    }
    const right = (known?.answer as string | undefined) ?? truth.get(item.data_ref)!;
    if (Math.random() < HUMAN_CLASSIFY) return right;
    const wrong = (item.choices as string[]).filter((c) => c !== right);
    return wrong[randomInt(0, wrong.length)]!;
  };
  const bot = (item: any): string | number[] =>
    item.grid
      ? Array.from({ length: 9 }, (_, c) => c).filter(() => randomInt(0, 2) === 1)
      : item.choices[randomInt(0, item.choices.length)];

  const visit = async (who: Requester, answer: (item: any) => string | number[]): Promise<Visit> => {
    let generated;
    try {
      generated = await services.challenges.generate(who);
    } catch (error) {
      if (error instanceof TooManyRequestsError) return { outcome: "refused", items: 0, seconds: 0 };
      throw error;
    }
    if (generated.kind !== "challenge") throw new Error(`no challenge: ${generated.reason}`);
    const { challenge } = generated;
    const result = await services.challenges.submit(who, {
      challenge_id: challenge.challenge_id,
      responses: challenge.items.map((item) => ({ item_id: item.id, answer: answer(item) as never })),
    });
    return {
      outcome: result.passed ? "passed" : "failed",
      items: challenge.items.length,
      seconds: challenge.items.reduce((sum, item) => sum + SECONDS[kindOf(item)], 0),
    };
  };

  /** A human: up to three tries (a new challenge after a failure), from one IP and browser. */
  const humanVisitor = async (scope: string[]) => {
    const who = requester(scope, "human");
    const visits: Visit[] = [];
    for (let i = 0; i < 3; i++) {
      const v = await visit(who, human);
      visits.push(v);
      if (v.outcome === "passed") break;
    }
    return visits;
  };

  const pct = (n: number, d: number) => `${((100 * n) / Math.max(1, d)).toFixed(1)} %`;
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)]! : NaN;
  };

  /** A crowd of HUMANS humans and, with a bot share, fresh random bots, interleaved at random. */
  const crowdRun = async (scope: string[], botShare: number) => {
    const botCount = Math.round((HUMANS * botShare) / (1 - botShare));
    const order = shuffle([...Array<"human">(HUMANS).fill("human"), ...Array<"bot">(botCount).fill("bot")]);
    const humans: Visit[][] = [];
    const botVisits: Visit[] = [];
    await pool(order.length, CONCURRENCY, async (i) => {
      if (order[i] === "human") humans.push(await humanVisitor(scope));
      else botVisits.push(await visit(requester(scope, "bot"), bot));
    });
    return { humans, bots: botVisits };
  };

  const labelsOf = async (datasetId: string) => {
    const labels = await prisma.label.findMany({
      where: { datasetId },
      include: { item: { select: { dataRef: true, id: true } } },
    });
    const votes = await prisma.vote.findMany({
      where: { item: { datasetId } },
      select: { itemId: true, solverId: true, answer: true },
    });
    let flipped = 0;
    let withBotVotes = 0;
    let botVotes = 0;
    for (const label of labels) {
      const mine = votes.filter((v) => v.itemId === label.item.id);
      const fromBots = mine.filter((v) => bots.has(v.solverId));
      botVotes += fromBots.length;
      if (fromBots.length === 0) continue;
      withBotVotes++;
      const humanCounts = new Map<string, number>();
      for (const v of mine)
        if (!bots.has(v.solverId)) humanCounts.set(v.answer, (humanCounts.get(v.answer) ?? 0) + 1);
      const top = Math.max(0, ...humanCounts.values());
      // Flipped: without the bots' votes the label's answer would not be (among) the humans' top answer.
      if ((humanCounts.get(label.label as string) ?? 0) < top || top === 0) flipped++;
    }
    const right = labels.filter((l) => truth.get(l.item.dataRef) === l.label).length;
    const allBotVotes = votes.filter((v) => bots.has(v.solverId)).length;
    return {
      labels: labels.length,
      right,
      flipped,
      withBotVotes,
      botVotes,
      allBotVotes,
      votes: votes.length,
    };
  };

  const heldVotes = async (datasetId: string) => {
    const [[held]] = (await db.queryRows(
      `SELECT count(*)::int FROM challenge_sessions s JOIN items i ON i.id = s.unknown_item_id
        WHERE i.dataset_id = $1::uuid AND s.gt_correct AND s.features->>'vote_held' IS NOT NULL`,
      [datasetId],
    )) as [[number]];
    return held;
  };

  const started = performance.now();
  console.log(
    `crowd (issue 18): ground-truth pool of ${GT_PER_KIND} yes/no + ${GT_PER_KIND} 4-way choice + ${GT_PER_KIND} ` +
      `3×3 grid items, ${UNKNOWN} unknown yes/no items; humans right ${HUMAN_CLASSIFY} (yes/no, choice) / ` +
      `${HUMAN_GRID} (grid, exactly), bots answer at random; max_guess_rate ${defaults.max_guess_rate}, ` +
      `max_gt_items ${defaults.max_gt_items}, escalation ÷${defaults.escalation_factor} per failure, 429 at ` +
      `${defaults.escalation_block_after}`,
  );

  // 1. Humans only (dataset A): first-try pass rate, work, labels.
  const clean = await crowdRun(mixed("A"), 0);
  const firstTry = clean.humans.filter((v) => v[0]!.outcome === "passed").length;
  const within3 = clean.humans.filter((v) => v.some((x) => x.outcome === "passed")).length;
  const served = clean.humans.flat().filter((v) => v.outcome !== "refused");
  const gtItems = served.map((v) => v.items - 1);
  console.log(
    `  humans: first try passed ${firstTry}/${HUMANS} (${pct(firstTry, HUMANS)}; target ≥ 85 %), within 3 tries ` +
      `${pct(within3, HUMANS)}; median ${median(served.map((v) => v.seconds))} s of work per challenge ` +
      `(assumed ${SECONDS.yesno} s yes/no, ${SECONDS.choice} s choice, ${SECONDS.grid} s grid), ` +
      `mean ${(gtItems.reduce((a, b) => a + b, 0) / served.length).toFixed(2)} ground-truth items; refused ` +
      `${clean.humans.flat().filter((v) => v.outcome === "refused").length}`,
  );

  // 2. Fresh random bots (a new IP and browser every time).
  const fresh: Visit[] = [];
  await pool(FRESH_BOTS, CONCURRENCY, async () => {
    fresh.push(await visit(requester(mixed("D"), "bot"), bot));
  });
  const freshPassed = fresh.filter((v) => v.outcome === "passed").length;
  console.log(
    `  random bots, fresh client each time: passed ${freshPassed}/${FRESH_BOTS} (${pct(freshPassed, FRESH_BOTS)}; ` +
      `target ≤ 5 %)`,
  );

  // 3. Retrying bots: one IP and browser each, RETRY_TRIES tries.
  const tries: Visit[][] = [];
  const votesBeforeRetry = await prisma.vote.count({ where: { item: { datasetId: yesno.D.id } } });
  await pool(RETRY_BOTS, CONCURRENCY, async (b) => {
    const who = requester(mixed("D"), "bot", `100.${64 + b}.${randomInt(0, 256)}.${randomInt(1, 255)}`);
    const mine: Visit[] = [];
    for (let i = 0; i < RETRY_TRIES; i++) mine.push(await visit(who, bot));
    tries.push(mine);
  });
  const allTries = tries.flat();
  const triesPassed = allTries.filter((v) => v.outcome === "passed").length;
  const refusedFrom = tries.map((mine) => mine.findIndex((v) => v.outcome === "refused"));
  const reached = refusedFrom.filter((i) => i >= 0);
  const grew = tries.filter((mine) => mine.some((v) => v.items > mine[0]!.items)).length;
  console.log(
    `  retrying bots (${RETRY_BOTS} clients × ${RETRY_TRIES} tries): passed ${triesPassed}/${allTries.length} tries ` +
      `(${pct(triesPassed, allTries.length)}; target ≤ 1 %); escalation reached by ${grew}/${RETRY_BOTS} (more ` +
      `ground truth) and 429 by ${reached.length}/${RETRY_BOTS} (from try ${reached.length ? Math.min(...reached) + 1 : "-"}` +
      `–${reached.length ? Math.max(...reached) + 1 : "-"}); ${allTries.filter((v) => v.outcome === "refused").length} tries refused; ` +
      `votes counted: fresh bots ${votesBeforeRetry}, retrying bots ` +
      `${(await prisma.vote.count({ where: { item: { datasetId: yesno.D.id } } })) - votesBeforeRetry}`,
  );

  // 4. The same humans' crowd with a 30 % bot share (dataset B), against the humans-only labels (A).
  const dirty = await crowdRun(mixed("B"), BOT_SHARE);
  const dirtyBotsPassed = dirty.bots.filter((v) => v.outcome === "passed").length;
  const a = await labelsOf(yesno.A.id);
  const b = await labelsOf(yesno.B.id);
  console.log(
    `  labels, humans only: ${a.right}/${a.labels} match the hidden truth (${pct(a.right, a.labels)}); with a 30 % ` +
      `bot share (${dirty.bots.length} bots, ${dirtyBotsPassed} passed): ${b.right}/${b.labels} ` +
      `(${pct(b.right, b.labels)}); bot votes counted ${b.allBotVotes} of ${b.votes}, held back ` +
      `${await heldVotes(yesno.B.id)} right answers; labels flipped by bots: ${b.flipped} (target 0)`,
  );

  // 5. For comparison, before issue 18: one yes/no item, no escalation, every right answer a vote (dataset C).
  await services.runtimeConfig.update({
    max_guess_rate: 1,
    escalation_factor: 1,
    escalation_block_after: 1000,
    vote_hold_failures: 1000,
    vote_min_risk_score: 0,
  });
  const before = await crowdRun([yesno.C.id], BOT_SHARE);
  const c = await labelsOf(yesno.C.id);
  const beforeHumans = before.humans.filter((v) => v[0]!.outcome === "passed").length;
  const beforeBots = before.bots.filter((v) => v.outcome === "passed").length;
  console.log(
    `  before (one yes/no item, no escalation), same 30 % crowd: humans ${pct(beforeHumans, HUMANS)} first try, ` +
      `bots ${beforeBots}/${before.bots.length} (${pct(beforeBots, before.bots.length)}); labels ${c.right}/${c.labels} ` +
      `match the truth, bot votes ${c.allBotVotes} of ${c.votes}, labels flipped by bots: ${c.flipped}`,
  );

  // 6. The trade-off on a yes/no-only pool: 1–5 ground-truth items (max_guess_rate = 0.5^n), fresh visitors.
  console.log(`  yes/no-only pool (${CURVE_VISITORS} fresh humans and bots per row, first try):`);
  console.log(`    GT items  max_guess_rate  humans passed (0.95^n)   bots passed (0.5^n)`);
  for (let n = 1; n <= 5; n++) {
    await services.runtimeConfig.update({ max_guess_rate: 0.5 ** n, max_gt_items: 8 });
    let h = 0;
    let bt = 0;
    await pool(2 * CURVE_VISITORS, CONCURRENCY, async (i) => {
      if (i % 2) {
        if ((await visit(requester([yesno.C.id], "bot"), bot)).outcome === "passed") bt++;
      } else if ((await visit(requester([yesno.C.id], "human"), human)).outcome === "passed") h++;
    });
    console.log(
      `    ${n}         ${(0.5 ** n).toFixed(4).padEnd(14)}  ${pct(h, CURVE_VISITORS).padStart(7)} (${(100 * 0.95 ** n).toFixed(1)} %)` +
        `        ${pct(bt, CURVE_VISITORS).padStart(7)} (${(100 * 0.5 ** n).toFixed(1)} %)`,
    );
  }
  await services.runtimeConfig.update({
    max_guess_rate: defaults.max_guess_rate,
    max_gt_items: defaults.max_gt_items,
    escalation_factor: defaults.escalation_factor,
    escalation_block_after: defaults.escalation_block_after,
    vote_hold_failures: defaults.vote_hold_failures,
    vote_min_risk_score: defaults.vote_min_risk_score,
  });

  // 7. The risk model, retrained on the crowd's sessions (with the failure-history features).
  try {
    await services.ml.startTraining();
    // Training is a background job now: wait until its state says it ended.
    for (let i = 0; i < 1200; i++) {
      const state = (await services.ml.status()).training.state;
      if (state !== "running") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const model = services.ml.activeModel;
    const sessions = await prisma.challengeSession.findMany({
      where: { gtCorrect: { not: null } },
      select: { features: true, clientHash: true },
    });
    const crowdSessions = sessions.filter((s) => bots.has(s.clientHash) || humans.has(s.clientHash));
    const scores = await services.ml.scoreBatch(
      featureBatch(crowdSessions.map((s) => s.features as SessionFeatures)),
    );
    const isHuman = crowdSessions.map((s) => (bots.has(s.clientHash) ? 0 : 1));
    console.log(
      `  risk model retrained on ${model?.trained_on ?? "?"} sessions: held-out ROC-AUC ` +
        `${model?.metrics.roc_auc?.toFixed(3) ?? "?"} (label: ground truth right); on the crowd's ${crowdSessions.length} ` +
        `sessions ROC-AUC human vs bot ${scores ? rocAuc(scores, isHuman)?.toFixed(3) : "?"}`,
    );
  } catch (error) {
    console.log(`  risk model: not retrained (${(error as Error).message})`);
  }
  console.log(`  crowd took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Runs `count` tasks, `concurrency` at a time. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
