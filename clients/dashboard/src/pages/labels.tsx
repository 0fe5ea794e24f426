import { useEffect, useState } from "preact/hooks";
import { allNodes, gql } from "../api.js";
import { usePoll } from "../router.js";
import { fmtDate, Notice } from "../ui.js";

interface LabelRow {
  item_id: string;
  data_ref: string;
  label: unknown;
  confidence: number;
  solver_count: number;
  created_at: string;
  dataset_id: string;
  state: string;
}
interface LabelConnection {
  totalCount: number;
  pageInfo: { startCursor: string | null; endCursor: string | null };
  nodes: LabelRow[];
}
/** Which page to ask for: Relay connection arguments (forward from a cursor, or back from one). */
type PageArgs = { first: number; after?: string } | { last: number; before: string };

const QUERY = `query Labels($dataset_id: ID, $min_confidence: Float, $first: Int, $after: String, $last: Int, $before: String) {
  labels(dataset_id: $dataset_id, min_confidence: $min_confidence, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { startCursor endCursor }
    nodes { item_id data_ref label confidence solver_count created_at dataset_id state }
  }
}`;
const PAGE_SIZE = 25;

export function LabelsPage() {
  const [datasetId, setDatasetId] = useState("");
  const [minConfidence, setMinConfidence] = useState(0);
  const [offset, setOffset] = useState(0);
  const [pageArgs, setPageArgs] = useState<PageArgs>({ first: PAGE_SIZE });
  const [page, setPage] = useState<LabelConnection | null>(null);
  const [datasets, setDatasets] = useState<{ id: string; name: string }[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setOffset(0);
    setPageArgs({ first: PAGE_SIZE });
  }, [datasetId, minConfidence]);
  usePoll(
    () =>
      void Promise.all([
        gql<{ labels: LabelConnection }>(QUERY, {
          dataset_id: datasetId || null,
          min_confidence: minConfidence > 0 ? minConfidence : null,
          ...pageArgs,
        }),
        allNodes<{ id: string; name: string }>("datasets", "id name"),
      ])
        .then(([d, all]) => {
          setPage(d.labels);
          setDatasets(all);
          setError(null);
        })
        .catch((e: Error) => setError(e.message)),
    5000,
    [datasetId, minConfidence, pageArgs],
  );
  const names = new Map(datasets.map((d) => [d.id, d.name]));
  const total = page?.totalCount ?? 0;
  const last = Math.min(offset + PAGE_SIZE, total);

  return (
    <>
      <form class="row filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Dataset{" "}
          <select
            value={datasetId}
            onChange={(e) => setDatasetId((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">all datasets</option>
            {datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Minimum confidence{" "}
          <input
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={minConfidence}
            onInput={(e) => setMinConfidence(Number((e.currentTarget as HTMLInputElement).value))}
          />{" "}
          <output>{minConfidence.toFixed(2)}</output>
        </label>
      </form>
      <Notice error={error} />
      <p role="status" class="count">
        {total === 0 ? "No labels match." : `Labels ${offset + 1}–${last} of ${total.toLocaleString()}`}
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Label</th>
              <th scope="col">Confidence</th>
              <th scope="col">Solvers</th>
              <th scope="col">State</th>
              <th scope="col">Dataset</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {page?.nodes.map((l) => (
              <tr key={l.item_id}>
                <td class="ref" title={l.item_id}>
                  {l.data_ref}
                </td>
                <td>{typeof l.label === "string" ? l.label : JSON.stringify(l.label)}</td>
                <td>{l.confidence.toFixed(2)}</td>
                <td>{l.solver_count}</td>
                <td>{l.state.replace("_", " ")}</td>
                <td>{names.get(l.dataset_id) ?? l.dataset_id.slice(0, 8)}</td>
                <td>{fmtDate(l.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="row pager" aria-label="Pages of labels">
        <button
          type="button"
          disabled={offset === 0}
          onClick={() => {
            setOffset(Math.max(0, offset - PAGE_SIZE));
            const before = page?.pageInfo.startCursor;
            setPageArgs(before && offset > PAGE_SIZE ? { last: PAGE_SIZE, before } : { first: PAGE_SIZE });
          }}
        >
          Previous
        </button>
        <button
          type="button"
          disabled={last >= total}
          onClick={() => {
            setOffset(offset + PAGE_SIZE);
            const after = page?.pageInfo.endCursor;
            if (after) setPageArgs({ first: PAGE_SIZE, after });
          }}
        >
          Next
        </button>
      </nav>
    </>
  );
}
