/**
 * The hot-path buffer pool: fixed-size packet slots carved from a few large slabs.
 *
 * Every slot has the same layout (offsets are relative to the slot):
 *
 *    0                 headroom                     slotSize - tailroom        slotSize
 *    +-----------------+-------------------------------+---------------------+
 *    |    headroom     |            frame              |      tailroom       |
 *    | (outer headers  | (the inner Ethernet frame,    | (ESP padding, pad   |
 *    |  are written    |  maxFrameLength bytes)        |  length, next       |
 *    |  here, back to  |                               |  header, ICV)       |
 *    |  front)         |                               |                     |
 *    +-----------------+-------------------------------+---------------------+
 *
 * A frame is received at `offset = headroom`; encapsulation moves `offset` back
 * ({@link PacketBuffer.prepend}) and writes the outer headers in front of it, so
 * the frame is never copied. ESP appends its trailer and ICV into the tailroom
 * ({@link PacketBuffer.append}).
 *
 * Nothing here allocates or throws per packet: handles are created once per slot,
 * the free list is an Int32Array stack, slot states are a Uint8Array, and every
 * failure on the hot path (exhaustion, double release, foreign release) is a
 * counted return value.
 */

// ---------------------------------------------------------------------------
// Headroom and tailroom budgets (the worst case the engine can build).
// ---------------------------------------------------------------------------

/**
 * Worst-case bytes written in front of the inner frame:
 *  - outer Ethernet header 14 (IEEE 802.3) + 802.1Q tag 4 (IEEE 802.1Q);
 *  - outer IPv6 header 40 (RFC 8200 3), tunnel-mode ESP's outer header;
 *  - UDP 8 for ESP-in-UDP (RFC 3948 2.1);
 *  - ESP header 8: SPI + sequence number (RFC 4303 2);
 *  - IV 16, the largest we use (AES-CBC, RFC 3602 3; AES-GCM needs 8, RFC 4106 3.1);
 *  - IPv6 40 (RFC 8200 3) + UDP 8 (RFC 768) of the tunnel packet itself;
 *  - Geneve base header 8 (RFC 8926 3.4) + options up to 252:
 *    RFC 8926 3.4: Opt Len is 6 bits in 4-byte multiples, so at most 63 * 4.
 * (VXLAN needs the same 8 bytes as the Geneve base header and no options.)
 */
export const WORST_CASE_HEADROOM = 14 + 4 + 40 + 8 + 8 + 16 + 40 + 8 + 8 + 252; // 398

/**
 * Worst-case bytes written after the inner frame by ESP:
 * RFC 4303 2.4: padding to the cipher's block size, at most 15 for a 16-byte block;
 * RFC 4303 2.5, 2.6: Pad Length 1 + Next Header 1;
 * RFC 4303 2.8: ICV, 16 for AES-GCM-16 (RFC 4106 6) and HMAC-SHA-256-128 (RFC 4868 2.3).
 * (RFC 4303 allows up to 255 bytes of padding; we never pad past the block size.)
 */
export const WORST_CASE_TAILROOM = 15 + 2 + 16; // 33

/** Slot size: 2048 = 448 + 1536 + 64. */
export const DEFAULT_SLOT_SIZE = 2048;
/** {@link WORST_CASE_HEADROOM} (398) rounded up to a multiple of 64. */
export const DEFAULT_HEADROOM = 448;
/** {@link WORST_CASE_TAILROOM} (33) rounded up to a multiple of 64. */
export const DEFAULT_TAILROOM = 64;
/** Total slots a pool may ever hand out. */
export const DEFAULT_CAPACITY = 4096;
/** Slots per slab: 1024 * 2048 = one 2 MiB ArrayBuffer per slab. */
export const DEFAULT_SLAB_SLOTS = 1024;

/** Slot sizes are multiples of this, so every slot starts on a cache line. */
export const SLOT_ALIGNMENT = 64;
export const SLOT_SIZE_MIN = 128;
export const SLOT_SIZE_MAX = 262144;
/** The frame area must hold at least a minimum Ethernet frame (60 bytes plus FCS). */
export const MIN_FRAME_ROOM = 64;
/** Slot indices live in an Int32Array; 16 Mi slots is far beyond any sane pool. */
export const CAPACITY_MAX = 1 << 24;
/** One slab is one ArrayBuffer; keep each well under the engine's ArrayBuffer limit. */
export const SLAB_BYTES_MAX = 1 << 30;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** The stable string codes carried by {@link PoolError}. */
export type PoolErrorCode = 'BAD_CONFIG';

