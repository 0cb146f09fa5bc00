/**
 * ESP framing (RFC 4303 2): the header, the trailer and where everything sits around
 * an in-place payload. No cryptography here: the `esp/` layer encrypts
 * [payloadOffset, icvOffset) and fills the IV and ICV this module leaves room for.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
 *   |               Security Parameters Index (SPI)                 | ^Int.
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
 *   |                      Sequence Number                          | |ered
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
 *   |                    IV (if any) + Payload Data                 | |   ^
 *   ~                                                               ~ |   |
 *   +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |  Conf.
 *   |               |     Padding (0-255 bytes)                     | |  Cov-
 *   +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |  ered
 *   |                               |  Pad Length   | Next Header   | v   v
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
 *   |         Integrity Check Value-ICV   (variable)                |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Also the two RFC 3948 (ESP in UDP, port 4500) tests a receiver makes before treating
 * a datagram as ESP: {@link isNonEspMarker} and {@link isNatKeepalive}.
 */
import { WireError, WireStatus, checkField, need } from './errors.js';

/** SPI (32 bits) + Sequence Number (32 bits). */
export const ESP_HEADER_LENGTH = 8;
/** Pad Length + Next Header: the trailer when no padding is needed. */
export const ESP_TRAILER_MIN = 2;
/** IP protocol number of ESP (IPv4 Protocol / IPv6 Next Header). */
export const IPPROTO_ESP = 50;
/** RFC 3948 (and RFC 7296 2.23): UDP port for ESP behind NAT, shared with IKE. */
export const ESP_UDP_PORT = 4500;
export const ESP_SPI_MAX = 0xffffffff;
export const ESP_SEQ_MAX = 0xffffffff;
/** RFC 4303 2.4: the Pad Length field is one byte. */
export const ESP_PAD_MAX = 255;

/** Next Header values (IANA protocol numbers) the engine uses. */
export const ESP_NEXT_HEADER_IPV4 = 4;
export const ESP_NEXT_HEADER_UDP = 17;
export const ESP_NEXT_HEADER_IPV6 = 41;
/** RFC 4303 2.6: "no next header", marks a dummy packet the receiver MUST silently discard. */
export const ESP_NEXT_HEADER_NONE = 59;

export interface EspHeader {
  spi: number;
  seq: number;
}

export interface EspTrailer {
  /** Bytes of payload before the padding (the payload starts at the `start` given to the reader). */
  payloadLength: number;
  padLength: number;
  nextHeader: number;
}

/** Caller-owned result object for {@link readEspHeader}: one per receive loop, reused per packet. */
export class EspHeaderFields {
  spi = 0;
  seq = 0;
}

/** Caller-owned result object for {@link readEspTrailer}. */
export class EspTrailerFields {
  payloadLength = 0;
  padLength = 0;
  nextHeader = 0;
}

/**
 * Where each part of an ESP packet sits, as offsets from the first byte of the ESP header.
 * Filled by {@link espFrameLayout}. The payload is never moved: put it in a pool buffer with
 * at least `headroom` bytes in front (ESP header + IV) and `tailroom` bytes after it
 * (padding + Pad Length + Next Header + ICV), then the ESP packet is
 * [payloadStart - headroom, payloadStart - headroom + totalLength).
 */
export class EspFrameLayout {
  /** Always 0: the offsets below are relative to the ESP header. */
  headerOffset = 0;
  ivOffset = ESP_HEADER_LENGTH;
  ivLength = 0;
  payloadOffset = ESP_HEADER_LENGTH;
  payloadLength = 0;
  padOffset = ESP_HEADER_LENGTH;
  padLength = 0;
  /** The Pad Length byte; Next Header is at `trailerOffset + 1`. */
  trailerOffset = ESP_HEADER_LENGTH;
  icvOffset = ESP_HEADER_LENGTH + ESP_TRAILER_MIN;
  icvLength = 0;
  /** Header + IV + payload + padding + trailer + ICV. */
  totalLength = ESP_HEADER_LENGTH + ESP_TRAILER_MIN;
  /** Bytes the cipher covers: payload + padding + trailer, [payloadOffset, icvOffset). */
  encryptedLength = ESP_TRAILER_MIN;
  /** Bytes needed in front of the payload: ESP header + IV (= payloadOffset). */
  headroom = ESP_HEADER_LENGTH;
  /** Bytes needed after the payload: padding + trailer + ICV. */
  tailroom = ESP_TRAILER_MIN;
}

// ---------------------------------------------------------------------------
// Header

