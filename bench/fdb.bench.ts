/**
 * FDB bench: lookups and learning at 1 k and 1 M entries, how memory and lookup /
 * learning cost grow from 1 k to 1 M entries (1 k, 10 k, 100 k, 1 M), the ageing
 * sweep's slice duration, and allocations per operation.
 *
 *   npx tsx bench/fdb.bench.ts            # full run, a few minutes
 *   npx tsx bench/fdb.bench.ts --quick    # shorter samples
 *   npx tsx bench/fdb.bench.ts --json out.json
 *   npx tsx bench/fdb.bench.ts --section sweep   # memory | throughput | sweep
 *   npx tsx bench/fdb.bench.ts --rounds 9         # interleaved rounds (default 5 quick, 9 full)
 *   npx tsx bench/fdb.bench.ts --filter lookup   # throughput cases whose name contains the text
 *
 * Key streams are precomputed (MAC and VNI of every operation, in the order they
 * are used), so the timed loop reads its keys sequentially, as a datapath reads
 * them from packets it already has in cache. Uniform streams pick any of the
 * entries at random: each lookup then touches a random cache line of a 64 MiB
 * table, which no cache holds. Skewed streams send 90 % of the operations to a
 * hot 1 % of the MACs (10 000 of 1 M), the shape of real traffic. Timing is
 * printed, never asserted. Quick mode runs the cases, the scaling
 * series and one sweep case; full mode adds the other key shapes (lookupAt,
 * batches, skewed), the worst-case memory row and every sweep case.
 */
import Benchmark from 'benchmark';
import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { Fdb } from '../src/fdb/index.js';
import { hashMacKey } from '../src/fdb/hash.js';
import { writeMac } from '../src/wire/ethernet.js';
import { writeIpv4Address } from '../src/wire/ipv4.js';
import { exposeGc, formatTable } from './alloc.js';
import { BENCH_OPTIONS, ROUNDS, confidencePercent, filter, measureAllocationsTwice, median, quick, warmMeter } from './harness.js';

const sectionAt = process.argv.indexOf('--section');
/** `--section memory|throughput|sweep`: run one part only. */
const section = sectionAt > 0 ? (process.argv[sectionAt + 1] ?? '') : '';
const runs = (name: string): boolean => section === '' || section === name;
const BIG = 1_000_000;
const SMALL = 1_000;
const VNIS = 16;
const VTEPS = 500;
/** Keys per stream: the largest streams (1 M-entry tables) are 2^20 keys, 36 MiB. */
const STREAM = 1 << 20;
const BATCH = 4096;
/** Table sizes of the scaling series. */
const SIZES = [1_000, 10_000, 100_000, BIG];

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
  /** Keys in the stream (a power of two) and that minus one. */
  length: number;
  mask: number;
  vnis: Int32Array;
  macs: Float64Array;
  ips: Float64Array;
  /** The same keys as bytes, 16 per operation: the MAC at +0, the IPv4 address at +8 (as in packets). */
  bytes: Uint8Array;
  at: number;
}

/** A stream of keys for a table of n entries: 2^16 keys for small tables, up to 2^20 (4 keys per entry or more). */
function stream(n: number, pick: (random: () => number) => number): Stream {
  let length = 1 << 16;
  while (length < 4 * n && length < STREAM) length *= 2;
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const s: Stream = { length, mask: length - 1, vnis: new Int32Array(length), macs: new Float64Array(length), ips: new Float64Array(length), bytes: new Uint8Array(length * 16), at: 0 };
  for (let k = 0; k < length; k++) {
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
        at = (at + 1) & s.mask;
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
        at = (at + 1) & s.mask;
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
        at = (at + 1) & s.mask;
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
  for (let at = 0; at < s.length; at += CHUNK) {
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
        at = (at + 1) & s.mask;
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
        at = (at + 1) & s.mask;
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
        at = (at + 1) & s.mask;
      }
      s.at = at;
      sink = (sink + local) & 0xfffffff;
    },
  };
}

