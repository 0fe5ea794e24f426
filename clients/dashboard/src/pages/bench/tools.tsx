// The tool-calling part of the benchmark section (docs/bench.md "Pages"): the tool suites editor (list, create,
// import JSON, edit tools and cases), tool-eval runs (a run form with an optional judge, live results, history
// with per-case drill-down) and judge reports (standalone judge and compare, verdicts with the judge's prompt
// and raw answer). Everything through the bench REST paths with the user's Bearer token (bench-api.ts).
import { useEffect, useState } from "preact/hooks";
import { type BenchConfig, BenchError, benchJson, streamBenchEvents } from "../../bench-api.js";
import { ConfirmDialog, fmtDate, Notice, Progress } from "../../ui.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the events and reports are JSON shown as they come */
type Json = any;

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
const fieldsOf = (e: unknown): Record<string, string> => {
  const fields = e instanceof BenchError ? e.fieldErrors() : {};
  return Object.keys(fields).length ? fields : { "": messageOf(e) };
};
const pct = (n: number | null | undefined) => (typeof n === "number" ? `${Math.round(n * 100)}%` : "—");
const expected = (tool: Json) =>
  tool === null || tool === undefined ? "no call" : Array.isArray(tool) ? tool.join(" | ") : String(tool);
const pretty = (value: unknown) => JSON.stringify(value, null, 2);
/** Upstream's "YYYY-MM-DD HH:MM:SS" (UTC), shown as the other pages show dates. */
const when = (timestamp: string) => fmtDate(timestamp.replace(" ", "T"));
/** Long prompts and raw JSON wrap instead of widening the page. */
const WRAP = { whiteSpace: "pre-wrap", overflowWrap: "anywhere" } as const;

export function useConfigModels(): { id: string; label: string }[] {
  const [models, setModels] = useState<{ id: string; label: string }[]>([]);
  useEffect(() => {
    void benchJson<BenchConfig>("GET", "/api/config")
      .then((config) =>
        setModels(
          Object.entries(config.providers).flatMap(([name, p]) =>
            p.models.map((m) => ({ id: m.model_id, label: `${m.display_name || m.model_id} (${name})` })),
          ),
        ),
      )
      .catch(() => setModels([]));
  }, []);
  return models;
}

export function FieldError(props: { errors: Record<string, string>; name: string }) {
  const error = props.errors[props.name];
  return error ? (
    <span class="field-error" role="alert">
      {error}
    </span>
  ) : null;
}

// ── tool suites ──────────────────────────────────────────────────────────────────────────────────────

interface SuiteRow {
  id: string;
  name: string;
  description: string;
  tool_count: number;
  test_case_count: number;
}

