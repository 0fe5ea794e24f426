// Notebooks (docs/lab.md, "Notebooks", "Converters", "Explorers"): /dashboard/lab/notebooks lists them and
// makes one from a finished dataset; /dashboard/lab/notebooks/<id> shows its columns and first rows, its
// converter steps (add one: applied by a job with live progress; revert one: the notebook goes back to the
// state before it), its explorers drawn from the server's Plotly JSON (word cloud: the server's SVG;
// describe: a table), and saves the notebook as a new dataset.
import { useEffect, useState } from "preact/hooks";
import { Notice } from "../../ui.js";
import { type Component, components, followJob, type LabDataset, type LabJob, rest } from "./lab-api.js";
import { LabLink } from "./nav.js";
import { type PlotlyFigure, PlotlySvg } from "./plotly-svg.js";

interface Notebook {
  id: number;
  name: string;
  dataset_id: number | null;
  total_rows: number;
  total_columns: number;
  created: string;
}

interface NotebookData {
  total_rows: number;
  columns: { name: string; type: string; nulls: number }[];
  rows: Record<string, unknown>[];
}

interface Step {
  id: number;
  converter: string;
  parameters: Record<string, unknown>;
  scope: { columns: string[] };
  status: number;
  job_id: string | null;
  error: string | null;
  result: Record<string, unknown> | null;
}

interface Explorer {
  id: number;
  name: string | null;
  exploration_type: string;
  columns: unknown[];
  status: number;
  job_id: string | null;
  error: string | null;
}

type Figure = PlotlyFigure & { svg?: string; describe?: Record<string, Record<string, unknown>> };

const STATUS = ["not started", "queued", "running", "finished", "error"];

