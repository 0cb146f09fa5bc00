/**
 * The FDB's `bridge fdb` semantics, one by one, and its datapath methods.
 * Each Linux behaviour cited here was checked against the kernel's vxlan driver
 * (drivers/net/vxlan/vxlan_core.c) and is exercised against a live kernel in
 * kernel-conformance.test.ts.
 */
import { expect } from 'chai';
import {
  DESTINATION_IPV4,
  DESTINATION_IPV6,
  DESTINATION_LOCAL,
  ENTRY_ADDED_BY_USER,
  ENTRY_EXTERN_LEARN,
  ENTRY_PERMANENT,
  LEARN_DISABLED,
  LEARN_DROP_INVALID,
  LEARN_DROP_STATIC,
  LEARN_LEARNT,
  LEARN_LIMIT,
  LEARN_MOVED,
  LEARN_REFRESHED,
  Fdb,
  type FdbEvent,
} from '../../src/fdb/index.js';
import { parseIpv6 } from '../../src/wire/ipv6.js';
import { expectFdbError, ip, mac, manualFdb } from './helpers.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const ZERO = '00:00:00:00:00:00';
const MCAST = '01:00:5e:00:00:01';

describe('fdb: bridge fdb add / append / replace / del / show', () => {
  it('add creates a permanent entry (the `bridge fdb add` default) shown as Linux shows it', () => {
    const { fdb } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2' });
    expect(fdb.show()).to.deep.equal([{ mac: A, dst: '10.0.0.2', src_vni: 100, flags: ['self'], state: 'permanent' }]);
    expect(fdb.showText()).to.equal(`${A} dst 10.0.0.2 src_vni 100 self permanent`);
    expect(fdb.size).to.equal(1);
  });

  it('add fails with EXISTS for an existing entry, same destination or not (Linux EEXIST)', () => {
    const { fdb } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2' });
    expectFdbError(() => fdb.add(100, A, { dst: '10.0.0.2' }), 'EXISTS', 'mac');
    expectFdbError(() => fdb.add(100, A, { dst: '10.0.0.3', state: 'static' }), 'EXISTS');
    // Same MAC in another VNI is another entry.
    fdb.add(101, A, { dst: '10.0.0.3' });
    expect(fdb.show().map((r) => [r.src_vni, r.dst])).to.deep.equal([[100, '10.0.0.2'], [101, '10.0.0.3']]);
  });

  it('add needs a destination (Linux EINVAL without dst)', () => {
    const { fdb } = manualFdb();
    expectFdbError(() => fdb.add(100, A, {}), 'BAD_VALUE', 'dst');
    expectFdbError(() => fdb.add(100, A, { port: 4790 }), 'BAD_VALUE', 'port');
    expect(fdb.size).to.equal(0);
  });

  it('states, flags and destination fields: port, remote vni, via, IPv6, local port', () => {
    const { fdb } = manualFdb();
    fdb.add(100, '02:00:00:00:00:01', { dst: '10.0.0.9', port: 1000, vni: 200, via: 'eth1' });
    fdb.add(100, '02:00:00:00:00:02', { dst: '10.0.0.9', state: 'static' });
    fdb.add(100, '02:00:00:00:00:03', { dst: '10.0.0.9', state: 'dynamic', router: true, externLearn: true });
    fdb.add(100, '02:00:00:00:00:04', { dst: '2001:db8::1' });
    fdb.add(100, '02:00:00:00:00:05', { localPort: 3 });
    // A remote VNI equal to the entry's and the default port are the defaults (not shown, as Linux).
    fdb.add(100, '02:00:00:00:00:06', { dst: '10.0.0.9', vni: 100, port: 4789 });
    expect(fdb.show()).to.deep.equal([
      { mac: '02:00:00:00:00:01', dst: '10.0.0.9', port: 1000, vni: 200, src_vni: 100, viaIf: 'eth1', flags: ['self'], state: 'permanent' },
      { mac: '02:00:00:00:00:02', dst: '10.0.0.9', src_vni: 100, flags: ['self'], state: 'static' },
      { mac: '02:00:00:00:00:03', dst: '10.0.0.9', src_vni: 100, flags: ['self', 'router', 'extern_learn'], state: '' },
      { mac: '02:00:00:00:00:04', dst: '2001:db8::1', src_vni: 100, flags: ['self'], state: 'permanent' },
      { mac: '02:00:00:00:00:05', localPort: 3, src_vni: 100, flags: ['self'], state: 'permanent' },
      { mac: '02:00:00:00:00:06', dst: '10.0.0.9', src_vni: 100, flags: ['self'], state: 'permanent' },
    ]);
    expect(fdb.showText().split('\n')).to.deep.equal([
      '02:00:00:00:00:01 dst 10.0.0.9 port 1000 vni 200 src_vni 100 via eth1 self permanent',
      '02:00:00:00:00:02 dst 10.0.0.9 src_vni 100 self static',
      '02:00:00:00:00:03 dst 10.0.0.9 src_vni 100 self router extern_learn',
      '02:00:00:00:00:04 dst 2001:db8::1 src_vni 100 self permanent',
      '02:00:00:00:00:05 localPort 3 src_vni 100 self permanent',
      '02:00:00:00:00:06 dst 10.0.0.9 src_vni 100 self permanent',
    ]);
    expect(fdb.get(100, '02:00:00:00:00:02')).to.deep.equal([{ mac: '02:00:00:00:00:02', dst: '10.0.0.9', src_vni: 100, flags: ['self'], state: 'static' }]);
    expect(fdb.get(100, '02:00:00:00:00:99')).to.equal(undefined);
  });

  it('append builds the all-zeros BUM list (head-end replication), in order, without duplicates', () => {
    const { fdb } = manualFdb();
    fdb.append(100, ZERO, { dst: '10.0.0.2' });
    fdb.append(100, ZERO, { dst: '10.0.0.3' });
    fdb.append(100, ZERO, { dst: '10.0.0.3' });
    fdb.append(100, ZERO, { dst: '10.0.0.3', port: 4790 });
    fdb.append(100, MCAST, { dst: '10.0.0.5' });
    expect(fdb.show().map((r) => `${r.mac} ${r.dst}${r.port ? `:${r.port}` : ''}`)).to.deep.equal([
      `${ZERO} 10.0.0.2`,
      `${ZERO} 10.0.0.3`,
      `${ZERO} 10.0.0.3:4790`,
      `${MCAST} 10.0.0.5`,
    ]);
    const set = fdb.forward(100, mac('ff:ff:ff:ff:ff:ff'));
    expect(fdb.setSize(set)).to.equal(3);
    expect([0, 1, 2].map((i) => fdb.destinationIpv4(fdb.setMember(set, i)))).to.deep.equal([ip('10.0.0.2'), ip('10.0.0.3'), ip('10.0.0.3')]);
    expect(fdb.destinationPort(fdb.setMember(set, 2))).to.equal(4790);
    // add on the existing all-zeros entry fails as on any entry.
    expectFdbError(() => fdb.add(100, ZERO, { dst: '10.0.0.4' }), 'EXISTS');
  });

  it('append creates an absent unicast entry; on an existing unicast entry another destination is NOT_SUPPORTED (Linux ignores it silently)', () => {
    const { fdb } = manualFdb();
    fdb.append(100, A, { dst: '10.0.0.2' });
    const before = fdb.show();
    expectFdbError(() => fdb.append(100, A, { dst: '10.0.0.3' }), 'NOT_SUPPORTED', 'mac');
    expectFdbError(() => fdb.append(100, A, { dst: '10.0.0.3', state: 'dynamic' }), 'NOT_SUPPORTED');
    expect(fdb.show()).to.deep.equal(before);
    // The same destination is accepted and updates state and flags, as Linux does.
    fdb.append(100, A, { dst: '10.0.0.2', state: 'static', router: true });
    expect(fdb.show()).to.deep.equal([{ mac: A, dst: '10.0.0.2', src_vni: 100, flags: ['self', 'router'], state: 'static' }]);
  });

  it('append stops at maxDestinationsPerEntry with LIMIT', () => {
    const { fdb } = manualFdb({ maxDestinationsPerEntry: 3 });
    for (let i = 1; i <= 3; i++) fdb.append(100, ZERO, { dst: `10.0.0.${i}` });
    expectFdbError(() => fdb.append(100, ZERO, { dst: '10.0.0.4' }), 'LIMIT', 'dst');
    fdb.append(100, ZERO, { dst: '10.0.0.3' }); // already there: fine
    expect(fdb.show()).to.have.length(3);
  });

  it('replace creates or overwrites the destination and the state of a unicast entry', () => {
    const { fdb } = manualFdb();
    fdb.replace(100, A, { dst: '10.0.0.2', state: 'dynamic' });
    expect(fdb.show()).to.deep.equal([{ mac: A, dst: '10.0.0.2', src_vni: 100, flags: ['self'], state: '' }]);
    fdb.replace(100, A, { dst: '10.0.0.9', port: 1000 });
    expect(fdb.show()).to.deep.equal([{ mac: A, dst: '10.0.0.9', port: 1000, src_vni: 100, flags: ['self'], state: 'permanent' }]);
    fdb.replace(100, A, { localPort: 1 });
    expect(fdb.show()).to.deep.equal([{ mac: A, localPort: 1, src_vni: 100, flags: ['self'], state: 'permanent' }]);
  });

  it('replace of the all-zeros or a multicast MAC is NOT_SUPPORTED, existing or not (Linux EOPNOTSUPP)', () => {
    const { fdb } = manualFdb();
    expectFdbError(() => fdb.replace(100, ZERO, { dst: '10.0.0.2' }), 'NOT_SUPPORTED');
    expectFdbError(() => fdb.replace(100, '33:33:00:00:00:01', { dst: '10.0.0.2' }), 'NOT_SUPPORTED');
    fdb.append(100, ZERO, { dst: '10.0.0.2' });
    expectFdbError(() => fdb.replace(100, ZERO, { dst: '10.0.0.3' }), 'NOT_SUPPORTED');
    expectFdbError(() => fdb.replace(100, 'ff:ff:ff:ff:ff:ff', { dst: '10.0.0.3' }), 'NOT_SUPPORTED');
    expect(fdb.show()).to.have.length(1);
  });

  it('an extern_learn request does not take over an entry added by the user (state and flags kept)', () => {
    const { fdb } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2', state: 'static' });
    fdb.replace(100, A, { dst: '10.0.0.3', state: 'dynamic', externLearn: true });
    // The destination changes; state and flags do not (Linux vxlan_fdb_update_existing).
    expect(fdb.show()).to.deep.equal([{ mac: A, dst: '10.0.0.3', src_vni: 100, flags: ['self'], state: 'static' }]);
    // A learnt entry is not "added by the user": extern_learn takes it over.
    fdb.learnIpv4(100, mac(B), ip('10.0.0.7'));
    expect(fdb.entryFlags(100, mac(B)) & ENTRY_ADDED_BY_USER).to.equal(0);
    fdb.replace(100, B, { dst: '10.0.0.7', externLearn: true, state: 'dynamic' });
    expect(fdb.entryFlags(100, mac(B)) & ENTRY_EXTERN_LEARN).to.equal(ENTRY_EXTERN_LEARN);
  });

  it('del removes the entry, or one destination; the last destination takes the entry with it', () => {
    const { fdb } = manualFdb();
    for (const dst of ['10.0.0.2', '10.0.0.3', '10.0.0.4']) fdb.append(100, ZERO, { dst });
    fdb.add(100, A, { dst: '10.0.0.2' });
    expect(fdb.del(100, ZERO, { dst: '10.0.0.3' })).to.equal(true);
    expect(fdb.show({ mac: ZERO }).map((r) => r.dst)).to.deep.equal(['10.0.0.2', '10.0.0.4']);
    expect(fdb.del(100, ZERO, { dst: '10.0.0.2' })).to.equal(true);
    expect(fdb.del(100, ZERO, { dst: '10.0.0.4' })).to.equal(true);
    expect(fdb.show({ mac: ZERO })).to.deep.equal([]);
    expect(fdb.del(100, A)).to.equal(true);
    expect(fdb.size).to.equal(0);
  });

  it('del of a missing entry is NOT_FOUND (Linux ENOENT); of a destination the entry lacks, false and no change (Linux: success)', () => {
    const { fdb } = manualFdb();
    expectFdbError(() => fdb.del(100, A), 'NOT_FOUND', 'mac');
    fdb.add(100, A, { dst: '10.0.0.10' });
    // The destination must match exactly: address, port, remote VNI and interface (Linux vxlan_fdb_find_rdst).
    expect(fdb.del(100, A, { dst: '10.0.0.11' })).to.equal(false);
    expect(fdb.del(100, A, { dst: '10.0.0.10', port: 4790 })).to.equal(false);
    expect(fdb.del(100, A, { dst: '10.0.0.10', vni: 101 })).to.equal(false);
    expect(fdb.del(100, A, { dst: '10.0.0.10', via: 'eth0' })).to.equal(false);
    expect(fdb.size).to.equal(1);
    expect(fdb.del(100, A, { dst: '10.0.0.10', vni: 100, port: 4789 })).to.equal(true);
    expect(fdb.size).to.equal(0);
  });

  it('show filters by VNI, MAC and state, sorts by VNI then MAC, and gives timers with stats', () => {
    const { fdb, clock } = manualFdb();
    fdb.add(200, B, { dst: '10.0.0.2' });
    fdb.add(100, B, { dst: '10.0.0.2', state: 'static' });
    fdb.add(100, A, { dst: '10.0.0.2', state: 'dynamic' });
    expect(fdb.show().map((r) => `${r.src_vni} ${r.mac}`)).to.deep.equal([`100 ${A}`, `100 ${B}`, `200 ${B}`]);
    expect(fdb.show({ vni: 200 })).to.have.length(1);
    expect(fdb.show({ mac: B })).to.have.length(2);
    expect(fdb.show({ mac: mac(B), vni: 100 })).to.have.length(1);
    expect(fdb.show({ state: 'dynamic' }).map((r) => r.mac)).to.deep.equal([A]);
    expect(fdb.show({ state: 'static' }).map((r) => r.mac)).to.deep.equal([B]);
    clock.advance(30);
    fdb.advanceClock();
    fdb.lookup(100, mac(A));
    clock.advance(12);
    fdb.advanceClock();
    expect(fdb.show({ stats: true, vni: 100, mac: A })).to.deep.equal([{ mac: A, dst: '10.0.0.2', src_vni: 100, used: 12, updated: 42, flags: ['self'], state: '' }]);
    expect(fdb.showText({ stats: true, vni: 100, mac: A })).to.equal(`${A} dst 10.0.0.2 src_vni 100 used 12/42 self`);
  });

  it('flush removes all entries, one VNI, or only dynamic ones', () => {
    const { fdb } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2' });
    fdb.add(100, B, { dst: '10.0.0.2', state: 'dynamic' });
    fdb.add(200, A, { dst: '10.0.0.2', state: 'dynamic' });
    expect(fdb.flush({ dynamic: true, vni: 100 })).to.equal(1);
    expect(fdb.flush({ vni: 200 })).to.equal(1);
    expect(fdb.flush()).to.equal(1);
    expect(fdb.size).to.equal(0);
    expect(fdb.snapshot()).to.include({ destinations: 0, destinationSets: 0 });
  });

  it('destinations and sets are shared and reference-counted: nothing leaks after deletes', () => {
    const { fdb } = manualFdb();
    for (let i = 1; i <= 50; i++) fdb.add(100, 0x020000000000 + i, { dst: `10.0.0.${i % 5}` === '10.0.0.0' ? '10.0.0.5' : `10.0.0.${i % 5}` });
    for (const dst of ['10.0.0.1', '10.0.0.2']) fdb.append(100, ZERO, { dst });
    expect(fdb.snapshot()).to.include({ entries: 51, destinations: 5, destinationSets: 6 });
    fdb.flush();
    expect(fdb.snapshot()).to.include({ entries: 0, destinations: 0, destinationSets: 0 });
  });

  it('limits: total and per VNI; add throws LIMIT naming the limit, learning stops and is counted', () => {
    const { fdb } = manualFdb({ maxEntries: 3 });
    fdb.setVni(100, { maxEntries: 2 });
    fdb.add(100, '02:00:00:00:00:01', { dst: '10.0.0.2' });
    fdb.add(100, '02:00:00:00:00:02', { dst: '10.0.0.2' });
    expect(expectFdbError(() => fdb.add(100, '02:00:00:00:00:03', { dst: '10.0.0.2' }), 'LIMIT').message).to.match(/VNI 100 holds at most 2/);
    expect(fdb.learnIpv4(100, mac('02:00:00:00:00:03'), ip('10.0.0.2'))).to.equal(LEARN_LIMIT);
    fdb.add(200, '02:00:00:00:00:01', { dst: '10.0.0.2' });
    expect(expectFdbError(() => fdb.append(200, ZERO, { dst: '10.0.0.2' }), 'LIMIT').message).to.match(/maxEntries/);
    expect(fdb.learnIpv4(300, mac('02:00:00:00:00:09'), ip('10.0.0.2'))).to.equal(LEARN_LIMIT);
    expect(fdb.stats.learnLimited).to.equal(2);
    expect(fdb.size).to.equal(3);
    // Existing entries still refresh at the limit.
    expect(fdb.learnIpv4(100, mac('02:00:00:00:00:01'), ip('10.0.0.2'))).to.equal(LEARN_REFRESHED);
    const vnis = manualFdb({ maxVnis: 1 }).fdb;
    vnis.add(1, A, { dst: '10.0.0.2' });
    expectFdbError(() => vnis.add(2, A, { dst: '10.0.0.2' }), 'LIMIT', 'vni');
    expect(vnis.learnIpv4(2, mac(A), ip('10.0.0.2'))).to.equal(LEARN_LIMIT);
  });

  it('per-VNI settings: setVni / getVni', () => {
    const { fdb } = manualFdb({ ageing: 100, proxy: true });
    expect(fdb.getVni(7)).to.deep.equal({ vni: 7, ageing: 100, learning: true, proxy: true, maxEntries: 0, maxNeighbours: 0, entries: 0, neighbours: 0 });
    fdb.setVni(7, { ageing: 0, learning: false, maxEntries: 9 });
    fdb.add(7, A, { dst: '10.0.0.1' });
    expect(fdb.getVni(7)).to.deep.equal({ vni: 7, ageing: 0, learning: false, proxy: true, maxEntries: 9, maxNeighbours: 0, entries: 1, neighbours: 0 });
  });
});

