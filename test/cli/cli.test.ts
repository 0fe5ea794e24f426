import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CommandResult, runCommand } from "../support/process.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runTraffic, setUpTrafficSite, visitorProfiles } from "../support/traffic.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "hiveguard-cli-"));

let t: TestServer;
let env: Record<string, string>;

/** Runs the real `hiveguard` bin as a subprocess. */
function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CommandResult> {
  return runCommand(process.execPath, ["bin/hiveguard.js", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, ...extraEnv },
  });
}

beforeAll(async () => {
  t = await startTestServer();
  env = {
    HIVEGUARD_URL: t.url,
    HIVEGUARD_USERNAME: "admin",
    HIVEGUARD_PASSWORD: t.shared.dashboardPassword,
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

  it("explains 401 (credentials missing or rejected, one line each) and an unreachable server", async () => {
    const anonymous = await cli(["config", "show"], { HIVEGUARD_USERNAME: "", HIVEGUARD_PASSWORD: "" });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr.trim()).toBe(
      "Not signed in: set HIVEGUARD_USERNAME and HIVEGUARD_PASSWORD to the dashboard's credentials (the server's DASHBOARD_USERNAME / DASHBOARD_PASSWORD).",
    );

    const wrongPassword = await cli(["config", "show"], { HIVEGUARD_PASSWORD: "not-the-password" });
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr.trim().split("\n")).toEqual([
      `Rejected: ${t.url} refused the dashboard credentials in HIVEGUARD_USERNAME / HIVEGUARD_PASSWORD (401). Check them against the server's DASHBOARD_USERNAME / DASHBOARD_PASSWORD.`,
    ]);
    expect(wrongPassword.stderr).not.toContain("not-the-password");

    // The older HIVEGUARD_DASHBOARD_TOKEN (base64 of user:password) still works, and is named when rejected.
    const token = (password: string) => Buffer.from(`admin:${password}`).toString("base64");
    const alias = { HIVEGUARD_USERNAME: "", HIVEGUARD_PASSWORD: "" };
    const viaToken = await cli(["config", "show", "--output", "json"], {
      ...alias,
      HIVEGUARD_DASHBOARD_TOKEN: token(t.shared.dashboardPassword),
    });
    expect(viaToken.code).toBe(0);
    const wrongToken = await cli(["config", "show"], { ...alias, HIVEGUARD_DASHBOARD_TOKEN: token("nope") });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain(
      "refused the dashboard credentials in HIVEGUARD_DASHBOARD_TOKEN (401)",
    );

    const noKey = await cli(["items", "list"]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr.trim()).toBe(
      "No API key: set HIVEGUARD_API_KEY (create one with `hiveguard keys create LABEL`).",
    );
    const wrongKey = await cli(["items", "list"], { HIVEGUARD_API_KEY: "hg_not-a-real-key" });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain(`Rejected: ${t.url} refused the API key in HIVEGUARD_API_KEY (401`);

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

  it("keys create --site prints a siteverify secret once; keys secret rotates it; hostnames; remove-secret", async () => {
    const site = await cli(["keys", "create", "shop", "--site", "--hostname", "shop.example.com"]);
    expect(site.code).toBe(0);
    const id = site.stdout.match(/^id: (\S+)$/m)![1]!;
    const secret = site.stdout.match(/^secret: (hgs_\S+)$/m)![1]!;
    expect(site.stderr).toContain("Store this key and secret now");
    const list = await cli(["keys", "list", "--output", "json"]);
    expect(list.stdout).not.toContain(secret);
    expect(JSON.parse(list.stdout).find((k: { id: string }) => k.id === id)).toMatchObject({
      scopes: ["challenge"],
      hostnames: ["shop.example.com"],
      secret_prefix: secret.slice(0, 10),
    });

    const rotated = await cli(["keys", "secret", id, "--overlap", "60"]);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^secret: hgs_\S+$/m);
    expect(rotated.stdout).not.toContain(secret);
    expect(rotated.stdout).toMatch(/^previous secret valid until: \d{4}-/m);

    const hosts = await cli(["keys", "hostnames", id, "example.com", "Example.org", "--output", "json"]);
    expect(hosts.code).toBe(0);
    expect(JSON.parse(hosts.stdout).hostnames).toEqual(["example.com", "example.org"]);
    const badHost = await cli(["keys", "hostnames", id, "https://example.com/"]);
    expect(badHost.code).toBe(1);
    expect(badHost.stderr).toContain("Error 422");

    expect((await cli(["keys", "remove-secret", id])).code).toBe(0);
    const after = JSON.parse((await cli(["keys", "list", "--output", "json"])).stdout);
    expect(after.find((k: { id: string }) => k.id === id).secret_prefix).toBeNull();

    // A key with data scopes may not become a site key (it would be public).
    const dataKey = JSON.parse((await cli(["keys", "create", "data", "--output", "json"])).stdout);
    const refused = await cli(["keys", "secret", dataKey.id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"challenge" scope alone');
    expect((await cli(["keys", "revoke", dataKey.id])).code).toBe(0);
    expect((await cli(["keys", "revoke", id])).code).toBe(0);
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
        HIVEGUARD_USERNAME: "admin",
        HIVEGUARD_PASSWORD: m.shared.dashboardPassword,
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
