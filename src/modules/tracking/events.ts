// Live tracking events, fanned out through the state store's publish/subscribe, so a point logged on one
// instance reaches SSE streams served by any other instance sharing the same Redis.
import type { Logger } from "../../platform/logger.js";
import type { StateStore } from "../../platform/state/index.js";

/** One logged record (one step of one run) as the SSE `metric` event carries it. */
export interface MetricEvent {
  project: string;
  run: string;
  step: number;
  timestamp_ms: number;
  /** Non-finite values are null, as in the JSON reads. */
  metrics: Record<string, number | null>;
}

export interface StatusEvent {
  project: string;
  run: string;
  status: string;
  is_finished: boolean;
  exit_code: number | null;
  timestamp_ms: number;
}

export type TrackingEvent =
  { kind: "metric"; records: MetricEvent[] } | { kind: "status"; status: StatusEvent };

const channelOf = (project: string) => `tracking:events:${project}`;

export class TrackingEvents {
  constructor(
    private readonly state: StateStore,
    private readonly log: Logger,
  ) {}

  /** Best effort: a failing state store never fails the write that already reached the database. */
  async publish(project: string, event: TrackingEvent): Promise<void> {
    try {
      await this.state.publish(channelOf(project), JSON.stringify(event));
    } catch (err) {
      this.log.warn({ err, project }, "could not publish a tracking event (live streams will miss it)");
    }
  }

  subscribe(project: string, handler: (event: TrackingEvent) => void): Promise<() => Promise<void>> {
    return this.state.subscribe(channelOf(project), (message) => {
      handler(JSON.parse(message) as TrackingEvent);
    });
  }
}
