// Issue 18: guess rates and their composition, escalation for failing clients and networks, held votes.
// Unit tests of the rules first, then the same rules through the real server (SQL composition included).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Requester } from "../../src/modules/guard/challenges/service.js";
import { holdReason } from "../../src/modules/guard/challenges/service.js";
import {
  allowedGuessRate,
  Escalation,
  networkOf,
  secondsUntilBelow,
} from "../../src/modules/guard/challenges/escalation.js";
import {
  composeGroundTruth,
  guessRateOf,
  itemsNeeded,
} from "../../src/modules/guard/challenges/guess-rate.js";
import { RUNTIME_CONFIG_DEFAULTS } from "../../src/modules/guard/runtime-config/runtime-config.schema.js";
import { TooManyRequestsError } from "../../src/platform/errors.js";
import { createLogger } from "../../src/platform/logger.js";
import { MemoryStateStore } from "../../src/platform/state/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { configure, visitor } from "./challenge-helpers.js";
import { clients, createDataset, createKey } from "./helpers.js";

const D = RUNTIME_CONFIG_DEFAULTS;
/** The issue-18 defaults (configure() otherwise pins the single-ground-truth settings of older tests). */
const BOT_DEFAULTS = {
  max_guess_rate: D.max_guess_rate,
  max_gt_items: D.max_gt_items,
  escalation_factor: D.escalation_factor,
  escalation_window: D.escalation_window,
  escalation_network_share: D.escalation_network_share,
  escalation_block_after: D.escalation_block_after,
  vote_hold_failures: D.vote_hold_failures,
  vote_min_risk_score: D.vote_min_risk_score,
};

const YES_NO = 1 / 2;
const CHOICE4 = 1 / 4;
const GRID = 1 / 512;
const FREE = 0.01;

describe("guess rates and the composition rule", () => {
  it("gives each answer type its guess rate", () => {
    expect(guessRateOf("image", ["yes", "no"])).toBe(YES_NO);
    expect(guessRateOf("text", ["a", "b", "c", "d"])).toBe(CHOICE4);
    expect(guessRateOf("grid_select", [])).toBe(GRID);
    expect(guessRateOf("select_all", [])).toBe(GRID);
    expect(guessRateOf("audio", [])).toBe(FREE);
    expect(itemsNeeded(YES_NO, 0.05)).toBe(5);
    expect(itemsNeeded(CHOICE4, 0.05)).toBe(3);
    expect(itemsNeeded(GRID, 0.05)).toBe(1);
    expect(itemsNeeded(YES_NO, 0.125)).toBe(3);
  });

  it("meets the bound for every modality mix of the pool, lowest guess rate first, within max items", () => {
    const kinds = [YES_NO, CHOICE4, GRID, FREE];
    for (let mask = 1; mask < 1 << kinds.length; mask++) {
      const present = kinds.filter((_, i) => mask & (1 << i));
      for (const perKind of [1, 2, 10]) {
        const pool = present.flatMap((rate) => new Array<number>(perKind).fill(rate));
        for (const bound of [0.5, 0.05, 0.01, 0.001, 1e-6]) {
          for (const maxItems of [1, 3, 6, 8]) {
            const { rates, guessRate } = composeGroundTruth(pool, bound, maxItems);
            expect(rates.length).toBeGreaterThanOrEqual(1);
            expect(rates.length).toBeLessThanOrEqual(maxItems);
            expect(guessRate).toBeCloseTo(
              rates.reduce((p, r) => p * r, 1),
              12,
            );
            // Lowest first: the chosen rates are the smallest of the pool, in order.
            expect(rates).toEqual([...pool].sort((a, b) => a - b).slice(0, rates.length));
            // Met, or no more items could be added (max items reached or the pool is used up).
            if (guessRate > bound)
              expect(rates.length === maxItems || rates.length === pool.length).toBe(true);
            // Never more items than needed: without the last one the bound was not met.
            if (rates.length > 1) expect(guessRate / rates.at(-1)!).toBeGreaterThan(bound);
          }
        }
      }
    }
  });

  it("never adds an unguessable item (guess rate 1) as a second one", () => {
    expect(composeGroundTruth([1, 1, 1], 0.05, 6).rates).toEqual([1]);
    expect(composeGroundTruth([0.5, 1, 1], 0.05, 6).rates).toEqual([0.5]);
  });
});

