import { useRef, useState } from "preact/hooks";
import { ApiError, gql } from "../api.js";
import { usePoll } from "../router.js";
import { fmtDate, Notice, Progress } from "../ui.js";

interface MlStatus {
  model_ready: boolean;
  sessions_with_features: number;
  last_trained: string | null;
  model: {
    version: string | number;
    source: string;
    created_at: string;
    trained_on: number;
    metrics: {
      accuracy: number | null;
      roc_auc: number | null;
      log_loss: number | null;
      training_ms: number | null;
    };
  } | null;
  training: {
    state: "idle" | "running" | "failed" | "completed";
    started_at: string | null;
    finished_at: string | null;
    progress: number;
    error: string | null;
  };
}

const QUERY = `{ mlStatus { model_ready sessions_with_features last_trained
  model { version source created_at trained_on metrics { accuracy roc_auc log_loss training_ms } }
  training { state started_at finished_at progress error } } }`;
const TRAIN = `mutation { mlTrain { status } }`;
const PROBE = `{ __type(name: "Query") { fields { name } } }`;

/** The server has no risk-model procedures (a build without the ML module): GraphQL rejects the field. */
const isMissingField = (e: unknown) =>
  e instanceof ApiError && /Cannot query field "ml(Status|Train)"/.test(e.message);

const fmt = (n: number | null | undefined, digits = 3) => (typeof n === "number" ? n.toFixed(digits) : "—");

export function MlPage() {
  const [status, setStatus] = useState<MlStatus | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const running = status?.training.state === "running";
  const available = useRef<boolean | null>(null);

  const load = async () => {
    // Asked once: does this server have the risk model's procedures at all? (Without the probe the query
    // would be refused as invalid, and the browser would log the 400.)
    if (available.current === null) {
      const probe = await gql<{ __type: { fields: { name: string }[] } | null }>(PROBE).catch(() => null);
      available.current = Boolean(probe?.__type?.fields.some((f) => f.name === "mlStatus"));
    }
    if (!available.current) return setMissing(true);
    return gql<{ mlStatus: MlStatus }>(QUERY)
      .then((d) => {
        setStatus(d.mlStatus);
        setError(null);
      })
      .catch((e: unknown) => (isMissingField(e) ? setMissing(true) : setError((e as Error).message)));
  };
  // Faster polling while a training run is in progress, to move the bar.
  usePoll(() => void load(), running ? 1000 : 5000, [running]);

  if (missing)
    return (
      <p class="notice" role="status" data-ml="unavailable">
        The risk model is not available on this server.
      </p>
    );
  const train = async () => {
    setMessage(null);
    try {
      await gql(TRAIN);
      setMessage("Training started");
      setError(null);
      void load();
    } catch (e) {
      if (isMissingField(e)) setMissing(true);
      else setError((e as Error).message);
    }
  };
  const m = status?.model;
  return (
    <>
      <Notice error={error} ok={message} />
      <section class="cards" aria-label="Risk model status">
        <div class="card" data-ml="ready">
          <span>Model</span>
          <strong>{status ? (status.model_ready ? "ready" : "not trained") : "…"}</strong>
          <small>{m ? `version ${m.version} · ${m.source}` : ""}</small>
        </div>
        <div class="card">
          <span>Sessions with features</span>
          <strong>{status?.sessions_with_features.toLocaleString() ?? "…"}</strong>
        </div>
        <div class="card">
          <span>Last trained</span>
          <strong class="small">{fmtDate(status?.last_trained)}</strong>
        </div>
      </section>
      {m && (
        <section aria-labelledby="model-metrics">
          <h2 id="model-metrics">Metrics of the current model</h2>
          <dl class="metrics">
            <div>
              <dt>Accuracy</dt>
              <dd>{fmt(m.metrics.accuracy)}</dd>
            </div>
            <div>
              <dt>ROC AUC</dt>
              <dd>{fmt(m.metrics.roc_auc)}</dd>
            </div>
            <div>
              <dt>Log loss</dt>
              <dd>{fmt(m.metrics.log_loss)}</dd>
            </div>
            <div>
              <dt>Training time</dt>
              <dd>{m.metrics.training_ms === null ? "—" : `${m.metrics.training_ms.toLocaleString()} ms`}</dd>
            </div>
            <div>
              <dt>Trained on</dt>
              <dd>{m.trained_on.toLocaleString()} sessions</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{fmtDate(m.created_at)}</dd>
            </div>
          </dl>
        </section>
      )}
      <section aria-labelledby="training-title">
        <h2 id="training-title">Training</h2>
        <p role="status" data-training={status?.training.state}>
          {status ? `State: ${status.training.state}` : ""}
          {status?.training.finished_at ? ` · finished ${fmtDate(status.training.finished_at)}` : ""}
        </p>
        {running && (
          <Progress
            value={Math.round((status?.training.progress ?? 0) * 100)}
            max={100}
            label="Training progress"
          />
        )}
        {status?.training.state === "failed" && status.training.error && (
          <p class="notice error" role="alert">
            {status.training.error}
          </p>
        )}
        <button type="button" onClick={train} disabled={running || !status}>
          {running ? "Training…" : "Train now"}
        </button>
      </section>
    </>
  );
}
