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
  constructor(detail = "Service unavailable") {
    super("SERVICE_UNAVAILABLE", 503, detail);
  }
}

/** Converts zod issues to the documented 422 entries. `locPrefix` says where the input came from. */
export function zodIssuesToDetail(
  issues: z.core.$ZodIssue[],
  locFor: (path: PropertyKey[]) => (string | number)[] = (path) => ["body", ...path.map(keyOf)],
): ValidationIssue[] {
  return issues.map((issue) => {
    const missing = issue.code === "invalid_type" && issue.input === undefined;
    return {
      loc: locFor(issue.path),
      msg: missing ? "Field required" : issue.message,
      type: missing ? "missing" : issue.code,
    };
  });
}

function keyOf(segment: PropertyKey): string | number {
  return typeof segment === "number" ? segment : String(segment);
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
