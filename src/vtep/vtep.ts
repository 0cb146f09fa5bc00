/**
 * The engine: links (a VNI, a frame-side port, a tunnel kind), the FDB they share
 * (keyed by VNI), and the UDP underlay sockets they share (one per local address
 * and port, as the Linux driver). It is the only module that knows io, fdb, wire
 * and pool together.
 *
 *   transmit: port frames → FDB (forward) → tunnel header in the headroom → UDP, once per destination
 *   receive:  UDP → tunnel header → link by VNI → learn → port
 *
 * The UDP socket adds the outer IP and UDP headers, so the engine writes only
 * the VXLAN/Geneve header, in front of the frame, in the pool buffer it came in.
 */
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import {
  DESTINATION_IPV4,
  DESTINATION_IPV6,
  Fdb,
  FdbError,
  LEARN_DROP_STATIC,
  type FdbDeleteOptions,
  type FdbEntryOptions,
  type FdbOptions,
  type FdbRow,
  type FdbShowOptions,
} from '../fdb/index.js';
import { SaDatabase } from '../esp/sad.js';
import { SecurityAssociation } from '../esp/sa.js';
import { opensslBackendProblem } from '../esp/openssl-backend.js';
import { EspError, EspStatus, espStatusName } from '../esp/errors.js';
import { RawEspTransport, rawSocketMissing } from '../io/raw.js';
import { UdpTransport } from '../io/udp.js';
import { BatchUdpTransport, isBatchUdpAvailable } from '../io/udp-batch.js';
import { BufferPool, type BufferPoolOptions, type PacketBuffer } from '../pool/index.js';
import { ETHERNET_HEADER_LENGTH, formatMac, parseMac } from '../wire/ethernet.js';
import { flowHash, hashToPort } from '../wire/flowhash.js';
import { IpProtocol, Ipv4Fields, encodeIpv4, parseIpv4, readIpv4, readIpv4Address } from '../wire/ipv4.js';
import { encodeIpv6, parseIpv6 } from '../wire/ipv6.js';
import { TOO_BIG_MAX_FRAME, writeTooBig } from '../wire/icmp.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter, type PcapSink } from '../wire/pcap.js';
import { UdpFields, encodeUdp, readUdp, writeUdp } from '../wire/udp.js';
import { WireError } from '../wire/errors.js';
import {
  GENEVE_PORT,
  GENEVE_PROTOCOL_ETHERNET,
  GeneveFields,
  GeneveOptionRegistry,
  encodeGeneve,
  readGeneve,
  type GeneveOption,
} from '../wire/geneve.js';
import { VXLAN_HEADER_LENGTH, VXLAN_PORT, VXLAN_READ_GBP, VxlanFields, encodeVxlan, readVxlan } from '../wire/vxlan.js';
import type {
  LinkChange,
  LinkConfig,
  LinkCounters,
  LinkInfo,
  NeighbourConfig,
  SaConfigInput,
  VtepApi,
  VtepDocument,
} from './api.js';
import { ESP_BACKEND_CHOICES, type EspBackendChoice } from './api.js';
import { MemoryPort, TapPort, randomMac, type FramePort, type FrameRef } from './ports.js';
import { XfrmError, saConfigFromXfrm } from './xfrm.js';

const run = promisify(execFile);

export type VtepErrorCode = 'EXISTS' | 'NOT_FOUND' | 'BAD_VALUE' | 'NOT_SUPPORTED' | 'SYSTEM';

