// Lab datasets: upload (two requests, as DashAI's frontend does: create the dataset, then post the file as a
// DatasetJob), import a guard dataset's labels, list, rename, export, delete.
import { useEffect, useState } from "preact/hooks";
import { allNodes } from "../../api.js";
import { usePoll } from "../../router.js";
import { ConfirmDialog, Notice } from "../../ui.js";
import {
  DATASET_STATUS,
  followJob,
  fmtBytes,
  fmtTime,
  type LabDataset,
  type LabJob,
  postForm,
  rest,
} from "./lab-api.js";
import { LabLink } from "./nav.js";

/** What the upload shows while it runs: bytes sent, then the load job's own progress. */
type UploadState =
  { phase: "sending"; sent: number; total: number } | { phase: "loading"; job: LabJob | null } | null;

function UploadForm(props: { onChange: () => void }) {
  const [state, setState] = useState<UploadState>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [fileName, setFileName] = useState("");
  const busy = state !== null;

  const submit = async (event: Event) => {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const data = new FormData(formEl);
    const file = data.get("file");
    if (!(file instanceof File) || file.size === 0) {
      setError("Choose a non-empty file");
      return;
    }
    const name = String(data.get("name") ?? "").trim() || file.name.replace(/\.[^.]+$/, "");
    const separator = String(data.get("separator") ?? "");
    setError(null);
    setDone(null);
    setState({ phase: "sending", sent: 0, total: file.size });
    let created: LabDataset | null = null;
    try {
      // 1. The dataset's row (NOT_STARTED).
      created = await rest<LabDataset>("POST", "/api/v1/dataset/", { name });
      props.onChange();
      // 2. The file, as a DatasetJob form; the server checks it before queueing the load.
      const form = new FormData();
      form.append("job_type", "DatasetJob");
      form.append(
        "kwargs",
        JSON.stringify({
          dataset_id: created.id,
          params: { name, ...(separator && { separator: separator === "tab" ? "\t" : separator }) },
        }),
      );
      form.append("file", file, file.name);
      const job = await postForm<{ id: string }>("/api/v1/job/", form, (sent, total) =>
        setState({ phase: "sending", sent, total }),
      );
      setState({ phase: "loading", job: null });
      props.onChange();
      // 3. The load job: its progress, then the dataset's final state.
      const last = await followJob(job.id, (j) => setState({ phase: "loading", job: j }));
      const ds = await rest<LabDataset>("GET", `/api/v1/dataset/${created.id}`);
      if (last.status === "finished" && ds.status === 3) {
        setDone(`“${ds.name}” loaded: ${ds.total_rows?.toLocaleString()} rows, ${ds.total_columns} columns`);
        formEl.reset();
        setFileName("");
      } else setError(`Loading “${name}” failed: ${ds.error ?? last.error_msg ?? last.status}`);
    } catch (e) {
      const message = (e as Error).message;
      // A refused file leaves the new dataset empty (NOT_STARTED): remove it so the name can be reused.
      if (created) await rest("DELETE", `/api/v1/dataset/${created.id}`).catch(() => undefined);
      setError(created ? `Upload refused: ${message}` : message);
    } finally {
      setState(null);
      props.onChange();
    }
  };

  return (
    <form class="panel" onSubmit={submit} aria-labelledby="lab-upload-title">
      <h2 id="lab-upload-title">Upload a dataset</h2>
      <div class="grid">
        <label>
          File (CSV, JSON, JSONL or Parquet)
          <input
            name="file"
            type="file"
            required
            accept=".csv,.tsv,.txt,.json,.jsonl,.ndjson,.parquet,text/csv,application/json"
            onChange={(e) => {
              const f = (e.currentTarget as HTMLInputElement).files?.[0];
              setFileName(f ? f.name.replace(/\.[^.]+$/, "") : "");
            }}
          />
        </label>
        <label>
          Name
          <input name="name" maxLength={255} placeholder={fileName || "the file's name"} />
        </label>
        <label>
          CSV separator
          <select name="separator">
            <option value="">detect</option>
            <option value=",">comma</option>
            <option value=";">semicolon</option>
            <option value="tab">tab</option>
          </select>
        </label>
      </div>
      <button type="submit" disabled={busy}>
        {busy ? "Uploading…" : "Upload"}
      </button>
      {state?.phase === "sending" && (
        <div class="progress">
          <progress value={state.sent} max={state.total || 1} aria-label="File sent" />
          <span>
            sending {fmtBytes(state.sent)} / {fmtBytes(state.total)}
          </span>
        </div>
      )}
      {state?.phase === "loading" && (
        <div class="progress">
          <progress value={state.job?.progress ?? 0} max={100} aria-label="Dataset load" />
          <span>
            loading {Math.round(state.job?.progress ?? 0)}%
            {state.job?.progress_message ? ` · ${state.job.progress_message}` : ""}
          </span>
        </div>
      )}
      <Notice error={error} ok={done} />
    </form>
  );
}

