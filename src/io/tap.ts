/**
 * A Linux TAP device: Ethernet frames in and out of the kernel, read in batches
 * straight into pool buffers.
 *
 * The native addon (native-shims/src/tap.c, loaded by `native.ts`) makes the
 * syscalls; everything else is decided here: option checks, which buffers are armed,
 * who owns a frame, what is counted. See docs/tap.md.
 *
 * Receive: `start(pool, onFrames)` arms `budget` pool buffers (at their headroom)
 * with the addon once. When the fd is readable the addon reads up to `budget`
 * frames into them and calls back once for the whole batch; `onFrames(frames,
 * count)` then owns `frames[0 .. count)` (release them or keep them), and the
 * device arms fresh buffers from the pool in their place. An empty pool is a
 * counted drop (`rxNoBuffer`), never an exception.
 *
 * Transmit: `writeFrames(buffers, count)` writes a batch in one call into the
 * addon and returns how many frames went; the rest are counted in `txDropped`.
 * The kernel copies each frame, so the caller keeps (and may release) the buffers.
 */
import { BufferPool } from '../pool/pool.js';
import type { PacketBuffer } from '../pool/pool.js';
import { WireError } from '../wire/errors.js';
import { ETHERNET_HEADER_LENGTH, MAC_BROADCAST, isMulticastMac, parseMac, readMac, writeMac } from '../wire/ethernet.js';
import { ArmedSlots } from './armed.js';
import { tapAddon, tapAddonMissingMessage, tapAddonProblem } from './native.js';
import type { NativeSyscallError, TapAddon, TapReaderHandle } from './native.js';

export { isTapAvailable } from './native.js';

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const TAP_NAME_MAX_BYTES = 15;
/** RFC 791: every IPv4 host must take 68-byte datagrams; Linux's minimum Ethernet MTU (ETH_MIN_MTU). */
export const TAP_MTU_MIN = 68;
/** The largest MTU we ask for; the kernel's TAP limit is 65521 (65535 minus the Ethernet header) and it refuses more with EINVAL. */
export const TAP_MTU_MAX = 65535;
/** Frames read per batch unless `start` is told otherwise (wireguard-go moves 128 per call). */
export const TAP_DEFAULT_BUDGET = 64;
export const TAP_BUDGET_MAX = 1024;

/** SIOCGIFFLAGS bits (Linux include/uapi/linux/if.h). */
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/**
 * Stable codes of {@link TapError}. A failed syscall carries its errno name
 * (`EPERM`, `ENOENT`, `EBUSY`, `EINVAL`, `ENODEV`, `EBADFD`, ...) as the code.
 */
export type TapErrorCode =
  /** The native addon is not built or does not load; the message says how to build it. */
  | 'ADDON_MISSING'
  /** Interface name too long (more than 15 bytes), or with '/', ':', whitespace, or a bad '%'. */
  | 'BAD_NAME'
  /** MTU not an integer in 68..65535. */
  | 'BAD_MTU'
  /** MAC not a 48-bit unicast, non-zero address. */
  | 'BAD_MAC'
  /** Any other bad option or argument; `field` names it. */
  | 'BAD_VALUE'
  /** The device is closed (double close, write or start after close). */
  | 'CLOSED'
  /** `start` on a device that is already reading. */
  | 'STARTED'
  /** A syscall failed: the errno name. */
  | `E${string}`;

export class TapError extends Error {
  override readonly name = 'TapError';
  constructor(
    readonly code: TapErrorCode,
    message: string,
    /** The offending option or argument, for BAD_* codes. */
    readonly field?: string,
    /** The failing syscall (`ioctl(TUNSETIFF)`, `write`, ...), for errno codes. */
    readonly syscall?: string,
    /** The errno number, for errno codes. */
    readonly errno?: number,
  ) {
    super(field === undefined ? `${code}: ${message}` : `${code} (${field}): ${message}`);
  }
}

const HINTS: Record<string, string> = {
  EPERM: 'creating or configuring a TAP device needs CAP_NET_ADMIN (run as root)',
  EACCES: 'opening /dev/net/tun needs read-write access to it (run as root)',
  ENOENT: '/dev/net/tun is missing: load the tun module (modprobe tun) or pass the device into the container',
  EBUSY: 'the device is already open (open it with multiQueue to share it), or exclusive was asked and it exists',
  EINVAL: 'a device with this name exists but is not a TAP with these flags (or the value is out of the kernel range)',
  ENODEV: 'no interface with this name in this network namespace',
  EBADFD: 'the TAP device was removed',
  EBADF: 'the TAP device was removed or its descriptor closed',
};

