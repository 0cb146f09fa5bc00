import { expect } from 'chai';
import fc from 'fast-check';
import { WireStatus } from '../../src/wire/errors.js';
import {
  VXLAN_FLAG_G,
  VXLAN_FLAG_I,
  VXLAN_READ_GBP,
  VXLAN_READ_LENIENT,
  VxlanFields,
  decodeVxlan,
  encodeVxlan,
  readVxlan,
} from '../../src/wire/vxlan.js';
import { expectWireError, guarded, hex, onlyWireError, toHex, truncations } from '../helpers/wire.js';

describe('wire/vxlan', () => {
  it('round-trips VNI 0 and 2^24-1', () => {
    for (const vni of [0, 1, 42, 0x123456, 0xffffff]) {
      const buf = new Uint8Array(8);
      expect(encodeVxlan({ vni }, buf, 0)).to.equal(8);
      expect(decodeVxlan(buf)).to.deep.equal({ vni, flags: VXLAN_FLAG_I });
    }
  });

  it('encodes at an offset without touching neighbours', () => {
    const buf = new Uint8Array(12).fill(0xee);
    encodeVxlan({ vni: 100 }, buf, 2);
    expect(toHex(buf)).to.equal('eeee0800000000006400eeee');
  });

  it('matches scapy vxlan.uts "Build a VXLAN packet with VNI of 42"', () => {
    // secdev/scapy test/scapy/layers/vxlan.uts: UDP(sport=1024, dport=4789)/VXLAN(flags=0x08, vni=42)
    const published = hex('040012b500100000 080000000000 2a00');
    expect(decodeVxlan(published, 8)).to.deep.equal({ vni: 42, flags: 0x08 });
    const mine = new Uint8Array(8);
    encodeVxlan({ vni: 42 }, mine, 0);
    expect(toHex(mine)).to.equal(toHex(published.subarray(8)));
  });

  it('decodes scapy vxlan.uts "Dissect VXLAN with no NextProtocol" (VNI 0x2248, inner ARP)', () => {
    const published = hex(
      '0800000000224800 ca46ae10ed0f 0c0000000000 0806 0001 0800 0604 0002 0c0000000000 7ffffffe 112233445566 7f000002',
    );
    expect(decodeVxlan(published)).to.deep.equal({ vni: 0x2248, flags: 0x08 });
    // The inner frame follows: EtherType ARP at inner offset 12.
    expect((published[8 + 12]! << 8) | published[8 + 13]!).to.equal(0x0806);
  });

  it('round-trips the GBP extension (draft-smith-vxlan-group-policy)', () => {
    for (const gbp of [
      { policyId: 0, dontLearn: false, applied: false },
      { policyId: 42, dontLearn: true, applied: false },
      { policyId: 0xffff, dontLearn: true, applied: true },
    ]) {
      const buf = new Uint8Array(8);
      encodeVxlan({ vni: 7, gbp }, buf, 0);
      expect(buf[0]).to.equal(VXLAN_FLAG_G | VXLAN_FLAG_I);
      expect(decodeVxlan(buf)).to.deep.equal({ vni: 7, flags: 0x88, gbp });
    }
    // Bit positions from the draft: D is bit 9, A bit 12, policy ID bits 16-31.
    const buf = new Uint8Array(8);
    encodeVxlan({ vni: 1, gbp: { policyId: 0x1234, dontLearn: true, applied: true } }, buf, 0);
    expect(toHex(buf)).to.equal('8848123400000100');
  });

  it('strict mode rejects a missing I flag and reserved bits, as Linux does; lenient ignores reserved bits', () => {
    const out = new VxlanFields();
    const cases: [string, number, number][] = [
      // bytes, strict status, lenient status
      ['0000000000006400', WireStatus.BAD_FLAGS, WireStatus.BAD_FLAGS], // no I flag
      ['0c00000000006400', WireStatus.BAD_FLAGS, WireStatus.OK], // GPE P bit
      ['0801000000006400', WireStatus.BAD_FLAGS, WireStatus.OK],
      ['0800000100006400', WireStatus.BAD_FLAGS, WireStatus.OK],
      ['0800000000006401', WireStatus.BAD_FLAGS, WireStatus.OK], // reserved byte after the VNI
      ['0800000000006400', WireStatus.OK, WireStatus.OK],
    ];
    for (const [bytes, strict, lenient] of cases) {
      expect(readVxlan(hex(bytes), 0, 8, VXLAN_READ_GBP, out), `strict ${bytes}`).to.equal(strict);
      expect(readVxlan(hex(bytes), 0, 8, VXLAN_READ_GBP | VXLAN_READ_LENIENT, out), `lenient ${bytes}`).to.equal(lenient);
    }
    expect(out.vni).to.equal(100);
    expectWireError(() => decodeVxlan(hex('0000000000006400')), 'BAD_FLAGS');
    expect(decodeVxlan(hex('0c00000000006401'), 0, { lenient: true }).vni).to.equal(100);
  });

  it('without the GBP extension, a G bit is a reserved bit (strict drop)', () => {
    const bytes = hex('8800002a00000700');
    expectWireError(() => decodeVxlan(bytes, 0, { gbp: false }), 'BAD_FLAGS');
    expect(decodeVxlan(bytes, 0, { gbp: false, lenient: true })).to.deep.equal({ vni: 7, flags: 0x88 });
    expect(decodeVxlan(bytes).gbp).to.deep.equal({ policyId: 42, dontLearn: false, applied: false });
  });

  it('rejects bad fields on encode', () => {
    const buf = new Uint8Array(8);
    expectWireError(() => encodeVxlan({ vni: 0x1000000 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeVxlan({ vni: -1 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeVxlan({ vni: 1.5 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeVxlan({ vni: 1, gbp: { policyId: 0x10000, dontLearn: false, applied: false } }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeVxlan({ vni: 1 }, buf, 1), 'TRUNCATED');
  });

  it('every truncation fails cleanly', () => {
    const packet = hex('8848123400000100');
    const out = new VxlanFields();
    for (const t of truncations(packet)) {
      expectWireError(() => decodeVxlan(t), 'TRUNCATED');
      expect(readVxlan(t, 0, t.length, VXLAN_READ_GBP, out)).to.equal(WireStatus.TRUNCATED);
    }
    // `end` bounds the read even when the buffer goes on.
    expect(readVxlan(packet, 0, 7, 0, out)).to.equal(WireStatus.TRUNCATED);
    expect(readVxlan(packet, 4, 8, 0, out)).to.equal(WireStatus.TRUNCATED);
  });

  it('property: random bytes only ever give a status or a WireError', () => {
    const out = new VxlanFields();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), fc.nat(30), fc.nat(3), (bytes, offset, mode) => {
        const view = guarded(bytes);
        onlyWireError(() => decodeVxlan(view, offset));
        onlyWireError(() => decodeVxlan(view, offset, { lenient: true }));
        const status = readVxlan(view, offset, view.length, mode, out);
        expect(status).to.be.oneOf([WireStatus.OK, WireStatus.TRUNCATED, WireStatus.BAD_FLAGS]);
        if (status === WireStatus.OK) expect(offset + 8).to.be.at.most(view.length);
      }),
      { numRuns: 2000 },
    );
  });
});
