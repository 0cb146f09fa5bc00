/**
 * The `gcm-js` backend: AES-GCM (RFC 4106, NIST SP 800-38D) for AES-128 and AES-256 without a
 * node:crypto cipher object per packet. Opt-in (`backend: 'gcm-js'`); `node` stays the default.
 *
 * Why: node:crypto cannot re-key or re-IV a GCM cipher, so the `node` backend creates one per
 * packet, and that object (with the Buffers of update/final/getAuthTag) costs more than all of
 * the ESP protocol work together (docs/esp.md, Performance). GCM is CTR mode plus GHASH, and
 * neither part needs a per-packet object:
 *
 * - AES comes from node:crypto: one long-lived `aes-128-ecb` / `aes-256-ecb` cipher per SA
 *   (padding off, a KeyObject key), used only to encrypt counter blocks. ECB on counter blocks
 *   is the block cipher applied to each; no state carries from one call to the next. H =
 *   E(K, 0^128) once, at set-up (SP 800-38D 7.1 step 1); per packet E(K, J0), the tag mask, and
 *   E(K, inc32^i(J0)), the keystream (steps 2-3, 6), with J0 = salt || IV || 0x00000001
 *   (RFC 4106 4; SP 800-38D 7.1 step 2 for a 96-bit IV).
 * - The keystream is xored into the payload in place (no copy back, unlike `node`); GHASH
 *   (ghash.ts, JavaScript, a per-key table) runs over the AAD, the ciphertext and the lengths.
 *
 * Counter blocks of many packets in one `update()`: an `update()` call costs about as much as
 * the AES work of a hundred blocks, and returns a new Buffer, so one per packet would keep much
 * of the per-packet cost. ESP nonces are predictable: the IV is the 64-bit sequence number
 * (RFC 4106 3.1), so an SA's nonces follow one another, always outbound and inbound while
 * packets arrive in order. When a packet's nonce follows the previous packet's, the backend
 * encrypts the counter blocks of that nonce and the next ones in one `update()` (up to 128
 * packets and 1024 blocks, 16 KiB; each packet gets as many blocks as the largest packet since
 * the previous batch, up to 97 blocks, payloads up to 1536 bytes), and later packets whose nonce
 * is in that range take their keystream from it. It is a memo of a deterministic function,
 * E(K, nonce || counter): nothing is consumed, nothing is used for two nonces, so a nonce
 * outside the range (a gap, reordering, a forged packet, a larger packet) only costs an
 * `update()` of its own. The precomputed keystream stays in this object's memory, as the key
 * schedule does in OpenSSL's.
 *
 * SECURITY CAVEAT (why this is not the default): GHASH here is table-driven and NOT
 * constant-time with respect to cache timing. The per-key table (4 KiB, 256 multiples of H) is
 * indexed by bytes of (ciphertext xor running hash), so which cache lines are touched depends
 * on H and the data. An attacker who can observe this process's cache use (another process or
 * VM on the same physical core or socket, e.g. by prime+probe) can, over many packets, learn
 * bits of H; with H they can forge packets that pass the ICV (confidentiality does not depend
 * on H, it rests on AES, which runs inside OpenSSL with AES-NI where the CPU has it). The tag
 * comparison itself is constant-time (constantTimeEqual). OpenSSL's GCM (`node`) uses
 * carry-less multiplication (PCLMULQDQ) with no table. Use `gcm-js` on hosts that do not run
 * untrusted code next to this process, when the packet rate matters; otherwise keep `node`.
 *
 * Allocation: in the steady state nothing per packet; per batch the `update()` output (a Buffer
 * of up to 16 KiB outside the V8 heap, about 250 bytes of objects on it) and one DataView. A
 * packet outside the batch costs one `update()` and its output Buffer. Memory per SA: the GHASH
 * table (4 KiB), the counter blocks (up to 16 KiB, more only for packets over 1536 bytes) and
 * the current batch (up to 16 KiB).
 */
import { createCipheriv, createSecretKey } from 'node:crypto';
import type { Cipher } from 'node:crypto';
import type { EspAlgorithm } from './algorithms.js';
import { constantTimeEqual, writeNonceAndAad } from './backend.js';
import type { EspCipher, EspCryptoBackend, EspKeys } from './backend.js';
import { EspError, EspStatus } from './errors.js';
import { ghashFinish, ghashLengths, ghashTable, ghashUpdate } from './ghash.js';

/** Bytes of a GCM nonce (the 96-bit IV of SP 800-38D 7.1; RFC 4106 4: salt || explicit IV). */
export const GCM_NONCE_LENGTH = 12;
/** Bytes of the tag (RFC 4106 6: the 16-byte ICV). */
export const GCM_TAG_LENGTH = 16;

