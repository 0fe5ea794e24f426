import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { z } from "zod";

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
/** HiveGuard's documented names (DEBUG, INFO, WARNING, ERROR) map onto pino's levels. */
const LEVEL_ALIASES: Record<string, (typeof LOG_LEVELS)[number]> = { warning: "warn", critical: "fatal" };

const emptyAsUndefined = (value: unknown) => (value === "" ? undefined : value);
const optionalString = z.preprocess(emptyAsUndefined, z.string().optional());

/** A comma-separated list of IPs, CIDRs, or the names loopback, linklocal, uniquelocal (proxy-addr's forms). */
function addressList(fallback: string[]) {
  return z.preprocess(
    (value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((part) => part.trim())
            .filter(Boolean)
        : value,
    z
      .array(z.string().refine(isTrustValue, "not an IP address, CIDR, or loopback/linklocal/uniquelocal"))
      .default(fallback),
  );
}

const envSchema = z.object({
  NODE_ENV: z.preprocess(
    emptyAsUndefined,
    z.enum(["development", "production", "test"]).default("development"),
  ),
  HOST: z.preprocess(emptyAsUndefined, z.string().default("0.0.0.0")),
  PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(8000)),
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_PREFIX: z.preprocess(emptyAsUndefined, z.string().min(1).default("hiveguard")),
  SECRET_KEY: optionalString,
  /** The previous SECRET_KEY during a rotation: tokens it signed stay valid until they expire. */
  SECRET_KEY_PREVIOUS: optionalString,
  DASHBOARD_USERNAME: optionalString,
  DASHBOARD_PASSWORD: optionalString,
  /** Bench (LLM benchmarking): an account created or promoted to admin at start-up (upstream's ADMIN_EMAIL). */
  ADMIN_EMAIL: optionalString,
  ADMIN_PASSWORD: optionalString,
  /** Bench: `{"type":"heartbeat"}` on a benchmark stream after this long without an event (upstream: 15 s). */
  BENCH_HEARTBEAT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(10).default(15_000)),
  /** Bench: how often the job queue looks for due schedules (one look per period across all instances). */
  BENCH_SCHEDULE_TICK_SECONDS: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(1).max(3600).default(60),
  ),
  /**
   * Bench: the executables of MCP servers users may start over stdio (`POST /api/mcp/discover` with `command`),
   * a JSON list of strings or a comma-separated list; unset: none (docs/bench.md "Import from an MCP server").
   */
  BENCH_MCP_STDIO_COMMANDS: z.preprocess(
    (value) => {
      if (typeof value !== "string" || value.trim() === "") return [];
      const text = value.trim();
      if (!text.startsWith("[")) return text.split(",").map((part) => part.trim());
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text; // not an array: the schema names the variable
      }
    },
    z.array(z.string().trim().min(1, "an empty command")).max(100),
  ),
  TARGET_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  LOG_LEVEL: z.preprocess((value) => {
    if (typeof value !== "string" || value === "") return undefined;
    const lower = value.toLowerCase();
    return LEVEL_ALIASES[lower] ?? lower;
  }, z.enum(LOG_LEVELS).default("info")),
  HIVEGUARD_DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default("./.hiveguard")),
  WORKERS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(64).default(1)),
  SHUTDOWN_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(10_000)),
  // Background jobs (docs/jobs.md): workers per job type in this process (0: it only enqueues).
  JOB_WORKERS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(64).default(1)),
  /** A running job whose worker wrote no heartbeat for this long is failed, then retried if its type allows. */
  JOB_STALE_SECONDS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(2).default(30)),
  // ML workbench (docs/lab.md): where datasets are stored, in-process workers for lab jobs, upload limit.
  LAB_DATA_DIR: optionalString,
  LAB_WORKERS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(64).optional()),
  LAB_MAX_UPLOAD_MB: z.preprocess(emptyAsUndefined, z.coerce.number().positive().default(1024)),
  // Experiment tracking (docs/tracking.md).
  TRACKING_AUTH: z.preprocess(emptyAsUndefined, z.enum(["dashboard", "none"]).default("dashboard")),
  TRACKING_LTTB_THRESHOLD: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(3).default(1_000)),
  TRACKING_ARTIFACTS_DIR: optionalString,
  TRACKING_MAX_ARTIFACT_MB: z.preprocess(emptyAsUndefined, z.coerce.number().positive().default(100)),
  TRACKING_MAX_POINTS_PER_RUN: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(1).default(1_000_000),
  ),
  TRACKING_SSE_HEARTBEAT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(10).default(15_000)),
  /** A second listener where every path but /_hiveguard/* is proxied (for sites that use /api/v1 etc.). */
  PROXY_PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).optional()),
  /** Largest request body forwarded to the upstream, in bytes (413 beyond). */
  PROXY_BODY_LIMIT: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int()
      .min(1)
      .default(10 * 1024 * 1024),
  ),
  /** Who may read /openapi.json, /docs and GraphQL introspection (default: public outside production). */
  API_DOCS: z.preprocess(emptyAsUndefined, z.enum(["public", "dashboard"]).optional()),
  /** Every listener: the request line and headers must arrive within this (slowloris). */
  HTTP_HEADERS_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).default(20_000)),
  /** Every listener: a whole request (headers and body) must arrive within this; 0 = no limit. */
  HTTP_REQUEST_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(300_000)),
  /** `preserve` forwards the visitor's Host header; `rewrite` sends the upstream's own host. */
  PROXY_HOST_HEADER: z.preprocess(emptyAsUndefined, z.enum(["preserve", "rewrite"]).default("preserve")),
  /** Prometheus scrapers send it as `Authorization: Bearer <token>` to read /_hiveguard/metrics. */
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, "at least 16 characters").optional()),
  /** Clients that read /_hiveguard/metrics without a token (same forms as TRUSTED_PROXIES). */
  METRICS_ALLOW_FROM: addressList(["loopback"]),
  /**
   * Peers whose X-Forwarded-For / -Proto / -Host are believed: comma-separated IPs, CIDRs, or the names
   * loopback, linklocal, uniquelocal. Empty: the socket address is the client.
   */
  TRUSTED_PROXIES: addressList([]),
  /** Group commit of challenge submits (docs/challenges.md): most submits written in one transaction. */
  SUBMIT_BATCH_MAX_ROWS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1000).default(64)),
  /** … and the longest an idle writer waits for more submits to join, in microseconds. */
  SUBMIT_BATCH_MAX_WAIT_US: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(0).max(100_000).default(200),
  ),
});

