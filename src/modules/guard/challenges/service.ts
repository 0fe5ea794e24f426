import { randomInt, randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { Database } from "../../../platform/db.js";
import {
  ForbiddenError,
  TooManyRequestsError,
  UnavailableError,
  type ValidationIssue,
} from "../../../platform/errors.js";
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
  SLOTS,
  type SubmitInput,
  type SubmitResult,
} from "./challenge.schema.js";
import {
  type AnswerTimes,
  ChallengeStateStore,
  opaqueId,
  type StoredChallenge,
  type StoredItem,
} from "./challenge-state.js";
import type { ClientHasher, ClientInfo } from "./client.js";
import type { ConsensusService, VoteInput } from "./consensus.js";
import { allowedGuessRate, Escalation } from "./escalation.js";
import type { ChallengeRateLimits } from "./rate-limits.js";
import { ChallengeSelector, type PickedItem, shuffle } from "./selection.js";
import { type SubmitBatchSettings, SubmitWriter } from "./submit-writer.js";
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
  /**
   * Hostname of the page the widget runs on (the request's Origin, else its Referer); null when it names
   * none. Goes into the token for siteverify (issue 19).
   */
  hostname?: string | null;
  /** Hostnames the key may be used on as a site key (subdomains included); empty or absent = any. */
  allowedHostnames?: string[];
}

/** `hostname` is one of `allowed` or a subdomain of one (an empty list allows any). */
export function hostnameAllowed(hostname: string | null | undefined, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  if (!hostname) return false;
  const host = hostname.toLowerCase();
  return allowed.some((entry) => host === entry || host.endsWith(`.${entry}`));
}

