// Streams a bench run's events (benchmarks, tool evals) in upstream's framing: one `data: <JSON>` line per event,
// the kind in its `type`, no `event:` lines (bench-upstream-shapes.md), a heartbeat after a quiet period, ended
// on the run's last event, when the client goes away (the run goes on) or when the server shuts down.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppDeps } from "../../../platform/module.js";
import { withHeartbeat } from "../engine/index.js";

export interface StreamedRun<E extends { type: string }> {
  id: string;
  /** Every event so far, then live ones; returns the unsubscribe. */
  subscribe(listener: (event: E) => void): () => void;
}

export function streamRunEvents<E extends { type: string }>(
  deps: AppDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  run: StreamedRun<E>,
  options: { idHeader: string; isTerminal: (event: E) => boolean },
): void {
  const raw = reply.raw;
  reply.hijack();
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-store, must-revalidate",
    connection: "keep-alive",
    "x-accel-buffering": "no",
    "x-request-id": request.id,
    [options.idHeader]: run.id,
  });
  let ended = false;
  const write = (event: { type: string }) => {
    if (!ended && !raw.writableEnded) raw.write(`data: ${JSON.stringify(event)}\n\n`);
  };
  const heartbeat = withHeartbeat(write, deps.config.bench.heartbeatMs);
  let unsubscribe = () => {};
  const end = () => {
    if (ended) return;
    ended = true;
    heartbeat.stop();
    unsubscribe();
    deps.sse.delete(end);
    if (!raw.writableEnded) raw.end();
  };
  deps.sse.add(end);
  request.raw.on("close", end);
  raw.on("error", end);
  unsubscribe = run.subscribe((event) => {
    heartbeat.emit(event as never);
    if (options.isTerminal(event)) end();
  });
}
