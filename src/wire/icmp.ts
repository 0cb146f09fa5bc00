/**
 * ICMP "too big" answers for a frame a tunnel cannot carry: ICMPv4 Destination
 * Unreachable / Fragmentation Needed (RFC 792, RFC 1191 4) and ICMPv6 Packet Too
 * Big (RFC 4443 3.2), built as a whole Ethernet frame back to the sender.
 *
 * As the Linux tunnels do for bridged traffic (a VTEP has no address of its own
 * on the overlay), the answer comes from the original packet's destination: the
 * MAC and IP addresses of the offending frame are swapped. The sender's stack
 * then lowers its path MTU to that destination.
 *
 * Non-throwing: a frame that must not be answered (not IP, a fragment, an ICMP
 * error itself, a multicast or unspecified source, IPv4 without DF) returns 0.
 */
import { internetChecksum } from './checksum.js';
import { ETHERNET_HEADER_LENGTH, readMac, writeMac } from './ethernet.js';
import { icmpv6PseudoHeaderSum, writeIcmpv6Checksum } from './icmpv6.js';
import { IPV4_FLAG_DF, IPV4_HEADER_LENGTH, IpProtocol, readIpv4Address, writeIpv4, writeIpv4Checksum } from './ipv4.js';
import { IPV6_HEADER_LENGTH, writeIpv6 } from './ipv6.js';

export const ICMP_DESTINATION_UNREACHABLE = 3;
export const ICMP_FRAGMENTATION_NEEDED = 4;
export const ICMPV6_PACKET_TOO_BIG = 2;
/** RFC 1812 4.3.2.3: an ICMPv4 error carries as much of the original as fits in 576 bytes. */
export const ICMPV4_ERROR_MAX_LENGTH = 576;
/** RFC 4443 2.4 (c): an ICMPv6 error must not exceed the IPv6 minimum MTU. */
export const ICMPV6_ERROR_MAX_LENGTH = 1280;
/** The largest frame writeTooBig writes: Ethernet + 1280 bytes. */
export const TOO_BIG_MAX_FRAME = ETHERNET_HEADER_LENGTH + ICMPV6_ERROR_MAX_LENGTH;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const DEFAULT_TTL = 64;

/**
 * Writes, at `out[outOffset]`, the Ethernet frame that tells the sender of the
 * frame at [offset, offset + length) of `frame` that the path takes at most `mtu`
 * bytes of IP packet. Returns the reply's length, or 0 when the frame is not to
 * be answered. `out` needs TOO_BIG_MAX_FRAME bytes from outOffset and must not
 * overlap the frame.
 */
export function writeTooBig(frame: Uint8Array, offset: number, length: number, mtu: number, out: Uint8Array, outOffset: number): number {
  if (length < ETHERNET_HEADER_LENGTH || outOffset + TOO_BIG_MAX_FRAME > out.length) return 0;
  // The sender's MAC must be unicast: never answer a group-addressed source.
  if ((frame[offset + 6]! & 1) !== 0) return 0;
  const etherType = (frame[offset + 12]! << 8) | frame[offset + 13]!;
  const ip = offset + ETHERNET_HEADER_LENGTH;
  const ipLength = length - ETHERNET_HEADER_LENGTH;
  let written: number;
  if (etherType === ETHERTYPE_IPV4) written = writeFragmentationNeeded(frame, ip, ipLength, mtu, out, outOffset + ETHERNET_HEADER_LENGTH);
  else if (etherType === ETHERTYPE_IPV6) written = writePacketTooBig(frame, ip, ipLength, mtu, out, outOffset + ETHERNET_HEADER_LENGTH);
  else return 0;
  if (written === 0) return 0;
  // Ethernet: back to the sender, from the MAC it was sending to.
  writeMac(out, outOffset, readMac(frame, offset + 6));
  writeMac(out, outOffset + 6, readMac(frame, offset));
  out[outOffset + 12] = etherType >>> 8;
  out[outOffset + 13] = etherType & 0xff;
  return ETHERNET_HEADER_LENGTH + written;
}

