import { expect } from "vitest";
import type { TestServer } from "../support/server.js";

export const STACK_TRACE = /\n\s+at |node_modules|\.(ts|js|mjs):\d+/;
export const NIL_UUID = "00000000-0000-0000-0000-000000000000";
export const UNKNOWN_UUID = "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69";

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP call to a test server; every answer is checked for stack traces and parsed when JSON. */
export async function call<T = any>(t: TestServer, path: string, init: RequestInit = {}): Promise<Answer<T>> {
  const response = await fetch(`${t.url}${path}`, init);
  const text = await response.text();
  expect(text).not.toMatch(STACK_TRACE);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: body as T, text };
}

export function send(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

/** Client for one server: dashboard calls carry Basic auth, public calls an API key. */
export function clients(t: TestServer) {
  const dash = { authorization: t.dashboardAuth };
  return {
    dash: {
      get: <T = any>(path: string) => call<T>(t, path, { headers: dash }),
      post: <T = any>(path: string, body: unknown) => call<T>(t, path, send("POST", body, dash)),
      patch: <T = any>(path: string, body: unknown) => call<T>(t, path, send("PATCH", body, dash)),
      del: <T = any>(path: string) => call<T>(t, path, { method: "DELETE", headers: dash }),
    },
    api: (key: string) => ({
      get: <T = any>(path: string) => call<T>(t, path, { headers: { "x-hiveguard-key": key } }),
      post: <T = any>(path: string, body: unknown) =>
        call<T>(t, path, send("POST", body, { "x-hiveguard-key": key })),
    }),
  };
}

export async function createDataset(
  t: TestServer,
  body: Record<string, unknown> = { name: "Cats", modality: "image" },
): Promise<{ id: string; name: string }> {
  const res = await clients(t).dash.post("/dashboard/api/item-datasets", body);
  expect(res.status).toBe(201);
  return res.body;
}

export async function createKey(
  t: TestServer,
  body: Record<string, unknown> = { label: "test" },
): Promise<{ id: string; raw_key: string }> {
  const res = await clients(t).dash.post("/dashboard/api/apikeys", body);
  expect(res.status).toBe(201);
  return res.body;
}

/**
 * Finalized labels, written straight into the real database as the consensus engine (issue 4) will: one
 * item per label, `count` of them, answers alternating yes/no, every third one with confidence 0.6.
 */
export async function seedLabels(
  t: TestServer,
  datasetId: string,
  count: number,
  options: { state?: string; dataRefPrefix?: string } = {},
): Promise<void> {
  const prisma = t.server.deps.db.prisma;
  const state = options.state ?? "labeled";
  const prefix = options.dataRefPrefix ?? "https://example.com/img-";
  await prisma.$executeRawUnsafe(
    `WITH new_items AS (
       INSERT INTO items (dataset_id, data_ref, modality, state, vote_count)
       SELECT d.id, $2 || g, d.modality, $3::item_state, 5
       FROM datasets d, generate_series(1, $4::int) g WHERE d.id = $1::uuid
       RETURNING id, dataset_id, seq)
     INSERT INTO labels (item_id, dataset_id, label, confidence, solver_count, vote_count)
     SELECT id, dataset_id, to_jsonb(CASE WHEN seq % 2 = 0 THEN 'yes' ELSE 'no' END),
            CASE WHEN seq % 3 = 0 THEN 0.6 ELSE 0.92 END, 5, 5
     FROM new_items ORDER BY seq`,
    datasetId,
    prefix,
    state,
    count,
  );
  await prisma.$executeRawUnsafe(
    `UPDATE datasets SET item_count = item_count + $2 WHERE id = $1::uuid`,
    datasetId,
    count,
  );
  await t.server.deps.services.metrics.itemsChanged();
}

/** The proxy rules every new database starts with (migration `default_proxy_rules`, docs/proxy.md). */
export const DEFAULT_RULE_PATTERNS = ["/favicon.ico", "/robots.txt"];

/**
 * Deletes the default proxy rules through the API, as an operator may: for tests that read the whole rule
 * list or its order and were written for a database that starts with none.
 */
export async function deleteDefaultProxyRules(t: TestServer): Promise<void> {
  const list = await clients(t).dash.get("/dashboard/api/proxy-rules");
  for (const rule of list.body as { id: string; pattern: string }[])
    if (DEFAULT_RULE_PATTERNS.includes(rule.pattern))
      expect((await clients(t).dash.del(`/dashboard/api/proxy-rules/${rule.id}`)).status).toBe(204);
}
