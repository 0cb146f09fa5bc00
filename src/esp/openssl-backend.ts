/**
 * The 'openssl' backend: the same OpenSSL that node:crypto wraps, called through vtepkit's
 * small cipher addon (native-shims/src/crypto.c, built next to the TAP addon as
 * native-shims/build/Release/vtepkit_crypto.node) so that a packet costs one N-API call and
 * no JavaScript object.
 *
 * node:crypto cannot set a new IV on an existing cipher, so its AEAD path builds a cipher
 * object, an output Buffer and a tag Buffer per packet (~5 µs, 550–740 bytes). This backend
 * keeps one encrypting and one decrypting EVP_CIPHER_CTX (and, for CBC, one keyed HMAC_CTX)
 * per SA and sets only the IV per packet: every algorithm, constant-time as OpenSSL is
 * (AES-NI, its Poly1305), nothing allocated per packet.
 *
 * It is the default when the addon loads (see {@link opensslBackendProblem}); otherwise SAs
 * fall back to node:crypto, as `ws` falls back without `bufferutil`. Opening decrypts into a
 * scratch area and copies the plaintext in only once the tag verified: a forged packet
 * leaves the buffer unchanged.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { EspAlgorithm } from './algorithms.js';
import type { EspCipher, EspCryptoBackend, EspKeys } from './backend.js';
import { EspError } from './errors.js';

/** Opaque OpenSSL state of one SA, freed by the garbage collector (or `destroy`). */
type CipherHandle = { readonly __espCipher: unique symbol };

interface CryptoAddon {
  create(cipherName: string, key: Uint8Array, salt: Uint8Array, authKey: Uint8Array, esn: boolean): CipherHandle;
  seal(handle: CipherHandle, buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number;
  open(handle: CipherHandle, buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number;
  destroy(handle: CipherHandle): void;
}

/** Where the build puts the addon, from the package root. */
export const CRYPTO_ADDON_PATH = fileURLToPath(new URL('../../native-shims/build/Release/vtepkit_crypto.node', import.meta.url));

type Load = { addon: CryptoAddon; problem?: undefined } | { addon?: undefined; problem: string };
let cached: Load | undefined;

function load(): Load {
  if (process.env.VTEPKIT_ESP_BACKEND_OPENSSL === '0') return { problem: 'VTEPKIT_ESP_BACKEND_OPENSSL=0 turns it off' };
  if (!existsSync(CRYPTO_ADDON_PATH)) return { problem: `the cipher addon is not built (${CRYPTO_ADDON_PATH} does not exist; \`npm run build:addon\`)` };
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(CRYPTO_ADDON_PATH);
  } catch (error) {
    return { problem: `the cipher addon does not load: ${error instanceof Error ? error.message : String(error)}` };
  }
  for (const name of ['create', 'seal', 'open', 'destroy']) {
    if (typeof (loaded as Record<string, unknown> | null)?.[name] !== 'function') return { problem: `the cipher addon lacks ${name}(); rebuild it` };
  }
  return { addon: loaded as CryptoAddon };
}

function addon(): CryptoAddon | undefined {
  cached ??= load();
  return cached.addon;
}

/** Why the 'openssl' backend is unavailable, or undefined when it is available. Never throws. */
export function opensslBackendProblem(): string | undefined {
  cached ??= load();
  return cached.problem;
}

const EMPTY = new Uint8Array(0);

class OpensslCipher implements EspCipher {
  private readonly handle: CipherHandle;
  private readonly native: CryptoAddon;

  constructor(readonly algorithm: EspAlgorithm, keys: EspKeys, native: CryptoAddon) {
    this.native = native;
    const key = keys.key.subarray(0, algorithm.keyLength);
    // RFC 4106 8.1 / RFC 7634 2: the AEAD's 4-byte salt follows the key.
    const salt = algorithm.aead ? keys.key.subarray(algorithm.keyLength, algorithm.keyLength + algorithm.saltLength) : EMPTY;
    this.handle = native.create(algorithm.opensslName, key, salt, algorithm.aead ? EMPTY : keys.authKey, keys.esn);
  }

  seal(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    return this.native.seal(this.handle, buf, espOffset, payloadOffset, icvOffset, seqHigh);
  }

  open(buf: Uint8Array, espOffset: number, payloadOffset: number, icvOffset: number, seqHigh: number): number {
    return this.native.open(this.handle, buf, espOffset, payloadOffset, icvOffset, seqHigh);
  }
}

/** OpenSSL through the cipher addon: every algorithm, when the addon loads. */
export const opensslBackend: EspCryptoBackend = {
  name: 'openssl',
  supports: () => addon() !== undefined,
  createCipher(algorithm: EspAlgorithm, keys: EspKeys): EspCipher {
    const native = addon();
    if (native === undefined) throw new EspError('UNSUPPORTED_ALGORITHM', 'backend', `the 'openssl' backend is unavailable: ${opensslBackendProblem()}`);
    return new OpensslCipher(algorithm, keys, native);
  },
};

/** True when the 'openssl' backend can be used. */
export function isOpensslBackendAvailable(): boolean {
  return addon() !== undefined;
}
