/**
 * HiveGuard experiment tracking SDK (`hiveguard/tracking`).
 *
 *   const run = init({ project: "mnist", config: { lr: 1e-3 } });
 *   for (let epoch = 0; epoch < 10; epoch++) run.log({ loss, acc });
 *   await run.finish();            // 0 → completed, anything else → failed
 *
 * `log` returns at once: records are batched (≤ 10,000 points per request) and sent in the background.
 * When the server is unreachable, operations go to an on-disk queue (one JSONL file per run) retried with
 * exponential backoff, so a training script never fails or blocks because tracking is down. Every
 * operation is idempotent on the server (a metric step written twice keeps one value), so a batch replayed
 * after a lost response never duplicates points. `finish` flushes, waiting at most `finishTimeoutMs`; what
 * is still unsent then stays on disk and is sent by the next `init` of the same run or by `drainQueue`.
 */
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join } from "node:path";

export type MetricValue = number | "NaN" | "Infinity" | "-Infinity";

export interface MetricRecord {
  metrics: Record<string, MetricValue>;
  step: number;
  timestamp: number;
}

/** One operation of the tracking API; what the queue stores, one JSON line each. */
export type Operation =
  | {
      kind: "create";
      project: string;
      run: string;
      config?: Record<string, unknown>;
      tags?: string[];
      notes?: string;
    }
  | { kind: "metrics"; project: string; run: string; records: MetricRecord[] }
  | { kind: "config"; project: string; run: string; config: Record<string, unknown> }
  | { kind: "tags"; project: string; run: string; tags: string[] }
  | { kind: "finish"; project: string; run: string; exit_code: number }
  | { kind: "artifact"; project: string; run: string; path: string; name: string };

/**
 * Thrown by a transport when the operation may succeed later: the server is down or busy (5xx, 429), or it
 * refused the credentials (401/403; fixed credentials let the queue drain later). `reason` says which.
 */
export class RetryableError extends Error {
  override name = "RetryableError";
  constructor(
    message: string,
    readonly reason: "unreachable" | "unavailable" | "rejected" = "unavailable",
  ) {
    super(message);
  }
}

/** How operations reach a server: over HTTP (default), or in-process (the server logging to itself). */
export interface Transport {
  /** Resolves when applied; throws RetryableError to retry later, any other error drops the operation. */
  send(operation: Operation): Promise<void>;
}

export interface HttpTransportOptions {
  /** Server base URL. Default: $HIVEGUARD_URL, else http://localhost:8000. */
  url?: string;
  /**
   * Dashboard credentials (HTTP Basic; the server's DASHBOARD_USERNAME / DASHBOARD_PASSWORD). Default:
   * $HIVEGUARD_USERNAME / $HIVEGUARD_PASSWORD, else $HIVEGUARD_DASHBOARD_TOKEN (base64 of user:password), as the
   * CLI reads them.
   */
  username?: string;
  password?: string;
  /** Per-request timeout. Default 10 s. */
  requestTimeoutMs?: number;
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);

