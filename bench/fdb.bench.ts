/**
 * FDB bench: lookups and learning at 1 k and 1 M entries, memory per entry,
 * the ageing sweep's slice duration, and allocations per operation.
 *
 *   npx tsx bench/fdb.bench.ts            # full run, a few minutes
 *   npx tsx bench/fdb.bench.ts --quick    # shorter samples
 *   npx tsx bench/fdb.bench.ts --json out.json
 *   npx tsx bench/fdb.bench.ts --section sweep   # memory | throughput | sweep
 *   npx tsx bench/fdb.bench.ts --filter lookup   # throughput cases whose name contains the text
 *
 * Key streams are precomputed (MAC and VNI of every operation, in the order they
 * are used), so the timed loop reads its keys sequentially, as a datapath reads
 * them from packets it already has in cache. Uniform streams pick any of the
 * entries at random: each lookup then touches a random cache line of a 64 MiB
 * table, which no cache holds. Skewed streams send 90 % of the operations to a
 * hot 1 % of the MACs (10 000 of 1 M), the shape of real traffic. Timing is
 * printed, never asserted.
 */
import Benchmark from 'benchmark';
import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { Fdb } from '../src/fdb/index.js';
import { hashMacKey } from '../src/fdb/hash.js';
import { writeMac } from '../src/wire/ethernet.js';
import { writeIpv4Address } from '../src/wire/ipv4.js';
import { exposeGc, formatTable, measureAllocations } from './alloc.js';

const quick = process.argv.includes('--quick');
const filterAt = process.argv.indexOf('--filter');
const filter = filterAt > 0 ? (process.argv[filterAt + 1] ?? '') : '';
const sectionAt = process.argv.indexOf('--section');
/** `--section memory|throughput|sweep`: run one part only. */
const section = sectionAt > 0 ? (process.argv[sectionAt + 1] ?? '') : '';
const runs = (name: string): boolean => section === '' || section === name;
const BIG = 1_000_000;
const SMALL = 1_000;
const VNIS = 16;
const VTEPS = 500;
const STREAM = 1 << 20;
const BATCH = 4096;

let sink = 0;

class Clock {
  ms = 0;
  read = (): number => this.ms;
}

function macOf(i: number): number {
  // Spread over the OUI space, as real MACs are: not sequential.
  return 0x02_00_00_00_00_00 + ((Math.imul(i, 0x9e3779b1) >>> 0) % 0xff_ffff_ffff);
}

function vniOf(i: number): number {
  return 100 + (i % VNIS);
}

function vtepOf(i: number): number {
  return 0xc6_33_64_00 + (i % VTEPS); // 198.51.100.0/24 and beyond
}

/** A table of `n` learnt entries, and the stream of (vni, mac) keys for `pick`. */
function filled(n: number, clock: Clock): Fdb {
  const fdb = new Fdb({ timer: false, clock: clock.read, maxEntries: 2 * BIG, capacity: n });
  for (let i = 0; i < n; i++) fdb.learnIpv4(vniOf(i), macOf(i), vtepOf(i));
  return fdb;
}

interface Stream {
  vnis: Int32Array;
  macs: Float64Array;
  ips: Float64Array;
  /** The same keys as bytes, 16 per operation: the MAC at +0, the IPv4 address at +8 (as in packets). */
  bytes: Uint8Array;
  at: number;
}

function stream(n: number, pick: (random: () => number) => number): Stream {
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const s: Stream = { vnis: new Int32Array(STREAM), macs: new Float64Array(STREAM), ips: new Float64Array(STREAM), bytes: new Uint8Array(STREAM * 16), at: 0 };
  for (let k = 0; k < STREAM; k++) {
    const i = pick(random) % n;
    s.vnis[k] = vniOf(i);
    s.macs[k] = macOf(i);
    s.ips[k] = vtepOf(i);
    writeMac(s.bytes, k * 16, macOf(i));
    writeIpv4Address(s.bytes, k * 16 + 8, vtepOf(i));
  }
  return s;
}

const uniform = (n: number) => (random: () => number): number => Math.floor(random() * n);
/** 90 % of the keys from a hot 1 % of the entries. */
const skewed = (n: number) => (random: () => number): number => (random() < 0.9 ? Math.floor(random() * Math.max(1, n / 100)) : Math.floor(random() * n));

interface Case {
  name: string;
  fn: () => void;
}

function lookupCase(name: string, fdb: Fdb, s: Stream): Case {
  return {
    name,
    fn: () => {
      let at = s.at;
      const vnis = s.vnis;
      const macs = s.macs;
      let local = 0;
      for (let k = 0; k < BATCH; k++) {
        local = (local + fdb.lookup(vnis[at]!, macs[at]!)) & 0xfffffff;
        at = (at + 1) & (STREAM - 1);
      }
      s.at = at;
      sink = (sink + local) & 0xfffffff;
    },
  };
}

