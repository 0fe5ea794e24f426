// Issue 17, point 8: `npm ci` on the Node we declare prints no engine warnings. npm warns when a locked
// package's `engines.node` does not accept the running Node; this checks every locked package against the
// oldest Node that `package.json` accepts, so a dependency bump that needs a newer Node fails here, not in a
// user's terminal.
import { readFileSync } from "node:fs";
import semver from "semver";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL("package-lock.json", root), "utf8")) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>;
};

// Prisma's local development server (pulled in by the `prisma` CLI since 7.8) declares Node 22 and Bun;
// HiveGuard never runs it (README, "Dependencies and why").
const KNOWN = new Set(["@prisma/streams-local"]);

describe("engines", () => {
  it("every locked package accepts the oldest Node that package.json declares", () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    const refusing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const name = path.replace(/^.*node_modules\//, "");
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (!path || !range || KNOWN.has(name)) continue;
      if (!semver.satisfies(oldest, range, { includePrerelease: true })) {
        refusing.push(`${name}@${entry.version} needs node ${range}`);
      }
    }
    expect(refusing).toEqual([]);
  });
});
