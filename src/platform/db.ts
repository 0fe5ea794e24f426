// The one way to get a database: embedded PGlite when no DATABASE_URL is configured, PostgreSQL otherwise.
// Same schema, same generated client, same migrations (applied here at start-up unless told otherwise).
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { Logger } from "pino";
import lockfile from "proper-lockfile";
import { PrismaClient } from "../generated/prisma/client.js";
import {
  applyPendingMigrations,
  ensureSchema,
  type MigrationTarget,
  postgresPoolConfig,
  resolveSchema,
} from "./migrations.js";

export type DatabaseKind = "pglite" | "postgres";

export interface Database {
  prisma: PrismaClient;
  kind: DatabaseKind;
  /**
   * A parameterized read straight through the driver (pg pool or PGlite), rows as arrays of column values.
   * For bulk reads where Prisma's per-cell result mapping dominates (streaming exports): about 5× faster.
   * Types follow the driver: cast anything driver-specific (int8, timestamps) to text in the SQL.
   */
  queryRows(sql: string, params?: unknown[]): Promise<unknown[][]>;
  /**
   * PostgreSQL only (undefined on PGlite): `COPY (sql) TO STDOUT ...` on a connection of its own (outside the
   * pool, so a long export never starves it), as a byte stream with backpressure. `sql` is the whole COPY
   * statement and cannot take parameters. Destroying the stream before its end drops the connection, which
   * ends the query on the server at once; at the end the connection is closed.
   */
  copyOut?(sql: string): Promise<Readable>;
  /**
   * `COPY (sql) TO ... (FORMAT binary)`: the raw bytes of a binary COPY (parse them with copy-binary.ts),
   * on a pooled connection (PostgreSQL) or through PGlite's `/dev/blob`. For bulk reads of binary data
   * (bytea), which the drivers would otherwise send as hex text. `sql` is a whole SELECT without
   * parameters (COPY takes none): inline only values you built yourself (numbers). Stopping the iteration
   * early drops the pooled connection rather than waiting for the rest.
   */
  copyBinary(sql: string): AsyncIterable<Buffer>;
  /**
   * Raw SQL through the driver for platform code that brings its own SQL (the job queue, pg-boss): with
   * values, one parameterized statement; without, the text may hold several statements (run as one
   * simple-protocol batch, e.g. `BEGIN; ...; COMMIT;`), and the last statement's rows are returned.
   */
  execute(sql: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  /** PostgreSQL schema holding HiveGuard's tables (undefined: the default, public; always so on PGlite). */
  schema: string | undefined;
  /** Runs `SELECT 1`; rejects if the database does not answer within PING_TIMEOUT_MS. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Set → PostgreSQL via @prisma/adapter-pg. */
  databaseUrl?: string;
  /** PGlite data directory when databaseUrl is unset; "memory://" = in-memory PGlite (tests). */
  dataDir?: string;
  /** PostgreSQL only: use this schema (created if missing). Defaults to `?schema=` in the URL, else public. */
  schema?: string;
  /** Default true: apply pending migrations before returning. */
  migrate?: boolean;
  logger: Logger;
}

export const PING_TIMEOUT_MS = 2000;
export const IN_MEMORY = "memory://";

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : openPGlite(opts);
}

async function openPGlite(opts: OpenDatabaseOptions): Promise<Database> {
  const dataDir = opts.dataDir ?? ".hiveguard";
  const location = dataDir === IN_MEMORY ? IN_MEMORY : join(dataDir, "pglite");
  let unlock = async () => {};
  if (location !== IN_MEMORY) {
    await mkdir(location, { recursive: true });
    unlock = await lockDataDirectory(location, opts.logger);
  }
  opts.logger.info({ database: "pglite", location }, "using embedded PGlite database");

  const client = new PGlite(location);
  return finishOpening(
    {
      kind: "pglite",
      prisma: new PrismaClient({ adapter: new PrismaPGlite(client) }),
      queryRows: async (sql, params) =>
        (await client.query<unknown[]>(sql, params, { rowMode: "array" })).rows,
      copyBinary: async function* (sql) {
        const result = await client.query(`COPY (${sql}) TO '/dev/blob' (FORMAT binary)`);
        if (!result.blob) throw new Error("PGlite returned no COPY data");
        yield Buffer.from(await result.blob.arrayBuffer());
      },
      execute: async (sql, values) => {
        if (values && values.length > 0) return client.query<Record<string, unknown>>(sql, values);
        const results = await client.exec(sql);
        return { rows: (results.at(-1)?.rows ?? []) as Record<string, unknown>[] };
      },
      schema: undefined,
      release: async () => {
        try {
          await client.close();
        } finally {
          await unlock();
        }
      },
    },
    { kind: "pglite", client },
    opts,
  );
}

/** Thrown when a second process tries to open a PGlite data directory that another one is using. */
export class DataDirectoryInUseError extends Error {}

/**
 * PGlite is a single-process database: two servers on one data directory would corrupt it. A lock
 * (proper-lockfile: a lock directory whose mtime the holder refreshes, so a crashed holder's lock goes
 * stale after 10 s) makes the second one stop with a clear message instead.
 */
