/**
 * Outer headers in one call: [Ethernet] + IPv4/IPv6 + UDP + VXLAN/Geneve written
 * in front of an inner frame that already sits in a buffer with headroom, and
 * the reverse parse that finds the inner frame.
 *
 * `compileEncap(config)` validates a tunnel's configuration once and prepares a
 * template of every outer byte that does not change per packet, plus the
 * partial IPv4 header checksum. `writeEncap(plan, buf, innerOffset, innerLength)`
 * then copies the template in front of the frame and patches only the lengths,
 * the identification, the checksums and the UDP source port (a hash of the
 * inner flow, RFC 7348 5). Nothing is allocated per packet and the inner frame
 * is never copied.
 */
import { foldChecksum, ipv4PseudoHeaderSum, ipv4PseudoHeaderSumAt, ipv6PseudoHeaderSum } from './checksum.js';
import { WireError, WireStatus, checkField } from './errors.js';
import { ETHERNET_HEADER_LENGTH, EtherType, EthernetFields, type VlanTag, encodeEthernet, parseMac, readEthernet } from './ethernet.js';
import { flowHash, hashToPort } from './flowhash.js';
import {
  GENEVE_PORT,
  GeneveFields,
  type GeneveOption,
  GENEVE_PROTOCOL_ETHERNET,
  encodeGeneve,
  encodingLengthGeneve,
  readGeneve,
} from './geneve.js';
import { IPV4_HEADER_LENGTH, IPV4_READ_VERIFY_CHECKSUM, IpProtocol, Ipv4Fields, encodeIpv4, ipv4HeaderSum, parseIpv4, readIpv4 } from './ipv4.js';
import { IPV6_HEADER_LENGTH, Ipv6Fields, encodeIpv6, parseIpv6, readIpv6 } from './ipv6.js';
import {
  UDP_HEADER_LENGTH,
  UdpFields,
  encodeUdp,
  readUdp,
  verifyUdpChecksum,
  writeUdpChecksum,
} from './udp.js';
import { VXLAN_HEADER_LENGTH, VXLAN_LINUX_LEGACY_PORT, VXLAN_PORT, VXLAN_READ_GBP, VXLAN_READ_LENIENT, type VxlanGbp, VxlanFields, encodeVxlan, readVxlan } from './vxlan.js';

export const TUNNEL_VXLAN = 1;
export const TUNNEL_GENEVE = 2;
export type TunnelKind = 'vxlan' | 'geneve';

/** RFC 7348 5 / RFC 6335: the dynamic port range used for hashed source ports. */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;

export type IpAddressInput = string | number | Uint8Array;

export interface EncapConfig {
  tunnel: TunnelKind;
  vni: number;
  /** Outer source address: IPv4 text or number, or IPv6 text or 16 bytes. Both addresses must be the same family. */
  source: IpAddressInput;
  destination: IpAddressInput;
  /** Outer Ethernet header; omit when the transport adds its own (a UDP socket, a raw IP socket). */
  ethernet?: { source: number | string; destination: number | string; vlan?: VlanTag };
  /** Outer TTL / hop limit. Default 64 (Linux uses the route's, usually 64; multicast groups want 1 or more by config). */
  ttl?: number;
  /** Outer TOS / traffic class byte. Default 0. */
  tos?: number;
  /** IPv6 flow label. Default 0. */
  flowLabel?: number;
  /** Outer IPv4 DF bit. Default false, as Linux's vxlan `df unset`. */
  dontFragment?: boolean;
  /** Default 4789 for VXLAN, 6081 for Geneve. */
  destinationPort?: number;
  /** A fixed source port, or the range a flow hash maps into (default 49152–65535). */
  sourcePort?: number | { min: number; max: number };
  /** Compute the outer UDP checksum. Default false over IPv4 (as Linux's `udpcsum` default), true over IPv6. */
  udpChecksum?: boolean;
  /** VXLAN only: the Group Based Policy extension. */
  gbp?: VxlanGbp;
  /** Geneve only. */
  geneve?: { protocolType?: number; oam?: boolean; critical?: boolean; options?: readonly GeneveOption[] };
}

