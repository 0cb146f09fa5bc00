/**
 * The neighbour table for ARP/ND suppression (Linux's vxlan `proxy`): per VNI,
 * IPv4 and IPv6 addresses → MAC. A controller fills it (add/replace/load), or it
 * learns from ARP packets and neighbour advertisements received from remotes
 * (Fdb.snoopNeighbour). Dynamic entries age like the FDB (the VNI's ageing time);
 * permanent and static entries never age and learning never overwrites them.
 *
 * Two open-addressing tables in Int32Arrays, as the FDB (linear probing,
 * backward-shift deletion), one per address family:
 *
 *   IPv4, 8 words:  vni, address, macLow, macHigh, flags, updated, used, vniIndex
 *   IPv6, 12 words: vni, address×4, macLow, macHigh, flags, updated, used, vniIndex, (unused)
 */
import { performance } from 'node:perf_hooks';
import { formatMac } from '../wire/ethernet.js';
import { formatIpv4 } from '../wire/ipv4.js';
import { DESTINATION_IPV4, formatIpv6Words } from './destinations.js';
import { FdbError, checkBoolean, checkInteger, describe } from './errors.js';
import { EVENT_NEIGHBOUR_AGED, EVENT_NEIGHBOUR_LEARNT, EVENT_NEIGHBOUR_MISS, EVENT_NEIGHBOUR_MOVED } from './events.js';
import { hashWords, randomSeed } from './hash.js';
import { LEARN_DISABLED, LEARN_LEARNT, LEARN_LIMIT, LEARN_MOVED, LEARN_REFRESHED } from './learn.js';
import { checkKeys, checkObject, parseAddress, parseMacInput, parseState, parseVni, type EntryState, type ParsedAddress } from './parse.js';
import type { Fdb } from './fdb.js';

/** Neighbour learning: a static/permanent entry says another MAC; nothing changed (the frame is still delivered). */
export const NEIGHBOUR_REFUSED = 5;
/** Neighbour learning: the frame carries no usable binding (not ARP/ND, invalid, multicast or zero address or MAC). */
export const NEIGHBOUR_IGNORED = 6;

const N_IN_USE = 1;
const N_PERMANENT = 2;
const N_STATIC = 4;
const N_ROUTER = 16;
const N_ADDED_BY_USER = 32;
const N_NEVER_AGES = N_PERMANENT | N_STATIC;

const TWO_32 = 0x1_0000_0000;
const MIN_SLOTS = 64;


export interface NeighbourOptions {
  /** The MAC the address resolves to (`ip neigh add … lladdr`). */
  lladdr: string | number;
  /** 'permanent' (default), 'static', or 'dynamic' (ages). */
  state?: EntryState;
  /** Answer neighbour solicitations with the Router flag set. */
  router?: boolean;
}

export interface NeighbourRow {
  /** The IPv4 or IPv6 address. */
  dst: string;
  lladdr: string;
  src_vni: number;
  used?: number;
  updated?: number;
  /** [] or ['router']. */
  flags: string[];
  state: 'permanent' | 'static' | '';
}

export interface ParsedNeighbourRow {
  vni: number;
  address: ParsedAddress;
  mac: number;
  flags: number;
}

const ROW_KEYS = ['dst', 'lladdr', 'src_vni', 'used', 'updated', 'flags', 'state'] as const;

/** One family's open-addressing table. */
class AddressTable {
  slots: Int32Array;
  mask: number;
  growAt: number;
  count = 0;
  cursor = 0;
  readonly macLow: number;
  readonly macHigh: number;
  readonly flags: number;
  readonly updated: number;
  readonly used: number;
  readonly vniIndex: number;
  private readonly seed = randomSeed();

  constructor(
    readonly family: 4 | 6,
    /** Words per slot. */
    readonly stride: number,
  ) {
    const key = family === 4 ? 2 : 5;
    this.macLow = key;
    this.macHigh = key + 1;
    this.flags = key + 2;
    this.updated = key + 3;
    this.used = key + 4;
    this.vniIndex = key + 5;
    this.slots = new Int32Array(MIN_SLOTS * stride);
    this.mask = MIN_SLOTS - 1;
    this.growAt = (MIN_SLOTS * 3) >>> 2;
  }

