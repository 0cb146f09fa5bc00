/**
 * Finding the layer after the IP header: IPv4 (with options) or IPv6 with its extension
 * headers. Shared by the SA (where ESP goes, where it is), the SA database (which SPI) and the
 * security policy (which ports). Never throws, never allocates, never reads outside [start, end).
 */
import { WireStatus } from '../wire/errors.js';
import { IPV4_READ_VERIFY_CHECKSUM, Ipv4Fields, readIpv4 } from '../wire/ipv4.js';
import { IPV6_HEADER_LENGTH, Ipv6Fields, readIpv6 } from '../wire/ipv6.js';
import { EspStatus } from './errors.js';

export const IPV6_HOP_BY_HOP = 0;
export const IPV6_ROUTING = 43;
export const IPV6_FRAGMENT = 44;
export const IPV6_DESTINATION_OPTIONS = 60;
/** Extension headers walked before giving up (a longer chain is UNSUPPORTED). */
export const IPV6_MAX_EXTENSIONS = 8;

/** Walk modes. */
export const WALK_INBOUND = 0;
/** Where ESP is inserted in transport mode: after hop-by-hop, routing, and destination options not after a routing header (Linux ip6_find_1stfragopt; RFC 4303 3.1.1). */
export const WALK_OUTBOUND = 1;
/** To the upper-layer protocol, for policy selectors; a first fragment is walked through, a later one stops there. */
export const WALK_SELECTOR = 2;

/** The result of {@link IpWalker.walk}; one per user, reused per packet. */
export class IpWalker {
  readonly ip4 = new Ipv4Fields();
  readonly ip6 = new Ipv6Fields();
  /** 4 or 6. */
  version = 0;
  /** Bytes from the start of the IP header to the layer found (the ESP/UDP/TCP header). */
  headerLength = 0;
  /** Offset (from the start of the IP header) of the byte that names that layer: IPv4 protocol (9) or an IPv6 next header field. */
  nextHeaderAt = 0;
  /** The protocol of that layer. */
  protocol = 0;
  /** Absolute end of the IP packet (by its length field). */
  packetEnd = 0;
  /** WALK_SELECTOR: true when the packet is a non-first fragment (no ports in it). */
  laterFragment = false;

  /**
   * Validates the IP header at `start` and walks to the next layer. Inbound mode verifies the
   * IPv4 checksum. IPv4 fragments and an IPv6 fragment header are UNSUPPORTED except in
   * selector mode. Returns an EspStatus.
   */
  walk(bytes: Uint8Array, start: number, end: number, mode: number): number {
    if (!(start >= 0 && end >= start && end <= bytes.length)) return EspStatus.BAD_PACKET;
    if (end - start < 1) return EspStatus.TRUNCATED;
    this.laterFragment = false;
    const version = bytes[start]! >>> 4;
    if (version === 4) {
      const ip4 = this.ip4;
      const status = readIpv4(bytes, start, end, mode === WALK_INBOUND ? IPV4_READ_VERIFY_CHECKSUM : 0, ip4);
      if (status !== WireStatus.OK) return status === WireStatus.TRUNCATED ? EspStatus.TRUNCATED : EspStatus.BAD_PACKET;
      if ((ip4.flagsFragment & 0x3fff) !== 0) {
        // RFC 4303 3.3 / 3.4.1: ESP applies to whole datagrams; reassembly is the kernel's job.
        if (mode !== WALK_SELECTOR) return EspStatus.UNSUPPORTED;
        this.laterFragment = (ip4.flagsFragment & 0x1fff) !== 0;
      }
      this.version = 4;
      this.headerLength = ip4.headerLength;
      this.nextHeaderAt = 9;
      this.protocol = ip4.protocol;
      this.packetEnd = start + ip4.totalLength;
      return EspStatus.OK;
    }
    if (version !== 6) return EspStatus.BAD_PACKET;
    const status = readIpv6(bytes, start, end, this.ip6);
    if (status !== WireStatus.OK) return status === WireStatus.TRUNCATED ? EspStatus.TRUNCATED : EspStatus.BAD_PACKET;
    const packetEnd = start + IPV6_HEADER_LENGTH + this.ip6.payloadLength;
    let position = start + IPV6_HEADER_LENGTH;
    let fieldAt = 6;
    let next = this.ip6.nextHeader;
    let routing = false;
    for (let count = 0; ; count++) {
      let walk: boolean;
      if (next === IPV6_FRAGMENT) {
        if (mode !== WALK_SELECTOR) return EspStatus.UNSUPPORTED;
        if (position + 8 > packetEnd) return EspStatus.TRUNCATED;
        if ((((bytes[position + 2]! << 8) | bytes[position + 3]!) & 0xfff8) !== 0) {
          this.laterFragment = true;
          walk = false;
        } else {
          walk = true;
        }
      } else if (mode === WALK_OUTBOUND) {
        walk = next === IPV6_HOP_BY_HOP || next === IPV6_ROUTING || (next === IPV6_DESTINATION_OPTIONS && !routing);
      } else {
        walk = next === IPV6_HOP_BY_HOP || next === IPV6_ROUTING || next === IPV6_DESTINATION_OPTIONS;
      }
      if (!walk) break;
      if (count >= IPV6_MAX_EXTENSIONS) return EspStatus.UNSUPPORTED;
      if (position + 2 > packetEnd) return EspStatus.TRUNCATED;
      // RFC 8200 4.5: the fragment header is 8 bytes; the others give their length in 8-byte units after the first 8.
      const length = next === IPV6_FRAGMENT ? 8 : (bytes[position + 1]! + 1) * 8;
      if (position + length > packetEnd) return EspStatus.TRUNCATED;
      if (next === IPV6_ROUTING) routing = true;
      fieldAt = position - start;
      next = bytes[position]!;
      position += length;
    }
    this.version = 6;
    this.headerLength = position - start;
    this.nextHeaderAt = fieldAt;
    this.protocol = next;
    this.packetEnd = packetEnd;
    return EspStatus.OK;
  }
}
