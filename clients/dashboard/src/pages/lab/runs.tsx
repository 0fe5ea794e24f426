// Lab runs of a model session: create one (model and its parameters from the component's JSON Schema,
// optionally a hyperparameter search), train it through a ModelJob with live progress, compare the
// session's runs metric by metric, and per run: metrics per split, parameters, HPO plots (Plotly JSON drawn
// as SVG), the ONNX download, a predictions preview and persisted predictions (predictions.tsx); and the
// upload of a user's own ONNX model as a run.
import { useEffect, useState } from "preact/hooks";
import { usePoll } from "../../router.js";
import { ConfirmDialog, Notice } from "../../ui.js";
import {
  type Cell,
  type Component,
  components,
  fmtTime,
  type LabJob,
  type ModelSession,
  postForm,
  rest,
} from "./lab-api.js";
import { RunExplainers } from "./explainers.js";
import { type PlotlyFigure, PlotlySvg } from "./plotly-svg.js";
import { RunPredictions, UploadOnnx } from "./predictions.js";

export interface LabRun {
  id: number;
  model_session_id: number;
  name: string;
  description: string | null;
  model_name: string;
  parameters: Record<string, unknown>;
  optimizer_name: string | null;
  optimizer_parameters: Record<string, unknown>;
  goal_metric: string | null;
  status: number;
  job_id: string | null;
  error: string | null;
  train_metrics: Record<string, number | null> | null;
  validation_metrics: Record<string, number | null> | null;
  test_metrics: Record<string, number | null> | null;
  best_parameters: Record<string, unknown> | null;
  trials: { number: number; value: number | null; state: string }[] | null;
  plot_history_path: string | null;
  plot_slice_path: string | null;
  plot_contour_path: string | null;
  plot_importance_path: string | null;
  onnx_path: string | null;
  start_time: string | null;
  end_time: string | null;
  created: string;
}

const RUN_STATUS = ["not started", "queued", "training", "finished", "error"];
const SPLITS = ["train", "validation", "test"] as const;
const PLOTS = ["history", "slice", "contour", "importance"] as const;

const fmtMetric = (v: number | null | undefined) => (typeof v === "number" ? v.toFixed(4) : "—");

/** JSON Schema of one parameter, as GET /api/v1/component/ gives it. */
interface ParamSchema {
  type?: string;
  enum?: unknown[];
  anyOf?: ParamSchema[];
  default?: unknown;
  title?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  placeholder?: { lower_bound?: number; upper_bound?: number; choices?: unknown[] };
  "x-dashai-search-dtype"?: string;
}

/** The user's choice for a parameter: a fixed value (as typed) and, when searchable, the search. */
interface ParamChoice {
  value: string;
  search: boolean;
  low: string;
  high: string;
}

const kindOf = (s: ParamSchema): "int" | "float" | "enum" | "bool" | "json" => {
  if (s.enum) return "enum";
  // A nullable parameter is `anyOf [{type}, {type: "null"}]`: its kind is the one other member's.
  const members = (s.anyOf ?? [s]).filter((a) => a.type !== "null");
  if (members.length !== 1) return "json";
  const only = members[0]!;
  if (only.enum) return "enum";
  if (only.type === "boolean") return "bool";
  if (only.type === "integer") return "int";
  if (only.type === "number") return "float";
  return "json";
};

/** A parameter's value as the form shows it: numbers and text as typed, null as empty (no limit). */
const showDefault = (v: unknown) =>
  v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);

