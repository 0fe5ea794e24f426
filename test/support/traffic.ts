// Synthetic challenge traffic through the real API (generate + submit over HTTP): human-like and bot-like
// visitors, for the risk-model tests and the `ml` benchmark. undici's `request` is used rather than fetch,
// because fetch adds Accept-Language and Accept headers of its own and the header signals matter here.
import { randomBytes } from "node:crypto";
import { request } from "undici";
import { seededRandom } from "../../src/modules/guard/risk/logistic.js";

export const TRAFFIC_CHOICES = ["cat", "dog", "bird", "fish"];

export interface TrafficTarget {
  url: string;
  dashboardAuth: string;
}

export interface TrafficSite {
  key: string;
  /** data_ref → ground-truth answer (the test's own knowledge; the client never learns which item is GT). */
  answers: Map<string, string>;
}

export type VisitorKind = "human" | "bot";

export interface SessionResult {
  kind: VisitorKind;
  gtCorrect: boolean;
  passed: boolean;
  token: string | null;
}

export interface VisitorProfile {
  kind: VisitorKind;
  userAgent: string;
  headers: Record<string, string>;
  /** Milliseconds between reading the challenge and submitting it. */
  thinkMs: () => number;
  /** Milliseconds between one submit and the next generate. */
  pauseMs: () => number;
  /** Probability of answering the ground-truth item right. */
  accuracy: number;
  sessions: number;
}

async function http(
  target: { url: string },
  path: string,
  opts: { method?: "GET" | "POST"; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: any }> {
  const response = await request(`${target.url}${path}`, {
    method: opts.method ?? "GET",
    headers: {
      ...opts.headers,
      ...(opts.body !== undefined && { "content-type": "application/json" }),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await response.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.statusCode, body };
}

function expectStatus(answer: { status: number; body: unknown }, status: number, what: string) {
  if (answer.status !== status)
    throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
}

/**
 * A dataset of `gt` ground-truth items (4 choices, so a guessing bot is right 1 time in 4) and `unknown`
 * unlabeled ones, a key scoped to it, and challenge rate limits raised (every visitor shares 127.0.0.1).
 */
export async function setUpTrafficSite(
  target: TrafficTarget,
  opts: { gt?: number; unknown?: number } = {},
): Promise<TrafficSite> {
  const dash = { authorization: target.dashboardAuth };
  expectStatus(
    await http(target, "/dashboard/api/config", {
      method: "POST",
      headers: dash,
      // One ground-truth item, no escalation (issue 18): every simulated visitor shares 127.0.0.1.
      body: {
        challenge_rate_limit_ip: 1_000_000,
        challenge_rate_limit_key: 10_000_000,
        max_guess_rate: 1,
        escalation_factor: 1,
        escalation_block_after: 1000,
        vote_hold_failures: 1000,
        vote_min_risk_score: 0,
      },
    }),
    200,
    "raise rate limits",
  );
  const tag = randomBytes(3).toString("hex");
  const dataset = await http(target, "/dashboard/api/item-datasets", {
    method: "POST",
    headers: dash,
    body: {
      name: `traffic-${tag}`,
      modality: "image",
      prompt: "What animal is this?",
      choices: TRAFFIC_CHOICES,
    },
  });
  expectStatus(dataset, 201, "create dataset");
  const key = await http(target, "/dashboard/api/apikeys", {
    method: "POST",
    headers: dash,
    body: { label: `traffic-${tag}`, datasets: [dataset.body.id] },
  });
  expectStatus(key, 201, "create key");
  const answers = new Map<string, string>();
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < (opts.gt ?? 200); i++) {
    const ref = `https://example.com/${tag}/gt-${i}.jpg`;
    const answer = TRAFFIC_CHOICES[i % TRAFFIC_CHOICES.length]!;
    answers.set(ref, answer);
    items.push({ dataset_id: dataset.body.id, data_ref: ref, modality: "image", ground_truth: answer });
  }
  for (let i = 0; i < (opts.unknown ?? 200); i++)
    items.push({
      dataset_id: dataset.body.id,
      data_ref: `https://example.com/${tag}/u-${i}.jpg`,
      modality: "image",
    });
  for (let start = 0; start < items.length; start += 1000) {
    expectStatus(
      await http(target, "/api/v1/data/items", {
        method: "POST",
        headers: { "x-hiveguard-key": key.body.raw_key },
        body: { items: items.slice(start, start + 1000) },
      }),
      201,
      "upload items",
    );
  }
  return { key: key.body.raw_key, answers };
}

const BROWSERS = [
  (v: number) =>
    `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`,
  (v: number) =>
    `Mozilla/5.0 (Macintosh; Intel Mac OS X 14.${v % 7}; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`,
  (v: number) =>
    `Mozilla/5.0 (iPhone; CPU iPhone OS 17_${v % 6} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${v % 6} Mobile/15E148 Safari/604.1`,
];
const LANGUAGES = ["en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.8", "es-ES,es;q=0.9,en;q=0.5"];
const BOT_AGENTS = [
  (v: number) =>
    `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/${v}.0.0.0 Safari/537.36`,
  (v: number) => `python-requests/2.${v % 32}.0`,
  (v: number) => `Go-http-client/1.${v % 2}`,
  // spoofs a browser, but sends no Accept-Language and answers at machine speed
  (v: number) =>
    `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`,
];

/**
 * Visitor profiles, deterministic for a seed. Humans: browser User-Agents, Accept and Accept-Language,
 * `thinkMs` (default 2.5–5 s, scaled by `timeScale`) per challenge, right 92 % of the time, 1–3 challenges
 * each. Bots: automation or spoofed User-Agents without Accept-Language, answer within 0–150 ms, guess
 * (right 1 time in 4), 4–10 challenges back to back.
 */
export function visitorProfiles(opts: {
  humans: number;
  bots: number;
  seed?: number;
  timeScale?: number;
  /** Bots that know the answers (to show the model refuses them anyway); default false. */
  oracleBots?: boolean;
  sessions?: number;
}): VisitorProfile[] {
  const random = seededRandom(opts.seed ?? 1);
  const scale = opts.timeScale ?? 1;
  const between = (low: number, high: number) => () => (low + (high - low) * random()) * scale;
  const version = () => 100 + Math.floor(random() * 30);
  const profiles: VisitorProfile[] = [];
  for (let i = 0; i < opts.humans; i++) {
    profiles.push({
      kind: "human",
      userAgent: `${BROWSERS[Math.floor(random() * BROWSERS.length)]!(version())} hg-sim/${randomBytes(3).toString("hex")}`,
      headers: {
        accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "accept-language": LANGUAGES[Math.floor(random() * LANGUAGES.length)]!,
      },
      thinkMs: between(2500, 5000),
      pauseMs: between(500, 1500),
      accuracy: 0.92,
      sessions: opts.sessions ?? 1 + Math.floor(random() * 3),
    });
  }
  for (let i = 0; i < opts.bots; i++) {
    const agent = BOT_AGENTS[i % BOT_AGENTS.length]!(version());
    profiles.push({
      kind: "bot",
      userAgent: `${agent} sim-${randomBytes(3).toString("hex")}`,
      headers: random() < 0.5 ? { accept: "*/*" } : {},
      thinkMs: () => random() * 150,
      pauseMs: () => random() * 30,
      accuracy: opts.oracleBots ? 1 : 0.25,
      sessions: opts.sessions ?? 4 + Math.floor(random() * 7),
    });
  }
  return profiles;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One visitor's challenges, one after the other; each answered right with the profile's accuracy. */
export async function runVisitor(
  target: { url: string },
  site: TrafficSite,
  profile: VisitorProfile,
  random: () => number = Math.random,
): Promise<SessionResult[]> {
  const headers = { "x-hiveguard-key": site.key, "user-agent": profile.userAgent, ...profile.headers };
  const results: SessionResult[] = [];
  for (let s = 0; s < profile.sessions; s++) {
    if (s > 0) await sleep(profile.pauseMs());
    const generated = await http(target, "/api/v1/challenge/generate", { headers });
    expectStatus(generated, 200, "generate");
    const challenge = generated.body;
    await sleep(profile.thinkMs());
    const right = random() < profile.accuracy;
    let gtCorrect = false;
    const responses = challenge.items.map((item: { id: string; data_ref: string }) => {
      const known = site.answers.get(item.data_ref);
      if (known === undefined)
        return { item_id: item.id, answer: TRAFFIC_CHOICES[Math.floor(random() * TRAFFIC_CHOICES.length)] };
      const wrong = TRAFFIC_CHOICES.filter((choice) => choice !== known);
      gtCorrect = right;
      return { item_id: item.id, answer: right ? known : wrong[Math.floor(random() * wrong.length)] };
    });
    const submitted = await http(target, "/api/v1/challenge/submit", {
      method: "POST",
      headers,
      body: { challenge_id: challenge.challenge_id, responses },
    });
    expectStatus(submitted, 200, "submit");
    results.push({
      kind: profile.kind,
      gtCorrect,
      passed: submitted.body.passed,
      token: submitted.body.token,
    });
  }
  return results;
}

/** Runs every visitor, at most `concurrency` at a time. */
export async function runTraffic(
  target: { url: string },
  site: TrafficSite,
  profiles: VisitorProfile[],
  opts: { concurrency?: number; seed?: number } = {},
): Promise<SessionResult[]> {
  const random = seededRandom(opts.seed ?? 7);
  const queue = [...profiles];
  const results: SessionResult[] = [];
  const worker = async () => {
    for (let profile = queue.shift(); profile; profile = queue.shift())
      results.push(...(await runVisitor(target, site, profile, random)));
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 32, profiles.length) }, worker));
  return results;
}