describe('fdb: datapath (numbers in, numbers out)', () => {
  it('lookup: the entry\'s destination set or -1; marks it used', () => {
    const { fdb, clock } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2' });
    const set = fdb.lookup(100, mac(A));
    expect(set).to.be.at.least(0);
    expect(fdb.setSize(set)).to.equal(1);
    const d = fdb.setMember(set, 0);
    expect(fdb.destinationKind(d)).to.equal(DESTINATION_IPV4);
    expect(fdb.destinationIpv4(d)).to.equal(ip('10.0.0.2'));
    expect(fdb.destinationPort(d)).to.equal(4789);
    expect(fdb.destinationVni(d, 100)).to.equal(100);
    expect(fdb.lookup(100, mac(B))).to.equal(-1);
    expect(fdb.lookup(101, mac(A))).to.equal(-1);
    clock.advance(5);
    fdb.advanceClock();
    fdb.lookup(100, mac(A));
    expect(fdb.get(100, A, { stats: true })![0]).to.include({ used: 0, updated: 5 });
  });

  it('lookup of garbage (NaN, negative, beyond 48 bits, fractional VNI) is a miss, never an exception', () => {
    const { fdb } = manualFdb();
    fdb.add(0, ZERO, { dst: '10.0.0.2' });
    for (const [vni, m] of [[0, Number.NaN], [0, -1], [0, 2 ** 60], [0.5, 0], [-1, 0], [2 ** 40, 0], [Number.NaN, Number.NaN]] as const) {
      expect(fdb.lookup(vni, m), `${vni} ${m}`).to.equal(-1);
      expect(fdb.forward(vni, m), `${vni} ${m}`).to.be.oneOf([-1, fdb.peek(0, 0)]);
    }
    expect(fdb.lookupAt(0, new Uint8Array(5), 0)).to.equal(-1);
    expect(fdb.lookupAt(0, new Uint8Array(6), 1)).to.equal(-1);
    expect(fdb.lookupAt(0, new Uint8Array(6), -1)).to.equal(-1);
    expect(fdb.forwardAt(0, new Uint8Array(6), 2)).to.equal(-1);
  });

  it('the *At variants read the MAC (and the outer address) from packet bytes, with the same results', () => {
    const { fdb } = manualFdb();
    // An outer IPv4 header (source at offset 12) and an inner Ethernet frame (destination at 0, source at 6).
    const outer = new Uint8Array(20);
    outer.set([198, 51, 100, 7], 12);
    const frame = new Uint8Array(14);
    frame.set([0x02, 0, 0, 0, 0, 0x0b], 0);
    frame.set([0x02, 0, 0, 0, 0, 0x0a], 6);
    expect(fdb.learnIpv4At(100, frame, 6, outer, 12)).to.equal(LEARN_LEARNT);
    expect(fdb.learnIpv4(100, mac(A), ip('198.51.100.7'))).to.equal(LEARN_REFRESHED);
    expect(fdb.learnIpv4At(100, frame, 6, outer, 17)).to.equal(LEARN_DROP_INVALID);
    expect(fdb.learnIpv4At(100, frame, 9, outer, 12)).to.equal(LEARN_DROP_INVALID);
    const set = fdb.lookupAt(100, frame, 6);
    expect(set).to.equal(fdb.lookup(100, mac(A)));
    expect(fdb.lookupAt(100, frame, 0)).to.equal(-1);
    expect(fdb.forwardAt(100, frame, 6)).to.equal(set);
    const written = new Uint8Array(6);
    fdb.writeDestinationIpv4(fdb.setMember(set, 0), written, 1);
    expect(Array.from(written)).to.deep.equal([0, 198, 51, 100, 7, 0]);
    const outer6 = new Uint8Array(40);
    outer6.set(parseIpv6('2001:db8::7'), 8);
    expect(fdb.learnIpv6At(100, frame, 0, outer6, 8)).to.equal(LEARN_LEARNT);
    expect(fdb.learnIpv6At(100, frame, 0, outer6, 8)).to.equal(LEARN_REFRESHED);
    expect(fdb.learnIpv6At(100, frame, 10, outer6, 8)).to.equal(LEARN_DROP_INVALID);
    expect(fdb.learnIpv6At(100, frame, 0, outer6, 30)).to.equal(LEARN_DROP_INVALID);
    expect(fdb.show({ mac: B })[0]).to.include({ dst: '2001:db8::7' });
    // A multicast source read from bytes is refused as well.
    frame[6] = 0x01;
    expect(fdb.learnIpv4At(100, frame, 6, outer, 12)).to.equal(LEARN_DROP_INVALID);
  });

  it('forward: entry, else the all-zeros entry (flood), else -1; an unknown unicast without all-zeros is an L2 miss', () => {
    const { fdb } = manualFdb();
    const misses: FdbEvent[] = [];
    fdb.on('miss', (e) => misses.push(e));
    fdb.add(100, A, { dst: '10.0.0.2' });
    expect(fdb.forward(100, mac(A))).to.equal(fdb.lookup(100, mac(A)));
    expect(fdb.forward(100, mac(B))).to.equal(-1);
    expect(fdb.forward(100, mac(MCAST))).to.equal(-1);
    expect(fdb.stats).to.include({ misses: 1, noDestination: 2 });
    fdb.flushEvents();
    expect(misses).to.deep.equal([{ type: 'miss', vni: 100, mac: B, macNumber: mac(B) }]);
    fdb.append(100, ZERO, { dst: '10.0.0.3' });
    const bum = fdb.lookup(100, 0);
    expect(fdb.forward(100, mac(B))).to.equal(bum);
    expect(fdb.forward(100, mac(MCAST))).to.equal(bum);
    expect(fdb.stats.misses).to.equal(1);
    // A multicast entry of its own wins over the all-zeros entry.
    fdb.append(100, MCAST, { dst: '10.0.0.9' });
    expect(fdb.destinationIpv4(fdb.setMember(fdb.forward(100, mac(MCAST)), 0))).to.equal(ip('10.0.0.9'));
  });

  it('lookupBatch / forwardBatch give what lookup / forward give, key by key', () => {
    const { fdb } = manualFdb();
    for (let i = 0; i < 3000; i++) fdb.learnIpv4(1 + (i % 3), 0x020000000000 + i * 101, ip('10.0.0.1') + (i % 7));
    fdb.append(2, ZERO, { dst: '10.0.0.99' });
    const n = 500;
    const vnis = new Int32Array(n);
    const macs = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = (k * 7919) % 4000; // some beyond the 3000 learnt: misses
      vnis[k] = 1 + (i % 3);
      macs[k] = k % 50 === 0 ? Number.NaN : 0x020000000000 + i * 101;
    }
    const out = new Int32Array(n);
    const hits = fdb.lookupBatch(vnis, macs, n, out);
    let expectedHits = 0;
    for (let k = 0; k < n; k++) {
      expect(out[k], `key ${k}`).to.equal(fdb.lookup(vnis[k]!, macs[k]!));
      if (out[k]! >= 0) expectedHits++;
    }
    expect(hits).to.equal(expectedHits);
    expect(hits).to.be.within(1, n - 1);
    const missesBefore = fdb.stats.misses;
    const found = fdb.forwardBatch(vnis, macs, n, out);
    let expectedFound = 0;
    for (let k = 0; k < n; k++) {
      expect(out[k], `key ${k}`).to.equal(fdb.forward(vnis[k]!, macs[k]!));
      if (out[k]! >= 0) expectedFound++;
    }
    expect(found).to.equal(expectedFound);
    expect(fdb.stats.misses - missesBefore).to.be.above(0);
    // count is clamped to the arrays given.
    expect(fdb.lookupBatch(vnis, macs, n + 100, new Int32Array(10))).to.be.at.most(10);
    expect(fdb.lookupBatch(vnis, macs, -5, out)).to.equal(0);
  });

  it('learnIpv4: learns a dynamic entry on the table port, refreshes it, moves it', () => {
    const { fdb, clock } = manualFdb({ port: 8472 });
    const events: FdbEvent[] = [];
    fdb.on('learnt', (e) => events.push(e)).on('moved', (e) => events.push(e));
    expect(fdb.learnIpv4(100, mac(A), ip('10.0.0.2'))).to.equal(LEARN_LEARNT);
    expect(fdb.show()).to.deep.equal([{ mac: A, dst: '10.0.0.2', src_vni: 100, flags: ['self'], state: '' }]);
    expect(fdb.destinationPort(fdb.setMember(fdb.lookup(100, mac(A)), 0))).to.equal(8472);
    clock.advance(10);
    fdb.advanceClock();
    expect(fdb.learnIpv4(100, mac(A), ip('10.0.0.2'))).to.equal(LEARN_REFRESHED);
    expect(fdb.get(100, A, { stats: true })![0]!.updated).to.equal(0);
    expect(fdb.learnIpv4(100, mac(A), ip('10.0.0.3'))).to.equal(LEARN_MOVED);
    expect(fdb.show()[0]).to.include({ dst: '10.0.0.3' });
    expect(fdb.stats).to.include({ learnt: 1, moved: 1 });
    fdb.flushEvents();
    expect(events).to.deep.equal([
      { type: 'learnt', vni: 100, mac: A, macNumber: mac(A), to: { dst: '10.0.0.2', port: 8472 } },
      { type: 'moved', vni: 100, mac: A, macNumber: mac(A), to: { dst: '10.0.0.3', port: 8472 }, from: { dst: '10.0.0.2', port: 8472 } },
    ]);
    expect(fdb.snapshot()).to.include({ destinations: 1, destinationSets: 1 });
  });

  it('learning compares the address only, as Linux: an entry with another port or VNI on the same address is refreshed', () => {
    const { fdb } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2', port: 9999, vni: 5, state: 'dynamic' });
    expect(fdb.learnIpv4(100, mac(A), ip('10.0.0.2'))).to.equal(LEARN_REFRESHED);
    expect(fdb.show()[0]).to.include({ port: 9999, vni: 5 });
  });

  it('a static or permanent entry refuses the move: the frame is dropped and counted (Linux vxlan_snoop)', () => {
    const { fdb, clock } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2', state: 'static' });
    fdb.add(100, B, { dst: '10.0.0.2' });
    clock.advance(50);
    fdb.advanceClock();
    expect(fdb.learnIpv4(100, mac(A), ip('10.0.0.9'))).to.equal(LEARN_DROP_STATIC);
    expect(fdb.learnIpv4(100, mac(B), ip('10.0.0.9'))).to.equal(LEARN_DROP_STATIC);
    expect(fdb.stats.movesRefused).to.equal(2);
    expect(fdb.show().map((r) => r.dst)).to.deep.equal(['10.0.0.2', '10.0.0.2']);
    // Linux refreshes `updated` even so.
    expect(fdb.show({ stats: true }).map((r) => r.updated)).to.deep.equal([0, 0]);
    expect(fdb.learnIpv4(100, mac(A), ip('10.0.0.2'))).to.equal(LEARN_REFRESHED);
  });

  it('an extern_learn (dynamic) entry does move, as Linux', () => {
    const { fdb } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2', externLearn: true, state: 'dynamic' });
    expect(fdb.learnIpv4(100, mac(A), ip('10.0.0.3'))).to.equal(LEARN_MOVED);
  });

  it('invalid sources are dropped, not learnt: multicast, broadcast, all-zeros MAC, VNI out of range', () => {
    const { fdb } = manualFdb();
    for (const [vni, m] of [[100, mac(MCAST)], [100, mac('ff:ff:ff:ff:ff:ff')], [100, 0], [1 << 24, mac(A)], [-1, mac(A)], [100, 2 ** 48], [100, Number.NaN], [1.5, mac(A)], [100, -1], [100, -(2 ** 40)]] as const) {
      expect(fdb.learnIpv4(vni, m, ip('10.0.0.2')), `${vni} ${m}`).to.equal(LEARN_DROP_INVALID);
    }
    expect(fdb.stats.invalidSource).to.equal(10);
    expect(fdb.size).to.equal(0);
  });

  it('nolearning per VNI: nothing learnt, nothing dropped', () => {
    const { fdb } = manualFdb();
    fdb.setVni(100, { learning: false });
    expect(fdb.learnIpv4(100, mac(A), ip('10.0.0.2'))).to.equal(LEARN_DISABLED);
    expect(fdb.learnIpv4(101, mac(A), ip('10.0.0.2'))).to.equal(LEARN_LEARNT);
    const off = manualFdb({ learning: false }).fdb;
    expect(off.learnIpv4(100, mac(A), ip('10.0.0.2'))).to.equal(LEARN_DISABLED);
    // Invalid sources are still dropped with learning off (Linux checks them first).
    expect(off.learnIpv4(100, 0, ip('10.0.0.2'))).to.equal(LEARN_DROP_INVALID);
  });

  it('learnIpv6, learnLocal and learn against a pinned destination (address + port)', () => {
    const { fdb } = manualFdb();
    const packet = new Uint8Array(40);
    packet.set(parseIpv6('2001:db8::7'), 8);
    expect(fdb.learnIpv6(100, mac(A), packet, 8)).to.equal(LEARN_LEARNT);
    expect(fdb.learnIpv6(100, mac(A), packet, 8)).to.equal(LEARN_REFRESHED);
    expect(fdb.learnIpv6(100, mac(A), packet, 30)).to.equal(LEARN_DROP_INVALID);
    const d = fdb.setMember(fdb.lookup(100, mac(A)), 0);
    expect(fdb.destinationKind(d)).to.equal(DESTINATION_IPV6);
    const copy = new Uint8Array(16);
    fdb.copyDestinationIpv6(d, copy, 0);
    expect(Array.from(copy)).to.deep.equal(Array.from(parseIpv6('2001:db8::7')));
    expect(fdb.learnLocal(100, mac(B), 2)).to.equal(LEARN_LEARNT);
    expect(fdb.show({ mac: B })).to.deep.equal([{ mac: B, localPort: 2, src_vni: 100, flags: ['self'], state: '' }]);
    expect(fdb.destinationKind(fdb.setMember(fdb.lookup(100, mac(B)), 0))).to.equal(DESTINATION_LOCAL);
    const nat = fdb.pinDestination({ dst: '198.51.100.7', port: 40000 });
    expect(fdb.learn(100, mac('02:00:00:00:00:0c'), nat)).to.equal(LEARN_LEARNT);
    expect(fdb.show({ mac: '02:00:00:00:00:0c' })[0]).to.include({ dst: '198.51.100.7', port: 40000 });
    expect(fdb.learn(100, mac('02:00:00:00:00:0d'), 12345)).to.equal(LEARN_DROP_INVALID);
    const frame = Uint8Array.of(0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0x0e);
    expect(fdb.learnAt(100, frame, 6, nat)).to.equal(LEARN_LEARNT);
    expect(fdb.learnAt(100, frame, 6, nat)).to.equal(LEARN_REFRESHED);
    expect(fdb.learnAt(100, frame, 7, nat)).to.equal(LEARN_DROP_INVALID);
    expect(fdb.learnAt(100, frame, 6, -1)).to.equal(LEARN_DROP_INVALID);
    expect(fdb.show({ mac: '02:00:00:00:00:0e' })[0]).to.include({ dst: '198.51.100.7', port: 40000 });
    fdb.unpinDestination(nat);
    expectFdbError(() => fdb.unpinDestination(nat + 1000), 'BAD_VALUE');
    // Still referenced by the entry after unpinning.
    expect(fdb.show({ mac: '02:00:00:00:00:0c' })[0]).to.include({ port: 40000 });
  });

  it('the table grows past its initial size and keeps every entry (and the datapath sees them)', () => {
    const { fdb } = manualFdb();
    const n = 20_000;
    for (let i = 0; i < n; i++) expect(fdb.learnIpv4(i & 7, 0x020000000000 + i * 13, ip('10.0.0.1') + (i % 300))).to.equal(LEARN_LEARNT);
    expect(fdb.size).to.equal(n);
    expect(fdb.capacity).to.be.at.least(Math.ceil((n * 4) / 3));
    for (let i = 0; i < n; i++) {
      const set = fdb.lookup(i & 7, 0x020000000000 + i * 13);
      expect(fdb.destinationIpv4(fdb.setMember(set, 0))).to.equal(ip('10.0.0.1') + (i % 300));
    }
    // Delete every other entry (backward-shift deletion) and check the rest are all still found.
    for (let i = 0; i < n; i += 2) fdb.del(i & 7, 0x020000000000 + i * 13);
    for (let i = 0; i < n; i++) expect(fdb.lookup(i & 7, 0x020000000000 + i * 13) >= 0).to.equal(i % 2 === 1);
    expect(fdb.snapshot().destinations).to.equal(150); // odd i: i % 300 is odd
  });

  it('reserve() sizes the table up front', () => {
    const fdb = new Fdb({ timer: false, capacity: 100_000 });
    expect(fdb.capacity).to.equal(1 << 18);
    fdb.reserve(300_000);
    expect(fdb.capacity).to.equal(1 << 19);
    expect(fdb.snapshot().slots).to.equal(1 << 19);
    fdb.close();
  });

  it('ENTRY_* flags via entryFlags; peek does not mark used', () => {
    const { fdb, clock } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2' });
    expect(fdb.entryFlags(100, mac(A)) & ENTRY_PERMANENT).to.equal(ENTRY_PERMANENT);
    expect(fdb.entryFlags(100, mac(B))).to.equal(0);
    clock.advance(9);
    fdb.advanceClock();
    expect(fdb.peek(100, mac(A))).to.equal(fdb.peek(100, mac(A)));
    expect(fdb.get(100, A, { stats: true })![0]!.used).to.equal(9);
  });
});
