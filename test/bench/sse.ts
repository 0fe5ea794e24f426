// Reading a benchmark's event stream as upstream's frontend does: POST + fetch streaming, one `data: ` line
// per event, JSON with a `type`.
import type { TestServer } from "../support/server.js";

export interface BenchStream {
  status: number;
  headers: Headers;
  /** Parsed events, in order, as they arrive. */
  events: any[];
  /** Every non-empty line received (to check the framing). */
  lines: string[];
  /** The JSON body of a refusal (status ≠ 200). */
  body: any;
  /** Resolves when the server ends the stream (or the client aborts). */
  ended: Promise<void>;
  /** Closes the connection from the client's side. */
  abort(): void;
  /** Resolves with the first event matching, or rejects after `timeoutMs`. */
  waitFor(predicate: (event: any) => boolean, timeoutMs?: number): Promise<any>;
}

export function openBenchmark(t: TestServer | string, token: string, body: unknown): Promise<BenchStream> {
  return openEventStream(t, token, "/api/benchmark", body);
}

/** Any of the bench's POST event streams (`/api/benchmark`, `/api/tool-eval`, ...). */
export async function openEventStream(
  t: TestServer | string,
  token: string,
  path: string,
  body: unknown,
): Promise<BenchStream> {
  const base = typeof t === "string" ? t : t.url;
  const controller = new AbortController();
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  const events: any[] = [];
  const lines: string[] = [];
  const waiters: { predicate: (e: any) => boolean; resolve: (e: any) => void }[] = [];
  const stream: BenchStream = {
    status: res.status,
    headers: res.headers,
    events,
    lines,
    body: null,
    ended: Promise.resolve(),
    abort: () => controller.abort(),
    waitFor(predicate, timeoutMs = 10_000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no such event in ${timeoutMs} ms; got ${JSON.stringify(events)}`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    try {
      stream.body = JSON.parse(text);
    } catch {
      stream.body = text;
    }
    return stream;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  stream.ended = (async () => {
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 1);
          if (!line) continue;
          lines.push(line);
          if (!line.startsWith("data: ")) continue;
          const event = JSON.parse(line.slice(6));
          events.push(event);
          for (const waiter of [...waiters])
            if (waiter.predicate(event)) {
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(event);
            }
        }
      }
    } catch {
      // aborted by the client
    }
  })();
  return stream;
}
