import { useState } from "preact/hooks";
import { allNodes, ApiError, gql } from "../api.js";
import { usePoll } from "../router.js";
import { ConfirmDialog, fmtDate, Notice } from "../ui.js";

interface ApiKey {
  id: string;
  label: string;
  key_prefix: string;
  datasets: string[];
  sample_rate: number;
  scopes: string[];
  created_at: string;
  hostnames: string[];
  secret_prefix: string | null;
  previous_secret_expires_at: string | null;
}

/** GraphQL enum `ApiKeyScope` → the scope's name on the wire (REST, docs). */
const SCOPES = [
  { value: "CHALLENGE", wire: "challenge", label: "challenge: generate and submit challenges" },
  { value: "DATA_READ", wire: "data:read", label: "data:read: list items and labels" },
  { value: "DATA_WRITE", wire: "data:write", label: "data:write: upload items" },
];
const wireScope = (value: string) => SCOPES.find((s) => s.value === value)?.wire ?? value;

const CREATE = `mutation Create($input: CreateApiKeyInput!) { createApiKey(input: $input) { id label key_prefix raw_key } }`;
const REVOKE = `mutation Revoke($id: ID!) { revokeApiKey(id: $id) { id } }`;
const ROTATE = `mutation Rotate($input: RotateApiKeySecretInput!) { rotateApiKeySecret(input: $input) { id secret previous_secret_expires_at } }`;
const REMOVE_SECRET = `mutation RemoveSecret($id: ID!) { removeApiKeySecret(id: $id) { id } }`;
const FIELDS =
  "id label key_prefix datasets sample_rate scopes created_at hostnames secret_prefix previous_secret_expires_at";

/** Hostnames typed as "a.com, b.org" or one per line. */
const hostnameList = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((h) => h.trim())
    .filter(Boolean);