async function lockDataDirectory(location: string, logger: Logger): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(location, {
      lockfilePath: join(location, "hiveguard.lock"),
      stale: 10_000,
      update: 2_000,
      retries: 0,
      onCompromised: (error) =>
        logger.error(
          { err: error },
          "lost the lock of the PGlite data directory; another process may use it",
        ),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOCKED") {
      throw new DataDirectoryInUseError(
        `the data directory ${location} is in use by another HiveGuard process; stop it, or set HIVEGUARD_DATA_DIR to another directory (or DATABASE_URL to share a PostgreSQL database)`,
      );
    }
    throw error;
  }
}

async function openPostgres(databaseUrl: string, opts: OpenDatabaseOptions): Promise<Database> {
  const schema = resolveSchema(databaseUrl, opts.schema);
  opts.logger.info(
    { database: "postgres", url: redactPassword(databaseUrl), schema: schema ?? "public" },
    "using PostgreSQL database",
  );

  const pool = new pg.Pool(postgresPoolConfig(databaseUrl, schema));
  pool.on("error", (error) => opts.logger.warn({ err: error }, "idle PostgreSQL connection failed"));
  // Migrating creates the schema under the migration lock; without migrating we still promised it exists.
  if (schema && opts.migrate === false) await ensureSchema(pool, schema).catch(endPoolAnd(pool));
  return finishOpening(
    {
      kind: "postgres",
      prisma: new PrismaClient({ adapter: new PrismaPg(pool, { schema }) }),
      queryRows: async (sql, params) =>
        (await pool.query<unknown[]>({ text: sql, values: params, rowMode: "array" })).rows,
      copyOut: (sql) => copyOutOnOwnConnection(postgresPoolConfig(databaseUrl, schema), sql, opts.logger),
      copyBinary: (sql) => copyBinaryPooled(pool, sql),
      execute: async (sql, values) => {
        const result = (await pool.query(sql, values)) as unknown as pg.QueryResult | pg.QueryResult[];
        const last = Array.isArray(result) ? result.at(-1) : result;
        return { rows: (last?.rows ?? []) as Record<string, unknown>[] };
      },
      schema,
      release: () => pool.end(),
    },
    { kind: "postgres", databaseUrl, schema },
    opts,
  );
}

async function* copyBinaryPooled(pool: pg.Pool, sql: string): AsyncGenerator<Buffer> {
  const client = await pool.connect();
  let done = false;
  try {
    // A larger buffer than the 16 KB default keeps the socket flowing while the consumer works on a row.
    const stream = client.query(
      copyTo(`COPY (${sql}) TO STDOUT (FORMAT binary)`, { highWaterMark: 1 << 20 }),
    );
    for await (const chunk of stream) yield chunk as Buffer;
    done = true;
  } finally {
    // An error or an early stop leaves the connection mid-COPY: discard it instead of reusing it.
    client.release(done ? undefined : true);
  }
}

async function copyOutOnOwnConnection(
  config: pg.ClientConfig,
  sql: string,
  logger: Logger,
): Promise<Readable> {
  const client = new pg.Client(config);
  client.on("error", (error) => logger.debug({ err: error }, "COPY connection failed"));
  await client.connect();
  const stream = client.query(copyTo(sql));
  let ended = false;
  stream.once("end", () => {
    ended = true;
    client.end().catch(() => {});
  });
  stream.once("close", () => {
    if (ended) return;
    // Destroyed mid-copy (client gone, or an error): drop the socket. The server's next send fails and the
    // backend ends the query; a polite Terminate would wait behind the rest of the COPY data.
    (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    client.end().catch(() => {});
  });
  return stream;
}

interface Opened {
  kind: DatabaseKind;
  prisma: PrismaClient;
  queryRows: Database["queryRows"];
  copyOut?: Database["copyOut"];
  copyBinary: Database["copyBinary"];
  execute: Database["execute"];
  schema: string | undefined;
  /** Closes the driver (PGlite instance or pg pool) after Prisma has disconnected. */
  release(): Promise<void>;
}

async function finishOpening(
  opened: Opened,
  target: MigrationTarget,
  opts: OpenDatabaseOptions,
): Promise<Database> {
  const close = async () => {
    await opened.prisma.$disconnect();
    await opened.release();
  };
  try {
    if (opts.migrate !== false) await applyPendingMigrations({ target, logger: opts.logger });
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
  return {
    kind: opened.kind,
    prisma: opened.prisma,
    queryRows: opened.queryRows,
    copyBinary: opened.copyBinary,
    execute: opened.execute,
    schema: opened.schema,
    ...(opened.copyOut ? { copyOut: opened.copyOut } : {}),
    ping: () => withTimeout(opened.prisma.$queryRaw`SELECT 1`, PING_TIMEOUT_MS, "database ping"),
    close: once(close),
  };
}

async function withTimeout(work: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => {
    result ??= fn();
    return result;
  };
}

function endPoolAnd(pool: pg.Pool) {
  return async (error: unknown): Promise<never> => {
    await pool.end().catch(() => {});
    throw error;
  };
}

export function redactPassword(databaseUrl: string): string {
  if (!URL.canParse(databaseUrl)) return "[unparseable url]";
  const url = new URL(databaseUrl);
  if (url.password) url.password = "***";
  return url.toString();
}
