// Notebooks and converter steps through the documented routes over real HTTP: notebook CRUD, every
// converter on fixed data against known answers (scikit-learn's numbers), the revert chain (DELETE puts the
// notebook exactly where it was before the step), a notebook saved as a dataset, and bad input answered 422
// naming the problem.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, enqueueForm, uploadDataset, waitForJob } from "./helpers.js";

let t: TestServer;
let dataset: { id: number };

const CSV = [
  "x,y,color,note,target,flat,p,q",
  "1,10,red,the cat sat,a,7,2,0",
  "2,,blue,the dog ran,b,7,-2,0",
  "3,30,red,,a,7,0,1",
  "4,40,green,a cat and a dog,b,7,0,-1",
  "5,50,blue,the end,a,7,0,0",
].join("\n");

beforeAll(async () => {
  t = await startTestServer();
  dataset = await uploadDataset(t, "small", { name: "small.csv", content: CSV });
});
afterAll(async () => t?.close());

type Data = { total_rows: number; columns: { name: string; type: string }[]; rows: Record<string, any>[] };

async function newNotebook(name = "nb") {
  const res = await clients(t).dash.post("/api/v1/notebook/", { dataset_id: dataset.id, name });
  expect(res.status, res.text).toBe(201);
  return res.body as { id: number; name: string };
}

async function data(id: number): Promise<Data> {
  const res = await clients(t).dash.get(`/api/v1/notebook/${id}/data?page_size=100`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** POST one step, wait for its job, answer the finished step. */
async function step(notebookId: number, converter: string, columns?: string[], parameters = {}) {
  const { dash } = clients(t);
  const res = await dash.post("/api/v1/converter/", {
    notebook_id: notebookId,
    converter,
    parameters,
    ...(columns && { scope: { columns } }),
  });
  expect(res.status, res.text).toBe(201);
  expect(res.body.job_id).toEqual(expect.any(String));
  const job = await waitForJob(t, res.body.job_id);
  expect(job.status, JSON.stringify(job)).toBe("finished");
  expect(job.progress).toBe(100);
  const done = await dash.get(`/api/v1/converter/${res.body.id}`);
  expect(done.body.status).toBe(3);
  return done.body;
}

const col = (d: Data, name: string) => d.rows.map((row) => row[name]);
const close = (values: number[], expected: number[]) =>
  values.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 9));

describe("notebooks", () => {
  it("creates, lists, reads, renames and deletes notebooks (and refuses anonymous calls)", async () => {
    const { dash } = clients(t);
    const nb = await newNotebook("first");
    expect(nb).toMatchObject({ name: "first", dataset_id: dataset.id, total_rows: 5, total_columns: 8 });
    const untitled = await dash.post("/api/v1/notebook/", { dataset_id: dataset.id });
    expect(untitled.body.name).toBe("Untitled Notebook");
    expect((await dash.get("/api/v1/notebook/")).body.map((n: any) => n.id)).toEqual(
      expect.arrayContaining([nb.id, untitled.body.id]),
    );
    expect((await dash.get(`/api/v1/notebook/${nb.id}`)).body.name).toBe("first");
    const renamed = await dash.patch(`/api/v1/notebook/${nb.id}`, { name: "renamed" });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe("renamed");
    expect((await dash.patch(`/api/v1/notebook/${nb.id}`, { name: "  " })).status).toBe(422);
    const d = await data(nb.id);
    expect(d.total_rows).toBe(5);
    expect(col(d, "x")).toEqual([1, 2, 3, 4, 5]);
    expect((await dash.get(`/api/v1/notebook/${nb.id}/explorers`)).body).toEqual([]);
    expect((await dash.get(`/api/v1/notebook/${nb.id}/converters`)).body).toEqual([]);

    expect((await call(t, "/api/v1/notebook/")).status).toBe(401);
    expect((await call(t, `/api/v1/converter/notebook/${nb.id}`)).status).toBe(401);
    expect((await dash.get("/api/v1/notebook/999999")).status).toBe(404);
    expect((await dash.post("/api/v1/notebook/", { dataset_id: 999999 })).status).toBe(404);

    const removed = await dash.del(`/api/v1/notebook/${untitled.body.id}`);
    expect(removed.status).toBe(204);
    expect((await dash.get(`/api/v1/notebook/${untitled.body.id}`)).status).toBe(404);
    const other = await newNotebook("bulk");
    const bulk = await call(t, "/api/v1/notebook/", {
      method: "DELETE",
      headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ ids: [other.id, 999999] }),
    });
    expect(bulk.status).toBe(204);
    expect((await dash.get(`/api/v1/notebook/${other.id}`)).status).toBe(404);
  });

  it("refuses a notebook of a dataset that is not loaded", async () => {
    const { dash } = clients(t);
    const empty = await dash.post("/api/v1/dataset/", { name: "never loaded" });
    const res = await dash.post("/api/v1/notebook/", { dataset_id: empty.body.id });
    expect(res.status).toBe(422);
    expect(res.text).toContain("not in finished state");
  });
});

