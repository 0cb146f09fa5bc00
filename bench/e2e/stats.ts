/** Medians, percentiles and jitter for the end-to-end bench. */

/** The median; the mean of the two middle values for an even count; NaN for none. */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((x, y) => x - y);
  if (finite.length === 0) return Number.NaN;
  const middle = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of values sorted ascending: the smallest value with at least p % at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export interface LatencySummary {
  /** Probes that arrived. */
  count: number;
  /** Probes the generator handed to the first device. */
  sent: number;
  /** 1 − count/sent. */
  loss: number;
  /** Microseconds. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Mean |Δ| of consecutive probes' one-way latencies, microseconds (see jitter()). */
  jitter: number;
  /** RFC 3550 6.4.1's running estimate J after the last probe, microseconds. */
  rfc3550: number;
  /** Arrivals with a lower sequence number than one before them. */
  reordered: number;
}

/**
 * Jitter of one probe stream from (sequence number, latency) pairs in arrival
 * order. For consecutive arrivals i−1, i, RFC 3550 6.4.1 defines
 * D = (R_i − R_{i−1}) − (S_i − S_{i−1}) = L_i − L_{i−1}, the change in one-way
 * latency. `mean` is the mean of |D| over the stream; `rfc3550` is the RFC's
 * running estimate J += (|D| − J)/16 after the last arrival, which tends to
 * the same mean but weighs the last ~16 probes.
 */
export function jitter(latencies: readonly number[]): { mean: number; rfc3550: number } {
  let sum = 0;
  let j = 0;
  for (let i = 1; i < latencies.length; i++) {
    const d = Math.abs(latencies[i]! - latencies[i - 1]!);
    sum += d;
    j += (d - j) / 16;
  }
  return { mean: latencies.length > 1 ? sum / (latencies.length - 1) : Number.NaN, rfc3550: latencies.length > 1 ? j : Number.NaN };
}

/** Summary of probes given as [seq, latency ns] pairs in arrival order. */
export function summarizeLatencies(probes: readonly (readonly [number, number])[], sent: number): LatencySummary {
  const us = probes.map(([, ns]) => ns / 1000);
  const sorted = [...us].sort((x, y) => x - y);
  const j = jitter(us);
  let reordered = 0;
  let highest = -1;
  for (const [seq] of probes) {
    if (seq < highest) reordered++;
    else highest = seq;
  }
  return {
    count: us.length,
    sent,
    loss: sent > 0 ? 1 - us.length / sent : 0,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    jitter: j.mean,
    rfc3550: j.rfc3550,
    reordered,
  };
}
