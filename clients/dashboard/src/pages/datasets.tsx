import { useState } from "preact/hooks";
import { allNodes, ApiError, gql } from "../api.js";
import { type ItemRow, parseItemsFile } from "../items-file.js";
import { usePoll } from "../router.js";
import { ConfirmDialog, fmtDate, Notice, Progress } from "../ui.js";

interface DatasetProgress {
  ground_truth: number;
  unlabeled: number;
  labeled: number;
  revalidating: number;
  graduated: number;
  needs_review: number;
}
interface Dataset {
  id: string;
  name: string;
  modality: string;
  item_count: number;
  created_at: string;
  challenge_type: string;
  choices: string[];
  progress: DatasetProgress | null;
}

const FIELDS = `id name modality item_count created_at challenge_type choices
  progress { ground_truth unlabeled labeled revalidating graduated needs_review }`;
const CREATE = `mutation Create($input: CreateDatasetInput!) { createDataset(input: $input) { id name } }`;
const UPLOAD = `mutation Upload($input: UploadDatasetItemsInput!) { uploadDatasetItems(input: $input) { created } }`;
const DELETE = `mutation Delete($id: ID!) { deleteDataset(id: $id) { id } }`;
const BATCH = 1000;
const STATES: (keyof DatasetProgress)[] = [
  "unlabeled",
  "labeled",
  "revalidating",
  "graduated",
  "needs_review",
];
const STATE_LABELS: Record<keyof DatasetProgress, string> = {
  ground_truth: "ground truth",
  unlabeled: "unlabeled",
  labeled: "labeled",
  revalidating: "revalidating",
  graduated: "graduated",
  needs_review: "needs review",
};

