/**
 * Ethernet II header with an optional IEEE 802.1Q tag, and MAC address helpers.
 *
 * On the hot path a MAC address is a number: 48 bits fit exactly in a double,
 * so it can key a Map or be compared with `===` without building a string.
 */
import { WireError, WireStatus, checkField, need } from './errors.js';

export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
export const MAC_BROADCAST = 0xffff_ffff_ffff;
export const MAC_ZERO = 0;
const TWO_32 = 0x1_0000_0000;

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  /** Transparent Ethernet bridging: an Ethernet frame as payload (Geneve, NVGRE). */
  TEB: 0x6558,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  IPV6: 0x86dd,
} as const;

export interface VlanTag {
  /** Priority code point, 3 bits. */
  pcp: number;
  /** Drop eligible indicator. */
  dei: boolean;
  /** VLAN identifier, 12 bits. */
  vid: number;
}

export interface EthernetHeader {
  destination: number;
  source: number;
  etherType: number;
  /** When present, an 802.1Q tag (TPID 0x8100) is written between the source and the EtherType. */
  vlan?: VlanTag;
}

export interface DecodedEthernet extends EthernetHeader {
  headerLength: number;
}

/** Caller-owned result object for {@link readEthernet}. */
export class EthernetFields {
  destination = 0;
  source = 0;
  etherType = 0;
  vlan = false;
  pcp = 0;
  dei = false;
  vid = 0;
  headerLength = 0;
}

/** Reads a 48-bit MAC address at `offset` as a number. No bounds check. */
export function readMac(buf: Uint8Array, offset: number): number {
  return (
    ((buf[offset]! << 8) | buf[offset + 1]!) * TWO_32 +
    (((buf[offset + 2]! << 24) | (buf[offset + 3]! << 16) | (buf[offset + 4]! << 8) | buf[offset + 5]!) >>> 0)
  );
}

/** Writes a 48-bit MAC address held in a number. No bounds check. */
export function writeMac(buf: Uint8Array, offset: number, mac: number): void {
  const high = Math.floor(mac / TWO_32);
  const low = mac >>> 0;
  buf[offset] = high >>> 8;
  buf[offset + 1] = high & 0xff;
  buf[offset + 2] = low >>> 24;
  buf[offset + 3] = (low >>> 16) & 0xff;
  buf[offset + 4] = (low >>> 8) & 0xff;
  buf[offset + 5] = low & 0xff;
}

const MAC_PATTERN = /^[0-9a-fA-F]{1,2}([:-][0-9a-fA-F]{1,2}){5}$/;

/** Parses "02:00:00:00:00:01" (or with '-') into a number. Throws WireError BAD_VALUE. */
export function parseMac(text: string): number {
  if (typeof text !== 'string' || !MAC_PATTERN.test(text)) {
    throw new WireError('BAD_VALUE', 0, `not a MAC address: ${JSON.stringify(text)} (expected six hex bytes like 02:00:00:00:00:01)`);
  }
  let mac = 0;
  for (const part of text.split(/[:-]/)) mac = mac * 256 + parseInt(part, 16);
  return mac;
}

/** Formats a MAC number as lower-case "02:00:00:00:00:01". */
export function formatMac(mac: number): string {
  let text = '';
  for (let shift = 5; shift >= 0; shift--) {
    const byte = Math.floor(mac / 2 ** (8 * shift)) & 0xff;
    text += (shift === 5 ? '' : ':') + byte.toString(16).padStart(2, '0');
  }
  return text;
}

export function isValidMac(mac: number): boolean {
  return Number.isInteger(mac) && mac >= 0 && mac <= MAC_BROADCAST;
}

/** The I/G bit: multicast and broadcast addresses have the low bit of the first byte set. */
export function isMulticastMac(mac: number): boolean {
  return (Math.floor(mac / 0x100_0000_0000) & 1) === 1;
}

export function encodingLengthEthernet(h: EthernetHeader): number {
  return h.vlan === undefined ? ETHERNET_HEADER_LENGTH : ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
}

/** Writes the Ethernet header (with the 802.1Q tag when `vlan` is set). Returns bytes written. */
export function encodeEthernet(h: EthernetHeader, buf: Uint8Array, offset: number): number {
  const length = encodingLengthEthernet(h);
  need(buf, offset, length, 'Ethernet header');
  if (!isValidMac(h.destination)) throw new WireError('BAD_VALUE', offset, `destination is not a 48-bit MAC: ${h.destination}`);
  if (!isValidMac(h.source)) throw new WireError('BAD_VALUE', offset + 6, `source is not a 48-bit MAC: ${h.source}`);
  checkField(h.etherType, 0xffff, 'etherType', offset + length - 2);
  writeMac(buf, offset, h.destination);
  writeMac(buf, offset + 6, h.source);
  let at = offset + 12;
  if (h.vlan !== undefined) {
    checkField(h.vlan.pcp, 7, 'vlan.pcp', at + 2);
    checkField(h.vlan.vid, 0xfff, 'vlan.vid', at + 2);
    const tci = (h.vlan.pcp << 13) | (h.vlan.dei ? 0x1000 : 0) | h.vlan.vid;
    buf[at] = EtherType.VLAN >>> 8;
    buf[at + 1] = EtherType.VLAN & 0xff;
    buf[at + 2] = tci >>> 8;
    buf[at + 3] = tci & 0xff;
    at += 4;
  }
  buf[at] = h.etherType >>> 8;
  buf[at + 1] = h.etherType & 0xff;
  return length;
}

/** Datapath reader: one 802.1Q tag is understood; fills `out`, returns a WireStatus. */
export function readEthernet(buf: Uint8Array, offset: number, end: number, out: EthernetFields): number {
  if (!(offset >= 0 && offset + ETHERNET_HEADER_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  out.destination = readMac(buf, offset);
  out.source = readMac(buf, offset + 6);
  let etherType = (buf[offset + 12]! << 8) | buf[offset + 13]!;
  if (etherType === EtherType.VLAN) {
    if (offset + ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH > end) return WireStatus.TRUNCATED;
    const tci = (buf[offset + 14]! << 8) | buf[offset + 15]!;
    out.vlan = true;
    out.pcp = tci >>> 13;
    out.dei = (tci & 0x1000) !== 0;
    out.vid = tci & 0xfff;
    etherType = (buf[offset + 16]! << 8) | buf[offset + 17]!;
    out.headerLength = ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH;
  } else {
    out.vlan = false;
    out.pcp = 0;
    out.dei = false;
    out.vid = 0;
    out.headerLength = ETHERNET_HEADER_LENGTH;
  }
  out.etherType = etherType;
  return WireStatus.OK;
}

const scratch = new EthernetFields();

/** Friendly decoder. Throws WireError TRUNCATED. */
export function decodeEthernet(buf: Uint8Array, offset = 0): DecodedEthernet {
  const status = readEthernet(buf, offset, buf.length, scratch);
  if (status !== WireStatus.OK) throw WireError.fromStatus(status, offset, 'Ethernet header needs 14 bytes (18 with an 802.1Q tag)');
  const result: DecodedEthernet = {
    destination: scratch.destination,
    source: scratch.source,
    etherType: scratch.etherType,
    headerLength: scratch.headerLength,
  };
  if (scratch.vlan) result.vlan = { pcp: scratch.pcp, dei: scratch.dei, vid: scratch.vid };
  return result;
}
