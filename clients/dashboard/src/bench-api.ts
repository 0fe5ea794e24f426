// The benchmark section's client (docs/bench.md): bench users have their own accounts, so these calls carry
// the user's access token (JWT, 15 minutes, kept in memory only) as a Bearer header, never the dashboard
// session. The refresh token stays in its HttpOnly cookie (Path=/api/auth): a reload or an expired access
// token asks POST /api/auth/refresh for a new one, one request at a time (a refresh token is spent on use:
// two refreshes in parallel would present a spent token, and the server would revoke the whole session).

export interface BenchUser {
  id: string;
  email: string;
  role: string;
}

export class BenchError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(message);
  }

  /** Field → message of a 422 (`loc` without its leading "body"/"query"). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    if (Array.isArray(this.detail))
      for (const issue of this.detail as { loc?: unknown[]; msg?: string }[])
        out[(issue.loc ?? []).slice(1).join(".")] = issue.msg ?? "invalid";
    return out;
  }
}

let accessToken: string | null = null;
// Whether this browser holds a bench session (a hint only, the cookie itself is HttpOnly): without it the
// page does not ask for a refresh it knows would be refused.
const SESSION_HINT = "hiveguard:bench-session";
const hint = {
  get: () => localStorage.getItem(SESSION_HINT) === "1",
  set: (on: boolean) =>
    on ? localStorage.setItem(SESSION_HINT, "1") : localStorage.removeItem(SESSION_HINT),
};
let refreshing: Promise<BenchUser | null> | null = null;
const signedOut = new Set<() => void>();
export const onBenchSignedOut = (fn: () => void) => {
  signedOut.add(fn);
  return () => signedOut.delete(fn);
};

async function errorOf(response: Response): Promise<BenchError> {
  const body = (await response.json().catch(() => ({}))) as { error?: string; detail?: unknown };
  const retry = response.headers.get("retry-after");
  const message = body.error ?? (typeof body.detail === "string" ? body.detail : response.statusText);
  return new BenchError(
    retry && response.status === 429 ? `${message} (Retry-After: ${retry} s)` : message,
    response.status,
    body.detail,
  );
}

async function signIn(path: string, body?: unknown): Promise<BenchUser> {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    ...(body !== undefined && {
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  });
  if (!response.ok) throw await errorOf(response);
  const answer = (await response.json()) as { user: BenchUser; access_token: string };
  accessToken = answer.access_token;
  hint.set(true);
  return answer.user;
}

export const benchLogin = (email: string, password: string) => signIn("/api/auth/login", { email, password });
export const benchRegister = (email: string, password: string) =>
  signIn("/api/auth/register", { email, password });

/** A new access token from the refresh cookie, or null when there is no session (never two at once). */
export function benchRefresh(): Promise<BenchUser | null> {
  if (!hint.get()) return Promise.resolve(null);
  refreshing ??= signIn("/api/auth/refresh")
    .catch(() => {
      accessToken = null;
      hint.set(false);
      return null;
    })
    .finally(() => (refreshing = null));
  return refreshing;
}

export async function benchLogout(): Promise<void> {
  accessToken = null;
  hint.set(false);
  await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" }).catch(() => undefined);
}

/** A call with the access token; after a 401 the token is refreshed once and the call repeated. */
export async function benchFetch(path: string, init: RequestInit = {}, retried = false): Promise<Response> {
  const response = await fetch(path, {
    ...init,
    credentials: "same-origin",
    headers: { ...init.headers, ...(accessToken && { authorization: `Bearer ${accessToken}` }) },
  });
  if (response.status === 401 && !retried) {
    if (await benchRefresh()) return benchFetch(path, init, true);
    for (const fn of signedOut) fn();
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function benchJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await benchFetch(path, {
    method,
    ...(body !== undefined && {
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  });
  return (await response.json()) as T;
}

/**
 * Starts a benchmark (POST /api/benchmark) and hands each event of its stream to `onEvent` (upstream's
 * framing: one `data: <JSON>` line per event). EventSource cannot POST or send a Bearer header, so the
 * stream is read with fetch. Resolves when the stream ends; refusals before it opens (409, 422, 429) throw.
 */
export function streamBenchmark(
  body: unknown,
  onEvent: (event: BenchEvent) => void,
  onOpen?: (runId: string | null) => void,
): Promise<void> {
  return streamBenchEvents<BenchEvent>("/api/benchmark", body, onEvent, (headers) =>
    onOpen?.(headers.get("x-run-id")),
  );
}

/** Any of the bench's POST event streams (tool evals, the judge, ...), read as streamBenchmark reads its own. */
export async function streamBenchEvents<E>(
  path: string,
  body: unknown,
  onEvent: (event: E) => void,
  onOpen?: (headers: Headers) => void,
): Promise<void> {
  const response = await benchFetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  onOpen?.(response.headers);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of block.split("\n"))
        if (line.startsWith("data: ")) onEvent(JSON.parse(line.slice(6)) as E);
    }
  }
}

/** Downloads a file of an authenticated route (the Bearer header rules out a plain link). */
export async function benchDownload(path: string, fallbackName: string): Promise<void> {
  const response = await benchFetch(path);
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface BenchResult {
  type: "result";
  provider: string;
  provider_key: string;
  model: string;
  model_id: string;
  run: number;
  runs: number;
  context_tokens: number;
  ttft_ms: number;
  total_time_s: number;
  output_tokens: number;
  input_tokens: number;
  tokens_per_second: number;
  cost: number;
  success: boolean;
  error: string | null;
}

export type BenchEvent =
  | {
      type: "progress";
      current: number;
      total: number;
      provider: string;
      model: string;
      run: number;
      runs: number;
      context_tokens: number;
    }
  | BenchResult
  | { type: "skipped"; provider: string; model: string; context_tokens: number; reason: string }
  | { type: "heartbeat" }
  | { type: "cancelled" }
  | { type: "complete"; saved_to: string; run_id?: string | null }
  | { type: "error"; message: string; provider?: string };

export interface ModelConfig {
  model_id: string;
  display_name: string;
  context_window: number | null;
  input_cost_per_mtok: number | null;
  output_cost_per_mtok: number | null;
}
export interface ProviderConfig {
  provider_key: string;
  display_name: string;
  kind: string;
  api_base: string | null;
  api_key: string;
  model_id_prefix: string | null;
  models: ModelConfig[];
}
export interface BenchConfig {
  defaults: {
    max_tokens: number;
    temperature: number;
    context_tiers: number[];
    prompt: string;
  };
  providers: Record<string, ProviderConfig>;
}

export interface LeaderboardRow {
  model: string;
  provider: string;
  model_id: string;
  provider_key: string;
  avg_tps: number;
  avg_ttft_ms: number;
  avg_cost: number;
  total_runs: number;
  last_run: string | null;
}

export interface TrendSeries {
  model: string;
  model_id: string;
  provider: string;
  points: { timestamp: string; value: number | null; run_id: string }[];
}

export interface HistoryRun {
  id: string;
  timestamp: string;
  prompt: string;
  context_tiers: number[];
  results: BenchResult[];
  status: string;
  models: string[];
  runs: number;
}

/** Upstream's "YYYY-MM-DD HH:MM:SS" (UTC) → seconds since the epoch. */
export const benchTime = (timestamp: string) =>
  Date.parse(`${timestamp.replace(" ", "T").replace(/Z?$/, "")}Z`) / 1000;