function lookupAtCase(name: string, fdb: Fdb, s: Stream): Case {
  return {
    name,
    fn: () => {
      let at = s.at;
      const vnis = s.vnis;
      const bytes = s.bytes;
      let local = 0;
      for (let k = 0; k < BATCH; k++) {
        local = (local + fdb.lookupAt(vnis[at]!, bytes, at << 4)) & 0xfffffff;
        at = (at + 1) & (STREAM - 1);
      }
      s.at = at;
      sink = (sink + local) & 0xfffffff;
    },
  };
}

/**
 * The machine's floor for a lookup in a 1M-entry table: the same hash, then one
 * random 4-byte read from a 64 MiB Int32Array (the table's size), no probing, no
 * comparison. Lookups are best read as a ratio to it.
 */
function floorCase(name: string, s: Stream): Case {
  const table = new Int32Array(1 << 24);
  for (let i = 0; i < table.length; i += 1024) table[i] = i;
  const mask = (1 << 21) - 1;
  return {
    name,
    fn: () => {
      let at = s.at;
      let local = 0;
      for (let k = 0; k < BATCH; k++) {
        const mac = s.macs[at]!;
        local = (local + table[(hashMacKey(mac | 0, (mac / 0x1_0000_0000) | 0, s.vnis[at]!, 12345) & mask) << 3]!) & 0xfffffff;
        at = (at + 1) & (STREAM - 1);
      }
      s.at = at;
      sink = (sink + local) & 0xfffffff;
    },
  };
}

const CHUNK = 64;

/** lookupBatch over chunks of 64 keys (views made once, here). */
function lookupBatchCase(name: string, fdb: Fdb, s: Stream): Case {
  const vniViews: Int32Array[] = [];
  const macViews: Float64Array[] = [];
  for (let at = 0; at < STREAM; at += CHUNK) {
    vniViews.push(s.vnis.subarray(at, at + CHUNK));
    macViews.push(s.macs.subarray(at, at + CHUNK));
  }
  const out = new Int32Array(CHUNK);
  let chunk = 0;
  return {
    name,
    fn: () => {
      let local = 0;
      for (let k = 0; k < BATCH / CHUNK; k++) {
        local = (local + fdb.lookupBatch(vniViews[chunk]!, macViews[chunk]!, CHUNK, out)) & 0xfffffff;
        chunk = (chunk + 1) % vniViews.length;
      }
      sink = (sink + local + out[0]!) & 0xfffffff;
    },
  };
}

function learnAtCase(name: string, fdb: Fdb, s: Stream): Case {
  return {
    name,
    fn: () => {
      let at = s.at;
      const bytes = s.bytes;
      let local = 0;
      for (let k = 0; k < BATCH; k++) {
        local = (local + fdb.learnIpv4At(s.vnis[at]!, bytes, at << 4, bytes, (at << 4) + 8)) & 0xfffffff;
        at = (at + 1) & (STREAM - 1);
      }
      s.at = at;
      sink = (sink + local) & 0xfffffff;
    },
  };
}

function forwardCase(name: string, fdb: Fdb, s: Stream): Case {
  return {
    name,
    fn: () => {
      let at = s.at;
      let local = 0;
      for (let k = 0; k < BATCH; k++) {
        local = (local + fdb.forward(s.vnis[at]!, s.macs[at]!)) & 0xfffffff;
        at = (at + 1) & (STREAM - 1);
      }
      s.at = at;
      sink = (sink + local) & 0xfffffff;
    },
  };
}

