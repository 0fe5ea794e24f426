// The "Tuners" section of the benchmark page (docs/bench.md "Pages"): start a param tune (a grid over temperature,
// top_p and the providers' other documented parameters, streamed live and ranked as combinations finish, with
// Cancel) or a prompt tune (its estimate of calls, tokens and cost shown before it can start, then each
// generation's prompts scored live); below, the stored tunes (crowd.tsx TunerResults), reloaded after each tune.
import { useEffect, useState } from "preact/hooks";
import { BenchError, benchJson, streamBenchEvents } from "../../bench-api.js";
import { Progress } from "../../ui.js";
import { TunerResults } from "./crowd.js";
import { FieldError, useConfigModels } from "./tools.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the events are JSON shown as they come */
type Json = any;

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const fieldsOf = (e: unknown): Record<string, string> => {
  const fields = e instanceof BenchError ? e.fieldErrors() : {};
  return Object.keys(fields).length ? fields : { "": messageOf(e) };
};
const pct = (n: number | null | undefined) => (typeof n === "number" ? `${(n * 100).toFixed(1)} %` : "—");
const configText = (config: Record<string, unknown>) =>
  Object.entries(config)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(", ");

interface SuiteRow {
  id: string;
  name: string;
  test_case_count: number;
}
function useToolSuites(): SuiteRow[] {
  const [suites, setSuites] = useState<SuiteRow[]>([]);
  useEffect(() => {
    void benchJson<{ suites: SuiteRow[] }>("GET", "/api/tool-suites")
      .then((r) => setSuites(r.suites))
      .catch(() => setSuites([]));
  }, []);
  return suites;
}

interface Phase10 {
  param_tuner: {
    max_combinations: number;
    temp_min: number;
    temp_max: number;
    temp_step: number;
  };
  prompt_tuner: { mode: "quick" | "evolutionary"; generations: number; population_size: number };
}
function useTunerSettings(): Phase10 | null {
  const [settings, setSettings] = useState<Phase10 | null>(null);
  useEffect(() => {
    void benchJson<Phase10>("GET", "/api/settings/phase10")
      .then(setSettings)
      .catch(() => setSettings(null));
  }, []);
  return settings;
}

export function Tuners() {
  const [refresh, setRefresh] = useState(0);
  const reload = () => setRefresh((n) => n + 1);
  return (
    <>
      <ParamTuneForm onDone={reload} />
      <PromptTuneForm onDone={reload} />
      <TunerResults key={refresh} />
    </>
  );
}

// ── param tune ──────────────────────────────────────────────────────────────────────────────────────────

interface SearchParam {
  name: string;
  hint: string;
}
const NOT_SEARCHED = new Set(["max_tokens", "stop"]);
const FALLBACK_PARAMS: SearchParam[] = [
  { name: "temperature", hint: "0 to 2" },
  { name: "top_p", hint: "0 to 1" },
];

/** The parameters a tune can search: every numeric or enum parameter the providers' registry documents. */
function useSearchParams(): SearchParam[] {
  const [params, setParams] = useState<SearchParam[]>(FALLBACK_PARAMS);
  useEffect(() => {
    void benchJson<{ providers: Record<string, Json> }>("GET", "/api/provider-params/registry")
      .then(({ providers }) => {
        const found = new Map<string, { range: string; only: string[]; everywhere: boolean }>();
        for (const p of Object.values(providers)) {
          const tiers: [Record<string, Json>, boolean][] = [
            [p.tier1 ?? {}, true],
            [p.tier2 ?? {}, true],
            [p.tier3_examples ?? {}, false],
          ];
          for (const [specs, everywhere] of tiers)
            for (const [name, spec] of Object.entries(specs)) {
              if (NOT_SEARCHED.has(name) || spec.supported === false) continue;
              if (!["float", "int", "enum"].includes(spec.type)) continue;
              const range =
                spec.type === "enum"
                  ? (spec.values ?? []).join(", ")
                  : typeof spec.min === "number" && typeof spec.max === "number"
                    ? `${spec.min} to ${spec.max}`
                    : "integers";
              const seen = found.get(name) ?? { range, only: [] as string[], everywhere: false };
              seen.everywhere ||= everywhere;
              if (!everywhere) seen.only.push(p.display_name);
              found.set(name, seen);
            }
        }
        setParams(
          [...found].map(([name, f]) => ({
            name,
            hint: f.everywhere ? f.range : `${f.range}; ${f.only.join(", ")}`,
          })),
        );
      })
      .catch(() => setParams(FALLBACK_PARAMS));
  }, []);
  return params;
}

