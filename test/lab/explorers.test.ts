// Explorers through the documented routes over real HTTP: each of the eight explorers on fixed data
// against known numbers (Plotly JSON), results overridden and restored, PATCH recomputes, DashAI's
// ExplorerJob submission answered with the queued job, and bad input answered 422 naming the problem.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, enqueueForm, uploadDataset, waitForJob } from "./helpers.js";

let t: TestServer;
let notebook: { id: number };

const CSV = [
  "x,y,color,note,q",
  "1,10,red,the cat sat,0",
  "2,,blue,the dog ran,0",
  "3,30,red,,1",
  "4,40,green,a cat and a dog,-1",
  "5,50,blue,the end,0",
].join("\n");

beforeAll(async () => {
  t = await startTestServer();
  const dataset = await uploadDataset(t, "explore", { name: "explore.csv", content: CSV });
  const nb = await clients(t).dash.post("/api/v1/notebook/", { dataset_id: dataset.id, name: "explore" });
  expect(nb.status).toBe(201);
  notebook = nb.body;
});
afterAll(async () => t?.close());

/** Creates an explorer, waits for its job, answers the explorer and its figures. */
async function explore(exploration_type: string, columns: unknown[], parameters = {}) {
  const { dash } = clients(t);
  const res = await dash.post("/api/v1/explorer/", {
    notebook_id: notebook.id,
    exploration_type,
    columns,
    parameters,
    name: exploration_type,
  });
  expect(res.status, res.text).toBe(201);
  const job = await waitForJob(t, res.body.job_id);
  expect(job.status, JSON.stringify(job)).toBe("finished");
  expect(job.progress).toBe(100);
  const results = await dash.post(`/api/v1/explorer/${res.body.id}/results/`, { options: {} });
  expect(results.status, results.text).toBe(200);
  return { explorer: res.body, figures: results.body as any[] };
}

describe("explorers: figures as Plotly JSON", () => {
  it("histogram: equal-width bins of numbers, value counts of categories", async () => {
    const { figures } = await explore("HistogramPlot", ["x", { columnName: "color" }], { nbins: 2 });
    expect(figures).toHaveLength(2);
    expect(figures[0].data[0]).toMatchObject({ type: "bar", x: [2, 4], y: [2, 3], width: 2 });
    expect(figures[1].data[0]).toMatchObject({ type: "bar", x: ["blue", "red", "green"], y: [2, 2, 1] });
    expect(figures[0].layout.title.text).toBe("Histogram of x");
  });

  it("scatter (colored by a third column), box, correlation, ECDF, parallel coordinates", async () => {
    const scatter = await explore("ScatterPlot", ["x", "y", "color"]);
    const traces = scatter.figures[0].data;
    expect(traces.map((d: any) => d.name).sort()).toEqual(["color=blue", "color=green", "color=red"]);
    // Row 2 (y missing) is not drawn.
    expect(traces.find((d: any) => d.name === "color=blue")).toMatchObject({
      x: [5],
      y: [50],
      mode: "markers",
    });

    const box = await explore("BoxPlot", ["x"]);
    expect(box.figures[0].data[0]).toMatchObject({
      type: "box",
      q1: [2],
      median: [3],
      q3: [4],
      lowerfence: [1],
      upperfence: [5],
      mean: [3],
    });

    const corr = await explore("CorrelationMatrix", ["x", "q"]);
    const heat = corr.figures[0].data[0];
    expect(heat).toMatchObject({ type: "heatmap", x: ["x", "q"], y: ["x", "q"] });
    expect(heat.z[0][0]).toBeCloseTo(1, 12);
    expect(heat.z[0][1]).toBeCloseTo(-1 / Math.sqrt(20), 12);
    const spearman = await explore("CorrelationMatrix", ["x", "y"], { method: "spearman" });
    expect(spearman.figures[0].data[0].z[0][1]).toBeCloseTo(1, 12);

    const ecdf = await explore("ECDFPlot", ["x"]);
    expect(ecdf.figures[0].data[0]).toMatchObject({ x: [1, 2, 3, 4, 5], line: { shape: "hv" } });
    ecdf.figures[0].data[0].y.forEach((y: number, i: number) => expect(y).toBeCloseTo((i + 1) / 5, 12));

    const par = await explore("ParallelCoordinatesPlot", ["x", "q"]);
    expect(par.figures[0].data[0]).toMatchObject({
      type: "parcoords",
      dimensions: [
        { label: "x", values: [1, 2, 3, 4, 5], range: [1, 5] },
        { label: "q", values: [0, 0, 1, -1, 0], range: [-1, 1] },
      ],
    });
  });

  it("describe: pandas' statistics for numbers (std with n - 1) and categories", async () => {
    const { figures } = await explore("DescribeExplorer", ["x", "y", "color"]);
    const d = figures[0].describe;
    expect(d.x).toMatchObject({ count: 5, mean: 3, min: 1, "25%": 2, "50%": 3, "75%": 4, max: 5 });
    expect(d.x.std).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(d.y).toMatchObject({ count: 4, mean: 32.5 });
    expect(d.color).toMatchObject({ count: 5, unique: 3, top: "blue", freq: 2 });
    expect(figures[0].data[0].type).toBe("table");
  });

  it("word cloud: weighted words (stopwords skipped), an SVG and a Plotly text figure", async () => {
    const { figures } = await explore("WordcloudExplorer", ["note"]);
    const cloud = figures[0];
    expect(cloud.words.slice(0, 2)).toEqual([
      { text: "cat", weight: 2 },
      { text: "dog", weight: 2 },
    ]);
    expect(cloud.words.map((w: any) => w.text)).not.toContain("the");
    expect(cloud.svg).toMatch(/^<svg [^>]*>.*<text [^>]*>cat<\/text>.*<\/svg>$/);
    expect(cloud.data[0]).toMatchObject({ type: "scatter", mode: "text" });
    expect(cloud.data[0].text).toContain("dog");
  });
});

