// A lab job queued by a server with LAB_WORKERS=0 runs in a `hiveguard worker` process started apart, on the
// same PostgreSQL and LAB_DATA_DIR (a shared volume); a plugin installed on the server after the worker started
// is loaded by the worker when it meets the plugin's explorer. PostgreSQL only: the embedded database serves
// one process.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ServerProcess, startServerProcess } from "../support/process.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { clients, enqueueForm, waitForJob } from "./helpers.js";

let worker: ServerProcess | undefined;
let server: TestServer | undefined;
afterAll(async () => {
  if (worker && worker.child.exitCode === null) worker.child.kill("SIGKILL");
  await server?.close();
});

describe("lab jobs on a separate worker", { timeout: 180_000 }, () => {
  it.runIf(process.env.DATABASE_URL)(
    "a DatasetJob queued with LAB_WORKERS=0 is run by hiveguard worker",
    async () => {
      const labDir = mkdtempSync(join(tmpdir(), "lab-worker-"));
      server = await startTestServer({ env: { LAB_WORKERS: "0", LAB_DATA_DIR: labDir } });
      const { dash } = clients(server);
      const created = await dash.post("/api/v1/dataset/", { name: "from-worker" });
      const job = await enqueueForm(
        server,
        { job_type: "DatasetJob", kwargs: JSON.stringify({ dataset_id: created.body.id, params: {} }) },
        { name: "w.csv", content: "a,b\n1,x\n2,y\n3,x\n" },
      );
      expect(job.status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await dash.get(`/api/v1/job/status/${job.body.id}`)).body.status).toBe("not_started");

      const { shared } = server;
      worker = startServerProcess(
        {
          LOG_LEVEL: "info",
          HIVEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), "hiveguard-worker-")),
          LAB_DATA_DIR: labDir,
          // The worker ignores LAB_WORKERS (it is the server's setting).
          LAB_WORKERS: "0",
          DATABASE_URL: `${shared.databaseUrl!}?schema=${shared.dbSchema!}`,
          ...(shared.redisUrl ? { REDIS_URL: shared.redisUrl, REDIS_PREFIX: shared.statePrefix } : {}),
          SECRET_KEY: shared.secretKey,
          DASHBOARD_USERNAME: "admin",
          DASHBOARD_PASSWORD: shared.dashboardPassword,
        },
        "src/worker.ts",
      );
      await worker.waitFor(/HiveGuard worker running/, 90_000);
      const done = await waitForJob(server, job.body.id, 60_000);
      expect(done).toMatchObject({ status: "finished", result: { total_rows: 3, total_columns: 2 } });
      const dataset = await dash.get(`/api/v1/dataset/${created.body.id}`);
      expect(dataset.body).toMatchObject({ status: 3, total_rows: 3 });
      // The server reads the files the worker wrote.
      expect((await dash.get(`/api/v1/dataset/${created.body.id}/sample`)).body).toEqual({
        a: [1, 2, 3],
        b: ["x", "y", "x"],
      });

      // A plugin installed after the worker started: its explorer runs on the worker, which loads the plugin
      // from the shared LAB_DATA_DIR when the job names a component it does not know.
      const plugin = await dash.post("/api/v1/plugin/", { name: "hiveguard-lab-plugin-example" });
      expect(plugin.status, plugin.text).toBe(201);
      expect(plugin.body.components).toContain("MissingValuesPlot");
      const notebook = await dash.post("/api/v1/notebook/", { dataset_id: created.body.id, name: "w" });
      expect(notebook.status, notebook.text).toBe(201);
      const explorer = await dash.post("/api/v1/explorer/", {
        notebook_id: notebook.body.id,
        exploration_type: "MissingValuesPlot",
        columns: ["a", "b"],
        parameters: {},
      });
      expect(explorer.status, explorer.text).toBe(201);
      const explored = await waitForJob(server, explorer.body.job_id, 60_000);
      expect(explored.status, JSON.stringify(explored)).toBe("finished");
      const figures = await dash.post(`/api/v1/explorer/${explorer.body.id}/results/`, { options: {} });
      expect(figures.body[0].data[0]).toMatchObject({ x: ["a", "b"], y: [0, 0] });
    },
  );
});
