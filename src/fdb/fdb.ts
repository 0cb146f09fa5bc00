/**
 * The forwarding database: MAC → destination set, per VNI, with the semantics of
 * the Linux vxlan driver's FDB (`bridge fdb add/append/replace/del/show`), MAC
 * learning on receive, ageing, MAC moves, limits and events.
 *
 * Storage: one open-addressing hash table (linear probing, backward-shift
 * deletion, no tombstones) in an Int32Array, 8 words (32 bytes) per slot, so a
 * slot never straddles a 64-byte cache line and a lookup usually touches one line:
 *
 *   word 0  MAC bits 0..31            word 4  flags (in use, state, extern_learn, router, added by user)
 *   word 1  MAC bits 32..47           word 5  updated (seconds, coarse clock)
 *   word 2  VNI                       word 6  used (seconds)
 *   word 3  destination-set id        word 7  VNI index (per-VNI settings and counts)
 *
 * The table doubles when it is 3/4 full, so at 1 million entries it has 2^21
 * slots: 64 MiB, 67 bytes per entry, plus the (small) destination tables.
 *
 * The datapath methods take and return numbers only and never throw:
 *   lookup(vni, mac) / forward(vni, mac) → destination-set id or -1
 *   learnIpv4 / learnIpv6 / learn / learnLocal → a LEARN_* code (negative: drop the frame)
 * The friendly methods (add, append, replace, del, show, load, …) allocate and
 * throw FdbError.
 */
import { performance } from 'node:perf_hooks';
import { formatMac, isMulticastMac } from '../wire/ethernet.js';
import { formatIpv4 } from '../wire/ipv4.js';
import {
  DESTINATION_IPV4,
  DESTINATION_IPV6,
  DESTINATION_LOCAL,
  DestinationSets,
  DestinationTable,
  NO_VIA,
  SAME_VNI,
  formatIpv6Words,
} from './destinations.js';
import { FdbError, checkBoolean, checkInteger, describe } from './errors.js';
import {
  EVENT_AGED,
  EVENT_LEARNT,
  EVENT_MISS,
  EVENT_MOVED,
  EVENT_NAMES,
  EVENT_NEIGHBOUR_LEARNT,
  EVENT_NEIGHBOUR_MISS,
  EVENT_NEIGHBOUR_MOVED,
  EventHub,
  eventType,
  type FdbEvent,
  type FdbEventMap,
  type FdbEventName,
  type FdbEventTarget,
  type NeighbourEvent,
} from './events.js';
import { hashMacKey, nextPowerOfTwo, randomSeed } from './hash.js';
import { LEARN_DISABLED, LEARN_DROP_INVALID, LEARN_DROP_STATIC, LEARN_LEARNT, LEARN_LIMIT, LEARN_MOVED, LEARN_REFRESHED } from './learn.js';
import { NeighbourTable, type NeighbourRow } from './neighbours.js';
import {
  PORT_MAX,
  checkKeys,
  checkObject,
  parseDestination,
  parseMacInput,
  parseState,
  parseVni,
  type DestinationKey,
  type EntryState,
} from './parse.js';
import { proxyReply, snoopNeighbour } from './proxy.js';
import { FdbStats } from './stats.js';
import { VniTable } from './vnis.js';

// ---------------------------------------------------------------------------
// Datapath return codes
// ---------------------------------------------------------------------------

// The learn* codes live in learn.ts (the neighbour table returns them too).
export { LEARN_DISABLED, LEARN_DROP_INVALID, LEARN_DROP_STATIC, LEARN_LEARNT, LEARN_LIMIT, LEARN_MOVED, LEARN_REFRESHED };

// ---------------------------------------------------------------------------
// Entry flags (word 4)
// ---------------------------------------------------------------------------

export const ENTRY_IN_USE = 1;
/** Linux NUD_PERMANENT (`bridge fdb add … permanent`, the default). */
export const ENTRY_PERMANENT = 2;
/** Linux NUD_NOARP without NUD_PERMANENT (`static`). */
export const ENTRY_STATIC = 4;
/** Linux NTF_EXT_LEARNED (`extern_learn`): never aged. */
export const ENTRY_EXTERN_LEARN = 8;
/** Linux NTF_ROUTER (`router`). */
export const ENTRY_ROUTER = 16;
/** Linux NTF_VXLAN_ADDED_BY_USER: created or updated through the API, not learnt. */
export const ENTRY_ADDED_BY_USER = 32;

const NEVER_AGES = ENTRY_PERMANENT | ENTRY_STATIC | ENTRY_EXTERN_LEARN;
const NEVER_MOVES = ENTRY_PERMANENT | ENTRY_STATIC;

const SLOT_SHIFT = 3;
const W_MAC_HIGH = 1;
const W_VNI = 2;
const W_SET = 3;
const W_FLAGS = 4;
const W_UPDATED = 5;
const W_USED = 6;
const W_VNI_INDEX = 7;

const TWO_32 = 0x1_0000_0000;
const MIN_SLOTS = 1024;
const MAX_SLOTS = 1 << 27;

// ---------------------------------------------------------------------------
// Options and rows
// ---------------------------------------------------------------------------

export interface FdbOptions {
  /** UDP destination port of a remote when an entry gives none (Linux: the device's `dstport`). Default 4789. */
  port?: number;
  /** Default ageing time of dynamic entries, seconds; 0 = never (Linux `ageing`). Default 300. */
  ageing?: number;
  /** Default for learning on receive (Linux `learning` / `nolearning`). Default true. */
  learning?: boolean;
  /** Default for ARP/ND suppression (Linux `proxy`). Default false. */
  proxy?: boolean;
  /** Most entries in all VNIs together. Default 1048576. */
  maxEntries?: number;
  /** Default most entries per VNI (Linux `maxaddress`); 0 = only the total applies. Default 0. */
  maxEntriesPerVni?: number;
  /** Most neighbour (ARP/ND) entries in total. Default 262144. */
  maxNeighbours?: number;
  /** Default most neighbour entries per VNI; 0 = only the total applies. Default 0. */
  maxNeighboursPerVni?: number;
  /** Most VNIs tracked. Default 65536. */
  maxVnis?: number;
  /** Most destinations of one all-zeros or multicast entry. Default 1024. */
  maxDestinationsPerEntry?: number;
  /** Entries to size the table for up front (avoids growing, which rehashes everything). Default 0. */
  capacity?: number;
  /** Milliseconds, monotonic. Default `performance.now`. Tests inject their own. */
  clock?: () => number;
  /** Run the table's own (unref'd) timer that advances the clock, sweeps and flushes events. Default true. */
  timer?: boolean;
  /** Timer period, milliseconds. Default 250. */
  tickInterval?: number;
  /** Most slots one sweep slice examines; 0 = automatic (capacity / 32, within 4096..65536). */
  sweepSlots?: number;
  /** Most milliseconds one sweep slice may take. Default 0.5. */
  sweepBudget?: number;
  /** Records the event queue holds between flushes. Default 4096. */
  eventQueue?: number;
  /** Flush events with setImmediate after a batch (otherwise only on tick() or flushEvents()). Default true. */
  autoFlush?: boolean;
}

/** add / append / replace: Linux `bridge fdb` keywords as fields. */
export interface FdbEntryOptions {
  /** Remote VTEP, IPv4 or IPv6 text (Linux `dst`). */
  dst?: string;
  /** Or a local port number (an extension: Linux's vxlan FDB has no local ports). */
  localPort?: number;
  /** UDP destination port (Linux `port`); default the table's `port`. */
  port?: number;
  /** VNI to send with (Linux `vni`); default the entry's own VNI. */
  vni?: number;
  /** Source interface name (Linux `via`). */
  via?: string;
  /** Linux `permanent` (default, as `bridge fdb add`), `static` or `dynamic`. */
  state?: EntryState;
  /** Linux `extern_learn`: controller-learnt, never aged. */
  externLearn?: boolean;
  /** Linux `router`. */
  router?: boolean;
}

/** del: without dst/localPort the whole entry goes; with them, that one destination. */
export interface FdbDeleteOptions {
  dst?: string;
  localPort?: number;
  port?: number;
  vni?: number;
  via?: string;
}

/**
 * One destination of one entry, as `bridge -j fdb show` prints it for a vxlan
 * device in external mode (where entries are keyed by `src_vni`).
 */
export interface FdbRow {
  mac: string;
  dst?: string;
  /** Local port (extension). */
  localPort?: number;
  /** Only when it differs from the table's port. */
  port?: number;
  /** Remote VNI, only when it differs from src_vni. */
  vni?: number;
  /** The VNI the entry belongs to. */
  src_vni: number;
  viaIf?: string;
  /** Seconds since last used (transmit) / updated (learnt, refreshed, changed); with `stats`. */
  used?: number;
  updated?: number;
  /** 'self', then 'router', 'extern_learn' when set. */
  flags: string[];
  /** 'permanent', 'static', or '' for dynamic (as Linux prints it). */
  state: 'permanent' | 'static' | '';
}

export interface FdbShowOptions {
  vni?: number;
  mac?: string | number;
  state?: EntryState;
  /** Include `used` and `updated` (Linux `bridge -s`). */
  stats?: boolean;
}

