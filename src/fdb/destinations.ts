/**
 * Destinations and destination sets, interned into typed arrays.
 *
 * A *destination* is where a frame goes: a remote VTEP (IPv4 or IPv6 address, UDP
 * port, the VNI to send with, the source interface) or a local port. Thousands of
 * MAC entries usually share a handful of VTEPs, so each distinct destination is
 * stored once and entries refer to it by a small integer id.
 *
 * A *destination set* is an ordered list of destinations: one for a unicast entry,
 * several for the all-zeros (BUM) and multicast entries (head-end replication: one
 * copy per destination). FDB entries point at a set id; sets are interned too, so a
 * million MACs behind 500 VTEPs need 500 singleton sets.
 *
 * Both tables are reference-counted: a set holds its destinations, an entry (or a
 * queued event, or a caller who pinned it) holds its set. Ids are reused after the
 * last reference is dropped.
 */
import { formatIpv4 } from '../wire/ipv4.js';
import { formatIpv6 } from '../wire/ipv6.js';
import { hashWords, nextPowerOfTwo, randomSeed } from './hash.js';

export const DESTINATION_FREE = 0;
/** A local port (the datapath's own port number is in `port`). */
export const DESTINATION_LOCAL = 1;
export const DESTINATION_IPV4 = 4;
export const DESTINATION_IPV6 = 6;

/** No explicit remote VNI: send with the entry's own VNI. */
export const SAME_VNI = -1;
/** No source interface. */
export const NO_VIA = -1;

/** Hard ceiling for destinations and sets (each is bounded by the FDB entries anyway). */
export const DESTINATIONS_MAX = 1 << 22;

/** Writes an IPv6 address held as four big-endian 32-bit words (words[at .. at + 4)) as 16 bytes. */
export function ipv6WordsToBytes(words: ArrayLike<number>, at: number, buf: Uint8Array, offset: number): void {
  for (let w = 0; w < 4; w++) {
    const word = words[at + w]!;
    buf[offset + w * 4] = word >>> 24;
    buf[offset + w * 4 + 1] = (word >>> 16) & 0xff;
    buf[offset + w * 4 + 2] = (word >>> 8) & 0xff;
    buf[offset + w * 4 + 3] = word & 0xff;
  }
}

/** RFC 5952 text of an IPv6 address held as four 32-bit words (for show and events, not the datapath). */
export function formatIpv6Words(words: ArrayLike<number>, at: number): string {
  const bytes = new Uint8Array(16);
  ipv6WordsToBytes(words, at, bytes, 0);
  return formatIpv6(bytes);
}

export class DestinationTable {
  kind: Uint8Array;
  /** Four 32-bit words per destination: an IPv4 address in word 0, an IPv6 address in words 0..3 (big-endian). */
  address: Int32Array;
  /** UDP destination port of a remote, or the local port number of a local destination. */
  port: Int32Array;
  remoteVni: Int32Array;
  via: Int32Array;
  refs: Int32Array;
  /** Live destinations. */
  count = 0;
  capacity: number;

  private index: Int32Array;
  private indexMask: number;
  private readonly seed = randomSeed();
  private free: Int32Array;
  private freeTop = 0;
  private next = 0;
  private readonly viaNames: string[] = [];
  private readonly viaIds = new Map<string, number>();

  constructor(capacity = 64) {
    this.capacity = nextPowerOfTwo(capacity);
    this.kind = new Uint8Array(this.capacity);
    this.address = new Int32Array(this.capacity * 4);
    this.port = new Int32Array(this.capacity);
    this.remoteVni = new Int32Array(this.capacity);
    this.via = new Int32Array(this.capacity);
    this.refs = new Int32Array(this.capacity);
    this.free = new Int32Array(this.capacity);
    this.index = new Int32Array(this.capacity * 2);
    this.indexMask = this.capacity * 2 - 1;
  }

  /** The id of this destination, or -1. Never allocates. */
  find(kind: number, a0: number, a1: number, a2: number, a3: number, port: number, remoteVni: number, via: number): number {
    const index = this.index;
    const mask = this.indexMask;
    let i = this.hash(kind, a0, a1, a2, a3, port, remoteVni, via) & mask;
    for (;;) {
      const entry = index[i]!;
      if (entry === 0) return -1;
      const id = entry - 1;
      if (this.matches(id, kind, a0, a1, a2, a3, port, remoteVni, via)) return id;
      i = (i + 1) & mask;
    }
  }

