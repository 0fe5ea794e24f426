// Database migrations without the network: `npm run db:migration -- <name>`, `npm run db:migrate`,
// `npm run db:status`. Uses DATABASE_URL (PostgreSQL, `?schema=` honoured) or, when unset, the embedded PGlite
// database in $HIVEGUARD_DATA_DIR (default ./.hiveguard).
import "dotenv/config";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { redactPassword } from "../src/platform/db.js";
import {
  applyPendingMigrations,
  createMigration,
  type MigrationOptions,
  migrationStatus,
} from "../src/platform/migrations.js";

const USAGE = `Usage:
  npm run db:migration -- <name>   create migrations/<timestamp>_<name>/ from changes to schema.prisma
  npm run db:migrate               apply pending migrations
  npm run db:status                list applied and pending migrations (exit 1 if not up to date)`;

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case "migration":
      return newMigration(rest.join(" "));
    case "migrate":
      return withTarget(migrate);
    case "status":
      return withTarget(status);
    default:
      console.error(USAGE);
      return 2;
  }
}

async function newMigration(name: string): Promise<number> {
  if (!name.trim()) {
    console.error(`A migration needs a name.\n\n${USAGE}`);
    return 2;
  }
  const created = await createMigration({ name, rootDir: process.cwd() });
  if (created) console.log("Run `npm run db:generate` to update the client, then `npm run db:migrate`.");
  return 0;
}

async function migrate(opts: MigrationOptions): Promise<number> {
  const applied = await applyPendingMigrations(opts);
  if (applied.length === 0) console.log("Database is up to date: no pending migrations.");
  for (const name of applied) console.log(`Applied ${name}`);
  return 0;
}

async function status(opts: MigrationOptions): Promise<number> {
  const { applied, pending, failed, edited, unknown } = await migrationStatus(opts);
  const section = (title: string, names: string[]) => {
    if (names.length > 0) console.log(`${title}:\n${names.map((name) => `  ${name}`).join("\n")}`);
  };
  section("Applied", applied);
  section("Pending", pending);
  section("Failed (fix the database, then mark it with `prisma migrate resolve`)", failed);
  section("Edited after being applied", edited);
  section("Applied to the database but missing from migrations/", unknown);
  const upToDate = pending.length + failed.length + unknown.length === 0;
  console.log(upToDate ? "Database is up to date." : "Database is NOT up to date.");
  return upToDate ? 0 : 1;
}

/** Opens the configured database as a migration target for the duration of `fn`. */
async function withTarget(fn: (opts: MigrationOptions) => Promise<number>): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    console.log(`PostgreSQL: ${redactPassword(databaseUrl)}`);
    return fn({ target: { kind: "postgres", databaseUrl } });
  }
  const dir = join(process.env.HIVEGUARD_DATA_DIR ?? ".hiveguard", "pglite");
  console.log(`PGlite: ${dir} (set DATABASE_URL to use PostgreSQL)`);
  await mkdir(dir, { recursive: true });
  const client = new PGlite(dir);
  try {
    return await fn({ target: { kind: "pglite", client } });
  } finally {
    await client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`Error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
