/**
 * ICMPv6 Neighbor Discovery (RFC 4861): Neighbor Solicitation (4.3) and Neighbor
 * Advertisement (4.4), with the source/target link-layer address options (4.6.1)
 * for Ethernet, and the ICMPv6 checksum (RFC 4443 2.3) over the IPv6
 * pseudo-header (RFC 8200 8.1).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     Type      |     Code      |          Checksum             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |R|S|O|                     Reserved                            |  (NS: all reserved)
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       Target Address (16 bytes)               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Options ...   (type, length in units of 8 bytes, value)
 *   +-+-+-+-+-+-+-+-+-+-+-+-
 *
 * Names follow RFC 4861, which spells "Neighbor".
 */
import { foldChecksum, ipv6PseudoHeaderSum, onesComplementSum } from './checksum.js';
import { isValidMac, readMac, writeMac } from './ethernet.js';
import { WireError, WireStatus, checkField, need } from './errors.js';
import { IpProtocol } from './ipv4.js';

export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** RFC 4861 4.6.1 option types. */
export const ND_OPTION_SOURCE_LINK_LAYER_ADDRESS = 1;
export const ND_OPTION_TARGET_LINK_LAYER_ADDRESS = 2;
/** Type, code, checksum, flags/reserved, target address: the part before the options. */
export const NEIGHBOR_MESSAGE_LENGTH = 24;
/** A link-layer address option for Ethernet: type, length 1, 6-byte MAC. */
export const ND_LINK_LAYER_OPTION_LENGTH = 8;

/** RFC 4861 4.4 flag bits in byte 4 of an advertisement. */
export const ND_FLAG_ROUTER = 0x80;
export const ND_FLAG_SOLICITED = 0x40;
export const ND_FLAG_OVERRIDE = 0x20;

export interface NeighborMessage {
  /** 135 (solicitation) or 136 (advertisement). */
  type: number;
  /** 16 bytes. */
  targetAddress: Uint8Array;
  /** Advertisement flags (RFC 4861 4.4); must be absent or false in a solicitation. */
  router?: boolean;
  solicited?: boolean;
  override?: boolean;
  /** Appends a Source Link-Layer Address option (type 1). */
  sourceLinkLayerAddress?: number;
  /** Appends a Target Link-Layer Address option (type 2). */
  targetLinkLayerAddress?: number;
  /** Write this checksum instead of computing it (to build bad packets in tests). */
  checksum?: number;
}

export interface DecodedNeighborMessage {
  type: number;
  code: number;
  checksum: number;
  /** Present when the pseudo-header addresses were given to the decoder. */
  checksumValid?: boolean;
  router: boolean;
  solicited: boolean;
  override: boolean;
  /** A view into the buffer (no copy). */
  targetAddress: Uint8Array;
  sourceLinkLayerAddress?: number;
  targetLinkLayerAddress?: number;
  /** Message length including options. */
  length: number;
}

/** Caller-owned result object for {@link readNeighborMessage}. */
export class NeighborMessageFields {
  type = 0;
  code = 0;
  checksum = 0;
  router = false;
  solicited = false;
  override = false;
  /** Offset of the 16-byte target address in the buffer. */
  targetOffset = 0;
  /** The first Ethernet source link-layer address option, or -1. */
  sourceLinkLayerAddress = -1;
  /** The first Ethernet target link-layer address option, or -1. */
  targetLinkLayerAddress = -1;
  /** end - offset. */
  length = 0;
}

/** Mode bit for {@link readNeighborMessage}: verify the checksum (BAD_CHECKSUM otherwise). */
export const ND_READ_VERIFY_CHECKSUM = 1;

export function encodingLengthNeighborMessage(m: NeighborMessage): number {
  return (
    NEIGHBOR_MESSAGE_LENGTH +
    (m.sourceLinkLayerAddress === undefined ? 0 : ND_LINK_LAYER_OPTION_LENGTH) +
    (m.targetLinkLayerAddress === undefined ? 0 : ND_LINK_LAYER_OPTION_LENGTH)
  );
}

