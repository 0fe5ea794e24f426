import { describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import {
  DependencyUnavailableError,
  isDatabaseConnectionError,
  NotFoundError,
  TooManyRequestsError,
  toWireError,
  ValidationError,
} from "../../src/platform/errors.js";

function recordingLogger() {
  const entries: unknown[][] = [];
  const log = { error: (...args: unknown[]) => entries.push(args) } as never;
  return { log, entries };
}

describe("toWireError", () => {
  it("maps our errors to their documented status and detail", () => {
    const { log } = recordingLogger();
    expect(toWireError(new NotFoundError("Dataset not found"), { log })).toEqual({
      status: 404,
      body: { detail: "Dataset not found" },
      headers: {},
    });
    expect(toWireError(ValidationError.field(["body", "limit"], "too big"), { log }).body.detail).toEqual([
      { loc: ["body", "limit"], msg: "too big", type: "value_error" },
    ]);
    expect(toWireError(new TooManyRequestsError(2.2), { log }).headers).toEqual({ "Retry-After": "3" });
  });

  it("turns zod failures into 422 entries naming each field", () => {
    const { log } = recordingLogger();
    const result = z.object({ name: z.string(), size: z.number().max(3) }).safeParse({ size: 9 });
    const wire = toWireError(result.error, { log });
    expect(wire.status).toBe(422);
    expect(wire.body.detail).toEqual([
      { loc: ["body", "name"], msg: "Field required", type: "missing" },
      { loc: ["body", "size"], msg: expect.any(String), type: "too_big" },
    ]);
  });

  it("answers anything unexpected with a generic 500 carrying an id that is logged, never the message", () => {
    const { log, entries } = recordingLogger();
    const secret = new Error("password=hunter2 at db.ts:12");
    const wire = toWireError(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: secret }), { log });
    expect(wire.status).toBe(500);
    expect(wire.body.detail).toBe("Internal server error");
    expect(JSON.stringify(wire.body)).not.toContain("hunter2");
    expect(wire.body.error_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(entries)).toContain(wire.body.error_id!);
  });
});

describe("dependency outages", () => {
  it("recognises a lost database connection however the driver wraps it, and nothing else", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    expect(isDatabaseConnectionError(refused)).toBe(true);
    expect(
      isDatabaseConnectionError(
        new Error("outer", { cause: new Error("Connection terminated unexpectedly") }),
      ),
    ).toBe(true);
    expect(
      isDatabaseConnectionError({
        code: "P2010",
        meta: { driverAdapterError: { cause: { originalCode: "57P01" } } },
      }),
    ).toBe(true);
    expect(isDatabaseConnectionError({ meta: { driverAdapterError: { code: "08006" } } })).toBe(true);
    expect(
      isDatabaseConnectionError(new Error("Raw query failed. Message: `Server has closed the connection.`")),
    ).toBe(true);
    expect(isDatabaseConnectionError(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(
      false,
    );
    expect(isDatabaseConnectionError(new TypeError("x is undefined"))).toBe(false);
  });

  it("answers 503 with Retry-After and a detail that names nothing internal", () => {
    const warnings: unknown[] = [];
    const log = { error: () => {}, warn: (...args: unknown[]) => warnings.push(args) } as never;
    const lost = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const expected = {
      status: 503,
      body: { detail: "Service temporarily unavailable, try again shortly" },
      headers: { "Retry-After": "5" },
    };
    expect(toWireError(lost, { log })).toEqual(expected);
    expect(toWireError(new DependencyUnavailableError("state", lost), { log })).toEqual(expected);
    expect(warnings.length).toBe(1);
  });
});
