/**
 * Independent judge: packets built by our encoders, written to a pcap by our
 * writer, dissected by tshark. Every field tshark reports must equal what we
 * meant to encode, with no malformed packet and no bad checksum.
 */
import { expect } from 'chai';
import { encapsulate, type EncapConfig } from '../../src/wire/encap.js';
import { encodeIpv4, IpProtocol, parseIpv4 } from '../../src/wire/ipv4.js';
import { LINKTYPE_ETHERNET } from '../../src/wire/pcap.js';
import { encodeUdp } from '../../src/wire/udp.js';
import { encodeEthernet, EtherType } from '../../src/wire/ethernet.js';
import { innerFrame } from '../helpers/frames.js';
import { tsharkAll, tsharkDissect, tsharkMissing, tsharkProblems } from '../helpers/judges.js';

type Layers = Record<string, unknown>;

/** An inner frame whose IPv4 header carries 4 bytes of options (IHL 6). */
function innerWithIpOptions(): Uint8Array {
  const frame = new Uint8Array(70);
  encodeEthernet({ destination: 0x0200000000bb, source: 0x0200000000aa, etherType: EtherType.IPV4 }, frame, 0);
  encodeIpv4({ source: parseIpv4('10.1.1.1'), destination: parseIpv4('10.1.1.2'), protocol: IpProtocol.UDP, totalLength: 56, options: Uint8Array.of(1, 1, 1, 0) }, frame, 14);
  encodeUdp({ sourcePort: 7, destinationPort: 9, length: 32 }, frame, 38);
  return frame;
}

