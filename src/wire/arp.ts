/**
 * ARP for IPv4 over Ethernet (RFC 826), the 28-byte packet after an Ethernet
 * header with EtherType 0x0806.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      Hardware type (hrd)      |      Protocol type (pro)      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   hln (6)     |   pln (4)     |         Operation (op)        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |            Sender hardware address (sha), 6 bytes ...         |
 *   |   ... sha     |     Sender protocol address (spa), 4 bytes    |
 *   |   ... spa     |     Target hardware address (tha), 6 bytes ...|
 *   |               ... tha                                         |
 *   |            Target protocol address (tpa), 4 bytes             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Addresses are numbers, as everywhere on the hot path: MACs are 48-bit, IPv4
 * addresses unsigned 32-bit.
 */
import { readMac, writeMac, isValidMac } from './ethernet.js';
import { WireError, WireStatus, checkField, need } from './errors.js';
import { readIpv4Address, writeIpv4Address } from './ipv4.js';

/** The packet for Ethernet (hln 6) and IPv4 (pln 4): 8 + 2 × (6 + 4). */
export const ARP_LENGTH = 28;

/** RFC 826 ar$op (RFC 5494 registry). */
export const ArpOperation = {
  REQUEST: 1,
  REPLY: 2,
} as const;

/** RFC 826 ar$hrd: Ethernet (10Mb). */
export const ARP_HARDWARE_ETHERNET = 1;
/** ar$hrd IEEE 802 networks, which Linux accepts in place of Ethernet. */
export const ARP_HARDWARE_IEEE802 = 6;
/** RFC 826 ar$pro: the EtherType of IPv4. */
export const ARP_PROTOCOL_IPV4 = 0x0800;

export interface ArpPacket {
  /** ar$op: 1 request, 2 reply. */
  operation: number;
  /** ar$sha */
  senderHardwareAddress: number;
  /** ar$spa */
  senderProtocolAddress: number;
  /** ar$tha (zero in a request). */
  targetHardwareAddress: number;
  /** ar$tpa */
  targetProtocolAddress: number;
  /** ar$hrd, default 1 (Ethernet). */
  hardwareType?: number;
}

export interface DecodedArp {
  hardwareType: number;
  protocolType: number;
  operation: number;
  senderHardwareAddress: number;
  senderProtocolAddress: number;
  targetHardwareAddress: number;
  targetProtocolAddress: number;
}

/** Caller-owned result object for {@link readArp}. */
export class ArpFields {
  hardwareType = 0;
  operation = 0;
  senderHardwareAddress = 0;
  senderProtocolAddress = 0;
  targetHardwareAddress = 0;
  targetProtocolAddress = 0;
}

/** Writes a 28-byte Ethernet/IPv4 ARP packet. Returns 28. Throws WireError BAD_VALUE / TRUNCATED. */
export function encodeArp(p: ArpPacket, buf: Uint8Array, offset: number): number {
  need(buf, offset, ARP_LENGTH, 'ARP packet');
  const hardwareType = p.hardwareType ?? ARP_HARDWARE_ETHERNET;
  checkField(hardwareType, 0xffff, 'hardwareType', offset);
  checkField(p.operation, 0xffff, 'operation', offset + 6);
  if (!isValidMac(p.senderHardwareAddress)) throw new WireError('BAD_VALUE', offset + 8, `senderHardwareAddress is not a 48-bit MAC: ${p.senderHardwareAddress}`);
  checkField(p.senderProtocolAddress, 0xffffffff, 'senderProtocolAddress', offset + 14);
  if (!isValidMac(p.targetHardwareAddress)) throw new WireError('BAD_VALUE', offset + 18, `targetHardwareAddress is not a 48-bit MAC: ${p.targetHardwareAddress}`);
  checkField(p.targetProtocolAddress, 0xffffffff, 'targetProtocolAddress', offset + 24);
  writeArp(buf, offset, p.operation, p.senderHardwareAddress, p.senderProtocolAddress, p.targetHardwareAddress, p.targetProtocolAddress);
  if (hardwareType !== ARP_HARDWARE_ETHERNET) {
    buf[offset] = hardwareType >>> 8;
    buf[offset + 1] = hardwareType & 0xff;
  }
  return ARP_LENGTH;
}

