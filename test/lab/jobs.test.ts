// Lab jobs through the documented routes: POST /api/v1/job/ (a form), GET /api/v1/job/status/{job_id},
// DELETE /api/v1/job/{job_id} (cancel), LAB_WORKERS=0; and the guard-labels import, which runs as a job.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDataset, seedLabels, UNKNOWN_UUID } from "../guard/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { clients, enqueueForm, waitForJob } from "./helpers.js";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
}, 60_000);

afterAll(async () => {
  await t?.close();
});

/** A CSV large enough that its load takes a while (a few seconds on this machine). */
function bigCsv(rows: number): string {
  const lines = ["a,b,c,d"];
  for (let i = 0; i < rows; i++) lines.push(`${i},${i * 0.5},k${i % 7},text ${i}`);
  return lines.join("\n");
}

describe("job status and progress", () => {
  it("a DatasetJob goes not_started/started → finished with progress 100 and its result", async () => {
    const { dash } = clients(t);
    const created = await dash.post("/api/v1/dataset/", { name: "small" });
    const job = await enqueueForm(
      t,
      {
        job_type: "DatasetJob",
        kwargs: JSON.stringify({ dataset_id: created.body.id, params: {} }),
        n_sample: "10",
      },
      { name: "small.csv", content: "x,y\n1,a\n2,b\n" },
    );
    expect(job.status).toBe(201);
    expect(typeof job.body.id).toBe("string");
    const first = await dash.get(`/api/v1/job/status/${job.body.id}`);
    expect(first.status).toBe(200);
    expect(["not_started", "started", "finished"]).toContain(first.body.status);
    expect(first.body).toMatchObject({ id: job.body.id, task_type: "DatasetJob" });
    // The dataset is DELIVERED (1) once its job is queued, and knows the job.
    const delivered = await dash.get(`/api/v1/dataset/${created.body.id}`);
    expect([1, 2, 3]).toContain(delivered.body.status);
    expect(delivered.body.job_id).toBe(job.body.id);
    const done = await waitForJob(t, job.body.id);
    expect(done).toMatchObject({
      status: "finished",
      progress: 100,
      error_msg: null,
      result: { total_rows: 2, total_columns: 2 },
    });
    const list = await dash.get("/api/v1/job/");
    expect(list.body.map((row: any) => row.id)).toContain(job.body.id);
  });

  it("unknown job ids are 404 (status and cancel)", async () => {
    const { dash } = clients(t);
    expect((await dash.get(`/api/v1/job/status/${UNKNOWN_UUID}`)).status).toBe(404);
    expect((await dash.get("/api/v1/job/status/not-a-uuid")).status).toBe(404);
    expect((await dash.del(`/api/v1/job/${UNKNOWN_UUID}`)).status).toBe(404);
  });

  it("cancel stops a running load: the job is cancelled, the dataset ERROR, nothing stored", async () => {
    const { dash } = clients(t);
    const created = await dash.post("/api/v1/dataset/", { name: "to-cancel" });
    const job = await enqueueForm(
      t,
      { job_type: "DatasetJob", kwargs: JSON.stringify({ dataset_id: created.body.id, params: {} }) },
      { name: "big.csv", content: bigCsv(400_000) },
    );
    expect(job.status).toBe(201);
    // Wait until it runs and reports progress, then cancel.
    for (let i = 0; i < 200; i++) {
      const status = await dash.get(`/api/v1/job/status/${job.body.id}`);
      if (status.body.status === "started" && status.body.progress > 0) break;
      if (status.body.status === "finished")
        throw new Error("the load finished before it could be cancelled");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await dash.del(`/api/v1/job/${job.body.id}`)).status).toBe(204);
    const done = await waitForJob(t, job.body.id);
    expect(done.status).toBe("cancelled");
    await t.server.deps.jobs.idle();
    const dataset = await dash.get(`/api/v1/dataset/${created.body.id}`);
    expect(dataset.body).toMatchObject({ status: 4, file_path: null });
    expect((await dash.get(`/api/v1/dataset/${created.body.id}/sample`)).status).toBe(422);
  });
});

