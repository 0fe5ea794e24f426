// A trained run's explainers on the run page: start permutation importance, partial dependence (global) or
// KernelSHAP on the first rows of the session's dataset (local) through an ExplainerJob with live progress,
// and draw every finished explainer's Plotly figures (GET /api/v1/explainer/{scope}/plot/{id}) as SVG.
import { useEffect, useState } from "preact/hooks";
import { followJob, type LabJob, type ModelSession, postForm, rest } from "./lab-api.js";
import { type PlotlyFigure, PlotlySvg } from "./plotly-svg.js";

type Scope = "global" | "local";

interface Explainer {
  id: number;
  name: string;
  scope: Scope;
  explainer_name: string;
  status: number;
  error: string | null;
}

interface Artifact {
  type: string;
  payload: unknown;
  title: string | null;
}

const STATUS = ["not started", "queued", "running", "finished", "error"];
const CHOICES: { name: string; scope: Scope; label: string }[] = [
  { name: "PermutationFeatureImportance", scope: "global", label: "Permutation importance" },
  { name: "PartialDependence", scope: "global", label: "Partial dependence" },
  { name: "KernelShap", scope: "local", label: "KernelSHAP (first 5 rows)" },
];

function Figures(props: { explainer: Explainer }) {
  const [artifacts, setArtifacts] = useState<Artifact[] | string | null>(null);
  const { id, scope, status } = props.explainer;
  useEffect(() => {
    if (status !== 3) return;
    void rest<Artifact[]>("GET", `/api/v1/explainer/${scope}/plot/${id}`)
      .then(setArtifacts)
      .catch((e: Error) => setArtifacts(e.message));
  }, [id, scope, status]);
  if (typeof artifacts === "string") return <p class="hint">{artifacts}</p>;
  if (!artifacts) return null;
  return (
    <div class="lab-plots">
      {artifacts
        .filter((a) => a.type === "plotly")
        .map((a, i) => (
          <div key={i} data-explainer-plot={a.title ?? i}>
            <PlotlySvg
              figure={JSON.parse(a.payload as string) as PlotlyFigure}
              label={a.title ?? "explanation"}
            />
          </div>
        ))}
    </div>
  );
}

export function RunExplainers(props: { runId: number; session: ModelSession }) {
  const [list, setList] = useState<Explainer[]>([]);
  const [job, setJob] = useState<LabJob | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    const [g, l] = await Promise.all(
      (["global", "local"] as const).map((s) =>
        rest<Explainer[]>("GET", `/api/v1/explainer/${s}`, undefined, { run_id: props.runId }),
      ),
    );
    setList([...g!, ...l!]);
  };
  useEffect(() => {
    void load().catch((e: Error) => setError(e.message));
  }, [props.runId]);

  const start = async (choice: (typeof CHOICES)[number]) => {
    setError(null);
    try {
      const created = await rest<Explainer>(
        "POST",
        `/api/v1/explainer/${choice.scope}`,
        choice.scope === "global"
          ? { run_id: props.runId, explainer_name: choice.name, parameters: {} }
          : {
              run_id: props.runId,
              dataset_id: props.session.dataset_id,
              explainer_name: choice.name,
              parameters: { max_instances: 5 },
              fit_parameters: {},
              scope: {},
            },
      );
      await load();
      const form = new FormData();
      form.append("job_type", "ExplainerJob");
      form.append("kwargs", JSON.stringify({ explainer_id: created.id, explainer_scope: choice.scope }));
      const { id } = await postForm<{ id: string }>("/api/v1/job/", form, () => undefined);
      const done = await followJob(id, setJob);
      if (done.status !== "finished") setError(done.error_msg ?? `The explanation ended ${done.status}`);
      await load();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setJob(null);
    }
  };

  const remove = async (e: Explainer) => {
    await rest("DELETE", `/api/v1/explainer/${e.scope}/${e.id}`).catch((err: Error) => setError(err.message));
    await load();
  };

  return (
    <section aria-label="Explainers" class="lab-explainers">
      <h3>Explainers</h3>
      <p>
        {CHOICES.map((c) => (
          <button key={c.name} type="button" disabled={job !== null} onClick={() => void start(c)}>
            {c.label}
          </button>
        ))}
      </p>
      {job && (
        <p role="status">
          {job.progress_message ?? "Queued"} — <progress max={100} value={job.progress} />{" "}
          {Math.round(job.progress)}%
        </p>
      )}
      {error && <p class="notice error">{error}</p>}
      {list.map((e) => (
        <article key={`${e.scope}-${e.id}`} data-explainer={e.explainer_name}>
          <h4>
            {e.name}{" "}
            <small>
              ({e.scope}, {STATUS[e.status]})
            </small>{" "}
            <button type="button" aria-label={`Delete ${e.name}`} onClick={() => void remove(e)}>
              Delete
            </button>
          </h4>
          {e.error && <p class="notice error">{e.error}</p>}
          <Figures explainer={e} />
        </article>
      ))}
    </section>
  );
}
