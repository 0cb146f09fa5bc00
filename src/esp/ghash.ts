/**
 * GHASH (NIST SP 800-38D 6.4) in JavaScript, for the `gcm-js` backend (gcm-backend.ts).
 *
 * Blocks are held as four signed 32-bit words, big-endian: word 0 is bytes 0..3 of the block.
 * In GCM's bit order (SP 800-38D 6.3) bit 0 of a block is the most significant bit of byte 0
 * and is the coefficient of x^0, so multiplying by x is a right shift of the 128-bit value,
 * with R = 11100001 || 0^120 folded in when bit 127 falls off.
 *
 * Multiplication by the hash subkey H uses Shoup's method with 8-bit tables: per key, a table
 * of the 256 products b·H (b a byte, 4 KiB as an Int32Array); X·H is then, for the bytes of X
 * from the last to the first, "Z = Z·x^8 xor table[byte]", where Z·x^8 is an 8-bit shift plus
 * one lookup in a fixed table of reductions. Every block is the same fixed sequence of 16
 * lookups and shifts, with no allocation.
 *
 * NOT CONSTANT-TIME WITH RESPECT TO CACHE TIMING: the per-key table is indexed by bytes of
 * (ciphertext xor running hash). An attacker who shares the CPU cache (another process or VM on
 * the same core or socket, measuring which cache lines are touched) can learn bits of those
 * indices and from them, over many packets, information about H, which would let them forge
 * tags. The timing of the arithmetic itself does not depend on the data. OpenSSL's GCM (the
 * default `node` backend) uses carry-less multiplication instructions (PCLMULQDQ) and has no
 * such table. That is why this backend is opt-in; see docs/esp.md.
 */

/** Bytes in a GHASH block. */
export const GHASH_BLOCK_LENGTH = 16;
/** Int32 words in a per-key table made by {@link ghashTable}: 256 entries of 4 words. */
export const GHASH_TABLE_WORDS = 1024;

/** SP 800-38D 6.3: R = 11100001 || 0^120, as the first word. */
const R_WORD = 0xe1000000 | 0;

/** One right shift (multiplication by x, SP 800-38D 6.3 Algorithm 1, V·x) of the 4 words in `v`. */
function shiftRight1(v: Int32Array): void {
  const carry = v[3]! & 1;
  v[3] = (v[3]! >>> 1) | (v[2]! << 31);
  v[2] = (v[2]! >>> 1) | (v[1]! << 31);
  v[1] = (v[1]! >>> 1) | (v[0]! << 31);
  v[0] = (v[0]! >>> 1) ^ (carry ? R_WORD : 0);
}

/**
 * REDUCE8[r]: the first word of r·x^8 for r in the last byte of a block, that is, what the
 * 8 bits shifted out by Z·x^8 fold back in (R and its shifts stay in the first word).
 */
const REDUCE8 = ((): Int32Array => {
  const reduce = new Int32Array(256);
  const v = new Int32Array(4);
  for (let r = 0; r < 256; r++) {
    v.fill(0);
    v[3] = r;
    for (let k = 0; k < 8; k++) shiftRight1(v);
    reduce[r] = v[0]!;
  }
  return reduce;
})();

/**
 * The per-key table for H (16 bytes at `h[offset]`): entry b (words 4b .. 4b + 3) is b·H, where
 * bit 0x80 of b is the coefficient of x^0 and bit 0x01 that of x^7. Into `table` if given.
 */
export function ghashTable(h: Uint8Array, offset: number, table: Int32Array = new Int32Array(GHASH_TABLE_WORDS)): Int32Array {
  const v = new Int32Array(4);
  for (let w = 0; w < 4; w++) v[w] = (h[offset + 4 * w]! << 24) | (h[offset + 4 * w + 1]! << 16) | (h[offset + 4 * w + 2]! << 8) | h[offset + 4 * w + 3]!;
  table.fill(0, 0, 4);
  // The single bits: 0x80 → H, 0x40 → H·x, …, 0x01 → H·x^7.
  for (let bit = 0x80; bit >= 1; bit >>= 1) {
    table.set(v, 4 * bit);
    shiftRight1(v);
  }
  // Every other byte value is the xor of its bits' entries.
  for (let high = 2; high < 256; high <<= 1) {
    for (let low = 1; low < high; low++) {
      for (let w = 0; w < 4; w++) table[4 * (high + low) + w] = table[4 * high + w]! ^ table[4 * low + w]!;
    }
  }
  return table;
}

/** A last, partial block with its zero padding (scratch: JavaScript runs one call at a time). */
const lastBlock = new DataView(new ArrayBuffer(16));

/**
 * Feeds the bytes [start, end) of `data` (a DataView, offsets from its start) into the running
 * GHASH `state` (4 words) under the key `table`, as whole blocks, the last one padded with zeros
 * (SP 800-38D 7.1 step 5: A || 0^v, C || 0^u). Call it once for the AAD and once for the
 * ciphertext (each is padded separately), then {@link ghashLengths}. Reads only inside
 * [start, end); allocates nothing. A DataView reads a big-endian word in one call, which is
 * faster in V8 than four byte loads; callers keep one per buffer.
 */
