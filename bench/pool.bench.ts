/**
 * Buffer pool bench: throughput per buffer (the interleaved rounds of bench/harness.ts,
 * 64 buffers per call) and allocation per packet.
 *
 *   npx tsx bench/pool.bench.ts           # full run
 *   npx tsx bench/pool.bench.ts --quick   # shorter samples, for a smoke run
 *
 * `node --expose-gc` is not required: bench/alloc.ts enables it at run time. Timing is
 * printed, never asserted.
 */
import { writeFileSync } from 'node:fs';
import { BufferPool } from '../src/pool/index.js';
import type { PacketBuffer } from '../src/pool/index.js';
import { ALLOCATION_HEADER, allocationRow, formatTable, measureAllocations } from './alloc.js';
import type { AllocationResult } from './alloc.js';
import { quick, runPacketCases, type PacketCase } from './harness.js';

const BATCH = 64;
/** Iterations of each allocation loop (the batch loop: this many buffers, in batches). */
const PACKETS = quick ? 200_000 : 1_000_000;

let sink = 0;

/** The per-packet cycle measured for allocations: acquire, write 64 bytes, prepend 50, release. */
function packetCycle(pool: BufferPool, i: number): void {
  const buf = pool.acquire();
  if (buf === null) return;
  const bytes = buf.bytes;
  const start = buf.offset;
  for (let j = 0; j < 64; j++) bytes[start + j] = (i + j) & 0xff;
  buf.length = 64;
  if (buf.prepend(50)) bytes[buf.offset] = 0x45;
  sink = (sink + bytes[buf.offset + 50]!) & 0xffff;
  pool.release(buf);
}

function throughputCases(): PacketCase[] {
  const pool = new BufferPool();
  const batchPool = new BufferPool();
  const packetPool = new BufferPool();
  const batch: PacketBuffer[] = new Array<PacketBuffer>(BATCH);
  let i = 0;
  const common = { batch: BATCH, innerBytes: 64 };
  return [
    {
      ...common,
      id: 'pool-acquire-release',
      name: 'acquire + release',
      fn: () => {
        for (let k = 0; k < BATCH; k++) {
          const buf = pool.acquire()!;
          sink = (sink + buf.offset) & 0xffff;
          pool.release(buf);
        }
      },
    },
    {
      ...common,
      id: 'pool-batch',
      name: `acquireBatch(${BATCH}) + releaseBatch(${BATCH})`,
      fn: () => {
        const n = batchPool.acquireBatch(batch, BATCH);
        sink = (sink + n) & 0xffff;
        batchPool.releaseBatch(batch, n);
      },
    },
    {
      ...common,
      id: 'pool-cycle',
      name: 'acquire + write 64 B + prepend 50 + release',
      fn: () => {
        for (let k = 0; k < BATCH; k++) packetCycle(packetPool, i++);
      },
    },
    {
      ...common,
      id: 'pool-baseline-alloc',
      name: 'baseline: new Uint8Array(2048) per packet',
      fn: () => {
        for (let k = 0; k < BATCH; k++) {
          const bytes = new Uint8Array(2048);
          bytes[448] = i++ & 0xff;
          sink = (sink + bytes[448]!) & 0xffff;
        }
      },
    },
  ];
}

async function main(): Promise<void> {
  console.log(`vtepkit pool bench: node ${process.version}, ${process.platform}/${process.arch}`);

  const throughput = await runPacketCases(`vtepkit pool, per buffer, ${BATCH} buffers per call`, throughputCases());
  console.log();

  const results: AllocationResult[] = [];
  const pool = new BufferPool();
  results.push(await measureAllocations('acquire, write 64, prepend 50, release', PACKETS, (i) => packetCycle(pool, i)));

  const batchPool = new BufferPool();
  const batch: PacketBuffer[] = new Array<PacketBuffer>(BATCH);
  results.push(
    await measureAllocations(`acquireBatch(${BATCH}), prepend 50 each, releaseBatch`, Math.round(PACKETS / BATCH), () => {
      const n = batchPool.acquireBatch(batch, BATCH);
      for (let k = 0; k < n; k++) batch[k]!.prepend(50);
      batchPool.releaseBatch(batch, n);
    }),
  );

  // Counters past 2^31 are no longer small integers in V8; they must still not allocate.
  const oldPool = new BufferPool();
  const counters = oldPool.stats as { acquired: number; released: number };
  counters.acquired = 2 ** 40;
  counters.released = 2 ** 40;
  results.push(await measureAllocations('same cycle, counters past 2^40', PACKETS, (i) => packetCycle(oldPool, i)));

  // Exhausted pool: acquire returns null (counted) and must not allocate either.
  const emptyPool = new BufferPool({ capacity: 1 });
  emptyPool.acquire();
  results.push(
    await measureAllocations('acquire on an exhausted pool', PACKETS, () => {
      if (emptyPool.acquire() === null) sink = (sink + 1) & 0xffff;
    }),
  );

  // The meter must see allocation where there is some.
  results.push(
    await measureAllocations('baseline: new Uint8Array(2048)', PACKETS, (i) => {
      const bytes = new Uint8Array(2048);
      bytes[448] = i & 0xff;
      sink = (sink + bytes[448]!) & 0xffff;
    }),
  );

  console.log(`Allocation (after warm-up; one iteration = one packet, or one batch of ${BATCH} on the batch line; GC ${results[0]!.gcExposed ? 'exposed' : 'NOT exposed: numbers are noisier'})`);
  console.log(formatTable(ALLOCATION_HEADER, results.map(allocationRow)));
  console.log(`\npool stats after the allocation run: ${JSON.stringify(pool.snapshot())}`);
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt > 0 && process.argv[jsonAt + 1]) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify({ throughput, allocations: results }, null, 2));
  if (sink === -1) console.log('');
}

await main();
