import { randomInt, randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { Database } from "../../../platform/db.js";
import { UnavailableError, type ValidationIssue } from "../../../platform/errors.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { MetricsService } from "../metrics/service.js";
import type { RuntimeConfig } from "../runtime-config/runtime-config.schema.js";
import type { RuntimeConfigService } from "../runtime-config/service.js";
import { GRID_TYPES, isoDate, type Modality } from "../shared.schema.js";
import { answerIssue, canonicalAnswer, canonicalStored, sameAnswer, throwIfIssues } from "./answers.js";
import {
  type ChallengeItemOut,
  type ChallengeOut,
  GRID_COLS,
  GRID_ROWS,
  type SubmitInput,
  type SubmitResult,
} from "./challenge.schema.js";
import { ChallengeStateStore, opaqueId, type StoredChallenge, type StoredItem } from "./challenge-state.js";
import type { ClientHasher, ClientInfo } from "./client.js";
import type { ConsensusService, VoteInput } from "./consensus.js";
import type { ChallengeRateLimits } from "./rate-limits.js";
import { ChallengeSelector, type PickedItem, shuffle } from "./selection.js";
import type { TokenService } from "./token.js";

/** Who asks for or answers a challenge. */
export interface Requester {
  /** The API key's id; null for the hosted challenge page (which draws from every dataset). */
  keyId: string | null;
  /** Dataset ids the key may use; null = all. */
  scope: string[] | null;
  /** Fraction of generate calls that get a challenge (the key's sample_rate). */
  sampleRate: number;
  client: ClientInfo;
  /** Request headers the risk model looks at (never stored raw). */
  headers: { acceptLanguage?: string; accept?: string };
}

export type BypassReason = "sampled" | "no-gt-pool";

export type GenerateResult =
  { kind: "challenge"; challenge: ChallengeOut } | { kind: "bypass"; reason: BypassReason };

/** Scores a submitted session; 1.0 = surely human. The risk-model issue plugs its model in here. */
export interface RiskScorer {
  score(features: SessionFeatures): Promise<number>;
}

/** What a session records for the risk model (`challenge_sessions.features`); see ml/features.ts. */
export type SessionFeatures = Record<string, number | string | boolean | null>;

/** Until a model is trained every response scores 1.0: it passes on ground truth alone. */
export const noModel: RiskScorer = { score: async () => 1.0 };

export interface ChallengeServiceDeps {
  prisma: PrismaClient;
  /** The raw driver for the statements of every generate and submit (Prisma costs more CPU per call). */
  db: Pick<Database, "queryRows">;
  state: StateStore;
  runtimeConfig: RuntimeConfigService;
  metrics: MetricsService;
  consensus: ConsensusService;
  tokens: TokenService;
  clients: ClientHasher;
  rateLimits: ChallengeRateLimits;
  risk?: RiskScorer;
  log: Logger;
  now?: () => number;
}

const HOSTED_KEY = "hosted-page";
const HEADLESS_UA =
  /headless|phantomjs|selenium|puppeteer|playwright|bot|crawl|spider|curl|wget|python|go-http|java\//i;

/**
 * Generate and submit: the ladder (selection.ts), the live state (challenge-state.ts), answers, votes and
 * consensus (consensus.ts), session features, metrics and the token.
 */
export class ChallengeService {
  private readonly prisma: PrismaClient;
  private readonly challenges: ChallengeStateStore;
  private readonly selector: ChallengeSelector;
  private readonly now: () => number;
  private readonly risk: RiskScorer;

  constructor(private readonly deps: ChallengeServiceDeps) {
    this.prisma = deps.prisma;
    this.challenges = new ChallengeStateStore(deps.state);
    this.selector = new ChallengeSelector(deps.db);
    this.now = deps.now ?? Date.now;
    this.risk = deps.risk ?? noModel;
  }

  /** The proxy (and the hosted page) verify tokens with this. */
  get tokens(): TokenService {
    return this.deps.tokens;
  }

  async generate(who: Requester, modality?: Modality): Promise<GenerateResult> {
    const config = await this.deps.runtimeConfig.get();
    const client = this.deps.clients.hash(who.client);
    // The served-items read runs beside the rate-limit check (it changes nothing if the check refuses).
    const [, exclude, previousGenerate] = await Promise.all([
      this.deps.rateLimits.check("generate", { ip: who.client.ip, keyId: who.keyId ?? HOSTED_KEY }, config),
      this.challenges.servedTo(client),
      this.deps.state.get(lastGenerateKey(client)),
    ]);
    if (who.sampleRate < 1 && randomInt(0, 1_000_000) >= who.sampleRate * 1_000_000) {
      return { kind: "bypass", reason: "sampled" };
    }

    const selection = await this.selector.select({ modality, scope: who.scope, client, exclude });
    if (selection.tier === 4) {
      if (config.fail_mode === "closed") throw new UnavailableError("Challenge pool empty");
      return { kind: "bypass", reason: "no-gt-pool" };
    }

    const challengeId = opaqueId("chal_");
    const sessionId = randomUUID();
    const issuedAt = this.now();
    const expiresAt = issuedAt + config.challenge_lifetime * 1000;
    const picked = shuffle(
      selection.unknown
        ? [
            { item: selection.gt, role: "gt" as const },
            { item: selection.unknown, role: "unknown" as const },
          ]
        : [{ item: selection.gt, role: "gt" as const }],
    );
    const stored: StoredItem[] = picked.map(({ item, role }, index) => ({
      publicId: opaqueId("itm_"),
      slot: index === 0 ? "a" : "b",
      itemId: item.id,
      role,
      type: item.challengeType,
      choices: item.choices,
      gt:
        role === "gt"
          ? canonicalStored(item.groundTruth, { type: item.challengeType, choices: item.choices })
          : null,
    }));
    const previousAt = previousGenerate === null ? null : Number(previousGenerate);
    const challenge: StoredChallenge = {
      v: 1,
      tier: selection.tier,
      msSincePrevGenerate:
        previousAt !== null && Number.isFinite(previousAt) ? Math.max(0, issuedAt - previousAt) : null,
      solver: selection.solver,
      keyId: who.keyId,
      client,
      sessionId,
      modality: selection.modality,
      issuedAt,
      expiresAt,
      items: stored,
    };

    await Promise.all([
      this.challenges.save(challengeId, challenge),
      selection.unknown ? this.challenges.markServed(client, selection.unknown.id) : null,
      this.deps.state.incrMany([
        ...this.deps.metrics.servedIncrements(1, selection.tier),
        { key: rateKey(client, issuedAt), ttlMs: 120_000 },
      ]),
      this.deps.state.set(lastGenerateKey(client), String(issuedAt), { ttlMs: LAST_GENERATE_TTL_MS }),
    ]);

    return {
      kind: "challenge",
      challenge: {
        challenge_id: challengeId,
        items: picked.map(({ item }, index) => toWireItem(item, stored[index]!)),
        expires_at: isoDate(new Date(expiresAt)),
      },
    };
  }

  /**
   * Unknown, expired, already used, or generated for another client or key: `{passed: false, token: null}`
   * (200). Responses that do not fit the challenge (an item missing or unknown, an answer of the wrong
   * form): 422 naming the field, and the challenge stays usable.
   */
  async submit(who: Requester, input: SubmitInput): Promise<SubmitResult> {
    const config = await this.deps.runtimeConfig.get();
    const client = this.deps.clients.hash(who.client);
    // The peek (a read) runs beside the rate-limit check; nothing is spent before the check passes.
    const [, peeked] = await Promise.all([
      this.deps.rateLimits.check("submit", { ip: who.client.ip, keyId: who.keyId ?? HOSTED_KEY }, config),
      this.challenges.peek(input.challenge_id),
    ]);
    const failed = async (): Promise<SubmitResult> => {
      await this.deps.metrics.recordChallengeResult(false);
      return { passed: false, token: null };
    };

    // Someone else's challenge is not spent by a stranger's attempt.
    if (!peeked || peeked.client !== client || peeked.keyId !== who.keyId) return failed();
    const answers = matchResponses(peeked, input);

    const submittedAt = this.now();
    // The client's generate count this minute (a feature) is read in the same state-store round trip.
    const [challenge, minute] = await Promise.all([
      this.challenges.take(input.challenge_id),
      this.deps.state.get(rateKey(client, submittedAt)),
    ]);
    if (!challenge) return failed(); // answered by a concurrent request a moment ago
    if (submittedAt > challenge.expiresAt) {
      await this.recordSession(input.challenge_id, challenge, {
        outcome: "expired",
        submittedAt,
        gtCorrect: null,
        riskScore: null,
      });
      return failed();
    }

    const gtItem = challenge.items.find((item) => item.role === "gt")!;
    const unknown = challenge.items.find((item) => item.role === "unknown");
    const gtAnswer = answers.get(gtItem.publicId)!;
    // Always one constant-time comparison, whatever the answer.
    const gtCorrect = sameAnswer(gtAnswer, gtItem.gt ?? "\0no ground truth");

    const features = {
      ...this.submitFeatures(challenge, who, submittedAt, minute),
      gt_correct: gtCorrect,
      solver_gt_correct: challenge.solver?.gtCorrect ?? 0,
      solver_gt_total: challenge.solver?.gtTotal ?? 0,
    };
    const riskScore = gtCorrect ? await this.risk.score(features) : 0;
    const passed = gtCorrect && riskScore >= config.risk_threshold;
    const vote: VoteInput | null =
      gtCorrect && unknown
        ? {
            itemId: unknown.itemId,
            solverId: client,
            sessionId: challenge.sessionId,
            answer: answers.get(unknown.publicId)!,
            type: unknown.type,
            choices: unknown.choices,
          }
        : null;
    // One statement: the session row, the solver's record and, in the common case, the vote.
    const tried = await this.recordSession(input.challenge_id, challenge, {
      outcome: passed ? "passed" : "failed",
      submittedAt,
      gtCorrect,
      riskScore,
      features,
      vote: vote ? { answer: vote.answer, config } : undefined,
    });

    const [settled, , token] = await Promise.all([
      vote ? this.deps.consensus.settleVote(vote, tried, config) : null,
      this.deps.metrics.recordChallengeResult(passed),
      passed
        ? this.deps.tokens.sign({ client, ttlSec: config.challenge_token_ttl, tier: challenge.tier })
        : null,
    ]);
    if (settled && !settled.recorded) {
      this.deps.log.debug({ sessionId: challenge.sessionId, reason: settled.reason }, "vote not recorded");
    }
    return passed ? { passed: true, token } : { passed: false, token: null };
  }

  /** A token for a client let through without a challenge (fail-open, empty pool): the hosted page's case. */
  async bypassToken(client: ClientInfo, reason: BypassReason): Promise<string> {
    const config = await this.deps.runtimeConfig.get();
    return this.deps.tokens.sign({
      client: this.deps.clients.hash(client),
      ttlSec: config.challenge_token_ttl,
      bypass: reason,
    });
  }

  private submitFeatures(
    challenge: StoredChallenge,
    who: Requester,
    submittedAt: number,
    minute: string | null,
  ) {
    return {
      ...generateFeatures(who),
      time_to_answer_ms: submittedAt - challenge.issuedAt,
      ms_since_prev_generate: challenge.msSincePrevGenerate ?? null,
      tier: challenge.tier,
      modality: challenge.modality,
      challenge_type:
        challenge.items.find((item) => item.role === "unknown")?.type ?? challenge.items[0]!.type,
      client_generates_this_minute: Number(minute ?? 0),
    };
  }

  /**
   * Writes the challenge's session row with its outcome (`hiveguard_submit`, see its migration); for an
   * answered challenge, also the solver's ground-truth record and, when there is one, the vote. Returns
   * what became of the vote (see ConsensusService.settleVote).
   */
  private async recordSession(
    challengeId: string,
    challenge: StoredChallenge,
    result: {
      outcome: "passed" | "failed" | "expired";
      submittedAt: number;
      gtCorrect: boolean | null;
      riskScore: number | null;
      features?: SessionFeatures;
      vote?: { answer: string; config: RuntimeConfig };
    },
  ): Promise<{ outcome: string | null; state: string | null }> {
    const gt = challenge.items.find((item) => item.role === "gt")!;
    const unknown = challenge.items.find((item) => item.role === "unknown");
    const [[outcome, state]] = (await this.deps.db.queryRows(
      `SELECT outcome, item_state FROM hiveguard_submit($1::uuid, $2, $3::uuid, $4, $5, $6::modality,
         $7::challenge_type, $8::uuid, $9::uuid, $10, $11, $12, $13, $14::session_outcome, $15::jsonb, $16, $17, $18)`,
      [
        challenge.sessionId,
        challengeId,
        challenge.keyId,
        challenge.client,
        challenge.tier,
        challenge.modality,
        (unknown ?? gt).type,
        gt.itemId,
        unknown?.itemId ?? null,
        challenge.issuedAt,
        result.submittedAt,
        result.gtCorrect,
        result.riskScore,
        result.outcome,
        result.features ? JSON.stringify(result.features) : null,
        result.vote?.answer ?? null,
        result.vote?.config.consensus_min_votes ?? null,
        result.vote?.config.consensus_threshold ?? null,
      ],
    )) as [[string | null, string | null]];
    return { outcome, state };
  }
}

/**
 * Each item of the challenge answered exactly once, by id or slot, in the item's answer form; returns the
 * canonical answers by public id, or throws a 422 naming every bad field.
 */
function matchResponses(challenge: StoredChallenge, input: SubmitInput): Map<string, string> {
  const issues: ValidationIssue[] = [];
  const answers = new Map<string, string>();
  input.responses.forEach((response, index) => {
    const item = challenge.items.find(
      (candidate) => candidate.publicId === response.item_id || candidate.slot === response.item_id,
    );
    if (!item) {
      issues.push({
        loc: ["body", "responses", index, "item_id"],
        msg: "not an item of this challenge",
        type: "value_error",
      });
      return;
    }
    if (answers.has(item.publicId)) {
      issues.push({
        loc: ["body", "responses", index, "item_id"],
        msg: "answered twice",
        type: "value_error",
      });
      return;
    }
    const canonical = canonicalAnswer(response.answer, { type: item.type, choices: item.choices });
    if ("error" in canonical) issues.push(answerIssue(index, canonical.error));
    else answers.set(item.publicId, canonical.value);
  });
  if (issues.length === 0) {
    challenge.items.forEach((item) => {
      if (!answers.has(item.publicId))
        issues.push({ loc: ["body", "responses"], msg: `no answer for item ${item.slot}`, type: "missing" });
    });
  }
  throwIfIssues(issues);
  return answers;
}

function toWireItem(item: PickedItem, stored: StoredItem): ChallengeItemOut {
  const grid = GRID_TYPES.has(item.challengeType);
  return {
    id: stored.publicId,
    slot: stored.slot,
    data_ref: item.dataRef,
    modality: item.modality,
    prompt: item.prompt,
    challenge_type: item.challengeType,
    choices: grid ? [] : item.choices,
    grid: grid ? { rows: GRID_ROWS, cols: GRID_COLS } : null,
  };
}

function generateFeatures(who: Requester): SessionFeatures {
  return {
    ua_length: who.client.userAgent.length,
    ua_automation: HEADLESS_UA.test(who.client.userAgent),
    has_accept_language: Boolean(who.headers.acceptLanguage),
    has_accept: Boolean(who.headers.accept),
  };
}

/** The client's previous generate time, for the `ms_since_prev_generate` feature (forgotten after an hour). */
const LAST_GENERATE_TTL_MS = 3600_000;
function lastGenerateKey(client: string): string {
  return `challenge:last-generate:${client}`;
}

function rateKey(client: string, at: number): string {
  return `challenge:rate:${client}:${Math.floor(at / 60_000)}`;
}
