/**
 * Issue 5, test 5: three `vtepkit` VTEPs on one segment, driven by the real
 * command (`vtepkit daemon` per host, iproute2 words over the control socket),
 * on a shared underlay: a fourth namespace holds a Linux bridge with a veth to
 * each host. A broadcast from one host reaches each of the two others exactly
 * once, with the all-zeros head-end replication list (one unicast copy per
 * remote) and in multicast-group mode (one packet to the group); in group mode
 * learning then makes the unicast replies go point to point.
 *
 * The judge is a packet counter on every interface of each host (an AF_PACKET
 * socket, see cli-host.ts) matching a token that only the test's frames carry,
 * plus the daemons' own counters (`vtepkit -s -j link show`).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../helpers/netns.js';
import { PYTHON } from '../helpers/judges.js';
import { skipWithoutLab } from './host.js';
import { linkStats, ofToken, startDaemon, startSniffer, vtepkitJson, vtepkitOk, type Sightings } from './cli-host.js';

/** A UDP datagram to the segment's broadcast address (the kernel sends it to ff:ff:ff:ff:ff:ff on vxlan100). */
const BROADCAST = 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.setsockopt(socket.SOL_SOCKET,socket.SO_BROADCAST,1); s.sendto(bytes.fromhex(sys.argv[1]),("10.210.0.255",9))';

interface Host {
  ns: string;
  /** The host's underlay veth (its end of the bridge port). */
  veth: string;
  /** Underlay address, 192.0.2.N. */
  underlay: string;
  /** Overlay address on vxlan100, 10.210.0.N. */
  overlay: string;
  socket: string;
}