/** A bad pool configuration. Never thrown on the hot path (acquire/release). */
export class PoolError extends Error {
  override readonly name = 'PoolError';
  constructor(
    readonly code: PoolErrorCode,
    /** The option at fault (`slotSize`, `headroom`, …). */
    readonly field: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

// ---------------------------------------------------------------------------
// Options and statistics
// ---------------------------------------------------------------------------

export interface BufferPoolOptions {
  /** Bytes per slot, a multiple of 64 in 128..262144. Default 2048. */
  slotSize?: number;
  /** Bytes in front of the frame for outer headers. Default 448. */
  headroom?: number;
  /** Bytes after the largest frame for the ESP trailer and ICV. Default 64. */
  tailroom?: number;
  /** Total slots, 1..16777216. The pool never holds more. Default 4096. */
  capacity?: number;
  /** Slots per slab (one ArrayBuffer each), at most 1 GiB per slab. Default 1024, clamped to capacity. */
  slabSlots?: number;
  /**
   * Allocate slabs on demand instead of all at construction. Default false.
   * A lazy pool allocates one slab (and its handles) when every allocated slot is
   * in use and fewer than `capacity` slots exist; it never shrinks.
   */
  lazy?: boolean;
}

const OPTION_NAMES: readonly string[] = ['slotSize', 'headroom', 'tailroom', 'capacity', 'slabSlots', 'lazy'];

/** Live counters. Read them; the pool writes them. */
export class PoolStats {
  /** Buffers handed out (by acquire and acquireBatch). */
  acquired = 0;
  /** Buffers taken back. */
  released = 0;
  /** acquire() calls that returned null, plus acquireBatch() calls that returned fewer than asked. */
  exhausted = 0;
  /** release() of a buffer that was already free; refused, the free list is untouched. */
  doubleRelease = 0;
  /** release() of something that is not one of this pool's handles; refused. */
  foreignRelease = 0;
  /** Largest number of buffers in use at once. */
  highWater = 0;
}

/** A plain-object copy of a pool's configuration and counters, for the counters page. */
export interface PoolSnapshot {
  capacity: number;
  slotSize: number;
  headroom: number;
  tailroom: number;
  maxFrameLength: number;
  slabSlots: number;
  /** Slabs allocated so far (all of them unless the pool is lazy). */
  slabs: number;
  /** Slots allocated so far (capacity unless the pool is lazy). */
  allocatedSlots: number;
  inUse: number;
  available: number;
  acquired: number;
  released: number;
  exhausted: number;
  doubleRelease: number;
  foreignRelease: number;
  highWater: number;
}

// ---------------------------------------------------------------------------
// The packet handle
// ---------------------------------------------------------------------------

/**
 * One slot of a {@link BufferPool}. The pool creates exactly one per slot, once,
 * and hands the same object out each time the slot is acquired.
 *
 * The data is `bytes[offset .. offset + length)`. The hot path reads and writes
 * `bytes`, `offset` and `length` directly and passes `(bytes, offset, end)` to the
 * `readX`/`writeX` codecs; {@link data} allocates a view and is for other code.
 *
 * After release the handle belongs to the pool again: keeping and using it is a
 * use-after-free that the pool cannot see once the slot is handed out again
 * ({@link generation} lets debugging code notice).
 */
export class PacketBuffer {
  /** Start of the data within {@link bytes}. Starts at the pool's headroom. */
  offset: number;
  /** Data length in bytes. Starts at 0. */
  length = 0;
  /** Incremented (mod 2^30) each time the slot is acquired. */
  generation = 0;

  /** @internal Created by {@link BufferPool}; a handle made elsewhere is refused by `release`. */
  constructor(
    /** The pool this slot belongs to. */
    readonly pool: BufferPool,
    /** Slot id, 0 .. capacity - 1. */
    readonly index: number,
    /** The whole slot (headroom, frame and tailroom), a view into a shared slab, created once. */
    readonly bytes: Uint8Array,
  ) {
    this.offset = pool.headroom;
  }

  /** First byte past the data: `offset + length`. */
  get end(): number {
    return this.offset + this.length;
  }

  /** Bytes free in front of the data (Linux: skb_headroom). */
  get headroom(): number {
    return this.offset;
  }

  /** Bytes free after the data, up to the end of the slot (Linux: skb_tailroom). */
  get tailroom(): number {
    return this.bytes.length - this.offset - this.length;
  }

  /**
   * Grows the data by `n` bytes at the front (for an outer header) and returns true,
   * or returns false and changes nothing if `n` is not a non-negative integer or
   * there are fewer than `n` bytes of headroom left.
   */
  prepend(n: number): boolean {
    if ((n | 0) !== n || n < 0 || n > this.offset) return false;
    this.offset -= n;
    this.length += n;
    return true;
  }

  /**
   * Grows the data by `n` bytes at the back (for a trailer), up to the end of the
   * slot. Returns false and changes nothing if there is no room.
   */
  append(n: number): boolean {
    if ((n | 0) !== n || n < 0 || n > this.bytes.length - this.offset - this.length) return false;
    this.length += n;
    return true;
  }

  /**
   * Removes `n` bytes from the front (an outer header, on decapsulation).
   * Returns false and changes nothing if the data is shorter than `n`.
   */
  pull(n: number): boolean {
    if ((n | 0) !== n || n < 0 || n > this.length) return false;
    this.offset += n;
    this.length -= n;
    return true;
  }

  /**
   * Removes `n` bytes from the back (a trailer, on decapsulation).
   * Returns false and changes nothing if the data is shorter than `n`.
   */
  trim(n: number): boolean {
    if ((n | 0) !== n || n < 0 || n > this.length) return false;
    this.length -= n;
    return true;
  }

  /** Empties the buffer: offset back to the pool's headroom, length 0. Bytes are not cleared. */
  reset(): void {
    this.offset = this.pool.headroom;
    this.length = 0;
  }

  /**
   * Resets, then copies `frame` in at the headroom. Returns false and copies nothing
   * if the frame is longer than the pool's `maxFrameLength` (the tailroom is kept free).
   */
  copyFrom(frame: Uint8Array): boolean {
    if (frame.length > this.pool.maxFrameLength) return false;
    this.offset = this.pool.headroom;
    this.bytes.set(frame, this.offset);
    this.length = frame.length;
    return true;
  }

  /** A view of the data. Allocates a view object: not for the per-packet path. */
  data(): Uint8Array {
    return this.bytes.subarray(this.offset, this.offset + this.length);
  }

  /** Returns the buffer to its pool; same as `pool.release(this)`. */
  release(): boolean {
    return this.pool.release(this);
  }
}

// ---------------------------------------------------------------------------
// The pool
// ---------------------------------------------------------------------------

const SLOT_FREE = 0;
const SLOT_IN_USE = 1;

function badConfig(field: string, message: string): PoolError {
  return new PoolError('BAD_CONFIG', field, message);
}

function integerOption(options: BufferPoolOptions, field: keyof BufferPoolOptions, fallback: number, min: number, max: number, extra = ''): number {
  const value = options[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badConfig(field, `${field} must be an integer in ${min}..${max}${extra}, got ${String(value)}`);
  }
  return value;
}

/**
 * A bounded pool of fixed-size packet buffers.
 *
 * - `acquire()` returns a buffer or, when all `capacity` slots are in use, null
 *   (counted in `stats.exhausted`); the pool never grows past `capacity`.
 * - `release()` returns true, or false for a buffer that is already free
 *   (`stats.doubleRelease`) or is not this pool's (`stats.foreignRelease`); a refused
 *   release leaves the free list untouched.
 * - Free slots are a LIFO stack, so the most recently released (cache-warm) slot is
 *   reused first.
 */
export class BufferPool {
  readonly slotSize: number;
  /** Initial data offset in every slot. */
  readonly headroom: number;
  /** Bytes kept free after the largest frame. */
  readonly tailroom: number;
  /** Largest frame that fits between headroom and tailroom: slotSize - headroom - tailroom. */
  readonly maxFrameLength: number;
  readonly capacity: number;
  /** Slots per slab (after clamping to capacity). */
  readonly slabSlots: number;
  readonly lazy: boolean;
  /** Live counters (see {@link PoolStats}); `snapshot()` copies them. */
  readonly stats: Readonly<PoolStats>;

  private readonly counters: PoolStats;
  /** One handle per allocated slot, indexed by slot id. */
  private readonly handles: PacketBuffer[] = [];
  /** Free slot ids; `freeStack[top - 1]` is the next one handed out. */
  private readonly freeStack: Int32Array;
  /** SLOT_FREE or SLOT_IN_USE per slot id. */
  private readonly slotState: Uint8Array;
  private readonly slabList: ArrayBuffer[] = [];
  private top = 0;
  private inUseCount = 0;
  private allocated = 0;

  constructor(options: BufferPoolOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw badConfig('options', `options must be an object with fields ${OPTION_NAMES.join(', ')}`);
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.includes(key)) {
        throw badConfig(key, `unknown option ${key}; allowed: ${OPTION_NAMES.join(', ')}`);
      }
    }
    const slotSize = integerOption(options, 'slotSize', DEFAULT_SLOT_SIZE, SLOT_SIZE_MIN, SLOT_SIZE_MAX, ', a multiple of 64');
    if (slotSize % SLOT_ALIGNMENT !== 0) {
      throw badConfig('slotSize', `slotSize must be a multiple of ${SLOT_ALIGNMENT} in ${SLOT_SIZE_MIN}..${SLOT_SIZE_MAX}, got ${slotSize}`);
    }
    const roomMax = slotSize - MIN_FRAME_ROOM;
    const headroom = integerOption(options, 'headroom', DEFAULT_HEADROOM, 0, roomMax, ` (slotSize ${slotSize} minus ${MIN_FRAME_ROOM} frame bytes)`);
    const tailroom = integerOption(options, 'tailroom', DEFAULT_TAILROOM, 0, roomMax, ` (slotSize ${slotSize} minus ${MIN_FRAME_ROOM} frame bytes)`);
    if (headroom + tailroom > roomMax) {
      throw badConfig(
        'headroom',
        `headroom (${headroom}) + tailroom (${tailroom}) must be at most ${roomMax}, leaving at least ${MIN_FRAME_ROOM} frame bytes in a ${slotSize}-byte slot`,
      );
    }
    const capacity = integerOption(options, 'capacity', DEFAULT_CAPACITY, 1, CAPACITY_MAX);
    const slabSlotsMax = Math.floor(SLAB_BYTES_MAX / slotSize);
    const slabSlots = integerOption(options, 'slabSlots', Math.min(DEFAULT_SLAB_SLOTS, slabSlotsMax), 1, slabSlotsMax, ` (at most ${SLAB_BYTES_MAX} bytes per slab)`);
    const lazy = options.lazy ?? false;
    if (typeof lazy !== 'boolean') {
      throw badConfig('lazy', `lazy must be true or false, got ${String(lazy)}`);
    }

    this.slotSize = slotSize;
    this.headroom = headroom;
    this.tailroom = tailroom;
    this.maxFrameLength = slotSize - headroom - tailroom;
    this.capacity = capacity;
    this.slabSlots = Math.min(slabSlots, capacity);
    this.lazy = lazy;
    this.counters = new PoolStats();
    this.stats = this.counters;
    this.freeStack = new Int32Array(capacity);
    this.slotState = new Uint8Array(capacity);

    if (lazy) {
      this.addSlab();
    } else {
      // Carve every slab now, then stack the ids so slot 0 is handed out first.
      while (this.allocated < capacity) this.carveSlab();
      for (let index = capacity - 1; index >= 0; index--) this.freeStack[this.top++] = index;
    }
  }

