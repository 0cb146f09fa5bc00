/**
 * The ESP transforms this engine implements, their sizes, and the names people use for them
 * (ours, iproute2's `ip xfrm`, strongSwan's proposals).
 *
 * | name                      | RFC               | key (+ salt) | IV | ICV | block |
 * |---------------------------|-------------------|--------------|----|-----|-------|
 * | aes-gcm-128               | RFC 4106          | 16 + 4       | 8  | 16  | 1 (4) |
 * | aes-gcm-256               | RFC 4106          | 32 + 4       | 8  | 16  | 1 (4) |
 * | chacha20-poly1305         | RFC 7634          | 32 + 4       | 8  | 16  | 1 (4) |
 * | aes-cbc-128-hmac-sha256   | RFC 3602 + 4868   | 16, auth 32  | 16 | 16  | 16    |
 * | aes-cbc-256-hmac-sha256   | RFC 3602 + 4868   | 32, auth 32  | 16 | 16  | 16    |
 */
import { badConfig, describeValue } from './errors.js';

export type EspAlgorithmName =
  | 'aes-gcm-128'
  | 'aes-gcm-256'
  | 'chacha20-poly1305'
  | 'aes-cbc-128-hmac-sha256'
  | 'aes-cbc-256-hmac-sha256';

export interface EspAlgorithm {
  readonly name: EspAlgorithmName;
  /** Combined mode (AEAD): one key, the ICV comes from the cipher. */
  readonly aead: boolean;
  /** Cipher key bytes, without the salt. */
  readonly keyLength: number;
  /** RFC 4106 8.1 / RFC 7634 2: 4 salt bytes at the end of the keying material; 0 for CBC. */
  readonly saltLength: number;
  /** Bytes of IV carried in each packet: 8 (RFC 4106 3.1, RFC 7634 2) or 16 (RFC 3602 3). */
  readonly ivLength: number;
  /** Bytes of ICV: 16 (RFC 4106 6, RFC 7634 2, RFC 4868 2.3). */
  readonly icvLength: number;
  /** Cipher block size for padding: 1 for the AEADs (then 4-byte alignment applies), 16 for AES-CBC. */
  readonly blockSize: number;
  /** HMAC key bytes (RFC 4868 2.1.1: 32 for HMAC-SHA-256); 0 for AEADs. */
  readonly authKeyLength: number;
  /** OpenSSL cipher name as node:crypto knows it. */
  readonly opensslName: string;
}

const table: Record<EspAlgorithmName, EspAlgorithm> = {
  'aes-gcm-128': { name: 'aes-gcm-128', aead: true, keyLength: 16, saltLength: 4, ivLength: 8, icvLength: 16, blockSize: 1, authKeyLength: 0, opensslName: 'aes-128-gcm' },
  'aes-gcm-256': { name: 'aes-gcm-256', aead: true, keyLength: 32, saltLength: 4, ivLength: 8, icvLength: 16, blockSize: 1, authKeyLength: 0, opensslName: 'aes-256-gcm' },
  'chacha20-poly1305': { name: 'chacha20-poly1305', aead: true, keyLength: 32, saltLength: 4, ivLength: 8, icvLength: 16, blockSize: 1, authKeyLength: 0, opensslName: 'chacha20-poly1305' },
  'aes-cbc-128-hmac-sha256': { name: 'aes-cbc-128-hmac-sha256', aead: false, keyLength: 16, saltLength: 0, ivLength: 16, icvLength: 16, blockSize: 16, authKeyLength: 32, opensslName: 'aes-128-cbc' },
  'aes-cbc-256-hmac-sha256': { name: 'aes-cbc-256-hmac-sha256', aead: false, keyLength: 32, saltLength: 0, ivLength: 16, icvLength: 16, blockSize: 16, authKeyLength: 32, opensslName: 'aes-256-cbc' },
};

/** Every algorithm, by our name. */
export const ESP_ALGORITHMS: Readonly<Record<EspAlgorithmName, EspAlgorithm>> = table;

