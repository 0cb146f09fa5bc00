/**
 * SA configuration: the names `ip xfrm` and strongSwan use, keys as xfrm writes them, and an
 * EspError naming the field and the allowed values for everything else.
 */
import { expect } from 'chai';
import { ESP_ALGORITHMS, parseKey, resolveAlgorithm } from '../../src/esp/algorithms.js';
import { EspError, EspStatus, espStatusName } from '../../src/esp/errors.js';
import { forgeBackend } from '../../src/esp/forge-backend.js';
import { nodeBackend } from '../../src/esp/node-backend.js';
import { isOpensslBackendAvailable } from '../../src/esp/openssl-backend.js';
import { SecurityAssociation } from '../../src/esp/sa.js';
import type { SecurityAssociationConfig } from '../../src/esp/sa.js';
import { ALGORITHM_CASES, expectEspError, keysOf } from './fixtures.js';

const gcm = { spi: 0x1000, algorithm: 'aes-gcm-128', key: `0x${'11'.repeat(20)}` } as const;
const make = (extra: Partial<SecurityAssociationConfig> | Record<string, unknown>): SecurityAssociation =>
  new SecurityAssociation({ ...gcm, ...extra } as SecurityAssociationConfig);

describe('esp/config', () => {
  describe('algorithms', () => {
    it('have the RFC sizes', () => {
      // RFC 4106 3.1, 6, 8.1; RFC 7634 2; RFC 3602 3; RFC 4868 2.1.1, 2.3.
      expect(ESP_ALGORITHMS['aes-gcm-128']).to.include({ keyLength: 16, saltLength: 4, ivLength: 8, icvLength: 16, blockSize: 1 });
      expect(ESP_ALGORITHMS['aes-gcm-256']).to.include({ keyLength: 32, saltLength: 4, ivLength: 8, icvLength: 16 });
      expect(ESP_ALGORITHMS['chacha20-poly1305']).to.include({ keyLength: 32, saltLength: 4, ivLength: 8, icvLength: 16 });
      expect(ESP_ALGORITHMS['aes-cbc-128-hmac-sha256']).to.include({ keyLength: 16, saltLength: 0, ivLength: 16, icvLength: 16, blockSize: 16, authKeyLength: 32 });
      expect(ESP_ALGORITHMS['aes-cbc-256-hmac-sha256']).to.include({ keyLength: 32, ivLength: 16, icvLength: 16, blockSize: 16, authKeyLength: 32 });
    });

    it('accept the iproute2 names, where the key length decides the AES size', () => {
      expect(resolveAlgorithm('rfc4106(gcm(aes))', 20, undefined).name).to.equal('aes-gcm-128');
      expect(resolveAlgorithm('rfc4106(gcm(aes))', 36, undefined).name).to.equal('aes-gcm-256');
      expect(resolveAlgorithm('rfc7539esp(chacha20,poly1305)', 36, undefined).name).to.equal('chacha20-poly1305');
      expect(resolveAlgorithm('cbc(aes)', 16, 'hmac(sha256)').name).to.equal('aes-cbc-128-hmac-sha256');
      expect(resolveAlgorithm('cbc(aes)', 32, 'hmac(sha256)').name).to.equal('aes-cbc-256-hmac-sha256');
      expect(resolveAlgorithm('cbc(aes)', 32, undefined).name).to.equal('aes-cbc-256-hmac-sha256');
      expect(resolveAlgorithm('RFC4106(GCM(AES))', 20, undefined).name).to.equal('aes-gcm-128');
    });

    it("accept strongSwan's proposal keywords (esp=aes256-sha256, esp=aes128gcm16)", () => {
      expect(resolveAlgorithm('aes256-sha256', 32, undefined).name).to.equal('aes-cbc-256-hmac-sha256');
      expect(resolveAlgorithm('aes128-sha256', 16, undefined).name).to.equal('aes-cbc-128-hmac-sha256');
      expect(resolveAlgorithm('aes128gcm16', 20, undefined).name).to.equal('aes-gcm-128');
      expect(resolveAlgorithm('aes256gcm16', 36, undefined).name).to.equal('aes-gcm-256');
      expect(resolveAlgorithm('chacha20poly1305', 36, undefined).name).to.equal('chacha20-poly1305');
    });

    it('refuse unknown names, listing the allowed ones', () => {
      const error = expectEspError(() => resolveAlgorithm('aes-ctr', 20, undefined), 'BAD_CONFIG', 'algorithm');
      expect(error.message).to.include("'aes-gcm-128'").and.include("'rfc4106(gcm(aes))'").and.include("'cbc(aes)'");
      expectEspError(() => resolveAlgorithm(7, 20, undefined), 'BAD_CONFIG', 'algorithm');
      expectEspError(() => resolveAlgorithm('cbc(aes)', 16, 'hmac(sha1)'), 'BAD_CONFIG', 'authAlgorithm');
      expectEspError(() => resolveAlgorithm('aes-gcm-128', 20, 'hmac(sha256)'), 'BAD_CONFIG', 'authAlgorithm');
    });

    it('check key lengths, with the salt spelled out', () => {
      expect(expectEspError(() => resolveAlgorithm('rfc4106(gcm(aes))', 16, undefined), 'BAD_CONFIG', 'key').message).to.include('4-byte salt');
      expectEspError(() => resolveAlgorithm('rfc4106(gcm(aes))', 28, undefined), 'BAD_CONFIG', 'key');
      expectEspError(() => resolveAlgorithm('cbc(aes)', 24, undefined), 'BAD_CONFIG', 'key');
      expect(expectEspError(() => resolveAlgorithm('aes-gcm-128', 16, undefined), 'BAD_CONFIG', 'key').message).to.include('(20 bytes)');
      expectEspError(() => resolveAlgorithm('chacha20-poly1305', 32, undefined), 'BAD_CONFIG', 'key');
      expectEspError(() => resolveAlgorithm('aes-cbc-256-hmac-sha256', 16, undefined), 'BAD_CONFIG', 'key');
    });
  });

  describe('keys', () => {
    it("parse '0x…' hex as ip xfrm writes them, and copy Uint8Arrays", () => {
      expect([...parseKey('0x00ff10Ab', 'key')]).to.deep.equal([0, 255, 16, 0xab]);
      const raw = Uint8Array.of(1, 2, 3);
      const parsed = parseKey(raw, 'key');
      raw[0] = 9;
      expect([...parsed]).to.deep.equal([1, 2, 3]);
    });

    it('refuse anything else, naming the field', () => {
      for (const bad of ['00ff', '0x0', '0xzz', 'secret', '', 42, null, [1, 2]]) expectEspError(() => parseKey(bad, 'authKey'), 'BAD_CONFIG', 'authKey');
    });
  });

  describe('SecurityAssociation', () => {
    it('builds every algorithm with each backend (forge: not ChaCha20; openssl: when the addon is built)', () => {
      const backends = isOpensslBackendAvailable() ? (['node', 'forge', 'openssl'] as const) : (['node', 'forge'] as const);
      for (const c of ALGORITHM_CASES) {
        for (const backend of backends) {
          if (backend === 'forge' && !c.forge) continue;
          const sa = new SecurityAssociation({ spi: 0x100, ...keysOf(c), backend });
          expect(sa.algorithm.name).to.equal(c.algorithm);
          expect(sa.backend).to.equal(backend);
          expect(sa.mode).to.equal('transport');
          expect(sa.replayWindow).to.equal(64);
          expect(sa.outboundSeq).to.equal(0n);
          expect(sa.inboundSeq).to.equal(0n);
        }
      }
    });

    it('says clearly that node-forge has no ChaCha20-Poly1305', () => {
      const error = expectEspError(() => new SecurityAssociation({ spi: 0x100, algorithm: 'chacha20-poly1305', key: `0x${'01'.repeat(36)}`, backend: 'forge' }), 'UNSUPPORTED_ALGORITHM', 'backend');
      expect(error.message).to.include('ChaCha20-Poly1305').and.include("backend 'node'");
      expect(forgeBackend.supports(ESP_ALGORITHMS['chacha20-poly1305'])).to.equal(false);
      expect(nodeBackend.supports(ESP_ALGORITHMS['chacha20-poly1305'])).to.equal(true);
    });

    it('takes the xfrm-style configuration: esn, window, sequence numbers, encapsulation, limits', () => {
      const sa = make({
        mode: 'tunnel',
        tunnel: { source: '2001:db8::1', destination: '2001:db8::2' },
        esn: true,
        replayWindow: 4096,
        inboundSeq: 0x1_0000_0005n,
        outboundSeq: 0x2_ffff_ffffn,
        udpEncapsulation: { sourcePort: 4501 },
        limits: { packetSoft: 10, packetHard: 20n, byteSoft: 1000, byteHard: 5000, timeSoft: 3600, timeHard: 7200 },
      });
      expect(sa.snapshot()).to.include({ spi: 0x1000, mode: 'tunnel', esn: true, replayWindow: 4096, source: '2001:db8::1', destination: '2001:db8::2', outboundSeq: '12884901887', inboundSeq: '4294967301' });
      expect(sa.udpEncapsulation).to.deep.equal({ sourcePort: 4501, destinationPort: 4500 });
      expect(make({ udpEncapsulation: true }).udpEncapsulation).to.deep.equal({ sourcePort: 4500, destinationPort: 4500 });
      expect(sa.headroom).to.equal(40 + 8 + 8 + 8);
      sa.close();
    });

    const refusals: [string, Record<string, unknown>, string][] = [
      ['spi 0', { spi: 0 }, 'spi'],
      ['spi 255 (IANA reserved)', { spi: 255 }, 'spi'],
      ['spi 2^32', { spi: 2 ** 32 }, 'spi'],
      ['spi as text', { spi: '0x1000' }, 'spi'],
      ['unknown mode', { mode: 'beet' }, 'mode'],
      ['tunnel without endpoints', { mode: 'tunnel' }, 'tunnel'],
      ['tunnel in transport mode', { tunnel: { source: '192.0.2.1', destination: '192.0.2.2' } }, 'tunnel'],
      ['mixed tunnel families', { mode: 'tunnel', tunnel: { source: '192.0.2.1', destination: '2001:db8::2' } }, 'tunnel.destination'],
      ['bad tunnel address', { mode: 'tunnel', tunnel: { source: '192.0.2.300', destination: '192.0.2.2' } }, 'tunnel.source'],
      ['tunnel ttl 0', { mode: 'tunnel', tunnel: { source: '192.0.2.1', destination: '192.0.2.2', ttl: 0 } }, 'tunnel.ttl'],
      ['esn not boolean', { esn: 1 }, 'esn'],
      ['window too large', { replayWindow: 40000 }, 'replayWindow'],
      ['window negative', { replayWindow: -1 }, 'replayWindow'],
      ['esn without a window', { esn: true, replayWindow: 0 }, 'replayWindow'],
      ['32-bit sequence beyond 2^32-1', { outboundSeq: 0x1_0000_0000n }, 'outboundSeq'],
      ['negative sequence', { inboundSeq: -1n }, 'inboundSeq'],
      ['64-bit sequence beyond 2^64-1', { esn: true, inboundSeq: 1n << 64n }, 'inboundSeq'],
      ['sequence as a float', { outboundSeq: 1.5 }, 'outboundSeq'],
      ['port 0', { udpEncapsulation: { sourcePort: 0 } }, 'udpEncapsulation.sourcePort'],
      ['unknown encapsulation field', { udpEncapsulation: { port: 4500 } }, 'udpEncapsulation.port'],
      ['encapsulation as a number', { udpEncapsulation: 4500 }, 'udpEncapsulation'],
      ['unknown limit', { limits: { packets: 5 } }, 'limits.packets'],
      ['zero limit', { limits: { packetHard: 0 } }, 'limits.packetHard'],
      ['soft above hard', { limits: { byteSoft: 10, byteHard: 5 } }, 'limits.byteSoft'],
      ['authKey on an AEAD', { authKey: `0x${'00'.repeat(32)}` }, 'authKey'],
      ['unknown backend', { backend: 'libsodium' }, 'backend'],
      ['unknown field', { reqid: 1 }, 'reqid'],
      ['bad source', { source: 'localhost' }, 'source'],
    ];
    for (const [name, extra, field] of refusals) {
      it(`refuses ${name}, naming ${field}`, () => {
        expectEspError(() => make(extra), 'BAD_CONFIG', field);
      });
    }

    it('needs the 32-byte HMAC key for CBC', () => {
      expectEspError(() => new SecurityAssociation({ spi: 0x100, algorithm: 'cbc(aes)', key: `0x${'00'.repeat(16)}` }), 'BAD_CONFIG', 'authKey');
      expect(expectEspError(() => new SecurityAssociation({ spi: 0x100, algorithm: 'cbc(aes)', key: `0x${'00'.repeat(16)}`, authKey: '0x0011' }), 'BAD_CONFIG', 'authKey').message).to.include('32-byte');
    });

    it('accepts tunnel endpoints from source/destination, as ip xfrm src/dst', () => {
      const sa = make({ mode: 'tunnel', source: '192.0.2.1', destination: '192.0.2.2' });
      expect([sa.source, sa.destination]).to.deep.equal(['192.0.2.1', '192.0.2.2']);
    });
  });

  describe('errors', () => {
    it('every status has a name and an EspError', () => {
      for (const [name, value] of Object.entries(EspStatus)) {
        expect(espStatusName(value)).to.equal(name);
        if (value === 0) continue;
        const error = EspError.fromStatus(value);
        expect(error).to.be.instanceOf(EspError);
        expect(error.code).to.equal(name);
        expect(error.message).to.match(new RegExp(`^${name}: `));
      }
    });
  });
});
