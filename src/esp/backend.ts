/**
 * The small interface between a security association and a crypto library.
 *
 * An SA asks its backend once for an {@link EspCipher} bound to its keys; per packet it calls
 * `seal` and `open` on byte offsets inside one buffer, so a backend never sees packet objects
 * and can work in place. Three backends implement it: node:crypto (`nodeBackend`, the default),
 * node-forge (`forgeBackend`, pure JavaScript, no ChaCha20-Poly1305) and `gcmJsBackend`
 * (gcm-backend.ts: AES-GCM only, AES from one node:crypto ECB cipher per SA and GHASH in
 * JavaScript, opt-in because its GHASH is not constant-time with respect to cache timing).
 *
 * The packet, as the cipher sees it (offsets into `buf`):
 *
 *   espOffset      ivOffset = espOffset + 8     payloadOffset      icvOffset        + icvLength
 *   | SPI | Seq   | IV (ivLength bytes)        | payload, padding, Pad Length, NH | ICV |
 *                                              \______ encrypted in place ______/
 *
 * - AEAD (RFC 4106, RFC 7634): the SA has written the explicit IV (the 64-bit sequence number);
 *   nonce = salt || IV; AAD = SPI || Seq (RFC 4106 5), or SPI || Seq high || Seq low with ESN.
 * - CBC + HMAC (RFC 3602, RFC 4868): the SA has written 16 random bytes in the IV field; the
 *   backend may use them as the IV or derive the IV from them (see node-backend.ts). The ICV is
 *   HMAC-SHA-256 over SPI .. end of ciphertext, followed by the high 32 bits of the sequence
 *   number when ESN is on (RFC 4303 2.2.1), truncated to 16 bytes.
 */
import type { EspAlgorithm } from './algorithms.js';

/** Key material of one SA, already parsed and checked against the algorithm. */
export interface EspKeys {
  /** Cipher key followed by the salt for the AEADs (RFC 4106 8.1, RFC 7634 2). */
  key: Uint8Array;
  /** HMAC key for CBC + HMAC; empty for the AEADs. */
  authKey: Uint8Array;
  /** Extended sequence numbers: changes the AAD (AEAD) or the ICV input (HMAC). */
  esn: boolean;
}

/** One SA's transform, bound to its keys. Methods return 0 (OK) or an EspStatus and never throw. */
export interface EspCipher {
  readonly algorithm: EspAlgorithm;
  /**
   * Encrypts `buf[payloadOffset, icvOffset)` in place and writes the ICV at `icvOffset`.
   * The ESP header (SPI, low sequence number) is at `espOffset`, the IV field at `espOffset + 8`.
   * `seqHigh` is the high half of the 64-bit sequence number (0 without ESN).
   */
  seal(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number;
  /**
   * Checks the ICV at `icvOffset` and, only if it verifies, decrypts `buf[payloadOffset, icvOffset)`
   * in place. Returns 0 or EspStatus.BAD_ICV (the buffer is then left unchanged or holds garbage
   * in the IV field, never unauthenticated plaintext). The IV field may be overwritten.
   */
  open(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number;
}

export interface EspCryptoBackend {
  /** 'node', 'forge' or 'gcm-js', for messages and counters. */
  readonly name: string;
  /** Whether this backend implements the algorithm. */
  supports(algorithm: EspAlgorithm): boolean;
  /** A cipher bound to the keys. Throws EspError UNSUPPORTED_ALGORITHM when `supports` is false. */
  createCipher(algorithm: EspAlgorithm, keys: EspKeys): EspCipher;
}

/**
 * Constant-time comparison of `length` bytes of `a` at `aOffset` and `b` at `bOffset`: the time
 * depends on `length` only, not on where the bytes differ (as crypto.timingSafeEqual, without
 * the views it would need).
 */
export function constantTimeEqual(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number, length: number): boolean {
  let difference = 0;
  for (let i = 0; i < length; i++) difference |= a[aOffset + i]! ^ b[bOffset + i]!;
  return difference === 0;
}

/** Writes the AEAD additional authenticated data (RFC 4106 5) for the packet at `espOffset` into `aad` (8 or 12 bytes). */
export function writeAad(aad: Uint8Array, buf: Uint8Array, espOffset: number, esn: boolean, seqHigh: number): void {
  aad[0] = buf[espOffset]!;
  aad[1] = buf[espOffset + 1]!;
  aad[2] = buf[espOffset + 2]!;
  aad[3] = buf[espOffset + 3]!;
  let at = 4;
  if (esn) {
    // RFC 4106 5, RFC 4303 2.2.1: SPI, then the high-order 32 bits, then the low-order 32 bits.
    aad[4] = seqHigh >>> 24;
    aad[5] = (seqHigh >>> 16) & 0xff;
    aad[6] = (seqHigh >>> 8) & 0xff;
    aad[7] = seqHigh & 0xff;
    at = 8;
  }
  aad[at] = buf[espOffset + 4]!;
  aad[at + 1] = buf[espOffset + 5]!;
  aad[at + 2] = buf[espOffset + 6]!;
  aad[at + 3] = buf[espOffset + 7]!;
}

/**
 * RFC 4106 4 / RFC 7634 2: the per-packet half of the AEAD nonce (the 8-byte
 * explicit IV after SPI and sequence number, into nonce[4..12), after the
 * 4-byte salt) and the AAD, for the packet at `espOffset`.
 */
export function writeNonceAndAad(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, espOffset: number, esn: boolean, seqHigh: number): void {
  const iv = espOffset + 8;
  for (let i = 0; i < 8; i++) nonce[4 + i] = buf[iv + i]!;
  writeAad(aad, buf, espOffset, esn, seqHigh);
}
