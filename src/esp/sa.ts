/**
 * A security association (RFC 4301 4.4.2, RFC 4303): keys, algorithm, mode, sequence numbers,
 * anti-replay window and lifetimes, and the code that turns IP packets into ESP packets and back.
 *
 * The configuration names what `ip xfrm state add` names, so an SA can be carried over from an
 * `ip xfrm` or strongSwan set-up (see docs/esp.md for the table).
 *
 * Two ways in:
 *  - friendly: `seal(packet)` / `open(packet)` take a whole IPv4 or IPv6 packet and return a new
 *    one; they throw EspError.
 *  - datapath: `sealBuffer(buf)` / `openBuffer(buf)` work in place on a pool buffer
 *    ({@link PacketView}: `bytes`, `offset`, `length`) using its headroom and tailroom, return an
 *    EspStatus, count it, and never throw; `sealPayload` / `openPayload` do the same for the ESP
 *    packet alone (what a UDP socket or an IPv6 raw socket hands over, without an IP header).
 *
 * Transport mode (RFC 4303 3.1.1): the ESP header and IV go between the IP header (IPv4, or
 * IPv6 with its hop-by-hop/routing/destination-options headers, as Linux places them) and the
 * payload; the IP header is moved back by those bytes (a copy of the header, never of the
 * payload). `open` moves it forward again and restores the protocol / next header, the length
 * and the IPv4 checksum, so open(seal(p)) equals p byte for byte.
 * Tunnel mode (RFC 4303 3.1.2): the whole packet is the payload (Next Header 4 or 41) behind a
 * new outer header from `tunnel`.
 * ESP-in-UDP (RFC 3948): a UDP header between the IP header and ESP.
 */
import { EventEmitter } from 'node:events';
import { ESP_HEADER_LENGTH, ESP_NEXT_HEADER_IPV4, ESP_NEXT_HEADER_IPV6, ESP_NEXT_HEADER_NONE, ESP_UDP_PORT, EspFrameLayout, EspTrailerFields, IPPROTO_ESP, espFrameLayout, isNatKeepalive, isNonEspMarker, readEspTrailer, writeEspFraming } from '../wire/esp.js';
import { WireStatus } from '../wire/errors.js';
import { IPV4_HEADER_LENGTH, formatIpv4, parseIpv4, writeIpv4, writeIpv4Checksum } from '../wire/ipv4.js';
import { IPV6_HEADER_LENGTH, formatIpv6, parseIpv6, writeIpv6 } from '../wire/ipv6.js';
import { UDP_HEADER_LENGTH, UdpFields, readUdp, writeUdp, writeUdpChecksumIpv6 } from '../wire/udp.js';
import { parseKey, resolveAlgorithm } from './algorithms.js';
import type { EspAlgorithm } from './algorithms.js';
import type { EspCipher, EspCryptoBackend } from './backend.js';
import { EspError, EspStats, EspStatus, badConfig, countEspStatus, describeValue } from './errors.js';
import { forgeBackend } from './forge-backend.js';
import { gcmJsBackend } from './gcm-backend.js';
import { nodeBackend } from './node-backend.js';
import { isOpensslBackendAvailable, opensslBackend, opensslBackendProblem } from './openssl-backend.js';
import { sharedRandomPool } from './random.js';
import type { RandomSource } from './random.js';
import { REPLAY_WINDOW_DEFAULT, REPLAY_WINDOW_MAX, ReplayWindow } from './replay.js';
import { IpWalker, WALK_INBOUND, WALK_OUTBOUND } from './walk.js';

/** What the datapath methods work on: a PacketBuffer from the pool, or any object of this shape. */
export interface PacketView {
  readonly bytes: Uint8Array;
  offset: number;
  length: number;
}

export type EspMode = 'transport' | 'tunnel';

/** Lifetimes, as `ip xfrm state … limit byte-soft … byte-hard … packet-soft … time-soft …` (seconds since the SA was made). */
export interface SaLimits {
  packetSoft?: number | bigint;
  packetHard?: number | bigint;
  byteSoft?: number | bigint;
  byteHard?: number | bigint;
  timeSoft?: number;
  timeHard?: number;
}

export interface SecurityAssociationConfig {
  /** 32-bit SPI, 256..2^32-1 (RFC 4303 2.1: 0 must not be sent, 1..255 are reserved by IANA). */
  spi: number;
  /** Default 'transport' (as `ip xfrm`). */
  mode?: EspMode;
  /** The SA's endpoints (`ip xfrm state add src … dst …`); optional in transport mode, used by SaDatabase.byDestination. */
  source?: string;
  destination?: string;
  /** Tunnel mode: the outer header's addresses (IPv4 or IPv6, same family); defaults to source/destination. `ttl` default 64. */
  tunnel?: { source: string; destination: string; ttl?: number };
  /** 'aes-gcm-128' | 'aes-gcm-256' | 'chacha20-poly1305' | 'aes-cbc-128-hmac-sha256' | 'aes-cbc-256-hmac-sha256', or the iproute2 / strongSwan names. */
  algorithm: string;
  /** Cipher key; for the AEADs followed by the 4-byte salt (as `ip xfrm … aead … KEY`). Uint8Array or '0x…'. */
  key: Uint8Array | string;
  /** CBC only: 'hmac(sha256)' (default). */
  authAlgorithm?: string;
  /** CBC only: the 32-byte HMAC-SHA-256 key (`auth-trunc 'hmac(sha256)' KEY 128`). */
  authKey?: Uint8Array | string;
  /** 64-bit extended sequence numbers (`flag esn`). Default false. */
  esn?: boolean;
  /** Anti-replay window in packets, 0 (off, not with ESN) .. 32768. Default 64. */
  replayWindow?: number;
  /** Highest sequence number already received (`replay-seq` / `replay-seq-hi`). Default 0. */
  inboundSeq?: bigint | number;
  /** Last sequence number sent (`replay-oseq` / `replay-oseq-hi`): the next packet carries this + 1. Default 0. */
  outboundSeq?: bigint | number;
  /** RFC 3948 ESP-in-UDP (`encap espinudp SPORT DPORT 0.0.0.0`): true for 4500/4500. */
  udpEncapsulation?: boolean | { sourcePort?: number; destinationPort?: number };
  limits?: SaLimits;
  /**
   * 'openssl' (the default when vtepkit's cipher addon is built: OpenSSL with no object per
   * packet), 'node' (node:crypto; the default without the addon), 'forge', 'gcm-js' (AES-GCM
   * only, opt-in: see docs/esp.md), or a backend object.
   */
  backend?: 'openssl' | 'node' | 'forge' | 'gcm-js' | EspCryptoBackend;
  /** Source of CBC IV material; default a shared pool refilled 64 KiB at a time. */
  random?: RandomSource;
}

