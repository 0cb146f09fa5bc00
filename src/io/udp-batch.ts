/**
 * The UDP underlay in batches: one sendmmsg() per batch out, one recvmmsg() per
 * batch in, straight into pool buffers, with one call between JavaScript and C per
 * batch in each direction and nothing allocated per datagram.
 *
 * node:dgram (`udp.ts`) costs a send request object per datagram on transmit, and
 * a Buffer, an rinfo object and an address string per datagram on receive. This
 * transport is the same socket without those: the native addon
 * (native-shims/src/udp.c, in the same module as the TAP syscalls) makes the
 * syscalls; option checks, buffer ownership and counters are here.
 *
 * Receive: `start(pool, onBatch)` arms `budget` pool buffers at their headroom.
 * When the socket is readable the addon reads up to `budget` datagrams into them
 * and calls back once: `onBatch(buffers, sources, ports, count)` owns
 * `buffers[0 .. count)` (release them or keep them); datagram i came from the
 * address `sources[16 i .. 16 i + 16)` (IPv4: the first 4 bytes, network order)
 * and port `ports[i]`. `sources` and `ports` are reused: read them before returning.
 *
 * Transmit: `queue(bytes, offset, length, address, addressOffset, port)` (or
 * `queueIpv4(..., address as a number, port)`) records a datagram, `flush()` sends
 * everything queued with one sendmmsg() and returns how many went. The kernel
 * copies the bytes during flush(): keep them unchanged (and the buffers unreleased)
 * until then. A full socket buffer (EAGAIN) drops the rest of the batch, counted.
 *
 * Without the addon, `BatchUdpTransport.open` throws BatchUdpError ADDON_MISSING
 * (after checking its options); `UdpTransport` over node:dgram needs no addon.
 */
import { ArmedSlots } from './armed.js';
import { isIPv4, isIPv6 } from 'node:net';
import { constants as osConstants, networkInterfaces } from 'node:os';
import { BufferPool } from '../pool/pool.js';
import type { PacketBuffer } from '../pool/pool.js';
import { formatIpv4, isMulticastIpv4, parseIpv4 } from '../wire/ipv4.js';
import { formatIpv6, isMulticastIpv6, parseIpv6 } from '../wire/ipv6.js';
import { tapAddon, tapAddonProblem } from './native.js';
import type { NativeSyscallError, TapAddon } from './native.js';
import type { UdpTransportOptions } from './udp.js';

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

/** Bytes per address in `sources`, in `sendBatch`'s `addresses`, and in `queue`'s address for IPv6. */
export const UDP_ADDRESS_BYTES = 16;
/** Datagrams read per batch unless `start` is told otherwise (wireguard-go moves 128 per call). */
export const UDP_DEFAULT_BUDGET = 128;
/** recvmmsg() takes at most UIO_MAXIOV (1024) messages. */
export const UDP_BUDGET_MAX = 1024;
/** Datagrams queued before `queue` flushes by itself, unless `sendQueueSize` says otherwise. */
export const UDP_DEFAULT_SEND_QUEUE = 256;
export const UDP_SEND_QUEUE_MAX = 1024;

const DEFAULT_BUFFER = 4 << 20;
/** udp.c's status words after udpSendBatch. */
const STATUS_REFUSED = 0;
const STATUS_ERRNO = 1;
const STATUS_STOP = 2;
const STATUS_BYTES = 3;
const STATUS_GSO_MESSAGES = 4;
const STATUS_GSO_REFUSED = 5;
const STATUS_LENGTH = 6;
const STOP_AGAIN = 1;
/** Datagrams per UDP GSO message (the kernel's UDP_MAX_SEGMENTS is 64 on older kernels). */
export const UDP_GSO_SEGMENTS = 64;

// ---------------------------------------------------------------------------
// The addon's UDP functions (native-shims/src/udp.c)
// ---------------------------------------------------------------------------

/** Socket options udp.c knows, by their C names. */
export type UdpSocketOption =
  | 'SO_REUSEADDR'
  | 'SO_RCVBUF'
  | 'SO_SNDBUF'
  | 'IP_TTL'
  | 'IP_MULTICAST_TTL'
  | 'IP_MULTICAST_LOOP'
  | 'IPV6_V6ONLY'
  | 'IPV6_UNICAST_HOPS'
  | 'IPV6_MULTICAST_HOPS'
  | 'IPV6_MULTICAST_LOOP'
  | 'IP_TOS'
  | 'IPV6_TCLASS'
  | 'SO_NO_CHECK'
  | 'UDP_NO_CHECK6_TX';

/** Opaque handle of a running reader. */
export type UdpReaderHandle = { readonly __udpReader: unique symbol };

/**
 * udp.c's functions, plus `close` and `getIfindex` from tap.c. Addresses are bytes
 * in network order (4 for IPv4, 16 for IPv6; 16 per datagram in batches).
 */