  /** Buffers that can still be acquired, including slots of slabs a lazy pool has not allocated yet. */
  get available(): number {
    return this.capacity - this.inUseCount;
  }

  /** Buffers currently held by callers. */
  get inUse(): number {
    return this.inUseCount;
  }

  /** Slabs (ArrayBuffers) allocated so far. */
  get slabs(): number {
    return this.slabList.length;
  }

  /** Slots allocated so far: `capacity` unless the pool is lazy. */
  get allocatedSlots(): number {
    return this.allocated;
  }

  /**
   * Takes a free buffer (offset = headroom, length = 0), or returns null and counts
   * `stats.exhausted` when every slot is in use. Never throws; allocates only when a
   * lazy pool adds a slab.
   */
  acquire(): PacketBuffer | null {
    if (this.top === 0 && !this.addSlab()) {
      this.counters.exhausted++;
      return null;
    }
    const index = this.freeStack[--this.top]!;
    return this.take(index);
  }

  /**
   * Fills `out[0 .. n)` with up to `count` buffers and returns n. Returns fewer (and
   * counts one `stats.exhausted`) when the pool runs out. Pass an array already
   * `count` long (reused per batch) so nothing is allocated.
   */
  acquireBatch(out: PacketBuffer[], count: number): number {
    // What take() does, with the counters updated once per batch.
    const stack = this.freeStack;
    const state = this.slotState;
    const handles = this.handles;
    const headroom = this.headroom;
    let top = this.top;
    let n = 0;
    while (n < count) {
      if (top === 0) {
        // addSlab() pushes onto the stack from this.top.
        this.top = 0;
        if (!this.addSlab()) {
          this.counters.exhausted++;
          break;
        }
        top = this.top;
      }
      const index = stack[--top]!;
      state[index] = SLOT_IN_USE;
      const buf = handles[index]!;
      buf.offset = headroom;
      buf.length = 0;
      buf.generation = (buf.generation + 1) & 0x3fffffff;
      out[n++] = buf;
    }
    this.top = top;
    if (n > 0) {
      const inUse = (this.inUseCount += n);
      const stats = this.counters;
      stats.acquired += n;
      if (inUse > stats.highWater) stats.highWater = inUse;
    }
    return n;
  }

