/**
 * The 'openssl' backend (native-shims/src/crypto.c): what the other ESP tests do not
 * already show. Those run every algorithm through it against node:crypto, node-forge, the
 * published vectors and scapy (it is the default backend when the addon is built); here:
 * it is there when CI requires it, it is the default, the fallback without it, a forged
 * packet leaves the buffer byte for byte unchanged, and no offsets or bytes whatever make
 * it throw, crash or write outside the packet.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { ESP_ALGORITHMS, type EspAlgorithmName } from '../../src/esp/algorithms.js';
import { EspStatus } from '../../src/esp/errors.js';
import { gcmJsBackend } from '../../src/esp/gcm-backend.js';
import { isOpensslBackendAvailable, opensslBackend, opensslBackendProblem } from '../../src/esp/openssl-backend.js';
import { SecurityAssociation } from '../../src/esp/sa.js';
import { ALGORITHM_CASES, bytesOfHex, hexOfBytes, inBuffer, ipv4Udp, keysOf } from './fixtures.js';

const available = isOpensslBackendAvailable();

/** A cipher of `algorithm` with fixed keys, straight from the backend. */
function cipherOf(name: EspAlgorithmName) {
  const algorithm = ESP_ALGORITHMS[name];
  const key = new Uint8Array(algorithm.keyLength + algorithm.saltLength).map((_, i) => i * 7 + 1);
  const authKey = algorithm.aead ? new Uint8Array(0) : new Uint8Array(32).fill(0x5c);
  return opensslBackend.createCipher(algorithm, { key, authKey, esn: false });
}

