// A run's persisted predictions (docs/lab.md, "Predictions"): pick one of the datasets the run can predict
// (filter_datasets), run a PredictJob with live progress, then show, download or delete the results. And the
// form that uploads a user's own ONNX model as a run of the session.
import { useEffect, useState } from "preact/hooks";
import { ConfirmDialog, Notice } from "../../ui.js";
import {
  type Cell,
  followJob,
  fmtTime,
  type LabDataset,
  type LabJob,
  type ModelSession,
  postForm,
  rest,
} from "./lab-api.js";

interface LabPrediction {
  id: number;
  run_id: number;
  dataset_id: number | null;
  split: string | null;
  manual_input: boolean;
  status: number;
  job_id: string | null;
  error: string | null;
  rows: number | null;
  results_path: string | null;
  created: string;
}

interface Results {
  columns: string[];
  rows: Cell[][];
  total: number;
}

const STATUS = ["not started", "queued", "predicting", "finished", "error"];
const SHOWN_ROWS = 20;

const fmtCell = (v: Cell) =>
  v === null ? "—" : typeof v === "number" && !Number.isInteger(v) ? v.toFixed(4) : String(v);

export function RunPredictions(props: { run: { id: number; name: string } }) {
  const runId = props.run.id;
  const [datasets, setDatasets] = useState<LabDataset[] | null>(null);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [predictions, setPredictions] = useState<LabPrediction[]>([]);
  const [job, setJob] = useState<LabJob | null>(null);
  const [shown, setShown] = useState<{ id: number; results: Results } | null>(null);
  const [deleting, setDeleting] = useState<LabPrediction | null>(null);
  const [error, setError] = useState<string | null>(null);

  const loadPredictions = () =>
    rest<LabPrediction[]>("GET", "/api/v1/predict/", undefined, { run_id: runId })
      .then(setPredictions)
      .catch((e: Error) => setError(e.message));

  useEffect(() => {
    setShown(null);
    setJob(null);
    void Promise.all([
      rest<LabDataset[]>("GET", "/api/v1/dataset/"),
      rest<{ valid_dataset_ids: number[] }>("GET", "/api/v1/predict/filter_datasets", undefined, {
        run_id: runId,
      }),
    ])
      .then(([all, filter]) => {
        const valid = all.filter((d) => filter.valid_dataset_ids.includes(d.id));
        setDatasets(valid);
        setDatasetId(valid[0]?.id ?? null);
      })
      .catch((e: Error) => setError(e.message));
    void loadPredictions();
  }, [runId]);

  const show = async (id: number) => {
    setError(null);
    try {
      const results = await rest<Results>("GET", `/api/v1/predict/results/${id}`, undefined, {
        limit: SHOWN_ROWS,
      });
      setShown({ id, results });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const run = async (event: Event) => {
    event.preventDefault();
    if (datasetId === null) return;
    setError(null);
    setShown(null);
    try {
      const prediction = await rest<LabPrediction>("POST", "/api/v1/predict/", {
        run_id: runId,
        dataset_id: datasetId,
      });
      const form = new FormData();
      form.append("job_type", "PredictJob");
      form.append("kwargs", JSON.stringify({ prediction_id: prediction.id }));
      const { id } = await postForm<{ id: string }>("/api/v1/job/", form, () => undefined);
      void loadPredictions();
      const done = await followJob(id, setJob);
      await loadPredictions();
      if (done.status === "finished") await show(prediction.id);
      else setError(`The prediction ended ${done.status}: ${done.error_msg ?? ""}`);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const datasetName = (id: number | null) =>
    id === null ? "—" : (datasets?.find((d) => d.id === id)?.name ?? `dataset ${id}`);
  const busy = job !== null && (job.status === "not_started" || job.status === "started");

  return (
    <div class="lab-run-predictions" aria-label={`Predictions of ${props.run.name}`} role="region">
      <form onSubmit={run} class="inline-form">
        <label>
          Dataset to predict
          <select
            value={datasetId ?? ""}
            disabled={!datasets || datasets.length === 0}
            onChange={(e) => setDatasetId(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {datasets?.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({d.total_rows ?? "?"} rows)
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={datasetId === null || busy}>
          Run prediction
        </button>
      </form>
      {datasets?.length === 0 && <p class="hint">No dataset has this run's input columns.</p>}
      {job && (
        <div class="progress" data-prediction-job={job.status}>
          <progress value={job.progress} max={100} aria-label="Prediction progress" />
          <span>{Math.round(job.progress)}%</span>
          {job.progress_message && <small>{job.progress_message}</small>}
        </div>
      )}
      <Notice error={error} />
      {predictions.length > 0 && (
        <div class="table-wrap">
          <table class="lab-prediction-list">
            <caption class="sr-only">Predictions of {props.run.name}</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Input</th>
                <th scope="col">Status</th>
                <th scope="col">Rows</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {predictions.map((p) => (
                <tr key={p.id} data-prediction={p.id} data-status={STATUS[p.status]}>
                  <td>{p.id}</td>
                  <td>
                    {p.split
                      ? `${p.split} split`
                      : p.manual_input
                        ? "rows typed in"
                        : datasetName(p.dataset_id)}
                  </td>
                  <td>
                    {STATUS[p.status] ?? p.status}
                    {p.error && <span class="field-error"> {p.error}</span>}
                  </td>
                  <td>{p.rows ?? "—"}</td>
                  <td>{fmtTime(p.created)}</td>
                  <td class="actions">
                    {p.status === 3 && (
                      <>
                        <button type="button" onClick={() => void show(p.id)}>
                          Show
                        </button>
                        <a class="button" href={p.results_path!} download>
                          Download CSV
                        </a>
                      </>
                    )}
                    <button
                      type="button"
                      class="danger"
                      onClick={() => setDeleting(p)}
                      aria-label={`Delete prediction ${p.id}`}
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
      {shown && (
        <div class="table-wrap">
          <table class="lab-predictions" data-results-of={shown.id}>
            <caption>
              Prediction {shown.id}: {Math.min(SHOWN_ROWS, shown.results.total)} of {shown.results.total} rows
            </caption>
            <thead>
              <tr>
                {shown.results.columns.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.results.rows.map((row, r) => (
                <tr key={r}>
                  {row.map((v, i) => (
                    <td key={i}>{fmtCell(v)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete prediction?"
        confirmLabel="Delete prediction"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const target = deleting!;
          setDeleting(null);
          try {
            await rest("DELETE", `/api/v1/predict/${target.id}`);
            if (shown?.id === target.id) setShown(null);
          } catch (e) {
            setError((e as Error).message);
          }
          void loadPredictions();
        }}
      >
        <p>Prediction {deleting?.id} and its results will be deleted.</p>
      </ConfirmDialog>
    </div>
  );
}

/** Uploads a user's own .onnx file as a run of the session (validated by the server with onnxruntime). */
export function UploadOnnx(props: {
  session: ModelSession;
  onUploaded: (run: { id: number; name: string }) => void;
}) {
  const [name, setName] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setError(null);
    setSending(true);
    const form = new FormData();
    form.append("model_session_id", String(props.session.id));
    form.append("name", name || file.name.replace(/\.onnx$/i, ""));
    form.append("file", file, file.name);
    try {
      const run = await postForm<{ id: number; name: string }>("/api/v1/run/onnx", form, () => undefined);
      setName("");
      setFile(null);
      (event.target as HTMLFormElement).reset();
      props.onUploaded(run);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSending(false);
    }
  };
  return (
    <details class="panel">
      <summary>Upload ONNX model</summary>
      <form onSubmit={submit} aria-label="Upload ONNX model" class="inline-form">
        <p class="hint">
          Its inputs must be named after the session's input columns ({props.session.input_columns.join(", ")}
          ), or be one numeric [N, {props.session.input_columns.length}] tensor.
        </p>
        <label>
          Run name
          <input
            value={name}
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
            maxLength={255}
          />
        </label>
        <label>
          ONNX file
          <input
            type="file"
            accept=".onnx"
            required
            onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
          />
        </label>
        <button type="submit" disabled={!file || sending}>
          Upload
        </button>
        <Notice error={error} />
      </form>
    </details>
  );
}