export class VtepError extends Error {
  override readonly name = 'VtepError';
  constructor(
    readonly code: VtepErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface VtepOptions {
  pool?: BufferPoolOptions;
  /** Table-wide FDB options (limits, clock); per-link learning/ageing/proxy come from each link. */
  fdb?: Omit<FdbOptions, 'port' | 'learning' | 'ageing' | 'proxy'>;
  /** MTU of the underlay, to derive each link's default MTU. Default 1500. */
  underlayMtu?: number;
  /**
   * The UDP underlay: 'batch' (the addon's sendmmsg/recvmmsg, no allocation per
   * datagram), 'dgram' (node:dgram), or 'auto' (default: batch when the addon is built).
   */
  underlay?: 'auto' | 'batch' | 'dgram';
  /**
   * The crypto backend of the underlay's SAs: 'auto' (default: 'openssl' when
   * vtepkit's cipher addon is built, else 'node'), 'openssl' (OpenSSL through the
   * addon, no object per packet; refused when the addon is missing), 'node'
   * (node:crypto, a cipher object per packet), or 'gcm-js' (AES-GCM SAs in
   * JavaScript, opt-in: its table GHASH is not constant-time against cache-timing
   * attackers on the same host; other algorithms then get 'auto'). docs/esp.md.
   */
  espBackend?: EspBackendChoice;
}

/** Drop reasons, one counter each (LinkCounters.drops shows the non-zero ones by name). */
const DROP_REASONS = [
  'link-down', 'runt', 'too-big', 'no-destination', 'static-move', 'no-buffer', 'tx-error', 'bad-header',
  'unknown-critical-option', 'not-ethernet', 'local-destination', 'esp-required', 'esp-seal', 'option-hook',
  'too-big-answered',
] as const;
type DropReason = (typeof DROP_REASONS)[number];
const DROP = Object.fromEntries(DROP_REASONS.map((r, i) => [r, i])) as Record<DropReason, number>;

class Counters {
  rxPackets = 0;
  rxBytes = 0;
  txPackets = 0;
  txBytes = 0;
  /** Drops by reason, on the way out (port → underlay) and on the way in (underlay → port). */
  readonly txDrops = new Float64Array(DROP_REASONS.length);
  readonly rxDrops = new Float64Array(DROP_REASONS.length);

  snapshot(): LinkCounters {
    const named = (counts: Float64Array): [Record<string, number>, number] => {
      const record: Record<string, number> = {};
      let total = 0;
      DROP_REASONS.forEach((reason, i) => {
        const n = counts[i]!;
        if (n === 0) return;
        record[reason] = n;
        total += n;
      });
      return [record, total];
    };
    const [txDrops, txDropped] = named(this.txDrops);
    const [rxDrops, rxDropped] = named(this.rxDrops);
    const drops: Record<string, number> = { ...txDrops };
    for (const [reason, n] of Object.entries(rxDrops)) drops[reason] = (drops[reason] ?? 0) + n;
    return { rxPackets: this.rxPackets, rxBytes: this.rxBytes, txPackets: this.txPackets, txBytes: this.txBytes, rxDropped, txDropped, drops, rxDrops, txDrops };
  }
}

/** One UDP socket, shared by the links with the same local address, port (and group). */
interface Underlay {
  key: string;
  /** node:dgram, or (when `batch` is set instead) the addon's sendmmsg/recvmmsg socket. */
  transport: UdpTransport | undefined;
  batch: BatchUdpTransport | undefined;
  family: 4 | 6;
  kind: 'vxlan' | 'geneve';
  /** Socket options, the same for every link on the socket. */
  tos: number;
  noChecksum: boolean;
  links: Map<number, Link>;
  /** Packets at the socket that belong to no link: bad headers, unknown VNIs. */
  badHeader: number;
  unknownVni: number;
}

interface Link {
  config: LinkConfig;
  vni: number;
  kind: 'vxlan' | 'geneve';
  dstport: number;
  port: FramePort;
  underlay: Underlay;
  /** The tunnel header written in front of every frame (VNI and options included). */
  header: Uint8Array;
  registry: GeneveOptionRegistry | undefined;
  mtu: number;
  /** The MTU was given (config or `link set mtu`); otherwise it follows the tunnel's capacity. */
  mtuExplicit: boolean;
  /** The largest inner IP packet the underlay carries unfragmented: underlay MTU − outer headers − tunnel header (− ESP). */
  capacity: number;
  /** Answer frames over the capacity with ICMP "fragmentation needed" / "packet too big" instead of sending them fragmented. */
  pmtud: boolean;
  up: boolean;
  learning: boolean;
  proxy: boolean;
  /** VXLAN GBP extension: G-flagged packets are accepted (and their D bit honoured); without it they are dropped, as Linux. */
  gbp: boolean;
  counters: Counters;
  addresses: string[];
  /** Packet capture taps (docs/vtep.md): frames at the port, tunnel packets at the underlay. */
  captureTap: PcapWriter | undefined;
  captureUnderlay: PcapWriter | undefined;
  /** Geneve: told of each received packet's options (RFC 8926 3.5), before delivery. */
  optionsHook: GeneveOptionsHook | undefined;
}

/**
 * Sees the options of a received Geneve packet: bytes [optionsOffset,
 * optionsOffset + optionsLength) of `packet`, valid only during the call (walk
 * them with GeneveOptionCursor). Return false to drop the packet (counted as
 * 'option-hook').
 */
export type GeneveOptionsHook = (vni: number, packet: Uint8Array, optionsOffset: number, optionsLength: number) => boolean | void;

export interface CaptureOptions {
  /** Stop after this many packets. Default: until stopped. */
  count?: number;
  /** Told once when the capture stops (by count or by the returned function). */
  onStop?: () => void;
}

/** Stops a capture; `packets` written so far, `running` until stopped. */
export type CaptureStop = (() => void) & { readonly packets: number; readonly running: boolean };

/** A pcap writer that stops its capture after `limit` packets. */
class LimitedPcapWriter extends PcapWriter {
  constructor(
    linkType: number,
    sink: PcapSink,
    private readonly limit: number,
    readonly stop: () => void,
  ) {
    super(linkType, sink);
  }

  override write(frame: Uint8Array, offset?: number, length?: number, timestampNs?: bigint | number): void {
    super.write(frame, offset, length, timestampNs);
    if (this.packets >= this.limit) this.stop();
  }
}

function check(condition: boolean, field: string, message: string): void {
  if (!condition) throw new VtepError('BAD_VALUE', field, message);
}

function integer(value: unknown, field: string, min: number, max: number): number {
  check(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max, field, `${field} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  return value as number;
}

function hexBytes(text: string, field: string): Uint8Array {
  check(typeof text === 'string' && /^(0x)?([0-9a-fA-F]{2})*$/.test(text), field, `${field} must be hex bytes like 0x0000abcd, got ${JSON.stringify(text)}`);
  const clean = text.replace(/^0x/, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** The IPv4/IPv6 address of a local interface, for `dev` (multicast). */
function interfaceAddress(dev: string, family: 4 | 6): string {
  const list = networkInterfaces()[dev];
  if (list === undefined) throw new VtepError('NOT_FOUND', 'dev', `no interface ${dev}`);
  const entry = list.find((a) => (family === 4 ? a.family === 'IPv4' : a.family === 'IPv6'));
  if (entry === undefined) throw new VtepError('BAD_VALUE', 'dev', `interface ${dev} has no IPv${family} address`);
  return entry.address;
}

export class Vtep implements VtepApi {
  readonly fdb: Fdb;
  readonly pool: BufferPool;
  private readonly links = new Map<string, Link>();
  private readonly underlays = new Map<string, Underlay>();
  private readonly underlayMtu: number;
  private readonly underlayKind: 'auto' | 'batch' | 'dgram';
  private readonly espBackend: EspBackendChoice;
  private readonly scratch16 = new Uint8Array(16);
  /** Pinned learnt remotes by IPv4 address and port (address * 65536 + port): no string per packet. */
  private readonly learntIpv4 = new Map<number, number>();
  private readonly vxlanFields = new VxlanFields();
  private readonly geneveFields = new GeneveFields();
  /** Scratch for delivering a received datagram's inner frame without a pool copy. */
  private readonly rxFrame: FrameRef[] = [{ bytes: new Uint8Array(0), offset: 0, length: 0 }];
  /** Frames of one received batch waiting for their port (one write call per link and batch). */
  private readonly gathered: FrameRef[] = Array.from({ length: 64 }, () => ({ bytes: new Uint8Array(0), offset: 0, length: 0 }));
  private gatheredCount = 0;
  private gatheredLink: Link | undefined;
  private gathering = false;
  /** Remote address text per destination id, and the address words it was made from. */
  private readonly addressText: string[] = [];
  private readonly addressWords: Int32Array[] = [];
  /** Pinned destinations of learnt remotes: by our port, then by the sender's address text (no key string per packet). Bounded. */
  private readonly learntRemotes = new Map<number, Map<string, number>>();
  private learntCount = 0;
  private closed = false;
  /** ESP on the underlay (docs/vtep.md): SAs by SPI, outbound SA by remote address, one raw socket. */
  readonly sad = new SaDatabase();
  private readonly outboundSas = new Map<string, SecurityAssociation>();
  private readonly inboundSources = new Set<string>();
  /** The same IPv4 addresses as numbers, for the batched socket's byte addresses (no text per datagram). */
  private readonly inboundIpv4 = new Set<number>();
  private readonly saInputs = new Map<number, SaConfigInput>();
  /** ESP on the wire: the addon's batched raw socket (sendmmsg/recvmmsg) when built, else the raw-socket package. */
  private espBatch: BatchUdpTransport | undefined;
  /** ESP-in-UDP (RFC 3948, `encap espinudp`): one batched UDP socket per local port the SAs name. */
  private readonly espUdp = new Map<number, BatchUdpTransport>();
  private raw: RawEspTransport | undefined;
  /** Sealed packets queued on espBatch, released once it has flushed (the kernel copies them then). */
  private readonly espQueued: PacketBuffer[] = [];
  /** Frames sealed in their own buffers and queued on an ESP socket since the last flush. */
  private espInPlace = 0;
  private espQueuedCount = 0;
  private readonly ipv4Fields = new Ipv4Fields();
  private readonly udpFields = new UdpFields();
  /** Received ESP packets dropped, by reason (bad-icv, replay, unknown-spi, …). */
  readonly espDrops = new Map<string, number>();

  constructor(options: VtepOptions = {}) {
    this.pool = new BufferPool(options.pool);
    this.underlayMtu = integer(options.underlayMtu ?? 1500, 'underlayMtu', 576, 65535);
    this.underlayKind = options.underlay ?? 'auto';
    check(['auto', 'batch', 'dgram'].includes(this.underlayKind), 'underlay', `underlay must be auto, batch or dgram, got ${JSON.stringify(options.underlay)}`);
    this.espBackend = options.espBackend ?? 'auto';
    check(ESP_BACKEND_CHOICES.includes(this.espBackend), 'espBackend', `espBackend must be ${ESP_BACKEND_CHOICES.join(', ')}, got ${JSON.stringify(options.espBackend)}`);
    const opensslProblem = this.espBackend === 'openssl' ? opensslBackendProblem() : undefined;
    check(opensslProblem === undefined, 'espBackend', `espBackend openssl is unavailable: ${opensslProblem}`);
    this.fdb = new Fdb({ ...options.fdb });
  }

  // -------------------------------------------------------------------------
  // Links
  // -------------------------------------------------------------------------

  async addLink(config: LinkConfig): Promise<LinkInfo> {
    this.checkOpen();
    check(config !== null && typeof config === 'object', 'link', 'a link must be an object');
    const name = config.name;
    check(typeof name === 'string' && name.length > 0 && Buffer.byteLength(name) <= 15 && !/[\s/:]/.test(name), 'name', `name must be 1..15 bytes without spaces, '/' or ':', got ${JSON.stringify(name)}`);
    if (this.links.has(name)) throw new VtepError('EXISTS', 'name', `link ${name} exists`);
    check(config.type === 'vxlan' || config.type === 'geneve', 'type', `type must be vxlan or geneve, got ${JSON.stringify(config.type)}`);
    const kind = config.type;
    const vni = integer(config.vni, 'vni', 0, 0xffffff);
    const dstport = integer(config.dstport ?? (kind === 'vxlan' ? VXLAN_PORT : GENEVE_PORT), 'dstport', 1, 65535);
    for (const field of ['local', 'remote', 'group'] as const) {
      const value = config[field];
      check(value === undefined || isIP(value) !== 0, field, `${field} must be an IPv4 or IPv6 address, got ${JSON.stringify(value)}`);
    }
    check(!(config.remote && config.group), 'group', 'remote and group are mutually exclusive (as in ip link)');
    const family = (isIP(config.local ?? config.remote ?? config.group ?? '0.0.0.0') === 6 ? 6 : 4) as 4 | 6;
    const learning = config.learning ?? true;
    const ageing = integer(config.ageing ?? 300, 'ageing', 0, 0x7fffffff);
    const proxy = config.proxy ?? false;
    check(typeof learning === 'boolean', 'learning', 'learning must be true or false');
    check(typeof proxy === 'boolean', 'proxy', 'proxy must be true or false');
    const ttl = config.ttl === undefined ? undefined : integer(config.ttl, 'ttl', 1, 255);
    // The kernel builds the outer IP and UDP headers of our socket: the TOS byte and
    // the checksum are socket options (the addon's batched socket sets them; node:dgram cannot).
    const tos = config.tos === undefined ? 0 : integer(config.tos, 'tos', 0, 255);
    if (tos === 1) throw new VtepError('NOT_SUPPORTED', 'tos', 'tos inherit: the outer TOS is one value per socket here; give a fixed TOS byte (docs/vtep.md)');
    if (config.srcport !== undefined) throw new VtepError('NOT_SUPPORTED', 'srcport', 'srcport: the UDP underlay sends from its bound port (dstport), as one socket per port; per-flow source ports are not supported (docs/vtep.md)');
    if (config.udpChecksum !== undefined) check(typeof config.udpChecksum === 'boolean', 'udpChecksum', 'udpChecksum must be true or false');
    const noChecksum = config.udpChecksum === false;
    const useBatch = this.useBatchSocket();
    if (!useBatch && tos !== 0) throw new VtepError('NOT_SUPPORTED', 'tos', 'tos: node:dgram cannot set the outer TOS; it needs the addon\'s batched socket (npm run build:addon)');
    if (!useBatch && noChecksum) throw new VtepError('NOT_SUPPORTED', 'udpChecksum', 'noudpcsum: node:dgram always sends UDP checksums; it needs the addon\'s batched socket (npm run build:addon)');
    const gbp = config.gbp ?? false;
    check(typeof gbp === 'boolean', 'gbp', 'gbp must be true or false');

    // The tunnel header, built once.
    let header: Uint8Array;
    let registry: GeneveOptionRegistry | undefined;
    try {
      if (kind === 'vxlan') {
        check(config.options === undefined, 'options', 'options are for geneve links');
        header = new Uint8Array(VXLAN_HEADER_LENGTH);
        encodeVxlan({ vni }, header, 0);
      } else {
        const options: GeneveOption[] = (config.options ?? []).map((o, i) => ({
          optionClass: integer(o.class, `options[${i}].class`, 0, 0xffff),
          type: integer(o.type, `options[${i}].type`, 0, 0xff),
          data: hexBytes(o.data, `options[${i}].data`),
        }));
        const length = 8 + options.reduce((n, o) => n + 4 + o.data.length, 0);
        header = new Uint8Array(length);
        encodeGeneve({ vni, protocolType: GENEVE_PROTOCOL_ETHERNET, options }, header, 0);
        registry = new GeneveOptionRegistry();
        for (const o of config.options ?? []) registry.add(o.class, o.type);
        for (const [i, o] of (config.knownOptions ?? []).entries()) registry.add(integer(o.class, `knownOptions[${i}].class`, 0, 0xffff), integer(o.type, `knownOptions[${i}].type`, 0, 0xff));
      }
    } catch (error) {
      if (error instanceof WireError) throw new VtepError('BAD_VALUE', 'options', error.message);
      throw error;
    }
    const pmtud = config.pmtud ?? false;
    check(typeof pmtud === 'boolean', 'pmtud', 'pmtud must be true or false');
    const capacity = this.capacityOf(family, header.length, config.remote);
    const mtu = integer(config.mtu ?? capacity, 'mtu', 68, 65535);
    let mac: number | undefined;
    if (config.address !== undefined) {
      try {
        mac = parseMac(config.address);
      } catch {
        throw new VtepError('BAD_VALUE', 'address', `address must be a MAC like 02:00:00:00:00:01, got ${JSON.stringify(config.address)}`);
      }
    }
    const portKind = config.port ?? 'tap';
    check(portKind === 'tap' || portKind === 'memory', 'port', `port must be tap or memory, got ${JSON.stringify(portKind)}`);

    // One socket per (local, port, group): links on it are told apart by VNI.
    const key = `${kind}|${config.local ?? ''}|${dstport}|${config.group ?? ''}`;
    let underlay = this.underlays.get(key);
    if (underlay !== undefined && (underlay.tos !== tos || underlay.noChecksum !== noChecksum)) {
      throw new VtepError('BAD_VALUE', underlay.tos !== tos ? 'tos' : 'udpChecksum', `links on ${kind} port ${dstport} share one socket: tos ${underlay.tos} and ${underlay.noChecksum ? 'noudpcsum' : 'udpcsum'} are set by the link that opened it`);
    }
    if (underlay !== undefined && underlay.links.has(vni)) {
      throw new VtepError('EXISTS', 'vni', `VNI ${vni} is already used on ${kind} port ${dstport} (link ${underlay.links.get(vni)!.config.name})`);
    }
    for (const other of this.links.values()) {
      if (other.vni === vni && other.kind === kind) throw new VtepError('EXISTS', 'vni', `VNI ${vni} is already used by link ${other.config.name}`);
    }
    let createdUnderlay = false;
    if (underlay === undefined) {
      const socketOptions = {
        port: dstport,
        family,
        ...(config.group === undefined && config.local !== undefined ? { address: config.local } : {}),
        ...(config.group === undefined ? {} : { group: config.group, multicastTtl: ttl ?? 1 }),
        ...(config.group !== undefined && config.dev !== undefined ? { multicastInterface: interfaceAddress(config.dev, family) } : {}),
        ...(config.group !== undefined && config.local !== undefined && config.dev === undefined ? { multicastInterface: config.local } : {}),
        ...(ttl === undefined ? {} : { ttl }),
      };
      let batch: BatchUdpTransport | undefined;
      let transport: UdpTransport | undefined;
      try {
        if (useBatch) batch = BatchUdpTransport.open({ ...socketOptions, tos, noChecksum, ...(config.group === undefined ? {} : { reuseAddr: true }) });
        else transport = await UdpTransport.open(socketOptions);
      } catch (error) {
        throw new VtepError('SYSTEM', 'dstport', `cannot open the underlay socket: ${(error as Error).message}`);
      }
      underlay = { key, transport, batch, family, kind, tos, noChecksum, links: new Map(), badHeader: 0, unknownVni: 0 };
      const u = underlay;
      if (batch !== undefined) {
        batch.start(this.pool, (buffers, sources, _ports, count) => this.receiveBatch(u, buffers, sources, count));
      } else {
        transport!.onMessage((message, address) => {
          if (this.inboundSources.size !== 0 && this.inboundSources.has(address)) {
            // An SA protects this peer: plaintext tunnel packets from it are refused, as an xfrm policy would.
            this.countEspRequired(u, message, 0, message.length);
            return;
          }
          this.receive(u, message, 0, message.length, address, null, 0);
        });
      }
      this.underlays.set(key, underlay);
      createdUnderlay = true;
    }

    let port: FramePort;
    try {
      port = portKind === 'tap' ? TapPort.open(name, mtu, mac) : new MemoryPort(name, mtu, mac ?? randomMac());
    } catch (error) {
      if (createdUnderlay) this.dropUnderlay(underlay);
      throw new VtepError('SYSTEM', 'name', `cannot create the frame port ${name}: ${(error as Error).message}`);
    }
    const link: Link = {
      config: { ...config, dstport },
      vni,
      kind,
      dstport,
      port,
      underlay,
      header,
      registry,
      mtu,
      mtuExplicit: config.mtu !== undefined,
      capacity,
      pmtud,
      up: false,
      learning,
      proxy,
      gbp,
      counters: new Counters(),
      addresses: [],
      captureTap: undefined,
      captureUnderlay: undefined,
      optionsHook: undefined,
    };
    this.fdb.setVni(vni, { learning, ageing, proxy });
    const remote = config.remote ?? config.group;
    if (remote !== undefined) {
      // As Linux: `remote`/`group` is the all-zeros default destination, permanent.
      this.fdb.append(vni, '00:00:00:00:00:00', { dst: remote, port: dstport });
    }
    underlay.links.set(vni, link);
    this.links.set(name, link);
    if (this.saInputs.size !== 0) this.classifySas();
    port.start(this.pool, (frames, count) => this.transmit(link, frames, count));
    return this.info(link, false);
  }

  async setLink(name: string, change: LinkChange): Promise<LinkInfo> {
    const link = this.link(name);
    check(change !== null && typeof change === 'object', 'change', 'a change must be an object');
    if (change.mtu !== undefined) {
      const mtu = integer(change.mtu, 'mtu', 68, 65535);
      link.port.setMtu(mtu);
      link.mtu = mtu;
      link.mtuExplicit = true;
    }
    if (change.address !== undefined) {
      let mac: number;
      try {
        mac = parseMac(change.address);
      } catch {
        throw new VtepError('BAD_VALUE', 'address', `address must be a MAC like 02:00:00:00:00:01, got ${JSON.stringify(change.address)}`);
      }
      link.port.setMac(mac);
    }
    if (change.up !== undefined) {
      check(typeof change.up === 'boolean', 'up', 'up must be true or false');
      link.port.setUp(change.up);
      link.up = change.up;
    }
    return this.info(link, false);
  }

  async deleteLink(name: string): Promise<void> {
    const link = this.link(name);
    this.links.delete(name);
    link.underlay.links.delete(link.vni);
    link.port.close();
    this.fdb.flush({ vni: link.vni });
    if (link.underlay.links.size === 0) this.dropUnderlay(link.underlay);
    if (this.saInputs.size !== 0) this.classifySas();
  }

  showLinks(options: { name?: string; stats?: boolean } = {}): LinkInfo[] {
    const links = options.name === undefined ? [...this.links.values()] : [this.link(options.name)];
    return links.map((link) => this.info(link, options.stats ?? false));
  }

  /** The frame-side port of a link (a MemoryPort to inject frames into, or a TapPort). */
  portOf(name: string): FramePort {
    return this.link(name).port;
  }

  /** Packets at the underlay sockets that belong to no link. */
  underlayCounters(): { key: string; badHeader: number; unknownVni: number; rxPackets: number; txErrors: number }[] {
    return [...this.underlays.values()].map((u) => ({
      key: u.key,
      badHeader: u.badHeader,
      unknownVni: u.unknownVni,
      rxPackets: (u.batch ?? u.transport!).stats.rxPackets,
      txErrors: u.batch ? u.batch.stats.txErrors + u.batch.stats.txAgain : u.transport!.stats.txErrors,
    }));
  }

  /** Sets (or clears, with undefined) the receive hook that sees each Geneve packet's options on a link. */
  setGeneveOptionsHook(name: string, hook: GeneveOptionsHook | undefined): void {
    const link = this.link(name);
    check(link.kind === 'geneve', 'name', `${name} is a ${link.kind} link; option hooks are for geneve links`);
    check(hook === undefined || typeof hook === 'function', 'hook', 'hook must be a function or undefined');
    link.optionsHook = hook;
  }

  /**
   * Starts a packet capture on a link and returns the function that stops it.
   * 'tap': the inner Ethernet frames the port gives and receives (LINKTYPE_ETHERNET).
   * 'underlay': the tunnel packets sent and received, as raw IP packets
   * (LINKTYPE_RAW) with the outer IP and UDP headers rebuilt from the socket's
   * view (the kernel writes the real ones): what tcpdump on the underlay shows,
   * but for the IP identification, TTL and checksums. The sink gets pcap bytes,
   * valid only during the call (write them synchronously, e.g. fs.writeSync).
   * A debugging aid: each captured packet is copied, and the underlay side parses
   * address text per packet; with no capture, the datapath pays one field test.
   * `count` stops the capture by itself after that many packets (`onStop` is told).
   * The returned function stops it; its `packets` and `running` say how it went.
   */
  capture(name: string, side: 'tap' | 'underlay', sink: PcapSink, options: CaptureOptions = {}): CaptureStop {
    const link = this.link(name);
    check(side === 'tap' || side === 'underlay', 'side', `side must be tap or underlay, got ${JSON.stringify(side)}`);
    check(typeof sink === 'function', 'sink', 'sink must be a function taking pcap bytes');
    const count = options.count === undefined ? Infinity : integer(options.count, 'count', 1, Number.MAX_SAFE_INTEGER);
    let running = true;
    const stop = (): void => {
      if (!running) return;
      running = false;
      if (link.captureTap === writer) link.captureTap = undefined;
      if (link.captureUnderlay === writer) link.captureUnderlay = undefined;
      options.onStop?.();
    };
    const writer = new LimitedPcapWriter(side === 'tap' ? LINKTYPE_ETHERNET : LINKTYPE_RAW, sink, count, stop);
    // One capture per side: a new one ends the previous.
    const previous = side === 'tap' ? link.captureTap : link.captureUnderlay;
    if (previous instanceof LimitedPcapWriter) previous.stop();
    if (side === 'tap') link.captureTap = writer;
    else link.captureUnderlay = writer;
    return Object.defineProperties(stop, {
      packets: { get: () => writer.packets },
      running: { get: () => running },
    }) as CaptureStop;
  }

  /** Received ESP packets dropped before or outside any SA's own counters, by reason (unknown-spi, not-udp-inside, …). */
  xfrmDrops(): Record<string, number> {
    return Object.fromEntries(this.espDrops);
  }

  private readonly captureScratch = new Uint8Array(65535 + 48);

  /** Writes outer IP + UDP in front of a copy of the tunnel packet, for the underlay capture. */
  private captureOuter(link: Link, bytes: Uint8Array, start: number, length: number, source: string, destination: string, sourcePort: number, destinationPort: number): void {
    const out = this.captureScratch;
    const family = isIP(destination) === 6 || isIP(source) === 6 ? 6 : 4;
    const ipLength = family === 4 ? 20 : 40;
    if (length + ipLength + 8 > out.length) return;
    try {
      if (family === 4) encodeIpv4({ source: parseIpv4(source || '0.0.0.0'), destination: parseIpv4(destination), protocol: IpProtocol.UDP, totalLength: ipLength + 8 + length }, out, 0);
      else encodeIpv6({ source: parseIpv6(source || '::'), destination: parseIpv6(destination), nextHeader: IpProtocol.UDP, payloadLength: 8 + length }, out, 0);
      encodeUdp({ sourcePort, destinationPort, length: 8 + length }, out, ipLength);
    } catch {
      return;
    }
    out.set(bytes.subarray(start, start + length), ipLength + 8);
    link.captureUnderlay!.write(out, 0, ipLength + 8 + length);
  }

  async addAddress(dev: string, cidr: string): Promise<void> {
    const link = this.link(dev);
    const [address, prefix] = typeof cidr === 'string' ? cidr.split('/') : [];
    check(address !== undefined && isIP(address) !== 0 && prefix !== undefined && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (isIP(address) === 4 ? 32 : 128), 'address', `address must be IP/prefix like 10.200.0.1/24, got ${JSON.stringify(cidr)}`);
    if (link.port.kind === 'tap') {
      // The kernel owns addresses on a TAP: the same as `ip addr add` on it.
      try {
        await run('ip', ['addr', 'add', cidr, 'dev', link.port.name]);
      } catch (error) {
        throw new VtepError('SYSTEM', 'address', `ip addr add ${cidr} dev ${link.port.name}: ${((error as { stderr?: string }).stderr ?? String(error)).trim()}`);
      }
    }
    link.addresses.push(cidr);
  }

  // -------------------------------------------------------------------------
  // FDB and neighbours, by device name
  // -------------------------------------------------------------------------

  private entryOptions(link: Link, options: FdbEntryOptions): FdbEntryOptions {
    return { port: link.dstport, ...options };
  }

  fdbAdd(dev: string, mac: string, options: FdbEntryOptions): void {
    const link = this.link(dev);
    this.fdb.add(link.vni, mac, this.entryOptions(link, options));
  }

  fdbAppend(dev: string, mac: string, options: FdbEntryOptions): void {
    const link = this.link(dev);
    this.fdb.append(link.vni, mac, this.entryOptions(link, options));
  }

  fdbReplace(dev: string, mac: string, options: FdbEntryOptions): void {
    const link = this.link(dev);
    this.fdb.replace(link.vni, mac, this.entryOptions(link, options));
  }

  fdbDel(dev: string, mac: string, options: FdbDeleteOptions = {}): boolean {
    const link = this.link(dev);
    try {
      return this.fdb.del(link.vni, mac, options.dst === undefined ? options : { port: link.dstport, ...options });
    } catch (error) {
      // Nothing to delete is an answer (false), not a failure; bad input still throws.
      if (error instanceof FdbError && error.code === 'NOT_FOUND') return false;
      throw error;
    }
  }

  fdbShow(options: FdbShowOptions & { dev?: string } = {}): (FdbRow & { dev: string })[] {
    const { dev, ...rest } = options;
    const links = dev === undefined ? [...this.links.values()] : [this.link(dev)];
    const rows: (FdbRow & { dev: string })[] = [];
    for (const link of links) {
      for (const row of this.fdb.show({ ...rest, vni: link.vni })) rows.push({ ...row, dev: link.config.name });
    }
    return rows;
  }

  neighAdd(config: NeighbourConfig): void {
    const link = this.link(config.dev);
    this.fdb.neighbours.add(link.vni, config.address, { lladdr: config.lladdr });
  }

  neighDel(config: Omit<NeighbourConfig, 'lladdr'>): boolean {
    const link = this.link(config.dev);
    if (this.fdb.neighbours.get(link.vni, config.address) === undefined) return false;
    this.fdb.neighbours.del(link.vni, config.address);
    return true;
  }

  neighShow(options: { dev?: string } = {}): { dev: string; address: string; lladdr: string; state: string }[] {
    const links = options.dev === undefined ? [...this.links.values()] : [this.link(options.dev)];
    const rows: { dev: string; address: string; lladdr: string; state: string }[] = [];
    for (const link of links) {
      for (const row of this.fdb.neighbours.show({ vni: link.vni })) {
        rows.push({ dev: link.config.name, address: row.dst, lladdr: row.lladdr, state: row.state || 'dynamic' });
      }
    }
    return rows;
  }

  /**
   * `xfrm state add`: an ESP SA for the underlay, IPv4, transport mode over the
   * tunnel's UDP packets (as the seeds protect VXLAN with `ip xfrm … mode
   * transport`), sent and received as IP protocol 50. An SA whose `src` is one of
   * our links' `local` addresses is outbound: traffic to its `dst` is sealed with
   * it; any other is inbound: plaintext tunnel packets from its `src` are then
   * refused ('esp-required').
   */
  xfrmStateAdd(config: SaConfigInput): void {
    this.checkOpen();
    let sa: SecurityAssociation;
    try {
      const saConfig = saConfigFromXfrm(config);
      try {
        sa = new SecurityAssociation(this.espBackend === 'auto' ? saConfig : { ...saConfig, backend: this.espBackend });
      } catch (error) {
        // gcm-js implements AES-GCM only: the other algorithms get the default backend.
        if (!(this.espBackend === 'gcm-js' && error instanceof EspError && error.field === 'backend')) throw error;
        sa = new SecurityAssociation(saConfig);
      }
    } catch (error) {
      if (error instanceof EspError || error instanceof XfrmError) throw new VtepError('BAD_VALUE', (error as { field?: string }).field ?? 'xfrm', error.message);
      throw error;
    }
    if (isIP(config.src) !== 4 || isIP(config.dst) !== 4 || (config.mode ?? 'transport') !== 'transport') {
      sa.close();
      throw new VtepError('NOT_SUPPORTED', 'xfrm', 'the engine protects the underlay with IPv4 transport-mode ESP, over IP protocol 50 or in UDP (encap espinudp); tunnel mode and IPv6 are available from the esp module');
    }
    if (sa.udpEncapsulation !== null) {
      this.addEspUdpSa(config, sa);
      return;
    }
    if (this.raw === undefined && this.espBatch === undefined && this.useBatchSocket()) {
      try {
        const socket = BatchUdpTransport.open({ port: 0, family: 4, protocol: IpProtocol.ESP });
        socket.start(
          this.pool,
          (buffers, sources, _ports, count) => this.receiveEspBatch(buffers, sources, count, false),
          undefined,
          () => this.countEspDrop('socket-error'),
        );
        this.espBatch = socket;
      } catch (error) {
        sa.close();
        throw new VtepError('SYSTEM', 'xfrm', `cannot open the raw ESP socket (IP protocol 50; needs root or CAP_NET_RAW): ${(error as Error).message}`);
      }
    }
    if (this.raw === undefined && this.espBatch === undefined) {
      const why = rawSocketMissing(4);
      if (why) {
        sa.close();
        throw new VtepError('SYSTEM', 'xfrm', why);
      }
      const raw = new RawEspTransport({ family: 4, sad: this.sad });
      raw.on('packet', (view: FrameRef, _sa: SecurityAssociation, source: string) => this.receiveEsp(view, source, null, 0));
      raw.on('drop', (_status: number, reason: string) => this.countEspDrop(reason));
      raw.on('error', () => this.countEspDrop('socket-error'));
      this.raw = raw;
    }
    try {
      this.sad.add(sa);
    } catch (error) {
      sa.close();
      throw new VtepError('EXISTS', 'spi', (error as Error).message);
    }
    this.saInputs.set(config.spi, config);
    this.classifySas();
  }

  /**
   * An SA with `encap espinudp SPORT DPORT`: its ESP goes in UDP (RFC 3948) through the
   * addon's batched socket on the local port, SPORT when it seals and DPORT when it
   * opens (both opened: which one it does depends on the links, whatever their order).
   */
  private addEspUdpSa(config: SaConfigInput, sa: SecurityAssociation): void {
    if (!this.useBatchSocket()) {
      sa.close();
      throw new VtepError('NOT_SUPPORTED', 'encap', "encap espinudp needs the addon's batched UDP socket (npm run build:addon)");
    }
    const opened: number[] = [];
    const undo = (): void => {
      sa.close();
      for (const port of opened) this.closeEspUdp(port);
    };
    try {
      for (const port of new Set([sa.udpEncapsulation!.sourcePort, sa.udpEncapsulation!.destinationPort])) {
        if (this.espUdp.has(port)) continue;
        const socket = BatchUdpTransport.open({ port, family: 4 });
        socket.start(
          this.pool,
          (buffers, sources, _ports, count) => this.receiveEspBatch(buffers, sources, count, true),
          undefined,
          () => this.countEspDrop('socket-error'),
        );
        this.espUdp.set(port, socket);
        opened.push(port);
      }
    } catch (error) {
      undo();
      throw new VtepError('SYSTEM', 'encap', `cannot open the ESP-in-UDP socket: ${(error as Error).message}`);
    }
    try {
      this.sad.add(sa);
    } catch (error) {
      undo();
      throw new VtepError('EXISTS', 'spi', (error as Error).message);
    }
    this.saInputs.set(config.spi, config);
    this.classifySas();
  }

  private closeEspUdp(port: number): void {
    this.espUdp.get(port)?.close();
    this.espUdp.delete(port);
  }

  /** Closes the ESP-in-UDP sockets no SA names any more. */
  private pruneEspUdp(): void {
    const used = new Set<number>();
    for (const config of this.saInputs.values()) {
      const encapsulation = this.sad.get(config.spi)?.udpEncapsulation;
      if (encapsulation) used.add(encapsulation.sourcePort).add(encapsulation.destinationPort);
    }
    for (const port of [...this.espUdp.keys()]) if (!used.has(port)) this.closeEspUdp(port);
  }

  /**
   * Which SAs are outbound (src is one of our links' local addresses: traffic to
   * dst is sealed) and which peers must send ESP (the src of the others).
   * Recomputed whenever SAs or links change, so the order of commands does not matter.
   */
  private classifySas(): void {
    const locals = new Set([...this.links.values()].map((l) => l.config.local));
    this.outboundSas.clear();
    this.inboundSources.clear();
    this.inboundIpv4.clear();
    for (const config of this.saInputs.values()) {
      const sa = this.sad.get(config.spi);
      if (sa === undefined) continue;
      if (locals.has(config.src)) this.outboundSas.set(config.dst, sa);
      else {
        this.inboundSources.add(config.src);
        // The engine's SAs are IPv4 (xfrmStateAdd refuses others).
        this.inboundIpv4.add(parseIpv4(config.src));
      }
    }
    this.refreshCapacities();
  }

  /**
   * Each link's capacity: the underlay MTU less the outer IP and UDP headers and
   * the tunnel header and, when an SA seals the link's traffic, what ESP adds
   * (header, IV, padding to the block, trailer, ICV). A link whose MTU was not
   * given follows it: 1450 for VXLAN over IPv4, 1416 with aes-gcm, 1408 with
   * aes-cbc + sha256. A link without a single `remote` takes the smallest over
   * all outbound SAs.
   */
  private refreshCapacities(): void {
    for (const link of this.links.values()) {
      link.capacity = this.capacityOf(link.underlay.family, link.header.length, link.config.remote);
      if (!link.mtuExplicit && link.mtu !== link.capacity && link.capacity >= 68) {
        try {
          link.port.setMtu(link.capacity);
          link.mtu = link.capacity;
        } catch {
          // The device refused (e.g. removed under us): keep the old MTU; frames over the capacity are fragmented or answered.
        }
      }
    }
  }

  xfrmStateDel(spi: number, dst: string): boolean {
    const config = this.saInputs.get(spi);
    if (config === undefined || config.dst !== dst) return false;
    const sa = this.sad.get(spi);
    this.sad.delete(spi);
    sa?.close();
    this.saInputs.delete(spi);
    this.pruneEspUdp();
    this.classifySas();
    return true;
  }

  xfrmStateShow(): Record<string, unknown>[] {
    return [...this.saInputs.values()].map((config) => {
      const sa = this.sad.get(config.spi);
      const { aead, enc, auth, ...rest } = config;
      // Keys are not shown back, as `ip xfrm state` without -s.
      return {
        ...rest,
        ...(aead ? { aead: aead.name } : {}),
        ...(enc ? { enc: enc.name } : {}),
        ...(auth ? { auth: auth.name } : {}),
        ...(sa ? { stats: sa.snapshot() } : {}),
      };
    });
  }

  /**
   * Applies a whole document, all or nothing: when a step fails, the steps
   * already done are undone in reverse order (links created are deleted with
   * their TAP, addresses, FDB and neighbours; links brought up go back down;
   * FDB entries, neighbours and SAs added to existing links are removed, and
   * entries a `replace` changed get their previous destinations back), then the
   * step's error is thrown.
   */
  async apply(document: VtepDocument): Promise<void> {
    check(document !== null && typeof document === 'object' && document.version === 1, 'version', 'the document must be an object with version: 1');
    const undo: (() => unknown)[] = [];
    const created = new Set<string>();
    const onExisting = (dev: string): boolean => !created.has(dev);
    try {
      for (const link of document.links ?? []) {
        await this.addLink(link);
        created.add(link.name);
        undo.push(() => this.deleteLink(link.name));
      }
      for (const name of document.up ?? []) {
        const wasUp = this.link(name).up;
        await this.setLink(name, { up: true });
        if (onExisting(name) && !wasUp) undo.push(() => this.setLink(name, { up: false }));
      }
      for (const a of document.addresses ?? []) {
        await this.addAddress(a.dev, a.address);
        if (onExisting(a.dev)) undo.push(() => this.removeAddress(a.dev, a.address));
      }
      for (const { mac, dev, op, ...options } of document.fdb ?? []) {
        const before = onExisting(dev) ? this.fdbShow({ dev }).filter((row) => row.mac === mac.toLowerCase()) : [];
        if (op === 'add') this.fdbAdd(dev, mac, options);
        else if (op === 'replace') this.fdbReplace(dev, mac, options);
        else this.fdbAppend(dev, mac, options);
        if (onExisting(dev)) {
          undo.push(() => {
            this.fdbDel(dev, mac, options.dst === undefined ? {} : { dst: options.dst });
            for (const row of before) {
              if (row.dst !== undefined && !this.fdbShow({ dev }).some((r) => r.mac === row.mac && r.dst === row.dst)) {
                this.fdbAppend(dev, mac, { dst: row.dst, ...(row.port === undefined ? {} : { port: row.port }), ...(row.vni === undefined ? {} : { vni: row.vni }), ...(row.state === '' ? {} : { state: row.state }) });
              }
            }
          });
        }
      }
      for (const n of document.neighbours ?? []) {
        const previous = onExisting(n.dev) ? this.neighShow({ dev: n.dev }).find((row) => row.address === n.address) : undefined;
        this.neighAdd(n);
        if (onExisting(n.dev)) undo.push(() => (previous === undefined ? this.neighDel(n) : this.neighAdd({ dev: n.dev, address: n.address, lladdr: previous.lladdr })));
      }
      for (const sa of document.xfrm ?? []) {
        this.xfrmStateAdd(sa);
        undo.push(() => this.xfrmStateDel(sa.spi, sa.dst));
      }
    } catch (error) {
      for (const step of undo.reverse()) {
        try {
          await step();
        } catch {
          // Best effort: the rest of the undo still runs.
        }
      }
      throw error;
    }
  }

  /** The addon's batched sockets (UDP, and raw ESP) rather than node:dgram / raw-socket. */
  private useBatchSocket(): boolean {
    return this.underlayKind === 'batch' || (this.underlayKind === 'auto' && isBatchUdpAvailable());
  }

  /** The largest inner IP packet a tunnel carries unfragmented (see refreshCapacities). */
  private capacityOf(family: 4 | 6, headerLength: number, remote: string | undefined): number {
    const outerIp = family === 4 ? 20 : 40;
    // Outer IP + UDP + tunnel header.
    let carried = this.underlayMtu - outerIp - 8 - headerLength;
    for (const [destination, sa] of this.outboundSas) {
      if (remote !== undefined && destination !== remote) continue;
      // Transport mode: the UDP header and the tunnel header travel inside ESP.
      carried = Math.min(carried, sa.maxPayload(this.underlayMtu - outerIp) - 8 - headerLength);
    }
    return carried - ETHERNET_HEADER_LENGTH;
  }

  /** `ip addr del` on a link's TAP (the undo of addAddress). */
  private async removeAddress(dev: string, cidr: string): Promise<void> {
    const link = this.link(dev);
    const at = link.addresses.indexOf(cidr);
    if (at >= 0) link.addresses.splice(at, 1);
    if (link.port.kind === 'tap') await run('ip', ['addr', 'del', cidr, 'dev', link.port.name]).catch(() => undefined);
  }

  dump(): VtepDocument {
    const links = [...this.links.values()];
    const automatic = new Set(links.map((l) => `${l.vni}|${l.config.remote ?? l.config.group ?? ''}`));
    return {
      version: 1,
      links: links.map((l) => ({ ...l.config, mtu: l.mtu, address: formatMac(l.port.mac) })),
      up: links.filter((l) => l.up).map((l) => l.config.name),
      addresses: links.flatMap((l) => l.addresses.map((address) => ({ dev: l.config.name, address }))),
      fdb: this.fdbShow({ state: 'permanent' })
        .concat(this.fdbShow({ state: 'static' }))
        .filter((row) => !(row.mac === '00:00:00:00:00:00' && automatic.has(`${row.src_vni}|${row.dst ?? ''}`)))
        .map((row) => ({
          op: 'append' as const,
          mac: row.mac,
          dev: row.dev,
          ...(row.dst === undefined ? {} : { dst: row.dst }),
          ...(row.port === undefined ? {} : { port: row.port }),
          ...(row.vni === undefined ? {} : { vni: row.vni }),
          state: row.state === 'static' ? ('static' as const) : ('permanent' as const),
        })),
      neighbours: this.neighShow().map(({ dev, address, lladdr }) => ({ dev, address, lladdr })),
      xfrm: [...this.saInputs.values()],
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const name of [...this.links.keys()]) await this.deleteLink(name);
    for (const underlay of [...this.underlays.values()]) this.dropUnderlay(underlay);
    this.raw?.close();
    this.espBatch?.close();
    for (const port of [...this.espUdp.keys()]) this.closeEspUdp(port);
    for (const spi of [...this.saInputs.keys()]) this.sad.get(spi)?.close();
    this.fdb.close();
    this.closed = true;
  }

  // -------------------------------------------------------------------------
  // The datapath
  // -------------------------------------------------------------------------

  /** Frames from a link's port: forward, encapsulate, send. Owns and releases the buffers. */
  private transmit(link: Link, frames: PacketBuffer[], count: number): void {
    const fdb = this.fdb;
    const counters = link.counters;
    const drops = counters.txDrops;
    const header = link.header;
    const headerLength = header.length;
    const transport = link.underlay.transport;
    const batch = link.underlay.batch;
    const maxFrame = link.mtu + ETHERNET_HEADER_LENGTH;
    // With pmtud, frames over the tunnel's capacity are answered, not sent fragmented.
    const maxCarried = link.pmtud ? Math.min(link.mtu, link.capacity) + ETHERNET_HEADER_LENGTH : maxFrame;
    for (let i = 0; i < count; i++) {
      const buf = frames[i]!;
      const bytes = buf.bytes;
      const offset = buf.offset;
      const length = buf.length;
      if (link.captureTap !== undefined) link.captureTap.write(bytes, offset, length);
      if (!link.up) {
        drops[DROP['link-down']]!++;
      } else if (length < ETHERNET_HEADER_LENGTH) {
        drops[DROP.runt]!++;
      } else if (length > maxCarried && link.pmtud && this.answerTooBig(link, bytes, offset, length)) {
        // Told the sender (ICMP from the destination's address); its stack lowers the path MTU.
        drops[DROP['too-big-answered']]!++;
      } else if (length > maxFrame) {
        drops[DROP['too-big']]!++;
      } else if (link.proxy && this.answerLocally(link, buf)) {
        // ARP/ND suppression: answered from the neighbour table, nothing sent.
      } else {
        const set = fdb.forwardAt(link.vni, bytes, offset);
        if (set < 0) {
          drops[DROP['no-destination']]!++;
        } else {
          // The tunnel header goes in the headroom, in front of the frame: no copy.
          const start = offset - headerLength;
          bytes.set(header, start);
          const total = headerLength + length;
          const members = fdb.setSize(set);
          for (let m = 0; m < members; m++) {
            const destination = fdb.setMember(set, m);
            const kind = fdb.destinationKind(destination);
            if (kind !== DESTINATION_IPV4 && kind !== DESTINATION_IPV6) {
              drops[DROP['local-destination']]!++;
              continue;
            }
            const remoteVni = fdb.destinationVni(destination, link.vni);
            if (remoteVni !== link.vni) this.writeVni(bytes, start, remoteVni);
            if (link.captureUnderlay !== undefined) {
              this.captureOuter(link, bytes, start, total, link.config.local ?? '', this.remoteAddress(destination), link.dstport, fdb.destinationPort(destination));
            }
            const sa = this.outboundSas.size === 0 ? undefined : this.outboundSas.get(this.remoteAddress(destination));
            if (sa !== undefined) {
              // Sealed where the frame lies when it goes to one remote only, on a batched socket
              // (the frame's buffer is kept until the flush), with its own VNI (nothing rewritten after).
              const inPlace = members === 1 && batch !== undefined && remoteVni === link.vni;
              this.sendEsp(link, sa, bytes, start, total, offset, length, destination, inPlace ? buf : null);
            } else if (batch !== undefined ? this.queueBatch(batch, bytes, start, total, destination, kind) : transport!.send(bytes, start, total, fdb.destinationPort(destination), this.remoteAddress(destination))) {
              counters.txPackets++;
              counters.txBytes += length;
            } else {
              drops[DROP['tx-error']]!++;
            }
            if (remoteVni !== link.vni) {
              // The batched socket reads the bytes at flush: send before the VNI is written back.
              batch?.flush();
              this.writeVni(bytes, start, link.vni);
            }
          }
        }
      }
      if (batch === undefined) this.pool.release(buf);
    }
    this.flushEsp();
    if (batch !== undefined) {
      // One sendmmsg for the whole batch, then the buffers go back (the kernel has copied them).
      batch.flush();
      this.pool.releaseBatch(frames, count);
    }
  }

  /** Queues one tunnel packet on the batched socket; the datagram leaves at flush(). */
  private queueBatch(batch: BatchUdpTransport, bytes: Uint8Array, start: number, total: number, destination: number, kind: number): boolean {
    const fdb = this.fdb;
    const port = fdb.destinationPort(destination);
    if (kind === DESTINATION_IPV4) return batch.queueIpv4(bytes, start, total, fdb.destinationIpv4(destination), port);
    fdb.copyDestinationIpv6(destination, this.scratch16, 0);
    return batch.queue(bytes, start, total, this.scratch16, 0, port);
  }

  private writeVni(bytes: Uint8Array, start: number, vni: number): void {
    // Same place in both headers: bytes 4..6 (RFC 7348 5, RFC 8926 3.4).
    bytes[start + 4] = vni >>> 16;
    bytes[start + 5] = (vni >>> 8) & 0xff;
    bytes[start + 6] = vni & 0xff;
  }

  private readonly tooBig = new Uint8Array(TOO_BIG_MAX_FRAME);

  /** ICMP "fragmentation needed" / "packet too big" back on the port; false when the frame is not to be answered. */
  private answerTooBig(link: Link, bytes: Uint8Array, offset: number, length: number): boolean {
    const n = writeTooBig(bytes, offset, length, Math.min(link.mtu, link.capacity), this.tooBig, 0);
    if (n === 0) return false;
    const frame = this.rxFrame[0]!;
    frame.bytes = this.tooBig;
    frame.offset = 0;
    frame.length = n;
    if (link.captureTap !== undefined) link.captureTap.write(this.tooBig, 0, n);
    link.port.writeFrames(this.rxFrame, 1);
    return true;
  }

  /** ARP request / neighbour solicitation for a known address: reply on the port. */
  private answerLocally(link: Link, buf: PacketBuffer): boolean {
    const bytes = buf.bytes;
    // The reply is built in the same buffer, after the request (proxyReply reads the request first).
    const length = this.fdb.proxyReply(link.vni, bytes, buf.offset, buf.offset + buf.length, bytes, buf.offset);
    if (length <= 0) return false;
    const frame = this.rxFrame[0]!;
    frame.bytes = bytes;
    frame.offset = buf.offset;
    frame.length = length;
    link.port.writeFrames(this.rxFrame, 1);
    return true;
  }

  /** A datagram at an underlay socket: tunnel header, link by VNI, learn, deliver. */
  /** A batch from the addon's socket: each datagram in a pool buffer, its source in `sources` (16 bytes each). */
  private receiveBatch(underlay: Underlay, buffers: PacketBuffer[], sources: Uint8Array, count: number): void {
    // An SA protects some peers: plaintext tunnel packets from them are refused (IPv4 SAs only, so IPv4 sockets only).
    const espPolicy = this.inboundIpv4.size !== 0 && underlay.family === 4;
    // Frames for the ports are gathered and written per link in one call (one writev-like batch to the TAP).
    this.gathering = true;
    for (let i = 0; i < count; i++) {
      const buf = buffers[i]!;
      if (espPolicy && this.inboundIpv4.has(readIpv4Address(sources, i * 16))) {
        this.countEspRequired(underlay, buf.bytes, buf.offset, buf.offset + buf.length);
        continue;
      }
      this.receive(underlay, buf.bytes, buf.offset, buf.offset + buf.length, '', sources, i * 16);
    }
    this.gathering = false;
    this.flushGathered();
    this.pool.releaseBatch(buffers, count);
  }

  /** Writes the gathered frames to their link's port (the buffers are still ours), counting what went. */
  private flushGathered(): void {
    const link = this.gatheredLink;
    const count = this.gatheredCount;
    if (link === undefined || count === 0) return;
    this.gatheredCount = 0;
    this.gatheredLink = undefined;
    const written = link.port.writeFrames(this.gathered, count);
    const counters = link.counters;
    counters.rxPackets += written;
    for (let i = 0; i < written; i++) counters.rxBytes += this.gathered[i]!.length;
    if (written < count) counters.rxDrops[DROP['no-buffer']]! += count - written;
  }

  /**
   * A tunnel packet at [start, end) of `message`. The sender is `address` (text,
   * from node:dgram or the raw ESP socket) or, from the batched socket, the 16
   * bytes at `sources[sourceOffset]`.
   */
  private receive(underlay: Underlay, message: Uint8Array, start: number, end: number, address: string, sources: Uint8Array | null, sourceOffset: number): void {
    let vni: number;
    let innerOffset: number;
    let dontLearn = false;
    let link: Link | undefined;
    if (underlay.kind === 'vxlan') {
      const fields = this.vxlanFields;
      if (readVxlan(message, start, end, VXLAN_READ_GBP, fields) !== 0) {
        underlay.badHeader++;
        return;
      }
      vni = fields.vni;
      dontLearn = fields.dontLearn;
      innerOffset = start + VXLAN_HEADER_LENGTH;
      link = underlay.links.get(vni);
      if (link === undefined) {
        underlay.unknownVni++;
        return;
      }
      if (fields.gbp && !link.gbp) {
        // Without the GBP extension the G bit is a reserved bit: strict drop, as the Linux driver.
        link.counters.rxDrops[DROP['bad-header']]!++;
        return;
      }
    } else {
      const fields = this.geneveFields;
      if (readGeneve(message, start, end, fields) !== 0) {
        underlay.badHeader++;
        return;
      }
      vni = fields.vni;
      innerOffset = start + fields.headerLength;
      link = underlay.links.get(vni);
      if (link === undefined) {
        underlay.unknownVni++;
        return;
      }
      if (fields.protocolType !== GENEVE_PROTOCOL_ETHERNET) {
        link.counters.rxDrops[DROP['not-ethernet']]!++;
        return;
      }
      // RFC 8926 3.5.1: drop a packet with a critical option this end does not understand.
      if (link.registry!.checkCritical(message, fields.optionsOffset, fields.optionsOffset + fields.optionsLength) !== 0) {
        link.counters.rxDrops[DROP['unknown-critical-option']]!++;
        return;
      }
      if (link.optionsHook !== undefined && link.optionsHook(vni, message, fields.optionsOffset, fields.optionsLength) === false) {
        link.counters.rxDrops[DROP['option-hook']]!++;
        return;
      }
    }
    const counters = link.counters;
    const innerLength = end - innerOffset;
    if (link.captureUnderlay !== undefined) {
      const from = address !== '' ? address : sources === null ? '' : this.sourceText(sources, sourceOffset, underlay.family);
      this.captureOuter(link, message, start, end - start, from, link.config.local ?? (underlay.family === 4 ? '0.0.0.0' : '::'), link.dstport, link.dstport);
    }
    if (innerLength < ETHERNET_HEADER_LENGTH) {
      counters.rxDrops[DROP.runt]!++;
      return;
    }
    if (link.learning && !dontLearn) {
      const remote = sources === null ? this.remoteId(address, link) : this.remoteIdFromBytes(sources, sourceOffset, underlay.family, link);
      const result = this.fdb.learnAt(vni, message, innerOffset + 6, remote);
      if (result === LEARN_DROP_STATIC) {
        // Linux: a frame from a MAC pinned elsewhere by a static entry is dropped.
        counters.rxDrops[DROP['static-move']]!++;
        return;
      }
    }
    if (link.proxy) this.fdb.snoopNeighbour(vni, message, innerOffset, end);
    if (!link.up) {
      counters.rxDrops[DROP['link-down']]!++;
      return;
    }
    if (link.captureTap !== undefined) link.captureTap.write(message, innerOffset, innerLength);
    if (this.gathering) {
      if (this.gatheredLink !== link || this.gatheredCount === this.gathered.length) this.flushGathered();
      const slot = this.gathered[this.gatheredCount++]!;
      slot.bytes = message;
      slot.offset = innerOffset;
      slot.length = innerLength;
      this.gatheredLink = link;
      return;
    }
    const frame = this.rxFrame[0]!;
    frame.bytes = message;
    frame.offset = innerOffset;
    frame.length = innerLength;
    if (link.port.writeFrames(this.rxFrame, 1) === 1) {
      counters.rxPackets++;
      counters.rxBytes += innerLength;
    } else {
      counters.rxDrops[DROP['no-buffer']]!++;
    }
  }

  /**
   * ESP path: UDP header + tunnel header + frame, sealed in transport mode, sent as
   * IP protocol 50 or in UDP. `frame` given (one remote, queued on a batched socket,
   * the frame's buffer kept until the flush): the UDP header goes in front of the
   * tunnel header and the seal is done where the frame lies, no copy. Otherwise (a
   * frame sent to several remotes is sealed once per remote) a copy in a fresh pool
   * buffer, which goes back to the pool once sent.
   */
  private sendEsp(link: Link, sa: SecurityAssociation, bytes: Uint8Array, start: number, total: number, frameOffset: number, frameLength: number, destination: number, frame: PacketBuffer | null): void {
    const counters = link.counters;
    const port = this.fdb.destinationPort(destination);
    // In UDP (RFC 3948: SPI .. ICV as the payload, SPORT to DPORT), or as IP protocol 50.
    const encapsulation = sa.udpEncapsulation;
    const socket = encapsulation !== null ? this.espUdp.get(encapsulation.sourcePort) : this.espBatch;
    let out: PacketBuffer | null = socket !== undefined ? frame : null;
    if (out !== null && (start - 8 - sa.headroom < 0 || start + total + sa.tailroom > bytes.length)) out = null;
    const owned = out === null;
    if (out === null) {
      out = this.pool.acquire();
      if (out === null) {
        counters.txDrops[DROP['no-buffer']]!++;
        return;
      }
      // A copy, with room for the UDP header in front (the flood path: one per remote).
      out.bytes.set(bytes.subarray(start, start + total), out.offset + 8);
    } else {
      out.offset = start - 8;
    }
    const sourcePort = hashToPort(flowHash(bytes, frameOffset, frameLength), 49152, 65535);
    // UDP checksum 0 over IPv4 (RFC 768); ESP's ICV covers these bytes.
    writeUdp(out.bytes, out.offset, sourcePort, port, 8 + total, 0);
    out.length = 8 + total;
    const status = sa.sealPayload(out, IpProtocol.UDP);
    if (status !== EspStatus.OK) {
      counters.txDrops[DROP['esp-seal']]!++;
      this.countEspDrop(`seal-${espStatusName(status)}`);
      if (owned) this.pool.release(out);
      return;
    }
    // Queued on a batched socket: one sendmmsg for the batch at the end of transmit() (runs of
    // equal-sized packets in UDP as GSO messages), then the buffers go back.
    if (encapsulation !== null || socket !== undefined) {
      if (socket !== undefined && socket.queueIpv4(out.bytes, out.offset, out.length, this.fdb.destinationIpv4(destination), encapsulation?.destinationPort ?? 0)) {
        // The frame's own buffer goes back with its batch, after the flush; a copy after the flush too.
        if (owned) this.espQueued[this.espQueuedCount++] = out;
        else this.espInPlace++;
        counters.txPackets++;
        counters.txBytes += frameLength;
      } else {
        counters.txDrops[DROP['tx-error']]!++;
        if (owned) this.pool.release(out);
      }
      return;
    }
    counters.txPackets++;
    counters.txBytes += frameLength;
    this.raw!.sendView(out, this.remoteAddress(destination), (error) => {
      if (error !== null) counters.txDrops[DROP['tx-error']]!++;
      this.pool.release(out);
    });
  }

  /** Sends the ESP packets queued during a transmit batch and gives their buffers back. */
  private flushEsp(): void {
    const count = this.espQueuedCount;
    if (count === 0 && this.espInPlace === 0) return;
    this.espInPlace = 0;
    if (this.espBatch !== undefined && this.espBatch.queued !== 0) this.espBatch.flush();
    if (this.espUdp.size !== 0) for (const socket of this.espUdp.values()) if (socket.queued !== 0) socket.flush();
    this.pool.releaseBatch(this.espQueued, count);
    this.espQueuedCount = 0;
  }

  /**
   * A batch of ESP packets, opened in place and delivered as tunnel packets: from the raw
   * socket whole IPv4 packets (`inUdp` false), from an ESP-in-UDP socket UDP payloads
   * (SPI .. ICV; keep-alives and IKE messages are counted and dropped by the SAD).
   */
  private receiveEspBatch(buffers: PacketBuffer[], sources: Uint8Array, count: number, inUdp: boolean): void {
    const sad = this.sad;
    this.gathering = true;
    for (let i = 0; i < count; i++) {
      const buf = buffers[i]!;
      const status = inUdp ? sad.openPayload(buf) : sad.openBuffer(buf);
      if (status !== EspStatus.OK) {
        this.countEspDrop(espStatusName(status));
      } else if (!inUdp) {
        this.receiveEsp(buf, '', sources, i * 16);
      } else if (sad.lastSa?.lastNextHeader !== IpProtocol.UDP) {
        this.countEspDrop('not-udp-inside');
      } else {
        this.receiveEspUdp(buf.bytes, buf.offset, buf.offset + buf.length, '', sources, i * 16);
      }
    }
    this.gathering = false;
    this.flushGathered();
    this.pool.releaseBatch(buffers, count);
  }

  private countEspDrop(reason: string): void {
    this.espDrops.set(reason, (this.espDrops.get(reason) ?? 0) + 1);
  }

  /** An opened ESP packet (transport mode: the original IPv4 + UDP + tunnel packet). */
  private receiveEsp(view: FrameRef, source: string, sources: Uint8Array | null, sourceOffset: number): void {
    const bytes = view.bytes;
    const end = view.offset + view.length;
    const ip = this.ipv4Fields;
    if (readIpv4(bytes, view.offset, end, 0, ip) !== 0 || ip.protocol !== IpProtocol.UDP) {
      this.countEspDrop('not-udp-inside');
      return;
    }
    this.receiveEspUdp(bytes, view.offset + ip.headerLength, end, source, sources, sourceOffset);
  }

  /** The UDP + tunnel packet an ESP packet carried, at [udpOffset, end): to the underlay of its port. */
  private receiveEspUdp(bytes: Uint8Array, udpOffset: number, end: number, source: string, sources: Uint8Array | null, sourceOffset: number): void {
    const udp = this.udpFields;
    if (readUdp(bytes, udpOffset, end, udp) !== 0) {
      this.countEspDrop('not-udp-inside');
      return;
    }
    for (const underlay of this.underlays.values()) {
      if ((underlay.batch ?? underlay.transport!).port === udp.destinationPort) {
        this.receive(underlay, bytes, udpOffset + 8, udpOffset + udp.length, source, sources, sourceOffset);
        return;
      }
    }
    this.countEspDrop('no-link-for-port');
  }

  private countEspRequired(underlay: Underlay, message: Uint8Array, start: number, end: number): void {
    // The VNI is in bytes 4..6 of both headers (RFC 7348 5, RFC 8926 3.4).
    const vni = end - start >= 8 ? (message[start + 4]! << 16) | (message[start + 5]! << 8) | message[start + 6]! : -1;
    const link = underlay.links.get(vni);
    if (link !== undefined) link.counters.rxDrops[DROP['esp-required']]!++;
    else underlay.badHeader++;
  }

  /** The pinned destination for a remote that sent to us (its address, our link's port and VNI). */
  private remoteId(address: string, link: Link): number {
    let byAddress = this.learntRemotes.get(link.dstport);
    let id = byAddress?.get(address);
    if (id === undefined) {
      if (this.learntCount >= 65536) {
        // Bounded: forget the pins (entries keep their own references).
        for (const pins of this.learntRemotes.values()) for (const pinned of pins.values()) this.fdb.unpinDestination(pinned);
        this.learntRemotes.clear();
        this.learntIpv4.clear();
        this.learntCount = 0;
        byAddress = undefined;
      }
      if (byAddress === undefined) {
        byAddress = new Map();
        this.learntRemotes.set(link.dstport, byAddress);
      }
      id = this.fdb.pinDestination({ dst: address, port: link.dstport });
      byAddress.set(address, id);
      this.learntCount++;
    }
    return id;
  }

  /** A source address from the batched socket as text (capture, IPv6 learning). */
  private sourceText(sources: Uint8Array, offset: number, family: 4 | 6): string {
    if (family === 4) return `${sources[offset]}.${sources[offset + 1]}.${sources[offset + 2]}.${sources[offset + 3]}`;
    let text = '';
    for (let i = 0; i < 16; i += 2) text += `${i === 0 ? '' : ':'}${((sources[offset + i]! << 8) | sources[offset + i + 1]!).toString(16)}`;
    return text;
  }

  /** remoteId for a source given as bytes (the batched socket): IPv4 without any string. */
  private remoteIdFromBytes(sources: Uint8Array, offset: number, family: 4 | 6, link: Link): number {
    if (family === 6) return this.remoteId(this.sourceText(sources, offset, 6), link);
    const address = (sources[offset]! * 0x1000000) + ((sources[offset + 1]! << 16) | (sources[offset + 2]! << 8) | sources[offset + 3]!);
    const key = address * 65536 + link.dstport;
    let id = this.learntIpv4.get(key);
    if (id === undefined) {
      id = this.remoteId(this.sourceText(sources, offset, 4), link);
      if (this.learntIpv4.size >= 65536) this.learntIpv4.clear();
      this.learntIpv4.set(key, id);
    }
    return id;
  }

  /** A destination's address as text for the socket, cached per destination id. */
  private remoteAddress(destination: number): string {
    const words = this.fdb.destinations.address;
    const at = destination * 4;
    let cached = this.addressWords[destination];
    if (
      cached === undefined ||
      cached[0] !== words[at] || cached[1] !== words[at + 1] || cached[2] !== words[at + 2] || cached[3] !== words[at + 3] ||
      this.addressText[destination] === undefined
    ) {
      cached = Int32Array.of(words[at]!, words[at + 1]!, words[at + 2]!, words[at + 3]!);
      this.addressWords[destination] = cached;
      this.addressText[destination] = this.fdb.destinations.formatAddress(destination);
    }
    return this.addressText[destination]!;
  }

  // -------------------------------------------------------------------------

  private link(name: string): Link {
    this.checkOpen();
    const link = typeof name === 'string' ? this.links.get(name) : undefined;
    if (link === undefined) throw new VtepError('NOT_FOUND', 'dev', `no link ${JSON.stringify(name)}; links: ${[...this.links.keys()].join(', ') || 'none'}`);
    return link;
  }

  private info(link: Link, stats: boolean): LinkInfo {
    const info: LinkInfo = { ...link.config, up: link.up, mtu: link.mtu, address: formatMac(link.port.mac) };
    if (link.port.ifindex !== undefined) info.ifindex = link.port.ifindex;
    if (stats) {
      const counters = link.counters.snapshot();
      const u = link.underlay;
      // What the link's socket dropped before any link could be known (shared with the other links on it).
      counters.underlay = {
        badHeader: u.badHeader,
        unknownVni: u.unknownVni,
        oversize: u.batch?.stats.rxOversize ?? 0,
        noBuffer: u.batch?.stats.rxNoBuffer ?? 0,
        txErrors: u.batch ? u.batch.stats.txErrors + u.batch.stats.txAgain + u.batch.stats.txInvalid : u.transport!.stats.txErrors,
      };
      info.stats = counters;
    }
    return info;
  }

  private dropUnderlay(underlay: Underlay): void {
    underlay.batch?.close();
    underlay.transport?.close();
    this.underlays.delete(underlay.key);
  }

  private checkOpen(): void {
    if (this.closed) throw new VtepError('NOT_FOUND', 'vtep', 'this Vtep is closed');
  }
}
