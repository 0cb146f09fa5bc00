import { expect } from 'chai';
import fc from 'fast-check';
import { WireStatus } from '../../src/wire/errors.js';
import {
  EtherType,
  EthernetFields,
  MAC_BROADCAST,
  decodeEthernet,
  encodeEthernet,
  formatMac,
  isMulticastMac,
  parseMac,
  readEthernet,
  readMac,
  writeMac,
} from '../../src/wire/ethernet.js';
import { expectWireError, guarded, hex, onlyWireError, toHex, truncations } from '../helpers/wire.js';

describe('wire/ethernet', () => {
  it('parses and formats MAC addresses as 48-bit numbers', () => {
    expect(parseMac('02:00:00:00:00:01')).to.equal(0x020000000001);
    expect(parseMac('FF-FF-FF-FF-FF-FF')).to.equal(MAC_BROADCAST);
    expect(parseMac('0:1:2:3:4:5')).to.equal(0x000102030405);
    expect(formatMac(0x020000000001)).to.equal('02:00:00:00:00:01');
    expect(formatMac(MAC_BROADCAST)).to.equal('ff:ff:ff:ff:ff:ff');
    expect(formatMac(0)).to.equal('00:00:00:00:00:00');
    for (const bad of ['', '02:00:00:00:00', '02:00:00:00:00:01:02', 'zz:00:00:00:00:01', '020:0:0:0:0:1']) {
      expectWireError(() => parseMac(bad), 'BAD_VALUE');
    }
  });

  it('property: readMac/writeMac/formatMac/parseMac are inverse for every 48-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAC_BROADCAST }), (mac) => {
        const buf = new Uint8Array(6);
        writeMac(buf, 0, mac);
        expect(readMac(buf, 0)).to.equal(mac);
        expect(parseMac(formatMac(mac))).to.equal(mac);
        expect(isMulticastMac(mac)).to.equal((buf[0]! & 1) === 1);
      }),
    );
  });

  it('round-trips a plain header and an 802.1Q-tagged one', () => {
    const buf = new Uint8Array(18);
    const plain = { destination: MAC_BROADCAST, source: 0x020000000001, etherType: EtherType.ARP };
    expect(encodeEthernet(plain, buf, 0)).to.equal(14);
    expect(toHex(buf.subarray(0, 14))).to.equal('ffffffffffff0200000000010806');
    expect(decodeEthernet(buf.subarray(0, 14))).to.deep.equal({ ...plain, headerLength: 14 });
    const tagged = { ...plain, etherType: EtherType.IPV4, vlan: { pcp: 7, dei: true, vid: 4095 } };
    expect(encodeEthernet(tagged, buf, 0)).to.equal(18);
    expect(toHex(buf)).to.equal('ffffffffffff0200000000018100ffff0800');
    expect(decodeEthernet(buf)).to.deep.equal({ ...tagged, headerLength: 18 });
  });

  it('rejects bad fields', () => {
    const buf = new Uint8Array(18);
    expectWireError(() => encodeEthernet({ destination: 2 ** 48, source: 0, etherType: 0 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeEthernet({ destination: 0, source: 0, etherType: 0x10000 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeEthernet({ destination: 0, source: 0, etherType: 1, vlan: { pcp: 8, dei: false, vid: 1 } }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeEthernet({ destination: 0, source: 0, etherType: 1, vlan: { pcp: 0, dei: false, vid: 4096 } }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeEthernet({ destination: 0, source: 0, etherType: 1 }, buf, 5), 'TRUNCATED');
  });

  it('every truncation fails cleanly, random bytes never escape', () => {
    const packet = hex('ffffffffffff0200000000018100e0010800');
    const out = new EthernetFields();
    for (const t of truncations(packet)) {
      expectWireError(() => decodeEthernet(t), 'TRUNCATED');
      expect(readEthernet(t, 0, t.length, out)).to.equal(WireStatus.TRUNCATED);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(40), (bytes, offset) => {
        const view = guarded(bytes);
        onlyWireError(() => decodeEthernet(view, offset));
        const status = readEthernet(view, offset, view.length, out);
        if (status === WireStatus.OK) expect(offset + out.headerLength).to.be.at.most(view.length);
      }),
    );
  });
});
