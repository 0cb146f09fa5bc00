/**
 * Interop with the Linux kernel's vxlan driver: one host runs the kernel device
 * made exactly as in the seeds, the other runs vtepkit over a TAP; ICMP flows
 * both ways across the overlay, each side learns the other.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { Lab } from '../helpers/netns.js';
import { ask, skipWithoutLab, startVtep } from './host.js';

for (const kernelLearning of [false, true]) {
  describe(`e2e: kernel vxlan (${kernelLearning ? 'learning' : 'nolearning, as the seeds'}) <-> vtepkit over TAP`, function () {
    this.timeout(60_000);
    const lab = new Lab(kernelLearning ? 'kl' : 'kn');
    let kernel = '';
    let user = '';
    let host: ChildProcess;

    before(async function () {
      skipWithoutLab(this);
      kernel = lab.host('kernel');
      user = lab.host('user');
      lab.link(kernel, '192.0.2.1/24', user, '192.0.2.2/24');
      // Seed 000: ip link add vxlan100 type vxlan id 100 dstport 4789 local … dev eth0 nolearning
      lab.exec(kernel, 'ip', 'link', 'add', 'vxlan100', 'type', 'vxlan', 'id', '100', 'dstport', '4789', 'local', '192.0.2.1', ...(kernelLearning ? [] : ['nolearning']));
      lab.exec(kernel, 'bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan100', 'dst', '192.0.2.2');
      lab.exec(kernel, 'ip', 'addr', 'add', '10.200.0.1/24', 'dev', 'vxlan100');
      lab.exec(kernel, 'ip', 'link', 'set', 'vxlan100', 'up');
      const document = {
        version: 1,
        links: [{ name: 'vxlan100', type: 'vxlan', vni: 100, dstport: 4789, local: '192.0.2.2', remote: '192.0.2.1' }],
        up: ['vxlan100'],
        addresses: [{ dev: 'vxlan100', address: '10.200.0.2/24' }],
      };
      host = await startVtep(lab, user, document);
    });

    after(() => lab.cleanup());

    it('the kernel pings vtepkit across the overlay, and vtepkit pings the kernel', () => {
      const fromKernel = lab.try(kernel, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.200.0.2');
      expect(fromKernel.status, fromKernel.stdout + fromKernel.stderr).to.equal(0);
      expect(fromKernel.stdout).to.match(/3 received/);
      const fromUser = lab.try(user, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.200.0.1');
      expect(fromUser.status, fromUser.stdout + fromUser.stderr).to.equal(0);
    });

    it('each side learns the other', async () => {
      const kernelMac = JSON.parse(lab.exec(kernel, 'ip', '-j', 'link', 'show', 'vxlan100'))[0].address as string;
      const fdb = await ask<{ mac: string; dst?: string }[]>(host, 'fdb');
      expect(fdb.find((r) => r.mac === kernelMac), JSON.stringify(fdb)).to.include({ dst: '192.0.2.1' });
      const links = await ask<{ address: string; stats: { rxPackets: number; txPackets: number } }[]>(host, 'links');
      const ourMac = links[0]!.address;
      // The kernel resolved our TAP's address to our MAC (ARP across the tunnel) ...
      const neighbours = JSON.parse(lab.exec(kernel, 'ip', '-j', 'neigh', 'show', 'dev', 'vxlan100')) as { dst: string; lladdr?: string }[];
      expect(neighbours.find((n) => n.dst === '10.200.0.2')?.lladdr).to.equal(ourMac);
      // ... and, with learning on, its FDB points our MAC at our underlay address.
      const kernelFdb = JSON.parse(lab.exec(kernel, 'bridge', '-j', 'fdb', 'show', 'dev', 'vxlan100')) as { mac: string; dst?: string }[];
      const learnt = kernelFdb.find((r) => r.mac === ourMac);
      if (kernelLearning) expect(learnt, JSON.stringify(kernelFdb)).to.include({ dst: '192.0.2.2' });
      else expect(learnt).to.equal(undefined);
      expect(links[0]!.stats.rxPackets).to.be.greaterThan(0);
      expect(links[0]!.stats.txPackets).to.be.greaterThan(0);
    });
  });
}