  /**
   * The id of this destination, created (with no references) when new; -1 at
   * {@link DESTINATIONS_MAX}. Allocates only when the table grows.
   */
  intern(kind: number, a0: number, a1: number, a2: number, a3: number, port: number, remoteVni: number, via: number): number {
    const found = this.find(kind, a0, a1, a2, a3, port, remoteVni, via);
    if (found >= 0) return found;
    let id: number;
    if (this.freeTop > 0) {
      id = this.free[--this.freeTop]!;
    } else {
      if (this.next === this.capacity) {
        if (this.capacity >= DESTINATIONS_MAX) return -1;
        this.grow();
      }
      id = this.next++;
    }
    this.kind[id] = kind;
    const a = id * 4;
    this.address[a] = a0;
    this.address[a + 1] = a1;
    this.address[a + 2] = a2;
    this.address[a + 3] = a3;
    this.port[id] = port;
    this.remoteVni[id] = remoteVni;
    this.via[id] = via;
    this.refs[id] = 0;
    this.count++;
    this.insertIndex(id);
    return id;
  }

  retain(id: number): void {
    this.refs[id]!++;
  }

  /** Drops a reference; the destination is freed (and its id reusable) at zero. */
  release(id: number): void {
    if (--this.refs[id]! > 0) return;
    this.removeIndex(id);
    this.kind[id] = DESTINATION_FREE;
    this.free[this.freeTop++] = id;
    this.count--;
  }

  /** Same remote address (family and bytes), whatever the port, VNI and interface: Linux's learning test. */
  sameAddress(a: number, b: number): boolean {
    if (this.kind[a] !== this.kind[b]) return false;
    const address = this.address;
    const x = a * 4;
    const y = b * 4;
    return address[x] === address[y] && address[x + 1] === address[y + 1] && address[x + 2] === address[y + 2] && address[x + 3] === address[y + 3];
  }

  /** The IPv4 address of an IPv4 destination, as an unsigned number. */
  ipv4(id: number): number {
    return this.address[id * 4]! >>> 0;
  }

  /** Copies the 16 bytes of an IPv6 destination into `buf` at `offset`. */
  copyIpv6(id: number, buf: Uint8Array, offset: number): void {
    ipv6WordsToBytes(this.address, id * 4, buf, offset);
  }

  /** The address as text (`10.0.0.2`, `2001:db8::1`), or '' for a local destination. */
  formatAddress(id: number): string {
    const kind = this.kind[id];
    if (kind === DESTINATION_IPV4) return formatIpv4(this.ipv4(id));
    if (kind === DESTINATION_IPV6) return formatIpv6Words(this.address, id * 4);
    return '';
  }

  /** Interns a source interface name (friendly path). */
  viaId(name: string): number {
    let id = this.viaIds.get(name);
    if (id === undefined) {
      id = this.viaNames.length;
      this.viaNames.push(name);
      this.viaIds.set(name, id);
    }
    return id;
  }

  viaName(id: number): string | undefined {
    return id < 0 ? undefined : this.viaNames[id];
  }

  private matches(id: number, kind: number, a0: number, a1: number, a2: number, a3: number, port: number, remoteVni: number, via: number): boolean {
    const a = id * 4;
    const address = this.address;
    return (
      this.kind[id] === kind &&
      address[a] === a0 &&
      address[a + 1] === a1 &&
      address[a + 2] === a2 &&
      address[a + 3] === a3 &&
      this.port[id] === port &&
      this.remoteVni[id] === remoteVni &&
      this.via[id] === via
    );
  }

  private hash(kind: number, a0: number, a1: number, a2: number, a3: number, port: number, remoteVni: number, via: number): number {
    return hashWords(kind ^ (port << 8), a0, a1, a2 ^ Math.imul(remoteVni, 0x2545f491), a3 ^ Math.imul(via, 0x9e3779b9), this.seed);
  }

  private hashOf(id: number): number {
    const a = id * 4;
    const address = this.address;
    return this.hash(this.kind[id]!, address[a]!, address[a + 1]!, address[a + 2]!, address[a + 3]!, this.port[id]!, this.remoteVni[id]!, this.via[id]!);
  }

  private insertIndex(id: number): void {
    const mask = this.indexMask;
    let i = this.hashOf(id) & mask;
    while (this.index[i] !== 0) i = (i + 1) & mask;
    this.index[i] = id + 1;
  }

