/**
 * Errors and status codes shared by every codec in `wire/`.
 *
 * Each codec has two decoders:
 *  - a friendly one (`decodeX`) that returns a fresh object and throws {@link WireError};
 *  - a datapath one (`readX`) that fills a caller-owned object and returns a
 *    {@link WireStatus} number, so a flood of garbage costs no exceptions and no allocation.
 */

/** Numeric status returned by the non-throwing decoders. 0 is success. */
export const WireStatus = {
  OK: 0,
  TRUNCATED: 1,
  BAD_FLAGS: 2,
  BAD_LENGTH: 3,
  BAD_VERSION: 4,
  BAD_CHECKSUM: 5,
  BAD_VALUE: 6,
  UNKNOWN_CRITICAL_OPTION: 7,
  NO_ROOM: 8,
  BAD_PADDING: 9,
  UNSUPPORTED: 10,
} as const;
export type WireStatus = (typeof WireStatus)[keyof typeof WireStatus];

/** The stable string codes carried by {@link WireError}. */
export type WireErrorCode = Exclude<keyof typeof WireStatus, 'OK'>;

const CODE_BY_STATUS: readonly WireErrorCode[] = [
  'TRUNCATED', // placeholder for index 0, never used
  'TRUNCATED',
  'BAD_FLAGS',
  'BAD_LENGTH',
  'BAD_VERSION',
  'BAD_CHECKSUM',
  'BAD_VALUE',
  'UNKNOWN_CRITICAL_OPTION',
  'NO_ROOM',
  'BAD_PADDING',
  'UNSUPPORTED',
];

/** Name of a non-zero status, for counters and messages. */
export function wireStatusName(status: number): WireErrorCode | 'OK' {
  if (status === 0) return 'OK';
  return CODE_BY_STATUS[status] ?? 'BAD_VALUE';
}

/** A malformed or truncated packet, or a value that does not fit its field. */
export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    /** Byte offset (in the buffer passed to the codec) where the problem was found. */
    readonly offset: number,
    message: string,
  ) {
    super(`${code} at offset ${offset}: ${message}`);
  }

  /** Build the error for a status returned by a non-throwing decoder. */
  static fromStatus(status: number, offset: number, what: string): WireError {
    const code = wireStatusName(status);
    return new WireError(code === 'OK' ? 'BAD_VALUE' : code, offset, what);
  }
}

/** Throws TRUNCATED unless `length` bytes are readable at `offset`. */
export function need(buf: Uint8Array, offset: number, length: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > buf.length) {
    throw new WireError('TRUNCATED', offset, `${what} needs ${length} bytes, ${Math.max(0, buf.length - offset)} available`);
  }
}

/** Throws BAD_VALUE unless `value` is an integer in [0, max]. */
export function checkField(value: number, max: number, field: string, offset: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new WireError('BAD_VALUE', offset, `${field} must be an integer in 0..${max}, got ${value}`);
  }
}
