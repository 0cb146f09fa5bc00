/**
 * What vtepkit prints: iproute2's layouts (ip -d/-s link, bridge fdb, ip neigh,
 * ip addr, ip xfrm state) and -j JSON.
 */
import { expect } from 'chai';
import {
  formatAddresses,
  formatFdbRows,
  formatJson,
  formatLinks,
  formatNeighbours,
  formatResult,
  formatXfrmStates,
} from '../../src/cli/format.js';
import type { GlobalOptions } from '../../src/cli/words.js';
import { FDB_ROWS, GENEVE, LINK } from './fake-api.js';

const PLAIN: GlobalOptions = { stats: 0, details: false, json: false, pretty: false, family: 0 };

describe('cli format: links', () => {
  it('ip link show: the header and link/ether lines; UNKNOWN when up (as Linux shows TAP and vxlan devices), DOWN when not', () => {
    expect(formatLinks([LINK, GENEVE], PLAIN)).to.equal(
      [
        '7: vxlan100: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 state UNKNOWN mode DEFAULT',
        '    link/ether 02:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff',
        'gnv0: <BROADCAST,MULTICAST> mtu 1442 state DOWN mode DEFAULT',
        '    link/ether 02:aa:bb:cc:dd:ee brd ff:ff:ff:ff:ff:ff',
      ].join('\n'),
    );
  });

  it('ip -d link show: the tunnel line in iproute2 words, Geneve options below', () => {
    expect(formatLinks([LINK, GENEVE], { ...PLAIN, details: true }).split('\n')).to.deep.equal([
      '7: vxlan100: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 state UNKNOWN mode DEFAULT',
      '    link/ether 02:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff',
      '    vxlan id 100 local 192.168.1.10 dev eth0 srcport 49152 65535 dstport 4789 nolearning ttl auto ageing 300 noudpcsum',
      'gnv0: <BROADCAST,MULTICAST> mtu 1442 state DOWN mode DEFAULT',
      '    link/ether 02:aa:bb:cc:dd:ee brd ff:ff:ff:ff:ff:ff',
      '    geneve id 500 remote 192.168.2.30 dstport 6081 ttl auto',
      '    option class 0x0102 type 0x80 data 0x00003039',
    ]);
    const odd = { ...LINK, group: '224.1.1.1', proxy: true, ttl: 8, tos: 1, gbp: true, udpChecksum: true, port: 'memory' as const, knownOptions: [{ class: 1, type: 2 }] };
    expect(formatLinks([odd], { ...PLAIN, details: true }).split('\n')[2]).to.equal(
      '    vxlan id 100 group 224.1.1.1 local 192.168.1.10 dev eth0 srcport 49152 65535 dstport 4789 nolearning proxy ttl 8 tos inherit ageing 300 udpcsum gbp port memory',
    );
    expect(formatLinks([{ ...LINK, tos: 0x10 }], { ...PLAIN, details: true })).to.include(' tos 0x10 ');
  });

  it('ip -s link show: right-aligned RX/TX counters, then the drops by reason (non-zero only)', () => {
    expect(formatLinks([LINK], { ...PLAIN, stats: 1 }).split('\n').slice(2)).to.deep.equal([
      '    RX:  bytes packets dropped',
      '          1234      12       3',
      '    TX:  bytes packets dropped',
      '           987      10       0',
      '    drops: bad-header 2 unknown-vni 1',
    ]);
    // The socket's own drops (shared by its links), non-zero ones only.
    const withSocket = { ...LINK, stats: { ...LINK.stats!, underlay: { badHeader: 5, unknownVni: 0, oversize: 1, noBuffer: 0, txErrors: 0 } } };
    expect(formatLinks([withSocket], { ...PLAIN, stats: 1 }).split('\n').at(-1)).to.equal('    socket drops: bad-header 5 oversize 1');
    // A link without counters (the engine gives them only with stats) prints none.
    expect(formatLinks([GENEVE], { ...PLAIN, stats: 1 }).split('\n')).to.have.length(2);
  });
});

