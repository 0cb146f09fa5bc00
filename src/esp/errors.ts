/**
 * Status codes, counters and the typed error of the ESP layer.
 *
 * The datapath methods (`sealBuffer`, `openBuffer`, `sealPayload`, `openPayload`,
 * `SaDatabase.openBuffer`, `SecurityPolicy.protect`) never throw: they return an
 * {@link EspStatus} number and count it in an {@link EspStats}. The friendly methods
 * (`seal`, `open`) and the constructors throw {@link EspError}.
 */

/** Numeric result of a datapath call. 0 is success; every other value is counted. */
export const EspStatus = {
  OK: 0,
  /** Fewer bytes than the headers, the IV, the smallest ciphertext and the ICV need. */
  TRUNCATED: 1,
  /** The outer IP (or UDP) header is not a valid packet for this SA: version, lengths, checksum, protocol. */
  BAD_PACKET: 2,
  /** No SA with this SPI (RFC 4303 3.4.2: discard and count). */
  UNKNOWN_SPI: 3,
  /** RFC 4303 3.4.3: a sequence number already received inside the window. */
  REPLAY: 4,
  /** RFC 4303 3.4.3: a sequence number to the left of the window (or 0). */
  TOO_OLD: 5,
  /** RFC 4303 3.4.4: the ICV does not verify. */
  BAD_ICV: 6,
  /** RFC 4303 2.4: padding bytes are not 1, 2, 3, … */
  BAD_PADDING: 7,
  /** A length that does not add up: ciphertext not a whole number of blocks, Pad Length too long, inner IP length. */
  BAD_LENGTH: 8,
  /** Tunnel mode: Next Header is neither 4 (IPv4) nor 41 (IPv6), or the inner packet is not of that version. */
  BAD_NEXT_HEADER: 9,
  /** RFC 4303 2.6: a dummy packet (Next Header 59), discarded silently. */
  DUMMY: 10,
  /** A hard lifetime (packets, bytes or seconds) was reached: the SA refuses traffic. */
  HARD_LIMIT: 11,
  /** RFC 4303 3.3.3: the sequence counter would cycle; the SA refuses to send. */
  SEQ_EXHAUSTED: 12,
  /** Not enough headroom/tailroom in the buffer, or the result would exceed a 16-bit IP length. */
  NO_ROOM: 13,
  /** A valid packet of a kind not handled: IP fragment, IPv6 fragment header before ESP. */
  UNSUPPORTED: 14,
  /** RFC 3948 2.3: a NAT-keepalive (one 0xFF byte on UDP 4500), to be ignored. */
  NAT_KEEPALIVE: 15,
  /** RFC 3948 2.2: a UDP 4500 payload that starts with the non-ESP marker (IKE), not ESP. */
  NON_ESP: 16,
  /** The security policy says discard. */
  POLICY_DISCARD: 17,
} as const;
export type EspStatus = (typeof EspStatus)[keyof typeof EspStatus];

/** The names of the non-zero statuses, which are also {@link EspError} codes. */
export type EspStatusName = Exclude<keyof typeof EspStatus, 'OK'>;

/** Codes of {@link EspError}: every status name, plus configuration and table errors. */
export type EspErrorCode =
  | EspStatusName
  /** A configuration field is missing, of the wrong type or out of range; `field` names it, the message lists the allowed values. */
  | 'BAD_CONFIG'
  /** The chosen crypto backend cannot do this algorithm (node-forge has no ChaCha20-Poly1305). */
  | 'UNSUPPORTED_ALGORITHM'
  /** SaDatabase.add of an SPI that is already there. */
  | 'EXISTS'
  /** SaDatabase / SecurityPolicy is full. */
  | 'LIMIT';

const NAMES: readonly EspStatusName[] = [
  'TRUNCATED', // index 0 is OK, never looked up
  'TRUNCATED',
  'BAD_PACKET',
  'UNKNOWN_SPI',
  'REPLAY',
  'TOO_OLD',
  'BAD_ICV',
  'BAD_PADDING',
  'BAD_LENGTH',
  'BAD_NEXT_HEADER',
  'DUMMY',
  'HARD_LIMIT',
  'SEQ_EXHAUSTED',
  'NO_ROOM',
  'UNSUPPORTED',
  'NAT_KEEPALIVE',
  'NON_ESP',
  'POLICY_DISCARD',
];

/** Name of a status for messages and counters ('OK' for 0). */
export function espStatusName(status: number): EspStatusName | 'OK' {
  if (status === 0) return 'OK';
  return NAMES[status] ?? 'BAD_PACKET';
}

