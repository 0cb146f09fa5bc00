/**
 * ESP in UDP (RFC 3948) over node:dgram: port 4500 by default, shared with IKE.
 *
 * What arrives on the port is sorted as RFC 3948 2.2 / 2.3 say:
 *  - one byte 0xFF: a NAT-keepalive, counted and ignored ('keepalive' event);
 *  - four zero bytes first (the non-ESP marker): an IKE message, handed on without the marker
 *    ('ike' event) for an IKE daemon to handle;
 *  - anything else is ESP: opened through the SaDatabase given in the options ('packet' event
 *    with the plaintext payload, the SA and the sender) or, without one, handed on as is
 *    ('esp' event). Drops are counted and reported ('drop' event with the EspStatus).
 *
 * The socket gives only the UDP payload, so this works with `openPayload`: the ESP packet
 * alone. In tunnel mode that payload is the inner IP packet; in transport mode it is the
 * upper-layer payload of the packet the sender sealed (Next Header in `sa.lastNextHeader`).
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket, SocketType } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { EspError, EspStatus, espStatusName } from '../esp/errors.js';
import type { SaDatabase } from '../esp/sad.js';
import type { PacketView, SecurityAssociation } from '../esp/sa.js';
import { ESP_UDP_PORT, isNatKeepalive, isNonEspMarker } from '../wire/esp.js';

export interface EspUdpTransportOptions {
  /** 'udp4' (default) or 'udp6'. */
  type?: SocketType;
  /** Local port, default 4500 (RFC 3948); 0 for any. */
  port?: number;
  /** Local address, default all. */
  address?: string;
  /** Opens received ESP through these SAs; without it, ESP is emitted as 'esp' untouched. */
  sad?: SaDatabase;
}

/** A received datagram as a PacketView: valid only during the event handler (copy to keep). */
export class EspDatagramView implements PacketView {
  bytes: Uint8Array = new Uint8Array(0);
  offset = 0;
  length = 0;
  /** A view of the data (allocates). */
  data(): Uint8Array {
    return this.bytes.subarray(this.offset, this.offset + this.length);
  }
}

export class EspUdpTransportStats {
  received = 0;
  esp = 0;
  keepalives = 0;
  ike = 0;
  opened = 0;
  dropped = 0;
  sent = 0;
  sendErrors = 0;
}

/** Headroom and tailroom for sealing a payload into a datagram: ESP header + IV (24), padding + trailer + ICV (33). */
const SEAL_FRONT = 32;
const SEAL_BACK = 64;

/**
 * Events: 'packet' (payload: EspDatagramView, sa, sender: RemoteInfo) with an SaDatabase;
 * 'esp' (esp: EspDatagramView, sender) without one; 'ike' (message without the marker, sender);
 * 'keepalive' (sender); 'drop' (status: EspStatus, reason: string, sender); 'error' (error).
 * Views are valid only during the handler.
 */
export class EspUdpTransport extends EventEmitter {
  readonly stats = new EspUdpTransportStats();
  readonly socket: Socket;
  private readonly options: EspUdpTransportOptions;
  private readonly view = new EspDatagramView();

  constructor(options: EspUdpTransportOptions = {}) {
    super();
    this.options = options;
    this.socket = createSocket({ type: options.type ?? 'udp4' });
    this.socket.on('message', (message, sender) => this.receive(message, sender));
    this.socket.on('error', (error) => this.emit('error', error));
  }

  /** Binds the socket; resolves with the local address and port. */
  bind(): Promise<{ address: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.socket.once('error', onError);
      this.socket.bind(this.options.port ?? ESP_UDP_PORT, this.options.address, () => {
        this.socket.off('error', onError);
        const info = this.socket.address();
        resolve({ address: info.address, port: info.port });
      });
    });
  }

  /** Sends an ESP packet (SPI .. ICV) as one datagram. */
  send(esp: Uint8Array, port: number, address: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(esp, port, address, (error) => {
        if (error) {
          this.stats.sendErrors++;
          reject(error);
        } else {
          this.stats.sent++;
          resolve();
        }
      });
    });
  }

  /** Sends the ESP packet held in a pool buffer (after `sa.sealPayload(buf, nextHeader)`). */
  sendBuffer(buf: PacketView, port: number, address: string): Promise<void> {
    return this.send(buf.bytes.subarray(buf.offset, buf.offset + buf.length), port, address);
  }

  /**
   * Seals `payload` (protocol `nextHeader`: 4 or 41 for a tunnel-mode IP packet) with `sa` and
   * sends it; the port defaults to the SA's udpEncapsulation destination port, else 4500.
   * Rejects with an EspError when the SA refuses (sequence exhausted, hard limit).
   */
  async sealAndSend(sa: SecurityAssociation, payload: Uint8Array, nextHeader: number, address: string, port?: number): Promise<void> {
    const bytes = new Uint8Array(SEAL_FRONT + payload.length + SEAL_BACK);
    bytes.set(payload, SEAL_FRONT);
    const view = { bytes, offset: SEAL_FRONT, length: payload.length };
    const status = sa.sealPayload(view, nextHeader);
    if (status !== EspStatus.OK) throw EspError.fromStatus(status);
    await this.sendBuffer(view, port ?? sa.udpEncapsulation?.destinationPort ?? ESP_UDP_PORT, address);
  }

  /** RFC 3948 2.3: a NAT-keepalive, one 0xFF byte. */
  sendKeepalive(port: number, address: string): Promise<void> {
    return this.send(Uint8Array.of(0xff), port, address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private receive(message: Buffer, sender: RemoteInfo): void {
    const stats = this.stats;
    stats.received++;
    const end = message.length;
    if (isNatKeepalive(message, 0, end)) {
      stats.keepalives++;
      this.emit('keepalive', sender);
      return;
    }
    if (isNonEspMarker(message, 0, end)) {
      stats.ike++;
      this.emit('ike', message.subarray(4), sender);
      return;
    }
    stats.esp++;
    const view = this.view;
    view.bytes = message;
    view.offset = 0;
    view.length = end;
    const sad = this.options.sad;
    if (sad === undefined) {
      this.emit('esp', view, sender);
      return;
    }
    const status = sad.openPayload(view);
    if (status === EspStatus.OK) {
      stats.opened++;
      this.emit('packet', view, sad.lastSa!, sender);
    } else {
      stats.dropped++;
      this.emit('drop', status, espStatusName(status), sender);
    }
  }
}