describe("explorers: CRUD, overrides, DashAI's job form", () => {
  it("lists, reads, renames, recomputes on PATCH, overrides a figure and deletes", async () => {
    const { dash } = clients(t);
    const { explorer, figures } = await explore("HistogramPlot", ["x"], { nbins: 5 });
    expect(figures[0].data[0].y).toEqual([1, 1, 1, 1, 1]);
    expect((await dash.get("/api/v1/explorer/")).body.map((e: any) => e.id)).toContain(explorer.id);
    expect(
      (await dash.get(`/api/v1/notebook/${notebook.id}/explorers`)).body.map((e: any) => e.id),
    ).toContain(explorer.id);
    const got = await dash.get(`/api/v1/explorer/${explorer.id}/`);
    expect(got.body).toMatchObject({ status: 3, exploration_type: "HistogramPlot", columns: ["x"] });

    const renamed = await dash.patch(`/api/v1/explorer/${explorer.id}/`, { name: "renamed" });
    expect(renamed.body).toMatchObject({ name: "renamed", status: 3 });
    const patched = await dash.patch(`/api/v1/explorer/${explorer.id}/`, { parameters: { nbins: 1 } });
    expect(patched.status, patched.text).toBe(200);
    expect((await waitForJob(t, patched.body.job_id)).status).toBe("finished");
    const again = await dash.post(`/api/v1/explorer/${explorer.id}/results/`, {});
    expect(again.body[0].data[0].y).toEqual([5]);

    const edited = { ...again.body[0], layout: { title: { text: "my title" } } };
    const put = await call(t, `/api/v1/explorer/${explorer.id}/results/`, {
      method: "PUT",
      headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ index: 0, figure: edited }),
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.message).toEqual(expect.any(String));
    expect((await dash.post(`/api/v1/explorer/${explorer.id}/results/`, {})).body[0].layout.title.text).toBe(
      "my title",
    );
    const outOfRange = await call(t, `/api/v1/explorer/${explorer.id}/results/`, {
      method: "PUT",
      headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ index: 3, figure: edited }),
    });
    expect(outOfRange.status).toBe(422);
    expect((await dash.del(`/api/v1/explorer/${explorer.id}/results/override/0`)).status).toBe(200);
    expect((await dash.post(`/api/v1/explorer/${explorer.id}/results/`, {})).body[0].layout.title.text).toBe(
      "Histogram of x",
    );
    expect((await dash.del(`/api/v1/explorer/${explorer.id}/results/override/0`)).status).toBe(404);

    expect((await dash.del(`/api/v1/explorer/${explorer.id}/`)).status).toBe(204);
    expect((await dash.get(`/api/v1/explorer/${explorer.id}/`)).status).toBe(404);
    expect((await dash.post(`/api/v1/explorer/${explorer.id}/results/`, {})).status).toBe(404);
    expect((await call(t, "/api/v1/explorer/")).status).toBe(401);
  });

  it("answers DashAI's ExplorerJob submission with the job POST queued; a finished one is computed again", async () => {
    const { dash } = clients(t);
    const res = await dash.post("/api/v1/explorer/", {
      notebook_id: notebook.id,
      exploration_type: "BoxPlot",
      columns: ["x"],
      parameters: {},
    });
    const form = { job_type: "ExplorerJob", kwargs: JSON.stringify({ explorer_id: res.body.id }) };
    const same = await enqueueForm(t, form);
    expect(same.status).toBe(201);
    expect(same.body.id).toBe(res.body.job_id);
    await waitForJob(t, res.body.job_id);
    const rerun = await enqueueForm(t, form);
    expect(rerun.body.id).not.toBe(res.body.job_id);
    expect((await waitForJob(t, rerun.body.id)).status).toBe("finished");
  });

  it("lists the explorers in the component registry (select_types=Explorer)", async () => {
    const res = await clients(t).dash.get("/api/v1/component/?select_types=Explorer");
    expect(res.body.map((c: any) => c.name).sort()).toEqual(
      [
        "BoxPlot",
        "CorrelationMatrix",
        "DescribeExplorer",
        "ECDFPlot",
        "HistogramPlot",
        "ParallelCoordinatesPlot",
        "ScatterPlot",
        "WordcloudExplorer",
      ].sort(),
    );
    expect(res.body.find((c: any) => c.name === "HistogramPlot").schema.properties.nbins).toMatchObject({
      type: "integer",
      default: 20,
    });
  });
});

