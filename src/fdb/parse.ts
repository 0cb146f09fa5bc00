/**
 * Validation of what the friendly methods receive: every failure is an
 * FdbError('BAD_VALUE') naming the field and the allowed values.
 */
import { WireError } from '../wire/errors.js';
import { MAC_BROADCAST, parseMac } from '../wire/ethernet.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { parseIpv6 } from '../wire/ipv6.js';
import { DESTINATION_IPV4, DESTINATION_IPV6, DESTINATION_LOCAL, SAME_VNI } from './destinations.js';
import { FdbError, checkInteger, describe } from './errors.js';

export const VNI_MAX = 0xffffff;
export const PORT_MAX = 0xffff;

/** A MAC as text (`02:00:00:00:00:01`, `-` separators too) or as a 48-bit number. */
export function parseMacInput(value: unknown, field: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= MAC_BROADCAST) return value;
    throw new FdbError('BAD_VALUE', field, `must be a MAC address (text like 02:00:00:00:00:01, or an integer in 0..2^48-1), got ${describe(value)}`);
  }
  try {
    return parseMac(value as string);
  } catch (error) {
    if (error instanceof WireError) {
      throw new FdbError('BAD_VALUE', field, `must be a MAC address like 02:00:00:00:00:01, got ${describe(value)}`);
    }
    throw error;
  }
}

export function parseVni(value: unknown, field = 'vni'): number {
  return checkInteger(value, 0, VNI_MAX, field);
}

/** An IPv4 or IPv6 address as text: the destination kind and four 32-bit words. */
export interface ParsedAddress {
  kind: number;
  words: [number, number, number, number];
}

export function parseAddress(value: unknown, field: string): ParsedAddress {
  if (typeof value !== 'string') throw new FdbError('BAD_VALUE', field, `must be an IPv4 or IPv6 address as text, got ${describe(value)}`);
  try {
    if (value.includes(':')) {
      const bytes = parseIpv6(value);
      const word = (i: number): number => (bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!;
      return { kind: DESTINATION_IPV6, words: [word(0), word(4), word(8), word(12)] };
    }
    return { kind: DESTINATION_IPV4, words: [parseIpv4(value) | 0, 0, 0, 0] };
  } catch (error) {
    if (error instanceof WireError) throw new FdbError('BAD_VALUE', field, `must be an IPv4 or IPv6 address, got ${describe(value)}`);
    throw error;
  }
}

/** True for 0.0.0.0 and :: (Linux treats them as "no address"). */
export function isUnspecified(address: ParsedAddress): boolean {
  return (address.words[0] | address.words[1] | address.words[2] | address.words[3]) === 0;
}

/** Where an entry sends frames, before interning. */
export interface DestinationKey {
  kind: number;
  words: [number, number, number, number];
  /** UDP port of a remote; local port number of a local destination. */
  port: number;
  remoteVni: number;
  via: string | undefined;
}

export interface DestinationInput {
  dst?: unknown;
  localPort?: unknown;
  port?: unknown;
  vni?: unknown;
  via?: unknown;
}

/**
 * The destination fields of an add/append/replace/del request. `entryVni` is the
 * table the entry lives in: a remote VNI equal to it is the same as none (as Linux,
 * where it equals the device's default). Returns undefined when neither `dst` nor
 * `localPort` is given.
 */
export function parseDestination(input: DestinationInput, entryVni: number, defaultPort: number, prefix: string): DestinationKey | undefined {
  const hasDst = input.dst !== undefined;
  const hasLocal = input.localPort !== undefined;
  if (hasDst && hasLocal) throw new FdbError('BAD_VALUE', `${prefix}dst`, 'give either dst (a remote VTEP) or localPort (a local port), not both');
  if (!hasDst && !hasLocal) {
    for (const name of ['port', 'vni', 'via'] as const) {
      if (input[name] !== undefined) throw new FdbError('BAD_VALUE', `${prefix}${name}`, `${name} needs dst`);
    }
    return undefined;
  }
  if (hasLocal) {
    const localPort = checkInteger(input.localPort, 0, 0x7fffffff, `${prefix}localPort`);
    for (const name of ['port', 'vni', 'via'] as const) {
      if (input[name] !== undefined) throw new FdbError('BAD_VALUE', `${prefix}${name}`, `${name} applies to a remote (dst), not to a localPort`);
    }
    return { kind: DESTINATION_LOCAL, words: [0, 0, 0, 0], port: localPort, remoteVni: SAME_VNI, via: undefined };
  }
  const address = parseAddress(input.dst, `${prefix}dst`);
  if (isUnspecified(address)) throw new FdbError('BAD_VALUE', `${prefix}dst`, 'must not be the unspecified address (0.0.0.0 or ::)');
  const port = input.port === undefined ? defaultPort : checkInteger(input.port, 1, PORT_MAX, `${prefix}port`);
  const remoteVni = input.vni === undefined ? SAME_VNI : parseVni(input.vni, `${prefix}vni`);
  let via: string | undefined;
  if (input.via !== undefined) {
    if (typeof input.via !== 'string' || input.via.length === 0 || input.via.length > 15 || /[\s/:]/.test(input.via)) {
      throw new FdbError('BAD_VALUE', `${prefix}via`, `must be an interface name (1..15 characters, no spaces, '/' or ':'), got ${describe(input.via)}`);
    }
    via = input.via;
  }
  return { kind: address.kind, words: address.words, port, remoteVni: remoteVni === entryVni ? SAME_VNI : remoteVni, via };
}

export type EntryState = 'permanent' | 'static' | 'dynamic';

export function parseState(value: unknown, field: string, fallback: EntryState): EntryState {
  if (value === undefined) return fallback;
  if (value === 'permanent' || value === 'static' || value === 'dynamic') return value;
  throw new FdbError('BAD_VALUE', field, `must be 'permanent', 'static' or 'dynamic', got ${describe(value)}`);
}

/** Rejects keys a request or a JSON row does not know (typos like `src-vni`). */
export function checkKeys(value: object, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new FdbError('BAD_VALUE', field === '' ? key : `${field}.${key}`, `unknown field; allowed: ${allowed.join(', ')}`);
    }
  }
}

export function checkObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FdbError('BAD_VALUE', field, `must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}
