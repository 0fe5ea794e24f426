// The tracking pages: small server-rendered HTML shells plus one script (static/tracking.js) that draws
// the charts with uPlot, served from node_modules by this server (no CDN: the product works offline).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { FastifyReply } from "fastify";
import { z } from "zod";
import { escapeHtml, htmlPage, sendHtml } from "../../platform/html.js";
import { defineRoute, type Route } from "../../platform/http/route.js";
import type { AppDeps } from "../../platform/module.js";
import { trackingAuth } from "./http.js";
import type { RunWire } from "./tracking.schema.js";
import { projectName, runName } from "./tracking.schema.js";

const require = createRequire(import.meta.url);

interface Asset {
  body: Buffer;
  type: string;
}

/** Read once at start-up: the assets are small and immutable for the life of the process. */
function loadAssets(): Map<string, Asset> {
  const here = (file: string) => new URL(`./static/${file}`, import.meta.url);
  const uplot = (file: string) => require.resolve(`uplot/dist/${file}`);
  return new Map<string, Asset>([
    ["tracking.js", { body: readFileSync(here("tracking.js")), type: "text/javascript; charset=utf-8" }],
    ["tracking.css", { body: readFileSync(here("tracking.css")), type: "text/css; charset=utf-8" }],
    [
      "uPlot.iife.min.js",
      { body: readFileSync(uplot("uPlot.iife.min.js")), type: "text/javascript; charset=utf-8" },
    ],
    ["uPlot.min.css", { body: readFileSync(uplot("uPlot.min.css")), type: "text/css; charset=utf-8" }],
  ]);
}

/** Where a browser that is not signed in goes (the web dashboard's sign-in), coming back here after. */
const SIGN_IN_PAGE = "/dashboard/";

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'";

interface PageOptions {
  title: string;
  page: string;
  crumbs: { label: string; href?: string }[];
  data?: Record<string, string>;
  body: string;
}

function layout(options: PageOptions): string {
  const data = Object.entries(options.data ?? {})
    .map(([key, value]) => ` data-${key}="${escapeHtml(value)}"`)
    .join("");
  const crumbs = options.crumbs
    .map((c) =>
      c.href
        ? `<a href="${escapeHtml(c.href)}">${escapeHtml(c.label)}</a>`
        : `<span>${escapeHtml(c.label)}</span>`,
    )
    .join(' <span class="sep">/</span> ');
  return htmlPage({
    title: `${options.title} · HiveGuard tracking`,
    head: `<link rel="stylesheet" href="/tracker/static/uPlot.min.css">
<link rel="stylesheet" href="/tracker/static/tracking.css">`,
    bodyAttributes: `data-page="${options.page}"${data}`,
    body: `<header class="top"><a class="brand" href="/">HiveGuard <small>tracking</small></a><nav class="crumbs">${crumbs}</nav></header>
<main>
${options.body}
</main>
<script src="/tracker/static/uPlot.iife.min.js"></script>
<script src="/tracker/static/tracking.js"></script>`,
  });
}

const tagList = (tags: string[]) => tags.map((t) => `<span class="tag">${escapeHtml(t)}</span>`).join(" ");
const when = (iso: string | null) =>
  iso ? `<time datetime="${iso}">${iso.replace("T", " ").slice(0, 19)}</time>` : "—";

