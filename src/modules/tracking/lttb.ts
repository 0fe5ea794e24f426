/**
 * Largest-Triangle-Three-Buckets downsampling (Sveinn Steinarsson, 2013), returning the indices it keeps so
 * the caller can keep the matching steps and timestamps of each kept point.
 *
 * - At most `threshold` indices are returned; a series of `threshold` points or fewer is returned whole.
 * - The first and the last point are always kept; the points between are split into `threshold - 2` buckets
 *   and exactly one point is kept per bucket: the one forming the largest triangle with the point kept in
 *   the previous bucket and the average of the next bucket.
 * - Points whose value is not finite (NaN, ±Infinity) never win on area; a bucket made only of them keeps its
 *   first point, so a diverging loss still shows up.
 */
export function lttbIndices(x: ArrayLike<number>, y: ArrayLike<number>, threshold: number): Uint32Array {
  if (!Number.isInteger(threshold) || threshold < 3)
    throw new RangeError("LTTB threshold must be an integer ≥ 3");
  const n = x.length;
  if (n <= threshold) return Uint32Array.from({ length: n }, (_, i) => i);

  const kept = new Uint32Array(threshold);
  const every = (n - 2) / (threshold - 2);
  let a = 0; // index of the point kept in the previous bucket
  kept[0] = 0;

  for (let bucket = 0; bucket < threshold - 2; bucket++) {
    // Average of the next bucket (the last point itself for the last bucket).
    const nextStart = Math.floor((bucket + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((bucket + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    let counted = 0;
    for (let i = nextStart; i < nextEnd; i++) {
      const yi = y[i]!;
      if (!Number.isFinite(yi)) continue;
      avgX += x[i]!;
      avgY += yi;
      counted++;
    }
    if (counted === 0) {
      avgX = x[Math.min(nextStart, n - 1)]!;
      avgY = 0;
    } else {
      avgX /= counted;
      avgY /= counted;
    }

    const start = Math.floor(bucket * every) + 1;
    const end = Math.floor((bucket + 1) * every) + 1;
    const ax = x[a]!;
    const ay = Number.isFinite(y[a]!) ? y[a]! : 0;
    let best = start;
    let bestArea = -1;
    for (let i = start; i < end; i++) {
      const area = Math.abs((ax - avgX) * (y[i]! - ay) - (ax - x[i]!) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = i;
      }
    }
    kept[bucket + 1] = best;
    a = best;
  }
  kept[threshold - 1] = n - 1;
  return kept;
}