/** Why a lifetime event fired. */
export type SaExpireReason = 'packets' | 'bytes' | 'time' | 'sequence';

export interface SaExpireEvent {
  spi: number;
  reason: SaExpireReason;
  hard: boolean;
}

/** A plain, JSON-ready picture of an SA for the counters page. */
export interface SaSnapshot {
  spi: number;
  mode: EspMode;
  algorithm: string;
  backend: string;
  esn: boolean;
  replayWindow: number;
  udpEncapsulation: { sourcePort: number; destinationPort: number } | null;
  source: string | null;
  destination: string | null;
  outboundSeq: string;
  inboundSeq: string;
  lifetimePackets: number;
  lifetimeBytes: number;
  softExpired: boolean;
  hardExpired: boolean;
  stats: EspStats;
}

const CONFIG_FIELDS = [
  'spi', 'mode', 'source', 'destination', 'tunnel', 'algorithm', 'key', 'authAlgorithm', 'authKey', 'esn',
  'replayWindow', 'inboundSeq', 'outboundSeq', 'udpEncapsulation', 'limits', 'backend', 'random',
];
const LIMIT_FIELDS = ['packetSoft', 'packetHard', 'byteSoft', 'byteHard', 'timeSoft', 'timeHard'];

const MAX_SEQ_64 = (1n << 64n) - 1n;
/** setTimeout's longest delay; longer lifetimes are reached in steps. */
const MAX_TIMER_MS = 0x7fffffff;

const IPPROTO_UDP = 17;

interface ParsedAddress {
  family: 4 | 6;
  text: string;
  v4: number;
  v6: Uint8Array;
}

/** Canonical text of an address (RFC 5952 for IPv6), or null when it is not one. */
export function canonicalAddress(value: string): string | null {
  try {
    return parseAddress(value, 'address').text;
  } catch {
    return null;
  }
}

function parseAddress(value: unknown, field: string): ParsedAddress {
  if (typeof value !== 'string') throw badConfig(field, `must be an IPv4 or IPv6 address as text, got ${describeValue(value)}`);
  try {
    // Kept as canonical text (RFC 5952 for IPv6), so lookups by destination match however it was written.
    if (value.includes(':')) {
      const v6 = parseIpv6(value);
      return { family: 6, text: formatIpv6(v6), v4: 0, v6 };
    }
    const v4 = parseIpv4(value);
    return { family: 4, text: formatIpv4(v4), v4, v6: new Uint8Array(16) };
  } catch {
    throw badConfig(field, `must be an IPv4 or IPv6 address, got ${describeValue(value)}`);
  }
}

function sequenceNumber(value: unknown, field: string, esn: boolean): bigint {
  if (value === undefined) return 0n;
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
  else throw badConfig(field, `must be a bigint (or a safe integer) in 0..${esn ? '2^64-1' : '2^32-1'}, got ${describeValue(value)}`);
  const max = esn ? MAX_SEQ_64 : 0xffffffffn;
  if (n < 0n || n > max) throw badConfig(field, `must be in 0..${esn ? '2^64-1 (esn)' : '2^32-1 (no esn: set esn for 64-bit numbers)'}, got ${n}`);
  return n;
}

function limitValue(limits: SaLimits, field: keyof SaLimits): number {
  const value = limits[field];
  if (value === undefined) return Infinity;
  const isTime = field === 'timeSoft' || field === 'timeHard';
  if (typeof value === 'bigint' && !isTime) {
    if (value < 1n) throw badConfig(`limits.${field}`, `must be a positive count, got ${value}`);
    return Number(value);
  }
  if (typeof value !== 'number' || !(value > 0) || (!isTime && !Number.isInteger(value))) {
    throw badConfig(`limits.${field}`, isTime ? `must be a positive number of seconds, got ${describeValue(value)}` : `must be a positive integer (or bigint), got ${describeValue(value)}`);
  }
  return value;
}

function resolveBackend(value: unknown): EspCryptoBackend {
  if (value === undefined) return isOpensslBackendAvailable() ? opensslBackend : nodeBackend;
  if (value === 'openssl') {
    const problem = opensslBackendProblem();
    if (problem !== undefined) throw badConfig('backend', `'openssl' is unavailable: ${problem}; use 'node'`);
    return opensslBackend;
  }
  if (value === 'node') return nodeBackend;
  if (value === 'forge') return forgeBackend;
  if (value === 'gcm-js') return gcmJsBackend;
  if (value !== null && typeof value === 'object' && typeof (value as EspCryptoBackend).createCipher === 'function') return value as EspCryptoBackend;
  throw badConfig('backend', `must be 'openssl', 'node', 'forge', 'gcm-js' or an EspCryptoBackend object, got ${describeValue(value)}`);
}

/** Maps a wire status from an IP/UDP reader to an ESP status. */
function headerStatus(status: number): number {
  return status === WireStatus.TRUNCATED ? EspStatus.TRUNCATED : EspStatus.BAD_PACKET;
}

