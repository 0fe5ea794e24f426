// Reads an items file in the browser: JSON (an array, or {"items": [...]}), JSONL, or CSV with a header
// row (data_ref, and optionally ground_truth, prompt, challenge_type). Only the fields the dashboard's
// upload takes are kept.

export interface ItemRow {
  data_ref: string;
  ground_truth?: string | number[] | null;
  prompt?: string | null;
  challenge_type?: string | null;
}

const FIELDS = ["data_ref", "ground_truth", "prompt", "challenge_type"] as const;

function pick(value: unknown, where: string): ItemRow {
  if (typeof value === "string") return { data_ref: value };
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`${where}: not an object`);
  const record = value as Record<string, unknown>;
  if (typeof record.data_ref !== "string") throw new Error(`${where}: data_ref is missing`);
  const row: ItemRow = { data_ref: record.data_ref };
  for (const key of FIELDS.slice(1)) {
    const v = record[key];
    if (v !== undefined && v !== null && v !== "") (row as unknown as Record<string, unknown>)[key] = v;
  }
  return row;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      if (row.some((f) => f !== "")) rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f !== "")) rows.push(row);
  return rows;
}

export function parseItemsFile(name: string, text: string): ItemRow[] {
  const trimmed = text.trim();
  if (trimmed === "") throw new Error("The file is empty");
  if (/\.csv$/i.test(name)) {
    const [header, ...rows] = parseCsv(trimmed);
    const columns = (header ?? []).map((h) => h.trim());
    if (!columns.includes("data_ref")) throw new Error("The CSV needs a data_ref column in its header row");
    return rows.map((cells, index) => {
      const record: Record<string, unknown> = {};
      columns.forEach((column, i) => (record[column] = cells[i]));
      // A grid answer written as [1,4] in CSV is a list of indices.
      if (typeof record.ground_truth === "string" && /^\[[\d,\s]*\]$/.test(record.ground_truth))
        record.ground_truth = JSON.parse(record.ground_truth) as number[];
      return pick(record, `row ${index + 2}`);
    });
  }
  if (trimmed.startsWith("[") || (trimmed.startsWith("{") && /\.json$/i.test(name))) {
    const parsed = JSON.parse(trimmed) as unknown;
    const list = Array.isArray(parsed) ? parsed : (parsed as { items?: unknown }).items;
    if (!Array.isArray(list)) throw new Error('JSON must be an array of items or {"items": [...]}');
    return list.map((v, i) => pick(v, `item ${i + 1}`));
  }
  return trimmed.split(/\r?\n/).flatMap((line, i) => {
    if (line.trim() === "") return [];
    try {
      return [pick(JSON.parse(line) as unknown, `line ${i + 1}`)];
    } catch (e) {
      throw new Error(e instanceof SyntaxError ? `line ${i + 1}: not valid JSON` : (e as Error).message);
    }
  });
}