export interface Config {
  nodeEnv: "development" | "production" | "test";
  host: string;
  port: number;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  redisPrefix: string;
  secretKey: string;
  /** Still accepted for verifying challenge tokens (key rotation); never used to sign. */
  previousSecretKey: string | undefined;
  dashboard: { username: string; password: string };
  targetUrl: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  dataDir: string;
  workers: number;
  shutdownTimeoutMs: number;
  jobs: { workers: number; staleSeconds: number };
  tracking: TrackingConfig;
  /** The ML workbench: `dataDir` (LAB_DATA_DIR), `workers` (LAB_WORKERS; undefined: JOB_WORKERS), upload limit. */
  lab: { dataDir: string; workers: number | undefined; maxUploadBytes: number };
  /** Bench: the admin account ensured at start-up (both set, or neither). */
  bench: {
    adminEmail: string | undefined;
    adminPassword: string | undefined;
    heartbeatMs: number;
    scheduleTickSeconds: number;
    /** Executables users may start as stdio MCP servers (BENCH_MCP_STDIO_COMMANDS). */
    mcpStdioCommands: string[];
  };
  /** Who may read /openapi.json, /docs and GraphQL introspection. */
  apiDocs: "public" | "dashboard";
  /**
   * Who reads /_hiveguard/metrics: a bearer `token` (METRICS_TOKEN), clients in `allowFrom`
   * (METRICS_ALLOW_FROM, default loopback), or the dashboard credentials.
   */
  metrics: { token: string | undefined; allowFrom: string[] };
  /** Group commit of challenge submits: `maxRows` per transaction, `maxWaitUs` an idle writer waits. */
  submitBatch: { maxRows: number; maxWaitUs: number };
  /** Timeouts of every listener (slow clients): headers, and the whole request; 0 = none. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number };
  proxy: {
    /** Second listener serving only the proxy (and /_hiveguard/*); undefined = none. */
    port: number | undefined;
    bodyLimit: number;
    hostHeader: "preserve" | "rewrite";
    trustedProxies: string[];
  };
  /** Development secrets generated on this start (printed once by main.ts), or null when configured. */
  generatedSecrets: GeneratedSecrets | null;
}

