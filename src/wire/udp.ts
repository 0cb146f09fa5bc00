/**
 * UDP header (RFC 768) and its checksum over the IPv4 pseudo-header (RFC 768)
 * and the IPv6 pseudo-header (RFC 8200 8.1).
 *
 * Zero checksums: on IPv4 a zero checksum means "not computed" and is always
 * accepted (RFC 768). On IPv6 it is an error (RFC 8200 8.1) unless the tunnel
 * explicitly allows it (RFC 6935 / RFC 6936), which the caller states with a flag.
 */
import { foldChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, onesComplementSum } from './checksum.js';
import { WireError, WireStatus, checkField, need } from './errors.js';
import { IpProtocol } from './ipv4.js';

export const UDP_HEADER_LENGTH = 8;

export interface UdpHeader {
  sourcePort: number;
  destinationPort: number;
  /** Header + payload. */
  length: number;
  /** Written as given; 0 (the default) means "not computed". Use the udpChecksum* helpers to fill it. */
  checksum?: number;
}

export interface DecodedUdp {
  sourcePort: number;
  destinationPort: number;
  length: number;
  checksum: number;
}

/** Caller-owned result object for {@link readUdp}. */
export class UdpFields {
  sourcePort = 0;
  destinationPort = 0;
  length = 0;
  checksum = 0;
}

export function encodeUdp(h: UdpHeader, buf: Uint8Array, offset: number): number {
  need(buf, offset, UDP_HEADER_LENGTH, 'UDP header');
  checkField(h.sourcePort, 0xffff, 'sourcePort', offset);
  checkField(h.destinationPort, 0xffff, 'destinationPort', offset + 2);
  checkField(h.length, 0xffff, 'length', offset + 4);
  if (h.length < UDP_HEADER_LENGTH) throw new WireError('BAD_LENGTH', offset + 4, `length ${h.length} is shorter than the UDP header`);
  const checksum = h.checksum ?? 0;
  checkField(checksum, 0xffff, 'checksum', offset + 6);
  writeUdp(buf, offset, h.sourcePort, h.destinationPort, h.length, checksum);
  return UDP_HEADER_LENGTH;
}

/** Datapath writer. */
export function writeUdp(buf: Uint8Array, offset: number, sourcePort: number, destinationPort: number, length: number, checksum: number): void {
  buf[offset] = sourcePort >>> 8;
  buf[offset + 1] = sourcePort & 0xff;
  buf[offset + 2] = destinationPort >>> 8;
  buf[offset + 3] = destinationPort & 0xff;
  buf[offset + 4] = length >>> 8;
  buf[offset + 5] = length & 0xff;
  buf[offset + 6] = checksum >>> 8;
  buf[offset + 7] = checksum & 0xff;
}