/** Most packets whose keystream is made by one `update()`. */
const BATCH_PACKETS = 128;
/** Most counter blocks encrypted by one batch `update()` (16 KiB). */
const BATCH_BLOCKS = 1024;
/** Packets needing more blocks than this (J0 + 96 blocks: payloads over 1536 bytes) always take the per-packet path. */
const BATCH_STRIDE_MAX = 97;

/** The big-endian 32-bit word at `at`, as a signed int. */
function wordAt(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

const EMPTY = new Uint8Array(0);

/**
 * AES-GCM with a 96-bit nonce and a 128-bit tag, in place, on one key: the part of the backend
 * that knows nothing of ESP (the NIST vectors test it directly).
 *
 * Bytes are read and written through DataViews (one big-endian word per call, about three
 * times faster in V8 than byte by byte); the views of the last data buffer and of the last
 * AAD buffer are kept, so a datapath that works in one slab makes no view per packet.
 */
export class AesGcmJs {
  /** Packets whose keystream came from a batch. */
  batchHits = 0;
  /** Batch `update()` calls. */
  batchFills = 0;
  /** Packets that needed an `update()` of their own. */
  singleFills = 0;

  private readonly ecb: Cipher;
  private readonly table: Int32Array;
  private readonly state = new Int32Array(4);
  private readonly computed = new Uint8Array(GCM_TAG_LENGTH);
  private readonly computedView = new DataView(this.computed.buffer);
  /** Counter blocks to encrypt, and a DataView over them for big-endian word writes. */
  private counters: Uint8Array = EMPTY;
  private counterWords: DataView = new DataView(this.counters.buffer);
  /** Views counters[0, 16 n) by n, made once per size, so `update()` gets no new view per call. */
  private views = new Map<number, Uint8Array>();

  /** The batch: keystream for nonces (batch0, batch1, batch2 + i), i < batchCount, batchStride blocks each. */
  private batch: DataView = new DataView(EMPTY.buffer);
  private batch0 = 0;
  private batch1 = 0;
  private batch2 = 0;
  private batchCount = 0;
  private batchStride = 0;
  /** The previous packet's nonce, and the most blocks a packet needed since the last batch. */
  private last0 = 0;
  private last1 = 0;
  private last2 = 0;
  private largest = 0;

  /** Where the current packet's keystream is: E(K, J0) at keystreamOffset, then E(K, inc32(J0)), … */
  private keystream: DataView = this.batch;
  private keystreamOffset = 0;

  /** The last data and AAD arrays seen, where they start in their ArrayBuffer, and DataViews over those ArrayBuffers. */
  private data: Uint8Array = EMPTY;
  private dataBase = 0;
  private dataView: DataView = this.batch;
  private aad: Uint8Array = EMPTY;
  private aadBase = 0;
  private aadView: DataView = this.batch;

  /** `key`: 16 bytes (AES-128) or 32 (AES-256). */
  constructor(key: Uint8Array) {
    if (key.length !== 16 && key.length !== 32) throw new RangeError(`AES-GCM key must be 16 or 32 bytes, got ${key.length}`);
    this.ecb = createCipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', createSecretKey(key), null);
    this.ecb.setAutoPadding(false);
    // SP 800-38D 7.1 step 1: H = CIPH_K(0^128).
    const h = this.ecb.update(new Uint8Array(16));
    this.table = ghashTable(h, 0);
    h.fill(0);
  }

  /**
   * Encrypts `data[start, end)` in place and writes the 16-byte tag at `tag[tagOffset]`. The nonce
   * is 12 bytes at `nonce[nonceOffset]`, the AAD `aad[aadStart, aadEnd)`. Never to be called twice
   * with one nonce under one key (SP 800-38D 8). Throws RangeError for ranges outside the arrays.
   */
  seal(nonce: Uint8Array, nonceOffset: number, aad: Uint8Array, aadStart: number, aadEnd: number, data: Uint8Array, start: number, end: number, tag: Uint8Array, tagOffset: number): void {
    this.prepare(nonce, nonceOffset, aad, aadStart, aadEnd, data, start, end, tag, tagOffset);
    const base = this.dataBase;
    this.xorKeystream(this.dataView, base + start, base + end);
    if (tag === data) {
      // ESP: the ICV follows the ciphertext in the same array.
      this.hash(this.aadBase + aadStart, this.aadBase + aadEnd, base + start, base + end, this.dataView, base + tagOffset);
    } else {
      this.hash(this.aadBase + aadStart, this.aadBase + aadEnd, base + start, base + end, this.computedView, 0);
      tag.set(this.computed, tagOffset);
    }
  }

  /**
   * Checks the tag at `tag[tagOffset]` (constant-time comparison) and, only if it verifies,
   * decrypts `data[start, end)` in place. Returns whether it verified; on false `data` is untouched.
   */
  open(nonce: Uint8Array, nonceOffset: number, aad: Uint8Array, aadStart: number, aadEnd: number, data: Uint8Array, start: number, end: number, tag: Uint8Array, tagOffset: number): boolean {
    this.prepare(nonce, nonceOffset, aad, aadStart, aadEnd, data, start, end, tag, tagOffset);
    const base = this.dataBase;
    this.hash(this.aadBase + aadStart, this.aadBase + aadEnd, base + start, base + end, this.computedView, 0);
    // SP 800-38D 7.2 step 8: the plaintext is released only if the tags match.
    if (!constantTimeEqual(this.computed, 0, tag, tagOffset, GCM_TAG_LENGTH)) return false;
    this.xorKeystream(this.dataView, base + start, base + end);
    return true;
  }

  /** Checks the ranges, sets dataView/aadView, and points keystream at this nonce's blocks. */
  private prepare(nonce: Uint8Array, nonceOffset: number, aad: Uint8Array, aadStart: number, aadEnd: number, data: Uint8Array, start: number, end: number, tag: Uint8Array, tagOffset: number): void {
    if (
      !(nonceOffset >= 0 && nonceOffset + GCM_NONCE_LENGTH <= nonce.length) ||
      !(aadStart >= 0 && aadEnd >= aadStart && aadEnd <= aad.length) ||
      !(start >= 0 && end >= start && end <= data.length) ||
      !(tagOffset >= 0 && tagOffset + GCM_TAG_LENGTH <= tag.length)
    ) {
      throw new RangeError('AES-GCM: nonce, AAD, data or tag range outside its array');
    }
    if (data !== this.data) {
      this.data = data;
      this.dataBase = data.byteOffset;
      if (data.buffer !== this.dataView.buffer) this.dataView = new DataView(data.buffer);
    }
    if (aad !== this.aad) {
      this.aad = aad;
      this.aadBase = aad.byteOffset;
      if (aad.buffer !== this.aadView.buffer) this.aadView = new DataView(aad.buffer);
    }
    this.findKeystream(wordAt(nonce, nonceOffset), wordAt(nonce, nonceOffset + 4), wordAt(nonce, nonceOffset + 8), 1 + Math.ceil((end - start) / 16));
  }

  /** SP 800-38D 7.1 steps 5-6, T into `out` at `outOffset`: S = GHASH_H(A || 0^v || C || 0^u || [len(A)]_64 || [len(C)]_64); T = E(K, J0) xor S. */
  private hash(aadStart: number, aadEnd: number, start: number, end: number, out: DataView, outOffset: number): void {
    const state = this.state;
    const table = this.table;
    state[0] = 0;
    state[1] = 0;
    state[2] = 0;
    state[3] = 0;
    ghashUpdate(table, state, this.aadView, aadStart, aadEnd);
    ghashUpdate(table, state, this.dataView, start, end);
    ghashLengths(table, state, aadEnd - aadStart, end - start);
    ghashFinish(state, this.keystream, this.keystreamOffset, out, outOffset);
  }

  /** SP 800-38D 6.5 (GCTR): the bytes [start, end) of `view` xor E(K, inc32(J0)), E(K, inc32^2(J0)), … */
  private xorKeystream(view: DataView, start: number, end: number): void {
    const keystream = this.keystream;
    let k = this.keystreamOffset + 16;
    let i = start;
    for (; i + 4 <= end; i += 4, k += 4) view.setInt32(i, view.getInt32(i) ^ keystream.getInt32(k));
    for (; i < end; i++, k++) view.setUint8(i, view.getUint8(i) ^ keystream.getUint8(k));
  }

  /** Points keystream/keystreamOffset at E(K, J0) for the nonce (n0, n1, n2), followed by blocks - 1 more blocks. */
  private findKeystream(n0: number, n1: number, n2: number, blocks: number): void {
    const index = (n2 - this.batch2) >>> 0;
    if (index < this.batchCount && n0 === this.batch0 && n1 === this.batch1 && blocks <= this.batchStride) {
      this.keystream = this.batch;
      this.keystreamOffset = index * this.batchStride * 16;
      this.batchHits++;
    } else if (n2 === ((this.last2 + 1) | 0) && n0 === this.last0 && n1 === this.last1 && blocks <= BATCH_STRIDE_MAX) {
      // The nonce follows the previous one: make this one's keystream and the next ones'.
      this.fillBatch(n0, n1, n2, Math.max(blocks, this.largest));
      this.largest = 0;
    } else {
      this.keystream = this.encrypt(n0, n1, n2, 1, blocks);
      this.keystreamOffset = 0;
      this.singleFills++;
    }
    this.last0 = n0;
    this.last1 = n1;
    this.last2 = n2;
    if (blocks > this.largest && blocks <= BATCH_STRIDE_MAX) this.largest = blocks;
  }

  private fillBatch(n0: number, n1: number, n2: number, stride: number): void {
    // Within one batch only the last nonce word counts up, modulo 2^32 (as the index in findKeystream).
    const count = Math.min(BATCH_PACKETS, Math.floor(BATCH_BLOCKS / stride));
    this.batch = this.encrypt(n0, n1, n2, count, stride);
    this.batch0 = n0;
    this.batch1 = n1;
    this.batch2 = n2;
    this.batchCount = count;
    this.batchStride = stride;
    this.batchFills++;
    this.keystream = this.batch;
    this.keystreamOffset = 0;
  }

  /**
   * E(K, ·) of the counter blocks of `count` nonces (n0, n1, n2 + i), `stride` blocks each:
   * nonce || 1 (J0), nonce || 2, … (SP 800-38D 6.2 inc32), in one `update()`.
   */
  private encrypt(n0: number, n1: number, n2: number, count: number, stride: number): DataView {
    const blocks = count * stride;
    if (this.counters.length < blocks * 16) {
      // Grown to a power of two (at least 64 blocks): a handful of sizes over an SA's life.
      let size = 64;
      while (size < blocks) size *= 2;
      this.counters = new Uint8Array(size * 16);
      this.counterWords = new DataView(this.counters.buffer);
      this.views.clear();
    }
    const words = this.counterWords;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const low = (n2 + i) | 0;
      for (let j = 1; j <= stride; j++) {
        words.setInt32(at, n0);
        words.setInt32(at + 4, n1);
        words.setInt32(at + 8, low);
        words.setInt32(at + 12, j);
        at += 16;
      }
    }
    let view = this.views.get(blocks);
    if (view === undefined) {
      view = this.counters.subarray(0, blocks * 16);
      if (this.views.size >= 128) this.views.clear();
      this.views.set(blocks, view);
    }
    const out = this.ecb.update(view);
    return new DataView(out.buffer, out.byteOffset, out.byteLength);
  }
}