const vx = { tunnel: 'vxlan', ethernet: { source: '02:00:00:00:aa:01', destination: '02:00:00:00:aa:02' } } as const;
const cases: { name: string; config: EncapConfig; inner: Uint8Array; check: (l: Layers) => void }[] = [
  {
    name: 'VXLAN/IPv4 with UDP checksum and GBP',
    config: { ...vx, vni: 100, source: '192.0.2.10', destination: '192.0.2.20', udpChecksum: true, gbp: { policyId: 42, dontLearn: true, applied: true } },
    inner: innerFrame(),
    check: (l) => {
      expect(field(l, 'vxlan', 'vxlan.vni')).to.equal('100');
      expect(field(l, 'vxlan', 'vxlan.flags')).to.equal('0x8848');
      expect(field(l, 'vxlan', 'vxlan.gbp')).to.equal('42');
      expect(first(l, 'ip')['ip.src']).to.equal('192.0.2.10');
      expect(first(l, 'udp')['udp.checksum.status']).to.equal('1');
    },
  },
  {
    name: 'VXLAN/IPv4 at the VNI limit, TOS, TTL 1, DF, inner IPv4 options',
    config: { ...vx, vni: 0xffffff, source: '198.51.100.1', destination: '198.51.100.2', tos: 0xb8, ttl: 1, dontFragment: true },
    inner: innerWithIpOptions(),
    check: (l) => {
      expect(field(l, 'vxlan', 'vxlan.vni')).to.equal(String(0xffffff));
      const outer = first(l, 'ip');
      expect(outer).to.include({ 'ip.ttl': '1', 'ip.dsfield': '0xb8' });
      expect((outer['ip.flags_tree'] as Layers)['ip.flags.df']).to.equal('1');
      const inner = tsharkAll(l, 'ip')[1]!;
      expect(inner).to.include({ 'ip.hdr_len': '24', 'ip.src': '10.1.1.1', 'ip.checksum.status': '1' });
    },
  },
  {
    name: 'VXLAN/IPv6, VNI 0, UDP checksum (on by default over IPv6)',
    config: { ...vx, vni: 0, source: '2001:db8::1', destination: '2001:db8::2', flowLabel: 0xabcde },
    inner: innerFrame(),
    check: (l) => {
      expect(field(l, 'vxlan', 'vxlan.vni')).to.equal('0');
      expect(first(l, 'ipv6')).to.include({ 'ipv6.src': '2001:db8::1', 'ipv6.flow': '0x0abcde' });
      expect(first(l, 'udp')['udp.checksum.status']).to.equal('1');
    },
  },
  {
    name: 'Geneve/IPv4 without options',
    config: { ...vx, tunnel: 'geneve', vni: 500, source: '203.0.113.1', destination: '203.0.113.2' },
    inner: innerFrame(),
    check: (l) => {
      const g = first(l, 'geneve');
      expect(g).to.include({ 'geneve.vni': '0x0001f4', 'geneve.proto_type': '0x6558', 'geneve.version': '0', 'geneve.option.length': '0' });
    },
  },
  {
    name: 'Geneve/IPv6 with a critical and a non-critical option',
    config: {
      ...vx, tunnel: 'geneve', vni: 0xabcdef, source: '2001:db8::a', destination: '2001:db8::b',
      geneve: { options: [{ optionClass: 0x0102, type: 0x80, data: Uint8Array.of(0, 0, 0x30, 0x39) }, { optionClass: 0xffff, type: 0x01, data: new Uint8Array(8).fill(0x5a) }] },
    },
    inner: innerFrame(),
    check: (l) => {
      const g = first(l, 'geneve');
      expect(g).to.include({ 'geneve.vni': '0xabcdef', 'geneve.option.length': '20' });
      expect((g['geneve.flags_tree'] as Layers)['geneve.flags.critical']).to.equal('1');
      const options = [((g['geneve.options_tree'] as Layers)['geneve.option_tree'])].flat() as Layers[];
      expect(options.map((o) => [o['geneve.option.class'], o['geneve.option.type'], o['geneve.option.length'], o['geneve.option.unknown.data']])).to.deep.equal([
        ['0x0102', '0x80', '8', '00:00:30:39'],
        ['0xffff', '0x01', '12', '5a:5a:5a:5a:5a:5a:5a:5a'],
      ]);
      expect(first(l, 'udp')['udp.checksum.status']).to.equal('1');
    },
  },
  {
    name: 'Geneve OAM with one maximum-size (124-byte) option, inner IPv4 (protocol 0x0800)',
    config: {
      ...vx, tunnel: 'geneve', vni: 1, source: '192.0.2.1', destination: '192.0.2.2', udpChecksum: true,
      geneve: { oam: true, protocolType: 0x0800, options: [{ optionClass: 0x0000, type: 0x7f, data: new Uint8Array(124).fill(0x11) }] },
    },
    inner: innerFrame().subarray(14),
    check: (l) => {
      const g = first(l, 'geneve');
      expect(g).to.include({ 'geneve.proto_type': '0x0800', 'geneve.option.length': '128' });
      expect((g['geneve.flags_tree'] as Layers)['geneve.flags.oam']).to.equal('1');
      expect(tsharkAll(l, 'ip')[1]).to.include({ 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.2' });
    },
  },
];

const first = (layers: Layers, name: string): Layers => tsharkAll(layers, name)[0]!;
const field = (layers: Layers, layer: string, key: string): unknown => first(layers, layer)[key];


describe('wire: tshark dissects our packets to the fields we encoded', function () {
  let dissected: { _source: { layers: Layers } }[] = [];

  before(function () {
    if (tsharkMissing()) this.skip();
    dissected = tsharkDissect(LINKTYPE_ETHERNET, cases.map((c) => encapsulate(c.config, c.inner)), ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE']);
  });

  it('reads every packet', () => {
    expect(dissected).to.have.length(cases.length);
  });

  cases.forEach((c, i) => {
    it(c.name, () => {
      const layers = dissected[i]!._source.layers;
      expect(tsharkProblems(layers), 'malformed or bad checksum').to.deep.equal([]);
      for (const ip of layers['ip'] === undefined ? [] : tsharkAll(layers, 'ip')) expect(ip['ip.checksum.status']).to.equal('1');
      c.check(layers);
    });
  });
});