  /** Backward-shift deletion: no tombstones, probe sequences stay short. */
  private removeIndex(id: number): void {
    const index = this.index;
    const mask = this.indexMask;
    let i = this.hashOf(id) & mask;
    while (index[i] !== id + 1) i = (i + 1) & mask;
    let hole = i;
    let j = (i + 1) & mask;
    while (index[j] !== 0) {
      const home = this.hashOf(index[j]! - 1) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = index[j]!;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    index[hole] = 0;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const copy = <T extends Uint8Array | Int32Array>(old: T, make: (n: number) => T, n: number): T => {
      const fresh = make(n);
      fresh.set(old);
      return fresh;
    };
    this.kind = copy(this.kind, (n) => new Uint8Array(n), capacity);
    this.address = copy(this.address, (n) => new Int32Array(n), capacity * 4);
    this.port = copy(this.port, (n) => new Int32Array(n), capacity);
    this.remoteVni = copy(this.remoteVni, (n) => new Int32Array(n), capacity);
    this.via = copy(this.via, (n) => new Int32Array(n), capacity);
    this.refs = copy(this.refs, (n) => new Int32Array(n), capacity);
    this.free = copy(this.free, (n) => new Int32Array(n), capacity);
    this.capacity = capacity;
    this.index = new Int32Array(capacity * 2);
    this.indexMask = capacity * 2 - 1;
    for (let id = 0; id < this.next; id++) if (this.kind[id] !== DESTINATION_FREE) this.insertIndex(id);
  }
}

/**
 * Ordered, interned lists of destinations. A one-member set stores its member
 * inline (`first`), so the unicast path reads one array.
 */
export class DestinationSets {
  /** Members of each set. */
  size: Int32Array;
  /** The first member (the only one of a unicast entry). */
  first: Int32Array;
  refs: Int32Array;
  count = 0;
  capacity: number;

  private members: (Int32Array | undefined)[] = [];
  /** Destination id → its singleton set id, or -1. */
  private singletonOf: Int32Array;
  private readonly multiIndex = new Map<string, number>();
  private readonly multiKey: (string | undefined)[] = [];
  private free: Int32Array;
  private freeTop = 0;
  private next = 0;

  constructor(
    readonly destinations: DestinationTable,
    capacity = 64,
  ) {
    this.capacity = nextPowerOfTwo(capacity);
    this.size = new Int32Array(this.capacity);
    this.first = new Int32Array(this.capacity);
    this.refs = new Int32Array(this.capacity);
    this.free = new Int32Array(this.capacity);
    this.singletonOf = new Int32Array(destinations.capacity).fill(-1);
  }

  /** The set holding only `destination`, created (with no references) when new; -1 at the ceiling. */
  singleton(destination: number): number {
    if (destination >= this.singletonOf.length) this.growSingletons();
    const existing = this.singletonOf[destination]!;
    if (existing >= 0) return existing;
    const id = this.allocate();
    if (id < 0) return -1;
    this.size[id] = 1;
    this.first[id] = destination;
    this.singletonOf[destination] = id;
    this.destinations.retain(destination);
    return id;
  }

  /** The set of these destinations in this order (friendly path; allocates a key string). */
  fromList(list: readonly number[]): number {
    if (list.length === 1) return this.singleton(list[0]!);
    const key = list.join(',');
    const existing = this.multiIndex.get(key);
    if (existing !== undefined) return existing;
    const id = this.allocate();
    if (id < 0) return -1;
    this.size[id] = list.length;
    this.first[id] = list[0]!;
    this.members[id] = Int32Array.from(list);
    this.multiIndex.set(key, id);
    this.multiKey[id] = key;
    for (const destination of list) this.destinations.retain(destination);
    return id;
  }

  /** Member `i` of a set (0 ≤ i < size). */
  member(set: number, i: number): number {
    return i === 0 ? this.first[set]! : this.members[set]![i]!;
  }

  /** The members as a fresh array (friendly path). */
  list(set: number): number[] {
    const n = this.size[set]!;
    if (n === 1) return [this.first[set]!];
    return Array.from(this.members[set]!);
  }

  retain(set: number): void {
    this.refs[set]!++;
  }

  release(set: number): void {
    if (--this.refs[set]! > 0) return;
    const n = this.size[set]!;
    if (n === 1) {
      const destination = this.first[set]!;
      this.singletonOf[destination] = -1;
      this.destinations.release(destination);
    } else {
      const members = this.members[set]!;
      this.multiIndex.delete(this.multiKey[set]!);
      this.members[set] = undefined;
      this.multiKey[set] = undefined;
      for (let i = 0; i < members.length; i++) this.destinations.release(members[i]!);
    }
    this.size[set] = 0;
    this.free[this.freeTop++] = set;
    this.count--;
  }

  private allocate(): number {
    let id: number;
    if (this.freeTop > 0) {
      id = this.free[--this.freeTop]!;
    } else {
      if (this.next === this.capacity) {
        if (this.capacity >= DESTINATIONS_MAX) return -1;
        this.grow();
      }
      id = this.next++;
    }
    this.refs[id] = 0;
    this.count++;
    return id;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const grown = (old: Int32Array): Int32Array => {
      const fresh = new Int32Array(capacity);
      fresh.set(old);
      return fresh;
    };
    this.size = grown(this.size);
    this.first = grown(this.first);
    this.refs = grown(this.refs);
    this.free = grown(this.free);
    this.capacity = capacity;
  }

  private growSingletons(): void {
    const fresh = new Int32Array(this.destinations.capacity).fill(-1);
    fresh.set(this.singletonOf);
    this.singletonOf = fresh;
  }
}
