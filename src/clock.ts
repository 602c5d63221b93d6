/**
 * Wall-clock milliseconds since the epoch with sub-millisecond resolution: the monotonic clock
 * (performance.now) placed on the epoch once at start. Stage times and frame arrivals use it, so a wait
 * measured between two of them is exact and never negative, which Date.now's whole milliseconds cannot give.
 */
export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}
