// HiveGuard tracking pages: overlaid metric charts (uPlot), live updates over SSE, zoom, log/linear Y,
// hover values (uPlot's legend), CSV/PNG export, notes and tags editing. No build step, no CDN.
/* global uPlot */
(() => {
  "use strict";
  const body = document.body;
  const page = body.dataset.page;
  const project = body.dataset.project;
  const runName = body.dataset.run;
  const enc = encodeURIComponent;
  const PALETTE = [
    "#2563eb",
    "#dc2626",
    "#16a34a",
    "#d97706",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#ea580c",
    "#4b5563",
  ];

  const api = (path, init = {}) =>
    fetch(path, {
      credentials: "same-origin",
      ...init,
      headers: { "X-Requested-With": "XMLHttpRequest", ...(init.headers || {}) },
    }).then(async (res) => {
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
      return res.json();
    });

  // ── projects list: search by name or tag as you type ─────────────────────────────────────────────
  if (page === "projects") {
    const input = document.getElementById("project-search");
    const rows = [...document.querySelectorAll("#projects tbody tr")];
    const filter = () => {
      const q = input.value.trim().toLowerCase();
      for (const row of rows)
        row.hidden = q !== "" && !row.dataset.name.includes(q) && !row.dataset.tags.includes(q);
    };
    input?.addEventListener("input", filter);
    return;
  }
  if (page !== "project" && page !== "run") return;

  // ── charts ───────────────────────────────────────────────────────────────────────────────────────
  /** metric → run → {steps, values, timestamps} */
  const data = new Map();
  /** metric → {plot, el} */
  const charts = new Map();
  let logY = false;
  let lastTimestamp = 0;
  const chartsEl = document.getElementById("charts");
  const liveEl = document.getElementById("live-status");

  const selectedRuns = () =>
    page === "run"
      ? [runName]
      : [...document.querySelectorAll('#run-selector input[name="run"]:checked')].map((el) => el.value);
  const allRuns = () =>
    page === "run"
      ? [runName]
      : [...document.querySelectorAll('#run-selector input[name="run"]')].map((el) => el.value);
  const colorOf = (run) => PALETTE[allRuns().indexOf(run) % PALETTE.length];

  for (const input of document.querySelectorAll('#run-selector input[name="run"]')) {
    const swatch = input.parentElement.querySelector(".swatch");
    if (swatch) swatch.style.background = colorOf(input.value);
    input.addEventListener("change", () => void reload());
  }

  function undelta(deltas) {
    let sum = 0;
    return deltas.map((d) => (sum += d));
  }

  function store(metric, run, series) {
    if (!data.has(metric)) data.set(metric, new Map());
    data.get(metric).set(run, series);
    for (const ts of series.timestamps) if (ts > lastTimestamp) lastTimestamp = ts;
  }

  async function load() {
    data.clear();
    const runs = selectedRuns();
    if (runs.length === 0) return;
    if (page === "run") {
      const res = await api(`/api/projects/${enc(project)}/runs/${enc(runName)}/metrics`);
      for (const [metric, series] of Object.entries(res.metrics)) store(metric, runName, series);
    } else {
      const res = await api(`/api/projects/${enc(project)}/runs/metrics?runs=${runs.map(enc).join(",")}`);
      // Steps and timestamps come delta-encoded (as upstream Aspara sends them): a running sum decodes them.
      for (const [metric, byRun] of Object.entries(res.metrics))
        for (const [run, series] of Object.entries(byRun))
          store(metric, run, {
            ...series,
            steps: undelta(series.steps),
            timestamps: undelta(series.timestamps),
          });
    }
  }

  function tableOf(metric) {
    const runs = selectedRuns().filter((run) => data.get(metric)?.has(run));
    const tables = runs.map((run) => {
      const s = data.get(metric).get(run);
      const values = s.values.map((v) => (v === null || (logY && v <= 0) ? null : v));
      return [s.steps, values];
    });
    if (tables.length === 0) return { runs, aligned: [[]] };
    return { runs, aligned: tables.length === 1 ? [tables[0][0], tables[0][1]] : uPlot.join(tables) };
  }

  function definedPoints(values) {
    let n = 0;
    for (const v of values ?? []) if (v != null) n++;
    return n;
  }

  function chartWidth() {
    return Math.max(280, Math.min(chartsEl.clientWidth - 8, 720));
  }

  function drawChart(metric) {
    const { runs, aligned } = tableOf(metric);
    let entry = charts.get(metric);
    if (!entry) {
      const el = document.createElement("div");
      el.className = "chart";
      el.dataset.metric = metric;
      const head = document.createElement("div");
      head.className = "chart-head";
      const title = document.createElement("h3");
      title.textContent = metric;
      const png = document.createElement("button");
      png.type = "button";
      png.textContent = "PNG";
      png.title = "Export this chart as PNG";
      png.addEventListener("click", () => exportPng(metric));
      head.append(title, png);
      el.append(head);
      chartsEl.append(el);
      entry = { el, plot: null, key: "" };
      charts.set(metric, entry);
    }
    const key = `${runs.join("|")}|${logY}`;
    entry.el.dataset.points = String(
      aligned.slice(1).reduce((n, ys) => n + ys.filter((v) => v != null).length, 0),
    );
    if (entry.plot && entry.key === key) {
      entry.plot.setData(aligned, !entry.zoomed);
      return;
    }
    entry.plot?.destroy();
    entry.key = key;
    entry.zoomed = false;
    entry.plot = new uPlot(
      {
        width: chartWidth(),
        height: 240,
        scales: { x: { time: false }, y: { distr: logY ? 3 : 1 } },
        cursor: { drag: { x: true, y: false } },
        series: [
          { label: "step" },
          ...runs.map((run) => ({
            label: run,
            stroke: colorOf(run),
            width: 1.5,
            spanGaps: true,
            // A line needs two points: a run with a single point is drawn as a marker.
            points: {
              show: (u, seriesIndex) => definedPoints(u.data[seriesIndex]) < 2,
              size: 8,
              fill: colorOf(run),
            },
          })),
        ],
        axes: [{}, { size: 60 }],
        hooks: {
          setSelect: [
            () => {
              entry.zoomed = true;
            },
          ],
        },
      },
      aligned,
      entry.el,
    );
  }

  function render() {
    const metrics = [...data.keys()].sort();
    for (const [metric, entry] of charts) {
      if (!metrics.includes(metric)) {
        entry.plot?.destroy();
        entry.el.remove();
        charts.delete(metric);
      }
    }
    for (const metric of metrics) drawChart(metric);
    if (metrics.length === 0 && !chartsEl.querySelector(".empty")) {
      chartsEl.innerHTML = '<p class="empty">No metrics for the selected runs yet.</p>';
    } else if (metrics.length > 0) {
      chartsEl.querySelector(".empty")?.remove();
    }
  }

  let frame = 0;
  const scheduleRender = () => {
    if (!frame) frame = requestAnimationFrame(() => ((frame = 0), render()));
  };

  function exportPng(metric) {
    const canvas = charts.get(metric)?.el.querySelector("canvas");
    if (!canvas) return;
    download(canvas.toDataURL("image/png"), `${project}_${metric.replace(/[^\w.-]+/g, "_")}.png`);
  }

  function exportCsv() {
    const lines = ["metric,run,step,value,timestamp"];
    // Names a spreadsheet would run as a formula get a leading ' (the rule of src/platform/csv.ts).
    const neutralize = (text) =>
      /^[=+\-@\t\r]/.test(text) && !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? `'${text}` : text;
    const quote = (raw) => {
      const text = neutralize(String(raw));
      return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    };
    for (const [metric, byRun] of data)
      for (const [run, s] of byRun)
        s.steps.forEach((step, i) =>
          lines.push(
            [
              quote(metric),
              quote(run),
              step,
              s.values[i] ?? "",
              new Date(s.timestamps[i]).toISOString(),
            ].join(","),
          ),
        );
    download(
      URL.createObjectURL(new Blob([`${lines.join("\n")}\n`], { type: "text/csv" })),
      `${project}_metrics.csv`,
    );
  }

  function download(href, filename) {
    const a = document.createElement("a");
    a.href = href;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
  }

  // ── live updates over SSE ────────────────────────────────────────────────────────────────────────
  let source = null;
  function connect() {
    source?.close();
    const runs = selectedRuns();
    if (runs.length === 0) return showStream("connecting");
    const since = lastTimestamp ? `since=${lastTimestamp + 1}` : "";
    const url =
      page === "run"
        ? `/api/projects/${enc(project)}/runs/${enc(runName)}/stream?${since}`
        : `/api/projects/${enc(project)}/runs/stream?runs=${runs.map(enc).join(",")}&${since}`;
    source = new EventSource(url);
    source.onopen = () => showStream("open");
    source.onerror = () => showStream("down");
    source.addEventListener("metric", (event) => {
      const record = JSON.parse(event.data);
      for (const [metric, value] of Object.entries(record.metrics)) {
        if (!data.has(metric)) data.set(metric, new Map());
        const byRun = data.get(metric);
        if (!byRun.has(record.run)) byRun.set(record.run, { steps: [], values: [], timestamps: [] });
        const s = byRun.get(record.run);
        const at =
          s.steps.length && s.steps[s.steps.length - 1] >= record.step ? s.steps.indexOf(record.step) : -1;
        if (at >= 0) {
          s.values[at] = value;
          s.timestamps[at] = record.timestamp_ms;
        } else {
          s.steps.push(record.step);
          s.values.push(value);
          s.timestamps.push(record.timestamp_ms);
        }
      }
      if (record.timestamp_ms > lastTimestamp) lastTimestamp = record.timestamp_ms;
      scheduleRender();
    });
    source.addEventListener("status", (event) => {
      const status = JSON.parse(event.data);
      const badge = statusBadge(status.run);
      if (badge) {
        badge.textContent = status.status;
        badge.className = `status status-${status.status}`;
      }
      showStream(streamState);
    });
  }

  /** The status badge of a run on this page (the run page's heading, or its line in the run selector). */
  const statusBadge = (run) =>
    page === "run"
      ? document.getElementById("run-status")
      : document
          .querySelector(`#run-selector input[value="${CSS.escape(run)}"]`)
          ?.parentElement.querySelector(".status");

  /**
   * The live badge: "live" only while the stream is open and a selected run is running (`wip`); a completed
   * or failed run is not live, so the badge is hidden (the stream stays open: a resumed run becomes live).
   */
  let streamState = "connecting";
  function showStream(state) {
    streamState = state;
    if (!liveEl) return;
    const running = selectedRuns().some((run) => statusBadge(run)?.textContent.trim() === "wip");
    const [text, shown] = !running
      ? ["", "idle"]
      : state === "open"
        ? ["live", "live"]
        : state === "down"
          ? ["reconnecting…", "down"]
          : ["connecting…", "connecting"];
    liveEl.textContent = text;
    liveEl.dataset.state = shown;
    liveEl.dataset.stream = state;
    liveEl.hidden = !running;
  }
  showStream("connecting");

  async function reload() {
    try {
      await load();
      render();
      connect();
    } catch (error) {
      chartsEl.innerHTML = `<p class="error">Could not load metrics: ${String(error.message).slice(0, 200)}</p>`;
    }
  }

  document.getElementById("log-y")?.addEventListener("change", (event) => {
    logY = event.target.checked;
    render();
  });
  document.getElementById("reset-zoom")?.addEventListener("click", () => {
    for (const entry of charts.values()) entry.key = "";
    render();
  });
  document.getElementById("export-csv")?.addEventListener("click", exportCsv);
  window.addEventListener("resize", () => {
    for (const entry of charts.values()) entry.plot?.setSize({ width: chartWidth(), height: 240 });
  });

  // ── notes and tags ───────────────────────────────────────────────────────────────────────────────
  const metaUrl =
    page === "run"
      ? `/api/projects/${enc(project)}/runs/${enc(runName)}/metadata`
      : `/api/projects/${enc(project)}/metadata`;
  const tagsInput = document.getElementById("tags-input");
  const notesInput = document.getElementById("notes-input");
  const metaStatus = document.getElementById("meta-status");
  api(metaUrl)
    .then((meta) => {
      tagsInput.value = meta.tags.join(", ");
      notesInput.value = meta.notes;
    })
    .catch(() => {});
  document.getElementById("meta-save")?.addEventListener("click", async () => {
    const tags = tagsInput.value
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    try {
      const meta = await api(metaUrl, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ notes: notesInput.value, tags }),
      });
      tagsInput.value = meta.tags.join(", ");
      metaStatus.textContent = "Saved";
    } catch (error) {
      metaStatus.textContent = `Not saved: ${String(error.message).slice(0, 200)}`;
    }
  });

  void reload();
})();
