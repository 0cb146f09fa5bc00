/**
 * The anti-replay window of RFC 4303 3.4.3, kept as the bitmap ring of RFC 6479, with the
 * extended sequence number inference of RFC 4303 Appendix A.
 *
 * Sequence numbers are 64-bit values held as two unsigned 32-bit halves (`high`, `low`) so
 * that every operation is exact (a double holds only 53 bits) and no bigint is made per packet.
 *
 * The ring holds `words` 32-bit blocks, a power of two with at least one block more than the
 * window needs (RFC 6479 2), so advancing the window clears whole blocks and never moves bits.
 * Bit `seq mod (32 * words)` stands for the sequence number `seq`; since 2^32 is a multiple of
 * the ring size, the low half alone gives the position.
 */
import { EspStatus } from './errors.js';

const TWO_POW_32 = 0x100000000;
/** Blocks of 32 per 2^32 sequence numbers. */
const BLOCKS_PER_HIGH = 0x8000000;

/** Largest window accepted (packets). Linux's bitmap limit is 4096 bytes = 32768 packets too. */
export const REPLAY_WINDOW_MAX = 32768;
export const REPLAY_WINDOW_DEFAULT = 64;

export class ReplayWindow {
  /** Window size W in packets (0: anti-replay off, every sequence number accepted). */
  readonly size: number;
  /** High and low halves of the highest sequence number authenticated so far ("top", T). */
  topHigh: number;
  topLow: number;
  private readonly ring: Uint32Array;
  private readonly wordMask: number;

  /**
   * `topHigh`/`topLow`: the highest sequence number already received (restored state, as
   * `ip xfrm state … replay-seq`). When it is not 0, every number at or below it is treated as
   * already seen: a restored SA never accepts a replay of what it may have received before.
   */
  constructor(size: number, topHigh = 0, topLow = 0) {
    this.size = size;
    this.topHigh = topHigh;
    this.topLow = topLow;
    let words = 2;
    while (words < Math.ceil(size / 32) + 1) words *= 2;
    this.ring = new Uint32Array(words);
    this.wordMask = words - 1;
    if (topHigh !== 0 || topLow !== 0) {
      this.ring.fill(0xffffffff);
      const bit = topLow & 31;
      // Numbers above the top in its own block have not been seen.
      this.ring[(topLow >>> 5) & this.wordMask] = bit === 31 ? 0xffffffff : ((1 << (bit + 1)) - 1) >>> 0;
    }
  }

  /** The top as a bigint (for display and to persist the SA). */
  get top(): bigint {
    return (BigInt(this.topHigh) << 32n) | BigInt(this.topLow);
  }

  /**
   * RFC 4303 Appendix A2.2: the high half of a received low half `low`, guessed from the window
   * position. Returns -1 when the guess falls outside 0..2^32-1 (the packet is then too old, or
   * beyond the end of the sequence space).
   */
  inferHigh(low: number): number {
    const w = this.size;
    const tl = this.topLow;
    const th = this.topHigh;
    if (tl >= w - 1) {
      // Case A: the window lies within one sequence number subspace.
      if (low >= tl - w + 1) return th;
      return th === 0xffffffff ? -1 : th + 1;
    }
    // Case B: the window spans two subspaces: its bottom (Tl - W + 1 mod 2^32) is in the previous one.
    if (low >= tl - w + 1 + TWO_POW_32) return th === 0 ? -1 : th - 1;
    return th;
  }

  /**
   * RFC 4303 3.4.3: may this sequence number be accepted? OK, REPLAY (seen, inside the window)
   * or TOO_OLD (left of the window, or 0). Changes nothing: call {@link update} once the ICV
   * verified.
   */
  check(high: number, low: number): number {
    if (high === 0 && low === 0) return EspStatus.TOO_OLD; // never sent (RFC 4303 3.3.3: the first packet is 1)
    if (this.size === 0) return EspStatus.OK;
    const th = this.topHigh;
    const tl = this.topLow;
    if (high > th || (high === th && low > tl)) return EspStatus.OK;
    let behind: number;
    if (high === th) behind = tl - low;
    else if (high === th - 1) behind = tl + TWO_POW_32 - low;
    else return EspStatus.TOO_OLD;
    if (behind >= this.size) return EspStatus.TOO_OLD;
    return (this.ring[(low >>> 5) & this.wordMask]! & (1 << (low & 31))) !== 0 ? EspStatus.REPLAY : EspStatus.OK;
  }

  /** Records an authenticated sequence number (after {@link check} returned OK), moving the window if it is the new top. */
  update(high: number, low: number): void {
    if (this.size === 0) {
      if (high > this.topHigh || (high === this.topHigh && low > this.topLow)) {
        this.topHigh = high;
        this.topLow = low;
      }
      return;
    }
    const th = this.topHigh;
    const tl = this.topLow;
    const ring = this.ring;
    const mask = this.wordMask;
    if (high > th || (high === th && low > tl)) {
      // RFC 6479 2: clear the blocks the window slides into.
      const topBlock = tl >>> 5;
      let ahead: number;
      if (high === th) ahead = (low >>> 5) - topBlock;
      else if (high === th + 1) ahead = (low >>> 5) + BLOCKS_PER_HIGH - topBlock;
      else ahead = mask + 1;
      if (ahead > mask + 1) ahead = mask + 1;
      for (let i = 1; i <= ahead; i++) ring[(topBlock + i) & mask] = 0;
      this.topHigh = high;
      this.topLow = low;
    }
    const word = (low >>> 5) & mask;
    ring[word] = (ring[word]! | (1 << (low & 31))) >>> 0;
  }

  /** check + update: the whole receive-side decision for a packet already authenticated. */
  accept(high: number, low: number): number {
    const status = this.check(high, low);
    if (status === EspStatus.OK) this.update(high, low);
    return status;
  }
}