/** Wraps an error thrown by the addon (errno code + syscall) as a TapError; rethrows anything else. */
function syscallError(error: unknown, action: string): TapError {
  if (!(error instanceof Error)) throw error;
  const native = error as Partial<NativeSyscallError>;
  const code = native.code;
  if (typeof code !== 'string' || !code.startsWith('E') || typeof native.syscall !== 'string') throw error;
  const hint = HINTS[code];
  return new TapError(code as TapErrorCode, `${action}: ${error.message}${hint === undefined ? '' : `; ${hint}`}`, undefined, native.syscall, native.errno);
}

function addon(): TapAddon {
  const loaded = tapAddon();
  if (loaded === undefined) {
    throw new TapError('ADDON_MISSING', tapAddonMissingMessage(tapAddonProblem() ?? 'the TAP addon did not load'));
  }
  return loaded;
}

// ---------------------------------------------------------------------------
// Option checks (pure; they run before the addon is touched)
// ---------------------------------------------------------------------------

/**
 * Checks an interface name as Linux does (dev_valid_name, dev_alloc_name): at most
 * 15 bytes, not "." or "..", no '/', ':' or whitespace, and at most one '%' which
 * must be "%d" (the kernel picks the number). "" lets the kernel name it tapN.
 */
export function checkTapName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string') throw new TapError('BAD_NAME', `must be a string, got ${typeof name}`, field);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > TAP_NAME_MAX_BYTES) {
    throw new TapError('BAD_NAME', `${JSON.stringify(name)} is ${bytes} bytes; interface names are at most ${TAP_NAME_MAX_BYTES}`, field);
  }
  if (name === '.' || name === '..' || /[/:\s\0]/.test(name)) {
    throw new TapError('BAD_NAME', `${JSON.stringify(name)} is not an interface name (no '/', ':', whitespace; not "." or "..")`, field);
  }
  const percent = name.indexOf('%');
  if (percent >= 0 && (name[percent + 1] !== 'd' || name.includes('%', percent + 2))) {
    throw new TapError('BAD_NAME', `${JSON.stringify(name)}: '%' is only allowed once, as "%d"`, field);
  }
  return name;
}

/** Checks an MTU: an integer in 68..65535. */
export function checkTapMtu(mtu: unknown, field = 'mtu'): number {
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < TAP_MTU_MIN || mtu > TAP_MTU_MAX) {
    throw new TapError('BAD_MTU', `must be an integer in ${TAP_MTU_MIN}..${TAP_MTU_MAX}, got ${String(mtu)}`, field);
  }
  return mtu;
}

/** Checks a MAC (a 48-bit number or "02:00:00:00:00:01"): unicast and non-zero, as the kernel requires. */
export function checkTapMac(mac: unknown, field = 'mac'): number {
  let value: number;
  if (typeof mac === 'string') {
    try {
      value = parseMac(mac);
    } catch (error) {
      if (error instanceof WireError) throw new TapError('BAD_MAC', `${JSON.stringify(mac)} is not a MAC address like 02:00:00:00:00:01`, field);
      throw error;
    }
  } else if (typeof mac === 'number' && Number.isInteger(mac) && mac >= 0 && mac <= MAC_BROADCAST) {
    value = mac;
  } else {
    throw new TapError('BAD_MAC', `must be a 48-bit number or a string like 02:00:00:00:00:01, got ${String(mac)}`, field);
  }
  if (value === 0 || isMulticastMac(value)) {
    throw new TapError('BAD_MAC', `must be a unicast, non-zero address (low bit of the first byte clear), got ${String(mac)}`, field);
  }
  return value;
}

function checkBoolean(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TapError('BAD_VALUE', `must be true or false, got ${String(value)}`, field);
  return value;
}

// ---------------------------------------------------------------------------
// The device
// ---------------------------------------------------------------------------

