import type { AnyProcedure, AnyRouter } from "@trpc/server";
import type { Meta } from "./init.js";

export interface ProcedureInfo {
  /** Dotted tRPC path, e.g. `guard.datasets.create`. */
  path: string;
  type: "query" | "mutation" | "subscription";
  meta: Meta;
  procedure: AnyProcedure;
}

/** Every procedure of a router, flattened, in definition order. */
export function listProcedures(router: AnyRouter): ProcedureInfo[] {
  const procedures = router._def.procedures as Record<string, AnyProcedure>;
  return Object.entries(procedures).map(([path, procedure]) => ({
    path,
    type: procedure._def.type,
    meta: (procedure._def.meta ?? {}) as Meta,
    procedure,
  }));
}

/** The zod input schema of a procedure (its last `.input()`), or undefined when it takes none. */
export function inputSchemaOf(procedure: AnyProcedure): unknown {
  const inputs = (procedure._def as { inputs?: unknown[] }).inputs ?? [];
  return inputs.at(-1);
}

export function outputSchemaOf(procedure: AnyProcedure): unknown {
  return (procedure._def as { output?: unknown }).output;
}
