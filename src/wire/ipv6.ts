/**
 * IPv6 fixed header (RFC 8200 3). Extension headers are not walked here: the
 * header's `nextHeader` is reported as it is.
 */
import { WireError, WireStatus, checkField, need } from './errors.js';

export const IPV6_HEADER_LENGTH = 40;

export interface Ipv6Header {
  /** 16 bytes. */
  source: Uint8Array;
  /** 16 bytes. */
  destination: Uint8Array;
  nextHeader: number;
  /** Length of everything after the fixed header. */
  payloadLength: number;
  /** Default 64. */
  hopLimit?: number;
  /** Whole traffic class byte; alternatively `dscp` and `ecn`. */
  trafficClass?: number;
  dscp?: number;
  ecn?: number;
  /** 20 bits. */
  flowLabel?: number;
}

export interface DecodedIpv6 {
  version: number;
  trafficClass: number;
  dscp: number;
  ecn: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  /** Views into the buffer (no copy). */
  source: Uint8Array;
  destination: Uint8Array;
}

/** Caller-owned result object for {@link readIpv6}. Addresses stay in the buffer at offset+8 and offset+24. */
export class Ipv6Fields {
  trafficClass = 0;
  flowLabel = 0;
  payloadLength = 0;
  nextHeader = 0;
  hopLimit = 0;
}

export function encodeIpv6(h: Ipv6Header, buf: Uint8Array, offset: number): number {
  need(buf, offset, IPV6_HEADER_LENGTH, 'IPv6 header');
  if (!(h.source instanceof Uint8Array) || h.source.length !== 16) throw new WireError('BAD_VALUE', offset + 8, 'source must be 16 bytes');
  if (!(h.destination instanceof Uint8Array) || h.destination.length !== 16) throw new WireError('BAD_VALUE', offset + 24, 'destination must be 16 bytes');
  checkField(h.nextHeader, 0xff, 'nextHeader', offset + 6);
  checkField(h.payloadLength, 0xffff, 'payloadLength', offset + 4);
  const hopLimit = h.hopLimit ?? 64;
  checkField(hopLimit, 0xff, 'hopLimit', offset + 7);
  const dscp = h.dscp ?? 0;
  const ecn = h.ecn ?? 0;
  checkField(dscp, 63, 'dscp', offset);
  checkField(ecn, 3, 'ecn', offset);
  const trafficClass = h.trafficClass ?? ((dscp << 2) | ecn);
  checkField(trafficClass, 0xff, 'trafficClass', offset);
  const flowLabel = h.flowLabel ?? 0;
  checkField(flowLabel, 0xfffff, 'flowLabel', offset + 1);
  writeIpv6(buf, offset, trafficClass, flowLabel, h.payloadLength, h.nextHeader, hopLimit);
  buf.set(h.source, offset + 8);
  buf.set(h.destination, offset + 24);
  return IPV6_HEADER_LENGTH;
}

/** Datapath writer: the first 8 bytes (addresses are written by the caller). */
export function writeIpv6(
  buf: Uint8Array,
  offset: number,
  trafficClass: number,
  flowLabel: number,
  payloadLength: number,
  nextHeader: number,
  hopLimit: number,
): void {
  buf[offset] = 0x60 | (trafficClass >>> 4);
  buf[offset + 1] = ((trafficClass & 0x0f) << 4) | (flowLabel >>> 16);
  buf[offset + 2] = (flowLabel >>> 8) & 0xff;
  buf[offset + 3] = flowLabel & 0xff;
  buf[offset + 4] = payloadLength >>> 8;
  buf[offset + 5] = payloadLength & 0xff;
  buf[offset + 6] = nextHeader;
  buf[offset + 7] = hopLimit;
}

/** Datapath reader: checks the version and that payloadLength fits in [offset, end). */
export function readIpv6(buf: Uint8Array, offset: number, end: number, out: Ipv6Fields): number {
  if (!(offset >= 0 && offset + IPV6_HEADER_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  const b0 = buf[offset]!;
  if (b0 >>> 4 !== 6) return WireStatus.BAD_VERSION;
  const b1 = buf[offset + 1]!;
  const payloadLength = (buf[offset + 4]! << 8) | buf[offset + 5]!;
  // A zero payload length with a Jumbo Payload option (RFC 2675) is not supported.
  if (offset + IPV6_HEADER_LENGTH + payloadLength > end) return WireStatus.TRUNCATED;
  out.trafficClass = ((b0 & 0x0f) << 4) | (b1 >>> 4);
  out.flowLabel = ((b1 & 0x0f) << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!;
  out.payloadLength = payloadLength;
  out.nextHeader = buf[offset + 6]!;
  out.hopLimit = buf[offset + 7]!;
  return WireStatus.OK;
}

const scratch = new Ipv6Fields();

export function decodeIpv6(buf: Uint8Array, offset = 0): DecodedIpv6 {
  const status = readIpv6(buf, offset, buf.length, scratch);
  if (status !== WireStatus.OK) throw WireError.fromStatus(status, offset, 'invalid IPv6 header');
  return {
    version: 6,
    trafficClass: scratch.trafficClass,
    dscp: scratch.trafficClass >>> 2,
    ecn: scratch.trafficClass & 3,
    flowLabel: scratch.flowLabel,
    payloadLength: scratch.payloadLength,
    nextHeader: scratch.nextHeader,
    hopLimit: scratch.hopLimit,
    source: buf.subarray(offset + 8, offset + 24),
    destination: buf.subarray(offset + 24, offset + 40),
  };
}

/** Parses IPv6 text (RFC 4291 2.2, including "::" and an embedded IPv4 tail) into 16 bytes. Throws WireError BAD_VALUE. */
export function parseIpv6(text: string): Uint8Array {
  const fail = (): never => {
    throw new WireError('BAD_VALUE', 0, `not an IPv6 address: ${JSON.stringify(text)}`);
  };
  if (typeof text !== 'string' || text.length < 2 || text.length > 45) fail();
  const groups: number[] = [];
  let tail = text;
  const v4 = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  const v4Groups: number[] = [];
  if (v4) {
    const octets = v4[2]!.split('.').map(Number);
    if (octets.some((o) => o > 255)) fail();
    v4Groups.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!);
    tail = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
  }
  const halves = tail.split('::');
  if (halves.length > 2) fail();
  const parse = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) fail();
      return parseInt(g, 16);
    });
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const present = head.length + rest.length + v4Groups.length;
  if (halves.length === 2) {
    if (present > 7) fail();
    groups.push(...head, ...new Array<number>(8 - present).fill(0), ...rest, ...v4Groups);
  } else {
    if (present !== 8) fail();
    groups.push(...head, ...v4Groups);
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >>> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

/** Formats 16 bytes (at `offset`) as RFC 5952 text: lower case, longest zero run compressed. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + i * 2]! << 8) | bytes[offset + i * 2 + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    // RFC 5952 4.2.2: a single 16-bit 0 field is not shortened.
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** RFC 4291 2.7: ff00::/8. */
export function isMulticastIpv6(bytes: Uint8Array, offset = 0): boolean {
  return bytes[offset] === 0xff;
}
