/**
 * The node:crypto backend (the default).
 *
 * What is set up once per SA: the keys as KeyObjects (no key import per packet), the nonce
 * buffer with the salt in place, the AAD buffers, and for AES-CBC one long-lived cipher and
 * one long-lived decipher.
 *
 * Per packet:
 * - AEAD (AES-GCM, ChaCha20-Poly1305): node:crypto has no way to re-key or re-IV a cipher, so
 *   each packet needs `createCipheriv` / `createDecipheriv` with the packet's nonce. That object,
 *   the output Buffer of `update`, the tag Buffer and one `subarray` view are the allocations
 *   node:crypto forces. A bad tag makes `final()` throw inside node; it is caught here and
 *   becomes EspStatus.BAD_ICV (the exception is node's, not ours, and costs a few µs).
 * - AES-CBC: no cipher object per packet. The long-lived CBC cipher (padding off) is fed the
 *   random block R the SA wrote in the IV field followed by the plaintext; since CBC chains, the
 *   first output block C0 = E_K(R xor C_prev) becomes the packet's IV and the rest is the CBC
 *   encryption of the plaintext under IV C0. An IV obtained by encrypting a random block under
 *   the key is as unpredictable as the random block (NIST SP 800-38A Appendix C, RFC 3602 2.3).
 *   Decryption feeds IV || ciphertext to the long-lived decipher: the first output block is
 *   discarded, the rest is the plaintext, whatever the decipher's previous state.
 *   The HMAC still needs `createHmac` per packet (node:crypto cannot copy an HMAC state).
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey } from 'node:crypto';
import type { Cipher, Decipher, KeyObject } from 'node:crypto';
import type { EspAlgorithm } from './algorithms.js';
import { constantTimeEqual, writeNonceAndAad } from './backend.js';
import type { EspCipher, EspCryptoBackend, EspKeys } from './backend.js';
import { EspStatus } from './errors.js';

const TAG_OPTIONS = { authTagLength: 16 } as const;

class NodeAeadCipher implements EspCipher {
  private readonly key: KeyObject;
  private readonly cipherName: string;
  private readonly nonce = Buffer.alloc(12);
  private readonly aad: Buffer;
  private readonly tag = Buffer.alloc(16);
  private readonly esn: boolean;

  constructor(readonly algorithm: EspAlgorithm, keys: EspKeys) {
    this.cipherName = algorithm.opensslName;
    this.key = createSecretKey(keys.key.subarray(0, algorithm.keyLength));
    // RFC 4106 4 / RFC 7634 2: nonce = salt (4 bytes, the end of the keying material) || IV (8 bytes).
    this.nonce.set(keys.key.subarray(algorithm.keyLength, algorithm.keyLength + 4), 0);
    this.esn = keys.esn;
    this.aad = Buffer.alloc(keys.esn ? 12 : 8);
  }

  private prepare(buf: Uint8Array, espOffset: number, seqHigh: number): void {
    writeNonceAndAad(this.nonce, this.aad, buf, espOffset, this.esn, seqHigh);
  }

  seal(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    this.prepare(buf, espOffset, seqHigh);
    const cipher = createCipheriv(this.cipherName as 'aes-128-gcm', this.key, this.nonce, TAG_OPTIONS);
    cipher.setAAD(this.aad);
    const out = cipher.update(buf.subarray(payloadOffset, icvOffset));
    cipher.final();
    buf.set(out, payloadOffset);
    buf.set(cipher.getAuthTag(), icvOffset);
    return EspStatus.OK;
  }

  open(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    this.prepare(buf, espOffset, seqHigh);
    const tag = this.tag;
    for (let i = 0; i < 16; i++) tag[i] = buf[icvOffset + i]!;
    const decipher = createDecipheriv(this.cipherName as 'aes-128-gcm', this.key, this.nonce, TAG_OPTIONS);
    decipher.setAAD(this.aad);
    decipher.setAuthTag(tag);
    const out = decipher.update(buf.subarray(payloadOffset, icvOffset));
    try {
      // The tag is checked here (GHASH / Poly1305 compared in constant time by OpenSSL);
      // nothing is written to the packet before it verified.
      decipher.final();
    } catch {
      return EspStatus.BAD_ICV;
    }
    buf.set(out, payloadOffset);
    return EspStatus.OK;
  }
}

class NodeCbcHmacCipher implements EspCipher {
  private readonly encipher: Cipher;
  private readonly decipher: Decipher;
  private readonly authKey: KeyObject;
  private readonly esn: boolean;
  private readonly seqHighBytes = Buffer.alloc(4);

  constructor(readonly algorithm: EspAlgorithm, keys: EspKeys) {
    const key = createSecretKey(keys.key);
    const zero = Buffer.alloc(16);
    this.encipher = createCipheriv(algorithm.opensslName, key, zero);
    this.encipher.setAutoPadding(false);
    this.decipher = createDecipheriv(algorithm.opensslName, key, zero);
    this.decipher.setAutoPadding(false);
    this.authKey = createSecretKey(keys.authKey);
    this.esn = keys.esn;
  }

  /** RFC 4868 2.3 / RFC 4303 2.2.1: HMAC-SHA-256 over [espOffset, icvOffset), then Seq high when ESN is on. */
  private mac(buf: Uint8Array, espOffset: number, icvOffset: number, seqHigh: number): Uint8Array {
    const hmac = createHmac('sha256', this.authKey);
    hmac.update(buf.subarray(espOffset, icvOffset));
    if (this.esn) {
      const high = this.seqHighBytes;
      high[0] = seqHigh >>> 24;
      high[1] = (seqHigh >>> 16) & 0xff;
      high[2] = (seqHigh >>> 8) & 0xff;
      high[3] = seqHigh & 0xff;
      hmac.update(high);
    }
    return hmac.digest();
  }

  seal(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    const ivOffset = payloadOffset - 16;
    // IV field holds the random block R; the output's first block E_K(R ^ C_prev) is the IV.
    const out = this.encipher.update(buf.subarray(ivOffset, icvOffset));
    buf.set(out, ivOffset);
    const digest = this.mac(buf, espOffset, icvOffset, seqHigh);
    // RFC 4868 2.3: truncated to the first 128 bits.
    for (let i = 0; i < 16; i++) buf[icvOffset + i] = digest[i]!;
    return EspStatus.OK;
  }

  open(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    const digest = this.mac(buf, espOffset, icvOffset, seqHigh);
    // RFC 4303 3.4.4.1: integrity first (constant-time compare), decryption only after.
    if (!constantTimeEqual(digest, 0, buf, icvOffset, 16)) return EspStatus.BAD_ICV;
    const ivOffset = payloadOffset - 16;
    const out = this.decipher.update(buf.subarray(ivOffset, icvOffset));
    // out[0, 16) is D(IV) ^ previous state: garbage over the IV field; the plaintext lands at payloadOffset.
    buf.set(out, ivOffset);
    return EspStatus.OK;
  }
}

/** node:crypto: every algorithm. */
export const nodeBackend: EspCryptoBackend = {
  name: 'node',
  supports: () => true,
  createCipher(algorithm: EspAlgorithm, keys: EspKeys): EspCipher {
    return algorithm.aead ? new NodeAeadCipher(algorithm, keys) : new NodeCbcHmacCipher(algorithm, keys);
  },
};
