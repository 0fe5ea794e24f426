// A fresh, isolated, migrated database per caller: in-memory PGlite, or a throwaway schema of DATABASE_URL.
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { Logger } from "pino";
import { type Database, IN_MEMORY, openDatabase } from "../../src/platform/db.js";

export interface TestDatabase {
  db: Database;
  /** The PostgreSQL schema holding this database (undefined on PGlite), for opening a second connection to it. */
  schema?: string;
  /** Closes the database and, on PostgreSQL, drops its schema. */
  cleanup(): Promise<void>;
}

export async function openTestDatabase(
  logger: Logger,
  databaseUrl: string | undefined = process.env.DATABASE_URL,
): Promise<TestDatabase> {
  if (!databaseUrl) {
    const db = await openDatabase({ dataDir: IN_MEMORY, logger });
    return { db, cleanup: () => db.close() };
  }
  const schema = randomSchemaName();
  const dropIt = () => dropSchema(databaseUrl, schema);
  const db = await openDatabase({ databaseUrl, schema, logger }).catch(async (error: unknown) => {
    await dropIt().catch(() => {});
    throw error;
  });
  return {
    db,
    schema,
    cleanup: async () => {
      await db.close();
      await dropIt();
    },
  };
}

export function randomSchemaName(): string {
  return `test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    // The job queue's own schema beside it (src/platform/jobs.ts).
    await client.query(`DROP SCHEMA IF EXISTS "${schema}_jobs" CASCADE`);
  } finally {
    await client.end();
  }
}