  /**
   * Returns a buffer to the pool: true, or false (counted, nothing changed) if it is
   * already free or is not one of this pool's handles. Never throws. The bytes are
   * not cleared.
   */
  release(buf: PacketBuffer): boolean {
    // Identity, not just index: a handle from another pool, or a forged one, is refused.
    if (buf == null || this.handles[buf.index] !== buf) {
      this.counters.foreignRelease++;
      return false;
    }
    const index = buf.index;
    if (this.slotState[index] !== SLOT_IN_USE) {
      this.counters.doubleRelease++;
      return false;
    }
    this.slotState[index] = SLOT_FREE;
    this.freeStack[this.top++] = index;
    this.inUseCount--;
    this.counters.released++;
    return true;
  }

  /** Releases `bufs[0 .. count)`; returns how many were accepted (the rest are counted as in release()). */
  releaseBatch(bufs: ArrayLike<PacketBuffer>, count: number = bufs.length): number {
    // The checks of release(), buffer by buffer; the counters once per batch.
    const stack = this.freeStack;
    const state = this.slotState;
    const handles = this.handles;
    let top = this.top;
    let released = 0;
    for (let i = 0; i < count; i++) {
      const buf = bufs[i];
      // Identity, not just index: a handle from another pool, or a forged one, is refused.
      if (buf == null || handles[buf.index] !== buf) {
        this.counters.foreignRelease++;
        continue;
      }
      const index = buf.index;
      if (state[index] !== SLOT_IN_USE) {
        this.counters.doubleRelease++;
        continue;
      }
      state[index] = SLOT_FREE;
      stack[top++] = index;
      released++;
    }
    this.top = top;
    this.inUseCount -= released;
    this.counters.released += released;
    return released;
  }

