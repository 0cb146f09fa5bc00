/**
 * A fast hash of an inner Ethernet frame's flow, for the outer UDP source port.
 *
 * RFC 7348 5: "it is recommended that the UDP source port number be calculated
 * using a hash of fields from the inner packet", so that ECMP in the underlay
 * spreads flows while keeping each flow on one path. RFC 8926 3.3 asks the same
 * of Geneve. The hash covers the inner MAC addresses and EtherType, and, for
 * IPv4/IPv6, the addresses, the protocol and (TCP/UDP/SCTP, unfragmented) ports.
 *
 * MurmurHash3's 32-bit mixing steps; allocation-free, never reads past `offset + length`.
 */

function mix(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  hash ^= k;
  hash = (hash << 13) | (hash >>> 19);
  return (Math.imul(hash, 5) + 0xe6546b64) | 0;
}

function finalMix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

function word32(buf: Uint8Array, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

function hasPorts(protocol: number): boolean {
  return protocol === 6 || protocol === 17 || protocol === 132 || protocol === 136;
}

/** 32-bit unsigned hash of the inner frame's flow. */
export function flowHash(buf: Uint8Array, offset: number, length: number, seed = 0): number {
  const end = Math.min(offset + length, buf.length);
  let hash = seed | 0;
  if (offset < 0 || offset + 14 > end) return finalMix(hash);
  hash = mix(hash, word32(buf, offset));
  hash = mix(hash, word32(buf, offset + 4));
  hash = mix(hash, word32(buf, offset + 8));
  let etherType = (buf[offset + 12]! << 8) | buf[offset + 13]!;
  let l3 = offset + 14;
  if (etherType === 0x8100 && l3 + 4 <= end) {
    hash = mix(hash, ((buf[l3]! & 0x0f) << 8) | buf[l3 + 1]!);
    etherType = (buf[l3 + 2]! << 8) | buf[l3 + 3]!;
    l3 += 4;
  }
  hash = mix(hash, etherType);
  if (etherType === 0x0800 && l3 + 20 <= end) {
    const headerLength = (buf[l3]! & 0x0f) << 2;
    const protocol = buf[l3 + 9]!;
    hash = mix(hash, word32(buf, l3 + 12));
    hash = mix(hash, word32(buf, l3 + 16));
    hash = mix(hash, protocol);
    // Only the first fragment (offset 0, MF clear) carries the ports.
    const fragmented = ((buf[l3 + 6]! & 0x3f) | buf[l3 + 7]!) !== 0;
    const l4 = l3 + headerLength;
    if (!fragmented && headerLength >= 20 && hasPorts(protocol) && l4 + 4 <= end) hash = mix(hash, word32(buf, l4));
  } else if (etherType === 0x86dd && l3 + 40 <= end) {
    for (let at = l3 + 8; at < l3 + 40; at += 4) hash = mix(hash, word32(buf, at));
    const nextHeader = buf[l3 + 6]!;
    hash = mix(hash, nextHeader);
    // The flow label, when the sender set one, identifies the flow (RFC 6437).
    hash = mix(hash, word32(buf, l3) & 0xfffff);
    if (hasPorts(nextHeader) && l3 + 44 <= end) hash = mix(hash, word32(buf, l3 + 40));
  }
  return finalMix(hash);
}

/** Maps a 32-bit hash into [min, max] the way Linux's udp_flow_src_port does (multiply-shift, no modulo bias). */
export function hashToPort(hash: number, min: number, max: number): number {
  return min + Math.floor(((hash >>> 0) * (max - min + 1)) / 0x1_0000_0000);
}