/**
 * Writes the 8-byte ESP header. Returns the bytes written (8).
 * Throws WireError BAD_VALUE on a field out of range, TRUNCATED if the buffer has no room.
 *
 * RFC 4303 2.1: SPI 0 is reserved for local use and "MUST NOT be sent on the wire", so it is
 * rejected here. SPIs 1..255 are reserved by IANA for future use but not forbidden on the
 * wire; the encoder writes them (the SA layer is where SPIs are allocated and should pick
 * values above 255). Any sequence number 0..2^32-1 is accepted: with Extended Sequence
 * Numbers (RFC 4303 2.2.1) the low 32 bits on the wire do reach 0.
 */
export function encodeEspHeader(h: EspHeader, buf: Uint8Array, offset: number): number {
  need(buf, offset, ESP_HEADER_LENGTH, 'ESP header');
  checkField(h.spi, ESP_SPI_MAX, 'spi', offset);
  if (h.spi === 0) {
    throw new WireError('BAD_VALUE', offset, 'spi 0 is reserved for local use and MUST NOT be sent (RFC 4303 2.1)');
  }
  checkField(h.seq, ESP_SEQ_MAX, 'seq', offset + 4);
  writeEspHeader(buf, offset, h.spi, h.seq);
  return ESP_HEADER_LENGTH;
}

/** Datapath writer: no checks, no object. The caller guarantees room and ranges. */
export function writeEspHeader(buf: Uint8Array, offset: number, spi: number, seq: number): void {
  buf[offset] = spi >>> 24;
  buf[offset + 1] = (spi >>> 16) & 0xff;
  buf[offset + 2] = (spi >>> 8) & 0xff;
  buf[offset + 3] = spi & 0xff;
  buf[offset + 4] = seq >>> 24;
  buf[offset + 5] = (seq >>> 16) & 0xff;
  buf[offset + 6] = (seq >>> 8) & 0xff;
  buf[offset + 7] = seq & 0xff;
}

/**
 * Datapath reader: fills `out` with the SPI and Sequence Number, returns a WireStatus.
 * Never throws, never allocates, reads only [offset, offset + 8) within [offset, end).
 * Reserved SPIs (0, 1..255) are reported as they are: on UDP 4500 check
 * {@link isNonEspMarker} first, then look the SPI up in the SA table, which never holds them.
 */