function ParamField(props: {
  name: string;
  schema: ParamSchema;
  choice: ParamChoice;
  onChange: (c: ParamChoice) => void;
}) {
  const { name, schema, choice } = props;
  const kind = kindOf(schema);
  const searchable = Boolean(schema["x-dashai-search-dtype"]);
  const numericSearch = ["integer", "number"].includes(schema["x-dashai-search-dtype"] ?? "");
  const set = (patch: Partial<ParamChoice>) => props.onChange({ ...choice, ...patch });
  const label = schema.title ?? name;
  return (
    <div class="param" data-param={name}>
      {kind === "enum" ? (
        <label title={schema.description}>
          {label}
          <select
            value={choice.value}
            disabled={choice.search}
            onChange={(e) => set({ value: (e.currentTarget as HTMLSelectElement).value })}
          >
            {(schema.enum ?? schema.anyOf?.find((a) => a.enum)?.enum ?? []).map((o) => (
              <option key={String(o)} value={String(o)}>
                {String(o)}
              </option>
            ))}
          </select>
        </label>
      ) : kind === "bool" ? (
        <label class="check" title={schema.description}>
          <input
            type="checkbox"
            checked={choice.value === "true"}
            disabled={choice.search}
            onChange={(e) => set({ value: String((e.currentTarget as HTMLInputElement).checked) })}
          />
          {label}
        </label>
      ) : (
        <label title={schema.description}>
          {label}
          <input
            value={choice.value}
            disabled={choice.search}
            inputMode={numericSearch ? "decimal" : undefined}
            onInput={(e) => set({ value: (e.currentTarget as HTMLInputElement).value })}
          />
        </label>
      )}
      {searchable && (
        <label class="check">
          <input
            type="checkbox"
            checked={choice.search}
            onChange={(e) => set({ search: (e.currentTarget as HTMLInputElement).checked })}
          />
          search {label}
        </label>
      )}
      {choice.search && numericSearch && (
        <span class="row">
          <label>
            from
            <input
              class="bound"
              value={choice.low}
              aria-label={`${label}: lower bound`}
              onInput={(e) => set({ low: (e.currentTarget as HTMLInputElement).value })}
            />
          </label>
          <label>
            to
            <input
              class="bound"
              value={choice.high}
              aria-label={`${label}: upper bound`}
              onInput={(e) => set({ high: (e.currentTarget as HTMLInputElement).value })}
            />
          </label>
        </span>
      )}
    </div>
  );
}

/** The parameters to send: changed fixed values as values, searched ones as DashAI's envelope. */
function parametersOf(schema: Record<string, ParamSchema>, choices: Record<string, ParamChoice>) {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(schema)) {
    const c = choices[name];
    if (!c) continue;
    const kind = kindOf(s);
    const parse = (text: string): unknown => {
      // Empty: null (nullable parameters: "no limit"); the server says so when the parameter is not nullable.
      if (kind === "int" || kind === "float") return text.trim() === "" ? null : Number(text);
      if (kind === "bool") return text === "true";
      if (kind === "enum") return text;
      if (text.trim() === "") return null;
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    };
    if (c.search) {
      out[name] =
        kind === "int" || kind === "float"
          ? { optimize: true, lower_bound: Number(c.low), upper_bound: Number(c.high) }
          : { optimize: true, choices: s.placeholder?.choices ?? s.enum ?? [false, true] };
    } else if (c.value !== showDefault(s.default)) out[name] = parse(c.value);
  }
  return out;
}

