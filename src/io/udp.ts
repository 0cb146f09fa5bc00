/**
 * The UDP underlay over node:dgram: one socket per local (address, port), as the
 * Linux vxlan driver keeps one socket per destination port. IPv4 or IPv6, unicast
 * or a multicast group (the seeds' `group 224.1.1.1 dev eth0` mode), large socket
 * buffers, errors counted instead of thrown.
 *
 * node:dgram allocates per datagram (a Buffer and an rinfo object on receive, a
 * send request on transmit); the rest of the datapath does not. Where that
 * matters, batched recvmmsg/sendmmsg in the addon is the next step (docs/vtep.md).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP, isIPv4, isIPv6 } from 'node:net';

export type UdpErrorCode = 'BAD_OPTION' | 'BIND' | 'MULTICAST' | 'CLOSED';

export class UdpError extends Error {
  override readonly name = 'UdpError';
  constructor(
    readonly code: UdpErrorCode,
    readonly field: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface UdpTransportOptions {
  /** Local port to bind: the tunnel's `dstport` (4789 VXLAN, 8472 old Linux, 6081 Geneve, 4500 ESP-in-UDP). */
  port: number;
  /** Local address to bind. Default '0.0.0.0', or '::' when `family` is 6. */
  address?: string;
  /** 4 or 6. Default from `address` or `group`, else 4. */
  family?: 4 | 6;
  /** A multicast group to join (Linux `group`). */
  group?: string;
  /** The local address of the interface to join the group on and send multicast from (Linux `dev`, by its address). */
  multicastInterface?: string;
  /** TTL of multicast packets. Default 1, as Linux for a vxlan group with no `ttl`. */
  multicastTtl?: number;
  /** Receive our own multicast packets. Default false. */
  multicastLoopback?: boolean;
  /** TTL / hop limit of unicast packets (Linux `ttl`). Default: the system's (64). */
  ttl?: number;
  /** SO_RCVBUF and SO_SNDBUF, bytes. Default 4 MiB each (the kernel caps them at net.core.[rw]mem_max). */
  receiveBufferSize?: number;
  sendBufferSize?: number;
}

export class UdpStats {
  rxPackets = 0;
  rxBytes = 0;
  txPackets = 0;
  txBytes = 0;
  /** Sends the kernel refused (no route, buffer full, …); see `lastError`. */
  txErrors = 0;
  /** Socket errors reported while running. */
  errors = 0;
}

/** Called per datagram: the bytes (a Buffer that is the handler's to keep), and who sent it. */
export type UdpHandler = (message: Buffer, address: string, port: number) => void;

const DEFAULT_BUFFER = 4 << 20;

function checkPort(value: unknown, field: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1) || value > 65535) {
    throw new UdpError('BAD_OPTION', field, `${field} must be an integer in ${allowZero ? 0 : 1}..65535, got ${String(value)}`);
  }
  return value;
}