  hash(vni: number, a0: number, a1: number, a2: number, a3: number): number {
    return hashWords(vni, a0, a1, a2, a3, this.seed);
  }

  find(vni: number, a0: number, a1: number, a2: number, a3: number): number {
    const slots = this.slots;
    const stride = this.stride;
    const mask = this.mask;
    const flags = this.flags;
    const v6 = this.family === 6;
    let i = this.hash(vni, a0, a1, a2, a3) & mask;
    for (;;) {
      const b = i * stride;
      if (slots[b + flags] === 0) return -1;
      if (slots[b] === vni && slots[b + 1] === a0 && (!v6 || (slots[b + 2] === a1 && slots[b + 3] === a2 && slots[b + 4] === a3))) return i;
      i = (i + 1) & mask;
    }
  }

  insert(vni: number, a0: number, a1: number, a2: number, a3: number, v: number, mac: number, flags: number, now: number): void {
    if (this.count + 1 > this.growAt) this.grow();
    const slots = this.slots;
    const stride = this.stride;
    const mask = this.mask;
    let i = this.hash(vni, a0, a1, a2, a3) & mask;
    while (slots[i * stride + this.flags] !== 0) i = (i + 1) & mask;
    const b = i * stride;
    slots[b] = vni;
    slots[b + 1] = a0;
    if (this.family === 6) {
      slots[b + 2] = a1;
      slots[b + 3] = a2;
      slots[b + 4] = a3;
    }
    slots[b + this.macLow] = mac | 0;
    slots[b + this.macHigh] = (mac / TWO_32) | 0;
    slots[b + this.flags] = flags | N_IN_USE;
    slots[b + this.updated] = now;
    slots[b + this.used] = now;
    slots[b + this.vniIndex] = v;
    this.count++;
  }

  keyHash(b: number): number {
    const s = this.slots;
    return this.family === 4 ? this.hash(s[b]!, s[b + 1]!, 0, 0, 0) : this.hash(s[b]!, s[b + 1]!, s[b + 2]!, s[b + 3]!, s[b + 4]!);
  }

  /** Backward-shift deletion. Returns the slots it looked at. */
  remove(i: number): number {
    const slots = this.slots;
    const stride = this.stride;
    const mask = this.mask;
    this.count--;
    let hole = i;
    let j = (i + 1) & mask;
    let looked = 1;
    for (;; looked++) {
      const bj = j * stride;
      if (slots[bj + this.flags] === 0) break;
      const home = this.keyHash(bj) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        const bh = hole * stride;
        for (let w = 0; w < stride; w++) slots[bh + w] = slots[bj + w]!;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    const bh = hole * stride;
    for (let w = 0; w < stride; w++) slots[bh + w] = 0;
    return looked;
  }

  mac(b: number): number {
    return this.slots[b + this.macHigh]! * TWO_32 + (this.slots[b + this.macLow]! >>> 0);
  }

  private grow(): void {
    const old = this.slots;
    const stride = this.stride;
    const oldSlots = this.mask + 1;
    const size = oldSlots * 2;
    this.slots = new Int32Array(size * stride);
    this.mask = size - 1;
    this.growAt = (size * 3) >>> 2;
    this.cursor = 0;
    for (let s = 0; s < oldSlots; s++) {
      const b = s * stride;
      if (old[b + this.flags] === 0) continue;
      let i = (this.family === 4 ? this.hash(old[b]!, old[b + 1]!, 0, 0, 0) : this.hash(old[b]!, old[b + 1]!, old[b + 2]!, old[b + 3]!, old[b + 4]!)) & this.mask;
      while (this.slots[i * stride + this.flags] !== 0) i = (i + 1) & this.mask;
      for (let w = 0; w < stride; w++) this.slots[i * stride + w] = old[b + w]!;
    }
  }
}

export class NeighbourTable {
  /** Flags of the entry found by the last successful lookupIpv4/lookupIpv6 (router bit: 16). */
  lastFlags = 0;
  private readonly v4 = new AddressTable(4, 8);
  private readonly v6 = new AddressTable(6, 12);

  constructor(
    private readonly fdb: Fdb,
    /** Most neighbour entries in total. */
    readonly maxNeighbours: number,
  ) {}

  /** Entries in both families. */
  get size(): number {
    return this.v4.count + this.v6.count;
  }

  // -------------------------------------------------------------------------
  // Datapath
  // -------------------------------------------------------------------------