export function ApiKeysPage() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [datasets, setDatasets] = useState<{ id: string; name: string }[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [created, setCreated] = useState<{ label: string; raw_key: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [secret, setSecret] = useState<{ label: string; secret: string; until: string | null } | null>(null);
  const [removing, setRemoving] = useState<ApiKey | null>(null);
  const load = () =>
    void Promise.all([
      allNodes<ApiKey>("apiKeys", FIELDS),
      allNodes<{ id: string; name: string }>("datasets", "id name"),
    ])
      .then(([apiKeys, datasets]) => {
        setKeys(apiKeys);
        setDatasets(datasets);
      })
      .catch((e: Error) => setError(e.message));
  usePoll(load, 10000);
  const names = new Map(datasets.map((d) => [d.id, d.name]));

  const create = async (event: Event) => {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    try {
      const { createApiKey } = await gql<{ createApiKey: { label: string; raw_key: string } }>(CREATE, {
        input: {
          label: String(form.get("label") ?? ""),
          datasets: form.getAll("datasets").map(String),
          sample_rate: Number(form.get("sample_rate") ?? 1),
          scopes: form.getAll("scopes").map(String),
          hostnames: hostnameList(String(form.get("hostnames") ?? "")),
        },
      });
      setCreated(createApiKey);
      setCopied(false);
      setFieldErrors({});
      setError(null);
      formEl.reset();
      load();
    } catch (e) {
      const fields = e instanceof ApiError ? e.fieldErrors() : {};
      setFieldErrors(fields);
      setError(Object.keys(fields).length ? null : (e as Error).message);
    }
  };

  return (
    <>
      <form class="panel" onSubmit={create} aria-labelledby="new-key">
        <h2 id="new-key">New API key</h2>
        <div class="grid">
          <label>
            Label
            <input name="label" required maxLength={200} />
            {fieldErrors.label && <span class="field-error">{fieldErrors.label}</span>}
          </label>
          <label>
            Sample rate (0–1)
            <input name="sample_rate" type="number" min={0} max={1} step={0.01} value="1" required />
            {fieldErrors.sample_rate && <span class="field-error">{fieldErrors.sample_rate}</span>}
          </label>
          <label>
            Datasets (none selected = all)
            <select name="datasets" multiple size={Math.min(4, Math.max(2, datasets.length))}>
              {datasets.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          </label>
          <fieldset>
            <legend>Scopes (a key for public pages needs only challenge)</legend>
            {SCOPES.map((scope) => (
              <label key={scope.value} class="check">
                <input type="checkbox" name="scopes" value={scope.value} defaultChecked />
                {scope.label}
              </label>
            ))}
            {fieldErrors.scopes && <span class="field-error">{fieldErrors.scopes}</span>}
          </fieldset>
          <label>
            Hostnames, as a site key (comma-separated; subdomains included; empty = any)
            <input name="hostnames" placeholder="example.com, shop.example.org" />
            {fieldErrors.hostnames && <span class="field-error">{fieldErrors.hostnames}</span>}
          </label>
        </div>
        <button type="submit">Create key</button>
        <Notice error={error} />
      </form>

      {created && (
        <section class="panel secret" aria-labelledby="raw-key-title">
          <h2 id="raw-key-title">Key “{created.label}” created</h2>
          <p>Copy it now: it is shown only this once and cannot be retrieved again.</p>
          <div class="row">
            <input
              readOnly
              value={created.raw_key}
              aria-label="The new API key"
              class="mono"
              onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
            />
            <button
              type="button"
              onClick={async () => {
                try {
                  await navigator.clipboard.writeText(created.raw_key);
                  setCopied(true);
                } catch {
                  setError("Copying is not allowed here: select the key and copy it by hand");
                }
              }}
            >
              Copy
            </button>
            <span role="status">{copied ? "Copied to the clipboard" : ""}</span>
            <button type="button" class="link" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </section>
      )}

      {secret && (
        <section class="panel secret" aria-labelledby="secret-title">
          <h2 id="secret-title">Siteverify secret of “{secret.label}”</h2>
          <p>
            Copy it now into your site's server configuration: it is shown only this once.
            {secret.until && ` The previous secret keeps working until ${fmtDate(secret.until)}.`}
          </p>
          <div class="row">
            <input
              readOnly
              value={secret.secret}
              aria-label="The new siteverify secret"
              class="mono"
              onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
            />
            <button type="button" class="link" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        </section>
      )}

      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Prefix</th>
              <th scope="col">Datasets</th>
              <th scope="col">Sample rate</th>
              <th scope="col">Scopes</th>
              <th scope="col">Siteverify</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys?.map((k) => (
              <tr key={k.id} data-key={k.label}>
                <td>{k.label}</td>
                <td class="mono">{k.key_prefix}…</td>
                <td>
                  {k.datasets.length === 0
                    ? "all"
                    : k.datasets.map((id) => names.get(id) ?? id.slice(0, 8)).join(", ")}
                </td>
                <td>{k.sample_rate}</td>
                <td>{k.scopes.map(wireScope).join(", ")}</td>
                <td data-siteverify>
                  {k.secret_prefix ? <span class="mono">{k.secret_prefix}…</span> : "no secret"}
                  {k.previous_secret_expires_at &&
                    ` (previous until ${fmtDate(k.previous_secret_expires_at)})`}
                  {k.hostnames.length > 0 && <div>on {k.hostnames.join(", ")}</div>}
                </td>
                <td>{fmtDate(k.created_at)}</td>
                <td class="actions">
                  {k.scopes.length === 1 && wireScope(k.scopes[0]!) === "challenge" && (
                    <button
                      type="button"
                      onClick={async () => {
                        try {
                          const { rotateApiKeySecret } = await gql<{
                            rotateApiKeySecret: { secret: string; previous_secret_expires_at: string | null };
                          }>(ROTATE, { input: { id: k.id } });
                          setSecret({
                            label: k.label,
                            secret: rotateApiKeySecret.secret,
                            until: rotateApiKeySecret.previous_secret_expires_at,
                          });
                          setError(null);
                        } catch (e) {
                          setError((e as Error).message);
                        }
                        load();
                      }}
                      aria-label={`${k.secret_prefix ? "Rotate the siteverify secret of" : "Create a siteverify secret for"} ${k.label}`}
                    >
                      {k.secret_prefix ? "Rotate secret" : "Create secret"}
                    </button>
                  )}
                  {k.secret_prefix && (
                    <button
                      type="button"
                      class="danger"
                      onClick={() => setRemoving(k)}
                      aria-label={`Remove the siteverify secret of ${k.label}`}
                    >
                      Remove secret…
                    </button>
                  )}
                  <button
                    type="button"
                    class="danger"
                    onClick={() => setRevoking(k)}
                    aria-label={`Revoke ${k.label}`}
                  >
                    Revoke…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {keys?.length === 0 && <p>No active keys.</p>}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke API key?"
        confirmLabel="Revoke key"
        onCancel={() => setRevoking(null)}
        onConfirm={async () => {
          const target = revoking!;
          setRevoking(null);
          try {
            await gql(REVOKE, { id: target.id });
          } catch (e) {
            setError((e as Error).message);
          }
          load();
        }}
      >
        <p>“{revoking?.label}” stops working at once, on every instance.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={removing !== null}
        title="Remove siteverify secret?"
        confirmLabel="Remove secret"
        onCancel={() => setRemoving(null)}
        onConfirm={async () => {
          const target = removing!;
          setRemoving(null);
          try {
            await gql(REMOVE_SECRET, { id: target.id });
          } catch (e) {
            setError((e as Error).message);
          }
          load();
        }}
      >
        <p>Siteverify refuses the current and the previous secret of “{removing?.label}” at once.</p>
      </ConfirmDialog>
    </>
  );
}
