/**
 * Packet benchmarks: benchmark.js for packets/s (each call handles a batch of
 * packets), bench/alloc.ts for allocations per packet. Prints a table; asserts nothing.
 *
 * Every case runs once per round, rounds interleaved (this VM's speed drifts by
 * up to 2x over seconds: one long run per case would compare different
 * machines). The figure is the median of the rounds; the ± is the half-width of
 * a 95 % confidence interval from the spread of the rounds (Student's t over the
 * n round figures), as a percentage of the median. benchmark.js's own relative
 * margin of error (rme) is kept in the JSON for comparison: it is computed from
 * the samples of one short run, which share that run's drift, so on this VM it
 * understates the error (see docs/benchmarks.md).
 */
import Benchmark from 'benchmark';
import { formatTable, measureAllocations, type AllocationResult } from './alloc.js';

export interface PacketCase {
  name: string;
  /** A stable key for the JSON and the headlines (names may be reworded). */
  id?: string;
  /** Packets handled by one call of fn. */
  batch: number;
  /** Inner bytes per packet, for the Gbit/s column (64 for the seeds' table). */
  innerBytes: number;
  fn: () => void;
}

export interface PacketResult {
  name: string;
  id?: string;
  /** Median over the rounds. */
  packetsPerSecond: number;
  /** The ± shown: half-width of the 95 % confidence interval over the rounds, % of the median. */
  errorPercent: number;
  /** benchmark.js's relative margin of error, median over the rounds (for comparison; not shown). */
  rmePercent: number;
  /** Half the spread between the fastest and the slowest round, % of the median. */
  spreadPercent: number;
  /** Packets/s of each round, in order. */
  rounds: number[];
  innerGbps: number;
  nsPerPacket: number;
  samples: number;
  bytesPerPacket: number;
  /** Young-generation GCs during the allocation run, scaled to a million packets. */
  scavenges: number;
  /** Packets in the allocation run kept (the one of two that allocated less). */
  allocationPackets: number;
}

export const quick = process.argv.includes('--quick');
const filterAt = process.argv.indexOf('--filter');
/** `--filter text`: run only the cases whose name contains text. */
export const filter = filterAt > 0 ? (process.argv[filterAt + 1] ?? '') : '';
const roundsAt = process.argv.indexOf('--rounds');
/** Interleaved rounds: 5 quick, 9 full, or `--rounds n`. */
export const ROUNDS = roundsAt > 0 ? Math.max(2, Number(process.argv[roundsAt + 1]) | 0) : quick ? 5 : 9;
/** benchmark.js settings of one round's run of one case. */
export const BENCH_OPTIONS: Benchmark.Options = quick ? { maxTime: 0.03, minTime: 0.005, minSamples: 5 } : { maxTime: 0.4, minTime: 0.04, minSamples: 8 };
/** Packets in an allocation run: at most a million, at most about this long. */
const ALLOCATION_SECONDS = quick ? 0.15 : 1.5;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Two-sided 95 % quantiles of Student's t, by degrees of freedom 1..30 (then ~1.96). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** Half-width of the 95 % confidence interval of the mean of `values`, as % of `reference`. */
export function confidencePercent(values: readonly number[], reference: number): number {
  const n = values.length;
  if (n < 2) return NaN;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  const t = T95[n - 2] ?? 1.96;
  return ((t * Math.sqrt(variance / n)) / reference) * 100;
}

/** Calls fn for up to `calls` calls or `ms` milliseconds, whichever comes first; returns the calls made. */
function warm(fn: () => void, calls: number, ms: number): number {
  const until = performance.now() + ms;
  let i = 0;
  while (i < calls && (i < 2 || performance.now() < until)) {
    fn();
    i++;
  }
  return i;
}

let meterWarm = false;

/**
 * The allocation meter's own loop is compiled (on-stack replacement) during its first
 * runs, and compiling allocates: let that happen on a no-op, not on the first case.
 */
export async function warmMeter(): Promise<void> {
  if (meterWarm) return;
  meterWarm = true;
  let idle = 0;
  for (let i = 0; i < 3; i++) await measureAllocations('meter warm-up', 200_000, (k) => (idle += k & 1), { warmup: 200_000 });
}

/**
 * Two allocation runs of `calls` calls each; the one that allocated less is returned. A
 * compilation that lands in a run allocates a one-off 50-250 KB (code, feedback) that is
 * not fn's; allocation by fn itself shows in both runs.
 */
export async function measureAllocationsTwice(label: string, calls: number, fn: () => void): Promise<AllocationResult> {
  const first = await measureAllocations(label, calls, fn, { warmup: Math.min(2000, Math.max(8, Math.round(calls / 5))) });
  const second = await measureAllocations(label, calls, fn, { warmup: 2 });
  return second.allocatedBytes <= first.allocatedBytes ? second : first;
}