describe("guard labels → lab dataset", () => {
  it("imports a guard dataset's finalized labels in one call", async () => {
    const { dash } = clients(t);
    const guard = await createDataset(t, { name: "Birds", modality: "image" });
    await seedLabels(t, guard.id, 12);
    const res = await dash.post("/api/v1/dataset/import/guard", { guard_dataset_id: guard.id });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: "Birds-labels", status: 1 });
    const done = await waitForJob(t, res.body.job_id);
    expect(done.status).toBe("finished");
    const ds = await dash.get(`/api/v1/dataset/${res.body.id}`);
    expect(ds.body).toMatchObject({ status: 3, total_rows: 12, total_columns: 7 });
    const types = (await dash.get(`/api/v1/dataset/${res.body.id}/types`)).body;
    expect(Object.keys(types)).toEqual([
      "item_id",
      "data_ref",
      "modality",
      "label",
      "confidence",
      "solver_count",
      "created_at",
    ]);
    expect(types.confidence.type).toBe("float");
    expect(types.created_at.type).toBe("datetime");
    const unknown = await dash.post("/api/v1/dataset/import/guard", { guard_dataset_id: UNKNOWN_UUID });
    expect(unknown.status).toBe(404);
    const taken = await dash.post("/api/v1/dataset/import/guard", { guard_dataset_id: guard.id });
    expect(taken.status).toBe(409);
  });
});

describe("LAB_WORKERS=0", () => {
  it("the server queues lab jobs but does not run them", async () => {
    const queueOnly = await startTestServer({ env: { LAB_WORKERS: "0" } });
    try {
      const { dash } = clients(queueOnly);
      const created = await dash.post("/api/v1/dataset/", { name: "queued" });
      const job = await enqueueForm(
        queueOnly,
        { job_type: "DatasetJob", kwargs: JSON.stringify({ dataset_id: created.body.id, params: {} }) },
        { name: "q.csv", content: "a\n1\n" },
      );
      expect(job.status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect((await dash.get(`/api/v1/job/status/${job.body.id}`)).body.status).toBe("not_started");
      expect((await dash.get(`/api/v1/dataset/${created.body.id}`)).body.status).toBe(1);
      // Cancelling a queued job: it never runs, and the dataset is ERROR (not stuck DELIVERED).
      expect((await dash.del(`/api/v1/job/${job.body.id}`)).status).toBe(204);
      expect((await dash.get(`/api/v1/job/status/${job.body.id}`)).body.status).toBe("cancelled");
      expect((await dash.get(`/api/v1/dataset/${created.body.id}`)).body).toMatchObject({ status: 4 });
    } finally {
      await queueOnly.close();
    }
  });
});

describe("a server stopped during a load", () => {
  it("leaves the dataset ERROR and the job error (never stuck STARTED), nothing half stored; stale leftovers are swept", async () => {
    const { mkdtempSync, mkdirSync, utimesSync, existsSync, readdirSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const labDir = mkdtempSync(join(tmpdir(), "lab-restart-"));
    const a = await startTestServer({ env: { LAB_DATA_DIR: labDir } });
    // A second instance on the same database and LAB_DATA_DIR that runs no lab job: it reads what A left.
    const b = await startTestServer({ sharedWith: a, env: { LAB_DATA_DIR: labDir, LAB_WORKERS: "0" } });
    try {
      const { dash } = clients(a);
      const created = await dash.post("/api/v1/dataset/", { name: "interrupted" });
      const job = await enqueueForm(
        a,
        { job_type: "DatasetJob", kwargs: JSON.stringify({ dataset_id: created.body.id, params: {} }) },
        { name: "big.csv", content: bigCsv(400_000) },
      );
      expect(job.status).toBe(201);
      for (let i = 0; i < 200; i++) {
        const status = await dash.get(`/api/v1/job/status/${job.body.id}`);
        if (status.body.status === "started" && status.body.progress > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Graceful shutdown aborts the running handler (as SIGTERM does).
      await a.server.close();
      const viaB = clients(b).dash;
      const status = await viaB.get(`/api/v1/job/status/${job.body.id}`);
      expect(status.body.status).toBe("error");
      expect(status.body.error_msg).toMatch(/shutting down/);
      const dataset = await viaB.get(`/api/v1/dataset/${created.body.id}`);
      expect(dataset.body).toMatchObject({ status: 4, file_path: null });
      expect(existsSync(join(labDir, "datasets", String(created.body.id)))).toBe(false);
      expect(readdirSync(join(labDir, "tmp"))).toEqual([]);
      expect(readdirSync(join(labDir, "uploads"))).toEqual([]);
      // What a killed process would leave (a staging directory, an upload) is swept once it is old.
      mkdirSync(join(labDir, "tmp", "left-behind"));
      mkdirSync(join(labDir, "uploads", "left-behind"));
      const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
      utimesSync(join(labDir, "tmp", "left-behind"), old, old);
      utimesSync(join(labDir, "uploads", "left-behind"), old, old);
      mkdirSync(join(labDir, "uploads", "fresh"));
      expect(await b.server.deps.services.lab.datasets.store.sweep(24 * 3600 * 1000)).toBe(2);
      expect(readdirSync(join(labDir, "uploads"))).toEqual(["fresh"]);
    } finally {
      await b.close();
      await a.close().catch(() => {});
    }
  }, 60_000);
});
