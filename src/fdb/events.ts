/**
 * The events an FDB reports to a control plane, and the bounded queue that
 * carries them out of the datapath.
 *
 * The datapath never calls a listener: `learn`, `forward` and the sweep push a
 * fixed-size record of integers into typed arrays (nothing allocated), and only
 * when someone listens to that event type. The records become event objects when
 * the queue is flushed: by the table's timer tick, by a `setImmediate` scheduled
 * when the first record of a batch is queued, or by an explicit `flushEvents()`.
 * The queue is bounded; records that do not fit are counted (`eventsDropped`).
 */

export const EVENT_LEARNT = 1;
export const EVENT_MOVED = 2;
export const EVENT_AGED = 3;
export const EVENT_MISS = 4;
export const EVENT_NEIGHBOUR_LEARNT = 5;
export const EVENT_NEIGHBOUR_MOVED = 6;
export const EVENT_NEIGHBOUR_AGED = 7;
export const EVENT_NEIGHBOUR_MISS = 8;

/** Event names, indexed by the numeric type. */
export const EVENT_NAMES = ['', 'learnt', 'moved', 'aged', 'miss', 'neighbourLearnt', 'neighbourMoved', 'neighbourAged', 'neighbourMiss'] as const;

/** Where an entry points, in an event. */
export interface FdbEventTarget {
  /** Remote VTEP address (absent for a local port). */
  dst?: string;
  /** UDP destination port of the remote. */
  port?: number;
  /** Remote VNI, when it differs from the entry's. */
  remoteVni?: number;
  /** Local port number, for a local destination. */
  localPort?: number;
  /** Further destinations of a multi-destination entry (all-zeros, multicast). */
  more?: number;
}

export interface FdbEvent {
  type: 'learnt' | 'moved' | 'aged' | 'miss';
  vni: number;
  /** `02:00:00:00:00:01` */
  mac: string;
  /** The same MAC as a number (as the datapath sees it). */
  macNumber: number;
  /** learnt, moved: where the entry points now. */
  to?: FdbEventTarget;
  /** moved: where it pointed before; aged: where it pointed when it expired. */
  from?: FdbEventTarget;
}

export interface NeighbourEvent {
  type: 'neighbourLearnt' | 'neighbourMoved' | 'neighbourAged' | 'neighbourMiss';
  vni: number;
  /** The IPv4 or IPv6 address, as text. */
  ip: string;
  /** The link-layer address it resolves to (absent for a miss). */
  lladdr?: string;
  /** neighbourMoved: the previous link-layer address. */
  previousLladdr?: string;
}

export interface FdbEventMap {
  learnt: FdbEvent;
  moved: FdbEvent;
  aged: FdbEvent;
  miss: FdbEvent;
  neighbourLearnt: NeighbourEvent;
  neighbourMoved: NeighbourEvent;
  neighbourAged: NeighbourEvent;
  neighbourMiss: NeighbourEvent;
}

export type FdbEventName = keyof FdbEventMap;

/** Words per queued record besides its type. */
export const EVENT_WORDS = 10;

/** A ring of fixed-size integer records. */
export class EventQueue {
  readonly capacity: number;
  readonly types: Uint8Array;
  readonly words: Int32Array;
  length = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.types = new Uint8Array(capacity);
    this.words = new Int32Array(capacity * EVENT_WORDS);
  }

  /** Reserves a record and returns its word offset, or -1 when full. */
  reserve(type: number): number {
    if (this.length === this.capacity) return -1;
    const at = this.length++;
    this.types[at] = type;
    return at * EVENT_WORDS;
  }
}

/** Parses `fdb.on()` names, for a clear error on a typo. */
export function eventType(name: string): number {
  const index = (EVENT_NAMES as readonly string[]).indexOf(name);
  return index > 0 ? index : -1;
}

type Listener = (event: never) => void;

/**
 * Listeners, the queue, and the flush. `wants(type)` is one bit test, so the
 * datapath skips building a record when nobody listens.
 */
export class EventHub {
  readonly queue: EventQueue;
  /** Bit `1 << type` is set while `type` has listeners. */
  listening = 0;
  private readonly listeners: Listener[][] = EVENT_NAMES.map(() => []);
  private scheduled = false;
  private readonly flushSoon = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    capacity: number,
    private readonly autoFlush: boolean,
    /** Turns record `index` (words at `at`) into an event object and releases what the record held. */
    private readonly format: (type: number, words: Int32Array, at: number) => FdbEvent | NeighbourEvent,
    private readonly counters: { eventsDropped: number },
  ) {
    this.queue = new EventQueue(capacity);
  }

  wants(type: number): boolean {
    return (this.listening & (1 << type)) !== 0;
  }

  /** Reserves a record (word offset), or -1 when the queue is full (counted). */
  reserve(type: number): number {
    const at = this.queue.reserve(type);
    if (at < 0) {
      this.counters.eventsDropped++;
      return -1;
    }
    if (this.autoFlush && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSoon);
    }
    return at;
  }

  on(type: number, listener: Listener): void {
    this.listeners[type]!.push(listener);
    this.listening |= 1 << type;
  }

  off(type: number, listener: Listener): void {
    const list = this.listeners[type]!;
    const at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0) this.listening &= ~(1 << type);
  }

  /** Delivers every queued record; returns how many. Listeners run after the queue is emptied. */
  flush(): number {
    const queue = this.queue;
    const n = queue.length;
    if (n === 0) return 0;
    const built: [number, FdbEvent | NeighbourEvent][] = [];
    for (let i = 0; i < n; i++) {
      const type = queue.types[i]!;
      built.push([type, this.format(type, queue.words, i * EVENT_WORDS)]);
    }
    queue.length = 0;
    for (const [type, event] of built) {
      for (const listener of this.listeners[type]!.slice()) (listener as (e: FdbEvent | NeighbourEvent) => void)(event);
    }
    return n;
  }
}