interface Row {
  name: string;
  opsPerSecond: number;
  /** ± shown: half-width of the 95 % confidence interval over the rounds, % of the median. */
  errorPercent: number;
  spreadPercent: number;
  rounds: number[];
  nsPerOp: number;
  bytesPerOp: number;
  scavenges: number;
}

/**
 * Interleaved rounds (this VM's speed drifts), median of benchmark.js's hz with a 95 %
 * confidence ± over the rounds (as bench/harness.ts); then allocations, the smaller of two
 * runs of up to 0.5 M operations each (about 0.15 s' worth in all in quick mode).
 */
async function runCases(cases: Case[]): Promise<Row[]> {
  const selected = cases.filter((c) => !filter || c.name.includes(filter));
  const rounds = ROUNDS;
  const options: Benchmark.Options = BENCH_OPTIONS;
  for (const c of selected) for (let i = 0; i < 50; i++) c.fn();
  const hz = new Map<Case, number[]>(selected.map((c) => [c, []]));
  await warmMeter();
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
    const calls = Math.max(5, Math.min(Math.round(500_000 / BATCH), Math.round((ops * (quick ? 0.15 : 1.5)) / 2 / BATCH)));
    const alloc = await measureAllocationsTwice(c.name, calls, c.fn);
    rows.push({
      name: c.name,
      opsPerSecond: ops,
      errorPercent: confidencePercent(samples, ops),
      spreadPercent: ((Math.max(...samples) - Math.min(...samples)) / 2 / ops) * 100,
      rounds: samples,
      nsPerOp: 1e9 / ops,
      bytesPerOp: alloc.allocatedBytes / (calls * BATCH),
      scavenges: (alloc.scavenges * 1e6) / (calls * BATCH),
    });
  }
  return rows;
}