/** A compiled tunnel: immutable, except the IPv4 identification counter. */
export interface EncapPlan {
  readonly tunnel: number;
  readonly family: 4 | 6;
  /** Bytes written in front of the inner frame. */
  readonly overhead: number;
  readonly template: Uint8Array;
  /** Largest UDP length that keeps the outer packet within 65535 bytes. */
  readonly maxUdpLength: number;
  readonly ipOffset: number;
  readonly udpOffset: number;
  readonly tunnelOffset: number;
  readonly ipv4BaseSum: number;
  /** UDP pseudo-header sum without the length (addresses + protocol), folded to 16 bits. */
  readonly pseudoHeaderSum: number;
  readonly sourcePortMin: number;
  readonly sourcePortMax: number;
  readonly udpChecksum: boolean;
  identification: number;
}

function parseAddress(input: IpAddressInput, field: string): { family: 4 | 6; v4: number; v6: Uint8Array } {
  if (typeof input === 'number') {
    checkField(input, 0xffffffff, field, 0);
    return { family: 4, v4: input, v6: new Uint8Array(16) };
  }
  if (input instanceof Uint8Array) {
    if (input.length === 4) return { family: 4, v4: ((input[0]! << 24) | (input[1]! << 16) | (input[2]! << 8) | input[3]!) >>> 0, v6: new Uint8Array(16) };
    if (input.length === 16) return { family: 6, v4: 0, v6: Uint8Array.from(input) };
    throw new WireError('BAD_VALUE', 0, `${field} must be 4 or 16 bytes, got ${input.length}`);
  }
  if (typeof input === 'string' && input.includes(':')) return { family: 6, v4: 0, v6: parseIpv6(input) };
  if (typeof input === 'string') return { family: 4, v4: parseIpv4(input), v6: new Uint8Array(16) };
  throw new WireError('BAD_VALUE', 0, `${field} must be an IP address (text, number or bytes)`);
}

function macInput(value: number | string, field: string): number {
  if (typeof value === 'string') return parseMac(value);
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff_ffff) throw new WireError('BAD_VALUE', 0, `${field} is not a MAC address`);
  return value;
}

