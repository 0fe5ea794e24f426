// npm install's last step in a checkout: generate the Prisma client, build the dashboard (Vite) and the
// server, CLI and clients (tsc, into dist/). An installed package (e.g. from a packed tarball) ships built
// and has no sources: nothing to do there.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

if (!existsSync("src/main.ts")) process.exit(0);
const npm = process.env.npm_execpath;
for (const script of ["db:generate", "build:dashboard", "build"]) {
  const result = npm
    ? spawnSync(process.execPath, [npm, "run", "--silent", script], { stdio: "inherit" })
    : spawnSync("npm", ["run", "--silent", script], { stdio: "inherit", shell: true });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
