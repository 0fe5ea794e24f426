// Lab generative sessions (docs/lab.md, "Generative sessions and processes"): /dashboard/lab/generative lists
// and creates text-to-text and text-to-image sessions (an OpenAI-compatible endpoint: base URL, model, key; or
// a bench user's provider model); /dashboard/lab/generative/<id> is the chat. A prompt becomes a process
// (`POST /api/v1/generative-process/` with `run=true`, which queues its GenerativeJob), and its answer is read
// from the process's event stream (`GET …/{id}/stream`, one EventSource) while the model produces it. The
// session's parameters are edited with PATCH; each change is a snapshot of the parameter history shown below.
import { useEffect, useRef, useState } from "preact/hooks";
import { navigate } from "../../router.js";
import { ConfirmDialog, Notice } from "../../ui.js";
import { type Component, components, fmtTime, rest } from "./lab-api.js";
import { LabLink } from "./nav.js";

export interface GenerativeSession {
  id: number;
  name: string;
  description: string | null;
  task_name: string;
  model_name: string;
  parameters: Record<string, unknown>;
  api_key_set: boolean;
  created: string;
  last_modified: string;
}

interface ProcessData {
  id: number;
  process_id: number;
  is_input: boolean;
  data_type: "str" | "Image";
  data: string;
}

interface GenerativeProcess {
  id: number;
  session_id: number;
  status: number;
  error: string | null;
  job_id: string | null;
  parameters: Record<string, unknown>;
  created: string;
  start_time: string | null;
  end_time: string | null;
  input: ProcessData[];
  output: ProcessData[];
}

interface ParameterSnapshot {
  id: number;
  session_id: number;
  model_name: string;
  parameters: Record<string, unknown>;
  modified_at: string;
}

interface PropSchema {
  type?: string;
  enum?: unknown[];
  default?: unknown;
  title?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
}

const STATUS = ["not started", "queued", "generating", "finished", "error"];
const FINISHED = 3;
const ERROR = 4;
const ENDPOINT = ["base_url", "model", "api_key", "bench_user", "bench_model"];
const TEXT_TASK = "TextToTextGenerationTask";

const isDone = (p: GenerativeProcess) => p.status === FINISHED || p.status === ERROR;
const imageUrl = (name: string) => `/api/v1/generative-process/image/${encodeURIComponent(name)}`;
const show = (v: unknown) =>
  v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);

/** Where a session's answers come from, in a few words. */
export const endpointOf = (s: GenerativeSession) =>
  s.parameters.bench_user
    ? `${show(s.parameters.bench_model)} (bench: ${show(s.parameters.bench_user)})`
    : `${show(s.parameters.model)} at ${show(s.parameters.base_url)}`;

