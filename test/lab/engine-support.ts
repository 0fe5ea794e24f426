// Test support: read a fixture CSV into the engine's Table (numbers as float columns, the rest categorical).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import type { Table, TableColumn } from "../../src/modules/lab/engine/types.js";

export const FIXTURES = join(import.meta.dirname, "..", "fixtures", "lab");

export function tableFromCsv(text: string): Table {
  const records = parse(text, { skip_empty_lines: true }) as string[][];
  const [header, ...rows] = records;
  const columns: TableColumn[] = header!.map((name, c) => {
    const cells = rows.map((r) => r[c] ?? "");
    const numeric = cells.every((v) => v === "" || Number.isFinite(Number(v)));
    return numeric
      ? { name, type: "float", values: Float64Array.from(cells, (v) => (v === "" ? Number.NaN : Number(v))) }
      : { name, type: "categorical", values: cells.map((v) => (v === "" ? null : v)) };
  });
  return { rowCount: rows.length, columns };
}

export function fixture(name: string): Table {
  return tableFromCsv(readFileSync(join(FIXTURES, name), "utf8"));
}

export function inputsOf(table: Table, output: string): string[] {
  return table.columns.map((c) => c.name).filter((n) => n !== output);
}