/** RFC 8200 8.1 pseudo-header sum for an ICMPv6 message of `length` bytes. */
export function icmpv6PseudoHeaderSum(source: Uint8Array, destination: Uint8Array, length: number, sourceOffset = 0, destinationOffset = 0): number {
  return ipv6PseudoHeaderSum(source, sourceOffset, destination, destinationOffset, IpProtocol.ICMPV6, length);
}

/**
 * Writes a solicitation or advertisement and computes its checksum over the
 * pseudo-header of `source` → `destination` (16 bytes each). Returns bytes written.
 * Throws WireError BAD_VALUE / TRUNCATED.
 */
export function encodeNeighborMessage(m: NeighborMessage, buf: Uint8Array, offset: number, source: Uint8Array, destination: Uint8Array): number {
  const length = encodingLengthNeighborMessage(m);
  need(buf, offset, length, 'Neighbor Discovery message');
  if (m.type !== ICMPV6_NEIGHBOR_SOLICITATION && m.type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) {
    throw new WireError('BAD_VALUE', offset, `type must be 135 (solicitation) or 136 (advertisement), got ${m.type}`);
  }
  if (!(m.targetAddress instanceof Uint8Array) || m.targetAddress.length !== 16) throw new WireError('BAD_VALUE', offset + 8, 'targetAddress must be 16 bytes');
  if (!(source instanceof Uint8Array) || source.length !== 16) throw new WireError('BAD_VALUE', offset, 'source (pseudo-header) must be 16 bytes');
  if (!(destination instanceof Uint8Array) || destination.length !== 16) throw new WireError('BAD_VALUE', offset, 'destination (pseudo-header) must be 16 bytes');
  let flags = 0;
  if (m.router) flags |= ND_FLAG_ROUTER;
  if (m.solicited) flags |= ND_FLAG_SOLICITED;
  if (m.override) flags |= ND_FLAG_OVERRIDE;
  // RFC 4861 4.3: the solicitation's 32 bits after the checksum are reserved.
  if (m.type === ICMPV6_NEIGHBOR_SOLICITATION && flags !== 0) {
    throw new WireError('BAD_VALUE', offset + 4, 'router/solicited/override exist only in an advertisement');
  }
  for (const [name, mac] of [['sourceLinkLayerAddress', m.sourceLinkLayerAddress], ['targetLinkLayerAddress', m.targetLinkLayerAddress]] as const) {
    if (mac !== undefined && !isValidMac(mac)) throw new WireError('BAD_VALUE', offset + NEIGHBOR_MESSAGE_LENGTH, `${name} is not a 48-bit MAC: ${mac}`);
  }
  if (m.checksum !== undefined) checkField(m.checksum, 0xffff, 'checksum', offset + 2);
  buf[offset] = m.type;
  buf[offset + 1] = 0;
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  buf[offset + 4] = flags;
  buf[offset + 5] = 0;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
  buf.set(m.targetAddress, offset + 8);
  let at = offset + NEIGHBOR_MESSAGE_LENGTH;
  if (m.sourceLinkLayerAddress !== undefined) {
    writeLinkLayerOption(buf, at, ND_OPTION_SOURCE_LINK_LAYER_ADDRESS, m.sourceLinkLayerAddress);
    at += ND_LINK_LAYER_OPTION_LENGTH;
  }
  if (m.targetLinkLayerAddress !== undefined) {
    writeLinkLayerOption(buf, at, ND_OPTION_TARGET_LINK_LAYER_ADDRESS, m.targetLinkLayerAddress);
  }
  const checksum = m.checksum ?? icmpv6Checksum(buf, offset, length, icmpv6PseudoHeaderSum(source, destination, length));
  buf[offset + 2] = checksum >>> 8;
  buf[offset + 3] = checksum & 0xff;
  return length;
}

