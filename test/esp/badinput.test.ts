/**
 * Bad input: every truncation, random bytes, flipped bits, wrong SPIs. The datapath only ever
 * returns a status (never throws, never writes outside the packet), the friendly API only
 * ever throws EspError, and no altered packet is ever accepted.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { EspError, EspStatus } from '../../src/esp/errors.js';
import { SecurityPolicy } from '../../src/esp/policy.js';
import { SecurityAssociation } from '../../src/esp/sa.js';
import type { PacketView, SecurityAssociationConfig } from '../../src/esp/sa.js';
import { SaDatabase } from '../../src/esp/sad.js';
import { ALGORITHM_CASES, inBuffer, ipv4Udp, ipv6Udp, keysOf } from './fixtures.js';

const STATUSES = new Set<number>(Object.values(EspStatus));

interface Setup {
  name: string;
  config: SecurityAssociationConfig;
  packet: (sa: SecurityAssociation) => Uint8Array;
}

const setups: Setup[] = [];
for (const c of ALGORITHM_CASES) {
  setups.push({ name: `${c.algorithm} transport IPv4`, config: { spi: 0x2000, ...keysOf(c) }, packet: (sa) => sa.seal(ipv4Udp(21)) });
  setups.push({ name: `${c.algorithm} tunnel IPv6 in UDP`, config: { spi: 0x2000, ...keysOf(c), mode: 'tunnel', tunnel: { source: '2001:db8::1', destination: '2001:db8::2' }, udpEncapsulation: true }, packet: (sa) => sa.seal(ipv4Udp(9)) });
  setups.push({ name: `${c.algorithm} transport IPv6 esn`, config: { spi: 0x2000, ...keysOf(c), esn: true }, packet: (sa) => sa.seal(ipv6Udp(3)) });
}

/** Runs a datapath call on a copy of `bytes` placed between guard bytes; checks the guards and the status. */
function guardedCall(bytes: Uint8Array, call: (view: PacketView) => number): number {
  const front = 96;
  const back = 96;
  const whole = new Uint8Array(front + bytes.length + back).fill(0x5c);
  whole.set(bytes, front);
  const view = { bytes: whole, offset: front, length: bytes.length };
  let status = -1;
  expect(() => {
    status = call(view);
  }).to.not.throw();
  expect(STATUSES.has(status), `status ${status}`).to.equal(true);
  for (let i = 0; i < front; i++) if (whole[i] !== 0x5c) throw new Error(`wrote before the packet at ${i - front}`);
  for (let i = front + bytes.length; i < whole.length; i++) if (whole[i] !== 0x5c) throw new Error(`wrote after the packet at +${i - front - bytes.length}`);
  if (status === EspStatus.OK) expect(view.offset >= front && view.offset + view.length <= front + bytes.length).to.equal(true);
  return status;
}

function onlyEspError(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof EspError)) throw new Error(`expected EspError, got ${String(error)}`, { cause: error });
  }
}