export interface TapOptions {
  /** Interface name, at most 15 bytes; may hold one "%d". Default "": the kernel names it tapN. */
  name?: string;
  /** IFF_MULTI_QUEUE: each open of the same name adds a queue (one TapDevice per queue). Default false. */
  multiQueue?: boolean;
  /** IFF_TUN_EXCL: fail with EBUSY instead of attaching when the device exists. Default false. */
  exclusive?: boolean;
  /** TUNSETPERSIST: keep the device when it is closed. Default false. */
  persist?: boolean;
  /** Set the MTU (68..65535) after opening. */
  mtu?: number;
  /** Set the MAC (48-bit number or string) after opening; default: the kernel's random one. */
  mac?: number | string;
  /** Bring the link up (true) or down (false) after opening; default: leave it. */
  up?: boolean;
}

const OPTION_NAMES: readonly string[] = ['name', 'multiQueue', 'exclusive', 'persist', 'mtu', 'mac', 'up'];

export interface TapCloseOptions {
  /**
   * Remove the device (true) or keep it (false). Default: remove unless the device
   * is persistent. `true` on a persistent device clears TUNSETPERSIST first; `false`
   * on a non-persistent one sets it, so the device outlives the descriptor.
   */
  remove?: boolean;
}

/** Receives a batch: `frames[0 .. count)` now belong to the callback (release or keep them). */
export type TapFramesHandler = (frames: PacketBuffer[], count: number) => void;

/** Live counters of a {@link TapDevice}; copy with `{ ...device.stats }`. */
export class TapStats {
  /** Frames delivered to onFrames. */
  rxFrames = 0;
  rxBytes = 0;
  /** Calls of onFrames (each with one or more frames). */
  rxBatches = 0;
  /** Frames read and dropped because the pool had no buffer to put them in. */
  rxNoBuffer = 0;
  /** Frames read and dropped because they were longer than the pool's maxFrameLength. */
  rxOversize = 0;
  /** Read failures that stopped the reader (e.g. the device was removed). */
  rxErrors = 0;
  /** Frames the kernel took. */
  txFrames = 0;
  txBytes = 0;
  /** Frames given to writeFrames that did not go (kernel busy, invalid, or an error). */
  txDropped = 0;
  /** Of txDropped: shorter than an Ethernet header or outside their buffer. */
  txInvalid = 0;
}

/** Opens (or creates) a TAP device; same as {@link TapDevice.open}. */
export function openTap(options: TapOptions = {}): TapDevice {
  return TapDevice.open(options);
}

export class TapDevice {
  /**
   * Opens the TAP device `options.name`, creating it if it does not exist, then
   * applies `persist`, `mtu`, `mac` and `up`. Throws TapError: BAD_* for options
   * (before any syscall), ADDON_MISSING without the addon, an errno code when the
   * kernel refuses (EPERM without CAP_NET_ADMIN, EBUSY when already open, ...).
   */
  static open(options: TapOptions = {}): TapDevice {
    if (options === null || typeof options !== 'object') {
      throw new TapError('BAD_VALUE', `options must be an object with fields ${OPTION_NAMES.join(', ')}`, 'options');
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.includes(key)) throw new TapError('BAD_VALUE', `unknown option; allowed: ${OPTION_NAMES.join(', ')}`, key);
    }
    const name = checkTapName(options.name ?? '');
    const multiQueue = checkBoolean(options.multiQueue, 'multiQueue');
    const exclusive = checkBoolean(options.exclusive, 'exclusive');
    const persist = checkBoolean(options.persist, 'persist');
    const mtu = options.mtu === undefined ? undefined : checkTapMtu(options.mtu);
    const mac = options.mac === undefined ? undefined : checkTapMac(options.mac);
    const up = options.up === undefined ? undefined : checkBoolean(options.up, 'up');

