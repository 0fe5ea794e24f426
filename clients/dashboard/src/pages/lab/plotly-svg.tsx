// Draws the Plotly figures of GET /api/v1/run/plot/{id}/{type} as SVG, without Plotly (several MB): the
// subset of Plotly JSON the lab's engine writes (src/modules/lab/engine/plots.ts) — `scatter` traces
// (markers, lines; a numeric marker colour array on a colour scale), horizontal or vertical `bar` traces,
// and `contour`/`heatmap` traces (drawn as a heat map of their z grid) — on subplots laid out by
// `layout.grid` and the traces' `xaxis`/`yaxis` references, with titles, axis titles, tick labels
// (`tickvals`/`ticktext` too) and a legend. Any other trace type is named under the figure as not drawn.

export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

type Value = number | string | null;

const WIDTH = 720;
const COLORS = ["#2563eb", "#d97706", "#16a34a", "#dc2626", "#7c3aed"];
const MARGIN = { left: 64, right: 16, top: 28, bottom: 46 };

const textOf = (title: unknown): string =>
  typeof title === "string"
    ? title
    : title && typeof title === "object" && typeof (title as { text?: unknown }).text === "string"
      ? (title as { text: string }).text
      : "";

/** Plotly's "Blues" scale from light (0) to dark (1). */
function blues(t: number): string {
  const stops = [
    [247, 251, 255],
    [198, 219, 239],
    [107, 174, 214],
    [33, 113, 181],
    [8, 48, 107],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i]!.map((v, k) => Math.round(v + (stops[i + 1]![k]! - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const step0 = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => (max - min) / s <= count) ?? step0;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

const fmtTick = (v: number) =>
  Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(4));

/** An axis: numbers map linearly; strings map to the categories' positions (in order of appearance). */
class Axis {
  categories: string[] = [];
  min = Infinity;
  max = -Infinity;
  add(values: Value[]) {
    for (const v of values) {
      if (v === null || v === undefined) continue;
      if (typeof v === "string") {
        if (!this.categories.includes(v)) this.categories.push(v);
      } else if (Number.isFinite(v)) {
        this.min = Math.min(this.min, v);
        this.max = Math.max(this.max, v);
      }
    }
  }
  coord(v: Value): number | null {
    if (v === null || v === undefined) return null;
    if (typeof v === "string") return this.categories.indexOf(v);
    return Number.isFinite(v) ? v : null;
  }
  range(pad: boolean): [number, number] {
    if (this.categories.length > 0 && this.min === Infinity) return [-0.5, this.categories.length - 0.5];
    let [lo, hi] = [this.min, this.max];
    if (lo === Infinity) return [0, 1];
    if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
    const p = pad ? (hi - lo) * 0.05 : 0;
    return [lo - p, hi + p];
  }
}

interface Subplot {
  key: string;
  x: Axis;
  y: Axis;
  xLayout: Record<string, unknown>;
  yLayout: Record<string, unknown>;
  traces: Record<string, unknown>[];
}

/** `x` → "", `x2` → "2" (`y…` likewise): the suffix of the axis a trace is drawn on. */
const axisKey = (ref: unknown) => {
  const suffix = typeof ref === "string" ? ref.slice(1) : "";
  return suffix === "1" ? "" : suffix;
};

export function PlotlySvg(props: { figure: PlotlyFigure; label: string }) {
  const { data, layout } = props.figure;
  const subplots = new Map<string, Subplot>();
  const skipped = new Set<string>();
  for (const trace of data) {
    const type = String(trace.type ?? "scatter");
    if (!["scatter", "scattergl", "bar", "contour", "heatmap"].includes(type)) {
      skipped.add(type);
      continue;
    }
    const key = axisKey(trace.xaxis);
    let sp = subplots.get(key);
    if (!sp) {
      sp = {
        key,
        x: new Axis(),
        y: new Axis(),
        xLayout: (layout[`xaxis${key}`] as Record<string, unknown>) ?? {},
        yLayout: (layout[`yaxis${axisKey(trace.yaxis)}`] as Record<string, unknown>) ?? {},
        traces: [],
      };
      subplots.set(key, sp);
    }
    sp.traces.push(trace);
    sp.x.add((trace.x as Value[]) ?? []);
    sp.y.add((trace.y as Value[]) ?? []);
    if (type === "bar") (trace.orientation === "h" ? sp.x : sp.y).add([0]);
  }
  const panels = [...subplots.values()].sort((a, b) => Number(a.key || 1) - Number(b.key || 1));
  const grid = layout.grid as { rows?: number; columns?: number } | undefined;
  const columns = Math.max(1, Math.min(panels.length, grid?.columns ?? 1));
  const rows = Math.max(1, Math.ceil(panels.length / columns));
  const panelHeight = Math.max(220, Math.min(380, Number(layout.height ?? 0) / rows || 300));
  const title = textOf(layout.title);
  const top = title ? 30 : 6;
  const legend = data.filter(
    (t) => t.showlegend !== false && typeof t.name === "string" && t.type !== "contour",
  );
  const legendHeight = legend.length > 1 ? 22 : 0;
  const height = top + rows * panelHeight + legendHeight;
  const panelWidth = WIDTH / columns;

  return (
    <figure class="plot">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-label={`${props.label}${title ? `: ${title}` : ""}`}
        class="plot-svg"
      >
        {title && (
          <text x={WIDTH / 2} y={20} text-anchor="middle" class="plot-title">
            {title}
          </text>
        )}
        {panels.map((sp, i) => (
          <Panel
            key={sp.key}
            sp={sp}
            x0={(i % columns) * panelWidth}
            y0={top + Math.floor(i / columns) * panelHeight}
            w={panelWidth}
            h={panelHeight}
          />
        ))}
        {legendHeight > 0 && (
          <g transform={`translate(${MARGIN.left}, ${height - 8})`}>
            {legend.map((t, i) => (
              <g key={i} transform={`translate(${i * 150}, 0)`}>
                <rect x={0} y={-9} width={12} height={4} fill={colorOf(t, data.indexOf(t))} />
                <text x={18} y={-4} class="plot-tick">
                  {String(t.name)}
                </text>
              </g>
            ))}
          </g>
        )}
      </svg>
      {skipped.size > 0 && (
        <figcaption class="hint">Not drawn here: {[...skipped].join(", ")} traces.</figcaption>
      )}
    </figure>
  );
}

function colorOf(trace: Record<string, unknown>, index: number): string {
  const marker = trace.marker as { color?: unknown } | undefined;
  const line = trace.line as { color?: unknown } | undefined;
  if (typeof line?.color === "string") return line.color;
  if (typeof marker?.color === "string") return marker.color;
  return COLORS[index % COLORS.length]!;
}

function Panel(props: { sp: Subplot; x0: number; y0: number; w: number; h: number }) {
  const { sp } = props;
  const left = props.x0 + MARGIN.left;
  const right = props.x0 + props.w - MARGIN.right;
  const top = props.y0 + MARGIN.top / 2;
  const bottom = props.y0 + props.h - MARGIN.bottom;
  const hasHeat = sp.traces.some((t) => t.type === "contour" || t.type === "heatmap");
  const [xlo, xhi] = sp.x.range(!hasHeat);
  const [ylo, yhi] = sp.y.range(!hasHeat);
  const px = (v: number) => left + ((v - xlo) / (xhi - xlo || 1)) * (right - left);
  const py = (v: number) => bottom - ((v - ylo) / (yhi - ylo || 1)) * (bottom - top);

  const ticks = (axis: Axis, lay: Record<string, unknown>, lo: number, hi: number) => {
    const vals = lay.tickvals as number[] | undefined;
    const texts = lay.ticktext as string[] | undefined;
    if (vals && texts) return vals.map((v, i) => ({ v, label: String(texts[i] ?? v) }));
    if (axis.categories.length > 0 && axis.min === Infinity)
      return axis.categories.map((c, i) => ({ v: i, label: c }));
    return niceTicks(lo, hi).map((v) => ({ v, label: fmtTick(v) }));
  };
  const xTicks = ticks(sp.x, sp.xLayout, xlo, xhi);
  const yTicks = ticks(sp.y, sp.yLayout, ylo, yhi);

  return (
    <g>
      <rect x={left} y={top} width={right - left} height={bottom - top} class="plot-area" />
      {sp.traces.map((trace, i) => (
        <Trace key={i} trace={trace} index={i} sp={sp} px={px} py={py} />
      ))}
      {xTicks.map((t) => (
        <g key={`x${t.v}`}>
          <line x1={px(t.v)} x2={px(t.v)} y1={bottom} y2={bottom + 4} class="plot-axis" />
          <text x={px(t.v)} y={bottom + 15} text-anchor="middle" class="plot-tick">
            {t.label}
          </text>
        </g>
      ))}
      {yTicks.map((t) => (
        <g key={`y${t.v}`}>
          <line x1={left - 4} x2={left} y1={py(t.v)} y2={py(t.v)} class="plot-axis" />
          <text x={left - 6} y={py(t.v) + 4} text-anchor="end" class="plot-tick">
            {t.label}
          </text>
        </g>
      ))}
      <line x1={left} x2={right} y1={bottom} y2={bottom} class="plot-axis" />
      <line x1={left} x2={left} y1={top} y2={bottom} class="plot-axis" />
      <text x={(left + right) / 2} y={bottom + 34} text-anchor="middle" class="plot-axis-title">
        {textOf(sp.xLayout.title)}
      </text>
      <text
        x={props.x0 + 12}
        y={(top + bottom) / 2}
        text-anchor="middle"
        class="plot-axis-title"
        transform={`rotate(-90 ${props.x0 + 12} ${(top + bottom) / 2})`}
      >
        {textOf(sp.yLayout.title)}
      </text>
    </g>
  );
}

function Trace(props: {
  trace: Record<string, unknown>;
  index: number;
  sp: Subplot;
  px: (v: number) => number;
  py: (v: number) => number;
}) {
  const { trace, sp, px, py } = props;
  const type = String(trace.type ?? "scatter");
  const xs = (trace.x as Value[]) ?? [];
  const ys = (trace.y as Value[]) ?? [];
  const color = colorOf(trace, props.index);

  if (type === "contour" || type === "heatmap") {
    const z = (trace.z as (number | null)[][]) ?? [];
    const flat = z.flat().filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    const lo = Math.min(...flat);
    const hi = Math.max(...flat);
    const reverse = trace.reversescale === true;
    const cellW = xs.length > 1 ? Math.abs(px(Number(xs[1])) - px(Number(xs[0]))) : 10;
    const cellH = ys.length > 1 ? Math.abs(py(Number(ys[1])) - py(Number(ys[0]))) : 10;
    return (
      <g data-trace="heat">
        {z.flatMap((row, r) =>
          row.map((v, c) => {
            if (typeof v !== "number") return null;
            const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
            return (
              <rect
                key={`${r}-${c}`}
                x={px(Number(xs[c])) - cellW / 2}
                y={py(Number(ys[r])) - cellH / 2}
                width={cellW + 0.5}
                height={cellH + 0.5}
                fill={blues(reverse ? 1 - t : t)}
              />
            );
          }),
        )}
      </g>
    );
  }

  if (type === "bar") {
    const horizontal = trace.orientation === "h";
    const texts = trace.text as string[] | undefined;
    const band = 0.7;
    return (
      <g data-trace="bar">
        {xs.map((xv, i) => {
          const yv = ys[i] ?? null;
          if (horizontal) {
            const c = sp.y.coord(yv);
            const v = typeof xv === "number" ? xv : null;
            if (c === null || v === null) return null;
            const y1 = py(c + band / 2);
            const y2 = py(c - band / 2);
            return (
              <g key={i}>
                <rect
                  x={Math.min(px(0), px(v))}
                  y={y1}
                  width={Math.abs(px(v) - px(0))}
                  height={y2 - y1}
                  fill={color}
                />
                {texts?.[i] && (
                  <text x={px(v) + 4} y={(y1 + y2) / 2 + 4} class="plot-tick">
                    {texts[i]}
                  </text>
                )}
              </g>
            );
          }
          const c = sp.x.coord(xv);
          const v = typeof yv === "number" ? yv : null;
          if (c === null || v === null) return null;
          const x1 = px(c - band / 2);
          const x2 = px(c + band / 2);
          return (
            <rect
              key={i}
              x={x1}
              y={Math.min(py(0), py(v))}
              width={x2 - x1}
              height={Math.abs(py(v) - py(0))}
              fill={color}
            />
          );
        })}
      </g>
    );
  }

  // scatter: markers and/or lines.
  const mode = String(trace.mode ?? "lines+markers");
  const points = xs
    .map((xv, i) => [sp.x.coord(xv), sp.y.coord(ys[i] ?? null), i] as const)
    .filter((p): p is readonly [number, number, number] => p[0] !== null && p[1] !== null);
  const marker = trace.marker as { color?: unknown; size?: number } | undefined;
  const colors = Array.isArray(marker?.color) ? (marker.color as number[]) : null;
  const cmin = colors ? Math.min(...colors) : 0;
  const cmax = colors ? Math.max(...colors) : 1;
  return (
    <g data-trace="scatter">
      {mode.includes("lines") && (
        <polyline
          points={points.map(([x, y]) => `${px(x)},${py(y)}`).join(" ")}
          fill="none"
          stroke={color}
          stroke-width={2}
        />
      )}
      {mode.includes("markers") &&
        points.map(([x, y, i]) => (
          <circle
            key={i}
            cx={px(x)}
            cy={py(y)}
            r={(marker?.size ?? 7) / 2}
            fill={colors ? blues(0.25 + (0.75 * ((colors[i] ?? cmin) - cmin)) / (cmax - cmin || 1)) : color}
            stroke="#1f2937"
            stroke-width={0.5}
          />
        ))}
    </g>
  );
}
