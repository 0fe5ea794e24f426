// The documented dashboard API (shared/specs/tracking-dashboard-api.md) and our ingestion API, over real
// HTTP against the real server. The examples run exactly as written (no headers) on a server opened with
// TRACKING_AUTH=none, as upstream runs; a default server proves the dashboard credentials are required.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode } from "@msgpack/msgpack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeRunsMetrics } from "../../clients/ts/tracking/index.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** The multi-run read delta-encodes steps and timestamps (as upstream Aspara); the SDK's helper decodes. */
const undelta = (series: any): any => decodeRunsMetrics({ m: { r: series } }).m!.r!;

const STACK_TRACE = /\n\s+at |node_modules|\.(ts|js|mjs):\d+/;
let open: TestServer;
let closed: TestServer;
let BASE_URL: string;

async function call(path: string, init: RequestInit = {}, base = BASE_URL) {
  const response = await fetch(`${base}${path}`, init);
  const buffer = Buffer.from(await response.arrayBuffer());
  const text = buffer.toString("utf8");
  if (
    !response.headers.get("content-type")?.includes("zip") &&
    !response.headers.get("content-type")?.includes("msgpack")
  )
    expect(text).not.toMatch(STACK_TRACE);
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body, buffer };
}
const post = (path: string, body: unknown, method = "POST") =>
  call(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

const T0 = 1_750_000_000_000;

beforeAll(async () => {
  [open, closed] = await Promise.all([
    startTestServer({ env: { TRACKING_AUTH: "none", TRACKING_MAX_ARTIFACT_MB: "0.01" } }),
    startTestServer(),
  ]);
  BASE_URL = open.url;
  // A training as the SDK would log it: three runs, config, tags, two metrics, an artifact.
  for (const [i, run] of ["run1", "run2", "run3"].entries()) {
    const created = await post("/tracker/api/v1/projects/my_project/runs", {
      name: run,
      config: { lr: 0.01 * (i + 1), layers: [64, 32] },
      tags: ["baseline"],
    });
    expect(created.status).toBe(201);
    const records = Array.from({ length: 5 }, (_, step) => ({
      step,
      timestamp: T0 + step * 1000 + i,
      metrics: { loss: 1 / (step + 1) + i, acc: step / 10 },
    }));
    const logged = await post(`/tracker/api/v1/projects/my_project/runs/${run}/metrics`, { records });
    expect(logged.body).toEqual({ status: "ok", records: 5, points: 10, last_step: 4 });
  }
  const form = new FormData();
  form.append("file", new Blob(["weights v1"]), "model.bin");
  expect(
    (await call("/tracker/api/v1/projects/my_project/runs/run1/artifacts", { method: "POST", body: form }))
      .status,
  ).toBe(201);
  const form2 = new FormData();
  form2.append("file", new Blob(["epoch,loss\n0,1\n"]), "history.csv");
  expect(
    (await call("/tracker/api/v1/projects/my_project/runs/run1/artifacts", { method: "POST", body: form2 }))
      .status,
  ).toBe(201);
  await post("/tracker/api/v1/projects/my_project/runs/run1/finish", { exit_code: 0 });
  await post("/tracker/api/v1/projects/my_project/runs/run2/finish", { exit_code: 3 });
}, 120_000);

afterAll(async () => {
  await Promise.all([open?.close(), closed?.close()]);
});

describe("documented examples, as written", () => {
  it("lists the runs of a project", async () => {
    const runs = await call("/api/projects/my_project/runs");
    expect(runs.status).toBe(200);
    expect(runs.body.map((r: any) => r.name).sort()).toEqual(["run1", "run2", "run3"]);
    const byName = Object.fromEntries(runs.body.map((r: any) => [r.name, r]));
    expect(byName.run1).toMatchObject({
      status: "completed",
      is_finished: true,
      exit_code: 0,
      artifact_count: 2,
    });
    expect(byName.run2).toMatchObject({ status: "failed", exit_code: 3 });
    expect(byName.run3).toMatchObject({
      status: "wip",
      is_finished: false,
      tags: ["baseline"],
      last_step: 4,
    });
    expect(byName.run3.metric_names).toEqual(["acc", "loss"]);
  });

  it("answers the run page with JSON when asked with Accept: application/json, HTML otherwise", async () => {
    const json = await call("/projects/my_project/runs/run1", { headers: { Accept: "application/json" } });
    expect(json.status).toBe(200);
    expect(json.headers.get("content-type")).toContain("application/json");
    expect(json.body).toMatchObject({
      project: "my_project",
      name: "run1",
      params: { lr: 0.01, layers: [64, 32] },
      latest_metrics: { loss: 0.2, acc: 0.4 },
      artifacts: [
        { name: "history.csv", size: 15 },
        { name: "model.bin", size: 10 },
      ],
    });
    const html = await call("/projects/my_project/runs/run1");
    expect(html.headers.get("content-type")).toContain("text/html");
    expect(html.body).toContain("run1");
  });

  it("gets the metrics and the params of a run", async () => {
    const metrics = await call("/api/projects/my_project/runs/run2/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.body).toEqual({
      project: "my_project",
      run: "run2",
      metrics: {
        acc: {
          steps: [0, 1, 2, 3, 4],
          values: [0, 0.1, 0.2, 0.3, 0.4],
          timestamps: [0, 1, 2, 3, 4].map((s) => T0 + s * 1000 + 1),
        },
        loss: {
          steps: [0, 1, 2, 3, 4],
          values: [2, 1.5, 1 / 3 + 1, 1.25, 1.2],
          timestamps: [0, 1, 2, 3, 4].map((s) => T0 + s * 1000 + 1),
        },
      },
    });
    const params = await call("/api/projects/my_project/runs/run2/params");
    expect(params.body).toEqual({
      project: "my_project",
      run: "run2",
      params: { lr: 0.02, layers: [64, 32] },
    });
  });

  it("gets metrics for multiple runs, metric-first, in JSON and in msgpack (float32 values)", async () => {
    const comparison = await call(
      `/api/projects/my_project/runs/metrics?${new URLSearchParams({ runs: "run1,run2,run3" })}`,
    );
    expect(comparison.status).toBe(200);
    expect(Object.keys(comparison.body)).toEqual(["project", "metrics"]);
    expect(comparison.body.project).toBe("my_project");
    expect(Object.keys(comparison.body.metrics).sort()).toEqual(["acc", "loss"]);
    expect(Object.keys(comparison.body.metrics.loss).sort()).toEqual(["run1", "run2", "run3"]);
    // On the wire: first value absolute, then differences (upstream's delta encoding)
    expect(comparison.body.metrics.loss.run3).toEqual({
      steps: [0, 1, 1, 1, 1],
      values: [3, 2.5, 1 / 3 + 2, 2.25, 2.2],
      timestamps: [T0 + 2, 1000, 1000, 1000, 1000],
    });
    expect(undelta(comparison.body.metrics.loss.run3)).toEqual({
      steps: [0, 1, 2, 3, 4],
      values: [3, 2.5, 1 / 3 + 2, 2.25, 2.2],
      timestamps: [0, 1, 2, 3, 4].map((s) => T0 + s * 1000 + 2),
    });

    const packed = await call(`/api/projects/my_project/runs/metrics?runs=run1,run2,run3&format=msgpack`);
    expect(packed.status).toBe(200);
    expect(packed.headers.get("content-type")).toBe("application/x-msgpack");
    const decoded = decode(packed.buffer) as any;
    const asFloat32 = JSON.parse(JSON.stringify(comparison.body), (key, value) =>
      key === "values" ? value.map((v: number) => Math.fround(v)) : value,
    );
    expect(decoded).toEqual(asFloat32);
    // float32 on the wire: 0.1 does not survive as the float64 0.1
    expect(decoded.metrics.acc.run1.values[1]).toBe(Math.fround(0.1));
    expect(decoded.metrics.acc.run1.values[1]).not.toBe(0.1);
  });

  it("filters by since (UNIX ms) and leaves unknown runs out", async () => {
    const res = await call(`/api/projects/my_project/runs/metrics?runs=run1,ghost&since=${T0 + 3000}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.metrics.loss)).toEqual(["run1"]);
    expect(res.body.metrics.loss.run1.steps).toEqual([3, 1]);
    expect(undelta(res.body.metrics.loss.run1).steps).toEqual([3, 4]);
  });

  it("gets and updates run and project metadata; PUT returns the updated object", async () => {
    const metadata = await call("/api/projects/my_project/runs/run1/metadata");
    expect(metadata.body).toMatchObject({ notes: "", tags: ["baseline"], status: "completed" });

    const updated = await call("/api/projects/my_project/runs/run1/metadata", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ notes: "Experiment results were good" }),
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ notes: "Experiment results were good", tags: ["baseline"] });
    expect((await call("/api/projects/my_project/runs/run1/metadata")).body.notes).toBe(
      "Experiment results were good",
    );

    expect((await call("/api/projects/my_project/metadata")).body).toMatchObject({ notes: "", tags: [] });
    const project = await call("/api/projects/my_project/metadata", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tags: ["production", "v2"] }),
    });
    expect(project.body).toMatchObject({ notes: "", tags: ["production", "v2"] });
    expect((await call("/api/projects?q=v2")).body.map((p: any) => p.name)).toEqual(["my_project"]);
    expect((await call("/api/projects?q=nothing-like-it")).body).toEqual([]);
  });

  it("downloads the artifacts as a streamed ZIP named {project}_{run}_artifacts_{timestamp}.zip", async () => {
    const response = await call("/api/projects/my_project/runs/run1/artifacts/download");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/zip");
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename="my_project_run1_artifacts_\d{8}_\d{6}\.zip"/,
    );
    const dir = mkdtempSync(join(tmpdir(), "hg-zip-"));
    writeFileSync(join(dir, "a.zip"), response.buffer);
    execFileSync("unzip", ["-q", join(dir, "a.zip"), "-d", join(dir, "out")]);
    expect(readFileSync(join(dir, "out", "model.bin"), "utf8")).toBe("weights v1");
    expect(readFileSync(join(dir, "out", "history.csv"), "utf8")).toBe("epoch,loss\n0,1\n");

    const none = await call("/api/projects/my_project/runs/run2/artifacts/download");
    expect(none.status).toBe(404);
    expect(none.body).toEqual({ detail: "No artifacts found for this run" });
  });

  it("keeps artifact names to one plain file name, so the run's ZIP always downloads and unpacks safely", async () => {
    await post("/tracker/api/v1/projects/names/runs", { name: "r" });
    // The name goes as the `name` field (as the SDK sends it), exactly as given: a browser's FormData
    // would escape some characters of a file name.
    const upload = async (name: string, content: string) => {
      const form = new FormData();
      form.append("name", name);
      form.append("file", new Blob([content]), "upload.bin");
      return call("/tracker/api/v1/projects/names/runs/r/artifacts", { method: "POST", body: form });
    };
    const given: [string, string][] = [
      ["..\\..\\evil.bat", "evil.bat"],
      ["C:\\Windows\\win.ini", "win.ini"],
      ["D:notes.txt", "notes.txt"],
      ["bell\u0007and\u001bescape.txt", "bell_and_escape.txt"],
      ["../../etc/passwd", "passwd"],
      ['what?<is>|"this".txt', "what__is___this_.txt"],
    ];
    for (const [name, expected] of given) {
      const res = await upload(name, `content of ${expected}`);
      expect(res.status, name).toBe(201);
      expect(res.body.name, name).toBe(expected);
    }
    expect((await upload("..", "x")).status).toBe(422);
    expect((await upload("\\", "x")).status).toBe(422);

    // A row stored before this rule existed (a name with folders and a control character).
    const prisma = open.server.deps.db.prisma;
    const model = await prisma.trackingArtifact.findFirstOrThrow({ where: { name: "evil.bat" } });
    await prisma.trackingArtifact.update({
      where: { id: model.id },
      data: { name: "..\\..\\old\u0001.bat" },
    });

    const zip = await call("/api/projects/names/runs/r/artifacts/download");
    expect(zip.status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), "hg-zip-names-"));
    writeFileSync(join(dir, "a.zip"), zip.buffer);
    execFileSync("unzip", ["-q", join(dir, "a.zip"), "-d", join(dir, "out")]);
    const listed = execFileSync("unzip", ["-Z1", join(dir, "a.zip")], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(listed.sort()).toEqual(
      ["old_.bat", "win.ini", "notes.txt", "bell_and_escape.txt", "passwd", "what__is___this_.txt"].sort(),
    );
    expect(readFileSync(join(dir, "out", "old_.bat"), "utf8")).toBe("content of evil.bat");
  });

  it("deletes a run and a project with the documented messages, only with X-Requested-With", async () => {
    await post("/tracker/api/v1/projects/scratch/runs", { name: "a" });
    await post("/tracker/api/v1/projects/scratch/runs", { name: "b" });

    const refused = await call("/api/projects/scratch/runs/a", { method: "DELETE" });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: "Missing X-Requested-With header" });
    expect((await call("/api/projects/scratch/runs")).body).toHaveLength(2);

    const headers = { "X-Requested-With": "XMLHttpRequest" };
    const run = await call("/api/projects/scratch/runs/a", { method: "DELETE", headers });
    expect(run.status).toBe(200);
    expect(run.body).toEqual({ message: "Run 'scratch/a' deleted successfully" });
    expect((await call("/api/projects/scratch/runs/a/metrics")).status).toBe(404);

    const project = await call("/api/projects/scratch", { method: "DELETE", headers });
    expect(project.body).toEqual({ message: "Project 'scratch' deleted successfully" });
    expect((await call("/api/projects/scratch/runs")).status).toBe(404);
    expect((await call("/api/projects/scratch", { method: "DELETE", headers })).status).toBe(404);
  });
});

describe("ingestion behaviour", () => {
  it("auto-increments steps, overwrites a re-logged step instead of duplicating it, keeps NaN", async () => {
    await post("/tracker/api/v1/projects/ingest/runs", { name: "steps" });
    const first = await post("/tracker/api/v1/projects/ingest/runs/steps/metrics", {
      records: [
        { metrics: { loss: 1 } },
        { metrics: { loss: 2 } },
        { metrics: { loss: "NaN" }, step: 10 },
        { metrics: { loss: 4 } },
      ],
    });
    expect(first.body).toEqual({ status: "ok", records: 4, points: 4, last_step: 11 });
    // The same batch again (a retry after a lost response) changes nothing.
    await post("/tracker/api/v1/projects/ingest/runs/steps/metrics", {
      records: [
        { metrics: { loss: 1 }, step: 0 },
        { metrics: { loss: 2 }, step: 1 },
      ],
    });
    const read = await call("/api/projects/ingest/runs/steps/metrics");
    expect(read.body.metrics.loss.steps).toEqual([0, 1, 10, 11]);
    expect(read.body.metrics.loss.values).toEqual([1, 2, null, 4]);
    const packed = decode(
      (await call("/api/projects/ingest/runs/metrics?runs=steps&format=msgpack")).buffer,
    ) as any;
    // run "steps" of metric "loss": msgpack keeps the NaN that JSON shows as null
    expect(packed.metrics.loss.steps.values[2]).toBeNaN();
  });

  it("downsamples long series with LTTB to the threshold, keeping the first and last points", async () => {
    await post("/tracker/api/v1/projects/ingest/runs", { name: "long" });
    const records = Array.from({ length: 5_000 }, (_, step) => ({
      step,
      timestamp: T0 + step,
      metrics: { x: Math.sin(step / 40) },
    }));
    expect((await post("/tracker/api/v1/projects/ingest/runs/long/metrics", { records })).status).toBe(200);
    const byDefault = await call("/api/projects/ingest/runs/metrics?runs=long");
    const series = undelta(byDefault.body.metrics.x.long);
    expect(series.steps).toHaveLength(1_000);
    expect(series.steps[0]).toBe(0);
    expect(series.steps.at(-1)).toBe(4_999);
    expect(series.timestamps[500]).toBe(T0 + series.steps[500]);
    expect(series.values[500]).toBeCloseTo(Math.sin(series.steps[500] / 40), 12);
    const small = await call("/api/projects/ingest/runs/long/metrics?threshold=100");
    expect(small.body.metrics.x.steps).toHaveLength(100);
  });

  it("reads whole series from packed chunks exactly as from the rows (overwrites, gaps, NaN, chunk edges)", async () => {
    await post("/tracker/api/v1/projects/ingest/runs", { name: "chunked" });
    const log = (steps: number[], salt: number) =>
      post("/tracker/api/v1/projects/ingest/runs/chunked/metrics", {
        records: steps.map((step) => ({
          step,
          timestamp: T0 + step * 7 + salt,
          metrics: { y: step % 97 === 0 ? "NaN" : Math.cos(step / 13) * (salt + 1), z: step / 3 },
        })),
      });
    const range = (from: number, to: number, by = 1) =>
      Array.from({ length: Math.ceil((to - from) / by) }, (_, i) => from + i * by);
    expect((await log(range(2_500, 4_200), 0)).status).toBe(200);
    expect((await log(range(0, 2_600, 3), 1)).status).toBe(200); // before, and across, what is stored
    expect((await log(range(998, 1_003), 2)).status).toBe(200); // overwrites on a chunk edge
    expect((await log([9_999, 10_000, 123_456, 2_147_483_647], 3)).status).toBe(200);
    for (const threshold of [2_000, 1_000, 5_000]) {
      const chunked = await call(`/api/projects/ingest/runs/metrics?runs=chunked&threshold=${threshold}`);
      const rows = await call(
        `/api/projects/ingest/runs/metrics?runs=chunked&threshold=${threshold}&since=0`,
      );
      expect(chunked.body.metrics.y.chunked.steps.length).toBeGreaterThan(0);
      expect(chunked.body).toEqual(rows.body);
    }
  });

  it("finishing records the outcome; an idle wip run reads as maybe_failed", async () => {
    await post("/tracker/api/v1/projects/ingest/runs", { name: "idle" });
    const prisma = open.server.deps.db.prisma;
    await prisma.trackingRun.updateMany({
      where: { name: "idle" },
      data: { lastActivityAt: new Date(Date.now() - 2 * 3600_000) },
    });
    const runs = await call("/api/projects/ingest/runs");
    expect(runs.body.find((r: any) => r.name === "idle").status).toBe("maybe_failed");
    // As upstream: an existing name is a 409 unless the client asks to resume
    const again = await post("/tracker/api/v1/projects/ingest/runs", { name: "idle" });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ detail: "Run already exists" });
    const resumed = await post("/tracker/api/v1/projects/ingest/runs", {
      name: "idle",
      config: { a: 1 },
      tags: ["again"],
      resume: true,
    });
    expect(resumed.body).toMatchObject({
      resumed: true,
      run: { status: "wip", params: { a: 1 }, tags: ["again"] },
    });
  });

  it("config, tags, and GraphQL reach the same data", async () => {
    await post("/tracker/api/v1/projects/ingest/runs", { name: "cfg", config: { a: 1 } });
    const config = await post("/tracker/api/v1/projects/ingest/runs/cfg/config", { config: { b: 2 } }, "PUT");
    expect(config.body.params).toEqual({ a: 1, b: 2 });
    const tags = await post("/tracker/api/v1/projects/ingest/runs/cfg/tags", { tags: ["x", "y", "x"] });
    expect(tags.body.tags).toEqual(["x", "y"]);
    // POST tags replaces them (as upstream); `add: true` adds
    const added = await post("/tracker/api/v1/projects/ingest/runs/cfg/tags", {
      tags: ["z", "x"],
      add: true,
    });
    expect(added.body.tags).toEqual(["x", "y", "z"]);
    const replaced = await post("/tracker/api/v1/projects/ingest/runs/cfg/tags", { tags: ["y"] });
    expect(replaced.body.tags).toEqual(["y"]);
    await post("/tracker/api/v1/projects/ingest/runs/cfg/tags", { tags: ["x", "y"] });
    const gql = await post("/graphql", { query: '{ trackingRuns(project: "ingest") { name tags } }' });
    expect(gql.body.data.trackingRuns.find((r: any) => r.name === "cfg")).toEqual({
      name: "cfg",
      tags: ["x", "y"],
    });
  });
});

describe("bad input is a documented 4xx naming the field, never a 500", () => {
  const loc = (res: { body: any }) => res.body.detail.map((d: any) => d.loc);

  it("batches over 10,000 points, over 100 metric names, bad steps and values", async () => {
    await post("/tracker/api/v1/projects/limits/runs", { name: "r" });
    const big = {
      records: Array.from({ length: 2_001 }, () => ({ metrics: { a: 1, b: 2, c: 3, d: 4, e: 5 } })),
    };
    const tooMany = await post("/tracker/api/v1/projects/limits/runs/r/metrics", big);
    expect(tooMany.status).toBe(422);
    expect(loc(tooMany)).toEqual([["body", "records"]]);

    const names = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`m${i}`, i]));
    const wide = await post("/tracker/api/v1/projects/limits/runs/r/metrics", {
      records: [{ metrics: names }],
    });
    expect(wide.status).toBe(422);
    expect(wide.body.detail[0].msg).toContain("100 metric names");

    const bad = await post("/tracker/api/v1/projects/limits/runs/r/metrics", {
      records: [{ metrics: { a: "high" }, step: -1 }],
    });
    expect(bad.status).toBe(422);
    expect(loc(bad)).toEqual(
      expect.arrayContaining([
        ["body", "records", 0, "step"],
        ["body", "records", 0, "metrics", "a"],
      ]),
    );
  });

  it("notes over 10 KB and more than 100 tags", async () => {
    const notes = await post(
      "/api/projects/limits/runs/r/metadata",
      { notes: "x".repeat(10 * 1024 + 1) },
      "PUT",
    );
    expect(notes.status).toBe(422);
    expect(loc(notes)).toEqual([["body", "notes"]]);
    const tags = await post(
      "/api/projects/limits/metadata",
      { tags: Array.from({ length: 101 }, (_, i) => `t${i}`) },
      "PUT",
    );
    expect(tags.status).toBe(422);
    expect(loc(tags)).toEqual([["body", "tags"]]);
  });

  it("bad names, bad query parameters, unknown projects and runs", async () => {
    const name = await post("/tracker/api/v1/projects/limits/runs", { name: "no spaces please" });
    expect(loc(name)).toEqual([["body", "name"]]);
    const reserved = await post("/tracker/api/v1/projects/limits/runs", { name: "metrics" });
    expect(reserved.status).toBe(422);
    const path = await call("/api/projects/li%20mits/runs");
    expect(path.status).toBe(422);
    expect(loc(path)).toEqual([["path", "project"]]);

    const noRuns = await call("/api/projects/limits/runs/metrics");
    expect(noRuns.status).toBe(422);
    expect(loc(noRuns)).toEqual([["query", "runs"]]);
    const format = await call("/api/projects/limits/runs/metrics?runs=r&format=xml");
    expect(loc(format)).toEqual([["query", "format"]]);
    const since = await call("/api/projects/limits/runs/r/metrics?since=yesterday");
    expect(loc(since)).toEqual([["query", "since"]]);
    // A present but malformed value says what is wrong with it (not "Field required")
    const iso = await call("/api/projects/limits/runs/metrics?runs=r&since=2025-01-10T00:00:00Z");
    expect(iso.status).toBe(422);
    expect(iso.body.detail).toEqual([
      {
        loc: ["query", "since"],
        msg: 'since must be a UNIX timestamp in milliseconds (an integer ≥ 0), not "2025-01-10T00:00:00Z"',
        type: "custom",
      },
    ]);

    expect((await call("/api/projects/nope/runs/metrics?runs=r")).status).toBe(404);
    expect((await call("/api/projects/limits/runs/nope/params")).body).toEqual({
      detail: "Run 'nope' not found in project 'limits'",
    });
    expect(
      (await post("/tracker/api/v1/projects/limits/runs/nope/metrics", { records: [{ metrics: { a: 1 } }] }))
        .status,
    ).toBe(404);
  });

  it("artifacts: over the size limit is 413, no file is 422", async () => {
    const form = new FormData();
    form.append("file", new Blob([Buffer.alloc(20 * 1024, 1)]), "big.bin");
    const big = await call("/tracker/api/v1/projects/limits/runs/r/artifacts", {
      method: "POST",
      body: form,
    });
    expect(big.status).toBe(413);
    expect(big.body.detail).toContain("MB");
    expect((await call("/api/projects/limits/runs/r/artifacts/download")).status).toBe(404);

    const json = await post("/tracker/api/v1/projects/limits/runs/r/artifacts", { file: "x" });
    expect(json.status).toBe(422);
  });
});

describe("auth (default: the dashboard credentials)", () => {
  it("refuses the API, the streams and the pages without credentials, serves them with", async () => {
    for (const path of [
      "/api/projects/p/runs",
      "/api/projects/p/runs/metrics?runs=a",
      "/api/projects/p/runs/a/stream",
      "/",
    ]) {
      const res = await call(path, {}, closed.url);
      expect(res.status, path).toBe(401);
      expect(res.headers.get("www-authenticate"), path).toMatch(/^Basic /);
    }
    const write = await call(
      "/tracker/api/v1/projects/p/runs",
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      closed.url,
    );
    expect(write.status).toBe(401);

    const auth = { authorization: closed.dashboardAuth };
    const created = await call(
      "/tracker/api/v1/projects/p/runs",
      {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify({ name: "a" }),
      },
      closed.url,
    );
    expect(created.status).toBe(201);
    expect((await call("/api/projects/p/runs", { headers: auth }, closed.url)).body[0].name).toBe("a");
    expect((await call("/", { headers: auth }, closed.url)).status).toBe(200);
  });

  it("accepts the web dashboard's session cookie; a change made with it needs X-Requested-With", async () => {
    const login = await call(
      "/dashboard/login",
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password: closed.shared.dashboardPassword }),
      },
      closed.url,
    );
    expect(login.status).toBe(200);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    expect((await call("/api/projects/p/runs", { headers: { cookie } }, closed.url)).body[0].name).toBe("a");
    expect((await call("/", { headers: { cookie } }, closed.url)).status).toBe(200);

    const notes = JSON.stringify({ notes: "set from the page" });
    const put = (headers: Record<string, string>) =>
      call(
        "/api/projects/p/runs/a/metadata",
        { method: "PUT", headers: { "content-type": "application/json", cookie, ...headers }, body: notes },
        closed.url,
      );
    const forged = await put({});
    expect(forged.status).toBe(403);
    expect(forged.body.detail).toMatch(/X-Requested-With/);
    expect((await put({ "x-requested-with": "XMLHttpRequest" })).status).toBe(200);
    const meta = await call("/api/projects/p/runs/a/metadata", { headers: { cookie } }, closed.url);
    expect(meta.body.notes).toBe("set from the page");
  });

  it("documents every tracking path in the OpenAPI document", async () => {
    const doc = (await call("/openapi.json")).body;
    for (const path of [
      "/api/projects/{project}/runs",
      "/api/projects/{project}/runs/metrics",
      "/api/projects/{project}/runs/stream",
      "/api/projects/{project}/runs/{run}/metrics",
      "/api/projects/{project}/runs/{run}/params",
      "/api/projects/{project}/runs/{run}/stream",
      "/api/projects/{project}/runs/{run}/artifacts/download",
      "/api/projects/{project}/runs/{run}/metadata",
      "/api/projects/{project}/runs/{run}",
      "/api/projects/{project}/metadata",
      "/api/projects/{project}",
    ])
      expect(doc.paths[path], path).toBeDefined();
  });
});