describe("converters: known answers", () => {
  it("scalers: standard (mean 0, std 1), min-max ([0, 1]) and robust ((x - median) / IQR)", async () => {
    const nb = await newNotebook();
    const imputed = await step(nb.id, "SimpleImputer", ["y"], { strategy: "mean" });
    expect(imputed.result.fill_values).toEqual({ y: 32.5 });
    expect(col(await data(nb.id), "y")).toEqual([10, 32.5, 30, 40, 50]);

    await step(nb.id, "StandardScaler", ["x", "y"]);
    const d = await data(nb.id);
    for (const name of ["x", "y"]) {
      const values = col(d, name) as number[];
      const mean = values.reduce((a, b) => a + b) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(mean).toBeCloseTo(0, 12);
      expect(std).toBeCloseTo(1, 12);
    }
    close(col(d, "x"), [-Math.SQRT2, -Math.SQRT1_2, 0, Math.SQRT1_2, Math.SQRT2]);

    const nb2 = await newNotebook();
    await step(nb2.id, "MinMaxScaler", ["x"]);
    await step(nb2.id, "RobustScaler", ["p"]);
    const d2 = await data(nb2.id);
    close(col(d2, "x"), [0, 0.25, 0.5, 0.75, 1]);
    // p = [2, -2, 0, 0, 0]: median 0, q25 0, q75 0 -> IQR 0 is taken as 1 (scikit-learn keeps the column).
    close(col(d2, "p"), [2, -2, 0, 0, 0]);
    await step(nb2.id, "RobustScaler", ["x"]);
    close(col(await data(nb2.id), "x"), [-1, -0.5, 0, 0.5, 1]);
  });

  it("encoders, PCA explained variance, feature selection, text vectorizers, removers", async () => {
    const nb = await newNotebook();
    await step(nb.id, "OneHotEncoder", ["color"]);
    let d = await data(nb.id);
    expect(d.columns.map((c) => c.name)).toEqual([
      "x",
      "y",
      "color_blue",
      "color_green",
      "color_red",
      "note",
      "target",
      "flat",
      "p",
      "q",
    ]);
    expect(col(d, "color_red")).toEqual([1, 0, 1, 0, 0]);
    expect(col(d, "color_blue")).toEqual([0, 1, 0, 0, 1]);

    await step(nb.id, "OrdinalEncoder", ["target"]);
    expect(col(await data(nb.id), "target")).toEqual([0, 1, 0, 1, 0]);

    // p, q are centered with variances 2 and 0.5 (n - 1) and no covariance: ratios 0.8 and 0.2.
    const pca = await step(nb.id, "PCA", ["p", "q"], { n_components: 2 });
    close(pca.result.explained_variance, [2, 0.5]);
    close(pca.result.explained_variance_ratio, [0.8, 0.2]);
    d = await data(nb.id);
    close(col(d, "pca0"), [2, -2, 0, 0, 0]);
    close(col(d, "pca1"), [0, 0, 1, -1, 0]);
    expect(d.columns.map((c) => c.name)).not.toContain("p");

    const vt = await step(nb.id, "VarianceThreshold", ["x", "flat"], { threshold: 0 });
    expect(vt.result.removed).toEqual(["flat"]);
    expect(vt.result.variances.x).toBeCloseTo(2, 12);

    // k = 1 of three candidates against target (0/1 after the ordinal encoder): the highest F is kept.
    const kb = await step(nb.id, "SelectKBest", ["x", "color_blue", "color_red"], {
      k: 1,
      target_column: "target",
      score_func: "f_classif",
    });
    const scores = kb.result.scores as Record<string, number>;
    const best = Object.entries(scores).sort((a, b) => b[1] - a[1])[0]![0];
    expect(kb.result.removed).not.toContain(best);
    expect(kb.result.removed).toHaveLength(2);

    const nb2 = await newNotebook();
    await step(nb2.id, "BagOfWordsConverter", ["note"], { max_features: 3 });
    d = await data(nb2.id);
    // The three most frequent terms: the (3), cat (2), dog (2); one-letter "a" is not a token.
    expect(d.columns.map((c) => c.name).filter((n) => n.startsWith("note_"))).toEqual([
      "note_cat",
      "note_dog",
      "note_the",
    ]);
    expect(col(d, "note_the")).toEqual([1, 1, 0, 0, 1]);
    expect(col(d, "note_cat")).toEqual([1, 0, 0, 1, 0]);

    const nb3 = await newNotebook();
    await step(nb3.id, "TFIDFConverter", ["note"]);
    d = await data(nb3.id);
    const terms = d.columns.map((c) => c.name).filter((n) => n.startsWith("note_"));
    expect(terms).toEqual([
      "note_and",
      "note_cat",
      "note_dog",
      "note_end",
      "note_ran",
      "note_sat",
      "note_the",
    ]);
    d.rows.forEach((row, i) => {
      const norm = Math.sqrt(terms.reduce((sum, term) => sum + row[term] ** 2, 0));
      expect(norm).toBeCloseTo(i === 2 ? 0 : 1, 12);
    });
    // Row 0 "the cat sat": idf(the) = ln(6/4) + 1, idf(cat) = ln(6/3) + 1, idf(sat) = ln(6/2) + 1, l2-normed.
    const idf = [Math.log(1.5) + 1, Math.log(2) + 1, Math.log(3) + 1];
    const norm = Math.hypot(...idf);
    close(
      [d.rows[0]!.note_the, d.rows[0]!.note_cat, d.rows[0]!.note_sat],
      idf.map((x) => x / norm),
    );

    const nb4 = await newNotebook();
    const nan = await step(nb4.id, "NanRemover");
    // y is missing on row 2 (an empty text cell is the empty string, not missing).
    expect(nan.result.removed_rows).toBe(1);
    expect(col(await data(nb4.id), "x")).toEqual([1, 3, 4, 5]);
    await step(nb4.id, "ColumnRemover", ["note", "flat"]);
    d = await data(nb4.id);
    expect(d.columns.map((c) => c.name)).toEqual(["x", "y", "color", "target", "p", "q"]);
    expect((await clients(t).dash.get(`/api/v1/notebook/${nb4.id}`)).body).toMatchObject({
      total_rows: 4,
      total_columns: 6,
    });
  });
});

