// The module contract: what a module (guard, tracking, lab, bench...) gives the platform, and what it gets.
// server.ts and app.ts loop over src/modules/index.ts; nothing in platform/ or trpc/ names a module.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import type { Config } from "../config.js";
import type { Authenticators } from "./auth.js";
import type { Database } from "./db.js";
import type { Route } from "./http/route.js";
import type { JobQueue } from "./jobs.js";
import type { OpenStreams } from "./sse.js";
import type { StateStore } from "./state/index.js";

/**
 * Every module's services, by name. Empty here: each module adds its own entries by declaration merging in
 * its module.ts, so the tRPC context is typed without the core importing any module:
 *
 *   declare module "../../platform/module.js" {
 *     interface Services { tracking: TrackingService }
 *   }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Services {}

/** What the platform opens once and hands to every module. */
export interface Platform {
  config: Config;
  log: Logger;
  db: Database;
  state: StateStore;
  /** Background jobs (platform/jobs.ts): modules register their job types while they are created. */
  jobs: JobQueue;
}

/** Everything long-lived the handlers need, built once in server.ts and passed down explicitly. */
export interface AppDeps extends Platform {
  auth: Authenticators;
  services: Services;
  /** Server-Sent Event streams open on this server (platform/sse.ts), ended at shutdown. */
  sse: OpenStreams;
  version: string;
  startedAt: Date;
}

/**
 * A path a module serves on the main port. `segment`: the prefix itself, or followed by `/` or `?`
 * (`/docs` but not `/docsite`); `prefix`: anything that starts with it; `exact`: the path alone (a query
 * may follow). `sitePage`: the path is where a protected site has its own pages, so it is the module's only
 * when the main port does not front a site (TARGET_URL unset, or PROXY_PORT set).
 */
export interface OwnPath {
  path: string;
  match: "segment" | "prefix" | "exact";
  sitePage?: boolean;
}

/**
 * Takes every request on the main port that no module owns (the reverse proxy). At most one module gives
 * one. `ownPort`: the separate port it may listen on (PROXY_PORT), where it hands only `appPaths` to
 * HiveGuard's app.
 */
export interface FrontHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Paths inside the modules' own paths that the front answers itself, before Fastify (forward auth). */
  takesOwnPath?(url: string): boolean;
  ownPort?: { port: number; appPaths(url: string): boolean };
  close(): Promise<void>;
}

/** What a module's `create` returns. */
export interface ModuleInstance {
  /** Merged into `deps.services` (the keys the module declared in `Services`). */
  services: Partial<Services>;
  /** Authenticators the module contributes (the guard verifies API keys, bench will verify user JWTs). */
  authenticators?: Partial<Omit<Authenticators, "dashboard">>;
  front?: FrontHandler;
  /** After every module is created, in the order of modules/index.ts. */
  start?(): Promise<void>;
  /** At shutdown, in reverse order, after the HTTP server has drained. */
  stop?(): Promise<void>;
}

/** The services of the modules created before this one (modules/index.ts lists a module after its needs). */
export interface ModuleLookup {
  need<K extends keyof Services>(name: K): Services[K];
}

export interface ModuleDefinition {
  name: string;
  /** Where its REST procedures and plain routes live (the proxy's own-path matcher is compiled from these). */
  ownPaths: OwnPath[];
  create(platform: Platform, modules: ModuleLookup): Promise<ModuleInstance> | ModuleInstance;
  /** Plain HTTP routes (streams, files, pages): validated, authenticated and documented by platform/http/route.ts. */
  routes?(deps: AppDeps, instance: ModuleInstance): Route[];
  /**
   * What routes cannot declare (content-type parsers, static assets, CORS), registered as an encapsulated
   * Fastify plugin: hooks added here apply to this module's scope only.
   */
  plugin?(scope: FastifyInstance, deps: AppDeps, instance: ModuleInstance): Promise<void> | void;
  /** OpenAPI paths the module documents by hand (rare: routes document themselves). */
  openApiPaths?: ZodOpenApiPathsObject;
  /**
   * Error bodies on the module's own paths also carry the message under this key, beside `detail` (bench:
   * `error`, which LLM Benchmark Studio's frontend reads). A 422's message names the fields.
   */
  errorMessageField?: string;
}

/** Identity with a type: `export default defineModule({...})` in src/modules/<m>/module.ts. */
export function defineModule(definition: ModuleDefinition): ModuleDefinition {
  return definition;
}

/** Compiles the modules' own paths into one matcher, dispatched on the second character (one comparison for a site path). */
export function ownPathMatcher(
  paths: OwnPath[],
  options: { siteOnMainPort: boolean },
): (url: string) => boolean {
  const byChar = new Map<number, OwnPath[]>();
  const exact: OwnPath[] = [];
  for (const own of paths) {
    if (own.sitePage && options.siteOnMainPort) continue;
    if (own.path === "/") exact.push(own);
    else byChar.set(own.path.charCodeAt(1), [...(byChar.get(own.path.charCodeAt(1)) ?? []), own]);
  }
  const rootOwned = exact.length > 0;
  return (url) => {
    const second = url.charCodeAt(1);
    if (rootOwned && (Number.isNaN(second) || second === 63) /* ? */) return true;
    const candidates = byChar.get(second);
    if (!candidates) return false;
    for (const own of candidates) if (matches(url, own)) return true;
    return false;
  };
}

function matches(url: string, own: OwnPath): boolean {
  if (!url.startsWith(own.path)) return false;
  if (own.match === "prefix") return true;
  const next = url.charCodeAt(own.path.length);
  if (Number.isNaN(next) || next === 63 /* ? */) return true;
  return own.match === "segment" && next === 47; /* / */
}