export class HttpTransport implements Transport {
  readonly url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: HttpTransportOptions = {}) {
    this.url = (options.url ?? process.env.HIVEGUARD_URL ?? "http://localhost:8000").replace(/\/+$/, "");
    const username = options.username ?? process.env.HIVEGUARD_USERNAME;
    const password = options.password ?? process.env.HIVEGUARD_PASSWORD;
    const token =
      username !== undefined && password !== undefined
        ? Buffer.from(`${username}:${password}`).toString("base64")
        : process.env.HIVEGUARD_DASHBOARD_TOKEN || undefined;
    this.#headers = token ? { authorization: `Basic ${token}` } : {};
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
  }

  async send(op: Operation): Promise<void> {
    const base = `${this.url}/tracker/api/v1/projects/${encodeURIComponent(op.project)}/runs`;
    const run = `${base}/${encodeURIComponent(op.run)}`;
    switch (op.kind) {
      case "create":
        return this.#json("POST", base, {
          name: op.run,
          config: op.config,
          tags: op.tags,
          notes: op.notes,
          resume: true, // init() opens or resumes; a replay after a lost answer must not be a 409
        });
      case "metrics":
        return this.#json("POST", `${run}/metrics`, { records: op.records });
      case "config":
        return this.#json("PUT", `${run}/config`, { config: op.config });
      case "tags":
        return this.#json("POST", `${run}/tags`, { tags: op.tags, add: true }); // without `add`, replaces
      case "finish":
        return this.#json("POST", `${run}/finish`, { exit_code: op.exit_code });
      case "artifact": {
        let bytes: Buffer;
        try {
          bytes = await readFile(op.path);
        } catch (error) {
          throw new Error(`artifact ${op.path} cannot be read: ${(error as Error).message}`);
        }
        const form = new FormData();
        form.append("name", op.name);
        form.append("file", new Blob([new Uint8Array(bytes)]), op.name);
        return this.#request("POST", `${run}/artifacts`, form, {});
      }
    }
  }

  #json(method: string, url: string, body: unknown): Promise<void> {
    return this.#request(method, url, JSON.stringify(body), { "content-type": "application/json" });
  }

  async #request(
    method: string,
    url: string,
    body: BodyInit,
    headers: Record<string, string>,
  ): Promise<void> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        body,
        headers: { ...this.#headers, ...headers },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new RetryableError(`tracking server unreachable: ${(error as Error).message}`, "unreachable");
    }
    const text = await response.text().catch(() => "");
    if (response.ok) return;
    const message = `${method} ${new URL(url).pathname} → ${response.status} ${text.slice(0, 300)}`;
    if (response.status === 401 || response.status === 403) {
      throw new RetryableError(
        this.#headers.authorization
          ? `${this.url} rejected the dashboard credentials (${response.status}): check HIVEGUARD_USERNAME / HIVEGUARD_PASSWORD`
          : `${this.url} needs credentials (${response.status}): set HIVEGUARD_USERNAME and HIVEGUARD_PASSWORD`,
        "rejected",
      );
    }
    if (response.status >= 500 || RETRYABLE_STATUS.has(response.status)) throw new RetryableError(message);
    throw new Error(message);
  }
}

export interface InitOptions extends HttpTransportOptions {
  project: string;
  /** Generated when absent (e.g. `brisk-otter-20250110-1a2b3c`). */
  name?: string;
  config?: Record<string, unknown>;
  tags?: string[];
  notes?: string;
  /** Where operations wait while the server is unreachable. Default $HIVEGUARD_TRACKING_QUEUE, else ~/.hiveguard/tracking-queue. */
  queueDir?: string;
  /** Send buffered records at least this often. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Points per request (server limit 10,000). */
  maxBatchPoints?: number;
  /** Backoff between retries while the server is down: doubles from `retryInitialMs` up to `retryMaxMs`. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** How long `finish` waits for the queue to drain before leaving the rest on disk. Default 30 s. */
  finishTimeoutMs?: number;
  /** Overrides HTTP (e.g. the server logging its own training runs in-process). */
  transport?: Transport;
  /** Warnings (dropped operations, server unreachable). Default: console.warn, once per kind of problem. */
  onWarning?: (message: string) => void;
}

const defaultQueueDir = () =>
  process.env.HIVEGUARD_TRACKING_QUEUE ?? join(homedir(), ".hiveguard", "tracking-queue");
const safeFile = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, "_");

export class Run {
  readonly project: string;
  readonly name: string;

  readonly #transport: Transport;
  readonly #queueFile: string;
  readonly #flushIntervalMs: number;
  readonly #maxBatchPoints: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #finishTimeoutMs: number;
  readonly #warn: (message: string) => void;

  #buffer: MetricRecord[] = [];
  #bufferPoints = 0;
  #ops: Operation[] = [];
  #nextStep = 0;
  #timer: NodeJS.Timeout | undefined;
  #pumping: Promise<void> | undefined;
  #backoffMs = 0;
  #retryAt = 0;
  #finished = false;
  readonly #onBeforeExit = () => void this.#exitFlush();