  /** The MAC an IPv4 address (uint32) resolves to in this VNI, or -1. Marks the entry used. */
  lookupIpv4(vni: number, address: number): number {
    const t = this.v4;
    const slot = t.find(vni, address | 0, 0, 0, 0);
    if (slot < 0) return -1;
    return this.hit(t, slot);
  }

  /** The MAC the IPv6 address at buf[offset .. offset+16) resolves to, or -1. */
  lookupIpv6(vni: number, buf: Uint8Array, offset: number): number {
    if (!(offset >= 0 && offset + 16 <= buf.length)) return -1;
    const t = this.v6;
    const slot = t.find(vni, word(buf, offset), word(buf, offset + 4), word(buf, offset + 8), word(buf, offset + 12));
    if (slot < 0) return -1;
    return this.hit(t, slot);
  }

  /** Records IPv4 `address` → `mac` seen on receive. Returns a LEARN_* code, NEIGHBOUR_REFUSED or NEIGHBOUR_IGNORED. */
  learnIpv4(vni: number, address: number, mac: number): number {
    const a = address | 0;
    // Not a neighbour: 0.0.0.0/8, loopback 127/8, multicast and reserved 224/3.
    const first = a >>> 24;
    if (first === 0 || first === 127 || first >= 224) return NEIGHBOUR_IGNORED;
    return this.learnKey(this.v4, vni, a, 0, 0, 0, mac);
  }

  /** Records the IPv6 address at buf[offset .. offset+16) → `mac`. */
  learnIpv6(vni: number, buf: Uint8Array, offset: number, mac: number): number {
    if (!(offset >= 0 && offset + 16 <= buf.length)) return NEIGHBOUR_IGNORED;
    const a0 = word(buf, offset);
    const a1 = word(buf, offset + 4);
    const a2 = word(buf, offset + 8);
    const a3 = word(buf, offset + 12);
    // Not a neighbour: multicast ff00::/8, unspecified ::, loopback ::1.
    if (a0 >>> 24 === 0xff || (a0 | a1 | a2) === 0 && (a3 === 0 || a3 === 1)) return NEIGHBOUR_IGNORED;
    return this.learnKey(this.v6, vni, a0, a1, a2, a3, mac);
  }

  /** Counts a suppression miss for an IPv4 target and reports `neighbourMiss` (Linux L3miss). */
  missIpv4(vni: number, address: number): void {
    this.fdb.stats.proxyMisses++;
    const at = this.fdb.reserveEvent(EVENT_NEIGHBOUR_MISS);
    if (at >= 0) this.writeEvent(at, vni, 4, address | 0, 0, 0, 0, -1, -1);
  }

  /** The same for an IPv6 target at buf[offset .. offset+16). */
  missIpv6(vni: number, buf: Uint8Array, offset: number): void {
    this.fdb.stats.proxyMisses++;
    const at = this.fdb.reserveEvent(EVENT_NEIGHBOUR_MISS);
    if (at >= 0) this.writeEvent(at, vni, 6, word(buf, offset), word(buf, offset + 4), word(buf, offset + 8), word(buf, offset + 12), -1, -1);
  }

  /** One sweep slice over both families (see Fdb.sweep). Returns the entries removed. */
  sweep(maxSlots = 16384, budgetMs = 0.25): number {
    const deadline = performance.now() + budgetMs;
    return this.sweepTable(this.v4, maxSlots, deadline) + this.sweepTable(this.v6, maxSlots, deadline);
  }

  // -------------------------------------------------------------------------
  // Friendly API (ip neigh add / replace / del / show)
  // -------------------------------------------------------------------------

  /** Adds IP → MAC in a VNI. FdbError EXISTS when the address has an entry, LIMIT at a limit. */
  add(vni: number, ip: string, options: NeighbourOptions): void {
    const request = this.parseRequest(vni, ip, options);
    if (this.findAddress(request.vni, request.address) >= 0) throw new FdbError('EXISTS', 'ip', `${ip} already has an entry in VNI ${request.vni}`);
    this.create(request);
  }

  /** Creates or overwrites IP → MAC. */
  replace(vni: number, ip: string, options: NeighbourOptions): void {
    const request = this.parseRequest(vni, ip, options);
    const slot = this.findAddress(request.vni, request.address);
    if (slot < 0) {
      this.create(request);
      return;
    }
    this.overwrite(request.address.kind === DESTINATION_IPV4 ? this.v4 : this.v6, slot, request.mac, request.flags);
  }

