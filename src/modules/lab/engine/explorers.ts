// Explorers: figures of a notebook's table as Plotly JSON ({data, layout}). Statistics are computed here
// (bins, quartiles, correlations, ECDF steps) so a figure carries a few hundred numbers, not the rows.
// Large tables are sampled by the caller with `sampleIndices` (the rule is documented in docs/lab.md):
// statistics read at most STAT_ROWS evenly spaced rows, point clouds draw at most POINT_ROWS of them.
import { z } from "zod";
import { quantile, tokenize } from "./converters.js";
import { EngineError } from "./errors.js";
import type { Localized } from "./params.js";
import type { ColumnType, Table, TableColumn } from "./types.js";

export const STAT_ROWS = 200_000;
export const POINT_ROWS = 5_000;

const L = (en: string, es: string): Localized => ({ en, es });
const NUMERIC: ReadonlySet<ColumnType> = new Set(["integer", "float", "boolean", "datetime"]);
const invalid = (message: string) => new EngineError("invalid_input", message);

export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  /** Word cloud: the weighted words and the cloud drawn as SVG. */
  words?: { text: string; weight: number }[];
  svg?: string;
}

export interface ExplorerDefinition {
  name: string;
  type: "Explorer";
  displayName: Localized;
  description: Localized;
  schema: z.ZodObject;
  /** Column types it reads, and how many columns (min, max). */
  accepts: "numeric" | "string" | "any";
  minColumns: number;
  maxColumns: number;
  /** Rows it needs: all statistics rows, or a point sample. */
  rows: "stats" | "points";
  compute(table: Table, params: Record<string, unknown>, note: string): Figure[];
}

/** `count` evenly spaced row indices out of `total` (all rows when total ≤ count). */
export function sampleIndices(total: number, count: number): Uint32Array {
  const m = Math.min(total, count);
  const out = new Uint32Array(m);
  for (let i = 0; i < m; i++) out[i] = Math.floor((i * total) / m);
  return out;
}

/** The rows of a table at the given indices. */
export function takeRows(table: Table, rows: ArrayLike<number>): Table {
  return {
    rowCount: rows.length,
    columns: table.columns.map((column) =>
      column.values instanceof Float64Array
        ? ({
            ...column,
            values: Float64Array.from(rows, (r) => (column.values as Float64Array)[r]!),
          } as TableColumn)
        : ({
            ...column,
            values: Array.from(rows, (r) => (column.values as (string | null)[])[r]!),
          } as TableColumn),
    ),
  };
}

const present = (values: Float64Array) => {
  const out: number[] = [];
  for (const v of values) if (!Number.isNaN(v)) out.push(v);
  return out;
};
const numeric = (column: TableColumn) => column.values instanceof Float64Array;
const layout = (title: string, note: string, extra: Record<string, unknown> = {}) => ({
  title: { text: note ? `${title} (${note})` : title },
  ...extra,
});

function valueCounts(values: (string | null)[], limit: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
}

