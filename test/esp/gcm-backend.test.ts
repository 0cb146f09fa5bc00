/**
 * The opt-in `gcm-js` backend (src/esp/gcm-backend.ts, src/esp/ghash.ts): AES-GCM with one ECB
 * cipher per SA and GHASH in JavaScript must be byte for byte node:crypto's AES-GCM.
 *
 * Judges:
 *  - GHASH against SP 800-38D 6.3 Algorithm 1 written here bit by bit with BigInt (no tables),
 *    and against the H and GHASH values printed in the GCM specification;
 *  - the GCM specification's test cases 1-4 (AES-128) and 13-16 (AES-256), 96-bit IVs
 *    (McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", Appendix B, as NIST
 *    published it with SP 800-38D);
 *  - draft-mcgrew-gcm-test-01 cases 2, 3, 4 and 12 (RFC 4106 ESP packets) and the Linux-made
 *    rfc4106(gcm(aes)) packets with and without ESN, the fixtures of test/esp/vectors.test.ts
 *    (same sources, same bytes);
 *  - node:crypto's aes-*-gcm, per packet, over random keys, salts, IVs, AADs and payloads.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createCipheriv } from 'node:crypto';
import { ESP_ALGORITHMS } from '../../src/esp/algorithms.js';
import type { EspAlgorithmName } from '../../src/esp/algorithms.js';
import type { EspCipher } from '../../src/esp/backend.js';
import { EspStatus } from '../../src/esp/errors.js';
import { AesGcmJs, gcmJsBackend } from '../../src/esp/gcm-backend.js';
import { ghash } from '../../src/esp/ghash.js';
import { nodeBackend } from '../../src/esp/node-backend.js';
import { isOpensslBackendAvailable } from '../../src/esp/openssl-backend.js';
import { SecurityAssociation } from '../../src/esp/sa.js';
import type { SecurityAssociationConfig } from '../../src/esp/sa.js';
import { PUBLISHED_ESP_VECTORS, bytesOfHex, dataOf, expectEspError, hexOfBytes, inBuffer, ipv4, ipv4Udp, ipv6Udp, withTrailer } from './fixtures.js';

// ---------------------------------------------------------------------------------------------
// References written here, independent of the code under test.

const R = 0xe1n << 120n;

/** SP 800-38D 6.3 Algorithm 1: X·Y in GF(2^128), bit by bit (bit 0 = most significant bit of byte 0). */
function multiplyReference(x: bigint, y: bigint): bigint {
  let z = 0n;
  let v = y;
  for (let i = 127; i >= 0; i--) {
    if ((x >> BigInt(i)) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}

const bigOf = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${hexOfBytes(bytes)}`));

/** SP 800-38D 6.4 / 7.1 step 5: GHASH_H(A || 0^v || C || 0^u || [len(A)]_64 || [len(C)]_64) with Algorithm 1. */
function ghashReference(h: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): string {
  const hb = bigOf(h);
  let y = 0n;
  for (const data of [aad, ciphertext]) {
    for (let at = 0; at < data.length; at += 16) {
      const block = new Uint8Array(16);
      block.set(data.subarray(at, at + 16));
      y = multiplyReference(y ^ bigOf(block), hb);
    }
  }
  y = multiplyReference(y ^ ((BigInt(aad.length * 8) << 64n) | BigInt(ciphertext.length * 8)), hb);
  return y.toString(16).padStart(32, '0');
}

/** node:crypto's AES-GCM: ciphertext and tag. */
function nodeGcm(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): { ciphertext: string; tag: string } {
  const cipher = createCipheriv(key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const out = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext: out.toString('hex'), tag: cipher.getAuthTag().toString('hex') };
}

// ---------------------------------------------------------------------------------------------

interface NistVector {
  name: string;
  key: string;
  iv: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}

const P64 = 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const P60 = P64.slice(0, 120);
const AAD20 = 'feedfacedeadbeeffeedfacedeadbeefabaddad2';
const K128 = 'feffe9928665731c6d6a8f9467308308';

// The GCM specification, Appendix B (test cases with 96-bit IVs).
const NIST: NistVector[] = [
  { name: 'test case 1 (AES-128, empty)', key: '00'.repeat(16), iv: '00'.repeat(12), aad: '', plaintext: '', ciphertext: '', tag: '58e2fccefa7e3061367f1d57a4e7455a' },
  { name: 'test case 2 (AES-128, one zero block)', key: '00'.repeat(16), iv: '00'.repeat(12), aad: '', plaintext: '00'.repeat(16), ciphertext: '0388dace60b6a392f328c2b971b2fe78', tag: 'ab6e47d42cec13bdf53a67b21257bddf' },
  {
    name: 'test case 3 (AES-128, 64 bytes)',
    key: K128,
    iv: 'cafebabefacedbaddecaf888',
    aad: '',
    plaintext: P64,
    ciphertext: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985',
    tag: '4d5c2af327cd64a62cf35abd2ba6fab4',
  },
  {
    name: 'test case 4 (AES-128, 60 bytes, 20 bytes of AAD)',
    key: K128,
    iv: 'cafebabefacedbaddecaf888',
    aad: AAD20,
    plaintext: P60,
    ciphertext: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
  { name: 'test case 13 (AES-256, empty)', key: '00'.repeat(32), iv: '00'.repeat(12), aad: '', plaintext: '', ciphertext: '', tag: '530f8afbc74536b9a963b4f1c4cb738b' },
  { name: 'test case 14 (AES-256, one zero block)', key: '00'.repeat(32), iv: '00'.repeat(12), aad: '', plaintext: '00'.repeat(16), ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18', tag: 'd0d1c8a799996bf0265b98b5d48ab919' },
  {
    name: 'test case 15 (AES-256, 64 bytes)',
    key: K128 + K128,
    iv: 'cafebabefacedbaddecaf888',
    aad: '',
    plaintext: P64,
    ciphertext: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'test case 16 (AES-256, 60 bytes, 20 bytes of AAD)',
    key: K128 + K128,
    iv: 'cafebabefacedbaddecaf888',
    aad: AAD20,
    plaintext: P60,
    ciphertext: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

const ESP_VECTORS = PUBLISHED_ESP_VECTORS.filter((v) => v.algorithm.startsWith('aes-gcm'));


const GCM_NAMES = ['aes-gcm-128', 'aes-gcm-256'] as const;
const NO_AUTH = new Uint8Array(0);

function cipherFor(backend: 'node' | 'gcm-js', name: EspAlgorithmName, keyAndSalt: Uint8Array, esn: boolean): EspCipher {
  return (backend === 'node' ? nodeBackend : gcmJsBackend).createCipher(ESP_ALGORITHMS[name], { key: keyAndSalt, authKey: NO_AUTH, esn });
}

/** An ESP packet (SPI, seq, IV, payload, room for the ICV) at `at` in a buffer of guard bytes. */
interface Laid {
  buf: Uint8Array;
  esp: number;
  payload: number;
  icv: number;
}

function layOut(at: number, header: Uint8Array, payload: Uint8Array, guard = 0x5c): Laid {
  const buf = new Uint8Array(at + 16 + payload.length + 16 + 32).fill(guard);
  buf.set(header, at);
  buf.set(payload, at + 16);
  return { buf, esp: at, payload: at + 16, icv: at + 16 + payload.length };
}

const arbitraryEspCase = fc.record({
  algorithm: fc.constantFrom(...GCM_NAMES),
  keyAndSalt: fc.uint8Array({ minLength: 36, maxLength: 36 }),
  header: fc.uint8Array({ minLength: 16, maxLength: 16 }), // SPI, seq, IV
  esn: fc.boolean(),
  seqHigh: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ minLength: 0, maxLength: 300 }),
  at: fc.integer({ min: 0, max: 40 }),
});

function keyOf(algorithm: EspAlgorithmName, keyAndSalt: Uint8Array): Uint8Array {
  return keyAndSalt.subarray(0, ESP_ALGORITHMS[algorithm].keyLength + 4);
}

describe('esp/gcm-backend', () => {
  describe('GHASH (ghash.ts)', () => {
    it('the GCM specification, test cases 2 and 3: GHASH(H, A, C)', () => {
      // Appendix B: test case 2, H = E(0^128, 0^128); test case 3, H = E(feffe992…, 0^128).
      expect(hexOfBytes(ghash(bytesOfHex('66e94bd4ef8a2c3b884cfa59ca342b2e'), new Uint8Array(0), bytesOfHex('0388dace60b6a392f328c2b971b2fe78')))).to.equal('f38cbb1ad69223dcc3457ae5b6b0f885');
      const c3 = '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985';
      expect(hexOfBytes(ghash(bytesOfHex('b83b533708bf535d0aa6e52980d53b78'), new Uint8Array(0), bytesOfHex(c3)))).to.equal('7f1b32b81b820d02614f8895ac1d4eac');
    });

    it('equals SP 800-38D Algorithm 1 (bit by bit) for random H, AAD and ciphertext of any length', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 70 }), (h, aad, ciphertext) => {
          expect(hexOfBytes(ghash(h, aad, ciphertext))).to.equal(ghashReference(h, aad, ciphertext));
        }),
        { numRuns: 200 },
      );
    });

    it('single-bit H and single-bit blocks (every table entry path and every reduction)', () => {
      for (let hb = 0; hb < 128; hb += 9) {
        const h = new Uint8Array(16);
        h[hb >> 3] = 0x80 >> (hb & 7);
        for (let xb = 0; xb < 128; xb += 5) {
          const x = new Uint8Array(16);
          x[xb >> 3] = 0x80 >> (xb & 7);
          expect(hexOfBytes(ghash(h, new Uint8Array(0), x)), `H bit ${hb}, X bit ${xb}`).to.equal(ghashReference(h, new Uint8Array(0), x));
        }
      }
    });
  });

  describe('AesGcmJs: the GCM specification test vectors (96-bit IVs)', () => {
    for (const v of NIST) {
      it(v.name, () => {
        const gcm = new AesGcmJs(bytesOfHex(v.key));
        const nonce = bytesOfHex(v.iv);
        const aad = bytesOfHex(v.aad);
        const data = bytesOfHex(v.plaintext);
        const tag = new Uint8Array(16);
        gcm.seal(nonce, 0, aad, 0, aad.length, data, 0, data.length, tag, 0);
        expect(hexOfBytes(data)).to.equal(v.ciphertext);
        expect(hexOfBytes(tag)).to.equal(v.tag);
        // The same with node:crypto (the judge agrees with the published bytes).
        expect(nodeGcm(bytesOfHex(v.key), nonce, aad, bytesOfHex(v.plaintext))).to.deep.equal({ ciphertext: v.ciphertext, tag: v.tag });
        // Open, then with one flipped tag bit, ciphertext bit or AAD bit: refused, data untouched.
        const back = bytesOfHex(v.ciphertext);
        expect(gcm.open(nonce, 0, aad, 0, aad.length, back, 0, back.length, tag, 0)).to.equal(true);
        expect(hexOfBytes(back)).to.equal(v.plaintext);
        const badTag = Uint8Array.from(tag);
        badTag[15]! ^= 0x01;
        const untouched = bytesOfHex(v.ciphertext);
        expect(gcm.open(nonce, 0, aad, 0, aad.length, untouched, 0, untouched.length, badTag, 0)).to.equal(false);
        expect(hexOfBytes(untouched)).to.equal(v.ciphertext);
        if (untouched.length > 0) {
          untouched[0]! ^= 0x80;
          expect(gcm.open(nonce, 0, aad, 0, aad.length, untouched, 0, untouched.length, tag, 0)).to.equal(false);
        }
        if (aad.length > 0) {
          const badAad = Uint8Array.from(aad);
          badAad[aad.length - 1]! ^= 0x10;
          const c = bytesOfHex(v.ciphertext);
          expect(gcm.open(nonce, 0, badAad, 0, badAad.length, c, 0, c.length, tag, 0)).to.equal(false);
        }
      });
    }

    it('refuses keys that are not 16 or 32 bytes, and ranges outside the arrays (RangeError)', () => {
      expect(() => new AesGcmJs(new Uint8Array(24))).to.throw(RangeError);
      const gcm = new AesGcmJs(new Uint8Array(16));
      const nonce = new Uint8Array(12);
      const aad = new Uint8Array(8);
      const data = new Uint8Array(32);
      const tag = new Uint8Array(16);
      expect(() => gcm.seal(nonce, 1, aad, 0, 8, data, 0, 32, tag, 0)).to.throw(RangeError);
      expect(() => gcm.seal(nonce, 0, aad, 0, 9, data, 0, 32, tag, 0)).to.throw(RangeError);
      expect(() => gcm.seal(nonce, 0, aad, 0, 8, data, 8, 33, tag, 0)).to.throw(RangeError);
      expect(() => gcm.seal(nonce, 0, aad, 0, 8, data, 9, 8, tag, 0)).to.throw(RangeError);
      expect(() => gcm.open(nonce, 0, aad, 0, 8, data, 0, 32, tag, 1)).to.throw(RangeError);
    });
  });

  describe('ESP cipher level: draft-mcgrew-gcm-test-01 (RFC 4106) packets', () => {
    for (const v of ESP_VECTORS) {
      it(v.name, () => {
        const cipher = cipherFor('gcm-js', v.algorithm, bytesOfHex(v.key + v.salt), false);
        const expected = bytesOfHex(v.esp);
        const plain = withTrailer(bytesOfHex(v.plaintext), v.nextHeader);
        expect(16 + plain.length + 16, 'vector length').to.equal(expected.length);
        // Seal: header and IV from the vector, then the plaintext; reproduces the packet.
        const laid = layOut(7, expected.subarray(0, 16), plain);
        expect(cipher.seal(laid.buf, laid.esp, laid.payload, laid.icv, 0)).to.equal(EspStatus.OK);
        expect(hexOfBytes(laid.buf.subarray(laid.esp, laid.icv + 16))).to.equal(v.esp);
        expect(laid.buf.subarray(0, 7).every((b) => b === 0x5c) && laid.buf.subarray(laid.icv + 16).every((b) => b === 0x5c), 'guard bytes').to.equal(true);
        // Open recovers the plaintext.
        const received = Uint8Array.from(expected);
        expect(cipher.open(received, 0, 16, received.length - 16, 0)).to.equal(EspStatus.OK);
        expect(hexOfBytes(received.subarray(16, received.length - 16))).to.equal(hexOfBytes(plain));
        // One flipped bit anywhere in SPI, sequence number, IV, ciphertext or ICV: BAD_ICV, packet untouched.
        for (let bit = 0; bit < expected.length * 8; bit += 7) {
          const forged = Uint8Array.from(expected);
          forged[bit >> 3]! ^= 0x80 >> (bit & 7);
          const before = hexOfBytes(forged);
          expect(cipher.open(forged, 0, 16, forged.length - 16, 0), `bit ${bit}`).to.equal(EspStatus.BAD_ICV);
          expect(hexOfBytes(forged), `bit ${bit}`).to.equal(before);
        }
      });
    }
  });

  describe('whole SAs with backend gcm-js open the published packets', () => {
    for (const v of ESP_VECTORS) {
      const spi = parseInt(v.esp.slice(0, 8), 16);
      if (spi < 256) continue; // case 4 uses SPI 0, which an SA never has (RFC 4303 2.1); covered above.
      it(v.name, () => {
        const sa = new SecurityAssociation({ spi, mode: 'tunnel', tunnel: { source: '192.0.2.1', destination: '192.0.2.2' }, algorithm: v.algorithm, key: `0x${v.key}${v.salt}`, backend: 'gcm-js' });
        expect(sa.backend).to.equal('gcm-js');
        const packet = inBuffer(ipv4(bytesOfHex(v.esp), { protocol: 50, source: '192.0.2.1', destination: '192.0.2.2' }));
        if (v.nextHeader === 59) {
          expect(sa.openBuffer(packet)).to.equal(EspStatus.DUMMY);
          return;
        }
        expect(sa.openBuffer(packet)).to.equal(EspStatus.OK);
        expect(hexOfBytes(dataOf(packet))).to.equal(v.plaintext);
      });
    }

    // The Linux 4.4 packets quoted in scapy's test/scapy/layers/ipsec.uts (as in vectors.test.ts):
    // ip xfrm state add … spi 546 mode tunnel aead 'rfc4106(gcm(aes))' 0x3136…6365 128, with and without ESN.
    const key = '0x3136627974656b65792b34627974656e6f6e6365';
    const common = '66002886e9dfc524b0bdfd62617ed3767b48288e76aaea48b840308ace5071bbc0b24771d7a4a0cb0368d3165a7c378487c71959b47c76e348c0904bd23695c1b7a4b67b89e64f10aedb84474600b444e66d16555f8236a549f7528165904d28';
    const tunnel = { source: '10.125.0.2', destination: '10.125.0.1' };

    it('Linux rfc4106(gcm(aes)) tunnel-mode packet (AAD = SPI || seq)', () => {
      const sa = new SecurityAssociation({ spi: 546, mode: 'tunnel', tunnel, algorithm: 'rfc4106(gcm(aes))', key, backend: 'gcm-js' });
      const view = inBuffer(bytesOfHex(`0000022200000001${common}92b2e3f1a402d237ac0b7a10cf6446b9`));
      expect(sa.openPayload(view)).to.equal(EspStatus.OK);
      expect(sa.lastNextHeader).to.equal(4);
      expect(dataOf(view)[9]).to.equal(1); // ICMP inside
    });

    it('Linux rfc4106(gcm(aes)) with ESN (AAD = SPI || seq high || seq low, RFC 4106 5)', () => {
      const sa = new SecurityAssociation({ spi: 546, mode: 'tunnel', tunnel, algorithm: 'rfc4106(gcm(aes))', key, esn: true, inboundSeq: 1n << 32n, backend: 'gcm-js' });
      const withEsn = `0000022200000001${common}fe4d22836a810d6094db45220392f694`;
      expect(sa.openPayload(inBuffer(bytesOfHex(withEsn)))).to.equal(EspStatus.OK);
      expect([sa.lastSeqHigh, sa.lastSeqLow]).to.deep.equal([1, 1]);
      const withoutEsn = new SecurityAssociation({ spi: 546, mode: 'tunnel', tunnel, algorithm: 'rfc4106(gcm(aes))', key, backend: 'gcm-js' });
      expect(withoutEsn.openPayload(inBuffer(bytesOfHex(withEsn)))).to.equal(EspStatus.BAD_ICV);
    });
  });

  describe('against node:crypto (fast-check)', () => {
    it('seal with one backend, open with the other, both directions; the sealed bytes are equal', () => {
      fc.assert(
        fc.property(arbitraryEspCase, ({ algorithm, keyAndSalt, header, esn, seqHigh, payload, at }) => {
          const key = keyOf(algorithm, keyAndSalt);
          const high = esn ? seqHigh : 0;
          const byNode = layOut(at, header, payload);
          const byJs = layOut(at + 3, header, payload);
          expect(cipherFor('node', algorithm, key, esn).seal(byNode.buf, byNode.esp, byNode.payload, byNode.icv, high)).to.equal(EspStatus.OK);
          expect(cipherFor('gcm-js', algorithm, key, esn).seal(byJs.buf, byJs.esp, byJs.payload, byJs.icv, high)).to.equal(EspStatus.OK);
          expect(hexOfBytes(byJs.buf.subarray(byJs.esp, byJs.icv + 16))).to.equal(hexOfBytes(byNode.buf.subarray(byNode.esp, byNode.icv + 16)));
          // Guard bytes on both sides are untouched.
          expect(byJs.buf.subarray(0, byJs.esp).every((b) => b === 0x5c) && byJs.buf.subarray(byJs.icv + 16).every((b) => b === 0x5c)).to.equal(true);
          // node → gcm-js and gcm-js → node.
          expect(cipherFor('gcm-js', algorithm, key, esn).open(byNode.buf, byNode.esp, byNode.payload, byNode.icv, high)).to.equal(EspStatus.OK);
          expect(hexOfBytes(byNode.buf.subarray(byNode.payload, byNode.icv))).to.equal(hexOfBytes(payload));
          expect(cipherFor('node', algorithm, key, esn).open(byJs.buf, byJs.esp, byJs.payload, byJs.icv, high)).to.equal(EspStatus.OK);
          expect(hexOfBytes(byJs.buf.subarray(byJs.payload, byJs.icv))).to.equal(hexOfBytes(payload));
        }),
        { numRuns: 300 },
      );
    });

    it('a flipped bit in the ICV, the ciphertext, the AAD (SPI, sequence number, ESN high half) or the IV fails in both backends', () => {
      fc.assert(
        fc.property(arbitraryEspCase, fc.nat(), fc.constantFrom('icv', 'ciphertext', 'spi-seq', 'seq-high', 'iv'), ({ algorithm, keyAndSalt, header, esn, seqHigh, payload, at }, pick, where) => {
          const key = keyOf(algorithm, keyAndSalt);
          const high = esn ? seqHigh : 0;
          const laid = layOut(at, header, payload);
          cipherFor('node', algorithm, key, esn).seal(laid.buf, laid.esp, laid.payload, laid.icv, high);
          let openHigh = high;
          const bit = 1 << (pick % 8);
          if (where === 'icv') laid.buf[laid.icv + (pick % 16)]! ^= bit;
          else if (where === 'ciphertext' && payload.length > 0) laid.buf[laid.payload + (pick % payload.length)]! ^= bit;
          else if (where === 'spi-seq') laid.buf[laid.esp + (pick % 8)]! ^= bit;
          else if (where === 'iv') laid.buf[laid.esp + 8 + (pick % 8)]! ^= bit;
          else if (where === 'seq-high' && esn) openHigh = (high ^ (1 << (pick % 32))) >>> 0;
          else laid.buf[laid.icv]! ^= bit; // nothing to flip there (empty payload, or no ESN): the ICV instead
          const before = hexOfBytes(laid.buf);
          for (const backend of ['gcm-js', 'node'] as const) {
            expect(cipherFor(backend, algorithm, key, esn).open(laid.buf, laid.esp, laid.payload, laid.icv, openHigh), `${backend} ${where}`).to.equal(EspStatus.BAD_ICV);
            // gcm-js releases nothing: the whole buffer is as it was.
            if (backend === 'gcm-js') expect(hexOfBytes(laid.buf)).to.equal(before);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('streams of nonces (in order, gaps, reordering, growing and shrinking sizes, the 2^32 carry) match node:crypto packet by packet', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(16, 32),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.array(fc.record({ step: fc.oneof(fc.constant(1), fc.constant(1), fc.constant(1), fc.integer({ min: -5, max: 300 })), size: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 2000 })) }), { minLength: 1, maxLength: 300 }),
          (keyLength, keyBytes, salt, startLow, packets) => {
            const key = keyBytes.subarray(0, keyLength);
            const gcm = new AesGcmJs(key);
            const nonce = new Uint8Array(12);
            const view = new DataView(nonce.buffer);
            view.setUint32(0, salt);
            let high = 7;
            let low = startLow;
            const aad = new Uint8Array(12).fill(0x33);
            for (const p of packets) {
              low += p.step;
              if (low > 0xffffffff) {
                low -= 0x100000000;
                high++;
              }
              if (low < 0) low = 0;
              view.setUint32(4, high);
              view.setUint32(8, low);
              const data = new Uint8Array(p.size).map((_, i) => (i * 31 + low) & 0xff);
              const expected = nodeGcm(key, nonce, aad, data);
              const tag = new Uint8Array(16);
              gcm.seal(nonce, 0, aad, 0, 12, data, 0, data.length, tag, 0);
              expect(hexOfBytes(data)).to.equal(expected.ciphertext);
              expect(hexOfBytes(tag)).to.equal(expected.tag);
            }
          },
        ),
        { numRuns: 60 },
      );
    });

    it('uses the batch for in-order nonces, the single path otherwise, and crosses the 2^32 boundary of the low word', () => {
      const key = bytesOfHex('000102030405060708090a0b0c0d0e0f');
      const gcm = new AesGcmJs(key);
      const nonce = new Uint8Array(12);
      const view = new DataView(nonce.buffer);
      view.setUint32(0, 0xcafebabe);
      const aad = new Uint8Array(8);
      const check = (high: number, low: number, size: number): void => {
        view.setUint32(4, high);
        view.setUint32(8, low);
        const data = new Uint8Array(size).fill(low & 0xff);
        const expected = nodeGcm(key, nonce, aad, data);
        const tag = new Uint8Array(16);
        gcm.seal(nonce, 0, aad, 0, 8, data, 0, size, tag, 0);
        expect(hexOfBytes(data) + hexOfBytes(tag), `${high}:${low} size ${size}`).to.equal(expected.ciphertext + expected.tag);
      };
      // In order, across 0xffffffff → 0 (the high word counts up: a new batch).
      for (let i = 0; i < 600; i++) {
        const n = 0xffffff00 + i;
        check(n > 0xffffffff ? 1 : 0, n >>> 0, 68);
      }
      expect(gcm.batchHits).to.be.greaterThan(500);
      expect(gcm.batchFills).to.be.greaterThan(3);
      // A packet larger than the batch's blocks, then one past the largest batch size (1536 bytes): single path.
      const singles = gcm.singleFills;
      check(1, 1000, 1400);
      check(1, 1001, 1400); // follows: a batch of 1400-byte entries
      check(1, 1002, 64);
      check(1, 1003, 3000);
      check(1, 1004, 3000);
      expect(gcm.singleFills).to.be.greaterThan(singles);
      // Reordered and random nonces still match.
      for (const low of [5000, 4999, 5002, 5001, 123456, 5003, 0, 0xffffffff]) check(1, low, 100);
      // Inside the batch's range of the last word but another second word, or another first word (salt): not from the batch.
      for (let low = 7000; low < 7010; low++) check(1, low, 100);
      check(2, 7003, 100);
      check(0, 7004, 100);
      view.setUint32(0, 0xcafebabf);
      check(1, 7005, 100);
      view.setUint32(0, 0xcafebabe);
      check(1, 7006, 100);
      // A batch that runs past 0xffffffff in the last word (modulo 2^32): later nonces there still match.
      for (let low = 0xfffffff0; low <= 0xfffffff8; low++) check(5, low, 40);
      for (const low of [0xffffffff, 0, 3, 0xfffffff9]) check(5, low, 40);
    });

    it('works on arrays at any byteOffset and alternating between buffers (Buffer pool slices, subarrays)', () => {
      const key = bytesOfHex(K128 + K128);
      const gcm = new AesGcmJs(key);
      const slabA = new Uint8Array(4096).fill(0xee);
      const slabB = Buffer.alloc(3000, 0xdd);
      const nonce = new Uint8Array(12);
      const aadSlab = new Uint8Array(64).fill(0x11);
      for (let i = 0; i < 200; i++) {
        nonce[11] = i;
        const slab = i % 3 === 0 ? slabB : slabA;
        const from = 17 + ((i * 13) % 500);
        const data = slab.subarray(from, from + 90 + (i % 37));
        const aad = aadSlab.subarray(i % 5, (i % 5) + 8 + (i % 2) * 4);
        const plain = Uint8Array.from(data);
        const expected = nodeGcm(key, nonce, aad, plain);
        const tag = slab.subarray(from + data.length, from + data.length + 16);
        const around = [slab[from - 1], slab[from + data.length + 16]];
        gcm.seal(nonce, 0, aad, 0, aad.length, data, 0, data.length, tag, 0);
        expect(hexOfBytes(data) + hexOfBytes(tag)).to.equal(expected.ciphertext + expected.tag);
        expect([slab[from - 1], slab[from + data.length + 16]]).to.deep.equal(around);
        expect(gcm.open(nonce, 0, aad, 0, aad.length, data, 0, data.length, tag, 0)).to.equal(true);
        expect(hexOfBytes(data)).to.equal(hexOfBytes(plain));
        slab.fill(i & 0xff, from, from + data.length + 16);
      }
    });
  });

  describe('SA round trips through sealBuffer / openBuffer with backend gcm-js', () => {
    const configs: { algorithm: string; key: string }[] = [
      { algorithm: 'aes-gcm-128', key: '0x000102030405060708090a0b0c0d0e0fdeadbeef' },
      { algorithm: 'aes-gcm-256', key: `0x${'42'.repeat(32)}cafebabe` },
    ];
    for (const c of configs) {
      for (const mode of ['transport', 'tunnel'] as const) {
        for (const family of [4, 6] as const) {
          for (const esn of [false, true]) {
            for (const udp of [false, true]) {
              for (const [sealWith, openWith] of [['gcm-js', 'node'], ['node', 'gcm-js'], ['gcm-js', 'gcm-js']] as const) {
                it(`${c.algorithm} ${mode} IPv${family}${esn ? ' esn' : ''}${udp ? ' udp' : ''} ${sealWith}→${openWith}`, () => {
                  const config: SecurityAssociationConfig = {
                    spi: 0x8000_0101,
                    ...c,
                    mode,
                    ...(mode === 'tunnel' ? { tunnel: family === 4 ? { source: '198.51.100.1', destination: '198.51.100.2' } : { source: '2001:db8:1::1', destination: '2001:db8:1::2' } } : {}),
                    esn,
                    udpEncapsulation: udp,
                  };
                  // With ESN, start just below 2^32 so the stream crosses into the next high half.
                  const sealer = new SecurityAssociation({ ...config, backend: sealWith, outboundSeq: esn ? 0xffff_ff00n : 0n });
                  const opener = new SecurityAssociation({ ...config, backend: openWith, inboundSeq: esn ? 0xffff_fef0n : 0n });
                  const sizes = [0, 1, 2, 13, 64, 255, 1000, 1400];
                  let count = 0;
                  // 300 packets: the batch path, and with ESN across the 2^32 boundary (IV high word + 1).
                  for (let i = 0; i < 300; i++) {
                    const size = sizes[i % sizes.length]!;
                    const p = family === 4 ? ipv4Udp(size, { tos: 0xb8, id: i }) : ipv6Udp(size, { trafficClass: 0x2e });
                    const view = inBuffer(p);
                    expect(sealer.sealBuffer(view), `seal ${i}`).to.equal(EspStatus.OK);
                    const sealed = dataOf(view);
                    expect(opener.openBuffer(view), `open ${i}`).to.equal(EspStatus.OK);
                    expect(hexOfBytes(dataOf(view)), `packet ${i}, size ${size}`).to.equal(hexOfBytes(p));
                    count++;
                    if (i % 50 === 7) {
                      // The same packet again is a replay; a forged copy is BAD_ICV (not counted as opened).
                      expect(opener.openBuffer(inBuffer(sealed))).to.equal(EspStatus.REPLAY);
                      const forged = Uint8Array.from(sealed);
                      forged[forged.length - 1]! ^= 1;
                      const fresh = new SecurityAssociation({ ...config, backend: openWith, inboundSeq: esn ? 0xffff_fef0n : 0n });
                      expect(fresh.openBuffer(inBuffer(forged))).to.equal(EspStatus.BAD_ICV);
                    }
                  }
                  expect(opener.stats.opened).to.equal(count);
                  expect(sealer.stats.sealed).to.equal(count);
                  if (esn) expect(opener.inboundSeq).to.equal(0xffff_ff00n + 300n);
                });
              }
            }
          }
        }
      }
    }

    it('friendly seal/open and the datapath agree with the node backend byte for byte', () => {
      const config = { spi: 0x4242, algorithm: 'aes-gcm-128', key: '0x000102030405060708090a0b0c0d0e0fdeadbeef', esn: true, outboundSeq: 0x1_0000_0000n } as const;
      const byNode = new SecurityAssociation({ ...config, backend: 'node' });
      const byJs = new SecurityAssociation({ ...config, backend: 'gcm-js' });
      for (let size = 0; size < 120; size += 7) {
        const p = ipv4Udp(size, { id: size });
        expect(hexOfBytes(byJs.seal(p))).to.equal(hexOfBytes(byNode.seal(p)));
      }
    });
  });

  describe('backend selection', () => {
    it("backend: 'gcm-js' is accepted for aes-gcm-128/256 in every spelling and named in snapshots", () => {
      for (const [algorithm, key] of [['aes-gcm-128', `0x${'01'.repeat(20)}`], ['aes256gcm16', `0x${'01'.repeat(36)}`], ['rfc4106(gcm(aes))', `0x${'01'.repeat(36)}`]] as const) {
        const sa = new SecurityAssociation({ spi: 0x100, algorithm, key, backend: 'gcm-js' });
        expect(sa.backend).to.equal('gcm-js');
        expect(sa.snapshot().backend).to.equal('gcm-js');
      }
      expect(gcmJsBackend.supports(ESP_ALGORITHMS['aes-gcm-128'])).to.equal(true);
      expect(gcmJsBackend.supports(ESP_ALGORITHMS['aes-gcm-256'])).to.equal(true);
      expect(gcmJsBackend.supports(ESP_ALGORITHMS['chacha20-poly1305'])).to.equal(false);
      expect(gcmJsBackend.supports(ESP_ALGORITHMS['aes-cbc-128-hmac-sha256'])).to.equal(false);
    });

    it('refuses ChaCha20-Poly1305 and CBC with UNSUPPORTED_ALGORITHM naming the way out', () => {
      const chacha = expectEspError(() => new SecurityAssociation({ spi: 0x100, algorithm: 'chacha20-poly1305', key: `0x${'01'.repeat(36)}`, backend: 'gcm-js' }), 'UNSUPPORTED_ALGORITHM', 'backend');
      expect(chacha.message).to.include("backend 'node'").and.include('chacha20-poly1305');
      expectEspError(
        () => new SecurityAssociation({ spi: 0x100, algorithm: 'aes-cbc-128-hmac-sha256', key: `0x${'01'.repeat(16)}`, authKey: `0x${'02'.repeat(32)}`, backend: 'gcm-js' }),
        'UNSUPPORTED_ALGORITHM',
        'backend',
      );
    });

    it('gcm-js is never the default (openssl when its addon is built, else node)', () => {
      const expected = isOpensslBackendAvailable() ? 'openssl' : 'node';
      expect(new SecurityAssociation({ spi: 0x100, algorithm: 'aes-gcm-128', key: `0x${'01'.repeat(20)}` }).backend).to.equal(expected);
    });
  });
});
