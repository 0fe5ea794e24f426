// Lab model sessions: create one (dataset, task and metrics from GET /api/v1/component/, input and output
// columns from the dataset's info, split ratios and seed), list, delete.
import { useEffect, useState } from "preact/hooks";
import { ConfirmDialog, Notice } from "../../ui.js";
import {
  type Component,
  components,
  type DatasetInfo,
  fmtTime,
  type LabDataset,
  type ModelSession,
  rest,
} from "./lab-api.js";

const SPLITS = ["train", "validation", "test"] as const;
type Split = (typeof SPLITS)[number];

function CreateSession(props: { datasets: LabDataset[]; onCreated: () => void }) {
  const finished = props.datasets.filter((d) => d.status === 3);
  const [datasetId, setDatasetId] = useState<number | null>(null);
  const [info, setInfo] = useState<DatasetInfo | null>(null);
  const [tasks, setTasks] = useState<Component[]>([]);
  const [task, setTask] = useState("");
  const [metrics, setMetrics] = useState<Component[]>([]);
  const [output, setOutput] = useState("");
  const [inputs, setInputs] = useState<Set<string>>(new Set());
  const [chosen, setChosen] = useState<Record<Split, Set<string>>>({
    train: new Set(),
    validation: new Set(),
    test: new Set(),
  });
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  useEffect(() => {
    void components(["Task"])
      .then((t) => {
        setTasks(t);
        setTask((cur) => cur || (t[0]?.name ?? ""));
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  useEffect(() => {
    if (datasetId === null && finished[0]) setDatasetId(finished[0].id);
  }, [finished.length]);
  useEffect(() => {
    if (datasetId === null) return;
    void rest<DatasetInfo>("GET", `/api/v1/dataset/${datasetId}/info`)
      .then((i) => {
        setInfo(i);
        const last = i.columns[i.columns.length - 1]?.name ?? "";
        setOutput(last);
        setInputs(new Set(i.columns.map((c) => c.name).filter((c) => c !== last)));
      })
      .catch((e: Error) => setError(e.message));
  }, [datasetId]);
  useEffect(() => {
    if (!task) return;
    void components(["Metric"], task)
      .then((m) => {
        setMetrics(m);
        const all = new Set(m.map((x) => x.name));
        setChosen({ train: new Set(all), validation: new Set(all), test: new Set(all) });
      })
      .catch((e: Error) => setError(e.message));
  }, [task]);

  const toggle = (set: Set<string>, value: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(value);
    else next.delete(value);
    return next;
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setError(null);
    setMessage(null);
    const ratio = (k: string) => Number(form.get(k)) / 100;
    try {
      const session = await rest<ModelSession>("POST", "/api/v1/model-session/", {
        name: String(form.get("name") ?? ""),
        dataset_id: datasetId,
        task_name: task,
        input_columns: [...inputs].filter((c) => c !== output),
        output_columns: [output],
        train_metrics: [...chosen.train],
        validation_metrics: [...chosen.validation],
        test_metrics: [...chosen.test],
        splits: {
          train: ratio("train"),
          validation: ratio("validation"),
          test: ratio("test"),
          seed: Number(form.get("seed")),
          shuffle: true,
        },
      });
      const sizes = session.split_sizes;
      setMessage(
        `Session “${session.name}” created` +
          (sizes ? ` (${sizes.train} / ${sizes.validation} / ${sizes.test} rows)` : ""),
      );
      props.onCreated();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  if (finished.length === 0)
    return (
      <p class="panel">
        Model sessions need a loaded dataset: upload one on the <strong>Datasets</strong> tab first.
      </p>
    );
  return (
    <form class="panel" onSubmit={submit} aria-labelledby="lab-session-title">
      <h2 id="lab-session-title">New model session</h2>
      <div class="grid">
        <label>
          Name
          <input name="name" required maxLength={255} />
        </label>
        <label>
          Dataset
          <select
            value={datasetId ?? ""}
            onChange={(e) => setDatasetId(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {finished.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Task
          <select value={task} onChange={(e) => setTask((e.currentTarget as HTMLSelectElement).value)}>
            {tasks.map((t) => (
              <option key={t.name} value={t.name} title={t.description}>
                {t.display_name || t.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Output column
          <select value={output} onChange={(e) => setOutput((e.currentTarget as HTMLSelectElement).value)}>
            {info?.columns.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name} ({c.type})
              </option>
            ))}
          </select>
        </label>
      </div>
      {info && (
        <fieldset class="lab-checks">
          <legend>Input columns</legend>
          {info.columns
            .filter((c) => c.name !== output)
            .map((c) => (
              <label class="check" key={c.name}>
                <input
                  type="checkbox"
                  checked={inputs.has(c.name)}
                  onChange={(e) =>
                    setInputs(toggle(inputs, c.name, (e.currentTarget as HTMLInputElement).checked))
                  }
                />
                {c.name} <small>{c.type}</small>
              </label>
            ))}
        </fieldset>
      )}
      <fieldset class="lab-checks">
        <legend>Split (percent of rows) and seed</legend>
        <label>
          Train
          <input name="train" type="number" min={1} max={100} step="any" defaultValue="60" required />
        </label>
        <label>
          Validation
          <input name="validation" type="number" min={0} max={99} step="any" defaultValue="20" required />
        </label>
        <label>
          Test
          <input name="test" type="number" min={0} max={99} step="any" defaultValue="20" required />
        </label>
        <label>
          Seed
          <input name="seed" type="number" min={0} step={1} defaultValue="42" required />
        </label>
      </fieldset>
      {SPLITS.map((split) => (
        <fieldset class="lab-checks" key={split}>
          <legend>Metrics on {split}</legend>
          {metrics.map((m) => (
            <label class="check" key={m.name} title={m.description}>
              <input
                type="checkbox"
                checked={chosen[split].has(m.name)}
                onChange={(e) =>
                  setChosen({
                    ...chosen,
                    [split]: toggle(chosen[split], m.name, (e.currentTarget as HTMLInputElement).checked),
                  })
                }
              />
              {m.display_name || m.name}
            </label>
          ))}
        </fieldset>
      ))}
      <button type="submit">Create session</button>
      <Notice error={error} ok={message} />
    </form>
  );
}

export function LabSessionsPage() {
  const [sessions, setSessions] = useState<ModelSession[] | null>(null);
  const [datasets, setDatasets] = useState<LabDataset[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ModelSession | null>(null);
  const load = () =>
    void Promise.all([
      rest<ModelSession[]>("GET", "/api/v1/model-session/"),
      rest<LabDataset[]>("GET", "/api/v1/dataset/"),
    ])
      .then(([s, d]) => {
        setSessions(s.sort((a, b) => b.id - a.id));
        setDatasets(d);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  useEffect(load, []);
  const datasetName = (id: number) => datasets.find((d) => d.id === id)?.name ?? `#${id}`;

  return (
    <>
      <CreateSession datasets={datasets} onCreated={load} />
      <Notice error={error} />
      {sessions?.length === 0 && <p>No model sessions yet.</p>}
      {sessions && sessions.length > 0 && (
        <div class="table-wrap">
          <table class="lab-sessions">
            <caption class="sr-only">Model sessions</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Dataset</th>
                <th scope="col">Task</th>
                <th scope="col">Inputs → output</th>
                <th scope="col">Split rows (train / validation / test)</th>
                <th scope="col">Metrics</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id} data-lab-session={s.name}>
                  <th scope="row">{s.name}</th>
                  <td>{datasetName(s.dataset_id)}</td>
                  <td>{s.task_name}</td>
                  <td class="wrap">
                    {s.input_columns.join(", ")} → <strong>{s.output_columns.join(", ")}</strong>
                  </td>
                  <td>
                    {s.split_sizes
                      ? `${s.split_sizes.train} / ${s.split_sizes.validation} / ${s.split_sizes.test}`
                      : "—"}
                  </td>
                  <td class="wrap">{[...new Set([...s.train_metrics, ...s.test_metrics])].join(", ")}</td>
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
        title="Delete model session?"
        confirmLabel="Delete session"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          const target = deleting!;
          setDeleting(null);
          try {
            await rest("DELETE", `/api/v1/model-session/${target.id}`);
          } catch (e) {
            setError((e as Error).message);
          }
          load();
        }}
      >
        <p>“{deleting?.name}” and its runs will be deleted. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}
