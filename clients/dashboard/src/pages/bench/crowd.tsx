// Two parts of the benchmark page (docs/bench.md "Pages"): "Crowd vs models" (labeling suites made from the
// guard's datasets, a labeling run streamed live, and the crowd-vs-model table of each run) and the stored tunes
// of "Tuners" (param tunes ranked by score, prompt tunes by generation with their best prompt; tune.tsx starts them).
import { useEffect, useState } from "preact/hooks";
import { type BenchConfig, BenchError, benchJson, streamBenchEvents } from "../../bench-api.js";
import { fmtDate, Notice, Progress } from "../../ui.js";

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const pct = (n: number | null | undefined) => (typeof n === "number" ? `${(n * 100).toFixed(1)} %` : "—");
const usd = (n: number | null | undefined) => (typeof n === "number" ? `$${n.toFixed(4)}` : "—");
const fixed = (n: number | null | undefined, digits = 1) => (typeof n === "number" ? n.toFixed(digits) : "—");

// ── crowd vs models ─────────────────────────────────────────────────────────────────────────────────────

interface GuardDataset {
  id: string;
  name: string;
  modality: string;
  challenge_type: string;
  item_count: number;
}
interface LabelSuite {
  id: string;
  name: string;
  dataset_name: string;
  modality: string;
  item_count: number;
}
interface ModelSummary {
  model_id: string;
  model_name: string;
  provider: string;
  items: number;
  answered: number;
  errors: number;
  correct: number;
  accuracy: number;
  weighted_agreement: number;
  cost_per_1k_labels: number | null;
  avg_latency_ms: number | null;
  labels_per_minute: number | null;
}
interface CrowdSummary {
  items: number;
  mean_confidence: number;
  solvers: number;
  votes: number;
  vote_agreement: number | null;
  gt_correct: number;
  gt_total: number;
  gt_accuracy: number | null;
}
interface LabelRun {
  id: string;
  suite_name: string;
  models: string[];
  summary: ModelSummary[];
  crowd: CrowdSummary | null;
  status: string;
  timestamp: string;
}