/** The same packet with its IPv4/IPv6 length (and UDP length) cut to `length`, so only ESP is short. */
function consistentlyCut(packet: Uint8Array, length: number): Uint8Array {
  const cut = packet.slice(0, length);
  if (cut[0]! >> 4 === 4 && length >= 20) {
    cut[2] = length >> 8;
    cut[3] = length & 0xff;
    cut[10] = 0;
    cut[11] = 0;
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (cut[i]! << 8) | cut[i + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    cut[10] = (~sum >> 8) & 0xff;
    cut[11] = ~sum & 0xff;
    if (cut[9] === 17 && length >= 28) {
      cut[24] = (length - 20) >> 8;
      cut[25] = (length - 20) & 0xff;
    }
  } else if (cut[0]! >> 4 === 6 && length >= 40) {
    cut[4] = (length - 40) >> 8;
    cut[5] = (length - 40) & 0xff;
    if (cut[6] === 17 && length >= 48) {
      cut[44] = (length - 40) >> 8;
      cut[45] = (length - 40) & 0xff;
    }
  }
  return cut;
}

describe('esp/bad input', () => {
  for (const setup of setups) {
    describe(setup.name, () => {
      const tx = new SecurityAssociation(setup.config);
      const packet = setup.packet(tx);
      const espStart = (packet[0]! >> 4 === 4 ? 20 : 40) + (setup.config.udpEncapsulation ? 8 : 0);

      it('the intact packet opens (sanity)', () => {
        expect(guardedCall(packet, (v) => new SecurityAssociation(setup.config).openBuffer(v))).to.equal(EspStatus.OK);
      });

      it('every truncation, raw and with consistent IP/UDP lengths, is refused with a status', () => {
        for (let length = 0; length < packet.length; length++) {
          const rx = new SecurityAssociation(setup.config);
          const raw = packet.subarray(0, length);
          expect(guardedCall(raw, (v) => rx.openBuffer(v)), `raw ${length}`).to.not.equal(EspStatus.OK);
          const consistent = consistentlyCut(packet, length);
          const status = guardedCall(consistent, (v) => rx.openBuffer(v));
          expect(status, `cut ${length}`).to.not.equal(EspStatus.OK);
          if (length >= espStart + 8 + 8 + 16) expect([EspStatus.TRUNCATED, EspStatus.BAD_LENGTH, EspStatus.BAD_ICV], `cut ${length}`).to.include(status);
          onlyEspError(() => rx.open(raw));
          // The bare ESP packet, cut.
          if (length >= espStart) expect(guardedCall(packet.subarray(espStart, length), (v) => rx.openPayload(v))).to.not.equal(EspStatus.OK);
        }
      });

      it('every single-bit flip inside ESP (SPI, sequence, IV, ciphertext, ICV) is refused', () => {
        for (let bit = espStart * 8; bit < packet.length * 8; bit++) {
          const flipped = Uint8Array.from(packet);
          flipped[bit >> 3]! ^= 0x80 >> (bit & 7);
          const rx = new SecurityAssociation(setup.config);
          const status = guardedCall(flipped, (v) => rx.openBuffer(v));
          expect(status, `bit ${bit - espStart * 8} of ESP`).to.not.equal(EspStatus.OK);
          if (bit >= (packet.length - 16) * 8) expect(status, 'ICV bit').to.equal(EspStatus.BAD_ICV);
          // A flip that zeroes the SPI under UDP encapsulation turns it into the non-ESP marker (RFC 3948 2.2).
          if (bit < (espStart + 4) * 8) expect([EspStatus.UNKNOWN_SPI, EspStatus.NON_ESP], 'SPI bit').to.include(status);
        }
      });

      it('a wrong SPI is UNKNOWN_SPI, for the SA and for the database', () => {
        const other = Uint8Array.from(packet);
        other[espStart + 3]! ^= 0x01;
        const rx = new SecurityAssociation(setup.config);
        expect(guardedCall(other, (v) => rx.openBuffer(v))).to.equal(EspStatus.UNKNOWN_SPI);
        const sad = new SaDatabase();
        sad.add(new SecurityAssociation(setup.config));
        expect(guardedCall(other, (v) => sad.openBuffer(v))).to.equal(EspStatus.UNKNOWN_SPI);
        expect(sad.stats.unknownSpi).to.equal(1);
        expect(rx.stats.unknownSpi).to.equal(1);
      });

      it('property: random bytes and random mutations only ever give a status, and never OK', () => {
        const rx = new SecurityAssociation(setup.config);
        const sad = new SaDatabase();
        sad.add(new SecurityAssociation(setup.config));
        fc.assert(
          fc.property(
            fc.oneof(
              fc.uint8Array({ maxLength: 200 }),
              fc.tuple(fc.integer({ min: espStart, max: packet.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: packet.length })).map(([at, xor, cut]) => {
                const m = Uint8Array.from(packet);
                m[at]! ^= xor;
                return m.subarray(0, Math.max(cut, at + 1));
              }),
            ),
            (bytes) => {
              expect(guardedCall(bytes, (v) => rx.openBuffer(v))).to.not.equal(EspStatus.OK);
              expect(guardedCall(bytes, (v) => rx.openPayload(v))).to.not.equal(EspStatus.OK);
              expect(guardedCall(bytes, (v) => sad.openBuffer(v))).to.not.equal(EspStatus.OK);
              onlyEspError(() => rx.open(bytes));
            },
          ),
          { numRuns: 300 },
        );
      });
    });
  }

  it('property: sealing random bytes gives a status, never an exception; what seals, opens', () => {
    const c = ALGORITHM_CASES[3]!;
    const tx = new SecurityAssociation({ spi: 0x2000, ...keysOf(c) });
    const rx = new SecurityAssociation({ spi: 0x2000, ...keysOf(c) });
    const policy = new SecurityPolicy({ rules: [{ selector: { protocol: 'udp', destinationPort: 4789 }, sa: tx }] });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (bytes, viaPolicy) => {
        const view = inBuffer(bytes, 64, 64);
        let status = -1;
        expect(() => {
          status = viaPolicy ? policy.protect(view) : tx.sealBuffer(view);
        }).to.not.throw();
        expect(STATUSES.has(status)).to.equal(true);
        if (status === EspStatus.OK && (!viaPolicy || policy.lastAction === 1)) {
          const opened = rx.openBuffer(view);
          expect(opened).to.equal(EspStatus.OK);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('RFC 3948 on the port: keep-alives and non-ESP markers are recognised, not parsed as ESP', () => {
    const c = ALGORITHM_CASES[0]!;
    const rx = new SecurityAssociation({ spi: 0x2000, ...keysOf(c), udpEncapsulation: true });
    const keepalive = Uint8Array.from([0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x11, 0x94, 0x11, 0x94, 0, 9, 0, 0, 0xff]);
    const fix = (p: Uint8Array): Uint8Array => {
      p[10] = 0;
      p[11] = 0;
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      p[10] = (~sum >> 8) & 0xff;
      p[11] = ~sum & 0xff;
      return p;
    };
    expect(guardedCall(fix(keepalive), (v) => rx.openBuffer(v))).to.equal(EspStatus.NAT_KEEPALIVE);
    const ike = new Uint8Array(20 + 8 + 12);
    ike.set(keepalive.subarray(0, 20));
    ike[3] = ike.length;
    ike.set([0x11, 0x94, 0x11, 0x94, 0, 20, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], 20);
    expect(guardedCall(fix(ike), (v) => rx.openBuffer(v))).to.equal(EspStatus.NON_ESP);
    expect([rx.stats.natKeepalive, rx.stats.nonEsp]).to.deep.equal([1, 1]);
    // An SA without UDP encapsulation refuses UDP.
    const plain = new SecurityAssociation({ spi: 0x2000, ...keysOf(c) });
    expect(guardedCall(ike, (v) => plain.openBuffer(v))).to.equal(EspStatus.BAD_PACKET);
  });
});