function isIcmpv4Error(type: number): boolean {
  // RFC 1122 3.2.2: no ICMP error about an ICMP error (unreachable, source quench, redirect, time exceeded, parameter problem).
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** The IPv4 packet of an ICMP Fragmentation Needed answer, at out[at]. Returns its length or 0. */
function writeFragmentationNeeded(frame: Uint8Array, ip: number, ipLength: number, mtu: number, out: Uint8Array, at: number): number {
  if (ipLength < IPV4_HEADER_LENGTH || frame[ip]! >>> 4 !== 4) return 0;
  const headerLength = (frame[ip]! & 0x0f) * 4;
  const totalLength = (frame[ip + 2]! << 8) | frame[ip + 3]!;
  if (headerLength < IPV4_HEADER_LENGTH || totalLength < headerLength || totalLength > ipLength) return 0;
  const flagsFragment = (frame[ip + 6]! << 8) | frame[ip + 7]!;
  // RFC 1191: only a packet with DF set asks for this answer; RFC 1122: never for a non-first fragment.
  if ((flagsFragment & IPV4_FLAG_DF) === 0 || (flagsFragment & 0x1fff) !== 0) return 0;
  const source0 = frame[ip + 12]!;
  if (source0 === 0 || source0 >= 224 || source0 === 127) return 0;
  if (frame[ip + 16]! >= 224) return 0;
  if (frame[ip + 9] === IpProtocol.ICMP) {
    if (totalLength < headerLength + 1 || isIcmpv4Error(frame[ip + headerLength]!)) return 0;
  }
  const quoted = Math.min(totalLength, ICMPV4_ERROR_MAX_LENGTH - IPV4_HEADER_LENGTH - 8);
  const replyLength = IPV4_HEADER_LENGTH + 8 + quoted;
  // IPv4 header, from the original destination to the original source.
  // RFC 1812 4.3.2.5: ICMP errors travel as internetwork control (TOS 0xc0, CS6).
  writeIpv4(out, at, IPV4_HEADER_LENGTH, 0xc0, replyLength, 0, 0, DEFAULT_TTL, IpProtocol.ICMP, readIpv4Address(frame, ip + 16), readIpv4Address(frame, ip + 12));
  writeIpv4Checksum(out, at);
  // ICMP: type 3 code 4, unused, next-hop MTU (RFC 1191 4), then the quoted packet.
  const icmp = at + IPV4_HEADER_LENGTH;
  const nextHopMtu = mtu > 0xffff ? 0xffff : mtu;
  out[icmp] = ICMP_DESTINATION_UNREACHABLE;
  out[icmp + 1] = ICMP_FRAGMENTATION_NEEDED;
  out[icmp + 2] = 0;
  out[icmp + 3] = 0;
  out[icmp + 4] = 0;
  out[icmp + 5] = 0;
  out[icmp + 6] = nextHopMtu >>> 8;
  out[icmp + 7] = nextHopMtu & 0xff;
  out.set(frame.subarray(ip, ip + quoted), icmp + 8);
  const icmpChecksum = internetChecksum(out, icmp, 8 + quoted);
  out[icmp + 2] = icmpChecksum >>> 8;
  out[icmp + 3] = icmpChecksum & 0xff;
  return replyLength;
}

/** The IPv6 packet of an ICMPv6 Packet Too Big answer, at out[at]. Returns its length or 0. */
function writePacketTooBig(frame: Uint8Array, ip: number, ipLength: number, mtu: number, out: Uint8Array, at: number): number {
  if (ipLength < IPV6_HEADER_LENGTH || frame[ip]! >>> 4 !== 6) return 0;
  const payloadLength = (frame[ip + 4]! << 8) | frame[ip + 5]!;
  if (IPV6_HEADER_LENGTH + payloadLength > ipLength) return 0;
  // RFC 4443 2.4 (e): not to a multicast or unspecified source; a multicast destination cannot be our source either.
  if (frame[ip + 8] === 0xff || frame[ip + 24] === 0xff) return 0;
  let unspecified = true;
  for (let i = 0; i < 16; i++) if (frame[ip + 8 + i] !== 0) unspecified = false;
  if (unspecified) return 0;
  // RFC 4443 2.4 (e.1): no error about an error message (types 0..127), when it is the first header.
  if (frame[ip + 6] === IpProtocol.ICMPV6 && payloadLength >= 1 && frame[ip + IPV6_HEADER_LENGTH]! < 128) return 0;
  const original = IPV6_HEADER_LENGTH + payloadLength;
  const quoted = Math.min(original, ICMPV6_ERROR_MAX_LENGTH - IPV6_HEADER_LENGTH - 8);
  const icmpLength = 8 + quoted;
  writeIpv6(out, at, 0, 0, icmpLength, IpProtocol.ICMPV6, DEFAULT_TTL);
  out.set(frame.subarray(ip + 24, ip + 40), at + 8);
  out.set(frame.subarray(ip + 8, ip + 24), at + 24);
  const icmp = at + IPV6_HEADER_LENGTH;
  out[icmp] = ICMPV6_PACKET_TOO_BIG;
  out[icmp + 1] = 0;
  out[icmp + 2] = 0;
  out[icmp + 3] = 0;
  // RFC 4443 3.2: the MTU, 32 bits.
  out[icmp + 4] = (mtu >>> 24) & 0xff;
  out[icmp + 5] = (mtu >>> 16) & 0xff;
  out[icmp + 6] = (mtu >>> 8) & 0xff;
  out[icmp + 7] = mtu & 0xff;
  out.set(frame.subarray(ip, ip + quoted), icmp + 8);
  writeIcmpv6Checksum(out, icmp, icmpLength, icmpv6PseudoHeaderSum(out, out, icmpLength, at + 8, at + 24));
  return IPV6_HEADER_LENGTH + icmpLength;
}