/** The SA object's events: 'soft' (time to rekey) and 'hard' (the SA now refuses traffic), each with an {@link SaExpireEvent}. */
export class SecurityAssociation extends EventEmitter {
  readonly spi: number;
  readonly mode: EspMode;
  readonly algorithm: EspAlgorithm;
  readonly backend: string;
  readonly esn: boolean;
  readonly replayWindow: number;
  readonly udpEncapsulation: { readonly sourcePort: number; readonly destinationPort: number } | null;
  /** The SA's endpoints as text (tunnel endpoints in tunnel mode), or null when not configured. */
  readonly source: string | null;
  readonly destination: string | null;
  /** Live counters. */
  readonly stats = new EspStats();

  /** After an open that returned OK or DUMMY: the Next Header, and the sequence number's halves. */
  lastNextHeader = 0;
  lastSeqHigh = 0;
  lastSeqLow = 0;

  /** Packets and plaintext bytes this SA has sealed or opened, for the lifetimes. */
  lifetimePackets = 0;
  lifetimeBytes = 0;
  softExpired = false;
  hardExpired = false;

  private readonly cipher: EspCipher;
  private readonly random: RandomSource;
  private readonly replay: ReplayWindow;
  private outHigh: number;
  private outLow: number;
  private nextHigh = 0;
  private nextLow = 0;
  private readonly tunnelMode: boolean;
  private readonly udpLength: number;
  private readonly udpSourcePort: number;
  private readonly udpDestinationPort: number;
  /** Tunnel mode: a prepared outer header (20 or 40 bytes) and its family. */
  private readonly outer: Uint8Array;
  private readonly outerFamily: 0 | 4 | 6;
  private identification = 0;
  private readonly alignment: number;
  private readonly minimumEncrypted: number;
  private readonly packetSoft: number;
  private readonly packetHard: number;
  private readonly byteSoft: number;
  private readonly byteHard: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private sequenceReported = false;

  private readonly layout = new EspFrameLayout();
  private readonly trailer = new EspTrailerFields();
  private readonly walker = new IpWalker();
  private readonly udp = new UdpFields();
  /** Result of openCore: the plaintext payload. */
  private plainStart = 0;
  private plainLength = 0;