function checkRange(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UdpError('BAD_OPTION', field, `${field} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

function familyOf(address: string | undefined): 4 | 6 | undefined {
  if (address === undefined) return undefined;
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

export class UdpTransport {
  readonly stats = new UdpStats();
  readonly family: 4 | 6;
  readonly port: number;
  lastError: Error | undefined;
  private handler: UdpHandler | undefined;
  private closed = false;
  private readonly onSent = (error: Error | null): void => {
    if (error) {
      this.stats.txErrors++;
      this.lastError = error;
    }
  };

  private constructor(private readonly socket: Socket, family: 4 | 6, port: number) {
    this.family = family;
    this.port = port;
    socket.on('message', (message: Buffer, remote: RemoteInfo) => {
      this.stats.rxPackets++;
      this.stats.rxBytes += message.length;
      this.handler?.(message, remote.address, remote.port);
    });
    // A socket error must never take the process down: count it and go on.
    socket.on('error', (error) => {
      this.stats.errors++;
      this.lastError = error;
    });
  }

  /** Binds the socket (and joins the group). Throws UdpError naming the field at fault. */
  static async open(options: UdpTransportOptions): Promise<UdpTransport> {
    if (options === null || typeof options !== 'object') throw new UdpError('BAD_OPTION', 'options', 'options must be an object');
    const port = checkPort(options.port, 'port', true);
    if (options.address !== undefined && familyOf(options.address) === undefined) {
      throw new UdpError('BAD_OPTION', 'address', `address must be an IPv4 or IPv6 address, got ${JSON.stringify(options.address)}`);
    }
    if (options.group !== undefined && familyOf(options.group) === undefined) {
      throw new UdpError('BAD_OPTION', 'group', `group must be an IPv4 or IPv6 multicast address, got ${JSON.stringify(options.group)}`);
    }
    const family = options.family ?? familyOf(options.address) ?? familyOf(options.group) ?? 4;
    if (family !== 4 && family !== 6) throw new UdpError('BAD_OPTION', 'family', `family must be 4 or 6, got ${String(family)}`);
    for (const [field, value] of [['address', options.address], ['group', options.group], ['multicastInterface', options.multicastInterface]] as const) {
      if (value !== undefined && familyOf(value) !== family) {
        throw new UdpError('BAD_OPTION', field, `${field} ${value} is not an IPv${family} address (the transport is IPv${family})`);
      }
    }
    const receiveBufferSize = checkRange(options.receiveBufferSize ?? DEFAULT_BUFFER, 'receiveBufferSize', 4096, 1 << 30);
    const sendBufferSize = checkRange(options.sendBufferSize ?? DEFAULT_BUFFER, 'sendBufferSize', 4096, 1 << 30);
    const ttl = options.ttl === undefined ? undefined : checkRange(options.ttl, 'ttl', 1, 255);
    const multicastTtl = checkRange(options.multicastTtl ?? 1, 'multicastTtl', 0, 255);

    // A group needs the wildcard address (and address reuse, so several VTEPs can share it).
    const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', reuseAddr: options.group !== undefined, ipv6Only: family === 6 });
    const address = options.group !== undefined ? (family === 4 ? '0.0.0.0' : '::') : (options.address ?? (family === 4 ? '0.0.0.0' : '::'));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        socket.close();
        reject(new UdpError('BIND', 'port', `cannot bind UDP ${address} port ${port}: ${error.message}`, error));
      };
      socket.once('error', onError);
      socket.bind({ port, address, exclusive: options.group === undefined }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    const transport = new UdpTransport(socket, family, socket.address().port);
    try {
      socket.setRecvBufferSize(receiveBufferSize);
      socket.setSendBufferSize(sendBufferSize);
      if (ttl !== undefined) socket.setTTL(ttl);
      if (options.group !== undefined) {
        socket.setMulticastTTL(multicastTtl);
        socket.setMulticastLoopback(options.multicastLoopback ?? false);
        if (options.multicastInterface !== undefined) socket.setMulticastInterface(options.multicastInterface);
        socket.addMembership(options.group, options.multicastInterface);
      }
    } catch (error) {
      socket.close();
      throw new UdpError('MULTICAST', options.group === undefined ? 'socket' : 'group', `cannot configure the socket: ${(error as Error).message}`, error);
    }
    return transport;
  }

  /** The address and port actually bound (port 0 picks one). */
  address(): { address: string; port: number } {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  /** Sets the receive handler (one per transport; the engine demultiplexes by VNI). */
  onMessage(handler: UdpHandler | undefined): void {
    this.handler = handler;
  }

  /**
   * Sends bytes [offset, offset + length) of `buf` to address:port. Returns false
   * (and counts) when the transport is closed; a kernel refusal is counted when
   * it comes back. Never throws.
   */
  send(buf: Uint8Array, offset: number, length: number, port: number, address: string): boolean {
    // dgram throws synchronously on a bad port or range, and would resolve a
    // non-IP string with DNS: refuse those here, counted.
    if (this.closed || !(port > 0 && port < 65536) || !(offset >= 0 && length >= 0 && offset + length <= buf.length) || isIP(address) === 0) {
      this.stats.txErrors++;
      return false;
    }
    this.stats.txPackets++;
    this.stats.txBytes += length;
    try {
      this.socket.send(buf, offset, length, port, address, this.onSent);
    } catch (error) {
      // Defensive: dgram throws before any I/O on arguments it does not like.
      this.stats.txErrors++;
      this.lastError = error as Error;
      return false;
    }
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    this.socket.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
