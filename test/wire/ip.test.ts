import { expect } from 'chai';
import fc from 'fast-check';
import { checksumAdjust, internetChecksum, onesComplementSum } from '../../src/wire/checksum.js';
import { WireStatus } from '../../src/wire/errors.js';
import {
  IPV4_READ_VERIFY_CHECKSUM,
  IpProtocol,
  Ipv4Fields,
  decodeIpv4,
  encodeIpv4,
  formatIpv4,
  parseIpv4,
  readIpv4,
  verifyIpv4Checksum,
} from '../../src/wire/ipv4.js';
import { Ipv6Fields, decodeIpv6, encodeIpv6, formatIpv6, parseIpv6, readIpv6 } from '../../src/wire/ipv6.js';
import {
  UdpFields,
  decodeUdp,
  encodeUdp,
  readUdp,
  verifyUdpChecksumIpv4,
  verifyUdpChecksumIpv6,
  writeUdpChecksumIpv4,
  writeUdpChecksumIpv6,
} from '../../src/wire/udp.js';
import { runScapy, scapyMissing } from '../helpers/judges.js';
import { expectWireError, guarded, hex, onlyWireError, toHex, truncations } from '../helpers/wire.js';

describe('wire/checksum', () => {
  it('RFC 1071 3 example: the sum of 0001 f203 f4f5 f6f7 is ddf2', () => {
    expect(onesComplementSum(hex('0001f203f4f5f6f7'), 0, 8)).to.equal(0xddf2);
    expect(internetChecksum(hex('0001f203f4f5f6f7'), 0, 8)).to.equal(0x220d);
  });

  it('pads an odd last byte with zero', () => {
    // 0x0102 + 0xff00 = 0x10002, folded with end-around carry: 0x0003.
    expect(onesComplementSum(hex('0102ff'), 0, 3)).to.equal(0x0003);
  });

  it('property: the unrolled sum equals a naive word-by-word sum; RFC 1624 adjust equals a recompute', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 300 }), fc.nat(), fc.integer({ min: 0, max: 0xffff }), (bytes, pick, word) => {
        let naive = 0;
        for (let i = 0; i < bytes.length; i += 2) naive += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
        while (naive > 0xffff) naive = (naive & 0xffff) + (naive >>> 16);
        expect(onesComplementSum(bytes, 0, bytes.length)).to.equal(naive);
        const even = bytes.subarray(0, bytes.length & ~1);
        const at = (pick % (even.length / 2)) * 2;
        const before = internetChecksum(even, 0, even.length);
        const old = (even[at]! << 8) | even[at + 1]!;
        even[at] = word >>> 8;
        even[at + 1] = word & 0xff;
        const recomputed = internetChecksum(even, 0, even.length);
        const adjusted = checksumAdjust(before, old, word);
        // 0x0000 and 0xffff are the same value in one's complement.
        expect(adjusted % 0xffff).to.equal(recomputed % 0xffff);
      }),
    );
  });
});

