/**
 * Random bytes for CBC IVs without a system call per packet: a buffer filled in bulk by
 * `crypto.randomFillSync` (the kernel CSPRNG through OpenSSL) and handed out in slices.
 * Each byte is handed out once; when the buffer is used up it is refilled whole.
 */
import { randomFillSync } from 'node:crypto';

/** Where IV material comes from. Tests inject a fixed source to reproduce published vectors. */
export interface RandomSource {
  /** Writes `length` fresh random bytes at `buf[offset .. offset + length)`. Never throws on the datapath. */
  fill(buf: Uint8Array, offset: number, length: number): void;
}

/** Default pool size: 64 KiB, i.e. 4096 CBC IVs per refill. */
export const RANDOM_POOL_SIZE = 65536;

export class RandomPool implements RandomSource {
  private readonly bytes: Uint8Array;
  private position: number;
  /** How many times the pool was (re)filled, for the counters page. */
  refills = 0;

  constructor(size = RANDOM_POOL_SIZE) {
    if (!Number.isInteger(size) || size < 16 || size > 1 << 24) throw new RangeError(`random pool size must be an integer in 16..16777216, got ${size}`);
    this.bytes = new Uint8Array(size);
    this.position = size;
  }

  fill(buf: Uint8Array, offset: number, length: number): void {
    const bytes = this.bytes;
    if (length > bytes.length) {
      // Larger than the whole pool: fill directly (not a datapath case).
      randomFillSync(buf, offset, length);
      return;
    }
    if (this.position + length > bytes.length) {
      randomFillSync(bytes);
      this.refills++;
      this.position = 0;
    }
    const from = this.position;
    for (let i = 0; i < length; i++) buf[offset + i] = bytes[from + i]!;
    // Erase what was handed out, so the pool never holds an IV that is already on the wire.
    bytes.fill(0, from, from + length);
    this.position = from + length;
  }
}

/** One pool shared by every SA of the process (single-threaded, so no locking). */
export const sharedRandomPool = new RandomPool();