describe("escalation rules", () => {
  it("maps addresses to networks (IPv4 /24, IPv6 /64, IPv4-mapped as IPv4)", () => {
    expect(networkOf("203.0.113.77")).toBe("203.0.113.0/24");
    expect(networkOf("::ffff:203.0.113.9")).toBe("203.0.113.0/24");
    expect(networkOf("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(networkOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(networkOf("2001:DB8:0:0:ffff::1")).toBe(networkOf("2001:db8::9"));
    expect(networkOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("divides the allowed guess rate per recent failure, and computes the wait", () => {
    expect(allowedGuessRate(D, 0)).toBe(0.05);
    expect(allowedGuessRate(D, 1)).toBeCloseTo(0.0125, 12);
    expect(allowedGuessRate(D, 2)).toBeCloseTo(0.003125, 12);
    expect(allowedGuessRate({ ...D, escalation_factor: 1 }, 9)).toBe(0.05);
    // 6 failures this window, none before, half of it gone, threshold 5: the rest of this window, then
    // until 6 × (1 − t/W) < 5, i.e. W/6 more.
    expect(secondsUntilBelow(6, 0, 0.5, 600, 5)).toBeCloseTo(300 + 100, 6);
    // 2 now, 6 in the previous window weighing 0.8 (= 6.8): below 5 once 2 + 6 × (0.8 − t/W) < 5.
    expect(secondsUntilBelow(2, 6, 0.2, 600, 5)).toBeCloseTo(600 * (0.8 - 3 / 6), 6);
    expect(secondsUntilBelow(1, 0, 0.3, 600, 5)).toBe(0);
  });

  it("counts failures per client and network with decay; a pass clears the client", async () => {
    const state = new MemoryStateStore({ prefix: "esc", logger: createLogger("silent") });
    const esc = new Escalation(state);
    const W = D.escalation_window * 1000;
    const t0 = Math.floor(Date.now() / W) * W + W / 2; // the middle of a window
    const fail = async (client: string, ip: string, at: number) => {
      const read = await esc.read(client, ip, D, at);
      await state.incrMany(esc.failureIncrements(client, read));
    };
    for (let i = 0; i < 3; i++) await fail("bot", "198.51.100.7", t0);
    let read = await esc.read("bot", "198.51.100.7", D, t0);
    expect(read.client).toBe(3);
    expect(read.network).toBe(3);
    expect(read.failures).toBeCloseTo(3.3, 9);
    // A neighbour in the /24 feels the network's share only.
    expect((await esc.read("other", "198.51.100.8", D, t0)).failures).toBeCloseTo(0.3, 9);
    expect((await esc.read("far", "192.0.2.1", D, t0)).failures).toBe(0);
    // Half a window later: the previous window's count weighs the half still inside the last window.
    read = await esc.read("bot", "198.51.100.7", D, t0 + W);
    expect(read.client).toBeCloseTo(1.5, 9);
    // Two windows later: forgotten.
    expect((await esc.read("bot", "198.51.100.7", D, t0 + 2 * W)).failures).toBe(0);
    // Blocked at escalation_block_after, with a wait that ends within two windows.
    for (let i = 0; i < 3; i++) await fail("bot", "198.51.100.7", t0);
    read = await esc.read("bot", "198.51.100.7", D, t0);
    const wait = esc.retryAfter(D, t0, read)!;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual((2 * W) / 1000);
    // A pass clears the client and takes one off the network.
    await esc.recordPass("bot", read);
    read = await esc.read("bot", "198.51.100.7", D, t0);
    expect(read.client).toBe(0);
    expect(read.network).toBe(5);
    expect(esc.retryAfter(D, t0, read)).toBeNull();
    await state.close();
  });

  it("holds a vote back after recent failures or at a low risk score", () => {
    const failures = (n: number) => ({ failures: { failures: n } as never });
    expect(holdReason(failures(0), 1, D)).toBeNull();
    expect(holdReason(failures(1), 1, D)).toBe("recent_failures");
    expect(holdReason(failures(0.3), 1, D)).toBeNull();
    expect(holdReason(failures(0), 0.69, D)).toBe("risk_score");
    expect(holdReason({}, 0.7, D)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Through the server.

let t: TestServer;
const kinds = {
  yesno: { choices: ["yes", "no"], type: "image", rate: YES_NO },
  choice4: { choices: ["cat", "dog", "bird", "fish"], type: "image", rate: CHOICE4 },
  grid: { choices: [], type: "grid_select", rate: GRID },
  free: { choices: [], type: "image", rate: FREE },
} as const;
type Kind = keyof typeof kinds;
const datasets = {} as Record<Kind, string>;
/** data_ref → [kind, answer] of every ground-truth item. */
const truth = new Map<string, { kind: Kind; answer: string | number[] }>();
let writer: string;

async function upload(items: Record<string, unknown>[]) {
  const res = await clients(t).api(writer).post("/api/v1/data/items", { items });
  expect(res.status).toBe(201);
}

beforeAll(async () => {
  t = await startTestServer();
  await configure(t, BOT_DEFAULTS);
  for (const [kind, spec] of Object.entries(kinds) as [Kind, (typeof kinds)[Kind]][]) {
    const ds = await createDataset(t, {
      name: `bots-${kind}`,
      modality: "image",
      prompt: `${kind}?`,
      challenge_type: spec.type,
      choices: [...spec.choices],
    });
    datasets[kind] = ds.id;
  }
  writer = (await createKey(t, { label: "writer", datasets: Object.values(datasets) })).raw_key;
  const items: Record<string, unknown>[] = [];
  for (const kind of Object.keys(kinds) as Kind[]) {
    for (let i = 0; i < 12; i++) {
      const ref = `https://example.com/bots/${kind}/gt-${i}.jpg`;
      const answer =
        kind === "grid"
          ? [i % 9, (i + 3) % 9].sort((a, b) => a - b)
          : kind === "free"
            ? `word${i}`
            : kinds[kind].choices[i % kinds[kind].choices.length]!;
      truth.set(ref, { kind, answer });
      items.push({ dataset_id: datasets[kind], data_ref: ref, modality: "image", ground_truth: answer });
    }
  }
  for (let i = 0; i < 40; i++) {
    items.push({
      dataset_id: datasets.yesno,
      data_ref: `https://example.com/bots/yesno/u-${i}.jpg`,
      modality: "image",
    });
  }
  await upload(items);
});
afterAll(async () => {
  await t?.close();
});

const prisma = () => t.server.deps.db.prisma;
const service = () => t.server.deps.services.challenges;

function who(
  ip: string,
  scope: string[],
  userAgent = `Mozilla/5.0 ${randomBytes(4).toString("hex")}`,
): Requester {
  return { keyId: null, scope, sampleRate: 1, client: { ip, userAgent }, headers: {} };
}

/** Answers every ground-truth item right (or all wrong), the unknown item "yes". */
function answers(challenge: { challenge_id: string; items: any[] }, right: boolean) {
  return {
    challenge_id: challenge.challenge_id,
    responses: challenge.items.map((item) => {
      const known = truth.get(item.data_ref);
      if (!known) return { item_id: item.id, answer: "yes" };
      if (right) return { item_id: item.id, answer: known.answer };
      if (Array.isArray(known.answer))
        return { item_id: item.id, answer: known.answer.length === 1 ? [8] : [4] };
      const choices = kinds[known.kind].choices as readonly string[];
      return { item_id: item.id, answer: choices.find((c) => c !== known.answer) ?? "wrong" };
    }),
  };
}

async function generate(requester: Requester) {
  const generated = await service().generate(requester);
  if (generated.kind !== "challenge") throw new Error(`no challenge: ${generated.reason}`);
  return generated.challenge;
}

const gtRates = (challenge: { items: any[] }) =>
  challenge.items
    .filter((item) => truth.has(item.data_ref))
    .map((item) => kinds[truth.get(item.data_ref)!.kind].rate)
    .sort((a, b) => a - b);

describe("composition in hiveguard_generate", () => {
  it("serves exactly what the rule composes, for every mix of answer types in the pool", async () => {
    const all = Object.keys(kinds) as Kind[];
    let ip = 0;
    for (let mask = 1; mask < 1 << all.length; mask++) {
      const present = all.filter((_, i) => mask & (1 << i));
      const pool = present.flatMap((kind) => new Array<number>(12).fill(kinds[kind].rate));
      for (const bound of [0.05, 0.001]) {
        await configure(t, { ...BOT_DEFAULTS, max_guess_rate: bound });
        for (let n = 0; n < 3; n++) {
          const challenge = await generate(
            who(
              `10.9.${mask}.${++ip % 250}`,
              present.map((k) => datasets[k]),
            ),
          );
          const expected = composeGroundTruth(pool, bound, D.max_gt_items);
          expect(gtRates(challenge), `${present.join("+")} at ${bound}`).toEqual(expected.rates);
          // With yes/no items present there is an unknown item; without, tier 3 (ground truth only).
          expect(challenge.items.length).toBe(expected.rates.length + (present.includes("yesno") ? 1 : 0));
          expect(challenge.items.map((item) => item.slot)).toEqual(
            "abcdefghi".slice(0, challenge.items.length).split(""),
          );
          if (expected.guessRate <= bound) {
            expect(gtRates(challenge).reduce((p, r) => p * r, 1)).toBeLessThanOrEqual(bound);
          }
        }
      }
    }
    await configure(t, BOT_DEFAULTS);
  });

  it("passes only when every ground-truth item is right", async () => {
    const scope = [datasets.yesno];
    const right = await generate(who("10.8.0.1", scope));
    expect(gtRates(right)).toEqual([YES_NO, YES_NO, YES_NO, YES_NO, YES_NO]);
    const requester = who("10.8.0.2", scope);
    const challenge = await generate(requester);
    const body = answers(challenge, true);
    // One ground-truth item wrong is enough to fail.
    const gtIndex = body.responses.findIndex((r) =>
      truth.has(challenge.items.find((i) => i.id === r.item_id)!.data_ref),
    );
    body.responses[gtIndex]!.answer = body.responses[gtIndex]!.answer === "yes" ? "no" : "yes";
    expect(await service().submit(requester, body)).toEqual({ passed: false, token: null });
    const again = await generate(requester);
    expect((await service().submit(requester, answers(again, true))).passed).toBe(true);
  });
});

describe("escalation through the service", () => {
  it("gives a failing client more ground truth, then 429; its network feels a share; a pass clears it", async () => {
    await configure(t, { ...BOT_DEFAULTS, max_gt_items: 8 });
    const scope = [datasets.yesno];
    const bot = who("10.20.30.40", scope);
    const counts: number[] = [];
    let refused: unknown = null;
    for (let i = 0; i < 8 && !refused; i++) {
      try {
        const challenge = await generate(bot);
        counts.push(gtRates(challenge).length);
        expect((await service().submit(bot, answers(challenge, false))).passed).toBe(false);
      } catch (error) {
        refused = error;
      }
    }
    // 0.05 → 5 yes/no items; after one failure 0.0125 → 7; then capped at 8 until 5 failures block.
    expect(counts).toEqual([5, 7, 8, 8, 8]);
    expect(refused).toBeInstanceOf(TooManyRequestsError);
    expect(Number((refused as TooManyRequestsError).headers["Retry-After"])).toBeGreaterThanOrEqual(1);

    // A neighbour in 10.20.30.0/24: 5 network failures × 0.1 = 0.5 → 0.05 / 4^0.5 = 0.025 → 6 items.
    expect(gtRates(await generate(who("10.20.30.41", scope))).length).toBe(6);
    // Another network: untouched.
    expect(gtRates(await generate(who("10.21.30.41", scope))).length).toBe(5);

    // A person who slips once, then succeeds: the vote after the slip is held back, then all is forgotten.
    const person = who("10.50.60.70", scope);
    const first = await generate(person);
    await service().submit(person, answers(first, false));
    const second = await generate(person);
    expect(gtRates(second).length).toBe(7);
    const votesBefore = await prisma().vote.count();
    expect((await service().submit(person, answers(second, true))).passed).toBe(true);
    expect(await prisma().vote.count()).toBe(votesBefore); // held back
    const session = await prisma().challengeSession.findFirst({
      where: { outcome: "passed" },
      orderBy: { submittedAt: "desc" },
    });
    expect(session?.features).toMatchObject({ vote_held: "recent_failures", client_recent_failures: 1 });
    const third = await generate(person);
    expect(gtRates(third).length).toBe(5);
    expect((await service().submit(person, answers(third, true))).passed).toBe(true);
    expect(await prisma().vote.count()).toBe(votesBefore + 1); // counted again
    await configure(t, BOT_DEFAULTS);
  });

  it("answers 429 with Retry-After over HTTP past the threshold", async () => {
    await configure(t, { ...BOT_DEFAULTS, escalation_network_share: 0, escalation_block_after: 2 });
    const key = (await createKey(t, { label: "bots-http", datasets: [datasets.grid] })).raw_key;
    const v = visitor(t, key);
    for (let i = 0; i < 2; i++) {
      const res = await v.generate();
      expect(res.status).toBe(200);
      expect((await v.submit(answers(res.body, false))).body).toEqual({ passed: false, token: null });
    }
    const blocked = await v.generate();
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(blocked.body.detail).toMatch(/^Too many failed challenges; retry in \d+ s$/);
    // Someone else (another User-Agent, same IP, no network share) is not affected.
    expect((await visitor(t, key).generate()).status).toBe(200);
    await configure(t, BOT_DEFAULTS);
  });
});
