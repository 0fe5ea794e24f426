// One lab dataset: its columns (type, missing values; change a type, rename a column) and a data grid over
// GET /api/v1/dataset/filter/ — pages, column filters (MUI's filter model), sort by clicking a header.
import { useEffect, useState } from "preact/hooks";
import { Notice } from "../../ui.js";
import {
  type Cell,
  COLUMN_TYPES,
  type ColumnType,
  type DatasetInfo,
  fmtBytes,
  type LabDataset,
  rest,
  url,
} from "./lab-api.js";
import { LabLink } from "./nav.js";

interface Filter {
  field: string;
  operator: string;
  value: string;
}
interface Sort {
  id: string;
  desc: boolean;
}

const NUMERIC_OPS: [string, string][] = [
  ["=", "="],
  ["!=", "≠"],
  ["<", "<"],
  ["<=", "≤"],
  [">", ">"],
  [">=", "≥"],
  ["isEmpty", "is empty"],
  ["isNotEmpty", "is not empty"],
];
const TEXT_OPS: [string, string][] = [
  ["contains", "contains"],
  ["equals", "equals"],
  ["doesNotEqual", "does not equal"],
  ["doesNotContain", "does not contain"],
  ["startsWith", "starts with"],
  ["endsWith", "ends with"],
  ["isEmpty", "is empty"],
  ["isNotEmpty", "is not empty"],
];
const BOOL_OPS: [string, string][] = [
  ["is", "is"],
  ["isEmpty", "is empty"],
  ["isNotEmpty", "is not empty"],
];
const opsFor = (type: ColumnType | undefined) =>
  type === "boolean"
    ? BOOL_OPS
    : type === "text" || type === "categorical"
      ? TEXT_OPS
      : type === undefined
        ? TEXT_OPS
        : NUMERIC_OPS;
const NO_VALUE = new Set(["isEmpty", "isNotEmpty"]);
const opLabel = (op: string) =>
  [...NUMERIC_OPS, ...TEXT_OPS, ...BOOL_OPS].find(([id]) => id === op)?.[1] ?? op;
const PAGE_SIZES = [10, 25, 50, 100];

const showCell = (value: Cell) =>
  value === null ? (
    <span class="missing">—</span>
  ) : typeof value === "boolean" ? (
    String(value)
  ) : (
    String(value)
  );

