import { expect } from 'chai';
import fc from 'fast-check';
import {
  ENCAP_ALLOW_ZERO_UDP6_CHECKSUM,
  ENCAP_VERIFY_IPV4_CHECKSUM,
  ENCAP_VERIFY_UDP_CHECKSUM,
  ENCAP_VXLAN_GBP,
  EncapFields,
  LAYER_ETHERNET,
  LAYER_IP,
  TUNNEL_GENEVE,
  TUNNEL_VXLAN,
  compileEncap,
  decapsulate,
  encapsulate,
  readEncap,
  writeEncap,
  type EncapConfig,
} from '../../src/wire/encap.js';
import { WireStatus } from '../../src/wire/errors.js';
import { flowHash, hashToPort } from '../../src/wire/flowhash.js';
import { decodeGeneve } from '../../src/wire/geneve.js';
import { decodeIpv4 } from '../../src/wire/ipv4.js';
import { decodeIpv6 } from '../../src/wire/ipv6.js';
import { decodeUdp } from '../../src/wire/udp.js';
import { decodeVxlan } from '../../src/wire/vxlan.js';
import { innerFrame } from '../helpers/frames.js';
import { runScapy, scapyMissing } from '../helpers/judges.js';
import { expectWireError, guarded, onlyWireError, toHex, truncations } from '../helpers/wire.js';

const vxlan4: EncapConfig = {
  tunnel: 'vxlan',
  vni: 100,
  source: '192.0.2.10',
  destination: '192.0.2.20',
  ethernet: { source: '02:00:00:00:aa:01', destination: '02:00:00:00:aa:02' },
};