/** Validates a tunnel configuration and prepares its header template. Throws WireError BAD_VALUE naming the field. */
export function compileEncap(config: EncapConfig): EncapPlan {
  if (config.tunnel !== 'vxlan' && config.tunnel !== 'geneve') {
    throw new WireError('BAD_VALUE', 0, `tunnel must be 'vxlan' or 'geneve', got ${JSON.stringify(config.tunnel)}`);
  }
  const isVxlan = config.tunnel === 'vxlan';
  checkField(config.vni, 0xffffff, 'vni', 0);
  const source = parseAddress(config.source, 'source');
  const destination = parseAddress(config.destination, 'destination');
  if (source.family !== destination.family) throw new WireError('BAD_VALUE', 0, 'source and destination must both be IPv4 or both IPv6');
  const family = source.family;
  const ttl = config.ttl ?? 64;
  checkField(ttl, 255, 'ttl', 0);
  const tos = config.tos ?? 0;
  checkField(tos, 255, 'tos', 0);
  const flowLabel = config.flowLabel ?? 0;
  checkField(flowLabel, 0xfffff, 'flowLabel', 0);
  const destinationPort = config.destinationPort ?? (isVxlan ? VXLAN_PORT : GENEVE_PORT);
  checkField(destinationPort, 0xffff, 'destinationPort', 0);
  let sourcePortMin = SOURCE_PORT_MIN;
  let sourcePortMax = SOURCE_PORT_MAX;
  if (typeof config.sourcePort === 'number') {
    checkField(config.sourcePort, 0xffff, 'sourcePort', 0);
    sourcePortMin = sourcePortMax = config.sourcePort;
  } else if (config.sourcePort !== undefined) {
    checkField(config.sourcePort.min, 0xffff, 'sourcePort.min', 0);
    checkField(config.sourcePort.max, 0xffff, 'sourcePort.max', 0);
    if (config.sourcePort.min > config.sourcePort.max) throw new WireError('BAD_VALUE', 0, 'sourcePort.min must not exceed sourcePort.max');
    sourcePortMin = config.sourcePort.min;
    sourcePortMax = config.sourcePort.max;
  }
  if (isVxlan && config.geneve !== undefined) throw new WireError('BAD_VALUE', 0, 'geneve settings given for a vxlan tunnel');
  if (!isVxlan && config.gbp !== undefined) throw new WireError('BAD_VALUE', 0, 'gbp is a VXLAN extension; not valid for geneve');

  const geneveHeader = {
    vni: config.vni,
    protocolType: config.geneve?.protocolType ?? GENEVE_PROTOCOL_ETHERNET,
    oam: config.geneve?.oam ?? false,
    ...(config.geneve?.critical === undefined ? {} : { critical: config.geneve.critical }),
    options: config.geneve?.options ?? [],
  };
  const tunnelLength = isVxlan ? VXLAN_HEADER_LENGTH : encodingLengthGeneve(geneveHeader);
  const ethernetLength = config.ethernet === undefined ? 0 : ETHERNET_HEADER_LENGTH + (config.ethernet.vlan ? 4 : 0);
  const ipLength = family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
  const overhead = ethernetLength + ipLength + UDP_HEADER_LENGTH + tunnelLength;
  const template = new Uint8Array(overhead);
  const ipOffset = ethernetLength;
  const udpOffset = ipOffset + ipLength;
  const tunnelOffset = udpOffset + UDP_HEADER_LENGTH;

  if (config.ethernet !== undefined) {
    encodeEthernet(
      {
        destination: macInput(config.ethernet.destination, 'ethernet.destination'),
        source: macInput(config.ethernet.source, 'ethernet.source'),
        etherType: family === 4 ? EtherType.IPV4 : EtherType.IPV6,
        ...(config.ethernet.vlan ? { vlan: config.ethernet.vlan } : {}),
      },
      template,
      0,
    );
  }
  // Lengths are zero in the template; writeEncap patches them per packet.
  let ipv4BaseSum = 0;
  if (family === 4) {
    encodeIpv4(
      { source: source.v4, destination: destination.v4, protocol: IpProtocol.UDP, totalLength: IPV4_HEADER_LENGTH, tos, ttl, dontFragment: config.dontFragment ?? false },
      template,
      ipOffset,
    );
    // The template's totalLength (20) is replaced per packet: keep the sum without it.
    ipv4BaseSum = foldChecksum(ipv4HeaderSum(template, ipOffset, IPV4_HEADER_LENGTH) + 0xffff - IPV4_HEADER_LENGTH);
  } else {
    encodeIpv6(
      { source: source.v6, destination: destination.v6, nextHeader: IpProtocol.UDP, payloadLength: 0, hopLimit: ttl, trafficClass: tos, flowLabel },
      template,
      ipOffset,
    );
  }
  encodeUdp({ sourcePort: sourcePortMin, destinationPort, length: UDP_HEADER_LENGTH }, template, udpOffset);
  if (isVxlan) {
    encodeVxlan(config.gbp === undefined ? { vni: config.vni } : { vni: config.vni, gbp: config.gbp }, template, tunnelOffset);
  } else {
    encodeGeneve(geneveHeader, template, tunnelOffset);
  }
  return {
    tunnel: isVxlan ? TUNNEL_VXLAN : TUNNEL_GENEVE,
    family,
    overhead,
    template,
    maxUdpLength: family === 4 ? 0xffff - IPV4_HEADER_LENGTH : 0xffff,
    ipOffset,
    udpOffset,
    tunnelOffset,
    ipv4BaseSum,
    pseudoHeaderSum: foldChecksum(
      family === 4
        ? ipv4PseudoHeaderSum(source.v4, destination.v4, IpProtocol.UDP, 0)
        : ipv6PseudoHeaderSum(source.v6, 0, destination.v6, 0, IpProtocol.UDP, 0),
    ),
    sourcePortMin,
    sourcePortMax,
    udpChecksum: config.udpChecksum ?? family === 6,
    identification: 0,
  };
}