export function ghashUpdate(table: Int32Array, state: Int32Array, data: DataView, start: number, end: number): void {
  const whole = start + ((end - start) & ~15);
  if (whole > start) multiplyBlocks(table, state, data, start, whole);
  if (whole < end) {
    const last = lastBlock;
    last.setInt32(0, 0);
    last.setInt32(4, 0);
    last.setInt32(8, 0);
    last.setInt32(12, 0);
    let i = whole;
    for (; i + 4 <= end; i += 4) last.setInt32(i - whole, data.getInt32(i));
    for (; i < end; i++) last.setUint8(i - whole, data.getUint8(i));
    multiplyBlocks(table, state, last, 0, 16);
  }
}

/** The whole blocks of data[start, end) (a multiple of 16 bytes) into `state`. */
function multiplyBlocks(table: Int32Array, state: Int32Array, data: DataView, start: number, end: number): void {
  const t = table;
  const reduce = REDUCE8;
  let z0 = state[0]!;
  let z1 = state[1]!;
  let z2 = state[2]!;
  let z3 = state[3]!;
  for (let at = start; at < end; at += 16) {
    // SP 800-38D 6.4 step 4: Y_i = (Y_{i-1} xor X_i)·H, in sixteen steps from the last byte of the block to the first.
    const y0 = z0 ^ data.getInt32(at);
    const y1 = z1 ^ data.getInt32(at + 4);
    const y2 = z2 ^ data.getInt32(at + 8);
    const y3 = z3 ^ data.getInt32(at + 12);
    // Byte 15.
    let n = (y3 & 0xff) << 2;
    z0 = t[n]!;
    z1 = t[n + 1]!;
    z2 = t[n + 2]!;
    z3 = t[n + 3]!;
    let r: number;
    // Bytes 14 .. 0: Z = Z·x^8 xor table[byte].
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = ((y3 >>> 8) & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = ((y3 >>> 16) & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = (y3 >>> 24) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;

    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = (y2 & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = ((y2 >>> 8) & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = ((y2 >>> 16) & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = (y2 >>> 24) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;

    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = (y1 & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = ((y1 >>> 8) & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = ((y1 >>> 16) & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = (y1 >>> 24) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;

    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = (y0 & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = ((y0 >>> 8) & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = ((y0 >>> 16) & 0xff) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
    r = z3 & 0xff; z3 = (z3 >>> 8) | (z2 << 24); z2 = (z2 >>> 8) | (z1 << 24); z1 = (z1 >>> 8) | (z0 << 24); z0 = (z0 >>> 8) ^ reduce[r]!;
    n = (y0 >>> 24) << 2; z0 ^= t[n]!; z1 ^= t[n + 1]!; z2 ^= t[n + 2]!; z3 ^= t[n + 3]!;
  }
  state[0] = z0;
  state[1] = z1;
  state[2] = z2;
  state[3] = z3;
}

/** The length block, written by {@link ghashLengths} (scratch, as lastBlock). */
const lengthBlock = new DataView(new ArrayBuffer(16));

/** SP 800-38D 7.1 step 5: the last block, [len(A)]_64 || [len(C)]_64, lengths in bits (given here in bytes, < 2^53 / 8). */
export function ghashLengths(table: Int32Array, state: Int32Array, aadLength: number, dataLength: number): void {
  const block = lengthBlock;
  block.setUint32(0, Math.floor(aadLength / 0x20000000));
  block.setUint32(4, (aadLength * 8) >>> 0);
  block.setUint32(8, Math.floor(dataLength / 0x20000000));
  block.setUint32(12, (dataLength * 8) >>> 0);
  multiplyBlocks(table, state, block, 0, 16);
}

/** Writes the 16 bytes of `state` at `out[offset]`, xored with the 16 bytes at `mask[maskOffset]` (E(K, J0) for the tag, SP 800-38D 7.1 step 6). */
export function ghashFinish(state: Int32Array, mask: DataView, maskOffset: number, out: DataView, offset: number): void {
  out.setInt32(offset, state[0]! ^ mask.getInt32(maskOffset));
  out.setInt32(offset + 4, state[1]! ^ mask.getInt32(maskOffset + 4));
  out.setInt32(offset + 8, state[2]! ^ mask.getInt32(maskOffset + 8));
  out.setInt32(offset + 12, state[3]! ^ mask.getInt32(maskOffset + 12));
}

/** A DataView over exactly the bytes of `bytes`. */
function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * GHASH_H(A, C) of SP 800-38D 7.1 (step 5 and 6 without the final xor): the 16 bytes of the
 * hash of `aad` and `ciphertext` with their lengths, under the subkey `h`. A convenience for
 * tests; the datapath keeps the table and calls {@link ghashUpdate} itself.
 */
export function ghash(h: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const table = ghashTable(h, 0);
  const state = new Int32Array(4);
  ghashUpdate(table, state, viewOf(aad), 0, aad.length);
  ghashUpdate(table, state, viewOf(ciphertext), 0, ciphertext.length);
  ghashLengths(table, state, aad.length, ciphertext.length);
  const out = new Uint8Array(16);
  ghashFinish(state, new DataView(new ArrayBuffer(16)), 0, viewOf(out), 0);
  return out;
}