function histogram(values: number[], bins: number) {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (values.length === 0) return { x: [], y: [], width: 0 };
  const width = max > min ? (max - min) / bins : 1;
  const counts = new Array<number>(max > min ? bins : 1).fill(0);
  for (const v of values) counts[Math.min(counts.length - 1, Math.floor((v - min) / width))]!++;
  return { x: counts.map((_, i) => min + (i + 0.5) * width), y: counts, width };
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  if (n < 2) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

/** Average ranks (ties share their mean rank), for Spearman's correlation. */
function ranks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

const STOPWORDS = new Set(
  "the and for are but not you all any can had her was one our out has him his how its may new now old see two who boy did get let put say she too use that with have this will your from they know want been good much some time very when come here just like long make many more only over such take than them well were what into also".split(
    " ",
  ),
);

/** Places words on an Archimedean spiral without overlap (bounding boxes); deterministic. */
export function layoutWords(
  words: { text: string; weight: number }[],
  width = 800,
  height = 400,
): { text: string; weight: number; x: number; y: number; size: number }[] {
  const max = Math.max(...words.map((w) => w.weight), 1);
  const placed: { text: string; weight: number; x: number; y: number; size: number; w: number; h: number }[] =
    [];
  for (const word of words) {
    const size = Math.round(12 + 48 * Math.sqrt(word.weight / max));
    const w = word.text.length * size * 0.6;
    const h = size;
    for (let t = 0; t < 2000; t++) {
      const angle = t * 0.35;
      const radius = 2 * angle;
      const x = width / 2 + radius * Math.cos(angle) * 1.6;
      const y = height / 2 + radius * Math.sin(angle);
      if (x - w / 2 < 0 || x + w / 2 > width || y - h / 2 < 0 || y + h / 2 > height) continue;
      const hit = placed.some((p) => Math.abs(p.x - x) * 2 < p.w + w && Math.abs(p.y - y) * 2 < p.h + h);
      if (!hit) {
        placed.push({ ...word, x, y, size, w, h });
        break;
      }
    }
  }
  return placed.map(({ text, weight, x, y, size }) => ({ text, weight, x, y, size }));
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  );

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

export const EXPLORERS: ExplorerDefinition[] = [
  {
    name: "HistogramPlot",
    type: "Explorer",
    displayName: L("Histogram", "Histograma"),
    description: L(
      "Distribution of each column: equal-width bins for numbers, the most frequent values for categories.",
      "Distribución de cada columna: intervalos de igual ancho para números, los valores más frecuentes para categorías.",
    ),
    schema: z.object({ nbins: z.int().min(1).max(200).default(20).describe("Bins for numeric columns") }),
    accepts: "any",
    minColumns: 1,
    maxColumns: 20,
    rows: "stats",
    compute: (table, params, note) =>
      table.columns.map((column) => {
        if (numeric(column)) {
          const h = histogram(present(column.values as Float64Array), Number(params.nbins ?? 20));
          return {
            data: [{ type: "bar", name: column.name, x: h.x, y: h.y, width: h.width }],
            layout: layout(`Histogram of ${column.name}`, note, {
              xaxis: { title: { text: column.name } },
              yaxis: { title: { text: "count" } },
              bargap: 0,
            }),
          };
        }
        const counts = valueCounts(column.values as (string | null)[], 50);
        return {
          data: [{ type: "bar", name: column.name, x: counts.map((c) => c[0]), y: counts.map((c) => c[1]) }],
          layout: layout(`Histogram of ${column.name}`, note, { yaxis: { title: { text: "count" } } }),
        };
      }),
  },
  {
    name: "ScatterPlot",
    type: "Explorer",
    displayName: L("Scatter plot", "Gráfico de dispersión"),
    description: L(
      "Points of two numeric columns (x, y); an optional third column colors them by category.",
      "Puntos de dos columnas numéricas (x, y); una tercera columna opcional los colorea por categoría.",
    ),
    schema: z.object({}),
    accepts: "any",
    minColumns: 2,
    maxColumns: 3,
    rows: "points",
    compute: (table, _params, note) => {
      const [x, y, color] = table.columns as [TableColumn, TableColumn, TableColumn | undefined];
      for (const c of [x, y])
        if (!numeric(c)) throw invalid(`ScatterPlot needs numeric x and y: column "${c.name}" is ${c.type}`);
      const xs = x.values as Float64Array;
      const ys = y.values as Float64Array;
      const groups = new Map<string, number[]>();
      for (let i = 0; i < table.rowCount; i++) {
        if (Number.isNaN(xs[i]!) || Number.isNaN(ys[i]!)) continue;
        const key = color ? String((color.values as ArrayLike<unknown>)[i] ?? "missing") : "";
        let g = groups.get(key);
        if (!g) groups.set(key, (g = []));
        g.push(i);
      }
      return [
        {
          data: [...groups.entries()].map(([key, rows]) => ({
            type: "scatter",
            mode: "markers",
            name: color ? `${color.name}=${key}` : `${y.name} vs ${x.name}`,
            x: rows.map((r) => xs[r]),
            y: rows.map((r) => ys[r]),
          })),
          layout: layout(`${y.name} vs ${x.name}`, note, {
            xaxis: { title: { text: x.name } },
            yaxis: { title: { text: y.name } },
          }),
        },
      ];
    },
  },
  {
    name: "BoxPlot",
    type: "Explorer",
    displayName: L("Box plot", "Diagrama de caja"),
    description: L(
      "Quartiles, median, mean and 1.5 IQR whiskers of each numeric column.",
      "Cuartiles, mediana, media y bigotes a 1,5 IQR de cada columna numérica.",
    ),
    schema: z.object({}),
    accepts: "numeric",
    minColumns: 1,
    maxColumns: 20,
    rows: "stats",
    compute: (table, _params, note) => [
      {
        data: table.columns.map((column) => {
          const sorted = present(column.values as Float64Array).sort((a, b) => a - b);
          const q1 = quantile(sorted, 0.25);
          const q3 = quantile(sorted, 0.75);
          const iqr = q3 - q1;
          const low = sorted.find((v) => v >= q1 - 1.5 * iqr) ?? q1;
          const high = [...sorted].reverse().find((v) => v <= q3 + 1.5 * iqr) ?? q3;
          return {
            type: "box",
            name: column.name,
            q1: [q1],
            median: [quantile(sorted, 0.5)],
            q3: [q3],
            lowerfence: [low],
            upperfence: [high],
            mean: [sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)],
          };
        }),
        layout: layout("Box plot", note),
      },
    ],
  },
  {
    name: "CorrelationMatrix",
    type: "Explorer",
    displayName: L("Correlation matrix", "Matriz de correlación"),
    description: L(
      "Pairwise Pearson or Spearman correlation of numeric columns (rows with a missing value in the pair are skipped).",
      "Correlación de Pearson o Spearman entre pares de columnas numéricas (se omiten filas con un faltante en el par).",
    ),
    schema: z.object({ method: z.enum(["pearson", "spearman"]).default("pearson") }),
    accepts: "numeric",
    minColumns: 2,
    maxColumns: 50,
    rows: "stats",
    compute: (table, params, note) => {
      const names = table.columns.map((c) => c.name);
      const z = table.columns.map((a) =>
        table.columns.map((b) => {
          const xa: number[] = [];
          const xb: number[] = [];
          const va = a.values as Float64Array;
          const vb = b.values as Float64Array;
          for (let i = 0; i < table.rowCount; i++)
            if (!Number.isNaN(va[i]!) && !Number.isNaN(vb[i]!)) {
              xa.push(va[i]!);
              xb.push(vb[i]!);
            }
          const r = params.method === "spearman" ? pearson(ranks(xa), ranks(xb)) : pearson(xa, xb);
          return Number.isNaN(r) ? null : r;
        }),
      );
      return [
        {
          data: [{ type: "heatmap", x: names, y: names, z, zmin: -1, zmax: 1, colorscale: "RdBu" }],
          layout: layout(`Correlation (${String(params.method ?? "pearson")})`, note),
        },
      ];
    },
  },
  {
    name: "DescribeExplorer",
    type: "Explorer",
    displayName: L("Describe", "Describir"),
    description: L(
      "Statistics table: count, mean, std, min, quartiles, max for numbers; count, unique, top, freq for categories.",
      "Tabla de estadísticas: cantidad, media, desv., mín., cuartiles, máx. para números; cantidad, únicos, moda, frecuencia para categorías.",
    ),
    schema: z.object({}),
    accepts: "any",
    minColumns: 1,
    maxColumns: 100,
    rows: "stats",
    compute: (table, _params, note) => {
      const stats = ["count", "mean", "std", "min", "25%", "50%", "75%", "max", "unique", "top", "freq"];
      const columns = table.columns.map((column) => {
        if (numeric(column)) {
          const sorted = present(column.values as Float64Array).sort((a, b) => a - b);
          const n = sorted.length;
          const mean = sorted.reduce((a, b) => a + b, 0) / (n || 1);
          const std = n > 1 ? Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
          return [
            n,
            n ? mean : null,
            std,
            sorted[0] ?? null,
            quantile(sorted, 0.25),
            quantile(sorted, 0.5),
            quantile(sorted, 0.75),
            sorted[n - 1] ?? null,
            null,
            null,
            null,
          ];
        }
        const values = column.values as (string | null)[];
        const counts = valueCounts(values, Infinity);
        const n = values.filter((v) => v !== null).length;
        return [
          n,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          counts.length,
          counts[0]?.[0] ?? null,
          counts[0]?.[1] ?? null,
        ];
      });
      const fmt = (v: unknown) =>
        typeof v === "number" ? (Number.isNaN(v) ? "" : Number(v.toPrecision(6))) : (v ?? "");
      return [
        {
          data: [
            {
              type: "table",
              header: { values: ["", ...table.columns.map((c) => c.name)] },
              cells: { values: [stats, ...columns.map((c) => c.map(fmt))] },
            },
          ],
          layout: layout("Describe", note),
          describe: Object.fromEntries(
            table.columns.map((c, i) => [
              c.name,
              Object.fromEntries(stats.map((s, j) => [s, columns[i]![j] ?? null])),
            ]),
          ),
        } as Figure,
      ];
    },
  },
  {
    name: "ECDFPlot",
    type: "Explorer",
    displayName: L("ECDF", "FDA empírica"),
    description: L(
      "Empirical cumulative distribution of each numeric column (share of values ≤ x).",
      "Distribución acumulada empírica de cada columna numérica (proporción de valores ≤ x).",
    ),
    schema: z.object({}),
    accepts: "numeric",
    minColumns: 1,
    maxColumns: 20,
    rows: "stats",
    compute: (table, _params, note) => [
      {
        data: table.columns.map((column) => {
          const sorted = present(column.values as Float64Array).sort((a, b) => a - b);
          const x: number[] = [];
          const y: number[] = [];
          for (let i = 0; i < sorted.length; i++)
            if (i === sorted.length - 1 || sorted[i + 1] !== sorted[i]) {
              x.push(sorted[i]!);
              y.push((i + 1) / sorted.length);
            }
          // At most 2,000 steps drawn (evenly spaced), always the last one (1.0).
          const keep = sampleIndices(x.length, 2000);
          const xs = Array.from(keep, (i) => x[i]!);
          const ys = Array.from(keep, (i) => y[i]!);
          if (x.length > keep.length) {
            xs.push(x[x.length - 1]!);
            ys.push(1);
          }
          return { type: "scatter", mode: "lines", line: { shape: "hv" }, name: column.name, x: xs, y: ys };
        }),
        layout: layout("ECDF", note, { yaxis: { title: { text: "share ≤ x" }, range: [0, 1] } }),
      },
    ],
  },
  {
    name: "ParallelCoordinatesPlot",
    type: "Explorer",
    displayName: L("Parallel coordinates", "Coordenadas paralelas"),
    description: L(
      "One vertical axis per numeric column, one line per row (a sample of rows on large data).",
      "Un eje vertical por columna numérica, una línea por fila (una muestra de filas en datos grandes).",
    ),
    schema: z.object({}),
    accepts: "numeric",
    minColumns: 2,
    maxColumns: 30,
    rows: "points",
    compute: (table, _params, note) => [
      {
        data: [
          {
            type: "parcoords",
            dimensions: table.columns.map((column) => {
              const values = Array.from(column.values as Float64Array, (v) => (Number.isNaN(v) ? null : v));
              const finite = values.filter((v): v is number => v !== null);
              return {
                label: column.name,
                values,
                range: finite.length ? [Math.min(...finite), Math.max(...finite)] : [0, 1],
              };
            }),
          },
        ],
        layout: layout("Parallel coordinates", note),
      },
    ],
  },
  {
    name: "WordcloudExplorer",
    type: "Explorer",
    displayName: L("Word cloud", "Nube de palabras"),
    description: L(
      "The most frequent words of text columns, sized by frequency (weighted words, an SVG and a Plotly text figure).",
      "Las palabras más frecuentes de columnas de texto, según su frecuencia (palabras ponderadas, un SVG y una figura de texto Plotly).",
    ),
    schema: z.object({
      max_words: z.int().min(1).max(300).default(100),
      remove_stopwords: z.boolean().default(true).describe("Skip common English words"),
    }),
    accepts: "string",
    minColumns: 1,
    maxColumns: 10,
    rows: "stats",
    compute: (table, params, note) => {
      const counts = new Map<string, number>();
      const skip = params.remove_stopwords !== false;
      for (const column of table.columns)
        for (const value of column.values as (string | null)[]) {
          if (value === null) continue;
          for (const token of tokenize(value))
            if (!skip || !STOPWORDS.has(token)) counts.set(token, (counts.get(token) ?? 0) + 1);
        }
      const words = [...counts.entries()]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, Number(params.max_words ?? 100))
        .map(([text, weight]) => ({ text, weight }));
      const placed = layoutWords(words);
      const svg =
        `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400" viewBox="0 0 800 400">` +
        placed
          .map(
            (w, i) =>
              `<text x="${w.x.toFixed(1)}" y="${w.y.toFixed(1)}" font-size="${w.size}" font-family="sans-serif" text-anchor="middle" dominant-baseline="middle" fill="${PALETTE[i % PALETTE.length]}">${escapeXml(w.text)}</text>`,
          )
          .join("") +
        `</svg>`;
      return [
        {
          data: [
            {
              type: "scatter",
              mode: "text",
              x: placed.map((w) => w.x),
              y: placed.map((w) => 400 - w.y),
              text: placed.map((w) => w.text),
              textfont: {
                size: placed.map((w) => w.size),
                color: placed.map((_, i) => PALETTE[i % PALETTE.length]),
              },
              hovertext: placed.map((w) => `${w.text}: ${w.weight}`),
            },
          ],
          layout: layout("Word cloud", note, {
            xaxis: { visible: false, range: [0, 800] },
            yaxis: { visible: false, range: [0, 400] },
          }),
          words,
          svg,
        },
      ];
    },
  },
];