function CreateForm(props: { onCreated: () => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [modality, setModality] = useState("text");
  const submit = async (event: Event) => {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const choices = String(form.get("choices") ?? "")
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
    const type = String(form.get("challenge_type") ?? "");
    try {
      const { createDataset } = await gql<{ createDataset: { name: string } }>(CREATE, {
        input: {
          name: String(form.get("name") ?? ""),
          modality,
          prompt: String(form.get("prompt") ?? "").trim() || null,
          challenge_type: type || null,
          choices: choices.length > 0 ? choices : null,
        },
      });
      setErrors({});
      setMessage(`Dataset “${createDataset.name}” created`);
      formEl.reset();
      props.onCreated();
    } catch (e) {
      setErrors(e instanceof ApiError ? e.fieldErrors() : {});
      setMessage(null);
      if (!(e instanceof ApiError) || Object.keys(e.fieldErrors()).length === 0)
        setErrors({ "": (e as Error).message });
    }
  };
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">New dataset</h2>
      <div class="grid">
        <label>
          Name
          <input name="name" required maxLength={200} aria-invalid={errors.name ? true : undefined} />
          {errors.name && <span class="field-error">{errors.name}</span>}
        </label>
        <label>
          Modality
          <select
            name="modality"
            value={modality}
            onChange={(e) => setModality((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="text">text</option>
            <option value="image">image</option>
            <option value="audio">audio</option>
          </select>
        </label>
        <label>
          Challenge type
          <select name="challenge_type">
            <option value="">same as modality</option>
            {modality === "image" && <option value="grid_select">grid_select</option>}
            {modality === "image" && <option value="select_all">select_all</option>}
          </select>
          {errors.challenge_type && <span class="field-error">{errors.challenge_type}</span>}
        </label>
        <label>
          Prompt
          <input name="prompt" maxLength={1000} placeholder="e.g. Is this a cat?" />
        </label>
        <label>
          Choices (comma separated)
          <input name="choices" placeholder="yes, no" />
          {errors.choices && <span class="field-error">{errors.choices}</span>}
        </label>
      </div>
      <button type="submit">Create dataset</button>
      <Notice error={errors[""] ?? null} ok={message} />
    </form>
  );
}

function Upload(props: { dataset: Dataset; onDone: () => void }) {
  const [progress, setProgress] = useState<{ sent: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const onFile = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setError(null);
    setDone(null);
    setProgress(null);
    let items: ItemRow[];
    try {
      items = parseItemsFile(file.name, await file.text());
    } catch (e) {
      setError(`${file.name}: ${(e as Error).message}`);
      return;
    }
    setProgress({ sent: 0, total: items.length });
    try {
      // Batches of 1,000 (each all or nothing), one after the other, so the bar moves as they commit.
      for (let start = 0; start < items.length; start += BATCH) {
        await gql(UPLOAD, { input: { id: props.dataset.id, items: items.slice(start, start + BATCH) } });
        setProgress({ sent: Math.min(start + BATCH, items.length), total: items.length });
      }
      setDone(`${items.length.toLocaleString()} items uploaded from ${file.name}`);
    } catch (e) {
      setError(`Upload stopped: ${(e as Error).message}`);
    } finally {
      input.value = "";
      props.onDone();
    }
  };
  return (
    <div class="upload">
      <label>
        Upload items (JSON, JSONL or CSV)
        <input type="file" accept=".json,.jsonl,.ndjson,.csv,application/json,text/csv" onChange={onFile} />
      </label>
      {progress && (
        <Progress value={progress.sent} max={progress.total} label={`Upload to ${props.dataset.name}`} />
      )}
      <Notice error={error} ok={done} />
    </div>
  );
}

function LabelingProgress(props: { progress: DatasetProgress | null }) {
  const p = props.progress;
  if (!p) return <span>—</span>;
  const total = STATES.reduce((sum, s) => sum + p[s], 0);
  return (
    <div class="states">
      <div class="stack" aria-hidden="true">
        {(["ground_truth", ...STATES] as const).map((s) => (
          <span key={s} class={`s-${s}`} style={{ flexGrow: p[s] }} />
        ))}
      </div>
      <dl>
        {(["ground_truth", ...STATES] as const).map((s) => (
          <div key={s} data-state={s}>
            <dt>{STATE_LABELS[s]}</dt>
            <dd>{p[s].toLocaleString()}</dd>
          </div>
        ))}
      </dl>
      <span class="sr-only">{total} items in the labeling life cycle</span>
    </div>
  );
}

export function DatasetsPage() {
  const [datasets, setDatasets] = useState<Dataset[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Dataset | null>(null);
  const load = () =>
    void allNodes<Dataset>("datasets", FIELDS)
      .then((d) => {
        setDatasets(d);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  usePoll(load, 5000);

  return (
    <>
      <CreateForm onCreated={load} />
      <Notice error={error} />
      {datasets?.length === 0 && <p>No datasets yet.</p>}
      <div class="datasets">
        {datasets?.map((d) => (
          <article class="panel dataset" key={d.id} data-dataset={d.name} aria-labelledby={`ds-${d.id}`}>
            <header>
              <h2 id={`ds-${d.id}`}>{d.name}</h2>
              <span class="tag">{d.modality}</span>
              {/* "image image" says nothing twice: the challenge type only when it differs. */}
              {d.challenge_type !== d.modality && <span class="tag">{d.challenge_type}</span>}
            </header>
            <p>
              <strong class="item-count">{d.item_count.toLocaleString()}</strong> items · created{" "}
              {fmtDate(d.created_at)}
              {d.choices.length > 0 && <> · choices: {d.choices.join(", ")}</>}
            </p>
            <LabelingProgress progress={d.progress} />
            <Upload dataset={d} onDone={load} />
            <div class="row">
              <span>Export labels:</span>
              {(["csv", "json", "jsonl"] as const).map((fmt) => (
                <a
                  key={fmt}
                  class="button"
                  href={`/dashboard/api/item-datasets/${d.id}/labeled/export?fmt=${fmt}`}
                  download
                >
                  {fmt.toUpperCase()}
                </a>
              ))}
              <button type="button" class="danger" onClick={() => setDeleting(d)}>
                Delete…
              </button>
            </div>
          </article>
        ))}
      </div>
      <ConfirmDialog
        open={deleting !== null}
        title="Delete dataset?"
        confirmLabel="Delete dataset"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const target = deleting!;
          setDeleting(null);
          try {
            await gql(DELETE, { id: target.id });
          } catch (e) {
            setError((e as Error).message);
          }
          load();
        }}
      >
        <p>“{deleting?.name}” and all its items, votes and labels will be deleted. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}
