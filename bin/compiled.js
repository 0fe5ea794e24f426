// Whether dist/ (built by `npm run build` at install) is current: it exists and no TypeScript source is newer
// than its finished-build mark. In a packed install there are no sources, so a built dist/ is always current.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const SOURCES = ["src", "clients/cli", "clients/ts"];

/** Newest modification time of the TypeScript under `dir` (0 when there is none). */
function newestSource(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let newest = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** @param {string} root the package's root folder */
export function compiledIsCurrent(root) {
  const mark = join(root, "dist", ".built");
  if (!existsSync(mark)) return false;
  const builtAt = statSync(mark).mtimeMs;
  return SOURCES.every((dir) => newestSource(join(root, dir)) <= builtAt);
}
