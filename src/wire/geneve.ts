/**
 * Geneve header and options (RFC 8926 3.4, 3.5).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        Virtual Network Identifier (VNI)       |    Reserved   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                                                               |
 *   ~                    Variable-Length Options                    ~
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Each option is a TLV:
 *
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Option Class         |      Type     |R|R|R| Length  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   ~                  Variable-Length Option Data                  ~
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Friendly API: {@link encodeGeneve}, {@link decodeGeneve}, {@link encodingLengthGeneve}.
 *
 * Datapath, per tunnel once: `encodeGeneveOptions` into a small buffer and
 * `hasCriticalGeneveOption` for the C bit; per packet: {@link writeGeneveHeader}
 * then `buf.set(optionBytes, offset + GENEVE_HEADER_LENGTH)`.
 * Receive: {@link readGeneve} into a reused {@link GeneveFields}; then, if options
 * matter, {@link GeneveOptionCursor} or {@link GeneveOptionRegistry.checkCritical}
 * over `[optionsOffset, optionsOffset + optionsLength)`. None of these allocate or throw.
 */
import { WireError, WireStatus, checkField, need } from './errors.js';

export const GENEVE_HEADER_LENGTH = 8;
/** IANA-assigned Geneve UDP port (RFC 8926 3.3). */
export const GENEVE_PORT = 6081;
/** RFC 8926 3.4: the only defined version. */
export const GENEVE_VERSION = 0;
export const GENEVE_VNI_MAX = 0xffffff;
/** RFC 8926 3.4: Opt Len is 6 bits of 4-byte words. */
export const GENEVE_OPT_LEN_MAX = 63;
/** RFC 8926 3.4: at most 63 * 4 bytes of options follow the fixed header. */
export const GENEVE_MAX_OPTIONS_LENGTH = 252;
/** Option Class (16) + Type (8) + R (3) + Length (5). */
export const GENEVE_OPTION_HEADER_LENGTH = 4;
/** RFC 8926 3.5: Length is 5 bits of 4-byte words, so 0..124 bytes of option data. */
export const GENEVE_MAX_OPTION_DATA_LENGTH = 124;

/** Protocol Type values (Ethertypes, RFC 8926 3.4). */
export const GENEVE_PROTOCOL_ETHERNET = 0x6558; // Transparent Ethernet Bridging
export const GENEVE_PROTOCOL_IPV4 = 0x0800;
export const GENEVE_PROTOCOL_IPV6 = 0x86dd;

/** RFC 8926 3.4: O bit (byte 1), this is a control (OAM) packet. */
export const GENEVE_FLAG_OAM = 0x80;
/** RFC 8926 3.4: C bit (byte 1), one or more options has the critical bit set. */
export const GENEVE_FLAG_CRITICAL = 0x40;
/** RFC 8926 3.5: the high bit of an option Type marks it critical. */
export const GENEVE_OPTION_TYPE_CRITICAL = 0x80;

/**
 * Returned by {@link GeneveOptionCursor.next} when the walk ended exactly at the end
 * of the options area. Negative so it can never collide with a {@link WireStatus}.
 */
export const GENEVE_OPTIONS_DONE = -1;

export interface GeneveOption {
  /** 16-bit namespace of the option (IANA "Geneve Option Class"). */
  optionClass: number;
  /** 8-bit type within the class; the high bit (0x80) marks the option critical. */
  type: number;
  /** Option data: a multiple of 4 bytes, at most 124. */
  data: Uint8Array;
}

export interface GeneveHeader {
  vni: number;
  /** Ethertype of the payload. Default {@link GENEVE_PROTOCOL_ETHERNET}. */
  protocolType?: number;
  /** O bit. Default false. */
  oam?: boolean;
  /**
   * C bit. Default: true iff any option is critical. Passing `false` while a critical
   * option is present throws BAD_VALUE (RFC 8926 3.4). Passing `true` with no critical
   * option is allowed.
   */
  critical?: boolean;
  /** Only 0 is defined; anything else throws BAD_VERSION. Default 0. */
  version?: number;
  options?: readonly GeneveOption[];
}

export interface DecodedGeneveOption extends GeneveOption {
  /** `(type & 0x80) !== 0`. */
  critical: boolean;
}

export interface DecodedGeneve {
  version: number;
  oam: boolean;
  critical: boolean;
  protocolType: number;
  vni: number;
  /** 8 + Opt Len * 4: the payload starts at `offset + headerLength`. */
  headerLength: number;
  /** `data` of each option is a view into the decoded buffer, not a copy. */
  options: DecodedGeneveOption[];
}