export interface UdpAddon {
  /** socket(AF_INET | AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC). */
  /** A UDP socket, or with `protocol` a raw socket of that IP protocol. */
  udpSocket(family: 4 | 6, protocol?: number): number;
  udpSetOption(fd: number, name: UdpSocketOption, value: number): void;
  udpGetOption(fd: number, name: UdpSocketOption): number;
  udpBind(fd: number, family: 4 | 6, address: Uint8Array, port: number, scopeId: number): void;
  /** getsockname: the address into `out` (16 bytes), the port returned. */
  udpLocalAddress(fd: number, out: Uint8Array): number;
  /** IP_MULTICAST_IF (struct ip_mreqn: address and/or ifindex) / IPV6_MULTICAST_IF (ifindex). */
  udpSetMulticastInterface(fd: number, family: 4 | 6, address: Uint8Array, ifindex: number): void;
  /** IP_ADD_MEMBERSHIP (struct ip_mreqn) / IPV6_ADD_MEMBERSHIP (struct ipv6_mreq). */
  udpAddMembership(fd: number, family: 4 | 6, group: Uint8Array, address: Uint8Array, ifindex: number): void;
  /**
   * One sendmmsg() per 256 datagrams: datagram i is `views[i][offsets[i] .. + lengths[i])`
   * to `addresses[16 i ..]`, port `ports[i]`. With `gsoSegments` ≥ 2, runs of equal-sized
   * datagrams to one unicast peer go as one UDP_SEGMENT message. Returns how many went;
   * `status` gets [refused, last errno, stop (0, 1 EAGAIN/ENOBUFS, 2 socket error), bytes
   * sent, GSO messages, 1 if the kernel refused GSO (the rest then went one by one)].
   */
  udpSendBatch(
    fd: number,
    family: 4 | 6,
    views: readonly Uint8Array[],
    offsets: Int32Array,
    lengths: Int32Array,
    addresses: Uint8Array,
    ports: Int32Array | Uint16Array,
    count: number,
    status: Int32Array,
    gsoSegments: number,
  ): number;
  /**
   * Watches `fd`; when readable, one recvmmsg() into the armed slots; per datagram
   * (slot, length) into `batch`, the source into `sources` (16 bytes) and `ports`;
   * then `callback` once per batch.
   */
  udpCreateReader(
    fd: number,
    budget: number,
    views: (Uint8Array | undefined)[],
    offsets: Int32Array,
    capacities: Int32Array,
    batch: Int32Array,
    sources: Uint8Array,
    ports: Int32Array,
    callback: (count: number, noBuffer: number, oversize: number, softErrors: number, error: NativeSyscallError | undefined) => void,
  ): UdpReaderHandle;
  udpCloseReader(reader: UdpReaderHandle): void;
  close(fd: number): void;
  getIfindex(name: string): number;
}

const UDP_FUNCTIONS: readonly (keyof UdpAddon)[] = [
  'udpSocket', 'udpSetOption', 'udpGetOption', 'udpBind', 'udpLocalAddress', 'udpSetMulticastInterface',
  'udpAddMembership', 'udpSendBatch', 'udpCreateReader', 'udpCloseReader', 'close', 'getIfindex',
];

/**
 * Why `loaded` (the addon as loaded, or undefined with the loader's `loadProblem`)
 * cannot serve as the batched UDP socket; undefined when it can.
 */
export function udpAddonProblem(loaded: unknown, loadProblem?: string): string | undefined {
  if (loaded === undefined || loaded === null) return loadProblem ?? 'the native addon did not load';
  const lacking = UDP_FUNCTIONS.filter((name) => typeof (loaded as Record<string, unknown>)[name] !== 'function');
  if (lacking.length > 0) return `the native addon is from an older version (it lacks ${lacking.join(', ')}); rebuild it`;
  return undefined;
}

/** Why the batched UDP socket is unavailable (undefined when the addon has it). */
export function batchUdpProblem(): string | undefined {
  const loaded: TapAddon | undefined = tapAddon();
  return udpAddonProblem(loaded, loaded === undefined ? tapAddonProblem() : undefined);
}

/** True when the addon is built and has the batched UDP socket. */
export function isBatchUdpAvailable(): boolean {
  return batchUdpProblem() === undefined;
}

/** The full ADDON_MISSING message: what is missing and how to build it. */
export function batchUdpMissingMessage(problem: string): string {
  return (
    `${problem}. The batched UDP socket (sendmmsg/recvmmsg) needs vtepkit's native addon; UdpTransport over node:dgram works without it. ` +
    'Build it with `npm run build:addon` in the vtepkit folder (from a project that depends on vtepkit: `npm rebuild vtepkit`; ' +
    'for the compiler output: `node scripts/build-addon.mjs --verbose`); ' +
    'that needs python3, make and g++ (Debian/Ubuntu: apt-get install python3 make g++).'
  );
}

