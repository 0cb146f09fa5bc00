import { expect } from 'chai';
import fc from 'fast-check';
import {
  BufferPool,
  DEFAULT_CAPACITY,
  DEFAULT_HEADROOM,
  DEFAULT_SLOT_SIZE,
  DEFAULT_TAILROOM,
  PacketBuffer,
  PoolError,
  WORST_CASE_HEADROOM,
  WORST_CASE_TAILROOM,
} from '../../src/pool/index.js';
import type { BufferPoolOptions } from '../../src/pool/index.js';

function acquireAll(pool: BufferPool): PacketBuffer[] {
  const held: PacketBuffer[] = [];
  for (;;) {
    const buf = pool.acquire();
    if (buf === null) return held;
    held.push(buf);
  }
}

function expectBadConfig(options: unknown, field: string, mention: RegExp): void {
  let caught: unknown;
  try {
    new BufferPool(options as BufferPoolOptions);
  } catch (error) {
    caught = error;
  }
  expect(caught, JSON.stringify(options)).to.be.instanceOf(PoolError);
  const error = caught as PoolError;
  expect(error.code).to.equal('BAD_CONFIG');
  expect(error.field).to.equal(field);
  expect(error.name).to.equal('PoolError');
  expect(error.message).to.match(mention);
}

describe('pool/BufferPool', () => {
  describe('defaults', () => {
    it('has the documented layout and the budgets fit in it', () => {
      const pool = new BufferPool();
      expect(pool.slotSize).to.equal(2048);
      expect(pool.headroom).to.equal(448);
      expect(pool.tailroom).to.equal(64);
      expect(pool.capacity).to.equal(4096);
      expect(pool.slabSlots).to.equal(1024);
      expect(pool.slabs).to.equal(4);
      expect(pool.maxFrameLength).to.equal(1536);
      // Ethernet 14 + 802.1Q 4 + 1500 MTU payload.
      expect(pool.maxFrameLength).to.be.at.least(14 + 4 + 1500);
      expect(WORST_CASE_HEADROOM).to.equal(398);
      expect(WORST_CASE_TAILROOM).to.equal(33);
      expect(DEFAULT_HEADROOM).to.be.at.least(WORST_CASE_HEADROOM);
      expect(DEFAULT_HEADROOM % 64).to.equal(0);
      expect(DEFAULT_TAILROOM).to.be.at.least(WORST_CASE_TAILROOM);
      expect(DEFAULT_HEADROOM + 1536 + DEFAULT_TAILROOM).to.equal(DEFAULT_SLOT_SIZE);
      expect(pool.available).to.equal(DEFAULT_CAPACITY);
      expect(pool.inUse).to.equal(0);
    });

    it('hands out slot 0 first and reuses the last released slot first (LIFO)', () => {
      const pool = new BufferPool({ capacity: 3000, slabSlots: 1000 });
      const a = pool.acquire()!;
      const b = pool.acquire()!;
      expect([a.index, b.index]).to.deep.equal([0, 1]);
      expect(pool.release(a)).to.equal(true);
      expect(pool.acquire()).to.equal(a);
    });
  });

  describe('exhaustion', () => {
    it('returns null when every slot is in use, counts it, and does not grow', () => {
      const pool = new BufferPool({ capacity: 10, slabSlots: 4 });
      const held = acquireAll(pool);
      expect(held).to.have.length(10);
      expect(new Set(held.map((b) => b.index)).size).to.equal(10);
      expect(pool.inUse).to.equal(10);
      expect(pool.available).to.equal(0);
      for (let i = 0; i < 5; i++) expect(pool.acquire()).to.equal(null);
      expect(pool.stats.exhausted).to.equal(6); // the one that ended acquireAll, plus 5
      expect(pool.stats.acquired).to.equal(10);
      expect(pool.stats.highWater).to.equal(10);
      expect(pool.slabs).to.equal(3); // 4 + 4 + 2
      expect(pool.allocatedSlots).to.equal(10);
      expect(pool.inUse).to.equal(10);
    });

    it('releasing makes slots available again', () => {
      const pool = new BufferPool({ capacity: 4 });
      const held = acquireAll(pool);
      expect(pool.release(held[2]!)).to.equal(true);
      expect(pool.available).to.equal(1);
      expect(pool.inUse).to.equal(3);
      const again = pool.acquire();
      expect(again).to.equal(held[2]);
      expect(pool.acquire()).to.equal(null);
      expect(pool.releaseBatch(held)).to.equal(4);
      expect(pool.available).to.equal(4);
      expect(pool.stats.released).to.equal(5);
      expect(pool.stats.highWater).to.equal(4);
    });

    it('acquireBatch fills what it can, counts one exhaustion, and never grows', () => {
      const pool = new BufferPool({ capacity: 40, slabSlots: 16 });
      const out: PacketBuffer[] = new Array<PacketBuffer>(32);
      expect(pool.acquireBatch(out, 32)).to.equal(32);
      expect(pool.stats.exhausted).to.equal(0);
      const second: PacketBuffer[] = new Array<PacketBuffer>(32);
      expect(pool.acquireBatch(second, 32)).to.equal(8);
      expect(pool.stats.exhausted).to.equal(1);
      const indices = new Set([...out, ...second.slice(0, 8)].map((b) => b.index));
      expect(indices.size).to.equal(40);
      expect(pool.acquireBatch(second, 32)).to.equal(0);
      expect(pool.stats.exhausted).to.equal(2);
      expect(pool.acquireBatch(second, 0)).to.equal(0);
      expect(pool.acquireBatch(second, -3)).to.equal(0);
      expect(pool.stats.exhausted).to.equal(2);
      expect(pool.releaseBatch(out, 32)).to.equal(32);
      expect(pool.releaseBatch(second, 8)).to.equal(8);
      expect(pool.inUse).to.equal(0);
      expect(pool.stats.acquired).to.equal(40);
      expect(pool.stats.released).to.equal(40);
    });
  });

  describe('lazy slabs', () => {
    it('allocates slabs on demand and still stops at capacity', () => {
      const pool = new BufferPool({ capacity: 10, slabSlots: 4, lazy: true });
      expect(pool.slabs).to.equal(1);
      expect(pool.allocatedSlots).to.equal(4);
      expect(pool.available).to.equal(10);
      const held = acquireAll(pool);
      expect(held.map((b) => b.index)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(pool.slabs).to.equal(3);
      expect(pool.allocatedSlots).to.equal(10);
      expect(pool.acquire()).to.equal(null);
      expect(pool.slabs).to.equal(3);
      pool.releaseBatch(held);
      // Released slots are reused; no new slab.
      acquireAll(pool);
      expect(pool.slabs).to.equal(3);
    });

    it('a lazy pool with a huge capacity allocates only what is used', () => {
      const pool = new BufferPool({ capacity: 1 << 20, slabSlots: 64, lazy: true });
      expect(pool.allocatedSlots).to.equal(64);
      const out: PacketBuffer[] = new Array<PacketBuffer>(100);
      expect(pool.acquireBatch(out, 100)).to.equal(100);
      expect(pool.slabs).to.equal(2);
      expect(pool.available).to.equal((1 << 20) - 100);
    });
  });

  describe('double and foreign release', () => {
    it('refuses a double release, counts it, and never hands a slot out twice', () => {
      const pool = new BufferPool({ capacity: 8, slabSlots: 3 });
      const a = pool.acquire()!;
      const b = pool.acquire()!;
      expect(pool.release(a)).to.equal(true);
      expect(pool.release(a)).to.equal(false);
      expect(pool.release(a)).to.equal(false);
      expect(pool.stats.doubleRelease).to.equal(2);
      expect(pool.stats.released).to.equal(1);
      expect(pool.inUse).to.equal(1);
      expect(pool.available).to.equal(7);
      // Only 7 more can be acquired, all distinct, and none is b.
      const rest = acquireAll(pool);
      expect(rest).to.have.length(7);
      const indices = new Set(rest.map((x) => x.index));
      expect(indices.size).to.equal(7);
      expect(indices.has(b.index)).to.equal(false);
    });

    it('over many cycles with double releases mixed in, no slot is held twice', () => {
      const pool = new BufferPool({ capacity: 16, slabSlots: 5 });
      const held = new Map<number, PacketBuffer>();
      let doubles = 0;
      let seed = 12345;
      const next = (): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed;
      };
      const released: PacketBuffer[] = [];
      for (let cycle = 0; cycle < 20000; cycle++) {
        const r = next() % 10;
        if (r < 5) {
          const buf = pool.acquire();
          if (buf === null) {
            expect(held.size).to.equal(16);
          } else {
            expect(held.has(buf.index), `slot ${buf.index} handed out twice`).to.equal(false);
            held.set(buf.index, buf);
          }
        } else if (r < 8 && held.size > 0) {
          const keys = [...held.keys()];
          const index = keys[next() % keys.length]!;
          const buf = held.get(index)!;
          held.delete(index);
          expect(pool.release(buf)).to.equal(true);
          released.push(buf);
        } else if (released.length > 0) {
          const stale = released[next() % released.length]!;
          if (!held.has(stale.index)) {
            expect(pool.release(stale)).to.equal(false);
            doubles++;
          }
        }
        expect(pool.inUse).to.equal(held.size);
      }
      expect(doubles).to.be.greaterThan(100);
      expect(pool.stats.doubleRelease).to.equal(doubles);
    });

    it('refuses a handle from another pool, a forged handle, and non-handles', () => {
      const pool = new BufferPool({ capacity: 4 });
      const other = new BufferPool({ capacity: 4 });
      const mine = pool.acquire()!;
      const theirs = other.acquire()!;
      expect(theirs.index).to.equal(mine.index);
      expect(pool.release(theirs)).to.equal(false);
      const forged = new PacketBuffer(pool, 1, new Uint8Array(pool.slotSize));
      expect(pool.release(forged)).to.equal(false);
      expect(pool.release(null as unknown as PacketBuffer)).to.equal(false);
      expect(pool.release(undefined as unknown as PacketBuffer)).to.equal(false);
      expect(pool.release({ index: 0 } as unknown as PacketBuffer)).to.equal(false);
      expect(pool.stats.foreignRelease).to.equal(5);
      expect(pool.stats.doubleRelease).to.equal(0);
      expect(pool.inUse).to.equal(1);
      expect(other.inUse).to.equal(1);
      // The rightful owners still take them back.
      expect(theirs.release()).to.equal(true);
      expect(mine.release()).to.equal(true);
      expect(pool.inUse).to.equal(0);
    });

    it('releaseBatch counts refusals like release', () => {
      const pool = new BufferPool({ capacity: 4 });
      const a = pool.acquire()!;
      const b = pool.acquire()!;
      const other = new BufferPool({ capacity: 1 }).acquire()!;
      expect(pool.releaseBatch([a, b, a, other])).to.equal(2);
      expect(pool.stats.doubleRelease).to.equal(1);
      expect(pool.stats.foreignRelease).to.equal(1);
    });
  });

  describe('PacketBuffer', () => {
    it('starts at the headroom with no data, and acquire resets a reused handle', () => {
      const pool = new BufferPool({ capacity: 1 });
      const buf = pool.acquire()!;
      expect(buf.bytes.length).to.equal(2048);
      expect(buf.offset).to.equal(448);
      expect(buf.length).to.equal(0);
      expect(buf.headroom).to.equal(448);
      expect(buf.tailroom).to.equal(2048 - 448);
      const generation = buf.generation;
      buf.prepend(20);
      buf.append(100);
      buf.release();
      const again = pool.acquire()!;
      expect(again).to.equal(buf);
      expect(again.offset).to.equal(448);
      expect(again.length).to.equal(0);
      expect(again.generation).to.equal(generation + 1);
    });

    it('prepend moves back within the headroom and refuses past it', () => {
      const pool = new BufferPool({ capacity: 1 });
      const buf = pool.acquire()!;
      expect(buf.copyFrom(new Uint8Array(60).fill(7))).to.equal(true);
      expect(buf.prepend(WORST_CASE_HEADROOM)).to.equal(true);
      expect(buf.offset).to.equal(448 - 398);
      expect(buf.length).to.equal(60 + 398);
      expect(buf.prepend(51)).to.equal(false);
      expect(buf.offset).to.equal(50);
      expect(buf.prepend(50)).to.equal(true);
      expect(buf.offset).to.equal(0);
      expect(buf.headroom).to.equal(0);
      expect(buf.prepend(1)).to.equal(false);
      expect(buf.prepend(0)).to.equal(true);
      for (const bad of [-1, 0.5, Number.NaN, Infinity, 2 ** 32]) {
        expect(buf.prepend(bad), String(bad)).to.equal(false);
      }
      expect(buf.offset).to.equal(0);
      expect(buf.length).to.equal(60 + 448);
    });

    it('append grows into the tailroom up to the end of the slot and no further', () => {
      const pool = new BufferPool({ capacity: 1 });
      const buf = pool.acquire()!;
      expect(buf.copyFrom(new Uint8Array(1536))).to.equal(true);
      expect(buf.tailroom).to.equal(64);
      expect(buf.append(WORST_CASE_TAILROOM)).to.equal(true);
      expect(buf.append(64 - WORST_CASE_TAILROOM + 1)).to.equal(false);
      expect(buf.append(64 - WORST_CASE_TAILROOM)).to.equal(true);
      expect(buf.end).to.equal(2048);
      expect(buf.tailroom).to.equal(0);
      expect(buf.append(1)).to.equal(false);
      for (const bad of [-1, 1.5, Number.NaN]) expect(buf.append(bad)).to.equal(false);
      expect(buf.length).to.equal(1600);
    });

    it('pull and trim remove headers and trailers within the data', () => {
      const pool = new BufferPool({ capacity: 1 });
      const buf = pool.acquire()!;
      buf.copyFrom(Uint8Array.from({ length: 100 }, (_, i) => i));
      expect(buf.pull(14)).to.equal(true);
      expect(buf.offset).to.equal(448 + 14);
      expect(buf.length).to.equal(86);
      expect(buf.data()[0]).to.equal(14);
      expect(buf.trim(6)).to.equal(true);
      expect(buf.length).to.equal(80);
      expect(buf.data()[79]).to.equal(93);
      expect(buf.pull(81)).to.equal(false);
      expect(buf.trim(81)).to.equal(false);
      expect(buf.pull(-1)).to.equal(false);
      expect(buf.trim(0.5)).to.equal(false);
      expect(buf.trim(80)).to.equal(true);
      expect(buf.length).to.equal(0);
      buf.reset();
      expect(buf.offset).to.equal(448);
      expect(buf.length).to.equal(0);
    });

    it('copyFrom keeps the tailroom free and data() is a view, not a copy', () => {
      const pool = new BufferPool({ capacity: 1 });
      const buf = pool.acquire()!;
      expect(buf.copyFrom(new Uint8Array(1537))).to.equal(false);
      expect(buf.length).to.equal(0);
      const frame = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);
      expect(buf.copyFrom(frame)).to.equal(true);
      const view = buf.data();
      expect([...view]).to.deep.equal([...frame]);
      expect(view.buffer).to.equal(buf.bytes.buffer);
      view[0] = 1;
      expect(buf.bytes[buf.offset]).to.equal(1);
    });

    it('honours a custom layout', () => {
      // A jumbo-frame pool: 9018-byte frames (9000 MTU + Ethernet + 802.1Q) fit.
      const pool = new BufferPool({ capacity: 2, slotSize: 9728, headroom: 512, tailroom: 128 });
      const buf = pool.acquire()!;
      expect(pool.maxFrameLength).to.equal(9088);
      expect(buf.offset).to.equal(512);
      expect(buf.copyFrom(new Uint8Array(9018))).to.equal(true);
      expect(buf.copyFrom(new Uint8Array(9089))).to.equal(false);
      expect(buf.copyFrom(new Uint8Array(9088))).to.equal(true);
      expect(buf.append(128)).to.equal(true);
      expect(buf.append(1)).to.equal(false);
      const bare = new BufferPool({ capacity: 1, slotSize: 128, headroom: 0, tailroom: 0 }).acquire()!;
      expect(bare.prepend(1)).to.equal(false);
      expect(bare.append(128)).to.equal(true);
    });
  });

  describe('slab layout', () => {
    it('slots are views into a few shared slabs, one per slabSlots slots', () => {
      const pool = new BufferPool({ capacity: 100, slabSlots: 32, slotSize: 256, headroom: 64, tailroom: 64 });
      const held = acquireAll(pool);
      const buffers = new Set(held.map((b) => b.bytes.buffer));
      expect(buffers.size).to.equal(4);
      for (const buf of held) {
        expect(buf.bytes.length).to.equal(256);
        expect(buf.bytes.byteOffset).to.equal((buf.index % 32) * 256);
        expect(buf.bytes.byteOffset % 64).to.equal(0);
      }
    });

    it('the bytes of different slots never overlap', () => {
      const pool = new BufferPool({ capacity: 200, slabSlots: 64, slotSize: 256, headroom: 64, tailroom: 64 });
      const held = acquireAll(pool);
      // Fill every slot's whole view (headroom, frame and tailroom) with its own pattern.
      for (const buf of held) buf.bytes.fill(buf.index + 1);
      for (const buf of held) {
        const pattern = buf.index + 1;
        for (let i = 0; i < buf.bytes.length; i++) {
          if (buf.bytes[i] !== pattern) expect.fail(`slot ${buf.index} byte ${i} is ${buf.bytes[i]}, not ${pattern}`);
        }
      }
      // And through the slab itself: every byte belongs to exactly one slot.
      const slab = new Uint8Array(held[0]!.bytes.buffer);
      for (let i = 0; i < slab.length; i++) {
        if (slab[i] !== Math.floor(i / 256) + 1) expect.fail(`slab byte ${i} is ${slab[i]}`);
      }
    });
  });

  describe('configuration', () => {
    it('rejects bad values with PoolError BAD_CONFIG naming the field and the allowed values', () => {
      expectBadConfig({ slotSize: 100 }, 'slotSize', /128\.\.262144/);
      expectBadConfig({ slotSize: 2000 }, 'slotSize', /multiple of 64/);
      expectBadConfig({ slotSize: 1 << 20 }, 'slotSize', /128\.\.262144/);
      expectBadConfig({ slotSize: '2048' }, 'slotSize', /integer/);
      expectBadConfig({ slotSize: 2048.5 }, 'slotSize', /integer/);
      expectBadConfig({ headroom: -1 }, 'headroom', /0\.\.1984/);
      expectBadConfig({ headroom: 2000 }, 'headroom', /0\.\.1984/);
      expectBadConfig({ tailroom: Number.NaN }, 'tailroom', /0\.\.1984/);
      expectBadConfig({ headroom: 1000, tailroom: 1000 }, 'headroom', /at most 1984.*64 frame bytes/);
      expectBadConfig({ capacity: 0 }, 'capacity', /1\.\.16777216/);
      expectBadConfig({ capacity: 2 ** 24 + 1 }, 'capacity', /1\.\.16777216/);
      expectBadConfig({ slabSlots: 0 }, 'slabSlots', /1\.\.524288/);
      expectBadConfig({ slotSize: 262144, slabSlots: 4097 }, 'slabSlots', /1\.\.4096/);
      expectBadConfig({ lazy: 'yes' }, 'lazy', /true or false/);
      expectBadConfig({ capcity: 10 }, 'capcity', /allowed: slotSize, headroom, tailroom, capacity, slabSlots, lazy/);
      expectBadConfig(null, 'options', /must be an object/);
      expectBadConfig(42, 'options', /must be an object/);
    });

    it('accepts the limits and clamps slabSlots to capacity', () => {
      const small = new BufferPool({ slotSize: 128, headroom: 64, tailroom: 0, capacity: 1, slabSlots: 1024 });
      expect(small.maxFrameLength).to.equal(64);
      expect(small.slabSlots).to.equal(1);
      expect(small.slabs).to.equal(1);
      const lazyHuge = new BufferPool({ capacity: 2 ** 24, slotSize: 262144, slabSlots: 1, lazy: true });
      expect(lazyHuge.available).to.equal(2 ** 24);
      expect(lazyHuge.allocatedSlots).to.equal(1);
    });
  });

  describe('snapshot', () => {
    it('is a plain copy of configuration and counters', () => {
      const pool = new BufferPool({ capacity: 3 });
      const a = pool.acquire()!;
      pool.acquire();
      pool.release(a);
      pool.release(a);
      const snap = pool.snapshot();
      expect(snap).to.deep.equal({
        capacity: 3,
        slotSize: 2048,
        headroom: 448,
        tailroom: 64,
        maxFrameLength: 1536,
        slabSlots: 3,
        slabs: 1,
        allocatedSlots: 3,
        inUse: 1,
        available: 2,
        acquired: 2,
        released: 1,
        exhausted: 0,
        doubleRelease: 1,
        foreignRelease: 0,
        highWater: 2,
      });
      expect(Object.getPrototypeOf(snap)).to.equal(Object.prototype);
      pool.acquire();
      expect(snap.acquired).to.equal(2);
      expect(JSON.parse(JSON.stringify(snap))).to.deep.equal(snap);
    });
  });

  describe('model (fast-check)', () => {
    type Op =
      | { kind: 'acquire' }
      | { kind: 'release'; pick: number }
      | { kind: 'doubleRelease'; pick: number }
      | { kind: 'foreignRelease' }
      | { kind: 'acquireBatch'; count: number }
      | { kind: 'releaseBatch'; count: number };

    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.constant<Op>({ kind: 'acquire' }) },
      { weight: 3, arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'release', pick })) },
      { weight: 2, arbitrary: fc.nat().map<Op>((pick) => ({ kind: 'doubleRelease', pick })) },
      { weight: 1, arbitrary: fc.constant<Op>({ kind: 'foreignRelease' }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 12 }).map<Op>((count) => ({ kind: 'acquireBatch', count })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 12 }).map<Op>((count) => ({ kind: 'releaseBatch', count })) },
    );

    it('acquire/release/double release agree with a set of held slots', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 20 }),
          fc.integer({ min: 1, max: 8 }),
          fc.boolean(),
          fc.array(op, { maxLength: 300 }),
          (capacity, slabSlots, lazy, ops) => {
            const pool = new BufferPool({ capacity, slabSlots, lazy, slotSize: 128, headroom: 32, tailroom: 32 });
            const stranger = new BufferPool({ capacity: 1, slotSize: 128, headroom: 0, tailroom: 0 }).acquire()!;
            const held = new Map<number, PacketBuffer>();
            const freed: PacketBuffer[] = [];
            const batch: PacketBuffer[] = new Array<PacketBuffer>(12);
            const expected = { acquired: 0, released: 0, exhausted: 0, doubleRelease: 0, foreignRelease: 0, highWater: 0 };
            const take = (buf: PacketBuffer): void => {
              if (held.has(buf.index)) throw new Error(`slot ${buf.index} handed out twice`);
              if (buf.pool !== pool || buf.offset !== 32 || buf.length !== 0) throw new Error('bad handle state');
              held.set(buf.index, buf);
              expected.acquired++;
              expected.highWater = Math.max(expected.highWater, held.size);
            };
            const give = (buf: PacketBuffer): void => {
              held.delete(buf.index);
              freed.push(buf);
              expected.released++;
            };
            for (const step of ops) {
              switch (step.kind) {
                case 'acquire': {
                  const buf = pool.acquire();
                  if (buf === null) {
                    if (held.size !== capacity) throw new Error('null before exhaustion');
                    expected.exhausted++;
                  } else {
                    take(buf);
                  }
                  break;
                }
                case 'release': {
                  if (held.size === 0) break;
                  const keys = [...held.keys()];
                  const buf = held.get(keys[step.pick % keys.length]!)!;
                  if (!pool.release(buf)) throw new Error('release refused');
                  give(buf);
                  break;
                }
                case 'doubleRelease': {
                  if (freed.length === 0) break;
                  const buf = freed[step.pick % freed.length]!;
                  const ok = pool.release(buf);
                  if (held.has(buf.index)) {
                    // The slot was handed out again: the stale handle is the live one (same object).
                    if (!ok) throw new Error('release of a held slot refused');
                    give(buf);
                  } else {
                    if (ok) throw new Error('double release accepted');
                    expected.doubleRelease++;
                  }
                  break;
                }
                case 'foreignRelease':
                  if (pool.release(stranger)) throw new Error('foreign release accepted');
                  expected.foreignRelease++;
                  break;
                case 'acquireBatch': {
                  const n = pool.acquireBatch(batch, step.count);
                  const free = capacity - held.size;
                  if (n !== Math.min(step.count, free)) throw new Error(`batch gave ${n}`);
                  if (n < step.count) expected.exhausted++;
                  for (let i = 0; i < n; i++) take(batch[i]!);
                  break;
                }
                case 'releaseBatch': {
                  const list = [...held.values()].slice(0, step.count);
                  if (pool.releaseBatch(list) !== list.length) throw new Error('batch release refused');
                  for (const buf of list) give(buf);
                  break;
                }
              }
              if (pool.inUse !== held.size) throw new Error(`inUse ${pool.inUse} != ${held.size}`);
              if (pool.inUse + pool.available !== capacity) throw new Error('inUse + available != capacity');
              if (pool.allocatedSlots > capacity) throw new Error('grew past capacity');
            }
            expect({ ...pool.stats }).to.deep.equal(expected);
            // Drain: exactly the free slots come out, all distinct from the held ones.
            const rest = acquireAll(pool);
            expect(rest.length).to.equal(capacity - held.size);
            for (const buf of rest) take(buf);
            expect(held.size).to.equal(capacity);
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('batches (counters updated once per batch)', () => {
    it('releaseBatch: the same handle twice in one batch, a foreign one and null are refused and counted; the rest go back', () => {
      const pool = new BufferPool({ capacity: 8, slabSlots: 8 });
      const other = new BufferPool({ capacity: 1 });
      const out: PacketBuffer[] = new Array<PacketBuffer>(4);
      expect(pool.acquireBatch(out, 4)).to.equal(4);
      const batch = [out[0]!, out[1]!, out[0]!, other.acquire()!, null as unknown as PacketBuffer, out[2]!];
      expect(pool.releaseBatch(batch)).to.equal(3);
      expect(pool.stats.released).to.equal(3);
      expect(pool.stats.doubleRelease).to.equal(1);
      expect(pool.stats.foreignRelease).to.equal(2);
      expect(pool.inUse).to.equal(1);
      // LIFO: the last accepted release is handed out first.
      expect(pool.acquire()).to.equal(out[2]);
      expect(pool.release(out[3]!)).to.equal(true);
    });

    it('acquireBatch across a lazy pool\'s slabs: distinct handles, generations advanced, counters and high water per batch', () => {
      const pool = new BufferPool({ capacity: 10, slabSlots: 4, lazy: true });
      const out: PacketBuffer[] = new Array<PacketBuffer>(10);
      expect(pool.acquireBatch(out, 6)).to.equal(6);
      expect(pool.slabs).to.equal(2);
      expect(new Set(out.slice(0, 6)).size).to.equal(6);
      expect(out.slice(0, 6).map((b) => b.generation)).to.deep.equal([1, 1, 1, 1, 1, 1]);
      expect(pool.stats.acquired).to.equal(6);
      expect(pool.stats.highWater).to.equal(6);
      expect(pool.releaseBatch(out, 6)).to.equal(6);
      expect(pool.acquireBatch(out, 10)).to.equal(10);
      expect(pool.stats.exhausted).to.equal(0);
      expect(pool.stats.highWater).to.equal(10);
      expect(pool.acquireBatch(out, 1)).to.equal(0);
      expect(pool.stats.exhausted).to.equal(1);
      expect(pool.stats.acquired).to.equal(16);
      for (const buf of out) {
        expect(buf.offset).to.equal(pool.headroom);
        expect(buf.length).to.equal(0);
      }
    });
  });
});
