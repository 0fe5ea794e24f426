// `npm run build` (run by postinstall and prepack): compiles the server, the CLI, the typed client and the
// tracking SDK to JavaScript with type declarations in dist/ (tsconfig.build.json), from a clean dist/ so no
// output of a deleted source survives. dist/.built marks a finished build: bin/hiveguard.js runs dist/ only
// when no source is newer than that mark. Non-TypeScript files under src/ are copied beside their modules.
import { spawnSync } from "node:child_process";
import { cpSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
rmSync("dist", { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"],
  {
    stdio: "inherit",
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// Files a module reads next to its code (static assets, corpora) are copied beside the compiled JavaScript,
// so a path relative to import.meta.url finds them in dist/ as in src/.
cpSync("src", "dist/src", {
  recursive: true,
  filter: (path) => statSync(path).isDirectory() || !path.endsWith(".ts"),
});
writeFileSync("dist/.built", `${new Date().toISOString()}\n`);
