// Generates the Prisma client from schema.prisma without any network access beyond npm.
// `prisma generate` only needs PRISMA_SCHEMA_ENGINE_BINARY to name an existing file (it never runs it), so we
// point it at node itself; Prisma 7's "prisma-client" generator needs no native query engine at all.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let prismaCli;
try {
  prismaCli = require.resolve("prisma/build/index.js");
} catch {
  console.warn("prisma CLI not installed (production install?); using the already generated client");
  process.exit(existsSync("src/generated/prisma/client.ts") ? 0 : 1);
}
const result = spawnSync(process.execPath, [prismaCli, "generate", "--schema", "schema.prisma"], {
  stdio: ["ignore", "inherit", "inherit"],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    CHECKPOINT_DISABLE: "1",
  },
});
process.exit(result.status ?? 1);