function ImportGuard(props: { onChange: () => void }) {
  const [guard, setGuard] = useState<{ id: string; name: string }[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void allNodes<{ id: string; name: string }>("datasets", "id name")
      .then(setGuard)
      .catch((e: Error) => setError(e.message));
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const name = String(data.get("name") ?? "").trim();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const ds = await rest<LabDataset>("POST", "/api/v1/dataset/import/guard", {
        guard_dataset_id: String(data.get("guard") ?? ""),
        ...(name && { name }),
      });
      props.onChange();
      const job = ds.job_id ? await followJob(ds.job_id, () => undefined) : null;
      const loaded = await rest<LabDataset>("GET", `/api/v1/dataset/${ds.id}`);
      if (loaded.status === 3) setDone(`“${loaded.name}”: ${loaded.total_rows?.toLocaleString()} labels`);
      else setError(`Import failed: ${loaded.error ?? job?.error_msg ?? "unknown reason"}`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
      props.onChange();
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="lab-import-title">
      <h2 id="lab-import-title">Import a guard dataset’s labels</h2>
      <div class="grid">
        <label>
          Guard dataset
          <select name="guard" required disabled={!guard?.length}>
            {guard?.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input name="name" maxLength={255} placeholder="<guard dataset>-labels" />
        </label>
      </div>
      <button type="submit" disabled={busy || !guard?.length}>
        {busy ? "Importing…" : "Import labels"}
      </button>
      {guard?.length === 0 && <p class="hint">No guard datasets yet.</p>}
      <Notice error={error} ok={done} />
    </form>
  );
}

function RenameDialog(props: { dataset: LabDataset | null; onDone: (message: string | null) => void }) {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setError(null), [props.dataset]);
  if (!props.dataset) return null;
  const submit = async (event: Event) => {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget as HTMLFormElement).get("name") ?? "");
    try {
      await rest("PATCH", `/api/v1/dataset/${props.dataset!.id}`, { name });
      props.onDone(`Renamed to “${name.trim()}”`);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <form class="panel inline-form" onSubmit={submit} aria-label={`Rename ${props.dataset.name}`}>
      <label>
        New name for “{props.dataset.name}”
        <input name="name" required maxLength={255} defaultValue={props.dataset.name} autofocus />
      </label>
      <button type="submit">Rename</button>
      <button type="button" onClick={() => props.onDone(null)}>
        Cancel
      </button>
      <Notice error={error} />
    </form>
  );
}

export function LabDatasetsPage() {
  const [datasets, setDatasets] = useState<LabDataset[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<LabDataset | null>(null);
  const [renaming, setRenaming] = useState<LabDataset | null>(null);
  const load = () =>
    void rest<LabDataset[]>("GET", "/api/v1/dataset/")
      .then((d) => {
        setDatasets(d.sort((a, b) => b.id - a.id));
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  const loading = datasets?.some((d) => d.status === 1 || d.status === 2) ?? false;
  usePoll(load, loading ? 1000 : 5000, [loading]);

  return (
    <>
      <div class="lab-forms">
        <UploadForm onChange={load} />
        <ImportGuard onChange={load} />
      </div>
      <Notice error={error} ok={message} />
      <RenameDialog
        dataset={renaming}
        onDone={(m) => {
          setRenaming(null);
          if (m) setMessage(m);
          load();
        }}
      />
      {datasets?.length === 0 && <p>No lab datasets yet.</p>}
      {datasets && datasets.length > 0 && (
        <div class="table-wrap">
          <table class="lab-datasets">
            <caption class="sr-only">Lab datasets</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Rows</th>
                <th scope="col">Columns</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => (
                <tr key={d.id} data-lab-dataset={d.name}>
                  <td>{d.status === 3 ? <LabLink to={`lab/datasets/${d.id}`}>{d.name}</LabLink> : d.name}</td>
                  <td data-status={DATASET_STATUS[d.status]}>
                    {DATASET_STATUS[d.status] ?? d.status}
                    {d.error && <span class="field-error"> {d.error}</span>}
                  </td>
                  <td>{d.total_rows?.toLocaleString() ?? "—"}</td>
                  <td>{d.total_columns ?? "—"}</td>
                  <td>{fmtTime(d.created)}</td>
                  <td class="actions">
                    {d.status === 3 && (
                      <a class="button" href={`/api/v1/dataset/${d.id}/export/csv`} download>
                        CSV
                      </a>
                    )}
                    <button type="button" onClick={() => setRenaming(d)} aria-label={`Rename ${d.name}`}>
                      Rename…
                    </button>
                    <button
                      type="button"
                      class="danger"
                      onClick={() => setDeleting(d)}
                      aria-label={`Delete ${d.name}`}
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
        title="Delete lab dataset?"
        confirmLabel="Delete dataset"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const target = deleting!;
          setDeleting(null);
          try {
            await rest("DELETE", `/api/v1/dataset/${target.id}`);
            setMessage(`“${target.name}” deleted`);
          } catch (e) {
            setError((e as Error).message);
          }
          load();
        }}
      >
        <p>“{deleting?.name}”, its files and its model sessions will be deleted. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}