describe('esp/openssl-backend', function () {
  before(function () {
    if (available) return;
    if (process.env.VTEPKIT_REQUIRE_ADDON === '1') throw new Error(`VTEPKIT_REQUIRE_ADDON=1 but the 'openssl' backend is unavailable: ${opensslBackendProblem()}`);
    this.skip();
  });

  it('is the default backend of a new SA', () => {
    for (const c of ALGORITHM_CASES) expect(new SecurityAssociation({ spi: 0x100, ...keysOf(c) }).backend, c.algorithm).to.equal('openssl');
  });

  it('falls back to node:crypto when it is turned off, and says why when asked for by name', () => {
    const script = `
      import { SecurityAssociation } from './src/esp/sa.ts';
      const sa = new SecurityAssociation({ spi: 0x100, algorithm: 'aes-gcm-128', key: '0x${'01'.repeat(20)}' });
      let refusal = '';
      try { new SecurityAssociation({ spi: 0x101, algorithm: 'aes-gcm-128', key: '0x${'01'.repeat(20)}', backend: 'openssl' }); }
      catch (error) { refusal = error.code + ' ' + error.field + ' ' + error.message; }
      console.log(JSON.stringify({ backend: sa.backend, refusal }));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, VTEPKIT_ESP_BACKEND_OPENSSL: '0' },
      timeout: 20_000,
    });
    expect(run.status, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout.trim()) as { backend: string; refusal: string };
    expect(result.backend).to.equal('node');
    expect(result.refusal).to.match(/^BAD_CONFIG backend .*'openssl' is unavailable: VTEPKIT_ESP_BACKEND_OPENSSL=0/);
  });

  for (const c of ALGORITHM_CASES) {
    it(`${c.algorithm}: a forged packet is refused and leaves the buffer unchanged`, () => {
      const sealer = new SecurityAssociation({ spi: 0x200, ...keysOf(c), backend: 'openssl' });
      const sealed = sealer.seal(ipv4Udp(100));
      // One bit in the ciphertext, then one in the ICV, then one in the SPI-covered header (the sequence number).
      for (const at of [40, sealed.length - 1, 24]) {
        const opener = new SecurityAssociation({ spi: 0x200, ...keysOf(c), backend: 'openssl' });
        const forged = Uint8Array.from(sealed);
        forged[at]! ^= 0x10;
        const view = inBuffer(forged);
        const before = Uint8Array.from(view.bytes);
        expect(opener.openBuffer(view), `bit at ${at}`).to.equal(EspStatus.BAD_ICV);
        expect(hexOfBytes(view.bytes), `bit at ${at}`).to.equal(hexOfBytes(before));
        expect(opener.stats.badIcv).to.equal(1);
        // The genuine packet still opens afterwards: the failure left no state behind.
        expect(hexOfBytes(opener.open(sealed))).to.equal(hexOfBytes(ipv4Udp(100)));
      }
    });
  }

  it('AES-GCM sealed by openssl opens with gcm-js and the other way round', () => {
    const algorithm = ESP_ALGORITHMS['aes-gcm-256'];
    const keys = { key: new Uint8Array(36).map((_, i) => 255 - i), authKey: new Uint8Array(0), esn: true };
    const a = opensslBackend.createCipher(algorithm, keys);
    const b = gcmJsBackend.createCipher(algorithm, keys);
    for (const [sealer, opener] of [[a, b], [b, a]] as const) {
      for (const length of [0, 4, 15, 16, 17, 100, 1500]) {
        const buf = new Uint8Array(16 + length + 16);
        buf.set(bytesOfHex('0000abcd00000007000000000000002a'), 0);
        for (let i = 0; i < length; i++) buf[16 + i] = (i * 31) & 0xff;
        const plain = buf.slice(16, 16 + length);
        expect(sealer.seal(buf, 0, 16, 16 + length, 3)).to.equal(EspStatus.OK);
        if (length > 0) expect(hexOfBytes(buf.subarray(16, 16 + length))).to.not.equal(hexOfBytes(plain));
        expect(opener.open(buf, 0, 16, 16 + length, 3)).to.equal(EspStatus.OK);
        expect(hexOfBytes(buf.subarray(16, 16 + length))).to.equal(hexOfBytes(plain));
        // The ESN high half is in the AAD: another one fails.
        expect(sealer.seal(buf, 0, 16, 16 + length, 3)).to.equal(EspStatus.OK);
        expect(opener.open(buf, 0, 16, 16 + length, 4)).to.equal(EspStatus.BAD_ICV);
      }
    }
  });

  it('returns BAD_LENGTH for offsets that do not describe a packet in the buffer', () => {
    for (const name of ['aes-gcm-128', 'chacha20-poly1305', 'aes-cbc-128-hmac-sha256'] as const) {
      const cipher = cipherOf(name);
      const buf = new Uint8Array(64);
      for (const [esp, payload, icv] of [[-1, 8, 16], [0, 4, 16], [0, 24, 20], [0, 24, 49], [0, 24, 1e9], [40, 8, 16]]) {
        expect(cipher.seal(buf, esp!, payload!, icv!, 0), `${name} seal ${esp} ${payload} ${icv}`).to.equal(EspStatus.BAD_LENGTH);
        expect(cipher.open(buf, esp!, payload!, icv!, 0), `${name} open ${esp} ${payload} ${icv}`).to.equal(EspStatus.BAD_LENGTH);
      }
      expect(hexOfBytes(buf)).to.equal('00'.repeat(64));
    }
    // CBC: a ciphertext that is not whole blocks.
    const cbc = cipherOf('aes-cbc-256-hmac-sha256');
    expect(cbc.seal(new Uint8Array(80), 0, 24, 24 + 17, 0)).to.equal(EspStatus.BAD_LENGTH);
  });

  it('never throws and never writes outside [espOffset, icvOffset + 16), whatever the offsets and bytes', () => {
    const ciphers = (['aes-gcm-128', 'aes-gcm-256', 'chacha20-poly1305', 'aes-cbc-128-hmac-sha256'] as const).map(cipherOf);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.integer({ min: -4, max: 320 }),
        fc.integer({ min: -4, max: 320 }),
        fc.integer({ min: -4, max: 320 }),
        fc.nat({ max: 3 }),
        fc.boolean(),
        (bytes, esp, payload, icv, which, sealing) => {
          const buf = Uint8Array.from(bytes);
          const cipher = ciphers[which]!;
          const status = sealing ? cipher.seal(buf, esp, payload, icv, 0) : cipher.open(buf, esp, payload, icv, 0);
          expect([EspStatus.OK, EspStatus.BAD_ICV, EspStatus.BAD_LENGTH]).to.include(status);
          if (status === EspStatus.BAD_LENGTH || status === EspStatus.BAD_ICV) {
            // Refused: nothing written at all (CBC seal may refuse after its checks only).
            expect(hexOfBytes(buf)).to.equal(hexOfBytes(bytes));
          } else {
            for (let i = 0; i < buf.length; i++) if (i < esp || i >= icv + 16) expect(buf[i], `byte ${i}`).to.equal(bytes[i]);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