  /** Removes an address. FdbError NOT_FOUND when absent. */
  del(vni: number, ip: string): void {
    const entryVni = parseVni(vni);
    const address = this.parseIp(ip, 'ip');
    const slot = this.findAddress(entryVni, address);
    if (slot < 0) throw new FdbError('NOT_FOUND', 'ip', `no neighbour ${ip} in VNI ${entryVni}`);
    this.removeAt(address.kind === DESTINATION_IPV4 ? this.v4 : this.v6, slot);
  }

  get(vni: number, ip: string, options: { stats?: boolean } = {}): NeighbourRow | undefined {
    const entryVni = parseVni(vni);
    const address = this.parseIp(ip, 'ip');
    const t = address.kind === DESTINATION_IPV4 ? this.v4 : this.v6;
    const slot = this.findAddress(entryVni, address);
    return slot < 0 ? undefined : this.row(t, slot, options.stats === true);
  }

  /** All entries (or one VNI's), sorted by VNI, family (IPv4 first), address. */
  show(options: { vni?: number; stats?: boolean } = {}): NeighbourRow[] {
    checkObject(options, 'options');
    checkKeys(options, ['vni', 'stats'], 'options');
    const vni = options.vni === undefined ? undefined : parseVni(options.vni, 'options.vni');
    const stats = checkBoolean(options.stats, false, 'options.stats');
    const picked: [AddressTable, number, number[]][] = [];
    for (const t of [this.v4, this.v6]) {
      for (let i = 0; i <= t.mask; i++) {
        const b = i * t.stride;
        if (t.slots[b + t.flags] === 0) continue;
        if (vni !== undefined && t.slots[b] !== vni) continue;
        const key = [t.slots[b]!, t.family];
        for (let w = 1; w <= (t.family === 4 ? 1 : 4); w++) key.push(t.slots[b + w]! >>> 0);
        picked.push([t, i, key]);
      }
    }
    picked.sort((x, y) => {
      for (let k = 0; k < Math.min(x[2].length, y[2].length); k++) if (x[2][k] !== y[2][k]) return x[2][k]! - y[2][k]!;
      return 0;
    });
    return picked.map(([t, slot]) => this.row(t, slot, stats));
  }

  /** `ip neigh show`-like text. */
  showText(options: { vni?: number; stats?: boolean } = {}): string {
    return this.show(options)
      .map((r) => {
        const parts = [r.dst, 'lladdr', r.lladdr, 'src_vni', String(r.src_vni)];
        if (r.used !== undefined && r.updated !== undefined) parts.push('used', `${r.used}/${r.updated}`);
        parts.push(...r.flags);
        if (r.state !== '') parts.push(r.state);
        return parts.join(' ');
      })
      .join('\n');
  }

  /** Removes every entry, or one VNI's. Returns how many. */
  clear(vni?: number): number {
    const only = vni === undefined ? undefined : parseVni(vni);
    let removed = 0;
    for (const t of [this.v4, this.v6]) {
      for (let i = 0; i <= t.mask; ) {
        const b = i * t.stride;
        if (t.slots[b + t.flags] !== 0 && (only === undefined || t.slots[b] === only)) {
          this.removeAt(t, i);
          removed++;
          continue;
        }
        i++;
      }
    }
    return removed;
  }

  // -------------------------------------------------------------------------
  // Bulk load (called by Fdb.load)
  // -------------------------------------------------------------------------