describe("converters: revert chain, saving, DashAI's job form", () => {
  it("DELETE reverts the notebook to the state before the step, exactly, and re-applies the steps before it", async () => {
    const { dash } = clients(t);
    const nb = await newNotebook("chain");
    const snapshots = [await data(nb.id)];
    const s1 = await step(nb.id, "SimpleImputer", ["y"], { strategy: "median" });
    snapshots.push(await data(nb.id));
    const s2 = await step(nb.id, "StandardScaler", ["x", "y"]);
    snapshots.push(await data(nb.id));
    const s3 = await step(nb.id, "OneHotEncoder", ["color"]);
    snapshots.push(await data(nb.id));
    const s4 = await step(nb.id, "PCA", ["x", "y"], { n_components: 1 });
    snapshots.push(await data(nb.id));
    expect(snapshots[4]!.columns.map((c) => c.name)).toContain("pca0");

    let list = await dash.get(`/api/v1/converter/notebook/${nb.id}`);
    expect(list.body.map((s: any) => s.id)).toEqual([s1.id, s2.id, s3.id, s4.id]);

    // Delete s3: s3 and s4 go, s1 and s2 are re-applied from the base copy.
    const revert = await dash.del(`/api/v1/converter/${s3.id}`);
    expect(revert.status, revert.text).toBe(200);
    expect(revert.body.jobId).toEqual(expect.any(String));
    expect((await waitForJob(t, revert.body.jobId)).status).toBe("finished");
    expect(await data(nb.id)).toEqual(snapshots[2]);
    list = await dash.get(`/api/v1/converter/notebook/${nb.id}`);
    expect(list.body.map((s: any) => s.id)).toEqual([s1.id, s2.id]);
    expect((await dash.get(`/api/v1/converter/${s4.id}`)).status).toBe(404);

    // A new step after the revert applies on the reverted data, as it did the first time.
    const s5 = await step(nb.id, "OneHotEncoder", ["color"]);
    expect(await data(nb.id)).toEqual(snapshots[3]);

    const back = await dash.del(`/api/v1/converter/${s2.id}`);
    expect((await waitForJob(t, back.body.jobId)).status).toBe("finished");
    expect(await data(nb.id)).toEqual(snapshots[1]);
    expect((await dash.get(`/api/v1/converter/${s5.id}`)).status).toBe(404);

    // Deleting the first step needs no job: the base copy is the state before it.
    const first = await dash.del(`/api/v1/converter/${s1.id}`);
    expect(first.body).toEqual({ jobId: null });
    expect(await data(nb.id)).toEqual(snapshots[0]);
    expect((await dash.get(`/api/v1/converter/notebook/${nb.id}`)).body).toEqual([]);
    expect((await dash.get(`/api/v1/notebook/${nb.id}`)).body.total_columns).toBe(8);
  });

  it("saves a converted notebook as a new dataset (POST /dataset/, then DatasetJob with notebook_id)", async () => {
    const { dash } = clients(t);
    const nb = await newNotebook("to save");
    await step(nb.id, "NanRemover");
    await step(nb.id, "OneHotEncoder", ["color"]);
    const created = await dash.post("/api/v1/dataset/", { name: "cleaned" });
    const job = await enqueueForm(t, {
      job_type: "DatasetJob",
      kwargs: JSON.stringify({ dataset_id: created.body.id, notebook_id: nb.id, url: "", params: {} }),
    });
    expect(job.status, job.text).toBe(201);
    expect((await waitForJob(t, job.body.id)).status).toBe("finished");
    const saved = await dash.get(`/api/v1/dataset/${created.body.id}`);
    expect(saved.body).toMatchObject({ status: 3, total_rows: 4, total_columns: 10 });
    const types = await dash.get(`/api/v1/dataset/${created.body.id}/types`);
    expect(Object.keys(types.body)).toContain("color_green");
    // The copy is the dataset's own: a later step on the notebook leaves it alone.
    await step(nb.id, "ColumnRemover", ["note"]);
    expect((await dash.get(`/api/v1/dataset/${created.body.id}`)).body.total_columns).toBe(10);
  });

  it("answers DashAI's ConverterJob submission with the job POST already queued", async () => {
    const { dash } = clients(t);
    const nb = await newNotebook();
    const res = await dash.post("/api/v1/converter/", {
      notebook_id: nb.id,
      converter: "MinMaxScaler",
      parameters: {},
      scope: { columns: [0] },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.scope.columns).toEqual(["x"]);
    const again = await enqueueForm(t, {
      job_type: "ConverterJob",
      kwargs: JSON.stringify({ converter_id: res.body.id }),
    });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(res.body.job_id);
    await waitForJob(t, res.body.job_id);
    expect(col(await data(nb.id), "x")).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });
});

describe("converters: bad input", () => {
  it("answers 422 naming an unknown column, a column of the wrong type, a bad parameter or converter", async () => {
    const { dash } = clients(t);
    const nb = await newNotebook();
    const post = (body: Record<string, unknown>) =>
      dash.post("/api/v1/converter/", { notebook_id: nb.id, ...body });
    let res = await post({ converter: "StandardScaler", scope: { columns: ["nope"] } });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Unknown column \\"nope\\"');
    res = await post({ converter: "StandardScaler", scope: { columns: ["color"] } });
    expect(res.status).toBe(422);
    expect(res.text).toContain("color");
    expect(res.text).toContain("of type text");
    res = await post({ converter: "TFIDFConverter", scope: { columns: ["x"] } });
    expect(res.status).toBe(422);
    expect(res.text).toContain('column \\"x\\" of type integer');
    res = await post({
      converter: "PCA",
      scope: { columns: ["x", "y"] },
      parameters: { n_components: "two" },
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain("n_components");
    res = await post({ converter: "Teleporter" });
    expect(res.status).toBe(422);
    expect(res.text).toContain("Unknown converter");
    res = await post({
      converter: "SimpleImputer",
      scope: { columns: ["color"] },
      parameters: { strategy: "mean" },
    });
    expect(res.status).toBe(201);
    const job = await waitForJob(t, res.body.job_id);
    expect(job.status).toBe("error");
    expect(job.error_msg).toContain("strategy mean needs a numeric column");
    expect((await dash.get(`/api/v1/converter/${res.body.id}`)).body).toMatchObject({ status: 4 });
    expect((await dash.get(`/api/v1/converter/notebook/${nb.id}`)).body).toEqual([]);
    // PCA refuses missing values at run time (y has one) and leaves the data as it was.
    res = await post({ converter: "PCA", scope: { columns: ["x", "y"] }, parameters: { n_components: 1 } });
    const pca = await waitForJob(t, res.body.job_id);
    expect(pca.error_msg).toContain('Column "y" has missing values');
    expect(col(await data(nb.id), "y")).toEqual([10, null, 30, 40, 50]);
    expect((await dash.post("/api/v1/converter/", { notebook_id: 999999, converter: "PCA" })).status).toBe(
      404,
    );
    expect((await dash.get("/api/v1/converter/999999")).status).toBe(404);
    expect((await dash.del("/api/v1/converter/999999")).status).toBe(404);
  });

  it("lists converters in the component registry with their parameter schema (select_types=Converter)", async () => {
    const res = await clients(t).dash.get("/api/v1/component/?select_types=Converter");
    expect(res.status).toBe(200);
    expect(res.body.map((c: any) => c.name).sort()).toEqual(
      [
        "BagOfWordsConverter",
        "ColumnRemover",
        "MinMaxScaler",
        "NanRemover",
        "OneHotEncoder",
        "OrdinalEncoder",
        "PCA",
        "RobustScaler",
        "SelectKBest",
        "SimpleImputer",
        "StandardScaler",
        "TFIDFConverter",
        "VarianceThreshold",
      ].sort(),
    );
    const pca = res.body.find((c: any) => c.name === "PCA");
    expect(pca.schema.properties.n_components).toMatchObject({ type: "integer", default: 2 });
    const es = await call(t, "/api/v1/component/?select_types=Converter", {
      headers: { authorization: t.dashboardAuth, "accept-language": "es" },
    });
    expect(es.body.find((c: any) => c.name === "SimpleImputer").display_name).toBe("Imputador simple");
  });
});