export function CrowdVsModels() {
  const [datasets, setDatasets] = useState<GuardDataset[] | null>(null);
  const [suites, setSuites] = useState<LabelSuite[]>([]);
  const [runs, setRuns] = useState<LabelRun[]>([]);
  const [config, setConfig] = useState<BenchConfig | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<Record<string, string>>({});
  const [progress, setProgress] = useState<{ current: number; total: number } | null>(null);
  const [running, setRunning] = useState(false);
  const [shown, setShown] = useState<string | null>(null);

  const load = async () => {
    try {
      const [s, r, c] = await Promise.all([
        benchJson<{ suites: LabelSuite[] }>("GET", "/api/labeling/suites"),
        benchJson<{ runs: LabelRun[] }>("GET", "/api/labeling/history"),
        benchJson<BenchConfig>("GET", "/api/config"),
      ]);
      setSuites(s.suites);
      setRuns(r.runs);
      setConfig(c);
    } catch (e) {
      setError(messageOf(e));
    }
    // Only admins read the guard's datasets: anyone else sees the suites they have.
    try {
      setDatasets((await benchJson<{ datasets: GuardDataset[] }>("GET", "/api/labeling/datasets")).datasets);
    } catch {
      setDatasets(null);
    }
  };
  useEffect(() => void load(), []);

  const createSuite = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setFieldError({});
    try {
      await benchJson("POST", "/api/labeling/suites", {
        dataset_id: String(form.get("dataset_id")),
        max_items: Number(form.get("max_items")),
      });
      await load();
    } catch (e) {
      setFieldError(e instanceof BenchError ? e.fieldErrors() : { "": messageOf(e) });
    }
  };

  const run = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const models = form.getAll("models").map(String);
    if (models.length === 0) return setFieldError({ models: "Choose at least one model" });
    setFieldError({});
    setRunning(true);
    setProgress(null);
    let runId: string | null = null;
    try {
      await streamBenchEvents<{
        type: string;
        current?: number;
        total?: number;
        run_id?: string;
        message?: string;
      }>("/api/labeling/run", { suite_id: String(form.get("suite_id")), models }, (e) => {
        if (e.type === "label_start") setProgress({ current: 0, total: e.total ?? 0 });
        if (e.type === "progress") setProgress({ current: e.current ?? 0, total: e.total ?? 0 });
        if (e.type === "complete") runId = e.run_id ?? null;
        if (e.type === "error") setError(e.message ?? "the run failed");
      });
      await load();
      if (runId) setShown(runId);
    } catch (e) {
      setFieldError(e instanceof BenchError ? e.fieldErrors() : { "": messageOf(e) });
    } finally {
      setRunning(false);
    }
  };

  const providers = Object.values(config?.providers ?? {});
  const current = runs.find((r) => r.id === shown) ?? runs.find((r) => r.status === "completed");
  return (
    <>
      <Notice error={error} />
      {datasets && (
        <form class="panel" onSubmit={createSuite} aria-labelledby="label-suite-title">
          <h2 id="label-suite-title">New labeling suite</h2>
          <p class="hint">
            A guard dataset's finalized labels, copied into a suite the models are scored on.
          </p>
          <div class="grid">
            <label>
              Dataset
              <select name="dataset_id" required>
                {datasets.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name} ({d.modality}, {d.item_count} items)
                  </option>
                ))}
              </select>
            </label>
            <label>
              Items at most
              <input name="max_items" type="number" min={1} max={1000} defaultValue="200" />
            </label>
          </div>
          {fieldError.dataset_id && <span class="field-error">{fieldError.dataset_id}</span>}
          <button type="submit">Make suite</button>
        </form>
      )}
      {suites.length > 0 && (
        <form class="panel" onSubmit={run} aria-labelledby="label-run-title">
          <h2 id="label-run-title">Score models against the crowd</h2>
          <label>
            Labeling suite
            <select name="suite_id">
              {suites.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.item_count} {s.modality} items)
                </option>
              ))}
            </select>
          </label>
          <fieldset aria-invalid={fieldError.models ? "true" : undefined}>
            <legend>Models</legend>
            {providers.map((p) => (
              <div key={p.provider_key} class="row">
                <strong>{p.display_name}</strong>
                {p.models.map((m) => (
                  <label key={m.model_id}>
                    <input type="checkbox" name="models" value={m.model_id} /> {m.display_name}
                  </label>
                ))}
              </div>
            ))}
            {fieldError.models && <span class="field-error">{fieldError.models}</span>}
          </fieldset>
          {fieldError[""] && <span class="field-error">{fieldError[""]}</span>}
          <div class="row">
            <button type="submit" disabled={running}>
              Label with models
            </button>
            {running && (
              <button type="button" onClick={() => void benchJson("POST", "/api/labeling/run/cancel")}>
                Cancel
              </button>
            )}
          </div>
          {progress && <Progress value={progress.current} max={progress.total} label="Labels done" />}
        </form>
      )}
      {current && <CrowdTable run={current} />}
      {runs.length > 0 && (
        <section class="panel" aria-labelledby="label-runs-title">
          <h2 id="label-runs-title">Labeling runs</h2>
          <ul>
            {runs.map((r) => (
              <li key={r.id}>
                <button type="button" class="link" onClick={() => setShown(r.id)}>
                  {fmtDate(r.timestamp)} · {r.suite_name} · {r.models.join(", ")}
                </button>{" "}
                ({r.status})
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function CrowdTable(props: { run: LabelRun }) {
  const { run } = props;
  const crowd = run.crowd;
  return (
    <section class="panel" aria-labelledby="crowd-table-title">
      <h2 id="crowd-table-title">Crowd vs models: {run.suite_name}</h2>
      <div class="table-wrap">
        <table data-bench="crowd-vs-models">
          <thead>
            <tr>
              <th>Labeler</th>
              <th>Accuracy vs consensus</th>
              <th>Confidence-weighted agreement</th>
              <th>Against ground truth</th>
              <th>Cost per 1,000 labels</th>
              <th>Labels per minute</th>
              <th>Errors</th>
            </tr>
          </thead>
          <tbody>
            {crowd && (
              <tr data-labeler="crowd">
                <td>
                  Human crowd ({crowd.solvers} people, {crowd.votes} votes)
                </td>
                <td>{pct(crowd.vote_agreement)}</td>
                <td>{pct(crowd.mean_confidence)} mean confidence</td>
                <td>
                  {pct(crowd.gt_accuracy)} ({crowd.gt_correct} / {crowd.gt_total} gold answers)
                </td>
                <td>—</td>
                <td>—</td>
                <td>—</td>
              </tr>
            )}
            {run.summary.map((m) => (
              <tr key={m.model_id} data-labeler={m.model_id}>
                <td>
                  {m.model_name} · {m.provider}
                </td>
                <td>
                  {pct(m.accuracy)} ({m.correct} / {m.items})
                </td>
                <td>{pct(m.weighted_agreement)}</td>
                <td>—</td>
                <td>{usd(m.cost_per_1k_labels)}</td>
                <td>{fixed(m.labels_per_minute)}</td>
                <td>{m.errors}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

// ── tuner results ───────────────────────────────────────────────────────────────────────────────────────

interface ParamTuneListed {
  id: string;
  suite_name: string;
  models: string[];
  best_score: number | null;
  status: string;
  total_combos: number;
  timestamp: string;
}
interface ComboResult {
  combo_index: number;
  model_id: string;
  config: Record<string, unknown>;
  overall_score: number;
  tool_accuracy: number;
  param_accuracy: number;
  latency_avg_ms: number;
}
interface PromptTuneListed {
  id: string;
  suite_name: string;
  mode: string;
  meta_model: string;
  target_models: string[];
  best_score: number | null;
  status: string;
  total_prompts: number;
  completed_prompts: number;
  timestamp: string;
}
interface PromptTuneDetail extends PromptTuneListed {
  best_prompt: string | null;
  generations: {
    generation: number;
    best_prompt_index: number | null;
    survivors: number[];
    prompts: { prompt_index: number; prompt_text: string; style: string; avg_score: number | null }[];
  }[];
}

export function TunerResults() {
  const [paramTunes, setParamTunes] = useState<ParamTuneListed[]>([]);
  const [promptTunes, setPromptTunes] = useState<PromptTuneListed[]>([]);
  const [combos, setCombos] = useState<{ id: string; results: ComboResult[] } | null>(null);
  const [prompt, setPrompt] = useState<PromptTuneDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void (async () => {
      try {
        const [p, q] = await Promise.all([
          benchJson<{ runs: ParamTuneListed[] }>("GET", "/api/tool-eval/param-tune/history"),
          benchJson<{ runs: PromptTuneListed[] }>("GET", "/api/tool-eval/prompt-tune/history"),
        ]);
        setParamTunes(p.runs);
        setPromptTunes(q.runs);
      } catch (e) {
        setError(messageOf(e));
      }
    })();
  }, []);
  const open = async (kind: "param" | "prompt", id: string) => {
    try {
      if (kind === "param")
        setCombos(
          await benchJson<{ id: string; results: ComboResult[] }>(
            "GET",
            `/api/tool-eval/param-tune/history/${id}`,
          ),
        );
      else setPrompt(await benchJson<PromptTuneDetail>("GET", `/api/tool-eval/prompt-tune/history/${id}`));
    } catch (e) {
      setError(messageOf(e));
    }
  };

  return (
    <>
      <Notice error={error} />
      <section class="panel" aria-labelledby="param-tunes-title">
        <h2 id="param-tunes-title">Parameter tunes</h2>
        {paramTunes.length === 0 && <p class="hint">No parameter tune yet.</p>}
        <ul>
          {paramTunes.map((r) => (
            <li key={r.id}>
              <button type="button" class="link" onClick={() => void open("param", r.id)}>
                {fmtDate(r.timestamp)} · {r.suite_name} · {r.total_combos} combinations
              </button>{" "}
              best {pct(r.best_score)} ({r.status})
            </li>
          ))}
        </ul>
        {combos && (
          <div class="table-wrap">
            <table data-bench="param-tune">
              <thead>
                <tr>
                  <th>Rank</th>
                  <th>Model</th>
                  <th>Parameters</th>
                  <th>Overall</th>
                  <th>Tool accuracy</th>
                  <th>Param accuracy</th>
                  <th>Latency (ms)</th>
                </tr>
              </thead>
              <tbody>
                {combos.results.map((c, i) => (
                  <tr key={`${c.combo_index}-${c.model_id}`}>
                    <td>{i + 1}</td>
                    <td>{c.model_id}</td>
                    <td>
                      {Object.entries(c.config)
                        .map(([k, v]) => `${k}=${String(v)}`)
                        .join(", ")}
                    </td>
                    <td>{pct(c.overall_score)}</td>
                    <td>{fixed(c.tool_accuracy)} %</td>
                    <td>{fixed(c.param_accuracy)} %</td>
                    <td>{fixed(c.latency_avg_ms, 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="panel" aria-labelledby="prompt-tunes-title">
        <h2 id="prompt-tunes-title">Prompt tunes</h2>
        {promptTunes.length === 0 && <p class="hint">No prompt tune yet.</p>}
        <ul>
          {promptTunes.map((r) => (
            <li key={r.id}>
              <button type="button" class="link" onClick={() => void open("prompt", r.id)}>
                {fmtDate(r.timestamp)} · {r.suite_name} · {r.mode} · {r.completed_prompts} / {r.total_prompts}{" "}
                prompts
              </button>{" "}
              best {pct(r.best_score)} ({r.status})
            </li>
          ))}
        </ul>
        {prompt && (
          <div data-bench="prompt-tune">
            <h3>Best prompt ({pct(prompt.best_score)})</h3>
            <pre data-bench="best-prompt">{prompt.best_prompt ?? "—"}</pre>
            {prompt.generations.map((g) => (
              <div key={g.generation} class="table-wrap">
                <table data-generation={g.generation}>
                  <caption>Generation {g.generation}</caption>
                  <thead>
                    <tr>
                      <th>#</th>
                      <th>Style</th>
                      <th>Prompt</th>
                      <th>Score</th>
                      <th>Kept</th>
                    </tr>
                  </thead>
                  <tbody>
                    {g.prompts.map((p) => (
                      <tr key={p.prompt_index}>
                        <td>{p.prompt_index}</td>
                        <td>{p.style}</td>
                        <td>{p.prompt_text}</td>
                        <td>{pct(p.avg_score)}</td>
                        <td>
                          {p.prompt_index === g.best_prompt_index
                            ? "best"
                            : g.survivors.includes(p.prompt_index)
                              ? "survivor"
                              : ""}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ))}
          </div>
        )}
      </section>
    </>
  );
}