function loadAddon(): UdpAddon {
  const problem = batchUdpProblem();
  if (problem !== undefined) throw new BatchUdpError('ADDON_MISSING', 'addon', batchUdpMissingMessage(problem));
  return tapAddon() as unknown as UdpAddon;
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

export type BatchUdpErrorCode =
  /** The native addon is not built, does not load, or is too old; the message says how to build it. */
  | 'ADDON_MISSING'
  /** An option of `open` is wrong; `field` names it. */
  | 'BAD_OPTION'
  /** A method argument is wrong; `field` names it. */
  | 'BAD_VALUE'
  /** socket() or a socket option failed (`syscall`, `errnoCode`). */
  | 'SOCKET'
  /** bind() failed (`errnoCode` EADDRINUSE, EADDRNOTAVAIL, EACCES, ...). */
  | 'BIND'
  /** Joining the group or choosing its interface failed. */
  | 'MULTICAST'
  /** Receiving failed as a whole (the reader stopped), or a whole send batch failed. */
  | 'RECEIVE'
  | 'SEND'
  /** The transport is closed. */
  | 'CLOSED'
  /** `start` on a transport that is already reading. */
  | 'STARTED';

export class BatchUdpError extends Error {
  override readonly name = 'BatchUdpError';
  constructor(
    readonly code: BatchUdpErrorCode,
    /** The offending option or argument, or what was being done. */
    readonly field: string,
    message: string,
    /** The failing syscall (`bind`, `setsockopt`, `recvmmsg`, ...), when a syscall failed. */
    readonly syscall?: string,
    /** The errno name (`EADDRINUSE`, ...), when a syscall failed. */
    readonly errnoCode?: string,
    /** The errno number, when a syscall failed. */
    readonly errno?: number,
  ) {
    super(`${code} (${field}): ${message}`);
  }
}

/** Wraps an error thrown by the addon (errno code + syscall); rethrows anything else. */
function syscallError(error: unknown, code: BatchUdpErrorCode, field: string, action: string): BatchUdpError {
  if (!(error instanceof Error)) throw error;
  const native = error as Partial<NativeSyscallError>;
  if (typeof native.code !== 'string' || typeof native.syscall !== 'string') throw error;
  return new BatchUdpError(code, field, `${action}: ${error.message}`, native.syscall, native.code, native.errno);
}

/** errno number to name; the first name wins where two share a number (EAGAIN, not EWOULDBLOCK). */
const ERRNO_NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(osConstants.errno)) if (!ERRNO_NAMES.has(value)) ERRNO_NAMES.set(value, name);

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

export interface BatchUdpOptions extends UdpTransportOptions {
  /** SO_REUSEADDR. Default: true with a `group` (several VTEPs share it), else false. */
  reuseAddr?: boolean;
  /** Datagrams `queue` holds before it flushes by itself: 1..1024, default 256 (one sendmmsg per flush). */
  sendQueueSize?: number;
  /** The outer TOS / traffic class byte of every datagram (IP_TOS, IPV6_TCLASS). Default 0. */
  tos?: number;
  /** Send without a UDP checksum (SO_NO_CHECK over IPv4; UDP_NO_CHECK6_TX over IPv6, RFC 6935). Default false. */
  noChecksum?: boolean;
  /**
   * UDP GSO (UDP_SEGMENT, Linux 4.18): a run of queued datagrams of one size to one
   * unicast peer goes to the kernel as one message of up to 64 segments, which the
   * kernel sends as that many datagrams, identical on the wire. Default true for UDP;
   * off with `noChecksum` (Linux refuses GSO without checksums) and on raw sockets.
   * If the kernel refuses it (no checksum offload on the route, …) the transport
   * sends one datagram per message from then on (`stats.txGsoRefused`).
   */
  gso?: boolean;
  /**
   * A raw socket of this IP protocol instead of UDP (50: ESP, as `ip xfrm` sends
   * it). It binds no port (`port` must be 0 or absent; `address` optional), sends
   * with port 0 and, over IPv4, receives whole IP packets (header included).
   */
  protocol?: number;
}

const OPTION_NAMES: readonly string[] = [
  'port', 'address', 'family', 'group', 'multicastInterface', 'multicastTtl', 'multicastLoopback', 'ttl',
  'receiveBufferSize', 'sendBufferSize', 'reuseAddr', 'sendQueueSize', 'tos', 'noChecksum', 'protocol', 'gso',
];

function badOption(field: string, message: string): BatchUdpError {
  return new BatchUdpError('BAD_OPTION', field, message);
}

