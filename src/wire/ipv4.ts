/**
 * IPv4 header (RFC 791 3.1), with options, DSCP/ECN (RFC 2474, RFC 3168) and the
 * header checksum. Addresses are 32-bit unsigned numbers on the hot path.
 */
import { foldChecksum, internetChecksum, onesComplementSum } from './checksum.js';
import { WireError, WireStatus, checkField, need } from './errors.js';

export const IPV4_HEADER_LENGTH = 20;
export const IPV4_MAX_HEADER_LENGTH = 60;
export const IPV4_FLAG_DF = 0x4000;
export const IPV4_FLAG_MF = 0x2000;

export const IpProtocol = {
  ICMP: 1,
  IPV4: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ESP: 50,
  ICMPV6: 58,
  NONE: 59,
} as const;

export interface Ipv4Header {
  source: number;
  destination: number;
  protocol: number;
  /** Total length (header + payload). */
  totalLength: number;
  /** Whole TOS byte; alternatively give `dscp` and `ecn`. */
  tos?: number;
  dscp?: number;
  ecn?: number;
  identification?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In 8-byte units. */
  fragmentOffset?: number;
  /** Default 64. */
  ttl?: number;
  /** Options, padded by the caller to a multiple of 4 bytes, at most 40. */
  options?: Uint8Array;
  /** Write this checksum instead of computing it (to build bad packets in tests). */
  checksum?: number;
}

export interface DecodedIpv4 {
  version: number;
  headerLength: number;
  tos: number;
  dscp: number;
  ecn: number;
  totalLength: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  checksumValid: boolean;
  source: number;
  destination: number;
  /** A view into the buffer (no copy); empty when IHL is 5. */
  options: Uint8Array;
}

/** Caller-owned result object for {@link readIpv4}. */
export class Ipv4Fields {
  headerLength = 0;
  tos = 0;
  totalLength = 0;
  identification = 0;
  flagsFragment = 0;
  ttl = 0;
  protocol = 0;
  checksum = 0;
  source = 0;
  destination = 0;
}

/** Mode bit for {@link readIpv4}: verify the header checksum (BAD_CHECKSUM otherwise). */
export const IPV4_READ_VERIFY_CHECKSUM = 1;

export function encodingLengthIpv4(h: Ipv4Header): number {
  return IPV4_HEADER_LENGTH + (h.options?.length ?? 0);
}

/** Writes the header, computing the checksum. Returns bytes written (the header length). */
export function encodeIpv4(h: Ipv4Header, buf: Uint8Array, offset: number): number {
  const headerLength = encodingLengthIpv4(h);
  need(buf, offset, headerLength, 'IPv4 header');
  if (headerLength > IPV4_MAX_HEADER_LENGTH || headerLength % 4 !== 0) {
    throw new WireError('BAD_LENGTH', offset, `options must be a multiple of 4 bytes and at most 40, got ${headerLength - 20}`);
  }
  checkField(h.source, 0xffffffff, 'source', offset + 12);
  checkField(h.destination, 0xffffffff, 'destination', offset + 16);
  checkField(h.protocol, 0xff, 'protocol', offset + 9);
  checkField(h.totalLength, 0xffff, 'totalLength', offset + 2);
  if (h.totalLength < headerLength) throw new WireError('BAD_LENGTH', offset + 2, `totalLength ${h.totalLength} is shorter than the header (${headerLength})`);
  const dscp = h.dscp ?? 0;
  const ecn = h.ecn ?? 0;
  checkField(dscp, 63, 'dscp', offset + 1);
  checkField(ecn, 3, 'ecn', offset + 1);
  const tos = h.tos ?? ((dscp << 2) | ecn);
  checkField(tos, 0xff, 'tos', offset + 1);
  const ttl = h.ttl ?? 64;
  checkField(ttl, 0xff, 'ttl', offset + 8);
  const identification = h.identification ?? 0;
  checkField(identification, 0xffff, 'identification', offset + 4);
  const fragmentOffset = h.fragmentOffset ?? 0;
  checkField(fragmentOffset, 0x1fff, 'fragmentOffset', offset + 6);
  const flagsFragment = (h.dontFragment ? IPV4_FLAG_DF : 0) | (h.moreFragments ? IPV4_FLAG_MF : 0) | fragmentOffset;
  writeIpv4(buf, offset, headerLength, tos, h.totalLength, identification, flagsFragment, ttl, h.protocol, h.source, h.destination);
  if (h.options !== undefined) buf.set(h.options, offset + IPV4_HEADER_LENGTH);
  let checksum = h.checksum;
  if (checksum === undefined) {
    checksum = internetChecksum(buf, offset, headerLength);
  } else {
    checkField(checksum, 0xffff, 'checksum', offset + 10);
  }
  buf[offset + 10] = checksum >>> 8;
  buf[offset + 11] = checksum & 0xff;
  return headerLength;
}

