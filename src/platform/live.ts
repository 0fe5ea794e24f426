// A snapshot every instance holds in memory (runtime config, compiled proxy rules, the active risk model...)
// and keeps current across instances through the state store's pub/sub.
import type { StateStore } from "./state/index.js";

export interface LiveSnapshotOptions<T> {
  state: StateStore;
  /** The pub/sub channel on which any instance announces a change. */
  channel: string;
  /** The value until the first load. */
  initial: T;
  /** Reads the value anew; receives the one held now (return it to keep it). */
  load: (current: T) => Promise<T>;
  /** A load started by a message, a resync or the timer failed; the previous value is kept. */
  onLoadError: (error: unknown) => void;
  /** What a change message does here; by default it reloads. A resync always reloads. */
  onMessage?: (message: string) => void;
  /** Also reload this often, for changes nobody announces (or a message lost without a resync). */
  refreshMs?: number;
  /** Called after the value is replaced by another one. */
  onReplace?: (next: T, previous: T) => void;
}

/**
 * A value held in memory and kept current on every instance: loaded at start, reloaded when any instance
 * announces a change on the channel, when the pub/sub connection comes back after a loss (messages may have
 * been missed), and optionally every `refreshMs`. Loads run one at a time, so an older read never replaces
 * a newer one, and a failed load keeps the previous value.
 */
export class LiveSnapshot<T> {
  #value: T;
  #queue: Promise<unknown> = Promise.resolve();
  #unsubscribe: (() => Promise<void>) | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: LiveSnapshotOptions<T>) {
    this.#value = options.initial;
  }

  get value(): T {
    return this.#value;
  }

  /** Subscribes, then loads the first value (a failure here is thrown). */
  async start(): Promise<void> {
    const { state, channel, onMessage, refreshMs } = this.options;
    const refresh = () => void this.refresh();
    this.#unsubscribe = await state.subscribe(channel, onMessage ?? refresh, { onResync: refresh });
    await this.reload();
    if (refreshMs) {
      this.#timer = setInterval(refresh, refreshMs);
      this.#timer.unref();
    }
  }

  /** Stops listening (a load under way still finishes: `update` after stop waits for it). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** Loads the value now, after any load under way; rejects (keeping the previous value) when it fails. */
  reload(): Promise<T> {
    return this.update((current) => this.options.load(current));
  }

  /** Like reload, but a failure goes to `onLoadError` instead of the caller. */
  refresh(): Promise<void> {
    return this.reload().then(
      () => {},
      (error: unknown) => this.options.onLoadError(error),
    );
  }

  /** Replaces the value with what `next` makes of it, in turn with the loads. */
  update(next: (current: T) => T | Promise<T>): Promise<T> {
    const run = this.#queue
      .catch(() => {})
      .then(async () => {
        const previous = this.#value;
        const value = await next(previous);
        if (value !== previous) {
          this.#value = value;
          this.options.onReplace?.(value, previous);
        }
        return value;
      });
    this.#queue = run;
    return run;
  }

  /** Announces a change to every instance, this one included. */
  publish(message = "changed"): Promise<void> {
    return this.options.state.publish(this.options.channel, message);
  }
}