/** RFC 4861 4.6.1: an 8-byte link-layer address option for Ethernet. No checks. */
export function writeLinkLayerOption(buf: Uint8Array, offset: number, type: number, mac: number): void {
  buf[offset] = type;
  buf[offset + 1] = 1;
  writeMac(buf, offset + 2, mac);
}

/**
 * Datapath writer: a Neighbor Advertisement with a Target Link-Layer Address option
 * (32 bytes), the target copied from `target` at `targetOffset`, checksum field zero.
 * Follow with {@link writeIcmpv6Checksum}. No checks.
 */
export function writeNeighborAdvertisement(
  buf: Uint8Array,
  offset: number,
  flags: number,
  target: Uint8Array,
  targetOffset: number,
  targetLinkLayerAddress: number,
): void {
  buf[offset] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  buf[offset + 1] = 0;
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  buf[offset + 4] = flags;
  buf[offset + 5] = 0;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
  for (let i = 0; i < 16; i++) buf[offset + 8 + i] = target[targetOffset + i]!;
  writeLinkLayerOption(buf, offset + NEIGHBOR_MESSAGE_LENGTH, ND_OPTION_TARGET_LINK_LAYER_ADDRESS, targetLinkLayerAddress);
}

/** RFC 4443 2.3: the checksum of `length` bytes at `offset` (checksum field taken as zero) plus the pseudo-header sum. */
export function icmpv6Checksum(buf: Uint8Array, offset: number, length: number, pseudoHeaderSum: number): number {
  const stored = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  // Sum everything, then take the stored checksum word back out (one's complement subtraction).
  const sum = foldChecksum(onesComplementSum(buf, offset, length, pseudoHeaderSum) + (~stored & 0xffff));
  return ~sum & 0xffff;
}

/** Computes and stores the checksum of the message at `offset`. */
export function writeIcmpv6Checksum(buf: Uint8Array, offset: number, length: number, pseudoHeaderSum: number): void {
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  const checksum = ~onesComplementSum(buf, offset, length, pseudoHeaderSum) & 0xffff;
  buf[offset + 2] = checksum >>> 8;
  buf[offset + 3] = checksum & 0xff;
}

/**
 * Datapath reader: the message is buf[offset .. end) (the IPv6 payload). Fills
 * `out`, returns a WireStatus; never throws, never allocates, never reads outside
 * [offset, end). `pseudoHeaderSum` is {@link icmpv6PseudoHeaderSum} of the IPv6
 * header, used with ND_READ_VERIFY_CHECKSUM.
 *
 * RFC 4861 7.1.1 / 7.1.2 checks done here: ICMP length ≥ 24 (else TRUNCATED), Code 0
 * (else BAD_VALUE), every option's length > 0 and inside the message (else
 * BAD_LENGTH), the checksum (BAD_CHECKSUM). A type other than 135/136 is
 * UNSUPPORTED. The IP-level checks (Hop Limit 255, addresses) are the caller's.
 */