/** Caller-owned result object for {@link readGeneve}: one per receive loop, reused per packet. */
export class GeneveFields {
  version = 0;
  /** Opt Len in bytes (0..252). */
  optionsLength = 0;
  oam = false;
  critical = false;
  protocolType = 0;
  vni = 0;
  /** 8 + optionsLength. */
  headerLength = 0;
  /** Absolute offset of the first option; the options area ends at optionsOffset + optionsLength. */
  optionsOffset = 0;
}

/** True iff any option's Type has the critical bit (RFC 8926 3.5). */
export function hasCriticalGeneveOption(options: readonly GeneveOption[]): boolean {
  for (let i = 0; i < options.length; i++) {
    if ((options[i]!.type & GENEVE_OPTION_TYPE_CRITICAL) !== 0) return true;
  }
  return false;
}

/** Validates the options and returns their encoded length. Error offsets assume they are written at `offset`. */
function checkOptions(options: readonly GeneveOption[], offset: number): number {
  let length = 0;
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const at = offset + length;
    checkField(option.optionClass, 0xffff, `options[${i}].optionClass`, at);
    checkField(option.type, 0xff, `options[${i}].type`, at + 2);
    const dataLength = option.data.length;
    // RFC 8926 3.5: Length is 5 bits counting 4-byte multiples, so the data is 0..124 bytes, a multiple of 4.
    if (dataLength % 4 !== 0 || dataLength > GENEVE_MAX_OPTION_DATA_LENGTH) {
      throw new WireError(
        'BAD_VALUE',
        at + 3,
        `options[${i}].data must be a multiple of 4 bytes, at most ${GENEVE_MAX_OPTION_DATA_LENGTH}, got ${dataLength}`,
      );
    }
    length += GENEVE_OPTION_HEADER_LENGTH + dataLength;
    // RFC 8926 3.4: Opt Len is 6 bits counting 4-byte multiples, so at most 252 bytes of options.
    if (length > GENEVE_MAX_OPTIONS_LENGTH) {
      throw new WireError(
        'BAD_VALUE',
        at,
        `options take ${length} bytes by options[${i}], at most ${GENEVE_MAX_OPTIONS_LENGTH} fit in Opt Len`,
      );
    }
  }
  return length;
}

/** Writes validated options; no checks. */
function writeOptions(options: readonly GeneveOption[], buf: Uint8Array, offset: number): void {
  let at = offset;
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const dataLength = option.data.length;
    buf[at] = option.optionClass >>> 8;
    buf[at + 1] = option.optionClass & 0xff;
    buf[at + 2] = option.type;
    // RFC 8926 3.5: the three R bits MUST be zero on transmission.
    buf[at + 3] = dataLength >>> 2;
    buf.set(option.data, at + GENEVE_OPTION_HEADER_LENGTH);
    at += GENEVE_OPTION_HEADER_LENGTH + dataLength;
  }
}

/** Encoded length of the options alone (0..252). Throws WireError BAD_VALUE on a bad option. */
export function encodingLengthGeneveOptions(options: readonly GeneveOption[]): number {
  return checkOptions(options, 0);
}

/** Encoded length of header plus options (8..260). Throws WireError BAD_VALUE on a bad option. */
export function encodingLengthGeneve(h: GeneveHeader): number {
  return GENEVE_HEADER_LENGTH + checkOptions(h.options ?? [], GENEVE_HEADER_LENGTH);
}

/**
 * Writes the option TLVs alone (for an engine that precomputes them once per tunnel and
 * copies them behind {@link writeGeneveHeader} per packet). Returns the bytes written.
 * Throws WireError BAD_VALUE on a bad option, TRUNCATED when there is no room; writes nothing then.
 */
export function encodeGeneveOptions(options: readonly GeneveOption[], buf: Uint8Array, offset: number): number {
  const length = checkOptions(options, offset);
  need(buf, offset, length, 'Geneve options');
  writeOptions(options, buf, offset);
  return length;
}

/**
 * Writes the header and its options. Returns the bytes written (8 + options).
 * Throws WireError (BAD_VERSION, BAD_VALUE, TRUNCATED) before writing anything.
 */
