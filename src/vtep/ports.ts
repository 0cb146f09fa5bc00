/**
 * The frame side of a link: where inner Ethernet frames come from and go to.
 * Two implementations: a TAP device (the kernel's network stack behind it) and
 * an in-memory port that code, tests and benches push frames into and read
 * frames from, so vtepkit can be embedded where there is no TAP.
 */
import { openTap, type TapDevice } from '../io/tap.js';
import type { BufferPool, PacketBuffer } from '../pool/index.js';
import { formatMac } from '../wire/ethernet.js';

/** What a port writes: a frame at bytes[offset .. offset + length). A PacketBuffer is one. */
export interface FrameRef {
  bytes: Uint8Array;
  offset: number;
  length: number;
}

/** Frames from the port, in pool buffers the handler now owns (it must release or keep them). */
export type FrameHandler = (frames: PacketBuffer[], count: number) => void;

export interface FramePort {
  readonly kind: 'tap' | 'memory';
  readonly name: string;
  readonly ifindex: number | undefined;
  mtu: number;
  /** 48-bit MAC. */
  mac: number;
  up: boolean;
  start(pool: BufferPool, onFrames: FrameHandler): void;
  /** Delivers frames to the local side; the frames stay the caller's. Returns how many went. */
  writeFrames(frames: readonly FrameRef[], count: number): number;
  setUp(up: boolean): void;
  setMtu(mtu: number): void;
  setMac(mac: number): void;
  close(): void;
}

/** A random locally administered unicast MAC (02:xx:…), as the kernel gives a new device. */
export function randomMac(): number {
  const bytes = new Uint8Array(6);
  crypto.getRandomValues(bytes);
  bytes[0] = (bytes[0]! & 0xfe) | 0x02;
  let mac = 0;
  for (const b of bytes) mac = mac * 256 + b;
  return mac;
}

export class TapPort implements FramePort {
  readonly kind = 'tap';
  private constructor(private readonly tap: TapDevice) {}

  static open(name: string, mtu: number, mac: number | undefined): TapPort {
    const tap = openTap({ name, mtu, ...(mac === undefined ? {} : { mac }), up: false });
    return new TapPort(tap);
  }

  get name(): string {
    return this.tap.name;
  }
  get ifindex(): number {
    return this.tap.ifindex;
  }
  get mtu(): number {
    return this.tap.mtu;
  }
  get mac(): number {
    return this.tap.mac;
  }
  get up(): boolean {
    return this.tap.isUp;
  }
  get device(): TapDevice {
    return this.tap;
  }
  start(pool: BufferPool, onFrames: FrameHandler): void {
    this.tap.start(pool, onFrames);
  }
  writeFrames(frames: readonly FrameRef[], count: number): number {
    // TapDevice reads only bytes/offset/length of each buffer. A failed write (the
    // device removed under us) is frames not taken, counted by the engine, never a throw on the datapath.
    try {
      return this.tap.writeFrames(frames as readonly PacketBuffer[], count);
    } catch {
      return 0;
    }
  }
  setUp(up: boolean): void {
    this.tap.setUp(up);
  }
  setMtu(mtu: number): void {
    this.tap.setMtu(mtu);
  }
  setMac(mac: number): void {
    this.tap.setMac(mac);
  }
  close(): void {
    if (!this.tap.closed) this.tap.close({ remove: true });
  }
}

/**
 * An in-memory port. `inject(frame)` hands a frame to the engine as if a TAP had
 * read it; frames the engine delivers are passed to `onDeliver` (copied: the
 * engine's buffers are reused) or collected in `delivered`.
 */
export class MemoryPort implements FramePort {
  readonly kind = 'memory';
  readonly ifindex = undefined;
  up = false;
  /** Frames delivered by the engine, copied, when no `onDeliver` is set. Bounded by `maxDelivered`. */
  readonly delivered: Uint8Array[] = [];
  maxDelivered = 10_000;
  onDeliver: ((frame: Uint8Array) => void) | undefined;
  /** Injected frames refused because the pool was empty or the frame too big. */
  dropped = 0;
  private pool: BufferPool | undefined;
  private handler: FrameHandler | undefined;
  private readonly batch: PacketBuffer[] = [];

  constructor(
    readonly name: string,
    public mtu: number,
    public mac: number,
  ) {}

  start(pool: BufferPool, onFrames: FrameHandler): void {
    this.pool = pool;
    this.handler = onFrames;
  }

  /** Pushes frames into the engine, in one batch. Returns how many were taken. */
  inject(...frames: Uint8Array[]): number {
    const pool = this.pool;
    const handler = this.handler;
    if (pool === undefined || handler === undefined) {
      this.dropped += frames.length;
      return 0;
    }
    const batch = this.batch;
    let count = 0;
    for (const frame of frames) {
      const buf = pool.acquire();
      if (buf === null || !buf.copyFrom(frame)) {
        if (buf !== null) pool.release(buf);
        this.dropped++;
        continue;
      }
      batch[count++] = buf;
    }
    if (count > 0) handler(batch, count);
    return count;
  }

  writeFrames(frames: readonly FrameRef[], count: number): number {
    if (!this.up) return 0;
    for (let i = 0; i < count; i++) {
      const f = frames[i]!;
      const copy = f.bytes.slice(f.offset, f.offset + f.length);
      if (this.onDeliver) this.onDeliver(copy);
      else if (this.delivered.length < this.maxDelivered) this.delivered.push(copy);
    }
    return count;
  }

  setUp(up: boolean): void {
    this.up = up;
  }
  setMtu(mtu: number): void {
    this.mtu = mtu;
  }
  setMac(mac: number): void {
    this.mac = mac;
  }
  close(): void {
    this.handler = undefined;
    this.pool = undefined;
  }

  toString(): string {
    return `memory port ${this.name} ${formatMac(this.mac)}`;
  }
}
