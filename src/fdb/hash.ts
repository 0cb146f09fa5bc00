/**
 * Integer hashing for the FDB's open-addressing tables. Everything here works on
 * 32-bit integers with Math.imul, so V8 keeps the values unboxed: no allocation.
 *
 * Every table mixes a per-table random seed into its hash, so a sender who picks
 * MAC addresses cannot predict which slots they land in (hash flooding).
 */
import { randomBytes } from 'node:crypto';

/** A fresh random 32-bit seed. */
export function randomSeed(): number {
  return randomBytes(4).readInt32LE(0);
}

/** The 32-bit finalizer of MurmurHash3 (fmix32): every input bit affects every output bit. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Hash of an FDB key: the MAC as low 32 bits and high 16 bits, and the VNI. */
export function hashMacKey(low: number, high: number, vni: number, seed: number): number {
  return mix32(Math.imul(low ^ seed, 0x9e3779b1) ^ Math.imul(high ^ Math.imul(vni, 0x27d4eb2f), 0x165667b1));
}

/** Hash of up to five words (neighbour and destination keys). */
export function hashWords(a: number, b: number, c: number, d: number, e: number, seed: number): number {
  let h = mix32(a ^ seed);
  h = mix32(h ^ Math.imul(b, 0x9e3779b1));
  h = mix32(h ^ Math.imul(c, 0x85ebca77));
  h = mix32(h ^ Math.imul(d, 0xc2b2ae3d));
  return mix32(h ^ Math.imul(e, 0x27d4eb2f));
}

/** Smallest power of two ≥ n (n ≥ 1, result ≤ 2^30). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * An int → int map in two Int32Arrays (open addressing, linear probing), for small
 * sets of keys that are only ever added (the VNIs a table has seen). `get` never
 * allocates; `set` allocates only when the map grows.
 */
export class IntMap {
  private keys: Int32Array;
  private values: Int32Array;
  private used: Uint8Array;
  private mask: number;
  private readonly seed: number;
  size = 0;

  constructor(capacity = 64, seed = randomSeed()) {
    const slots = nextPowerOfTwo(Math.max(8, capacity * 2));
    this.keys = new Int32Array(slots);
    this.values = new Int32Array(slots);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
    this.seed = seed;
  }

  /** The value for `key`, or -1. */
  get(key: number): number {
    const mask = this.mask;
    const keys = this.keys;
    const used = this.used;
    let i = mix32(key ^ this.seed) & mask;
    while (used[i] === 1) {
      if (keys[i] === key) return this.values[i]!;
      i = (i + 1) & mask;
    }
    return -1;
  }

  /** Adds or overwrites `key`; `value` must be ≥ 0. */
  set(key: number, value: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const mask = this.mask;
    let i = mix32(key ^ this.seed) & mask;
    while (this.used[i] === 1) {
      if (this.keys[i] === key) {
        this.values[i] = value;
        return;
      }
      i = (i + 1) & mask;
    }
    this.used[i] = 1;
    this.keys[i] = key;
    this.values[i] = value;
    this.size++;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const oldUsed = this.used;
    const slots = oldKeys.length * 2;
    this.keys = new Int32Array(slots);
    this.values = new Int32Array(slots);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldUsed[i] === 1) this.set(oldKeys[i]!, oldValues[i]!);
  }
}
