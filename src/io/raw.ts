/**
 * ESP directly over IP, protocol 50, with the `raw-socket` package (a native addon). Raw
 * sockets need root or CAP_NET_RAW.
 *
 * - Sending: the kernel builds the IP header (protocol 50, our address as source); we hand it
 *   the ESP packet, SPI .. ICV (`sa.sealPayload`).
 * - Receiving: an IPv4 raw socket delivers the whole IP packet, header included, so it is
 *   opened with `openBuffer` (transport mode gives back the original packet, tunnel mode the
 *   inner one); an IPv6 raw socket delivers only what follows the IPv6 header, so it is opened
 *   with `openPayload`. Every raw socket of protocol 50 on the host sees every ESP packet the
 *   host receives; SPIs this process does not know are counted (`UNKNOWN_SPI`) and dropped.
 *
 * The addon is loaded on first use, so the library loads without it; `rawSocketMissing()`
 * says why it cannot be used, and the constructor throws that as an Error.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { EspError, EspStatus, espStatusName } from '../esp/errors.js';
import type { SaDatabase } from '../esp/sad.js';
import type { PacketView, SecurityAssociation } from '../esp/sa.js';
import { IPPROTO_ESP } from '../wire/esp.js';

/** The part of raw-socket's API used here (the package ships no types). */
interface RawSocketModule {
  AddressFamily: { IPv4: number; IPv6: number };
  createSocket(options: { protocol: number; addressFamily: number; bufferSize?: number }): RawSocket;
}
interface RawSocket extends EventEmitter {
  send(buffer: Uint8Array, offset: number, length: number, address: string, after: (error: Error | null, bytes: number) => void): void;
  close(): void;
}

let rawModule: RawSocketModule | null | undefined;
let rawProblem = '';

function loadRawSocket(): RawSocketModule | null {
  if (rawModule !== undefined) return rawModule;
  try {
    rawModule = createRequire(import.meta.url)('raw-socket') as RawSocketModule;
  } catch (error) {
    rawModule = null;
    rawProblem = `the raw-socket addon cannot be loaded (${(error as Error).message.split('\n')[0]}); install and build it with npm install raw-socket`;
  }
  return rawModule;
}

/** Empty when a raw ESP socket can be opened here; otherwise why not (no addon, not root). */
export function rawSocketMissing(family: 4 | 6 = 4): string {
  const raw = loadRawSocket();
  if (raw === null) return rawProblem;
  try {
    const socket = raw.createSocket({ protocol: IPPROTO_ESP, addressFamily: family === 6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4 });
    socket.close();
    return '';
  } catch (error) {
    return `cannot open a raw socket for IP protocol 50 (${(error as Error).message}); raw sockets need root or CAP_NET_RAW`;
  }
}

export interface RawEspTransportOptions {
  /** 4 (default) or 6. */
  family?: 4 | 6;
  /** Opens received ESP through these SAs; without it, packets are emitted as 'esp' untouched. */
  sad?: SaDatabase;
  /** Receive buffer size (largest packet), default 65535. */
  bufferSize?: number;
}

export class RawEspTransportStats {
  received = 0;
  opened = 0;
  dropped = 0;
  sent = 0;
  sendErrors = 0;
}

/** A received packet as a PacketView: valid only during the event handler (copy to keep). */
export class RawEspPacketView implements PacketView {
  bytes: Uint8Array = new Uint8Array(0);
  offset = 0;
  length = 0;
  data(): Uint8Array {
    return this.bytes.subarray(this.offset, this.offset + this.length);
  }
}

const SEAL_FRONT = 32;
const SEAL_BACK = 64;

/**
 * Events: 'packet' (view, sa, source) for opened packets when an SaDatabase is given (IPv4:
 * the whole IP packet, IPv6: the payload with `sa.lastNextHeader`); 'esp' (view, source)
 * without one (IPv4: with the IP header); 'drop' (status, reason, source); 'error' (error).
 */
export class RawEspTransport extends EventEmitter {
  readonly family: 4 | 6;
  readonly stats = new RawEspTransportStats();
  private readonly socket: RawSocket;
  private readonly sad: SaDatabase | undefined;
  private readonly view = new RawEspPacketView();

  constructor(options: RawEspTransportOptions = {}) {
    super();
    const raw = loadRawSocket();
    if (raw === null) throw new Error(rawProblem);
    this.family = options.family ?? 4;
    this.sad = options.sad;
    this.socket = raw.createSocket({
      protocol: IPPROTO_ESP,
      addressFamily: this.family === 6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4,
      bufferSize: options.bufferSize ?? 65535,
    });
    this.socket.on('message', (buffer: Buffer, source: string) => this.receive(buffer, source));
    this.socket.on('error', (error: Error) => this.emit('error', error));
  }

  /** Sends an ESP packet (SPI .. ICV) to `address`; the kernel adds the IP header (protocol 50). */
  send(esp: Uint8Array, address: string): Promise<number> {
    return this.sendBuffer({ bytes: esp, offset: 0, length: esp.length }, address);
  }

  /** Sends the ESP packet held in a buffer (after `sa.sealPayload`). The buffer must stay untouched until the promise settles. */
  sendBuffer(buf: PacketView, address: string): Promise<number> {
    return new Promise((resolve, reject) => this.sendView(buf, address, (error, bytes) => (error === null ? resolve(bytes) : reject(error))));
  }

  /**
   * The datapath's send: `after` is called once the kernel took the packet (or
   * refused it); the buffer must stay untouched until then. No promise, no copy.
   */
  sendView(buf: PacketView, address: string, after: (error: Error | null, bytes: number) => void): void {
    this.socket.send(buf.bytes, buf.offset, buf.length, address, (error, bytes) => {
      if (error) this.stats.sendErrors++;
      else this.stats.sent++;
      after(error, bytes);
    });
  }

  /** Seals `payload` (protocol `nextHeader`) with `sa` and sends it to `address`. Rejects with EspError when the SA refuses. */
  async sealAndSend(sa: SecurityAssociation, payload: Uint8Array, nextHeader: number, address: string): Promise<number> {
    const bytes = new Uint8Array(SEAL_FRONT + payload.length + SEAL_BACK);
    bytes.set(payload, SEAL_FRONT);
    const view = { bytes, offset: SEAL_FRONT, length: payload.length };
    const status = sa.sealPayload(view, nextHeader);
    if (status !== EspStatus.OK) throw EspError.fromStatus(status);
    return this.sendBuffer(view, address);
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  private receive(buffer: Buffer, source: string): void {
    this.stats.received++;
    const view = this.view;
    view.bytes = buffer;
    view.offset = 0;
    view.length = buffer.length;
    const sad = this.sad;
    if (sad === undefined) {
      this.emit('esp', view, source);
      return;
    }
    // IPv4 raw sockets include the IP header; IPv6 raw sockets do not.
    const status = this.family === 4 ? sad.openBuffer(view) : sad.openPayload(view);
    if (status === EspStatus.OK) {
      this.stats.opened++;
      this.emit('packet', view, sad.lastSa!, source);
    } else {
      this.stats.dropped++;
      this.emit('drop', status, espStatusName(status), source);
    }
  }
}