/** Mpps with enough digits for slow cases. */
export function formatMpps(pps: number): string {
  const m = pps / 1e6;
  return m >= 1 ? m.toFixed(2) : m >= 0.01 ? m.toFixed(3) : m.toFixed(4);
}

/**
 * Runs every case in interleaved rounds and reports the median packets/s with a
 * 95 % confidence ±; then measures allocations in two runs of up to half a million
 * packets each (fewer for slow cases: about ALLOCATION_SECONDS' worth in all, at
 * least 10 calls each) and keeps the run that allocated less.
 */
export async function runPacketCases(title: string, cases: readonly PacketCase[], options: { rounds?: number } = {}): Promise<PacketResult[]> {
  const selected = cases.filter((c) => !filter || c.name.includes(filter));
  if (selected.length === 0) return [];
  const rounds = roundsAt > 0 ? ROUNDS : (options.rounds ?? ROUNDS);
  console.log(`\n${title}: node ${process.version}, ${rounds} interleaved rounds, median, ± 95 % CI over rounds${quick ? ' (quick)' : ''}`);
  // Warm every case first, so that no case pays for the JIT's first compilations
  // and shared functions see all their callers, as in a running engine.
  for (let pass = 0; pass < 2; pass++) for (const c of selected) warm(c.fn, 300, 40);
  const hz = new Map<PacketCase, number[]>(selected.map((c) => [c, []]));
  const rme = new Map<PacketCase, number[]>(selected.map((c) => [c, []]));
  const samples = new Map<PacketCase, number>(selected.map((c) => [c, 0]));
  for (let round = 0; round < rounds; round++) {
    for (const c of selected) {
      const bench = new Benchmark(c.name, c.fn, BENCH_OPTIONS);
      bench.run({ async: false });
      if (bench.error) throw bench.error;
      hz.get(c)!.push(bench.hz * c.batch);
      rme.get(c)!.push(bench.stats.rme);
      samples.set(c, samples.get(c)! + bench.stats.sample.length);
    }
    process.stdout.write(`  round ${round + 1}/${rounds} done\n`);
  }
  const results: PacketResult[] = [];
  await warmMeter();
  for (const c of selected) {
    const perRound = hz.get(c)!;
    const pps = median(perRound);
    const calls = Math.max(10, Math.min(Math.round(500_000 / c.batch), Math.round((pps * ALLOCATION_SECONDS) / 2 / c.batch)));
    // Warm again (the benchmark.js runs of the other cases came in between), by time.
    warm(c.fn, 5000, quick ? 50 : 300);
    const alloc = await measureAllocationsTwice(c.name, calls, c.fn);
    const packets = calls * c.batch;
    results.push({
      name: c.name,
      ...(c.id === undefined ? {} : { id: c.id }),
      packetsPerSecond: pps,
      errorPercent: confidencePercent(perRound, pps),
      rmePercent: median(rme.get(c)!),
      spreadPercent: ((Math.max(...perRound) - Math.min(...perRound)) / 2 / pps) * 100,
      rounds: perRound,
      innerGbps: (pps * c.innerBytes * 8) / 1e9,
      nsPerPacket: 1e9 / pps,
      samples: samples.get(c)!,
      bytesPerPacket: alloc.allocatedBytes / packets,
      scavenges: (alloc.scavenges * 1e6) / packets,
      allocationPackets: packets,
    });
  }
  console.log('');
  console.log(formatPacketTable(results));
  console.log(`(inner Gbit/s: packets/s × ${selected[0]!.innerBytes} bytes × 8, the inner frame alone: no FCS, preamble or inter-frame gap. alloc B/pkt: bytes allocated per packet after warm-up, heap growth plus what GCs reclaimed.)`);
  return results;
}

/** The table every packet suite prints. */
export function formatPacketTable(results: readonly PacketResult[]): string {
  return formatTable(
    ['case', 'Mpps', '±%', 'ns/pkt', 'inner Gbit/s', 'alloc B/pkt', 'scavenges/1M pkt'],
    results.map((r) => [
      r.name,
      formatMpps(r.packetsPerSecond),
      r.errorPercent.toFixed(1),
      r.nsPerPacket >= 1000 ? r.nsPerPacket.toFixed(0) : r.nsPerPacket.toFixed(1),
      r.innerGbps >= 0.1 ? r.innerGbps.toFixed(2) : r.innerGbps.toFixed(3),
      r.bytesPerPacket.toFixed(3),
      r.scavenges.toFixed(r.scavenges >= 10 || r.scavenges === 0 ? 0 : 1),
    ]),
  );
}
