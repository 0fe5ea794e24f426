import { useState } from "preact/hooks";
import { allNodes, ApiError, gql } from "../api.js";
import { usePoll } from "../router.js";
import { ConfirmDialog, Notice } from "../ui.js";

interface Rule {
  id: string;
  pattern: string;
  match_type: string;
  priority: number;
  enabled: boolean;
}
interface Match {
  path: string;
  canonical: boolean;
  reason: string | null;
  exempt: boolean;
  rule: Rule | null;
}

const FIELDS = "id pattern match_type priority enabled";
const CREATE = `mutation Create($input: CreateProxyRuleInput!) { createProxyRule(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation Update($input: UpdateProxyRuleInput!) { updateProxyRule(input: $input) { ${FIELDS} } }`;
const DELETE = `mutation Delete($id: ID!) { deleteProxyRule(id: $id) { id } }`;
const MATCH = `query Match($path: String!) { proxyRuleMatch(path: $path) { path canonical reason exempt rule { ${FIELDS} } } }`;

function RuleForm(props: { rule?: Rule; onSaved: () => void; onCancel?: () => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const editing = props.rule;
  const [matchType, setMatchType] = useState(editing?.match_type ?? "prefix");
  const [enabled, setEnabled] = useState(editing?.enabled ?? true);
  const submit = async (event: Event) => {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const form = new FormData(formEl);
    const values = {
      pattern: String(form.get("pattern") ?? ""),
      match_type: matchType,
      priority: Number(form.get("priority") || 0),
      enabled,
    };
    try {
      if (editing) await gql(UPDATE, { input: { id: editing.id, ...values } });
      else await gql(CREATE, { input: values });
      setErrors({});
      if (!editing) {
        formEl.reset();
        setMatchType("prefix");
        setEnabled(true);
      }
      props.onSaved();
    } catch (e) {
      const fields = e instanceof ApiError ? e.fieldErrors() : {};
      setErrors(Object.keys(fields).length ? fields : { "": (e as Error).message });
    }
  };
  const id = editing ? `edit-${editing.id}` : "new-rule";
  return (
    <form class="panel" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{editing ? `Edit rule ${editing.pattern}` : "New rule"}</h2>
      <p class="hint">
        A matching path is let through without a challenge. Higher priority is evaluated first.
      </p>
      <div class="grid">
        <label>
          Pattern
          <input
            name="pattern"
            required
            maxLength={1024}
            defaultValue={editing?.pattern}
            placeholder="/health"
          />
          {errors.pattern && <span class="field-error">{errors.pattern}</span>}
        </label>
        <label>
          Match type
          <select
            name="match_type"
            value={matchType}
            onChange={(e) => setMatchType((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="exact">exact</option>
            <option value="prefix">prefix</option>
            <option value="glob">glob</option>
          </select>
          {errors.match_type && <span class="field-error">{errors.match_type}</span>}
        </label>
        <label>
          Priority
          <input name="priority" type="number" step={1} defaultValue={String(editing?.priority ?? 0)} />
          {errors.priority && <span class="field-error">{errors.priority}</span>}
        </label>
        <label class="check">
          <input
            name="enabled"
            type="checkbox"
            checked={enabled}
            onChange={(e) => setEnabled((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          Enabled
        </label>
      </div>
      <div class="row">
        <button type="submit">{editing ? "Save rule" : "Add rule"}</button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      <Notice error={errors[""] ?? null} />
    </form>
  );
}

export function ProxyRulesPage() {
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Rule | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [match, setMatch] = useState<Match | null>(null);
  const [matchError, setMatchError] = useState<string | null>(null);
  const load = () =>
    void allNodes<Rule>("proxyRules", FIELDS)
      .then(setRules)
      .catch((e: Error) => setError(e.message));
  usePoll(load, 10000);

  const test = async (event: Event) => {
    event.preventDefault();
    const path = String(new FormData(event.currentTarget as HTMLFormElement).get("path") ?? "");
    try {
      setMatch((await gql<{ proxyRuleMatch: Match }>(MATCH, { path })).proxyRuleMatch);
      setMatchError(null);
    } catch (e) {
      setMatch(null);
      setMatchError((e as Error).message);
    }
  };

  return (
    <>
      <form class="panel" onSubmit={test} aria-labelledby="test-title">
        <h2 id="test-title">Test a path</h2>
        <div class="row">
          <label>
            Path <input name="path" required placeholder="/blog/post-1" />
          </label>
          <button type="submit">Test</button>
        </div>
        <p role="status" class="match-result">
          {match &&
            (match.rule
              ? `${match.path}: exempt by rule ${match.rule.pattern} (${match.rule.match_type}, priority ${match.rule.priority})`
              : match.canonical
                ? `${match.path}: no rule matches — visitors get a challenge`
                : `${match.path}: never exempt, the path ${match.reason ?? "is not canonical"} — visitors get a challenge`)}
        </p>
        <Notice error={matchError} />
      </form>

      {editing ? (
        <RuleForm
          key={editing.id}
          rule={editing}
          onCancel={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            load();
          }}
        />
      ) : (
        <RuleForm onSaved={load} />
      )}
      <Notice error={error} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Pattern</th>
              <th scope="col">Match</th>
              <th scope="col">Priority</th>
              <th scope="col">Enabled</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rules?.map((r) => (
              <tr key={r.id} data-rule={r.pattern}>
                <td class="mono">{r.pattern}</td>
                <td>{r.match_type}</td>
                <td>{r.priority}</td>
                <td>{r.enabled ? "yes" : "no"}</td>
                <td class="actions">
                  <button type="button" onClick={() => setEditing(r)} aria-label={`Edit ${r.pattern}`}>
                    Edit
                  </button>
                  <button
                    type="button"
                    class="danger"
                    onClick={() => setDeleting(r)}
                    aria-label={`Delete ${r.pattern}`}
                  >
                    Delete…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rules?.length === 0 && <p>No rules: every path is challenged.</p>}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete rule?"
        confirmLabel="Delete rule"
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
        <p>Paths matching {deleting?.pattern} will be challenged again.</p>
      </ConfirmDialog>
    </>
  );
}
