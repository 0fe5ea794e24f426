// Server-Sent Events: the stream itself (headers, heartbeat, end on disconnect or shutdown) and the
// "subscribe, back-fill what was missed, then go live" sequence that makes a reconnect lose nothing. The
// fan-out across instances is the state store's pub/sub, behind the `subscribe` a caller passes.
import type { FastifyReply, FastifyRequest } from "fastify";

export interface EventStream {
  /** One SSE event; `id` is what an EventSource sends back as Last-Event-ID when it reconnects. */
  send(event: string, data: unknown, id?: number | string): void;
  end(): void;
}

/**
 * The streams open on one server (`deps.sse`), ended when it shuts down: an SSE response never becomes idle,
 * so a graceful close would otherwise wait for the clients (app.ts calls endAll on preClose).
 */
export class OpenStreams {
  readonly #ends = new Set<() => void>();

  endAll(): void {
    for (const end of this.#ends) end();
  }

  add(end: () => void): void {
    this.#ends.add(end);
  }

  delete(end: () => void): void {
    this.#ends.delete(end);
  }
}

export interface EventStreamOptions<E> {
  streams: OpenStreams;
  heartbeatMs: number;
  /** A comment sent first (e.g. "connected to <project>"). */
  greeting: string;
  /** Subscribes to live events; resolves to the unsubscribe. Called before the back-fill starts. */
  subscribe(listener: (event: E) => void): Promise<() => Promise<void>>;
  /** Sends what the client missed; live events that arrive meanwhile are held and delivered after it. */
  backfill?(stream: EventStream): Promise<void>;
  deliver(event: E, stream: EventStream): void;
  /** Called when the back-fill fails, before the stream ends (the client reconnects and retries). */
  onBackfillError(error: unknown, stream: EventStream): void;
}

/** Hijacks the reply and serves an event stream until the client goes away or the server shuts down. */
export async function serveEventStream<E>(
  request: FastifyRequest,
  reply: FastifyReply,
  options: EventStreamOptions<E>,
): Promise<void> {
  const raw = reply.raw;
  let live = false;
  const pending: E[] = [];
  let ended = false;

  const stream: EventStream = {
    send(event, data, id) {
      if (raw.writableEnded) return;
      raw.write(`${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end: () => end(),
  };

  // Subscribe first and hold live events while the gap is read, so nothing falls between the two.
  const unsubscribe = await options.subscribe((event) => {
    if (live) options.deliver(event, stream);
    else pending.push(event);
  });

  reply.hijack();
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "x-request-id": request.id,
  });
  raw.write(`retry: 3000\n: ${options.greeting}\n\n`);

  const heartbeat = setInterval(
    () => stream.send("heartbeat", { timestamp: new Date().toISOString() }),
    options.heartbeatMs,
  );
  function end() {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    options.streams.delete(end);
    void unsubscribe().catch(() => {});
    if (!raw.writableEnded) raw.end();
  }
  options.streams.add(end);
  request.raw.on("close", end);
  raw.on("error", end);

  try {
    await options.backfill?.(stream);
    live = true;
    for (const event of pending.splice(0)) options.deliver(event, stream);
  } catch (error) {
    options.onBackfillError(error, stream);
    end();
  }
}

/** `since` from the query, else the `Last-Event-ID` an EventSource sends when it reconnects. */
export function resumeFrom(request: FastifyRequest, since: number | undefined): number | undefined {
  if (since !== undefined) return since;
  const lastId = Number(request.headers["last-event-id"]);
  return Number.isSafeInteger(lastId) && lastId >= 0 ? lastId : undefined;
}
