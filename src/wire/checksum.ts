/**
 * The Internet checksum (RFC 1071) and the pseudo-header sums of UDP over IPv4
 * (RFC 768) and IPv6 (RFC 8200 8.1), plus the incremental update of RFC 1624.
 *
 * Sums are kept unfolded in a double (exact up to 2^53, far beyond any packet)
 * and folded once at the end.
 */

/**
 * One's-complement sum of `length` bytes at `offset`, as 16-bit big-endian words,
 * added to `initial`. An odd last byte is padded with zero (RFC 1071 4.1).
 * Returns the sum folded to 16 bits (not complemented).
 */
export function onesComplementSum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  const end = offset + (length & ~1);
  let i = offset;
  // Four words per iteration: fewer loop checks on 1500-byte payloads.
  for (; i + 8 <= end; i += 8) {
    sum += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!)
      + ((buf[i + 4]! << 8) | buf[i + 5]!) + ((buf[i + 6]! << 8) | buf[i + 7]!);
  }
  for (; i < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if ((length & 1) !== 0) sum += buf[end]! << 8;
  return foldChecksum(sum);
}

/** Folds a non-negative sum to 16 bits with end-around carry. */
export function foldChecksum(sum: number): number {
  if (sum <= 0x7fffffff) {
    // Two integer folds suffice below 2^31 (the usual case: up to 32 K words).
    sum = (sum & 0xffff) + (sum >>> 16);
    return (sum & 0xffff) + (sum >>> 16);
  }
  // A double sum may exceed 32 bits: fold the high part arithmetically first.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** RFC 1071: the complemented one's-complement sum, ready to be stored in a header. */
export function internetChecksum(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  return ~onesComplementSum(buf, offset, length, initial) & 0xffff;
}

/** RFC 768: pseudo-header sum for UDP/TCP over IPv4 (addresses as 32-bit numbers). */
export function ipv4PseudoHeaderSum(source: number, destination: number, protocol: number, length: number): number {
  return (source >>> 16) + (source & 0xffff) + (destination >>> 16) + (destination & 0xffff) + protocol + length;
}

/** RFC 768: the same sum with the addresses read from an IPv4 header at `ipOffset` (no 32-bit numbers involved). */
export function ipv4PseudoHeaderSumAt(buf: Uint8Array, ipOffset: number, protocol: number, length: number): number {
  let sum = protocol + length;
  for (let i = ipOffset + 12; i < ipOffset + 20; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  return sum;
}

/**
 * RFC 8200 8.1: pseudo-header sum for upper layers over IPv6. Addresses are read
 * from buffers (16 bytes each at the given offsets), so a parsed packet needs no copy.
 */
export function ipv6PseudoHeaderSum(
  source: Uint8Array,
  sourceOffset: number,
  destination: Uint8Array,
  destinationOffset: number,
  nextHeader: number,
  length: number,
): number {
  let sum = nextHeader + (length >>> 16) + (length & 0xffff);
  for (let i = 0; i < 16; i += 2) {
    sum += (source[sourceOffset + i]! << 8) | source[sourceOffset + i + 1]!;
    sum += (destination[destinationOffset + i]! << 8) | destination[destinationOffset + i + 1]!;
  }
  return sum;
}

/**
 * RFC 1624 3 (eqn. 3): the checksum after one 16-bit word of the covered data
 * changed from `oldWord` to `newWord`, without summing the data again.
 */
export function checksumAdjust(checksum: number, oldWord: number, newWord: number): number {
  const sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldChecksum(sum) & 0xffff;
}
