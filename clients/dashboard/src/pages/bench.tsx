// The benchmark section (LLM benchmarking, docs/bench.md): its own sign-in for bench users, provider and
// model setup, a run form with live progress from the SSE stream, per-run results, the leaderboard with a
// trend chart, and history. Everything goes through the bench REST paths with the user's Bearer token
// (bench-api.ts), none of it through GraphQL or the dashboard session.
import { useEffect, useMemo, useState } from "preact/hooks";
import {
  type BenchConfig,
  BenchError,
  type BenchEvent,
  type BenchResult,
  type BenchUser,
  benchDownload,
  benchJson,
  benchLogin,
  benchLogout,
  benchRefresh,
  benchRegister,
  benchTime,
  type HistoryRun,
  type LeaderboardRow,
  onBenchSignedOut,
  type TrendSeries,
  streamBenchmark,
} from "../bench-api.js";
import { usePoll } from "../router.js";
import { Chart, ConfirmDialog, Notice, Progress } from "../ui.js";
import { CrowdVsModels } from "./bench/crowd.js";

import { JudgeReports, ToolEvals, ToolSuites } from "./bench/tools.js";
import { Tuners } from "./bench/tune.js";

type Section =
  | "setup"
  | "run"
  | "schedules"
  | "leaderboard"
  | "history"
  | "suites"
  | "evals"
  | "judge"
  | "tuners"
  | "crowd";
const SECTIONS: { id: Section; title: string }[] = [
  { id: "setup", title: "Providers and models" },
  { id: "run", title: "Run" },
  { id: "schedules", title: "Schedules" },
  { id: "leaderboard", title: "Leaderboard" },
  { id: "history", title: "History" },
  { id: "suites", title: "Tool suites" },
  { id: "evals", title: "Tool evals" },
  { id: "judge", title: "Judge reports" },
  { id: "tuners", title: "Tuners" },
  { id: "crowd", title: "Crowd vs models" },
];

const num = (n: number | null | undefined, digits = 1) =>
  typeof n === "number" && Number.isFinite(n)
    ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "—";
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const fieldsOf = (e: unknown): Record<string, string> => {
  const fields = e instanceof BenchError ? e.fieldErrors() : {};
  return Object.keys(fields).length ? fields : { "": messageOf(e) };
};

export function BenchPage() {
  const [user, setUser] = useState<BenchUser | null | undefined>(undefined);
  const [section, setSection] = useState<Section>("run");
  const [openRun, setOpenRun] = useState<string | null>(null);

  useEffect(() => {
    void benchRefresh().then(setUser);
    return onBenchSignedOut(() => setUser(null));
  }, []);

  if (user === undefined) return <p class="loading">Loading…</p>;
  if (user === null) return <BenchSignIn onDone={setUser} />;
  return (
    <div data-bench="signed-in">
      <div class="row">
        <span>
          Benchmark account <strong data-bench="user">{user.email}</strong> ({user.role})
        </span>
        <button
          type="button"
          class="link"
          onClick={async () => {
            await benchLogout();
            setUser(null);
          }}
        >
          Sign out of benchmarks
        </button>
      </div>
      <nav class="row" aria-label="Benchmark sections">
        {SECTIONS.map((s) => (
          <button
            key={s.id}
            type="button"
            aria-pressed={section === s.id}
            style={section === s.id ? { fontWeight: 700, borderColor: "currentColor" } : undefined}
            onClick={() => {
              setSection(s.id);
              setOpenRun(null);
            }}
          >
            {s.title}
          </button>
        ))}
      </nav>
      {section === "setup" && <Setup />}
      {section === "run" && (
        <RunForm
          onShowRun={(id) => {
            setOpenRun(id);
            setSection("history");
          }}
        />
      )}
      {section === "schedules" && <Schedules />}
      {section === "leaderboard" && <Leaderboard />}
      {section === "history" && <History openRun={openRun} onOpen={setOpenRun} />}
      {section === "tuners" && <Tuners />}
      {section === "crowd" && <CrowdVsModels />}
      {section === "suites" && <ToolSuites />}
      {section === "evals" && <ToolEvals />}
      {section === "judge" && <JudgeReports />}
    </div>
  );
}