/**
 * Writes the plan's outer headers in front of the inner frame at
 * [innerOffset, innerOffset + innerLength). Returns the offset where the outer
 * packet starts (innerOffset - plan.overhead), or a negative WireStatus:
 * -NO_ROOM when the headroom is too small, -BAD_LENGTH when the outer packet
 * would exceed 65535 bytes. Never throws, never allocates.
 *
 * `sourcePort` 0 means: hash the inner flow into the plan's range.
 */
export function writeEncap(plan: EncapPlan, buf: Uint8Array, innerOffset: number, innerLength: number, sourcePort = 0): number {
  const start = innerOffset - plan.overhead;
  if (start < 0 || innerOffset + innerLength > buf.length) return -WireStatus.NO_ROOM;
  const udpLength = plan.overhead - plan.udpOffset + innerLength;
  if (udpLength > plan.maxUdpLength) return -WireStatus.BAD_LENGTH;
  if (sourcePort === 0) {
    sourcePort = plan.sourcePortMin === plan.sourcePortMax
      ? plan.sourcePortMin
      : hashToPort(flowHash(buf, innerOffset, innerLength), plan.sourcePortMin, plan.sourcePortMax);
  }
  // One memmove for every constant byte (TypedArray#set), then the per-packet fields.
  buf.set(plan.template, start);
  const udp = start + plan.udpOffset;
  buf[udp] = sourcePort >>> 8;
  buf[udp + 1] = sourcePort & 0xff;
  buf[udp + 4] = udpLength >>> 8;
  buf[udp + 5] = udpLength & 0xff;
  const ip = start + plan.ipOffset;
  if (plan.family === 4) {
    const totalLength = udpLength + IPV4_HEADER_LENGTH;
    const identification = plan.identification;
    plan.identification = (identification + 1) & 0xffff;
    buf[ip + 2] = totalLength >>> 8;
    buf[ip + 3] = totalLength & 0xff;
    buf[ip + 4] = identification >>> 8;
    buf[ip + 5] = identification & 0xff;
    // The template's sum plus the two changing words, folded twice (it stays below 2^18).
    let sum = plan.ipv4BaseSum + totalLength + identification;
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = ~((sum & 0xffff) + (sum >>> 16));
    buf[ip + 10] = (sum >>> 8) & 0xff;
    buf[ip + 11] = sum & 0xff;
  } else {
    buf[ip + 4] = udpLength >>> 8;
    buf[ip + 5] = udpLength & 0xff;
  }
  if (plan.udpChecksum) writeUdpChecksum(buf, udp, udpLength, plan.pseudoHeaderSum + udpLength);
  return start;
}

/** Where a parse starts. */
export const LAYER_ETHERNET = 0;
export const LAYER_IP = 1;

/** Mode bits for {@link readEncap}. */
export const ENCAP_VERIFY_IPV4_CHECKSUM = 1;
export const ENCAP_VERIFY_UDP_CHECKSUM = 2;
/** RFC 6935/6936: accept a zero UDP checksum over IPv6. */
export const ENCAP_ALLOW_ZERO_UDP6_CHECKSUM = 4;
export const ENCAP_VXLAN_LENIENT = 8;
export const ENCAP_VXLAN_GBP = 16;
/** Treat every UDP port as VXLAN / as Geneve instead of choosing by destination port. */
export const ENCAP_FORCE_VXLAN = 32;
export const ENCAP_FORCE_GENEVE = 64;

