/**
 * Reads an items file (.jsonl or .csv) as a stream, one item at a time, so a file of millions of lines
 * is validated and uploaded with flat memory. Each item carries its line number for error messages.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { parse } from "csv-parse";
import type { ItemInput } from "../ts/index.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MODALITIES = new Set(["image", "text", "audio"]);
const CHALLENGE_TYPES = new Set(["image", "text", "audio", "grid_select", "select_all"]);
const REQUIRED_CSV_COLUMNS = ["dataset_id", "data_ref", "modality"];
const KNOWN_FIELDS = new Set([...REQUIRED_CSV_COLUMNS, "challenge_type", "prompt", "ground_truth"]);
const MAX_DATA_REF = 2048;

export interface ParsedLine {
  line: number;
  item?: ItemInput;
  error?: string;
}

export function fileFormat(path: string): "jsonl" | "csv" | null {
  if (/\.jsonl$|\.ndjson$/i.test(path)) return "jsonl";
  if (/\.csv$/i.test(path)) return "csv";
  return null;
}

/** Checks one record and turns it into an item, or says what is wrong with it. */
export function validateRecord(record: Record<string, unknown>): { item?: ItemInput; error?: string } {
  const unknown = Object.keys(record).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) return { error: `unknown field "${unknown[0]}"` };
  const { dataset_id, data_ref, modality, challenge_type, prompt, ground_truth } = record;
  if (typeof dataset_id !== "string" || dataset_id === "") return { error: "missing dataset_id" };
  if (!UUID.test(dataset_id)) return { error: `invalid UUID "${dataset_id}"` };
  if (typeof data_ref !== "string" || data_ref.trim() === "") return { error: "missing data_ref" };
  if (data_ref.length > MAX_DATA_REF) return { error: `data_ref longer than ${MAX_DATA_REF} characters` };
  if (typeof modality !== "string" || modality === "") return { error: "missing modality" };
  if (!MODALITIES.has(modality)) return { error: `invalid modality "${modality}" (image, text or audio)` };
  const item: ItemInput = { dataset_id, data_ref, modality: modality as ItemInput["modality"] };
  if (challenge_type !== undefined && challenge_type !== null && challenge_type !== "") {
    if (typeof challenge_type !== "string" || !CHALLENGE_TYPES.has(challenge_type))
      return { error: `invalid challenge_type "${String(challenge_type)}"` };
    item.challenge_type = challenge_type as ItemInput["challenge_type"];
  }
  if (prompt !== undefined && prompt !== null && prompt !== "") {
    if (typeof prompt !== "string") return { error: "prompt must be text" };
    item.prompt = prompt;
  }
  if (ground_truth !== undefined && ground_truth !== null && ground_truth !== "") {
    const truth = parseGroundTruth(ground_truth);
    if (truth === undefined) return { error: "ground_truth must be text or a list of cell indices" };
    item.ground_truth = truth;
  }
  return { item };
}

/** A string answer, or a list of cell indices (a JSON list, also written as "[1,3]" in a CSV cell). */
function parseGroundTruth(value: unknown): string | number[] | undefined {
  if (Array.isArray(value)) return value.every((n) => Number.isInteger(n) && n >= 0) ? value : undefined;
  if (typeof value !== "string") return undefined;
  if (/^\s*\[/.test(value)) {
    try {
      return parseGroundTruth(JSON.parse(value));
    } catch {
      return undefined;
    }
  }
  return value;
}

async function* jsonlLines(path: string): AsyncGenerator<ParsedLine> {
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      yield { line, error: "not valid JSON" };
      continue;
    }
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      yield { line, error: "not a JSON object" };
      continue;
    }
    yield { line, ...validateRecord(record as Record<string, unknown>) };
  }
}

async function* csvLines(path: string): AsyncGenerator<ParsedLine> {
  const parser = createReadStream(path).pipe(
    parse({
      columns: true,
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      relax_column_count: false,
    }),
  );
  let checkedHeader = false;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      if (!checkedHeader) {
        const missing = REQUIRED_CSV_COLUMNS.filter((column) => !(column in record));
        if (missing.length > 0) {
          yield {
            line: 1,
            error: `missing required column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`,
          };
          return;
        }
        checkedHeader = true;
      }
      yield { line: info.lines, ...validateRecord(record) };
    }
  } catch (error) {
    const lines = (error as { lines?: number }).lines;
    yield {
      line: lines ?? 0,
      error: `malformed CSV: ${(error as Error).message.replace(/^Invalid Record Length: /, "")}`,
    };
  }
}

export function readItems(path: string): AsyncGenerator<ParsedLine> {
  return fileFormat(path) === "csv" ? csvLines(path) : jsonlLines(path);
}
