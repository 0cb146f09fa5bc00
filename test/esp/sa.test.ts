/**
 * Security associations: round trips for every algorithm, mode, family, ESN and UDP
 * encapsulation, sealed by one backend and opened by the other; the exact bytes of what is
 * sealed; the zero-copy datapath on pool buffers; sequence numbers; lifetimes.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import { EspError, EspStatus } from '../../src/esp/errors.js';
import { isOpensslBackendAvailable } from '../../src/esp/openssl-backend.js';
import { SecurityAssociation } from '../../src/esp/sa.js';
import type { SaExpireEvent, SecurityAssociationConfig } from '../../src/esp/sa.js';
import { BufferPool } from '../../src/pool/pool.js';
import { ALGORITHM_CASES, dataOf, expectEspError, hexOfBytes, inBuffer, ipv4, ipv4Udp, ipv6, ipv6Udp, keysOf, pattern } from './fixtures.js';

type Family = 4 | 6;

function configFor(c: (typeof ALGORITHM_CASES)[number], mode: 'transport' | 'tunnel', family: Family, esn: boolean, udp: boolean): SecurityAssociationConfig {
  return {
    spi: 0x8000_0101, // above 2^31: exercises unsigned handling
    ...keysOf(c),
    mode,
    ...(mode === 'tunnel' ? { tunnel: family === 4 ? { source: '198.51.100.1', destination: '198.51.100.2' } : { source: '2001:db8:1::1', destination: '2001:db8:1::2' } } : {}),
    esn,
    udpEncapsulation: udp,
  };
}

type BackendName = 'openssl' | 'node' | 'forge';

/**
 * Sealer and opener with different backends (forge has no ChaCha20): node:crypto and
 * node-forge both ways, and the 'openssl' addon against both when it is built.
 */
function pairs(c: (typeof ALGORITHM_CASES)[number]): [BackendName, BackendName][] {
  const list: [BackendName, BackendName][] = c.forge ? [['node', 'forge'], ['forge', 'node']] : [['node', 'node']];
  if (isOpensslBackendAvailable()) {
    list.push(['openssl', 'node'], ['node', 'openssl']);
    if (c.forge) list.push(['openssl', 'forge'], ['forge', 'openssl']);
  }
  return list;
}

