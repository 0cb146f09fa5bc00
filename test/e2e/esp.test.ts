/**
 * VXLAN protected by ESP between two vtepkit VTEPs (seed 000: `ip xfrm state add
 * … proto esp spi 0x1000 mode transport …`): the underlay carries only ESP (IP
 * protocol 50, or in UDP 4500 with `encap espinudp`), tshark given the keys
 * recovers the VXLAN packets, and a wrong key on one side delivers nothing while
 * the counters say why.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../helpers/netns.js';
import { tsharkMissing } from '../helpers/judges.js';
import { ask, captureWhile, skipWithoutLab, startVtep } from './host.js';

const KEY_AB = '0x' + '11'.repeat(16) + 'aabbccdd'; // AES-128 key + 4-byte salt (RFC 4106)
const KEY_BA = '0x' + '22'.repeat(16) + 'eeff0011';
const WRONG = '0x' + '33'.repeat(16) + 'aabbccdd';

function side(local: string, remote: string, address: string, outKey: string, inKey: string, inUdp = false): unknown {
  const sa = (src: string, dst: string, spi: number, key: string): unknown => ({
    src, dst, spi, mode: 'transport', aead: { name: 'rfc4106(gcm(aes))', key, icvBits: 128 },
    // `encap espinudp 4500 4500 0.0.0.0` (RFC 3948).
    ...(inUdp ? { encap: { type: 'espinudp', sport: 4500, dport: 4500 } } : {}),
  });
  return {
    version: 1,
    links: [{ name: 'vxlan100', type: 'vxlan', vni: 100, dstport: 4789, local, remote }],
    up: ['vxlan100'],
    addresses: [{ dev: 'vxlan100', address }],
    // As in the seeds, both SAs on both hosts: 0x1000 left→right, 0x1001 right→left.
    xfrm: local === '192.0.2.1'
      ? [sa('192.0.2.1', '192.0.2.2', 0x1000, outKey), sa('192.0.2.2', '192.0.2.1', 0x1001, inKey)]
      : [sa('192.0.2.1', '192.0.2.2', 0x1000, inKey), sa('192.0.2.2', '192.0.2.1', 0x1001, outKey)],
  };
}

type Layers = Record<string, unknown>;

/**
 * Captures the underlay (everything IP, at least 6 packets) on `veth` while `host` pings
 * `target` three times, then has tshark dissect the file with both SAs' keys; returns each
 * packet's layers.
 */