function learnCase(name: string, fdb: Fdb, s: Stream): Case {
  return {
    name,
    fn: () => {
      let at = s.at;
      let local = 0;
      for (let k = 0; k < BATCH; k++) {
        local = (local + fdb.learnIpv4(s.vnis[at]!, s.macs[at]!, s.ips[at]!)) & 0xfffffff;
        at = (at + 1) & (STREAM - 1);
      }
      s.at = at;
      sink = (sink + local) & 0xfffffff;
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Row {
  name: string;
  opsPerSecond: number;
  spreadPercent: number;
  nsPerOp: number;
  bytesPerOp: number;
  scavenges: number;
}

/** Interleaved rounds (this VM's speed drifts), median of benchmark.js's hz; then allocations over ~1 M operations. */
async function runCases(cases: Case[]): Promise<Row[]> {
  const selected = cases.filter((c) => !filter || c.name.includes(filter));
  const rounds = quick ? 3 : 7;
  const options: Benchmark.Options = quick ? { maxTime: 0.3, minSamples: 5 } : { maxTime: 1, minSamples: 8 };
  for (const c of selected) for (let i = 0; i < 50; i++) c.fn();
  const hz = new Map<Case, number[]>(selected.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of selected) {
      const bench = new Benchmark(c.name, c.fn, options);
      bench.run({ async: false });
      if (bench.error) throw bench.error;
      hz.get(c)!.push(bench.hz * BATCH);
    }
    process.stdout.write(`  round ${round + 1}/${rounds} done\n`);
  }
  const rows: Row[] = [];
  for (const c of selected) {
    const samples = hz.get(c)!;
    const ops = median(samples);
    const calls = Math.round(1_000_000 / BATCH);
    const alloc = await measureAllocations(c.name, calls, () => c.fn(), { warmup: 20 });
    rows.push({
      name: c.name,
      opsPerSecond: ops,
      spreadPercent: ((Math.max(...samples) - Math.min(...samples)) / 2 / ops) * 100,
      nsPerOp: 1e9 / ops,
      bytesPerOp: alloc.allocatedBytes / (calls * BATCH),
      scavenges: alloc.scavenges,
    });
  }
  return rows;
}

function memoryNow(): { heap: number; buffers: number } {
  const gc = exposeGc();
  if (gc) {
    gc();
    gc();
  }
  const usage = process.memoryUsage();
  return { heap: getHeapStatistics().used_heap_size, buffers: usage.arrayBuffers };
}

interface MemoryRow {
  name: string;
  entries: number;
  heapBytes: number;
  bufferBytes: number;
  bytesPerEntry: number;
  fillNsPerEntry: number;
}

function measureMemory(name: string, n: number, vteps: number): MemoryRow {
  const before = memoryNow();
  const clock = new Clock();
  const started = process.hrtime.bigint();
  // No presizing here: the table grows as it fills, as it would in service.
  const fdb = new Fdb({ timer: false, clock: clock.read, maxEntries: 2 * BIG });
  for (let i = 0; i < n; i++) fdb.learnIpv4(vniOf(i), macOf(i), 0x0a_00_00_00 + (i % vteps));
  const fillNs = Number(process.hrtime.bigint() - started) / n;
  const after = memoryNow();
  const heapBytes = after.heap - before.heap;
  const bufferBytes = after.buffers - before.buffers;
  if (fdb.size !== n) throw new Error(`expected ${n} entries, got ${fdb.size}`);
  sink = (sink + fdb.size) & 0xfffffff;
  return { name, entries: n, heapBytes, bufferBytes, bytesPerEntry: (heapBytes + bufferBytes) / n, fillNsPerEntry: fillNs };
}

interface SweepRow {
  name: string;
  slices: number;
  removed: number;
  maxSliceMs: number;
  p99SliceMs: number;
  medianSliceMs: number;
  slicesOver1ms: number;
  slotsPerSlice: number;
}

function measureSweep(name: string, expire: boolean, withListener: boolean): SweepRow {
  const clock = new Clock();
  const fdb = filled(BIG, clock);
  let delivered = 0;
  if (withListener) fdb.on('aged', () => delivered++);
  // Warm the sweep up (JIT) on a pass with nothing to remove, then collect what
  // filling left (a 64 MiB table starts incremental marking, whose last step would
  // otherwise land in a slice: a GC pause, not sweep work).
  for (let k = 0; k < 40; k++) fdb.sweep();
  const gc = exposeGc();
  if (gc) {
    gc();
    gc();
  }
  if (expire) clock.ms += 301_000;
  fdb.advanceClock();
  const durations: number[] = [];
  let removed = 0;
  const slices = expire ? 10_000 : 256;
  for (let k = 0; k < slices && (!expire || fdb.size > 0); k++) {
    const started = performance.now();
    removed += fdb.sweep();
    durations.push(performance.now() - started);
    if (withListener) fdb.flushEvents();
  }
  sink = (sink + delivered) & 0xfffffff;
  const sorted = [...durations].sort((x, y) => x - y);
  return {
    name,
    slices: durations.length,
    removed,
    maxSliceMs: sorted[sorted.length - 1]!,
    p99SliceMs: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!,
    medianSliceMs: median(durations),
    slicesOver1ms: durations.filter((d) => d > 1).length,
    slotsPerSlice: fdb.stats.sweepSlots / fdb.stats.sweepSlices,
  };
}

async function main(): Promise<void> {
  console.log(`vtepkit FDB bench: node ${process.version}, ${process.platform}/${process.arch}${quick ? ' (quick)' : ''}\n`);

  // Memory first, on a quiet heap.
  const memory = !runs('memory') ? [] : [
    measureMemory(`1M entries, ${VNIS} VNIs, ${VTEPS} VTEPs (learnt)`, BIG, VTEPS),
    measureMemory(`1M entries, each behind its own VTEP (worst case)`, BIG, BIG),
  ];
  if (memory.length > 0) console.log('Memory (measured: V8 used heap + ArrayBuffers after a forced GC, before/after filling)');
  if (memory.length > 0) console.log(
    formatTable(
      ['table', 'entries', 'heap B', 'ArrayBuffer B', 'B/entry', 'fill ns/entry'],
      memory.map((m) => [m.name, m.entries.toLocaleString('en-US'), m.heapBytes.toLocaleString('en-US'), m.bufferBytes.toLocaleString('en-US'), m.bytesPerEntry.toFixed(1), m.fillNsPerEntry.toFixed(0)]),
    ),
  );
  console.log('');

  let rows: Row[] = [];
  if (runs('throughput')) {
  const clock = new Clock();
  const small = filled(SMALL, clock);
  const big = filled(BIG, clock);
  const smallUniform = stream(SMALL, uniform(SMALL));
  const bigUniform = stream(BIG, uniform(BIG));
  const bigSkewed = stream(BIG, skewed(BIG));
  const cases: Case[] = [
    lookupCase('lookup(vni, mac), 1k entries, uniform', small, smallUniform),
    lookupAtCase('lookupAt(vni, bytes), 1k entries, uniform', small, smallUniform),
    floorCase('baseline: hash + 1 random read of 64 MiB, uniform', bigUniform),
    lookupCase('lookup(vni, mac), 1M entries, uniform', big, bigUniform),
    lookupAtCase('lookupAt(vni, bytes), 1M entries, uniform', big, bigUniform),
    lookupBatchCase('lookupBatch(64 keys), 1M entries, uniform', big, bigUniform),
    floorCase('baseline: hash + 1 random read of 64 MiB, skewed', bigSkewed),
    lookupCase('lookup(vni, mac), 1M entries, skewed (90% on 1%)', big, bigSkewed),
    lookupAtCase('lookupAt(vni, bytes), 1M entries, skewed', big, bigSkewed),
    lookupBatchCase('lookupBatch(64 keys), 1M entries, skewed', big, bigSkewed),
    forwardCase('forward (hit), 1M entries, skewed', big, bigSkewed),
    learnCase('learnIpv4 refresh, 1k entries, uniform', small, smallUniform),
    learnAtCase('learnIpv4At refresh, 1k entries, uniform', small, smallUniform),
    learnCase('learnIpv4 refresh, 1M entries, uniform', big, bigUniform),
    learnAtCase('learnIpv4At refresh, 1M entries, uniform', big, bigUniform),
    learnCase('learnIpv4 refresh, 1M entries, skewed', big, bigSkewed),
    learnAtCase('learnIpv4At refresh, 1M entries, skewed', big, bigSkewed),
  ];
  console.log(`Throughput (benchmark.js, ${BATCH} operations per call, ${quick ? 3 : 7} interleaved rounds, median)`);
  rows = await runCases(cases);
  console.log(
    formatTable(
      ['operation', 'M ops/s', '±%', 'ns/op', 'alloc B/op', 'scavenges/1M ops'],
      rows.map((r) => [r.name, (r.opsPerSecond / 1e6).toFixed(2), r.spreadPercent.toFixed(1), r.nsPerOp.toFixed(1), r.bytesPerOp.toFixed(3), String(r.scavenges)]),
    ),
  );
  console.log('');
  small.close();
  big.close();
  }

  const sweeps = !runs('sweep') ? [] : [
    measureSweep('1M entries, nothing expired (pure scan)', false, false),
    measureSweep('1M entries, all expired at once (first time: cold JIT)', true, false),
    measureSweep('1M entries, all expired at once', true, false),
    measureSweep('1M entries, all expired, an `aged` listener', true, true),
  ];
  if (sweeps.length > 0) console.log('Ageing sweep (wall time per slice; default slice: capacity/32 slots within 4096..65536, 0.5 ms budget)');
  if (sweeps.length > 0) console.log(
    formatTable(
      ['case', 'slices', 'removed', 'slots/slice', 'median ms', 'p99 ms', 'max ms', 'slices > 1 ms'],
      sweeps.map((s) => [
        s.name,
        String(s.slices),
        s.removed.toLocaleString('en-US'),
        s.slotsPerSlice.toFixed(0),
        s.medianSliceMs.toFixed(3),
        s.p99SliceMs.toFixed(3),
        s.maxSliceMs.toFixed(3),
        String(s.slicesOver1ms),
      ]),
    ),
  );

  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt > 0 && process.argv[jsonAt + 1]) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify({ memory, throughput: rows, sweeps }, null, 2));
  if (sink === -1) console.log('');
}

await main();