  constructor(config: SecurityAssociationConfig) {
    super();
    if (config === null || typeof config !== 'object') throw badConfig('config', `must be an object with fields ${CONFIG_FIELDS.join(', ')}`);
    for (const key of Object.keys(config)) {
      if (!CONFIG_FIELDS.includes(key)) throw badConfig(key, `unknown field; allowed: ${CONFIG_FIELDS.join(', ')}`);
    }
    const spi = config.spi;
    if (typeof spi !== 'number' || !Number.isInteger(spi) || spi < 256 || spi > 0xffffffff) {
      throw badConfig('spi', `must be an integer in 256..4294967295 (RFC 4303 2.1: 0 is never sent, 1..255 are reserved), got ${describeValue(spi)}`);
    }
    this.spi = spi;
    const mode = config.mode ?? 'transport';
    if (mode !== 'transport' && mode !== 'tunnel') throw badConfig('mode', `must be 'transport' or 'tunnel', got ${describeValue(mode)}`);
    this.mode = mode;
    this.tunnelMode = mode === 'tunnel';
    const esn = config.esn ?? false;
    if (typeof esn !== 'boolean') throw badConfig('esn', `must be true or false, got ${describeValue(esn)}`);
    this.esn = esn;

    const key = parseKey(config.key, 'key');
    this.algorithm = resolveAlgorithm(config.algorithm, key.length, config.authAlgorithm);
    let authKey: Uint8Array = new Uint8Array(0);
    if (this.algorithm.aead) {
      if (config.authKey !== undefined) throw badConfig('authKey', `${this.algorithm.name} is a combined-mode (AEAD) algorithm: its key includes the integrity; remove authKey`);
    } else {
      if (config.authKey === undefined) throw badConfig('authKey', `${this.algorithm.name} needs a ${this.algorithm.authKeyLength}-byte HMAC-SHA-256 key (RFC 4868 2.1.1)`);
      authKey = parseKey(config.authKey, 'authKey');
      if (authKey.length !== this.algorithm.authKeyLength) {
        throw badConfig('authKey', `HMAC-SHA-256-128 takes a ${this.algorithm.authKeyLength}-byte key (RFC 4868 2.1.1), got ${authKey.length}`);
      }
    }
    this.alignment = this.algorithm.blockSize < 4 ? 4 : this.algorithm.blockSize;
    this.minimumEncrypted = this.alignment;

    const window = config.replayWindow ?? REPLAY_WINDOW_DEFAULT;
    if (typeof window !== 'number' || !Number.isInteger(window) || window < 0 || window > REPLAY_WINDOW_MAX) {
      throw badConfig('replayWindow', `must be an integer in 0..${REPLAY_WINDOW_MAX} (packets; 0 turns anti-replay off), got ${describeValue(window)}`);
    }
    if (esn && window === 0) throw badConfig('replayWindow', 'must be at least 1 with esn: the receiver infers the high half of the sequence number from the window (RFC 4303 Appendix A)');
    this.replayWindow = window;
    const inbound = sequenceNumber(config.inboundSeq, 'inboundSeq', esn);
    const outbound = sequenceNumber(config.outboundSeq, 'outboundSeq', esn);
    this.replay = new ReplayWindow(window, Number(inbound >> 32n), Number(inbound & 0xffffffffn));
    this.outHigh = Number(outbound >> 32n);
    this.outLow = Number(outbound & 0xffffffffn);

    // Addresses.
    const source = config.source === undefined ? null : parseAddress(config.source, 'source');
    const destination = config.destination === undefined ? null : parseAddress(config.destination, 'destination');
    if (source && destination && source.family !== destination.family) throw badConfig('destination', 'source and destination must be of the same family (both IPv4 or both IPv6)');
    let outerFamily: 0 | 4 | 6 = 0;
    let outer: Uint8Array = new Uint8Array(0);
    if (this.tunnelMode) {
      const tunnel = config.tunnel ?? (source && destination ? { source: source.text, destination: destination.text } : undefined);
      if (tunnel === undefined || tunnel === null || typeof tunnel !== 'object') {
        throw badConfig('tunnel', "tunnel mode needs tunnel: { source, destination } (the outer header's addresses), or source and destination");
      }
      const tunnelSource = parseAddress(tunnel.source, 'tunnel.source');
      const tunnelDestination = parseAddress(tunnel.destination, 'tunnel.destination');
      if (tunnelSource.family !== tunnelDestination.family) throw badConfig('tunnel.destination', 'tunnel source and destination must both be IPv4 or both IPv6');
      const ttl = tunnel.ttl ?? 64;
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw badConfig('tunnel.ttl', `must be an integer in 1..255, got ${describeValue(ttl)}`);
      outerFamily = tunnelSource.family;
      if (outerFamily === 4) {
        outer = new Uint8Array(IPV4_HEADER_LENGTH);
        writeIpv4(outer, 0, IPV4_HEADER_LENGTH, 0, 0, 0, 0, ttl, 0, tunnelSource.v4, tunnelDestination.v4);
      } else {
        outer = new Uint8Array(IPV6_HEADER_LENGTH);
        writeIpv6(outer, 0, 0, 0, 0, 0, ttl);
        outer.set(tunnelSource.v6, 8);
        outer.set(tunnelDestination.v6, 24);
      }
      this.source = tunnelSource.text;
      this.destination = tunnelDestination.text;
    } else {
      if (config.tunnel !== undefined) throw badConfig('tunnel', "is for mode 'tunnel' only; in transport mode the packet's own IP header is kept");
      this.source = source?.text ?? null;
      this.destination = destination?.text ?? null;
    }
    this.outer = outer;
    this.outerFamily = outerFamily;

    // RFC 3948.
    const encapsulation = config.udpEncapsulation;
    if (encapsulation === undefined || encapsulation === false) {
      this.udpEncapsulation = null;
    } else if (encapsulation === true || (typeof encapsulation === 'object' && encapsulation !== null)) {
      const ports = encapsulation === true ? {} : encapsulation;
      for (const key of Object.keys(ports)) {
        if (key !== 'sourcePort' && key !== 'destinationPort') throw badConfig(`udpEncapsulation.${key}`, 'unknown field; allowed: sourcePort, destinationPort');
      }
      const port = (value: unknown, field: string): number => {
        if (value === undefined) return ESP_UDP_PORT;
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) throw badConfig(field, `must be a port in 1..65535 (default 4500), got ${describeValue(value)}`);
        return value;
      };
      this.udpEncapsulation = {
        sourcePort: port(ports.sourcePort, 'udpEncapsulation.sourcePort'),
        destinationPort: port(ports.destinationPort, 'udpEncapsulation.destinationPort'),
      };
    } else {
      throw badConfig('udpEncapsulation', `must be true or { sourcePort, destinationPort } (default 4500), got ${describeValue(encapsulation)}`);
    }
    this.udpLength = this.udpEncapsulation ? UDP_HEADER_LENGTH : 0;
    this.udpSourcePort = this.udpEncapsulation?.sourcePort ?? 0;
    this.udpDestinationPort = this.udpEncapsulation?.destinationPort ?? 0;

    // Lifetimes.
    const limits = config.limits ?? {};
    if (limits === null || typeof limits !== 'object') throw badConfig('limits', `must be an object with fields ${LIMIT_FIELDS.join(', ')}`);
    for (const key of Object.keys(limits)) {
      if (!LIMIT_FIELDS.includes(key)) throw badConfig(`limits.${key}`, `unknown field; allowed: ${LIMIT_FIELDS.join(', ')}`);
    }
    this.packetSoft = limitValue(limits, 'packetSoft');
    this.packetHard = limitValue(limits, 'packetHard');
    this.byteSoft = limitValue(limits, 'byteSoft');
    this.byteHard = limitValue(limits, 'byteHard');
    const timeSoft = limitValue(limits, 'timeSoft');
    const timeHard = limitValue(limits, 'timeHard');
    for (const [soft, hard, name] of [[this.packetSoft, this.packetHard, 'packet'], [this.byteSoft, this.byteHard, 'byte'], [timeSoft, timeHard, 'time']] as const) {
      if (soft !== Infinity && hard !== Infinity && soft > hard) throw badConfig(`limits.${name}Soft`, `must not exceed limits.${name}Hard (${hard}), got ${soft}`);
    }

    const random = config.random ?? sharedRandomPool;
    if (random === null || typeof random !== 'object' || typeof random.fill !== 'function') throw badConfig('random', 'must be an object with fill(buf, offset, length)');
    this.random = random;

    const backend = resolveBackend(config.backend);
    this.backend = backend.name;
    this.cipher = backend.createCipher(this.algorithm, { key, authKey, esn });

