import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's root folder (the one holding package.json), found from this file whether it runs as source
 * (`src/platform/paths.ts` through tsx) or compiled (`dist/src/platform/paths.js`): files that are not
 * compiled (migrations, the widget's sources, static assets, the dashboard's build) are read from there.
 */
export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${from}`);
  }
}

/** A path inside the package, e.g. `packagePath("migrations")`. */
export function packagePath(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments);
}