/** One SA's AES-GCM (RFC 4106) over {@link AesGcmJs}. */
class GcmJsCipher implements EspCipher {
  private readonly gcm: AesGcmJs;
  private readonly nonce = new Uint8Array(GCM_NONCE_LENGTH);
  private readonly aad: Uint8Array;
  private readonly esn: boolean;

  constructor(readonly algorithm: EspAlgorithm, keys: EspKeys) {
    this.gcm = new AesGcmJs(keys.key.subarray(0, algorithm.keyLength));
    // RFC 4106 4: nonce = salt (the 4 bytes after the key, RFC 4106 8.1) || IV (8 bytes, per packet).
    this.nonce.set(keys.key.subarray(algorithm.keyLength, algorithm.keyLength + 4), 0);
    this.esn = keys.esn;
    this.aad = new Uint8Array(keys.esn ? 12 : 8);
  }

  private prepare(buf: Uint8Array, espOffset: number, seqHigh: number): void {
    writeNonceAndAad(this.nonce, this.aad, buf, espOffset, this.esn, seqHigh);
  }

  seal(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    this.prepare(buf, espOffset, seqHigh);
    this.gcm.seal(this.nonce, 0, this.aad, 0, this.aad.length, buf, payloadOffset, icvOffset, buf, icvOffset);
    return EspStatus.OK;
  }