/**
 * Datapath writer: an Ethernet/IPv4 ARP packet (hrd 1, pro 0x0800, hln 6, pln 4).
 * No checks; the caller guarantees 28 bytes of room and ranges.
 */
export function writeArp(
  buf: Uint8Array,
  offset: number,
  operation: number,
  senderHardwareAddress: number,
  senderProtocolAddress: number,
  targetHardwareAddress: number,
  targetProtocolAddress: number,
): void {
  buf[offset] = 0;
  buf[offset + 1] = ARP_HARDWARE_ETHERNET;
  buf[offset + 2] = ARP_PROTOCOL_IPV4 >>> 8;
  buf[offset + 3] = ARP_PROTOCOL_IPV4 & 0xff;
  buf[offset + 4] = 6;
  buf[offset + 5] = 4;
  buf[offset + 6] = operation >>> 8;
  buf[offset + 7] = operation & 0xff;
  writeMac(buf, offset + 8, senderHardwareAddress);
  writeIpv4Address(buf, offset + 14, senderProtocolAddress);
  writeMac(buf, offset + 18, targetHardwareAddress);
  writeIpv4Address(buf, offset + 24, targetProtocolAddress);
}

/**
 * Datapath reader for Ethernet/IPv4 ARP: fills `out`, returns a WireStatus. Never
 * throws, never allocates, never reads outside [offset, end).
 * TRUNCATED: fewer than 28 bytes. UNSUPPORTED: another hardware type (Ethernet 1 and
 * IEEE 802 6 are accepted, as Linux does), another protocol than IPv4, or address
 * lengths other than 6 and 4 (RFC 826 allows any; this reader handles only these).
 */
export function readArp(buf: Uint8Array, offset: number, end: number, out: ArpFields): number {
  if (!(offset >= 0 && offset + ARP_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  const hardwareType = (buf[offset]! << 8) | buf[offset + 1]!;
  const protocolType = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  if (hardwareType !== ARP_HARDWARE_ETHERNET && hardwareType !== ARP_HARDWARE_IEEE802) return WireStatus.UNSUPPORTED;
  if (protocolType !== ARP_PROTOCOL_IPV4) return WireStatus.UNSUPPORTED;
  // RFC 826: ar$hln and ar$pln give the address lengths; Ethernet and IPv4 use 6 and 4.
  if (buf[offset + 4] !== 6 || buf[offset + 5] !== 4) return WireStatus.UNSUPPORTED;
  out.hardwareType = hardwareType;
  out.operation = (buf[offset + 6]! << 8) | buf[offset + 7]!;
  out.senderHardwareAddress = readMac(buf, offset + 8);
  out.senderProtocolAddress = readIpv4Address(buf, offset + 14);
  out.targetHardwareAddress = readMac(buf, offset + 18);
  out.targetProtocolAddress = readIpv4Address(buf, offset + 24);
  return WireStatus.OK;
}

const scratch = new ArpFields();

/** Friendly decoder. Throws WireError TRUNCATED or UNSUPPORTED. */
export function decodeArp(buf: Uint8Array, offset = 0): DecodedArp {
  const status = readArp(buf, offset, buf.length, scratch);
  if (status !== WireStatus.OK) {
    const reason = status === WireStatus.TRUNCATED ? 'ARP packet needs 28 bytes' : 'not an Ethernet/IPv4 ARP packet (hrd 1 or 6, pro 0x0800, hln 6, pln 4)';
    throw WireError.fromStatus(status, offset, reason);
  }
  return {
    hardwareType: scratch.hardwareType,
    protocolType: ARP_PROTOCOL_IPV4,
    operation: scratch.operation,
    senderHardwareAddress: scratch.senderHardwareAddress,
    senderProtocolAddress: scratch.senderProtocolAddress,
    targetHardwareAddress: scratch.targetHardwareAddress,
    targetProtocolAddress: scratch.targetProtocolAddress,
  };
}
