// Services a test owns so it can take them away: a redis-server process on a port of its own, and a TCP proxy
// in front of any TCP service (PostgreSQL) that can be cut and restored. The shared services stay untouched.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import net from "node:net";
import { expect } from "vitest";
import type { PrismaClient } from "../../src/generated/prisma/client.js";
import { STACK_TRACE } from "../guard/helpers.js";

/** Whether an executable is on the PATH (the outage tests need redis-server). */
export function hasBinary(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface OwnRedis {
  url: string;
  port: number;
  /** Stops the process (SIGKILL: no goodbye to the clients, as in a crash) and waits for its exit. */
  kill(): Promise<void>;
  /** Starts a fresh, empty redis-server on the same port. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers. */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

/** `redis-server --port <free> --save '' --appendonly no`, owned by the test. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const launch = async () => {
    const proc = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      proc.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
    proc.stdout!.resume();
    proc.stderr!.resume();
  };
  const kill = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill("SIGCONT");
    proc.kill("SIGKILL");
    await exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start: launch,
    freeze: () => child?.kill("SIGSTOP"),
    thaw: () => child?.kill("SIGCONT"),
    stop: kill,
  };
}

export interface TcpProxy {
  /** The target URL with host and port replaced by the proxy's. */
  url: string;
  /** Stops accepting and drops every open connection: the service looks down (connection refused). */
  cut(): Promise<void>;
  restore(): Promise<void>;
  stop(): Promise<void>;
}

/** A TCP proxy in front of `targetUrl`'s host and port, listening on a free port of 127.0.0.1. */
export async function startTcpProxy(targetUrl: string, defaultPort: number): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port || defaultPort), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  const drop = async () => {
    const closed = server.listening
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return {
    url: url.toString(),
    cut: drop,
    async restore() {
      await listen(port);
    },
    stop: drop,
  };
}

export interface Answer {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/**
 * A request during an outage: one that has not answered after `hangMs` fails the test as hanging; a body must
 * never hold a stack trace; JSON bodies are parsed.
 */
export async function requestWithin(hangMs: number, url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(hangMs) });
  const text = await res.text();
  expect(text).not.toMatch(STACK_TRACE);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, text, headers: res.headers };
}

/**
 * Every vote the server acknowledged (`acknowledged`: count per item data_ref) is stored as a row of the
 * dataset's votes. Returns how many votes were acknowledged.
 */
export async function expectAcknowledgedVotesStored(
  prisma: PrismaClient,
  datasetId: string,
  acknowledged: Map<string, number>,
): Promise<number> {
  const rows = await prisma.$queryRawUnsafe<{ data_ref: string; votes: number }[]>(
    `SELECT i.data_ref, count(v.*)::int AS votes FROM items i LEFT JOIN votes v ON v.item_id = i.id
     WHERE i.dataset_id = $1::uuid GROUP BY i.data_ref`,
    datasetId,
  );
  const stored = new Map(rows.map((row) => [row.data_ref, row.votes]));
  let total = 0;
  for (const [ref, count] of acknowledged) {
    expect({ ref, stored: stored.get(ref) ?? 0 }).toEqual({ ref, stored: expect.any(Number) });
    expect(stored.get(ref) ?? 0).toBeGreaterThanOrEqual(count);
    total += count;
  }
  return total;
}
