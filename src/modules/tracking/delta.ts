// Delta encoding of the multi-run metrics read, as upstream Aspara sends it (dashboard/utils/compression.py
// `delta_compress`) and its frontend decodes it (metrics-utils.js `decompressDeltaData`, a running sum):
// the first value is absolute, each next one the difference from the previous one. Steps and UNIX-ms
// timestamps are integers, so the encoding is exact in JSON and in msgpack (where they stay integers).
// Our readers decode with a running sum too: static/tracking.js, `decodeRunsMetrics` in clients/ts/tracking.
import type { RawSeries } from "./service.js";

function deltaEncode(values: readonly number[]): number[] {
  const out = new Array<number>(values.length);
  let previous = 0;
  for (let i = 0; i < values.length; i++) {
    out[i] = values[i]! - previous;
    previous = values[i]!;
  }
  return out;
}

/** `{steps, values, timestamps}` with steps and timestamps delta-encoded. */
export function deltaSeries<
  S extends RawSeries | { steps: number[]; values: unknown[]; timestamps: number[] },
>(series: S): S {
  return { ...series, steps: deltaEncode(series.steps), timestamps: deltaEncode(series.timestamps) };
}
