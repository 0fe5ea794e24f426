// Reader for PostgreSQL's binary COPY format (`COPY (...) TO STDOUT (FORMAT binary)`): the fastest way to get
// bulk binary data (bytea) out of PostgreSQL from Node. node-postgres receives every result value as text
// (bytea as hex, twice the bytes, then decoded), and its `binary: true` option decodes values as UTF-8 first,
// which corrupts arbitrary bytes. COPY's binary stream carries the values exactly as stored.
// Format: https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/**
 * The rows of a binary COPY stream, one array of field values per row (`null` for SQL NULL). Chunks may split
 * rows and fields anywhere; each field is handed out as one contiguous Buffer of its own (never a view into
 * a shared pool buffer, so it starts at offset 0 of its memory and typed arrays can be laid over it).
 */
export async function* copyBinaryRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<(Buffer | null)[]> {
  const queue = new ByteQueue();
  let headerDone = false;
  let row: (Buffer | null)[] | null = null; // the row being read
  let fields = 0; // how many fields it has
  let fieldLength = -2; // length of the field being read (-2: its length word is not read yet)
  for await (const chunk of chunks) {
    queue.push(chunk);
    for (;;) {
      if (!headerDone) {
        if (queue.length < SIGNATURE.length + 8) break;
        const head = queue.peek(SIGNATURE.length + 8);
        if (!head.subarray(0, SIGNATURE.length).equals(SIGNATURE))
          throw new Error("not a binary COPY stream");
        const extension = head.readUInt32BE(SIGNATURE.length + 4);
        if (queue.length < SIGNATURE.length + 8 + extension) break;
        queue.skip(SIGNATURE.length + 8 + extension);
        headerDone = true;
      }
      if (row === null) {
        if (queue.length < 2) break;
        fields = queue.take(2).readInt16BE(0);
        if (fields === -1) return; // trailer
        row = [];
        fieldLength = -2;
      }
      if (row.length === fields) {
        yield row;
        row = null;
        continue;
      }
      if (fieldLength === -2) {
        if (queue.length < 4) break;
        fieldLength = queue.take(4).readInt32BE(0);
        if (fieldLength === -1) {
          row.push(null);
          fieldLength = -2;
          continue;
        }
      }
      if (queue.length < fieldLength) break;
      row.push(queue.take(fieldLength, true));
      fieldLength = -2;
    }
  }
  throw new Error("binary COPY stream ended early");
}

/** A FIFO of byte chunks that hands out exact lengths, copying each byte at most once. */
class ByteQueue {
  readonly #chunks: Buffer[] = [];
  #offset = 0; // into the first chunk
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length - this.#offset >= n) return first.subarray(this.#offset, this.#offset + n);
    return this.#gather(n, false);
  }

  skip(n: number): void {
    this.#gather(n, true, false);
  }

  /** The next `n` bytes; `own` = in a fresh buffer of their own (else possibly a view into a chunk). */
  take(n: number, own = false): Buffer {
    const first = this.#chunks[0];
    if (!own && first && first.length - this.#offset >= n) {
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#advance(n);
      return out;
    }
    return this.#gather(n, true);
  }

  #gather(n: number, consume: boolean, copy = true): Buffer {
    const out = copy ? Buffer.from(new ArrayBuffer(n)) : Buffer.alloc(0);
    let written = 0;
    let index = 0;
    let offset = this.#offset;
    while (written < n) {
      const chunk = this.#chunks[index]!;
      const count = Math.min(n - written, chunk.length - offset);
      if (copy) chunk.copy(out, written, offset, offset + count);
      written += count;
      offset += count;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    if (consume) this.#advance(n);
    return out;
  }

  #advance(n: number): void {
    this.length -= n;
    let left = n;
    while (left > 0) {
      const available = this.#chunks[0]!.length - this.#offset;
      if (available > left) {
        this.#offset += left;
        return;
      }
      left -= available;
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}