/** Names accepted in `algorithm`, with what they mean. Case-insensitive. */
const ALIASES: Record<string, EspAlgorithmName | 'rfc4106' | 'cbc'> = {
  'aes-gcm-128': 'aes-gcm-128',
  'aes-gcm-256': 'aes-gcm-256',
  'chacha20-poly1305': 'chacha20-poly1305',
  'aes-cbc-128-hmac-sha256': 'aes-cbc-128-hmac-sha256',
  'aes-cbc-256-hmac-sha256': 'aes-cbc-256-hmac-sha256',
  // iproute2 (`ip xfrm state add … aead NAME KEY 128` / `enc NAME KEY auth NAME KEY`): key length decides.
  'rfc4106(gcm(aes))': 'rfc4106',
  'rfc7539esp(chacha20,poly1305)': 'chacha20-poly1305',
  'cbc(aes)': 'cbc',
  // strongSwan proposal keywords (`esp=aes256gcm16`, `esp=aes256-sha256`).
  aes128gcm16: 'aes-gcm-128',
  aes256gcm16: 'aes-gcm-256',
  chacha20poly1305: 'chacha20-poly1305',
  'aes128-sha256': 'aes-cbc-128-hmac-sha256',
  'aes256-sha256': 'aes-cbc-256-hmac-sha256',
};

const AUTH_NAMES = ['hmac(sha256)', 'sha256', 'hmac-sha256', 'hmac-sha256-128'];

/** The spellings `algorithm` accepts, for messages and docs. */
export const ESP_ALGORITHM_SPELLINGS: readonly string[] = Object.keys(ALIASES);

/**
 * Parses key material: a Uint8Array (copied), or a hex string as `ip xfrm` takes it
 * ('0x' followed by an even number of hex digits). Throws EspError BAD_CONFIG naming `field`.
 */
export function parseKey(value: unknown, field: string): Uint8Array {
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (typeof value === 'string') {
    if (!/^0x([0-9a-fA-F]{2})+$/.test(value)) {
      throw badConfig(field, `must be a Uint8Array or a hex string '0x…' with an even number of digits, got ${describeValue(value)}`);
    }
    const hex = value.slice(2);
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return out;
  }
  throw badConfig(field, `must be a Uint8Array or a hex string '0x…', got ${describeValue(value)}`);
}

/**
 * Resolves the configured name and key lengths to an algorithm. For the iproute2 names the
 * key length decides: 'rfc4106(gcm(aes))' with 20 bytes is AES-128-GCM and with 36 bytes
 * AES-256-GCM; 'cbc(aes)' with 16 or 32 bytes. `authAlgorithm` is only meaningful for CBC
 * (default 'hmac(sha256)', the only one supported). Throws EspError BAD_CONFIG.
 */
export function resolveAlgorithm(algorithm: unknown, keyLength: number, authAlgorithm: unknown): EspAlgorithm {
  const spellings = ESP_ALGORITHM_SPELLINGS.map((s) => `'${s}'`).join(', ');
  if (typeof algorithm !== 'string') throw badConfig('algorithm', `must be one of ${spellings}; got ${describeValue(algorithm)}`);
  const alias = ALIASES[algorithm.toLowerCase()];
  if (alias === undefined) throw badConfig('algorithm', `must be one of ${spellings}; got ${describeValue(algorithm)}`);
  let name: EspAlgorithmName;
  if (alias === 'rfc4106') {
    if (keyLength === 20) name = 'aes-gcm-128';
    else if (keyLength === 36) name = 'aes-gcm-256';
    else throw badConfig('key', `rfc4106(gcm(aes)) takes the AES key followed by a 4-byte salt: 20 bytes (AES-128) or 36 bytes (AES-256), got ${keyLength}`);
  } else if (alias === 'cbc') {
    if (keyLength === 16) name = 'aes-cbc-128-hmac-sha256';
    else if (keyLength === 32) name = 'aes-cbc-256-hmac-sha256';
    else throw badConfig('key', `cbc(aes) takes a 16-byte (AES-128) or 32-byte (AES-256) key, got ${keyLength}`);
  } else {
    name = alias;
  }
  const info = table[name];
  if (info.aead) {
    if (authAlgorithm !== undefined) {
      throw badConfig('authAlgorithm', `${name} is a combined-mode (AEAD) algorithm and takes no separate integrity algorithm; remove authAlgorithm`);
    }
  } else if (authAlgorithm !== undefined && (typeof authAlgorithm !== 'string' || !AUTH_NAMES.includes(authAlgorithm.toLowerCase()))) {
    throw badConfig('authAlgorithm', `must be one of ${AUTH_NAMES.map((s) => `'${s}'`).join(', ')} (HMAC-SHA-256-128, RFC 4868); got ${describeValue(authAlgorithm)}`);
  }
  const expected = info.keyLength + info.saltLength;
  if (keyLength !== expected) {
    const what = info.saltLength > 0 ? `${info.keyLength}-byte key followed by a ${info.saltLength}-byte salt` : `${info.keyLength}-byte key`;
    throw badConfig('key', `${name} takes a ${what} (${expected} bytes), got ${keyLength}`);
  }
  return info;
}