  parseRows(rows: unknown[]): ParsedNeighbourRow[] {
    const seen = new Map<string, string>();
    return rows.map((raw, index) => {
      const field = `neighbours[${index}]`;
      const row = checkObject(raw, field);
      checkKeys(row, ROW_KEYS, field);
      if (row.src_vni === undefined) throw new FdbError('BAD_VALUE', `${field}.src_vni`, 'is required');
      const vni = parseVni(row.src_vni, `${field}.src_vni`);
      if (row.dst === undefined) throw new FdbError('BAD_VALUE', `${field}.dst`, 'is required');
      const address = this.parseIp(row.dst, `${field}.dst`);
      if (row.lladdr === undefined) throw new FdbError('BAD_VALUE', `${field}.lladdr`, 'is required');
      const mac = this.parseLladdr(row.lladdr, `${field}.lladdr`);
      for (const name of ['used', 'updated'] as const) if (row[name] !== undefined) checkInteger(row[name], 0, Number.MAX_SAFE_INTEGER, `${field}.${name}`);
      const state = row.state === '' ? 'dynamic' : parseState(row.state, `${field}.state`, 'permanent');
      let flags = stateBits(state) | N_ADDED_BY_USER;
      if (row.flags !== undefined) {
        if (!Array.isArray(row.flags)) throw new FdbError('BAD_VALUE', `${field}.flags`, `must be an array ([] or ['router']), got ${describe(row.flags)}`);
        for (const flag of row.flags) {
          if (flag === 'router') flags |= N_ROUTER;
          else throw new FdbError('BAD_VALUE', `${field}.flags`, `unknown flag ${describe(flag)}; allowed: router`);
        }
      }
      const key = `${vni}/${address.kind}/${address.words.join(',')}`;
      const previous = seen.get(key);
      if (previous !== undefined) throw new FdbError('BAD_VALUE', `${field}.dst`, `${String(row.dst)} in VNI ${vni} is already given by ${previous}`);
      seen.set(key, field);
      return { vni, address, mac, flags };
    });
  }

  checkLoadLimits(rows: ParsedNeighbourRow[], replaceAll: boolean): void {
    const added = new Map<number, number>();
    let total = replaceAll ? 0 : this.size;
    for (const row of rows) {
      if (!replaceAll && this.findAddress(row.vni, row.address) >= 0) continue;
      added.set(row.vni, (added.get(row.vni) ?? 0) + 1);
      total++;
    }
    if (total > this.maxNeighbours) throw new FdbError('LIMIT', 'neighbours', `the document needs ${total} neighbours; the table holds at most ${this.maxNeighbours} (maxNeighbours)`);
    const vnis = this.fdb.vnis;
    for (const [vni, more] of added) {
      const v = vnis.index(vni);
      const max = v < 0 ? vnis.defaults.maxNeighbours : vnis.maxNeighbours[v]!;
      const have = v < 0 || replaceAll ? 0 : vnis.neighbours[v]!;
      if (max > 0 && have + more > max) throw new FdbError('LIMIT', 'neighbours', `VNI ${vni} would hold ${have + more} neighbours; its limit is ${max}`);
    }
  }

  writeLoaded(rows: ParsedNeighbourRow[]): void {
    for (const row of rows) {
      const slot = this.findAddress(row.vni, row.address);
      const t = row.address.kind === DESTINATION_IPV4 ? this.v4 : this.v6;
      if (slot >= 0) {
        this.overwrite(t, slot, row.mac, row.flags);
      } else {
        const v = this.fdb.vniIndexFor(row.vni);
        const w = row.address.words;
        t.insert(row.vni, w[0], w[1], w[2], w[3], v, row.mac, row.flags, this.fdb.now);
        this.fdb.vnis.neighbours[v]!++;
      }
    }
  }

  // -------------------------------------------------------------------------
  // Private
  // -------------------------------------------------------------------------

  private hit(t: AddressTable, slot: number): number {
    const b = slot * t.stride;
    const slots = t.slots;
    const now = this.fdb.now;
    if (slots[b + t.used] !== now) slots[b + t.used] = now;
    this.lastFlags = slots[b + t.flags]!;
    return slots[b + t.macHigh]! * TWO_32 + (slots[b + t.macLow]! >>> 0);
  }

