// Helpers for the challenge-engine tests: seed datasets through the public API, and act as visitors.
import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import type { TestServer } from "../support/server.js";
import { type Answer, call, clients, createDataset, createKey, send } from "./helpers.js";

export interface Seeded {
  datasetId: string;
  key: string;
  /** data_ref → known answer, for the ground-truth items. */
  gt: Map<string, string | number[]>;
  unknownRefs: string[];
}

/**
 * Challenges as they were before issue 18: one ground-truth item (no guess-rate bound), no escalation, every
 * right answer a vote. Tests of the ladder, consensus, tokens, proxy and hardening use it, since every
 * visitor of a test shares 127.0.0.1 (one network) and their pools are yes/no; the guess-rate composition,
 * escalation and held votes are tested with the defaults in challenges-bots.test.ts.
 */
export const SINGLE_GT_NO_ESCALATION = {
  max_guess_rate: 1,
  escalation_factor: 1,
  escalation_block_after: 1000,
  vote_hold_failures: 1000,
  vote_min_risk_score: 0,
} as const;

/**
 * Raises the challenge rate limits so a test can make many calls from 127.0.0.1, and sets
 * SINGLE_GT_NO_ESCALATION, plus any other settings.
 */
export async function configure(t: TestServer, settings: Record<string, unknown> = {}): Promise<void> {
  const res = await clients(t).dash.post("/dashboard/api/config", {
    challenge_rate_limit_ip: 1_000_000,
    challenge_rate_limit_key: 10_000_000,
    ...SINGLE_GT_NO_ESCALATION,
    ...settings,
  });
  expect(res.status).toBe(200);
}

/** A dataset with `gt` ground-truth items (answer "yes" for even, "no" for odd) and `unknown` unlabeled ones. */
export async function seed(
  t: TestServer,
  opts: {
    gt?: number;
    unknown?: number;
    modality?: "image" | "text" | "audio";
    challengeType?: string;
    key?: string;
    name?: string;
    choices?: string[];
  } = {},
): Promise<Seeded> {
  const modality = opts.modality ?? "image";
  const dataset = await createDataset(t, {
    name: opts.name ?? `ds-${randomBytes(3).toString("hex")}`,
    modality,
    prompt: "Does this contain a cat?",
    ...(opts.challengeType && { challenge_type: opts.challengeType }),
    ...(opts.choices && { choices: opts.choices }),
  });
  // A key scoped to this dataset, so other tests' datasets never mix in (unless a key is given).
  const key = opts.key ?? (await createKey(t, { label: "seeded", datasets: [dataset.id] })).raw_key;
  const grid = opts.challengeType === "grid_select" || opts.challengeType === "select_all";
  const gt = new Map<string, string | number[]>();
  const items: Record<string, unknown>[] = [];
  const tag = randomBytes(3).toString("hex");
  for (let i = 0; i < (opts.gt ?? 0); i++) {
    const ref = `https://example.com/${tag}/gt-${i}.jpg`;
    const answer = grid ? [i % 9, (i + 4) % 9].sort((a, b) => a - b) : i % 2 === 0 ? "yes" : "no";
    gt.set(ref, answer);
    items.push({ dataset_id: dataset.id, data_ref: ref, modality, ground_truth: answer });
  }
  const unknownRefs: string[] = [];
  for (let i = 0; i < (opts.unknown ?? 0); i++) {
    const ref = `https://example.com/${tag}/unknown-${i}.jpg`;
    unknownRefs.push(ref);
    items.push({ dataset_id: dataset.id, data_ref: ref, modality });
  }
  for (let start = 0; start < items.length; start += 1000) {
    const res = await clients(t)
      .api(key)
      .post("/api/v1/data/items", { items: items.slice(start, start + 1000) });
    expect(res.status).toBe(201);
  }
  return { datasetId: dataset.id, key, gt, unknownRefs };
}

let visitorSeq = 0;

/** One visitor: its own User-Agent, so its own client hash (IP is always 127.0.0.1 in tests). */
export function visitor(
  t: TestServer,
  key: string,
  userAgent = `Mozilla/5.0 visitor-${++visitorSeq}-${randomBytes(4).toString("hex")}`,
) {
  const headers = { "x-hiveguard-key": key, "user-agent": userAgent };
  return {
    userAgent,
    generate: (modality?: string, via: "query" | "path" = "query"): Promise<Answer> =>
      call(
        t,
        modality === undefined
          ? "/api/v1/challenge/generate"
          : via === "path"
            ? `/api/v1/challenge/generate/${modality}`
            : `/api/v1/challenge/generate?modality=${modality}`,
        { headers },
      ),
    submit: (body: unknown, server: TestServer = t): Promise<Answer> =>
      call(server, "/api/v1/challenge/submit", send("POST", body, headers)),
  };
}

/**
 * Answers a challenge: the ground-truth item right (or wrong with `gtWrong`), the other item with
 * `unknownAnswer` (default "yes"). Knows which item is which only from the test's own data_refs.
 */
export function answersFor(
  challenge: any,
  seeded: Pick<Seeded, "gt">,
  opts: { gtWrong?: boolean; unknownAnswer?: string | number[]; by?: "id" | "slot" } = {},
) {
  return {
    challenge_id: challenge.challenge_id,
    responses: challenge.items.map((item: any) => {
      const known = seeded.gt.get(item.data_ref);
      const itemId = opts.by === "slot" ? item.slot : item.id;
      if (known === undefined) return { item_id: itemId, answer: opts.unknownAnswer ?? "yes" };
      const answer = opts.gtWrong
        ? Array.isArray(known)
          ? known.length === 1 && known[0] === 0
            ? [1]
            : [0]
          : known === "yes"
            ? "no"
            : "yes"
        : known;
      return { item_id: itemId, answer };
    }),
  };
}

export function gtOf(challenge: any, seeded: Pick<Seeded, "gt">): any {
  return challenge.items.find((item: any) => seeded.gt.has(item.data_ref));
}
