/**
 * The word parser: the seeds' commands (with `ip`/`bridge` replaced by
 * `vtepkit`) give the requests the engine's API takes; iproute2's synonyms;
 * errors that name the bad word and what was expected; requests → words →
 * the same requests; and random word lists only ever give a CliError or a
 * request the control server accepts.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { isMulticastAddress, isUnspecifiedAddress, validateLinkConfig, validateSa } from '../../src/cli/config.js';
import { ControlServer } from '../../src/cli/control.js';
import { CliError, parseWords, requestToWords, USAGE, type ControlRequest, type ParsedCommand } from '../../src/cli/words.js';
import type { LinkConfig } from '../../src/vtep/api.js';
import { FakeApi } from './fake-api.js';

const AUTH_KEY = `0x${'00'.repeat(31)}01`;
const ENC_KEY = '0x000102030405060708090a0b0c0d0e0f';
const GCM_KEY = '0x0123456789abcdef0123456789abcdef01234567';

function parse(line: string): ParsedCommand {
  return parseWords(line.split(' ').filter((word) => word !== ''));
}

function request(line: string): unknown {
  return parse(line).request;
}

function parseError(words: string | string[]): CliError {
  const argv = typeof words === 'string' ? words.split(' ').filter((word) => word !== '') : words;
  try {
    parseWords(argv);
  } catch (error) {
    expect(error).to.be.instanceOf(CliError);
    return error as CliError;
  }
  expect.fail(`parsed: ${argv.join(' ')}`);
}

describe('cli words: the seeds, in vtepkit words', () => {
  const cases: [string, unknown][] = [
    // Seed 000: the VXLAN point-to-point set-up.
    [
      'link add vxlan100 type vxlan id 100 dstport 4789 local 192.168.1.10 dev eth0 nolearning',
      { op: 'link.add', args: { name: 'vxlan100', type: 'vxlan', vni: 100, dstport: 4789, local: '192.168.1.10', dev: 'eth0', learning: false } },
    ],
    ['addr add 10.200.0.1/24 dev vxlan100', { op: 'addr.add', args: { dev: 'vxlan100', address: '10.200.0.1/24' } }],
    ['link set vxlan100 up', { op: 'link.set', args: { name: 'vxlan100', up: true } }],
    ['fdb append 00:00:00:00:00:00 dev vxlan100 dst 192.168.1.20', { op: 'fdb.append', args: { mac: '00:00:00:00:00:00', dev: 'vxlan100', dst: '192.168.1.20' } }],
    ['fdb add 00:00:00:00:00:00 dst 192.168.1.10 dev vxlan100', { op: 'fdb.add', args: { mac: '00:00:00:00:00:00', dev: 'vxlan100', dst: '192.168.1.10' } }],
    ['fdb show dev vxlan100', { op: 'fdb.show', args: { dev: 'vxlan100' } }],
    // Seed 000: Geneve, dual stack.
    [
      'link add gnv0 type geneve vni 500 remote 192.168.2.30 dstport 6081',
      { op: 'link.add', args: { name: 'gnv0', type: 'geneve', vni: 500, remote: '192.168.2.30', dstport: 6081 } },
    ],
    ['-6 addr add fd00:1234::1/64 dev gnv0', { op: 'addr.add', args: { dev: 'gnv0', address: 'fd00:1234::1/64' } }],
    ['addr add 172.22.1.1/24 dev gnv0', { op: 'addr.add', args: { dev: 'gnv0', address: '172.22.1.1/24' } }],
    // vtepkit's Geneve option words (the seeds' customer-ID metadata).
    [
      'link add gnv0 type geneve vni 500 remote 192.168.2.30 option class 0x0102 type 0x80 data 0x00003039',
      { op: 'link.add', args: { name: 'gnv0', type: 'geneve', vni: 500, remote: '192.168.2.30', options: [{ class: 0x0102, type: 0x80, data: '0x00003039' }] } },
    ],
    // Seed 000: manual IPsec SA.
    [
      `xfrm state add src 192.168.1.10 dst 192.168.1.20 proto esp spi 0x1000 mode transport auth sha256 ${AUTH_KEY} enc aes ${ENC_KEY}`,
      {
        op: 'xfrm.state.add',
        args: { src: '192.168.1.10', dst: '192.168.1.20', spi: 0x1000, mode: 'transport', auth: { name: 'hmac(sha256)', key: AUTH_KEY }, enc: { name: 'cbc(aes)', key: ENC_KEY } },
      },
    ],
    [
      `xfrm state add src 192.168.1.10 dst 192.168.1.20 proto esp spi 0x1000 mode transport aead rfc4106(gcm(aes)) ${GCM_KEY} 128`,
      { op: 'xfrm.state.add', args: { src: '192.168.1.10', dst: '192.168.1.20', spi: 4096, mode: 'transport', aead: { name: 'rfc4106(gcm(aes))', key: GCM_KEY, icvBits: 128 } } },
    ],
    // Seed 002: gateway to gateway.
    [
      'link add vxlan0 type vxlan dev eth0 vni 10 local 172.16.0.150 remote 172.16.0.160 dstport 4789',
      { op: 'link.add', args: { name: 'vxlan0', type: 'vxlan', vni: 10, dev: 'eth0', local: '172.16.0.150', remote: '172.16.0.160', dstport: 4789 } },
    ],
    ['addr show vxlan0', { op: 'addr.show', args: { dev: 'vxlan0' } }],
    ['link set dev vxlan0 address ae:83:c6:00:91:80', { op: 'link.set', args: { name: 'vxlan0', address: 'ae:83:c6:00:91:80' } }],
    // Seed 003: multicast mode, FDB verbs.
    [
      'link add vxlan0 type vxlan id 42 dstport 4789 group 239.1.1.1 dev enp1s0',
      { op: 'link.add', args: { name: 'vxlan0', type: 'vxlan', vni: 42, dstport: 4789, group: '239.1.1.1', dev: 'enp1s0' } },
    ],
    ['fdb del 00:00:00:00:00:00 dst 192.168.1.10 dev vxlan0', { op: 'fdb.del', args: { mac: '00:00:00:00:00:00', dev: 'vxlan0', dst: '192.168.1.10' } }],
    ['fdb replace 00:00:00:00:00:00 dst 192.168.1.20 dev vxlan0', { op: 'fdb.replace', args: { mac: '00:00:00:00:00:00', dev: 'vxlan0', dst: '192.168.1.20' } }],
    ['neigh add 10.0.1.10 lladdr da:af:e1:9b:30:74 dev vxlan0', { op: 'neigh.add', args: { address: '10.0.1.10', lladdr: 'da:af:e1:9b:30:74', dev: 'vxlan0' } }],
  ];
  for (const [line, expected] of cases) {
    it(`vtepkit ${line}`, () => expect(request(line)).to.deep.equal(expected));
  }
});

describe('cli words: iproute2 synonyms and forms', () => {
  it('id / vni, ttl / hoplimit, tos inherit (stored as 1, as Linux), ttl auto (the default: omitted)', () => {
    expect(request('link add v type vxlan vni 7 hoplimit 3 tos inherit')).to.deep.include({ args: { name: 'v', type: 'vxlan', vni: 7, ttl: 3, tos: 1 } });
    expect(request('link add v type geneve id 7 ttl auto tos 0x10')).to.deep.include({ args: { name: 'v', type: 'geneve', vni: 7, tos: 16 } });
    expect(request('link add v type vxlan id 7 dsfield 4')).to.deep.include({ args: { name: 'v', type: 'vxlan', vni: 7, tos: 4 } });
  });

  it('every tunnel word of `ip link add … type vxlan`', () => {
    expect(
      request(
        'link add name vx1 mtu 1400 address 02:00:00:00:00:01 type vxlan id 0x10 dstport 8472 local fd00::1 remote fd00::2 ttl 9 tos 0 ageing 0 learning proxy udpcsum gbp srcport 1000 2000',
      ),
    ).to.deep.equal({
      op: 'link.add',
      args: {
        name: 'vx1', type: 'vxlan', vni: 16, mtu: 1400, address: '02:00:00:00:00:01', dstport: 8472, local: 'fd00::1', remote: 'fd00::2', ttl: 9, tos: 0,
        ageing: 0, learning: true, proxy: true, udpChecksum: true, gbp: true, srcport: { min: 1000, max: 2000 },
      },
    });
    expect(request('link add vx1 type vxlan id 1 noproxy noudpcsum port 5 6')).to.deep.include({ args: { name: 'vx1', type: 'vxlan', vni: 1, proxy: false, udpChecksum: false, srcport: { min: 5, max: 6 } } });
    expect(request('link add vx1 type vxlan id 1 port memory')).to.deep.include({ args: { name: 'vx1', type: 'vxlan', vni: 1, port: 'memory' } });
    expect(request('link add dev vx1 type vxlan id 1 mtu 9000')).to.deep.include({ args: { name: 'vx1', type: 'vxlan', vni: 1, mtu: 9000 } });
  });

  it('Geneve options: repeated, data optional (empty), known-option', () => {
    expect(request('link add g type geneve vni 1 option class 1 type 2 option type 0x81 class 0xffff data 0x0000000100000002 known-option class 3 type 0x84')).to.deep.equal({
      op: 'link.add',
      args: {
        name: 'g', type: 'geneve', vni: 1,
        options: [{ class: 1, type: 2, data: '0x' }, { class: 0xffff, type: 0x81, data: '0x0000000100000002' }],
        knownOptions: [{ class: 3, type: 0x84 }],
      },
    });
  });

  it('daemon --esp-backend auto|openssl|node|gcm-js', () => {
    expect(request('daemon --esp-backend gcm-js --config vtep.json')).to.deep.equal({ op: 'daemon', args: { espBackend: 'gcm-js', config: 'vtep.json' } });
    for (const name of ['auto', 'openssl', 'node']) expect(request(`daemon --esp-backend ${name}`)).to.deep.equal({ op: 'daemon', args: { espBackend: name } });
    expect(parseError('daemon --esp-backend libsodium').code).to.equal('BAD_ARGUMENT');
    expect(parseError('daemon --esp-backend node --esp-backend gcm-js').code).to.equal('DUPLICATE_ARGUMENT');
  });

  it('capture: side, file, count, seconds; pmtud on link add', () => {
    expect(request('capture vxlan100 underlay file /tmp/u.pcap count 10 seconds 3')).to.deep.equal({ op: 'capture', args: { dev: 'vxlan100', side: 'underlay', file: '/tmp/u.pcap', count: 10, seconds: 3 } });
    expect(request('capture vxlan100 file x.pcap')).to.deep.equal({ op: 'capture', args: { dev: 'vxlan100', side: 'tap', file: 'x.pcap' } });
    expect(parseError('capture vxlan100').code).to.equal('USAGE');
    expect(parseError('capture vxlan100 file a count 0').code).to.equal('BAD_ARGUMENT');
    expect(parseError('capture vxlan100 file a seconds 1.5').code).to.equal('BAD_ARGUMENT');
    expect(parseError('capture vxlan100 tap underlay file a').code).to.equal('DUPLICATE_ARGUMENT');
    expect(parseError('capture vxlan100 file a bogus').code).to.equal('UNKNOWN_WORD');
    expect((request('link add v type vxlan id 1 pmtud') as { args: LinkConfig }).args.pmtud).to.equal(true);
    expect((request('link add v type vxlan id 1 nopmtud') as { args: LinkConfig }).args.pmtud).to.equal(false);
  });

  it('link set / del / show in their forms', () => {
    expect(request('link set up dev v1 mtu 1400')).to.deep.equal({ op: 'link.set', args: { name: 'v1', up: true, mtu: 1400 } });
    expect(request('link change v1 down')).to.deep.equal({ op: 'link.set', args: { name: 'v1', up: false } });
    expect(request('link delete dev v1')).to.deep.equal({ op: 'link.del', args: { name: 'v1' } });
    expect(request('link del v1')).to.deep.equal({ op: 'link.del', args: { name: 'v1' } });
    for (const line of ['link', 'link show', 'link list', 'link ls', 'link lst', 'l']) expect(request(line)).to.deep.equal({ op: 'link.show', args: {} });
    expect(request('-s link show dev v1')).to.deep.equal({ op: 'link.show', args: { name: 'v1', stats: true } });
    expect(request('link show v1 -statistics')).to.deep.equal({ op: 'link.show', args: { name: 'v1', stats: true } });
  });

  it('addr: `local`, no prefix (the host prefix), show forms', () => {
    expect(request('address add local 10.0.0.1 dev v1')).to.deep.equal({ op: 'addr.add', args: { dev: 'v1', address: '10.0.0.1/32' } });
    expect(request('a del fd00::1 dev v1')).to.deep.equal({ op: 'addr.del', args: { dev: 'v1', address: 'fd00::1/128' } });
    expect(request('addr')).to.deep.equal({ op: 'addr.show', args: {} });
    expect(request('addr show dev v1')).to.deep.equal({ op: 'addr.show', args: { dev: 'v1' } });
  });

  it('fdb: every word of `bridge fdb add`, `to`, MACs normalised, state words ignored on del', () => {
    expect(request('fdb add to 02-00-00-00-00-0A dev v1 dst 10.0.0.2 dstport 8472 vni 200 via eth1 self static extern_learn router')).to.deep.equal({
      op: 'fdb.add',
      args: { mac: '02:00:00:00:00:0a', dev: 'v1', dst: '10.0.0.2', port: 8472, vni: 200, via: 'eth1', state: 'static', externLearn: true, router: true },
    });
    expect(request('fdb append 00:00:00:00:00:00 dev v1 localport 3 dynamic')).to.deep.equal({
      op: 'fdb.append',
      args: { mac: '00:00:00:00:00:00', dev: 'v1', localPort: 3, state: 'dynamic' },
    });
    expect(request('fdb delete 02:00:00:00:00:0a dev v1 dst 10.0.0.2 port 8472 vni 5 via eth1 self permanent router extern_learn')).to.deep.equal({
      op: 'fdb.del',
      args: { mac: '02:00:00:00:00:0a', dev: 'v1', dst: '10.0.0.2', port: 8472, vni: 5, via: 'eth1' },
    });
  });

  it('fdb show: dev / brport, vni, state, dynamic, -s', () => {
    expect(request('fdb')).to.deep.equal({ op: 'fdb.show', args: {} });
    expect(request('-s fdb show brport v1 vni 100 state static')).to.deep.equal({ op: 'fdb.show', args: { dev: 'v1', vni: 100, state: 'static', stats: true } });
    expect(request('fdb list dynamic')).to.deep.equal({ op: 'fdb.show', args: { state: 'dynamic' } });
  });

  it('neigh: add with nud, del, show; neighbour/neighbor/n', () => {
    expect(request('neighbour add to 10.0.0.2 lladdr 02:00:00:00:00:02 dev v1 nud permanent')).to.deep.equal({ op: 'neigh.add', args: { address: '10.0.0.2', lladdr: '02:00:00:00:00:02', dev: 'v1' } });
    expect(request('neighbor del fd00::2 dev v1')).to.deep.equal({ op: 'neigh.del', args: { address: 'fd00::2', dev: 'v1' } });
    expect(request('n')).to.deep.equal({ op: 'neigh.show', args: {} });
    expect(request('neigh show dev v1')).to.deep.equal({ op: 'neigh.show', args: { dev: 'v1' } });
  });

  it('xfrm: reqid kept, replay-window, flag esn, auth-trunc, encap espinudp, tunnel mode, del and show', () => {
    expect(
      request(`xfrm state add src fd00::1 dst fd00::2 proto esp spi 4096 mode tunnel reqid 0x7 replay-window 128 flag esn enc cbc(aes) ${ENC_KEY} auth-trunc hmac(sha256) ${AUTH_KEY} 128 encap espinudp 4500 4501 0.0.0.0`),
    ).to.deep.equal({
      op: 'xfrm.state.add',
      args: {
        src: 'fd00::1', dst: 'fd00::2', spi: 4096, mode: 'tunnel', reqid: 7, replayWindow: 128, esn: true,
        enc: { name: 'cbc(aes)', key: ENC_KEY }, auth: { name: 'hmac(sha256)', key: AUTH_KEY, truncBits: 128 },
        encap: { type: 'espinudp', sport: 4500, dport: 4501 },
      },
    });
    expect(request('xfrm state del src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000')).to.deep.equal({ op: 'xfrm.state.del', args: { src: '10.0.0.1', dst: '10.0.0.2', spi: 4096 } });
    expect(request('xfrm state delete dst 10.0.0.2 spi 4096')).to.deep.equal({ op: 'xfrm.state.del', args: { dst: '10.0.0.2', spi: 4096 } });
    for (const line of ['xfrm state', 'xfrm state show', 'xfrm state list']) expect(request(line)).to.deep.equal({ op: 'xfrm.state.show', args: {} });
  });

  it('up, dump, daemon, demo, help, version', () => {
    expect(request('up vtep.json')).to.deep.equal({ op: 'up', args: { file: 'vtep.json' } });
    expect(request('dump')).to.deep.equal({ op: 'dump', args: {} });
    expect(request('daemon')).to.deep.equal({ op: 'daemon', args: {} });
    expect(request('daemon --config /etc/vtep.json')).to.deep.equal({ op: 'daemon', args: { config: '/etc/vtep.json' } });
    expect(request('daemon --config=/etc/vtep.json')).to.deep.equal({ op: 'daemon', args: { config: '/etc/vtep.json' } });
    expect(request('demo --keep -j whatever')).to.deep.equal({ op: 'demo', args: { words: ['--keep', '-j', 'whatever'] } });
    expect(request('help')).to.deep.equal({ op: 'help', args: {} });
    expect(request('--help')).to.deep.equal({ op: 'help', args: {} });
    expect(request('help fdb')).to.deep.equal({ op: 'help', args: { topic: 'fdb' } });
    expect(request('fdb help')).to.deep.equal({ op: 'help', args: { topic: 'fdb' } });
    expect(request('xfrm state help')).to.deep.equal({ op: 'help', args: { topic: 'xfrm' } });
    expect(request('link add -h')).to.deep.equal({ op: 'help', args: { topic: 'link' } });
    expect(request('-V')).to.deep.equal({ op: 'version', args: {} });
    for (const topic of ['main', 'link', 'addr', 'fdb', 'neigh', 'xfrm', 'up', 'dump', 'daemon', 'demo'] as const) expect(USAGE[topic]).to.match(/Usage: /);
  });

  it('global options: before the object or anywhere after it, counted, --socket in both spellings, -- ends them', () => {
    const parsed = parse('-s -d fdb show -j dev v1 --socket /tmp/x.sock -p -s');
    expect(parsed.options).to.deep.equal({ stats: 2, details: true, json: true, pretty: true, family: 0, socket: '/tmp/x.sock' });
    expect(parsed.request).to.deep.equal({ op: 'fdb.show', args: { dev: 'v1', stats: true } });
    expect(parse('--socket=/run/a.sock -4 addr').options).to.deep.include({ socket: '/run/a.sock', family: 4 });
    expect(parse('-json -statistics -details link').options).to.deep.include({ json: true, stats: 1, details: true });
    // After `--`, a word that looks like an option is a word (a link really named "-j").
    expect(request('link del -- -j')).to.deep.equal({ op: 'link.del', args: { name: '-j' } });
  });
});

describe('cli words: errors name the word and what was expected', () => {
  const cases: [string, string, string | undefined, RegExp, 1 | 2][] = [
    ['', 'USAGE', undefined, /no command given; expected one of: link, addr, fdb/, 2],
    ['lnik show', 'USAGE', 'lnik', /unknown command "lnik" \(did you mean "link"\?\)/, 2],
    ['-x link', 'USAGE', '-x', /option "-x" is unknown/, 2],
    ['link ad v', 'USAGE', 'ad', /unknown verb "ad" for "link" \(did you mean "add"\?\); expected one of: add, set/, 2],
    ['xfrm policy add', 'USAGE', 'policy', /expected: state/, 2],
    ['help nothing', 'USAGE', 'nothing', /no help on "nothing"/, 2],
    ['link add v type vxlan id abc', 'BAD_ARGUMENT', 'abc', /^argument "abc" is wrong: "id" must be an integer in 0\.\.16777215$/, 1],
    ['link add v type vxlan vni 16777216', 'BAD_ARGUMENT', '16777216', /"vni" must be an integer in 0\.\.16777215/, 1],
    ['link add v type vxlan id 010', 'BAD_ARGUMENT', '010', /"id" must be an integer/, 1],
    ['link add v type vxlan id 1 nolerning', 'UNKNOWN_WORD', 'nolerning', /unknown word in "link add v type vxlan" \(did you mean "nolearning"\?\); expected one of: id, vni, dstport/, 1],
    ['link add v type vxlan id 1 option class 1 type 2', 'UNKNOWN_WORD', 'option', /expected one of: .*gbp/, 1],
    ['link add v type geneve id 1 gbp', 'UNKNOWN_WORD', 'gbp', /expected one of: .*known-option/, 1],
    ['link add v type veth', 'BAD_ARGUMENT', 'veth', /"type" must be vxlan or geneve/, 1],
    ['link add v type vxlan', 'MISSING_ARGUMENT', undefined, /needs the VNI: id N/, 1],
    ['link add v id 1', 'UNKNOWN_WORD', 'id', /expected one of: NAME, name, dev, type, mtu, address/, 1],
    ['link add type vxlan id 1', 'MISSING_ARGUMENT', undefined, /"link add" needs the link's name/, 1],
    ['link add v type vxlan id 1 dstport', 'MISSING_ARGUMENT', 'dstport', /argument missing after "dstport": expected a UDP port, 1\.\.65535/, 1],
    ['link add v type vxlan id 1 dstport 0', 'BAD_ARGUMENT', '0', /"dstport" must be an integer in 1\.\.65535/, 1],
    ['link add v type vxlan id 1 vni 2', 'DUPLICATE_ARGUMENT', 'vni', /"vni" repeats "id"; give it once/, 1],
    ['link add v type vxlan id 1 learning nolearning', 'DUPLICATE_ARGUMENT', 'nolearning', /"nolearning" repeats "learning"/, 1],
    ['link add v type vxlan id 1 remote 224.1.1.1', 'BAD_ARGUMENT', '224.1.1.1', /"remote" must be a unicast address \(a multicast group goes in "group"\)/, 1],
    ['link add v type vxlan id 1 group 10.0.0.1', 'BAD_ARGUMENT', '10.0.0.1', /"group" must be a multicast group/, 1],
    ['link add v type vxlan id 1 remote 10.0.0.2 group 224.1.1.1', 'BAD_ARGUMENT', '224.1.1.1', /remote and group exclude each other/, 1],
    ['link add v type vxlan id 1 local fd00::1 remote 10.0.0.2', 'BAD_ARGUMENT', '10.0.0.2', /same address family as local/, 1],
    ['link add v type vxlan id 1 srcport 9 8', 'BAD_ARGUMENT', '8', /"srcport" must be at least min \(9\)/, 1],
    ['link add v type vxlan id 1 ttl inherit', 'BAD_ARGUMENT', 'inherit', /1\.\.255 or auto/, 1],
    ['link add v type vxlan id 1 ttl 0', 'BAD_ARGUMENT', '0', /"ttl" must be an integer in 1\.\.255/, 1],
    ['link add v type vxlan id 1 address 01:00:00:00:00:01', 'BAD_ARGUMENT', '01:00:00:00:00:01', /unicast MAC/, 1],
    ['link add averyveryverylongname type vxlan id 1', 'BAD_ARGUMENT', 'averyveryverylongname', /interface name/, 1],
    ['link add g type geneve id 1 option class 1 type 2 data 0x123', 'BAD_ARGUMENT', '0x123', /"option data" must be hex, '0x' and a multiple of 4 bytes/, 1],
    ['link add g type geneve id 1 option class 0x10000 type 2', 'BAD_ARGUMENT', '0x10000', /"option class" must be an integer in 0\.\.65535/, 1],
    ['link add g type geneve id 1 option type 2', 'MISSING_ARGUMENT', 'option', /needs "class N"/, 1],
    ['link set v1', 'MISSING_ARGUMENT', undefined, /needs a change: up, down, mtu N or address MAC/, 1],
    ['link set v1 up down', 'DUPLICATE_ARGUMENT', 'down', /"down" repeats "up"/, 1],
    ['link set v1 name v2', 'UNKNOWN_WORD', 'name', /expected one of: dev, NAME, up, down, mtu, address/, 1],
    ['link set v1 mtu 67', 'BAD_ARGUMENT', '67', /"mtu" must be an integer in 68\.\.65535/, 1],
    ['link del', 'MISSING_ARGUMENT', undefined, /needs the link's name/, 1],
    ['link del v1 v2', 'UNKNOWN_WORD', 'v2', /unknown word in "link del"/, 1],
    ['addr add 10.0.0.1/33 dev v1', 'BAD_ARGUMENT', '10.0.0.1/33', /address with an optional prefix length/, 1],
    ['addr add 10.0.0.1/24', 'MISSING_ARGUMENT', undefined, /needs "dev NAME"/, 1],
    ['addr add dev v1', 'MISSING_ARGUMENT', undefined, /needs the address/, 1],
    ['addr add 10.0.0.1/24 dev v1 label x', 'UNKNOWN_WORD', 'label', /expected one of: ADDRESS, local, dev/, 1],
    ['fdb add 02:00:00:00:00:01 dev v1 dst 10.0.0.2 vnii 5', 'UNKNOWN_WORD', 'vnii', /\(did you mean "vni"\?\)/, 1],
    ['fdb add 02:00:00:00:00:01 dst 10.0.0.2', 'MISSING_ARGUMENT', undefined, /needs "dev NAME"/, 1],
    ['fdb add dev v1', 'MISSING_ARGUMENT', undefined, /needs the MAC address/, 1],
    ['fdb add 02:00:00:00:00:0g dev v1', 'BAD_ARGUMENT', '02:00:00:00:00:0g', /"LLADDR" must be a MAC address/, 1],
    ['fdb add 02:00:00:00:00:01 dev v1 port 8472', 'BAD_ARGUMENT', '8472', /port applies to a remote: it needs dst/, 1],
    ['fdb add 02:00:00:00:00:01 dev v1 dst 10.0.0.2 localport 1', 'BAD_ARGUMENT', '1', /dst .* and localPort .* exclude each other/, 1],
    ['fdb add 02:00:00:00:00:01 dev v1 dst 0.0.0.0', 'BAD_ARGUMENT', '0.0.0.0', /unspecified/, 1],
    ['fdb add 02:00:00:00:00:01 dev v1 master', 'BAD_ARGUMENT', 'master', /vtepkit has no bridge/, 1],
    ['fdb add 02:00:00:00:00:01 dev v1 src_vni 5', 'BAD_ARGUMENT', 'src_vni', /each vtepkit link has one VNI/, 1],
    ['fdb add 02:00:00:00:00:01 dev v1 static dynamic', 'DUPLICATE_ARGUMENT', 'dynamic', /"dynamic" repeats "static"/, 1],
    ['fdb show state sticky', 'BAD_ARGUMENT', 'sticky', /"state" must be one of "permanent", "static", "dynamic"/, 1],
    ['fdb show br br0', 'UNKNOWN_WORD', 'br', /expected one of: dev, brport, vni, state, dynamic/, 1],
    ['neigh add 10.0.0.2 dev v1', 'MISSING_ARGUMENT', undefined, /needs "lladdr MAC"/, 1],
    ['neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev v1 nud reachable', 'BAD_ARGUMENT', 'reachable', /"nud" must be permanent or noarp/, 1],
    ['neigh add 224.0.0.1 lladdr 02:00:00:00:00:02 dev v1', 'BAD_ARGUMENT', '224.0.0.1', /unicast/, 1],
    ['neigh del 10.0.0.2 lladdr 02:00:00:00:00:02 dev v1', 'UNKNOWN_WORD', 'lladdr', /expected one of: ADDRESS, to, dev/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 256', 'BAD_ARGUMENT', 'ah', /"proto" must be esp/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 255 aead rfc4106(gcm(aes)) ' + GCM_KEY + ' 128', 'BAD_ARGUMENT', '255', /"spi" must be an integer in 256\.\.4294967295/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256', 'MISSING_ARGUMENT', undefined, /needs "aead": give aead NAME KEY ICV_BITS, or enc NAME KEY with auth NAME KEY/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 enc aes ' + ENC_KEY, 'MISSING_ARGUMENT', undefined, /needs "auth"/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 aead gcm(aes) ' + GCM_KEY + ' 128', 'BAD_ARGUMENT', 'gcm(aes)', /"aead" must be one of "rfc4106\(gcm\(aes\)\)"/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 aead rfc4106(gcm(aes)) 0x1234 128', 'BAD_ARGUMENT', '0x1234', /20 bytes \(AES-128\) or 36 bytes \(AES-256\)/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 aead rfc4106(gcm(aes)) ' + GCM_KEY + ' 96', 'BAD_ARGUMENT', '96', /must be 128/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 aead rfc4106(gcm(aes)) ' + GCM_KEY, 'MISSING_ARGUMENT', `aead rfc4106(gcm(aes)) KEY`, /the ICV length in bits/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 enc aes 0xzz auth sha256 ' + AUTH_KEY, 'BAD_ARGUMENT', '0xzz', /"enc key" must be a key as hex/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 enc aes ' + ENC_KEY + ' auth sha256 0x0011', 'BAD_ARGUMENT', '0x0011', /32-byte key \(RFC 4868 2\.1\.1\)/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 aead rfc4106(gcm(aes)) ' + GCM_KEY + ' 128 enc aes ' + ENC_KEY, 'BAD_ARGUMENT', 'enc', /give aead alone, or enc with auth/, 1],
    ['xfrm state add src 10.0.0.1 dst fd00::2 spi 256 aead rfc4106(gcm(aes)) ' + GCM_KEY + ' 128', 'BAD_ARGUMENT', 'fd00::2', /same address family as src/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 flag noecn', 'BAD_ARGUMENT', 'noecn', /only the flag esn/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 flag esn replay-window 0 aead rfc4106(gcm(aes)) ' + GCM_KEY + ' 128', 'BAD_ARGUMENT', '0', /esn.* need a replay window/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 encap espinudp 4500 4500 none', 'BAD_ARGUMENT', 'none', /original address/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 encap espinudp-nonike 4500 4500 0.0.0.0', 'BAD_ARGUMENT', 'espinudp-nonike', /"encap" must be espinudp/, 1],
    ['xfrm state add src 10.0.0.1 dst 10.0.0.2 spi 256 sel src 0.0.0.0/0', 'UNKNOWN_WORD', 'sel', /expected one of: src, dst, proto, spi, mode, reqid, replay-window, flag, aead, enc, auth, auth-trunc, encap/, 1],
    ['xfrm state del src 10.0.0.1 spi 256', 'MISSING_ARGUMENT', undefined, /needs "dst ADDRESS"/, 1],
    ['xfrm state del dst 10.0.0.2 spi 256 mode transport', 'UNKNOWN_WORD', 'mode', /expected one of: src, dst, proto, spi/, 1],
    ['up', 'MISSING_ARGUMENT', 'up', /expected a file name/, 1],
    ['up a.json b.json', 'UNKNOWN_WORD', 'b.json', /unknown word in "up"/, 1],
    ['dump now', 'UNKNOWN_WORD', 'now', /unknown word in "dump"/, 1],
    ['daemon --port 5', 'UNKNOWN_WORD', '--port', /expected one of: --config, --socket/, 1],
    ['fdb show --socket', 'MISSING_ARGUMENT', '--socket', /argument missing after "--socket"/, 1],
    ['--socket a --socket b fdb', 'DUPLICATE_ARGUMENT', '--socket', /given twice/, 1],
  ];
  for (const [line, code, word, message, exit] of cases) {
    it(`vtepkit ${line === '' ? '(nothing)' : line} → ${code}`, () => {
      const error = parseError(line);
      expect(error.code, error.message).to.equal(code);
      expect(error.word, error.message).to.equal(word);
      expect(error.message).to.match(message);
      expect(error.exitCode).to.equal(exit);
      expect(error.message).to.not.match(/undefined|\[object/);
    });
  }

  it('refuses a list that is not of strings', () => {
    expect(parseError([1 as unknown as string]).code).to.equal('USAGE');
  });
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const interfaceName = fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/);
const unicast4 = fc.ipV4().filter((a) => !isMulticastAddress(a) && !isUnspecifiedAddress(a));
const unicast6 = fc.ipV6().filter((a) => !isMulticastAddress(a) && !isUnspecifiedAddress(a));
const group4 = fc.tuple(fc.integer({ min: 224, max: 239 }), fc.nat(255), fc.nat(255), fc.nat(255)).map((parts) => parts.join('.'));
const unicastMac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((bytes) => {
  bytes[0] = bytes[0]! & 0xfe;
  if (bytes.every((b) => b === 0)) bytes[5] = 1;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
});
const hexData = fc.uint8Array({ maxLength: 8 }).map((bytes) => `0x${[...bytes, ...bytes, ...bytes, ...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`);

const linkConfig: fc.Arbitrary<LinkConfig> = fc
  .record(
    {
      name: interfaceName,
      type: fc.constantFrom('vxlan' as const, 'geneve' as const),
      vni: fc.integer({ min: 0, max: 0xffffff }),
      dstport: fc.integer({ min: 1, max: 0xffff }),
      v6: fc.boolean(),
      local: fc.boolean(),
      peer: fc.constantFrom('remote', 'group', 'none'),
      dev: interfaceName,
      learning: fc.boolean(),
      ageing: fc.integer({ min: 0, max: 0x7fffffff }),
      proxy: fc.boolean(),
      ttl: fc.integer({ min: 1, max: 255 }),
      tos: fc.integer({ min: 0, max: 255 }),
      mtu: fc.integer({ min: 68, max: 65535 }),
      address: unicastMac,
      srcport: fc.tuple(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 0xffff })).map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) })),
      udpChecksum: fc.boolean(),
      gbp: fc.constant(true),
      options: fc.array(fc.record({ class: fc.integer({ min: 0, max: 0xffff }), type: fc.integer({ min: 0, max: 255 }), data: hexData }), { maxLength: 3 }),
      knownOptions: fc.array(fc.record({ class: fc.integer({ min: 0, max: 0xffff }), type: fc.integer({ min: 0, max: 255 }) }), { maxLength: 3 }),
      port: fc.constantFrom('tap' as const, 'memory' as const),
      l6: unicast6,
      r6: unicast6,
      l4: unicast4,
      r4: unicast4,
      g4: group4,
    },
    { requiredKeys: ['name', 'type', 'vni', 'v6', 'peer', 'l6', 'r6', 'l4', 'r4', 'g4'] },
  )
  .map((r) => {
    const link: LinkConfig = { name: r.name, type: r.type, vni: r.vni };
    if (r.dstport !== undefined) link.dstport = r.dstport;
    if (r.local === true) link.local = r.v6 ? r.l6 : r.l4;
    if (r.peer === 'remote') link.remote = r.v6 ? r.r6 : r.r4;
    if (r.peer === 'group') link.group = r.v6 ? 'ff05::1' : r.g4;
    for (const key of ['dev', 'learning', 'ageing', 'proxy', 'ttl', 'tos', 'mtu', 'address', 'srcport', 'udpChecksum', 'port'] as const) {
      if (r[key] !== undefined) (link as unknown as Record<string, unknown>)[key] = r[key];
    }
    if (r.type === 'vxlan' && r.gbp !== undefined) link.gbp = true;
    if (r.type === 'geneve' && r.options !== undefined && r.options.length > 0) link.options = r.options;
    if (r.type === 'geneve' && r.knownOptions !== undefined && r.knownOptions.length > 0) link.knownOptions = r.knownOptions;
    return link;
  });

const saConfig = fc
  .record(
    {
      v6: fc.boolean(),
      s4: unicast4,
      d4: unicast4,
      s6: unicast6,
      d6: unicast6,
      spi: fc.integer({ min: 256, max: 0xffffffff }),
      mode: fc.constantFrom('transport' as const, 'tunnel' as const),
      reqid: fc.integer({ min: 0, max: 0xffffffff }),
      replayWindow: fc.integer({ min: 1, max: 32768 }),
      esn: fc.constant(true),
      gcm: fc.boolean(),
      gcmBytes: fc.constantFrom(20, 36),
      encBytes: fc.constantFrom(16, 32),
      trunc: fc.boolean(),
      key: fc.uint8Array({ minLength: 36, maxLength: 36 }),
      encap: fc.record({ type: fc.constant('espinudp' as const), sport: fc.integer({ min: 1, max: 65535 }), dport: fc.integer({ min: 1, max: 65535 }) }),
    },
    { requiredKeys: ['v6', 's4', 'd4', 's6', 'd6', 'spi', 'gcm', 'gcmBytes', 'encBytes', 'trunc', 'key'] },
  )
  .map((r) => {
    const hex = (n: number): string => `0x${Buffer.from(r.key.subarray(0, n)).toString('hex')}`;
    const raw: Record<string, unknown> = { src: r.v6 ? r.s6 : r.s4, dst: r.v6 ? r.d6 : r.d4, spi: r.spi };
    for (const key of ['mode', 'reqid', 'replayWindow', 'esn', 'encap'] as const) if (r[key] !== undefined) raw[key] = r[key];
    if (r.gcm) raw.aead = { name: 'rfc4106(gcm(aes))', key: hex(r.gcmBytes), icvBits: 128 };
    else {
      raw.enc = { name: 'cbc(aes)', key: hex(r.encBytes) };
      raw.auth = r.trunc ? { name: 'hmac(sha256)', key: `0x${'ab'.repeat(32)}`, truncBits: 128 } : { name: 'hmac(sha256)', key: `0x${'cd'.repeat(32)}` };
    }
    return validateSa(raw);
  });

const fdbRequest: fc.Arbitrary<ControlRequest> = fc
  .record(
    {
      op: fc.constantFrom('fdb.add' as const, 'fdb.append' as const, 'fdb.replace' as const, 'fdb.del' as const),
      mac: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')),
      dev: interfaceName,
      remote: fc.boolean(),
      dst: fc.oneof(unicast4, unicast6),
      localPort: fc.integer({ min: 0, max: 0x7fffffff }),
      port: fc.integer({ min: 1, max: 0xffff }),
      vni: fc.integer({ min: 0, max: 0xffffff }),
      via: interfaceName,
      state: fc.constantFrom('permanent' as const, 'static' as const, 'dynamic' as const),
      externLearn: fc.constant(true),
      router: fc.constant(true),
    },
    { requiredKeys: ['op', 'mac', 'dev', 'remote', 'dst', 'localPort'] },
  )
  .map((r) => {
    const args: Record<string, unknown> = { mac: r.mac, dev: r.dev };
    if (r.remote) {
      args.dst = r.dst;
      for (const key of ['port', 'vni', 'via'] as const) if (r[key] !== undefined) args[key] = r[key];
    } else if (r.localPort % 2 === 0 || r.op !== 'fdb.del') args.localPort = r.localPort;
    if (r.op !== 'fdb.del') for (const key of ['state', 'externLearn', 'router'] as const) if (r[key] !== undefined) args[key] = r[key];
    return { op: r.op, args } as unknown as ControlRequest;
  });

const otherRequest: fc.Arbitrary<ControlRequest> = fc.oneof(
  fc.record({ name: interfaceName, up: fc.boolean(), mtu: fc.integer({ min: 68, max: 65535 }), address: unicastMac }, { requiredKeys: ['name', 'up'] }).map((args) => ({ op: 'link.set' as const, args })),
  interfaceName.map((name) => ({ op: 'link.del' as const, args: { name } })),
  fc.record({ dev: interfaceName, address: fc.tuple(unicast4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`) }).map((args) => ({ op: 'addr.add' as const, args })),
  fc.record({ dev: interfaceName, address: fc.oneof(unicast4, unicast6), lladdr: unicastMac }).map((args) => ({ op: 'neigh.add' as const, args })),
  fc.record({ dev: interfaceName, address: fc.oneof(unicast4, unicast6) }).map((args) => ({ op: 'neigh.del' as const, args })),
  fc.record({ dev: interfaceName, vni: fc.integer({ min: 0, max: 0xffffff }), state: fc.constantFrom('permanent' as const, 'static' as const, 'dynamic' as const) }, { requiredKeys: [] }).map((args) => ({ op: 'fdb.show' as const, args })),
  fc.record({ spi: fc.integer({ min: 256, max: 0xffffffff }), dst: unicast4, src: unicast4 }, { requiredKeys: ['spi', 'dst'] }).map((args) => ({ op: 'xfrm.state.del' as const, args })),
);

describe('cli words: properties', () => {
  it('link add: any valid link → words → the same request', () => {
    fc.assert(
      fc.property(linkConfig, (link) => {
        const args = validateLinkConfig(link);
        const words = requestToWords({ op: 'link.add', args });
        expect(parseWords(words).request, words.join(' ')).to.deep.equal({ op: 'link.add', args });
      }),
      { numRuns: 1500 },
    );
  });

  it('xfrm state add: any valid SA → words → the same request', () => {
    fc.assert(
      fc.property(saConfig, (args) => {
        const words = requestToWords({ op: 'xfrm.state.add', args });
        expect(parseWords(words).request, words.join(' ')).to.deep.equal({ op: 'xfrm.state.add', args });
      }),
      { numRuns: 800 },
    );
  });

  it('fdb, neigh, addr, link set/del, xfrm del: request → words → the same request', () => {
    fc.assert(
      fc.property(fc.oneof(fdbRequest, otherRequest), (original) => {
        const words = requestToWords(original);
        expect(parseWords(words).request, words.join(' ')).to.deep.equal(original);
      }),
      { numRuns: 1500 },
    );
  });

  const vocabulary = [
    'link', 'addr', 'fdb', 'neigh', 'xfrm', 'state', 'up', 'dump', 'daemon', 'help', 'add', 'set', 'del', 'delete', 'show', 'append', 'replace',
    'type', 'vxlan', 'geneve', 'id', 'vni', 'dstport', 'local', 'remote', 'group', 'dev', 'ttl', 'hoplimit', 'tos', 'ageing', 'learning',
    'nolearning', 'proxy', 'noproxy', 'udpcsum', 'noudpcsum', 'gbp', 'srcport', 'port', 'option', 'known-option', 'class', 'data', 'mtu',
    'address', 'name', 'down', 'dst', 'via', 'self', 'permanent', 'static', 'dynamic', 'extern_learn', 'router', 'localport', 'to', 'lladdr',
    'nud', 'src', 'proto', 'esp', 'spi', 'mode', 'transport', 'tunnel', 'reqid', 'replay-window', 'flag', 'esn', 'aead', 'enc', 'auth',
    'auth-trunc', 'encap', 'espinudp', 'auto', 'inherit', 'memory', 'tap', 'rfc4106(gcm(aes))', 'aes', 'sha256', 'cbc(aes)', 'hmac(sha256)',
    '0', '1', '100', '128', '4500', '4789', '0x1000', '0x80', '0xffff', '65536', '16777216', '-1', '1e3', '0x', 'abc', '', ' ', '\u0000', '𝕏',
    '10.0.0.1', '192.168.1.10', '224.1.1.1', '0.0.0.0', 'fd00::1', '::', 'ff05::1', '10.0.0.1/24', 'fd00::1/64', '1.2.3.4/33',
    '00:00:00:00:00:00', '02:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff', 'vxlan100', 'eth0', 'gnv0', GCM_KEY, ENC_KEY, AUTH_KEY, '0x00003039',
    '-s', '-j', '-d', '-p', '-4', '-6', '--socket', '--socket=', '--', '-x', '--config', 'constructor', '__proto__', 'toString',
  ];
  const word = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...vocabulary) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) });

  it('random word lists: only CliError, and every request parsed is accepted by the control server', async () => {
    const server = new ControlServer(new FakeApi());
    const parsed: ControlRequest[] = [];
    fc.assert(
      fc.property(
        fc.constantFrom('link', 'link add', 'link add v type vxlan', 'link add g type geneve', 'link set', 'fdb', 'fdb add', 'fdb del', 'neigh add', 'xfrm state add', 'xfrm state del', 'addr add', ''),
        fc.array(word, { maxLength: 24 }),
        (prefix, words) => {
          const argv = [...prefix.split(' ').filter((w) => w !== ''), ...words];
          let command: ParsedCommand;
          try {
            command = parseWords(argv);
          } catch (error) {
            if (!(error instanceof CliError)) throw error;
            expect(error.message).to.be.a('string').and.not.equal('');
            expect([1, 2]).to.include(error.exitCode);
            return;
          }
          const op = command.request.op;
          if (!['up', 'daemon', 'demo', 'help', 'version'].includes(op)) parsed.push(command.request as ControlRequest);
        },
      ),
      { numRuns: 6000 },
    );
    expect(parsed.length).to.be.greaterThan(50);
    for (const item of parsed) {
      const answer = await server.handle({ id: 1, op: item.op, args: item.args });
      expect(answer.ok, `${JSON.stringify(item)} → ${JSON.stringify(answer)}`).to.equal(true);
    }
  });
});