export function encodeGeneve(h: GeneveHeader, buf: Uint8Array, offset: number): number {
  const version = h.version ?? GENEVE_VERSION;
  // RFC 8926 3.4: version 0 is the only one defined.
  if (version !== GENEVE_VERSION) {
    throw new WireError('BAD_VERSION', offset, `version must be ${GENEVE_VERSION}, got ${version}`);
  }
  checkField(h.vni, GENEVE_VNI_MAX, 'vni', offset + 4);
  const protocolType = h.protocolType ?? GENEVE_PROTOCOL_ETHERNET;
  checkField(protocolType, 0xffff, 'protocolType', offset + 2);
  const options = h.options ?? [];
  const optionsLength = checkOptions(options, offset + GENEVE_HEADER_LENGTH);
  const anyCritical = hasCriticalGeneveOption(options);
  // RFC 8926 3.4: the C bit MUST be set if any critical option is present.
  if (h.critical === false && anyCritical) {
    throw new WireError('BAD_VALUE', offset + 1, 'critical is false but a critical option (type & 0x80) is present');
  }
  const critical = h.critical ?? anyCritical;
  const length = GENEVE_HEADER_LENGTH + optionsLength;
  need(buf, offset, length, 'Geneve header');
  writeGeneveHeader(buf, offset, h.vni, protocolType, optionsLength, h.oam === true, critical);
  writeOptions(options, buf, offset + GENEVE_HEADER_LENGTH);
  return length;
}

/**
 * Datapath writer for the 8-byte fixed header: no checks, no object. The caller guarantees
 * room and ranges; `optionsLengthBytes` is a multiple of 4 in 0..252 and the option bytes
 * themselves go at `offset + 8` (see {@link encodeGeneveOptions}).
 */
export function writeGeneveHeader(
  buf: Uint8Array,
  offset: number,
  vni: number,
  protocolType: number,
  optionsLengthBytes: number,
  oam: boolean,
  critical: boolean,
): void {
  // Version 0 in the top two bits, Opt Len in 4-byte words below.
  buf[offset] = optionsLengthBytes >>> 2;
  // RFC 8926 3.4: the six Rsvd bits and the last byte MUST be zero on transmission.
  buf[offset + 1] = (oam ? GENEVE_FLAG_OAM : 0) | (critical ? GENEVE_FLAG_CRITICAL : 0);
  buf[offset + 2] = protocolType >>> 8;
  buf[offset + 3] = protocolType & 0xff;
  buf[offset + 4] = vni >>> 16;
  buf[offset + 5] = (vni >>> 8) & 0xff;
  buf[offset + 6] = vni & 0xff;
  buf[offset + 7] = 0;
}

/**
 * Datapath reader: validates the fixed header and that the whole options area (Opt Len)
 * lies before `end`; does not walk the options. Fills `out`, returns a WireStatus
 * (TRUNCATED, BAD_VERSION). Never throws, never allocates, reads only [offset, offset + 8).
 * `end` is the first byte past the packet.
 */