    if (timeSoft !== Infinity) this.schedule(timeSoft, () => this.soft('time'));
    if (timeHard !== Infinity) this.schedule(timeHard, () => this.hard('time'));
  }

  /** The last sequence number sent (what `ip xfrm state` shows as oseq). */
  get outboundSeq(): bigint {
    return (BigInt(this.outHigh) << 32n) | BigInt(this.outLow);
  }

  /** The highest sequence number received and authenticated. */
  get inboundSeq(): bigint {
    return this.replay.top;
  }

  /** Bytes the datapath needs in front of a payload for this SA's outer headers, ESP header and IV. */
  get headroom(): number {
    const outer = this.outerFamily === 6 ? IPV6_HEADER_LENGTH : this.outerFamily === 4 ? IPV4_HEADER_LENGTH : 0;
    return outer + this.udpLength + ESP_HEADER_LENGTH + this.algorithm.ivLength;
  }

  /** Worst-case bytes needed after a payload: padding, Pad Length, Next Header, ICV. */
  get tailroom(): number {
    return this.alignment - 1 + 2 + this.algorithm.icvLength;
  }

  /**
   * The largest payload whose ESP packet (with this SA's outer headers, UDP
   * encapsulation, IV, padding to the cipher's block, trailer and ICV) fits in
   * `budget` bytes: e.g. budget = underlay MTU − outer IP header in transport mode.
   * Without TFC padding. 0 when nothing fits.
   */
  maxPayload(budget: number): number {
    const room = budget - this.headroom - this.algorithm.icvLength;
    const padded = Math.floor(room / this.alignment) * this.alignment;
    return Math.max(0, padded - 2);
  }

  /** Stops the lifetime timers. The SA keeps working (until a hard limit). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.length = 0;
  }

  snapshot(): SaSnapshot {
    return {
      spi: this.spi,
      mode: this.mode,
      algorithm: this.algorithm.name,
      backend: this.backend,
      esn: this.esn,
      replayWindow: this.replayWindow,
      udpEncapsulation: this.udpEncapsulation ? { ...this.udpEncapsulation } : null,
      source: this.source,
      destination: this.destination,
      outboundSeq: this.outboundSeq.toString(),
      inboundSeq: this.inboundSeq.toString(),
      lifetimePackets: this.lifetimePackets,
      lifetimeBytes: this.lifetimeBytes,
      softExpired: this.softExpired,
      hardExpired: this.hardExpired,
      stats: { ...this.stats },
    };
  }

  // -------------------------------------------------------------------------
  // Friendly API

  /** Seals a whole IPv4/IPv6 packet and returns the ESP packet (a new array). Throws EspError. */
  seal(packet: Uint8Array): Uint8Array {
    const view = this.scratchView(packet);
    const status = this.sealBuffer(view);
    if (status !== EspStatus.OK) throw EspError.fromStatus(status);
    return view.bytes.slice(view.offset, view.offset + view.length);
  }

  /**
   * Opens a whole IPv4/IPv6 packet carrying ESP (in UDP if the SA says so) and returns the
   * original packet (transport) or the inner packet (tunnel), a new array. Throws EspError,
   * also DUMMY for a dummy packet (RFC 4303 2.6), which callers ignore.
   */
  open(packet: Uint8Array): Uint8Array {
    const view = this.scratchView(packet);
    const status = this.openBuffer(view);
    if (status !== EspStatus.OK) throw EspError.fromStatus(status);
    return view.bytes.slice(view.offset, view.offset + view.length);
  }

  private scratchView(packet: Uint8Array): PacketView {
    if (!(packet instanceof Uint8Array)) throw new EspError('BAD_PACKET', undefined, `packet must be a Uint8Array, got ${describeValue(packet)}`);
    const front = 128;
    const bytes = new Uint8Array(front + packet.length + 64);
    bytes.set(packet, front);
    return { bytes, offset: front, length: packet.length };
  }

  // -------------------------------------------------------------------------
  // Datapath: outbound

  /**
   * Seals the IP packet at `buf.bytes[buf.offset, buf.offset + buf.length)` in place. On OK the
   * buffer holds the ESP packet (offset moved back into the headroom, length grown into the
   * tailroom). On any other status the buffer is unchanged and the status is counted.
   */
  sealBuffer(buf: PacketView): number {
    const status = this.tunnelMode ? this.sealTunnel(buf) : this.sealTransport(buf);
    if (status !== EspStatus.OK) countEspStatus(this.stats, status);
    return status;
  }

  /**
   * Seals a bare payload (`nextHeader`: its protocol, e.g. 4 for an IPv4 packet in tunnel mode,
   * 17 for UDP in transport mode) into an ESP packet, in place: on OK the buffer holds
   * SPI .. ICV, with no IP or UDP header (for a UDP or raw socket to send). Counts errors.
   */
  sealPayload(buf: PacketView, nextHeader: number): number {
    const bytes = buf.bytes;
    const start = buf.offset;
    const length = buf.length;
    let status: number = EspStatus.OK;
    if (!(start >= 0 && length >= 0 && start + length <= bytes.length) || (nextHeader & 0xff) !== nextHeader) status = EspStatus.BAD_PACKET;
    else status = this.prepareSeal(length);
    if (status === EspStatus.OK) {
      const layout = this.layout;
      if (start - layout.headroom < 0 || start + length + layout.tailroom > bytes.length) status = EspStatus.NO_ROOM;
      else {
        this.sealCore(bytes, start, nextHeader);
        buf.offset = start - layout.headroom;
        buf.length = layout.totalLength;
      }
    }
    if (status !== EspStatus.OK) countEspStatus(this.stats, status);
    return status;
  }

  /** Checks the SA may send, picks the next sequence number and lays out the ESP packet. */
  private prepareSeal(payloadLength: number): number {
    if (this.hardExpired) return EspStatus.HARD_LIMIT;
    let low = this.outLow + 1;
    let high = this.outHigh;
    if (low > 0xffffffff) {
      // RFC 4303 3.3.3: the counter must not cycle; with ESN it is 64 bits wide.
      if (!this.esn || high === 0xffffffff) {
        if (!this.sequenceReported) {
          this.sequenceReported = true;
          this.emitLater('hard', 'sequence');
        }
        return EspStatus.SEQ_EXHAUSTED;
      }
      low = 0;
      high++;
    }
    this.nextHigh = high;
    this.nextLow = low;
    const a = this.algorithm;
    espFrameLayout(payloadLength, a.blockSize, a.ivLength, a.icvLength, this.layout);
    return EspStatus.OK;
  }

  /**
   * Writes header, IV, padding and trailer around the payload at `payloadStart` (layout from
   * prepareSeal, room already checked), encrypts, and commits the sequence number.
   */
  private sealCore(bytes: Uint8Array, payloadStart: number, nextHeader: number): void {
    const layout = this.layout;
    const high = this.nextHigh;
    const low = this.nextLow;
    writeEspFraming(bytes, payloadStart, layout, this.spi, low, nextHeader);
    const esp = payloadStart - layout.headroom;
    const iv = esp + ESP_HEADER_LENGTH;
    if (this.algorithm.aead) {
      // RFC 4106 3.1 / RFC 7634 2: the IV must never repeat under a key; the 64-bit sequence number does not.
      bytes[iv] = high >>> 24;
      bytes[iv + 1] = (high >>> 16) & 0xff;
      bytes[iv + 2] = (high >>> 8) & 0xff;
      bytes[iv + 3] = high & 0xff;
      bytes[iv + 4] = low >>> 24;
      bytes[iv + 5] = (low >>> 16) & 0xff;
      bytes[iv + 6] = (low >>> 8) & 0xff;
      bytes[iv + 7] = low & 0xff;
    } else {
      // RFC 3602 2.3: an unpredictable IV, from the pre-filled pool.
      this.random.fill(bytes, iv, this.algorithm.ivLength);
    }
    this.outHigh = high;
    this.outLow = low;
    this.cipher.seal(bytes, esp, esp + layout.payloadOffset, esp + layout.icvOffset, high);
    const stats = this.stats;
    stats.sealed++;
    stats.sealedBytes += layout.payloadLength;
    this.account(layout.payloadLength);
  }

  private sealTransport(buf: PacketView): number {
    const bytes = buf.bytes;
    const start = buf.offset;
    const end = start + buf.length;
    const walker = this.walker;
    let status = walker.walk(bytes, start, end, WALK_OUTBOUND);
    if (status !== EspStatus.OK) return status;
    const headerLength = walker.headerLength;
    const payloadStart = start + headerLength;
    const payloadLength = walker.packetEnd - payloadStart;
    status = this.prepareSeal(payloadLength);
    if (status !== EspStatus.OK) return status;
    const layout = this.layout;
    const udpLength = this.udpLength;
    const newStart = payloadStart - layout.headroom - udpLength - headerLength;
    const total = headerLength + udpLength + layout.totalLength;
    const version = walker.version;
    if (newStart < 0 || payloadStart + payloadLength + layout.tailroom > bytes.length) return EspStatus.NO_ROOM;
    if (version === 4 ? total > 0xffff : total - IPV6_HEADER_LENGTH > 0xffff) return EspStatus.NO_ROOM;
    // Move the IP header (and IPv6 extension headers) back: the payload stays where it is.
    bytes.copyWithin(newStart, start, payloadStart);
    this.sealCore(bytes, payloadStart, walker.protocol);
    bytes[newStart + walker.nextHeaderAt] = udpLength ? IPPROTO_UDP : IPPROTO_ESP;
    if (version === 4) {
      bytes[newStart + 2] = total >>> 8;
      bytes[newStart + 3] = total & 0xff;
      writeIpv4Checksum(bytes, newStart);
    } else {
      const payload = total - IPV6_HEADER_LENGTH;
      bytes[newStart + 4] = payload >>> 8;
      bytes[newStart + 5] = payload & 0xff;
    }
    if (udpLength) this.writeUdpHeader(bytes, newStart, newStart + headerLength, layout.totalLength, version);
    buf.offset = newStart;
    buf.length = total;
    return EspStatus.OK;
  }

  private sealTunnel(buf: PacketView): number {
    const bytes = buf.bytes;
    const start = buf.offset;
    const length = buf.length;
    if (!(start >= 0 && length >= 0 && start + length <= bytes.length)) return EspStatus.BAD_PACKET;
    if (length < 1) return EspStatus.TRUNCATED;
    const version = bytes[start]! >>> 4;
    let nextHeader: number;
    let tos: number;
    if (version === 4) {
      if (length < IPV4_HEADER_LENGTH) return EspStatus.TRUNCATED;
      nextHeader = ESP_NEXT_HEADER_IPV4;
      tos = bytes[start + 1]!;
    } else if (version === 6) {
      if (length < IPV6_HEADER_LENGTH) return EspStatus.TRUNCATED;
      nextHeader = ESP_NEXT_HEADER_IPV6;
      tos = ((bytes[start]! & 0x0f) << 4) | (bytes[start + 1]! >>> 4);
    } else {
      return EspStatus.BAD_PACKET;
    }
    const status = this.prepareSeal(length);
    if (status !== EspStatus.OK) return status;
    const layout = this.layout;
    const outer = this.outer;
    const outerLength = outer.length;
    const udpLength = this.udpLength;
    const newStart = start - layout.headroom - udpLength - outerLength;
    const total = outerLength + udpLength + layout.totalLength;
    if (newStart < 0 || start + length + layout.tailroom > bytes.length) return EspStatus.NO_ROOM;
    if (this.outerFamily === 4 ? total > 0xffff : total - IPV6_HEADER_LENGTH > 0xffff) return EspStatus.NO_ROOM;
    this.sealCore(bytes, start, nextHeader);
    bytes.set(outer, newStart);
    // RFC 4301 5.1.2.1: DSCP copied from the inner header; RFC 6040 4.1 normal mode: ECN copied too.
    if (this.outerFamily === 4) {
      bytes[newStart + 1] = tos;
      bytes[newStart + 2] = total >>> 8;
      bytes[newStart + 3] = total & 0xff;
      const id = (this.identification = (this.identification + 1) & 0xffff);
      bytes[newStart + 4] = id >>> 8;
      bytes[newStart + 5] = id & 0xff;
      bytes[newStart + 9] = udpLength ? IPPROTO_UDP : IPPROTO_ESP;
      writeIpv4Checksum(bytes, newStart);
    } else {
      bytes[newStart] = 0x60 | (tos >>> 4);
      bytes[newStart + 1] = ((tos & 0x0f) << 4) | (bytes[newStart + 1]! & 0x0f);
      const payload = total - IPV6_HEADER_LENGTH;
      bytes[newStart + 4] = payload >>> 8;
      bytes[newStart + 5] = payload & 0xff;
      bytes[newStart + 6] = udpLength ? IPPROTO_UDP : IPPROTO_ESP;
    }
    if (udpLength) this.writeUdpHeader(bytes, newStart, newStart + outerLength, layout.totalLength, this.outerFamily);
    buf.offset = newStart;
    buf.length = total;
    return EspStatus.OK;
  }

  /** RFC 3948 2.1: the UDP header in front of ESP. Checksum 0 over IPv4 (SHOULD); computed over IPv6 (RFC 8200 8.1 requires one). */
  private writeUdpHeader(bytes: Uint8Array, ipStart: number, udpStart: number, espLength: number, family: number): void {
    const length = UDP_HEADER_LENGTH + espLength;
    writeUdp(bytes, udpStart, this.udpSourcePort, this.udpDestinationPort, length, 0);
    if (family === 6) writeUdpChecksumIpv6(bytes, udpStart, length, bytes, ipStart + 8, bytes, ipStart + 24);
  }

  // -------------------------------------------------------------------------
  // Datapath: inbound

  /**
   * Opens the IP packet at `buf.bytes[buf.offset, buf.offset + buf.length)` in place. On OK the
   * buffer holds the original packet (transport) or the inner packet (tunnel). Any other status
   * is counted; the buffer then holds garbage at most in the ESP header and IV bytes.
   * DUMMY (next header 59) means: authentic, drop silently.
   */
  openBuffer(buf: PacketView): number {
    const status = this.openPacket(buf);
    if (status !== EspStatus.OK) countEspStatus(this.stats, status);
    return status;
  }

  /**
   * Opens a bare ESP packet (SPI .. ICV, as a UDP socket or an IPv6 raw socket delivers it) in
   * place: on OK the buffer holds the payload (tunnel mode: the inner packet, trimmed to its IP
   * length) and `lastNextHeader` its protocol. Counts errors.
   */
  openPayload(buf: PacketView): number {
    const bytes = buf.bytes;
    const start = buf.offset;
    const end = start + buf.length;
    let status: number;
    if (!(start >= 0 && end >= start && end <= bytes.length)) status = EspStatus.BAD_PACKET;
    else if (end - start < ESP_HEADER_LENGTH) status = EspStatus.TRUNCATED;
    else if (readSpi(bytes, start) !== this.spi) status = EspStatus.UNKNOWN_SPI;
    else status = this.openCore(bytes, start, end);
    if (status === EspStatus.OK && this.tunnelMode) status = this.checkInner(bytes);
    if (status === EspStatus.OK) {
      buf.offset = this.plainStart;
      buf.length = this.plainLength;
    } else {
      countEspStatus(this.stats, status);
    }
    return status;
  }

  private openPacket(buf: PacketView): number {
    const bytes = buf.bytes;
    const start = buf.offset;
    const end = start + buf.length;
    const walker = this.walker;
    let status = walker.walk(bytes, start, end, WALK_INBOUND);
    if (status !== EspStatus.OK) return status;
    const headerLength = walker.headerLength;
    let espStart = start + headerLength;
    let espEnd = walker.packetEnd;
    if (walker.protocol === IPPROTO_UDP) {
      if (this.udpLength === 0) return EspStatus.BAD_PACKET;
      status = readUdp(bytes, espStart, espEnd, this.udp);
      if (status !== WireStatus.OK) return headerStatus(status);
      // RFC 3948 2.1: the UDP checksum is not relied upon (ESP's ICV covers the payload).
      espEnd = espStart + this.udp.length;
      espStart += UDP_HEADER_LENGTH;
      if (isNatKeepalive(bytes, espStart, espEnd)) return EspStatus.NAT_KEEPALIVE;
      if (isNonEspMarker(bytes, espStart, espEnd)) return EspStatus.NON_ESP;
    } else if (walker.protocol !== IPPROTO_ESP) {
      return EspStatus.BAD_PACKET;
    }
    if (espEnd - espStart < ESP_HEADER_LENGTH) return EspStatus.TRUNCATED;
    if (readSpi(bytes, espStart) !== this.spi) return EspStatus.UNKNOWN_SPI;
    status = this.openCore(bytes, espStart, espEnd);
    if (status !== EspStatus.OK) return status;
    if (this.tunnelMode) {
      status = this.checkInner(bytes);
      if (status !== EspStatus.OK) return status;
      buf.offset = this.plainStart;
      buf.length = this.plainLength;
      return EspStatus.OK;
    }
    // Transport: move the IP header forward onto the payload and restore it.
    const plainStart = this.plainStart;
    const plainLength = this.plainLength;
    const newStart = plainStart - headerLength;
    bytes.copyWithin(newStart, start, start + headerLength);
    bytes[newStart + walker.nextHeaderAt] = this.lastNextHeader;
    const total = headerLength + plainLength;
    if (walker.version === 4) {
      bytes[newStart + 2] = total >>> 8;
      bytes[newStart + 3] = total & 0xff;
      writeIpv4Checksum(bytes, newStart);
    } else {
      const payload = total - IPV6_HEADER_LENGTH;
      bytes[newStart + 4] = payload >>> 8;
      bytes[newStart + 5] = payload & 0xff;
    }
    buf.offset = newStart;
    buf.length = total;
    return EspStatus.OK;
  }

  /**
   * RFC 4303 3.4: replay check, ICV check, decryption, window update, trailer check, for the
   * ESP packet [espStart, espEnd) whose SPI is this SA's. Sets plainStart/plainLength/lastNextHeader.
   */
  private openCore(bytes: Uint8Array, espStart: number, espEnd: number): number {
    if (this.hardExpired) return EspStatus.HARD_LIMIT;
    const a = this.algorithm;
    const encrypted = espEnd - espStart - ESP_HEADER_LENGTH - a.ivLength - a.icvLength;
    if (encrypted < this.minimumEncrypted) return EspStatus.TRUNCATED;
    // RFC 4303 2.4: the ciphertext is a whole number of blocks, and 4-byte aligned.
    if (encrypted % this.alignment !== 0) return EspStatus.BAD_LENGTH;
    const low = ((bytes[espStart + 4]! << 24) | (bytes[espStart + 5]! << 16) | (bytes[espStart + 6]! << 8) | bytes[espStart + 7]!) >>> 0;
    const replay = this.replay;
    let high = 0;
    if (this.esn) {
      // RFC 4303 Appendix A3: the high half is inferred from the window, never sent.
      high = replay.inferHigh(low);
      if (high < 0) return EspStatus.TOO_OLD;
    }
    // RFC 4303 3.4.3: the replay check comes before the (costly) integrity check ...
    let status = replay.check(high, low);
    if (status !== EspStatus.OK) return status;
    const payloadOffset = espStart + ESP_HEADER_LENGTH + a.ivLength;
    const icvOffset = espEnd - a.icvLength;
    // RFC 4303 3.4.4: ICV, then decryption (one authenticated step for the AEADs).
    status = this.cipher.open(bytes, espStart, payloadOffset, icvOffset, high);
    if (status !== EspStatus.OK) return status;
    // ... and the window moves only once the packet is known to be authentic.
    replay.update(high, low);
    status = readEspTrailer(bytes, payloadOffset, icvOffset, this.trailer);
    if (status !== WireStatus.OK) return status === WireStatus.BAD_PADDING ? EspStatus.BAD_PADDING : EspStatus.BAD_LENGTH;
    const trailer = this.trailer;
    this.lastNextHeader = trailer.nextHeader;
    this.lastSeqHigh = high;
    this.lastSeqLow = low;
    this.plainStart = payloadOffset;
    this.plainLength = trailer.payloadLength;
    this.account(trailer.payloadLength);
    // RFC 4303 2.6: dummy packets are discarded without prejudice.
    if (trailer.nextHeader === ESP_NEXT_HEADER_NONE) return EspStatus.DUMMY;
    const stats = this.stats;
    stats.opened++;
    stats.openedBytes += trailer.payloadLength;
    return EspStatus.OK;
  }

  /** Tunnel mode: the payload must be an IP packet of the version Next Header names; trims TFC padding (RFC 4303 2.7). */
  private checkInner(bytes: Uint8Array): number {
    const start = this.plainStart;
    const available = this.plainLength;
    const nextHeader = this.lastNextHeader;
    let length: number;
    if (nextHeader === ESP_NEXT_HEADER_IPV4) {
      if (available < IPV4_HEADER_LENGTH) return EspStatus.BAD_LENGTH;
      if (bytes[start]! >>> 4 !== 4) return EspStatus.BAD_NEXT_HEADER;
      length = (bytes[start + 2]! << 8) | bytes[start + 3]!;
      if (length < IPV4_HEADER_LENGTH) return EspStatus.BAD_LENGTH;
    } else if (nextHeader === ESP_NEXT_HEADER_IPV6) {
      if (available < IPV6_HEADER_LENGTH) return EspStatus.BAD_LENGTH;
      if (bytes[start]! >>> 4 !== 6) return EspStatus.BAD_NEXT_HEADER;
      length = IPV6_HEADER_LENGTH + ((bytes[start + 4]! << 8) | bytes[start + 5]!);
    } else {
      return EspStatus.BAD_NEXT_HEADER;
    }
    if (length > available) return EspStatus.BAD_LENGTH;
    this.plainLength = length;
    return EspStatus.OK;
  }

  // -------------------------------------------------------------------------
  // Lifetimes

  private account(bytes: number): void {
    const packets = ++this.lifetimePackets;
    const total = (this.lifetimeBytes += bytes);
    if (packets >= this.packetHard) this.hard('packets');
    else if (total >= this.byteHard) this.hard('bytes');
    if (!this.softExpired) {
      if (packets >= this.packetSoft) this.soft('packets');
      else if (total >= this.byteSoft) this.soft('bytes');
    }
  }

  private soft(reason: SaExpireReason): void {
    if (this.softExpired || this.hardExpired) return;
    this.softExpired = true;
    this.emitLater('soft', reason);
  }

  private hard(reason: SaExpireReason): void {
    if (this.hardExpired) return;
    this.hardExpired = true;
    this.close();
    this.emitLater('hard', reason);
  }

  /** Events are emitted on the next tick, never from inside a datapath call. */
  private emitLater(event: 'soft' | 'hard', reason: SaExpireReason): void {
    const detail: SaExpireEvent = { spi: this.spi, reason, hard: event === 'hard' };
    process.nextTick(() => this.emit(event, detail));
  }

  private schedule(seconds: number, action: () => void): void {
    const due = Date.now() + seconds * 1000;
    const step = (): void => {
      const left = due - Date.now();
      if (left <= 0) {
        action();
        return;
      }
      const timer = setTimeout(step, Math.min(left, MAX_TIMER_MS));
      timer.unref();
      this.timers.push(timer);
    };
    step();
  }
}

/** The SPI of the ESP header at `offset` (the caller checked 4 bytes are there). */
export function readSpi(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}