describe('cli format: fdb, neighbours, addresses, SAs', () => {
  it('bridge fdb show: formatRow with the device after the MAC, or without it when one device was asked for', () => {
    expect(formatFdbRows(FDB_ROWS)).to.equal(
      ['00:00:00:00:00:00 dev vxlan100 dst 192.168.1.20 src_vni 100 self permanent', '02:00:00:00:00:0a dev vxlan100 dst 192.168.1.20 src_vni 100 self'].join('\n'),
    );
    expect(formatFdbRows(FDB_ROWS, 'vxlan100').split('\n')[0]).to.equal('00:00:00:00:00:00 dst 192.168.1.20 src_vni 100 self permanent');
    expect(formatFdbRows([{ ...FDB_ROWS[1]!, used: 3, updated: 7, port: 8472, vni: 200, viaIf: 'eth1', flags: ['self', 'extern_learn'] }])).to.equal(
      '02:00:00:00:00:0a dev vxlan100 dst 192.168.1.20 port 8472 vni 200 src_vni 100 via eth1 used 3/7 self extern_learn',
    );
    expect(formatFdbRows([])).to.equal('');
  });

  it('ip neigh show', () => {
    expect(
      formatNeighbours([
        { dev: 'vxlan100', address: '10.200.0.2', lladdr: '02:00:00:00:00:02', state: 'permanent' },
        { dev: 'vxlan100', address: 'fd00::2', lladdr: '02:00:00:00:00:03', state: '' },
      ]),
    ).to.equal('10.200.0.2 dev vxlan100 lladdr 02:00:00:00:00:02 PERMANENT\nfd00::2 dev vxlan100 lladdr 02:00:00:00:00:03');
  });

  it('ip addr show: each link, then its addresses; -4 / -6 filter; a filter by device', () => {
    const addresses = [
      { dev: 'vxlan100', address: '10.200.0.1/24' },
      { dev: 'gnv0', address: '172.22.1.1/24' },
      { dev: 'gnv0', address: 'fd00:1234::1/64' },
      { dev: 'other', address: '10.9.9.9/8' },
    ];
    expect(formatAddresses([LINK, GENEVE], addresses, PLAIN).split('\n')).to.deep.equal([
      '7: vxlan100: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 state UNKNOWN mode DEFAULT',
      '    link/ether 02:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff',
      '    inet 10.200.0.1/24 scope global vxlan100',
      'gnv0: <BROADCAST,MULTICAST> mtu 1442 state DOWN mode DEFAULT',
      '    link/ether 02:aa:bb:cc:dd:ee brd ff:ff:ff:ff:ff:ff',
      '    inet 172.22.1.1/24 scope global gnv0',
      '    inet6 fd00:1234::1/64 scope global',
      'other:',
      '    inet 10.9.9.9/8 scope global other',
    ]);
    expect(formatAddresses([LINK, GENEVE], addresses, { ...PLAIN, family: 6 })).to.not.match(/inet /);
    expect(formatAddresses([LINK, GENEVE], addresses, { ...PLAIN, family: 4 })).to.not.include('inet6');
    expect(formatAddresses([LINK, GENEVE], addresses, PLAIN, 'gnv0').split('\n')).to.have.length(4);
  });

  it('ip xfrm state: the SA as iproute2 lays it out; other fields after', () => {
    expect(
      formatXfrmStates([
        { src: '192.168.1.10', dst: '192.168.1.20', spi: 0x1000, reqid: 1, mode: 'transport', replayWindow: 64, esn: true, aead: { name: 'rfc4106(gcm(aes))', key: '0xab', icvBits: 128 }, encap: { type: 'espinudp', sport: 4500, dport: 4501 } },
        { src: '10.0.0.1', dst: '10.0.0.2', spi: 300, enc: { name: 'cbc(aes)', key: '0x01' }, auth: { name: 'hmac(sha256)', key: '0x02', truncBits: 128 }, stats: { replay: 0, badIcv: 2 }, backend: 'node' },
      ]).split('\n'),
    ).to.deep.equal([
      'src 192.168.1.10 dst 192.168.1.20',
      '\tproto esp spi 0x00001000 reqid 1 mode transport',
      '\treplay-window 64 flag esn',
      '\taead rfc4106(gcm(aes)) 0xab 128',
      '\tencap type espinudp sport 4500 dport 4501 addr 0.0.0.0',
      'src 10.0.0.1 dst 10.0.0.2',
      '\tproto esp spi 0x0000012c reqid 0 mode transport',
      '\tenc cbc(aes) 0x01',
      '\tauth-trunc hmac(sha256) 0x02 128',
      '\tbackend node',
    ]);
    // What the engine returns: names without keys, and with -s its SA snapshot.
    const engine = {
      src: '127.0.0.1', dst: '127.0.0.2', spi: 4096, mode: 'transport', aead: 'rfc4106(gcm(aes))',
      stats: { spi: 4096, mode: 'transport', algorithm: 'aes-gcm-128', backend: 'node', esn: false, udpEncapsulation: null, source: '127.0.0.1', outboundSeq: '3', stats: { sealed: 3, opened: 0, badIcv: 1 } },
    };
    expect(formatXfrmStates([engine]).split('\n')).to.deep.equal(['src 127.0.0.1 dst 127.0.0.2', '\tproto esp spi 0x00001000 reqid 0 mode transport', '\taead rfc4106(gcm(aes))']);
    expect(formatXfrmStates([engine], { stats: 1 }).split('\n').slice(3)).to.deep.equal(['\tstats: algorithm aes-gcm-128 backend node outboundSeq 3', '\tcounters: sealed 3 badIcv 1']);
    // The ESP layer's own snapshot shape (source/destination/algorithm/udpEncapsulation).
    expect(formatXfrmStates([{ spi: 256, source: 'fd00::1', destination: 'fd00::2', algorithm: 'aes-gcm-128', udpEncapsulation: { sourcePort: 4500, destinationPort: 4500 }, outboundSeq: '7' }]).split('\n')).to.deep.equal([
      'src fd00::1 dst fd00::2',
      '\tproto esp spi 0x00000100 reqid 0 mode transport',
      '\talgorithm aes-gcm-128',
      '\tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0',
      '\toutboundSeq 7',
    ]);
  });
});