/** Refuses a site key used on a page whose hostname is not among the key's (when the request names one). */
function checkHostname(who: Requester, required: boolean): void {
  const allowed = who.allowedHostnames ?? [];
  if (allowed.length === 0) return;
  if (!who.hostname && !required) return;
  if (!hostnameAllowed(who.hostname, allowed))
    throw new ForbiddenError(
      who.hostname
        ? `This site key may not be used on ${who.hostname}`
        : "This site key needs the page's Origin or Referer",
    );
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
  /** Group commit of the submits' writes (defaults: DEFAULT_SUBMIT_BATCH). */
  submitBatch?: SubmitBatchSettings;
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
  private readonly escalation: Escalation;
  /** Session rows, solver records and votes of concurrent submits share one write (submit-writer.ts). */
  readonly writer: SubmitWriter;

  constructor(private readonly deps: ChallengeServiceDeps) {
    this.writer = new SubmitWriter(deps.db, deps.submitBatch);
    this.escalation = new Escalation(deps.state);
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
    checkHostname(who, false);
    const config = await this.deps.runtimeConfig.get();
    const client = this.deps.clients.hash(who.client);
    const now = this.now();
    // The served-items, failure and answer-time reads run beside the rate-limit check (they change nothing
    // if the check refuses); on Redis they share its round trip.
    const [, exclude, previousGenerate, failures, answerTimes] = await Promise.all([
      this.deps.rateLimits.check("generate", { ip: who.client.ip, keyId: who.keyId ?? HOSTED_KEY }, config),
      this.challenges.servedTo(client),
      this.deps.state.get(lastGenerateKey(client)),
      this.escalation.read(client, who.client.ip, config, now),
      this.deps.state.get(answerTimesKey(client)),
    ]);
    // Escalation: past the threshold of recent failures (client + share of its network), no challenge at all.
    const wait = this.escalation.retryAfter(config, now, failures);
    if (wait !== null) {
      throw new TooManyRequestsError(wait, `Too many failed challenges; retry in ${wait} s`);
    }
    if (who.sampleRate < 1 && randomInt(0, 1_000_000) >= who.sampleRate * 1_000_000) {
      return { kind: "bypass", reason: "sampled" };
    }

    const allowed = allowedGuessRate(config, failures.failures);
    const selection = await this.selector.select({
      modality,
      scope: who.scope,
      client,
      exclude,
      maxGuessRate: allowed,
      maxGtItems: config.max_gt_items,
    });
    if (selection.tier === 4) {
      if (config.fail_mode === "closed") throw new UnavailableError("Challenge pool empty");
      return { kind: "bypass", reason: "no-gt-pool" };
    }

    const challengeId = opaqueId("chal_");
    const sessionId = randomUUID();
    const issuedAt = this.now();
    const expiresAt = issuedAt + config.challenge_lifetime * 1000;
    const picked = shuffle([
      ...selection.gts.map((item) => ({ item, role: "gt" as const })),
      ...(selection.unknown ? [{ item: selection.unknown, role: "unknown" as const }] : []),
    ]);
    const stored: StoredItem[] = picked.map(({ item, role }, index) => ({
      publicId: opaqueId("itm_"),
      slot: SLOTS[index]!,
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
      guessRate: selection.guessRate,
      allowedGuessRate: allowed,
      failures,
      answerTimes: parseAnswerTimes(answerTimes),
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
    this.deps.metrics.notifyChanged();

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
    // A browser sends Origin with every POST: a site key limited to hostnames needs one of them here.
    checkHostname(who, true);
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
    // A challenge_id this client was never served (made up, someone else's, already answered) is not a
    // failed challenge: it has its own counter, so it cannot drag the solve rate down.
    const invalid = async (): Promise<SubmitResult> => {
      await this.deps.metrics.recordInvalidSubmit();
      return { passed: false, token: null };
    };

    // Someone else's challenge is not spent by a stranger's attempt.
    if (!peeked || peeked.client !== client || peeked.keyId !== who.keyId) return invalid();
    const answers = matchResponses(peeked, input);

    const submittedAt = this.now();
    // The client's generate count this minute (a feature) is read in the same state-store round trip.
    const [challenge, minute] = await Promise.all([
      this.challenges.take(input.challenge_id),
      this.deps.state.get(rateKey(client, submittedAt)),
    ]);
    if (!challenge) return invalid(); // answered (and counted) by a concurrent request a moment ago
    if (submittedAt > challenge.expiresAt) {
      await this.recordSession(input.challenge_id, challenge, {
        outcome: "expired",
        submittedAt,
        gtCorrect: null,
        riskScore: null,
      });
      return failed();
    }

    const unknown = challenge.items.find((item) => item.role === "unknown");
    // Every ground-truth item compared (constant time each, no early exit): all must be right.
    let gtCorrect = true;
    for (const item of challenge.items) {
      if (item.role !== "gt") continue;
      const right = sameAnswer(answers.get(item.publicId)!, item.gt ?? "\0no ground truth");
      gtCorrect = gtCorrect && right;
    }

    const answerTimes = nextAnswerTimes(challenge.answerTimes, submittedAt - challenge.issuedAt);
    const features = {
      ...this.submitFeatures(challenge, who, submittedAt, minute),
      gt_correct: gtCorrect,
      solver_gt_correct: challenge.solver?.gtCorrect ?? 0,
      solver_gt_total: challenge.solver?.gtTotal ?? 0,
      client_recent_failures: round3(challenge.failures?.client ?? 0),
      network_recent_failures: round3(challenge.failures?.network ?? 0),
      client_answer_time_sd: round3(answerTimeSd(answerTimes)),
      gt_items: challenge.items.filter((item) => item.role === "gt").length,
      guess_rate: challenge.guessRate ?? null,
    };
    const riskScore = gtCorrect ? await this.risk.score(features) : 0;
    const passed = gtCorrect && riskScore >= config.risk_threshold;
    // Votes from suspicious sessions are held back: not counted (see docs/challenges.md, "Bots").
    const held = gtCorrect && unknown ? holdReason(challenge, riskScore, config) : null;
    const vote: VoteInput | null =
      gtCorrect && unknown && !held
        ? {
            itemId: unknown.itemId,
            solverId: client,
            sessionId: challenge.sessionId,
            answer: answers.get(unknown.publicId)!,
            type: unknown.type,
            choices: unknown.choices,
          }
        : null;
    // One write shared with concurrent submits (group commit): the session row, the solver's record, the vote.
    const tried = await this.recordSession(input.challenge_id, challenge, {
      outcome: passed ? "passed" : "failed",
      submittedAt,
      gtCorrect,
      riskScore,
      features: { ...features, vote_held: held },
      vote: vote ? { answer: vote.answer, config } : undefined,
    });

    const [settled, , token] = await Promise.all([
      vote ? this.deps.consensus.settleVote(vote, tried, config) : null,
      this.deps.metrics.recordChallengeResult(passed),
      passed
        ? this.deps.tokens.sign({
            client,
            ttlSec: config.challenge_token_ttl,
            tier: challenge.tier,
            ...this.siteClaims(who),
            ...(who.keyId !== null && { score: round3(riskScore) }),
          })
        : null,
      this.recordEscalation(client, challenge, passed),
      this.deps.state.set(answerTimesKey(client), JSON.stringify(answerTimes), {
        ttlMs: ANSWER_TIMES_TTL_MS,
      }),
    ]);
    if (settled && !settled.recorded) {
      this.deps.log.debug({ sessionId: challenge.sessionId, reason: settled.reason }, "vote not recorded");
    }
    return passed ? { passed: true, token } : { passed: false, token: null };
  }

  /**
   * A token for a client let through without a challenge (fail-open with an empty pool, or a key's sample
   * rate): the hosted page sets it as its cookie; a site key's generate hands it to the widget, so a site
   * that checks tokens with siteverify lets the visitor through too.
   */
  async bypassToken(client: ClientInfo, reason: BypassReason, who?: Requester): Promise<string> {
    const config = await this.deps.runtimeConfig.get();
    return this.deps.tokens.sign({
      client: this.deps.clients.hash(client),
      ttlSec: config.challenge_token_ttl,
      bypass: reason,
      ...(who && this.siteClaims(who)),
    });
  }

  /** What siteverify checks (issue 19): the site key, the page's hostname, the solver's IP. Keys only. */
  private siteClaims(who: Requester) {
    if (who.keyId === null) return {};
    return {
      site: who.keyId,
      hostname: who.hostname ?? "",
      ipHash: this.deps.tokens.ipHash(who.client.ip),
    };
  }

  /** A failure counts against the client and its network; a pass clears the client (escalation.ts). */
  private async recordEscalation(client: string, challenge: StoredChallenge, passed: boolean): Promise<void> {
    const failures = challenge.failures;
    if (!failures) return; // served by an older version
    if (passed) await this.escalation.recordPass(client, failures);
    else await this.deps.state.incrMany(this.escalation.failureIncrements(client, failures));
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
   * Writes the challenge's session row with its outcome; for an answered challenge, also the solver's
   * ground-truth record and, when there is one, the vote: with the submits of other requests in one
   * transaction (group commit, `hiveguard_submit_batch`, see its migration), answered once committed. Returns
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
    // The session row names the first ground-truth item; all of them are in the features (gt_items).
    const gt = challenge.items.find((item) => item.role === "gt")!;
    const unknown = challenge.items.find((item) => item.role === "unknown");
    return this.writer.write({
      session: challenge.sessionId,
      challenge: challengeId,
      apiKey: challenge.keyId,
      solver: challenge.client,
      tier: challenge.tier,
      modality: challenge.modality,
      challengeType: (unknown ?? gt).type,
      gtItem: gt.itemId,
      unknownItem: unknown?.itemId ?? null,
      issuedAtMs: challenge.issuedAt,
      submittedAtMs: result.submittedAt,
      correct: result.gtCorrect,
      riskScore: result.riskScore,
      outcome: result.outcome,
      features: result.features ?? null,
      answer: result.vote?.answer ?? null,
      minVotes: result.vote?.config.consensus_min_votes ?? null,
      threshold: result.vote?.config.consensus_threshold ?? null,
    });
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

/**
 * Why a right answer's vote is held back (not counted), or null: the client (or its network) had at least
 * `vote_hold_failures` recent failures when the challenge was served, or the risk model scored the session
 * below `vote_min_risk_score`.
 */
export function holdReason(
  challenge: Pick<StoredChallenge, "failures">,
  riskScore: number,
  config: Pick<RuntimeConfig, "vote_hold_failures" | "vote_min_risk_score">,
): "recent_failures" | "risk_score" | null {
  if ((challenge.failures?.failures ?? 0) >= config.vote_hold_failures) return "recent_failures";
  if (riskScore < config.vote_min_risk_score) return "risk_score";
  return null;
}

/** The client's answer times (ln(1 + seconds)), kept for an hour after its last answer. */
const ANSWER_TIMES_TTL_MS = 3600_000;
function answerTimesKey(client: string): string {
  return `challenge:answer-times:${client}`;
}

function parseAnswerTimes(raw: string | null): AnswerTimes | undefined {
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as AnswerTimes;
    return [value.n, value.mean, value.m2].every(Number.isFinite) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Welford's update with this answer's time. */
function nextAnswerTimes(previous: AnswerTimes | undefined, ms: number): AnswerTimes {
  const x = Math.log1p(Math.max(0, ms) / 1000);
  const { n, mean, m2 } = previous ?? { n: 0, mean: 0, m2: 0 };
  const delta = x - mean;
  const nextMean = mean + delta / (n + 1);
  return { n: n + 1, mean: nextMean, m2: m2 + delta * (x - nextMean) };
}

/** Sample standard deviation of ln(1 + answer seconds); 0 with fewer than two answers. */
function answerTimeSd(times: AnswerTimes): number {
  return times.n < 2 ? 0 : Math.sqrt(Math.max(0, times.m2) / (times.n - 1));
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function rateKey(client: string, at: number): string {
  return `challenge:rate:${client}:${Math.floor(at / 60_000)}`;
}
