// The package as a user outside the repository gets it (issue 17, point 7): `npm pack`, then `npm ci` of a
// scratch project in the OS temp folder that depends on the tarball (offline, from npm's cache: the repo's own
// install put every dependency there). Plain Node (no tsx) imports `hiveguard/client` and `hiveguard/tracking`
// and talks to a real server; a TypeScript consumer typechecks against the shipped declarations; the
// installed `hiveguard` bin runs the compiled CLI.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compiledIsCurrent } from "../../bin/compiled.js";
import { VERSION } from "../../src/version.js";
import { runCommand } from "../support/process.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "hiveguard-package-"));

/** The environment of a command run in the scratch project: none of the npm_* variables of an `npm test`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return { ...env, NODE_ENV: "production", ...extra };
}

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", args, { cwd, env: cleanEnv(), encoding: "utf8" });
}

/** Runs a command in the scratch project; resolves with what it printed. */
function inScratch(command: string, args: string[], env: Record<string, string> = {}) {
  return runCommand(command, args, { cwd: scratch, env: cleanEnv(env) });
}

/**
 * The scratch project's lockfile: the tarball, and every runtime dependency exactly as the repository's lock
 * pins it (same versions, same integrity), so `npm ci --offline` finds them all in npm's cache.
 */
function scratchLock(tarball: string) {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, Record<string, unknown> & { dev?: boolean; devOptional?: boolean }>;
  };
  const root = lock.packages[""]!;
  const packages: Record<string, unknown> = {
    "": { name: "scratch", dependencies: { hiveguard: `file:${tarball}` } },
    "node_modules/hiveguard": {
      version: root.version,
      resolved: `file:${tarball}`,
      dependencies: root.dependencies,
      bin: root.bin,
      engines: root.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path && !entry.dev && !entry.devOptional && !entry.link) packages[path] = entry;
  }
  return { name: "scratch", lockfileVersion: 3, requires: true, packages };
}

let t: TestServer;
beforeAll(async () => {
  if (!compiledIsCurrent(ROOT)) {
    console.log("package test: dist/ is older than the sources, building it first (npm run build)");
    execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, stdio: "inherit" });
  }
  const packed = JSON.parse(
    npm(["pack", "--ignore-scripts", "--json", "--pack-destination", scratch], ROOT),
  ) as { filename: string }[];
  const tarball = packed[0]!.filename;
  const repoPackage = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    allowScripts: Record<string, boolean>;
  };
  // npm 11 runs dependencies' install scripts unless told otherwise: the consumer denies the same ones the
  // repository does (onnxruntime-node's would download GPU binaries; nothing here needs them).
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({
      name: "scratch",
      private: true,
      type: "module",
      dependencies: { hiveguard: `file:${tarball}` },
      allowScripts: repoPackage.allowScripts,
    }),
  );
  writeFileSync(join(scratch, "package-lock.json"), JSON.stringify(scratchLock(tarball)));
  npm(["ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], scratch);
  t = await startTestServer();
}, 240_000);
afterAll(async () => {
  await t?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("the packed package, installed outside the repository", () => {
  it("ships compiled JavaScript with declarations, and no TypeScript sources", () => {
    const installed = join(scratch, "node_modules/hiveguard");
    const files = readdirSync(installed, { recursive: true, encoding: "utf8" });
    expect(files).toEqual(
      expect.arrayContaining([
        "dist/clients/ts/index.js",
        "dist/clients/ts/index.d.ts",
        "dist/clients/ts/tracking/index.js",
        "dist/clients/ts/tracking/index.d.ts",
        "dist/src/main.js",
      ]),
    );
    const sources = files.filter(
      (file) => file.endsWith(".ts") && !file.endsWith(".d.ts") && !file.startsWith("clients/widget/"),
    );
    expect(sources).toEqual([]);
  });

  it(
    "plain Node imports hiveguard/client and hiveguard/tracking and both talk to the server",
    {
      timeout: 60_000,
    },
    async () => {
      writeFileSync(
        join(scratch, "use.mjs"),
        `import { createHiveGuardClient } from "hiveguard/client";
import { init } from "hiveguard/tracking";
const url = process.env.HIVEGUARD_URL;
const hg = createHiveGuardClient({ url, username: process.env.HIVEGUARD_USERNAME, password: process.env.HIVEGUARD_PASSWORD });
const dataset = await hg.call((c) => c.guard.datasets.create.mutate({ name: "from a tarball", modality: "text" }));
const run = init({ project: "packaged", name: "first", queueDir: process.env.QUEUE_DIR });
run.log({ loss: 0.5 });
await run.finish(0);
const wrong = createHiveGuardClient({ url, username: "admin", password: "wrong" });
const refused = await wrong.call((c) => c.guard.datasets.list.query()).catch((e) => e);
console.log(JSON.stringify({ dataset: dataset.name, pending: run.pending, refused: refused.message }));
`,
      );
      const result = await inScratch(process.execPath, ["use.mjs"], {
        HIVEGUARD_URL: t.url,
        HIVEGUARD_USERNAME: "admin",
        HIVEGUARD_PASSWORD: t.shared.dashboardPassword,
        QUEUE_DIR: join(scratch, "queue"),
      });
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toEqual({
        dataset: "from a tarball",
        pending: 0,
        refused: `HiveGuard at ${t.url} rejected the dashboard username/password (401 Unauthorized)`,
      });
      const runs = await fetch(`${t.url}/api/projects/packaged/runs`, {
        headers: { authorization: t.dashboardAuth },
      });
      expect(((await runs.json()) as { name: string }[]).map((run) => run.name)).toEqual(["first"]);
    },
  );

  it("a TypeScript consumer typechecks against the shipped declarations (a wrong procedure does not)", async () => {
    writeFileSync(
      join(scratch, "consumer.ts"),
      `import { createHiveGuardClient, type RouterOutputs } from "hiveguard/client";
import { init, type Run } from "hiveguard/tracking";
const hg = createHiveGuardClient({ url: "http://localhost:8000", username: "admin", password: "pw" });
export const datasets = (): Promise<RouterOutputs["guard"]["datasets"]["list"]> =>
  hg.call((c) => c.guard.datasets.list.query());
export const run = (): Run => init({ project: "p" });
// @ts-expect-error there is no such procedure
export const wrong = () => hg.call((c) => c.guard.datasets.destroyEverything.mutate());
`,
    );
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2023",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = await inScratch(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "."]);
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.code).toBe(0);
  }, 120_000);

  it("the installed hiveguard command runs the compiled CLI", async () => {
    const version = await inScratch(join(scratch, "node_modules/.bin/hiveguard"), ["--version"]);
    expect(version.stdout.trim()).toBe(VERSION);
    const list = await inScratch(
      join(scratch, "node_modules/.bin/hiveguard"),
      ["datasets", "list", "--output", "json"],
      {
        HIVEGUARD_URL: t.url,
        HIVEGUARD_USERNAME: "admin",
        HIVEGUARD_PASSWORD: t.shared.dashboardPassword,
      },
    );
    expect(list.stderr).toBe("");
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual(expect.any(Array));
  });
});
