import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export function Notice(props: { error?: string | null; ok?: string | null }) {
  return (
    <p class={props.error ? "notice error" : "notice"} role={props.error ? "alert" : "status"}>
      {props.error ?? props.ok ?? ""}
    </p>
  );
}

/** A confirmation in a modal <dialog>: focus moves into it, Escape cancels, Enter on the button confirms. */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  // Its own id: a page may hold several dialogs (API keys: revoke, remove secret).
  const titleId = `confirm-title-${useId()}`;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={props.onCancel} onClose={props.onCancel}>
      <h2 id={titleId}>{props.title}</h2>
      <div>{props.children}</div>
      <div class="row">
        <button type="button" onClick={props.onCancel} autofocus>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function Progress(props: { value: number; max: number; label: string }) {
  const pct = props.max > 0 ? Math.round((props.value / props.max) * 100) : 0;
  return (
    <div class="progress">
      <progress value={props.value} max={props.max || 1} aria-label={props.label} />
      <span>
        {props.value.toLocaleString()} / {props.max.toLocaleString()} ({pct}%)
      </span>
    </div>
  );
}

const COLORS = ["#d97706", "#16a34a", "#dc2626", "#2563eb", "#7c3aed"];

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color?: string;
}

/**
 * A uPlot line chart (fast canvas charts, the same library as the tracking pages). Redrawn in place
 * when the data changes; resized with its container, so it fits a phone's width.
 */
export function Chart(props: {
  id: string;
  title: string;
  x: number[];
  series: ChartSeries[];
  yLabel?: string;
  /** Fixed y range (e.g. 0–100 for a percentage); otherwise fitted to the data. */
  yRange?: [number, number];
  /** Draw a dot at every value (for sparse series, where a lone value has no line to be seen on). */
  dots?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join("|");

  useEffect(() => {
    const el = box.current!;
    const width = () => Math.max(260, el.clientWidth);
    const chart = new uPlot(
      {
        width: width(),
        height: 220,
        scales: { x: { time: true }, ...(props.yRange && { y: { range: props.yRange } }) },
        axes: [{}, { label: props.yLabel, size: 50 }],
        series: [
          {},
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: s.color ?? COLORS[i % COLORS.length],
            width: 2,
            spanGaps: false,
            ...(props.dots && {
              points: { show: true, size: 7, fill: s.color ?? COLORS[i % COLORS.length] },
            }),
          })),
        ],
      },
      [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    plot.current = chart;
    const observer = new ResizeObserver(() => chart.setSize({ width: width(), height: 220 }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData([props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.x, props.series]);

  return (
    <figure class="chart" data-chart={props.id}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} role="img" aria-label={props.title} />
    </figure>
  );
}

export const fmtDate = (iso: string | null | undefined) =>
  iso ? iso.replace("T", " ").slice(0, 19) + " UTC" : "—";
