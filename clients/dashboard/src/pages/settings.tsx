import { useEffect, useState } from "preact/hooks";
import { ApiError, gql } from "../api.js";
import { Notice } from "../ui.js";

type Value = number | boolean | string;
interface FieldSpec {
  key: string;
  label: string;
  kind: "float" | "int" | "bool" | "enum";
  min?: number;
  max?: number;
  /** Lower bound excluded (> rather than ≥). */
  exclusiveMin?: boolean;
  options?: string[];
  help: string;
}

// The bounds of src/modules/guard/runtime-config/runtime-config.schema.ts, checked here before sending so
// the message appears at once; the server checks again and its 422 messages are shown the same way.
const FIELDS: FieldSpec[] = [
  {
    key: "risk_threshold",
    label: "Risk threshold",
    kind: "float",
    min: 0,
    max: 1,
    help: "Minimum human-confidence score a response needs to pass",
  },
  {
    key: "consensus_threshold",
    label: "Consensus threshold",
    kind: "float",
    min: 0,
    max: 1,
    help: "Agreement a label needs to be finalized",
  },
  {
    key: "consensus_min_votes",
    label: "Consensus minimum votes",
    kind: "int",
    min: 1,
    max: 1000,
    help: "Votes an item needs before it can be finalized",
  },
  {
    key: "proxy_timeout",
    label: "Proxy timeout (s)",
    kind: "float",
    min: 0,
    max: 3600,
    exclusiveMin: true,
    help: "Upstream timeout",
  },
  {
    key: "challenge_token_ttl",
    label: "Token lifetime (s)",
    kind: "int",
    min: 10,
    max: 604800,
    help: "Lifetime of the challenge token",
  },
  {
    key: "challenge_lifetime",
    label: "Challenge lifetime (s)",
    kind: "int",
    min: 2,
    max: 3600,
    help: "Seconds a served challenge can be submitted",
  },
  {
    key: "challenge_rate_limit_ip",
    label: "Rate limit per IP (/min)",
    kind: "int",
    min: 1,
    max: 1000000,
    help: "Generate and submit calls per client IP per minute",
  },
  {
    key: "challenge_rate_limit_key",
    label: "Rate limit per key (/min)",
    kind: "int",
    min: 1,
    max: 10000000,
    help: "Generate and submit calls per API key per minute",
  },
  {
    key: "siteverify_rate_limit_ip",
    label: "Siteverify limit per IP (/min)",
    kind: "int",
    min: 1,
    max: 10000000,
    help: "Siteverify calls per calling IP (a site's servers) per minute",
  },
  {
    key: "max_guess_rate",
    label: "Max guess rate",
    kind: "float",
    min: 0,
    exclusiveMin: true,
    max: 1,
    help: "Highest chance that random answers pass a challenge (ground-truth items are added until met)",
  },
  {
    key: "max_gt_items",
    label: "Max ground-truth items",
    kind: "int",
    min: 1,
    max: 8,
    help: "Most ground-truth items in one challenge",
  },
  {
    key: "escalation_factor",
    label: "Escalation factor",
    kind: "float",
    min: 1,
    max: 1000,
    help: "The allowed guess rate is divided by this per recent failure (1 = off)",
  },
  {
    key: "escalation_window",
    label: "Escalation window (s)",
    kind: "int",
    min: 10,
    max: 604800,
    help: "Seconds over which a failure fades out",
  },
  {
    key: "escalation_network_share",
    label: "Network share of failures",
    kind: "float",
    min: 0,
    max: 1,
    help: "Weight of each recent failure of the client's /24 or /64",
  },
  {
    key: "escalation_block_after",
    label: "Refuse after failures",
    kind: "float",
    min: 0,
    exclusiveMin: true,
    max: 1000,
    help: "Recent failures at which generate answers 429 with Retry-After",
  },
  {
    key: "vote_hold_failures",
    label: "Hold votes after failures",
    kind: "float",
    min: 0,
    exclusiveMin: true,
    max: 1000,
    help: "A right answer is not counted as a vote after this many recent failures",
  },
  {
    key: "vote_min_risk_score",
    label: "Minimum risk score of a vote",
    kind: "float",
    min: 0,
    max: 1,
    help: "A right answer scoring below this is not counted as a vote",
  },
  {
    key: "fail_mode",
    label: "Fail mode",
    kind: "enum",
    options: ["open", "closed"],
    help: "Without a ground-truth pool: let visitors through (open) or answer 503 (closed)",
  },
  {
    key: "log_level",
    label: "Log level",
    kind: "enum",
    options: ["DEBUG", "INFO", "WARNING", "ERROR"],
    help: "Runtime log level",
  },
  {
    key: "revalidation_exit_confidence",
    label: "Re-validation exit confidence",
    kind: "float",
    min: 0,
    max: 1,
    help: "An item graduates at this confidence",
  },
  {
    key: "revalidation_min_total_votes",
    label: "Re-validation total votes",
    kind: "int",
    min: 1,
    max: 100000,
    help: "Votes an item needs before it can graduate",
  },
  {
    key: "revalidation_min_votes",
    label: "Re-validation batch votes",
    kind: "int",
    min: 1,
    max: 1000,
    help: "Unprocessed votes that trigger a batch",
  },
  {
    key: "revalidation_delta",
    label: "Re-validation delta",
    kind: "float",
    min: 0,
    max: 1,
    exclusiveMin: true,
    help: "Confidence added or removed per vote",
  },
  {
    key: "revalidation_floor",
    label: "Re-validation floor",
    kind: "float",
    min: 0,
    max: 1,
    help: "Below this an item needs review",
  },
  {
    key: "revalidation_promote_to_gt",
    label: "Promote graduated items to ground truth",
    kind: "bool",
    help: "Graduated items join the ground-truth pool",
  },
];

