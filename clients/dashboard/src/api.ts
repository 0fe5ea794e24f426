// The dashboard talks GraphQL (/graphql) with the session cookie of the login form; every request carries
// X-Requested-With, which the server requires of cookie-authenticated changes (CSRF protection).

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; status?: number; detail?: unknown };
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly detail: unknown,
    readonly code: string | undefined,
  ) {
    super(message);
  }

  /** Field → message of a 422, keyed by the last element of each `loc`. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    if (Array.isArray(this.detail))
      for (const issue of this.detail as { loc?: unknown[]; msg?: string }[]) {
        const key = issue.loc?.slice(1).join(".") ?? "";
        out[key] = issue.msg ?? "invalid";
      }
    return out;
  }
}

/** Listeners told when the session is gone (expired, signed out elsewhere): the app shows the login form. */
const signedOut = new Set<() => void>();
export const onSignedOut = (fn: () => void) => {
  signedOut.add(fn);
  return () => signedOut.delete(fn);
};

const HEADERS = { "content-type": "application/json", "x-requested-with": "hiveguard-dashboard" };

export async function gql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: HEADERS,
    credentials: "same-origin",
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json().catch(() => ({}))) as { data?: T; errors?: GraphQLErrorShape[] };
  const error = body.errors?.[0];
  if (error) {
    const status = error.extensions?.status ?? (response.ok ? 400 : response.status);
    if (status === 401) for (const fn of signedOut) fn();
    throw new ApiError(detailText(error), status, error.extensions?.detail, error.extensions?.code);
  }
  return body.data as T;
}

/**
 * A GraphQL subscription over SSE (graphql-yoga: GET /graphql with the query in the URL, answered as
 * `text/event-stream` with `next` and `complete` events). The session cookie goes along; a subscription
 * only reads, so it needs no X-Requested-With. If the connection drops, EventSource reconnects by itself
 * and the server starts the subscription again. Returns the function that ends it.
 */
export function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  onError: (error: ApiError) => void,
): () => void {
  const params = new URLSearchParams({ query, variables: JSON.stringify(variables) });
  const source = new EventSource(`/graphql?${params.toString()}`, { withCredentials: true });
  source.addEventListener("next", (event) => {
    const body = JSON.parse((event as MessageEvent<string>).data) as {
      data?: T;
      errors?: GraphQLErrorShape[];
    };
    const error = body.errors?.[0];
    if (error) {
      const status = error.extensions?.status ?? 400;
      if (status === 401) for (const fn of signedOut) fn();
      onError(new ApiError(detailText(error), status, error.extensions?.detail, error.extensions?.code));
    } else if (body.data) onData(body.data);
  });
  source.addEventListener("complete", () => source.close());
  return () => source.close();
}

function detailText(error: GraphQLErrorShape): string {
  const detail = error.extensions?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail))
    return detail
      .map((d: { loc?: unknown[]; msg?: string }) => {
        const field = (d.loc ?? []).slice(1).join(".");
        return field ? `${field}: ${d.msg}` : String(d.msg);
      })
      .join("; ");
  return error.message;
}

export async function session(): Promise<string | null> {
  const response = await fetch("/dashboard/session", { credentials: "same-origin" });
  const body = (await response.json().catch(() => null)) as { username?: string } | null;
  return response.ok && body?.username ? body.username : null;
}

export async function login(username: string, password: string): Promise<void> {
  const response = await fetch("/dashboard/login", {
    method: "POST",
    headers: HEADERS,
    credentials: "same-origin",
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json().catch(() => ({}))) as { detail?: unknown };
  if (!response.ok) {
    const retry = response.headers.get("retry-after");
    const text = typeof body.detail === "string" ? body.detail : "Sign-in failed";
    throw new ApiError(
      retry ? `${text} (try again in ${retry} s)` : text,
      response.status,
      body.detail,
      undefined,
    );
  }
}

export async function logout(): Promise<void> {
  await fetch("/dashboard/logout", { method: "POST", headers: HEADERS, credentials: "same-origin" });
}

/** Entries per request when the app reads a whole list (the server's largest connection page). */
export const PAGE_SIZE = 250;

/**
 * Every node of a list the schema serves as a Relay connection (`datasets`, `apiKeys`, `proxyRules`), read
 * page by page: `field(first, after) { pageInfo { hasNextPage endCursor } nodes { selection } }`.
 */
export async function allNodes<T>(field: string, selection: string): Promise<T[]> {
  const query = `query All($first: Int, $after: String) {
    ${field}(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${selection} } }
  }`;
  const nodes: T[] = [];
  let after: string | null = null;
  for (;;) {
    const data: Record<string, Connection<T>> = await gql(query, { first: PAGE_SIZE, after });
    const page = data[field]!;
    nodes.push(...page.nodes);
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return nodes;
    after = page.pageInfo.endCursor;
  }
}

interface Connection<T> {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: T[];
}
