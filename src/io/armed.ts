/**
 * The receive slots an addon reader fills (the TAP reader and the batched UDP
 * reader): one pool buffer armed per slot, and the arrays the addon reads and
 * writes. The addon reads into `views[slot][offsets[slot] ..]`, up to
 * `capacities[slot]` bytes, and reports (slot, length) pairs in `batch`; `take`
 * hands those buffers over and `refill` arms the empty slots again.
 */
import type { BufferPool, PacketBuffer } from '../pool/pool.js';

export class ArmedSlots {
  /** The buffer armed in each slot, or null. */
  readonly armed: (PacketBuffer | null)[];
  /** Shared with the addon: `bytes` of the buffer armed in each slot, or undefined. */
  readonly views: (Uint8Array | undefined)[];
  readonly offsets: Int32Array;
  readonly capacities: Int32Array;
  /** Shared with the addon: (slot, length) pairs of the batch being delivered. */
  readonly batch: Int32Array;
  /** The buffers of the last batch, in order; only [0 .. count) is meaningful. Reused. */
  readonly taken: PacketBuffer[];

  constructor(
    readonly budget: number,
    /** Bytes the addon may write into each buffer. */
    readonly capacity: number,
  ) {
    this.armed = new Array<PacketBuffer | null>(budget).fill(null);
    this.views = new Array<Uint8Array | undefined>(budget).fill(undefined);
    this.offsets = new Int32Array(budget);
    this.capacities = new Int32Array(budget);
    this.batch = new Int32Array(2 * budget);
    this.taken = new Array<PacketBuffer>(budget);
  }

  /** Moves the `count` filled buffers of the batch to `taken`, lengths set; returns their total bytes. */
  take(count: number): number {
    const batch = this.batch;
    const armed = this.armed;
    const views = this.views;
    const taken = this.taken;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const slot = batch[2 * i]!;
      const length = batch[2 * i + 1]!;
      const buf = armed[slot]!;
      buf.length = length;
      taken[i] = buf;
      armed[slot] = null;
      views[slot] = undefined;
      bytes += length;
    }
    return bytes;
  }

  /** Arms every empty slot with a fresh buffer; stops at the first exhaustion (the pool counts it once). */
  refill(pool: BufferPool): void {
    const armed = this.armed;
    const views = this.views;
    const offsets = this.offsets;
    const capacities = this.capacities;
    const capacity = this.capacity;
    for (let slot = 0; slot < this.budget; slot++) {
      if (armed[slot] !== null) continue;
      const buf = pool.acquire();
      if (buf === null) return;
      armed[slot] = buf;
      views[slot] = buf.bytes;
      offsets[slot] = buf.offset;
      capacities[slot] = capacity;
    }
  }

  /** Gives every armed buffer back to the pool. */
  release(pool: BufferPool): void {
    const armed = this.armed;
    for (let slot = 0; slot < armed.length; slot++) {
      const buf = armed[slot];
      if (buf != null) pool.release(buf);
      armed[slot] = null;
      this.views[slot] = undefined;
    }
  }
}
