/**
 * Packet benchmarks: benchmark.js for packets/s (each call handles a batch of
 * packets), bench/alloc.ts for allocations per packet. Prints a table; asserts nothing.
 */
import Benchmark from 'benchmark';
import { ALLOCATION_HEADER, allocationRow, formatTable, measureAllocations, type AllocationResult } from './alloc.js';

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

export async function runPacketCases(title: string, cases: readonly PacketCase[]): Promise<PacketResult[]> {
  console.log(`\n${title}: node ${process.version}${quick ? ' (quick)' : ''}`);
  const options: Benchmark.Options = quick ? { maxTime: 0.6, minSamples: 5 } : { maxTime: 2.5, minSamples: 10 };
  const results: PacketResult[] = [];
  const allocations: AllocationResult[] = [];
  // Warm every case first, so that no case pays for the JIT's first compilations
  // and shared functions see all their callers, as in a running engine.
  const selected = cases.filter((c) => !filter || c.name.includes(filter));
  for (let round = 0; round < 3; round++) for (const c of selected) for (let i = 0; i < 300; i++) c.fn();
  for (const c of cases) {
    if (filter && !c.name.includes(filter)) continue;
    const bench = new Benchmark(c.name, c.fn, options);
    bench.run({ async: false });
    if (bench.error) throw bench.error;
    const pps = bench.hz * c.batch;
    // About one million packets, to show per-packet allocation (0 expected).
    const calls = Math.max(1, Math.round(1_000_000 / c.batch));
    const alloc = await measureAllocations(c.name, calls, () => c.fn(), { warmup: Math.min(calls, 2000) });
    allocations.push(alloc);
    const result: PacketResult = {
      name: c.name,
      packetsPerSecond: pps,
      rmePercent: bench.stats.rme,
      innerGbps: (pps * c.innerBytes * 8) / 1e9,
      nsPerPacket: 1e9 / pps,
      samples: bench.stats.sample.length,
      bytesPerPacket: alloc.allocatedBytes / (calls * c.batch),
      scavenges: alloc.scavenges,
    };
    results.push(result);
    console.log(
      `  ${c.name.padEnd(52)} ${(pps / 1e6).toFixed(2).padStart(7)} Mpps ±${result.rmePercent.toFixed(1)}%  ` +
        `${result.innerGbps.toFixed(2)} Gbit/s inner  ${result.bytesPerPacket.toFixed(3)} B/pkt allocated`,
    );
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
  void ALLOCATION_HEADER;
  void allocationRow;
  return results;
}