export interface FdbVniConfig {
  /** Seconds; 0 = never. */
  ageing?: number;
  learning?: boolean;
  proxy?: boolean;
  /** 0 = only the total limit. */
  maxEntries?: number;
  maxNeighbours?: number;
}

export interface FdbVniState extends Required<FdbVniConfig> {
  vni: number;
  entries: number;
  neighbours: number;
}

/** The JSON a controller pushes (load) and gets back (toJSON). */
export interface FdbDocument {
  version: 1;
  /** The default remote port the rows were written against (rows omit it when equal). */
  port?: number;
  fdb?: FdbRow[];
  neighbours?: NeighbourRow[];
}

/** A row as load() accepts it: flags default to ['self'], state to 'permanent' ('' and 'dynamic' both mean dynamic). */
export type FdbRowInput = Omit<FdbRow, 'flags' | 'state'> & { flags?: string[]; state?: FdbRow['state'] | EntryState };

/** A neighbour row as load() accepts it. */
export type NeighbourRowInput = Omit<NeighbourRow, 'flags' | 'state'> & { flags?: string[]; state?: NeighbourRow['state'] | EntryState };

/** What load() accepts: a document as toJSON() writes it, with optional row fields. */
export interface FdbDocumentInput {
  version: 1;
  port?: number;
  fdb?: FdbRowInput[];
  neighbours?: NeighbourRowInput[];
}

export interface FdbLoadOptions {
  /** Remove every entry and neighbour not in the document (default false: merge). */
  replace?: boolean;
}

export interface FdbSnapshot extends FdbStats {
  entries: number;
  slots: number;
  vnis: number;
  destinations: number;
  destinationSets: number;
  neighbours: number;
  eventsQueued: number;
}

const ROW_KEYS = ['mac', 'dst', 'localPort', 'port', 'vni', 'src_vni', 'viaIf', 'used', 'updated', 'flags', 'state'] as const;
const ENTRY_OPTION_KEYS = ['dst', 'localPort', 'port', 'vni', 'via', 'state', 'externLearn', 'router'] as const;
const DELETE_OPTION_KEYS = ['dst', 'localPort', 'port', 'vni', 'via'] as const;
const VNI_CONFIG_KEYS = ['ageing', 'learning', 'proxy', 'maxEntries', 'maxNeighbours'] as const;
const FDB_OPTION_KEYS = [
  'port', 'ageing', 'learning', 'proxy', 'maxEntries', 'maxEntriesPerVni', 'maxNeighbours', 'maxNeighboursPerVni', 'maxVnis',
  'maxDestinationsPerEntry', 'capacity', 'clock', 'timer', 'tickInterval', 'sweepSlots', 'sweepBudget', 'eventQueue', 'autoFlush',
] as const;

/** A parsed, grouped entry of a load() document. */
interface ParsedEntry {
  vni: number;
  mac: number;
  destinations: DestinationKey[];
  flags: number;
  field: string;
}

function stateFlags(state: EntryState): number {
  return state === 'permanent' ? ENTRY_PERMANENT : state === 'static' ? ENTRY_STATIC : 0;
}