describe('wire/encap', () => {
  it('writes Ethernet + IPv4 + UDP + VXLAN in front of the frame without copying it (50 bytes + 14)', () => {
    const plan = compileEncap(vxlan4);
    expect(plan.overhead).to.equal(14 + 20 + 8 + 8);
    const inner = innerFrame();
    const buf = new Uint8Array(256).fill(0xee);
    buf.set(inner, 128);
    const start = writeEncap(plan, buf, 128, inner.length);
    expect(start).to.equal(128 - 50);
    expect(buf[start - 1]).to.equal(0xee); // nothing written before the outer packet
    expect(toHex(buf.subarray(128, 128 + 64))).to.equal(toHex(inner)); // frame untouched
    const packet = buf.subarray(start, 128 + 64);
    const ip = decodeIpv4(packet, 14);
    expect(ip).to.include({ totalLength: 20 + 8 + 8 + 64, protocol: 17, ttl: 64, checksumValid: true, dontFragment: false });
    const udp = decodeUdp(packet, 34);
    expect(udp).to.include({ destinationPort: 4789, length: 8 + 8 + 64, checksum: 0 });
    expect(udp.sourcePort).to.be.within(49152, 65535);
    expect(decodeVxlan(packet, 42)).to.deep.equal({ vni: 100, flags: 0x08 });
    const parsed = decapsulate(packet);
    expect(parsed).to.include({ family: 4, tunnel: 'vxlan', vni: 100, innerOffset: 50, innerLength: 64 });
    expect(toHex(parsed.inner)).to.equal(toHex(inner));
  });

  it('IPv4 identification increments and the incremental header checksum stays right', () => {
    const plan = compileEncap({ ...vxlan4, tos: 0xb8, ttl: 1, dontFragment: true });
    const buf = new Uint8Array(256);
    for (let n = 0; n < 70000; n += 997) {
      plan.identification = n & 0xffff;
      const start = writeEncap(plan, buf, 50, 14 + (n % 150));
      const ip = decodeIpv4(buf, start + 14);
      expect(ip.checksumValid, `id ${n}`).to.equal(true);
      expect(ip).to.include({ identification: n & 0xffff, tos: 0xb8, ttl: 1, dontFragment: true });
    }
  });

  it('UDP source port: in 49152-65535, stable per flow, spread across flows (RFC 7348 5)', () => {
    const ports = new Set<number>();
    for (let flow = 0; flow < 2000; flow++) {
      const frame = innerFrame(1000 + flow, 80);
      const port = hashToPort(flowHash(frame, 0, 64), 49152, 65535);
      expect(port).to.be.within(49152, 65535);
      expect(hashToPort(flowHash(innerFrame(1000 + flow, 80), 0, 64), 49152, 65535)).to.equal(port);
      ports.add(port);
    }
    // 2000 flows into 16384 ports: a fair hash leaves ~1880 distinct values.
    expect(ports.size).to.be.greaterThan(1800);
    expect(hashToPort(0, 49152, 65535)).to.equal(49152);
    expect(hashToPort(2 ** 30 - 1, 49152, 65535)).to.equal(65535);
    const fixed = compileEncap({ ...vxlan4, sourcePort: 4789 });
    expect(decapsulate(encapsulate(fixed, innerFrame())).sourcePort).to.equal(4789);
    const ranged = compileEncap({ ...vxlan4, sourcePort: { min: 1000, max: 1001 } });
    expect(decapsulate(encapsulate(ranged, innerFrame())).sourcePort).to.be.within(1000, 1001);
  });

  it('IPv6 underlay: UDP checksum on by default and valid; zero checksum refused unless allowed', () => {
    const plan = compileEncap({ tunnel: 'vxlan', vni: 0xffffff, source: '2001:db8::1', destination: '2001:db8::2', flowLabel: 0x12345, ttl: 9 });
    expect(plan.overhead).to.equal(40 + 8 + 8);
    const packet = encapsulate(plan, innerFrame());
    const ip = decodeIpv6(packet);
    expect(ip).to.include({ payloadLength: 8 + 8 + 64, nextHeader: 17, hopLimit: 9, flowLabel: 0x12345 });
    const fields = new EncapFields();
    expect(readEncap(packet, 0, packet.length, LAYER_IP, ENCAP_VERIFY_UDP_CHECKSUM, fields)).to.equal(WireStatus.OK);
    expect(fields.vni).to.equal(0xffffff);
    const noSum = encapsulate(compileEncap({ tunnel: 'vxlan', vni: 1, source: '2001:db8::1', destination: '2001:db8::2', udpChecksum: false }), innerFrame());
    expect(readEncap(noSum, 0, noSum.length, LAYER_IP, ENCAP_VERIFY_UDP_CHECKSUM, fields)).to.equal(WireStatus.BAD_CHECKSUM);
    expect(readEncap(noSum, 0, noSum.length, LAYER_IP, ENCAP_VERIFY_UDP_CHECKSUM | ENCAP_ALLOW_ZERO_UDP6_CHECKSUM, fields)).to.equal(WireStatus.OK);
    packet[packet.length - 1] = packet[packet.length - 1]! ^ 1;
    expect(readEncap(packet, 0, packet.length, LAYER_IP, ENCAP_VERIFY_UDP_CHECKSUM, fields)).to.equal(WireStatus.BAD_CHECKSUM);
  });

  it('Geneve with options, over IPv4 with UDP checksum and an 802.1Q outer tag', () => {
    const options = [
      { optionClass: 0x0102, type: 0x80, data: Uint8Array.of(0, 0, 0x30, 0x39) },
      { optionClass: 0xffff, type: 0x01, data: new Uint8Array(8).fill(7) },
    ];
    const plan = compileEncap({
      tunnel: 'geneve', vni: 500, source: '198.51.100.1', destination: '198.51.100.2', udpChecksum: true,
      ethernet: { source: 0x020000000001, destination: 0x020000000002, vlan: { pcp: 3, dei: false, vid: 10 } },
      geneve: { options },
    });
    expect(plan.overhead).to.equal(18 + 20 + 8 + 8 + 8 + 12);
    const packet = encapsulate(plan, innerFrame());
    const fields = new EncapFields();
    expect(readEncap(packet, 0, packet.length, LAYER_ETHERNET, ENCAP_VERIFY_IPV4_CHECKSUM | ENCAP_VERIFY_UDP_CHECKSUM, fields)).to.equal(WireStatus.OK);
    expect(fields.tunnel).to.equal(TUNNEL_GENEVE);
    expect(fields.ethernet.vid).to.equal(10);
    expect(fields.geneve.critical).to.equal(true);
    const geneve = decodeGeneve(packet, fields.tunnelOffset);
    expect(geneve.options.map((o) => [o.optionClass, o.type, toHex(o.data)])).to.deep.equal(options.map((o) => [o.optionClass, o.type, toHex(o.data)]));
    expect(fields.innerLength).to.equal(64);
  });

  it('VXLAN GBP survives the round trip', () => {
    const packet = encapsulate({ ...vxlan4, gbp: { policyId: 0xbeef, dontLearn: true, applied: false } }, innerFrame());
    const fields = new EncapFields();
    expect(readEncap(packet, 0, packet.length, LAYER_ETHERNET, ENCAP_VXLAN_GBP, fields)).to.equal(WireStatus.OK);
    expect(fields.tunnel).to.equal(TUNNEL_VXLAN);
    expect(fields.vxlan).to.include({ gbp: true, policyId: 0xbeef, dontLearn: true, applied: false });
    // Without the GBP extension the strict VXLAN reader drops it, as Linux does.
    expect(readEncap(packet, 0, packet.length, LAYER_ETHERNET, 0, fields)).to.equal(WireStatus.BAD_FLAGS);
  });

  it('reports no headroom and oversized packets as negative statuses, never throwing', () => {
    const plan = compileEncap(vxlan4);
    const buf = new Uint8Array(200);
    expect(writeEncap(plan, buf, 49, 64)).to.equal(-WireStatus.NO_ROOM);
    expect(writeEncap(plan, buf, 50, 151)).to.equal(-WireStatus.NO_ROOM);
    const big = new Uint8Array(70000);
    expect(writeEncap(plan, big, 64, 65500)).to.equal(-WireStatus.BAD_LENGTH);
  });

  it('validates the configuration with clear errors', () => {
    expectWireError(() => compileEncap({ ...vxlan4, vni: 1 << 24 }), 'BAD_VALUE');
    expectWireError(() => compileEncap({ ...vxlan4, destination: '2001:db8::1' }), 'BAD_VALUE');
    expectWireError(() => compileEncap({ ...vxlan4, source: '300.1.1.1' }), 'BAD_VALUE');
    expectWireError(() => compileEncap({ ...vxlan4, ttl: 256 }), 'BAD_VALUE');
    expectWireError(() => compileEncap({ ...vxlan4, tunnel: 'gre' as 'vxlan' }), 'BAD_VALUE');
    expectWireError(() => compileEncap({ ...vxlan4, sourcePort: { min: 10, max: 9 } }), 'BAD_VALUE');
    expectWireError(() => compileEncap({ ...vxlan4, ethernet: { source: 'nope', destination: 0 } }), 'BAD_VALUE');
    expectWireError(() => compileEncap({ ...vxlan4, geneve: {} }), 'BAD_VALUE');
  });

  it('every truncation of an encapsulated packet is refused', () => {
    const packet = encapsulate({ ...vxlan4, tunnel: 'geneve', geneve: { options: [{ optionClass: 7, type: 0x81, data: new Uint8Array(12) }] } }, innerFrame());
    const fields = new EncapFields();
    for (const t of truncations(packet)) {
      expect(readEncap(t, 0, t.length, LAYER_ETHERNET, 0, fields)).to.not.equal(WireStatus.OK);
      onlyWireError(() => decapsulate(t));
    }
  });

  it('property: random and mutated packets never escape readEncap or decapsulate', () => {
    const valid = [
      encapsulate(vxlan4, innerFrame()),
      encapsulate({ tunnel: 'geneve', vni: 5, source: '2001:db8::1', destination: '2001:db8::2', geneve: { options: [{ optionClass: 1, type: 2, data: new Uint8Array(4) }] } }, innerFrame()),
    ];
    const fields = new EncapFields();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })).map(([p, edits]) => {
            const copy = Uint8Array.from(p);
            for (const [at, value] of edits) copy[at % copy.length] = value;
            return copy;
          }),
        ),
        fc.constantFrom(LAYER_ETHERNET, LAYER_IP),
        fc.nat(127),
        (bytes, layer, mode) => {
          const view = guarded(bytes);
          const status = readEncap(view, 0, view.length, layer, mode, fields);
          if (status === WireStatus.OK) {
            expect(fields.innerOffset + fields.innerLength).to.be.at.most(view.length);
            expect(fields.innerLength).to.be.at.least(0);
          }
          onlyWireError(() => decapsulate(view, { layer: layer === LAYER_IP ? 'ip' : 'ethernet' }));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('scapy dissects our outer headers to the same fields, with valid checksums', function () {
    if (scapyMissing()) this.skip();
    const packets = [
      encapsulate({ ...vxlan4, udpChecksum: true, tos: 0x10 }, innerFrame()),
      encapsulate({ tunnel: 'vxlan', vni: 4242, source: '2001:db8::a', destination: '2001:db8::b', ethernet: { source: 1, destination: 2 } }, innerFrame()),
    ];
    const result = runScapy<Record<string, unknown>[]>(
      `
from scapy.layers.vxlan import VXLAN
out = []
for b in INPUT:
    p = Ether(b)
    l3 = p[IP] if IP in p else p[IPv6]
    q = Ether(raw(p))
    for layer in (IP, UDP):
        if layer in q: del q[layer].chksum
    q = Ether(raw(q))
    ok = all(getattr(p[l], 'chksum') == getattr(q[l], 'chksum') for l in (IP, UDP) if l in p)
    out.append({"dport": p[UDP].dport, "sport": p[UDP].sport, "vni": p[VXLAN].vni, "flags": int(p[VXLAN].flags),
                "innerSrc": p[VXLAN].payload.src, "innerType": p[VXLAN].payload.type, "checksumsOk": ok, "udpChecksum": p[UDP].chksum})
print(json.dumps(out))
`,
      packets,
    );
    expect(result[0]).to.include({ dport: 4789, vni: 100, flags: 8, innerSrc: '02:00:00:00:00:01', innerType: 0x0800, checksumsOk: true });
    expect(result[0]!.udpChecksum).to.not.equal(0);
    expect(result[1]).to.include({ dport: 4789, vni: 4242, checksumsOk: true });
  });
});
