// Lab datasets through the documented routes (DashAI's /api/v1/dataset and the DatasetJob upload), over real
// HTTP on the configured storage (PGlite by default, PostgreSQL with DATABASE_URL).
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, enqueueForm, uploadDataset, waitForJob } from "./helpers.js";

let t: TestServer;
const iris = readFileSync(join(import.meta.dirname, "../fixtures/lab/iris.csv"));

beforeAll(async () => {
  t = await startTestServer({ env: { LAB_MAX_UPLOAD_MB: "1" } });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const labDir = () => t.config.lab.dataDir;
/** Nothing left in staging or uploads (a failed load leaves nothing half stored). */
function leftovers(): string[] {
  return ["tmp", "uploads"].flatMap((sub) =>
    existsSync(join(labDir(), sub)) ? readdirSync(join(labDir(), sub)).map((name) => `${sub}/${name}`) : [],
  );
}

describe("upload (create, then a DatasetJob form) and type inference", () => {
  it("loads a CSV: counts, types per column, sample, info", async () => {
    const { dash } = clients(t);
    const ds = await uploadDataset(t, "iris", { name: "iris.csv", content: iris });
    expect(ds).toMatchObject({ total_rows: 150, total_columns: 5, file_path: `datasets/${ds.id}` });
    const types = await dash.get(`/api/v1/dataset/${ds.id}/types`);
    expect(types.status).toBe(200);
    expect(types.body.sepal_length_cm).toMatchObject({ type: "float", dtype: "float64" });
    expect(types.body.species).toMatchObject({ type: "categorical" });
    const sample = await dash.get(`/api/v1/dataset/${ds.id}/sample`);
    expect(Object.keys(sample.body)).toEqual([
      "sepal_length_cm",
      "sepal_width_cm",
      "petal_length_cm",
      "petal_width_cm",
      "species",
    ]);
    expect(sample.body.species).toHaveLength(10);
    // Spread over the file: the three species show up.
    expect(new Set(sample.body.species)).toEqual(new Set(["setosa", "versicolor", "virginica"]));
    const info = await dash.get(`/api/v1/dataset/${ds.id}/info`);
    expect(info.body).toMatchObject({ total_rows: 150, total_columns: 5 });
    expect(await dash.get(`/api/v1/dataset/${ds.id}/model-sessions-exist`)).toMatchObject({
      status: 200,
      body: false,
    });
    expect(leftovers()).toEqual([]);
  });

  it("infers integer, float, boolean, datetime, categorical and text; missing values are null", async () => {
    const { dash } = clients(t);
    const lines = ["id,score,flag,when,color,comment"];
    for (let i = 0; i < 40; i++)
      lines.push(
        `${i},${i === 3 ? "" : (i * 0.5).toFixed(1)},${i % 2 ? "true" : "False"},2024-01-${String((i % 28) + 1).padStart(2, "0")},${["red", "green"][i % 2]},comment number ${i} is unique`,
      );
    const ds = await uploadDataset(t, "kinds", { name: "kinds.csv", content: lines.join("\n") });
    const types = (await dash.get(`/api/v1/dataset/${ds.id}/types`)).body;
    expect(Object.fromEntries(Object.entries(types).map(([k, v]: [string, any]) => [k, v.type]))).toEqual({
      id: "integer",
      score: "float",
      flag: "boolean",
      when: "datetime",
      color: "categorical",
      comment: "text",
    });
    expect(types.score.nulls).toBe(1);
    const page = await dash.get(`/api/v1/dataset/filter/?path=${ds.file_path}&page=0&page_size=4`);
    expect(page.body.total).toBe(40);
    expect(page.body.rows[3]).toEqual({
      id: 3,
      score: null,
      flag: true,
      when: "2024-01-04T00:00:00.000Z",
      color: "green",
      comment: "comment number 3 is unique",
    });
  });

  it("loads JSON, JSONL and Parquet", async () => {
    const { dash } = clients(t);
    const rows = [
      { a: 1, b: "x", c: true },
      { a: 2, b: "y", c: false },
      { a: 3, b: "x", c: null, d: 1.5 },
    ];
    const json = await uploadDataset(
      t,
      "json",
      { name: "rows.json", content: JSON.stringify(rows), type: "application/json" },
      { dataloader: "JSONDataLoader" },
    );
    expect(json).toMatchObject({ total_rows: 3, total_columns: 4 });
    const jsonl = await uploadDataset(t, "jsonl", {
      name: "rows.jsonl",
      content: rows.map((row) => JSON.stringify(row)).join("\n"),
    });
    expect(jsonl).toMatchObject({ total_rows: 3, total_columns: 4 });
    const jsonlTypes = (await dash.get(`/api/v1/dataset/${jsonl.id}/types`)).body;
    expect(jsonlTypes.a.type).toBe("integer");
    expect(jsonlTypes.c.type).toBe("boolean");
    expect(jsonlTypes.d).toMatchObject({ type: "float", nulls: 2 });

    const n = 1000;
    const parquet = parquetWriteBuffer({
      columnData: [
        { name: "x", data: Float64Array.from({ length: n }, (_, i) => i / 4), type: "DOUBLE" },
        { name: "k", data: Int32Array.from({ length: n }, (_, i) => i), type: "INT32" },
        {
          name: "label",
          data: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? "yes" : "no")),
          type: "STRING",
        },
      ],
    });
    const pq = await uploadDataset(
      t,
      "parquet",
      { name: "data.parquet", content: new Uint8Array(parquet), type: "application/octet-stream" },
      { dataloader: "ParquetDataLoader" },
    );
    expect(pq).toMatchObject({ total_rows: n, total_columns: 3 });
    const types = (await dash.get(`/api/v1/dataset/${pq.id}/types`)).body;
    expect([types.x.type, types.k.type, types.label.type]).toEqual(["float", "integer", "categorical"]);
    const page = await dash.get(`/api/v1/dataset/filter/?path=${pq.file_path}&page=2&page_size=2`);
    expect(page.body.rows).toEqual([
      { x: 1, k: 4, label: "no" },
      { x: 1.25, k: 5, label: "no" },
    ]);
  });
});

