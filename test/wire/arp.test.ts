import { expect } from 'chai';
import fc from 'fast-check';
import {
  ARP_LENGTH,
  ArpFields,
  ArpOperation,
  decodeArp,
  encodeArp,
  readArp,
  writeArp,
} from '../../src/wire/arp.js';
import { WireStatus } from '../../src/wire/errors.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { runScapy, scapyMissing } from '../helpers/judges.js';
import { expectWireError, guarded, hex, onlyWireError, toHex, truncations } from '../helpers/wire.js';

const MAC_A = 0x02_00_00_00_00_0a;
const MAC_B = 0x02_00_00_00_00_0b;

describe('wire/arp', () => {
  it('round-trips a request and a reply at field limits', () => {
    const cases = [
      { operation: ArpOperation.REQUEST, senderHardwareAddress: MAC_A, senderProtocolAddress: parseIpv4('10.0.0.1'), targetHardwareAddress: 0, targetProtocolAddress: parseIpv4('10.0.0.2') },
      { operation: ArpOperation.REPLY, senderHardwareAddress: 0xffff_ffff_ffff, senderProtocolAddress: 0xffffffff, targetHardwareAddress: 0xffff_ffff_fffe, targetProtocolAddress: 0 },
      { operation: 0xffff, senderHardwareAddress: 0, senderProtocolAddress: 0, targetHardwareAddress: 0, targetProtocolAddress: 0, hardwareType: 6 },
    ];
    for (const packet of cases) {
      const buf = new Uint8Array(ARP_LENGTH);
      expect(encodeArp(packet, buf, 0)).to.equal(ARP_LENGTH);
      expect(decodeArp(buf)).to.deep.equal({ hardwareType: packet.hardwareType ?? 1, protocolType: 0x0800, ...packet });
    }
  });

  it('decodes the ARP reply inside scapy vxlan.uts "Dissect VXLAN with no NextProtocol"', () => {
    // secdev/scapy test/scapy/layers/vxlan.uts: the inner frame's ARP payload.
    const published = hex('0001 0800 0604 0002 0c0000000000 7ffffffe 112233445566 7f000002');
    expect(decodeArp(published)).to.deep.equal({
      hardwareType: 1,
      protocolType: 0x0800,
      operation: 2,
      senderHardwareAddress: 0x0c0000000000,
      senderProtocolAddress: parseIpv4('127.255.255.254'),
      targetHardwareAddress: 0x112233445566,
      targetProtocolAddress: parseIpv4('127.0.0.2'),
    });
    const mine = new Uint8Array(ARP_LENGTH);
    writeArp(mine, 0, 2, 0x0c0000000000, parseIpv4('127.255.255.254'), 0x112233445566, parseIpv4('127.0.0.2'));
    expect(toHex(mine)).to.equal(toHex(published));
  });

  it('encodes at an offset without touching neighbours', () => {
    const buf = new Uint8Array(32).fill(0xee);
    encodeArp({ operation: 1, senderHardwareAddress: MAC_A, senderProtocolAddress: 1, targetHardwareAddress: 0, targetProtocolAddress: 2 }, buf, 2);
    expect(buf[0]).to.equal(0xee);
    expect(buf[1]).to.equal(0xee);
    expect(buf[30]).to.equal(0xee);
    expect(buf[31]).to.equal(0xee);
  });

  it('refuses bad fields and no room with WireError', () => {
    const buf = new Uint8Array(ARP_LENGTH);
    const good = { operation: 1, senderHardwareAddress: MAC_A, senderProtocolAddress: 1, targetHardwareAddress: MAC_B, targetProtocolAddress: 2 };
    expectWireError(() => encodeArp(good, new Uint8Array(27), 0), 'TRUNCATED');
    expectWireError(() => encodeArp(good, buf, 1), 'TRUNCATED');
    expectWireError(() => encodeArp({ ...good, operation: 0x10000 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeArp({ ...good, senderHardwareAddress: 2 ** 48 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeArp({ ...good, targetHardwareAddress: -1 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeArp({ ...good, senderProtocolAddress: 2 ** 32 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeArp({ ...good, targetProtocolAddress: 1.5 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeArp({ ...good, hardwareType: -1 }, buf, 0), 'BAD_VALUE');
  });

  it('reports other hardware/protocol types and address lengths as UNSUPPORTED', () => {
    const out = new ArpFields();
    const base = hex('0001 0800 0604 0001 02000000000a 0a000001 000000000000 0a000002');
    expect(readArp(base, 0, base.length, out)).to.equal(WireStatus.OK);
    const ieee802 = base.slice();
    ieee802[1] = 6;
    expect(readArp(ieee802, 0, base.length, out)).to.equal(WireStatus.OK);
    for (const [at, value] of [[1, 0x20], [3, 0xdd], [4, 8], [5, 16]] as const) {
      const bad = base.slice();
      bad[at] = value;
      expect(readArp(bad, 0, bad.length, out), `byte ${at}`).to.equal(WireStatus.UNSUPPORTED);
      expectWireError(() => decodeArp(bad), 'UNSUPPORTED');
    }
  });

  it('every truncation: reader TRUNCATED, decoder WireError TRUNCATED', () => {
    const packet = new Uint8Array(ARP_LENGTH);
    encodeArp({ operation: 2, senderHardwareAddress: MAC_A, senderProtocolAddress: 7, targetHardwareAddress: MAC_B, targetProtocolAddress: 9 }, packet, 0);
    const out = new ArpFields();
    for (const cut of truncations(packet)) {
      expect(readArp(cut, 0, cut.length, out)).to.equal(WireStatus.TRUNCATED);
      expectWireError(() => decodeArp(cut), 'TRUNCATED');
    }
    // A bad range is refused too.
    expect(readArp(packet, -1, packet.length, out)).to.equal(WireStatus.TRUNCATED);
    expect(readArp(packet, 0, packet.length + 1, out)).to.equal(WireStatus.TRUNCATED);
  });

  it('property: random and mutated bytes only ever give a status / WireError, never read out of bounds', () => {
    const out = new ArpFields();
    const valid = hex('0001 0800 0604 0001 02000000000a 0a000001 000000000000 0a000002');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.tuple(fc.integer({ min: 0, max: 27 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 28 })).map(([at, value, length]) => {
            const bytes = valid.slice(0, length);
            if (at < length) bytes[at] = value;
            return bytes;
          }),
        ),
        (bytes) => {
          // Read the packet inside a larger buffer of guard bytes, bounded by `end`: an
          // out-of-bounds read would see the guards and differ from reading an exact copy.
          const outer = new Uint8Array(bytes.length + 64).fill(0xa5);
          outer.set(bytes, 32);
          const inside = new ArpFields();
          const status = readArp(outer, 32, 32 + bytes.length, inside);
          expect(status === WireStatus.OK || status === WireStatus.TRUNCATED || status === WireStatus.UNSUPPORTED).to.equal(true);
          if (bytes.length < ARP_LENGTH) expect(status).to.equal(WireStatus.TRUNCATED);
          expect(readArp(bytes.slice(), 0, bytes.length, out)).to.equal(status);
          if (status === WireStatus.OK) expect(inside).to.deep.equal(out);
          onlyWireError(() => decodeArp(guarded(bytes)));
        },
      ),
    );
  });

  it('scapy dissects what we encode (independent judge)', function () {
    const missing = scapyMissing();
    if (missing) this.skip();
    const packets = [
      { operation: 1, senderHardwareAddress: MAC_A, senderProtocolAddress: parseIpv4('10.0.0.1'), targetHardwareAddress: 0, targetProtocolAddress: parseIpv4('10.0.0.2') },
      { operation: 2, senderHardwareAddress: MAC_B, senderProtocolAddress: parseIpv4('192.0.2.7'), targetHardwareAddress: MAC_A, targetProtocolAddress: parseIpv4('198.51.100.255') },
    ];
    const bytes = packets.map((p) => {
      const buf = new Uint8Array(ARP_LENGTH);
      encodeArp(p, buf, 0);
      return buf;
    });
    const report = runScapy<{ op: number; hwsrc: string; psrc: string; hwdst: string; pdst: string; hwtype: number; ptype: number; hwlen: number; plen: number }[]>(
      `print(json.dumps([{k: ARP(b).getfieldval(k) for k in ('op','hwsrc','psrc','hwdst','pdst','hwtype','ptype','hwlen','plen')} for b in INPUT]))`,
      bytes,
    );
    expect(report).to.deep.equal([
      { op: 1, hwsrc: '02:00:00:00:00:0a', psrc: '10.0.0.1', hwdst: '00:00:00:00:00:00', pdst: '10.0.0.2', hwtype: 1, ptype: 0x0800, hwlen: 6, plen: 4 },
      { op: 2, hwsrc: '02:00:00:00:00:0b', psrc: '192.0.2.7', hwdst: '02:00:00:00:00:0a', pdst: '198.51.100.255', hwtype: 1, ptype: 0x0800, hwlen: 6, plen: 4 },
    ]);
  });
});
