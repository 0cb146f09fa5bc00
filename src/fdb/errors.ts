/**
 * Errors of the forwarding database's friendly methods (add, append, replace,
 * del, load, configure). The datapath methods (lookup, forward, learn, sweep)
 * never throw: they return numbers.
 */

/** The stable string codes carried by {@link FdbError}. */
export type FdbErrorCode =
  /** `add` of an entry that exists (Linux: EEXIST, "File exists"). */
  | 'EXISTS'
  /** `del` of an entry that does not exist (Linux: ENOENT). */
  | 'NOT_FOUND'
  /** A limit is reached: entries per VNI or in total, destinations per entry, neighbours (Linux: ENOSPC). */
  | 'LIMIT'
  /** A valid request the semantics refuse: `replace` of the all-zeros or a multicast MAC (Linux: EOPNOTSUPP). */
  | 'NOT_SUPPORTED'
  /** A field is missing, of the wrong type or out of range; the message names the field and the allowed values. */
  | 'BAD_VALUE';

export class FdbError extends Error {
  override readonly name = 'FdbError';
  constructor(
    readonly code: FdbErrorCode,
    /** The offending field (`mac`, `dst`, `fdb[3].port`, …), when there is one. */
    readonly field: string | undefined,
    message: string,
  ) {
    super(field === undefined ? `${code}: ${message}` : `${code} (${field}): ${message}`);
  }
}

/** Throws BAD_VALUE unless `value` is an integer in [min, max]. */
export function checkInteger(value: unknown, min: number, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new FdbError('BAD_VALUE', field, `must be an integer in ${min}..${max}, got ${describe(value)}`);
  }
  return value;
}

/** Throws BAD_VALUE unless `value` is a boolean (or undefined, giving `fallback`). */
export function checkBoolean(value: unknown, fallback: boolean, field: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new FdbError('BAD_VALUE', field, `must be true or false, got ${describe(value)}`);
  return value;
}

/** A short, safe rendering of any value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
