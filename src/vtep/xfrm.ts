/**
 * `ip xfrm state add` words (SaConfigInput) to a SecurityAssociation config.
 *
 *   aead 'rfc4106(gcm(aes))' KEY 128        → algorithm rfc4106(gcm(aes)), key = AES key + 4-byte salt
 *   aead 'rfc7539esp(chacha20,poly1305)' KEY 128
 *   enc aes|'cbc(aes)' KEY  auth sha256|'hmac(sha256)' KEY   (or auth-trunc … 128)
 *   encap espinudp SPORT DPORT 0.0.0.0     → RFC 3948 UDP encapsulation
 *
 * One difference from Linux, on purpose: `auth sha256` (without `-trunc`) gives
 * a 96-bit ICV in the Linux kernel, a leftover from a draft; vtepkit always uses
 * RFC 4868's 128 bits, so it means what `auth-trunc 'hmac(sha256)' KEY 128`
 * means there. Use auth-trunc on the Linux side to interoperate.
 */
import type { SecurityAssociationConfig } from '../esp/sa.js';
import type { SaConfigInput } from './api.js';

export class XfrmError extends Error {
  override readonly name = 'XfrmError';
  constructor(
    readonly code: 'BAD_VALUE',
    readonly field: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

const ENC_NAMES: Record<string, string> = { aes: 'cbc(aes)', 'cbc(aes)': 'cbc(aes)' };
const AUTH_NAMES: Record<string, string> = { sha256: 'hmac(sha256)', 'hmac(sha256)': 'hmac(sha256)' };

export function saConfigFromXfrm(input: SaConfigInput): SecurityAssociationConfig {
  if (input === null || typeof input !== 'object') throw new XfrmError('BAD_VALUE', 'state', 'an xfrm state must be an object');
  const common = {
    spi: input.spi,
    mode: input.mode ?? 'transport',
    source: input.src,
    destination: input.dst,
    ...(input.mode === 'tunnel' ? { tunnel: { source: input.src, destination: input.dst } } : {}),
    ...(input.esn === undefined ? {} : { esn: input.esn }),
    ...(input.replayWindow === undefined ? {} : { replayWindow: input.replayWindow }),
    ...(input.encap === undefined ? {} : { udpEncapsulation: { sourcePort: input.encap.sport, destinationPort: input.encap.dport } }),
  } as const;
  if (input.aead !== undefined) {
    if (input.enc !== undefined || input.auth !== undefined) throw new XfrmError('BAD_VALUE', 'aead', 'aead excludes enc and auth');
    if (input.aead.icvBits !== undefined && input.aead.icvBits !== 128) {
      throw new XfrmError('BAD_VALUE', 'aead', `only 128-bit ICVs are supported, got ${input.aead.icvBits}`);
    }
    return { ...common, algorithm: input.aead.name, key: input.aead.key };
  }
  if (input.enc === undefined || input.auth === undefined) {
    throw new XfrmError('BAD_VALUE', 'enc', 'give aead NAME KEY ICV, or both enc NAME KEY and auth NAME KEY');
  }
  const enc = ENC_NAMES[input.enc.name.toLowerCase()];
  if (enc === undefined) throw new XfrmError('BAD_VALUE', 'enc', `enc must be aes or 'cbc(aes)', got ${JSON.stringify(input.enc.name)}`);
  const auth = AUTH_NAMES[input.auth.name.toLowerCase()];
  if (auth === undefined) throw new XfrmError('BAD_VALUE', 'auth', `auth must be sha256 or 'hmac(sha256)', got ${JSON.stringify(input.auth.name)}`);
  if (input.auth.truncBits !== undefined && input.auth.truncBits !== 128) {
    throw new XfrmError('BAD_VALUE', 'auth', `only 128-bit HMAC-SHA-256 truncation (RFC 4868) is supported, got ${input.auth.truncBits}`);
  }
  return { ...common, algorithm: enc, key: input.enc.key, authAlgorithm: auth, authKey: input.auth.key };
}
