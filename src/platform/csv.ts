// CSV cells a spreadsheet would run as a formula (CSV injection): a cell that begins with `=`, `+`, `-`,
// `@`, a tab or a carriage return gets a leading `'`, which spreadsheets show as text and do not evaluate.
// A cell that is a plain number (`-2`, `+1.5`, `-3e-4`) is left as it is: a number, never a formula.
// Every CSV HiveGuard writes goes through this (the label export's COPY applies the same rule in SQL).

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function neutralizeCsvCell(text: string): string {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

/** The same rule as a PostgreSQL expression over a text expression (for COPY ... TO STDOUT). */
export function neutralizeCsvCellSql(expression: string): string {
  return (
    `CASE WHEN left(${expression}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) ` +
    `AND ${expression} !~ '^[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?$' ` +
    `THEN '''' || ${expression} ELSE ${expression} END`
  );
}