/** Caller-owned result of {@link readEncap}. Sub-objects are allocated once, with the fields. */
export class EncapFields {
  readonly ethernet = new EthernetFields();
  readonly ipv4 = new Ipv4Fields();
  readonly ipv6 = new Ipv6Fields();
  readonly udp = new UdpFields();
  readonly vxlan = new VxlanFields();
  readonly geneve = new GeneveFields();
  hasEthernet = false;
  family: 4 | 6 = 4;
  ipOffset = 0;
  udpOffset = 0;
  tunnelOffset = 0;
  tunnel = 0;
  vni = 0;
  innerOffset = 0;
  innerLength = 0;
}

/**
 * Parses an encapsulated packet in [offset, end) starting at `layer`, fills `out`
 * and returns a WireStatus. The tunnel is chosen by UDP destination port (4789 and
 * 8472 VXLAN, 6081 Geneve) unless forced by `mode`; another port is UNSUPPORTED,
 * as are IPv4 fragments and IPv6 extension headers before UDP.
 */
export function readEncap(buf: Uint8Array, offset: number, end: number, layer: number, mode: number, out: EncapFields): number {
  if (end > buf.length || offset < 0) return WireStatus.TRUNCATED;
  let at = offset;
  let status: number;
  out.hasEthernet = layer === LAYER_ETHERNET;
  let family: 4 | 6;
  if (layer === LAYER_ETHERNET) {
    status = readEthernet(buf, at, end, out.ethernet);
    if (status !== WireStatus.OK) return status;
    at += out.ethernet.headerLength;
    const etherType = out.ethernet.etherType;
    if (etherType === EtherType.IPV4) family = 4;
    else if (etherType === EtherType.IPV6) family = 6;
    else return WireStatus.UNSUPPORTED;
  } else {
    if (at >= end) return WireStatus.TRUNCATED;
    family = buf[at]! >>> 4 === 6 ? 6 : 4;
  }
  out.family = family;
  out.ipOffset = at;
  let udpEnd: number;
  if (family === 4) {
    status = readIpv4(buf, at, end, mode & ENCAP_VERIFY_IPV4_CHECKSUM ? IPV4_READ_VERIFY_CHECKSUM : 0, out.ipv4);
    if (status !== WireStatus.OK) return status;
    if (out.ipv4.protocol !== IpProtocol.UDP) return WireStatus.UNSUPPORTED;
    // A fragment (MF set or a non-zero offset) cannot be decapsulated alone.
    if ((out.ipv4.flagsFragment & 0x3fff) !== 0) return WireStatus.UNSUPPORTED;
    udpEnd = at + out.ipv4.totalLength;
    at += out.ipv4.headerLength;
  } else {
    status = readIpv6(buf, at, end, out.ipv6);
    if (status !== WireStatus.OK) return status;
    if (out.ipv6.nextHeader !== IpProtocol.UDP) return WireStatus.UNSUPPORTED;
    udpEnd = at + IPV6_HEADER_LENGTH + out.ipv6.payloadLength;
    at += IPV6_HEADER_LENGTH;
  }
  out.udpOffset = at;
  status = readUdp(buf, at, udpEnd, out.udp);
  if (status !== WireStatus.OK) return status;
  udpEnd = at + out.udp.length;
  if ((mode & ENCAP_VERIFY_UDP_CHECKSUM) !== 0) {
    const length = out.udp.length;
    const ip = out.ipOffset;
    const pseudo = family === 4
      ? ipv4PseudoHeaderSumAt(buf, ip, IpProtocol.UDP, length)
      : ipv6PseudoHeaderSum(buf, ip + 8, buf, ip + 24, IpProtocol.UDP, length);
    // RFC 768: zero means "no checksum" over IPv4; RFC 8200 8.1 forbids it over IPv6 unless allowed (RFC 6935).
    const allowZero = family === 4 || (mode & ENCAP_ALLOW_ZERO_UDP6_CHECKSUM) !== 0;
    if (!verifyUdpChecksum(buf, at, length, pseudo, allowZero)) return WireStatus.BAD_CHECKSUM;
  }
  at += UDP_HEADER_LENGTH;
  out.tunnelOffset = at;
  const port = out.udp.destinationPort;
  let tunnel: number;
  if ((mode & ENCAP_FORCE_VXLAN) !== 0) tunnel = TUNNEL_VXLAN;
  else if ((mode & ENCAP_FORCE_GENEVE) !== 0) tunnel = TUNNEL_GENEVE;
  else if (port === VXLAN_PORT || port === VXLAN_LINUX_LEGACY_PORT) tunnel = TUNNEL_VXLAN;
  else if (port === GENEVE_PORT) tunnel = TUNNEL_GENEVE;
  else return WireStatus.UNSUPPORTED;
  out.tunnel = tunnel;
  if (tunnel === TUNNEL_VXLAN) {
    const vxlanMode = ((mode & ENCAP_VXLAN_LENIENT) !== 0 ? VXLAN_READ_LENIENT : 0) | ((mode & ENCAP_VXLAN_GBP) !== 0 ? VXLAN_READ_GBP : 0);
    status = readVxlan(buf, at, udpEnd, vxlanMode, out.vxlan);
    if (status !== WireStatus.OK) return status;
    out.vni = out.vxlan.vni;
    at += VXLAN_HEADER_LENGTH;
  } else {
    status = readGeneve(buf, at, udpEnd, out.geneve);
    if (status !== WireStatus.OK) return status;
    out.vni = out.geneve.vni;
    at += out.geneve.headerLength;
  }
  out.innerOffset = at;
  out.innerLength = udpEnd - at;
  return WireStatus.OK;
}