  private learnKey(t: AddressTable, vni: number, a0: number, a1: number, a2: number, a3: number, mac: number): number {
    const low = mac | 0;
    const high = (mac / TWO_32) | 0;
    if ((high & 0x100) !== 0 || (low | high) === 0 || high >>> 16 !== 0 || (vni & 0xffffff) !== vni) return NEIGHBOUR_IGNORED;
    const fdb = this.fdb;
    const stats = fdb.stats;
    const vnis = fdb.vnis;
    const v = vnis.indexOrCreate(vni);
    if (v < 0) {
      stats.neighbourLimited++;
      return LEARN_LIMIT;
    }
    if (vnis.learning[v] === 0) return LEARN_DISABLED;
    const slot = t.find(vni, a0, a1, a2, a3);
    const now = fdb.now;
    if (slot >= 0) {
      const b = slot * t.stride;
      const slots = t.slots;
      if (slots[b + t.macLow] === low && slots[b + t.macHigh] === high) {
        if (slots[b + t.updated] !== now) slots[b + t.updated] = now;
        return LEARN_REFRESHED;
      }
      if ((slots[b + t.flags]! & N_NEVER_AGES) !== 0) {
        stats.neighbourMovesRefused++;
        return NEIGHBOUR_REFUSED;
      }
      const oldLow = slots[b + t.macLow]!;
      const oldHigh = slots[b + t.macHigh]!;
      slots[b + t.macLow] = low;
      slots[b + t.macHigh] = high;
      slots[b + t.updated] = now;
      stats.neighbourMoved++;
      const at = fdb.reserveEvent(EVENT_NEIGHBOUR_MOVED);
      if (at >= 0) this.writeEvent(at, vni, t.family, a0, a1, a2, a3, low, high, oldLow, oldHigh);
      return LEARN_MOVED;
    }
    const max = vnis.maxNeighbours[v]!;
    if (this.size >= this.maxNeighbours || (max > 0 && vnis.neighbours[v]! >= max)) {
      stats.neighbourLimited++;
      return LEARN_LIMIT;
    }
    t.insert(vni, a0, a1, a2, a3, v, mac, 0, now);
    vnis.neighbours[v]!++;
    stats.neighbourLearnt++;
    const at = fdb.reserveEvent(EVENT_NEIGHBOUR_LEARNT);
    if (at >= 0) this.writeEvent(at, vni, t.family, a0, a1, a2, a3, low, high);
    return LEARN_LEARNT;
  }

  private writeEvent(at: number, vni: number, family: number, a0: number, a1: number, a2: number, a3: number, low: number, high: number, oldLow = 0, oldHigh = 0): void {
    const w = this.fdb.eventWords;
    w[at] = vni;
    w[at + 1] = family;
    w[at + 2] = a0;
    w[at + 3] = a1;
    w[at + 4] = a2;
    w[at + 5] = a3;
    w[at + 6] = low;
    w[at + 7] = high;
    w[at + 8] = oldLow;
    w[at + 9] = oldHigh;
  }

  private sweepTable(t: AddressTable, maxSlots: number, deadline: number): number {
    const ageing = this.fdb.vnis.ageing;
    const now = this.fdb.now;
    const slots = t.slots;
    const mask = t.mask;
    const limit = Math.min(maxSlots, mask + 1);
    let i = t.cursor & mask;
    let scanned = 0;
    let removed = 0;
    let work = 0;
    while (scanned < limit) {
      if (work >= 128) {
        work = 0;
        if (performance.now() > deadline) break;
      }
      scanned++;
      work++;
      const b = i * t.stride;
      const flags = slots[b + t.flags]!;
      if (flags !== 0 && (flags & N_NEVER_AGES) === 0) {
        const age = ageing[slots[b + t.vniIndex]!]!;
        if (age > 0 && now - slots[b + t.updated]! >= age) {
          const at = this.fdb.reserveEvent(EVENT_NEIGHBOUR_AGED);
          if (at >= 0) {
            if (t.family === 4) this.writeEvent(at, slots[b]!, 4, slots[b + 1]!, 0, 0, 0, slots[b + t.macLow]!, slots[b + t.macHigh]!);
            else this.writeEvent(at, slots[b]!, 6, slots[b + 1]!, slots[b + 2]!, slots[b + 3]!, slots[b + 4]!, slots[b + t.macLow]!, slots[b + t.macHigh]!);
          }
          work += this.removeAt(t, i);
          this.fdb.stats.neighbourAged++;
          removed++;
          continue;
        }
      }
      i = (i + 1) & mask;
    }
    t.cursor = i;
    return removed;
  }

  private removeAt(t: AddressTable, slot: number): number {
    this.fdb.vnis.neighbours[t.slots[slot * t.stride + t.vniIndex]!]!--;
    return t.remove(slot);
  }

  private overwrite(t: AddressTable, slot: number, mac: number, flags: number): void {
    const b = slot * t.stride;
    t.slots[b + t.macLow] = mac | 0;
    t.slots[b + t.macHigh] = (mac / TWO_32) | 0;
    t.slots[b + t.flags] = flags | N_IN_USE;
    t.slots[b + t.updated] = this.fdb.now;
  }

