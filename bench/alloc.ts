/**
 * Allocation measurement shared by the benches: does a hot-path loop allocate?
 *
 * `measureAllocations(label, iterations, fn)` warms `fn` up (so it is optimized),
 * forces a full GC, then runs `fn(i)` for i = 0 .. iterations - 1 and reports:
 *  - heapGrowthBytes: V8 used heap after the run minus before it (no GC in between);
 *  - allocatedBytes:  heapGrowthBytes plus what every GC during the run reclaimed
 *    (from v8.GCProfiler's before/after heap statistics), i.e. bytes allocated even
 *    when a scavenge hid them; this is what bytesPerOp divides;
 *  - gcCount: GC events seen by a PerformanceObserver({ entryTypes: ['gc'] }) during
 *    the run, split into scavenges (young generation) and the rest.
 * A loop that allocates nothing shows about 0 bytes per op and no scavenges.
 *
 * A forced GC needs `global.gc`. If node was not started with `--expose-gc`, we turn
 * the flag on at run time and take `gc` from a fresh context (the trick Jest's leak
 * detector uses); if even that fails, the numbers are still printed, with
 * `gcExposed: false`, and are noisier.
 */
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface AllocationResult {
  label: string;
  iterations: number;
  heapGrowthBytes: number;
  allocatedBytes: number;
  bytesPerOp: number;
  gcCount: number;
  scavenges: number;
  /** Mark-sweep-compact, incremental marking and weak-callback GCs. */
  otherGcs: number;
  durationMs: number;
  nsPerOp: number;
  gcExposed: boolean;
}

export interface AllocationOptions {
  /** Calls of fn before measuring (default min(iterations, 200000)). */
  warmup?: number;
}

let cachedGc: (() => void) | null | undefined;

/** `global.gc`, or one obtained by enabling --expose-gc at run time, or null. */
export function exposeGc(): (() => void) | null {
  if (cachedGc !== undefined) return cachedGc;
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') {
    cachedGc = existing;
    return existing;
  }
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    cachedGc = typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    cachedGc = null;
  }
  return cachedGc;
}

/**
 * The loop of both the warm-up and the measured run. One loop for both, warmed in
 * several calls, so that V8 compiles it (and the call of fn inlined into it) during
 * the warm-up: a compilation during the measured run allocates a few hundred KiB of
 * code and metadata, which would be charged to fn.
 */
function repeat(fn: (i: number) => void, from: number, to: number): void {
  for (let i = from; i < to; i++) fn(i);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}


export async function measureAllocations(
  label: string,
  iterations: number,
  fn: (i: number) => void,
  options: AllocationOptions = {},
): Promise<AllocationResult> {
  const warmup = options.warmup ?? Math.min(iterations, 200_000);
  const chunk = Math.max(1, Math.ceil(warmup / 8));
  for (let at = 0; at < warmup; at += chunk) repeat(fn, at, Math.min(warmup, at + chunk));

  const gc = exposeGc();
  if (gc) {
    gc();
    gc();
  }
  // Let GC entries from the warm-up and the forced GCs be delivered before observing.
  await nextTurn();

  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) entries.push(entry);
  });
  observer.observe({ entryTypes: ['gc'] });
  const profiler = new GCProfiler();
  profiler.start();

  const before = getHeapStatistics().used_heap_size;
  const started = process.hrtime.bigint();
  repeat(fn, 0, iterations);
  const elapsed = process.hrtime.bigint() - started;
  const after = getHeapStatistics().used_heap_size;

  const profile = profiler.stop();
  // GC entries are queued to the observer asynchronously; give them two turns.
  await nextTurn();
  await nextTurn();
  for (const entry of observer.takeRecords()) entries.push(entry);
  observer.disconnect();

  let reclaimed = 0;
  for (const stat of profile.statistics) {
    reclaimed += stat.beforeGC.heapStatistics.usedHeapSize - stat.afterGC.heapStatistics.usedHeapSize;
  }
  let scavenges = 0;
  for (const entry of entries) {
    const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
    if (detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  }
  const heapGrowthBytes = after - before;
  const allocatedBytes = Math.max(0, heapGrowthBytes + reclaimed);
  const durationMs = Number(elapsed) / 1e6;
  return {
    label,
    iterations,
    heapGrowthBytes,
    allocatedBytes,
    bytesPerOp: allocatedBytes / iterations,
    gcCount: entries.length,
    scavenges,
    otherGcs: entries.length - scavenges,
    durationMs,
    nsPerOp: (durationMs * 1e6) / iterations,
    gcExposed: gc !== null,
  };
}

/** Formats rows as a fixed-width text table (first column left-aligned, the rest right-aligned). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, column) => Math.max(h.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One table row for an {@link AllocationResult}, matching {@link ALLOCATION_HEADER}. */
export function allocationRow(result: AllocationResult): string[] {
  const perMillion = (bytes: number): string => ((bytes * 1e6) / result.iterations).toFixed(0);
  return [
    result.label,
    result.iterations.toLocaleString('en-US'),
    perMillion(result.heapGrowthBytes),
    perMillion(result.allocatedBytes),
    result.bytesPerOp.toFixed(3),
    String(result.scavenges),
    String(result.otherGcs),
    result.nsPerOp.toFixed(1),
  ];
}

export const ALLOCATION_HEADER: readonly string[] = [
  'loop',
  'iterations',
  'heap growth B/1M it',
  'allocated B/1M it',
  'B/op',
  'scavenges',
  'other GCs',
  'ns/op',
];