/** MAC with the I/G bit set (multicast, broadcast) or all zeros: Linux's "non-unicast" entries. */
function isNonUnicast(mac: number): boolean {
  return mac === 0 || isMulticastMac(mac);
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

export class Fdb {
  /** Default UDP destination port of remotes. */
  readonly port: number;
  readonly stats = new FdbStats();
  /** The ARP/ND suppression table (Linux `proxy`). */
  readonly neighbours: NeighbourTable;
  /** Interned destinations (read them with the destination* accessors). */
  readonly destinations: DestinationTable;
  /** Interned destination sets (read them with setSize / setMember). */
  readonly sets: DestinationSets;
  /** Per-VNI settings and counts. */
  readonly vnis: VniTable;
  /** The coarse clock, in whole seconds, advanced by tick() / advanceClock(). */
  now: number;

  private slots: Int32Array;
  private mask: number;
  private growAt: number;
  private count = 0;
  private readonly seed = randomSeed();
  private readonly maxEntries: number;
  private readonly maxDestinationsPerEntry: number;
  private readonly clock: () => number;
  private readonly sweepSlotsOption: number;
  private readonly sweepBudget: number;
  private sweepCursor = 0;
  /** Home slots of the current batch (lookupBatch / forwardBatch). */
  private homes = new Int32Array(64);
  /** (Internal.) Keeps the batch first-pass reads observable, so the compiler cannot drop them. */
  touched = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly hub: EventHub;

  constructor(options: FdbOptions = {}) {
    checkObject(options, 'options');
    checkKeys(options, FDB_OPTION_KEYS, 'options');
    this.port = options.port === undefined ? 4789 : checkInteger(options.port, 1, PORT_MAX, 'options.port');
    const ageing = options.ageing === undefined ? 300 : checkInteger(options.ageing, 0, 0x7fffffff, 'options.ageing');
    const learning = checkBoolean(options.learning, true, 'options.learning');
    const proxy = checkBoolean(options.proxy, false, 'options.proxy');
    this.maxEntries = options.maxEntries === undefined ? 1 << 20 : checkInteger(options.maxEntries, 1, 1 << 26, 'options.maxEntries');
    const maxEntriesPerVni = options.maxEntriesPerVni === undefined ? 0 : checkInteger(options.maxEntriesPerVni, 0, 1 << 26, 'options.maxEntriesPerVni');
    const maxNeighbours = options.maxNeighbours === undefined ? 1 << 18 : checkInteger(options.maxNeighbours, 1, 1 << 26, 'options.maxNeighbours');
    const maxNeighboursPerVni = options.maxNeighboursPerVni === undefined ? 0 : checkInteger(options.maxNeighboursPerVni, 0, 1 << 26, 'options.maxNeighboursPerVni');
    const maxVnis = options.maxVnis === undefined ? 1 << 16 : checkInteger(options.maxVnis, 1, 1 << 24, 'options.maxVnis');
    this.maxDestinationsPerEntry =
      options.maxDestinationsPerEntry === undefined ? 1024 : checkInteger(options.maxDestinationsPerEntry, 1, 1 << 16, 'options.maxDestinationsPerEntry');
    const capacity = options.capacity === undefined ? 0 : checkInteger(options.capacity, 0, 1 << 26, 'options.capacity');
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new FdbError('BAD_VALUE', 'options.clock', `must be a function returning milliseconds, got ${describe(options.clock)}`);
    }
    this.clock = options.clock ?? (() => performance.now());
    const timer = checkBoolean(options.timer, true, 'options.timer');
    const tickInterval = options.tickInterval === undefined ? 250 : checkInteger(options.tickInterval, 1, 3_600_000, 'options.tickInterval');
    this.sweepSlotsOption = options.sweepSlots === undefined ? 0 : checkInteger(options.sweepSlots, 0, MAX_SLOTS, 'options.sweepSlots');
    if (options.sweepBudget !== undefined && !(typeof options.sweepBudget === 'number' && options.sweepBudget > 0 && options.sweepBudget <= 1000)) {
      throw new FdbError('BAD_VALUE', 'options.sweepBudget', `must be a number of milliseconds in (0, 1000], got ${describe(options.sweepBudget)}`);
    }
    this.sweepBudget = options.sweepBudget ?? 0.5;
    const eventQueue = options.eventQueue === undefined ? 4096 : checkInteger(options.eventQueue, 1, 1 << 20, 'options.eventQueue');
    const autoFlush = checkBoolean(options.autoFlush, true, 'options.autoFlush');

    this.vnis = new VniTable({ ageing, learning, proxy, maxEntries: maxEntriesPerVni, maxNeighbours: maxNeighboursPerVni }, maxVnis);
    this.destinations = new DestinationTable(64);
    this.sets = new DestinationSets(this.destinations, 64);
    const slots = Math.max(MIN_SLOTS, nextPowerOfTwo(Math.ceil((capacity * 4) / 3) + 1));
    this.slots = new Int32Array(slots << SLOT_SHIFT);
    this.mask = slots - 1;
    this.growAt = (slots * 3) >>> 2;
    this.now = this.readClock();
    this.hub = new EventHub(eventQueue, autoFlush, (type, words, at) => this.formatEvent(type, words, at), this.stats);
    this.neighbours = new NeighbourTable(this, maxNeighbours);
    if (timer) {
      this.timer = setInterval(() => this.tick(), tickInterval);
      this.timer.unref();
    }
  }

  // -------------------------------------------------------------------------
  // Datapath: numbers in, numbers out, no allocation, no exceptions
  // -------------------------------------------------------------------------

  /**
   * The destination set of the entry (vni, mac), or -1. Marks the entry used.
   * No fallback to the all-zeros entry: see {@link forward}.
   */
  lookup(vni: number, mac: number): number {
    return this.lookupKey(vni, mac | 0, highOf(mac));
  }

  private lookupKey(vni: number, low: number, high: number): number {
    return this.lookupFrom(vni, low, high, hashMacKey(low, high, vni, this.seed) & this.mask);
  }

  /** Pass 1 of the batch lookups: home slots into `homes`, each read once. Returns the usable count. */
  private prefetch(vnis: Int32Array, macs: Float64Array, count: number, out: Int32Array): number {
    const n = Math.max(0, Math.min(count | 0, vnis.length, macs.length, out.length));
    if (n > this.homes.length) this.homes = new Int32Array(n);
    const homes = this.homes;
    const slots = this.slots;
    const mask = this.mask;
    const seed = this.seed;
    let touched = 0;
    for (let i = 0; i < n; i++) {
      const mac = macs[i]!;
      const home = hashMacKey(mac | 0, highOf(mac), vnis[i]!, seed) & mask;
      homes[i] = home;
      touched ^= slots[home << SLOT_SHIFT]!;
    }
    this.touched = touched;
    return n;
  }

  private lookupFrom(vni: number, low: number, high: number, home: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = home;
    for (;;) {
      const b = i << SLOT_SHIFT;
      if (slots[b + W_FLAGS] === 0) return -1;
      if (slots[b] === low && slots[b + W_MAC_HIGH] === high && slots[b + W_VNI] === vni) {
        const now = this.now;
        if (slots[b + W_USED] !== now) slots[b + W_USED] = now;
        return slots[b + W_SET]!;
      }
      i = (i + 1) & mask;
    }
  }

  /**
   * Transmit decision, as the Linux vxlan driver's: the entry for the destination
   * MAC, else the all-zeros entry of the VNI (flood: broadcast, unknown unicast,
   * multicast), else -1 (drop; counted in `noDestination`). A unicast MAC that has
   * neither is an L2 miss: counted and reported as a `miss` event.
   */
  forward(vni: number, mac: number): number {
    return this.forwardKey(vni, mac | 0, highOf(mac));
  }

  private forwardKey(vni: number, low: number, high: number): number {
    const set = this.lookupKey(vni, low, high);
    if (set >= 0) return set;
    const all = this.lookupKey(vni, 0, 0);
    if (all >= 0) return all;
    if ((high & 0x100) === 0) {
      this.stats.misses++;
      if (this.hub.wants(EVENT_MISS)) {
        const at = this.hub.reserve(EVENT_MISS);
        if (at >= 0) {
          const w = this.hub.queue.words;
          w[at] = vni;
          w[at + 1] = low;
          w[at + 2] = high;
          w[at + 3] = -1;
          w[at + 4] = -1;
        }
      }
    }
    this.stats.noDestination++;
    return -1;
  }

  /**
   * Learning on receive: the inner source MAC against the outer IPv4 source
   * address (a uint32). The entry's remote port is the table's `port`, as Linux
   * (the outer UDP source port is a flow hash, RFC 7348 5, not a return address).
   * Returns a LEARN_* code; negative means drop the frame.
   */
  learnIpv4(vni: number, mac: number, address: number): number {
    return this.learnKey(vni, mac | 0, highOf(mac), DESTINATION_IPV4, address | 0, 0, 0, 0, this.port, SAME_VNI, NO_VIA);
  }

  /** Learning on receive from an IPv6 outer source address: 16 bytes at `offset` (read in place). */
  learnIpv6(vni: number, mac: number, buf: Uint8Array, offset: number): number {
    return this.learnIpv6Key(vni, mac | 0, highOf(mac), buf, offset);
  }

  /**
   * learnIpv4 reading its numbers from packets: the inner source MAC at
   * `frame[macOffset .. +6)` (offset 6 of the inner Ethernet header) and the outer
   * IPv4 source at `packet[addressOffset .. +4)` (offset 12 of the outer IPv4 header).
   * Nothing crosses the call as a double, so nothing is boxed even when V8 does not
   * inline the call: the allocation-free choice for a datapath. Out-of-range
   * offsets give LEARN_DROP_INVALID.
   */
  learnIpv4At(vni: number, frame: Uint8Array, macOffset: number, packet: Uint8Array, addressOffset: number): number {
    if (!(macOffset >= 0 && macOffset + 6 <= frame.length && addressOffset >= 0 && addressOffset + 4 <= packet.length)) {
      this.stats.invalidSource++;
      return LEARN_DROP_INVALID;
    }
    const o = addressOffset;
    const address = (packet[o]! << 24) | (packet[o + 1]! << 16) | (packet[o + 2]! << 8) | packet[o + 3]!;
    return this.learnKey(vni, macLowAt(frame, macOffset), macHighAt(frame, macOffset), DESTINATION_IPV4, address, 0, 0, 0, this.port, SAME_VNI, NO_VIA);
  }

  /** learnIpv6 reading the inner source MAC from `frame` and the outer IPv6 source (16 bytes) from `packet`. */
  learnIpv6At(vni: number, frame: Uint8Array, macOffset: number, packet: Uint8Array, addressOffset: number): number {
    if (!(macOffset >= 0 && macOffset + 6 <= frame.length)) {
      this.stats.invalidSource++;
      return LEARN_DROP_INVALID;
    }
    return this.learnIpv6Key(vni, macLowAt(frame, macOffset), macHighAt(frame, macOffset), packet, addressOffset);
  }

  /** Learning against a destination pinned with {@link pinDestination} (e.g. address + NAT port). */
  learn(vni: number, mac: number, destination: number): number {
    const d = this.destinations;
    if (!(destination >= 0 && destination < d.capacity && d.kind[destination] !== 0)) {
      this.stats.invalidSource++;
      return LEARN_DROP_INVALID;
    }
    const a = destination * 4;
    return this.learnKey(vni, mac | 0, highOf(mac), d.kind[destination]!, d.address[a]!, d.address[a + 1]!, d.address[a + 2]!, d.address[a + 3]!, d.port[destination]!, d.remoteVni[destination]!, d.via[destination]!);
  }

  /** {@link learn} with the source MAC read from `frame[macOffset .. +6)`: no double crosses the call. */
  learnAt(vni: number, frame: Uint8Array, macOffset: number, destination: number): number {
    const d = this.destinations;
    if (!(macOffset >= 0 && macOffset + 6 <= frame.length && destination >= 0 && destination < d.capacity && d.kind[destination] !== 0)) {
      this.stats.invalidSource++;
      return LEARN_DROP_INVALID;
    }
    const a = destination * 4;
    return this.learnKey(vni, macLowAt(frame, macOffset), macHighAt(frame, macOffset), d.kind[destination]!, d.address[a]!, d.address[a + 1]!, d.address[a + 2]!, d.address[a + 3]!, d.port[destination]!, d.remoteVni[destination]!, d.via[destination]!);
  }

  /** Learning from the local side: `mac` is behind local port `localPort`. */
  learnLocal(vni: number, mac: number, localPort: number): number {
    return this.learnKey(vni, mac | 0, highOf(mac), DESTINATION_LOCAL, 0, 0, 0, 0, localPort | 0, SAME_VNI, NO_VIA);
  }

  /**
   * {@link lookup} for a batch: `out[i]` = lookup(vnis[i], macs[i]) for i < count.
   * A first pass computes every key's home slot and reads it, so the cache misses of
   * the whole batch are in flight together (memory-level parallelism); the second
   * pass then finds the entries in cache. Worth it on large tables (see docs/fdb.md).
   * Typed arrays in and out: nothing is allocated (a scratch array grows once to the
   * largest batch seen). Returns the number of hits.
   */
  lookupBatch(vnis: Int32Array, macs: Float64Array, count: number, out: Int32Array): number {
    const n = this.prefetch(vnis, macs, count, out);
    const homes = this.homes;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const mac = macs[i]!;
      const set = this.lookupFrom(vnis[i]!, mac | 0, highOf(mac), homes[i]!);
      out[i] = set;
      if (set >= 0) hits++;
    }
    return hits;
  }

  /** {@link forward} for a batch, with the same two passes as {@link lookupBatch}. Returns the frames with somewhere to go. */
  forwardBatch(vnis: Int32Array, macs: Float64Array, count: number, out: Int32Array): number {
    const n = this.prefetch(vnis, macs, count, out);
    const homes = this.homes;
    let found = 0;
    for (let i = 0; i < n; i++) {
      const mac = macs[i]!;
      const vni = vnis[i]!;
      const low = mac | 0;
      const high = highOf(mac);
      let set = this.lookupFrom(vni, low, high, homes[i]!);
      if (set < 0) set = this.forwardKey(vni, low, high);
      out[i] = set;
      if (set >= 0) found++;
    }
    return found;
  }

  /** {@link lookup} with the MAC read from `buf[offset .. +6)` (offset 0 of an Ethernet header: the destination). */
  lookupAt(vni: number, buf: Uint8Array, offset: number): number {
    if (!(offset >= 0 && offset + 6 <= buf.length)) return -1;
    return this.lookupKey(vni, macLowAt(buf, offset), macHighAt(buf, offset));
  }

  /** {@link forward} with the MAC read from `buf[offset .. +6)`. */
  forwardAt(vni: number, buf: Uint8Array, offset: number): number {
    if (!(offset >= 0 && offset + 6 <= buf.length)) return -1;
    return this.forwardKey(vni, macLowAt(buf, offset), macHighAt(buf, offset));
  }

  /** Writes a remote's IPv4 address (4 bytes, network order) into `buf` at `offset`: no number crosses the call. */
  writeDestinationIpv4(destination: number, buf: Uint8Array, offset: number): void {
    const word = this.destinations.address[destination * 4]!;
    buf[offset] = word >>> 24;
    buf[offset + 1] = (word >>> 16) & 0xff;
    buf[offset + 2] = (word >>> 8) & 0xff;
    buf[offset + 3] = word & 0xff;
  }

  /** Members of a destination set. */
  setSize(set: number): number {
    return this.sets.size[set]!;
  }

  /** Member `i` (0 ≤ i < setSize) of a destination set: a destination id. */
  setMember(set: number, i: number): number {
    return this.sets.member(set, i);
  }

  /** DESTINATION_IPV4, DESTINATION_IPV6 or DESTINATION_LOCAL. */
  destinationKind(destination: number): number {
    return this.destinations.kind[destination]!;
  }

  /** IPv4 address of a remote (uint32). */
  destinationIpv4(destination: number): number {
    return this.destinations.ipv4(destination);
  }

  /** Copies a remote's IPv6 address into `buf` at `offset`. */
  copyDestinationIpv6(destination: number, buf: Uint8Array, offset: number): void {
    this.destinations.copyIpv6(destination, buf, offset);
  }

  /** UDP destination port of a remote; the port number of a local destination. */
  destinationPort(destination: number): number {
    return this.destinations.port[destination]!;
  }

  /** VNI to send with: the remote's own, or `entryVni` when it has none. */
  destinationVni(destination: number, entryVni: number): number {
    const remote = this.destinations.remoteVni[destination]!;
    return remote === SAME_VNI ? entryVni : remote;
  }

  /** Flags of the entry (vni, mac) (ENTRY_* bits), or 0 when absent. Does not mark it used. */
  entryFlags(vni: number, mac: number): number {
    const slot = this.findSlot(mac | 0, highOf(mac), vni);
    return slot < 0 ? 0 : this.slots[(slot << SLOT_SHIFT) + W_FLAGS]!;
  }

  /** The destination set of (vni, mac) without marking it used, or -1. */
  peek(vni: number, mac: number): number {
    const slot = this.findSlot(mac | 0, highOf(mac), vni);
    return slot < 0 ? -1 : this.slots[(slot << SLOT_SHIFT) + W_SET]!;
  }

  /**
   * ARP/ND suppression (Linux `proxy`): `buf[offset .. end)` is a frame from a local
   * port. When it is an ARP request or an IPv6 neighbour solicitation for an address
   * in the neighbour table, writes the reply frame (ARP reply 42 bytes, neighbour
   * advertisement 86 bytes) into `out` at `outOffset` and returns its length.
   * Returns 0 otherwise: the caller forwards the request as usual (floods it).
   * Never throws, never allocates. `out` may be `buf` (the reply is built after every
   * field of the request has been read).
   */
  proxyReply(vni: number, buf: Uint8Array, offset: number, end: number, out: Uint8Array, outOffset: number): number {
    return proxyReply(this, vni, buf, offset, end, out, outOffset);
  }

  /**
   * Neighbour learning on receive: when `buf[offset .. end)` (an inner frame from a
   * remote) is an ARP packet or a neighbour advertisement/solicitation carrying a
   * link-layer address, records IP → MAC for this VNI (when `proxy` and `learning`
   * are on). Returns a LEARN_* code (never negative: the frame is always delivered),
   * or -3 when the frame carries no binding.
   */
  snoopNeighbour(vni: number, buf: Uint8Array, offset: number, end: number): number {
    return snoopNeighbour(this, vni, buf, offset, end);
  }

  // -------------------------------------------------------------------------
  // Clock, sweep, events
  // -------------------------------------------------------------------------

  /** Reads the clock into `now` (never backwards). */
  advanceClock(): void {
    const now = this.readClock();
    if (now > this.now) this.now = now;
  }

  /**
   * One timer step: advance the clock, sweep one slice of the MAC and neighbour
   * tables, flush events. The table's own timer calls this; with `timer: false`
   * the caller does.
   */
  tick(): void {
    this.advanceClock();
    this.sweep();
    this.neighbours.sweep();
    this.flushEvents();
  }

  /**
   * Examines at most `maxSlots` slots from where the last slice stopped and removes
   * expired dynamic entries; stops early after `budgetMs`. Returns the entries removed.
   */
  sweep(maxSlots = this.sweepSlotsPerSlice(), budgetMs = this.sweepBudget): number {
    const started = performance.now();
    const deadline = started + budgetMs;
    const ageing = this.vnis.ageing;
    const now = this.now;
    const slots = this.slots;
    const mask = this.mask;
    let i = this.sweepCursor & mask;
    let scanned = 0;
    let removed = 0;
    // Work since the last look at the clock: slots examined plus slots moved by
    // backward shifts, so the time between two looks is bounded even when removals
    // are many, or slow (before the JIT has compiled this path).
    let work = 0;
    const limit = Math.min(maxSlots, mask + 1);
    while (scanned < limit) {
      if (work >= 128) {
        work = 0;
        if (performance.now() > deadline) break;
      }
      scanned++;
      work++;
      const b = i << SLOT_SHIFT;
      const flags = slots[b + W_FLAGS]!;
      if (flags !== 0 && (flags & NEVER_AGES) === 0) {
        const age = ageing[slots[b + W_VNI_INDEX]!]!;
        if (age > 0 && now - slots[b + W_UPDATED]! >= age) {
          work += this.expire(i);
          removed++;
          // Backward shift may have moved the next entry into slot i: look at it again.
          continue;
        }
      }
      i = (i + 1) & mask;
    }
    this.sweepCursor = i;
    const elapsed = performance.now() - started;
    const stats = this.stats;
    stats.sweepSlices++;
    stats.sweepSlots += scanned;
    if (elapsed > stats.sweepMaxMs) stats.sweepMaxMs = elapsed;
    return removed;
  }

  /** Delivers queued events to listeners now; returns how many. */
  flushEvents(): number {
    return this.hub.flush();
  }

  on<K extends FdbEventName>(name: K, listener: (event: FdbEventMap[K]) => void): this {
    this.hub.on(this.eventTypeOf(name), listener as (event: never) => void);
    return this;
  }

  off<K extends FdbEventName>(name: K, listener: (event: FdbEventMap[K]) => void): this {
    this.hub.off(this.eventTypeOf(name), listener as (event: never) => void);
    return this;
  }

  /** Stops the timer (if any) and delivers pending events. The table stays usable with tick(). */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.flushEvents();
  }

  // -------------------------------------------------------------------------
  // Friendly API: bridge fdb add / append / replace / del / show
  // -------------------------------------------------------------------------

  /**
   * `bridge fdb add MAC dev <vni> dst …`: creates the entry; FdbError EXISTS when
   * (vni, mac) has one (whatever its destination, as Linux), LIMIT at a limit.
   */
  add(vni: number, mac: string | number, options: FdbEntryOptions): void {
    const request = this.parseRequest(vni, mac, options);
    if (this.findSlot(request.low, request.high, request.vni) >= 0) {
      throw new FdbError('EXISTS', 'mac', `${formatMac(request.mac)} already has an entry in VNI ${request.vni}`);
    }
    this.create(request);
  }

  /**
   * `bridge fdb append`: adds a destination to the all-zeros or a multicast entry
   * (head-end replication), creating the entry when absent. For an existing unicast
   * entry, Linux silently keeps its destination; we refuse a different destination
   * with NOT_SUPPORTED (see docs/fdb.md) and accept the same one (state/flags update).
   */
  append(vni: number, mac: string | number, options: FdbEntryOptions): void {
    const request = this.parseRequest(vni, mac, options);
    const slot = this.findSlot(request.low, request.high, request.vni);
    if (slot < 0) {
      this.create(request);
      return;
    }
    const b = slot << SLOT_SHIFT;
    const set = this.slots[b + W_SET]!;
    const existing = this.sets.list(set);
    const wanted = this.findDestination(request.destination!);
    const present = wanted >= 0 && existing.includes(wanted);
    if (!isNonUnicast(request.mac)) {
      if (!present) {
        throw new FdbError(
          'NOT_SUPPORTED',
          'mac',
          `append adds destinations only to the all-zeros and multicast entries; ${formatMac(request.mac)} is unicast (use replace to change its destination)`,
        );
      }
      this.updateFlags(b, request.flags);
      return;
    }
    if (!present) {
      if (existing.length >= this.maxDestinationsPerEntry) {
        throw new FdbError('LIMIT', 'dst', `${formatMac(request.mac)} in VNI ${request.vni} already has ${existing.length} destinations (maxDestinationsPerEntry)`);
      }
      const id = this.internDestination(request.destination!);
      const newSet = this.setFromList([...existing, id]);
      this.replaceSet(b, newSet);
      this.slots[b + W_UPDATED] = this.now;
    }
    this.updateFlags(b, request.flags);
  }

  /**
   * `bridge fdb replace`: creates the entry or overwrites its destination and state.
   * NOT_SUPPORTED for the all-zeros and multicast MACs (Linux: EOPNOTSUPP), whether
   * or not the entry exists.
   */
  replace(vni: number, mac: string | number, options: FdbEntryOptions): void {
    const request = this.parseRequest(vni, mac, options);
    if (isNonUnicast(request.mac)) {
      throw new FdbError('NOT_SUPPORTED', 'mac', `replace works on unicast entries only; use append/del for ${formatMac(request.mac)}`);
    }
    const slot = this.findSlot(request.low, request.high, request.vni);
    if (slot < 0) {
      this.create(request);
      return;
    }
    const b = slot << SLOT_SHIFT;
    const existing = this.sets.list(this.slots[b + W_SET]!);
    const id = this.internDestination(request.destination!);
    if (!existing.includes(id)) {
      existing[0] = id;
      this.replaceSet(b, this.setFromList(existing));
      this.slots[b + W_UPDATED] = this.now;
    }
    this.updateFlags(b, request.flags);
  }

  /**
   * `bridge fdb del`: removes the entry, or only the given destination (the entry
   * goes with its last one). NOT_FOUND when there is no entry. A destination the
   * entry does not have is not an error (as Linux): returns false, changes nothing.
   */
  del(vni: number, mac: string | number, options: FdbDeleteOptions = {}): boolean {
    const entryVni = parseVni(vni);
    const value = parseMacInput(mac, 'mac');
    checkObject(options, 'options');
    checkKeys(options, DELETE_OPTION_KEYS, 'options');
    const destination = parseDestination(options, entryVni, this.port, '');
    const slot = this.findSlot(value | 0, (value / TWO_32) | 0, entryVni);
    if (slot < 0) throw new FdbError('NOT_FOUND', 'mac', `no entry for ${formatMac(value)} in VNI ${entryVni}`);
    const b = slot << SLOT_SHIFT;
    if (destination === undefined) {
      this.removeEntry(slot);
      return true;
    }
    const id = this.findDestination(destination);
    const members = this.sets.list(this.slots[b + W_SET]!);
    const at = id < 0 ? -1 : members.indexOf(id);
    if (at < 0) return false;
    if (members.length === 1) {
      this.removeEntry(slot);
      return true;
    }
    members.splice(at, 1);
    this.replaceSet(b, this.setFromList(members));
    return true;
  }

  /** The rows of (vni, mac), or undefined. */
  get(vni: number, mac: string | number, options: { stats?: boolean } = {}): FdbRow[] | undefined {
    const entryVni = parseVni(vni);
    const value = parseMacInput(mac, 'mac');
    const slot = this.findSlot(value | 0, (value / TWO_32) | 0, entryVni);
    if (slot < 0) return undefined;
    const rows: FdbRow[] = [];
    this.rowsOf(slot, options.stats === true, rows);
    return rows;
  }

  /** `bridge -j fdb show`: one row per destination, sorted by VNI then MAC. */
  show(options: FdbShowOptions = {}): FdbRow[] {
    checkObject(options, 'options');
    checkKeys(options, ['vni', 'mac', 'state', 'stats'], 'options');
    const vni = options.vni === undefined ? undefined : parseVni(options.vni, 'options.vni');
    const mac = options.mac === undefined ? undefined : parseMacInput(options.mac, 'options.mac');
    const state = options.state === undefined ? undefined : parseState(options.state, 'options.state', 'permanent');
    const stats = checkBoolean(options.stats, false, 'options.stats');
    const picked: number[] = [];
    const slots = this.slots;
    for (let i = 0; i <= this.mask; i++) {
      const b = i << SLOT_SHIFT;
      const flags = slots[b + W_FLAGS]!;
      if (flags === 0) continue;
      if (vni !== undefined && slots[b + W_VNI] !== vni) continue;
      if (mac !== undefined && this.macAt(b) !== mac) continue;
      if (state !== undefined && stateName(flags) !== (state === 'dynamic' ? '' : state)) continue;
      picked.push(i);
    }
    picked.sort((x, y) => {
      const bx = x << SLOT_SHIFT;
      const by = y << SLOT_SHIFT;
      return slots[bx + W_VNI]! - slots[by + W_VNI]! || this.macAt(bx) - this.macAt(by);
    });
    const rows: FdbRow[] = [];
    for (const slot of picked) this.rowsOf(slot, stats, rows);
    return rows;
  }

  /** `bridge fdb show`: the same rows as text, one line each. */
  showText(options: FdbShowOptions = {}): string {
    return this.show(options).map(formatRow).join('\n');
  }

  /** Removes entries: all, or those of one VNI, or only dynamic ones (Linux `bridge fdb flush`). Returns how many. */
  flush(options: { vni?: number; dynamic?: boolean } = {}): number {
    checkObject(options, 'options');
    checkKeys(options, ['vni', 'dynamic'], 'options');
    const vni = options.vni === undefined ? undefined : parseVni(options.vni, 'options.vni');
    const dynamicOnly = checkBoolean(options.dynamic, false, 'options.dynamic');
    const doomed: [number, number, number][] = [];
    for (let i = 0; i <= this.mask; i++) {
      const b = i << SLOT_SHIFT;
      const flags = this.slots[b + W_FLAGS]!;
      if (flags === 0) continue;
      if (vni !== undefined && this.slots[b + W_VNI] !== vni) continue;
      if (dynamicOnly && (flags & NEVER_AGES) !== 0) continue;
      doomed.push([this.slots[b + W_VNI]!, this.slots[b]!, this.slots[b + W_MAC_HIGH]!]);
    }
    for (const [entryVni, low, high] of doomed) {
      const slot = this.findSlot(low, high, entryVni);
      if (slot >= 0) this.removeEntry(slot);
    }
    return doomed.length;
  }

  /** Entries in the table. */
  get size(): number {
    return this.count;
  }

  /** Slots in the hash table (entries ≤ 3/4 of it). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Grows the table now so that `entries` fit without growing on the datapath. */
  reserve(entries: number): void {
    checkInteger(entries, 0, this.maxEntries, 'entries');
    while (entries > this.growAt) this.grow();
  }

  /** Settings of a VNI (created with the defaults if new). */
  setVni(vni: number, config: FdbVniConfig): void {
    const entryVni = parseVni(vni);
    checkObject(config, 'config');
    checkKeys(config, VNI_CONFIG_KEYS, 'config');
    const ageing = config.ageing === undefined ? undefined : checkInteger(config.ageing, 0, 0x7fffffff, 'config.ageing');
    const learning = config.learning === undefined ? undefined : checkBoolean(config.learning, true, 'config.learning');
    const proxy = config.proxy === undefined ? undefined : checkBoolean(config.proxy, false, 'config.proxy');
    const maxEntries = config.maxEntries === undefined ? undefined : checkInteger(config.maxEntries, 0, 1 << 26, 'config.maxEntries');
    const maxNeighbours = config.maxNeighbours === undefined ? undefined : checkInteger(config.maxNeighbours, 0, 1 << 26, 'config.maxNeighbours');
    const v = this.vniIndexFor(entryVni);
    const t = this.vnis;
    if (ageing !== undefined) t.ageing[v] = ageing;
    if (learning !== undefined) t.learning[v] = learning ? 1 : 0;
    if (proxy !== undefined) t.proxy[v] = proxy ? 1 : 0;
    if (maxEntries !== undefined) t.maxEntries[v] = maxEntries;
    if (maxNeighbours !== undefined) t.maxNeighbours[v] = maxNeighbours;
  }

  /** Settings and counts of a VNI (the defaults when it has never been seen). */
  getVni(vni: number): FdbVniState {
    const entryVni = parseVni(vni);
    const t = this.vnis;
    const v = t.index(entryVni);
    if (v < 0) {
      const d = t.defaults;
      return { vni: entryVni, ageing: d.ageing, learning: d.learning, proxy: d.proxy, maxEntries: d.maxEntries, maxNeighbours: d.maxNeighbours, entries: 0, neighbours: 0 };
    }
    return {
      vni: entryVni,
      ageing: t.ageing[v]!,
      learning: t.learning[v] === 1,
      proxy: t.proxy[v] === 1,
      maxEntries: t.maxEntries[v]!,
      maxNeighbours: t.maxNeighbours[v]!,
      entries: t.entries[v]!,
      neighbours: t.neighbours[v]!,
    };
  }

  /**
   * A destination id for {@link learn} (e.g. an address with a NAT port), held
   * until {@link unpinDestination}.
   */
  pinDestination(options: FdbDeleteOptions & { vni?: number }, entryVni = 0): number {
    checkObject(options, 'options');
    checkKeys(options, DELETE_OPTION_KEYS, 'options');
    const key = parseDestination(options, entryVni, this.port, '');
    if (key === undefined) throw new FdbError('BAD_VALUE', 'dst', 'dst or localPort is required');
    const id = this.internDestination(key);
    this.destinations.retain(id);
    return id;
  }

  unpinDestination(id: number): void {
    const d = this.destinations;
    if (!(Number.isInteger(id) && id >= 0 && id < d.capacity && d.kind[id] !== 0 && d.refs[id]! > 0)) {
      throw new FdbError('BAD_VALUE', 'destination', `not a pinned destination: ${describe(id)}`);
    }
    d.release(id);
  }

  /** Counters and sizes. */
  snapshot(): FdbSnapshot {
    return {
      ...this.stats,
      entries: this.count,
      slots: this.mask + 1,
      vnis: this.vnis.count,
      destinations: this.destinations.count,
      destinationSets: this.sets.count,
      neighbours: this.neighbours.size,
      eventsQueued: this.hub.queue.length,
    };
  }

  // -------------------------------------------------------------------------
  // JSON: export and bulk load
  // -------------------------------------------------------------------------

  /** The whole table as a document {@link load} accepts (no timers). */
  toJSON(): FdbDocument {
    return { version: 1, port: this.port, fdb: this.show(), neighbours: this.neighbours.show() };
  }

  /**
   * Loads a document (or a bare array of FDB rows): every row is validated and the
   * limits are checked before anything changes, so a failed load changes nothing.
   * Rows of one (src_vni, mac) form one entry, destinations in row order; an entry
   * that exists is overwritten (destinations, state and flags). With
   * `replace: true`, entries and neighbours not in the document are removed.
   * Returns what was written.
   */
  load(document: FdbDocumentInput | FdbRowInput[], options: FdbLoadOptions = {}): { entries: number; neighbours: number } {
    checkObject(options, 'options');
    checkKeys(options, ['replace'], 'options');
    const replaceAll = checkBoolean(options.replace, false, 'options.replace');
    let rows: unknown;
    let neighbourRows: unknown = [];
    let port = this.port;
    if (Array.isArray(document)) {
      rows = document;
    } else {
      const doc = checkObject(document, 'document');
      checkKeys(doc, ['version', 'port', 'fdb', 'neighbours'], 'document');
      if (doc.version !== 1) throw new FdbError('BAD_VALUE', 'document.version', `must be 1, got ${describe(doc.version)}`);
      if (doc.port !== undefined) port = checkInteger(doc.port, 1, PORT_MAX, 'document.port');
      rows = doc.fdb ?? [];
      neighbourRows = doc.neighbours ?? [];
    }
    if (!Array.isArray(rows)) throw new FdbError('BAD_VALUE', 'fdb', `must be an array of rows, got ${describe(rows)}`);
    if (!Array.isArray(neighbourRows)) throw new FdbError('BAD_VALUE', 'neighbours', `must be an array of rows, got ${describe(neighbourRows)}`);
    const entries = this.parseRows(rows, port);
    const neighbours = this.neighbours.parseRows(neighbourRows);
    this.checkLoadLimits(entries, replaceAll);
    this.neighbours.checkLoadLimits(neighbours, replaceAll);
    if (replaceAll) {
      this.flush();
      this.neighbours.clear();
    }
    for (const entry of entries) this.writeLoaded(entry);
    this.neighbours.writeLoaded(neighbours);
    return { entries: entries.length, neighbours: neighbours.length };
  }

  // -------------------------------------------------------------------------
  // Internals shared with the neighbour table and proxy code
  // -------------------------------------------------------------------------

  /** VNI index, created if new; throws LIMIT at maxVnis. */
  vniIndexFor(vni: number): number {
    const v = this.vnis.indexOrCreate(vni);
    if (v < 0) throw new FdbError('LIMIT', 'vni', `this table already tracks ${this.vnis.limit} VNIs (maxVnis)`);
    return v;
  }

  /** Reserves an event record when someone listens to `type`; -1 otherwise. */
  reserveEvent(type: number): number {
    return this.hub.wants(type) ? this.hub.reserve(type) : -1;
  }

  get eventWords(): Int32Array {
    return this.hub.queue.words;
  }

  // -------------------------------------------------------------------------
  // Private: the hash table
  // -------------------------------------------------------------------------

  private readClock(): number {
    return Math.floor(this.clock() / 1000) | 0;
  }

  private sweepSlotsPerSlice(): number {
    if (this.sweepSlotsOption > 0) return this.sweepSlotsOption;
    return Math.min(65536, Math.max(4096, (this.mask + 1) >>> 5));
  }

  private eventTypeOf(name: string): number {
    const type = eventType(name);
    if (type < 0) throw new FdbError('BAD_VALUE', 'event', `unknown event ${describe(name)}; events: ${EVENT_NAMES.slice(1).join(', ')}`);
    return type;
  }

  private findSlot(low: number, high: number, vni: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let i = hashMacKey(low, high, vni, this.seed) & mask;
    for (;;) {
      const b = i << SLOT_SHIFT;
      if (slots[b + W_FLAGS] === 0) return -1;
      if (slots[b] === low && slots[b + W_MAC_HIGH] === high && slots[b + W_VNI] === vni) return i;
      i = (i + 1) & mask;
    }
  }

  private macAt(b: number): number {
    return this.slots[b + W_MAC_HIGH]! * TWO_32 + (this.slots[b]! >>> 0);
  }

  /** Inserts a key known to be absent; the caller has checked the limits and retained `set`. */
  private insert(low: number, high: number, vni: number, v: number, set: number, flags: number): void {
    if (this.count + 1 > this.growAt) this.grow();
    const slots = this.slots;
    const mask = this.mask;
    let i = hashMacKey(low, high, vni, this.seed) & mask;
    while (slots[(i << SLOT_SHIFT) + W_FLAGS] !== 0) i = (i + 1) & mask;
    const b = i << SLOT_SHIFT;
    const now = this.now;
    slots[b] = low;
    slots[b + W_MAC_HIGH] = high;
    slots[b + W_VNI] = vni;
    slots[b + W_SET] = set;
    slots[b + W_FLAGS] = flags | ENTRY_IN_USE;
    slots[b + W_UPDATED] = now;
    slots[b + W_USED] = now;
    slots[b + W_VNI_INDEX] = v;
    this.count++;
    this.vnis.entries[v]!++;
  }

  /** Backward-shift deletion of slot i (the caller has released its set). Returns the slots it looked at. */
  private removeSlot(i: number): number {
    const slots = this.slots;
    const mask = this.mask;
    this.vnis.entries[slots[(i << SLOT_SHIFT) + W_VNI_INDEX]!]!--;
    this.count--;
    let hole = i;
    let j = (i + 1) & mask;
    let looked = 1;
    for (;; looked++) {
      const bj = j << SLOT_SHIFT;
      if (slots[bj + W_FLAGS] === 0) break;
      const home = hashMacKey(slots[bj]!, slots[bj + W_MAC_HIGH]!, slots[bj + W_VNI]!, this.seed) & mask;
      // Move j into the hole unless j's home lies cyclically in (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        const bh = hole << SLOT_SHIFT;
        for (let w = 0; w < 8; w++) slots[bh + w] = slots[bj + w]!;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    const bh = hole << SLOT_SHIFT;
    for (let w = 0; w < 8; w++) slots[bh + w] = 0;
    return looked;
  }

  private grow(): void {
    const old = this.slots;
    const oldSlots = this.mask + 1;
    const slots = oldSlots * 2;
    if (slots > MAX_SLOTS) return;
    const fresh = new Int32Array(slots << SLOT_SHIFT);
    const mask = slots - 1;
    for (let s = 0; s < oldSlots; s++) {
      const b = s << SLOT_SHIFT;
      if (old[b + W_FLAGS] === 0) continue;
      let i = hashMacKey(old[b]!, old[b + W_MAC_HIGH]!, old[b + W_VNI]!, this.seed) & mask;
      while (fresh[(i << SLOT_SHIFT) + W_FLAGS] !== 0) i = (i + 1) & mask;
      const nb = i << SLOT_SHIFT;
      for (let w = 0; w < 8; w++) fresh[nb + w] = old[b + w]!;
    }
    this.slots = fresh;
    this.mask = mask;
    this.growAt = (slots * 3) >>> 2;
    this.sweepCursor = 0;
  }

  /** Every learn* ends here: integers only, so no argument is ever boxed. */
  private learnKey(vni: number, low: number, high: number, kind: number, a0: number, a1: number, a2: number, a3: number, port: number, remoteVni: number, via: number): number {
    const stats = this.stats;
    // Linux vxlan_set_mac: a multicast or all-zeros source MAC is dropped, never learnt.
    if ((high & 0x100) !== 0 || (low | high) === 0 || high >>> 16 !== 0 || (vni & 0xffffff) !== vni) {
      stats.invalidSource++;
      return LEARN_DROP_INVALID;
    }
    const vnis = this.vnis;
    const v = vnis.indexOrCreate(vni);
    if (v < 0) {
      stats.learnLimited++;
      return LEARN_LIMIT;
    }
    if (vnis.learning[v] === 0) return LEARN_DISABLED;
    const slot = this.findSlot(low, high, vni);
    const now = this.now;
    const slots = this.slots;
    const sets = this.sets;
    const destinations = this.destinations;
    if (slot >= 0) {
      const b = slot << SLOT_SHIFT;
      // Linux (since 6.15) refreshes `updated` on every received frame, static entries included.
      if (slots[b + W_UPDATED] !== now) slots[b + W_UPDATED] = now;
      const set = slots[b + W_SET]!;
      const first = sets.first[set]!;
      const at = first * 4;
      const address = destinations.address;
      if (destinations.kind[first] === kind && address[at] === a0 && address[at + 1] === a1 && address[at + 2] === a2 && address[at + 3] === a3) {
        return LEARN_REFRESHED;
      }
      // Linux vxlan_snoop: a static or permanent entry does not migrate; the frame is dropped.
      if ((slots[b + W_FLAGS]! & NEVER_MOVES) !== 0) {
        stats.movesRefused++;
        return LEARN_DROP_STATIC;
      }
      const newSet = this.singletonFor(kind, a0, a1, a2, a3, port, remoteVni, via);
      if (newSet < 0) {
        stats.learnLimited++;
        return LEARN_LIMIT;
      }
      sets.retain(newSet);
      slots[b + W_SET] = newSet;
      if (this.hub.wants(EVENT_MOVED)) this.queueEntryEvent(EVENT_MOVED, vni, low, high, newSet, set);
      sets.release(set);
      stats.moved++;
      return LEARN_MOVED;
    }
    const max = vnis.maxEntries[v]!;
    if (this.count >= this.maxEntries || (max > 0 && vnis.entries[v]! >= max)) {
      stats.learnLimited++;
      return LEARN_LIMIT;
    }
    const set = this.singletonFor(kind, a0, a1, a2, a3, port, remoteVni, via);
    if (set < 0) {
      stats.learnLimited++;
      return LEARN_LIMIT;
    }
    sets.retain(set);
    this.insert(low, high, vni, v, set, 0);
    stats.learnt++;
    if (this.hub.wants(EVENT_LEARNT)) this.queueEntryEvent(EVENT_LEARNT, vni, low, high, set, -1);
    return LEARN_LEARNT;
  }

  private learnIpv6Key(vni: number, low: number, high: number, buf: Uint8Array, offset: number): number {
    if (!(offset >= 0 && offset + 16 <= buf.length)) {
      this.stats.invalidSource++;
      return LEARN_DROP_INVALID;
    }
    return this.learnKey(
      vni,
      low,
      high,
      DESTINATION_IPV6,
      (buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!,
      (buf[offset + 4]! << 24) | (buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!,
      (buf[offset + 8]! << 24) | (buf[offset + 9]! << 16) | (buf[offset + 10]! << 8) | buf[offset + 11]!,
      (buf[offset + 12]! << 24) | (buf[offset + 13]! << 16) | (buf[offset + 14]! << 8) | buf[offset + 15]!,
      this.port,
      SAME_VNI,
      NO_VIA,
    );
  }

  /** The singleton set of a destination, interning both; -1 at the ceiling. */
  private singletonFor(kind: number, a0: number, a1: number, a2: number, a3: number, port: number, remoteVni: number, via: number): number {
    const destinations = this.destinations;
    const id = destinations.intern(kind, a0, a1, a2, a3, port, remoteVni, via);
    if (id < 0) return -1;
    const set = this.sets.singleton(id);
    if (set < 0 && destinations.refs[id] === 0) {
      destinations.retain(id);
      destinations.release(id);
    }
    return set;
  }

  /** Queues an entry event; holds the sets until the flush. */
  private queueEntryEvent(type: number, vni: number, low: number, high: number, set: number, previous: number): void {
    const at = this.hub.reserve(type);
    if (at < 0) return;
    const w = this.hub.queue.words;
    w[at] = vni;
    w[at + 1] = low;
    w[at + 2] = high;
    w[at + 3] = set;
    w[at + 4] = previous;
    if (set >= 0) this.sets.retain(set);
    if (previous >= 0) this.sets.retain(previous);
  }

  /** Removes an expired entry; returns the slots the removal looked at. */
  private expire(slot: number): number {
    const b = slot << SLOT_SHIFT;
    const slots = this.slots;
    const set = slots[b + W_SET]!;
    if (this.hub.wants(EVENT_AGED)) this.queueEntryEvent(EVENT_AGED, slots[b + W_VNI]!, slots[b]!, slots[b + W_MAC_HIGH]!, set, -1);
    this.sets.release(set);
    this.stats.aged++;
    return this.removeSlot(slot);
  }

  private removeEntry(slot: number): void {
    const set = this.slots[(slot << SLOT_SHIFT) + W_SET]!;
    this.sets.release(set);
    this.removeSlot(slot);
  }

  private replaceSet(b: number, set: number): void {
    const old = this.slots[b + W_SET]!;
    if (old === set) return;
    this.sets.retain(set);
    this.slots[b + W_SET] = set;
    this.sets.release(old);
  }

  /**
   * Linux vxlan_fdb_update_existing: state and flags take the request's, unless an
   * extern_learn request meets an entry added by the user. `updated` is refreshed
   * when they change (checked against Linux 6.18: an update that changes nothing
   * does not refresh it).
   */
  private updateFlags(b: number, requested: number): void {
    const slots = this.slots;
    const current = slots[b + W_FLAGS]!;
    if ((requested & ENTRY_EXTERN_LEARN) === 0 || (current & ENTRY_ADDED_BY_USER) === 0) {
      const flags = requested | ENTRY_IN_USE;
      if (flags !== current) {
        slots[b + W_FLAGS] = flags;
        slots[b + W_UPDATED] = this.now;
      }
    }
  }

  // -------------------------------------------------------------------------
  // Private: friendly helpers
  // -------------------------------------------------------------------------

  private parseRequest(
    vni: number,
    mac: string | number,
    options: FdbEntryOptions,
  ): { vni: number; mac: number; low: number; high: number; destination: DestinationKey | undefined; flags: number } {
    const entryVni = parseVni(vni);
    const value = parseMacInput(mac, 'mac');
    checkObject(options, 'options');
    checkKeys(options, ENTRY_OPTION_KEYS, 'options');
    const destination = parseDestination(options, entryVni, this.port, '');
    if (destination === undefined) {
      throw new FdbError('BAD_VALUE', 'dst', 'dst (a remote VTEP address) or localPort is required');
    }
    const state = parseState(options.state, 'state', 'permanent');
    const externLearn = checkBoolean(options.externLearn, false, 'externLearn');
    const router = checkBoolean(options.router, false, 'router');
    const flags = stateFlags(state) | (externLearn ? ENTRY_EXTERN_LEARN : 0) | (router ? ENTRY_ROUTER : 0) | ENTRY_ADDED_BY_USER;
    return { vni: entryVni, mac: value, low: value | 0, high: (value / TWO_32) | 0, destination, flags };
  }

  private create(request: { vni: number; mac: number; low: number; high: number; destination: DestinationKey | undefined; flags: number }): void {
    const v = this.vniIndexFor(request.vni);
    this.checkRoom(v, 1, request.vni);
    const id = this.internDestination(request.destination!);
    const set = this.setFromList([id]);
    this.sets.retain(set);
    this.insert(request.low, request.high, request.vni, v, set, request.flags);
  }

  private checkRoom(v: number, more: number, vni: number): void {
    if (this.count + more > this.maxEntries) {
      throw new FdbError('LIMIT', 'mac', `the table holds at most ${this.maxEntries} entries (maxEntries); it has ${this.count}`);
    }
    const max = this.vnis.maxEntries[v]!;
    if (max > 0 && this.vnis.entries[v]! + more > max) {
      throw new FdbError('LIMIT', 'mac', `VNI ${vni} holds at most ${max} entries (maxEntries of the VNI); it has ${this.vnis.entries[v]}`);
    }
  }

  private viaIndex(key: DestinationKey): number {
    return key.via === undefined ? NO_VIA : this.destinations.viaId(key.via);
  }

  private findDestination(key: DestinationKey): number {
    const w = key.words;
    return this.destinations.find(key.kind, w[0], w[1], w[2], w[3], key.port, key.remoteVni, this.viaIndex(key));
  }

  private internDestination(key: DestinationKey): number {
    const w = key.words;
    const id = this.destinations.intern(key.kind, w[0], w[1], w[2], w[3], key.port, key.remoteVni, this.viaIndex(key));
    if (id < 0) throw new FdbError('LIMIT', 'dst', 'too many distinct destinations');
    return id;
  }

  private setFromList(ids: number[]): number {
    const set = this.sets.fromList(ids);
    if (set < 0) {
      for (const id of ids) {
        if (this.destinations.refs[id] === 0) {
          this.destinations.retain(id);
          this.destinations.release(id);
        }
      }
      throw new FdbError('LIMIT', 'dst', 'too many distinct destination sets');
    }
    return set;
  }

  private target(set: number): FdbEventTarget {
    const d = this.sets.first[set]!;
    const destinations = this.destinations;
    const target: FdbEventTarget = {};
    if (destinations.kind[d] === DESTINATION_LOCAL) {
      target.localPort = destinations.port[d]!;
    } else {
      target.dst = destinations.formatAddress(d);
      target.port = destinations.port[d]!;
      if (destinations.remoteVni[d] !== SAME_VNI) target.remoteVni = destinations.remoteVni[d]!;
    }
    const more = this.sets.size[set]! - 1;
    if (more > 0) target.more = more;
    return target;
  }

  private formatEvent(type: number, w: Int32Array, at: number): FdbEvent | NeighbourEvent {
    if (type >= EVENT_NEIGHBOUR_LEARNT) return this.formatNeighbourEvent(type, w, at);
    const macNumber = w[at + 2]! * TWO_32 + (w[at + 1]! >>> 0);
    const event: FdbEvent = { type: EVENT_NAMES[type] as FdbEvent['type'], vni: w[at]!, mac: formatMac(macNumber), macNumber };
    const set = w[at + 3]!;
    const previous = w[at + 4]!;
    if (type === EVENT_LEARNT || type === EVENT_MOVED) event.to = this.target(set);
    if (type === EVENT_MOVED) event.from = this.target(previous);
    if (type === EVENT_AGED) event.from = this.target(set);
    if (set >= 0) this.sets.release(set);
    if (previous >= 0) this.sets.release(previous);
    return event;
  }

  private formatNeighbourEvent(type: number, w: Int32Array, at: number): NeighbourEvent {
    const family = w[at + 1]!;
    let ip: string;
    if (family === 4) {
      ip = formatIpv4(w[at + 2]! >>> 0);
    } else {
      ip = formatIpv6Words(w, at + 2);
    }
    const event: NeighbourEvent = { type: EVENT_NAMES[type] as NeighbourEvent['type'], vni: w[at]!, ip };
    if (type !== EVENT_NEIGHBOUR_MISS) event.lladdr = formatMac(w[at + 7]! * TWO_32 + (w[at + 6]! >>> 0));
    if (type === EVENT_NEIGHBOUR_MOVED) event.previousLladdr = formatMac(w[at + 9]! * TWO_32 + (w[at + 8]! >>> 0));
    return event;
  }

  private rowsOf(slot: number, withStats: boolean, rows: FdbRow[]): void {
    const b = slot << SLOT_SHIFT;
    const slots = this.slots;
    const vni = slots[b + W_VNI]!;
    const flags = slots[b + W_FLAGS]!;
    const mac = formatMac(this.macAt(b));
    const set = slots[b + W_SET]!;
    const n = this.sets.size[set]!;
    const destinations = this.destinations;
    for (let k = 0; k < n; k++) {
      const d = this.sets.member(set, k);
      const row = { mac } as FdbRow;
      if (destinations.kind[d] === DESTINATION_LOCAL) {
        row.localPort = destinations.port[d]!;
      } else {
        row.dst = destinations.formatAddress(d);
        if (destinations.port[d] !== this.port) row.port = destinations.port[d]!;
        if (destinations.remoteVni[d] !== SAME_VNI) row.vni = destinations.remoteVni[d]!;
      }
      row.src_vni = vni;
      const via = destinations.viaName(destinations.via[d]!);
      if (via !== undefined) row.viaIf = via;
      if (withStats) {
        row.used = Math.max(0, this.now - slots[b + W_USED]!);
        row.updated = Math.max(0, this.now - slots[b + W_UPDATED]!);
      }
      row.flags = ['self'];
      if ((flags & ENTRY_ROUTER) !== 0) row.flags.push('router');
      if ((flags & ENTRY_EXTERN_LEARN) !== 0) row.flags.push('extern_learn');
      row.state = stateName(flags);
      rows.push(row);
    }
  }

  private parseRows(rows: unknown[], port: number): ParsedEntry[] {
    const groups = new Map<string, ParsedEntry>();
    rows.forEach((raw, index) => {
      const field = `fdb[${index}]`;
      const row = checkObject(raw, field);
      checkKeys(row, ROW_KEYS, field);
      if (row.mac === undefined) throw new FdbError('BAD_VALUE', `${field}.mac`, 'is required');
      const mac = parseMacInput(row.mac, `${field}.mac`);
      if (row.src_vni === undefined) throw new FdbError('BAD_VALUE', `${field}.src_vni`, 'is required (the VNI the entry belongs to)');
      const vni = parseVni(row.src_vni, `${field}.src_vni`);
      if (row.viaIf !== undefined && row.dst === undefined) throw new FdbError('BAD_VALUE', `${field}.viaIf`, 'needs dst');
      const destination = parseDestination({ dst: row.dst, localPort: row.localPort, port: row.port, vni: row.vni, via: row.viaIf }, vni, port, `${field}.`);
      if (destination === undefined) throw new FdbError('BAD_VALUE', `${field}.dst`, 'dst or localPort is required');
      for (const name of ['used', 'updated'] as const) {
        if (row[name] !== undefined) checkInteger(row[name], 0, Number.MAX_SAFE_INTEGER, `${field}.${name}`);
      }
      const state = row.state === '' ? 'dynamic' : parseState(row.state, `${field}.state`, 'permanent');
      let flags = stateFlags(state) | ENTRY_ADDED_BY_USER;
      if (row.flags !== undefined) {
        if (!Array.isArray(row.flags)) throw new FdbError('BAD_VALUE', `${field}.flags`, `must be an array of 'self', 'router', 'extern_learn', got ${describe(row.flags)}`);
        for (const flag of row.flags) {
          if (flag === 'router') flags |= ENTRY_ROUTER;
          else if (flag === 'extern_learn') flags |= ENTRY_EXTERN_LEARN;
          else if (flag !== 'self') throw new FdbError('BAD_VALUE', `${field}.flags`, `unknown flag ${describe(flag)}; allowed: self, router, extern_learn`);
        }
      }
      const key = `${vni}/${mac}`;
      const group = groups.get(key);
      if (group === undefined) {
        groups.set(key, { vni, mac, destinations: [destination], flags, field });
        return;
      }
      if (group.flags !== flags) {
        throw new FdbError('BAD_VALUE', `${field}.state`, `rows of ${formatMac(mac)} in VNI ${vni} disagree on state or flags (see ${group.field})`);
      }
      if (group.destinations.some((d) => sameKey(d, destination))) return;
      if (!isNonUnicast(mac)) {
        throw new FdbError('BAD_VALUE', `${field}.dst`, `${formatMac(mac)} is unicast: one destination only (see ${group.field})`);
      }
      if (group.destinations.length >= this.maxDestinationsPerEntry) {
        throw new FdbError('LIMIT', `${field}.dst`, `more than ${this.maxDestinationsPerEntry} destinations for ${formatMac(mac)} (maxDestinationsPerEntry)`);
      }
      group.destinations.push(destination);
    });
    return [...groups.values()];
  }

  private checkLoadLimits(entries: ParsedEntry[], replaceAll: boolean): void {
    const added = new Map<number, number>();
    let total = replaceAll ? 0 : this.count;
    for (const entry of entries) {
      if (!replaceAll && this.findSlot(entry.mac | 0, (entry.mac / TWO_32) | 0, entry.vni) >= 0) continue;
      added.set(entry.vni, (added.get(entry.vni) ?? 0) + 1);
      total++;
    }
    if (total > this.maxEntries) throw new FdbError('LIMIT', 'fdb', `the document needs ${total} entries; the table holds at most ${this.maxEntries} (maxEntries)`);
    let newVnis = 0;
    for (const [vni, more] of added) {
      const v = this.vnis.index(vni);
      if (v < 0) newVnis++;
      const max = v < 0 ? this.vnis.defaults.maxEntries : this.vnis.maxEntries[v]!;
      const have = v < 0 || replaceAll ? 0 : this.vnis.entries[v]!;
      if (max > 0 && have + more > max) throw new FdbError('LIMIT', 'fdb', `VNI ${vni} would hold ${have + more} entries; its limit is ${max}`);
    }
    if (this.vnis.count + newVnis > this.vnis.limit) throw new FdbError('LIMIT', 'fdb', `the document needs ${this.vnis.count + newVnis} VNIs; the table tracks at most ${this.vnis.limit} (maxVnis)`);
  }

  private writeLoaded(entry: ParsedEntry): void {
    const ids = entry.destinations.map((key) => this.internDestination(key));
    const set = this.setFromList(ids);
    const slot = this.findSlot(entry.mac | 0, (entry.mac / TWO_32) | 0, entry.vni);
    if (slot >= 0) {
      const b = slot << SLOT_SHIFT;
      const flags = entry.flags | ENTRY_IN_USE;
      if (this.slots[b + W_SET] !== set || this.slots[b + W_FLAGS] !== flags) this.slots[b + W_UPDATED] = this.now;
      this.replaceSet(b, set);
      this.slots[b + W_FLAGS] = flags;
      return;
    }
    const v = this.vniIndexFor(entry.vni);
    this.sets.retain(set);
    this.insert(entry.mac | 0, (entry.mac / TWO_32) | 0, entry.vni, v, set, entry.flags);
  }
}

/**
 * MAC bits 32..47 of a MAC number, as an int32; -1 (matches nothing, fails every
 * validity test) for a negative or NaN number. An int32, so passing it on never boxes.
 */
function highOf(mac: number): number {
  return mac >= 0 ? (mac / TWO_32) | 0 : -1;
}

/** MAC bits 0..31 of the 6 bytes at `offset`, as an int32. */
function macLowAt(buf: Uint8Array, offset: number): number {
  return (buf[offset + 2]! << 24) | (buf[offset + 3]! << 16) | (buf[offset + 4]! << 8) | buf[offset + 5]!;
}

/** MAC bits 32..47 of the 6 bytes at `offset`. */
function macHighAt(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}

function sameKey(a: DestinationKey, b: DestinationKey): boolean {
  return (
    a.kind === b.kind &&
    a.words.every((word, i) => word === b.words[i]) &&
    a.port === b.port &&
    a.remoteVni === b.remoteVni &&
    a.via === b.via
  );
}

function stateName(flags: number): 'permanent' | 'static' | '' {
  return (flags & ENTRY_PERMANENT) !== 0 ? 'permanent' : (flags & ENTRY_STATIC) !== 0 ? 'static' : '';
}

/** One `bridge fdb show` line (as Linux prints for a vxlan device in external mode). */
export function formatRow(row: FdbRow): string {
  const parts = [row.mac];
  if (row.dst !== undefined) parts.push('dst', row.dst);
  if (row.localPort !== undefined) parts.push('localPort', String(row.localPort));
  if (row.port !== undefined) parts.push('port', String(row.port));
  if (row.vni !== undefined) parts.push('vni', String(row.vni));
  parts.push('src_vni', String(row.src_vni));
  if (row.viaIf !== undefined) parts.push('via', row.viaIf);
  if (row.used !== undefined && row.updated !== undefined) parts.push('used', `${row.used}/${row.updated}`);
  parts.push(...row.flags);
  if (row.state !== '') parts.push(row.state);
  return parts.join(' ');
}