export interface TrackingConfig {
  /** "dashboard": HTTP Basic with the dashboard credentials (default); "none": open, as upstream Aspara. */
  auth: "dashboard" | "none";
  /** Series longer than this are LTTB-downsampled on read (default 1,000; `threshold` query overrides). */
  lttbThreshold: number;
  /** Where artifact bytes are stored (default `<data dir>/tracking-artifacts`). */
  artifactsDir: string;
  maxArtifactBytes: number;
  maxPointsPerRun: number;
  sseHeartbeatMs: number;
}

export interface GeneratedSecrets {
  secretKey: string;
  dashboardUsername: string;
  dashboardPassword: string;
  createdNow: boolean;
  file: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const MIN_SECRET_LENGTH = 32;

/**
 * Reads the environment once. Outside production, missing secrets are generated and persisted in the data
 * directory so a first run on a laptop needs no setup; production refuses to start without them.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.HIVEGUARD_DATA_DIR);

  if (e.WORKERS > 1 && (!e.DATABASE_URL || !e.REDIS_URL)) {
    throw new ConfigError(
      "WORKERS > 1 needs DATABASE_URL (PostgreSQL) and REDIS_URL: the embedded database and in-process state serve one process only.",
    );
  }

  let generatedSecrets: GeneratedSecrets | null = null;
  let secretKey = e.SECRET_KEY;
  let username = e.DASHBOARD_USERNAME;
  let password = e.DASHBOARD_PASSWORD;

  if (e.NODE_ENV === "production") {
    const missing: string[] = [];
    if (!secretKey) missing.push("SECRET_KEY is not set");
    else if (secretKey.length < MIN_SECRET_LENGTH)
      missing.push(`SECRET_KEY must be at least ${MIN_SECRET_LENGTH} characters`);
    if (!username) missing.push("DASHBOARD_USERNAME is not set");
    if (!password) missing.push("DASHBOARD_PASSWORD is not set");
    if (missing.length > 0) {
      throw new ConfigError(`Refusing to start in production:\n  ${missing.join("\n  ")}`);
    }
  } else if (!secretKey || !username || !password) {
    generatedSecrets = loadOrCreateDevSecrets(dataDir);
    secretKey ??= generatedSecrets.secretKey;
    username ??= generatedSecrets.dashboardUsername;
    password ??= generatedSecrets.dashboardPassword;
  }
  if (e.HTTP_REQUEST_TIMEOUT_MS > 0 && e.HTTP_REQUEST_TIMEOUT_MS < e.HTTP_HEADERS_TIMEOUT_MS) {
    throw new ConfigError("HTTP_REQUEST_TIMEOUT_MS must be 0 or at least HTTP_HEADERS_TIMEOUT_MS");
  }
  if (secretKey!.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`SECRET_KEY must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  if (e.SECRET_KEY_PREVIOUS !== undefined && e.SECRET_KEY_PREVIOUS.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`SECRET_KEY_PREVIOUS must be at least ${MIN_SECRET_LENGTH} characters`);
  }

  if (Boolean(e.ADMIN_EMAIL) !== Boolean(e.ADMIN_PASSWORD)) {
    throw new ConfigError("ADMIN_EMAIL and ADMIN_PASSWORD go together: set both or neither");
  }
  if (e.ADMIN_PASSWORD !== undefined && e.ADMIN_PASSWORD.length < 8) {
    throw new ConfigError("ADMIN_PASSWORD must be at least 8 characters");
  }

  return {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    secretKey: secretKey!,
    previousSecretKey: e.SECRET_KEY_PREVIOUS,
    dashboard: { username: username!, password: password! },
    targetUrl: e.TARGET_URL,
    logLevel: e.LOG_LEVEL,
    dataDir,
    workers: e.WORKERS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    jobs: { workers: e.JOB_WORKERS, staleSeconds: e.JOB_STALE_SECONDS },
    lab: {
      dataDir: resolve(e.LAB_DATA_DIR ?? join(dataDir, "lab")),
      workers: e.LAB_WORKERS,
      maxUploadBytes: Math.round(e.LAB_MAX_UPLOAD_MB * 1024 * 1024),
    },
    tracking: {
      auth: e.TRACKING_AUTH,
      lttbThreshold: e.TRACKING_LTTB_THRESHOLD,
      artifactsDir: resolve(e.TRACKING_ARTIFACTS_DIR ?? join(dataDir, "tracking-artifacts")),
      maxArtifactBytes: Math.round(e.TRACKING_MAX_ARTIFACT_MB * 1024 * 1024),
      maxPointsPerRun: e.TRACKING_MAX_POINTS_PER_RUN,
      sseHeartbeatMs: e.TRACKING_SSE_HEARTBEAT_MS,
    },
    bench: {
      adminEmail: e.ADMIN_EMAIL?.trim().toLowerCase(),
      adminPassword: e.ADMIN_PASSWORD,
      heartbeatMs: e.BENCH_HEARTBEAT_MS,
      scheduleTickSeconds: e.BENCH_SCHEDULE_TICK_SECONDS,
      mcpStdioCommands: [...new Set(e.BENCH_MCP_STDIO_COMMANDS)],
    },
    apiDocs: e.API_DOCS ?? (e.NODE_ENV === "production" ? "dashboard" : "public"),
    metrics: { token: e.METRICS_TOKEN, allowFrom: e.METRICS_ALLOW_FROM },
    submitBatch: { maxRows: e.SUBMIT_BATCH_MAX_ROWS, maxWaitUs: e.SUBMIT_BATCH_MAX_WAIT_US },
    http: { headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS },
    proxy: {
      port: e.PROXY_PORT,
      bodyLimit: e.PROXY_BODY_LIMIT,
      hostHeader: e.PROXY_HOST_HEADER,
      trustedProxies: e.TRUSTED_PROXIES,
    },
    generatedSecrets,
  };
}

function loadOrCreateDevSecrets(dataDir: string): GeneratedSecrets {
  const file = join(dataDir, "dev-secrets.json");
  try {
    const stored = JSON.parse(readFileSync(file, "utf8")) as Omit<GeneratedSecrets, "createdNow" | "file">;
    if (stored.secretKey && stored.dashboardUsername && stored.dashboardPassword) {
      return { ...stored, createdNow: false, file };
    }
  } catch {
    // not there yet (or unreadable): create below
  }
  const secrets = {
    secretKey: randomBytes(32).toString("base64url"),
    dashboardUsername: "admin",
    dashboardPassword: randomBytes(12).toString("base64url"),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return { ...secrets, createdNow: true, file };
}

const TRUST_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** What proxy-addr accepts: a name, an IP, or an IP/prefix-length (or IP/netmask). */
function isTrustValue(value: string): boolean {
  if (TRUST_NAMES.has(value)) return true;
  const [ip, range, extra] = value.split("/");
  if (extra !== undefined || !ip || isIP(ip) === 0) return false;
  if (range === undefined) return true;
  if (isIP(range) !== 0) return true;
  if (!/^\d{1,3}$/.test(range)) return false;
  return Number(range) <= (isIP(ip) === 4 ? 32 : 128);
}

/** The URL with any password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "[unparseable url]";
  }
}