function Columns(props: { info: DatasetInfo; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);

  const changeType = async (column: string, type: string, select: HTMLSelectElement, old: string) => {
    setBusy(column);
    setError(null);
    setMessage(null);
    try {
      await rest("PATCH", `/api/v1/dataset/${props.info.id}/types`, { types: { [column]: type } });
      setMessage(`Column “${column}” is now ${type}`);
      props.onChanged();
    } catch (e) {
      select.value = old;
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };
  const rename = async (event: Event, column: string) => {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget as HTMLFormElement).get("new_name") ?? "");
    setError(null);
    setMessage(null);
    try {
      await rest("PATCH", `/api/v1/dataset/${props.info.id}/columns/rename`, {
        old_name: column,
        new_name: name,
      });
      setMessage(`Column “${column}” renamed to “${name.trim()}”`);
      setRenaming(null);
      props.onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section class="panel" aria-labelledby="lab-columns-title">
      <h2 id="lab-columns-title">Columns</h2>
      <div class="table-wrap">
        <table class="lab-columns">
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Type</th>
              <th scope="col">Storage</th>
              <th scope="col">Missing</th>
              <th scope="col">Rename</th>
            </tr>
          </thead>
          <tbody>
            {props.info.columns.map((c) => (
              <tr key={c.name} data-column={c.name}>
                <th scope="row">{c.name}</th>
                <td>
                  <select
                    aria-label={`Type of ${c.name}`}
                    value={c.type}
                    disabled={busy !== null}
                    onChange={(e) => {
                      const select = e.currentTarget as HTMLSelectElement;
                      void changeType(c.name, select.value, select, c.type);
                    }}
                  >
                    {COLUMN_TYPES.map((t) => (
                      <option key={t} value={t}>
                        {t}
                      </option>
                    ))}
                  </select>
                  {busy === c.name && <span aria-live="polite"> converting…</span>}
                </td>
                <td class="mono">{c.dtype}</td>
                <td>{c.nulls.toLocaleString()}</td>
                <td>
                  {renaming === c.name ? (
                    <form class="row" onSubmit={(e) => void rename(e, c.name)}>
                      <input
                        name="new_name"
                        required
                        maxLength={255}
                        defaultValue={c.name}
                        aria-label={`New name for ${c.name}`}
                        autofocus
                      />
                      <button type="submit">Save</button>
                      <button type="button" onClick={() => setRenaming(null)}>
                        Cancel
                      </button>
                    </form>
                  ) : (
                    <button type="button" onClick={() => setRenaming(c.name)} aria-label={`Rename ${c.name}`}>
                      Rename…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Notice error={error} ok={message} />
    </section>
  );
}

function FilterForm(props: { info: DatasetInfo; onAdd: (f: Filter) => void }) {
  const [field, setField] = useState(props.info.columns[0]?.name ?? "");
  const type = props.info.columns.find((c) => c.name === field)?.type;
  const ops = opsFor(type);
  const [operator, setOperator] = useState(ops[0]![0]);
  useEffect(() => {
    if (!ops.some(([id]) => id === operator)) setOperator(ops[0]![0]);
  }, [type]);
  const submit = (event: Event) => {
    event.preventDefault();
    const formEl = event.currentTarget as HTMLFormElement;
    const value = String(new FormData(formEl).get("value") ?? "");
    props.onAdd({ field, operator, value });
    formEl.reset();
  };
  return (
    <form class="row lab-filter" onSubmit={submit} aria-label="Add a filter">
      <label>
        Column
        <select value={field} onChange={(e) => setField((e.currentTarget as HTMLSelectElement).value)}>
          {props.info.columns.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Operator
        <select value={operator} onChange={(e) => setOperator((e.currentTarget as HTMLSelectElement).value)}>
          {ops.map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {!NO_VALUE.has(operator) &&
        (type === "boolean" ? (
          <label>
            Value
            <select name="value">
              <option value="true">true</option>
              <option value="false">false</option>
            </select>
          </label>
        ) : (
          <label>
            Value
            <input
              name="value"
              required
              type={type === "datetime" ? "text" : "text"}
              inputMode={type === "integer" || type === "float" ? "decimal" : undefined}
              placeholder={type === "datetime" ? "2024-01-31" : ""}
            />
          </label>
        ))}
      <button type="submit">Add filter</button>
    </form>
  );
}

function Grid(props: { info: DatasetInfo; path: string; version: number }) {
  const [filters, setFilters] = useState<Filter[]>([]);
  const [logic, setLogic] = useState<"and" | "or">("and");
  const [sort, setSort] = useState<Sort | null>(null);
  const [page, setPage] = useState(0);
  const [pageSize, setPageSize] = useState(10);
  // What the table shows, with the page it is: the status line describes the rows on screen, not the
  // page asked for while it loads.
  const [shown, setShown] = useState<{ rows: Record<string, Cell>[]; total: number; start: number } | null>(
    null,
  );
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const columns = props.info.columns.map((c) => c.name);
  const filterModel =
    filters.length > 0 ? JSON.stringify({ items: filters, logicOperator: logic }) : undefined;
  const sortModel = sort ? JSON.stringify([sort]) : undefined;

  useEffect(() => {
    let stale = false;
    setLoading(true);
    rest<{ rows: Record<string, Cell>[]; total: number }>("GET", "/api/v1/dataset/filter/", undefined, {
      path: props.path,
      page,
      page_size: pageSize,
      filterModel,
      sortModel,
    })
      .then((r) => {
        if (stale) return;
        setShown({ rows: r.rows, total: r.total, start: page * pageSize });
        setError(null);
        // The filter shrank the result below the current page: go back to the last page that has rows.
        if (r.rows.length === 0 && page > 0 && r.total > 0) setPage(Math.ceil(r.total / pageSize) - 1);
      })
      .catch((e: Error) => !stale && setError(e.message))
      .finally(() => !stale && setLoading(false));
    return () => {
      stale = true;
    };
  }, [props.path, props.version, page, pageSize, filterModel, sortModel]);

  const rows = shown?.rows ?? null;
  const total = shown?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = rows?.length ? shown!.start + 1 : 0;
  const last = rows?.length ? shown!.start + rows.length : 0;
  const cycleSort = (column: string) => {
    setPage(0);
    setSort((s) =>
      !s || s.id !== column ? { id: column, desc: false } : !s.desc ? { id: column, desc: true } : null,
    );
  };
  const exportHref = url("/api/v1/dataset/export/csv", {
    path: props.path,
    filter_model: filterModel,
    sort_model: sortModel,
  });

  return (
    <section class="panel" aria-labelledby="lab-grid-title">
      <h2 id="lab-grid-title">Data</h2>
      <FilterForm
        info={props.info}
        onAdd={(f) => {
          setPage(0);
          setFilters((fs) => [...fs, f]);
        }}
      />
      {filters.length > 0 && (
        <div class="row lab-chips" aria-label="Active filters">
          {filters.length > 1 && (
            <label>
              Match
              <select
                value={logic}
                onChange={(e) => setLogic((e.currentTarget as HTMLSelectElement).value as "and" | "or")}
              >
                <option value="and">all filters</option>
                <option value="or">any filter</option>
              </select>
            </label>
          )}
          {filters.map((f, i) => (
            <span class="chip" key={`${i}-${f.field}`}>
              {f.field} {opLabel(f.operator)} {NO_VALUE.has(f.operator) ? "" : `“${f.value}”`}
              <button
                type="button"
                class="link"
                aria-label={`Remove filter ${f.field} ${opLabel(f.operator)} ${f.value}`}
                onClick={() => {
                  setPage(0);
                  setFilters((fs) => fs.filter((_, j) => j !== i));
                }}
              >
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      <Notice error={error} />
      <div class="table-wrap">
        <table class="lab-grid" aria-busy={loading} aria-rowcount={total + 1}>
          <caption class="sr-only">Rows of {props.info.name}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th
                  key={c}
                  scope="col"
                  aria-sort={sort?.id === c ? (sort.desc ? "descending" : "ascending") : undefined}
                >
                  <button type="button" class="link sort" onClick={() => cycleSort(c)}>
                    {c}
                    <span aria-hidden="true">{sort?.id === c ? (sort.desc ? " ▼" : " ▲") : ""}</span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows?.map((row, i) => (
              <tr key={shown!.start + i}>
                {columns.map((c) => (
                  <td key={c}>{showCell(row[c] ?? null)}</td>
                ))}
              </tr>
            ))}
            {rows?.length === 0 && (
              <tr>
                <td colSpan={columns.length}>No rows match.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div class="row lab-pager">
        <span role="status" class="grid-status">
          Rows {first.toLocaleString()}–{last.toLocaleString()} of {total.toLocaleString()}
        </span>
        <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
          Previous
        </button>
        <span>
          Page {page + 1} of {pages.toLocaleString()}
        </span>
        <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
          Next
        </button>
        <label>
          Rows per page
          <select
            value={pageSize}
            onChange={(e) => {
              setPage(0);
              setPageSize(Number((e.currentTarget as HTMLSelectElement).value));
            }}
          >
            {PAGE_SIZES.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <a class="button" href={exportHref} download>
          Export {filters.length > 0 || sort ? "this view" : "all"} as CSV
        </a>
      </div>
    </section>
  );
}

export function LabDatasetPage(props: { id: number }) {
  const [dataset, setDataset] = useState<LabDataset | null>(null);
  const [info, setInfo] = useState<DatasetInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    Promise.all([
      rest<LabDataset>("GET", `/api/v1/dataset/${props.id}`),
      rest<DatasetInfo>("GET", `/api/v1/dataset/${props.id}/info`),
    ])
      .then(([d, i]) => {
        setDataset(d);
        setInfo(i);
        setError(null);
      })
      .catch((e: Error) => setError(e.message));
  }, [props.id, version]);

  return (
    <>
      <p>
        <LabLink to="lab">← All lab datasets</LabLink>
      </p>
      <Notice error={error} />
      {dataset && info && (
        <>
          <h2 class="lab-title">{dataset.name}</h2>
          <p class="lab-facts">
            <strong>{info.total_rows.toLocaleString()}</strong> rows · <strong>{info.total_columns}</strong>{" "}
            columns · {fmtBytes(info.size_bytes)} on disk ·{" "}
            <a href={`/api/v1/dataset/${dataset.id}/export/csv`} download>
              Download CSV
            </a>
          </p>
          <Columns info={info} onChanged={() => setVersion((v) => v + 1)} />
          <Grid info={info} path={dataset.file_path ?? `datasets/${dataset.id}`} version={version} />
        </>
      )}
    </>
  );
}