export function LabNotebooksPage() {
  const [notebooks, setNotebooks] = useState<Notebook[] | null>(null);
  const [datasets, setDatasets] = useState<LabDataset[]>([]);
  const [datasetId, setDatasetId] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    void rest<Notebook[]>("GET", "/api/v1/notebook/")
      .then(setNotebooks)
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    load();
    void rest<LabDataset[]>("GET", "/api/v1/dataset/")
      .then((all) => setDatasets(all.filter((d) => d.status === 3)))
      .catch((e: Error) => setError(e.message));
  }, []);

  const create = async (e: Event) => {
    e.preventDefault();
    try {
      await rest("POST", "/api/v1/notebook/", { dataset_id: Number(datasetId), name: name || null });
      setName("");
      setError(null);
      load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <form class="lab-form" aria-labelledby="lab-notebook-new" onSubmit={create}>
        <h3 id="lab-notebook-new">New notebook</h3>
        <label>
          Dataset
          <select
            value={datasetId}
            onChange={(e) => setDatasetId((e.target as HTMLSelectElement).value)}
            required
          >
            <option value="">Choose a dataset</option>
            {datasets.map((d) => (
              <option key={d.id} value={String(d.id)}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Notebook name
          <input
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
            maxLength={255}
          />
        </label>
        <button type="submit">Create notebook</button>
      </form>
      <Notice error={error} />
      {notebooks?.length === 0 && <p>No notebooks yet.</p>}
      {notebooks && notebooks.length > 0 && (
        <div class="table-wrap">
          <table class="lab-notebooks">
            <caption class="sr-only">Notebooks</caption>
            <thead>
              <tr>
                <th scope="col">Notebook</th>
                <th scope="col">Rows</th>
                <th scope="col">Columns</th>
              </tr>
            </thead>
            <tbody>
              {notebooks.map((n) => (
                <tr key={n.id} data-lab-notebook={n.name}>
                  <td>
                    <LabLink to={`lab/notebooks/${n.id}`}>{n.name}</LabLink>
                  </td>
                  <td>{n.total_rows}</td>
                  <td>{n.total_columns}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function FigureView(props: { figure: Figure; label: string }) {
  const { figure } = props;
  if (figure.svg)
    return (
      <img
        class="lab-wordcloud"
        alt={`${props.label}: word cloud`}
        src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(figure.svg)}`}
      />
    );
  if (figure.describe) {
    const columns = Object.keys(figure.describe);
    // The table trace keeps the statistics' order (a JSON object's key order is not kept by the database).
    const cells = (figure.data[0] as { cells?: { values?: unknown[][] } } | undefined)?.cells?.values?.[0];
    const stats = (cells as string[] | undefined) ?? Object.keys(figure.describe[columns[0]!] ?? {});
    return (
      <div class="table-wrap">
        <table class="lab-describe">
          <thead>
            <tr>
              <th scope="col">statistic</th>
              {columns.map((c) => (
                <th scope="col" key={c}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {stats.map((s) => (
              <tr key={s} data-stat={s}>
                <th scope="row">{s}</th>
                {columns.map((c) => {
                  const v = figure.describe![c]![s];
                  return <td key={c}>{typeof v === "number" ? +v.toPrecision(6) : String(v ?? "")}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return <PlotlySvg figure={figure} label={props.label} />;
}

export function LabNotebookPage(props: { id: number }) {
  const { id } = props;
  const [notebook, setNotebook] = useState<Notebook | null>(null);
  const [data, setData] = useState<NotebookData | null>(null);
  const [steps, setSteps] = useState<Step[]>([]);
  const [explorers, setExplorers] = useState<Explorer[]>([]);
  const [figures, setFigures] = useState<Record<number, Figure[]>>({});
  const [converters, setConverters] = useState<Component[]>([]);
  const [explorerTypes, setExplorerTypes] = useState<Component[]>([]);
  const [converter, setConverter] = useState("");
  const [stepColumns, setStepColumns] = useState<string[]>([]);
  const [params, setParams] = useState("{}");
  const [explorerType, setExplorerType] = useState("");
  const [explorerColumns, setExplorerColumns] = useState<string[]>([]);
  const [job, setJob] = useState<LabJob | null>(null);
  const [saveName, setSaveName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const load = async () => {
    try {
      setNotebook(await rest<Notebook>("GET", `/api/v1/notebook/${id}`));
      setData(await rest<NotebookData>("GET", `/api/v1/notebook/${id}/data`, undefined, { page_size: 10 }));
      setSteps(await rest<Step[]>("GET", `/api/v1/converter/notebook/${id}`));
      const list = await rest<Explorer[]>("GET", `/api/v1/notebook/${id}/explorers`);
      setExplorers(list);
      const drawn: Record<number, Figure[]> = {};
      for (const e of list.filter((x) => x.status === 3))
        drawn[e.id] = await rest<Figure[]>("POST", `/api/v1/explorer/${e.id}/results/`, { options: {} });
      setFigures(drawn);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void load();
    void components(["Converter"])
      .then(setConverters)
      .catch((e: Error) => setError(e.message));
    void components(["Explorer"])
      .then(setExplorerTypes)
      .catch((e: Error) => setError(e.message));
  }, [id]);

  const follow = async (jobId: string | null, done: string) => {
    if (jobId) {
      const end = await followJob(jobId, setJob);
      if (end.status !== "finished") throw new Error(end.error_msg ?? `job ${end.status}`);
    }
    setMessage(done);
    setError(null);
    await load();
  };

  const run = (work: () => Promise<void>) => async (e?: Event) => {
    e?.preventDefault();
    try {
      await work();
    } catch (err) {
      setError((err as Error).message);
      await load();
    }
  };

  const addStep = run(async () => {
    let parameters: unknown;
    try {
      parameters = JSON.parse(params || "{}");
    } catch {
      throw new Error("Parameters must be a JSON object");
    }
    const step = await rest<Step>("POST", "/api/v1/converter/", {
      notebook_id: id,
      converter,
      parameters,
      scope: { columns: stepColumns },
    });
    await follow(step.job_id, `${converter} applied`);
  });

  const revert = (step: Step) =>
    run(async () => {
      const { jobId } = await rest<{ jobId: string | null }>("DELETE", `/api/v1/converter/${step.id}`);
      await follow(jobId, `Reverted to the state before ${step.converter}`);
    });

  const addExplorer = run(async () => {
    const created = await rest<Explorer>("POST", "/api/v1/explorer/", {
      notebook_id: id,
      exploration_type: explorerType,
      columns: explorerColumns,
      parameters: {},
      name: explorerType,
    });
    await follow(created.job_id, `${explorerType} computed`);
  });

  const removeExplorer = (e: Explorer) =>
    run(async () => {
      await rest("DELETE", `/api/v1/explorer/${e.id}/`);
      await load();
    });

  const save = run(async () => {
    const dataset = await rest<LabDataset>("POST", "/api/v1/dataset/", { name: saveName });
    const form = new FormData();
    form.append("job_type", "DatasetJob");
    form.append("kwargs", JSON.stringify({ dataset_id: dataset.id, notebook_id: id, url: "", params: {} }));
    const queued = await fetch("/api/v1/job/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "x-requested-with": "hiveguard-dashboard" },
      body: form,
    });
    const body = (await queued.json()) as { id?: string; detail?: unknown };
    if (!queued.ok || !body.id)
      throw new Error(typeof body.detail === "string" ? body.detail : "save failed");
    await follow(body.id, `Saved as dataset “${saveName}”`);
  });

  const columns = data?.columns ?? [];
  const multi = (setter: (v: string[]) => void) => (e: Event) =>
    setter(Array.from((e.target as HTMLSelectElement).selectedOptions, (o) => o.value));

  return (
    <>
      <p>
        <LabLink to="lab/notebooks">← Notebooks</LabLink>
      </p>
      <h2 class="lab-title">{notebook?.name ?? "Notebook"}</h2>
      <Notice error={error} ok={message} />
      {job && !["finished", "error", "cancelled"].includes(job.status) && (
        <p>
          <progress max={100} value={job.progress} aria-label="Job progress" /> {job.progress_message}
        </p>
      )}
      {data && (
        <section aria-labelledby="lab-nb-data">
          <h3 id="lab-nb-data">
            Data ({data.total_rows} rows, {data.columns.length} columns)
          </h3>
          <div class="table-wrap">
            <table class="lab-nb-data">
              <thead>
                <tr>
                  {data.columns.map((c) => (
                    <th scope="col" key={c.name} data-column={c.name}>
                      {c.name}
                      <br />
                      <small>{c.type}</small>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {data.rows.map((row, i) => (
                  <tr key={i}>
                    {data.columns.map((c) => {
                      const v = row[c.name];
                      return (
                        <td key={c.name}>{typeof v === "number" ? +v.toPrecision(6) : String(v ?? "")}</td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}

      <section aria-labelledby="lab-nb-steps">
        <h3 id="lab-nb-steps">Converter steps</h3>
        {steps.length === 0 && <p>No steps applied.</p>}
        <ol class="lab-steps">
          {steps.map((s) => (
            <li key={s.id} data-step={s.converter}>
              <strong>{s.converter}</strong> on {s.scope.columns.join(", ")}{" "}
              <button type="button" onClick={revert(s)}>
                Revert {s.converter}
              </button>
            </li>
          ))}
        </ol>
        <form class="lab-form" aria-label="Add a converter step" onSubmit={addStep}>
          <label>
            Converter
            <select
              value={converter}
              onChange={(e) => setConverter((e.target as HTMLSelectElement).value)}
              required
            >
              <option value="">Choose a converter</option>
              {converters.map((c) => (
                <option key={c.name} value={c.name} title={c.description}>
                  {c.display_name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Step columns
            <select multiple onChange={multi(setStepColumns)}>
              {columns.map((c) => (
                <option key={c.name} value={c.name} selected={stepColumns.includes(c.name)}>
                  {c.name} ({c.type})
                </option>
              ))}
            </select>
          </label>
          <label>
            Parameters (JSON)
            <input value={params} onInput={(e) => setParams((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">Apply step</button>
        </form>
      </section>

      <section aria-labelledby="lab-nb-explorers">
        <h3 id="lab-nb-explorers">Explorers</h3>
        <form class="lab-form" aria-label="Add an explorer" onSubmit={addExplorer}>
          <label>
            Explorer
            <select
              aria-label="Explorer"
              value={explorerType}
              onChange={(e) => setExplorerType((e.target as HTMLSelectElement).value)}
              required
            >
              <option value="">Choose an explorer</option>
              {explorerTypes.map((c) => (
                <option key={c.name} value={c.name} title={c.description}>
                  {c.display_name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Explorer columns
            <select multiple onChange={multi(setExplorerColumns)}>
              {columns.map((c) => (
                <option key={c.name} value={c.name} selected={explorerColumns.includes(c.name)}>
                  {c.name} ({c.type})
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Explore</button>
        </form>
        {explorers.map((e) => (
          <article
            key={e.id}
            class="lab-explorer"
            data-explorer={e.exploration_type}
            data-status={STATUS[e.status]}
          >
            <h4>
              {e.name ?? e.exploration_type} <small>{STATUS[e.status]}</small>{" "}
              <button type="button" onClick={removeExplorer(e)}>
                Delete {e.name ?? e.exploration_type}
              </button>
            </h4>
            {e.error && <p class="notice error">{e.error}</p>}
            {(figures[e.id] ?? []).map((f, i) => (
              <FigureView key={i} figure={f} label={`${e.exploration_type} ${i + 1}`} />
            ))}
          </article>
        ))}
      </section>

      <form class="lab-form" aria-label="Save as dataset" onSubmit={save}>
        <label>
          New dataset name
          <input
            value={saveName}
            onInput={(e) => setSaveName((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <button type="submit">Save as dataset</button>
      </form>
    </>
  );
}