function ipChecksumOk(packet: Uint8Array, at = 0): boolean {
  const length = (packet[at]! & 0x0f) * 4;
  let sum = 0;
  for (let i = at; i < at + length; i += 2) sum += (packet[i]! << 8) | packet[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

describe('esp/sa', () => {
  describe('round trips: seal with one backend, open with the other', () => {
    for (const c of ALGORITHM_CASES) {
      for (const mode of ['transport', 'tunnel'] as const) {
        for (const family of [4, 6] as const) {
          for (const esn of [false, true]) {
            for (const udp of [false, true]) {
              for (const [sealWith, openWith] of pairs(c)) {
                it(`${c.algorithm} ${mode} IPv${family}${esn ? ' esn' : ''}${udp ? ' udp' : ''} ${sealWith}→${openWith}`, () => {
                  const config = configFor(c, mode, family, esn, udp);
                  // With ESN, start just below 2^32 so the stream crosses into the next high half.
                  const sealer = new SecurityAssociation({ ...config, backend: sealWith, outboundSeq: esn ? 0xffff_fffdn : 0n });
                  const opener = new SecurityAssociation({ ...config, backend: openWith, inboundSeq: esn ? 0xffff_fff0n : 0n });
                  for (const size of [0, 1, 2, 13, 64, 255, 1000]) {
                    const p = family === 4 ? ipv4Udp(size, { tos: 0xb8, id: size }) : ipv6Udp(size, { trafficClass: 0x2e });
                    const sealed = sealer.seal(p);
                    expect(hexOfBytes(opener.open(sealed)), `size ${size}`).to.equal(hexOfBytes(p));
                  }
                  expect(opener.stats.opened).to.equal(7);
                  expect(sealer.stats.sealed).to.equal(7);
                  if (esn) expect(opener.inboundSeq).to.equal(0x1_0000_0004n);
                });
              }
            }
          }
        }
      }
    }
  });

  describe('what seal writes', () => {
    const gcm = ALGORITHM_CASES[0]!;
    const cbc = ALGORITHM_CASES[3]!;

    it('transport IPv4: protocol 50, lengths, checksum, SPI, sequence 1, 2, 3, IV = 64-bit sequence (AEAD), 4-byte alignment', () => {
      const sa = new SecurityAssociation({ spi: 0x12345678, ...keysOf(gcm) });
      const p = ipv4Udp(13, { ttl: 7, tos: 0x10, id: 0xbeef });
      for (let seq = 1; seq <= 3; seq++) {
        const e = sa.seal(p);
        expect(e[9]).to.equal(50);
        expect((e[2]! << 8) | e[3]!).to.equal(e.length);
        expect(ipChecksumOk(e)).to.equal(true);
        expect([e[1], e[4], e[5], e[8]]).to.deep.equal([0x10, 0xbe, 0xef, 7]); // TOS, ID, TTL kept
        expect(hexOfBytes(e.subarray(20, 28))).to.equal(`12345678${seq.toString(16).padStart(8, '0')}`);
        expect(hexOfBytes(e.subarray(28, 36))).to.equal(`00000000${seq.toString(16).padStart(8, '0')}`);
        // 21 bytes of UDP + padding + 2 is a multiple of 4; ICV 16.
        const encrypted = e.length - 20 - 8 - 8 - 16;
        expect(encrypted % 4).to.equal(0);
        expect(encrypted).to.equal(24);
      }
      expect(sa.outboundSeq).to.equal(3n);
    });

    it('CBC: a fresh 16-byte IV per packet, ciphertext a whole number of blocks', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(cbc) });
      const p = ipv4Udp(13);
      const ivs = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const e = sa.seal(p);
        ivs.add(hexOfBytes(e.subarray(28, 44)));
        expect((e.length - 20 - 8 - 16 - 16) % 16).to.equal(0);
      }
      expect(ivs.size).to.equal(200);
    });

    it('transport IPv4 keeps options and every header field, so open(seal(p)) is p', () => {
      const p = ipv4(pattern(40), { protocol: 6, options: [0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00], tos: 0x03, ttl: 1, id: 0, dontFragment: false });
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      const e = sa.seal(p);
      expect(e[0]).to.equal(0x47);
      expect(hexOfBytes(e.subarray(20, 28))).to.equal(hexOfBytes(p.subarray(20, 28)));
      const rx = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      expect(hexOfBytes(rx.open(e))).to.equal(hexOfBytes(p));
    });

    it('transport IPv6 puts ESP after hop-by-hop, destination options and routing, before destination options that follow routing', () => {
      // RFC 4303 3.1.1, as Linux places it: HBH, DST, RT | ESP | DST, UDP.
      const upper = ipv6Udp(20).subarray(40);
      const p = ipv6(upper, 17, { extensions: [[0, 0], [60, 1], [43, 0], [60, 0]] });
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      const e = sa.seal(p);
      expect(e[6]).to.equal(0); // HBH still first
      expect(e[40]).to.equal(60); // HBH -> DST
      expect(e[48]).to.equal(43); // DST (16 bytes) -> RT
      expect(e[64]).to.equal(50); // RT -> ESP
      expect(hexOfBytes(e.subarray(72, 76))).to.equal('00001000');
      expect((e[4]! << 8) | e[5]!).to.equal(e.length - 40);
      const rx = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      expect(hexOfBytes(rx.open(e))).to.equal(hexOfBytes(p));
      expect(rx.lastNextHeader).to.equal(60);
    });

    it('UDP encapsulation (RFC 3948): ports, length, zero checksum over IPv4, a valid one over IPv6', () => {
      const sa4 = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), udpEncapsulation: { sourcePort: 4501, destinationPort: 4500 } });
      const e4 = sa4.seal(ipv4Udp(10));
      expect(e4[9]).to.equal(17);
      expect(hexOfBytes(e4.subarray(20, 24))).to.equal('11951194');
      expect((e4[24]! << 8) | e4[25]!).to.equal(e4.length - 20);
      expect((e4[26]! << 8) | e4[27]!).to.equal(0);
      expect(hexOfBytes(e4.subarray(28, 32))).to.equal('00001000');
      const sa6 = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), udpEncapsulation: true });
      const e6 = sa6.seal(ipv6Udp(10));
      expect(e6[6]).to.equal(17);
      let sum = 17 + (e6.length - 40);
      for (let i = 8; i < e6.length; i += 2) sum += (e6[i]! << 8) | (i + 1 < e6.length ? e6[i + 1]! : 0);
      while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
      expect(sum, 'UDP checksum over the IPv6 pseudo-header').to.equal(0xffff);
    });

    it('tunnel IPv4 outer header: addresses, TTL, TOS copied from the inner packet, identification counting, checksum', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), mode: 'tunnel', tunnel: { source: '203.0.113.1', destination: '203.0.113.2', ttl: 33 } });
      const inner = ipv4Udp(5, { tos: 0xb9 });
      const a = sa.seal(inner);
      const b = sa.seal(inner);
      expect(hexOfBytes(a.subarray(12, 20))).to.equal('cb007101cb007102');
      expect([a[1], a[8], a[9]]).to.deep.equal([0xb9, 33, 50]);
      expect((b[4]! << 8 | b[5]!) - (a[4]! << 8 | a[5]!)).to.equal(1);
      expect(ipChecksumOk(a)).to.equal(true);
      expect((a[2]! << 8) | a[3]!).to.equal(a.length);
    });

    it('tunnel IPv6 outer header carries an IPv4 packet (next header 4) with the traffic class copied', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), mode: 'tunnel', tunnel: { source: '2001:db8::a', destination: '2001:db8::b' } });
      const e = sa.seal(ipv4Udp(5, { tos: 0x2e }));
      expect(e[0]! >> 4).to.equal(6);
      expect(((e[0]! & 0x0f) << 4) | (e[1]! >> 4)).to.equal(0x2e);
      expect([e[6], e[7]]).to.deep.equal([50, 64]);
      expect((e[4]! << 8) | e[5]!).to.equal(e.length - 40);
      const rx = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), mode: 'tunnel', tunnel: { source: '2001:db8::a', destination: '2001:db8::b' } });
      rx.open(e);
      expect(rx.lastNextHeader).to.equal(4);
    });
  });

  describe('zero-copy datapath on pool buffers', () => {
    const gcm = ALGORITHM_CASES[0]!;

    it('seals in place: headers into the headroom, trailer into the tailroom, the payload where it was', () => {
      const pool = new BufferPool({ capacity: 4 });
      const buf = pool.acquire()!;
      const p = ipv4Udp(64);
      buf.copyFrom(p);
      const payloadAt = buf.offset + 20;
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      expect(sa.sealBuffer(buf)).to.equal(EspStatus.OK);
      // IP header moved back by ESP header (8) + IV (8); the ciphertext starts where the payload was.
      expect(buf.offset).to.equal(payloadAt - 16 - 20);
      expect(buf.length).to.equal(20 + 8 + 8 + 72 + 2 + 2 + 16);
      const rx = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      expect(rx.openBuffer(buf)).to.equal(EspStatus.OK);
      expect(buf.offset).to.equal(payloadAt - 20);
      expect(hexOfBytes(buf.data())).to.equal(hexOfBytes(p));
      pool.release(buf);
    });

    it('NO_ROOM without enough headroom or tailroom: buffer untouched, counted, no sequence number used', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), mode: 'tunnel', tunnel: { source: '192.0.2.1', destination: '192.0.2.2' } });
      const p = ipv4Udp(10);
      const tight = inBuffer(p, 20 + 8 + 8 - 1, 64);
      const before = hexOfBytes(tight.bytes);
      expect(sa.sealBuffer(tight)).to.equal(EspStatus.NO_ROOM);
      expect(hexOfBytes(tight.bytes)).to.equal(before);
      const short = inBuffer(p, 64, 4);
      expect(sa.sealBuffer(short)).to.equal(EspStatus.NO_ROOM);
      expect(sa.stats.noRoom).to.equal(2);
      expect(sa.outboundSeq).to.equal(0n);
      expect(sa.sealBuffer(inBuffer(p, 20 + 8 + 8, 64))).to.equal(EspStatus.OK);
      expect(sa.outboundSeq).to.equal(1n);
    });

    it('refuses a result longer than 65535 bytes', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      const big = ipv4Udp(65535 - 28);
      expect(sa.sealBuffer(inBuffer(big, 64, 64))).to.equal(EspStatus.NO_ROOM);
    });

    it('sealPayload / openPayload: the ESP packet alone, for sockets', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), mode: 'tunnel', tunnel: { source: '192.0.2.1', destination: '192.0.2.2' } });
      const inner = ipv6Udp(30);
      const view = inBuffer(inner, 16, 40);
      expect(sa.sealPayload(view, 41)).to.equal(EspStatus.OK);
      expect(view.offset).to.equal(0);
      expect(hexOfBytes(view.bytes.subarray(0, 4))).to.equal('00001000');
      const rx = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), mode: 'tunnel', tunnel: { source: '192.0.2.1', destination: '192.0.2.2' } });
      expect(rx.openPayload(view)).to.equal(EspStatus.OK);
      expect(hexOfBytes(dataOf(view))).to.equal(hexOfBytes(inner));
      expect(rx.lastNextHeader).to.equal(41);
    });

    it('tunnel mode trims TFC padding (RFC 4303 2.7) and refuses a payload that is not IP', () => {
      const config = { spi: 0x1000, ...keysOf(gcm), mode: 'tunnel' as const, tunnel: { source: '192.0.2.1', destination: '192.0.2.2' } };
      const tx = new SecurityAssociation(config);
      const rx = new SecurityAssociation(config);
      const inner = ipv4Udp(10);
      const padded = new Uint8Array(inner.length + 33);
      padded.set(inner);
      const view = inBuffer(padded, 32, 64);
      tx.sealPayload(view, 4);
      expect(rx.openPayload(view)).to.equal(EspStatus.OK);
      expect(hexOfBytes(dataOf(view))).to.equal(hexOfBytes(inner));
      const udpInside = inBuffer(pattern(30), 32, 64);
      tx.sealPayload(udpInside, 17);
      expect(rx.openPayload(udpInside)).to.equal(EspStatus.BAD_NEXT_HEADER);
      const wrongVersion = inBuffer(ipv6Udp(3), 32, 64);
      tx.sealPayload(wrongVersion, 4);
      expect(rx.openPayload(wrongVersion)).to.equal(EspStatus.BAD_NEXT_HEADER);
      const shortInner = inBuffer(inner.subarray(0, 25), 32, 64);
      tx.sealPayload(shortInner, 4);
      expect(rx.openPayload(shortInner)).to.equal(EspStatus.BAD_LENGTH);
      expect([rx.stats.badNextHeader, rx.stats.badLength]).to.deep.equal([2, 1]);
    });

    it('a dummy packet (next header 59) is authentic, counted, and dropped silently (RFC 4303 2.6)', () => {
      const tx = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      const rx = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      const view = inBuffer(pattern(7), 32, 64);
      tx.sealPayload(view, 59);
      expect(rx.openPayload(view)).to.equal(EspStatus.DUMMY);
      expect([rx.stats.dummy, rx.stats.opened]).to.deep.equal([1, 0]);
      expect(rx.inboundSeq).to.equal(1n);
    });

    it('IP fragments are UNSUPPORTED (transport mode protects whole datagrams)', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      const fragment = ipv4Udp(20);
      fragment[6] = 0x20; // MF
      fragment[10] = 0;
      fragment[11] = 0;
      expect(sa.sealBuffer(inBuffer(fragment))).to.equal(EspStatus.UNSUPPORTED);
      const v6 = ipv6(pattern(16), 17, { extensions: [[44, 0]] });
      expect(sa.sealBuffer(inBuffer(v6))).to.equal(EspStatus.UNSUPPORTED);
      expect(sa.stats.unsupported).to.equal(2);
    });

    it('the friendly API throws EspError with the status name', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm) });
      expectEspError(() => sa.open(ipv4Udp(10)), 'BAD_PACKET');
      expectEspError(() => sa.seal(new Uint8Array([0x45])), 'TRUNCATED');
      expectEspError(() => sa.seal('packet' as unknown as Uint8Array), 'BAD_PACKET');
      expect(() => sa.open(new Uint8Array(0))).to.throw(EspError);
    });
  });

  describe('sequence numbers (RFC 4303 3.3.3)', () => {
    const gcm = ALGORITHM_CASES[0]!;

    it('continue from outboundSeq and never cycle without ESN: 2^32-1 is the last, then SEQ_EXHAUSTED and a hard event', async () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), outboundSeq: 0xffff_fffen });
      const p = ipv4Udp(4);
      expect(hexOfBytes(sa.seal(p).subarray(24, 28))).to.equal('ffffffff');
      const event = once(sa, 'hard');
      expect(sa.sealBuffer(inBuffer(p))).to.equal(EspStatus.SEQ_EXHAUSTED);
      expect(sa.sealBuffer(inBuffer(p))).to.equal(EspStatus.SEQ_EXHAUSTED);
      expect(sa.stats.seqExhausted).to.equal(2);
      expectEspError(() => sa.seal(p), 'SEQ_EXHAUSTED');
      const [detail] = (await event) as [SaExpireEvent];
      expect(detail).to.deep.equal({ spi: 0x1000, reason: 'sequence', hard: true });
    });

    it('with ESN the low half wraps into the next high half, and 2^64-1 is the last', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), esn: true, outboundSeq: 0xffff_ffffn });
      const e = sa.seal(ipv4Udp(4));
      expect(hexOfBytes(e.subarray(24, 28))).to.equal('00000000');
      expect(hexOfBytes(e.subarray(28, 36))).to.equal('0000000100000000'); // IV: the whole 64-bit number
      expect(sa.outboundSeq).to.equal(0x1_0000_0000n);
      const last = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), esn: true, outboundSeq: (1n << 64n) - 2n });
      last.seal(ipv4Udp(4));
      expect(last.sealBuffer(inBuffer(ipv4Udp(4)))).to.equal(EspStatus.SEQ_EXHAUSTED);
    });
  });

  describe('lifetimes', () => {
    const gcm = ALGORITHM_CASES[0]!;

    it('packets: a soft event at packetSoft, refusal after packetHard, on seal and open', async () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), limits: { packetSoft: 2, packetHard: 3 } });
      const events: SaExpireEvent[] = [];
      sa.on('soft', (e: SaExpireEvent) => events.push(e));
      sa.on('hard', (e: SaExpireEvent) => events.push(e));
      const p = ipv4Udp(10);
      sa.seal(p);
      const second = sa.seal(p);
      expect(sa.softExpired).to.equal(true);
      sa.seal(p);
      expect(sa.hardExpired).to.equal(true);
      expect(sa.sealBuffer(inBuffer(p))).to.equal(EspStatus.HARD_LIMIT);
      expect(sa.openBuffer(inBuffer(second))).to.equal(EspStatus.HARD_LIMIT);
      expect(sa.stats.hardLimit).to.equal(2);
      await new Promise((resolve) => setImmediate(resolve));
      expect(events).to.deep.equal([{ spi: 0x1000, reason: 'packets', hard: false }, { spi: 0x1000, reason: 'packets', hard: true }]);
    });

    it('bytes: counted over the protected payload', () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), limits: { byteSoft: 100, byteHard: 250 } });
      const p = ipv4Udp(72); // 80 bytes of UDP
      sa.seal(p);
      expect(sa.softExpired).to.equal(false);
      sa.seal(p);
      expect([sa.softExpired, sa.hardExpired]).to.deep.equal([true, false]);
      sa.seal(p);
      sa.seal(p);
      expect(sa.hardExpired).to.equal(true);
      expect(sa.lifetimeBytes).to.equal(320);
    });

    it('seconds: timers fire the soft event, then the hard limit', async () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), limits: { timeSoft: 0.02, timeHard: 0.05 } });
      const [soft] = (await once(sa, 'soft')) as [SaExpireEvent];
      expect(soft.reason).to.equal('time');
      expect(sa.sealBuffer(inBuffer(ipv4Udp(1)))).to.equal(EspStatus.OK);
      const [hard] = (await once(sa, 'hard')) as [SaExpireEvent];
      expect(hard).to.deep.equal({ spi: 0x1000, reason: 'time', hard: true });
      expect(sa.sealBuffer(inBuffer(ipv4Udp(1)))).to.equal(EspStatus.HARD_LIMIT);
    });

    it('close() stops the timers', async () => {
      const sa = new SecurityAssociation({ spi: 0x1000, ...keysOf(gcm), limits: { timeHard: 0.02 } });
      sa.close();
      await new Promise((resolve) => setTimeout(resolve, 40));
      expect(sa.hardExpired).to.equal(false);
    });
  });
});