describe("bad uploads: 422/413 with the reason, nothing half stored", () => {
  async function attempt(
    file: { name: string; content: string | Buffer },
    params: Record<string, unknown> = {},
  ) {
    const { dash } = clients(t);
    const created = await dash.post("/api/v1/dataset/", { name: `bad-${Math.random()}` });
    const res = await enqueueForm(
      t,
      { job_type: "DatasetJob", kwargs: JSON.stringify({ dataset_id: created.body.id, url: "", params }) },
      file,
    );
    const after = await dash.get(`/api/v1/dataset/${created.body.id}`);
    expect(after.body).toMatchObject({ status: 0, file_path: null });
    expect(existsSync(join(labDir(), "datasets", String(created.body.id)))).toBe(false);
    expect(leftovers()).toEqual([]);
    return res;
  }

  it("empty file", async () => {
    const res = await attempt({ name: "empty.csv", content: "" });
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/empty/);
  });

  it("broken CSV (a row with another field count, an unclosed quote)", async () => {
    const fields = await attempt({ name: "broken.csv", content: "a,b\n1,2\n3,4,5\n" });
    expect(fields.status).toBe(422);
    expect(fields.body.detail).toMatch(/broken CSV.*got 3 on line 3/);
    const quote = await attempt({ name: "quote.csv", content: 'a,b\n1,"2\n3,4\n' });
    expect(quote.status).toBe(422);
    expect(quote.body.detail).toMatch(/broken CSV/);
  });

  it("wrong type (a PNG, a fake Parquet, broken JSON)", async () => {
    const png = await attempt({
      name: "image.png",
      content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    });
    expect(png.status).toBe(422);
    expect(png.body.detail).toMatch(/binary file|unsupported/);
    const fake = await attempt(
      { name: "x.parquet", content: "a,b\n1,2\n" },
      { dataloader: "ParquetDataLoader" },
    );
    expect(fake.status).toBe(422);
    expect(fake.body.detail).toMatch(/Parquet/);
    const json = await attempt({ name: "x.json", content: '[{"a": 1}, {"a": ' });
    expect(json.status).toBe(422);
    expect(json.body.detail).toMatch(/broken JSON/);
  });

  it("oversize: a file over LAB_MAX_UPLOAD_MB, and a 2 GB claimed Content-Length", async () => {
    const big = await attempt({ name: "big.csv", content: `a\n${"1\n".repeat(600_000)}` });
    expect(big.status).toBe(413);
    expect(big.body.detail).toMatch(/LAB_MAX_UPLOAD_MB/);
    // A client announcing 2 GB is refused before the body is read.
    const claimed = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${t.url}/api/v1/job/`);
      import("node:http").then(({ request }) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: "POST",
            headers: {
              authorization: t.dashboardAuth,
              "content-type": "multipart/form-data; boundary=xyz",
              "content-length": String(2 * 1024 ** 3),
            },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
            req.destroy();
          },
        );
        req.on("error", reject);
        req.write("--xyz\r\n");
      });
    });
    expect(claimed).toBe(413);
  });

  it("a JSON body, missing fields, unknown job type, unknown dataset", async () => {
    const { dash } = clients(t);
    const json = await dash.post("/api/v1/job/", { job_type: "DatasetJob", kwargs: {} });
    expect(json.status).toBe(422);
    expect(JSON.stringify(json.body)).toMatch(/Missing job_type or kwargs/);
    const missing = await enqueueForm(t, { job_type: "DatasetJob" });
    expect(missing.status).toBe(422);
    const unknown = await enqueueForm(t, { job_type: "NoSuchJob", kwargs: "{}" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail).toMatch(/Unknown job_type/);
    const noDataset = await enqueueForm(
      t,
      { job_type: "DatasetJob", kwargs: JSON.stringify({ dataset_id: 999999, params: {} }) },
      { name: "a.csv", content: "a\n1\n" },
    );
    expect(noDataset.status).toBe(404);
    expect(leftovers()).toEqual([]);
  });

  it("a value that breaks a chosen type fails the job; the dataset is ERROR with the reason", async () => {
    const { dash } = clients(t);
    const created = await dash.post("/api/v1/dataset/", { name: "bad-type" });
    const job = await enqueueForm(
      t,
      {
        job_type: "DatasetJob",
        kwargs: JSON.stringify({
          dataset_id: created.body.id,
          params: { inferred_types: { a: "Integer" } },
        }),
      },
      { name: "a.csv", content: "a,b\n1,2\nx,3\n" },
    );
    expect(job.status).toBe(201);
    const done = await waitForJob(t, job.body.id);
    expect(done).toMatchObject({ status: "error" });
    expect(done.error_msg).toMatch(/column "a": value "x" in row 2 is not an integer/);
    const after = await dash.get(`/api/v1/dataset/${created.body.id}`);
    expect(after.body).toMatchObject({ status: 4, file_path: null });
    expect(after.body.error).toMatch(/not an integer/);
    expect((await dash.get(`/api/v1/dataset/${created.body.id}/sample`)).body).toEqual({
      detail: "Dataset is not in finished state",
    });
    expect(leftovers()).toEqual([]);
  });
});

describe("reading and changing a dataset", () => {
  let id: number;
  let path: string;
  beforeAll(async () => {
    const lines = ["name,age,city,note"];
    const cities = ["Lima", "Santiago", "Quito", "Bogotá"];
    for (let i = 0; i < 30; i++)
      lines.push(
        `person${i},${20 + (i % 10)},${cities[i % 4]},${i === 5 ? '"=HYPERLINK(""http://x"")"' : i === 6 ? "-5" : "ok"}`,
      );
    const ds = await uploadDataset(t, "people", { name: "people.csv", content: lines.join("\n") });
    id = ds.id;
    path = ds.file_path;
  });

  it("filter/: pagination, column filters (and/or), sort, bad models are 422", async () => {
    const { dash } = clients(t);
    const q = (params: Record<string, unknown>) =>
      dash.get(
        `/api/v1/dataset/filter/?${new URLSearchParams(
          Object.fromEntries(
            Object.entries({ path, ...params }).map(([k, v]) => [
              k,
              typeof v === "string" ? v : JSON.stringify(v),
            ]),
          ),
        )}`,
      );
    const p1 = await q({ page: "1", page_size: "7" });
    expect(p1.body.total).toBe(30);
    expect(p1.body.rows.map((r: any) => r.name)).toEqual(
      Array.from({ length: 7 }, (_, i) => `person${7 + i}`),
    );
    const lima = await q({ filterModel: { items: [{ field: "city", operator: "equals", value: "Lima" }] } });
    expect(lima.body.total).toBe(8);
    const old = await q({
      filterModel: {
        items: [
          { field: "age", operator: ">=", value: "28" },
          { columnField: "city", operatorValue: "isAnyOf", value: ["Quito"] },
        ],
        logicOperator: "and",
      },
      sortModel: [{ id: "name", desc: true }],
      page_size: "100",
    });
    expect(old.body.rows.map((r: any) => [r.name, r.age, r.city])).toEqual([["person18", 28, "Quito"]]);
    // Strings sort naturally (person9 before person19).
    const sorted = await q({
      sortModel: [
        { id: "age", desc: true },
        { id: "name", desc: false },
      ],
      page_size: "3",
    });
    expect(sorted.body.rows.map((r: any) => r.name)).toEqual(["person9", "person19", "person29"]);
    const either = await q({
      filterModel: {
        items: [
          { field: "name", operator: "endsWith", value: "1" },
          { field: "name", operator: "startsWith", value: "person2" },
        ],
        logicOperator: "or",
      },
    });
    expect(either.body.total).toBe(13);
    const bad = await q({ filterModel: "{not json" });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toMatch(/filterModel/);
    const unknownColumn = await q({ sortModel: [{ id: "nope", desc: false }] });
    expect(unknownColumn.status).toBe(422);
    expect(JSON.stringify(unknownColumn.body)).toMatch(/unknown column \\"nope\\"/);
    expect((await q({ path: "../../etc/passwd" })).status).toBe(404);
  });

  it("export/csv is streamed with formula cells neutralized (by id, and by path with filter and sort)", async () => {
    const res = await call(t, `/api/v1/dataset/${id}/export/csv`, {
      headers: { authorization: t.dashboardAuth },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toMatch(/attachment; filename="people.csv"/);
    const lines = res.text.trim().split("\n");
    expect(lines[0]).toBe("name,age,city,note");
    expect(lines).toHaveLength(31);
    expect(lines[6]).toBe(`person5,25,Santiago,"'=HYPERLINK(""http://x"")"`);
    // A plain negative number in a text column is left as it is: a number, never a formula.
    expect(lines[7]).toBe("person6,26,Quito,-5");
    const filtered = await call(
      t,
      `/api/v1/dataset/export/csv?path=${path}&filter_model=${encodeURIComponent(
        JSON.stringify({ items: [{ field: "city", operator: "equals", value: "Bogotá" }] }),
      )}&sort_model=${encodeURIComponent(JSON.stringify([{ id: "age", desc: true }]))}`,
      { headers: { authorization: t.dashboardAuth } },
    );
    expect(filtered.status).toBe(200);
    const rows = filtered.text.trim().split("\n");
    expect(rows).toHaveLength(8);
    expect(rows[1]).toBe("person19,29,Bogotá,ok");
  });

  it("types can be changed; a value that does not convert is a 422 naming it and nothing changes", async () => {
    const { dash } = clients(t);
    const toText = await dash.patch(`/api/v1/dataset/${id}/types`, { types: { age: "Text" } });
    expect(toText.status).toBe(200);
    expect(toText.body.age.type).toBe("text");
    const back = await dash.patch(`/api/v1/dataset/${id}/types`, {
      types: { age: "integer", city: "categorical" },
    });
    expect(back.body.age.type).toBe("integer");
    const bad = await dash.patch(`/api/v1/dataset/${id}/types`, { types: { city: "float" } });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toBe('column "city": value "Lima" in row 1 is not a float');
    expect((await dash.get(`/api/v1/dataset/${id}/types`)).body.city.type).toBe("categorical");
    const unknownType = await dash.patch(`/api/v1/dataset/${id}/types`, { types: { city: "complex" } });
    expect(unknownType.status).toBe(422);
    const unknownColumn = await dash.patch(`/api/v1/dataset/${id}/types`, { types: { nope: "text" } });
    expect(unknownColumn.status).toBe(404);
    const page = await dash.get(`/api/v1/dataset/filter/?path=${path}&page_size=1`);
    expect(page.body.rows[0]).toMatchObject({ age: 20 });
  });

  it("columns/rename, PATCH rename, copy, DELETE", async () => {
    const { dash } = clients(t);
    const renamed = await dash.patch(`/api/v1/dataset/${id}/columns/rename`, {
      old_name: "city",
      new_name: "town",
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.columns).toEqual(["name", "age", "town", "note"]);
    expect(
      (await dash.patch(`/api/v1/dataset/${id}/columns/rename`, { old_name: "nope", new_name: "x" })).status,
    ).toBe(404);
    expect(
      (await dash.patch(`/api/v1/dataset/${id}/columns/rename`, { old_name: "town", new_name: "age" }))
        .status,
    ).toBe(409);

    const copy = await dash.post("/api/v1/dataset/copy", { dataset_id: id });
    expect(copy.status).toBe(201);
    expect(copy.body).toMatchObject({ name: "people_copy", status: 3, total_rows: 30 });
    expect((await dash.post("/api/v1/dataset/copy", { dataset_id: id })).status).toBe(409);
    const copyTypes = (await dash.get(`/api/v1/dataset/${copy.body.id}/types`)).body;
    expect(Object.keys(copyTypes)).toEqual(["name", "age", "town", "note"]);

    const patched = await dash.patch(`/api/v1/dataset/${copy.body.id}`, { name: "people-2" });
    expect(patched.body.name).toBe("people-2");
    expect((await dash.patch(`/api/v1/dataset/${copy.body.id}`, { name: "people" })).status).toBe(409);
    expect((await dash.patch(`/api/v1/dataset/${copy.body.id}`, { name: "  " })).status).toBe(422);

    const del = await dash.del(`/api/v1/dataset/${copy.body.id}`);
    expect(del.status).toBe(204);
    expect((await dash.get(`/api/v1/dataset/${copy.body.id}`)).status).toBe(404);
    expect(existsSync(join(labDir(), "datasets", String(copy.body.id)))).toBe(false);
    expect((await dash.del(`/api/v1/dataset/${copy.body.id}`)).status).toBe(404);
    const list = await dash.get("/api/v1/dataset/");
    expect(list.body.map((d: any) => d.name)).toContain("people");
    expect((await dash.post("/api/v1/dataset/", { name: "people" })).status).toBe(409);
  });

  it("unknown ids are 404 first; unfinished datasets are 422", async () => {
    const { dash } = clients(t);
    for (const suffix of ["", "/sample", "/info", "/types", "/model-sessions-exist"])
      expect((await dash.get(`/api/v1/dataset/987654${suffix}`)).status).toBe(404);
    const fresh = await dash.post("/api/v1/dataset/", { name: "unfinished" });
    for (const suffix of ["/sample", "/info", "/types", "/model-sessions-exist"])
      expect(await dash.get(`/api/v1/dataset/${fresh.body.id}${suffix}`)).toMatchObject({
        status: 422,
        body: { detail: "Dataset is not in finished state" },
      });
    const exp = await call(t, `/api/v1/dataset/${fresh.body.id}/export/csv`, {
      headers: { authorization: t.dashboardAuth },
    });
    expect(exp.status).toBe(422);
    expect((await dash.post("/api/v1/dataset/copy", { dataset_id: fresh.body.id })).status).toBe(422);
    const bulk = await call(t, "/api/v1/dataset/", {
      method: "DELETE",
      headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ ids: [fresh.body.id, 424242] }),
    });
    expect(bulk.status).toBe(204);
    expect((await dash.get(`/api/v1/dataset/${fresh.body.id}`)).status).toBe(404);
  });

  it("needs the dashboard credentials", async () => {
    expect((await call(t, "/api/v1/dataset/")).status).toBe(401);
    expect((await call(t, `/api/v1/dataset/${id}/export/csv`)).status).toBe(401);
    const res = await call(t, "/api/v1/job/", { method: "POST", body: new FormData() });
    expect(res.status).toBe(401);
  });
});
