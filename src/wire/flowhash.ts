/**
 * A fast hash of an inner Ethernet frame's flow, for the outer UDP source port.
 *
 * RFC 7348 5: "it is recommended that the UDP source port number be calculated
 * using a hash of fields from the inner packet", so that ECMP in the underlay
 * spreads flows while keeping each flow on one path. RFC 8926 3.3 asks the same
 * of Geneve. The hash covers the inner MAC addresses and EtherType, and, for
 * IPv4/IPv6, the addresses, the protocol and (TCP/UDP/SCTP, unfragmented) ports.
 *
 * One multiply per 32-bit word, then a strong finalizer; allocation-free,
 * never reads past `offset + length`.
 */

/** The hash is 30 bits wide, so V8 keeps it a small integer: returning it never allocates. */
export const FLOW_HASH_BITS = 30;

function mix(hash: number, word: number): number {
  return Math.imul(hash ^ word, 0x9e3779b1);
}

/** lowbias32's finalizer (Chris Wellons' hash-prospector), kept to 30 bits. */
function finalMix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x7feb352d);
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x846ca68b);
  hash ^= hash >>> 16;
  return hash >>> 2;
}

function word32(buf: Uint8Array, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

function hasPorts(protocol: number): boolean {
  return protocol === 6 || protocol === 17 || protocol === 132 || protocol === 136;
}

/**
 * 30-bit hash of the inner frame's flow. For IPv4 and IPv6 it covers the
 * addresses, the protocol and the ports (as Linux's flow dissector does);
 * for other EtherTypes the MAC addresses and the EtherType. The IPv4 path is
 * kept small so that V8 inlines it into the encapsulation loop.
 */
export function flowHash(buf: Uint8Array, offset: number, length: number): number {
  const end = offset + length;
  if (!(offset >= 0 && length >= 14 && end <= buf.length)) return 0;
  const etherType = (buf[offset + 12]! << 8) | buf[offset + 13]!;
  const l3 = offset + 14;
  if (etherType !== 0x0800 || l3 + 20 > end) return otherFlowHash(buf, offset, end, etherType);
  const headerLength = (buf[l3]! & 0x0f) << 2;
  const protocol = buf[l3 + 9]!;
  // Only an unfragmented packet (offset 0, MF clear) carries the ports.
  let ports = 0;
  const l4 = l3 + headerLength;
  if (hasPorts(protocol) && (((buf[l3 + 6]! & 0x3f) << 8) | buf[l3 + 7]!) === 0 && headerLength >= 20 && l4 + 4 <= end) {
    ports = word32(buf, l4);
  }
  // Three independent multiplies rather than a chain of them: the hash is on the
  // packet's critical path, and this shortens it. The finalizer mixes them.
  return finalMix(Math.imul(word32(buf, l3 + 12) ^ protocol, 0x9e3779b1) ^ Math.imul(word32(buf, l3 + 16), 0x85ebca77) ^ Math.imul(ports, 0xc2b2ae3d));
}

/** 802.1Q-tagged, IPv6 and non-IP frames. */
function otherFlowHash(buf: Uint8Array, offset: number, end: number, etherType: number): number {
  let l3 = offset + 14;
  let hash = 0;
  if (etherType === 0x8100 && l3 + 4 <= end) {
    // Hash the frame behind the tag, with the VLAN ID mixed in.
    const vid = ((buf[l3]! << 8) | buf[l3 + 1]!) & 0x0fff;
    etherType = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
    l3 += 4;
    if (etherType === 0x0800 && l3 + 20 <= end) {
      const headerLength = (buf[l3]! & 0x0f) << 2;
      const protocol = buf[l3 + 9]!;
      hash = mix(mix(mix(vid, protocol), word32(buf, l3 + 12)), word32(buf, l3 + 16));
      const l4 = l3 + headerLength;
      if (hasPorts(protocol) && (((buf[l3 + 6]! & 0x3f) << 8) | buf[l3 + 7]!) === 0 && headerLength >= 20 && l4 + 4 <= end) {
        hash = mix(hash, word32(buf, l4));
      }
      return finalMix(hash);
    }
    hash = vid;
  }
  if (etherType === 0x86dd && l3 + 40 <= end) {
    const nextHeader = buf[l3 + 6]!;
    // The flow label, when the sender set one, identifies the flow (RFC 6437).
    hash = mix(hash ^ nextHeader, word32(buf, l3) & 0xfffff);
    for (let at = l3 + 8; at < l3 + 40; at += 4) hash = mix(hash, word32(buf, at));
    if (hasPorts(nextHeader) && l3 + 44 <= end) hash = mix(hash, word32(buf, l3 + 40));
    return finalMix(hash);
  }
  hash = mix(hash ^ etherType, word32(buf, offset));
  hash = mix(hash, word32(buf, offset + 4));
  hash = mix(hash, word32(buf, offset + 8));
  return finalMix(hash);
}

/** Maps a 30-bit flow hash into [min, max] by multiply-shift (as Linux's udp_flow_src_port), without modulo bias. */
export function hashToPort(hash: number, min: number, max: number): number {
  // The top 16 bits of the hash times the range, over 2^16: integer operations only
  // (the floating-point multiply, division and floor were on the critical path).
  return min + (Math.imul((hash >>> 14) & 0xffff, max - min + 1) >>> 16);
}