  open(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    this.prepare(buf, espOffset, seqHigh);
    return this.gcm.open(this.nonce, 0, this.aad, 0, this.aad.length, buf, payloadOffset, icvOffset, buf, icvOffset) ? EspStatus.OK : EspStatus.BAD_ICV;
  }
}

/**
 * AES-GCM-128 and AES-GCM-256 with AES from node:crypto (one ECB cipher per SA) and GHASH in
 * JavaScript: no cipher object per packet. Opt-in: GHASH is not constant-time with respect to
 * cache timing (see above and docs/esp.md).
 */
export const gcmJsBackend: EspCryptoBackend = {
  name: 'gcm-js',
  supports: (algorithm: EspAlgorithm) => algorithm.name === 'aes-gcm-128' || algorithm.name === 'aes-gcm-256',
  createCipher(algorithm: EspAlgorithm, keys: EspKeys): EspCipher {
    if (algorithm.name !== 'aes-gcm-128' && algorithm.name !== 'aes-gcm-256') {
      throw new EspError(
        'UNSUPPORTED_ALGORITHM',
        'backend',
        `backend 'gcm-js' implements aes-gcm-128 and aes-gcm-256 only; use backend 'node' for ${algorithm.name}`,
      );
    }
    return new GcmJsCipher(algorithm, keys);
  },
};