describe("explorers: bad input", () => {
  it("answers 422 naming an unknown column, a wrong type, a wrong column count, a bad parameter or type", async () => {
    const { dash } = clients(t);
    const post = (body: Record<string, unknown>) =>
      dash.post("/api/v1/explorer/", { notebook_id: notebook.id, parameters: {}, ...body });
    let res = await post({ exploration_type: "HistogramPlot", columns: ["nope"] });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Unknown column \\"nope\\"');
    res = await post({ exploration_type: "BoxPlot", columns: ["color"] });
    expect(res.status).toBe(422);
    expect(res.text).toContain('column \\"color\\" of type text');
    res = await post({ exploration_type: "ScatterPlot", columns: ["x"] });
    expect(res.status).toBe(422);
    expect(res.text).toContain("reads 2 to 3 columns (1 given)");
    res = await post({ exploration_type: "ScatterPlot", columns: ["color", "x"] });
    expect(res.status).toBe(422);
    expect(res.text).toContain("numeric x and y");
    res = await post({ exploration_type: "HistogramPlot", columns: ["x"], parameters: { nbins: "many" } });
    expect(res.status).toBe(422);
    expect(res.text).toContain("nbins");
    res = await post({ exploration_type: "Telescope", columns: ["x"] });
    expect(res.status).toBe(422);
    expect(res.text).toContain("Unknown exploration_type");
    expect(
      (
        await dash.post("/api/v1/explorer/", {
          notebook_id: 999999,
          exploration_type: "BoxPlot",
          columns: [],
        })
      ).status,
    ).toBe(404);
  });
});
