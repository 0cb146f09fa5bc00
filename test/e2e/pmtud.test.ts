/**
 * The tunnel's outer side, judged by the kernel and tshark. Path MTU discovery
 * through the overlay: TAP devices with MTU 1500 over a 1500-byte underlay (the
 * tunnel carries 1450), `pmtud` on. A
 * ping with DF that does not fit is answered with ICMP "fragmentation needed" /
 * ICMPv6 "packet too big", the sender's kernel records the path MTU, and pings
 * that fit it cross. And the outer TOS byte and `noudpcsum` as tshark sees them.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBatchUdpAvailable } from '../../src/io/udp-batch.js';
import { tsharkMissing } from '../helpers/judges.js';
import { Lab } from '../helpers/netns.js';
import { ask, captureWhile, skipWithoutLab, startVtepPair } from './host.js';

describe('e2e: pmtud, ICMP too-big answers accepted by the sender\'s kernel', function () {
  this.timeout(60_000);
  const lab = new Lab('mtu');
  let left = '';
  let right = '';
  let leftVtep: ChildProcess;

  before(async function () {
    skipWithoutLab(this);
    ({ left, right, leftVtep } = await startVtepPair(
      lab,
      { name: 'vxlan100', type: 'vxlan', vni: 100, mtu: 1500, pmtud: true },
      ['198.51.100.1/24', '198.51.100.2/24'],
      ['10.200.0.1/24', '10.200.0.2/24'],
    ));
    lab.exec(left, 'ip', 'addr', 'add', 'fd00:200::1/64', 'dev', 'vxlan100', 'nodad');
    lab.exec(right, 'ip', 'addr', 'add', 'fd00:200::2/64', 'dev', 'vxlan100', 'nodad');
  });

  after(() => lab.cleanup());

  it('IPv4: a 1500-byte DF ping gets "Frag needed (mtu = 1450)", the route caches mtu 1450, a 1450-byte ping crosses', async () => {
    const big = lab.try(left, 'ping', '-c', '1', '-W', '2', '-M', 'do', '-s', '1472', '10.200.0.2');
    expect(big.status).to.not.equal(0);
    expect(big.stdout + big.stderr).to.match(/Frag needed and DF set \(mtu = 1450\)|message too long, mtu=1450/);
    const route = lab.exec(left, 'ip', 'route', 'get', '10.200.0.2');
    expect(route).to.match(/mtu 1450/);
    const fits = lab.try(left, 'ping', '-c', '2', '-i', '0.2', '-W', '2', '-M', 'do', '-s', '1422', '10.200.0.2');
    expect(fits.status, fits.stdout + fits.stderr).to.equal(0);
    const links = await ask<{ stats: { drops: Record<string, number> } }[]>(leftVtep, 'links');
    expect(links[0]!.stats.drops['too-big-answered']).to.be.at.least(1);
  });

  it('IPv6: "packet too big" sets the path MTU to 1450, a 1450-byte ping crosses', () => {
    lab.try(left, 'ping', '-6', '-c', '1', '-W', '2', '-s', '1452', 'fd00:200::2');
    const route = lab.exec(left, 'ip', '-6', 'route', 'get', 'fd00:200::2');
    expect(route).to.match(/mtu 1450/);
    const fits = lab.try(left, 'ping', '-6', '-c', '2', '-i', '0.2', '-W', '2', '-M', 'do', '-s', '1402', 'fd00:200::2');
    expect(fits.status, fits.stdout + fits.stderr).to.equal(0);
  });
});

describe('e2e: the outer TOS byte and noudpcsum, as tshark sees them on the underlay', function () {
  this.timeout(60_000);
  const lab = new Lab('tos');
  let dir = '';
  let left = '';
  let veth = '';

  before(async function () {
    skipWithoutLab(this);
    if (tsharkMissing() || !isBatchUdpAvailable()) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'vtepkit-tos-'));
    // Left: TOS 0xb8 (DSCP EF) and no UDP checksum; right: the defaults (TOS 0, checksums on).
    ({ left, veth: [veth] } = await startVtepPair(
      lab,
      { name: 'vxlan100', type: 'vxlan', vni: 100 },
      ['203.0.113.1/24', '203.0.113.2/24'],
      ['10.202.0.1/24', '10.202.0.2/24'],
      [{ tos: 0xb8, udpChecksum: false }, {}],
    ));
  });

  after(() => {
    lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('left sends DSCP EF with UDP checksum 0; right sends TOS 0 with a correct checksum', async () => {
    const file = join(dir, 'underlay.pcap');
    await captureWhile(lab, left, veth, 'udp port 4789', 6, file, () => {
      const r = lab.try(left, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.202.0.2');
      expect(r.status, r.stdout + r.stderr).to.equal(0);
    });
    const fields = spawnSync('tshark', ['-r', file, '-o', 'udp.check_checksum:TRUE', '-E', 'occurrence=f', '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dsfield', '-e', 'udp.checksum', '-e', 'udp.checksum.status'], { encoding: 'utf8' });
    const rows = fields.stdout.trim().split('\n').map((line) => line.split('\t'));
    expect(rows.length).to.be.at.least(6);
    for (const [source, dsfield, checksum, status] of rows) {
      if (source === '203.0.113.1') expect([dsfield, checksum], rows.join(' | ')).to.deep.equal(['0xb8', '0x0000']);
      else {
        // Present (veth's checksum offload leaves it unfinished in a capture, so tshark cannot call it good).
        expect(dsfield, rows.join(' | ')).to.equal('0x00');
        expect(checksum).to.not.equal('0x0000');
        expect(status).to.not.equal('3');
      }
    }
    expect(rows.some(([source]) => source === '203.0.113.1')).to.equal(true);
    expect(rows.some(([source]) => source === '203.0.113.2')).to.equal(true);
  });
});
