import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import type { FastifyBaseLogger } from "fastify";
import { ZodError, type z } from "zod";

/** One entry of a 422 body, in the shape HiveGuard's API documents (FastAPI's). */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export type ErrorDetail = string | ValidationIssue[];

/**
 * Base of every error our code throws on purpose. It extends TRPCError so a procedure can simply throw it:
 * tRPC keeps it as is, and every transport (REST, tRPC, GraphQL, plain Fastify routes) maps it with
 * `toWireError` below, once.
 */
export class AppError extends TRPCError {
  readonly status: number;
  readonly detail: ErrorDetail;
  readonly headers: Record<string, string>;

  constructor(
    code: TRPC_ERROR_CODE_KEY,
    status: number,
    detail: ErrorDetail,
    headers: Record<string, string> = {},
  ) {
    super({ code, message: typeof detail === "string" ? detail : "Validation error" });
    this.status = status;
    this.detail = detail;
    this.headers = headers;
  }
}

export class NotFoundError extends AppError {
  constructor(detail = "Not found") {
    super("NOT_FOUND", 404, detail);
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = "Unauthorized", headers: Record<string, string> = {}) {
    super("UNAUTHORIZED", 401, detail, headers);
  }
}

export class ForbiddenError extends AppError {
  constructor(detail = "Forbidden") {
    super("FORBIDDEN", 403, detail);
  }
}

export class ConflictError extends AppError {
  constructor(detail: string) {
    super("CONFLICT", 409, detail);
  }
}

export class ValidationError extends AppError {
  constructor(issues: ValidationIssue[]) {
    super("UNPROCESSABLE_CONTENT", 422, issues);
  }

  /** A single-field validation error, e.g. `ValidationError.field(["body", "risk_threshold"], "must be ≤ 1")`. */
  static field(loc: (string | number)[], msg: string, type = "value_error"): ValidationError {
    return new ValidationError([{ loc, msg, type }]);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(retryAfterSec: number, detail = "Too many requests") {
    super("TOO_MANY_REQUESTS", 429, detail, { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSec))) });
  }
}

export class UnavailableError extends AppError {
  constructor(detail = "Service unavailable", headers: Record<string, string> = {}) {
    super("SERVICE_UNAVAILABLE", 503, detail, headers);
  }
}

/** What a client sees while the database or the state store is unreachable (never which one, nor why). */
export const DEPENDENCY_DOWN_DETAIL = "Service temporarily unavailable, try again shortly";
/** Seconds a client is asked to wait before retrying during an outage. */
export const DEPENDENCY_RETRY_AFTER_SEC = 5;

/**
 * A dependency (database, state store) did not answer: 503 with Retry-After, never a 500 or a hang.
 * `cause` keeps the driver's error for the server log only.
 */
export class DependencyUnavailableError extends UnavailableError {
  readonly dependency: "database" | "state";

  constructor(dependency: "database" | "state", cause?: unknown) {
    super(DEPENDENCY_DOWN_DETAIL, { "Retry-After": String(DEPENDENCY_RETRY_AFTER_SEC) });
    this.dependency = dependency;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** Error codes of a PostgreSQL connection that is gone or refused (node errno, SQLSTATE class 08/57P, Prisma). */
const DB_CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "P1001", // can't reach database server
  "P1002", // database server timed out
  "P1008", // operation timed out
  "P1017", // server closed the connection
  "P2024", // timed out fetching a connection from the pool
]);
const DB_CONNECTION_MESSAGE =
  /Connection terminated|Server has closed the connection|Connection refused|connection is closed|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Can't reach database server|server closed the connection|Connection ended unexpectedly|ECONNREFUSED|ECONNRESET|connect ETIMEDOUT/i;

/**
 * Whether `error` (or anything in its cause chain, Prisma's driver-adapter wrapping included) says the
 * database connection failed, as opposed to a query that is wrong.
 */
export function isDatabaseConnectionError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const e = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      originalCode?: unknown;
      kind?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    for (const code of [e.code, e.originalCode]) {
      if (typeof code === "string" && (DB_CONNECTION_CODES.has(code) || code.startsWith("08"))) return true;
    }
    if (typeof e.message === "string" && DB_CONNECTION_MESSAGE.test(e.message)) return true;
    current = e.cause ?? e.meta?.driverAdapterError;
  }
  return false;
}

export const NUL_MESSAGE = "must not contain the NUL character (\\u0000)";