/** The three hosts and their bridge: a namespace holding br0, a veth from each host to it. */
function buildUnderlay(lab: Lab, dir: string): Host[] {
  const quiet = (ns: string): void => {
    // IPv6 off: no router solicitations, DAD or MLD on the TAPs, so the counters only see the test's frames.
    lab.exec(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1');
    lab.exec(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1');
  };
  const bridge = lab.host('br');
  quiet(bridge);
  // Snooping off: the bridge floods multicast to every port (the group test needs it).
  lab.exec(bridge, 'ip', 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
  lab.exec(bridge, 'ip', 'link', 'set', 'br0', 'up');
  const hosts: Host[] = [];
  for (const n of [1, 2, 3]) {
    const ns = lab.host(`h${n}`);
    quiet(ns);
    const veth = `u${n}h${process.pid % 100000}`;
    const port = `u${n}b${process.pid % 100000}`;
    execFileSync('ip', ['link', 'add', veth, 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', bridge]);
    lab.exec(bridge, 'ip', 'link', 'set', port, 'master', 'br0');
    lab.exec(bridge, 'ip', 'link', 'set', port, 'up');
    lab.exec(ns, 'ip', 'addr', 'add', `192.0.2.${n}/24`, 'dev', veth);
    lab.exec(ns, 'ip', 'link', 'set', veth, 'up');
    // Broadcast pings and the like are answered (not needed by the UDP broadcast, but harmless).
    lab.exec(ns, 'sysctl', '-q', '-w', 'net.ipv4.icmp_echo_ignore_broadcasts=0');
    hosts.push({ ns, veth, underlay: `192.0.2.${n}`, overlay: `10.210.0.${n}`, socket: join(dir, `h${n}.sock`) });
  }
  return hosts;
}

/** Starts a daemon on each host and configures vxlan100 with the words of `link add` plus per-host extras. */
async function configure(lab: Lab, hosts: Host[], linkWords: (h: Host) => string[], extra: (h: Host) => string[][]): Promise<void> {
  await Promise.all(hosts.map((h) => startDaemon(lab, h.ns, h.socket)));
  await Promise.all(
    hosts.map(async (h) => {
      await vtepkitOk(h.ns, h.socket, 'link', 'add', 'vxlan100', 'type', 'vxlan', 'id', '100', 'dstport', '4789', ...linkWords(h));
      for (const words of extra(h)) await vtepkitOk(h.ns, h.socket, ...words);
      await vtepkitOk(h.ns, h.socket, 'link', 'set', 'vxlan100', 'up');
      await vtepkitOk(h.ns, h.socket, 'addr', 'add', `${h.overlay}/24`, 'dev', 'vxlan100');
    }),
  );
}

/** Counts the frames carrying each token on every host while `act` runs (the counters run `seconds`). */
async function watch(lab: Lab, hosts: Host[], tokens: string[], seconds: number, act: () => Promise<void> | void): Promise<Sightings[]> {
  const sniffers = await Promise.all(hosts.map((h) => startSniffer(lab, h.ns, seconds, tokens)));
  await act();
  return Promise.all(sniffers.map((s) => s.counts));
}

const token = (): string => `7674${randomBytes(10).toString('hex')}`;

describe('e2e: three vtepkit daemons, head-end replication through the all-zeros entry (issue 5, test 5)', function () {
  this.timeout(60_000);
  const lab = new Lab('hr');
  let dir = '';
  let hosts: Host[] = [];

  before(async function () {
    skipWithoutLab(this);
    dir = mkdtempSync(join(tmpdir(), 'vtepkit-hr-'));
    hosts = buildUnderlay(lab, dir);
    await configure(
      lab,
      hosts,
      (h) => ['local', h.underlay],
      (h) => hosts.filter((o) => o !== h).map((o) => ['fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan100', 'dst', o.underlay]),
    );
  });

  after(() => {
    lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the all-zeros entry lists both other hosts (fdb show -j)', async () => {
    const rows = await vtepkitJson<{ mac: string; dst?: string; state: string; dev: string }[]>(hosts[0]!.ns, hosts[0]!.socket, 'fdb', 'show', 'dev', 'vxlan100');
    const flood = rows.filter((r) => r.mac === '00:00:00:00:00:00').map((r) => r.dst).sort();
    expect(flood).to.deep.equal(['192.0.2.2', '192.0.2.3']);
  });

  it('a broadcast from host 1 leaves as one unicast copy per remote and reaches hosts 2 and 3 exactly once each', async () => {
    const [h1, h2, h3] = hosts as [Host, Host, Host];
    const before = await Promise.all(hosts.map((h) => linkStats(h.ns, h.socket, 'vxlan100')));
    const t = token();
    const [s1, s2, s3] = await watch(lab, hosts, [t], 2.5, () => {
      lab.exec(h1.ns, PYTHON, '-c', BROADCAST, t);
    });
    const after = await Promise.all(hosts.map((h) => linkStats(h.ns, h.socket, 'vxlan100')));
    // Host 1: the kernel sends the frame once on the TAP; vtepkit sends one VXLAN packet to each remote.
    expect(ofToken(s1!, 0)).to.deep.equal({
      'vxlan100 outgoing': 1,
      [`${h1.veth} outgoing to 192.0.2.2`]: 1,
      [`${h1.veth} outgoing to 192.0.2.3`]: 1,
    });
    // Hosts 2 and 3: one VXLAN packet in, one broadcast frame written to the TAP; nothing sent back.
    expect(ofToken(s2!, 0)).to.deep.equal({ 'vxlan100 broadcast': 1, [`${h2.veth} host to 192.0.2.2`]: 1 });
    expect(ofToken(s3!, 0)).to.deep.equal({ 'vxlan100 broadcast': 1, [`${h3.veth} host to 192.0.2.3`]: 1 });
    // The daemons' counters agree: two packets out of host 1, one in at each other host.
    expect(after[0]!.stats.txPackets - before[0]!.stats.txPackets, 'host 1 tx').to.equal(2);
    expect(after[1]!.stats.rxPackets - before[1]!.stats.rxPackets, 'host 2 rx').to.equal(1);
    expect(after[2]!.stats.rxPackets - before[2]!.stats.rxPackets, 'host 3 rx').to.equal(1);
    for (const a of after) expect(a.stats.drops, a.name).to.deep.equal({});
  });

  it('each host reaches the two others (ping across the segment)', () => {
    for (const from of hosts) {
      for (const to of hosts.filter((h) => h !== from)) {
        const r = lab.try(from.ns, 'ping', '-c', '1', '-W', '2', to.overlay);
        expect(r.status, `${from.overlay} → ${to.overlay}: ${r.stdout}${r.stderr}`).to.equal(0);
      }
    }
  });
});

describe('e2e: three vtepkit daemons in multicast-group mode (group 239.1.1.1 dev …, issue 5, test 5)', function () {
  this.timeout(60_000);
  const lab = new Lab('mc');
  let dir = '';
  let hosts: Host[] = [];

  before(async function () {
    skipWithoutLab(this);
    dir = mkdtempSync(join(tmpdir(), 'vtepkit-mc-'));
    hosts = buildUnderlay(lab, dir);
    for (const h of hosts) lab.exec(h.ns, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', h.veth);
    await configure(lab, hosts, (h) => ['group', '239.1.1.1', 'dev', h.veth, 'local', h.underlay], () => []);
  });

  after(() => {
    lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the group is the all-zeros destination (fdb show -j)', async () => {
    const rows = await vtepkitJson<{ mac: string; dst?: string }[]>(hosts[0]!.ns, hosts[0]!.socket, 'fdb', 'show', 'dev', 'vxlan100');
    expect(rows.filter((r) => r.mac === '00:00:00:00:00:00').map((r) => r.dst)).to.deep.equal(['239.1.1.1']);
  });

  it('a broadcast from host 1 leaves as one packet to the group and reaches hosts 2 and 3 exactly once each', async () => {
    const [h1, h2, h3] = hosts as [Host, Host, Host];
    const before = await Promise.all(hosts.map((h) => linkStats(h.ns, h.socket, 'vxlan100')));
    const t = token();
    const [s1, s2, s3] = await watch(lab, hosts, [t], 2.5, () => {
      lab.exec(h1.ns, PYTHON, '-c', BROADCAST, t);
    });
    const after = await Promise.all(hosts.map((h) => linkStats(h.ns, h.socket, 'vxlan100')));
    expect(ofToken(s1!, 0)).to.deep.equal({ 'vxlan100 outgoing': 1, [`${h1.veth} outgoing to 239.1.1.1`]: 1 });
    expect(ofToken(s2!, 0)).to.deep.equal({ 'vxlan100 broadcast': 1, [`${h2.veth} multicast to 239.1.1.1`]: 1 });
    expect(ofToken(s3!, 0)).to.deep.equal({ 'vxlan100 broadcast': 1, [`${h3.veth} multicast to 239.1.1.1`]: 1 });
    expect(after[0]!.stats.txPackets - before[0]!.stats.txPackets, 'host 1 tx').to.equal(1);
    expect(after[1]!.stats.rxPackets - before[1]!.stats.rxPackets, 'host 2 rx').to.equal(1);
    expect(after[2]!.stats.rxPackets - before[2]!.stats.rxPackets, 'host 3 rx').to.equal(1);
  });

  it('then learning sends unicast point to point: host 1 learns hosts 2 and 3, and host 3 never sees host 1 ↔ host 2', async () => {
    const [h1, h2, h3] = hosts as [Host, Host, Host];
    const to2 = token().slice(0, 32);
    const to3 = token().slice(0, 32);
    const [s1, s2, s3] = await watch(lab, hosts, [to2, to3], 4, () => {
      // ping -p: the pattern fills the payload of the echo request and of its reply.
      for (const [to, pattern] of [[h2, to2], [h3, to3]] as const) {
        const r = lab.try(h1.ns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '-p', pattern, to.overlay);
        expect(r.status, `${h1.overlay} → ${to.overlay}: ${r.stdout}${r.stderr}`).to.equal(0);
      }
    });
    const macs = await Promise.all([h2, h3].map(async (h) => (await linkStats(h.ns, h.socket, 'vxlan100')).address));
    const rows = await vtepkitJson<{ mac: string; dst?: string; state: string }[]>(h1.ns, h1.socket, 'fdb', 'show', 'dev', 'vxlan100');
    expect(rows.find((r) => r.mac === macs[0]), JSON.stringify(rows)).to.include({ dst: '192.0.2.2', state: '' });
    expect(rows.find((r) => r.mac === macs[1]), JSON.stringify(rows)).to.include({ dst: '192.0.2.3', state: '' });
    // Every echo request and reply went unicast, between the two hosts concerned only.
    expect(ofToken(s1!, 0)).to.deep.equal({
      'vxlan100 outgoing': 3, 'vxlan100 host': 3,
      [`${h1.veth} outgoing to 192.0.2.2`]: 3, [`${h1.veth} host to 192.0.2.1`]: 3,
    });
    expect(ofToken(s1!, 1)).to.deep.equal({
      'vxlan100 outgoing': 3, 'vxlan100 host': 3,
      [`${h1.veth} outgoing to 192.0.2.3`]: 3, [`${h1.veth} host to 192.0.2.1`]: 3,
    });
    expect(ofToken(s2!, 0)).to.deep.equal({
      'vxlan100 outgoing': 3, 'vxlan100 host': 3,
      [`${h2.veth} outgoing to 192.0.2.1`]: 3, [`${h2.veth} host to 192.0.2.2`]: 3,
    });
    expect(ofToken(s2!, 1), 'host 2 saw host 1 ↔ host 3').to.deep.equal({});
    expect(ofToken(s3!, 0), 'host 3 saw host 1 ↔ host 2').to.deep.equal({});
    expect(ofToken(s3!, 1)).to.deep.equal({
      'vxlan100 outgoing': 3, 'vxlan100 host': 3,
      [`${h3.veth} outgoing to 192.0.2.1`]: 3, [`${h3.veth} host to 192.0.2.3`]: 3,
    });
  });
});
