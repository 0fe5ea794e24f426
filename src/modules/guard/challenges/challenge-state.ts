import { randomBytes } from "node:crypto";
import type { StateStore } from "../../../platform/state/index.js";
import type { ChallengeType, Modality } from "../shared.schema.js";
import type { Slot } from "./challenge.schema.js";
import type { FailureState } from "./escalation.js";

/** One item of a served challenge as the server remembers it (never sent to the client as such). */
export interface StoredItem {
  /** The opaque per-challenge id the client saw. */
  publicId: string;
  slot: Slot;
  itemId: string;
  role: "gt" | "unknown";
  type: ChallengeType;
  choices: string[];
  /** Canonical ground truth (gt items only). */
  gt: string | null;
}

export interface StoredChallenge {
  v: 1;
  tier: 1 | 2 | 3;
  /** Time since the same client's previous generate (null: none within the hour; absent in older states). */
  msSincePrevGenerate?: number | null;
  /** The client's ground-truth record when it was served (absent in older states: read as none). */
  solver?: { gtCorrect: number; gtTotal: number };
  /** Product of the ground-truth items' guess rates (absent in older states). */
  guessRate?: number;
  /** The guess rate allowed for this client when it was served (max_guess_rate after escalation). */
  allowedGuessRate?: number;
  /** The client's and its network's recent failures when it was served (escalation.ts). */
  failures?: FailureState;
  /** The client's earlier answer times (ln seconds): count, mean, sum of squared deviations (Welford). */
  answerTimes?: AnswerTimes;
  /** API key that generated it (null for the hosted page). */
  keyId: string | null;
  client: string;
  sessionId: string;
  modality: Modality;
  issuedAt: number;
  expiresAt: number;
  items: StoredItem[];
}

export interface AnswerTimes {
  n: number;
  mean: number;
  m2: number;
}

const PREFIX = "challenge:";
const SERVED_PREFIX = "challenge:served:";
/** How long the server remembers which unknown items a client was shown. */
const SERVED_TTL_MS = 24 * 3600 * 1000;
/** At most this many remembered items per client (bots asking for thousands are rate-limited long before). */
export const SERVED_MAX = 500;

/** Random, URL-safe, unguessable ids (128 bits). */
export function opaqueId(prefix: string): string {
  return `${prefix}${randomBytes(16).toString("base64url")}`;
}

/**
 * Live challenges in the state store (Redis in production) under their id, with a TTL equal to their
 * lifetime. `take` is an atomic GETDEL: of any number of concurrent submits on any number of instances,
 * exactly one gets the challenge.
 */
export class ChallengeStateStore {
  constructor(private readonly state: StateStore) {}

  async save(id: string, challenge: StoredChallenge): Promise<void> {
    await this.state.set(`${PREFIX}${id}`, JSON.stringify(challenge), {
      ttlMs: challenge.expiresAt - challenge.issuedAt,
    });
  }

  async peek(id: string): Promise<StoredChallenge | null> {
    return parse(await this.state.get(`${PREFIX}${id}`));
  }

  async take(id: string): Promise<StoredChallenge | null> {
    return parse(await this.state.take(`${PREFIX}${id}`));
  }

  /** Unknown items this client has been shown recently (never served to it again). */
  async servedTo(client: string): Promise<string[]> {
    return this.state.smembers(`${SERVED_PREFIX}${client}`);
  }

  async markServed(client: string, itemId: string): Promise<void> {
    const key = `${SERVED_PREFIX}${client}`;
    // Sent together (one round trip on Redis, where concurrent commands are pipelined).
    await Promise.all([this.state.sadd(key, itemId), this.state.expire(key, SERVED_TTL_MS)]);
  }
}

function parse(raw: string | null): StoredChallenge | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as StoredChallenge;
    return value.v === 1 ? value : null;
  } catch {
    return null;
  }
}
