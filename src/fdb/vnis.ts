/**
 * Per-VNI settings and counts, in typed arrays indexed by a dense VNI index.
 *
 * A VNI's index is found with an integer hash map (no allocation). Entries store
 * the index of their VNI, so the ageing sweep reads the VNI's ageing time with
 * one array access instead of a map lookup.
 */
import { IntMap } from './hash.js';

export interface VniDefaults {
  ageing: number;
  learning: boolean;
  proxy: boolean;
  maxEntries: number;
  maxNeighbours: number;
}

export class VniTable {
  vni: Int32Array;
  /** Seconds; 0 = never. */
  ageing: Int32Array;
  learning: Uint8Array;
  proxy: Uint8Array;
  /** 0 = no per-VNI limit (the total limit still applies). */
  maxEntries: Int32Array;
  entries: Int32Array;
  maxNeighbours: Int32Array;
  neighbours: Int32Array;
  count = 0;
  private readonly map = new IntMap(64);
  /** One-entry cache: frames of a batch usually share a VNI. */
  private lastVni = -1;
  private lastIndex = -1;

  constructor(
    readonly defaults: VniDefaults,
    /** The most VNIs this table tracks. */
    readonly limit: number,
  ) {
    const n = 16;
    this.vni = new Int32Array(n);
    this.ageing = new Int32Array(n);
    this.learning = new Uint8Array(n);
    this.proxy = new Uint8Array(n);
    this.maxEntries = new Int32Array(n);
    this.entries = new Int32Array(n);
    this.maxNeighbours = new Int32Array(n);
    this.neighbours = new Int32Array(n);
  }

  /** The index of a VNI, or -1 when it has never been seen. Never allocates. */
  index(vni: number): number {
    if (vni === this.lastVni) return this.lastIndex;
    const found = this.map.get(vni);
    if (found >= 0) {
      this.lastVni = vni;
      this.lastIndex = found;
    }
    return found;
  }

  /** The index of a VNI, created with the defaults when new; -1 at the limit. */
  indexOrCreate(vni: number): number {
    const found = this.index(vni);
    if (found >= 0) return found;
    if (this.count >= this.limit) return -1;
    if (this.count === this.vni.length) this.grow();
    const index = this.count++;
    const d = this.defaults;
    this.vni[index] = vni;
    this.ageing[index] = d.ageing;
    this.learning[index] = d.learning ? 1 : 0;
    this.proxy[index] = d.proxy ? 1 : 0;
    this.maxEntries[index] = d.maxEntries;
    this.entries[index] = 0;
    this.maxNeighbours[index] = d.maxNeighbours;
    this.neighbours[index] = 0;
    this.map.set(vni, index);
    return index;
  }

  private grow(): void {
    const n = this.vni.length * 2;
    const grow32 = (old: Int32Array): Int32Array => {
      const fresh = new Int32Array(n);
      fresh.set(old);
      return fresh;
    };
    const grow8 = (old: Uint8Array): Uint8Array => {
      const fresh = new Uint8Array(n);
      fresh.set(old);
      return fresh;
    };
    this.vni = grow32(this.vni);
    this.ageing = grow32(this.ageing);
    this.learning = grow8(this.learning);
    this.proxy = grow8(this.proxy);
    this.maxEntries = grow32(this.maxEntries);
    this.entries = grow32(this.entries);
    this.maxNeighbours = grow32(this.maxNeighbours);
    this.neighbours = grow32(this.neighbours);
  }
}
