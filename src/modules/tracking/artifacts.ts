// Artifact bytes on disk (the data directory or TRACKING_ARTIFACTS_DIR). Files are named by a random key,
// never by the name the user gave, so no artifact name can escape the folder.
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, type ReadStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export class ArtifactStore {
  constructor(readonly dir: string) {}

  #path(key: string): string {
    if (!/^[0-9a-f-]{36}$/.test(key)) throw new Error(`invalid artifact key ${key}`);
    return join(this.dir, key.slice(0, 2), key);
  }

  /** Writes the stream to a new file; returns its key and size. Removes the partial file on failure. */
  async save(source: Readable): Promise<{ key: string; size: number }> {
    const key = randomUUID();
    const path = this.#path(key);
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
    try {
      await pipeline(source, createWriteStream(path, { flags: "wx" }));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    return { key, size: (await stat(path)).size };
  }

  open(key: string): ReadStream {
    return createReadStream(this.#path(key));
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.#path(key), { force: true })));
  }
}
