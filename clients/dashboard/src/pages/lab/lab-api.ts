// The lab pages talk to the lab's REST API (/api/v1/…, DashAI's paths) with the dashboard's session cookie:
// every lab route takes the dashboard credentials, and writes carry X-Requested-With (CSRF protection), as
// GraphQL requests do. Errors come back as `{detail}` (a string, or FastAPI-style `[{loc, msg}]` for a 422).
import { ApiError } from "../../api.js";

const WRITE_HEADERS = { "x-requested-with": "hiveguard-dashboard" };

function detailText(detail: unknown, fallback: string): string {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail))
    return detail
      .map((d: { loc?: unknown[]; msg?: string }) => {
        const field = (d.loc ?? []).filter((p) => p !== "body" && p !== "query").join(".");
        return field ? `${field}: ${d.msg}` : String(d.msg);
      })
      .join("; ");
  return fallback;
}

/** The session ended (expired, signed out in another tab): reloading shows the sign-in form. */
function sessionGone(): void {
  location.reload();
}

function errorOf(status: number, body: unknown, statusText: string): ApiError {
  if (status === 401) sessionGone();
  const detail = (body as { detail?: unknown } | null)?.detail;
  return new ApiError(detailText(detail, `${status} ${statusText}`), status, detail, undefined);
}

export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value) params.append(key, v);
    else params.append(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** One REST call: JSON in, JSON out (null for 204). */
export async function rest<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const write = method !== "GET";
  const response = await fetch(url(path, query), {
    method,
    credentials: "same-origin",
    headers: {
      ...(write && WRITE_HEADERS),
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed: unknown = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw errorOf(response.status, parsed, response.statusText);
  return parsed as T;
}

/**
 * A multipart POST through XMLHttpRequest, whose upload events give the bytes sent (fetch has none), so
 * the page shows the file's progress. Resolves with the JSON answer.
 */
export function postForm<T>(path: string, form: FormData, onProgress: (sent: number, total: number) => void) {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.withCredentials = true;
    xhr.setRequestHeader("x-requested-with", WRITE_HEADERS["x-requested-with"]);
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    };
    xhr.onload = () => {
      const body: unknown = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else reject(errorOf(xhr.status, body, xhr.statusText));
    };
    xhr.onerror = () => reject(new ApiError("The upload did not reach the server", 0, null, undefined));
    xhr.send(form);
  });
}

// Wire shapes (docs/lab.md).

export interface LabDataset {
  id: number;
  name: string;
  created: string;
  last_modified: string;
  file_path: string | null;
  status: number;
  total_rows: number | null;
  total_columns: number | null;
  job_id: string | null;
  error: string | null;
}

export const DATASET_STATUS = ["not started", "delivered", "loading", "finished", "error"] as const;

export type ColumnType = "integer" | "float" | "categorical" | "text" | "boolean" | "datetime";
export const COLUMN_TYPES: ColumnType[] = ["integer", "float", "boolean", "datetime", "categorical", "text"];

export interface DatasetInfo {
  id: number;
  name: string;
  total_rows: number;
  total_columns: number;
  size_bytes: number;
  columns: { name: string; type: ColumnType; dtype: string; nulls: number }[];
}

export type Cell = number | boolean | string | null;

export interface LabJob {
  id: string;
  status: "not_started" | "started" | "finished" | "error" | "cancelled";
  task_type: string;
  job_name: string;
  enqueued_at: string;
  last_update: string;
  error_msg: string | null;
  progress: number;
  progress_message: string | null;
  result: unknown;
}

export const jobDone = (job: LabJob) =>
  job.status === "finished" || job.status === "error" || job.status === "cancelled";

export interface Component {
  name: string;
  type: string;
  display_name: string;
  description: string;
  schema: unknown;
  compatible_components: string[];
  maximize?: boolean;
}

export interface ModelSession {
  id: number;
  name: string;
  dataset_id: number;
  task_name: string;
  input_columns: string[];
  output_columns: string[];
  train_metrics: string[];
  validation_metrics: string[];
  test_metrics: string[];
  splits: string;
  split_sizes: { train: number; validation: number; test: number } | null;
  created: string;
}

export const components = (types: string[], related?: string) =>
  rest<Component[]>("GET", "/api/v1/component/", undefined, {
    select_types: types,
    related_component: related,
  });

/** Polls a job until it ends; `onUpdate` gets every status read. */
export async function followJob(id: string, onUpdate: (job: LabJob) => void, everyMs = 500): Promise<LabJob> {
  for (;;) {
    const job = await rest<LabJob>("GET", `/api/v1/job/status/${encodeURIComponent(id)}`);
    onUpdate(job);
    if (jobDone(job)) return job;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const fmtTime = (iso: string | null | undefined) => (iso ? iso.replace("T", " ").slice(0, 19) : "—");

export const fmtBytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