/**
 * Datapath writer: the fixed part of the header with a zero checksum field.
 * The caller writes options (if any) and then the checksum with {@link writeIpv4Checksum}.
 */
export function writeIpv4(
  buf: Uint8Array,
  offset: number,
  headerLength: number,
  tos: number,
  totalLength: number,
  identification: number,
  flagsFragment: number,
  ttl: number,
  protocol: number,
  source: number,
  destination: number,
): void {
  buf[offset] = 0x40 | (headerLength >>> 2);
  buf[offset + 1] = tos;
  buf[offset + 2] = totalLength >>> 8;
  buf[offset + 3] = totalLength & 0xff;
  buf[offset + 4] = identification >>> 8;
  buf[offset + 5] = identification & 0xff;
  buf[offset + 6] = flagsFragment >>> 8;
  buf[offset + 7] = flagsFragment & 0xff;
  buf[offset + 8] = ttl;
  buf[offset + 9] = protocol;
  buf[offset + 10] = 0;
  buf[offset + 11] = 0;
  writeIpv4Address(buf, offset + 12, source);
  writeIpv4Address(buf, offset + 16, destination);
}

/** Computes and stores the header checksum (the field must be zero or is ignored). */
export function writeIpv4Checksum(buf: Uint8Array, offset: number): void {
  buf[offset + 10] = 0;
  buf[offset + 11] = 0;
  const checksum = internetChecksum(buf, offset, (buf[offset]! & 0x0f) << 2);
  buf[offset + 10] = checksum >>> 8;
  buf[offset + 11] = checksum & 0xff;
}

/** True when the header checksum verifies (the one's-complement sum over the header is 0xffff). */
export function verifyIpv4Checksum(buf: Uint8Array, offset: number, headerLength: number): boolean {
  if (headerLength !== IPV4_HEADER_LENGTH) return onesComplementSum(buf, offset, headerLength) === 0xffff;
  // The common 20-byte header, in straight-line code.
  let sum = ((buf[offset]! << 8) | buf[offset + 1]!) + ((buf[offset + 2]! << 8) | buf[offset + 3]!)
    + ((buf[offset + 4]! << 8) | buf[offset + 5]!) + ((buf[offset + 6]! << 8) | buf[offset + 7]!)
    + ((buf[offset + 8]! << 8) | buf[offset + 9]!) + ((buf[offset + 10]! << 8) | buf[offset + 11]!)
    + ((buf[offset + 12]! << 8) | buf[offset + 13]!) + ((buf[offset + 14]! << 8) | buf[offset + 15]!)
    + ((buf[offset + 16]! << 8) | buf[offset + 17]!) + ((buf[offset + 18]! << 8) | buf[offset + 19]!);
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum & 0xffff) + (sum >>> 16) === 0xffff;
}