export function readEspHeader(buf: Uint8Array, offset: number, end: number, out: EspHeaderFields): number {
  // Written as !(…) so that a NaN bound also fails.
  if (!(offset >= 0 && offset + ESP_HEADER_LENGTH <= end && end <= buf.length)) return WireStatus.TRUNCATED;
  out.spi = ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
  out.seq = ((buf[offset + 4]! << 24) | (buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!) >>> 0;
  return WireStatus.OK;
}

const headerScratch = new EspHeaderFields();

/** Friendly decoder: returns a fresh object, throws WireError TRUNCATED. */
export function decodeEspHeader(buf: Uint8Array, offset = 0): EspHeader {
  const status = readEspHeader(buf, offset, buf.length, headerScratch);
  if (status !== WireStatus.OK) throw WireError.fromStatus(status, offset, 'ESP header needs 8 bytes');
  return { spi: headerScratch.spi, seq: headerScratch.seq };
}

// ---------------------------------------------------------------------------
// Padding and trailer

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * The number of padding bytes to append to a payload of `payloadLength` bytes.
 *
 * RFC 4303 2.4: the plaintext (payload + padding + Pad Length + Next Header) must be a whole
 * number of cipher blocks, and the Pad Length and Next Header fields must be right aligned in a
 * 4-byte word, so the result makes (payloadLength + pad + 2) a multiple of max(blockSize, 4).
 * `blockSize` is 1 for stream-like and AEAD transforms (AES-GCM, AES-CCM, ChaCha20-Poly1305,
 * NULL: the 4-byte rule alone applies) and 16 for AES-CBC; it must be a power of two up to 256.
 *
 * `ivLength` (default 0) is the IV carried in front of the ciphertext. It does not change the
 * result but must be a multiple of 4, otherwise the trailer could not be 4-byte aligned in the
 * packet while the ciphertext is block aligned; every ESP transform's IV (0, 8 or 16 bytes) is.
 * Throws WireError BAD_VALUE on arguments out of range. Returns 0..255.
 */
export function espPaddingLength(payloadLength: number, blockSize: number, ivLength = 0): number {
  checkField(payloadLength, 0xffffffff, 'payloadLength', 0);
  checkField(blockSize, 256, 'blockSize', 0);
  if (!isPowerOfTwo(blockSize)) {
    throw new WireError('BAD_VALUE', 0, `blockSize must be a power of two in 1..256, got ${blockSize}`);
  }
  checkField(ivLength, 255, 'ivLength', 0);
  if (ivLength % 4 !== 0) {
    throw new WireError('BAD_VALUE', 0, `ivLength must be a multiple of 4 (RFC 4303 2.4 trailer alignment), got ${ivLength}`);
  }
  return espPadFor(payloadLength, blockSize < 4 ? 4 : blockSize);
}

/** Datapath padding: `alignment` is max(blockSize, 4), a power of two up to 256. */
export function espPadFor(payloadLength: number, alignment: number): number {
  const rest = (payloadLength + ESP_TRAILER_MIN) % alignment;
  return rest === 0 ? 0 : alignment - rest;
}

/**
 * Writes the padding, Pad Length and Next Header right after a payload ending at `payloadEnd`.
 * RFC 4303 2.4: the default padding content is the monotonic sequence 1, 2, 3, …
 * Returns the bytes written (padLength + 2). Throws WireError BAD_VALUE / TRUNCATED.
 */
export function encodeEspTrailer(payloadEnd: number, padLength: number, nextHeader: number, buf: Uint8Array): number {
  checkField(padLength, ESP_PAD_MAX, 'padLength', payloadEnd);
  need(buf, payloadEnd, padLength + ESP_TRAILER_MIN, 'ESP padding and trailer');
  checkField(nextHeader, 0xff, 'nextHeader', payloadEnd + padLength + 1);
  writeEspTrailer(buf, payloadEnd, padLength, nextHeader);
  return padLength + ESP_TRAILER_MIN;
}

/** Datapath writer for padding + trailer: no checks. The caller guarantees room and ranges. */
export function writeEspTrailer(buf: Uint8Array, payloadEnd: number, padLength: number, nextHeader: number): void {
  for (let i = 0; i < padLength; i++) buf[payloadEnd + i] = i + 1;
  buf[payloadEnd + padLength] = padLength;
  buf[payloadEnd + padLength + 1] = nextHeader;
}

/**
 * Datapath reader for the decrypted [start, end) = payload + padding + Pad Length + Next Header
 * (IV and ICV already removed). Fills `out`, returns a WireStatus; never throws, never allocates,
 * reads nothing outside [start, end).
 *  - TRUNCATED: fewer than 2 bytes, or [start, end) not inside the buffer;
 *  - BAD_LENGTH: the Pad Length is longer than what precedes it;
 *  - BAD_PADDING: the padding is not 1, 2, 3, … (RFC 4303 2.4: the receiver SHOULD inspect it;
 *    every transform this engine supports uses the default padding).
 * A Next Header of 59 (RFC 4303 2.6 dummy packet) is reported like any other: the caller
 * discards it. Traffic Flow Confidentiality padding (RFC 4303 2.7) is part of the payload here;
 * the inner IP header's length tells where the real packet ends.
 */
export function readEspTrailer(buf: Uint8Array, start: number, end: number, out: EspTrailerFields): number {
  if (!(start >= 0 && end <= buf.length && end - start >= ESP_TRAILER_MIN)) return WireStatus.TRUNCATED;
  const padLength = buf[end - 2]!;
  const nextHeader = buf[end - 1]!;
  // RFC 4303 2.4: Pad Length counts the padding bytes immediately preceding it.
  const payloadLength = end - start - ESP_TRAILER_MIN - padLength;
  if (payloadLength < 0) return WireStatus.BAD_LENGTH;
  const padStart = start + payloadLength;
  for (let i = 0; i < padLength; i++) {
    if (buf[padStart + i] !== i + 1) return WireStatus.BAD_PADDING;
  }
  out.payloadLength = payloadLength;
  out.padLength = padLength;
  out.nextHeader = nextHeader;
  return WireStatus.OK;
}

const trailerScratch = new EspTrailerFields();

/**
 * Friendly trailer decoder over the decrypted [start, end) (default: the whole buffer).
 * Returns a fresh object, throws WireError TRUNCATED, BAD_LENGTH or BAD_PADDING.
 */
export function decodeEspTrailer(buf: Uint8Array, start = 0, end = buf.length): EspTrailer {
  const status = readEspTrailer(buf, start, end, trailerScratch);
  if (status !== WireStatus.OK) {
    if (status === WireStatus.TRUNCATED) {
      throw WireError.fromStatus(status, start, 'ESP trailer needs 2 bytes inside the buffer');
    }
    const padLength = buf[end - 2]!;
    if (status === WireStatus.BAD_LENGTH) {
      throw WireError.fromStatus(status, end - 2, `pad length ${padLength} exceeds the ${end - start - 2} bytes before it`);
    }
    throw WireError.fromStatus(status, end - 2 - padLength, 'padding is not 1, 2, 3, … (RFC 4303 2.4)');
  }
  return {
    payloadLength: trailerScratch.payloadLength,
    padLength: trailerScratch.padLength,
    nextHeader: trailerScratch.nextHeader,
  };
}

// ---------------------------------------------------------------------------
// Framing around an in-place payload

/**
 * Computes where the header, IV, payload, padding, trailer and ICV of an ESP packet go for a
 * payload of `payloadLength` bytes, into `out` (allocated only if not given: pass one
 * per SA or per loop on the datapath). `blockSize` and `ivLength` as {@link espPaddingLength};
 * `icvLength` 0..255 (0 for NULL integrity or when the ICV is not counted).
 * Throws WireError BAD_VALUE on arguments out of range.
 */
export function espFrameLayout(
  payloadLength: number,
  blockSize: number,
  ivLength: number,
  icvLength: number,
  out: EspFrameLayout = new EspFrameLayout(),
): EspFrameLayout {
  const padLength = espPaddingLength(payloadLength, blockSize, ivLength);
  checkField(icvLength, 255, 'icvLength', 0);
  const payloadOffset = ESP_HEADER_LENGTH + ivLength;
  const padOffset = payloadOffset + payloadLength;
  const trailerOffset = padOffset + padLength;
  const icvOffset = trailerOffset + ESP_TRAILER_MIN;
  out.headerOffset = 0;
  out.ivOffset = ESP_HEADER_LENGTH;
  out.ivLength = ivLength;
  out.payloadOffset = payloadOffset;
  out.payloadLength = payloadLength;
  out.padOffset = padOffset;
  out.padLength = padLength;
  out.trailerOffset = trailerOffset;
  out.icvOffset = icvOffset;
  out.icvLength = icvLength;
  out.totalLength = icvOffset + icvLength;
  out.encryptedLength = icvOffset - payloadOffset;
  out.headroom = payloadOffset;
  out.tailroom = out.totalLength - padOffset;
  return out;
}

/**
 * Datapath writer for the framing around a payload already at `buf[payloadStart ..
 * payloadStart + layout.payloadLength)`: writes the ESP header `layout.headroom` bytes before
 * it and the padding + trailer after it. Leaves the IV and the ICV bytes untouched (the cipher
 * fills them). The ESP packet then starts at `payloadStart - layout.headroom` and is
 * `layout.totalLength` bytes long. No copy of the payload, no allocation, no throw:
 * returns WireStatus.NO_ROOM when the headroom or tailroom is missing, else OK.
 * `spi`, `seq` and `nextHeader` are not range-checked (the SA supplies them).
 */
export function writeEspFraming(
  buf: Uint8Array,
  payloadStart: number,
  layout: EspFrameLayout,
  spi: number,
  seq: number,
  nextHeader: number,
): number {
  const start = payloadStart - layout.headroom;
  const padStart = payloadStart + layout.payloadLength;
  if (start < 0 || padStart + layout.tailroom > buf.length) return WireStatus.NO_ROOM;
  writeEspHeader(buf, start, spi, seq);
  writeEspTrailer(buf, padStart, layout.padLength, nextHeader);
  return WireStatus.OK;
}

// ---------------------------------------------------------------------------
// RFC 3948: what else arrives on UDP port 4500

/**
 * RFC 3948 2.2: IKE messages on port 4500 start with a Non-ESP Marker, four zero bytes where an
 * ESP packet has its SPI (which is why SPI 0 never appears in ESP-in-UDP). True when the UDP
 * payload [offset, end) starts with the marker: hand it to IKE, not to ESP.
 */
export function isNonEspMarker(buf: Uint8Array, offset: number, end: number): boolean {
  if (!(offset >= 0 && end <= buf.length && end - offset >= 4)) return false;
  return (buf[offset]! | buf[offset + 1]! | buf[offset + 2]! | buf[offset + 3]!) === 0;
}

/**
 * RFC 3948 2.3: a NAT-keepalive is a UDP datagram whose payload is the single byte 0xFF, sent
 * only to keep the NAT mapping alive; the receiver SHOULD ignore it. True when the UDP payload
 * [offset, end) is exactly that.
 */
export function isNatKeepalive(buf: Uint8Array, offset: number, end: number): boolean {
  if (offset < 0 || end > buf.length || end - offset !== 1) return false;
  return buf[offset] === 0xff;
}