function CreateRun(props: { session: ModelSession; onCreated: (run: LabRun, train: boolean) => void }) {
  const [models, setModels] = useState<Component[]>([]);
  const [optimizers, setOptimizers] = useState<Component[]>([]);
  const [model, setModel] = useState("");
  const [choices, setChoices] = useState<Record<string, ParamChoice>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const task = props.session.task_name;

  useEffect(() => {
    void Promise.all([components(["Model"], task), components(["Optimizer"])])
      .then(([m, o]) => {
        setModels(m);
        setOptimizers(o);
        setModel(m[0]?.name ?? "");
      })
      .catch((e: Error) => setError(e.message));
  }, [task]);
  const schema = ((models.find((m) => m.name === model)?.schema as { properties?: unknown } | undefined)
    ?.properties ?? {}) as Record<string, ParamSchema>;
  useEffect(() => {
    const next: Record<string, ParamChoice> = {};
    for (const [name, s] of Object.entries(schema))
      next[name] = {
        value: showDefault(s.default),
        search: false,
        low: String(s.placeholder?.lower_bound ?? ""),
        high: String(s.placeholder?.upper_bound ?? ""),
      };
    setChoices(next);
  }, [model, models]);
  const searching = Object.values(choices).some((c) => c.search);
  const goalMetrics = props.session.validation_metrics.length
    ? props.session.validation_metrics
    : props.session.test_metrics;

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setError(null);
    setBusy(true);
    try {
      const run = await rest<LabRun>("POST", "/api/v1/run/", {
        model_session_id: props.session.id,
        model_name: model,
        name: String(form.get("name") ?? ""),
        description: String(form.get("description") ?? "") || null,
        parameters: parametersOf(schema, choices),
        ...(searching && {
          optimizer_name: String(form.get("optimizer") ?? ""),
          optimizer_parameters: { n_trials: Number(form.get("n_trials")) },
          goal_metric: String(form.get("goal_metric") ?? ""),
        }),
      });
      props.onCreated(run, form.get("train") === "on");
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" onSubmit={submit} aria-labelledby="lab-run-title">
      <h2 id="lab-run-title">New run in “{props.session.name}”</h2>
      <div class="grid">
        <label>
          Run name
          <input name="name" required maxLength={255} />
        </label>
        <label>
          Model
          <select value={model} onChange={(e) => setModel((e.currentTarget as HTMLSelectElement).value)}>
            {models.map((m) => (
              <option key={m.name} value={m.name} title={m.description}>
                {m.display_name || m.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Description
          <input name="description" maxLength={1000} />
        </label>
      </div>
      {Object.keys(schema).length > 0 && (
        <fieldset class="lab-checks params">
          <legend>Parameters</legend>
          {Object.entries(schema).map(([name, s]) =>
            choices[name] ? (
              <ParamField
                key={`${model}-${name}`}
                name={name}
                schema={s}
                choice={choices[name]}
                onChange={(c) => setChoices({ ...choices, [name]: c })}
              />
            ) : null,
          )}
        </fieldset>
      )}
      {searching && (
        <fieldset class="lab-checks">
          <legend>Hyperparameter search</legend>
          <label>
            Optimizer
            <select name="optimizer">
              {optimizers.map((o) => (
                <option key={o.name} value={o.name} title={o.description}>
                  {o.display_name || o.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Trials
            <input name="n_trials" type="number" min={1} max={500} defaultValue="10" required />
          </label>
          <label>
            Goal metric (validation)
            <select name="goal_metric">
              {goalMetrics.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </label>
        </fieldset>
      )}
      <div class="row">
        <label class="check">
          <input type="checkbox" name="train" defaultChecked />
          train it now
        </label>
        <button type="submit" disabled={busy || !model}>
          Create run
        </button>
      </div>
      <Notice error={error} />
    </form>
  );
}

/** Starts training: a ModelJob form, as DashAI's frontend sends it. */
async function train(run: LabRun): Promise<void> {
  if (run.status !== 0) await rest("PATCH", `/api/v1/run/${run.id}/reset`);
  const form = new FormData();
  form.append("job_type", "ModelJob");
  form.append("kwargs", JSON.stringify({ run_id: run.id }));
  await postForm("/api/v1/job/", form, () => undefined);
}

function MetricsTable(props: { run: LabRun }) {
  const names = [...new Set(SPLITS.flatMap((s) => Object.keys(props.run[`${s}_metrics`] ?? {})))];
  if (names.length === 0) return <p>No metrics yet.</p>;
  return (
    <div class="table-wrap">
      <table class="lab-metrics">
        <caption class="sr-only">Metrics of {props.run.name} per split</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            {SPLITS.map((s) => (
              <th scope="col" key={s}>
                {s}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {names.map((m) => (
            <tr key={m} data-metric={m}>
              <th scope="row">{m}</th>
              {SPLITS.map((s) => (
                <td key={s} data-split={s}>
                  {fmtMetric(props.run[`${s}_metrics`]?.[m])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Plots(props: { run: LabRun }) {
  const [figures, setFigures] = useState<Record<string, PlotlyFigure | string>>({});
  const available = PLOTS.filter((p) => props.run[`plot_${p}_path`]);
  useEffect(() => {
    for (const p of available)
      void rest<PlotlyFigure>("GET", `/api/v1/run/plot/${props.run.id}/${p}`)
        .then((f) => setFigures((cur) => ({ ...cur, [p]: f })))
        .catch((e: Error) => setFigures((cur) => ({ ...cur, [p]: e.message })));
  }, [props.run.id, props.run.end_time]);
  if (available.length === 0) return null;
  return (
    <section aria-label="Hyperparameter search plots" class="lab-plots">
      {available.map((p) => {
        const f = figures[p];
        return (
          <div key={p} data-plot={p}>
            {typeof f === "string" ? (
              <p class="hint">
                {p}: {f}
              </p>
            ) : f ? (
              <PlotlySvg figure={f} label={`${p} plot`} />
            ) : (
              <p class="hint">Loading the {p} plot…</p>
            )}
          </div>
        );
      })}
    </section>
  );
}

function PredictPreview(props: { run: LabRun; session: ModelSession }) {
  const [input, setInput] = useState<string | null>(null);
  const [result, setResult] = useState<{ columns: string[]; rows: unknown[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // Five rows of the session's dataset (its input columns) as a starting point.
    void rest<{ rows: Record<string, Cell>[] }>("GET", "/api/v1/dataset/filter/", undefined, {
      path: `datasets/${props.session.dataset_id}`,
      page: 0,
      page_size: 5,
    })
      .then((r) =>
        setInput(
          JSON.stringify(
            r.rows.map((row) =>
              Object.fromEntries(props.session.input_columns.map((c) => [c, row[c] ?? null])),
            ),
            null,
            1,
          ),
        ),
      )
      .catch(() => setInput("[]"));
  }, [props.run.id]);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setResult(null);
    const form = new FormData();
    form.append("run_id", String(props.run.id));
    form.append("manual_input_data", input ?? "[]");
    try {
      setResult(
        await postForm<{ columns: string[]; rows: unknown[] }>(
          "/api/v1/predict/preview",
          form,
          () => undefined,
        ),
      );
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const cell = (row: unknown, column: string, i: number) => {
    const v = Array.isArray(row) ? row[i] : (row as Record<string, unknown>)[column];
    return v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v);
  };
  return (
    <form class="lab-predict" onSubmit={submit} aria-label={`Predictions preview of ${props.run.name}`}>
      <label>
        Rows to predict (JSON array of objects)
        <textarea
          rows={6}
          class="mono"
          value={input ?? ""}
          onInput={(e) => setInput((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </label>
      <button type="submit" disabled={input === null}>
        Predict
      </button>
      <Notice error={error} />
      {result && (
        <div class="table-wrap">
          <table class="lab-predictions">
            <caption class="sr-only">Predictions</caption>
            <thead>
              <tr>
                {result.columns.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.rows.map((row, r) => (
                <tr key={r}>
                  {result.columns.map((c, i) => (
                    <td key={c}>{cell(row, c, i)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </form>
  );
}

function RunDetail(props: { run: LabRun; session: ModelSession }) {
  const { run } = props;
  return (
    <section class="panel" aria-labelledby="lab-run-detail" data-run-detail={run.name}>
      <h2 id="lab-run-detail">
        {run.name} <small>{run.model_name}</small>
      </h2>
      <p>
        {RUN_STATUS[run.status]} · started {fmtTime(run.start_time)} · ended {fmtTime(run.end_time)}
        {run.onnx_path && (
          <>
            {" · "}
            <a class="button" href={run.onnx_path} download>
              Download ONNX
            </a>
          </>
        )}
      </p>
      {run.error && <p class="notice error">{run.error}</p>}
      <h3>Metrics per split</h3>
      <MetricsTable run={run} />
      <h3>Parameters</h3>
      <pre class="mono params-json">{JSON.stringify(run.best_parameters ?? run.parameters, null, 1)}</pre>
      {run.best_parameters && (
        <p class="hint">The best parameters of the search (the model was retrained with them).</p>
      )}
      <Plots run={run} />
      {run.status === 3 && (
        <>
          <h3>Predictions preview</h3>
          <PredictPreview run={run} session={props.session} />
          <h3>Predictions</h3>
          <RunPredictions run={run} />
          <RunExplainers runId={run.id} session={props.session} />
        </>
      )}
    </section>
  );
}

function Compare(props: { runs: LabRun[] }) {
  const [split, setSplit] = useState<(typeof SPLITS)[number]>("test");
  const done = props.runs.filter((r) => r.status === 3);
  const names = [...new Set(done.flatMap((r) => Object.keys(r[`${split}_metrics`] ?? {})))];
  if (done.length < 2) return null;
  // Losses are better low; the rest high.
  const lowerBetter = (m: string) => /loss|mae|mse|rmse|error/i.test(m);
  return (
    <section class="panel" aria-labelledby="lab-compare-title">
      <h2 id="lab-compare-title">Compare runs</h2>
      <label>
        Split
        <select
          value={split}
          onChange={(e) => setSplit((e.currentTarget as HTMLSelectElement).value as typeof split)}
        >
          {SPLITS.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <div class="table-wrap">
        <table class="lab-compare">
          <caption class="sr-only">
            Metrics of the finished runs on the {split} split; the best in bold
          </caption>
          <thead>
            <tr>
              <th scope="col">Run</th>
              {names.map((m) => (
                <th scope="col" key={m}>
                  {m}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {done.map((r) => (
              <tr key={r.id} data-compare-run={r.name}>
                <th scope="row">
                  {r.name} <small>{r.model_name}</small>
                </th>
                {names.map((m) => {
                  const values = done
                    .map((x) => x[`${split}_metrics`]?.[m])
                    .filter((v): v is number => typeof v === "number");
                  const best = lowerBetter(m) ? Math.min(...values) : Math.max(...values);
                  const v = r[`${split}_metrics`]?.[m];
                  return (
                    <td key={m} class={v === best ? "best" : undefined}>
                      {v === best ? <strong>{fmtMetric(v)}</strong> : fmtMetric(v)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function LabRunsPage() {
  const [sessions, setSessions] = useState<ModelSession[] | null>(null);
  const [sessionId, setSessionId] = useState<number | null>(null);
  const [runs, setRuns] = useState<LabRun[] | null>(null);
  const [jobs, setJobs] = useState<Record<string, LabJob>>({});
  const [selected, setSelected] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<LabRun | null>(null);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    void rest<ModelSession[]>("GET", "/api/v1/model-session/")
      .then((s) => {
        s.sort((a, b) => b.id - a.id);
        setSessions(s);
        const wanted = Number(new URLSearchParams(location.search).get("session"));
        setSessionId(s.find((x) => x.id === wanted)?.id ?? s[0]?.id ?? null);
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  const session = sessions?.find((s) => s.id === sessionId) ?? null;

  const load = () => {
    if (sessionId === null) return;
    void rest<LabRun[]>("GET", "/api/v1/run/", undefined, { model_session_id: sessionId })
      .then(async (r) => {
        r.sort((a, b) => a.id - b.id);
        setRuns(r);
        setError(null);
        // Live progress of the runs being trained: their jobs' status.
        const active = r.filter((x) => (x.status === 1 || x.status === 2) && x.job_id);
        const statuses = await Promise.all(
          active.map((x) =>
            rest<LabJob>("GET", `/api/v1/job/status/${encodeURIComponent(x.job_id!)}`).catch(() => null),
          ),
        );
        setJobs(Object.fromEntries(statuses.filter((j): j is LabJob => j !== null).map((j) => [j.id, j])));
      })
      .catch((e: Error & { status?: number }) => {
        if (e.status === 404) setMissing(true);
        else setError(e.message);
      });
  };
  const training = runs?.some((r) => r.status === 1 || r.status === 2) ?? false;
  usePoll(load, training ? 1000 : 5000, [sessionId, training]);

  if (missing) return <p class="notice">Runs are not available on this server.</p>;
  if (sessions?.length === 0)
    return (
      <p class="panel">
        Runs belong to a model session: create one on the <strong>Model sessions</strong> tab first.
      </p>
    );
  const selectedRun = runs?.find((r) => r.id === selected) ?? null;

  const startTraining = async (run: LabRun) => {
    setError(null);
    try {
      await train(run);
      setMessage(`Training “${run.name}”`);
    } catch (e) {
      setError(`Training “${run.name}” could not start: ${(e as Error).message}`);
    }
    load();
  };

  return (
    <>
      <label>
        Model session
        <select
          value={sessionId ?? ""}
          onChange={(e) => {
            setSessionId(Number((e.currentTarget as HTMLSelectElement).value));
            setRuns(null);
            setSelected(null);
          }}
        >
          {sessions?.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name} ({s.task_name})
            </option>
          ))}
        </select>
      </label>
      {session && (
        <CreateRun
          key={session.id}
          session={session}
          onCreated={(run, now) => {
            setMessage(`Run “${run.name}” created`);
            setSelected(run.id);
            if (now) void startTraining(run);
            else load();
          }}
        />
      )}
      {session && (
        <UploadOnnx
          key={`upload-${session.id}`}
          session={session}
          onUploaded={(run) => {
            setMessage(`ONNX model “${run.name}” uploaded as a run`);
            setSelected(run.id);
            load();
          }}
        />
      )}
      <Notice error={error} ok={message} />
      {runs?.length === 0 && <p>No runs in this session yet.</p>}
      {runs && runs.length > 0 && (
        <div class="table-wrap">
          <table class="lab-runs">
            <caption class="sr-only">Runs of the session</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Model</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">{session?.test_metrics[0] ?? "metric"} (test)</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const job = r.job_id ? jobs[r.job_id] : undefined;
                const progress = r.status === 3 ? 100 : (job?.progress ?? 0);
                return (
                  <tr key={r.id} data-lab-run={r.name} data-status={RUN_STATUS[r.status]}>
                    <th scope="row">
                      <button
                        type="button"
                        class="link"
                        onClick={() => setSelected(r.id)}
                        aria-pressed={selected === r.id}
                      >
                        {r.name}
                      </button>
                    </th>
                    <td>{r.model_name}</td>
                    <td>
                      {RUN_STATUS[r.status] ?? r.status}
                      {r.error && <span class="field-error"> {r.error}</span>}
                    </td>
                    <td class="wrap">
                      {(r.status === 1 || r.status === 2 || r.status === 3) && (
                        <div class="progress">
                          <progress value={progress} max={100} aria-label={`Training of ${r.name}`} />
                          <span>{Math.round(progress)}%</span>
                        </div>
                      )}
                      {job?.progress_message && r.status !== 3 && <small>{job.progress_message}</small>}
                    </td>
                    <td>{fmtMetric(r.test_metrics?.[session?.test_metrics[0] ?? ""])}</td>
                    <td class="actions">
                      {r.status !== 1 && r.status !== 2 && (
                        <button type="button" onClick={() => void startTraining(r)}>
                          {r.status === 0 ? "Train" : "Retrain"}
                        </button>
                      )}
                      {r.onnx_path && (
                        <a class="button" href={r.onnx_path} download>
                          ONNX
                        </a>
                      )}
                      <button
                        type="button"
                        class="danger"
                        onClick={() => setDeleting(r)}
                        aria-label={`Delete ${r.name}`}
                      >
                        Delete…
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {runs && <Compare runs={runs} />}
      {selectedRun && session && <RunDetail run={selectedRun} session={session} />}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete run?"
        confirmLabel="Delete run"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const target = deleting!;
          setDeleting(null);
          try {
            await rest("DELETE", `/api/v1/run/${target.id}`);
            if (selected === target.id) setSelected(null);
          } catch (e) {
            setError((e as Error).message);
          }
          load();
        }}
      >
        <p>“{deleting?.name}”, its model and its predictions will be deleted.</p>
      </ConfirmDialog>
    </>
  );
}
