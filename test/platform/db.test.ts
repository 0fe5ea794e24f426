import { readdirSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, IN_MEMORY, openDatabase, redactPassword } from "../../src/platform/db.js";
import {
  applyPendingMigrations,
  createMigration,
  type MigrationTarget,
  migrationStatus,
} from "../../src/platform/migrations.js";
import { dropSchema, randomSchemaName } from "../support/db.js";

/** The migration folders in the repository, oldest first. */
const MIGRATIONS = readdirSync(new URL("../../migrations/", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

const SLOW = 60_000;
const logger = pino({ level: "silent" });
const databaseUrl = process.env.DATABASE_URL;

interface Backend {
  name: string;
  open(): Promise<{ db: Database; target?: MigrationTarget; cleanup(): Promise<void> }>;
}

const pgliteBackend: Backend = {
  name: "in-memory PGlite",
  async open() {
    const db = await openDatabase({ dataDir: IN_MEMORY, logger });
    return { db, cleanup: () => db.close() };
  },
};

// With DATABASE_URL set, PostgreSQL being down must fail these tests, not skip them.
const postgresBackend = (url: string): Backend => ({
  name: "PostgreSQL (fresh schema)",
  async open() {
    const schema = randomSchemaName();
    const db = await openDatabase({ databaseUrl: url, schema, logger });
    return {
      db,
      target: { kind: "postgres", databaseUrl: url, schema },
      cleanup: async () => {
        await db.close();
        await dropSchema(url, schema);
      },
    };
  },
});

const backends = databaseUrl ? [pgliteBackend, postgresBackend(databaseUrl)] : [pgliteBackend];

describe.each(backends)("openDatabase on $name", (backend) => {
  let opened: Awaited<ReturnType<Backend["open"]>>;
  beforeAll(async () => {
    opened = await backend.open();
  }, SLOW);
  afterAll(() => opened?.cleanup());

  it("has applied every migration the way `prisma migrate deploy` records it", async () => {
    const rows = await opened.db.prisma.$queryRaw<{ migration_name: string; finished: boolean }[]>`
      SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY migration_name`;
    expect(rows).toEqual(MIGRATIONS.map((name) => ({ migration_name: name, finished: true })));
    expect(MIGRATIONS[0]).toMatch(/^\d{14}_init$/);
  });

  it("stores and reads a SystemSetting", async () => {
    await opened.db.prisma.systemSetting.create({ data: { key: "greeting", value: { hello: "hive" } } });
    const row = await opened.db.prisma.systemSetting.findUnique({ where: { key: "greeting" } });
    expect(row?.value).toEqual({ hello: "hive" });
  });

  it("answers ping", async () => {
    await expect(opened.db.ping()).resolves.toBeUndefined();
  });
});

describe.runIf(databaseUrl)("PostgreSQL schema option", () => {
  let opened: Awaited<ReturnType<Backend["open"]>>;
  beforeAll(async () => {
    opened = await postgresBackend(databaseUrl!).open();
  }, SLOW);
  afterAll(() => opened?.cleanup());

  it(
    "keeps tables and _prisma_migrations inside the schema, invisible to another schema",
    async () => {
      const target = opened.target as Extract<MigrationTarget, { kind: "postgres" }>;
      expect(await applyPendingMigrations({ target })).toEqual([]);
      expect((await migrationStatus({ target })).pending).toEqual([]);

      const tables = await opened.db.prisma.$queryRaw<{ table_name: string }[]>`
        SELECT table_name::text FROM information_schema.tables WHERE table_schema = ${target.schema}
        ORDER BY table_name`;
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining(["_prisma_migrations", "system_settings", "datasets", "items", "labels"]),
      );

      await opened.db.prisma.systemSetting.create({ data: { key: "greeting", value: "mine" } });
      const other = await postgresBackend(target.databaseUrl).open();
      try {
        expect(await other.db.prisma.systemSetting.count()).toBe(0);
        await other.db.prisma.systemSetting.create({ data: { key: "greeting", value: "other" } });
        const mine = await opened.db.prisma.systemSetting.findUnique({ where: { key: "greeting" } });
        expect(mine?.value).toBe("mine");
      } finally {
        await other.cleanup();
      }
    },
    SLOW,
  );
});

describe("a PGlite data directory on disk", () => {
  it(
    "is used by one server at a time: a second one is refused with a clear message, and can open it after",
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "hiveguard-lock-"));
      try {
        const first = await openDatabase({ dataDir, logger });
        await first.prisma.systemSetting.create({ data: { key: "owner", value: "first" } });
        await expect(openDatabase({ dataDir, logger })).rejects.toThrow(
          /data directory .* is in use by another HiveGuard process/,
        );
        // The refused attempt did not disturb the owner.
        expect((await first.prisma.systemSetting.findUnique({ where: { key: "owner" } }))?.value).toBe(
          "first",
        );
        await first.close();

        const second = await openDatabase({ dataDir, logger });
        expect((await second.prisma.systemSetting.findUnique({ where: { key: "owner" } }))?.value).toBe(
          "first",
        );
        await second.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    SLOW,
  );
});

