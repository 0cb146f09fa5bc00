/**
 * Published ESP vectors, byte for byte:
 *  - draft-mcgrew-gcm-test-01 ("Test Cases for the use of GCM and GMAC in IPsec ESP"), test
 *    cases 2, 3, 4 and 12 (AES-GCM, RFC 4106), as quoted in OpenDataPlane's
 *    test/validation/api/ipsec/test_vectors.h (pkt_mcgrew_gcm_test_*; ODP adds the outer IP
 *    header, which is not part of the draft and is not used here);
 *  - RFC 7634 Appendix A (ChaCha20-Poly1305 for ESP), the same file (pkt_ipv4_rfc7634*);
 *  - ESP packets made by the Linux kernel (4.4.0) with `ip xfrm` and quoted in scapy's
 *    test/scapy/layers/ipsec.uts (rfc4106(gcm(aes)), tunnel mode, with and without ESN);
 *  - scapy's own AES-CBC + HMAC-SHA2-256-128 packet with ESN from the same file (current
 *    scapy, which appends the high sequence bits to the ICV input as RFC 4303 2.2.1 requires).
 * The explicit IVs of the vectors are not the sequence number our SAs would use, so sealing is
 * checked at the cipher level (IV written into the packet first) and opening through whole SAs.
 */
import { expect } from 'chai';
import { ESP_ALGORITHMS } from '../../src/esp/algorithms.js';
import type { EspAlgorithmName } from '../../src/esp/algorithms.js';
import type { EspCryptoBackend } from '../../src/esp/backend.js';
import { EspStatus } from '../../src/esp/errors.js';
import { forgeBackend } from '../../src/esp/forge-backend.js';
import { nodeBackend } from '../../src/esp/node-backend.js';
import { isOpensslBackendAvailable, opensslBackend } from '../../src/esp/openssl-backend.js';
import type { RandomSource } from '../../src/esp/random.js';
import { SecurityAssociation } from '../../src/esp/sa.js';
import { PUBLISHED_ESP_VECTORS, bytesOfHex, dataOf, hexOfBytes, inBuffer, ipv4, withTrailer } from './fixtures.js';



/** node:crypto, node-forge (no ChaCha20) and, when the cipher addon is built, 'openssl'. */
const withOpenssl = <T,>(list: T[], openssl: T): T[] => (isOpensslBackendAvailable() ? [...list, openssl] : list);
const backendsFor = (name: EspAlgorithmName): EspCryptoBackend[] =>
  withOpenssl(name === 'chacha20-poly1305' ? [nodeBackend] : [nodeBackend, forgeBackend], opensslBackend);
const backendNames = withOpenssl<'node' | 'forge' | 'openssl'>(['node', 'forge'], 'openssl');

