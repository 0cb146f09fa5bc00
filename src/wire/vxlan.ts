/**
 * VXLAN header (RFC 7348 5) with the Group Based Policy extension
 * (draft-smith-vxlan-group-policy).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |G|R|R|R|I|R|R|R|R|D|R|R|A|R|R|R|        Group Policy ID        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          VXLAN Network Identifier (VNI)       |   Reserved    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import { WireError, WireStatus, checkField, need } from './errors.js';

export const VXLAN_HEADER_LENGTH = 8;
/** IANA-assigned VXLAN UDP port (RFC 7348 5). */
export const VXLAN_PORT = 4789;
/** The port the Linux driver used before IANA assigned 4789. */
export const VXLAN_LINUX_LEGACY_PORT = 8472;
export const VXLAN_VNI_MAX = 0xffffff;

/** RFC 7348 5: I flag, "MUST be set to 1 for a valid VXLAN Network ID". */
export const VXLAN_FLAG_I = 0x08;
/** GBP: G bit, a Group Policy ID is carried. */
export const VXLAN_FLAG_G = 0x80;
/** GBP: D bit (byte 1), the receiving VTEP must not learn the source address. */
export const VXLAN_GBP_DONT_LEARN = 0x40;
/** GBP: A bit (byte 1), the policy has already been applied. */
export const VXLAN_GBP_APPLIED = 0x08;

export interface VxlanGbp {
  policyId: number;
  dontLearn: boolean;
  applied: boolean;
}

export interface VxlanHeader {
  vni: number;
  /** The 8 flag bits of byte 0. On encode, defaults to I (plus G when `gbp` is given). */
  flags?: number;
  gbp?: VxlanGbp;
}

export interface DecodedVxlan {
  vni: number;
  flags: number;
  gbp?: VxlanGbp;
}

export interface VxlanDecodeOptions {
  /** Ignore reserved bits instead of rejecting them (RFC 7348 5: "ignored on receipt"). Default false. */
  lenient?: boolean;
  /** Interpret the G bit and the policy fields (GBP extension). Default true. */
  gbp?: boolean;
}

/** Mode bits for {@link readVxlan}. */
export const VXLAN_READ_LENIENT = 1;
export const VXLAN_READ_GBP = 2;

/** Caller-owned result object for {@link readVxlan}: one per receive loop, reused per packet. */
export class VxlanFields {
  vni = 0;
  flags = 0;
  gbp = false;
  policyId = 0;
  dontLearn = false;
  applied = false;
}

/** Writes an 8-byte VXLAN header. Returns the bytes written (8). Throws WireError on a bad field or no room. */
export function encodeVxlan(h: VxlanHeader, buf: Uint8Array, offset: number): number {
  need(buf, offset, VXLAN_HEADER_LENGTH, 'VXLAN header');
  checkField(h.vni, VXLAN_VNI_MAX, 'vni', offset + 4);
  let flags = h.flags ?? VXLAN_FLAG_I;
  checkField(flags, 0xff, 'flags', offset);
  let byte1 = 0;
  let policyId = 0;
  if (h.gbp !== undefined) {
    checkField(h.gbp.policyId, 0xffff, 'gbp.policyId', offset + 2);
    flags |= VXLAN_FLAG_G;
    if (h.gbp.dontLearn) byte1 |= VXLAN_GBP_DONT_LEARN;
    if (h.gbp.applied) byte1 |= VXLAN_GBP_APPLIED;
    policyId = h.gbp.policyId;
  }
  writeVxlan(buf, offset, h.vni, flags, byte1, policyId);
  return VXLAN_HEADER_LENGTH;
}

/**
 * Datapath writer: no checks, no object. The caller guarantees room and ranges.
 * `byte1` carries the GBP D/A bits, `policyId` the GBP group.
 */
export function writeVxlan(buf: Uint8Array, offset: number, vni: number, flags: number, byte1: number, policyId: number): void {
  buf[offset] = flags;
  buf[offset + 1] = byte1;
  buf[offset + 2] = policyId >>> 8;
  buf[offset + 3] = policyId & 0xff;
  buf[offset + 4] = vni >>> 16;
  buf[offset + 5] = (vni >>> 8) & 0xff;
  buf[offset + 6] = vni & 0xff;
  buf[offset + 7] = 0;
}

/**
 * Datapath reader: fills `out`, returns a WireStatus. Never throws, never allocates.
 * `end` is the first byte past the packet (so a sub-range of a pool slab can be parsed).
 */
export function readVxlan(buf: Uint8Array, offset: number, end: number, mode: number, out: VxlanFields): number {
  if (!(offset >= 0 && offset + VXLAN_HEADER_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  const flags = buf[offset]!;
  const byte1 = buf[offset + 1]!;
  // RFC 7348 5: the I flag MUST be set for a valid VNI.
  if ((flags & VXLAN_FLAG_I) === 0) return WireStatus.BAD_FLAGS;
  const gbp = (mode & VXLAN_READ_GBP) !== 0 && (flags & VXLAN_FLAG_G) !== 0;
  if ((mode & VXLAN_READ_LENIENT) === 0) {
    // Strict, as the Linux driver: every bit it does not understand must be zero,
    // including the reserved byte after the VNI.
    const knownFlags = gbp ? VXLAN_FLAG_I | VXLAN_FLAG_G : VXLAN_FLAG_I;
    if ((flags & ~knownFlags) !== 0) return WireStatus.BAD_FLAGS;
    if (gbp) {
      if ((byte1 & ~(VXLAN_GBP_DONT_LEARN | VXLAN_GBP_APPLIED)) !== 0) return WireStatus.BAD_FLAGS;
    } else if ((byte1 | buf[offset + 2]! | buf[offset + 3]!) !== 0) {
      return WireStatus.BAD_FLAGS;
    }
    if (buf[offset + 7] !== 0) return WireStatus.BAD_FLAGS;
  }
  out.flags = flags;
  out.vni = (buf[offset + 4]! << 16) | (buf[offset + 5]! << 8) | buf[offset + 6]!;
  out.gbp = gbp;
  if (gbp) {
    out.policyId = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    out.dontLearn = (byte1 & VXLAN_GBP_DONT_LEARN) !== 0;
    out.applied = (byte1 & VXLAN_GBP_APPLIED) !== 0;
  } else {
    out.policyId = 0;
    out.dontLearn = false;
    out.applied = false;
  }
  return WireStatus.OK;
}

const scratch = new VxlanFields();

/** Friendly decoder: returns a fresh object, throws WireError (TRUNCATED, BAD_FLAGS). */
export function decodeVxlan(buf: Uint8Array, offset = 0, options: VxlanDecodeOptions = {}): DecodedVxlan {
  const mode = (options.lenient ? VXLAN_READ_LENIENT : 0) | (options.gbp === false ? 0 : VXLAN_READ_GBP);
  const status = readVxlan(buf, offset, buf.length, mode, scratch);
  if (status !== WireStatus.OK) {
    const reason = status === WireStatus.TRUNCATED ? 'VXLAN header needs 8 bytes' : 'I flag clear or reserved bits set';
    throw WireError.fromStatus(status, offset, reason);
  }
  const result: DecodedVxlan = { vni: scratch.vni, flags: scratch.flags };
  if (scratch.gbp) {
    result.gbp = { policyId: scratch.policyId, dontLearn: scratch.dontLearn, applied: scratch.applied };
  }
  return result;
}
