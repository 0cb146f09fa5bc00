/**
 * A fast hash of an inner Ethernet frame's flow, for the outer UDP source port.
 *
 * RFC 7348 5: "it is recommended that the UDP source port number be calculated
 * using a hash of fields from the inner packet", so that ECMP in the underlay
 * spreads flows while keeping each flow on one path. RFC 8926 3.3 asks the same
 * of Geneve. The hash covers the inner MAC addresses and EtherType, and, for
 * IPv4/IPv6, the addresses, the protocol and (TCP/UDP/SCTP, unfragmented) ports.
 *
 * Multiply-xorshift mixing with MurmurHash3's finalizer; allocation-free,
 * never reads past `offset + length`.
 */

import { dataViewOf } from './view.js';

/** The hash is 30 bits wide, so V8 keeps it a small integer: returning it never allocates. */
export const FLOW_HASH_BITS = 30;
const HASH_RANGE = 2 ** FLOW_HASH_BITS;

function mix(hash: number, word: number): number {
  hash = Math.imul(hash ^ word, 0x9e3779b1);
  return hash ^ (hash >>> 15);
}

function finalMix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 2;
}

function hasPorts(protocol: number): boolean {
  return protocol === 6 || protocol === 17 || protocol === 132 || protocol === 136;
}

/**
 * 30-bit hash of the inner frame's flow. For IPv4 and IPv6 it covers the
 * addresses, the protocol and the ports (as Linux's flow dissector does);
 * for other EtherTypes the MAC addresses and the EtherType.
 */
export function flowHash(buf: Uint8Array, offset: number, length: number, seed = 0): number {
  const end = Math.min(offset + length, buf.length);
  let hash = seed | 0;
  if (offset < 0 || offset + 14 > end) return finalMix(hash);
  const view = dataViewOf(buf);
  const base = buf.byteOffset;
  let etherType = view.getUint16(base + offset + 12);
  let l3 = offset + 14;
  let vlan = 0;
  if (etherType === 0x8100 && l3 + 4 <= end) {
    vlan = view.getUint16(base + l3) & 0x0fff;
    etherType = view.getUint16(base + l3 + 2);
    l3 += 4;
  }
  hash = mix(hash, (etherType << 12) | vlan);
  if (etherType === 0x0800 && l3 + 20 <= end) {
    const headerLength = (buf[l3]! & 0x0f) << 2;
    const protocol = buf[l3 + 9]!;
    hash = mix(hash, view.getInt32(base + l3 + 12));
    hash = mix(hash, view.getInt32(base + l3 + 16));
    // Only an unfragmented packet (offset 0, MF clear) carries the ports.
    const fragmented = (view.getUint16(base + l3 + 6) & 0x3fff) !== 0;
    const l4 = l3 + headerLength;
    if (!fragmented && headerLength >= 20 && hasPorts(protocol) && l4 + 4 <= end) hash = mix(hash, view.getInt32(base + l4));
    return finalMix(mix(hash, protocol));
  }
  if (etherType === 0x86dd && l3 + 40 <= end) {
    for (let at = l3 + 8; at < l3 + 40; at += 4) hash = mix(hash, view.getInt32(base + at));
    const nextHeader = buf[l3 + 6]!;
    // The flow label, when the sender set one, identifies the flow (RFC 6437).
    hash = mix(hash, view.getInt32(base + l3) & 0xfffff);
    if (hasPorts(nextHeader) && l3 + 44 <= end) hash = mix(hash, view.getInt32(base + l3 + 40));
    return finalMix(mix(hash, nextHeader));
  }
  hash = mix(hash, view.getInt32(base + offset));
  hash = mix(hash, view.getInt32(base + offset + 4));
  hash = mix(hash, view.getInt32(base + offset + 8));
  return finalMix(hash);
}

/** Maps a 30-bit flow hash into [min, max] by multiply-shift (as Linux's udp_flow_src_port), without modulo bias. */
export function hashToPort(hash: number, min: number, max: number): number {
  return min + Math.floor((hash * (max - min + 1)) / HASH_RANGE);
}
