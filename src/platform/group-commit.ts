// Group commit: callers that each need a durable write share one write (one round trip, one transaction, one
// commit) with the callers that arrive while another write is in flight. A caller's promise settles only
// after the write that holds its row has committed (or failed): nothing is acknowledged before it is durable.

export interface GroupCommitOptions<In, Out> {
  /** Writes the rows in one transaction; answers one result per row, in the rows' order. */
  write(rows: In[]): Promise<Out[]>;
  /** Most rows in one write (≥ 1; 1 = every caller writes alone). */
  maxRows: number;
  /**
   * Longest a row waits, when no write is in flight, for others to join it (µs; 0 = one event-loop turn).
   * Rows that arrive while a write is in flight go in the next write as soon as it returns.
   */
  maxWaitUs: number;
  /**
   * When a write of several rows fails: true = write each row alone (an error that belongs to one row, such as
   * a constraint, then fails only that caller); false = every caller of the write gets the error (the database
   * is away). Default: never retry.
   */
  retryAlone?(error: unknown): boolean;
}

export interface GroupCommitStats {
  writes: number;
  rows: number;
  largest: number;
}

interface Waiting<In, Out> {
  row: In;
  resolve(value: Out): void;
  reject(error: unknown): void;
}

export class GroupCommit<In, Out> {
  private queue: Waiting<In, Out>[] = [];
  private inFlight = false;
  private lingering = false;
  private readonly counts: GroupCommitStats = { writes: 0, rows: 0, largest: 0 };

  constructor(private readonly opts: GroupCommitOptions<In, Out>) {
    if (!(opts.maxRows >= 1)) throw new RangeError("maxRows must be at least 1");
  }

  /** Resolves with this row's result once the write holding it has committed. */
  add(row: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.inFlight && !this.lingering) this.linger();
    });
  }

  stats(): GroupCommitStats {
    return { ...this.counts };
  }

  /** Idle: wait up to maxWaitUs (at least one event-loop turn) for company, or until maxRows are there. */
  private linger(): void {
    this.lingering = true;
    const start = process.hrtime.bigint();
    const limit = BigInt(Math.round(this.opts.maxWaitUs * 1000));
    const tick = () => {
      if (this.queue.length >= this.opts.maxRows || process.hrtime.bigint() - start >= limit) {
        this.lingering = false;
        this.flush();
      } else setImmediate(tick);
    };
    setImmediate(tick);
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.opts.maxRows);
    if (batch.length === 0) return;
    this.inFlight = true;
    this.counts.writes++;
    this.counts.rows += batch.length;
    this.counts.largest = Math.max(this.counts.largest, batch.length);
    void this.writeBatch(batch).finally(() => {
      this.inFlight = false;
      // Whatever arrived meanwhile has waited long enough: it goes now.
      if (this.queue.length > 0) this.flush();
    });
  }

  private async writeBatch(batch: Waiting<In, Out>[]): Promise<void> {
    try {
      const results = await this.opts.write(batch.map((waiting) => waiting.row));
      if (results.length !== batch.length)
        throw new Error(`group commit: ${results.length} results for ${batch.length} rows`);
      batch.forEach((waiting, index) => waiting.resolve(results[index]!));
    } catch (error) {
      if (batch.length > 1 && this.opts.retryAlone?.(error)) {
        // Nothing of the failed write was committed: each row again, alone and in order.
        for (const waiting of batch) await this.writeBatch([waiting]);
        return;
      }
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