describe('wire/ipv4', () => {
  it('decodes the classic header example (checksum b861)', () => {
    const header = hex('450000730000400040 11b861c0a80001c0a800c7');
    const padded = new Uint8Array(0x73);
    padded.set(header);
    const d = decodeIpv4(padded);
    expect(d).to.include({ headerLength: 20, totalLength: 0x73, ttl: 64, protocol: 17, checksum: 0xb861, checksumValid: true, dontFragment: true });
    expect(formatIpv4(d.source)).to.equal('192.168.0.1');
    expect(formatIpv4(d.destination)).to.equal('192.168.0.199');
    const again = new Uint8Array(20);
    encodeIpv4({ source: d.source, destination: d.destination, protocol: 17, totalLength: 0x73, dontFragment: true }, again, 0);
    expect(toHex(again)).to.equal(toHex(header));
  });

  it('round-trips every field at its limits, with options (IHL 15)', () => {
    const options = new Uint8Array(40).fill(1); // 40 NOPs
    const fields = {
      source: 0xffffffff, destination: 0, protocol: 255, totalLength: 0xffff, dscp: 63, ecn: 3,
      identification: 0xffff, dontFragment: true, moreFragments: true, fragmentOffset: 0x1fff, ttl: 255, options,
    };
    const buf = new Uint8Array(0xffff);
    expect(encodeIpv4(fields, buf, 0)).to.equal(60);
    const d = decodeIpv4(buf);
    expect(d).to.include({ headerLength: 60, tos: 255, dscp: 63, ecn: 3, identification: 0xffff, dontFragment: true, moreFragments: true, fragmentOffset: 0x1fff, ttl: 255, protocol: 255, checksumValid: true, source: 0xffffffff, destination: 0 });
    expect(toHex(d.options)).to.equal(toHex(options));
    const zero = new Uint8Array(20);
    encodeIpv4({ source: 0, destination: 0, protocol: 0, totalLength: 20, ttl: 0 }, zero, 0);
    expect(decodeIpv4(zero)).to.include({ ttl: 0, tos: 0, identification: 0, dontFragment: false, checksumValid: true });
  });

  it('verifies checksums and reports bad ones', () => {
    const buf = new Uint8Array(28);
    encodeIpv4({ source: parseIpv4('192.0.2.1'), destination: parseIpv4('192.0.2.2'), protocol: 17, totalLength: 28 }, buf, 0);
    const out = new Ipv4Fields();
    expect(readIpv4(buf, 0, 28, IPV4_READ_VERIFY_CHECKSUM, out)).to.equal(WireStatus.OK);
    buf[8] = 63; // TTL decremented without fixing the checksum
    expect(readIpv4(buf, 0, 28, IPV4_READ_VERIFY_CHECKSUM, out)).to.equal(WireStatus.BAD_CHECKSUM);
    expect(readIpv4(buf, 0, 28, 0, out)).to.equal(WireStatus.OK);
    expect(decodeIpv4(buf).checksumValid).to.equal(false);
    expect(verifyIpv4Checksum(buf, 0, 20)).to.equal(false);
  });

  it('rejects bad headers: version, IHL < 5, total length shorter than the header or past the end', () => {
    const out = new Ipv4Fields();
    expect(readIpv4(hex('6500001400000000401100000000000000000000'), 0, 20, 0, out)).to.equal(WireStatus.BAD_VERSION);
    expect(readIpv4(hex('4400001400000000401100000000000000000000'), 0, 20, 0, out)).to.equal(WireStatus.BAD_LENGTH);
    expect(readIpv4(hex('4500001000000000401100000000000000000000'), 0, 20, 0, out)).to.equal(WireStatus.BAD_LENGTH);
    expect(readIpv4(hex('4500001500000000401100000000000000000000'), 0, 20, 0, out)).to.equal(WireStatus.TRUNCATED);
    expect(readIpv4(hex('4600001400000000401100000000000000000000'), 0, 20, 0, out)).to.equal(WireStatus.TRUNCATED);
    const buf = new Uint8Array(64);
    expectWireError(() => encodeIpv4({ source: 0, destination: 0, protocol: 0, totalLength: 20, options: new Uint8Array(3) }, buf, 0), 'BAD_LENGTH');
    expectWireError(() => encodeIpv4({ source: 0, destination: 0, protocol: 0, totalLength: 19 }, buf, 0), 'BAD_LENGTH');
    expectWireError(() => encodeIpv4({ source: 2 ** 32, destination: 0, protocol: 0, totalLength: 20 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeIpv4({ source: 0, destination: 0, protocol: 0, totalLength: 20, dscp: 64 }, buf, 0), 'BAD_VALUE');
  });

  it('parses and formats dotted quads', () => {
    expect(parseIpv4('203.0.113.255')).to.equal(0xcb0071ff);
    expect(formatIpv4(0xcb0071ff)).to.equal('203.0.113.255');
    for (const bad of ['256.0.0.1', '1.2.3', '01.2.3.4', '1.2.3.4.5', '', 'a.b.c.d']) expectWireError(() => parseIpv4(bad), 'BAD_VALUE');
  });
});

describe('wire/ipv6', () => {
  it('parses and formats RFC 5952 text', () => {
    const cases: [string, string][] = [
      ['2001:db8::1', '20010db8000000000000000000000001'],
      ['::', '00000000000000000000000000000000'],
      ['::1', '00000000000000000000000000000001'],
      ['fe80::1:2', 'fe800000000000000000000000010002'],
      ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001'],
      ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ];
    for (const [text, bytes] of cases) {
      expect(toHex(parseIpv6(text)), text).to.equal(bytes);
      expect(formatIpv6(hex(bytes))).to.equal(text === '::ffff:192.0.2.1' ? '::ffff:c000:201' : text);
    }
    expect(formatIpv6(parseIpv6('2001:DB8:0:0:1:0:0:1'))).to.equal('2001:db8::1:0:0:1');
    for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', ':', '1:2:3:4:5:6:7']) expectWireError(() => parseIpv6(bad), 'BAD_VALUE');
  });

  it('round-trips every field at its limits', () => {
    const buf = new Uint8Array(40 + 0xffff);
    const source = parseIpv6('2001:db8::1');
    const destination = parseIpv6('ff02::1');
    encodeIpv6({ source, destination, nextHeader: 17, payloadLength: 0xffff, hopLimit: 255, trafficClass: 0xff, flowLabel: 0xfffff }, buf, 0);
    const d = decodeIpv6(buf);
    expect(d).to.include({ version: 6, trafficClass: 255, dscp: 63, ecn: 3, flowLabel: 0xfffff, payloadLength: 0xffff, nextHeader: 17, hopLimit: 255 });
    expect(formatIpv6(d.source)).to.equal('2001:db8::1');
    expect(formatIpv6(d.destination)).to.equal('ff02::1');
    encodeIpv6({ source, destination, nextHeader: 59, payloadLength: 0, dscp: 46, ecn: 1 }, buf, 0);
    expect(decodeIpv6(buf)).to.include({ trafficClass: (46 << 2) | 1, flowLabel: 0, hopLimit: 64 });
    expectWireError(() => encodeIpv6({ source, destination, nextHeader: 17, payloadLength: 0, flowLabel: 0x100000 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeIpv6({ source: new Uint8Array(4), destination, nextHeader: 17, payloadLength: 0 }, buf, 0), 'BAD_VALUE');
  });

  it('every truncation fails cleanly', () => {
    const packet = new Uint8Array(48);
    encodeIpv6({ source: parseIpv6('2001:db8::1'), destination: parseIpv6('2001:db8::2'), nextHeader: 17, payloadLength: 8 }, packet, 0);
    const out = new Ipv6Fields();
    for (const t of truncations(packet)) {
      expectWireError(() => decodeIpv6(t), 'TRUNCATED');
      expect(readIpv6(t, 0, t.length, out)).to.equal(WireStatus.TRUNCATED);
    }
  });
});

describe('wire/udp', () => {
  const v4src = parseIpv4('192.0.2.1');
  const v4dst = parseIpv4('192.0.2.2');
  const v6src = parseIpv6('2001:db8::1');
  const v6dst = parseIpv6('2001:db8::2');

  function datagram(payload: Uint8Array): Uint8Array {
    const buf = new Uint8Array(8 + payload.length);
    encodeUdp({ sourcePort: 49152, destinationPort: 4789, length: buf.length }, buf, 0);
    buf.set(payload, 8);
    return buf;
  }

  it('round-trips and rejects bad lengths', () => {
    const buf = datagram(hex('01020304'));
    expect(decodeUdp(buf)).to.deep.equal({ sourcePort: 49152, destinationPort: 4789, length: 12, checksum: 0 });
    const out = new UdpFields();
    expect(readUdp(hex('0001000200070000'), 0, 8, out)).to.equal(WireStatus.BAD_LENGTH);
    expect(readUdp(hex('0001000200090000'), 0, 8, out)).to.equal(WireStatus.TRUNCATED);
    for (const t of truncations(buf)) onlyWireError(() => decodeUdp(t));
    expectWireError(() => encodeUdp({ sourcePort: 65536, destinationPort: 1, length: 8 }, buf, 0), 'BAD_VALUE');
    expectWireError(() => encodeUdp({ sourcePort: 1, destinationPort: 1, length: 7 }, buf, 0), 'BAD_LENGTH');
  });

  it('zero checksums: accepted on IPv4, refused on IPv6 unless allowed (RFC 6935/6936)', () => {
    const buf = datagram(hex('0102030405'));
    expect(verifyUdpChecksumIpv4(buf, 0, buf.length, v4src, v4dst)).to.equal(true);
    expect(verifyUdpChecksumIpv6(buf, 0, buf.length, v6src, 0, v6dst, 0)).to.equal(false);
    expect(verifyUdpChecksumIpv6(buf, 0, buf.length, v6src, 0, v6dst, 0, true)).to.equal(true);
  });

  it('computes checksums that verify, and detects a flipped bit (odd lengths too)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), (payload, flip) => {
        const a = datagram(payload);
        writeUdpChecksumIpv4(a, 0, a.length, v4src, v4dst);
        expect(a[6]! | a[7]!).to.not.equal(0);
        expect(verifyUdpChecksumIpv4(a, 0, a.length, v4src, v4dst)).to.equal(true);
        const b = datagram(payload);
        writeUdpChecksumIpv6(b, 0, b.length, v6src, 0, v6dst, 0);
        expect(verifyUdpChecksumIpv6(b, 0, b.length, v6src, 0, v6dst, 0)).to.equal(true);
        if (payload.length > 0) {
          const at = 8 + (flip % payload.length);
          a[at] = a[at]! ^ 0x10;
          b[at] = b[at]! ^ 0x10;
          expect(verifyUdpChecksumIpv4(a, 0, a.length, v4src, v4dst)).to.equal(false);
          expect(verifyUdpChecksumIpv6(b, 0, b.length, v6src, 0, v6dst, 0)).to.equal(false);
        }
      }),
    );
  });

  it('scapy computes the same IPv4 header, UDP/IPv4 and UDP/IPv6 checksums', function () {
    if (scapyMissing()) this.skip();
    const packets: Uint8Array[] = [];
    for (const length of [0, 1, 7, 64, 333]) {
      const payload = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 0xff);
      const v4 = new Uint8Array(20 + 8 + length);
      encodeIpv4({ source: v4src, destination: v4dst, protocol: IpProtocol.UDP, totalLength: v4.length, identification: length, ttl: 17 }, v4, 0);
      encodeUdp({ sourcePort: 50000 + length, destinationPort: 4789, length: 8 + length }, v4, 20);
      v4.set(payload, 28);
      writeUdpChecksumIpv4(v4, 20, 8 + length, v4src, v4dst);
      const v6 = new Uint8Array(40 + 8 + length);
      encodeIpv6({ source: v6src, destination: v6dst, nextHeader: IpProtocol.UDP, payloadLength: 8 + length }, v6, 0);
      encodeUdp({ sourcePort: 50000 + length, destinationPort: 6081, length: 8 + length }, v6, 40);
      v6.set(payload, 48);
      writeUdpChecksumIpv6(v6, 40, 8 + length, v6src, 0, v6dst, 0);
      packets.push(v4, v6);
    }
    // scapy recomputes each checksum from scratch (fields set to None) and compares.
    const verdicts = runScapy<boolean[]>(
      `
out = []
for raw_bytes in INPUT:
    if raw_bytes[0] >> 4 == 4:
        p = IP(raw_bytes)
        q = p.copy(); del q[IP].chksum; del q[UDP].chksum
        q = IP(raw(q))
        out.append(p[IP].chksum == q[IP].chksum and p[UDP].chksum == q[UDP].chksum)
    else:
        p = IPv6(raw_bytes)
        q = p.copy(); del q[UDP].chksum
        q = IPv6(raw(q))
        out.append(p[UDP].chksum == q[UDP].chksum)
print(json.dumps(out))
`,
      packets,
    );
    expect(verdicts).to.deep.equal(packets.map(() => true));
  });

  it('property: random bytes never escape the IPv4/IPv6/UDP decoders', () => {
    const o4 = new Ipv4Fields();
    const o6 = new Ipv6Fields();
    const ou = new UdpFields();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(8), (bytes, offset) => {
        const view = guarded(bytes);
        onlyWireError(() => decodeIpv4(view, offset));
        onlyWireError(() => decodeIpv6(view, offset));
        onlyWireError(() => decodeUdp(view, offset));
        if (readIpv4(view, offset, view.length, IPV4_READ_VERIFY_CHECKSUM, o4) === 0) expect(offset + o4.totalLength).to.be.at.most(view.length);
        if (readIpv6(view, offset, view.length, o6) === 0) expect(offset + 40 + o6.payloadLength).to.be.at.most(view.length);
        if (readUdp(view, offset, view.length, ou) === 0) expect(offset + ou.length).to.be.at.most(view.length);
      }),
    );
  });
});
