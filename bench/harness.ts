/**
 * Packet benchmarks: benchmark.js for packets/s (each call handles a batch of
 * packets), bench/alloc.ts for allocations per packet. Prints a table; asserts nothing.
 */
import Benchmark from 'benchmark';
import { formatTable, measureAllocations } from './alloc.js';

export interface PacketCase {
  name: string;
  /** Packets handled by one call of fn. */
  batch: number;
  /** Inner bytes per packet, for the Gbit/s column (64 for the seeds' table). */
  innerBytes: number;
  fn: () => void;
}

export interface PacketResult {
  name: string;
  packetsPerSecond: number;
  rmePercent: number;
  innerGbps: number;
  nsPerPacket: number;
  samples: number;
  bytesPerPacket: number;
  scavenges: number;
}

export const quick = process.argv.includes('--quick');
const filterAt = process.argv.indexOf('--filter');
/** `--filter text`: run only the cases whose name contains text. */
export const filter = filterAt > 0 ? (process.argv[filterAt + 1] ?? '') : '';

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs every case in several interleaved rounds (this VM's speed drifts by 2x
 * over seconds, so one long run per case would compare different machines) and
 * reports the median packets/s; then measures allocations over about a million
 * packets per case.
 */
export async function runPacketCases(title: string, cases: readonly PacketCase[]): Promise<PacketResult[]> {
  const selected = cases.filter((c) => !filter || c.name.includes(filter));
  const rounds = quick ? 3 : 7;
  const options: Benchmark.Options = quick ? { maxTime: 0.25, minSamples: 5 } : { maxTime: 0.8, minSamples: 8 };
  console.log(`\n${title}: node ${process.version}, ${rounds} interleaved rounds, median${quick ? ' (quick)' : ''}`);
  // Warm every case first, so that no case pays for the JIT's first compilations
  // and shared functions see all their callers, as in a running engine.
  for (let round = 0; round < 3; round++) for (const c of selected) for (let i = 0; i < 300; i++) c.fn();
  const hz = new Map<PacketCase, number[]>(selected.map((c) => [c, []]));
  const rme = new Map<PacketCase, number[]>(selected.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of selected) {
      const bench = new Benchmark(c.name, c.fn, options);
      bench.run({ async: false });
      if (bench.error) throw bench.error;
      hz.get(c)!.push(bench.hz * c.batch);
      rme.get(c)!.push(bench.stats.rme);
    }
    process.stdout.write(`  round ${round + 1}/${rounds} done\n`);
  }
  const results: PacketResult[] = [];
  for (const c of selected) {
    const pps = median(hz.get(c)!);
    const samples = hz.get(c)!;
    // Spread across rounds, as a percentage of the median: the honest error bar on a noisy VM.
    const spread = ((Math.max(...samples) - Math.min(...samples)) / 2 / pps) * 100;
    const calls = Math.max(1, Math.round(1_000_000 / c.batch));
    const alloc = await measureAllocations(c.name, calls, () => c.fn(), { warmup: Math.min(calls, 2000) });
    results.push({
      name: c.name,
      packetsPerSecond: pps,
      rmePercent: Math.max(spread, median(rme.get(c)!)),
      innerGbps: (pps * c.innerBytes * 8) / 1e9,
      nsPerPacket: 1e9 / pps,
      samples: samples.length,
      bytesPerPacket: alloc.allocatedBytes / (calls * c.batch),
      scavenges: alloc.scavenges,
    });
  }
  console.log('');
  console.log(
    formatTable(
      ['case', 'Mpps', '±%', 'ns/pkt', 'inner Gbit/s', 'alloc B/pkt', 'scavenges/1M pkt'],
      results.map((r) => [
        r.name,
        (r.packetsPerSecond / 1e6).toFixed(2),
        r.rmePercent.toFixed(1),
        r.nsPerPacket.toFixed(1),
        r.innerGbps.toFixed(2),
        r.bytesPerPacket.toFixed(3),
        String(r.scavenges),
      ]),
    ),
  );
  return results;
}