  constructor(options: InitOptions) {
    this.project = options.project;
    this.name = options.name ?? generateRunName();
    this.#transport = options.transport ?? new HttpTransport(options);
    const queueDir = options.queueDir ?? defaultQueueDir();
    this.#queueFile = join(queueDir, `${safeFile(this.project)}__${safeFile(this.name)}.jsonl`);
    this.#flushIntervalMs = options.flushIntervalMs ?? 1_000;
    this.#maxBatchPoints = Math.min(options.maxBatchPoints ?? 10_000, 10_000);
    this.#retryInitialMs = options.retryInitialMs ?? 500;
    this.#retryMaxMs = options.retryMaxMs ?? 30_000;
    this.#finishTimeoutMs = options.finishTimeoutMs ?? 30_000;
    const warned = new Set<string>();
    this.#warn =
      options.onWarning ??
      ((message) => {
        const kind = message.split(":")[0]!;
        if (!warned.has(kind)) console.warn(`[hiveguard/tracking] ${message}`);
        warned.add(kind);
      });
    this.#ops.push({
      kind: "create",
      project: this.project,
      run: this.name,
      config: options.config,
      tags: options.tags,
      notes: options.notes,
    });
    process.once("beforeExit", this.#onBeforeExit);
    this.#schedule(0);
  }

  /** Operations and records not yet acknowledged by the server (memory and disk). */
  get pending(): number {
    return this.#ops.length + this.#buffer.length + this.#diskLines().length;
  }

  /** Synchronous: buffers `{metric: value}` at `step` (auto-increments when omitted). Never throws. */
  log(metrics: Record<string, number>, options: { step?: number; timestamp?: number | Date } = {}): void {
    if (this.#finished) return this.#warn("log after finish: ignored");
    const clean: Record<string, MetricValue> = {};
    for (const [key, value] of Object.entries(metrics)) {
      if (typeof value !== "number") {
        this.#warn(`non-numeric metric: ${key} skipped`);
        continue;
      }
      clean[key] = Number.isFinite(value)
        ? value
        : Number.isNaN(value)
          ? "NaN"
          : value > 0
            ? "Infinity"
            : "-Infinity";
    }
    if (Object.keys(clean).length === 0) return;
    const step = options.step ?? this.#nextStep;
    if (!Number.isInteger(step) || step < 0) return this.#warn(`invalid step: ${step} (record skipped)`);
    this.#nextStep = Math.max(this.#nextStep, step + 1);
    const timestamp =
      options.timestamp instanceof Date ? options.timestamp.getTime() : (options.timestamp ?? Date.now());
    this.#buffer.push({ metrics: clean, step, timestamp });
    this.#bufferPoints += Object.keys(clean).length;
    if (this.#bufferPoints >= this.#maxBatchPoints) this.#cut();
    this.#schedule(this.#flushIntervalMs);
  }

  setConfig(config: Record<string, unknown>): void {
    this.#push({ kind: "config", project: this.project, run: this.name, config });
  }

  addTags(tags: string[]): void {
    this.#push({ kind: "tags", project: this.project, run: this.name, tags });
  }

  /** Uploads the file (read when sent, so it must still exist then). */
  logArtifact(path: string, name = basename(path)): void {
    this.#push({ kind: "artifact", project: this.project, run: this.name, path, name });
  }

  /** Sends what can be sent now; resolves when the queue is empty or the server is unreachable. */
  async flush(): Promise<void> {
    this.#cut();
    await this.#pump();
  }

  /**
   * Finishes the run (exit code 0 → completed, else failed) and flushes, waiting at most `finishTimeoutMs`.
   * Never throws: what could not be sent stays on disk.
   */
  async finish(exitCode = 0): Promise<void> {
    if (this.#finished) return;
    this.#push({ kind: "finish", project: this.project, run: this.name, exit_code: exitCode });
    this.#finished = true;
    const deadline = Date.now() + this.#finishTimeoutMs;
    for (;;) {
      this.#retryAt = 0; // finishing: try now rather than at the next backoff tick
      await this.#pump();
      if (this.pending === 0 || Date.now() >= deadline) break;
      await sleep(Math.min(this.#backoffMs || this.#retryInitialMs, Math.max(0, deadline - Date.now())));
    }
    this.#persist();
    clearTimeout(this.#timer);
    process.off("beforeExit", this.#onBeforeExit);
  }

  #push(op: Operation): void {
    if (this.#finished) return this.#warn(`${op.kind} after finish: ignored`);
    this.#cut();
    this.#ops.push(op);
    this.#schedule(0);
  }

  /** Turns buffered records into metrics operations of at most maxBatchPoints points each. */
  #cut(): void {
    while (this.#buffer.length > 0) {
      const records: MetricRecord[] = [];
      let points = 0;
      while (this.#buffer.length > 0) {
        const size = Object.keys(this.#buffer[0]!.metrics).length;
        if (records.length > 0 && points + size > this.#maxBatchPoints) break;
        records.push(this.#buffer.shift()!);
        points += size;
      }
      this.#ops.push({ kind: "metrics", project: this.project, run: this.name, records });
    }
    this.#bufferPoints = 0;
  }

  #schedule(delayMs: number): void {
    if (this.#timer) return;
    const wait = Math.max(delayMs, this.#retryAt - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#cut();
      void this.#pump();
    }, wait);
    this.#timer.unref();
  }

  #pump(): Promise<void> {
    this.#pumping ??= this.#drain().finally(() => {
      this.#pumping = undefined;
    });
    return this.#pumping;
  }

  /** Disk first (older), then memory, in order; on a retryable failure everything waits on disk. */
  async #drain(): Promise<void> {
    if (Date.now() < this.#retryAt) return;
    try {
      const lines = this.#diskLines();
      for (let i = 0; i < lines.length; i++) {
        await this.#sendOrDrop(JSON.parse(lines[i]!) as Operation).catch((error: unknown) => {
          this.#rewriteDisk(lines.slice(i));
          throw error;
        });
      }
      if (lines.length > 0) rmSync(this.#queueFile, { force: true });
      while (this.#ops.length > 0) {
        await this.#sendOrDrop(this.#ops[0]!);
        this.#ops.shift();
      }
      this.#backoffMs = 0;
      this.#retryAt = 0;
    } catch (error) {
      if (!(error instanceof RetryableError)) {
        this.#warn(`queue error: ${(error as Error).message}`);
        return;
      }
      this.#persist();
      this.#backoffMs = Math.min(
        this.#backoffMs ? this.#backoffMs * 2 : this.#retryInitialMs,
        this.#retryMaxMs,
      );
      this.#retryAt = Date.now() + this.#backoffMs * (0.8 + Math.random() * 0.4);
      const problem =
        error.reason === "rejected"
          ? "credentials rejected"
          : error.reason === "unreachable"
            ? "server unreachable"
            : "server unavailable";
      this.#warn(`${problem}: queued on disk (${this.#queueFile}), retrying with backoff (${error.message})`);
      if (!this.#finished) this.#schedule(this.#retryAt - Date.now());
    }
  }

  /** Sends; drops an operation the server refuses for good (e.g. 422), with a warning. */
  async #sendOrDrop(op: Operation): Promise<void> {
    try {
      await this.#transport.send(op);
    } catch (error) {
      if (error instanceof RetryableError) throw error;
      this.#warn(`dropped ${op.kind}: ${(error as Error).message}`);
    }
  }

  /** Moves the memory queue to the end of the disk queue (synchronously: it must survive an exit). */
  #persist(): void {
    this.#cut();
    if (this.#ops.length === 0) return;
    try {
      mkdirSync(join(this.#queueFile, ".."), { recursive: true });
      appendFileSync(this.#queueFile, this.#ops.map((op) => `${JSON.stringify(op)}\n`).join(""));
      this.#ops = [];
    } catch (error) {
      this.#warn(`queue not writable: ${(error as Error).message} (kept in memory)`);
    }
  }

  #diskLines(): string[] {
    if (!existsSync(this.#queueFile)) return [];
    return readFileSync(this.#queueFile, "utf8").split("\n").filter(Boolean);
  }

  #rewriteDisk(lines: string[]): void {
    const tmp = `${this.#queueFile}.${process.pid}.tmp`;
    writeFileSync(tmp, lines.map((line) => `${line}\n`).join(""));
    renameSync(tmp, this.#queueFile);
  }

  /** The script ended without `finish`: try to send, then keep the rest on disk. */
  async #exitFlush(): Promise<void> {
    if (this.#finished || this.pending === 0) return;
    this.#retryAt = 0;
    await this.flush();
    this.#persist();
  }
}

/** Opens (or resumes) a run. Returns at once; nothing here waits for the server. */
export function init(options: InitOptions): Run {
  return new Run(options);
}

/** Runs `fn` with a run, finishing it as completed, or as failed (exit code 1) when `fn` throws. */
export async function withRun<T>(options: InitOptions, fn: (run: Run) => Promise<T> | T): Promise<T> {
  const run = init(options);
  try {
    const result = await fn(run);
    await run.finish(0);
    return result;
  } catch (error) {
    await run.finish(1);
    throw error;
  }
}

/**
 * Sends every queue file left in `queueDir` by earlier processes (e.g. a training that ended while the
 * server was down). Returns how many operations were sent; stops at the first retryable failure.
 */
export async function drainQueue(
  options: HttpTransportOptions & { queueDir?: string; transport?: Transport } = {},
) {
  const dir = options.queueDir ?? defaultQueueDir();
  const transport = options.transport ?? new HttpTransport(options);
  let sent = 0;
  if (!existsSync(dir)) return { sent, remaining: 0 };
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".jsonl"))) {
    const path = join(dir, file);
    const lines = readFileSync(path, "utf8").split("\n").filter(Boolean);
    for (let i = 0; i < lines.length; i++) {
      try {
        await transport.send(JSON.parse(lines[i]!) as Operation);
        sent++;
      } catch (error) {
        if (!(error instanceof RetryableError)) continue;
        writeFileSync(
          path,
          lines
            .slice(i)
            .map((line) => `${line}\n`)
            .join(""),
        );
        return { sent, remaining: lines.length - i };
      }
    }
    rmSync(path, { force: true });
  }
  return { sent, remaining: 0 };
}

const ADJECTIVES = ["amber", "brisk", "calm", "dapper", "eager", "fuzzy", "gentle", "hasty", "icy", "jolly"];
const NOUNS = ["otter", "falcon", "maple", "comet", "badger", "lynx", "heron", "cedar", "quartz", "wren"];

function generateRunName(): string {
  const bytes = randomBytes(5);
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  return `${ADJECTIVES[bytes[0]! % ADJECTIVES.length]}-${NOUNS[bytes[1]! % NOUNS.length]}-${day}-${bytes.subarray(2).toString("hex")}`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ── reading ─────────────────────────────────────────────────────────────────────────────────────────────

export interface MetricSeries<V = number | null> {
  steps: number[];
  values: V[];
  timestamps: number[];
}

/**
 * Decodes the answer of `GET /api/projects/{p}/runs/metrics` (JSON, or msgpack once decoded): its `steps`
 * and `timestamps` are delta-encoded as upstream Aspara sends them (first value absolute, then differences),
 * so a running sum gives the absolute steps and UNIX-ms timestamps. Returns `{metric: {run: series}}`.
 */
export function decodeRunsMetrics<V = number | null>(
  metrics: Record<string, Record<string, MetricSeries<V>>>,
): Record<string, Record<string, MetricSeries<V>>> {
  const runningSum = (deltas: number[]) => {
    let sum = 0;
    return deltas.map((delta) => (sum += delta));
  };
  return Object.fromEntries(
    Object.entries(metrics).map(([metric, runs]) => [
      metric,
      Object.fromEntries(
        Object.entries(runs).map(([run, series]) => [
          run,
          { ...series, steps: runningSum(series.steps), timestamps: runningSum(series.timestamps) },
        ]),
      ),
    ]),
  );
}
