import { expect } from 'chai';
import fc from 'fast-check';
import { WireStatus } from '../../src/wire/errors.js';
import {
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ND_FLAG_OVERRIDE,
  ND_FLAG_SOLICITED,
  ND_READ_VERIFY_CHECKSUM,
  NeighborMessageFields,
  decodeNeighborMessage,
  encodeNeighborMessage,
  encodingLengthNeighborMessage,
  icmpv6PseudoHeaderSum,
  readNeighborMessage,
  writeIcmpv6Checksum,
  writeNeighborAdvertisement,
} from '../../src/wire/icmpv6.js';
import { parseIpv6 } from '../../src/wire/ipv6.js';
import { runScapy, scapyMissing } from '../helpers/judges.js';
import { expectWireError, guarded, hex, onlyWireError, toHex } from '../helpers/wire.js';

const SOURCE = parseIpv6('2001:db8::1');
const DESTINATION = parseIpv6('ff02::1:ff00:2');
const TARGET = parseIpv6('2001:db8::2');
const MAC = 0x02_00_00_00_00_01;

function encode(m: Parameters<typeof encodeNeighborMessage>[0], source = SOURCE, destination = DESTINATION): Uint8Array {
  const buf = new Uint8Array(encodingLengthNeighborMessage(m));
  expect(encodeNeighborMessage(m, buf, 0, source, destination)).to.equal(buf.length);
  return buf;
}