function checkRange(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badOption(field, `${field} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

function checkBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw badOption(field, `${field} must be true or false, got ${String(value)}`);
  return value;
}

/** An IP address as text, with an optional IPv6 zone ("fe80::1%eth0"). */
interface ParsedAddress {
  family: 4 | 6;
  bytes: Uint8Array;
  zone: string | undefined;
}

function parseAddress(value: unknown, field: string): ParsedAddress | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badOption(field, `${field} must be an IPv4 or IPv6 address, got ${String(value)}`);
  if (isIPv4(value)) {
    const bytes = new Uint8Array(4);
    const word = parseIpv4(value);
    bytes[0] = word >>> 24;
    bytes[1] = (word >>> 16) & 0xff;
    bytes[2] = (word >>> 8) & 0xff;
    bytes[3] = word & 0xff;
    return { family: 4, bytes, zone: undefined };
  }
  const percent = value.indexOf('%');
  const text = percent < 0 ? value : value.slice(0, percent);
  if (isIPv6(text)) {
    const zone = percent < 0 ? undefined : value.slice(percent + 1);
    if (zone === '') throw badOption(field, `${field} ${JSON.stringify(value)} has an empty zone after '%'`);
    return { family: 6, bytes: parseIpv6(text), zone };
  }
  throw badOption(field, `${field} must be an IPv4 or IPv6 address, got ${JSON.stringify(value)}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * The index of the interface an IPv6 address belongs to (for IPV6_MULTICAST_IF and
 * IPV6_ADD_MEMBERSHIP, which take an index): the zone if given ("%eth0" or "%3"),
 * else the interface that has the address.
 */
function ipv6InterfaceIndex(native: UdpAddon, address: ParsedAddress, field: string): number {
  if (address.zone !== undefined) {
    if (/^\d+$/.test(address.zone)) return Number(address.zone);
    try {
      return native.getIfindex(address.zone);
    } catch (error) {
      throw syscallError(error, 'MULTICAST', field, `no interface ${JSON.stringify(address.zone)}`);
    }
  }
  for (const [name, entries] of Object.entries(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv6' && sameBytes(parseIpv6(entry.address.split('%')[0]!), address.bytes)) {
        try {
          return native.getIfindex(name);
        } catch (error) {
          throw syscallError(error, 'MULTICAST', field, `the index of ${name}`);
        }
      }
    }
  }
  throw new BatchUdpError('MULTICAST', field, `no interface has the address ${formatIpv6(address.bytes)} (or name one: "addr%eth0")`);
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

export class BatchUdpStats {
  /** Datagrams handed to onBatch, and their bytes. */
  rxPackets = 0;
  rxBytes = 0;
  /** Calls of onBatch. */
  rxBatches = 0;
  /** Datagrams read and dropped because the pool was empty. */
  rxNoBuffer = 0;
  /** Datagrams read and dropped because they are longer than a slot (slotSize - headroom). */
  rxOversize = 0;
  /** Receive errors (the transient ones are counted and reading goes on; a fatal one stops the reader). */
  rxErrors = 0;
  /** Datagrams the kernel took, and their bytes. */
  txPackets = 0;
  txBytes = 0;
  /** flush() calls that sent something to the kernel (one sendmmsg each, per 256 datagrams). */
  txBatches = 0;
  /** sendmmsg entries that carried a run of datagrams with UDP GSO (each is several of txPackets). */
  txGsoMessages = 0;
  /** 1 once the kernel refused UDP GSO on this socket (it then sends a datagram per message). */
  txGsoRefused = 0;
  /** Datagrams dropped because the socket buffer was full (EAGAIN / ENOBUFS). */
  txAgain = 0;
  /** Datagrams the kernel refused (EMSGSIZE, ENETUNREACH, EACCES, ...); see `lastSendError`. */
  txErrors = 0;
  /** Datagrams refused before the kernel: bytes range, port or address out of range, or the transport closed. */
  txInvalid = 0;
}

/** Receives a batch: `buffers[0 .. count)` are the handler's; datagram i came from `sources[16 i ..]`, `ports[i]`. */
export type BatchUdpHandler = (buffers: PacketBuffer[], sources: Uint8Array, ports: Int32Array, count: number) => void;

// ---------------------------------------------------------------------------
// The transport
// ---------------------------------------------------------------------------

const EMPTY = new Uint8Array(0);

export class BatchUdpTransport {
  readonly family: 4 | 6;
  /** The port bound (the one the kernel picked, for port 0). */
  readonly port: number;
  /** Live counters; copy them with `{ ...transport.stats }`. */
  readonly stats: Readonly<BatchUdpStats>;
  /** The error that stopped the reader, or of the last send batch that failed as a whole. */
  lastError: BatchUdpError | undefined;
  /** The errno name of the last datagram the kernel refused (`EMSGSIZE`, ...), if any. */
  lastSendError: string | undefined;

  private readonly native: UdpAddon;
  private readonly counters = new BatchUdpStats();
  private fdValue: number;
  private readonly addressLength: 4 | 16;

  // Receive
  private reader: UdpReaderHandle | undefined;
  private pool: BufferPool | undefined;
  private handler: BatchUdpHandler | undefined;
  private onError: ((error: BatchUdpError) => void) | undefined;
  private slots = new ArmedSlots(0, 0);
  private sources = new Uint8Array(0);
  private ports = new Int32Array(0);

  // Transmit
  private readonly txCapacity: number;
  private readonly txViews: Uint8Array[];
  private readonly txOffsets: Int32Array;
  private readonly txLengths: Int32Array;
  private readonly txAddresses: Uint8Array;
  private readonly txPorts: Int32Array;
  private readonly txStatus = new Int32Array(STATUS_LENGTH);
  /** Most datagrams per GSO message; 0: GSO off. */
  private gsoSegments: number;
  private txCount = 0;

  /** The lowest destination port `queue` accepts: 1 for UDP, 0 for a raw socket (which has none). */
  private readonly minPort: number;

  private constructor(native: UdpAddon, fd: number, family: 4 | 6, port: number, sendQueueSize: number, raw: boolean, gso: boolean) {
    this.native = native;
    this.gsoSegments = gso && !raw ? UDP_GSO_SEGMENTS : 0;
    this.minPort = raw ? 0 : 1;
    this.fdValue = fd;
    this.family = family;
    this.port = port;
    this.addressLength = family === 4 ? 4 : 16;
    this.stats = this.counters;
    this.txCapacity = sendQueueSize;
    this.txViews = new Array<Uint8Array>(sendQueueSize).fill(EMPTY);
    this.txOffsets = new Int32Array(sendQueueSize);
    this.txLengths = new Int32Array(sendQueueSize);
    this.txAddresses = new Uint8Array(sendQueueSize * UDP_ADDRESS_BYTES);
    this.txPorts = new Int32Array(sendQueueSize);
  }

  /**
   * Creates, configures and binds the socket (and joins the group). Synchronous.
   * Options are checked first (BAD_OPTION naming the field), then the addon
   * (ADDON_MISSING), then the syscalls (SOCKET, BIND, MULTICAST with `errnoCode`).
   * `native` is for tests.
   */
  static open(options: BatchUdpOptions, native?: UdpAddon): BatchUdpTransport {
    if (options === null || typeof options !== 'object') throw badOption('options', 'options must be an object');
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.includes(key)) throw badOption(key, `unknown option ${key}; allowed: ${OPTION_NAMES.join(', ')}`);
    }
    const protocol = checkRange(options.protocol ?? 0, 'protocol', 0, 255);
    const port = checkRange(options.port ?? (protocol !== 0 ? 0 : undefined), 'port', 0, protocol !== 0 ? 0 : 65535);
    const address = parseAddress(options.address, 'address');
    const group = parseAddress(options.group, 'group');
    const multicastInterface = parseAddress(options.multicastInterface, 'multicastInterface');
    const family = options.family ?? address?.family ?? group?.family ?? 4;
    if (family !== 4 && family !== 6) throw badOption('family', `family must be 4 or 6, got ${String(family)}`);
    for (const [field, parsed] of [['address', address], ['group', group], ['multicastInterface', multicastInterface]] as const) {
      if (parsed !== undefined && parsed.family !== family) {
        throw badOption(field, `${field} ${String(options[field])} is not an IPv${family} address (the transport is IPv${family})`);
      }
    }
    if (group !== undefined && !(family === 4 ? isMulticastIpv4(parseIpv4(options.group!)) : isMulticastIpv6(group.bytes))) {
      throw badOption('group', `group must be a multicast address (224.0.0.0/4 or ff00::/8), got ${String(options.group)}`);
    }
    const receiveBufferSize = checkRange(options.receiveBufferSize ?? DEFAULT_BUFFER, 'receiveBufferSize', 4096, 1 << 30);
    const sendBufferSize = checkRange(options.sendBufferSize ?? DEFAULT_BUFFER, 'sendBufferSize', 4096, 1 << 30);
    const ttl = options.ttl === undefined ? undefined : checkRange(options.ttl, 'ttl', 1, 255);
    const multicastTtl = checkRange(options.multicastTtl ?? 1, 'multicastTtl', 0, 255);
    const multicastLoopback = checkBoolean(options.multicastLoopback, 'multicastLoopback', false);
    const reuseAddr = checkBoolean(options.reuseAddr, 'reuseAddr', group !== undefined);
    const sendQueueSize = checkRange(options.sendQueueSize ?? UDP_DEFAULT_SEND_QUEUE, 'sendQueueSize', 1, UDP_SEND_QUEUE_MAX);
    const tos = checkRange(options.tos ?? 0, 'tos', 0, 255);
    const noChecksum = checkBoolean(options.noChecksum, 'noChecksum', false);
    const gso = checkBoolean(options.gso, 'gso', !noChecksum && protocol === 0);
    if (gso && (noChecksum || protocol !== 0)) throw badOption('gso', noChecksum ? 'UDP GSO needs UDP checksums: Linux refuses it with noChecksum' : 'a raw socket (protocol) has no UDP GSO');
    if (protocol !== 0 && (group !== undefined || noChecksum)) throw badOption(group !== undefined ? 'group' : 'noChecksum', 'a raw socket (protocol) has no multicast group and no UDP checksum');

    const addon = native ?? loadAddon();
    let fd: number;
    try {
      fd = protocol === 0 ? addon.udpSocket(family) : addon.udpSocket(family, protocol);
    } catch (error) {
      throw syscallError(error, 'SOCKET', 'family', `creating an IPv${family} UDP socket`);
    }
    let step: 'SOCKET' | 'BIND' | 'MULTICAST' = 'SOCKET';
    let field = 'socket';
    try {
      if (family === 6) addon.udpSetOption(fd, 'IPV6_V6ONLY', 1);
      if (reuseAddr) {
        field = 'reuseAddr';
        addon.udpSetOption(fd, 'SO_REUSEADDR', 1);
      }
      field = 'receiveBufferSize';
      addon.udpSetOption(fd, 'SO_RCVBUF', receiveBufferSize);
      field = 'sendBufferSize';
      addon.udpSetOption(fd, 'SO_SNDBUF', sendBufferSize);
      if (ttl !== undefined) {
        field = 'ttl';
        addon.udpSetOption(fd, family === 4 ? 'IP_TTL' : 'IPV6_UNICAST_HOPS', ttl);
      }
      if (tos !== 0) {
        field = 'tos';
        addon.udpSetOption(fd, family === 4 ? 'IP_TOS' : 'IPV6_TCLASS', tos);
      }
      if (noChecksum) {
        field = 'noChecksum';
        addon.udpSetOption(fd, family === 4 ? 'SO_NO_CHECK' : 'UDP_NO_CHECK6_TX', 1);
      }
      // A group needs the wildcard address (as UdpTransport, and the Linux vxlan driver).
      step = 'BIND';
      field = 'port';
      const bindAddress = group !== undefined || address === undefined ? new Uint8Array(16) : address.bytes;
      let scopeId = 0;
      if (group === undefined && address?.zone !== undefined) {
        field = 'address';
        scopeId = /^\d+$/.test(address.zone) ? Number(address.zone) : addon.getIfindex(address.zone);
      }
      // A raw socket without an address receives for every local address: no bind.
      if (protocol === 0 || address !== undefined) addon.udpBind(fd, family, bindAddress, port, scopeId);
      if (group !== undefined) {
        step = 'MULTICAST';
        field = 'multicastTtl';
        addon.udpSetOption(fd, family === 4 ? 'IP_MULTICAST_TTL' : 'IPV6_MULTICAST_HOPS', multicastTtl);
        field = 'multicastLoopback';
        addon.udpSetOption(fd, family === 4 ? 'IP_MULTICAST_LOOP' : 'IPV6_MULTICAST_LOOP', multicastLoopback ? 1 : 0);
        field = 'multicastInterface';
        const interfaceAddress = family === 4 && multicastInterface !== undefined ? multicastInterface.bytes : new Uint8Array(4);
        const ifindex = family === 6 && multicastInterface !== undefined ? ipv6InterfaceIndex(addon, multicastInterface, 'multicastInterface') : 0;
        if (multicastInterface !== undefined) addon.udpSetMulticastInterface(fd, family, interfaceAddress, ifindex);
        field = 'group';
        addon.udpAddMembership(fd, family, group.bytes, interfaceAddress, ifindex);
      }
      const local = new Uint8Array(16);
      const boundPort = protocol === 0 ? addon.udpLocalAddress(fd, local) : 0;
      return new BatchUdpTransport(addon, fd, family, boundPort, sendQueueSize, protocol !== 0, gso);
    } catch (error) {
      try {
        addon.close(fd);
      } catch {
        // The descriptor is released whatever close() reports.
      }
      if (error instanceof BatchUdpError) throw error;
      const where = step === 'BIND' ? `binding UDP ${options.address ?? (family === 4 ? '0.0.0.0' : '::')} port ${port}` : `setting ${field}`;
      throw syscallError(error, step, field, where);
    }
  }

  /** The file descriptor, or -1 once closed. */
  get fd(): number {
    return this.fdValue;
  }

  get isClosed(): boolean {
    return this.fdValue < 0;
  }

  /** Whether start() is reading. */
  get started(): boolean {
    return this.reader !== undefined;
  }

  /** Whether runs of equal datagrams go as UDP GSO messages (false when off, or once the kernel refused it). */
  get gso(): boolean {
    return this.gsoSegments > 0;
  }

  /** Datagrams queued and not flushed yet. */
  get queued(): number {
    return this.txCount;
  }

  /** The address and port bound (getsockname). Allocates; not for the datapath. */
  address(): { address: string; port: number } {
    this.checkOpen('address');
    const bytes = new Uint8Array(16);
    const port = this.native.udpLocalAddress(this.fdValue, bytes);
    const address = this.family === 4 ? formatIpv4(((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0) : formatIpv6(bytes);
    return { address, port };
  }

  /** SO_RCVBUF and SO_SNDBUF as the kernel booked them (twice what was asked, capped by net.core.[rw]mem_max). */
  bufferSizes(): { receive: number; send: number } {
    this.checkOpen('bufferSizes');
    return { receive: this.native.udpGetOption(this.fdValue, 'SO_RCVBUF'), send: this.native.udpGetOption(this.fdValue, 'SO_SNDBUF') };
  }

  /**
   * Starts reading: arms `budget` buffers from `pool` and calls `onBatch(buffers,
   * sources, ports, count)` once per batch of up to `budget` datagrams. The handler
   * owns `buffers[0 .. count)`: each datagram is `bytes[offset .. offset + length)`,
   * at the pool's headroom. `sources` (16 bytes per datagram) and `ports` are
   * reused for the next batch. Datagrams longer than `slotSize - headroom` are
   * dropped (`rxOversize`), datagrams that find no buffer too (`rxNoBuffer`). A
   * fatal receive error stops reading, is counted in `rxErrors`, kept in
   * `lastError` and passed to `onError` (or emitted as a process warning).
   */
  start(pool: BufferPool, onBatch: BatchUdpHandler, budget = UDP_DEFAULT_BUDGET, onError?: (error: BatchUdpError) => void): void {
    this.checkOpen('start');
    if (this.reader !== undefined) throw new BatchUdpError('STARTED', 'start', 'the transport is already reading; stop() it first');
    if (!(pool instanceof BufferPool)) throw new BatchUdpError('BAD_VALUE', 'pool', 'must be a BufferPool');
    if (typeof onBatch !== 'function') throw new BatchUdpError('BAD_VALUE', 'onBatch', 'must be a function (buffers, sources, ports, count) => void');
    if (!Number.isInteger(budget) || budget < 1 || budget > UDP_BUDGET_MAX) {
      throw new BatchUdpError('BAD_VALUE', 'budget', `must be an integer in 1..${UDP_BUDGET_MAX}, got ${String(budget)}`);
    }
    if (onError !== undefined && typeof onError !== 'function') throw new BatchUdpError('BAD_VALUE', 'onError', 'must be a function (error) => void');

    this.pool = pool;
    this.handler = onBatch;
    this.onError = onError;
    const slots = new ArmedSlots(budget, pool.slotSize - pool.headroom);
    this.slots = slots;
    this.sources = new Uint8Array(UDP_ADDRESS_BYTES * budget);
    this.ports = new Int32Array(budget);
    slots.refill(pool);
    try {
      this.reader = this.native.udpCreateReader(
        this.fdValue, budget, slots.views, slots.offsets, slots.capacities, slots.batch, this.sources, this.ports, this.onNativeBatch,
      );
    } catch (error) {
      this.releaseArmed();
      throw syscallError(error, 'RECEIVE', 'start', 'watching the socket');
    }
  }

  /** Stops reading and gives the armed (unused) buffers back to the pool. Does nothing if not started. */
  stop(): void {
    const reader = this.reader;
    if (reader === undefined) return;
    this.reader = undefined;
    this.native.udpCloseReader(reader);
    this.releaseArmed();
  }

  /**
   * Queues the datagram `bytes[offset .. offset + length)` to `address` (4 bytes
   * for IPv4, 16 for IPv6, read at `addressOffset`), `port`. Returns false and
   * counts `txInvalid` for a range outside `bytes`, a port outside 1..65535, an
   * address past the end of `address`, or a closed transport. A full queue is
   * flushed first. The bytes are read at flush(): leave them alone until then.
   * Never throws, allocates nothing.
   */
  queue(bytes: Uint8Array, offset: number, length: number, address: Uint8Array, addressOffset: number, port: number): boolean {
    const addressLength = this.addressLength;
    if ((addressOffset | 0) !== addressOffset || addressOffset < 0 || addressOffset + addressLength > address.length) {
      this.counters.txInvalid++;
      return false;
    }
    const at = this.enqueue(bytes, offset, length, port);
    if (at < 0) return false;
    const addresses = this.txAddresses;
    for (let i = 0; i < addressLength; i++) addresses[at + i] = address[addressOffset + i]!;
    return true;
  }

  /**
   * {@link queue} with an IPv4 address as a 32-bit number (as the FDB's
   * `destinationIpv4` returns it). False (`txInvalid`) on an IPv6 transport.
   */
  queueIpv4(bytes: Uint8Array, offset: number, length: number, address: number, port: number): boolean {
    if (this.family !== 4) {
      this.counters.txInvalid++;
      return false;
    }
    const at = this.enqueue(bytes, offset, length, port);
    if (at < 0) return false;
    const addresses = this.txAddresses;
    addresses[at] = address >>> 24;
    addresses[at + 1] = (address >>> 16) & 0xff;
    addresses[at + 2] = (address >>> 8) & 0xff;
    addresses[at + 3] = address & 0xff;
    return true;
  }

  /**
   * Checks a datagram's range and port and takes the next queue entry for it
   * (flushing a full queue first); returns where its address goes in
   * `txAddresses`, or -1 (counted `txInvalid`).
   */
  private enqueue(bytes: Uint8Array, offset: number, length: number, port: number): number {
    if (
      this.fdValue < 0 ||
      (offset | 0) !== offset || offset < 0 || (length | 0) !== length || length < 0 || offset + length > bytes.length ||
      (port | 0) !== port || port < this.minPort || port > 65535
    ) {
      this.counters.txInvalid++;
      return -1;
    }
    let n = this.txCount;
    if (n === this.txCapacity) {
      this.flush();
      n = 0;
    }
    this.txViews[n] = bytes;
    this.txOffsets[n] = offset;
    this.txLengths[n] = length;
    this.txPorts[n] = port;
    this.txCount = n + 1;
    return n * UDP_ADDRESS_BYTES;
  }

  /**
   * Sends everything queued: one sendmmsg() (per 256 datagrams). Returns how many
   * went. A datagram the kernel refuses is counted in `txErrors` (its errno name in
   * `lastSendError`) and the rest still go; a full socket buffer drops the rest of
   * the batch (`txAgain`). The queue is empty afterwards. Never throws.
   */
  flush(): number {
    const n = this.txCount;
    if (n === 0) return 0;
    this.txCount = 0;
    const stats = this.counters;
    const status = this.txStatus;
    let sent: number;
    try {
      sent = this.native.udpSendBatch(this.fdValue, this.family, this.txViews, this.txOffsets, this.txLengths, this.txAddresses, this.txPorts, n, status, this.gsoSegments);
    } catch (error) {
      // The socket itself failed (EBADF, ...) before anything went.
      stats.txErrors += n;
      try {
        this.lastError = syscallError(error, 'SEND', 'flush', 'sending a batch');
        this.lastSendError = this.lastError.errnoCode;
      } catch {
        this.lastSendError = 'EINVAL';
      }
      return 0;
    }
    stats.txBatches++;
    stats.txPackets += sent;
    stats.txBytes += status[STATUS_BYTES]!;
    stats.txGsoMessages += status[STATUS_GSO_MESSAGES]!;
    if (status[STATUS_GSO_REFUSED] !== 0) {
      this.gsoSegments = 0;
      stats.txGsoRefused = 1;
    }
    const refused = status[STATUS_REFUSED]!;
    const left = n - sent - refused;
    if (refused !== 0) stats.txErrors += refused;
    if (left !== 0) {
      if (status[STATUS_STOP] === STOP_AGAIN) stats.txAgain += left;
      else stats.txErrors += left;
    }
    if (refused !== 0 || left !== 0) {
      const errno = status[STATUS_ERRNO]!;
      this.lastSendError = ERRNO_NAMES.get(errno) ?? `E${errno}`;
    }
    return sent;
  }

  /**
   * Sends `buffers[0 .. count)` (each `bytes[offset .. offset + length)`), buffer i to
   * `addresses[16 i ..]` (IPv4: the first 4 bytes) port `ports[i]`, in one sendmmsg()
   * per 256. Anything queued before is flushed first and not counted in the result.
   * Returns how many of these went; the rest are counted as in {@link flush} and
   * {@link queue}. The buffers stay the caller's (the kernel copied them).
   */
  sendBatch(buffers: readonly PacketBuffer[], count: number, addresses: Uint8Array, ports: Int32Array): number {
    if (!Number.isInteger(count) || count < 0 || count > buffers.length || count > ports.length) {
      throw new BatchUdpError('BAD_VALUE', 'count', `must be an integer in 0..${Math.min(buffers.length, ports.length)}, got ${String(count)}`);
    }
    this.flush();
    let sent = 0;
    for (let i = 0; i < count; i++) {
      if (this.txCount === this.txCapacity) sent += this.flush();
      const buf = buffers[i]!;
      this.queue(buf.bytes, buf.offset, buf.length, addresses, i * UDP_ADDRESS_BYTES, ports[i]!);
    }
    return sent + this.flush();
  }

  /** Stops reading, sends what is queued, and closes the socket. Idempotent. */
  close(): void {
    if (this.fdValue < 0) return;
    this.stop();
    this.flush();
    const fd = this.fdValue;
    this.fdValue = -1;
    try {
      this.native.close(fd);
    } catch {
      // Linux releases the descriptor even when close() reports an error.
    }
  }

  // -------------------------------------------------------------------------

  /** Called by the addon once per batch (and when it needs slots re-armed). */
  private readonly onNativeBatch = (count: number, noBuffer: number, oversize: number, softErrors: number, error: NativeSyscallError | undefined): void => {
    const stats = this.counters;
    if (noBuffer !== 0) stats.rxNoBuffer += noBuffer;
    if (oversize !== 0) stats.rxOversize += oversize;
    if (softErrors !== 0) stats.rxErrors += softErrors;
    if (count > 0) {
      const slots = this.slots;
      stats.rxBytes += slots.take(count);
      stats.rxPackets += count;
      stats.rxBatches++;
      try {
        this.handler!(slots.taken, this.sources, this.ports, count);
      } finally {
        this.refill();
      }
    } else {
      this.refill();
    }
    if (error !== undefined) this.readFailed(error);
  };

  private refill(): void {
    // Stopped (perhaps by the handler itself): nothing to arm.
    if (this.pool !== undefined) this.slots.refill(this.pool);
  }

  private releaseArmed(): void {
    if (this.pool !== undefined) this.slots.release(this.pool);
    this.pool = undefined;
    this.handler = undefined;
  }

  private readFailed(native: NativeSyscallError): void {
    this.counters.rxErrors++;
    const error = syscallError(native, 'RECEIVE', 'receive', 'reading from the UDP socket');
    this.lastError = error;
    const onError = this.onError;
    this.stop();
    if (onError !== undefined) onError(error);
    else process.emitWarning(error);
  }

  private checkOpen(what: string): void {
    if (this.fdValue < 0) throw new BatchUdpError('CLOSED', what, 'the transport is closed');
  }
}