  /** A plain-object copy of the configuration and counters. Allocates; not for the per-packet path. */
  snapshot(): PoolSnapshot {
    const stats = this.counters;
    return {
      capacity: this.capacity,
      slotSize: this.slotSize,
      headroom: this.headroom,
      tailroom: this.tailroom,
      maxFrameLength: this.maxFrameLength,
      slabSlots: this.slabSlots,
      slabs: this.slabList.length,
      allocatedSlots: this.allocated,
      inUse: this.inUseCount,
      available: this.capacity - this.inUseCount,
      acquired: stats.acquired,
      released: stats.released,
      exhausted: stats.exhausted,
      doubleRelease: stats.doubleRelease,
      foreignRelease: stats.foreignRelease,
      highWater: stats.highWater,
    };
  }

  private take(index: number): PacketBuffer {
    this.slotState[index] = SLOT_IN_USE;
    const inUse = ++this.inUseCount;
    const stats = this.counters;
    stats.acquired++;
    if (inUse > stats.highWater) stats.highWater = inUse;
    const buf = this.handles[index]!;
    buf.offset = this.headroom;
    buf.length = 0;
    buf.generation = (buf.generation + 1) & 0x3fffffff;
    return buf;
  }

  /**
   * Lazy pools: allocates the next slab and pushes its slots on the free stack, lowest
   * id on top. Returns false when all `capacity` slots already exist. Called only with
   * an empty free stack, so the stack (sized `capacity`) never overflows.
   */
  private addSlab(): boolean {
    const first = this.allocated;
    if (first >= this.capacity) return false;
    const slots = this.carveSlab();
    for (let i = slots - 1; i >= 0; i--) this.freeStack[this.top++] = first + i;
    return true;
  }

  /** Allocates one slab (one ArrayBuffer) and one handle per slot in it; returns the slot count. */
  private carveSlab(): number {
    const first = this.allocated;
    const slots = Math.min(this.slabSlots, this.capacity - first);
    const slotSize = this.slotSize;
    const slab = new ArrayBuffer(slots * slotSize);
    this.slabList.push(slab);
    for (let i = 0; i < slots; i++) {
      this.handles.push(new PacketBuffer(this, first + i, new Uint8Array(slab, i * slotSize, slotSize)));
    }
    this.allocated = first + slots;
    return slots;
  }
}