type SearchValue = number | string | boolean;
type Dimension = SearchValue[] | { min: number; max: number; step: number };
const NUMBER = "-?(?:\\d+\\.?\\d*|\\.\\d+)";
const RANGE = new RegExp(`^(${NUMBER})\\s*(?:to|\\.\\.)\\s*(${NUMBER})\\s+step\\s+(${NUMBER})$`, "i");

/** "0, 0.5, 1" (a list) or "0 to 1 step 0.25" (a range); empty: not searched. */
export function parseDimension(
  text: string,
): { dimension: Dimension; count: number } | { error: string } | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const range = RANGE.exec(trimmed);
  if (range) {
    const [min, max, step] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (step <= 0) return { error: "the step must be above 0" };
    if (max < min) return { error: "the end must not be below the start" };
    return { dimension: { min, max, step }, count: Math.floor((max - min) / step + 1e-9) + 1 };
  }
  if (/\bto\b|\.\./i.test(trimmed)) return { error: 'a range reads "0 to 1 step 0.25"' };
  const values = trimmed
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v): SearchValue => {
      if (new RegExp(`^${NUMBER}$`).test(v)) return Number(v);
      if (v === "true" || v === "false") return v === "true";
      return v;
    });
  return { dimension: values, count: values.length };
}

function ParamTuneForm(props: { onDone: () => void }) {
  const models = useConfigModels();
  const suites = useToolSuites();
  const settings = useTunerSettings();
  const params = useSearchParams();
  const [values, setValues] = useState<Record<string, string>>({});
  const [other, setOther] = useState({ name: "", values: "" });
  const [maxCombos, setMaxCombos] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<{ completed: number; total: number } | null>(null);
  const [combos, setCombos] = useState<Json[]>([]);
  const [outcome, setOutcome] = useState<string | null>(null);

  // The user's param_tuner settings prefill the temperature range.
  useEffect(() => {
    if (!settings) return;
    const t = settings.param_tuner;
    setValues((v) => ({ temperature: `${t.temp_min} to ${t.temp_max} step ${t.temp_step}`, ...v }));
  }, [settings]);

  const rows: [string, string][] = [
    ...params.map((p): [string, string] => [p.name, values[p.name] ?? ""]),
    ...(other.name.trim() ? [[other.name.trim(), other.values] as [string, string]] : []),
  ];
  const parsed = rows.map(([name, text]) => ({ name, result: parseDimension(text) }));
  const bad = parsed.filter((p) => p.result && "error" in p.result);
  const searched = parsed.filter(
    (p): p is { name: string; result: { dimension: Dimension; count: number } } =>
      !!p.result && "dimension" in p.result,
  );
  const gridSize = searched.reduce((n, p) => n * p.result.count, 1);
  const limit = Number(maxCombos) || settings?.param_tuner.max_combinations || 50;

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const chosen = form.getAll("models").map(String);
    const local: Record<string, string> = {};
    for (const p of bad) if ("error" in p.result!) local[`search_space.${p.name}`] = p.result!.error;
    if (searched.length === 0 && bad.length === 0)
      local.search_space = "Give values for at least one parameter";
    if (chosen.length === 0) local.models = "Choose at least one model";
    setErrors(local);
    if (Object.keys(local).length) return;
    const body = {
      suite_id: String(form.get("suite_id") ?? ""),
      models: chosen,
      tool_choice: String(form.get("tool_choice")),
      search_space: Object.fromEntries(searched.map((p) => [p.name, p.result.dimension])),
      ...(maxCombos && { max_combinations: Number(maxCombos) }),
    };
    setCombos([]);
    setOutcome(null);
    setProgress(null);
    setRunning(true);
    try {
      await streamBenchEvents<Json>("/api/tool-eval/param-tune", body, (e) => {
        if (e.type === "tune_start") setProgress({ completed: 0, total: e.total_combos * e.models.length });
        else if (e.type === "tune_progress") setProgress({ completed: e.completed, total: e.total });
        else if (e.type === "combo_result") setCombos((c) => [...c, e]);
        else if (e.type === "tune_complete")
          setOutcome(
            e.best_config
              ? `Tune complete: best ${e.best_model_id} with ${configText(e.best_config)} (${pct(e.best_score)})`
              : "Tune complete",
          );
        else if (e.type === "cancelled") setOutcome("Tune cancelled");
        else if (e.type === "error") setOutcome(e.message);
      });
      props.onDone();
    } catch (e) {
      setErrors(fieldsOf(e));
    } finally {
      setRunning(false);
    }
  };

  // Best first as results arrive; ties keep the earlier combination (the server's ranking).
  const ranked = combos
    .map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.overall_score - a.c.overall_score || a.i - b.i)
    .map(({ c }) => c);
  const searchError = Object.entries(errors).find(([k]) => k.startsWith("search_space"));
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="param-tune-title">
      <h2 id="param-tune-title">Tune parameters</h2>
      <p class="hint">
        Runs the suite once per combination of the values below, on each model, and ranks them. Values: a list
        (<code>0, 0.5, 1</code>) or a range (<code>0 to 1 step 0.25</code>); leave a parameter empty not to
        search it.
      </p>
      <div class="grid">
        <label>
          Suite
          <select name="suite_id" required>
            {suites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.test_case_count} cases)
              </option>
            ))}
          </select>
          <FieldError errors={errors} name="suite_id" />
        </label>
        <label>
          Tool choice
          <select name="tool_choice">
            <option value="required">required</option>
            <option value="auto">auto</option>
            <option value="none">none</option>
          </select>
        </label>
        <label>
          Combinations at most
          <input
            name="max_combinations"
            type="number"
            min={1}
            max={10000}
            value={maxCombos}
            placeholder={String(settings?.param_tuner.max_combinations ?? 50)}
            onInput={(e) => setMaxCombos((e.currentTarget as HTMLInputElement).value)}
          />
          <FieldError errors={errors} name="max_combinations" />
        </label>
      </div>
      <fieldset>
        <legend>Models</legend>
        {models.map((m) => (
          <label key={m.id} class="check">
            <input type="checkbox" name="models" value={m.id} /> {m.label}
          </label>
        ))}
        <FieldError errors={errors} name="models" />
      </fieldset>
      <fieldset data-bench="search-space">
        <legend>Search space</legend>
        <div class="grid">
          {params.map((p) => (
            // The error sits beside the input, outside its label (the input's name stays the parameter's).
            <div key={p.name} class="field">
              <label for={`search-${p.name}`}>{p.name}</label>
              <input
                id={`search-${p.name}`}
                value={values[p.name] ?? ""}
                placeholder={p.hint}
                onInput={(e) =>
                  setValues((v) => ({ ...v, [p.name]: (e.currentTarget as HTMLInputElement).value }))
                }
              />
              <FieldError errors={errors} name={`search_space.${p.name}`} />
            </div>
          ))}
          <label>
            Other parameter (name)
            <input
              value={other.name}
              placeholder="passed to the provider as is"
              onInput={(e) => setOther((o) => ({ ...o, name: (e.currentTarget as HTMLInputElement).value }))}
            />
          </label>
          <label>
            Its values
            <input
              value={other.values}
              onInput={(e) =>
                setOther((o) => ({ ...o, values: (e.currentTarget as HTMLInputElement).value }))
              }
            />
          </label>
        </div>
        <p role="status" data-bench="grid-size">
          {searched.length === 0
            ? "No parameter searched yet."
            : gridSize <= limit
              ? `${gridSize} combination${gridSize === 1 ? "" : "s"} (the whole grid), each run on every model`
              : `${gridSize} combinations in the grid: ${limit} of them drawn at random`}
        </p>
        {searchError && !params.some((p) => searchError[0] === `search_space.${p.name}`) && (
          <span class="field-error" role="alert">
            {searchError[1]}
          </span>
        )}
      </fieldset>
      <FieldError errors={errors} name="" />
      <div class="row">
        <button type="submit" disabled={running}>
          Start tune
        </button>
        {running && (
          <button
            type="button"
            class="danger"
            onClick={() => void benchJson("POST", "/api/tool-eval/param-tune/cancel").catch(() => undefined)}
          >
            Cancel tune
          </button>
        )}
      </div>
      {progress && <Progress value={progress.completed} max={progress.total} label="Tune progress" />}
      {outcome && <p role="status">{outcome}</p>}
      {ranked.length > 0 && (
        <div class="table-wrap">
          <table data-bench="param-tune-live" aria-label="Tune results, best first">
            <thead>
              <tr>
                <th>Rank</th>
                <th>Model</th>
                <th>Parameters</th>
                <th>Overall</th>
                <th>Tool accuracy</th>
                <th>Param accuracy</th>
                <th>Passed</th>
              </tr>
            </thead>
            <tbody>
              {ranked.map((c, i) => (
                <tr key={`${c.combo_index}-${c.model_id}`}>
                  <td>{i + 1}</td>
                  <td>{c.model_id}</td>
                  <td>{configText(c.config)}</td>
                  <td>{pct(c.overall_score)}</td>
                  <td>{c.tool_accuracy.toFixed(1)} %</td>
                  <td>{c.param_accuracy.toFixed(1)} %</td>
                  <td>
                    {c.cases_passed} / {c.cases_total}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </form>
  );
}

// ── prompt tune ─────────────────────────────────────────────────────────────────────────────────────────

interface Estimate {
  total_prompt_generations: number;
  total_eval_calls: number;
  total_meta_calls: number;
  total_api_calls: number;
  estimated_input_tokens: number;
  estimated_output_tokens: number;
  estimated_cost: number | null;
  estimated_duration_s: number;
  max_api_calls: number;
  warning: string | null;
}
interface LivePrompt {
  generation: number;
  prompt_index: number;
  style: string;
  prompt_text: string;
  scores: number[];
  mark: string;
}

const duration = (s: number) =>
  s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;

function PromptTuneForm(props: { onDone: () => void }) {
  const models = useConfigModels();
  const suites = useToolSuites();
  const settings = useTunerSettings();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const [running, setRunning] = useState(false);
  const [prompts, setPrompts] = useState<LivePrompt[]>([]);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [outcome, setOutcome] = useState<{ text: string; best?: string } | null>(null);

  const read = (formElement: HTMLFormElement) => {
    const form = new FormData(formElement);
    const mode = String(form.get("mode")) as "quick" | "evolutionary";
    const population = Number(form.get("population_size"));
    const generations = Number(form.get("generations"));
    const base = String(form.get("base_prompt") ?? "").trim();
    return {
      suite_id: String(form.get("suite_id") ?? ""),
      target_models: form.getAll("target_models").map(String),
      meta_model: String(form.get("meta_model") ?? ""),
      mode,
      population,
      generations: mode === "quick" ? 1 : generations,
      base,
    };
  };

  const askEstimate = async (event: Event) => {
    const formElement = (event.currentTarget as HTMLElement).closest("form")!;
    const v = read(formElement);
    if (v.target_models.length === 0) return setErrors({ target_models: "Choose at least one model" });
    setErrors({});
    const query = new URLSearchParams({
      suite_id: v.suite_id,
      mode: v.mode,
      population_size: String(v.population),
      generations: String(v.generations),
      target_models: v.target_models.join(","),
      meta_model: v.meta_model,
      ...(v.base && { base_prompt: v.base }),
    });
    try {
      setEstimate(await benchJson<Estimate>("GET", `/api/tool-eval/prompt-tune/estimate?${query}`));
    } catch (e) {
      setErrors(fieldsOf(e));
    }
  };

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (!estimate) return;
    const v = read(event.currentTarget as HTMLFormElement);
    const body = {
      suite_id: v.suite_id,
      target_models: v.target_models,
      meta_model: v.meta_model,
      mode: v.mode,
      ...(v.base && { base_prompt: v.base }),
      config: { population_size: v.population, generations: v.generations },
    };
    setErrors({});
    setPrompts([]);
    setOutcome(null);
    setProgress(null);
    setRunning(true);
    const models = v.target_models.length;
    try {
      await streamBenchEvents<Json>("/api/tool-eval/prompt-tune", body, (e) => {
        if (e.type === "tune_start") setProgress({ done: 0, total: e.total_prompts * models });
        else if (e.type === "prompt_generated")
          setPrompts((p) => [
            ...p,
            {
              generation: e.generation,
              prompt_index: e.prompt_index,
              style: e.style,
              prompt_text: e.prompt_text,
              scores: [],
              mark: "",
            },
          ]);
        else if (e.type === "prompt_eval_result") {
          setProgress((p) => p && { ...p, done: p.done + 1 });
          setPrompts((p) =>
            p.map((x) =>
              x.generation === e.generation && x.prompt_index === e.prompt_index
                ? { ...x, scores: [...x.scores, e.overall_score] }
                : x,
            ),
          );
        } else if (e.type === "generation_complete")
          setPrompts((p) =>
            p.map((x) =>
              x.generation !== e.generation
                ? x
                : {
                    ...x,
                    mark:
                      x.prompt_index === e.best_prompt_index
                        ? "best"
                        : e.survivors.includes(x.prompt_index)
                          ? "survivor"
                          : "",
                  },
            ),
          );
        else if (e.type === "tune_complete")
          setOutcome({ text: `Tune complete: best prompt scored ${pct(e.best_score)}`, best: e.best_prompt });
        else if (e.type === "cancelled") setOutcome({ text: "Tune cancelled" });
        else if (e.type === "error") setOutcome({ text: e.message });
      });
      props.onDone();
    } catch (e) {
      setErrors(fieldsOf(e));
    } finally {
      setRunning(false);
    }
  };

  const over = estimate !== null && estimate.total_api_calls > estimate.max_api_calls;
  const p10 = settings?.prompt_tuner;
  return (
    <form
      class="panel"
      onSubmit={submit}
      onInput={() => setEstimate(null)}
      onChange={() => setEstimate(null)}
      aria-labelledby="prompt-tune-title"
      key={p10 ? "loaded" : "loading"}
    >
      <h2 id="prompt-tune-title">Tune the system prompt</h2>
      <p class="hint">
        A meta model proposes system prompts, each scored on the suite with the target models; the best of
        each generation survives. See the estimate first: it says what the tune will spend.
      </p>
      <div class="grid">
        <label>
          Suite
          <select name="suite_id" required>
            {suites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name} ({s.test_case_count} cases)
              </option>
            ))}
          </select>
          <FieldError errors={errors} name="suite_id" />
        </label>
        <label>
          Meta model
          <select name="meta_model">
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
          <FieldError errors={errors} name="meta_model" />
        </label>
        <label>
          Mode
          <select name="mode" defaultValue={p10?.mode ?? "quick"}>
            <option value="quick">quick (one generation)</option>
            <option value="evolutionary">evolutionary</option>
          </select>
        </label>
        <label>
          Prompts per generation
          <input
            name="population_size"
            type="number"
            min={1}
            max={20}
            defaultValue={String(Math.min(p10?.population_size ?? 5, 20))}
          />
          <FieldError errors={errors} name="population_size" />
          <FieldError errors={errors} name="config.population_size" />
        </label>
        <label>
          Generations
          <input
            name="generations"
            type="number"
            min={1}
            max={10}
            defaultValue={String(Math.min(p10?.generations ?? 3, 10))}
          />
          <FieldError errors={errors} name="generations" />
        </label>
      </div>
      <fieldset>
        <legend>Target models</legend>
        {models.map((m) => (
          <label key={m.id} class="check">
            <input type="checkbox" name="target_models" value={m.id} /> {m.label}
          </label>
        ))}
        <FieldError errors={errors} name="target_models" />
      </fieldset>
      <label>
        Base prompt
        <textarea name="base_prompt" rows={3} placeholder="optional: the prompt to improve on" />
      </label>
      <FieldError errors={errors} name="config" />
      <FieldError errors={errors} name="" />
      {estimate && (
        <dl data-bench="prompt-estimate">
          <dt>API calls</dt>
          <dd>
            {estimate.total_api_calls} ({estimate.total_eval_calls} scoring, {estimate.total_meta_calls} meta)
            for {estimate.total_prompt_generations} prompts
          </dd>
          <dt>Tokens</dt>
          <dd>
            ~{estimate.estimated_input_tokens.toLocaleString("en-US")} in, ~
            {estimate.estimated_output_tokens.toLocaleString("en-US")} out
          </dd>
          <dt>Cost</dt>
          <dd>
            {estimate.estimated_cost === null
              ? "unknown (a model has no prices)"
              : `about $${estimate.estimated_cost.toFixed(4)}`}
          </dd>
          <dt>Duration</dt>
          <dd>about {duration(estimate.estimated_duration_s)}</dd>
          {estimate.warning && <dd>{estimate.warning}</dd>}
          {over && (
            <dd class="field-error">
              Above your limit of {estimate.max_api_calls} calls (settings: prompt tuner): the server refuses
              it.
            </dd>
          )}
        </dl>
      )}
      <div class="row">
        <button type="button" onClick={(e) => void askEstimate(e)} disabled={running}>
          Estimate
        </button>
        <button type="submit" disabled={running || !estimate || over}>
          Start prompt tune
        </button>
        {running && (
          <button
            type="button"
            class="danger"
            onClick={() => void benchJson("POST", "/api/tool-eval/prompt-tune/cancel").catch(() => undefined)}
          >
            Cancel prompt tune
          </button>
        )}
      </div>
      {progress && <Progress value={progress.done} max={progress.total} label="Prompts scored" />}
      {outcome && <p role="status">{outcome.text}</p>}
      {outcome?.best && <pre data-bench="live-best-prompt">{outcome.best}</pre>}
      {prompts.length > 0 && (
        <div class="table-wrap">
          <table data-bench="prompt-tune-live" aria-label="Proposed prompts">
            <thead>
              <tr>
                <th>Generation</th>
                <th>#</th>
                <th>Style</th>
                <th>Prompt</th>
                <th>Score</th>
                <th>Kept</th>
              </tr>
            </thead>
            <tbody>
              {prompts.map((p) => (
                <tr key={`${p.generation}-${p.prompt_index}`}>
                  <td>{p.generation}</td>
                  <td>{p.prompt_index}</td>
                  <td>{p.style}</td>
                  <td>{p.prompt_text}</td>
                  <td>
                    {p.scores.length ? pct(p.scores.reduce((a, b) => a + b, 0) / p.scores.length) : "…"}
                  </td>
                  <td>{p.mark}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </form>
  );
}
