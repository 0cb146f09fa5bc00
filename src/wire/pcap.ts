/**
 * Classic libpcap capture files (draft-ietf-opsawg-pcap, "PCAP Capture File Format"; the
 * pcap-savefile(5) manual page). No I/O here: {@link PcapWriter} hands bytes to a sink the
 * caller supplies, {@link readPcap} parses bytes the caller has read.
 *
 * File header (24 bytes), in the byte order the magic number reveals:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                          Magic Number                         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Major Version        |         Minor Version         |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           Reserved1                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                           Reserved2                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                            SnapLen                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   FCS length and flag bits    |           LinkType            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Packet record header (16 bytes), followed by Captured Packet Length bytes of packet data:
 *   Timestamp (seconds) | Timestamp (micro- or nanoseconds) | Captured Packet Length | Original Packet Length
 *
 * This module writes little-endian, microsecond files (magic 0xa1b2c3d4 stored as d4 c3 b2 a1),
 * version 2.4, and reads both byte orders and both timestamp resolutions.
 */
import { WireError, WireStatus, checkField, need } from './errors.js';

export const PCAP_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
/** Magic number of a file whose timestamps are seconds + microseconds. */
export const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
/** Magic number of a file whose timestamps are seconds + nanoseconds. */
export const PCAP_MAGIC_NANOSECONDS = 0xa1b23c4d;
/** First four bytes of a pcapng Section Header Block: recognised only to say it is unsupported. */
export const PCAPNG_BLOCK_TYPE_SHB = 0x0a0d0d0a;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
/** libpcap's default and maximum snapshot length (MAXIMUM_SNAPLEN). */
export const PCAP_DEFAULT_SNAPLEN = 262144;
/** libpcap treats the snapshot length as a signed int. */
export const PCAP_SNAPLEN_MAX = 0x7fffffff;

/** IEEE 802.3 Ethernet. */
export const LINKTYPE_ETHERNET = 1;
/** Raw IP: each packet starts with an IPv4 or IPv6 header (the version nibble tells which). */
export const LINKTYPE_RAW = 101;
/** Raw IPv4 only. */
export const LINKTYPE_IPV4 = 228;
/** Raw IPv6 only. */
export const LINKTYPE_IPV6 = 229;

export interface PcapHeader {
  linkType: number;
  /** Default {@link PCAP_DEFAULT_SNAPLEN}. */
  snaplen?: number;
}

export interface DecodedPcapHeader {
  /** true when the file's fields are little-endian. */
  littleEndian: boolean;
  /** true for the 0xa1b23c4d magic: the record timestamps' fraction is in nanoseconds. */
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** The LinkType: the low 16 bits of the last field. */
  linkType: number;
  /** The upper 16 bits of the last field (FCS length and f bit), reported raw. */
  linkTypeInfo: number;
}

export interface PcapRecordHeader {
  /** Seconds since 1970-01-01 00:00 UTC, 0..2^32-1. */
  seconds: number;
  microseconds: number;
  capturedLength: number;
  originalLength: number;
}

export interface DecodedPcapRecordHeader {
  timestampSeconds: number;
  /** Micro- or nanoseconds, as the file header says. */
  timestampFraction: number;
  capturedLength: number;
  originalLength: number;
}

export interface PcapRecord {
  timestampSeconds: number;
  /** Micro- or nanoseconds: see {@link PcapFile.nanosecond}. */
  timestampFraction: number;
  /** The packet's length on the wire; `data.length` is what was captured. */
  originalLength: number;
  /** A subarray of the bytes given to {@link readPcap}: no copy. */
  data: Uint8Array;
}

export interface PcapFile {
  linkType: number;
  snaplen: number;
  nanosecond: boolean;
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  records: PcapRecord[];
}

/** Caller-owned result object for {@link readPcapHeader}. */
export class PcapHeaderFields {
  littleEndian = true;
  nanosecond = false;
  versionMajor = 0;
  versionMinor = 0;
  snaplen = 0;
  linkType = 0;
  linkTypeInfo = 0;
}

/** Caller-owned result object for {@link readPcapRecordHeader}. */
export class PcapRecordFields {
  timestampSeconds = 0;
  timestampFraction = 0;
  capturedLength = 0;
  originalLength = 0;
}

// ---------------------------------------------------------------------------
// Byte helpers (pcap fields follow the writer's byte order, not network order)

function putU32le(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = value >>> 24;
}