export function readGeneve(buf: Uint8Array, offset: number, end: number, out: GeneveFields): number {
  // Written so that NaN bounds fail too.
  if (!(offset >= 0 && offset + GENEVE_HEADER_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  const byte0 = buf[offset]!;
  const version = byte0 >>> 6;
  // RFC 8926 3.4: packets with an unknown version MUST be dropped.
  if (version !== GENEVE_VERSION) return WireStatus.BAD_VERSION;
  const optionsLength = (byte0 & 0x3f) << 2;
  // RFC 8926 3.4: Opt Len words of options follow the fixed header; they must all be present.
  if (!(offset + GENEVE_HEADER_LENGTH + optionsLength <= end)) return WireStatus.TRUNCATED;
  const byte1 = buf[offset + 1]!;
  // RFC 8926 3.4: Rsvd bits and the last byte are ignored on receipt.
  out.version = version;
  out.optionsLength = optionsLength;
  out.oam = (byte1 & GENEVE_FLAG_OAM) !== 0;
  out.critical = (byte1 & GENEVE_FLAG_CRITICAL) !== 0;
  out.protocolType = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  out.vni = (buf[offset + 4]! << 16) | (buf[offset + 5]! << 8) | buf[offset + 6]!;
  out.headerLength = GENEVE_HEADER_LENGTH + optionsLength;
  out.optionsOffset = offset + GENEVE_HEADER_LENGTH;
  return WireStatus.OK;
}

const EMPTY = new Uint8Array(0);

/**
 * Allocation-free walk over an options area. One per receive loop, reused per packet:
 *
 * ```ts
 * cursor.reset(buf, fields.optionsOffset, fields.optionsOffset + fields.optionsLength);
 * for (let s = cursor.next(); s !== GENEVE_OPTIONS_DONE; s = cursor.next()) {
 *   if (s !== WireStatus.OK) return s; // BAD_LENGTH (or TRUNCATED for a bad range): drop
 *   use(cursor.optionClass, cursor.type, cursor.dataOffset, cursor.dataLength);
 * }
 * ```
 *
 * `next()` returns OK with the fields describing the next option; {@link GENEVE_OPTIONS_DONE}
 * when the last option ended exactly at `optionsEnd`; BAD_LENGTH when an option header or its
 * data would cross `optionsEnd` (RFC 8926 3.5: the options must add up to exactly Opt Len);
 * TRUNCATED when `reset` was given a range outside the buffer. Any result other than OK is
 * sticky until the next `reset`. Every OK consumes at least 4 bytes, so at most 63 OKs follow
 * a reset over a Geneve options area; nothing is read outside [optionsOffset, optionsEnd).
 */
export class GeneveOptionCursor {
  optionClass = 0;
  type = 0;
  /** `(type & 0x80) !== 0`. */
  critical = false;
  /** Absolute offset of the current option's 4-byte header. */
  optionOffset = 0;
  /** Absolute offset of the current option's data. */
  dataOffset = 0;
  /** Bytes of data (a multiple of 4, 0..124); the data never crosses `optionsEnd`. */
  dataLength = 0;
  private buf: Uint8Array = EMPTY;
  private position = 0;
  private end = 0;
  private status: number = GENEVE_OPTIONS_DONE;

  /** Starts a walk over [optionsOffset, optionsEnd) of `buf`. */
  reset(buf: Uint8Array, optionsOffset: number, optionsEnd: number): void {
    this.buf = buf;
    this.position = optionsOffset;
    this.end = optionsEnd;
    // Written so that NaN and non-finite bounds fail too.
    this.status =
      optionsOffset >= 0 && optionsOffset <= optionsEnd && optionsEnd <= buf.length ? WireStatus.OK : WireStatus.TRUNCATED;
  }

  /** Offset of the next option header; after BAD_LENGTH, of the malformed option. */
  get offset(): number {
    return this.position;
  }

  next(): number {
    if (this.status !== WireStatus.OK) return this.status;
    const position = this.position;
    const remaining = this.end - position;
    if (remaining === 0) return (this.status = GENEVE_OPTIONS_DONE);
    // RFC 8926 3.5: every option starts with a 4-byte header inside Opt Len.
    if (!(remaining >= GENEVE_OPTION_HEADER_LENGTH)) return (this.status = WireStatus.BAD_LENGTH);
    const buf = this.buf;
    const dataLength = (buf[position + 3]! & 0x1f) << 2;
    // RFC 8926 3.5: an option whose Length runs past Opt Len makes the packet invalid.
    if (GENEVE_OPTION_HEADER_LENGTH + dataLength > remaining) return (this.status = WireStatus.BAD_LENGTH);
    const type = buf[position + 2]!;
    this.optionClass = (buf[position]! << 8) | buf[position + 1]!;
    this.type = type;
    this.critical = (type & GENEVE_OPTION_TYPE_CRITICAL) !== 0;
    this.optionOffset = position;
    this.dataOffset = position + GENEVE_OPTION_HEADER_LENGTH;
    this.dataLength = dataLength;
    this.position = position + GENEVE_OPTION_HEADER_LENGTH + dataLength;
    return WireStatus.OK;
  }
}

/**
 * The options this endpoint understands, keyed by (Option Class, Type). The Type includes
 * its critical bit: registering (0x0102, 0x01) does not cover (0x0102, 0x81).
 *
 * RFC 8926 3.5.1: a tunnel endpoint that receives a packet with a critical option it does not
 * understand MUST drop it. Datapath fast path: RFC 8926 3.4 requires the sender to set the C bit
 * whenever a critical option is present, so when `GeneveFields.critical` is false the receiver may
 * skip {@link checkCritical}; a sender that breaks that rule then has its critical options
 * ignored. `checkCritical` itself always walks, so it stays correct whatever the C bit says.
 */
export class GeneveOptionRegistry {
  /** Option Class of the first unknown critical option found by the last checkCritical. */
  unknownOptionClass = 0;
  /** Type of the first unknown critical option found by the last checkCritical. */
  unknownType = 0;
  private readonly keys = new Set<number>();
  private readonly names = new Map<number, string>();
  private readonly cursor = new GeneveOptionCursor();

  /** Registers an option as understood. Throws WireError BAD_VALUE on an out-of-range class or type. */
  add(optionClass: number, type: number, name?: string): this {
    checkField(optionClass, 0xffff, 'optionClass', 0);
    checkField(type, 0xff, 'type', 0);
    const key = optionClass * 256 + type;
    this.keys.add(key);
    if (name !== undefined) this.names.set(key, name);
    return this;
  }

  has(optionClass: number, type: number): boolean {
    if ((optionClass & 0xffff) !== optionClass || (type & 0xff) !== type) return false;
    return this.keys.has(optionClass * 256 + type);
  }

  /** The name given to `add`, if any. */
  name(optionClass: number, type: number): string | undefined {
    if (!this.has(optionClass, type)) return undefined;
    return this.names.get(optionClass * 256 + type);
  }

  get size(): number {
    return this.keys.size;
  }

  /**
   * Walks every option of [optionsOffset, optionsEnd) and returns OK, BAD_LENGTH (the options do
   * not add up to the area: RFC 8926 3.5, drop), UNKNOWN_CRITICAL_OPTION (RFC 8926 3.5.1, drop;
   * `unknownOptionClass`/`unknownType` name the first one) or TRUNCATED (range outside `buf`).
   * A malformed area wins over an unknown option. Never throws, never allocates.
   */
  checkCritical(buf: Uint8Array, optionsOffset: number, optionsEnd: number): number {
    const cursor = this.cursor;
    cursor.reset(buf, optionsOffset, optionsEnd);
    let result: number = WireStatus.OK;
    for (;;) {
      const status = cursor.next();
      if (status === GENEVE_OPTIONS_DONE) return result;
      if (status !== WireStatus.OK) return status;
      if (result === WireStatus.OK && cursor.critical && !this.keys.has(cursor.optionClass * 256 + cursor.type)) {
        result = WireStatus.UNKNOWN_CRITICAL_OPTION;
        this.unknownOptionClass = cursor.optionClass;
        this.unknownType = cursor.type;
      }
    }
  }
}

const scratchFields = new GeneveFields();
const scratchCursor = new GeneveOptionCursor();

/**
 * Friendly decoder: returns a fresh object whose option data are views into `buf`.
 * Throws WireError: TRUNCATED (fewer than 8 bytes, or fewer than Opt Len promises),
 * BAD_VERSION, BAD_LENGTH (the options do not add up to exactly Opt Len).
 */
export function decodeGeneve(buf: Uint8Array, offset = 0): DecodedGeneve {
  const fields = scratchFields;
  const status = readGeneve(buf, offset, buf.length, fields);
  if (status !== WireStatus.OK) {
    let reason = `Geneve header needs ${GENEVE_HEADER_LENGTH} bytes`;
    if (status === WireStatus.BAD_VERSION) {
      reason = `Geneve version ${buf[offset]! >>> 6} is not ${GENEVE_VERSION}`;
    } else if (offset >= 0 && offset + GENEVE_HEADER_LENGTH <= buf.length) {
      reason = `Opt Len promises ${(buf[offset]! & 0x3f) << 2} bytes of options, ${buf.length - offset - GENEVE_HEADER_LENGTH} available`;
    }
    throw WireError.fromStatus(status, offset, reason);
  }
  const options: DecodedGeneveOption[] = [];
  const cursor = scratchCursor;
  cursor.reset(buf, fields.optionsOffset, fields.optionsOffset + fields.optionsLength);
  for (let s = cursor.next(); s !== GENEVE_OPTIONS_DONE; s = cursor.next()) {
    if (s !== WireStatus.OK) {
      throw WireError.fromStatus(s, cursor.offset, `Geneve option Length runs past Opt Len (${fields.optionsLength} bytes)`);
    }
    options.push({
      optionClass: cursor.optionClass,
      type: cursor.type,
      critical: cursor.critical,
      data: buf.subarray(cursor.dataOffset, cursor.dataOffset + cursor.dataLength),
    });
  }
  return {
    version: fields.version,
    oam: fields.oam,
    critical: fields.critical,
    protocolType: fields.protocolType,
    vni: fields.vni,
    headerLength: fields.headerLength,
    options,
  };
}
