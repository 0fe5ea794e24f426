// Errors the engine throws on purpose. The engine knows no transport: a route maps `EngineError` to its
// `status` (422 for input the user can fix) and `CancelledError` to the job's cancelled state.

export type EngineErrorCode =
  | "invalid_input" // a column, a parameter or a value the engine cannot use
  | "unknown_component" // a model / metric / optimizer name the engine does not know
  | "not_enough_parameters"; // a plot that needs more optimized parameters than the run has

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  /** The HTTP status a route answers with. */
  readonly status: number;
  constructor(code: EngineErrorCode, message: string, status = 422) {
    super(message);
    this.name = "EngineError";
    this.code = code;
    this.status = status;
  }
}

/** Training or optimization stopped because its AbortSignal fired. */
export class CancelledError extends Error {
  constructor(message = "Training was cancelled") {
    super(message);
    this.name = "CancelledError";
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