/**
 * The features a session of each kind records, drawn from the same distributions as the visitors above
 * without going through HTTP: for benchmarks at a scale the API cannot feed quickly (100,000 sessions).
 * `gt_correct` is drawn with the kind's accuracy (the training label).
 */
export function syntheticSessionFeatures(
  kind: VisitorKind,
  random: () => number,
): Record<string, number | string | boolean | null> {
  const human = kind === "human";
  const total = human ? Math.floor(random() * 3) : Math.floor(random() * 10);
  const accuracy = human ? 0.92 : 0.25;
  let correct = 0;
  for (let i = 0; i < total; i++) if (random() < accuracy) correct++;
  const agent = human
    ? BROWSERS[Math.floor(random() * BROWSERS.length)]!(100 + Math.floor(random() * 30)) + " hg-sim/abcdef"
    : BOT_AGENTS[Math.floor(random() * BOT_AGENTS.length)]!(100 + Math.floor(random() * 30)) + " sim-abcdef";
  const think = human ? 2500 + 2500 * random() : 5 + 150 * random() + 200 * random() * random();
  return {
    tier: 1,
    modality: "image",
    challenge_type: "image",
    ua_length: agent.length,
    ua_automation: /headless|python|go-http/i.test(agent),
    has_accept: human || random() < 0.5,
    has_accept_language: human,
    time_to_answer_ms: Math.round(think),
    ms_since_prev_generate:
      total === 0 ? null : Math.round(human ? think + 500 + 1000 * random() : think + 30 * random()),
    client_generates_this_minute: human ? total + 1 : Math.min(total + 1, 1 + Math.floor(random() * 10)),
    solver_gt_correct: correct,
    solver_gt_total: total,
    gt_correct: random() < accuracy,
  };
}