/** An ESP error with a stable code; `field` names the configuration field at fault, when there is one. */
export class EspError extends Error {
  override readonly name = 'EspError';
  constructor(
    readonly code: EspErrorCode,
    readonly field: string | undefined,
    message: string,
  ) {
    super(field === undefined ? `${code}: ${message}` : `${code} (${field}): ${message}`);
  }

  /** The error for a non-zero datapath status. */
  static fromStatus(status: number, message?: string): EspError {
    const name = espStatusName(status);
    const code: EspErrorCode = name === 'OK' ? 'BAD_PACKET' : name;
    return new EspError(code, undefined, message ?? STATUS_TEXT[code] ?? code);
  }
}

const STATUS_TEXT: Partial<Record<EspErrorCode, string>> = {
  TRUNCATED: 'packet too short for the headers, IV, ciphertext and ICV',
  BAD_PACKET: 'not a valid IPv4/IPv6 packet carrying ESP for this SA',
  UNKNOWN_SPI: 'no security association with this SPI',
  REPLAY: 'sequence number already received (RFC 4303 3.4.3)',
  TOO_OLD: 'sequence number left of the replay window (RFC 4303 3.4.3)',
  BAD_ICV: 'integrity check failed (RFC 4303 3.4.4)',
  BAD_PADDING: 'padding is not 1, 2, 3, … (RFC 4303 2.4)',
  BAD_LENGTH: 'lengths do not add up',
  BAD_NEXT_HEADER: 'tunnel mode carries IPv4 (4) or IPv6 (41) only',
  DUMMY: 'dummy packet (next header 59), discarded (RFC 4303 2.6)',
  HARD_LIMIT: 'the SA reached a hard lifetime limit',
  SEQ_EXHAUSTED: 'the sequence number would cycle; rekey (RFC 4303 3.3.3)',
  NO_ROOM: 'no room for the ESP headers and trailer, or the packet would exceed 65535 bytes',
  UNSUPPORTED: 'IP fragments are not protected or opened here',
  NAT_KEEPALIVE: 'NAT-keepalive (RFC 3948 2.3)',
  NON_ESP: 'non-ESP marker: an IKE message (RFC 3948 2.2)',
  POLICY_DISCARD: 'the security policy discards this packet',
};

/**
 * Counters of one SA (or of an SaDatabase / SecurityPolicy for what happens before an SA is
 * found). Plain numbers, written by the datapath, read by anyone.
 */
export class EspStats {
  /** Packets sealed and their plaintext bytes (the payload ESP protects). */
  sealed = 0;
  sealedBytes = 0;
  /** Packets opened (ICV verified, delivered) and their plaintext bytes. */
  opened = 0;
  openedBytes = 0;
  truncated = 0;
  badPacket = 0;
  unknownSpi = 0;
  replay = 0;
  tooOld = 0;
  badIcv = 0;
  badPadding = 0;
  badLength = 0;
  badNextHeader = 0;
  dummy = 0;
  hardLimit = 0;
  seqExhausted = 0;
  noRoom = 0;
  unsupported = 0;
  natKeepalive = 0;
  nonEsp = 0;
  policyDiscard = 0;
}

/** Adds one to the counter of a non-zero status. Returns the status, so `return count(stats, s)` reads well. */
export function countEspStatus(stats: EspStats, status: number): number {
  switch (status) {
    case EspStatus.TRUNCATED: stats.truncated++; break;
    case EspStatus.BAD_PACKET: stats.badPacket++; break;
    case EspStatus.UNKNOWN_SPI: stats.unknownSpi++; break;
    case EspStatus.REPLAY: stats.replay++; break;
    case EspStatus.TOO_OLD: stats.tooOld++; break;
    case EspStatus.BAD_ICV: stats.badIcv++; break;
    case EspStatus.BAD_PADDING: stats.badPadding++; break;
    case EspStatus.BAD_LENGTH: stats.badLength++; break;
    case EspStatus.BAD_NEXT_HEADER: stats.badNextHeader++; break;
    case EspStatus.DUMMY: stats.dummy++; break;
    case EspStatus.HARD_LIMIT: stats.hardLimit++; break;
    case EspStatus.SEQ_EXHAUSTED: stats.seqExhausted++; break;
    case EspStatus.NO_ROOM: stats.noRoom++; break;
    case EspStatus.UNSUPPORTED: stats.unsupported++; break;
    case EspStatus.NAT_KEEPALIVE: stats.natKeepalive++; break;
    case EspStatus.NON_ESP: stats.nonEsp++; break;
    case EspStatus.POLICY_DISCARD: stats.policyDiscard++; break;
    default: break;
  }
  return status;
}

/** A short, safe rendering of any value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Throws BAD_CONFIG for `field`. */
export function badConfig(field: string, message: string): EspError {
  return new EspError('BAD_CONFIG', field, message);
}