async function pingAndDissect(lab: Lab, host: string, veth: string, target: string, file: string): Promise<Layers[]> {
  await captureWhile(lab, host, veth, 'ip', 6, file, () => {
    const r = lab.try(host, 'ping', '-c', '3', '-i', '0.2', '-W', '2', target);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });
  const uat = (spi: number, key: string): string =>
    `uat:esp_sa:"IPv4","*","*","0x${spi.toString(16).padStart(8, '0')}","AES-GCM with 16 octet ICV [RFC4106]","${key}","NULL",""`;
  const dissected = spawnSync('tshark', ['-r', file, '-T', 'json', '--no-duplicate-keys', '-o', 'esp.enable_encryption_decode:TRUE',
    '-o', uat(0x1000, KEY_AB), '-o', uat(0x1001, KEY_BA)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(dissected.status, dissected.stderr).to.equal(0);
  const packets = (JSON.parse(dissected.stdout) as { _source: { layers: Layers } }[]).map((p) => p._source.layers);
  expect(packets.length).to.be.at.least(6);
  return packets;
}

/** The first instance of a layer tshark may list several times (the outer one). */
const outer = (layers: Layers, name: string): Record<string, string> => [layers[name]].flat()[0] as Record<string, string>;

describe('e2e: VXLAN over ESP (transport mode, IP protocol 50 or ESP-in-UDP) between two vtepkit VTEPs', function () {
  this.timeout(60_000);

  describe('with matching keys', () => {
    const lab = new Lab('es');
    let dir = '';
    let left = '';
    let veth = '';
    let leftVtep: ChildProcess;

    before(async function () {
      skipWithoutLab(this);
      if (tsharkMissing()) this.skip();
      dir = mkdtempSync(join(tmpdir(), 'vtepkit-esp-'));
      left = lab.host('left');
      const right = lab.host('right');
      [veth] = lab.link(left, '192.0.2.1/24', right, '192.0.2.2/24');
      leftVtep = await startVtep(lab, left, side('192.0.2.1', '192.0.2.2', '10.202.0.1/24', KEY_AB, KEY_BA));
      await startVtep(lab, right, side('192.0.2.2', '192.0.2.1', '10.202.0.2/24', KEY_BA, KEY_AB));
    });

    after(() => {
      lab.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('pings across; the underlay holds only ESP; tshark with the keys finds VXLAN VNI 100 inside', async () => {
      // Everything IP on the underlay except ARP: if any VXLAN leaked in clear, it would be here.
      for (const layers of await pingAndDissect(lab, left, veth, '10.202.0.2', join(dir, 'underlay.pcap'))) {
        expect(outer(layers, 'ip')['ip.proto'], 'only ESP on the underlay').to.equal('50');
        const vxlan = layers['vxlan'] as Record<string, string> | undefined;
        expect(vxlan, 'tshark decrypted VXLAN').to.not.equal(undefined);
        expect(vxlan!['vxlan.vni']).to.equal('100');
      }
    });

    it('the SAs count what they sealed and opened', async () => {
      const links = await ask<{ stats: { txPackets: number; rxPackets: number } }[]>(leftVtep, 'links');
      expect(links[0]!.stats.txPackets).to.be.greaterThan(0);
      expect(links[0]!.stats.rxPackets).to.be.greaterThan(0);
    });
  });

  describe('in UDP (encap espinudp 4500 4500, RFC 3948)', () => {
    const lab = new Lab('eu');
    let dir = '';
    let left = '';
    let right = '';
    let veth = '';
    let rightVtep: ChildProcess;

    before(async function () {
      skipWithoutLab(this);
      if (tsharkMissing()) this.skip();
      dir = mkdtempSync(join(tmpdir(), 'vtepkit-espinudp-'));
      left = lab.host('left');
      right = lab.host('right');
      [veth] = lab.link(left, '192.0.2.1/24', right, '192.0.2.2/24');
      await startVtep(lab, left, side('192.0.2.1', '192.0.2.2', '10.203.0.1/24', KEY_AB, KEY_BA, true));
      rightVtep = await startVtep(lab, right, side('192.0.2.2', '192.0.2.1', '10.203.0.2/24', KEY_BA, KEY_AB, true));
    });

    after(() => {
      lab.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('pings across; the underlay holds only UDP 4500; tshark with the keys finds ESP, then VXLAN VNI 100 inside', async () => {
      const spis = new Set<string>();
      for (const layers of await pingAndDissect(lab, left, veth, '10.203.0.2', join(dir, 'underlay.pcap'))) {
        expect(outer(layers, 'ip')['ip.proto'], 'only UDP on the underlay').to.equal('17');
        const udp = outer(layers, 'udp');
        expect([udp['udp.srcport'], udp['udp.dstport']]).to.deep.equal(['4500', '4500']);
        const esp = layers['esp'] as Record<string, string> | undefined;
        expect(esp, 'tshark found ESP in the UDP datagram').to.not.equal(undefined);
        spis.add(esp!['esp.spi']!);
        const vxlan = layers['vxlan'] as Record<string, string> | undefined;
        expect(vxlan, 'tshark decrypted VXLAN').to.not.equal(undefined);
        expect(vxlan!['vxlan.vni']).to.equal('100');
      }
      expect([...spis].map((spi) => Number(spi)).sort()).to.deep.equal([0x1000, 0x1001]);
    });

    it('a NAT keep-alive (one 0xff byte to port 4500) is counted and dropped; traffic goes on', async () => {
      const r = lab.try(left, 'python3', '-c',
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('192.0.2.1', 0)); s.sendto(b'\\xff', ('192.0.2.2', 4500))");
      expect(r.status, r.stderr).to.equal(0);
      let esp: Record<string, number> = {};
      for (let i = 0; i < 50 && !esp['NAT_KEEPALIVE']; i++) {
        esp = await ask<Record<string, number>>(rightVtep, 'esp');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(esp['NAT_KEEPALIVE'], JSON.stringify(esp)).to.equal(1);
      const ping = lab.try(left, 'ping', '-c', '1', '-W', '2', '10.203.0.2');
      expect(ping.status, ping.stdout + ping.stderr).to.equal(0);
    });
  });

  describe('with a wrong key on one side', () => {
    const lab = new Lab('ew');
    let left = '';
    let rightVtep: ChildProcess;

    before(async function () {
      skipWithoutLab(this);
      left = lab.host('left');
      const right = lab.host('right');
      lab.link(left, '192.0.2.1/24', right, '192.0.2.2/24');
      await startVtep(lab, left, side('192.0.2.1', '192.0.2.2', '10.202.0.1/24', KEY_AB, KEY_BA));
      // The right side has the wrong key for left→right traffic.
      rightVtep = await startVtep(lab, right, side('192.0.2.2', '192.0.2.1', '10.202.0.2/24', KEY_BA, WRONG));
    });

    after(() => lab.cleanup());

    it('delivers nothing, and the receiver counts bad ICVs', async () => {
      const r = lab.try(left, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '10.202.0.2');
      expect(r.status).to.not.equal(0);
      const esp = await ask<Record<string, number>>(rightVtep, 'esp');
      expect(Object.keys(esp).join(','), JSON.stringify(esp)).to.match(/ICV/i);
      const links = await ask<{ stats: { rxPackets: number } }[]>(rightVtep, 'links');
      expect(links[0]!.stats.rxPackets).to.equal(0);
    });
  });
});
