import Table from "cli-table3";
import pc from "picocolors";

/** picocolors colours only when stdout is a terminal (and honours NO_COLOR / FORCE_COLOR). */
export const colors = pc;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A borderless table for humans; `columns` picks and orders the fields. */
export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    process.stdout.write(`${colors.dim("(none)")}\n`);
    return;
  }
  const table = new Table({
    head: columns.map((column) => colors.bold(column)),
    chars: {
      top: "",
      "top-mid": "",
      "top-left": "",
      "top-right": "",
      bottom: "",
      "bottom-mid": "",
      "bottom-left": "",
      "bottom-right": "",
      left: "",
      "left-mid": "",
      mid: "",
      "mid-mid": "",
      right: "",
      "right-mid": "",
      middle: "  ",
    },
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0 },
  });
  for (const row of rows) table.push(columns.map((column) => formatCell(row[column])));
  process.stdout.write(`${table.toString()}\n`);
}

/** Key/value lines for one object. */
export function printRecord(record: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(record).map((key) => key.length));
  for (const [key, value] of Object.entries(record)) {
    process.stdout.write(`${colors.bold(key.padEnd(width))}  ${formatCell(value)}\n`);
  }
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