/** Datapath reader: the length field must be at least 8 and fit in [offset, end). */
export function readUdp(buf: Uint8Array, offset: number, end: number, out: UdpFields): number {
  if (!(offset >= 0 && offset + UDP_HEADER_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  const length = (buf[offset + 4]! << 8) | buf[offset + 5]!;
  if (length < UDP_HEADER_LENGTH) return WireStatus.BAD_LENGTH;
  if (offset + length > end) return WireStatus.TRUNCATED;
  out.sourcePort = (buf[offset]! << 8) | buf[offset + 1]!;
  out.destinationPort = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  out.length = length;
  out.checksum = (buf[offset + 6]! << 8) | buf[offset + 7]!;
  return WireStatus.OK;
}

const scratch = new UdpFields();

export function decodeUdp(buf: Uint8Array, offset = 0): DecodedUdp {
  const status = readUdp(buf, offset, buf.length, scratch);
  if (status !== WireStatus.OK) throw WireError.fromStatus(status, offset, 'invalid UDP header');
  return { sourcePort: scratch.sourcePort, destinationPort: scratch.destinationPort, length: scratch.length, checksum: scratch.checksum };
}

/** RFC 768: a computed 0 is sent as 0xffff, since 0 means "no checksum". */
function finish(sum: number): number {
  const checksum = ~foldChecksum(sum) & 0xffff;
  return checksum === 0 ? 0xffff : checksum;
}

/**
 * The checksum for the datagram of `length` bytes at `offset`, given the
 * pseudo-header sum (addresses + protocol + length). The stored checksum field
 * is treated as 0 (its contribution is removed rather than the field zeroed).
 */
export function udpChecksum(buf: Uint8Array, offset: number, length: number, pseudoHeaderSum: number): number {
  const stored = (buf[offset + 6]! << 8) | buf[offset + 7]!;
  return finish(onesComplementSum(buf, offset, length, pseudoHeaderSum) + (~stored & 0xffff));
}

/** The UDP checksum over IPv4 (addresses as 32-bit numbers). */
export function udpChecksumIpv4(buf: Uint8Array, offset: number, length: number, source: number, destination: number): number {
  return udpChecksum(buf, offset, length, ipv4PseudoHeaderSum(source, destination, IpProtocol.UDP, length));
}

/** The UDP checksum over IPv6 (addresses read from buffers). */
export function udpChecksumIpv6(
  buf: Uint8Array,
  offset: number,
  length: number,
  source: Uint8Array,
  sourceOffset: number,
  destination: Uint8Array,
  destinationOffset: number,
): number {
  return udpChecksum(buf, offset, length, ipv6PseudoHeaderSum(source, sourceOffset, destination, destinationOffset, IpProtocol.UDP, length));
}

/**
 * Datapath: computes and stores the checksum of the datagram at `offset` from
 * a pseudo-header sum (addresses + protocol + length, from
 * `ipv4PseudoHeaderSum`/`ipv6PseudoHeaderSum`). Taking the sum instead of the
 * addresses keeps 32-bit addresses (doubles above 2^31 in V8) out of the call,
 * so nothing is boxed per packet.
 */
export function writeUdpChecksum(buf: Uint8Array, offset: number, length: number, pseudoHeaderSum: number): void {
  const checksum = udpChecksum(buf, offset, length, pseudoHeaderSum);
  buf[offset + 6] = checksum >>> 8;
  buf[offset + 7] = checksum & 0xff;
}

/** Computes and stores the checksum of the datagram at `offset` (IPv4). */
export function writeUdpChecksumIpv4(buf: Uint8Array, offset: number, length: number, source: number, destination: number): void {
  writeUdpChecksum(buf, offset, length, ipv4PseudoHeaderSum(source, destination, IpProtocol.UDP, length));
}

/** Computes and stores the checksum of the datagram at `offset` (IPv6; addresses read from buffers). */
export function writeUdpChecksumIpv6(
  buf: Uint8Array,
  offset: number,
  length: number,
  source: Uint8Array,
  sourceOffset: number,
  destination: Uint8Array,
  destinationOffset: number,
): void {
  writeUdpChecksum(buf, offset, length, ipv6PseudoHeaderSum(source, sourceOffset, destination, destinationOffset, IpProtocol.UDP, length));
}

/**
 * Datapath: verifies the datagram at `offset` against a pseudo-header sum
 * (including the length). A zero checksum field passes only with `allowZero`.
 */
export function verifyUdpChecksum(buf: Uint8Array, offset: number, length: number, pseudoHeaderSum: number, allowZero: boolean): boolean {
  if (buf[offset + 6] === 0 && buf[offset + 7] === 0) return allowZero;
  return onesComplementSum(buf, offset, length, pseudoHeaderSum) === 0xffff;
}

/**
 * Verifies a received datagram over IPv4. A zero checksum field means the sender
 * did not compute one, which RFC 768 allows: returns true.
 */
export function verifyUdpChecksumIpv4(buf: Uint8Array, offset: number, length: number, source: number, destination: number): boolean {
  return verifyUdpChecksum(buf, offset, length, ipv4PseudoHeaderSum(source, destination, IpProtocol.UDP, length), true);
}

/**
 * Verifies a received datagram over IPv6. A zero checksum is rejected
 * (RFC 8200 8.1) unless `allowZero` says this tunnel accepts it (RFC 6935 5, RFC 6936).
 */
export function verifyUdpChecksumIpv6(
  buf: Uint8Array,
  offset: number,
  length: number,
  source: Uint8Array,
  sourceOffset: number,
  destination: Uint8Array,
  destinationOffset: number,
  allowZero = false,
): boolean {
  const pseudo = ipv6PseudoHeaderSum(source, sourceOffset, destination, destinationOffset, IpProtocol.UDP, length);
  return verifyUdpChecksum(buf, offset, length, pseudo, allowZero);
}
