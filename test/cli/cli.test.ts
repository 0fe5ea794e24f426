import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { runTraffic, setUpTrafficSite, visitorProfiles } from "../support/traffic.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "hiveguard-cli-"));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let t: TestServer;
let env: Record<string, string>;

/** Runs the real `hiveguard` bin as a subprocess. */
function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/hiveguard.js", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  t = await startTestServer();
  env = {
    HIVEGUARD_URL: t.url,
    HIVEGUARD_DASHBOARD_TOKEN: t.dashboardAuth.replace(/^Basic /, ""),
  };
});
afterAll(async () => {
  await t?.close();
});

let datasetId = "";

describe("hiveguard CLI against a real server", () => {
  it("config show / set, with 422 messages naming the field", async () => {
    const show = await cli(["config", "show", "--output", "json"]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ risk_threshold: 0.5, consensus_threshold: 0.6 });

    const set = await cli(["config", "set", "--risk-threshold", "0.7", "--output", "json"]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout).risk_threshold).toBe(0.7);

    const bad = await cli(["config", "set", "--risk-threshold", "3"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Error 422");
    expect(bad.stderr).toContain("risk_threshold");

    const table = await cli(["config", "show"]);
    expect(table.stdout).toMatch(/risk_threshold\s+0\.7/);
  });

  it("explains 401 and an unreachable server", async () => {
    const anonymous = await cli(["config", "show"], { HIVEGUARD_DASHBOARD_TOKEN: "" });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain("HIVEGUARD_DASHBOARD_TOKEN");

    const noKey = await cli(["items", "list"]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("HIVEGUARD_API_KEY");

    const down = await cli(["config", "show"], { HIVEGUARD_URL: "http://127.0.0.1:9" });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("http://127.0.0.1:9");
    expect(down.stderr).toContain("Is the server running?");
  });

  it("datasets create prints the id; keys create prints the raw key once; keys list never shows it", async () => {
    const created = await cli(["datasets", "create", "Cats", "--modality", "image"]);
    expect(created.code).toBe(0);
    datasetId = created.stdout.match(/^id: (\S+)$/m)![1]!;

    const key = await cli(["keys", "create", "ci", "--dataset", datasetId, "--sample-rate", "1"]);
    expect(key.code).toBe(0);
    const rawKey = key.stdout.match(/^key: (hg_\S+)$/m)![1]!;
    env.HIVEGUARD_API_KEY = rawKey;

    const list = await cli(["keys", "list", "--output", "json"]);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(rawKey);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({
        label: "ci",
        datasets: [datasetId],
        scopes: ["challenge", "data:read", "data:write"],
      }),
    ]);

    const widget = await cli(["keys", "create", "widget", "--scope", "challenge", "--output", "json"]);
    expect(widget.code).toBe(0);
    expect(JSON.parse(widget.stdout)).toMatchObject({ label: "widget", scopes: ["challenge"] });
    const revoked = await cli(["keys", "revoke", JSON.parse(widget.stdout).id]);
    expect(revoked.code).toBe(0);
    const wrong = await cli(["keys", "create", "bad", "--scope", "admin"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("Allowed choices are challenge, data:read, data:write");
  });

  it("items upload validates every line first and names the line of each error", async () => {
    const file = join(dir, "bad.jsonl");
    writeFileSync(
      file,
      [
        JSON.stringify({ dataset_id: datasetId, data_ref: "a.jpg", modality: "image" }),
        JSON.stringify({ dataset_id: "not-a-uuid", data_ref: "b.jpg", modality: "image" }),
        "{broken",
        JSON.stringify({ dataset_id: datasetId, data_ref: "c.jpg", modality: "video" }),
      ].join("\n"),
    );
    const result = await cli(["items", "upload", file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error on line 2: invalid UUID "not-a-uuid"');
    expect(result.stderr).toContain("Error on line 3: not valid JSON");
    expect(result.stderr).toContain('Error on line 4: invalid modality "video"');
    expect(result.stdout).not.toContain("Uploading");

    const csv = join(dir, "bad.csv");
    writeFileSync(csv, "dataset_id,data_ref\nx,y\n");
    const missing = await cli(["items", "upload", csv]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required column modality");

    const items = await cli(["items", "list", "--output", "json"]);
    expect(JSON.parse(items.stdout)).toEqual([]);
  });

  it("items upload sends 2,500 items in 3 batches and reports each", async () => {
    const file = join(dir, "items.csv");
    const lines = ["dataset_id,data_ref,modality,ground_truth"];
    for (let i = 0; i < 2500; i++)
      lines.push(`${datasetId},https://example.com/${i}.jpg,image,${i % 10 === 0 ? "yes" : ""}`);
    writeFileSync(file, `${lines.join("\n")}\n`);
    const result = await cli(["items", "upload", file]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Uploading 2500 items in 3 batches...");
    expect(result.stdout).toContain("✓ Batch 1/3: 1000 items created");
    expect(result.stdout).toContain("✓ Batch 2/3: 1000 items created");
    expect(result.stdout).toContain("✓ Batch 3/3: 500 items created");
    expect(result.stdout).toContain("Total: 2500 items created");

    const list = await cli(["items", "list", "--output", "json"]);
    const items = JSON.parse(list.stdout) as { data_ref: string }[];
    expect(items).toHaveLength(2500);
    expect(new Set(items.map((item) => item.data_ref)).size).toBe(2500);
  });

  it("a failing batch in the middle is reported, the rest continue, and the exit code says so", async () => {
    const other = await cli(["datasets", "create", "Texts", "--modality", "text"]);
    const otherId = other.stdout.match(/^id: (\S+)$/m)![1]!;
    const file = join(dir, "mixed.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < 2500; i++) {
      // The key is scoped to the first dataset: the second batch names the other one and is refused.
      const dataset = i >= 1000 && i < 2000 ? otherId : datasetId;
      const modality = dataset === otherId ? "text" : "image";
      lines.push(JSON.stringify({ dataset_id: dataset, data_ref: `m${i}`, modality }));
    }
    writeFileSync(file, lines.join("\n"));
    const result = await cli(["items", "upload", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✓ Batch 1/3: 1000 items created");
    expect(result.stdout).toMatch(/✗ Batch 2\/3 failed: Error \d{3}/);
    expect(result.stdout).toContain("✓ Batch 3/3: 500 items created");
    expect(result.stdout).toContain("Total: 1500 items created");
    expect(result.stderr).toContain("1000 items were not created");
  });

  it("datasets export streams the same rows as the API, to stdout or a file", async () => {
    const file = join(dir, "export.jsonl");
    const toFile = await cli(["datasets", "export", datasetId, "--fmt", "jsonl", "--output", file]);
    expect(toFile.code).toBe(0);
    const api = await fetch(`${t.url}/dashboard/api/item-datasets/${datasetId}/labeled/export?fmt=jsonl`, {
      headers: { authorization: t.dashboardAuth },
    });
    expect(readFileSync(file, "utf8")).toBe(await api.text());

    const csv = await cli(["datasets", "export", datasetId, "--fmt", "csv"]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split("\n")[0]).toBe(
      "item_id,data_ref,modality,label,confidence,solver_count,created_at",
    );

    const badFmt = await cli(["datasets", "export", datasetId, "--fmt", "xml"]);
    expect(badFmt.code).toBe(2);
  });

  it("labels export writes every label visible to the key in each format", async () => {
    for (const fmt of ["csv", "json", "jsonl"]) {
      const result = await cli(["labels", "export", "--fmt", fmt]);
      expect(result.code, result.stderr).toBe(0);
      const api = (await (
        await fetch(`${t.url}/api/v1/data/labeled?limit=1000`, {
          headers: { "x-hiveguard-key": env.HIVEGUARD_API_KEY! },
        })
      ).json()) as unknown[];
      if (fmt === "json") expect(JSON.parse(result.stdout)).toHaveLength(api.length);
      if (fmt === "jsonl") expect(result.stdout.split("\n").filter(Boolean)).toHaveLength(api.length);
      if (fmt === "csv") expect(result.stdout.split("\n").filter(Boolean)).toHaveLength(api.length + 1);
    }
  });

  it("proxy-rules create / list / update / delete", async () => {
    const created = await cli([
      "proxy-rules",
      "create",
      "/health",
      "--match-type",
      "exact",
      "--priority",
      "100",
    ]);
    expect(created.code).toBe(0);
    const id = created.stdout.match(/^id: (\S+)$/m)![1]!;
    const updated = await cli(["proxy-rules", "update", id, "--enabled", "false", "--output", "json"]);
    expect(JSON.parse(updated.stdout)).toMatchObject({ enabled: false, priority: 100, match_type: "exact" });
    const list = await cli(["proxy-rules", "list"]);
    expect(list.stdout).toMatch(/\/health\s+exact\s+100\s+false/);
    expect((await cli(["proxy-rules", "delete", id])).code).toBe(0);
    const gone = await cli(["proxy-rules", "delete", id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("Error 404");
  });

  it("keys revoke takes effect at once", async () => {
    const revoked = await cli(["keys", "list", "--output", "json"]);
    const [key] = JSON.parse(revoked.stdout) as { id: string }[];
    expect((await cli(["keys", "revoke", key!.id])).code).toBe(0);
    const after = await cli(["items", "list"]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("HIVEGUARD_API_KEY");
  });

  it("every command has --help with an example; bad usage exits 2", async () => {
    for (const command of [
      ["config", "set"],
      ["keys", "create"],
      ["items", "upload"],
      ["datasets", "export"],
      ["labels", "export"],
      ["ml", "status"],
      ["ml", "train"],
    ]) {
      const help = await cli([...command, "--help"]);
      expect(help.code, command.join(" ")).toBe(0);
      expect(help.stdout).toContain("Example:");
    }
    const unknown = await cli(["nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command");
  });

  it("ml status and ml train: no model, 422 under 100 sessions, then a trained model", async () => {
    // A server of its own, so the sessions counted are this test's.
    const m = await startTestServer();
    try {
      const menv = {
        HIVEGUARD_URL: m.url,
        HIVEGUARD_DASHBOARD_TOKEN: m.dashboardAuth.replace(/^Basic /, ""),
      };
      const empty = await cli(["ml", "status"], menv);
      expect(empty.code).toBe(0);
      expect(empty.stdout).toMatch(/model_ready\s+false/);
      expect(empty.stdout).toMatch(/labeled_sessions\s+0 \(training needs 100\)/);
      expect(empty.stdout).toMatch(/model\s+none: every response scores 1\.0/);

      const early = await cli(["ml", "train"], menv);
      expect(early.code).toBe(1);
      expect(early.stderr).toContain("Error 422");
      expect(early.stderr).toContain("100 more are needed");

      const site = await setUpTrafficSite(m, { gt: 50, unknown: 50 });
      await runTraffic(m, site, visitorProfiles({ humans: 0, bots: 15, seed: 4, sessions: 8 }));
      const trained = await cli(["ml", "train", "--wait"], menv);
      expect(trained.stderr).toBe("");
      expect(trained.code).toBe(0);
      expect(trained.stdout).toMatch(
        /^training_started\nmodel v1: accuracy [\d.]+, roc_auc [\d.]+, log_loss [\d.]+\n$/,
      );

      const json = await cli(["ml", "status", "--output", "json"], menv);
      expect(JSON.parse(json.stdout)).toMatchObject({
        model_ready: true,
        labeled_sessions: 120,
        model: { version: 1, source: "trained", trained_on: 120 },
        training: { state: "completed", progress: 1 },
      });
      const table = await cli(["ml", "status"], menv);
      expect(table.stdout).toMatch(/model\s+v1 \(trained, /);
      expect(table.stdout).toMatch(/roc_auc\s+[\d.]+/);
    } finally {
      await m.close();
    }
  }, 60_000);
});