export function ToolSuites() {
  const [suites, setSuites] = useState<SuiteRow[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<SuiteRow | null>(null);
  const load = () =>
    benchJson<{ suites: SuiteRow[] }>("GET", "/api/tool-suites")
      .then((r) => setSuites(r.suites))
      .catch((e) => setError(messageOf(e)));
  useEffect(() => void load(), []);

  if (open) return <SuiteEditor id={open} onBack={() => (setOpen(null), void load())} />;
  return (
    <div>
      <Notice error={error} />
      <section class="panel" aria-labelledby="suites-title">
        <h2 id="suites-title">Tool suites</h2>
        {suites && suites.length === 0 && <p class="hint">No suite yet: create one or import a JSON file.</p>}
        {suites && suites.length > 0 && (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Suite</th>
                  <th>Tools</th>
                  <th>Cases</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {suites.map((s) => (
                  <tr key={s.id} data-suite={s.name}>
                    <td>
                      <strong>{s.name}</strong>
                      <br />
                      <span class="hint">{s.description}</span>
                    </td>
                    <td>{s.tool_count}</td>
                    <td>{s.test_case_count}</td>
                    <td class="actions">
                      <button type="button" onClick={() => setOpen(s.id)}>
                        Edit
                      </button>
                      <button type="button" class="danger" onClick={() => setDeleting(s)}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <CreateSuite onCreated={(id) => setOpen(id)} />
      <ImportSuite onImported={(id) => setOpen(id)} />
      <ImportMcp onImported={(id) => setOpen(id)} />
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this suite?"
        confirmLabel="Delete suite"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const suite = deleting!;
          setDeleting(null);
          await benchJson("DELETE", `/api/tool-suites/${suite.id}`).catch((e) => setError(messageOf(e)));
          await load();
        }}
      >
        {deleting?.name} and its cases are deleted; past eval runs keep its name.
      </ConfirmDialog>
    </div>
  );
}

interface McpTool {
  name: string;
  description: string;
  inputSchema: Json;
  parameter_count: number;
}

/**
 * Tools from an MCP server (`POST /api/mcp/discover`, then `/api/mcp/import`): a Streamable HTTP URL, or a stdio
 * command an administrator allowed (BENCH_MCP_STDIO_COMMANDS) with its arguments; the tools listed with
 * checkboxes, imported as a suite (optionally one generated case per tool).
 */
function ImportMcp(props: { onImported: (id: string) => void }) {
  const [kind, setKind] = useState<"http" | "stdio">("http");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [found, setFound] = useState<{ server_name: string; tools: McpTool[]; error?: string } | null>(null);

  const discover = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const args = String(form.get("args") ?? "")
      .split("\n")
      .map((a) => a.trim())
      .filter(Boolean);
    const body =
      kind === "http"
        ? { url: String(form.get("url") ?? "") }
        : { command: String(form.get("command") ?? ""), args };
    setErrors({});
    setFound(null);
    setBusy(true);
    try {
      setFound(await benchJson("POST", "/api/mcp/discover", body));
    } catch (e) {
      setErrors(fieldsOf(e));
    } finally {
      setBusy(false);
    }
  };
  const importTools = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const chosen = new Set(form.getAll("tool").map(String));
    const tools = found!.tools.filter((t) => chosen.has(t.name));
    if (tools.length === 0) return setErrors({ tools: "Choose at least one tool" });
    setErrors({});
    try {
      const done = await benchJson<{ suite_id: string }>("POST", "/api/mcp/import", {
        tools: tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),
        suite_name: String(form.get("suite_name") ?? ""),
        generate_test_cases: form.get("generate_test_cases") === "on",
      });
      props.onImported(done.suite_id);
    } catch (e) {
      setErrors(fieldsOf(e));
    }
  };
  return (
    <section class="panel" aria-labelledby="mcp-title">
      <h2 id="mcp-title">Import from an MCP server</h2>
      <form onSubmit={discover} aria-label="Discover MCP tools">
        <div class="row">
          <label class="check">
            <input type="radio" name="kind" checked={kind === "http"} onChange={() => setKind("http")} />{" "}
            Streamable HTTP
          </label>
          <label class="check">
            <input type="radio" name="kind" checked={kind === "stdio"} onChange={() => setKind("stdio")} />{" "}
            stdio command
          </label>
        </div>
        {kind === "http" ? (
          <div class="field">
            <label for="mcp-url">Server URL</label>
            <input id="mcp-url" name="url" placeholder="http://localhost:3001/mcp" />
            <FieldError errors={errors} name="url" />
          </div>
        ) : (
          <div class="grid">
            <div class="field">
              <label for="mcp-command">Command</label>
              <input id="mcp-command" name="command" placeholder="an executable your administrator allowed" />
              <FieldError errors={errors} name="command" />
            </div>
            <div class="field">
              <label for="mcp-args">Arguments (one a line)</label>
              <textarea id="mcp-args" name="args" rows={2} />
            </div>
          </div>
        )}
        <FieldError errors={errors} name="" />
        <button type="submit" disabled={busy}>
          {busy ? "Connecting…" : "Discover tools"}
        </button>
      </form>
      {found && found.tools.length === 0 && <p role="status">{found.error ?? "The server has no tools."}</p>}
      {found && found.tools.length > 0 && (
        <form onSubmit={importTools} aria-label="Import MCP tools">
          <p role="status">
            {found.server_name}: {found.tools.length} tool{found.tools.length === 1 ? "" : "s"}
          </p>
          <fieldset>
            <legend>Tools</legend>
            {found.tools.map((t) => (
              <label key={t.name} class="check">
                <input type="checkbox" name="tool" value={t.name} defaultChecked /> {t.name} (
                {t.parameter_count} parameter{t.parameter_count === 1 ? "" : "s"})
                {t.description ? `: ${t.description}` : ""}
              </label>
            ))}
            <FieldError errors={errors} name="tools" />
          </fieldset>
          <div class="grid">
            <label>
              Suite name
              <input name="suite_name" placeholder="MCP: the first three tool names" />
            </label>
            <label class="check">
              <input type="checkbox" name="generate_test_cases" defaultChecked /> One generated case per tool
            </label>
          </div>
          <button type="submit">Import tools</button>
        </form>
      )}
    </section>
  );
}

function CreateSuite(props: { onCreated: (id: string) => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    let tools: unknown;
    try {
      tools = JSON.parse(String(form.get("tools") || "[]"));
    } catch {
      return setErrors({ tools: "Tools must be JSON (a list of functions)" });
    }
    try {
      const created = await benchJson<{ suite_id: string }>("POST", "/api/tool-suites", {
        name: String(form.get("name") ?? ""),
        description: String(form.get("description") ?? ""),
        tools,
      });
      setErrors({});
      props.onCreated(created.suite_id);
    } catch (e) {
      setErrors(fieldsOf(e));
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="create-suite-title">
      <h2 id="create-suite-title">Create a suite</h2>
      <div class="grid">
        <label>
          Suite name
          <input name="name" required />
          <FieldError errors={errors} name="name" />
        </label>
        <label>
          Description
          <input name="description" />
        </label>
      </div>
      <label>
        Tools (JSON, OpenAI function format)
        <textarea
          name="tools"
          rows={4}
          class="mono"
          placeholder='[{"type":"function","function":{"name":"…"}}]'
        />
        <FieldError errors={errors} name="tools" />
      </label>
      <FieldError errors={errors} name="" />
      <button type="submit">Create suite</button>
    </form>
  );
}

function ImportSuite(props: { onImported: (id: string) => void }) {
  const [text, setText] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return setErrors({ "": "The file is not JSON" });
    }
    try {
      const imported = await benchJson<{ suite_id: string }>("POST", "/api/tool-eval/import", body);
      setErrors({});
      props.onImported(imported.suite_id);
    } catch (e) {
      const fields = fieldsOf(e);
      setErrors({
        "": Object.entries(fields)
          .map(([k, v]) => (k ? `${k}: ${v}` : v))
          .join("; "),
      });
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="import-suite-title">
      <h2 id="import-suite-title">Import a suite (JSON)</h2>
      <p class="hint">
        {"{name, description, tools, test_cases}"}, as docs/bench-tool-suite.example.json shows.
      </p>
      <label>
        JSON file
        <input
          type="file"
          accept="application/json,.json"
          onChange={async (e) => {
            const file = (e.currentTarget as HTMLInputElement).files?.[0];
            if (file) setText(await file.text());
          }}
        />
      </label>
      <label>
        Suite JSON
        <textarea
          rows={5}
          class="mono"
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        />
      </label>
      <FieldError errors={errors} name="" />
      <button type="submit">Import suite</button>
    </form>
  );
}

interface CaseRow {
  id: string;
  prompt: string;
  expected_tool: string | string[] | null;
  expected_params: Record<string, unknown> | null;
  multi_turn?: boolean;
}

function SuiteEditor(props: { id: string; onBack: () => void }) {
  const [suite, setSuite] = useState<Json | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [toolErrors, setToolErrors] = useState<Record<string, string>>({});
  const load = () =>
    benchJson<Json>("GET", `/api/tool-suites/${props.id}`)
      .then(setSuite)
      .catch((e) => setError(messageOf(e)));
  useEffect(() => void load(), [props.id]);
  if (!suite) return <Notice error={error} />;

  const saveSuite = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    let tools: unknown;
    try {
      tools = JSON.parse(String(form.get("tools")));
    } catch {
      return setToolErrors({ tools: "Tools must be JSON" });
    }
    try {
      await benchJson("PUT", `/api/tool-suites/${props.id}`, {
        name: String(form.get("name")),
        description: String(form.get("description")),
        tools,
      });
      setToolErrors({});
      setSaved("Suite saved");
      await load();
    } catch (e) {
      setToolErrors(fieldsOf(e));
    }
  };
  return (
    <div data-suite-editor={suite.name}>
      <button type="button" class="link" onClick={props.onBack}>
        ← All suites
      </button>
      <Notice error={error} ok={saved} />
      <form class="panel" onSubmit={saveSuite} aria-labelledby="suite-title">
        <h2 id="suite-title">Suite {suite.name}</h2>
        <div class="grid">
          <label>
            Suite name
            <input name="name" defaultValue={suite.name} required />
            <FieldError errors={toolErrors} name="name" />
          </label>
          <label>
            Description
            <input name="description" defaultValue={suite.description} />
          </label>
        </div>
        <label>
          Tools (JSON)
          <textarea name="tools" rows={8} class="mono" defaultValue={pretty(suite.tools)} />
          <FieldError errors={toolErrors} name="tools" />
        </label>
        <FieldError errors={toolErrors} name="" />
        <button type="submit">Save suite</button>
      </form>
      <section class="panel" aria-labelledby="cases-title">
        <h2 id="cases-title">Test cases ({suite.test_cases.length})</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Prompt</th>
                <th>Expected tool</th>
                <th>Expected params</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(suite.test_cases as CaseRow[]).map((c) =>
                editing === c.id ? (
                  <tr key={c.id}>
                    <td colSpan={4}>
                      <CaseForm
                        suiteId={props.id}
                        initial={c}
                        onDone={async () => {
                          setEditing(null);
                          await load();
                        }}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={c.id} data-case={c.prompt}>
                    <td>
                      {c.prompt}
                      {c.multi_turn && <span class="tag"> multi-turn</span>}
                    </td>
                    <td>{expected(c.expected_tool)}</td>
                    <td class="mono">{c.expected_params ? JSON.stringify(c.expected_params) : "—"}</td>
                    <td class="actions">
                      <button type="button" onClick={() => setEditing(c.id)}>
                        Edit case
                      </button>
                      <button
                        type="button"
                        class="danger"
                        onClick={async () => {
                          await benchJson("DELETE", `/api/tool-suites/${props.id}/cases/${c.id}`).catch((e) =>
                            setError(messageOf(e)),
                          );
                          await load();
                        }}
                      >
                        Delete case
                      </button>
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
        <CaseForm suiteId={props.id} onDone={load} />
      </section>
    </div>
  );
}

/** Adds a case (no `initial`) or edits one: prompt, expected tool(s) (comma-separated; empty: no call), params. */
function CaseForm(props: { suiteId: string; initial?: CaseRow; onDone: () => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const initial = props.initial;
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const tools = String(form.get("expected_tool") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const paramsText = String(form.get("expected_params") ?? "").trim();
    let params: unknown = null;
    if (paramsText) {
      try {
        params = JSON.parse(paramsText);
      } catch {
        return setErrors({ expected_params: "Expected params must be a JSON object" });
      }
    }
    const body = {
      prompt: String(form.get("prompt") ?? ""),
      expected_tool: tools.length === 0 ? null : tools.length === 1 ? tools[0] : tools,
      expected_params: params,
    };
    try {
      if (initial) await benchJson("PUT", `/api/tool-suites/${props.suiteId}/cases/${initial.id}`, body);
      else await benchJson("POST", `/api/tool-suites/${props.suiteId}/cases`, body);
      setErrors({});
      if (!initial) formEl.reset();
      props.onDone();
    } catch (e) {
      setErrors(fieldsOf(e));
    }
  };
  const label = initial ? "Save case" : "Add case";
  return (
    <form onSubmit={submit} aria-label={initial ? "Edit case" : "Add a case"}>
      <div class="grid">
        <label>
          Prompt
          <input name="prompt" defaultValue={initial?.prompt} required />
          <FieldError errors={errors} name="prompt" />
        </label>
        <label>
          Expected tool
          <input
            name="expected_tool"
            placeholder="empty: no call expected; a, b: either"
            defaultValue={
              initial?.expected_tool === null || initial === undefined
                ? ""
                : Array.isArray(initial.expected_tool)
                  ? initial.expected_tool.join(", ")
                  : initial.expected_tool
            }
          />
          <FieldError errors={errors} name="expected_tool" />
        </label>
        <label>
          Expected params (JSON)
          <input
            name="expected_params"
            class="mono"
            defaultValue={initial?.expected_params ? JSON.stringify(initial.expected_params) : ""}
          />
          <FieldError errors={errors} name="expected_params" />
        </label>
      </div>
      <FieldError errors={errors} name="" />
      <button type="submit">{label}</button>
    </form>
  );
}

// ── tool evals ───────────────────────────────────────────────────────────────────────────────────────

export function ToolEvals() {
  const [openEval, setOpenEval] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  return (
    <div>
      <EvalForm onDone={(id) => (setRefresh((n) => n + 1), setOpenEval(id))} />
      <EvalHistory key={refresh} open={openEval} onOpen={setOpenEval} />
    </div>
  );
}

function JudgeFields(props: { models: { id: string; label: string }[]; withMode?: boolean }) {
  return (
    <div class="grid">
      {props.withMode && (
        <label>
          Judge mode
          <select name="judge_mode">
            <option value="">No judge</option>
            <option value="live_inline">Live (each case as it finishes)</option>
            <option value="post_eval">After the run</option>
          </select>
        </label>
      )}
      <label>
        Judge model
        <select name="judge_model">
          {props.models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Judge instructions
        <input name="custom_instructions" placeholder="optional: what the judge should focus on" />
      </label>
    </div>
  );
}

function EvalForm(props: { onDone: (evalId: string | null) => void }) {
  const models = useConfigModels();
  const [suites, setSuites] = useState<SuiteRow[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState({ current: 0, total: 0 });
  const [rows, setRows] = useState<Json[]>([]);
  const [verdicts, setVerdicts] = useState<Record<string, Json>>({});
  const [summaries, setSummaries] = useState<Json[]>([]);
  const [outcome, setOutcome] = useState<string | null>(null);
  useEffect(() => {
    void benchJson<{ suites: SuiteRow[] }>("GET", "/api/tool-suites").then((r) => setSuites(r.suites));
  }, []);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const judgeMode = String(form.get("judge_mode") ?? "");
    const body = {
      suite_id: String(form.get("suite_id") ?? ""),
      models: form.getAll("models").map(String),
      tool_choice: String(form.get("tool_choice")),
      temperature: Number(form.get("temperature")),
      ...(judgeMode && {
        judge: {
          enabled: true,
          mode: judgeMode,
          judge_model: String(form.get("judge_model") ?? ""),
          custom_instructions: String(form.get("custom_instructions") ?? ""),
        },
      }),
    };
    setErrors({});
    setRows([]);
    setVerdicts({});
    setSummaries([]);
    setOutcome(null);
    setProgress({ current: 0, total: 0 });
    setRunning(true);
    let evalId: string | null = null;
    try {
      await streamBenchEvents<Json>("/api/tool-eval", body, (e) => {
        if (e.type === "progress") setProgress({ current: e.current, total: e.total });
        else if (e.type === "result") setRows((r) => [...r, e]);
        else if (e.type === "judge_verdict")
          setVerdicts((v) => ({ ...v, [`${e.model_id}|${e.test_case_id}`]: e }));
        else if (e.type === "model_summary") setSummaries((s) => [...s, e]);
        else if (e.type === "complete") {
          evalId = e.eval_id;
          setOutcome("Eval complete");
        } else if (e.type === "cancelled") setOutcome("Eval cancelled");
        else if (e.type === "error") setOutcome(`Eval failed: ${e.message}`);
      });
      props.onDone(evalId);
    } catch (e) {
      setErrors(fieldsOf(e));
    } finally {
      setRunning(false);
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="eval-title">
      <h2 id="eval-title">Run a tool eval</h2>
      <div class="grid">
        <label>
          Suite
          <select name="suite_id" required>
            {suites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
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
          Temperature
          <input name="temperature" type="number" min={0} max={2} step={0.1} defaultValue="0" />
          <FieldError errors={errors} name="temperature" />
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
      <JudgeFields models={models} withMode />
      <FieldError errors={errors} name="judge.judge_model" />
      <FieldError errors={errors} name="" />
      <div class="row">
        <button type="submit" disabled={running}>
          Run eval
        </button>
        {running && (
          <button
            type="button"
            class="danger"
            onClick={() => void benchJson("POST", "/api/tool-eval/cancel").catch(() => undefined)}
          >
            Cancel eval
          </button>
        )}
      </div>
      {(running || rows.length > 0) && (
        <Progress value={progress.current} max={progress.total} label="Eval progress" />
      )}
      {outcome && <p role="status">{outcome}</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table aria-label="Live eval results">
            <thead>
              <tr>
                <th>Model</th>
                <th>Prompt</th>
                <th>Called</th>
                <th>Score</th>
                <th>Judge</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const v = verdicts[`${r.model_id}|${r.test_case_id}`];
                return (
                  <tr key={`${r.model_id}|${r.test_case_id}`}>
                    <td>{r.model_name}</td>
                    <td>{r.prompt}</td>
                    <td>{r.actual_tool ?? "no call"}</td>
                    <td>{pct(r.overall_score)}</td>
                    <td>{v ? <VerdictBadge verdict={v} /> : "…"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {summaries.length > 0 && (
        <ul aria-label="Model summaries">
          {summaries.map((s) => (
            <li key={s.model_id}>
              {s.model_name}: overall {s.overall_pct}% (tools {s.tool_accuracy_pct}%, params{" "}
              {s.param_accuracy_pct}%), {s.cases_passed}/{s.cases_run} passed
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function VerdictBadge(props: { verdict: Json }) {
  const v = props.verdict;
  if (!v.parsed)
    return (
      <span class="tag" title={v.judge_error ?? ""}>
        {v.judge_status === "failed" ? "judge failed" : "unparsed"}
      </span>
    );
  return (
    <span class="tag">
      {v.verdict} {v.quality_score}/5
    </span>
  );
}

function EvalHistory(props: { open: string | null; onOpen: (id: string | null) => void }) {
  const [runs, setRuns] = useState<Json[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void benchJson<{ runs: Json[] }>("GET", "/api/tool-eval/history")
      .then((r) => setRuns(r.runs))
      .catch((e) => setError(messageOf(e)));
  }, []);
  return (
    <section class="panel" aria-labelledby="eval-history-title">
      <h2 id="eval-history-title">Eval runs</h2>
      <Notice error={error} />
      {runs && runs.length === 0 && <p class="hint">No eval yet.</p>}
      {runs && runs.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Suite</th>
                <th>Models (overall)</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} data-eval={r.id}>
                  <td>{when(r.timestamp)}</td>
                  <td>{r.suite_name}</td>
                  <td>{r.summary.map((s: Json) => `${s.model_name} ${s.overall_pct}%`).join(", ")}</td>
                  <td>
                    <button type="button" onClick={() => props.onOpen(r.id)}>
                      Open eval
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.open && <EvalDetail id={props.open} onClose={() => props.onOpen(null)} />}
    </section>
  );
}

function EvalDetail(props: { id: string; onClose: () => void }) {
  const [run, setRun] = useState<Json | null>(null);
  const [drill, setDrill] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDrill(null);
    void benchJson<Json>("GET", `/api/tool-eval/history/${props.id}`)
      .then(setRun)
      .catch((e) => setError(messageOf(e)));
  }, [props.id]);
  if (!run) return <Notice error={error} />;
  const result = drill === null ? null : run.results[drill];
  return (
    <div aria-label="Eval detail" role="region">
      <h3>
        {run.suite_name} · {when(run.timestamp)} · {run.status}
      </h3>
      <button type="button" class="link" onClick={props.onClose}>
        Close
      </button>
      <div class="table-wrap">
        <table aria-label="Per-case results">
          <thead>
            <tr>
              <th>Model</th>
              <th>Prompt</th>
              <th>Expected</th>
              <th>Called</th>
              <th>Tool</th>
              <th>Params</th>
              <th>Overall</th>
            </tr>
          </thead>
          <tbody>
            {run.results.map((r: Json, i: number) => (
              <tr key={i} aria-selected={drill === i}>
                <td>{r.model_name}</td>
                <td>
                  <button type="button" class="link" onClick={() => setDrill(drill === i ? null : i)}>
                    {r.prompt}
                  </button>
                </td>
                <td>{expected(r.expected_tool)}</td>
                <td>{r.actual_tool ?? "no call"}</td>
                <td>{pct(r.tool_selection_score)}</td>
                <td>{pct(r.param_accuracy)}</td>
                <td>{pct(r.overall_score)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {result && (
        <div class="panel" role="region" aria-label="Case detail">
          <h3>Case: {result.prompt}</h3>
          <dl>
            <dt>Expected</dt>
            <dd class="mono">
              {expected(result.expected_tool)} {JSON.stringify(result.expected_params)}
            </dd>
            <dt>Called</dt>
            <dd class="mono">
              {result.actual_tool ?? "no call"} {JSON.stringify(result.actual_params)}
            </dd>
            {result.tool_chain && (
              <>
                <dt>Tool chain</dt>
                <dd class="mono">
                  {result.tool_chain
                    .map((c: Json) => `${c.round}: ${c.tool_name}(${JSON.stringify(c.params)})`)
                    .join(" → ")}
                </dd>
              </>
            )}
            <dt>Latency</dt>
            <dd>{result.latency_ms} ms</dd>
            {result.error && (
              <>
                <dt>Error</dt>
                <dd>{result.error}</dd>
              </>
            )}
          </dl>
          <details>
            <summary>Raw request and response</summary>
            <pre class="mono" style={WRAP}>
              {pretty({ request: result.raw_request, response: result.raw_response })}
            </pre>
          </details>
        </div>
      )}
    </div>
  );
}

// ── judge reports ────────────────────────────────────────────────────────────────────────────────────

export function JudgeReports() {
  const models = useConfigModels();
  const [evals, setEvals] = useState<Json[]>([]);
  const [reports, setReports] = useState<Json[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Json | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [live, setLive] = useState<string[]>([]);
  const [running, setRunning] = useState(false);
  const load = () =>
    benchJson<{ reports: Json[] }>("GET", "/api/tool-eval/judge/reports")
      .then((r) => setReports(r.reports))
      .catch((e) => setError(messageOf(e)));
  useEffect(() => {
    void load();
    void benchJson<{ runs: Json[] }>("GET", "/api/tool-eval/history").then((r) => setEvals(r.runs));
  }, []);

  const start = (path: string, body: unknown) => async () => {
    setErrors({});
    setLive([]);
    setRunning(true);
    let reportId: string | null = null;
    try {
      await streamBenchEvents<Json>(path, body, (e) => {
        if (e.type === "judge_start" || e.type === "compare_start") reportId = e.judge_report_id;
        if (e.type === "judge_verdict")
          setLive((l) => [
            ...l,
            `${e.model_name}: ${e.parsed ? `${e.verdict} ${e.quality_score}/5` : "unparsed"}`,
          ]);
        if (e.type === "compare_case") setLive((l) => [...l, `case: ${e.parsed ? e.winner : "unparsed"}`]);
        if (e.type === "cancelled") setLive((l) => [...l, "cancelled"]);
        if (e.type === "error") setLive((l) => [...l, `error: ${e.message}`]);
      });
      await load();
      if (reportId) setOpen(reportId);
    } catch (e) {
      setErrors(fieldsOf(e));
    } finally {
      setRunning(false);
    }
  };
  const evalLabel = (r: Json) => `${r.suite_name} · ${r.models.join(", ")} · ${when(r.timestamp)}`;
  const form = (event: SubmitEvent) => {
    event.preventDefault();
    return new FormData(event.currentTarget as HTMLFormElement);
  };
  const judgeOf = (f: FormData) => ({
    judge_model: String(f.get("judge_model") ?? ""),
    custom_instructions: String(f.get("custom_instructions") ?? ""),
  });
  return (
    <div>
      <Notice error={error} />
      <form
        class="panel"
        aria-labelledby="judge-run-title"
        onSubmit={(e) => {
          const f = form(e);
          void start("/api/tool-eval/judge", { eval_run_id: String(f.get("eval_run_id")), ...judgeOf(f) })();
        }}
      >
        <h2 id="judge-run-title">Judge an eval run</h2>
        <label>
          Eval run
          <select name="eval_run_id">
            {evals.map((r) => (
              <option key={r.id} value={r.id}>
                {evalLabel(r)}
              </option>
            ))}
          </select>
        </label>
        <JudgeFields models={models} />
        <button type="submit" disabled={running}>
          Run judge
        </button>
      </form>
      <form
        class="panel"
        aria-labelledby="judge-compare-title"
        onSubmit={(e) => {
          const f = form(e);
          void start("/api/tool-eval/judge/compare", {
            eval_run_id_a: String(f.get("eval_run_id_a")),
            eval_run_id_b: String(f.get("eval_run_id_b")),
            ...judgeOf(f),
          })();
        }}
      >
        <h2 id="judge-compare-title">Compare two runs</h2>
        <div class="grid">
          {(["a", "b"] as const).map((side) => (
            <label key={side}>
              Run {side.toUpperCase()}
              <select name={`eval_run_id_${side}`} defaultValue={evals[side === "a" ? 0 : 1]?.id}>
                {evals.map((r) => (
                  <option key={r.id} value={r.id}>
                    {evalLabel(r)}
                  </option>
                ))}
              </select>
            </label>
          ))}
        </div>
        <JudgeFields models={models} />
        <button type="submit" disabled={running}>
          Compare runs
        </button>
      </form>
      <FieldError errors={errors} name="judge_model" />
      <FieldError errors={errors} name="" />
      {Object.entries(errors)
        .filter(([k]) => k !== "" && k !== "judge_model")
        .map(([k, v]) => (
          <p key={k} class="field-error" role="alert">
            {k}: {v}
          </p>
        ))}
      {running && (
        <button
          type="button"
          class="danger"
          onClick={() => void benchJson("POST", "/api/tool-eval/judge/cancel").catch(() => undefined)}
        >
          Cancel judge
        </button>
      )}
      {live.length > 0 && (
        <ol aria-label="Judge progress">
          {live.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ol>
      )}
      <section class="panel" aria-labelledby="reports-title">
        <h2 id="reports-title">Judge reports</h2>
        {reports && reports.length === 0 && <p class="hint">No judge report yet.</p>}
        {reports && reports.length > 0 && (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>When</th>
                  <th>Mode</th>
                  <th>Judge</th>
                  <th>Grade</th>
                  <th>Score</th>
                  <th>Status</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {reports.map((r) => (
                  <tr key={r.id} data-report={r.id}>
                    <td>{when(r.timestamp)}</td>
                    <td>{r.mode}</td>
                    <td>{r.judge_model_name}</td>
                    <td>{r.overall_grade ?? "—"}</td>
                    <td>{r.overall_score ?? "—"}</td>
                    <td>{r.status}</td>
                    <td class="actions">
                      <button type="button" onClick={() => setOpen(r.id)}>
                        View report
                      </button>
                      <button type="button" class="danger" onClick={() => setDeleting(r)}>
                        Delete report
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {open && <ReportDetail key={open} id={open} />}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this judge report?"
        confirmLabel="Delete"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const report = deleting!;
          setDeleting(null);
          if (open === report.id) setOpen(null);
          await benchJson("DELETE", `/api/tool-eval/judge/reports/${report.id}`).catch((e) =>
            setError(messageOf(e)),
          );
          await load();
        }}
      >
        The verdicts and the judge's answers are deleted; the eval run stays.
      </ConfirmDialog>
    </div>
  );
}

function ReportDetail(props: { id: string }) {
  const [report, setReport] = useState<Json | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void benchJson<Json>("GET", `/api/tool-eval/judge/reports/${props.id}`)
      .then(setReport)
      .catch((e) => setError(messageOf(e)));
  }, [props.id]);
  if (!report) return <Notice error={error} />;
  const comparative = report.mode === "comparative";
  const audit = (v: Json) => (
    <details>
      <summary>Judge prompt and answer</summary>
      <pre class="mono" style={WRAP}>
        {v.judge_prompt}
      </pre>
      <pre class="mono" style={WRAP} aria-label="Judge answer">
        {v.judge_answer ?? v.judge_error ?? ""}
      </pre>
    </details>
  );
  return (
    <section class="panel" role="region" aria-label="Judge report">
      <h2>
        Report · {report.mode} · {report.judge_model_name}
      </h2>
      {report.custom_instructions && <p class="hint">Instructions: {report.custom_instructions}</p>}
      {comparative && report.report && (
        <p data-judge="winner">
          Winner:{" "}
          {report.report.overall_winner === "model_a"
            ? report.report.model_a
            : report.report.overall_winner === "model_b"
              ? report.report.model_b
              : "tie"}{" "}
          ({report.report.score_a} vs {report.report.score_b}) — {report.report.summary}
        </p>
      )}
      {!comparative &&
        Array.isArray(report.report) &&
        report.report.map((m: Json) => (
          <div key={m.model_id} data-model-report={m.model_name}>
            <h3>
              {m.model_name}:{" "}
              {m.parsed ? `${m.overall_grade ?? "?"} (${m.overall_score})` : "report not parsed"}
            </h3>
            <p class="hint">
              {m.verdicts_parsed} verdicts parsed, {m.verdicts_unparsed} unparsed; mean quality{" "}
              {m.mean_quality_score ?? "—"} / 5
            </p>
            {m.cross_case_analysis && <p>{m.cross_case_analysis}</p>}
          </div>
        ))}
      <div class="table-wrap">
        <table aria-label={comparative ? "Case comparisons" : "Verdicts"}>
          <thead>
            <tr>
              <th>Case</th>
              {!comparative && <th>Model</th>}
              <th>{comparative ? "Winner" : "Verdict"}</th>
              <th>{comparative ? "Reasoning" : "Summary"}</th>
            </tr>
          </thead>
          <tbody>
            {report.verdicts.map((v: Json, i: number) => (
              <tr key={i} data-parsed={String(v.parsed)}>
                <td class="mono">{String(v.test_case_id).slice(0, 8)}</td>
                {!comparative && <td>{v.model_name}</td>}
                <td>
                  {comparative ? (
                    v.parsed ? (
                      v.winner
                    ) : (
                      <span class="tag">unparsed</span>
                    )
                  ) : (
                    <VerdictBadge verdict={v} />
                  )}
                </td>
                <td>
                  {comparative ? v.reasoning : v.summary}
                  {audit(v)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