/** The path of the first string (or object key) holding a NUL character in a parsed input, or null. */
export function findNul(value: unknown, path: (string | number)[] = []): (string | number)[] | null {
  if (typeof value === "string") return value.includes("\0") ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes("\0")) return [...path, key];
      const found = findNul(item, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

/** Converts zod issues to the documented 422 entries. `locPrefix` says where the input came from. */
export function zodIssuesToDetail(
  issues: z.core.$ZodIssue[],
  locFor: (path: PropertyKey[]) => (string | number)[] = (path) => ["body", ...path.map(keyOf)],
): ValidationIssue[] {
  const seen = new Set<string>();
  const detail: ValidationIssue[] = [];
  for (const issue of issues) {
    const loc = locFor(issue.path);
    // One entry per field: the first problem found is the one to fix (a huge `limit` is "too big", not
    // also "not a safe integer").
    const key = JSON.stringify(loc);
    if (seen.has(key)) continue;
    seen.add(key);
    const missing = issue.code === "invalid_type" && isMissing(issue);
    detail.push({
      loc,
      msg: missing ? "Field required" : issue.message,
      type: missing ? "missing" : issue.code,
    });
  }
  return detail;
}

/**
 * Whether an invalid_type issue is about an absent value (zod only carries the input when asked to, so the
 * message it builds from the input is what tells "abc" for a number apart from no value at all).
 */
function isMissing(issue: z.core.$ZodIssue): boolean {
  if ("input" in issue && issue.input !== undefined) return false;
  return issue.message.endsWith("received undefined");
}

function keyOf(segment: PropertyKey): string | number {
  return typeof segment === "number" ? segment : String(segment);
}

/**
 * One line for a person: the detail itself, or each validation issue as "field: message" (the message alone
 * when it already names the field).
 */
export function errorMessageOf(detail: ErrorDetail): string {
  if (typeof detail === "string") return detail;
  return detail
    .map((issue) => {
      const field = issue.loc
        .filter((part) => part !== "body" && part !== "query" && part !== "path")
        .join(".");
      const last = String(issue.loc.at(-1) ?? "");
      if (!field || issue.msg.toLowerCase().includes(last.toLowerCase().replaceAll("_", " ")))
        return issue.msg;
      return `${field}: ${issue.msg}`;
    })
    .join("; ");
}

export interface WireError {
  status: number;
  body: { detail: ErrorDetail; error_id?: string };
  headers: Record<string, string>;
}

const STATUS_BY_CODE: Partial<Record<TRPC_ERROR_CODE_KEY, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_SUPPORTED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE_CONTENT: 422,
  TOO_MANY_REQUESTS: 429,
  CLIENT_CLOSED_REQUEST: 499,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
};

/**
 * The one mapping from anything thrown to what goes on the wire. Unexpected errors are logged with an id
 * and answered with a generic 500 that carries the same id: no message, no stack trace.
 */
export function toWireError(
  error: unknown,
  options: { log: FastifyBaseLogger; locFor?: (path: PropertyKey[]) => (string | number)[] },
): WireError {
  const cause = error instanceof TRPCError && !(error instanceof AppError) ? error.cause : undefined;
  const appError = error instanceof AppError ? error : cause instanceof AppError ? cause : undefined;
  if (appError)
    return { status: appError.status, body: { detail: appError.detail }, headers: appError.headers };

  if (isDatabaseConnectionError(error)) {
    options.log.warn({ err: error }, "database unreachable: answered 503");
    return {
      status: 503,
      body: { detail: DEPENDENCY_DOWN_DETAIL },
      headers: { "Retry-After": String(DEPENDENCY_RETRY_AFTER_SEC) },
    };
  }

  const zodError = error instanceof ZodError ? error : cause instanceof ZodError ? cause : undefined;
  if (zodError) {
    return { status: 422, body: { detail: zodIssuesToDetail(zodError.issues, options.locFor) }, headers: {} };
  }

  if (error instanceof TRPCError) {
    if (error.code === "PARSE_ERROR") {
      return {
        status: 422,
        body: { detail: [{ loc: ["body"], msg: "Body is not valid JSON", type: "json_invalid" }] },
        headers: {},
      };
    }
    if (error.code === "UNSUPPORTED_MEDIA_TYPE") {
      return {
        status: 422,
        body: {
          detail: [{ loc: ["body"], msg: "Content-Type must be application/json", type: "content_type" }],
        },
        headers: {},
      };
    }
    const status = STATUS_BY_CODE[error.code];
    if (status && status < 500) return { status, body: { detail: error.message }, headers: {} };
    if (status === 503 || status === 504) return { status, body: { detail: error.message }, headers: {} };
  }

  const errorId = randomUUID();
  options.log.error({ err: error, errorId }, "unexpected error");
  return { status: 500, body: { detail: "Internal server error", error_id: errorId }, headers: {} };
}
