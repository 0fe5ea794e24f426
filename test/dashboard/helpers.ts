// GraphQL and session helpers of the dashboard tests.
import { expect } from "vitest";
import { type Answer, call, send } from "../guard/helpers.js";
import type { TestServer } from "../support/server.js";

export interface GqlAnswer<T = any> extends Answer {
  data: T;
  errors:
    | {
        message: string;
        path?: (string | number)[];
        extensions?: { status?: number; code?: string; detail?: unknown; limit?: string };
      }[]
    | undefined;
}

/** POST /graphql with the given headers (Basic by default). */
export async function gql<T = any>(
  t: TestServer,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = { authorization: t.dashboardAuth },
): Promise<GqlAnswer<T>> {
  const res = await call(t, "/graphql", send("POST", { query, variables }, headers));
  return { ...res, data: res.body?.data, errors: res.body?.errors };
}

/** Same, and fails the test on any GraphQL error. */
export async function gqlOk<T = any>(
  t: TestServer,
  query: string,
  variables: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Promise<T> {
  const res = await gql<T>(t, query, variables, headers);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  expect(res.status).toBe(200);
  return res.data;
}

/** Signs in through the login form; returns the Cookie header value of the session. */
export async function signIn(t: TestServer, password = t.shared.dashboardPassword): Promise<string> {
  const res = await call(t, "/dashboard/login", send("POST", { username: "admin", password }));
  expect(res.status).toBe(200);
  const setCookie = res.headers.get("set-cookie")!;
  expect(setCookie).toMatch(/^hg_session=[A-Za-z0-9_-]{43};/);
  return setCookie.split(";")[0]!;
}