describe('cli format: results and JSON', () => {
  it('-j prints the API objects; -p indents; changes print nothing; dump is always indented', () => {
    const json = { ...PLAIN, json: true };
    expect(JSON.parse(formatResult({ op: 'fdb.show', args: {} }, FDB_ROWS, json))).to.deep.equal(FDB_ROWS);
    expect(formatResult({ op: 'fdb.show', args: {} }, FDB_ROWS, { ...json, pretty: true })).to.include('\n  {\n    "dev": "vxlan100"');
    expect(JSON.parse(formatResult({ op: 'link.show', args: {} }, [LINK], json))).to.deep.equal([LINK]);
    expect(formatResult({ op: 'fdb.add', args: { dev: 'v', mac: '02:00:00:00:00:01', dst: '10.0.0.1' } }, null, PLAIN)).to.equal('');
    expect(formatResult({ op: 'link.add', args: { name: 'v', type: 'vxlan', vni: 1 } }, LINK, PLAIN)).to.equal('');
    expect(JSON.parse(formatResult({ op: 'link.add', args: { name: 'v', type: 'vxlan', vni: 1 } }, LINK, json))).to.deep.equal(LINK);
    expect(formatResult({ op: 'dump', args: {} }, { version: 1 }, PLAIN)).to.equal('{\n  "version": 1\n}');
    expect(formatJson({ a: 1n, b: new Uint8Array([0xab]) })).to.equal('{"a":"1","b":"0xab"}');
    expect(formatJson(undefined)).to.equal('null');
  });
});