    const native = addon();
    let opened: { fd: number; name: string; persist: boolean };
    try {
      opened = native.open(name, multiQueue, exclusive);
    } catch (error) {
      throw syscallError(error, `opening TAP ${name === '' ? '(kernel-named)' : name}`);
    }
    let ifindex: number;
    try {
      ifindex = native.getIfindex(opened.name);
    } catch (error) {
      native.close(opened.fd);
      throw syscallError(error, `reading the ifindex of ${opened.name}`);
    }
    const device = new TapDevice(native, opened.fd, opened.name, ifindex, multiQueue, opened.persist);
    try {
      if (persist) device.persist(true);
      if (mtu !== undefined) device.setMtu(mtu);
      if (mac !== undefined) device.setMac(mac);
      if (up !== undefined) device.setUp(up);
    } catch (error) {
      // Undo what we can: a device we made persistent must not outlive a failed open.
      try {
        device.close({ remove: persist ? true : undefined });
      } catch {
        // The first error is the one to report.
      }
      throw error;
    }
    return device;
  }

  /** The interface name (the kernel's, when the name was "" or had "%d"). */
  readonly name: string;
  /** The interface index when opened (it changes if the device moves to another network namespace). */
  readonly ifindex: number;
  readonly multiQueue: boolean;
  /** Live counters ({@link TapStats}). */
  readonly stats: Readonly<TapStats>;

  private readonly native: TapAddon;
  private readonly counters = new TapStats();
  private fdValue: number;
  private persistentValue = false;

  // Receive state, set by start().
  private reader: TapReaderHandle | undefined;
  private pool: BufferPool | undefined;
  private onFrames: TapFramesHandler | undefined;
  private onError: ((error: TapError) => void) | undefined;
  private slots = new ArmedSlots(0, 0);

  // Transmit state, grown (never shrunk) to the largest batch.
  private txViews: Uint8Array[] = [];
  private txOffsets = new Int32Array(TAP_DEFAULT_BUDGET);
  private txLengths = new Int32Array(TAP_DEFAULT_BUDGET);
  private readonly single: PacketBuffer[] = [];

  /** The most recent read failure (the reader stops after one). */
  lastError: TapError | undefined;

  private constructor(native: TapAddon, fd: number, name: string, ifindex: number, multiQueue: boolean, persistent: boolean) {
    this.native = native;
    this.persistentValue = persistent;
    this.fdValue = fd;
    this.name = name;
    this.ifindex = ifindex;
    this.multiQueue = multiQueue;
    this.stats = this.counters;
  }

  /** The file descriptor, or -1 once closed. */
  get fd(): number {
    return this.fdValue;
  }

  get closed(): boolean {
    return this.fdValue < 0;
  }

  /** Whether start() is reading. */
  get started(): boolean {
    return this.reader !== undefined;
  }

  /** Whether TUNSETPERSIST is on (as found at open, or set since through this device). */
  get persistent(): boolean {
    return this.persistentValue;
  }

  /** The MTU, asked from the kernel (SIOCGIFMTU) on each read. */
  get mtu(): number {
    this.checkOpen('mtu');
    try {
      return this.native.getMtu(this.name);
    } catch (error) {
      throw syscallError(error, `reading the MTU of ${this.name}`);
    }
  }

  /** The MAC as a 48-bit number, asked from the kernel (SIOCGIFHWADDR) on each read. */
  get mac(): number {
    this.checkOpen('mac');
    try {
      return readMac(this.native.getMac(this.name), 0);
    } catch (error) {
      throw syscallError(error, `reading the MAC of ${this.name}`);
    }
  }

  /** Whether the link is administratively up (IFF_UP), asked from the kernel. */
  get isUp(): boolean {
    return (this.flags() & IFF_UP) !== 0;
  }

  /** Whether the link is running (IFF_RUNNING: up, and the TAP is attached). */
  get isRunning(): boolean {
    return (this.flags() & IFF_RUNNING) !== 0;
  }

  /** Sets the MTU (SIOCSIFMTU). BAD_MTU outside 68..65535; EINVAL if the kernel refuses (its TAP maximum is 65521). */
  setMtu(mtu: number): void {
    checkTapMtu(mtu);
    this.checkOpen('setMtu');
    try {
      this.native.setMtu(this.name, mtu);
    } catch (error) {
      throw syscallError(error, `setting the MTU of ${this.name} to ${mtu}`);
    }
  }

  /** Sets the MAC (SIOCSIFHWADDR): a 48-bit unicast number, or a string like "02:00:00:00:00:01". */
  setMac(mac: number | string): void {
    const value = checkTapMac(mac);
    this.checkOpen('setMac');
    const bytes = new Uint8Array(6);
    writeMac(bytes, 0, value);
    try {
      this.native.setMac(this.name, bytes);
    } catch (error) {
      throw syscallError(error, `setting the MAC of ${this.name}`);
    }
  }

  /** Brings the link up or down (SIOCSIFFLAGS, IFF_UP). */
  setUp(up = true): void {
    if (typeof up !== 'boolean') throw new TapError('BAD_VALUE', `must be true or false, got ${String(up)}`, 'up');
    this.checkOpen('setUp');
    try {
      this.native.setUp(this.name, up);
    } catch (error) {
      throw syscallError(error, `bringing ${this.name} ${up ? 'up' : 'down'}`);
    }
  }

  /** Keeps the device after close (true) or not (false): TUNSETPERSIST. */
  persist(on = true): void {
    if (typeof on !== 'boolean') throw new TapError('BAD_VALUE', `must be true or false, got ${String(on)}`, 'on');
    this.checkOpen('persist');
    try {
      this.native.setPersist(this.fdValue, on);
    } catch (error) {
      throw syscallError(error, `${on ? 'setting' : 'clearing'} TUNSETPERSIST on ${this.name}`);
    }
    this.persistentValue = on;
  }

  /**
   * Starts reading: arms `budget` buffers from `pool` and calls `onFrames(frames,
   * count)` once per batch of up to `budget` frames. The callback owns
   * `frames[0 .. count)`; each frame is `bytes[offset .. offset + length)` at the
   * pool's headroom. Frames longer than `pool.maxFrameLength` are dropped
   * (`rxOversize`); frames that find no buffer are dropped (`rxNoBuffer`).
   * A read failure (e.g. the device was removed) stops reading, is counted in
   * `rxErrors`, kept in `lastError`, and passed to `onError` (or emitted as a
   * process warning when there is none).
   */
  start(pool: BufferPool, onFrames: TapFramesHandler, budget = TAP_DEFAULT_BUDGET, onError?: (error: TapError) => void): void {
    this.checkOpen('start');
    if (this.reader !== undefined) throw new TapError('STARTED', `${this.name} is already reading; stop() it first`);
    if (!(pool instanceof BufferPool)) throw new TapError('BAD_VALUE', 'must be a BufferPool', 'pool');
    if (typeof onFrames !== 'function') throw new TapError('BAD_VALUE', 'must be a function (frames, count) => void', 'onFrames');
    if (!Number.isInteger(budget) || budget < 1 || budget > TAP_BUDGET_MAX) {
      throw new TapError('BAD_VALUE', `must be an integer in 1..${TAP_BUDGET_MAX}, got ${String(budget)}`, 'budget');
    }
    if (onError !== undefined && typeof onError !== 'function') throw new TapError('BAD_VALUE', 'must be a function (error) => void', 'onError');

    this.pool = pool;
    this.onFrames = onFrames;
    this.onError = onError;
    const slots = new ArmedSlots(budget, pool.maxFrameLength);
    this.slots = slots;
    slots.refill(pool);
    try {
      this.reader = this.native.createReader(this.fdValue, budget, slots.views, slots.offsets, slots.capacities, slots.batch, this.onBatch);
    } catch (error) {
      this.releaseArmed();
      throw syscallError(error, `watching ${this.name}`);
    }
  }

  /** Stops reading and gives the armed (unused) buffers back to the pool. Does nothing if not started. */
  stop(): void {
    const reader = this.reader;
    if (reader === undefined) return;
    this.reader = undefined;
    this.native.closeReader(reader);
    this.releaseArmed();
  }

  /**
   * Writes `buffers[0 .. count)` (each `bytes[offset .. offset + length)`) in one
   * call into the addon, one write() per frame. Returns how many frames the kernel
   * took; it stops early when the kernel is busy (EAGAIN), and the rest count as
   * `txDropped`. Frames shorter than an Ethernet header are skipped (`txInvalid`).
   * The buffers stay the caller's. Throws TapError CLOSED after close, and the
   * errno code when the very first write fails for a reason other than EAGAIN
   * (e.g. EBADFD: the device was removed).
   */
  writeFrames(buffers: readonly PacketBuffer[], count: number = buffers.length): number {
    this.checkOpen('writeFrames');
    if (!Number.isInteger(count) || count < 0 || count > buffers.length) {
      throw new TapError('BAD_VALUE', `must be an integer in 0..${buffers.length}, got ${String(count)}`, 'count');
    }
    if (count > this.txOffsets.length) this.growTx(count);
    const views = this.txViews;
    const offsets = this.txOffsets;
    const lengths = this.txLengths;
    const stats = this.counters;
    let n = 0;
    for (let i = 0; i < count; i++) {
      const buf = buffers[i]!;
      const offset = buf.offset;
      const length = buf.length;
      if (length < ETHERNET_HEADER_LENGTH || offset < 0 || offset + length > buf.bytes.length) {
        stats.txInvalid++;
        continue;
      }
      views[n] = buf.bytes;
      offsets[n] = offset;
      lengths[n] = length;
      n++;
    }
    let sent: number;
    try {
      sent = n === 0 ? 0 : this.native.writeBatch(this.fdValue, views, offsets, lengths, n);
    } catch (error) {
      stats.txDropped += count;
      throw syscallError(error, `writing to ${this.name}`);
    }
    let bytes = 0;
    for (let i = 0; i < sent; i++) bytes += lengths[i]!;
    stats.txFrames += sent;
    stats.txBytes += bytes;
    stats.txDropped += count - sent;
    return sent;
  }

  /** Writes one frame; true if the kernel took it. Same rules as {@link writeFrames}. */
  writeFrame(buf: PacketBuffer): boolean {
    this.single[0] = buf;
    return this.writeFrames(this.single, 1) === 1;
  }

  /**
   * Stops reading and closes the descriptor. The device is removed unless it is
   * persistent; `remove` overrides that (see {@link TapCloseOptions}). A multi-queue
   * device goes when its last queue closes. Throws TapError CLOSED if already closed.
   */
  close(options: TapCloseOptions = {}): void {
    this.checkOpen('close');
    const remove = options.remove ?? !this.persistentValue;
    if (typeof remove !== 'boolean') throw new TapError('BAD_VALUE', `must be true or false, got ${String(remove)}`, 'remove');
    this.stop();
    const fd = this.fdValue;
    let failure: TapError | undefined;
    try {
      if (remove && this.persistentValue) this.native.setPersist(fd, false);
      if (!remove && !this.persistentValue) this.native.setPersist(fd, true);
      this.persistentValue = !remove;
    } catch (error) {
      const wrapped = syscallError(error, `${remove ? 'removing' : 'keeping'} ${this.name}`);
      // Asked to remove a device that is already gone: done.
      if (!(remove && (wrapped.code === 'EBADFD' || wrapped.code === 'ENODEV'))) failure = wrapped;
    }
    this.fdValue = -1;
    try {
      this.native.close(fd);
    } catch (error) {
      failure ??= syscallError(error, `closing ${this.name}`);
    }
    if (failure !== undefined) throw failure;
  }

  // -------------------------------------------------------------------------

  /** Called by the addon once per batch (and when it needs slots re-armed). */
  private readonly onBatch = (count: number, noBuffer: number, oversize: number, error: NativeSyscallError | undefined): void => {
    const stats = this.counters;
    if (noBuffer !== 0) stats.rxNoBuffer += noBuffer;
    if (oversize !== 0) stats.rxOversize += oversize;
    if (count > 0) {
      const slots = this.slots;
      stats.rxBytes += slots.take(count);
      stats.rxFrames += count;
      stats.rxBatches++;
      try {
        this.onFrames!(slots.taken, count);
      } finally {
        this.refill();
      }
    } else {
      this.refill();
    }
    if (error !== undefined) this.readFailed(error);
  };

  private refill(): void {
    // Stopped (perhaps by onFrames itself): nothing to arm.
    if (this.pool !== undefined) this.slots.refill(this.pool);
  }

  private releaseArmed(): void {
    if (this.pool !== undefined) this.slots.release(this.pool);
    this.pool = undefined;
    this.onFrames = undefined;
  }

  private readFailed(native: NativeSyscallError): void {
    this.counters.rxErrors++;
    const error = syscallError(native, `reading from ${this.name}`);
    this.lastError = error;
    const onError = this.onError;
    this.stop();
    if (onError !== undefined) onError(error);
    else process.emitWarning(error);
  }

  private growTx(count: number): void {
    let size = this.txOffsets.length;
    while (size < count) size *= 2;
    this.txOffsets = new Int32Array(size);
    this.txLengths = new Int32Array(size);
  }

  private flags(): number {
    this.checkOpen('flags');
    try {
      return this.native.getFlags(this.name);
    } catch (error) {
      throw syscallError(error, `reading the flags of ${this.name}`);
    }
  }

  private checkOpen(what: string): void {
    if (this.fdValue < 0) throw new TapError('CLOSED', `${what}: ${this.name} is closed`);
  }
}