function BenchSignIn(props: { onDone: (user: BenchUser) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const create = (event.submitter as HTMLButtonElement | null)?.value === "register";
    const email = String(form.get("email") ?? "");
    const password = String(form.get("password") ?? "");
    setBusy(true);
    setError(null);
    try {
      props.onDone(await (create ? benchRegister(email, password) : benchLogin(email, password)));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="bench-signin-title">
      <h2 id="bench-signin-title">Benchmark sign-in</h2>
      <p class="hint">
        Benchmarks belong to benchmark accounts (not the dashboard's operator login). The first account
        created becomes the benchmark admin.
      </p>
      <div class="grid">
        <label>
          Email
          <input name="email" type="email" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" minLength={8} required />
        </label>
      </div>
      <div class="row">
        <button type="submit" value="login" disabled={busy}>
          Sign in
        </button>
        <button type="submit" value="register" disabled={busy}>
          Create account
        </button>
      </div>
      <Notice error={error} />
    </form>
  );
}

// ---- providers and models ----

function useConfig(): [BenchConfig | null, string | null, () => Promise<void>] {
  const [config, setConfig] = useState<BenchConfig | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    try {
      setConfig(await benchJson<BenchConfig>("GET", "/api/config"));
      setError(null);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  useEffect(() => void load(), []);
  return [config, error, load];
}

interface Discovered {
  id: string;
  display_name: string;
}

function Setup() {
  const [config, error, reload] = useConfig();
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [discovered, setDiscovered] = useState<Record<string, Discovered[]>>({});
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setActionError(null);
      setMessage(done);
      await reload();
    } catch (e) {
      setMessage(null);
      setActionError(messageOf(e));
    }
  };
  const providers = Object.values(config?.providers ?? {});
  return (
    <>
      <Notice error={error ?? actionError} ok={message} />
      <ProviderForm onSaved={(name) => act(async () => undefined, `Provider ${name} added`)} />
      <ModelForm providers={providers} onSaved={(id) => act(async () => undefined, `Model ${id} added`)} />
      <section aria-labelledby="providers-title">
        <h2 id="providers-title">Your providers</h2>
        {providers.map((p) => (
          <article class="panel" key={p.provider_key} data-provider={p.provider_key}>
            <h3>
              {p.display_name} <span class="tag">{p.kind}</span>
            </h3>
            <p class="hint">
              <span class="mono">{p.provider_key}</span> · {p.api_base ?? "official API"} · key{" "}
              {p.api_key ? "set" : "not set"}
            </p>
            <div class="row">
              <button
                type="button"
                onClick={() =>
                  act(async () => {
                    const answer = await benchJson<{ models: Discovered[] }>(
                      "GET",
                      `/api/models/discover?provider_key=${encodeURIComponent(p.provider_key)}`,
                    );
                    setDiscovered((d) => ({ ...d, [p.provider_key]: answer.models }));
                  }, `${p.display_name}: models listed by the server`)
                }
              >
                Discover models
              </button>
              <button
                type="button"
                class="danger"
                onClick={() =>
                  act(
                    () =>
                      benchJson("DELETE", "/api/config/provider", {
                        provider_key: p.provider_key,
                      }),
                    `Provider ${p.display_name} deleted`,
                  )
                }
              >
                Delete provider
              </button>
            </div>
            {(discovered[p.provider_key] ?? []).length > 0 && (
              <ul data-discovered={p.provider_key}>
                {discovered[p.provider_key]!.map(({ id, display_name }) => (
                  <li key={id}>
                    <span class="mono">{id}</span>{" "}
                    <button
                      type="button"
                      class="link"
                      onClick={() =>
                        act(
                          () =>
                            benchJson("POST", "/api/config/model", {
                              provider_key: p.provider_key,
                              id,
                              display_name,
                            }),
                          `Model ${id} added`,
                        )
                      }
                    >
                      Add
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Id</th>
                    <th scope="col">Context window</th>
                    <th scope="col">$ / M tokens in · out</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {p.models.map((m) => (
                    <tr key={m.model_id}>
                      <td>{m.display_name}</td>
                      <td class="mono">{m.model_id}</td>
                      <td>{m.context_window?.toLocaleString() ?? "—"}</td>
                      <td>
                        {num(m.input_cost_per_mtok, 2)} · {num(m.output_cost_per_mtok, 2)}
                      </td>
                      <td class="actions">
                        <button
                          type="button"
                          class="link"
                          aria-label={`Delete model ${m.model_id}`}
                          onClick={() =>
                            act(
                              () =>
                                benchJson("DELETE", "/api/config/model", {
                                  provider_key: p.provider_key,
                                  model_id: m.model_id,
                                }),
                              `Model ${m.model_id} deleted`,
                            )
                          }
                        >
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </article>
        ))}
      </section>
    </>
  );
}

function ProviderForm(props: { onSaved: (name: string) => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = async (event: Event) => {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const body: Record<string, unknown> = {
      provider_key: text("provider_key"),
      display_name: text("display_name") || text("provider_key"),
      kind: text("kind"),
      model_id_prefix: text("model_id_prefix") || text("provider_key"),
    };
    if (text("api_base")) body.api_base = text("api_base");
    if (text("api_key")) body.api_key = text("api_key");
    try {
      await benchJson("POST", "/api/config/provider", body);
      setErrors({});
      formEl.reset();
      props.onSaved(String(body.display_name));
    } catch (e) {
      setErrors(fieldsOf(e));
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="new-provider-title">
      <h2 id="new-provider-title">Add a provider</h2>
      <p class="hint">
        Any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio) with its base URL, or OpenAI,
        Anthropic, Gemini. The key is stored encrypted and never shown again.
      </p>
      <div class="grid">
        <Field name="provider_key" label="Provider key" errors={errors} required placeholder="local" />
        <Field name="display_name" label="Display name" errors={errors} placeholder="Local" />
        <label>
          Kind
          <select name="kind" defaultValue="openai_compatible">
            <option value="openai_compatible">OpenAI-compatible server</option>
            <option value="openai">OpenAI</option>
            <option value="anthropic">Anthropic</option>
            <option value="gemini">Gemini</option>
          </select>
        </label>
        <Field name="api_base" label="API base URL" errors={errors} placeholder="http://localhost:11434/v1" />
        <Field name="model_id_prefix" label="Model id prefix" errors={errors} placeholder="local" />
        <Field name="api_key" label="API key (optional)" errors={errors} type="password" />
      </div>
      <button type="submit">Add provider</button>
      {errors[""] && <Notice error={errors[""]} />}
    </form>
  );
}

function ModelForm(props: { providers: BenchConfig["providers"][string][]; onSaved: (id: string) => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = async (event: Event) => {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const body: Record<string, unknown> = { provider_key: text("provider_key"), id: text("id") };
    if (text("display_name")) body.display_name = text("display_name");
    for (const name of ["context_window", "input_cost_per_mtok", "output_cost_per_mtok"])
      if (text(name)) body[name] = Number(text(name));
    try {
      const answer = await benchJson<{ model_id: string }>("POST", "/api/config/model", body);
      setErrors({});
      formEl.reset();
      props.onSaved(answer.model_id);
    } catch (e) {
      setErrors(fieldsOf(e));
    }
  };
  if (props.providers.length === 0) return null;
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="new-model-title">
      <h2 id="new-model-title">Add a model</h2>
      <div class="grid">
        <label>
          Provider
          <select name="provider_key">
            {props.providers.map((p) => (
              <option key={p.provider_key} value={p.provider_key}>
                {p.display_name}
              </option>
            ))}
          </select>
        </label>
        <Field name="id" label="Model id" errors={errors} required placeholder="llama3" />
        <Field name="display_name" label="Display name" errors={errors} />
        <Field name="context_window" label="Context window" errors={errors} type="number" />
        <Field name="input_cost_per_mtok" label="$ per M input tokens" errors={errors} type="number" />
        <Field name="output_cost_per_mtok" label="$ per M output tokens" errors={errors} type="number" />
      </div>
      <button type="submit">Add model</button>
      {errors[""] && <Notice error={errors[""]} />}
    </form>
  );
}

function Field(props: {
  name: string;
  label: string;
  errors: Record<string, string>;
  type?: "text" | "number" | "password";
  required?: boolean;
  placeholder?: string;
  defaultValue?: string | number;
}) {
  const error = props.errors[props.name];
  const id = `bench-${props.name}`;
  return (
    <label>
      {props.label}
      <input
        name={props.name}
        // One of three plain types (the cast picks one branch of Preact's per-type attribute union).
        type={(props.type ?? "text") as "text"}
        step={props.type === "number" ? "any" : undefined}
        required={props.required}
        placeholder={props.placeholder}
        defaultValue={props.defaultValue as string | undefined}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      {error && (
        <span class="field-error" id={`${id}-error`}>
          {error}
        </span>
      )}
    </label>
  );
}

// ---- run ----

interface LiveRun {
  runId: string | null;
  current: number;
  total: number;
  now: string;
  results: BenchResult[];
  skipped: string[];
  errors: string[];
  state: "running" | "complete" | "cancelled" | "failed";
  savedTo: string | null;
}

function RunForm(props: { onShowRun: (id: string) => void }) {
  const [config, configError] = useConfig();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [live, setLive] = useState<LiveRun | null>(null);
  const running = live?.state === "running";

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const tiers = text("context_tiers")
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    const body = {
      models: form.getAll("models").map(String),
      runs: Number(text("runs")),
      max_tokens: Number(text("max_tokens")),
      temperature: Number(text("temperature")),
      prompt: text("prompt"),
      context_tiers: tiers,
      warmup: form.get("warmup") === "on",
    };
    if (body.models.length === 0) return setErrors({ models: "Choose at least one model" });
    setErrors({});
    const run: LiveRun = {
      runId: null,
      current: 0,
      total: 0,
      now: "Starting…",
      results: [],
      skipped: [],
      errors: [],
      state: "running",
      savedTo: null,
    };
    const update = (change: (r: LiveRun) => void) => {
      change(run);
      setLive({ ...run, results: [...run.results] });
    };
    setLive({ ...run });
    try {
      await streamBenchmark(
        body,
        (e: BenchEvent) =>
          update((r) => {
            if (e.type === "progress") {
              r.current = e.current;
              r.total = e.total;
              r.now = `${e.provider} · ${e.model} · run ${e.run}/${e.runs} · ${e.context_tokens.toLocaleString()} context tokens`;
            } else if (e.type === "result") r.results.push(e);
            else if (e.type === "skipped")
              r.skipped.push(`${e.model} at ${e.context_tokens.toLocaleString()} tokens: ${e.reason}`);
            else if (e.type === "error")
              r.errors.push(e.provider ? `${e.provider}: ${e.message}` : e.message);
            else if (e.type === "cancelled") r.state = "cancelled";
            else if (e.type === "complete") {
              r.state = "complete";
              r.current = r.total;
              r.savedTo = e.run_id && e.saved_to ? e.run_id : null;
            }
          }),
        (runId) => update((r) => (r.runId = runId)),
      );
      update((r) => {
        if (r.state === "running") {
          r.state = "failed";
          r.errors.push("The stream ended early; the run goes on on the server and will be in history.");
        }
      });
    } catch (e) {
      setLive(null);
      setErrors(fieldsOf(e));
    }
  };

  const cancel = async () => {
    try {
      await benchJson("POST", "/api/benchmark/cancel");
    } catch (e) {
      setErrors({ "": messageOf(e) });
    }
  };

  const providers = Object.values(config?.providers ?? {});
  const d = config?.defaults;
  return (
    <>
      <Notice error={configError} />
      {config && (
        <form class="panel" onSubmit={submit} aria-labelledby="run-title">
          <h2 id="run-title">New benchmark</h2>
          <fieldset aria-invalid={errors.models ? "true" : undefined}>
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
            {errors.models && <span class="field-error">{errors.models}</span>}
          </fieldset>
          <label>
            Prompt
            <textarea name="prompt" rows={3} defaultValue={d?.prompt} />
          </label>
          <div class="grid">
            <Field
              name="runs"
              label="Runs per model and tier"
              errors={errors}
              type="number"
              defaultValue={3}
            />
            <Field
              name="max_tokens"
              label="Max tokens"
              errors={errors}
              type="number"
              defaultValue={d?.max_tokens}
            />
            <Field
              name="temperature"
              label="Temperature"
              errors={errors}
              type="number"
              defaultValue={d?.temperature}
            />
            <Field
              name="context_tiers"
              label="Context tiers (tokens, comma-separated)"
              errors={errors}
              defaultValue={(d?.context_tiers ?? [0]).join(", ")}
            />
          </div>
          <div class="row">
            <label>
              <input type="checkbox" name="warmup" defaultChecked /> Warm-up call first (not measured)
            </label>
            <button type="submit" disabled={running}>
              Run benchmark
            </button>
            {running && (
              <button type="button" class="danger" onClick={cancel}>
                Cancel
              </button>
            )}
          </div>
          {errors[""] && <Notice error={errors[""]} />}
        </form>
      )}
      {live && (
        <section aria-labelledby="live-title" data-run-state={live.state}>
          <h2 id="live-title">
            {live.state === "running"
              ? "Running"
              : live.state === "complete"
                ? "Finished"
                : live.state === "cancelled"
                  ? "Cancelled"
                  : "Stream ended"}
          </h2>
          <Progress value={live.current} max={live.total} label="Benchmark progress" />
          <p role="status" data-bench="now">
            {live.state === "running" ? live.now : ""}
          </p>
          {live.errors.map((e) => (
            <p class="notice error" role="alert" key={e}>
              {e}
            </p>
          ))}
          {live.skipped.length > 0 && (
            <ul data-bench="skipped">
              {live.skipped.map((s) => (
                <li key={s}>Skipped: {s}</li>
              ))}
            </ul>
          )}
          <ResultsTable results={live.results} />
          {live.savedTo && (
            <button type="button" onClick={() => props.onShowRun(live.savedTo!)}>
              Open this run in history
            </button>
          )}
        </section>
      )}
    </>
  );
}

function ResultsTable(props: { results: BenchResult[] }) {
  if (props.results.length === 0) return null;
  return (
    <div class="table-wrap">
      <table data-bench="results">
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Provider</th>
            <th scope="col">Context tokens</th>
            <th scope="col">Run</th>
            <th scope="col">TTFT (ms)</th>
            <th scope="col">Tokens/s</th>
            <th scope="col">Output tokens</th>
            <th scope="col">Cost ($)</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {props.results.map((r, i) => (
            <tr key={i} data-success={String(r.success)}>
              <td>{r.model}</td>
              <td>{r.provider}</td>
              <td>{r.context_tokens.toLocaleString()}</td>
              <td>
                {r.run}/{r.runs}
              </td>
              {/* A failed call has no speed: shown as —, never as 0 tok/s. */}
              <td>{r.success ? num(r.ttft_ms) : "—"}</td>
              <td>{r.success ? num(r.tokens_per_second) : "—"}</td>
              <td>{r.success ? r.output_tokens.toLocaleString() : "—"}</td>
              <td>{r.success ? num(r.cost, 6) : "—"}</td>
              <td>{r.success ? "ok" : `failed: ${r.error ?? "error"}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// ---- schedules ----

interface Schedule {
  id: string;
  name: string;
  prompt: string;
  models: string[];
  interval_hours: number | null;
  cron: string | null;
  tz: string | null;
  enabled: 0 | 1;
  last_run: string | null;
  next_run: string | null;
  runs: number;
  context_tiers: number[];
}

/** Saved benchmarks fired by the server (cron or every N hours); their runs land in history. */
function Schedules() {
  const [config, configError] = useConfig();
  const [list, setList] = useState<Schedule[] | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [doomed, setDoomed] = useState<Schedule | null>(null);
  const load = async () => {
    try {
      setList((await benchJson<{ schedules: Schedule[] }>("GET", "/api/schedules")).schedules);
      setError(null);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  // Polled like the other pages: a firing or a "Run now" moves last/next run without a reload.
  usePoll(() => void load(), 5000);
  const act = async (what: () => Promise<unknown>, done: string) => {
    try {
      await what();
      setMessage(done);
      setError(null);
      await load();
    } catch (e) {
      setMessage(null);
      setError(messageOf(e));
    }
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const body: Record<string, unknown> = {
      name: text("name"),
      prompt: text("prompt"),
      models: form.getAll("models").map(String),
      runs: Number(text("runs") || 1),
      context_tiers: text("context_tiers")
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number),
    };
    if (text("cron")) body.cron = text("cron");
    if (text("interval_hours")) body.interval_hours = Number(text("interval_hours"));
    if (text("tz")) body.tz = text("tz");
    try {
      await benchJson("POST", "/api/schedules", body);
      setErrors({});
      formEl.reset();
      await act(async () => undefined, `Schedule ${String(body.name)} saved`);
    } catch (e) {
      setErrors(fieldsOf(e));
    }
  };

  const providers = Object.values(config?.providers ?? {});
  return (
    <>
      <Notice error={configError ?? error} ok={message} />
      {config && (
        <form class="panel" onSubmit={submit} aria-labelledby="new-schedule-title">
          <h2 id="new-schedule-title">New schedule</h2>
          <p class="hint">
            A saved benchmark the server runs by itself (one run per firing, whatever the number of
            instances): a cron expression in a time zone, or every N hours.
          </p>
          <div class="grid">
            <Field name="name" label="Name" errors={errors} required placeholder="nightly" />
            <Field name="cron" label="Cron (5 fields)" errors={errors} placeholder="0 3 * * *" />
            <Field name="tz" label="Time zone (cron)" errors={errors} placeholder="UTC" />
            <Field name="interval_hours" label="Or every N hours" errors={errors} type="number" />
            <Field
              name="runs"
              label="Runs per model and tier"
              errors={errors}
              type="number"
              defaultValue={1}
            />
            <Field
              name="context_tiers"
              label="Context tiers (tokens, comma-separated)"
              errors={errors}
              defaultValue="0"
            />
          </div>
          <fieldset>
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
            {errors.models && <span class="field-error">{errors.models}</span>}
          </fieldset>
          <label>
            Prompt
            <textarea name="prompt" rows={2} required defaultValue={config.defaults.prompt} />
          </label>
          <button type="submit">Save schedule</button>
          {errors[""] && <Notice error={errors[""]} />}
        </form>
      )}
      {list !== null && list.length > 0 && (
        <div class="table-wrap">
          <table data-bench="schedules">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Models</th>
                <th scope="col">When</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((sc) => (
                <tr key={sc.id} data-schedule={sc.name} data-enabled={String(sc.enabled === 1)}>
                  <td>{sc.name}</td>
                  <td>{sc.models.join(", ")}</td>
                  <td>{sc.cron ? `cron ${sc.cron} (${sc.tz ?? "UTC"})` : `every ${sc.interval_hours} h`}</td>
                  <td>{sc.enabled ? fmtIso(sc.next_run) : "disabled"}</td>
                  <td>{fmtIso(sc.last_run)}</td>
                  <td class="actions">
                    <button
                      type="button"
                      class="link"
                      onClick={() =>
                        act(
                          () => benchJson("POST", `/api/schedules/${sc.id}/trigger`),
                          `${sc.name}: a run started; it will be in history when it ends`,
                        )
                      }
                    >
                      Run now
                    </button>{" "}
                    <button
                      type="button"
                      class="link"
                      onClick={() =>
                        act(
                          () => benchJson("PUT", `/api/schedules/${sc.id}`, { enabled: sc.enabled ? 0 : 1 }),
                          `${sc.name} ${sc.enabled ? "disabled" : "enabled"}`,
                        )
                      }
                    >
                      {sc.enabled ? "Disable" : "Enable"}
                    </button>{" "}
                    <button type="button" class="link" onClick={() => setDoomed(sc)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={doomed !== null}
        title="Delete this schedule?"
        confirmLabel="Delete schedule"
        onCancel={() => setDoomed(null)}
        onConfirm={() => {
          const sc = doomed!;
          setDoomed(null);
          void act(() => benchJson("DELETE", `/api/schedules/${sc.id}`), `Schedule ${sc.name} deleted`);
        }}
      >
        {doomed?.name} stops firing; its past runs stay in history.
      </ConfirmDialog>
    </>
  );
}

/** An ISO time as "YYYY-MM-DD HH:MM UTC". */
const fmtIso = (iso: string | null) => (iso ? `${iso.replace("T", " ").slice(0, 16)} UTC` : "—");

// ---- leaderboard and trends ----

const TOP_TRENDS = 5;

function Leaderboard() {
  const [period, setPeriod] = useState("all");
  const [metric, setMetric] = useState<"tps" | "ttft">("tps");
  const [rows, setRows] = useState<LeaderboardRow[] | null>(null);
  const [series, setSeries] = useState<TrendSeries[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void (async () => {
      try {
        const board = await benchJson<{ models: LeaderboardRow[] }>(
          "GET",
          `/api/analytics/leaderboard?period=${period}`,
        );
        setRows(board.models);
        const ids = [...new Set(board.models.slice(0, TOP_TRENDS).map((m) => m.model_id))];
        const trends =
          ids.length === 0
            ? { series: [] }
            : await benchJson<{ series: TrendSeries[] }>(
                "GET",
                `/api/analytics/trends?period=${period}&metric=${metric}&models=${encodeURIComponent(ids.join(","))}`,
              );
        setSeries(trends.series);
        setError(null);
      } catch (e) {
        setError(messageOf(e));
      }
    })();
  }, [period, metric]);

  // One x value per distinct run time; a series without a point at that time has a gap there. A point
  // without a measured value (no successful call) is a gap too: old or failed runs are never drawn as 0.
  const chart = useMemo(() => {
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => benchTime(p.timestamp))))].sort(
      (a, b) => a - b,
    );
    const index = new Map(times.map((t, i) => [t, i]));
    return {
      x: times,
      series: series.map((s) => {
        const values: (number | null)[] = times.map(() => null);
        for (const p of s.points)
          if (typeof p.value === "number" && p.value > 0)
            values[index.get(benchTime(p.timestamp))!] = p.value;
        return { label: `${s.model || s.model_id} · ${s.provider || "?"}`, values };
      }),
    };
  }, [series]);
  const best = Math.max(0, ...(rows ?? []).map((r) => r.avg_tps));

  return (
    <>
      <Notice error={error} />
      <div class="row">
        <label>
          Period{" "}
          <select value={period} onChange={(e) => setPeriod((e.currentTarget as HTMLSelectElement).value)}>
            <option value="7d">last 7 days</option>
            <option value="30d">last 30 days</option>
            <option value="90d">last 90 days</option>
            <option value="all">all time</option>
          </select>
        </label>
        <label>
          Trend of{" "}
          <select
            value={metric}
            onChange={(e) => setMetric((e.currentTarget as HTMLSelectElement).value as "tps" | "ttft")}
          >
            <option value="tps">tokens per second</option>
            <option value="ttft">time to first token</option>
          </select>
        </label>
      </div>
      {rows !== null && rows.length === 0 && (
        <p class="notice" role="status">
          No measured results in this period yet: run a benchmark.
        </p>
      )}
      {rows !== null && rows.length > 0 && (
        <>
          <ul class="bars" data-chart="leaderboard">
            {rows.map((r) => (
              <li key={`${r.model_id}|${r.provider_key}`}>
                <span class="bar-label">
                  {r.model} · {r.provider}
                </span>
                <span class="bar" aria-hidden="true">
                  <span style={{ width: `${best > 0 ? (r.avg_tps / best) * 100 : 0}%` }} />
                </span>
                <span class="bar-value">{num(r.avg_tps)} tok/s</span>
              </li>
            ))}
          </ul>
          <div class="table-wrap">
            <table data-bench="leaderboard">
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Model</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Tokens/s</th>
                  <th scope="col">TTFT (ms)</th>
                  <th scope="col">Cost per call ($)</th>
                  <th scope="col">Measured calls</th>
                  <th scope="col">Last run (UTC)</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={`${r.model_id}|${r.provider_key}`}>
                    <td>{i + 1}</td>
                    <td>{r.model}</td>
                    <td>{r.provider}</td>
                    <td>{num(r.avg_tps)}</td>
                    <td>{num(r.avg_ttft_ms)}</td>
                    <td>{num(r.avg_cost, 6)}</td>
                    <td>{r.total_runs.toLocaleString()}</td>
                    <td>{r.last_run ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {chart.series.length > 0 && (
            <div class="charts">
              <Chart
                id="bench-trend"
                title={metric === "tps" ? "Tokens per second per run" : "Time to first token per run"}
                x={chart.x}
                series={chart.series}
                yLabel={metric === "tps" ? "tok/s" : "ms"}
                dots
              />
            </div>
          )}
        </>
      )}
    </>
  );
}

// ---- history ----

function History(props: { openRun: string | null; onOpen: (id: string | null) => void }) {
  const [runs, setRuns] = useState<HistoryRun[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [doomed, setDoomed] = useState<HistoryRun | null>(null);
  const load = async () => {
    try {
      setRuns((await benchJson<{ runs: HistoryRun[] }>("GET", "/api/history?limit=100")).runs);
      setError(null);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  useEffect(() => void load(), []);
  const open = runs?.find((r) => r.id === props.openRun) ?? null;
  const download = (path: string, name: string) =>
    benchDownload(path, name).catch((e: unknown) => setError(messageOf(e)));

  return (
    <>
      <Notice error={error} />
      <div class="row">
        <button type="button" onClick={() => download("/api/export/history", "benchmark_history.csv")}>
          Export history (CSV)
        </button>
      </div>
      {runs !== null && runs.length === 0 && (
        <p class="notice" role="status">
          No benchmark runs yet.
        </p>
      )}
      {runs !== null && runs.length > 0 && (
        <div class="table-wrap">
          <table data-bench="history">
            <thead>
              <tr>
                <th scope="col">When (UTC)</th>
                <th scope="col">Models</th>
                <th scope="col">Prompt</th>
                <th scope="col">Context tiers</th>
                <th scope="col">Results</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} data-run={r.id} aria-current={r.id === props.openRun ? "true" : undefined}>
                  <td>{r.timestamp}</td>
                  <td>{r.models.join(", ")}</td>
                  <td>{r.prompt.length > 60 ? `${r.prompt.slice(0, 60)}…` : r.prompt}</td>
                  <td>{r.context_tiers.join(", ")}</td>
                  <td>
                    {r.results.filter((x) => x.success).length} ok
                    {r.results.some((x) => !x.success) &&
                      `, ${r.results.filter((x) => !x.success).length} failed`}
                  </td>
                  <td class="actions">
                    <button type="button" class="link" onClick={() => props.onOpen(r.id)}>
                      Results
                    </button>{" "}
                    <button
                      type="button"
                      class="link"
                      onClick={() => download(`/api/export/run/${r.id}`, `benchmark_run_${r.id}.json`)}
                    >
                      JSON
                    </button>{" "}
                    <button type="button" class="link" onClick={() => setDoomed(r)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open && (
        <section aria-labelledby="run-results-title" data-bench="run-results">
          <h2 id="run-results-title">Run of {open.timestamp} UTC</h2>
          <p class="hint">
            {open.runs} run(s) per model and tier · prompt: {open.prompt}
          </p>
          <ResultsTable results={open.results} />
        </section>
      )}
      <ConfirmDialog
        open={doomed !== null}
        title="Delete this run?"
        confirmLabel="Delete run"
        onCancel={() => setDoomed(null)}
        onConfirm={async () => {
          const run = doomed!;
          setDoomed(null);
          try {
            await benchJson("DELETE", `/api/history/${run.id}`);
            if (props.openRun === run.id) props.onOpen(null);
            await load();
          } catch (e) {
            setError(messageOf(e));
          }
        }}
      >
        The run of {doomed?.timestamp} UTC and its results leave history and the leaderboard.
      </ConfirmDialog>
    </>
  );
}

/**
 * The benchmark section for someone without the dashboard's operator login (a bench user): /dashboard/bench
 * shows it on its own, with the bench sign-in, instead of the dashboard's login form.
 */
export function BenchStandalone() {
  return (
    <main id="content">
      <h1>
        HiveGuard <small>benchmarks</small>
      </h1>
      <BenchPage />
    </main>
  );
}