export function readIpv4Address(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

export function writeIpv4Address(buf: Uint8Array, offset: number, address: number): void {
  buf[offset] = address >>> 24;
  buf[offset + 1] = (address >>> 16) & 0xff;
  buf[offset + 2] = (address >>> 8) & 0xff;
  buf[offset + 3] = address & 0xff;
}

/**
 * Datapath reader: checks version, IHL, that the header and the total length fit
 * in [offset, end), and (with IPV4_READ_VERIFY_CHECKSUM) the checksum.
 * Bytes after totalLength (Ethernet padding) are allowed.
 */
export function readIpv4(buf: Uint8Array, offset: number, end: number, mode: number, out: Ipv4Fields): number {
  if (!(offset >= 0 && offset + IPV4_HEADER_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  const versionIhl = buf[offset]!;
  if (versionIhl >>> 4 !== 4) return WireStatus.BAD_VERSION;
  const headerLength = (versionIhl & 0x0f) << 2;
  // RFC 791 3.1: the minimum value for a correct header is 5 words.
  if (headerLength < IPV4_HEADER_LENGTH) return WireStatus.BAD_LENGTH;
  if (offset + headerLength > end) return WireStatus.TRUNCATED;
  const totalLength = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  if (totalLength < headerLength) return WireStatus.BAD_LENGTH;
  if (offset + totalLength > end) return WireStatus.TRUNCATED;
  if ((mode & IPV4_READ_VERIFY_CHECKSUM) !== 0 && !verifyIpv4Checksum(buf, offset, headerLength)) {
    return WireStatus.BAD_CHECKSUM;
  }
  out.headerLength = headerLength;
  out.tos = buf[offset + 1]!;
  out.totalLength = totalLength;
  out.identification = (buf[offset + 4]! << 8) | buf[offset + 5]!;
  out.flagsFragment = (buf[offset + 6]! << 8) | buf[offset + 7]!;
  out.ttl = buf[offset + 8]!;
  out.protocol = buf[offset + 9]!;
  out.checksum = (buf[offset + 10]! << 8) | buf[offset + 11]!;
  out.source = readIpv4Address(buf, offset + 12);
  out.destination = readIpv4Address(buf, offset + 16);
  return WireStatus.OK;
}

const scratch = new Ipv4Fields();

/** Friendly decoder. Throws WireError (TRUNCATED, BAD_VERSION, BAD_LENGTH); reports the checksum's validity. */
export function decodeIpv4(buf: Uint8Array, offset = 0): DecodedIpv4 {
  const status = readIpv4(buf, offset, buf.length, 0, scratch);
  if (status !== WireStatus.OK) throw WireError.fromStatus(status, offset, 'invalid IPv4 header');
  const f = scratch;
  return {
    version: 4,
    headerLength: f.headerLength,
    tos: f.tos,
    dscp: f.tos >>> 2,
    ecn: f.tos & 3,
    totalLength: f.totalLength,
    identification: f.identification,
    dontFragment: (f.flagsFragment & IPV4_FLAG_DF) !== 0,
    moreFragments: (f.flagsFragment & IPV4_FLAG_MF) !== 0,
    fragmentOffset: f.flagsFragment & 0x1fff,
    ttl: f.ttl,
    protocol: f.protocol,
    checksum: f.checksum,
    checksumValid: verifyIpv4Checksum(buf, offset, f.headerLength),
    source: f.source,
    destination: f.destination,
    options: buf.subarray(offset + IPV4_HEADER_LENGTH, offset + f.headerLength),
  };
}

const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Parses dotted-quad text into a 32-bit number. Throws WireError BAD_VALUE. */
export function parseIpv4(text: string): number {
  if (typeof text !== 'string' || !IPV4_PATTERN.test(text)) {
    throw new WireError('BAD_VALUE', 0, `not an IPv4 address: ${JSON.stringify(text)}`);
  }
  let address = 0;
  for (const part of text.split('.')) address = address * 256 + Number(part);
  return address;
}

export function formatIpv4(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/** RFC 1112 / 5771: 224.0.0.0/4. */
export function isMulticastIpv4(address: number): boolean {
  return address >>> 28 === 0xe;
}

/** Sum of the header's 16-bit words except the checksum, for incremental use. */
export function ipv4HeaderSum(buf: Uint8Array, offset: number, headerLength: number): number {
  return foldChecksum(
    onesComplementSum(buf, offset, 10) + onesComplementSum(buf, offset + 12, headerLength - 12),
  );
}
