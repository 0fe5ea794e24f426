// Lab plugins (docs/lab.md, "Plugins"): /dashboard/lab/plugins lists the installed plugins, then the ones
// available in the repository's examples/; installs an available one by name, or a folder or `npm pack` .tgz
// by its absolute path on the server; enables, disables and uninstalls. A plugin that failed to load is shown
// with the error it threw. Every call is /api/v1/plugin/ (admin-only: the dashboard's credentials).
import { useEffect, useState } from "preact/hooks";
import { ConfirmDialog, Notice } from "../../ui.js";
import { fmtTime, rest } from "./lab-api.js";

export interface LabPlugin {
  id: number | null;
  name: string;
  version: string;
  description: string | null;
  source: string;
  status: number;
  enabled: boolean;
  error: string | null;
  components: string[];
  installed_at: string | null;
}

/** DashAI's plugin status ints. */
const STATUS: Record<number, string> = { 0: "available", 1: "disabled", 2: "installed", 99: "error" };
const TAG: Record<number, string> = { 0: "", 1: "job-not_started", 2: "job-finished", 99: "job-error" };

export function LabPluginsPage() {
  const [plugins, setPlugins] = useState<LabPlugin[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [removing, setRemoving] = useState<LabPlugin | null>(null);

  const load = () =>
    void rest<LabPlugin[]>("GET", "/api/v1/plugin/")
      .then((p) => {
        setPlugins(p);
      })
      .catch((e: Error) => setError(e.message));
  useEffect(load, []);

  /** Runs one change, then says what happened (a plugin that failed to load says so) and reloads the list. */
  const act = async (what: () => Promise<LabPlugin | null>, done: (p: LabPlugin | null) => string) => {
    setError(null);
    setMessage(null);
    setBusy(true);
    try {
      const plugin = await what();
      if (plugin?.error) setError(`${plugin.name} failed to load: ${plugin.error}`);
      else setMessage(done(plugin));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
      load();
    }
  };

  const installed = (p: LabPlugin | null) =>
    `Installed ${p?.name} ${p?.version}` + (p?.components.length ? `: ${p.components.join(", ")}` : "");

  const installPath = (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const source = String(new FormData(form).get("source") ?? "").trim();
    void act(async () => {
      const plugin = await rest<LabPlugin>("POST", "/api/v1/plugin/", { source });
      form.reset();
      return plugin;
    }, installed);
  };

  return (
    <>
      <form class="panel inline-form" onSubmit={installPath} aria-labelledby="lab-plugin-install">
        <h2 id="lab-plugin-install" class="sr-only">
          Install a plugin from the server
        </h2>
        <label class="grow">
          Install from a path on the server{" "}
          <small class="hint">(an absolute folder with a package.json, or an npm pack .tgz)</small>
          <input name="source" required maxLength={4096} placeholder="/srv/plugins/my-plugin-1.0.0.tgz" />
        </label>
        <button type="submit" disabled={busy}>
          Install
        </button>
      </form>
      <p class="hint">
        A plugin's code runs in the server: install only what you trust. Its components join the registry at
        once, no restart.
      </p>
      <Notice error={error} ok={message} />
      {plugins?.length === 0 && <p>No plugins installed or available.</p>}
      {plugins && plugins.length > 0 && (
        <div class="table-wrap">
          <table class="lab-plugins">
            <caption class="sr-only">Plugins</caption>
            <thead>
              <tr>
                <th scope="col">Plugin</th>
                <th scope="col">Status</th>
                <th scope="col">Components</th>
                <th scope="col">Source</th>
                <th scope="col">Installed</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {plugins.map((p) => (
                <tr
                  key={`${p.id ?? "available"}-${p.name}`}
                  data-lab-plugin={p.name}
                  data-status={STATUS[p.status]}
                >
                  <th scope="row" class="wrap">
                    {p.name} <small>{p.version}</small>
                    {p.description && (
                      <>
                        <br />
                        <small class="hint">{p.description}</small>
                      </>
                    )}
                  </th>
                  <td class="wrap">
                    <span class={`tag ${TAG[p.status] ?? ""}`}>{STATUS[p.status] ?? p.status}</span>
                    {p.error && <p class="field-error lab-plugin-error">{p.error}</p>}
                  </td>
                  <td class="wrap">{p.components.join(", ") || "—"}</td>
                  <td class="wrap mono">
                    <small>{p.source}</small>
                  </td>
                  <td>{fmtTime(p.installed_at)}</td>
                  <td class="actions">
                    {p.id === null ? (
                      <button
                        type="button"
                        disabled={busy}
                        aria-label={`Install ${p.name}`}
                        onClick={() =>
                          void act(
                            () => rest<LabPlugin>("POST", "/api/v1/plugin/", { name: p.name }),
                            installed,
                          )
                        }
                      >
                        Install
                      </button>
                    ) : (
                      <>
                        <button
                          type="button"
                          disabled={busy}
                          aria-label={`${p.enabled ? "Disable" : "Enable"} ${p.name}`}
                          onClick={() =>
                            void act(
                              () =>
                                rest<LabPlugin>("PATCH", `/api/v1/plugin/${p.id}`, { enabled: !p.enabled }),
                              (q) => `${q?.enabled ? "Enabled" : "Disabled"} ${p.name}`,
                            )
                          }
                        >
                          {p.enabled ? "Disable" : "Enable"}
                        </button>
                        <button
                          type="button"
                          class="danger"
                          disabled={busy}
                          aria-label={`Uninstall ${p.name}`}
                          onClick={() => setRemoving(p)}
                        >
                          Uninstall…
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={removing !== null}
        title="Uninstall plugin?"
        confirmLabel="Uninstall"
        onCancel={() => setRemoving(null)}
        onConfirm={() => {
          const target = removing!;
          setRemoving(null);
          void act(
            () => rest<null>("DELETE", `/api/v1/plugin/${target.id}`),
            () => `Uninstalled ${target.name}`,
          );
        }}
      >
        <p>“{removing?.name}”: its components leave the registry and its files are removed.</p>
      </ConfirmDialog>
    </>
  );
}
