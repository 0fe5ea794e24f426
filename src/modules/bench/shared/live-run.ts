// A run's live events: every event is kept, so a listener that subscribes late (a client reconnecting, the
// stream opened after `begin`) gets the run's events so far replayed, then the live ones.
export class LiveRun<E> {
  private readonly events: E[] = [];
  private readonly listeners = new Set<(event: E) => void>();

  emit(event: E): void {
    this.events.push(event);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure (a closed socket) is not the run's
      }
    }
  }

  /** Every event so far, then live ones; returns the unsubscribe. */
  subscribe(listener: (event: E) => void): () => void {
    for (const event of this.events) listener(event);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The run is over: no listener is kept (the events stay for a late replay). */
  close(): void {
    this.listeners.clear();
  }
}