describe('wire/icmpv6 (Neighbor Discovery)', () => {
  it('round-trips solicitations and advertisements with and without link-layer options, checksum valid', () => {
    const cases = [
      { type: ICMPV6_NEIGHBOR_SOLICITATION, targetAddress: TARGET },
      { type: ICMPV6_NEIGHBOR_SOLICITATION, targetAddress: TARGET, sourceLinkLayerAddress: MAC },
      { type: ICMPV6_NEIGHBOR_ADVERTISEMENT, targetAddress: TARGET, router: true, solicited: true, override: true, targetLinkLayerAddress: 0xffff_ffff_ffff },
      { type: ICMPV6_NEIGHBOR_ADVERTISEMENT, targetAddress: new Uint8Array(16), solicited: true, targetLinkLayerAddress: 0, sourceLinkLayerAddress: MAC },
    ];
    for (const m of cases) {
      const buf = encode(m);
      const decoded = decodeNeighborMessage(buf, 0, buf.length, SOURCE, DESTINATION);
      expect(decoded.checksumValid).to.equal(true);
      expect(decoded.type).to.equal(m.type);
      expect(decoded.code).to.equal(0);
      expect(decoded.router).to.equal(m.router === true);
      expect(decoded.solicited).to.equal(m.solicited === true);
      expect(decoded.override).to.equal(m.override === true);
      expect(Array.from(decoded.targetAddress)).to.deep.equal(Array.from(m.targetAddress));
      expect(decoded.sourceLinkLayerAddress).to.equal(m.sourceLinkLayerAddress);
      expect(decoded.targetLinkLayerAddress).to.equal(m.targetLinkLayerAddress);
      expect(decoded.length).to.equal(buf.length);
      // Another pseudo-header makes the checksum wrong.
      expect(decodeNeighborMessage(buf, 0, buf.length, TARGET, DESTINATION).checksumValid).to.equal(false);
    }
  });

  it('decodes the messages of Claudjos/agave tests/core/test_ndp.py', () => {
    // Published vectors (ICMPv6 part only; their IPv6 header is not given, so the checksum is not checked here).
    const ns = hex('8700 2614 00000000 fe800000000000007ef90efffe48e4c4');
    expect(decodeNeighborMessage(ns)).to.deep.include({ type: 135, code: 0, checksum: 0x2614, router: false, solicited: false, override: false, length: 24 });
    expect(toHex(decodeNeighborMessage(ns).targetAddress)).to.equal('fe800000000000007ef90efffe48e4c4');
    const na = hex('8800 0259 60000000 fe800000000000007ef90efffe48e4c4 0201 7cf90e48e4c4');
    const decoded = decodeNeighborMessage(na);
    expect(decoded).to.deep.include({ type: 136, checksum: 0x0259, router: false, solicited: true, override: true, targetLinkLayerAddress: 0x7cf90e48e4c4, length: 32 });
    expect(decoded.sourceLinkLayerAddress).to.equal(undefined);
  });

  it('the datapath writer gives the same bytes as the encoder', () => {
    const buf = encode({ type: ICMPV6_NEIGHBOR_ADVERTISEMENT, targetAddress: TARGET, solicited: true, override: true, targetLinkLayerAddress: MAC });
    const mine = new Uint8Array(40).fill(0xee);
    const target = new Uint8Array(20);
    target.set(TARGET, 4);
    writeNeighborAdvertisement(mine, 4, ND_FLAG_SOLICITED | ND_FLAG_OVERRIDE, target, 4, MAC);
    writeIcmpv6Checksum(mine, 4, 32, icmpv6PseudoHeaderSum(SOURCE, DESTINATION, 32));
    expect(toHex(mine.subarray(4, 36))).to.equal(toHex(buf));
    expect(mine[3]).to.equal(0xee);
    expect(mine[36]).to.equal(0xee);
  });

  it('refuses bad fields and no room with WireError', () => {
    const good = { type: ICMPV6_NEIGHBOR_SOLICITATION, targetAddress: TARGET, sourceLinkLayerAddress: MAC };
    const buf = new Uint8Array(32);
    expectWireError(() => encodeNeighborMessage(good, new Uint8Array(31), 0, SOURCE, DESTINATION), 'TRUNCATED');
    expectWireError(() => encodeNeighborMessage({ ...good, type: 134 }, buf, 0, SOURCE, DESTINATION), 'BAD_VALUE');
    expectWireError(() => encodeNeighborMessage({ ...good, targetAddress: new Uint8Array(4) }, buf, 0, SOURCE, DESTINATION), 'BAD_VALUE');
    expectWireError(() => encodeNeighborMessage({ ...good, router: true }, buf, 0, SOURCE, DESTINATION), 'BAD_VALUE');
    expectWireError(() => encodeNeighborMessage({ ...good, sourceLinkLayerAddress: 2 ** 48 }, buf, 0, SOURCE, DESTINATION), 'BAD_VALUE');
    expectWireError(() => encodeNeighborMessage({ ...good, checksum: 0x10000 }, buf, 0, SOURCE, DESTINATION), 'BAD_VALUE');
    expectWireError(() => encodeNeighborMessage(good, buf, 0, new Uint8Array(15), DESTINATION), 'BAD_VALUE');
    expectWireError(() => encodeNeighborMessage(good, buf, 0, SOURCE, new Uint8Array(17)), 'BAD_VALUE');
  });

  it('reader checks (RFC 4861 7.1.1): code 0, option lengths, checksum, type', () => {
    const out = new NeighborMessageFields();
    const buf = encode({ type: ICMPV6_NEIGHBOR_SOLICITATION, targetAddress: TARGET, sourceLinkLayerAddress: MAC });
    const sum = icmpv6PseudoHeaderSum(SOURCE, DESTINATION, buf.length);
    expect(readNeighborMessage(buf, 0, buf.length, sum, ND_READ_VERIFY_CHECKSUM, out)).to.equal(WireStatus.OK);
    expect(out.sourceLinkLayerAddress).to.equal(MAC);
    expect(out.targetLinkLayerAddress).to.equal(-1);
    expect(out.targetOffset).to.equal(8);
    const mutate = (at: number, value: number): Uint8Array => {
      const copy = buf.slice();
      copy[at] = value;
      return copy;
    };
    expect(readNeighborMessage(mutate(1, 1), 0, buf.length, sum, 0, out)).to.equal(WireStatus.BAD_VALUE);
    expect(readNeighborMessage(mutate(0, 128), 0, buf.length, sum, 0, out)).to.equal(WireStatus.UNSUPPORTED);
    expect(readNeighborMessage(mutate(25, 0), 0, buf.length, sum, 0, out)).to.equal(WireStatus.BAD_LENGTH);
    expect(readNeighborMessage(mutate(25, 2), 0, buf.length, sum, 0, out)).to.equal(WireStatus.BAD_LENGTH);
    expect(readNeighborMessage(mutate(20, 0x55), 0, buf.length, sum, ND_READ_VERIFY_CHECKSUM, out)).to.equal(WireStatus.BAD_CHECKSUM);
    expect(readNeighborMessage(mutate(20, 0x55), 0, buf.length, sum, 0, out)).to.equal(WireStatus.OK);
    expectWireError(() => decodeNeighborMessage(mutate(1, 1)), 'BAD_VALUE');
    expectWireError(() => decodeNeighborMessage(mutate(25, 0)), 'BAD_LENGTH');
    expectWireError(() => decodeNeighborMessage(mutate(0, 1)), 'UNSUPPORTED');
    // Unknown options are skipped; a link-layer option of another length (another link type) is not Ethernet's.
    const withOther = new Uint8Array(48);
    withOther.set(buf.subarray(0, 24));
    withOther.set([14, 1, 0, 0, 0, 0, 0, 0, 1, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], 24);
    expect(readNeighborMessage(withOther, 0, 48, 0, 0, out)).to.equal(WireStatus.OK);
    expect(out.sourceLinkLayerAddress).to.equal(-1);
  });

  it('every truncation: below 24 bytes TRUNCATED; inside an option BAD_LENGTH; at the option boundary a valid shorter message', () => {
    const out = new NeighborMessageFields();
    const buf = encode({ type: ICMPV6_NEIGHBOR_ADVERTISEMENT, targetAddress: TARGET, solicited: true, targetLinkLayerAddress: MAC });
    for (let length = 0; length < buf.length; length++) {
      const cut = guarded(buf.subarray(0, length));
      const status = readNeighborMessage(cut, 0, cut.length, 0, 0, out);
      if (length < 24) {
        expect(status, `length ${length}`).to.equal(WireStatus.TRUNCATED);
        expectWireError(() => decodeNeighborMessage(cut), 'TRUNCATED');
      } else if (length === 24) {
        expect(status).to.equal(WireStatus.OK);
        expect(out.targetLinkLayerAddress).to.equal(-1);
      } else {
        expect(status, `length ${length}`).to.equal(WireStatus.BAD_LENGTH);
        expectWireError(() => decodeNeighborMessage(cut), 'BAD_LENGTH');
      }
    }
    expect(readNeighborMessage(buf, -1, buf.length, 0, 0, out)).to.equal(WireStatus.TRUNCATED);
    expect(readNeighborMessage(buf, 0, buf.length + 1, 0, 0, out)).to.equal(WireStatus.TRUNCATED);
  });

  it('property: random and mutated bytes give a status / WireError only, and never read outside [offset, end)', () => {
    const valid = encode({ type: ICMPV6_NEIGHBOR_SOLICITATION, targetAddress: TARGET, sourceLinkLayerAddress: MAC });
    const out = new NeighborMessageFields();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 1 })).map(([tail, type]) => {
            const bytes = new Uint8Array(24 + tail.length);
            bytes[0] = type === 0 ? 135 : 136;
            bytes.set(tail, 24);
            return bytes;
          }),
          fc.tuple(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
            const bytes = valid.slice();
            bytes[at] = value;
            return bytes;
          }),
        ),
        fc.boolean(),
        (bytes, verify) => {
          const outer = new Uint8Array(bytes.length + 64).fill(0x01);
          outer.set(bytes, 32);
          const inside = new NeighborMessageFields();
          const mode = verify ? ND_READ_VERIFY_CHECKSUM : 0;
          const status = readNeighborMessage(outer, 32, 32 + bytes.length, 0x1234, mode, inside);
          expect(readNeighborMessage(bytes.slice(), 0, bytes.length, 0x1234, mode, out)).to.equal(status);
          if (status === WireStatus.OK) {
            inside.targetOffset -= 32;
            expect(inside).to.deep.equal(out);
          }
          onlyWireError(() => decodeNeighborMessage(guarded(bytes)));
        },
      ),
    );
  });

  it('scapy builds the same bytes, checksum included, and validates ours (independent judge)', function () {
    if (scapyMissing()) this.skip();
    const ours = [
      encode({ type: ICMPV6_NEIGHBOR_SOLICITATION, targetAddress: TARGET, sourceLinkLayerAddress: MAC }),
      encode({ type: ICMPV6_NEIGHBOR_ADVERTISEMENT, targetAddress: TARGET, router: true, solicited: true, override: true, targetLinkLayerAddress: MAC }),
    ];
    const report = runScapy<{ theirs: string[]; verdicts: boolean[] }>(
      [
        `src, dst, tgt = '2001:db8::1', 'ff02::1:ff00:2', '2001:db8::2'`,
        `ns = IPv6(src=src, dst=dst, hlim=255)/ICMPv6ND_NS(tgt=tgt)/ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:01')`,
        `na = IPv6(src=src, dst=dst, hlim=255)/ICMPv6ND_NA(tgt=tgt, R=1, S=1, O=1)/ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:00:01')`,
        `theirs = [bytes(p)[40:].hex() for p in (ns, na)]`,
        // Our messages behind scapy's IPv6 header: recompute the checksum in scapy and compare.
        `verdicts = []`,
        `for b in INPUT:`,
        `    p = IPv6(bytes(IPv6(src=src, dst=dst, hlim=255, nh=58, plen=len(b))) + b)`,
        `    c = p[ICMPv6ND_NS if b[0] == 135 else ICMPv6ND_NA]`,
        `    got = c.cksum`,
        `    del c.cksum`,
        `    verdicts.append(IPv6(bytes(p))[ICMPv6ND_NS if b[0] == 135 else ICMPv6ND_NA].cksum == got)`,
        `print(json.dumps({'theirs': theirs, 'verdicts': verdicts}))`,
      ].join('\n'),
      ours,
    );
    expect(report.theirs).to.deep.equal(ours.map(toHex));
    expect(report.verdicts).to.deep.equal([true, true]);
  });
});