/** Convenience (allocates): the outer packet for one inner frame, in a new buffer. */
export function encapsulate(config: EncapConfig | EncapPlan, inner: Uint8Array, sourcePort = 0): Uint8Array {
  const plan = 'template' in config ? config : compileEncap(config);
  const out = new Uint8Array(plan.overhead + inner.length);
  out.set(inner, plan.overhead);
  const start = writeEncap(plan, out, plan.overhead, inner.length, sourcePort);
  if (start < 0) throw WireError.fromStatus(-start, 0, 'outer packet too long');
  return out;
}

export interface DecodedEncap {
  family: 4 | 6;
  tunnel: TunnelKind;
  vni: number;
  sourcePort: number;
  destinationPort: number;
  innerOffset: number;
  innerLength: number;
  /** A view of the inner frame (no copy). */
  inner: Uint8Array;
}

const scratch = new EncapFields();

/** Friendly reverse parse. Throws WireError. `layer` defaults to Ethernet. */
export function decapsulate(packet: Uint8Array, options: { layer?: 'ethernet' | 'ip'; mode?: number } = {}): DecodedEncap {
  const layer = options.layer === 'ip' ? LAYER_IP : LAYER_ETHERNET;
  const status = readEncap(packet, 0, packet.length, layer, options.mode ?? (ENCAP_VERIFY_IPV4_CHECKSUM | ENCAP_VERIFY_UDP_CHECKSUM | ENCAP_VXLAN_GBP), scratch);
  if (status !== WireStatus.OK) throw WireError.fromStatus(status, 0, 'not a decodable VXLAN/Geneve packet');
  return {
    family: scratch.family,
    tunnel: scratch.tunnel === TUNNEL_VXLAN ? 'vxlan' : 'geneve',
    vni: scratch.vni,
    sourcePort: scratch.udp.sourcePort,
    destinationPort: scratch.udp.destinationPort,
    innerOffset: scratch.innerOffset,
    innerLength: scratch.innerLength,
    inner: packet.subarray(scratch.innerOffset, scratch.innerOffset + scratch.innerLength),
  };
}

/** Total outer overhead for a configuration, e.g. to derive a TAP MTU (underlay MTU - overhead + 14). */
export function encapOverhead(config: EncapConfig): number {
  return compileEncap(config).overhead;
}

