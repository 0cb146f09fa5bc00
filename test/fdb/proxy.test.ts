/**
 * ARP/ND suppression: the neighbour table, proxyReply (ARP reply / neighbour
 * advertisement written into a caller's buffer) and snoopNeighbour (learning from
 * received frames). The replies are judged by scapy and tshark; the kernel judges
 * them too in kernel-conformance.test.ts.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LEARN_DISABLED,
  LEARN_LEARNT,
  LEARN_MOVED,
  LEARN_REFRESHED,
  NEIGHBOUR_IGNORED,
  NEIGHBOUR_REFUSED,
  PROXY_ARP_REPLY_LENGTH,
  PROXY_NA_REPLY_LENGTH,
  type NeighbourEvent,
} from '../../src/fdb/index.js';
import { ArpOperation, decodeArp } from '../../src/wire/arp.js';
import { decodeEthernet } from '../../src/wire/ethernet.js';
import { ICMPV6_NEIGHBOR_ADVERTISEMENT, decodeNeighborMessage } from '../../src/wire/icmpv6.js';
import { decodeIpv6, formatIpv6, parseIpv6 } from '../../src/wire/ipv6.js';
import { LINKTYPE_ETHERNET, pcapFileBytes } from '../../src/wire/pcap.js';
import { runScapy, scapyMissing, tsharkMissing } from '../helpers/judges.js';
import { toHex } from '../helpers/wire.js';
import { arpFrame, ndFrame } from './frames.js';
import { expectFdbError, ip, mac, manualFdb } from './helpers.js';

const HOST = 0x02_00_00_00_00_01; // the local requester
const REMOTE = 0x02_00_00_00_00_42; // the MAC behind a remote VTEP
const VNI = 100;

function suppressing() {
  const { fdb, clock } = manualFdb({ proxy: true });
  fdb.neighbours.add(VNI, '10.0.0.42', { lladdr: REMOTE });
  fdb.neighbours.add(VNI, '2001:db8::42', { lladdr: REMOTE });
  fdb.add(VNI, REMOTE, { dst: '192.0.2.2' });
  return { fdb, clock };
}

const arpRequest = (tpa = ip('10.0.0.42'), sha = HOST, spa = ip('10.0.0.1')): Uint8Array => arpFrame(ArpOperation.REQUEST, sha, spa, 0, tpa);
const solicitation = (extra: Partial<Parameters<typeof ndFrame>[0]> = {}): Uint8Array =>
  ndFrame({ ethernetSource: HOST, source: '2001:db8::1', target: '2001:db8::42', sourceLinkLayerAddress: HOST, ...extra });

describe('fdb: ARP suppression (proxyReply)', () => {
  it('answers an ARP request for a known address: 42 bytes, as Linux arp_reduce builds it', () => {
    const { fdb } = suppressing();
    const out = new Uint8Array(64).fill(0xee);
    const n = fdb.proxyReply(VNI, arpRequest(), 0, 42, out, 4);
    expect(n).to.equal(PROXY_ARP_REPLY_LENGTH);
    expect(out[3]).to.equal(0xee);
    expect(out[46]).to.equal(0xee);
    const reply = out.subarray(4, 46);
    expect(decodeEthernet(reply)).to.deep.include({ destination: HOST, source: REMOTE, etherType: 0x0806 });
    expect(decodeArp(reply, 14)).to.deep.equal({
      hardwareType: 1,
      protocolType: 0x0800,
      operation: 2,
      senderHardwareAddress: REMOTE,
      senderProtocolAddress: ip('10.0.0.42'),
      targetHardwareAddress: HOST,
      targetProtocolAddress: ip('10.0.0.1'),
    });
    expect(fdb.stats.proxyReplies).to.equal(1);
  });

  it('does not answer (returns 0, the caller floods) when unknown, and reports an L3 miss', () => {
    const { fdb } = suppressing();
    const misses: NeighbourEvent[] = [];
    fdb.on('neighbourMiss', (e) => misses.push(e));
    const out = new Uint8Array(64);
    expect(fdb.proxyReply(VNI, arpRequest(ip('10.0.0.43')), 0, 42, out, 0)).to.equal(0);
    expect(fdb.proxyReply(VNI + 1, arpRequest(), 0, 42, out, 0)).to.equal(0);
    fdb.flushEvents();
    expect(misses).to.deep.equal([{ type: 'neighbourMiss', vni: VNI, ip: '10.0.0.43' }]);
    expect(fdb.stats.proxyMisses).to.equal(1);
  });

  it('does not answer: proxy off, replies, gratuitous ARP, loopback/multicast targets, the owner asking, a locally attached MAC, no room', () => {
    const { fdb } = suppressing();
    const out = new Uint8Array(64);
    const local = 0x02_00_00_00_00_77;
    fdb.neighbours.add(VNI, '10.0.0.77', { lladdr: local });
    fdb.add(VNI, local, { localPort: 1 });
    fdb.neighbours.add(200, '10.0.0.42', { lladdr: REMOTE });
    fdb.setVni(200, { proxy: false });
    const cases: [string, number, Uint8Array, number][] = [
      ['proxy off for the VNI', 200, arpRequest(), 0],
      ['an ARP reply', VNI, arpFrame(ArpOperation.REPLY, HOST, ip('10.0.0.1'), REMOTE, ip('10.0.0.42')), 0],
      ['gratuitous ARP (sender = target)', VNI, arpRequest(ip('10.0.0.42'), HOST, ip('10.0.0.42')), 0],
      ['loopback target', VNI, arpRequest(ip('127.0.0.1')), 0],
      ['multicast target', VNI, arpRequest(ip('224.0.0.5')), 0],
      ['the owner asks (probe after a move)', VNI, arpRequest(ip('10.0.0.42'), REMOTE, 0), 0],
      ['the MAC is behind a local port (its host answers)', VNI, arpRequest(ip('10.0.0.77')), 0],
    ];
    for (const [name, vni, frame, offset] of cases) expect(fdb.proxyReply(vni, frame, offset, frame.length, out, 0), name).to.equal(0);
    expect(fdb.proxyReply(VNI, arpRequest(), 0, 42, new Uint8Array(41), 0)).to.equal(0);
    expect(fdb.proxyReply(VNI, arpRequest(), 0, 42, out, 30)).to.equal(0);
    expect(fdb.stats.proxyNoRoom).to.equal(2);
    // Truncated and out-of-range inputs.
    expect(fdb.proxyReply(VNI, arpRequest(), 0, 41, out, 0)).to.equal(0);
    expect(fdb.proxyReply(VNI, arpRequest(), 0, 43, out, 0)).to.equal(0);
    expect(fdb.proxyReply(VNI, arpRequest(), -1, 42, out, 0)).to.equal(0);
    expect(fdb.stats.proxyReplies).to.equal(0);
  });

  it('can write the reply over the request itself', () => {
    const { fdb } = suppressing();
    const frame = new Uint8Array(60);
    frame.set(arpRequest());
    expect(fdb.proxyReply(VNI, frame, 0, 42, frame, 0)).to.equal(42);
    expect(decodeArp(frame, 14)).to.include({ operation: 2, senderHardwareAddress: REMOTE, targetHardwareAddress: HOST, targetProtocolAddress: ip('10.0.0.1') });
  });
});

describe('fdb: ND suppression (proxyReply for neighbour solicitations)', () => {
  it('answers a solicitation for a known address: an 86-byte advertisement as Linux vxlan_na_create builds it', () => {
    const { fdb } = suppressing();
    const request = solicitation({ trafficClass: 0xb8 });
    const out = new Uint8Array(128);
    expect(fdb.proxyReply(VNI, request, 0, request.length, out, 10)).to.equal(PROXY_NA_REPLY_LENGTH);
    const reply = out.subarray(10, 10 + PROXY_NA_REPLY_LENGTH);
    expect(decodeEthernet(reply)).to.deep.include({ destination: HOST, source: REMOTE, etherType: 0x86dd });
    const ipv6 = decodeIpv6(reply, 14);
    expect(ipv6).to.include({ nextHeader: 58, hopLimit: 255, payloadLength: 32, trafficClass: 0xb0, flowLabel: 0 });
    expect(formatIpv6(ipv6.source)).to.equal('2001:db8::42');
    expect(formatIpv6(ipv6.destination)).to.equal('2001:db8::1');
    const na = decodeNeighborMessage(reply, 54, 86, ipv6.source, ipv6.destination);
    expect(na).to.deep.include({ type: ICMPV6_NEIGHBOR_ADVERTISEMENT, checksumValid: true, router: false, solicited: true, override: true, targetLinkLayerAddress: REMOTE });
    expect(formatIpv6(na.targetAddress)).to.equal('2001:db8::42');
  });

  it('the Ethernet destination is the source link-layer option, else the Ethernet source; R comes from the router flag', () => {
    const { fdb } = suppressing();
    fdb.neighbours.replace(VNI, '2001:db8::42', { lladdr: REMOTE, router: true });
    const request = solicitation({ sourceLinkLayerAddress: undefined, ethernetSource: 0x02_00_00_00_00_05 });
    const out = new Uint8Array(86);
    expect(fdb.proxyReply(VNI, request, 0, request.length, out, 0)).to.equal(86);
    expect(decodeEthernet(out).destination).to.equal(0x02_00_00_00_00_05);
    expect(decodeNeighborMessage(out, 54).router).to.equal(true);
    // Linux takes R from the FDB entry's `router` flag.
    fdb.neighbours.replace(VNI, '2001:db8::42', { lladdr: REMOTE });
    fdb.replace(VNI, REMOTE, { dst: '192.0.2.2', router: true });
    expect(fdb.proxyReply(VNI, solicitation(), 0, 86, out, 0)).to.equal(86);
    expect(decodeNeighborMessage(out, 54).router).to.equal(true);
  });

  it('does not answer: DAD (unspecified source), hop limit ≠ 255, bad checksum, multicast target, advertisements, unknown target', () => {
    const { fdb } = suppressing();
    const out = new Uint8Array(128);
    const cases: [string, Uint8Array][] = [
      ['duplicate address detection', solicitation({ source: '::', sourceLinkLayerAddress: undefined })],
      ['hop limit 64 (RFC 4861 7.1.1)', solicitation({ hopLimit: 64 })],
      ['bad checksum', solicitation({ checksum: 0x1234 })],
      ['multicast target', solicitation({ target: 'ff02::1', destination: 'ff02::1' })],
      ['an advertisement', ndFrame({ type: ICMPV6_NEIGHBOR_ADVERTISEMENT, ethernetSource: HOST, source: '2001:db8::1', destination: '2001:db8::42', target: '2001:db8::1', targetLinkLayerAddress: HOST, solicited: true })],
      ['unknown target', solicitation({ target: '2001:db8::43' })],
      ['loopback destination', solicitation({ destination: '::1' })],
    ];
    for (const [name, frame] of cases) expect(fdb.proxyReply(VNI, frame, 0, frame.length, out, 0), name).to.equal(0);
    expect(fdb.stats.proxyMisses).to.equal(1);
    // Truncated IPv6 payload.
    const request = solicitation();
    expect(fdb.proxyReply(VNI, request, 0, request.length - 1, out, 0)).to.equal(0);
    expect(fdb.proxyReply(VNI, request, 0, request.length, new Uint8Array(85), 0)).to.equal(0);
  });

  it('scapy dissects our ARP replies and advertisements and agrees on every field and the checksum', function () {
    if (scapyMissing()) this.skip();
    const { fdb } = suppressing();
    const replies = [arpRequest(), solicitation({ trafficClass: 0x20 })].map((request) => {
      const out = new Uint8Array(86);
      const n = fdb.proxyReply(VNI, request, 0, request.length, out, 0);
      return out.subarray(0, n);
    });
    const report = runScapy<Record<string, unknown>[]>(
      [
        'out = []',
        'for b in INPUT:',
        '    p = Ether(b)',
        '    r = {"dst": p.dst, "src": p.src, "type": p.type}',
        '    if ARP in p:',
        '        a = p[ARP]',
        '        r.update(op=a.op, hwsrc=a.hwsrc, psrc=a.psrc, hwdst=a.hwdst, pdst=a.pdst, hwtype=a.hwtype, ptype=a.ptype)',
        '    else:',
        '        na = p[ICMPv6ND_NA]',
        '        got = na.cksum',
        '        q = p.copy(); del q[ICMPv6ND_NA].cksum',
        '        r.update(ipsrc=p[IPv6].src, ipdst=p[IPv6].dst, hlim=p[IPv6].hlim, tc=p[IPv6].tc, tgt=na.tgt, R=na.R, S=na.S, O=na.O,',
        '                 lladdr=p[ICMPv6NDOptDstLLAddr].lladdr, cksum_ok=Ether(bytes(q))[ICMPv6ND_NA].cksum == got)',
        '    out.append(r)',
        'print(json.dumps(out))',
      ].join('\n'),
      replies,
    );
    expect(report).to.deep.equal([
      { dst: '02:00:00:00:00:01', src: '02:00:00:00:00:42', type: 0x0806, op: 2, hwsrc: '02:00:00:00:00:42', psrc: '10.0.0.42', hwdst: '02:00:00:00:00:01', pdst: '10.0.0.1', hwtype: 1, ptype: 0x0800 },
      { dst: '02:00:00:00:00:01', src: '02:00:00:00:00:42', type: 0x86dd, ipsrc: '2001:db8::42', ipdst: '2001:db8::1', hlim: 255, tc: 0x20, tgt: '2001:db8::42', R: 0, S: 1, O: 1, lladdr: '02:00:00:00:00:42', cksum_ok: true },
    ]);
  });

  it('tshark dissects them without a malformed packet, with a good ICMPv6 checksum', function () {
    if (tsharkMissing()) this.skip();
    const { fdb } = suppressing();
    const replies = [arpRequest(), solicitation()].map((request) => {
      const out = new Uint8Array(86);
      return out.subarray(0, fdb.proxyReply(VNI, request, 0, request.length, out, 0));
    });
    const dir = mkdtempSync(join(tmpdir(), 'vtepkit-proxy-'));
    try {
      const file = join(dir, 'replies.pcap');
      writeFileSync(file, pcapFileBytes(LINKTYPE_ETHERNET, replies));
      const r = spawnSync('tshark', ['-r', file, '-T', 'json'], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      const layers = (JSON.parse(r.stdout) as { _source: { layers: Record<string, Record<string, unknown>> } }[]).map((p) => p._source.layers);
      expect(layers[0]!.arp).to.include({ 'arp.opcode': '2', 'arp.src.hw_mac': '02:00:00:00:00:42', 'arp.src.proto_ipv4': '10.0.0.42', 'arp.dst.hw_mac': '02:00:00:00:00:01', 'arp.dst.proto_ipv4': '10.0.0.1' });
      const icmpv6 = layers[1]!.icmpv6!;
      expect(icmpv6).to.include({ 'icmpv6.type': '136', 'icmpv6.checksum.status': '1', 'icmpv6.nd.na.target_address': '2001:db8::42' });
      expect(JSON.stringify(layers)).to.not.match(/malformed|_ws\.expert/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fdb: neighbour learning (snoopNeighbour) and the neighbour table', () => {
  it('learns the sender of ARP requests and replies, the target of advertisements, the solicitor of solicitations', () => {
    const { fdb } = manualFdb({ proxy: true });
    expect(fdb.snoopNeighbour(VNI, arpFrame(ArpOperation.REPLY, REMOTE, ip('10.0.0.42'), HOST, ip('10.0.0.1')), 0, 42)).to.equal(LEARN_LEARNT);
    expect(fdb.snoopNeighbour(VNI, arpFrame(ArpOperation.REQUEST, 0x02_00_00_00_00_43, ip('10.0.0.43'), 0, ip('10.0.0.1')), 0, 42)).to.equal(LEARN_LEARNT);
    const na = ndFrame({ type: ICMPV6_NEIGHBOR_ADVERTISEMENT, ethernetSource: REMOTE, source: '2001:db8::42', destination: '2001:db8::1', target: '2001:db8::42', targetLinkLayerAddress: REMOTE, solicited: true });
    expect(fdb.snoopNeighbour(VNI, na, 0, na.length)).to.equal(LEARN_LEARNT);
    const ns = ndFrame({ ethernetSource: 0x02_00_00_00_00_44, source: '2001:db8::44', target: '2001:db8::1', sourceLinkLayerAddress: 0x02_00_00_00_00_44 });
    expect(fdb.snoopNeighbour(VNI, ns, 0, ns.length)).to.equal(LEARN_LEARNT);
    expect(fdb.snoopNeighbour(VNI, na, 0, na.length)).to.equal(LEARN_REFRESHED);
    expect(fdb.neighbours.showText()).to.equal(
      [
        '10.0.0.42 lladdr 02:00:00:00:00:42 src_vni 100',
        '10.0.0.43 lladdr 02:00:00:00:00:43 src_vni 100',
        '2001:db8::42 lladdr 02:00:00:00:00:42 src_vni 100',
        '2001:db8::44 lladdr 02:00:00:00:00:44 src_vni 100',
      ].join('\n'),
    );
    expect(fdb.stats.neighbourLearnt).to.equal(4);
    // And the learnt bindings answer requests.
    const out = new Uint8Array(86);
    expect(fdb.proxyReply(VNI, arpRequest(ip('10.0.0.43')), 0, 42, out, 0)).to.equal(42);
  });

  it('ignores what carries no binding; static entries are not overwritten; dynamic ones move', () => {
    const { fdb } = manualFdb({ proxy: true });
    const ignored: [string, Uint8Array][] = [
      ['ARP probe (sender 0.0.0.0)', arpFrame(ArpOperation.REQUEST, REMOTE, 0, 0, ip('10.0.0.42'))],
      ['multicast sender MAC', arpFrame(ArpOperation.REPLY, 0x01_00_5e_00_00_01, ip('10.0.0.42'), HOST, ip('10.0.0.1'))],
      ['ARP op 3', arpFrame(3, REMOTE, ip('10.0.0.42'), HOST, ip('10.0.0.1'))],
      ['DAD solicitation', solicitation({ source: '::', sourceLinkLayerAddress: undefined })],
      ['advertisement without target link-layer option', ndFrame({ type: ICMPV6_NEIGHBOR_ADVERTISEMENT, ethernetSource: REMOTE, source: '2001:db8::42', destination: '2001:db8::1', target: '2001:db8::42' })],
      ['IPv4 frame', new Uint8Array(60).fill(0x45, 12, 13)],
      ['truncated', arpFrame(ArpOperation.REPLY, REMOTE, ip('10.0.0.42'), HOST, ip('10.0.0.1')).subarray(0, 30)],
    ];
    for (const [name, frame] of ignored) expect(fdb.snoopNeighbour(VNI, frame, 0, frame.length), name).to.equal(NEIGHBOUR_IGNORED);
    expect(fdb.neighbours.size).to.equal(0);
    fdb.neighbours.add(VNI, '10.0.0.42', { lladdr: REMOTE, state: 'static' });
    expect(fdb.snoopNeighbour(VNI, arpFrame(ArpOperation.REPLY, HOST, ip('10.0.0.42'), HOST, ip('10.0.0.1')), 0, 42)).to.equal(NEIGHBOUR_REFUSED);
    expect(fdb.neighbours.get(VNI, '10.0.0.42')!.lladdr).to.equal('02:00:00:00:00:42');
    fdb.neighbours.learnIpv4(VNI, ip('10.0.0.50'), REMOTE);
    expect(fdb.neighbours.learnIpv4(VNI, ip('10.0.0.50'), HOST)).to.equal(LEARN_MOVED);
    expect(fdb.stats).to.include({ neighbourMovesRefused: 1, neighbourMoved: 1 });
  });

  it('learns nothing when proxy or learning is off for the VNI', () => {
    const { fdb } = manualFdb();
    const reply = arpFrame(ArpOperation.REPLY, REMOTE, ip('10.0.0.42'), HOST, ip('10.0.0.1'));
    expect(fdb.snoopNeighbour(VNI, reply, 0, 42)).to.equal(LEARN_DISABLED);
    fdb.setVni(VNI, { proxy: true, learning: false });
    expect(fdb.snoopNeighbour(VNI, reply, 0, 42)).to.equal(LEARN_DISABLED);
    fdb.setVni(VNI, { learning: true });
    expect(fdb.snoopNeighbour(VNI, reply, 0, 42)).to.equal(LEARN_LEARNT);
  });

  it('limits: total and per VNI; add throws LIMIT, learning counts neighbourLimited', () => {
    const { fdb } = manualFdb({ proxy: true, maxNeighbours: 3, maxNeighboursPerVni: 2 });
    fdb.neighbours.add(1, '10.0.0.1', { lladdr: REMOTE });
    fdb.neighbours.add(1, '10.0.0.2', { lladdr: REMOTE });
    expectFdbError(() => fdb.neighbours.add(1, '10.0.0.3', { lladdr: REMOTE }), 'LIMIT');
    fdb.neighbours.add(2, '10.0.0.3', { lladdr: REMOTE });
    expectFdbError(() => fdb.neighbours.add(3, '10.0.0.3', { lladdr: REMOTE }), 'LIMIT');
    expect(fdb.neighbours.learnIpv4(3, ip('10.0.0.4'), REMOTE)).to.equal(4);
    expect(fdb.stats.neighbourLimited).to.equal(1);
    expect(fdb.getVni(1).neighbours).to.equal(2);
  });

  it('add / replace / del / get / show / clear', () => {
    const { fdb } = manualFdb();
    fdb.neighbours.add(1, '10.0.0.5', { lladdr: '02:00:00:00:00:05' });
    expectFdbError(() => fdb.neighbours.add(1, '10.0.0.5', { lladdr: '02:00:00:00:00:06' }), 'EXISTS');
    fdb.neighbours.replace(1, '10.0.0.5', { lladdr: '02:00:00:00:00:06', router: true, state: 'static' });
    fdb.neighbours.add(1, 'fe80::1', { lladdr: 0x020000000007 });
    expect(fdb.neighbours.get(1, '10.0.0.5')).to.deep.equal({ dst: '10.0.0.5', lladdr: '02:00:00:00:00:06', src_vni: 1, flags: ['router'], state: 'static' });
    expect(fdb.neighbours.lookupIpv4(1, ip('10.0.0.5'))).to.equal(0x020000000006);
    const v6 = parseIpv6('fe80::1');
    expect(fdb.neighbours.lookupIpv6(1, v6, 0)).to.equal(0x020000000007);
    expect(fdb.neighbours.lookupIpv6(1, v6, 1)).to.equal(-1);
    expect(fdb.neighbours.show({ stats: true })).to.deep.equal([
      { dst: '10.0.0.5', lladdr: '02:00:00:00:00:06', src_vni: 1, used: 0, updated: 0, flags: ['router'], state: 'static' },
      { dst: 'fe80::1', lladdr: '02:00:00:00:00:07', src_vni: 1, used: 0, updated: 0, flags: [], state: 'permanent' },
    ]);
    fdb.neighbours.del(1, '10.0.0.5');
    expectFdbError(() => fdb.neighbours.del(1, '10.0.0.5'), 'NOT_FOUND');
    expect(fdb.neighbours.clear(1)).to.equal(1);
    expect(fdb.neighbours.size).to.equal(0);
    expect(fdb.getVni(1).neighbours).to.equal(0);
  });

  it('property: proxyReply and snoopNeighbour on random or mutated frames return 0/42/86 or a code, never throw, never write outside the reply', () => {
    const { fdb } = suppressing();
    fdb.neighbours.add(VNI, '10.0.0.1', { lladdr: HOST });
    const templates = [arpRequest(), solicitation(), arpFrame(ArpOperation.REPLY, REMOTE, ip('10.0.0.42'), HOST, ip('10.0.0.1'))];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }),
          fc.tuple(fc.integer({ min: 0, max: 2 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), fc.nat()).map(([t, edits, cut]) => {
            const frame = templates[t]!.slice();
            for (const [at, value] of edits) frame[at % frame.length] = value;
            return frame.subarray(0, frame.length - (cut % 4));
          }),
        ),
        fc.integer({ min: 0, max: 40 }),
        (frame, outOffset) => {
          const out = new Uint8Array(140).fill(0x5a);
          const n = fdb.proxyReply(VNI, frame, 0, frame.length, out, outOffset);
          expect([0, PROXY_ARP_REPLY_LENGTH, PROXY_NA_REPLY_LENGTH]).to.include(n);
          for (let i = 0; i < out.length; i++) if (i < outOffset || i >= outOffset + n) expect(out[i], `byte ${i}`).to.equal(0x5a);
          const code = fdb.snoopNeighbour(VNI, frame, 0, frame.length);
          expect(code).to.be.within(0, 6);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the reply of an unchanged request is byte-identical every time (no state leaks between calls)', () => {
    const { fdb } = suppressing();
    const a = new Uint8Array(86);
    const b = new Uint8Array(86);
    fdb.proxyReply(VNI, solicitation(), 0, 86, a, 0);
    fdb.proxyReply(VNI, arpRequest(), 0, 42, b, 0);
    fdb.proxyReply(VNI, solicitation(), 0, 86, b, 0);
    expect(toHex(a)).to.equal(toHex(b));
  });
});

void mac;
