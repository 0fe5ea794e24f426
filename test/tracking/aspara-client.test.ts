// Aspara's own remote client against HiveGuard, request by request. Upstream's Python `TrackerClient`
// (prednext/aspara, src/aspara/run/_remote_run.py) is replayed byte for byte: the paths it builds from the
// tracker URI, the headers of its requests.Session (X-Requested-With on every request, Basic credentials taken
// from the URI's user info as requests does), its JSON bodies exactly as `json.dumps` writes them, its
// multipart upload exactly as requests/urllib3 encode it; then what RemoteRun reads from the answers
// (`raise_for_status`, `run_id`, `name`, `response.json()`). Bodies and headers were checked against
// requests 2.x's `Session.prepare_request`.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

let server: TestServer;
/** The tracker URI a training script passes to `aspara.init(..., tracker_uri=...)`. */
let trackerUri: string;

beforeAll(async () => {
  server = await startTestServer();
  const url = new URL(server.url);
  url.username = "admin";
  url.password = server.shared.dashboardPassword;
  url.pathname = "/tracker";
  trackerUri = url.toString();
});
afterAll(() => server?.close());

/** What requests.Session sends: its default headers, TrackerClient's X-Requested-With, Basic from the URI. */
function send(
  method: "GET" | "POST",
  url: string,
  body?: { bytes: Buffer; contentType: string },
): Promise<{ status: number; json: () => any; text: string }> {
  const target = new URL(url);
  const headers: Record<string, string> = {
    "User-Agent": "python-requests/2.32.3",
    "Accept-Encoding": "gzip, deflate",
    Accept: "*/*",
    Connection: "keep-alive",
    "X-Requested-With": "XMLHttpRequest",
  };
  if (body) {
    headers["Content-Length"] = String(body.bytes.length);
    headers["Content-Type"] = body.contentType;
  }
  headers.Authorization = `Basic ${Buffer.from(
    `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`,
  ).toString("base64")}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: target.pathname + target.search,
        headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode!, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on("error", reject);
    req.end(body?.bytes);
  });
}

/** `session.post(url, json=payload)`: the literal `json.dumps(payload)` text. */
const postJson = (url: string, dumped: string) =>
  send("POST", url, { bytes: Buffer.from(dumped, "utf8"), contentType: "application/json" });

/** `response.raise_for_status()` */
function raiseForStatus(response: { status: number; text: string }) {
  expect(response.status, response.text).toBeGreaterThanOrEqual(200);
  expect(response.status, response.text).toBeLessThan(400);
}

/** Python's `quote(name, safe='')` for the names used here. */
const quote = (name: string) => encodeURIComponent(name);

describe("Aspara's remote client (TrackerClient) logs a run to HiveGuard unchanged", () => {
  it("health, create, metrics, config, summary, tags, artifact, finish; the dashboard API shows it all", async () => {
    const base = trackerUri.replace(/\/+$/, ""); // TrackerClient: base_url.rstrip("/")
    const project = "vision";
    const runs = `${base}/api/v1/projects/${quote(project)}/runs`;

    // health_check(): GET {base}/api/v1/health → healthy when 200
    const health = await send("GET", `${base}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: "ok" });
    // as upstream, the health check needs no credentials (the rest of the tracker does, by default)
    expect((await fetch(`${server.url}/tracker/api/v1/health`)).status).toBe(200);
    expect(
      (await fetch(`${server.url}/tracker/api/v1/projects/vision/runs`, { method: "POST" })).status,
    ).toBe(401);

    // create_run(): the body RemoteRun sends; it reads response["run_id"] and, if present, response["name"]
    const created = await postJson(
      runs,
      '{"name": "py-run", "config": {"lr": 0.001, "epochs": 3}, "tags": ["baseline"], "notes": "first try", ' +
        '"project_tags": ["cv", "resnet"]}',
    );
    raiseForStatus(created);
    const answer = created.json();
    expect(answer.run_id).toMatch(/^[0-9a-f]{16}$/);
    expect(answer.name).toBe("py-run");
    expect(answer).toMatchObject({ status: "ok", project: "vision" });
    const name = answer.name as string;
    const run = `${runs}/${quote(name)}`;

    // The same name again (RemoteRun never resumes): 409, as upstream
    const again = await postJson(
      runs,
      '{"name": "py-run", "config": {}, "tags": [], "notes": "", "project_tags": null}',
    );
    expect(again.status).toBe(409);

    // log() → save_metrics(): one record per call, {"step", "metrics"} and "timestamp" when given
    for (const [step, dumped] of [
      [0, '{"step": 0, "metrics": {"loss": 1.0, "acc": 0.5}}'],
      [1, '{"step": 1, "metrics": {"loss": 0.5, "acc": 0.625}}'],
      [2, '{"step": 2, "metrics": {"loss": 0.25, "acc": 0.75}, "timestamp": "2025-01-10T12:00:00+00:00"}'],
      // json.dumps writes float("nan") as a bare NaN token, and a bool (an int in Python) as true
      [
        3,
        '{"step": 3, "metrics": {"loss": NaN, "acc": 0.75, "diverged": true}, "timestamp": "2025-01-10T12:00:01.500000"}',
      ],
    ] as const) {
      const saved = await postJson(`${run}/metrics`, dumped);
      raiseForStatus(saved);
      expect(saved.json(), `step ${step}`).toMatchObject({ status: "ok" });
    }

    // config change → log_config(): POST with the whole config
    raiseForStatus(
      await postJson(`${run}/config`, '{"config": {"lr": 0.001, "epochs": 3, "batch_size": 64}}'),
    );
    // summary change → log_summary()
    raiseForStatus(await postJson(`${run}/summary`, '{"summary": {"best_acc": 0.75, "best_epoch": 2}}'));
    // update_tags(): the new list replaces the old one
    raiseForStatus(await postJson(`${run}/tags`, '{"tags": ["final", "resnet50"]}'));

    // log_artifact(): requests' multipart, data fields first, the file part without a Content-Type
    const boundary = "57dadc09bf6823c5dc2544193e10536e";
    const multipart = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nmodel.txt\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nfinal weights\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\nmodel\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="model.txt"\r\n\r\n` +
        `weights v1\r\n--${boundary}--\r\n`,
    );
    const uploaded = await send("POST", `${run}/artifacts`, {
      bytes: multipart,
      contentType: `multipart/form-data; boundary=${boundary}`,
    });
    raiseForStatus(uploaded);
    expect(uploaded.json()).toMatchObject({ status: "ok", artifact_name: "model.txt", file_size: 10 });

    // An unknown category is refused, as upstream (which lists the five)
    const badCategory = Buffer.from(
      multipart.toString("latin1").replace("\r\n\r\nmodel\r\n", "\r\n\r\nweights\r\n"),
      "latin1",
    );
    const refused = await send("POST", `${run}/artifacts`, {
      bytes: badCategory,
      contentType: `multipart/form-data; boundary=${boundary}`,
    });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain("code, model, config, data, other");

    // finish() → finish_run()
    raiseForStatus(await postJson(`${run}/finish`, '{"exit_code": 0}'));

    // What the dashboard then shows (HiveGuard's dashboard API, same credentials)
    const auth = { authorization: server.dashboardAuth };
    const listed = (await (
      await fetch(`${server.url}/api/projects/vision/runs`, { headers: auth })
    ).json()) as any[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      name: "py-run",
      status: "completed",
      is_finished: true,
      exit_code: 0,
      notes: "first try",
      tags: ["final", "resnet50"],
      params: { lr: 0.001, epochs: 3, batch_size: 64 },
      summary: { best_acc: 0.75, best_epoch: 2 },
      metric_names: ["acc", "diverged", "loss"],
      artifact_count: 1,
      last_step: 3,
    });
    const metrics = (await (
      await fetch(`${server.url}/api/projects/vision/runs/py-run/metrics`, { headers: auth })
    ).json()) as any;
    expect(metrics.metrics.loss.steps).toEqual([0, 1, 2, 3]);
    expect(metrics.metrics.loss.values).toEqual([1, 0.5, 0.25, null]); // NaN kept (null in JSON)
    expect(metrics.metrics.diverged).toMatchObject({ steps: [3], values: [1] });
    expect(metrics.metrics.loss.timestamps[2]).toBe(Date.parse("2025-01-10T12:00:00Z"));
    // a naive isoformat() (no offset) is UTC, as upstream reads it, whatever the server's time zone
    expect(metrics.metrics.loss.timestamps[3]).toBe(Date.parse("2025-01-10T12:00:01.500Z"));
    const page = (await (
      await fetch(`${server.url}/projects/vision/runs/py-run`, {
        headers: { ...auth, accept: "application/json" },
      })
    ).json()) as any;
    expect(page.artifacts).toEqual([
      {
        name: "model.txt",
        size: 10,
        content_type: expect.any(String),
        created_at: expect.any(String),
        description: "final weights",
        category: "model",
      },
    ]);
    expect(JSON.stringify(page)).not.toMatch(/storage_?key/i);
    const html = await (await fetch(`${server.url}/projects/vision/runs/py-run`, { headers: auth })).text();
    expect(html).toContain("<h2>Summary</h2>");
    expect(html).toContain("best_acc");
    expect(html).toContain("final weights");
    const projectMeta = (await (
      await fetch(`${server.url}/api/projects/vision/metadata`, { headers: auth })
    ).json()) as any;
    expect(projectMeta.tags).toEqual(["cv", "resnet"]);
  });

  it("answers the client's errors as upstream's statuses: an unknown run is 404 to every run call", async () => {
    const run = `${trackerUri.replace(/\/+$/, "")}/api/v1/projects/vision/runs/ghost`;
    for (const [path, dumped] of [
      ["metrics", '{"step": 0, "metrics": {"loss": 1.0}}'],
      ["config", '{"config": {"a": 1}}'],
      ["summary", '{"summary": {"a": 1}}'],
      ["tags", '{"tags": ["x"]}'],
      ["finish", '{"exit_code": 1}'],
    ] as const) {
      expect((await postJson(`${run}/${path}`, dumped)).status, path).toBe(404);
    }
  });
});