/** 1k, 10k, 100k, 1M. */
function label(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
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
  // Filling cannot free memory: a negative heap difference is the meter's noise (a few hundred KB of
  // code and feedback compiled or collected in between), which only matters for the small tables.
  return { name, entries: n, heapBytes, bufferBytes, bytesPerEntry: (Math.max(0, heapBytes) + bufferBytes) / n, fillNsPerEntry: fillNs };
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

  // Memory first, on a quiet heap; one throwaway fill first, so that the small tables' fill times are not the JIT's warm-up.
  if (runs('memory')) measureMemory('warm-up', 20_000, VTEPS);
  const memory = !runs('memory') ? [] : [
    ...SIZES.map((n) => measureMemory(`${label(n)} entries, ${VNIS} VNIs, ${VTEPS} VTEPs (learnt)`, n, VTEPS)),
    ...(quick ? [] : [measureMemory(`1M entries, each behind its own VTEP (worst case)`, BIG, BIG)]),
  ];
  if (memory.length > 0) console.log('Memory (measured: V8 used heap + ArrayBuffers after a forced GC, before/after filling; the table grows as it fills; the heap figure is within ±300 KB noise)');
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
    const tables = new Map<number, Fdb>(SIZES.map((n) => [n, filled(n, clock)]));
    const uniforms = new Map<number, Stream>(SIZES.map((n) => [n, stream(n, uniform(n))]));
    const small = tables.get(SMALL)!;
    const big = tables.get(BIG)!;
    const smallUniform = uniforms.get(SMALL)!;
    const bigUniform = uniforms.get(BIG)!;
    const bigSkewed = stream(BIG, skewed(BIG));
    const cases: Case[] = [
      ...SIZES.map((n) => lookupCase(`lookup(vni, mac), ${label(n)} entries, uniform`, tables.get(n)!, uniforms.get(n)!)),
      lookupAtCase('lookupAt(vni, bytes), 1k entries, uniform', small, smallUniform),
      floorCase('baseline: hash + 1 random read of 64 MiB, uniform', bigUniform),
      lookupAtCase('lookupAt(vni, bytes), 1M entries, uniform', big, bigUniform),
      ...(quick ? [] : [lookupBatchCase('lookupBatch(64 keys), 1M entries, uniform', big, bigUniform), floorCase('baseline: hash + 1 random read of 64 MiB, skewed', bigSkewed)]),
      lookupCase('lookup(vni, mac), 1M entries, skewed (90% on 1%)', big, bigSkewed),
      ...(quick ? [] : [lookupAtCase('lookupAt(vni, bytes), 1M entries, skewed', big, bigSkewed), lookupBatchCase('lookupBatch(64 keys), 1M entries, skewed', big, bigSkewed)]),
      forwardCase('forward (hit), 1M entries, skewed', big, bigSkewed),
      ...SIZES.map((n) => learnCase(`learnIpv4 refresh, ${label(n)} entries, uniform`, tables.get(n)!, uniforms.get(n)!)),
      learnAtCase('learnIpv4At refresh, 1k entries, uniform', small, smallUniform),
      learnAtCase('learnIpv4At refresh, 1M entries, uniform', big, bigUniform),
      ...(quick ? [] : [learnCase('learnIpv4 refresh, 1M entries, skewed', big, bigSkewed), learnAtCase('learnIpv4At refresh, 1M entries, skewed', big, bigSkewed)]),
    ];
    console.log(`Throughput (benchmark.js, ${BATCH} operations per call, ${ROUNDS} interleaved rounds, median, ± 95 % CI over rounds)`);
    rows = await runCases(cases);
    console.log(
      formatTable(
        ['operation', 'M ops/s', '±%', 'ns/op', 'alloc B/op', 'scavenges/1M ops'],
        rows.map((r) => [r.name, (r.opsPerSecond / 1e6).toFixed(2), r.errorPercent.toFixed(1), r.nsPerOp.toFixed(1), r.bytesPerOp.toFixed(3), r.scavenges.toFixed(0)]),
      ),
    );
    console.log('');
    for (const table of tables.values()) table.close();
  }

  // How cost grows with the table: memory per entry and the uniform lookup / learn cost, 1 k to 1 M.
  const scaling = SIZES.map((n) => {
    const m = memory.find((r) => r.entries === n && r.name.includes('(learnt)'));
    const lookup = rows.find((r) => r.name === `lookup(vni, mac), ${label(n)} entries, uniform`);
    const learn = rows.find((r) => r.name === `learnIpv4 refresh, ${label(n)} entries, uniform`);
    return { entries: n, bytesPerEntry: m?.bytesPerEntry ?? NaN, lookupNs: lookup?.nsPerOp ?? NaN, lookupError: lookup?.errorPercent ?? NaN, learnNs: learn?.nsPerOp ?? NaN, learnError: learn?.errorPercent ?? NaN };
  });
  if (scaling.some((r) => !Number.isNaN(r.lookupNs) || !Number.isNaN(r.bytesPerEntry))) {
    const first = scaling[0]!;
    console.log('Scaling, 1 k to 1 M entries (uniform keys: every lookup may miss every cache once the table outgrows them)');
    console.log(
      formatTable(
        ['entries', 'B/entry', 'lookup ns', '±%', 'x 1k', 'learn ns', '±%', 'x 1k'],
        scaling.map((r) => [
          r.entries.toLocaleString('en-US'),
          r.bytesPerEntry.toFixed(1),
          r.lookupNs.toFixed(1),
          r.lookupError.toFixed(0),
          (r.lookupNs / first.lookupNs).toFixed(1),
          r.learnNs.toFixed(1),
          r.learnError.toFixed(0),
          (r.learnNs / first.learnNs).toFixed(1),
        ]),
      ),
    );
    console.log('');
  }

  const sweeps = !runs('sweep') ? [] : [
    ...(quick ? [] : [measureSweep('1M entries, nothing expired (pure scan)', false, false), measureSweep('1M entries, all expired at once (first time: cold JIT)', true, false)]),
    measureSweep('1M entries, all expired at once', true, false),
    ...(quick ? [] : [measureSweep('1M entries, all expired, an `aged` listener', true, true)]),
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
  if (jsonAt > 0 && process.argv[jsonAt + 1]) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify({ memory, throughput: rows, scaling, sweeps }, null, 2));
  if (sink === -1) console.log('');
}

await main();
