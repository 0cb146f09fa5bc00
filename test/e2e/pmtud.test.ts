/**
 * Path MTU discovery through the overlay, judged by the kernel: TAP devices with
 * MTU 1500 over a 1500-byte underlay (the tunnel carries 1450), `pmtud` on. A
 * ping with DF that does not fit is answered with ICMP "fragmentation needed" /
 * ICMPv6 "packet too big", the sender's kernel records the path MTU, and pings
 * that fit it cross.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { Lab } from '../helpers/netns.js';
import { ask, skipWithoutLab, startVtep } from './host.js';

describe('e2e: pmtud, ICMP too-big answers accepted by the sender\'s kernel', function () {
  this.timeout(60_000);
  const lab = new Lab('mtu');
  let left = '';
  let right = '';
  let leftVtep: ChildProcess;

  before(async function () {
    skipWithoutLab(this);
    left = lab.host('left');
    right = lab.host('right');
    lab.link(left, '198.51.100.1/24', right, '198.51.100.2/24');
    const side = (local: string, remote: string, address: string): unknown => ({
      version: 1,
      links: [{ name: 'vxlan100', type: 'vxlan', vni: 100, local, remote, mtu: 1500, pmtud: true }],
      up: ['vxlan100'],
      addresses: [{ dev: 'vxlan100', address }],
    });
    leftVtep = await startVtep(lab, left, side('198.51.100.1', '198.51.100.2', '10.200.0.1/24'));
    await startVtep(lab, right, side('198.51.100.2', '198.51.100.1', '10.200.0.2/24'));
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