function CreateSession(props: { onCreated: (session: GenerativeSession) => void }) {
  const [tasks, setTasks] = useState<Component[]>([]);
  const [task, setTask] = useState(TEXT_TASK);
  const [source, setSource] = useState<"endpoint" | "bench">("endpoint");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void components(["GenerativeTask"])
      .then(setTasks)
      .catch((e: Error) => setError(e.message));
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (k: string) => String(form.get(k) ?? "").trim();
    setError(null);
    try {
      const model = (await components(["Model"], task))[0];
      if (!model) throw new Error(`No model for ${task}`);
      const parameters: Record<string, unknown> =
        source === "bench"
          ? { bench_user: text("bench_user"), bench_model: text("bench_model") }
          : {
              base_url: text("base_url"),
              model: text("model"),
              ...(text("api_key") && { api_key: text("api_key") }),
            };
      const session = await rest<GenerativeSession>("POST", "/api/v1/generative-session/", {
        name: text("name"),
        task_name: task,
        model_name: model.name,
        parameters,
      });
      props.onCreated(session);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <form class="panel" onSubmit={submit} aria-labelledby="lab-generative-new">
      <h2 id="lab-generative-new">New generative session</h2>
      <div class="grid">
        <label>
          Name
          <input name="name" required maxLength={255} />
        </label>
        <label>
          Task
          <select value={task} onChange={(e) => setTask((e.currentTarget as HTMLSelectElement).value)}>
            {(tasks.length ? tasks : [{ name: TEXT_TASK, display_name: "Text to Text" } as Component]).map(
              (t) => (
                <option key={t.name} value={t.name} title={t.description}>
                  {t.display_name || t.name}
                </option>
              ),
            )}
          </select>
        </label>
      </div>
      <fieldset class="lab-checks">
        <legend>Answers come from</legend>
        <label class="check">
          <input
            type="radio"
            name="source"
            checked={source === "endpoint"}
            onChange={() => setSource("endpoint")}
          />
          an OpenAI-compatible endpoint
        </label>
        <label class="check">
          <input
            type="radio"
            name="source"
            checked={source === "bench"}
            onChange={() => setSource("bench")}
          />
          a bench provider model
        </label>
      </fieldset>
      {/* Keyed: Preact would otherwise reuse the endpoint's inputs and their attributes (maxLength). */}
      {source === "endpoint" ? (
        <div class="grid" key="endpoint">
          <label>
            Base URL
            <input name="base_url" type="url" required placeholder="https://api.openai.com/v1" />
          </label>
          <label>
            Model
            <input name="model" required maxLength={200} />
          </label>
          <label>
            API key <small class="hint">(optional; stored encrypted, never shown again)</small>
            <input name="api_key" type="password" autoComplete="off" />
          </label>
        </div>
      ) : (
        <div class="grid" key="bench">
          <label>
            Bench user (email)
            <input name="bench_user" type="email" required maxLength={320} />
          </label>
          <label>
            Bench model <small class="hint">(provider/model, as in the user's bench configuration)</small>
            <input name="bench_model" required maxLength={300} placeholder="local/gpt-4o-mini" />
          </label>
        </div>
      )}
      <button type="submit">Create session</button>
      <Notice error={error} />
    </form>
  );
}

export function LabGenerativePage() {
  const [sessions, setSessions] = useState<GenerativeSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<GenerativeSession | null>(null);
  const load = () =>
    void rest<GenerativeSession[]>("GET", "/api/v1/generative-session/")
      .then((s) => {
        setSessions(s.sort((a, b) => b.id - a.id));
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  useEffect(load, []);

  return (
    <>
      <CreateSession onCreated={(s) => navigate(`lab/generative/${s.id}`)} />
      <Notice error={error} />
      {sessions?.length === 0 && <p>No generative sessions yet.</p>}
      {sessions && sessions.length > 0 && (
        <div class="table-wrap">
          <table class="lab-generative">
            <caption class="sr-only">Generative sessions</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Task</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id} data-lab-generative={s.name}>
                  <th scope="row">
                    <LabLink to={`lab/generative/${s.id}`}>{s.name}</LabLink>
                  </th>
                  <td>{s.task_name === TEXT_TASK ? "text to text" : "text to image"}</td>
                  <td class="wrap">{endpointOf(s)}</td>
                  <td>{s.api_key_set ? "stored" : "—"}</td>
                  <td>{fmtTime(s.created)}</td>
                  <td class="actions">
                    <button
                      type="button"
                      class="danger"
                      onClick={() => setDeleting(s)}
                      aria-label={`Delete ${s.name}`}
                    >
                      Delete…
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete generative session?"
        confirmLabel="Delete session"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const target = deleting!;
          setDeleting(null);
          try {
            await rest("DELETE", `/api/v1/generative-session/${target.id}`);
          } catch (e) {
            setError((e as Error).message);
          }
          load();
        }}
      >
        <p>“{deleting?.name}”, its processes and their images will be deleted.</p>
      </ConfirmDialog>
    </>
  );
}

/** One exchange: the prompt, then the answer (streamed text while it is produced, or the images). */
function Exchange(props: { process: GenerativeProcess; streamed: string | undefined; onStop: () => void }) {
  const p = props.process;
  const prompt = p.input.map((d) => d.data).join("\n");
  const text = p.output.find((d) => d.data_type === "str")?.data ?? "";
  const images = p.output.filter((d) => d.data_type === "Image");
  const shown = props.streamed !== undefined && props.streamed.length >= text.length ? props.streamed : text;
  const streaming = !isDone(p);
  return (
    <li class="lab-exchange" data-process={p.id} data-status={STATUS[p.status]}>
      <div class="lab-bubble user">
        <span class="sr-only">You: </span>
        {prompt}
      </div>
      <div class="lab-bubble answer" aria-busy={streaming}>
        <small class="lab-answer-status">
          {STATUS[p.status] ?? p.status}
          {p.end_time && p.start_time && (
            <> · {((Date.parse(p.end_time) - Date.parse(p.start_time)) / 1000).toFixed(1)} s</>
          )}
          {streaming && p.job_id && (
            <button type="button" class="link" onClick={props.onStop}>
              Stop
            </button>
          )}
        </small>
        {shown && <div class="lab-answer-text">{shown}</div>}
        {images.length > 0 && (
          <div class="lab-images">
            {images.map((d, i) => (
              <a key={d.id} href={imageUrl(d.data)} target="_blank" rel="noopener">
                <img src={imageUrl(d.data)} alt={`Image ${i + 1} for “${prompt}”`} />
              </a>
            ))}
          </div>
        )}
        {p.status === ERROR && <p class="field-error">{p.error}</p>}
      </div>
    </li>
  );
}

/** The differences between two parameter snapshots, as "name: old → new". */
function changes(before: Record<string, unknown> | undefined, after: Record<string, unknown>): string {
  if (!before) return "created";
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = keys.filter((k) => show(before[k]) !== show(after[k]));
  return changed.length
    ? changed.map((k) => `${k}: ${show(before[k]) || "—"} → ${show(after[k]) || "—"}`).join("; ")
    : "no change";
}

function Parameters(props: { session: GenerativeSession; onSaved: (s: GenerativeSession) => void }) {
  const { session } = props;
  const [schema, setSchema] = useState<Record<string, PropSchema>>({});
  const [history, setHistory] = useState<ParameterSnapshot[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const loadHistory = () =>
    void rest<ParameterSnapshot[]>("GET", `/api/v1/generative-session/${session.id}/parameters-history`)
      .then(setHistory)
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    void rest<Component>("GET", `/api/v1/component/${encodeURIComponent(session.model_name)}/`)
      .then((c) => setSchema((c.schema as { properties?: Record<string, PropSchema> }).properties ?? {}))
      .catch((e: Error) => setError(e.message));
    loadHistory();
  }, [session.id]);

  const bench = Boolean(session.parameters.bench_user);
  const fields = Object.entries(schema).filter(
    ([name]) => !ENDPOINT.includes(name) || (bench ? name.startsWith("bench_") : !name.startsWith("bench_")),
  );

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const changed: Record<string, unknown> = {};
    for (const [name, s] of fields) {
      const raw = String(form.get(name) ?? "");
      if (name === "api_key") {
        if (raw) changed.api_key = raw;
        continue;
      }
      const value = s.type === "integer" || s.type === "number" ? Number(raw) : raw;
      if (show(value) !== show(session.parameters[name] ?? s.default)) changed[name] = value;
    }
    setError(null);
    setMessage(null);
    if (Object.keys(changed).length === 0) return setMessage("Nothing changed.");
    try {
      const saved = await rest<GenerativeSession>("PATCH", `/api/v1/generative-session/${session.id}`, {
        parameters: changed,
      });
      setMessage(`Saved: ${Object.keys(changed).join(", ")}`);
      props.onSaved(saved);
      (event.currentTarget as HTMLFormElement | null)?.reset();
      loadHistory();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <details class="panel lab-gen-params">
      <summary>Parameters and their history</summary>
      <form onSubmit={submit} aria-label="Session parameters" key={session.last_modified}>
        <div class="grid">
          {fields.map(([name, s]) => {
            const value = show(session.parameters[name] ?? s.default);
            const label = s.title ?? name;
            if (name === "api_key")
              return (
                <label key={name} title={s.description}>
                  {label}{" "}
                  <small class="hint">({session.api_key_set ? "stored; empty keeps it" : "none"})</small>
                  <input name={name} type="password" autoComplete="off" />
                </label>
              );
            if (s.enum)
              return (
                <label key={name} title={s.description}>
                  {label}
                  <select name={name} defaultValue={value}>
                    {s.enum.map((o) => (
                      <option key={String(o)} value={String(o)}>
                        {String(o)}
                      </option>
                    ))}
                  </select>
                </label>
              );
            if (s.type === "integer" || s.type === "number")
              return (
                <label key={name} title={s.description}>
                  {label}
                  <input
                    name={name}
                    type="number"
                    defaultValue={value}
                    min={s.minimum}
                    max={s.maximum}
                    step={s.type === "integer" ? 1 : "any"}
                    required
                  />
                </label>
              );
            if (name === "system_prompt")
              return (
                <label key={name} title={s.description}>
                  {label}
                  <textarea name={name} rows={2} defaultValue={value} />
                </label>
              );
            return (
              <label key={name} title={s.description}>
                {label}
                <input name={name} defaultValue={value} />
              </label>
            );
          })}
        </div>
        <button type="submit">Save parameters</button>
        <Notice error={error} ok={message} />
      </form>
      <div class="table-wrap">
        <table class="lab-param-history">
          <caption>Parameter history</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {history.map((h, i) => (
              <tr key={h.id} data-snapshot={h.id}>
                <td>{fmtTime(h.modified_at)}</td>
                <td class="wrap">{changes(history[i - 1]?.parameters, h.parameters)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

export function LabGenerativeSessionPage(props: { id: number }) {
  const [session, setSession] = useState<GenerativeSession | null>(null);
  const [processes, setProcesses] = useState<GenerativeProcess[]>([]);
  const [streamed, setStreamed] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const streams = useRef(new Map<number, EventSource>());
  const end = useRef<HTMLDivElement>(null);

  const replace = (p: GenerativeProcess) =>
    setProcesses((all) =>
      all.some((x) => x.id === p.id) ? all.map((x) => (x.id === p.id ? p : x)) : [...all, p],
    );

  const refresh = (id: number) =>
    void rest<GenerativeProcess>("GET", `/api/v1/generative-process/${id}`)
      .then(replace)
      .catch((e: Error) => setError(e.message));

  /** Follows a running process on its event stream: the text as it is produced, then the final state. */
  const follow = (p: GenerativeProcess) => {
    if (streams.current.has(p.id)) return;
    const source = new EventSource(`/api/v1/generative-process/${p.id}/stream`);
    streams.current.set(p.id, source);
    const close = () => {
      source.close();
      streams.current.delete(p.id);
      refresh(p.id);
    };
    source.addEventListener("status", (e) => {
      const { status } = JSON.parse((e as MessageEvent<string>).data) as { status: number };
      setProcesses((all) => all.map((x) => (x.id === p.id ? { ...x, status } : x)));
    });
    source.addEventListener("text", (e) => {
      const { delta } = JSON.parse((e as MessageEvent<string>).data) as { delta: string };
      setStreamed((all) => ({ ...all, [p.id]: (all[p.id] ?? "") + delta }));
    });
    source.addEventListener("done", close);
    source.onerror = close;
  };

  useEffect(() => {
    setSession(null);
    setProcesses([]);
    setStreamed({});
    void Promise.all([
      rest<GenerativeSession>("GET", `/api/v1/generative-session/${props.id}`),
      rest<GenerativeProcess[]>("GET", `/api/v1/generative-process/session/${props.id}`),
    ])
      .then(([s, p]) => {
        setSession(s);
        setProcesses(p);
        for (const running of p.filter((x) => !isDone(x))) follow(running);
      })
      .catch((e: Error) => setError(e.message));
    const open = streams.current;
    return () => {
      for (const source of open.values()) source.close();
      open.clear();
    };
  }, [props.id]);

  useEffect(() => end.current?.scrollIntoView?.({ block: "nearest" }), [processes.length]);

  const send = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const prompt = String(new FormData(form).get("prompt") ?? "");
    if (!prompt.trim()) return;
    setError(null);
    setSending(true);
    try {
      const created = await rest<GenerativeProcess>("POST", "/api/v1/generative-process/", {
        session_id: String(props.id),
        text_0: prompt,
        run: "true",
      });
      replace(created);
      follow(created);
      form.reset();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSending(false);
    }
  };

  const stop = async (p: GenerativeProcess) => {
    try {
      await rest("DELETE", `/api/v1/job/${encodeURIComponent(p.job_id!)}`);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  if (!session)
    return (
      <>
        <p>
          <LabLink to="lab/generative">← Generative sessions</LabLink>
        </p>
        <Notice error={error} />
      </>
    );
  const image = session.task_name !== TEXT_TASK;
  return (
    <>
      <p>
        <LabLink to="lab/generative">← Generative sessions</LabLink>
      </p>
      <h2 class="lab-title">{session.name}</h2>
      <p class="hint">
        {image ? "Text to image" : "Text to text"} · {endpointOf(session)}
      </p>
      <Parameters session={session} onSaved={setSession} />
      <section aria-label="Chat" class="lab-chat">
        {processes.length === 0 && <p class="hint">No prompts yet.</p>}
        <ol class="lab-exchanges">
          {processes.map((p) => (
            <Exchange key={p.id} process={p} streamed={streamed[p.id]} onStop={() => void stop(p)} />
          ))}
        </ol>
        <div ref={end} />
        <form class="lab-prompt" onSubmit={send}>
          <label>
            Prompt
            <textarea
              name="prompt"
              rows={3}
              required
              placeholder={image ? "Describe the image" : "Ask something"}
              onKeyDown={(e) => {
                if (e.key === "Enter" && (e.ctrlKey || e.metaKey))
                  (e.currentTarget.form as HTMLFormElement).requestSubmit();
              }}
            />
          </label>
          <button type="submit" disabled={sending}>
            {image ? "Generate" : "Send"}
          </button>
        </form>
        <Notice error={error} />
      </section>
    </>
  );
}