export function readNeighborMessage(buf: Uint8Array, offset: number, end: number, pseudoHeaderSum: number, mode: number, out: NeighborMessageFields): number {
  if (!(offset >= 0 && offset + NEIGHBOR_MESSAGE_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  const type = buf[offset]!;
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) return WireStatus.UNSUPPORTED;
  // RFC 4861 7.1.1: ICMP Code is 0.
  if (buf[offset + 1] !== 0) return WireStatus.BAD_VALUE;
  const length = end - offset;
  if ((mode & ND_READ_VERIFY_CHECKSUM) !== 0 && onesComplementSum(buf, offset, length, pseudoHeaderSum) !== 0xffff) {
    return WireStatus.BAD_CHECKSUM;
  }
  let source = -1;
  let target = -1;
  // RFC 4861 4.6: options are (type, length in 8-byte units, value); a zero length is invalid.
  let at = offset + NEIGHBOR_MESSAGE_LENGTH;
  while (at < end) {
    if (at + 2 > end) return WireStatus.BAD_LENGTH;
    const optionType = buf[at]!;
    const optionLength = buf[at + 1]! * 8;
    if (optionLength === 0 || at + optionLength > end) return WireStatus.BAD_LENGTH;
    // An Ethernet link-layer address option is exactly 8 bytes; other lengths are for other links.
    if (optionLength === ND_LINK_LAYER_OPTION_LENGTH) {
      if (optionType === ND_OPTION_SOURCE_LINK_LAYER_ADDRESS && source < 0) source = readMac(buf, at + 2);
      else if (optionType === ND_OPTION_TARGET_LINK_LAYER_ADDRESS && target < 0) target = readMac(buf, at + 2);
    }
    at += optionLength;
  }
  const flags = buf[offset + 4]!;
  out.type = type;
  out.code = 0;
  out.checksum = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  out.router = type === ICMPV6_NEIGHBOR_ADVERTISEMENT && (flags & ND_FLAG_ROUTER) !== 0;
  out.solicited = type === ICMPV6_NEIGHBOR_ADVERTISEMENT && (flags & ND_FLAG_SOLICITED) !== 0;
  out.override = type === ICMPV6_NEIGHBOR_ADVERTISEMENT && (flags & ND_FLAG_OVERRIDE) !== 0;
  out.targetOffset = offset + 8;
  out.sourceLinkLayerAddress = source;
  out.targetLinkLayerAddress = target;
  out.length = length;
  return WireStatus.OK;
}

const scratch = new NeighborMessageFields();

/**
 * Friendly decoder of the message at buf[offset .. end). With `source` and
 * `destination` (the IPv6 addresses, 16 bytes each) it reports `checksumValid`.
 * Throws WireError TRUNCATED, UNSUPPORTED, BAD_VALUE, BAD_LENGTH.
 */
export function decodeNeighborMessage(buf: Uint8Array, offset = 0, end = buf.length, source?: Uint8Array, destination?: Uint8Array): DecodedNeighborMessage {
  const status = readNeighborMessage(buf, offset, end, 0, 0, scratch);
  if (status !== WireStatus.OK) {
    const reasons: Record<number, string> = {
      [WireStatus.TRUNCATED]: 'Neighbor Discovery message needs 24 bytes',
      [WireStatus.UNSUPPORTED]: 'not a Neighbor Solicitation (135) or Advertisement (136)',
      [WireStatus.BAD_VALUE]: 'ICMP code must be 0 (RFC 4861 7.1.1)',
      [WireStatus.BAD_LENGTH]: 'an option has length 0 or runs past the message (RFC 4861 4.6)',
    };
    throw WireError.fromStatus(status, offset, reasons[status] ?? 'invalid Neighbor Discovery message');
  }
  const result: DecodedNeighborMessage = {
    type: scratch.type,
    code: scratch.code,
    checksum: scratch.checksum,
    router: scratch.router,
    solicited: scratch.solicited,
    override: scratch.override,
    targetAddress: buf.subarray(scratch.targetOffset, scratch.targetOffset + 16),
    length: scratch.length,
  };
  if (source !== undefined && destination !== undefined) {
    if (source.length !== 16 || destination.length !== 16) throw new WireError('BAD_VALUE', offset, 'source and destination must be 16 bytes');
    result.checksumValid = onesComplementSum(buf, offset, scratch.length, icmpv6PseudoHeaderSum(source, destination, scratch.length)) === 0xffff;
  }
  if (scratch.sourceLinkLayerAddress >= 0) result.sourceLinkLayerAddress = scratch.sourceLinkLayerAddress;
  if (scratch.targetLinkLayerAddress >= 0) result.targetLinkLayerAddress = scratch.targetLinkLayerAddress;
  return result;
}