function duration(run: RunWire): string {
  const end = run.finish_time ?? run.last_update;
  const ms = Date.parse(end) - Date.parse(run.start_time);
  if (!(ms >= 0)) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

const metadataEditor = (kind: "project" | "run") => `
<section class="meta-editor" id="meta-editor" data-kind="${kind}">
  <h2>Notes and tags</h2>
  <label>Tags <input id="tags-input" placeholder="comma,separated,tags"></label>
  <label>Notes <textarea id="notes-input" rows="3" maxlength="10240"></textarea></label>
  <button id="meta-save" type="button">Save</button> <span id="meta-status" role="status"></span>
</section>`;

const chartControls = `
<div class="controls">
  <label><input type="checkbox" id="log-y"> Log Y</label>
  <button type="button" id="reset-zoom">Reset zoom</button>
  <button type="button" id="export-csv">Export CSV</button>
  <span id="live-status" class="live" role="status">connecting…</span>
  <span class="hint">Drag to zoom, double-click to reset.</span>
</div>
<div id="charts" class="charts"></div>`;

/** The pages (HTML, not in the API document except the run page's JSON answer) and their assets. */
export function trackingPageRoutes(deps: AppDeps): Route[] {
  const tracking = deps.services.tracking;
  const auth = trackingAuth(deps);
  let assets: Map<string, Asset> | undefined;
  const projectParams = z.object({ project: projectName });

  const html = (body: string) => (reply: FastifyReply) => sendHtml(reply, body, { csp: CSP });

  return [
    defineRoute({
      method: "GET",
      path: "/tracker/static/{file}",
      auth: "public",
      params: z.object({ file: z.string() }),
      openapi: false,
      handler: async ({ params }, _request, reply) => {
        assets ??= loadAssets();
        const asset = assets.get(params.file);
        if (!asset) return reply.code(404).send({ detail: "Not found" });
        return reply.type(asset.type).header("cache-control", "public, max-age=3600").send(asset.body);
      },
    }),

    defineRoute({
      method: "GET",
      path: "/",
      auth,
      signInPage: SIGN_IN_PAGE,
      query: z.object({ q: z.string().max(200).optional() }),
      openapi: false,
      handler: async ({ query: { q } }, _request, reply) => {
        const projects = await tracking.listProjects(q);
        const rows = projects
          .map(
            (
              p,
            ) => `<tr data-name="${escapeHtml(p.name.toLowerCase())}" data-tags="${escapeHtml(p.tags.join(" ").toLowerCase())}">
  <td><a href="/projects/${encodeURIComponent(p.name)}">${escapeHtml(p.name)}</a></td>
  <td>${tagList(p.tags)}</td><td class="num">${p.run_count}</td><td>${when(p.last_update)}</td></tr>`,
          )
          .join("\n");
        return html(
          layout({
            title: "Projects",
            page: "projects",
            crumbs: [{ label: "Projects" }],
            body: `<h1>Projects</h1>
<form class="search" method="get" action="/"><input type="search" id="project-search" name="q" value="${escapeHtml(q ?? "")}" placeholder="Search by name or tag" autocomplete="off"></form>
${
  projects.length === 0
    ? `<p class="empty">No projects${q ? " match" : " yet: log a run with the SDK (see docs/tracking.md)"}.</p>`
    : `<table class="list" id="projects"><thead><tr><th>Project</th><th>Tags</th><th>Runs</th><th>Last update</th></tr></thead><tbody>
${rows}
</tbody></table>`
}`,
          }),
        )(reply);
      },
    }),

    defineRoute({
      method: "GET",
      path: "/projects/{project}",
      auth,
      signInPage: SIGN_IN_PAGE,
      params: projectParams,
      openapi: false,
      handler: async ({ params: { project } }, _request, reply) => {
        const runs = await tracking.listRuns(project);
        const selector = runs
          .map(
            (
              r,
              i,
            ) => `<label class="run-choice"><input type="checkbox" name="run" value="${escapeHtml(r.name)}"${i < 10 ? " checked" : ""}>
  <span class="swatch"></span> ${escapeHtml(r.name)} <span class="status status-${r.status}">${r.status}</span></label>`,
          )
          .join("\n");
        return html(
          layout({
            title: project,
            page: "project",
            data: { project },
            crumbs: [{ label: "Projects", href: "/" }, { label: project }],
            body: `<h1>${escapeHtml(project)}</h1>
<p><a href="/projects/${encodeURIComponent(project)}/runs">All runs (${runs.length})</a></p>
<div class="layout"><aside class="runs" id="run-selector"><h2>Runs</h2>${selector || '<p class="empty">No runs yet.</p>'}</aside>
<section class="main">${chartControls}</section></div>
${metadataEditor("project")}`,
          }),
        )(reply);
      },
    }),

    defineRoute({
      method: "GET",
      path: "/projects/{project}/runs",
      auth,
      signInPage: SIGN_IN_PAGE,
      params: projectParams,
      openapi: false,
      handler: async ({ params: { project } }, _request, reply) => {
        const runs = await tracking.listRuns(project);
        const rows = runs
          .map(
            (
              r,
            ) => `<tr data-run="${escapeHtml(r.name)}"><td><a href="/projects/${encodeURIComponent(project)}/runs/${encodeURIComponent(r.name)}">${escapeHtml(r.name)}</a></td>
  <td><span class="status status-${r.status}">${r.status}</span></td><td>${tagList(r.tags)}</td>
  <td>${when(r.start_time)}</td><td>${duration(r)}</td><td class="num">${r.last_step ?? "—"}</td></tr>`,
          )
          .join("\n");
        return html(
          layout({
            title: `${project} runs`,
            page: "runs",
            data: { project },
            crumbs: [
              { label: "Projects", href: "/" },
              { label: project, href: `/projects/${encodeURIComponent(project)}` },
              { label: "Runs" },
            ],
            body: `<h1>Runs of ${escapeHtml(project)}</h1>
<table class="list" id="runs"><thead><tr><th>Run</th><th>Status</th><th>Tags</th><th>Started</th><th>Duration</th><th>Last step</th></tr></thead><tbody>
${rows}
</tbody></table>`,
          }),
        )(reply);
      },
    }),

    defineRoute({
      method: "GET",
      path: "/projects/{project}/runs/{run}",
      auth,
      signInPage: SIGN_IN_PAGE,
      params: z.object({ project: projectName, run: runName }),
      openapi: {
        operationId: "runPage",
        tags: ["tracking pages"],
        summary: "Run detail page; with `Accept: application/json`, the run as JSON",
        responses: {
          200: {
            description: "HTML page, or the run (RunDetail) as JSON",
            content: {
              "text/html": { schema: z.string() },
              "application/json": { schema: z.record(z.string(), z.unknown()) },
            },
          },
        },
      },
      handler: async ({ params: { project, run } }, request, reply) => {
        const accept = request.headers.accept ?? "";
        const wantsJson = accept.includes("application/json") && !accept.includes("text/html");
        if (wantsJson) return reply.type("application/json").send(await tracking.runDetail(project, run));

        const detail = await tracking.runDetail(project, run);
        const keyValues = (object: Record<string, unknown>) =>
          Object.entries(object)
            .map(
              ([k, v]) =>
                `<tr><th>${escapeHtml(k)}</th><td><code>${escapeHtml(JSON.stringify(v))}</code></td></tr>`,
            )
            .join("");
        const params = keyValues(detail.params);
        const summary = keyValues(detail.summary);
        const latest = Object.entries(detail.latest_metrics)
          .map(
            ([k, v]) =>
              `<tr><th>${escapeHtml(k)}</th><td class="num">${v === null ? "NaN" : v.toPrecision(6)}</td></tr>`,
          )
          .join("");
        const artifacts = detail.artifacts
          .map(
            (a) =>
              `<li>${escapeHtml(a.name)} <small>(${a.size} bytes${a.category ? `, ${escapeHtml(a.category)}` : ""})</small>` +
              `${a.description ? ` — ${escapeHtml(a.description)}` : ""}</li>`,
          )
          .join("");
        const base = `/projects/${encodeURIComponent(project)}`;
        return html(
          layout({
            title: `${run} · ${project}`,
            page: "run",
            data: { project, run },
            crumbs: [
              { label: "Projects", href: "/" },
              { label: project, href: base },
              { label: "Runs", href: `${base}/runs` },
              { label: run },
            ],
            body: `<h1>${escapeHtml(run)} <span class="status status-${detail.status}" id="run-status">${detail.status}</span></h1>
<dl class="facts"><dt>Started</dt><dd>${when(detail.start_time)}</dd><dt>Duration</dt><dd>${duration(detail)}</dd>
<dt>Exit code</dt><dd>${detail.exit_code ?? "—"}</dd><dt>Last step</dt><dd>${detail.last_step ?? "—"}</dd></dl>
<div class="grid2"><section><h2>Params</h2>${params ? `<table class="kv">${params}</table>` : '<p class="empty">No params.</p>'}</section>
<section><h2>Latest metrics</h2>${latest ? `<table class="kv">${latest}</table>` : '<p class="empty">No metrics yet.</p>'}</section></div>
${summary ? `<section><h2>Summary</h2><table class="kv">${summary}</table></section>` : ""}
<section><h2>Charts</h2>${chartControls}</section>
<section><h2>Artifacts</h2>${
              artifacts
                ? `<ul>${artifacts}</ul><a class="button" href="/api/projects/${encodeURIComponent(project)}/runs/${encodeURIComponent(run)}/artifacts/download">Download all (ZIP)</a>`
                : '<p class="empty">No artifacts.</p>'
            }</section>
${metadataEditor("run")}`,
          }),
        )(reply);
      },
    }),
  ];
}