function getU32(buf: Uint8Array, offset: number, littleEndian: boolean): number {
  const b0 = buf[offset]!;
  const b1 = buf[offset + 1]!;
  const b2 = buf[offset + 2]!;
  const b3 = buf[offset + 3]!;
  return littleEndian
    ? ((b3 << 24) | (b2 << 16) | (b1 << 8) | b0) >>> 0
    : ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
}

function getU16(buf: Uint8Array, offset: number, littleEndian: boolean): number {
  const b0 = buf[offset]!;
  const b1 = buf[offset + 1]!;
  return littleEndian ? (b1 << 8) | b0 : (b0 << 8) | b1;
}

// ---------------------------------------------------------------------------
// File header

/**
 * Writes the 24-byte file header: little-endian, microsecond magic, version 2.4, Reserved1 and
 * Reserved2 zero (draft-ietf-opsawg-pcap: SHOULD be 0), LinkType with no FCS information.
 * Returns 24. Throws WireError BAD_VALUE (linkType not 0..65535, snaplen not 1..2^31-1) or TRUNCATED.
 */
export function encodePcapHeader(h: PcapHeader, buf: Uint8Array, offset: number): number {
  need(buf, offset, PCAP_HEADER_LENGTH, 'pcap file header');
  checkField(h.linkType, 0xffff, 'linkType', offset + 20);
  const snaplen = h.snaplen ?? PCAP_DEFAULT_SNAPLEN;
  checkField(snaplen, PCAP_SNAPLEN_MAX, 'snaplen', offset + 16);
  if (snaplen === 0) throw new WireError('BAD_VALUE', offset + 16, 'snaplen must be at least 1');
  putU32le(buf, offset, PCAP_MAGIC_MICROSECONDS);
  buf[offset + 4] = PCAP_VERSION_MAJOR;
  buf[offset + 5] = 0;
  buf[offset + 6] = PCAP_VERSION_MINOR;
  buf[offset + 7] = 0;
  putU32le(buf, offset + 8, 0);
  putU32le(buf, offset + 12, 0);
  putU32le(buf, offset + 16, snaplen);
  putU32le(buf, offset + 20, h.linkType);
  return PCAP_HEADER_LENGTH;
}

/**
 * Non-throwing file header reader: fills `out`, returns a WireStatus.
 *  - TRUNCATED: fewer than 24 bytes in [offset, end);
 *  - BAD_VALUE: not a pcap magic number in either byte order;
 *  - UNSUPPORTED: a pcapng file (convert it with `editcap -F pcap`);
 *  - BAD_VERSION: not version 2.0 .. 2.4 (libpcap reads the same range).
 */