  private findAddress(vni: number, address: ParsedAddress): number {
    const w = address.words;
    return (address.kind === DESTINATION_IPV4 ? this.v4 : this.v6).find(vni, w[0], w[1], w[2], w[3]);
  }

  private parseIp(value: unknown, field: string): ParsedAddress {
    const address = parseAddress(value, field);
    const w = address.words;
    const bad =
      address.kind === DESTINATION_IPV4
        ? w[0] >>> 24 === 0 || w[0] >>> 24 === 127 || w[0] >>> 24 >= 224
        : w[0] >>> 24 === 0xff || ((w[0] | w[1] | w[2]) === 0 && (w[3] === 0 || w[3] === 1));
    if (bad) throw new FdbError('BAD_VALUE', field, `must be a unicast address (not unspecified, loopback or multicast), got ${describe(value)}`);
    return address;
  }

  private parseLladdr(value: unknown, field: string): number {
    const mac = parseMacInput(value, field);
    if (mac === 0 || Math.floor(mac / 0x100_0000_0000) % 2 === 1) throw new FdbError('BAD_VALUE', field, `must be a unicast MAC, got ${describe(value)}`);
    return mac;
  }

  private parseRequest(vni: number, ip: string, options: NeighbourOptions): { vni: number; address: ParsedAddress; mac: number; flags: number } {
    const entryVni = parseVni(vni);
    const address = this.parseIp(ip, 'ip');
    checkObject(options, 'options');
    checkKeys(options, ['lladdr', 'state', 'router'], 'options');
    if (options.lladdr === undefined) throw new FdbError('BAD_VALUE', 'lladdr', 'is required (the MAC the address resolves to)');
    const mac = this.parseLladdr(options.lladdr, 'lladdr');
    const state = parseState(options.state, 'state', 'permanent');
    const router = checkBoolean(options.router, false, 'router');
    return { vni: entryVni, address, mac, flags: stateBits(state) | (router ? N_ROUTER : 0) | N_ADDED_BY_USER };
  }

  private create(request: { vni: number; address: ParsedAddress; mac: number; flags: number }): void {
    const v = this.fdb.vniIndexFor(request.vni);
    if (this.size >= this.maxNeighbours) throw new FdbError('LIMIT', 'ip', `the table holds at most ${this.maxNeighbours} neighbours (maxNeighbours)`);
    const vnis = this.fdb.vnis;
    const max = vnis.maxNeighbours[v]!;
    if (max > 0 && vnis.neighbours[v]! >= max) throw new FdbError('LIMIT', 'ip', `VNI ${request.vni} holds at most ${max} neighbours`);
    const w = request.address.words;
    const t = request.address.kind === DESTINATION_IPV4 ? this.v4 : this.v6;
    t.insert(request.vni, w[0], w[1], w[2], w[3], v, request.mac, request.flags, this.fdb.now);
    vnis.neighbours[v]!++;
  }

  private row(t: AddressTable, slot: number, stats: boolean): NeighbourRow {
    const b = slot * t.stride;
    const s = t.slots;
    let dst: string;
    if (t.family === 4) {
      dst = formatIpv4(s[b + 1]! >>> 0);
    } else {
      dst = formatIpv6Words(s, b + 1);
    }
    const row = { dst, lladdr: formatMac(t.mac(b)), src_vni: s[b]! } as NeighbourRow;
    const now = this.fdb.now;
    if (stats) {
      row.used = Math.max(0, now - s[b + t.used]!);
      row.updated = Math.max(0, now - s[b + t.updated]!);
    }
    const flags = s[b + t.flags]!;
    row.flags = (flags & N_ROUTER) !== 0 ? ['router'] : [];
    row.state = (flags & N_PERMANENT) !== 0 ? 'permanent' : (flags & N_STATIC) !== 0 ? 'static' : '';
    return row;
  }
}

function word(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!;
}

function stateBits(state: EntryState): number {
  return state === 'permanent' ? N_PERMANENT : state === 'static' ? N_STATIC : 0;
}

/** Router bit of NeighbourTable.lastFlags. */
export const NEIGHBOUR_ROUTER = N_ROUTER;

