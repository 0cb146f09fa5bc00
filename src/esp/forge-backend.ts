/**
 * The node-forge backend: pure JavaScript AES-GCM and AES-CBC + HMAC-SHA-256, no OpenSSL.
 * It exists as a second, independent implementation (tests seal with one backend and open
 * with the other) and for runtimes without node:crypto's ciphers. It is slow (forge works on
 * binary strings) and allocates freely. node-forge has no ChaCha20-Poly1305: asking for it is
 * an EspError UNSUPPORTED_ALGORITHM when the SA is created.
 *
 * The CBC IV is the 16 random bytes the SA wrote in the IV field, used as they are.
 * Tags and HMACs are compared here in constant time (forge's own GCM tag check is a string
 * comparison, so its verdict is not used: the tag it computed is).
 */
import forge from 'node-forge';
import type { EspAlgorithm } from './algorithms.js';
import { constantTimeEqual, writeAad } from './backend.js';
import type { EspCipher, EspCryptoBackend, EspKeys } from './backend.js';
import { EspError, EspStatus } from './errors.js';

/** Bytes as a forge "binary string" (one char per byte). */
function binary(buf: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i += 8192) {
    text += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return text;
}

/** Copies a binary string into `buf` at `offset`. */
function copyBinary(text: string, buf: Uint8Array, offset: number): void {
  for (let i = 0; i < text.length; i++) buf[offset + i] = text.charCodeAt(i);
}

/** forge's finish(pad) with a pad function that adds and removes nothing (the types omit the argument). */
function finishWithoutPadding(cipher: forge.cipher.BlockCipher): void {
  (cipher as unknown as { finish(pad: () => boolean): boolean }).finish(() => true);
}

class ForgeGcmCipher implements EspCipher {
  private readonly key: string;
  private readonly salt: string;
  private readonly aad: Uint8Array;
  private readonly esn: boolean;
  private readonly computed = new Uint8Array(16);

  constructor(readonly algorithm: EspAlgorithm, keys: EspKeys) {
    this.key = binary(keys.key, 0, algorithm.keyLength);
    this.salt = binary(keys.key, algorithm.keyLength, algorithm.keyLength + 4);
    this.esn = keys.esn;
    this.aad = new Uint8Array(keys.esn ? 12 : 8);
  }

  private options(buf: Uint8Array, espOffset: number, seqHigh: number): { iv: string; additionalData: string; tagLength: number } {
    writeAad(this.aad, buf, espOffset, this.esn, seqHigh);
    // RFC 4106 4: nonce = salt || explicit IV.
    return { iv: this.salt + binary(buf, espOffset + 8, espOffset + 16), additionalData: binary(this.aad, 0, this.aad.length), tagLength: 128 };
  }

  seal(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    const cipher = forge.cipher.createCipher('AES-GCM', this.key);
    cipher.start(this.options(buf, espOffset, seqHigh));
    cipher.update(forge.util.createBuffer(binary(buf, payloadOffset, icvOffset)));
    cipher.finish();
    copyBinary(cipher.output.getBytes(), buf, payloadOffset);
    copyBinary(cipher.mode.tag.getBytes(), buf, icvOffset);
    return EspStatus.OK;
  }

  open(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    const decipher = forge.cipher.createDecipher('AES-GCM', this.key);
    decipher.start({ ...this.options(buf, espOffset, seqHigh), tag: forge.util.createBuffer(binary(buf, icvOffset, icvOffset + 16)) });
    decipher.update(forge.util.createBuffer(binary(buf, payloadOffset, icvOffset)));
    decipher.finish();
    const computed = this.computed;
    copyBinary(decipher.mode.tag.getBytes(), computed, 0);
    if (!constantTimeEqual(computed, 0, buf, icvOffset, 16)) return EspStatus.BAD_ICV;
    copyBinary(decipher.output.getBytes(), buf, payloadOffset);
    return EspStatus.OK;
  }
}

class ForgeCbcHmacCipher implements EspCipher {
  private readonly key: string;
  private readonly authKey: string;
  private readonly esn: boolean;
  private readonly computed = new Uint8Array(16);

  constructor(readonly algorithm: EspAlgorithm, keys: EspKeys) {
    this.key = binary(keys.key, 0, keys.key.length);
    this.authKey = binary(keys.authKey, 0, keys.authKey.length);
    this.esn = keys.esn;
  }

  private mac(buf: Uint8Array, espOffset: number, icvOffset: number, seqHigh: number): string {
    const hmac = forge.hmac.create();
    hmac.start('sha256', this.authKey);
    hmac.update(binary(buf, espOffset, icvOffset));
    // RFC 4303 2.2.1: with ESN the high-order 32 bits follow the packet in the ICV input.
    if (this.esn) hmac.update(String.fromCharCode(seqHigh >>> 24, (seqHigh >>> 16) & 0xff, (seqHigh >>> 8) & 0xff, seqHigh & 0xff));
    return hmac.digest().getBytes(16);
  }

  seal(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    const cipher = forge.cipher.createCipher('AES-CBC', this.key);
    cipher.start({ iv: binary(buf, payloadOffset - 16, payloadOffset) });
    cipher.update(forge.util.createBuffer(binary(buf, payloadOffset, icvOffset)));
    // ESP does its own padding (RFC 4303 2.4): no PKCS#7.
    finishWithoutPadding(cipher);
    copyBinary(cipher.output.getBytes(), buf, payloadOffset);
    copyBinary(this.mac(buf, espOffset, icvOffset, seqHigh), buf, icvOffset);
    return EspStatus.OK;
  }

  open(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    const computed = this.computed;
    copyBinary(this.mac(buf, espOffset, icvOffset, seqHigh), computed, 0);
    if (!constantTimeEqual(computed, 0, buf, icvOffset, 16)) return EspStatus.BAD_ICV;
    const decipher = forge.cipher.createDecipher('AES-CBC', this.key);
    decipher.start({ iv: binary(buf, payloadOffset - 16, payloadOffset) });
    decipher.update(forge.util.createBuffer(binary(buf, payloadOffset, icvOffset)));
    finishWithoutPadding(decipher);
    copyBinary(decipher.output.getBytes(), buf, payloadOffset);
    return EspStatus.OK;
  }
}

/** node-forge: AES-GCM (128, 256) and AES-CBC + HMAC-SHA-256-128; not ChaCha20-Poly1305. */
export const forgeBackend: EspCryptoBackend = {
  name: 'forge',
  supports: (algorithm: EspAlgorithm) => algorithm.name !== 'chacha20-poly1305',
  createCipher(algorithm: EspAlgorithm, keys: EspKeys): EspCipher {
    if (algorithm.name === 'chacha20-poly1305') {
      throw new EspError(
        'UNSUPPORTED_ALGORITHM',
        'backend',
        "node-forge has no ChaCha20-Poly1305; use backend 'node' for chacha20-poly1305, or choose aes-gcm-128, aes-gcm-256, aes-cbc-128-hmac-sha256 or aes-cbc-256-hmac-sha256",
      );
    }
    return algorithm.aead ? new ForgeGcmCipher(algorithm, keys) : new ForgeCbcHmacCipher(algorithm, keys);
  },
};
