import type { Database } from "../../../platform/db.js";
import { GroupCommit, type GroupCommitStats } from "../../../platform/group-commit.js";
import type { Modality } from "../shared.schema.js";
import type { SessionFeatures } from "./service.js";

/** One answered (or expired) challenge, as `hiveguard_submit_batch` takes it (see its migration). */
export interface SubmitRow {
  session: string;
  challenge: string;
  apiKey: string | null;
  solver: string;
  tier: number;
  modality: Modality;
  challengeType: string;
  gtItem: string;
  unknownItem: string | null;
  issuedAtMs: number;
  submittedAtMs: number;
  correct: boolean | null;
  riskScore: number | null;
  outcome: "passed" | "failed" | "expired";
  features: SessionFeatures | null;
  /** The vote's canonical answer; null = no vote (wrong ground truth, held back, no unknown item). */
  answer: string | null;
  minVotes: number | null;
  threshold: number | null;
}

/** What became of the row's vote: `recorded`, `duplicate`, `item_gone`, `fallback`, or null (no vote). */
export interface SubmitWritten {
  outcome: string | null;
  state: string | null;
}

export interface SubmitBatchSettings {
  /** Most submits in one write (SUBMIT_BATCH_MAX_ROWS). */
  maxRows: number;
  /** Longest an idle writer waits for company, in µs (SUBMIT_BATCH_MAX_WAIT_US). */
  maxWaitUs: number;
}

export const DEFAULT_SUBMIT_BATCH: SubmitBatchSettings = { maxRows: 64, maxWaitUs: 200 };

/** SQLSTATE classes that mean the database (or the connection to it) is away, not that a row is at fault. */
const UNAVAILABLE_CLASSES = new Set(["08", "53", "57", "58", "XX"]);

/** A SQLSTATE error that belongs to the statement (constraint, data, deadlock), not to the connection. */
export function rowLevelError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !UNAVAILABLE_CLASSES.has(code.slice(0, 2));
}

/**
 * Writes the submits' session rows, solver records and votes with group commit: the submits that arrive while
 * one write is in flight share the next one (`hiveguard_submit_batch`, one statement). Each caller is answered
 * once its rows are committed.
 */
export class SubmitWriter {
  private readonly group: GroupCommit<SubmitRow, SubmitWritten>;

  constructor(db: Pick<Database, "queryRows">, settings: SubmitBatchSettings = DEFAULT_SUBMIT_BATCH) {
    this.group = new GroupCommit({
      maxRows: settings.maxRows,
      maxWaitUs: settings.maxWaitUs,
      retryAlone: rowLevelError,
      write: async (rows) => {
        const result = (await db.queryRows(
          "SELECT ord, outcome, item_state FROM hiveguard_submit_batch($1::jsonb)",
          [JSON.stringify(rows.map(toJson))],
        )) as [number, string | null, string | null][];
        const written: SubmitWritten[] = rows.map(() => ({ outcome: null, state: null }));
        for (const [ord, outcome, state] of result) written[ord] = { outcome, state };
        return written;
      },
    });
  }

  write(row: SubmitRow): Promise<SubmitWritten> {
    return this.group.add(row);
  }

  stats(): GroupCommitStats {
    return this.group.stats();
  }
}

function toJson(row: SubmitRow, ord: number) {
  return {
    ord,
    session: row.session,
    challenge: row.challenge,
    api_key: row.apiKey,
    solver: row.solver,
    tier: row.tier,
    modality: row.modality,
    challenge_type: row.challengeType,
    gt_item: row.gtItem,
    unknown_item: row.unknownItem,
    issued_at_ms: row.issuedAtMs,
    submitted_at_ms: row.submittedAtMs,
    correct: row.correct,
    risk_score: row.riskScore,
    result: row.outcome,
    features: row.features,
    answer: row.answer,
    min_votes: row.minVotes,
    threshold: row.threshold,
  };
}
