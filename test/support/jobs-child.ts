// A process that runs the job queue and nothing else, for tests that kill it mid-job (SIGKILL: no shutdown,
// no heartbeat ever again). Environment: DATABASE_URL + DB_SCHEMA, or DATA_DIR (PGlite on disk). It queues
// one `test.slow` job (retried after a failure) and one `test.slow-unsafe` job (no retries), prints
// `queued <type> <id>`, and `running <id>` once each of them reports progress.
import { openDatabase } from "../../src/platform/db.js";
import { JobQueue } from "../../src/platform/jobs.js";
import { createLogger } from "../../src/platform/logger.js";
import { slowJobs } from "./jobs-types.js";

const log = createLogger("warn");
const db = await openDatabase({
  databaseUrl: process.env.DATABASE_URL,
  schema: process.env.DB_SCHEMA,
  dataDir: process.env.DATA_DIR,
  logger: log,
});
const queue = new JobQueue({ db, log, workers: 1, pollSeconds: 0.5, heartbeatMs: 200 });
const types = slowJobs((id) => process.stdout.write(`running ${id}\n`));
queue.register(...types);
await queue.start();
for (const type of types) process.stdout.write(`queued ${type.name} ${await queue.enqueue(type, {})}\n`);