describe('esp/vectors', () => {
  describe('cipher level: seal reproduces, open recovers', () => {
    for (const v of PUBLISHED_ESP_VECTORS) {
      for (const backend of backendsFor(v.algorithm)) {
        it(`${v.name} [${backend.name}]`, () => {
          const algorithm = ESP_ALGORITHMS[v.algorithm];
          const cipher = backend.createCipher(algorithm, { key: bytesOfHex(v.key + v.salt), authKey: new Uint8Array(0), esn: false });
          const expected = bytesOfHex(v.esp);
          const plain = withTrailer(bytesOfHex(v.plaintext), v.nextHeader);
          expect(16 + plain.length + 16, 'vector length').to.equal(expected.length);
          // Seal: header and IV from the vector, then the plaintext.
          const buf = new Uint8Array(expected.length);
          buf.set(expected.subarray(0, 16), 0);
          buf.set(plain, 16);
          expect(cipher.seal(buf, 0, 16, 16 + plain.length, 0)).to.equal(EspStatus.OK);
          expect(hexOfBytes(buf)).to.equal(v.esp);
          // Open.
          const received = Uint8Array.from(expected);
          expect(cipher.open(received, 0, 16, received.length - 16, 0)).to.equal(EspStatus.OK);
          expect(hexOfBytes(received.subarray(16, received.length - 16))).to.equal(hexOfBytes(plain));
          // One flipped ICV bit and the packet is refused.
          const forged = Uint8Array.from(expected);
          forged[forged.length - 1]! ^= 1;
          expect(cipher.open(forged, 0, 16, forged.length - 16, 0)).to.equal(EspStatus.BAD_ICV);
        });
      }
    }
  });

  describe('whole SAs open the published packets', () => {
    for (const v of PUBLISHED_ESP_VECTORS) {
      const spi = parseInt(v.esp.slice(0, 8), 16);
      if (spi < 256) continue; // case 4 uses SPI 0, which an SA never has (RFC 4303 2.1); covered above.
      for (const backend of backendsFor(v.algorithm)) {
        it(`${v.name} [${backend.name}]`, () => {
          const sa = new SecurityAssociation({ spi, mode: 'tunnel', tunnel: { source: '192.0.2.1', destination: '192.0.2.2' }, algorithm: v.algorithm, key: `0x${v.key}${v.salt}`, backend: backend.name as 'node' | 'forge' | 'openssl' });
          // Through an IP header (protocol 50) built here, and as a bare ESP packet.
          const packet = inBuffer(ipv4(bytesOfHex(v.esp), { protocol: 50, source: '192.0.2.1', destination: '192.0.2.2' }));
          const bare = inBuffer(bytesOfHex(v.esp));
          if (v.nextHeader === 59) {
            expect(sa.openBuffer(packet)).to.equal(EspStatus.DUMMY);
            expect(sa.stats.dummy).to.equal(1);
            expect(sa.stats.opened).to.equal(0);
            return;
          }
          expect(sa.openBuffer(packet)).to.equal(EspStatus.OK);
          expect(hexOfBytes(dataOf(packet))).to.equal(v.plaintext);
          expect(sa.lastNextHeader).to.equal(v.nextHeader);
          // The same packet again is a replay (RFC 4303 3.4.3).
          expect(sa.openPayload(bare)).to.equal(EspStatus.REPLAY);
          const fresh = new SecurityAssociation({ spi, mode: 'tunnel', source: '192.0.2.1', destination: '192.0.2.2', algorithm: v.algorithm, key: `0x${v.key}${v.salt}`, backend: backend.name as 'node' | 'forge' | 'openssl' });
          expect(fresh.openPayload(bare)).to.equal(EspStatus.OK);
          expect(hexOfBytes(dataOf(bare))).to.equal(v.plaintext);
        });
      }
    }

    it('RFC 7634 Appendix A as a whole packet, with its own outer IPv4 header', () => {
      // RFC 7634 A: 203.0.113.153 -> 203.0.113.5, protocol 50, tunnel mode.
      const packet = '4500008c234500004032de5bcb007199cb007105' + PUBLISHED_ESP_VECTORS[4]!.esp;
      const sa = new SecurityAssociation({ spi: 0x01020304, mode: 'tunnel', tunnel: { source: '203.0.113.153', destination: '203.0.113.5' }, algorithm: 'rfc7539esp(chacha20,poly1305)', key: `0x${PUBLISHED_ESP_VECTORS[4]!.key}${PUBLISHED_ESP_VECTORS[4]!.salt}` });
      expect(hexOfBytes(sa.open(bytesOfHex(packet)))).to.equal(PUBLISHED_ESP_VECTORS[4]!.plaintext);
    });
  });

  describe('Linux-made packets quoted in scapy ipsec.uts', () => {
    // ip xfrm state add src 10.125.0.2 dst 10.125.0.1 proto esp spi 546 reqid 1 \
    //   mode tunnel aead 'rfc4106(gcm(aes))' '0x3136627974656b65792b34627974656e6f6e6365' 128 flag align4
    const key = '0x3136627974656b65792b34627974656e6f6e6365';
    const common = '66002886e9dfc524b0bdfd62617ed3767b48288e76aaea48b840308ace5071bbc0b24771d7a4a0cb0368d3165a7c378487c71959b47c76e348c0904bd23695c1b7a4b67b89e64f10aedb84474600b444e66d16555f8236a549f7528165904d28';
    const withoutEsn = `0000022200000001${common}92b2e3f1a402d237ac0b7a10cf6446b9`;
    const withEsn = `0000022200000001${common}fe4d22836a810d6094db45220392f694`;

    const inner = (bytes: Uint8Array): void => {
      // The inner packet: IPv4 (10.200.0.1 -> 10.100.0.1), ICMP echo, valid header checksum.
      expect(bytes[0]! >> 4).to.equal(4);
      expect(bytes[9]).to.equal(1);
      expect(((bytes[2]! << 8) | bytes[3]!)).to.equal(bytes.length);
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      expect(sum).to.equal(0xffff);
      expect(bytes[20]).to.equal(8); // echo request
    };

    for (const backend of backendNames) {
      it(`rfc4106(gcm(aes)) tunnel mode [${backend}]`, () => {
        const sa = new SecurityAssociation({ spi: 546, mode: 'tunnel', tunnel: { source: '10.125.0.2', destination: '10.125.0.1' }, algorithm: 'rfc4106(gcm(aes))', key, backend });
        const view = inBuffer(bytesOfHex(withoutEsn));
        expect(sa.openPayload(view)).to.equal(EspStatus.OK);
        inner(dataOf(view));
        expect(sa.lastNextHeader).to.equal(4);
      });

      it(`rfc4106(gcm(aes)) with ESN, high half 1 inferred from the window (RFC 4303 A2) [${backend}]`, () => {
        // scapy's "AES-GCM - NULL -- ESN" reference: the same ciphertext, the ICV over SPI || 1 || 1.
        const sa = new SecurityAssociation({ spi: 546, mode: 'tunnel', tunnel: { source: '10.125.0.2', destination: '10.125.0.1' }, algorithm: 'rfc4106(gcm(aes))', key, esn: true, inboundSeq: 1n << 32n, backend });
        const view = inBuffer(bytesOfHex(withEsn));
        expect(sa.openPayload(view)).to.equal(EspStatus.OK);
        inner(dataOf(view));
        expect([sa.lastSeqHigh, sa.lastSeqLow]).to.deep.equal([1, 1]);
        expect(sa.inboundSeq).to.equal((1n << 32n) + 1n);
        // Without ESN the AAD is SPI || seq (8 bytes) and the same ICV cannot verify.
        const plain = new SecurityAssociation({ spi: 546, mode: 'tunnel', tunnel: { source: '10.125.0.2', destination: '10.125.0.1' }, algorithm: 'rfc4106(gcm(aes))', key, backend });
        expect(plain.openPayload(inBuffer(bytesOfHex(withEsn)))).to.equal(EspStatus.BAD_ICV);
      });
    }
  });

  describe("scapy's AES-CBC + HMAC-SHA2-256-128 packet with ESN (esn=68)", () => {
    // scapy test/scapy/layers/ipsec.uts, "IPv4 / ESP - Transport - AES-CBC - HMAC-SHA2-256-128 -- ESN":
    // IP(src='1.1.1.1', dst='2.2.2.2')/TCP(sport=45012, dport=80)/Raw('hello world'), SPI 0xcf54ccdf,
    // IV 11223344 x4, seq 1, high half 68.
    const original = '4500003300010000400674bf0101010102020202afd4005000000000000000005002200047df000068656c6c6f20776f726c64';
    const sealed = '4500006c000100004032745a0101010102020202cf54ccdf0000000111223344112233441122334411223344f5bda519c9ae64f283f0fc18a8d253eca8b34c2120c8958a97ec9d8e67756da2523fce9b5541c57fddf090afc2bfd97e8703203953f853eb61482e4c1384d4c8';
    const config = {
      spi: 0xcf54ccdf,
      algorithm: 'cbc(aes)',
      key: '0x85ee354b4675a9c5d16e3d6f4118043b',
      authAlgorithm: 'hmac(sha256)',
      authKey: '0x6f79bf94da7dde3c86009934d9258f1b3fc2f5382aca9c9cb8e216eed235f34c',
      esn: true,
    } as const;

    // forge and openssl use the SA's random bytes as the IV (node derives its IV from them).
    for (const backend of backendNames.filter((name) => name !== 'node')) {
      it(`${backend} reproduces it byte for byte when given the same IV`, () => {
        const fixedIv: RandomSource = { fill: (buf, offset, length) => buf.set(bytesOfHex('11223344'.repeat(4)).subarray(0, length), offset) };
        const sa = new SecurityAssociation({ ...config, backend, random: fixedIv, outboundSeq: (68n << 32n) });
        expect(hexOfBytes(sa.seal(bytesOfHex(original)))).to.equal(sealed);
      });
    }

    for (const backend of backendNames) {
      it(`opens it back to the original packet [${backend}]`, () => {
        const sa = new SecurityAssociation({ ...config, backend, inboundSeq: 68n << 32n });
        expect(hexOfBytes(sa.open(bytesOfHex(sealed)))).to.equal(original);
        // The high half is part of the ICV input: with 67 inferred instead, the ICV fails.
        const wrong = new SecurityAssociation({ ...config, backend, inboundSeq: 67n << 32n });
        expect(wrong.openBuffer(inBuffer(bytesOfHex(sealed)))).to.equal(EspStatus.BAD_ICV);
      });
    }
  });
});