const QUERY = `{ runtimeConfig { ${FIELDS.map((f) => f.key).join(" ")} } }`;
const MUTATION = `mutation Update($input: UpdateRuntimeConfigInput!) {
  updateRuntimeConfig(input: $input) { ${FIELDS.map((f) => f.key).join(" ")} }
}`;

function check(f: FieldSpec, raw: string): { value?: Value; error?: string } {
  if (f.kind === "bool") return { value: raw === "true" };
  if (f.kind === "enum")
    return f.options!.includes(raw) ? { value: raw } : { error: `must be one of ${f.options!.join(", ")}` };
  if (raw.trim() === "") return { error: "a number is required" };
  const n = Number(raw);
  if (!Number.isFinite(n)) return { error: "must be a number" };
  if (f.kind === "int" && !Number.isInteger(n)) return { error: "must be a whole number" };
  if (f.min !== undefined && (f.exclusiveMin ? n <= f.min : n < f.min))
    return { error: `must be ${f.exclusiveMin ? "greater than" : "at least"} ${f.min}` };
  if (f.max !== undefined && n > f.max) return { error: `must be at most ${f.max}` };
  return { value: n };
}

export function SettingsPage() {
  const [saved, setSaved] = useState<Record<string, Value> | null>(null);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const adopt = (config: Record<string, Value>) => {
    setSaved(config);
    setDraft(Object.fromEntries(FIELDS.map((f) => [f.key, String(config[f.key])])));
  };
  useEffect(() => {
    void gql<{ runtimeConfig: Record<string, Value> }>(QUERY)
      .then((d) => adopt(d.runtimeConfig))
      .catch((e: Error) => setError(e.message));
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    const changes: Record<string, Value> = {};
    for (const f of FIELDS) {
      const result = check(f, draft[f.key] ?? "");
      if (result.error) found[f.key] = result.error;
      else if (result.value !== saved?.[f.key]) changes[f.key] = result.value!;
    }
    setErrors(found);
    setMessage(null);
    if (Object.keys(found).length > 0) {
      setError("Nothing was saved: fix the fields marked below");
      const first = FIELDS.find((f) => found[f.key]);
      if (first) document.getElementById(`cfg-${first.key}`)?.focus();
      return;
    }
    if (Object.keys(changes).length === 0) {
      setError(null);
      setMessage("No changes to save");
      return;
    }
    try {
      const { updateRuntimeConfig } = await gql<{ updateRuntimeConfig: Record<string, Value> }>(MUTATION, {
        input: changes,
      });
      adopt(updateRuntimeConfig);
      setError(null);
      setMessage(`Saved: ${Object.keys(changes).join(", ")} (applies on every instance)`);
    } catch (e) {
      setErrors(e instanceof ApiError ? e.fieldErrors() : {});
      setError(`Nothing was saved: ${(e as Error).message}`);
    }
  };

  if (!saved) return <Notice error={error} ok="Loading…" />;
  return (
    <form class="panel settings" onSubmit={submit} noValidate aria-label="Runtime configuration">
      <p class="hint">Runtime settings change without a restart and apply on every instance.</p>
      <div class="grid">
        {FIELDS.map((f) => {
          const id = `cfg-${f.key}`;
          const err = errors[f.key];
          const common = {
            id,
            name: f.key,
            "aria-invalid": err ? ("true" as const) : undefined,
            "aria-describedby": `${id}-help${err ? ` ${id}-error` : ""}`,
          };
          const set = (value: string) => setDraft({ ...draft, [f.key]: value });
          return (
            <div class="field" key={f.key}>
              <label for={id}>{f.label}</label>
              {f.kind === "bool" ? (
                <input
                  {...common}
                  type="checkbox"
                  checked={draft[f.key] === "true"}
                  onChange={(e) => set(String((e.currentTarget as HTMLInputElement).checked))}
                />
              ) : f.kind === "enum" ? (
                <select
                  {...common}
                  value={draft[f.key]}
                  onChange={(e) => set((e.currentTarget as HTMLSelectElement).value)}
                >
                  {f.options!.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  {...common}
                  inputMode="decimal"
                  value={draft[f.key]}
                  onInput={(e) => set((e.currentTarget as HTMLInputElement).value)}
                />
              )}
              <small id={`${id}-help`}>{f.help}</small>
              {err && (
                <span class="field-error" id={`${id}-error`}>
                  {err}
                </span>
              )}
            </div>
          );
        })}
      </div>
      <div class="row">
        <button type="submit">Save settings</button>
        <button type="button" onClick={() => (adopt(saved), setErrors({}), setError(null), setMessage(null))}>
          Reset
        </button>
      </div>
      <Notice error={error} ok={message} />
    </form>
  );
}