describe("applyPendingMigrations on PGlite", () => {
  it(
    "applies once, then is a no-op",
    async () => {
      const client = new PGlite(IN_MEMORY);
      try {
        const target: MigrationTarget = { kind: "pglite", client };
        expect(await migrationStatus({ target })).toMatchObject({ applied: [], pending: MIGRATIONS });
        expect(await applyPendingMigrations({ target })).toEqual(MIGRATIONS);
        expect(await applyPendingMigrations({ target })).toEqual([]);
        expect(await migrationStatus({ target })).toMatchObject({ pending: [], failed: [] });
      } finally {
        await client.close();
      }
    },
    SLOW,
  );
});

describe("ping", () => {
  let server: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts connections and never answers: a hung database.
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it(
    "gives up within its bound when the database does not answer",
    async () => {
      const address = server.address() as { port: number };
      const db = await openDatabase({
        databaseUrl: `postgresql://postgres@127.0.0.1:${address.port}/test`,
        migrate: false,
        logger,
      });
      const started = Date.now();
      await expect(db.ping()).rejects.toThrow(/timed out/);
      expect(Date.now() - started).toBeLessThan(4000);
      for (const socket of sockets) socket.destroy();
      await db.close();
    },
    SLOW,
  );
});

describe("createMigration", () => {
  let rootDir: string;
  const printed: string[] = [];
  const print = (message: string) => printed.push(message);
  beforeAll(async () => {
    rootDir = await mkdtemp(join(tmpdir(), "hiveguard-migrations-"));
    await cp(new URL("../../schema.prisma", import.meta.url), join(rootDir, "schema.prisma"));
  });
  afterAll(() => rm(rootDir, { recursive: true, force: true }));

  it(
    "diffs from nothing, then from the schema saved with the newest migration",
    async () => {
      const init = await createMigration({ name: "init", rootDir, print });
      expect(init?.sql).toContain('CREATE TABLE "system_settings"');
      expect(await readFile(join(rootDir, "migrations", "migration_lock.toml"), "utf8")).toContain(
        'provider = "postgresql"',
      );

      printed.length = 0;
      expect(await createMigration({ name: "nothing", rootDir, print })).toBeNull();
      expect(printed).toEqual(["No schema changes"]);

      const changed = join(rootDir, "changed.prisma");
      await writeFile(
        changed,
        `${await readFile(join(rootDir, "schema.prisma"), "utf8")}\nmodel Widget {\n  id Int @id\n  name String\n\n  @@map("widgets")\n}\n`,
      );
      const added = await createMigration({ name: "Add widgets!", rootDir, schemaPath: changed, print });
      expect(added?.name).toMatch(/^\d{14}_add_widgets$/);
      expect(added?.sql).toContain('CREATE TABLE "widgets"');
      expect(added?.sql).not.toContain("system_settings");

      const dirs = (await readdir(join(rootDir, "migrations"))).filter(
        (name) => name !== "migration_lock.toml",
      );
      expect(dirs).toEqual([init?.name, added?.name]); // sorted = creation order, even within one second
      expect(await createMigration({ name: "again", rootDir, schemaPath: changed, print })).toBeNull();

      // The generated SQL really applies, in order.
      const client = new PGlite(IN_MEMORY);
      try {
        const target: MigrationTarget = { kind: "pglite", client };
        const migrationsDir = join(rootDir, "migrations");
        expect(await applyPendingMigrations({ target, migrationsDir })).toEqual(dirs);
        const { rows } = await client.query("SELECT count(*)::int AS n FROM widgets");
        expect(rows).toEqual([{ n: 0 }]);
      } finally {
        await client.close();
      }
    },
    2 * SLOW, // three schema diffs, each on a fresh in-memory PGlite: over a minute on a loaded 2-core box
  );
});

describe("redactPassword", () => {
  it("hides the password and keeps the rest", () => {
    expect(redactPassword("postgresql://hive:s3cret@db:5432/hive?schema=x")).toBe(
      "postgresql://hive:***@db:5432/hive?schema=x",
    );
    expect(redactPassword("postgresql://hive@db/hive")).toBe("postgresql://hive@db/hive");
  });
});