export function readPcapHeader(buf: Uint8Array, offset: number, end: number, out: PcapHeaderFields): number {
  if (!(offset >= 0 && offset + PCAP_HEADER_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  const magic = getU32(buf, offset, true);
  let littleEndian: boolean;
  let nanosecond: boolean;
  if (magic === PCAP_MAGIC_MICROSECONDS) {
    littleEndian = true;
    nanosecond = false;
  } else if (magic === PCAP_MAGIC_NANOSECONDS) {
    littleEndian = true;
    nanosecond = true;
  } else {
    const swapped = getU32(buf, offset, false);
    if (swapped === PCAP_MAGIC_MICROSECONDS) {
      littleEndian = false;
      nanosecond = false;
    } else if (swapped === PCAP_MAGIC_NANOSECONDS) {
      littleEndian = false;
      nanosecond = true;
    } else if (magic === PCAPNG_BLOCK_TYPE_SHB) {
      return WireStatus.UNSUPPORTED;
    } else {
      return WireStatus.BAD_VALUE;
    }
  }
  const versionMajor = getU16(buf, offset + 4, littleEndian);
  const versionMinor = getU16(buf, offset + 6, littleEndian);
  if (versionMajor !== PCAP_VERSION_MAJOR || versionMinor > PCAP_VERSION_MINOR) return WireStatus.BAD_VERSION;
  // draft-ietf-opsawg-pcap: Reserved1 and Reserved2 MUST be ignored by readers.
  const linkField = getU32(buf, offset + 20, littleEndian);
  out.littleEndian = littleEndian;
  out.nanosecond = nanosecond;
  out.versionMajor = versionMajor;
  out.versionMinor = versionMinor;
  out.snaplen = getU32(buf, offset + 16, littleEndian);
  out.linkType = linkField & 0xffff;
  out.linkTypeInfo = linkField >>> 16;
  return WireStatus.OK;
}

const headerScratch = new PcapHeaderFields();

const HEADER_REASONS: Record<number, string> = {
  [WireStatus.TRUNCATED]: 'pcap file header needs 24 bytes',
  [WireStatus.BAD_VALUE]: 'not a pcap file (magic is neither 0xa1b2c3d4 nor 0xa1b23c4d in either byte order)',
  [WireStatus.UNSUPPORTED]: 'pcapng file: only classic pcap is read (convert with editcap -F pcap)',
  [WireStatus.BAD_VERSION]: 'pcap version is not 2.0 .. 2.4',
};

/** Friendly file header decoder: returns a fresh object, throws WireError. */
export function decodePcapHeader(buf: Uint8Array, offset = 0): DecodedPcapHeader {
  const status = readPcapHeader(buf, offset, buf.length, headerScratch);
  if (status !== WireStatus.OK) throw WireError.fromStatus(status, offset, HEADER_REASONS[status] ?? 'bad pcap header');
  return {
    littleEndian: headerScratch.littleEndian,
    nanosecond: headerScratch.nanosecond,
    versionMajor: headerScratch.versionMajor,
    versionMinor: headerScratch.versionMinor,
    snaplen: headerScratch.snaplen,
    linkType: headerScratch.linkType,
    linkTypeInfo: headerScratch.linkTypeInfo,
  };
}

// ---------------------------------------------------------------------------
// Record header

/**
 * Writes a 16-byte little-endian record header. Returns 16. Throws WireError BAD_VALUE
 * (seconds or lengths not 0..2^32-1, microseconds not 0..999999, capturedLength > originalLength)
 * or TRUNCATED.
 */
export function encodePcapRecordHeader(h: PcapRecordHeader, buf: Uint8Array, offset: number): number {
  need(buf, offset, PCAP_RECORD_HEADER_LENGTH, 'pcap record header');
  checkField(h.seconds, 0xffffffff, 'seconds', offset);
  checkField(h.microseconds, 999999, 'microseconds', offset + 4);
  checkField(h.capturedLength, 0xffffffff, 'capturedLength', offset + 8);
  checkField(h.originalLength, 0xffffffff, 'originalLength', offset + 12);
  if (h.capturedLength > h.originalLength) {
    throw new WireError('BAD_VALUE', offset + 8, `capturedLength ${h.capturedLength} exceeds originalLength ${h.originalLength}`);
  }
  writePcapRecordHeader(buf, offset, h.seconds, h.microseconds, h.capturedLength, h.originalLength);
  return PCAP_RECORD_HEADER_LENGTH;
}

/** Datapath writer (little-endian): no checks, no object. */
export function writePcapRecordHeader(
  buf: Uint8Array,
  offset: number,
  seconds: number,
  fraction: number,
  capturedLength: number,
  originalLength: number,
): void {
  putU32le(buf, offset, seconds);
  putU32le(buf, offset + 4, fraction);
  putU32le(buf, offset + 8, capturedLength);
  putU32le(buf, offset + 12, originalLength);
}

/**
 * Non-throwing record header reader: fills `out`, returns a WireStatus. Checks only the header
 * itself; whether the packet data fits (snaplen, end of file) is {@link readPcap}'s job.
 *  - TRUNCATED: fewer than 16 bytes in [offset, end);
 *  - BAD_VALUE: the fraction is not below 10^6 (microsecond file) or 10^9 (nanosecond file).
 */
export function readPcapRecordHeader(
  buf: Uint8Array,
  offset: number,
  end: number,
  littleEndian: boolean,
  nanos: boolean,
  out: PcapRecordFields,
): number {
  if (!(offset >= 0 && offset + PCAP_RECORD_HEADER_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  const fraction = getU32(buf, offset + 4, littleEndian);
  if (fraction >= (nanos ? 1e9 : 1e6)) return WireStatus.BAD_VALUE;
  out.timestampSeconds = getU32(buf, offset, littleEndian);
  out.timestampFraction = fraction;
  out.capturedLength = getU32(buf, offset + 8, littleEndian);
  out.originalLength = getU32(buf, offset + 12, littleEndian);
  return WireStatus.OK;
}

const recordScratch = new PcapRecordFields();

/** Friendly record header decoder: returns a fresh object, throws WireError TRUNCATED / BAD_VALUE. */
export function decodePcapRecordHeader(buf: Uint8Array, offset: number, littleEndian: boolean, nanos: boolean): DecodedPcapRecordHeader {
  const status = readPcapRecordHeader(buf, offset, buf.length, littleEndian, nanos, recordScratch);
  if (status !== WireStatus.OK) {
    const reason = status === WireStatus.TRUNCATED
      ? 'pcap record header needs 16 bytes'
      : `timestamp fraction is not below ${nanos ? '10^9 ns' : '10^6 us'}`;
    throw WireError.fromStatus(status, offset, reason);
  }
  return {
    timestampSeconds: recordScratch.timestampSeconds,
    timestampFraction: recordScratch.timestampFraction,
    capturedLength: recordScratch.capturedLength,
    originalLength: recordScratch.originalLength,
  };
}

// ---------------------------------------------------------------------------
// Whole file

/**
 * Parses a whole classic pcap file held in memory. Each record's `data` is a subarray of
 * `bytes` (no copy). Throws WireError — the name says "read" but, unlike the datapath
 * `readX` functions, this one is for tools and tests and throws:
 *  - the file header errors of {@link readPcapHeader};
 *  - TRUNCATED when a record header or its data runs past the end of `bytes`;
 *  - BAD_VALUE for a timestamp fraction out of range;
 *  - BAD_LENGTH when a record captures more than the snapshot length (a snaplen of 0 in the
 *    header is treated as {@link PCAP_DEFAULT_SNAPLEN}, as libpcap does).
 * A record whose captured length exceeds its original length is returned as it is (both are
 * reported; only the captured bytes are bounds-checked).
 * Versions 2.0 .. 2.2 stored the two lengths the other way round, and 2.3 files may: they are
 * swapped back as libpcap does.
 */
export function readPcap(bytes: Uint8Array): PcapFile {
  const header = decodePcapHeader(bytes, 0);
  const { littleEndian, nanosecond, versionMinor } = header;
  const snapLimit = header.snaplen === 0 ? PCAP_DEFAULT_SNAPLEN : header.snaplen;
  const records: PcapRecord[] = [];
  const fields = new PcapRecordFields();
  const end = bytes.length;
  let offset = PCAP_HEADER_LENGTH;
  while (offset < end) {
    const status = readPcapRecordHeader(bytes, offset, end, littleEndian, nanosecond, fields);
    if (status !== WireStatus.OK) {
      const reason = status === WireStatus.TRUNCATED
        ? `record header needs 16 bytes, ${end - offset} left in the file`
        : 'timestamp fraction out of range';
      throw WireError.fromStatus(status, offset, reason);
    }
    let capturedLength = fields.capturedLength;
    let originalLength = fields.originalLength;
    // libpcap (sf-pcap.c): before 2.3 the two lengths were stored swapped; 2.3 is ambiguous and
    // swapped when the captured length is the larger.
    if (versionMinor < 3 || (versionMinor === 3 && capturedLength > originalLength)) {
      capturedLength = fields.originalLength;
      originalLength = fields.capturedLength;
    }
    if (capturedLength > snapLimit) {
      throw new WireError('BAD_LENGTH', offset + 8, `record captures ${capturedLength} bytes, more than the snaplen ${snapLimit}`);
    }
    const dataStart = offset + PCAP_RECORD_HEADER_LENGTH;
    if (capturedLength > end - dataStart) {
      throw new WireError('TRUNCATED', dataStart, `record data needs ${capturedLength} bytes, ${end - dataStart} left in the file`);
    }
    records.push({
      timestampSeconds: fields.timestampSeconds,
      timestampFraction: fields.timestampFraction,
      originalLength,
      data: bytes.subarray(dataStart, dataStart + capturedLength),
    });
    offset = dataStart + capturedLength;
  }
  return {
    linkType: header.linkType,
    snaplen: header.snaplen,
    nanosecond,
    littleEndian,
    versionMajor: header.versionMajor,
    versionMinor,
    records,
  };
}

// ---------------------------------------------------------------------------
// Writer

/**
 * Receives the bytes of the file in order. A chunk is only valid during the call: the record
 * header chunk is one buffer reused for every packet, and the packet chunk is a view of the
 * caller's frame, which the pool recycles. The sink must consume the bytes synchronously
 * (e.g. `fs.writeSync`) or copy them (e.g. `stream.write(Buffer.from(chunk))`).
 */
export type PcapSink = (chunk: Uint8Array) => void;

export interface PcapWriterOptions {
  /** Packets longer than this are truncated (the record keeps the original length). Default 262144. */
  snaplen?: number;
  /**
   * Wall-clock time in nanoseconds since 1970-01-01 UTC, read once per packet when `write` is
   * given no timestamp. Default: `performance.timeOrigin + performance.now()` (microsecond
   * resolution, no allocation).
   */
  clock?: () => bigint | number;
}

function defaultClock(): number {
  return (performance.timeOrigin + performance.now()) * 1e6;
}

/**
 * Streams a little-endian microsecond pcap file to a {@link PcapSink}: the 24-byte file header at
 * construction (so a capture of no packets is still a valid file), then per packet a 16-byte
 * record header and the packet bytes, truncated to the snaplen. Per packet it allocates nothing
 * except a subarray view when the frame is a sub-range or is truncated (none for a whole
 * `Uint8Array` under the snaplen and a number timestamp).
 */
export class PcapWriter {
  readonly linkType: number;
  readonly snaplen: number;
  /** Packets written. */
  packets = 0;
  /** Bytes handed to the sink, file header included. */
  bytes = 0;
  private readonly sink: PcapSink;
  private readonly clock: () => bigint | number;
  private readonly record = new Uint8Array(PCAP_RECORD_HEADER_LENGTH);

  /** Throws WireError BAD_VALUE on a bad link type or snaplen. */
  constructor(linkType: number, sink: PcapSink, options: PcapWriterOptions = {}) {
    const header = new Uint8Array(PCAP_HEADER_LENGTH);
    encodePcapHeader({ linkType, snaplen: options.snaplen ?? PCAP_DEFAULT_SNAPLEN }, header, 0);
    this.linkType = linkType;
    this.snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    this.sink = sink;
    this.clock = options.clock ?? defaultClock;
    sink(header);
    this.bytes = PCAP_HEADER_LENGTH;
  }

  /**
   * Writes `frame[offset, offset + length)` as one record, stamped `timestampNs` (nanoseconds since
   * the epoch, rounded down to the microsecond) or the clock. Throws WireError TRUNCATED if the
   * range is outside `frame`, BAD_VALUE if the timestamp is before 1970 or after 2106.
   */
  write(frame: Uint8Array, offset = 0, length = frame.length - offset, timestampNs?: bigint | number): void {
    if (!Number.isInteger(length) || length < 0) throw new WireError('BAD_VALUE', offset, `length must be a non-negative integer, got ${length}`);
    need(frame, offset, length, 'pcap packet');
    const ts = timestampNs ?? this.clock();
    let seconds: number;
    let microseconds: number;
    if (typeof ts === 'bigint') {
      if (ts < 0n) throw new WireError('BAD_VALUE', 0, `timestamp ${ts} ns is before 1970`);
      seconds = Number(ts / 1_000_000_000n);
      microseconds = Number((ts % 1_000_000_000n) / 1000n);
    } else {
      if (!(ts >= 0)) throw new WireError('BAD_VALUE', 0, `timestamp ${ts} ns is before 1970 or not a number`);
      // `%` on doubles is exact, and so is the subtraction below (its result, a multiple of 1e9
      // under 2^32 s, is representable), so seconds and fraction always agree.
      const rest = ts % 1e9;
      seconds = (ts - rest) / 1e9;
      microseconds = Math.floor(rest / 1000);
    }
    if (seconds > 0xffffffff) throw new WireError('BAD_VALUE', 0, 'timestamp is after 2106 (pcap seconds are 32 bits)');
    const captured = length > this.snaplen ? this.snaplen : length;
    writePcapRecordHeader(this.record, 0, seconds, microseconds, captured, length);
    this.sink(this.record);
    if (captured > 0) {
      this.sink(offset === 0 && captured === frame.length ? frame : frame.subarray(offset, offset + captured));
    }
    this.packets++;
    this.bytes += PCAP_RECORD_HEADER_LENGTH + captured;
  }
}

/**
 * The bytes of a whole pcap file holding `frames`, for tests and tools (one allocation of the
 * exact size). Timestamps come from `options.clock` (pass `() => 0` for reproducible files).
 */
export function pcapFileBytes(linkType: number, frames: readonly Uint8Array[], options: PcapWriterOptions = {}): Uint8Array {
  const snaplen = options.snaplen ?? PCAP_DEFAULT_SNAPLEN;
  checkField(snaplen, PCAP_SNAPLEN_MAX, 'snaplen', 16);
  let total = PCAP_HEADER_LENGTH;
  for (const frame of frames) total += PCAP_RECORD_HEADER_LENGTH + Math.min(frame.length, snaplen);
  const out = new Uint8Array(total);
  let at = 0;
  const writer = new PcapWriter(linkType, (chunk) => {
    out.set(chunk, at);
    at += chunk.length;
  }, options);
  for (const frame of frames) writer.write(frame);
  return out;
}