/** Explorers that lab plugins added (by name); the built-in ones cannot be replaced. */
const PLUGIN_EXPLORERS = new Map<string, ExplorerDefinition>();

/** Adds (or, on a plugin's reload, replaces) a plugin's explorer. */
export function registerPluginExplorer(explorer: ExplorerDefinition): void {
  if (EXPLORERS.some((e) => e.name === explorer.name))
    throw new Error(`${explorer.name} is a built-in explorer`);
  PLUGIN_EXPLORERS.set(explorer.name, explorer);
}

export function unregisterPluginExplorer(name: string): void {
  PLUGIN_EXPLORERS.delete(name);
}

export function findExplorer(name: string): ExplorerDefinition | undefined {
  return EXPLORERS.find((e) => e.name === name) ?? PLUGIN_EXPLORERS.get(name);
}

/** Validates an exploration against the table's columns and parses its parameters (EngineError, 422). */
export function planExplorer(
  name: string,
  columns: { name: string; type: ColumnType }[],
  chosen: string[],
  parameters: Record<string, unknown>,
): { definition: ExplorerDefinition; params: Record<string, unknown>; columns: string[] } {
  const definition = findExplorer(name);
  if (!definition)
    throw new EngineError(
      "unknown_component",
      `Unknown exploration_type "${name}" (one of ${[...EXPLORERS.map((e) => e.name), ...PLUGIN_EXPLORERS.keys()].join(", ")})`,
    );
  const parsed = definition.schema.safeParse(parameters);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${name}: parameter ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  let names = [...new Set(chosen)];
  for (const column of names) {
    const found = columns.find((c) => c.name === column);
    if (!found) throw invalid(`Unknown column "${column}"`);
    const ok =
      definition.accepts === "any" ||
      (definition.accepts === "numeric" ? NUMERIC.has(found.type) : !NUMERIC.has(found.type));
    if (!ok)
      throw invalid(
        `${name} cannot read column "${column}" of type ${found.type} (it needs ${definition.accepts === "numeric" ? "numeric" : "text or categorical"} columns)`,
      );
  }
  if (names.length === 0) {
    names = columns
      .filter((c) =>
        definition.accepts === "any"
          ? true
          : definition.accepts === "numeric"
            ? NUMERIC.has(c.type)
            : !NUMERIC.has(c.type),
      )
      .map((c) => c.name)
      .slice(0, definition.maxColumns);
    if (names.length < definition.minColumns)
      throw invalid(`${name} needs at least ${definition.minColumns} columns`);
  }
  if (name === "ScatterPlot")
    for (const column of names.slice(0, 2)) {
      const type = columns.find((c) => c.name === column)!.type;
      if (!NUMERIC.has(type))
        throw invalid(`ScatterPlot needs numeric x and y: column "${column}" is ${type}`);
    }
  if (names.length < definition.minColumns || names.length > definition.maxColumns)
    throw invalid(
      `${name} reads ${definition.minColumns === definition.maxColumns ? definition.minColumns : `${definition.minColumns} to ${definition.maxColumns}`} columns (${names.length} given)`,
    );
  return { definition, params: parsed.data as Record<string, unknown>, columns: names };
}
