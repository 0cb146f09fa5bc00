/**
 * The seeds' set-ups with vtepkit at every end, in network namespaces joined by
 * veth: point-to-point VXLAN (ICMP and UDP across, learning, ageing), and Geneve
 * with options, judged by tshark capturing on the underlay.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, waitForLine } from '../helpers/netns.js';
import { ask, captureWhile, skipWithoutLab, startVtepPair } from './host.js';
import { tsharkMissing } from '../helpers/judges.js';

/** A one-shot UDP exchange with Python (Debian's python3 is always there): receiver prints what it got. */
const UDP_RECEIVER = 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind((sys.argv[1],int(sys.argv[2]))); s.settimeout(10); print(s.recvfrom(2048)[0].decode(), flush=True)';
const UDP_SENDER = 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(sys.argv[3].encode(),(sys.argv[1],int(sys.argv[2])))';

describe('e2e: two vtepkit VTEPs, VXLAN point to point (seed 000/003)', function () {
  this.timeout(60_000);
  const lab = new Lab('pp');
  let left = '';
  let right = '';
  let leftVtep: ChildProcess;
  let rightVtep: ChildProcess;

  before(async function () {
    skipWithoutLab(this);
    ({ left, right, leftVtep, rightVtep } = await startVtepPair(
      lab,
      { name: 'vxlan100', type: 'vxlan', vni: 100, dstport: 4789 },
      ['198.51.100.1/24', '198.51.100.2/24'],
      ['10.200.0.1/24', '10.200.0.2/24'],
      [{ ageing: 300 }, { ageing: 2 }],
    ));
  });

  after(() => lab.cleanup());

  it('hosts behind the TAPs ping each other', () => {
    const r = lab.try(left, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.200.0.2');
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/3 received/);
  });

  it('UDP crosses too', async () => {
    const receiver = lab.spawn(right, '/usr/bin/python3', ['-c', UDP_RECEIVER, '10.200.0.2', '9999']);
    const got = waitForLine(receiver, /vtepkit/);
    await new Promise((r) => setTimeout(r, 300));
    lab.exec(left, '/usr/bin/python3', '-c', UDP_SENDER, '10.200.0.2', '9999', 'hello vtepkit');
    expect(await got).to.equal('hello vtepkit');
  });

  it('learning filled both FDBs with the other side\'s MAC and underlay address', async () => {
    const leftMac = (await ask<{ address: string }[]>(leftVtep, 'links'))[0]!.address;
    const rightFdb = await ask<{ mac: string; dst?: string; state: string }[]>(rightVtep, 'fdb');
    expect(rightFdb.find((r) => r.mac === leftMac), JSON.stringify(rightFdb)).to.include({ dst: '198.51.100.1', state: '' });
  });

  it('a learnt entry ages out when traffic stops (ageing 2 s on the right)', async () => {
    const leftMac = (await ask<{ address: string }[]>(leftVtep, 'links'))[0]!.address;
    // Keep the kernel's own neighbour probes from refreshing it: flush ARP on both sides, then wait.
    lab.exec(left, 'ip', 'neigh', 'flush', 'dev', 'vxlan100');
    lab.exec(right, 'ip', 'neigh', 'flush', 'dev', 'vxlan100');
    const deadline = Date.now() + 8000;
    let rows: { mac: string }[] = [];
    while (Date.now() < deadline) {
      rows = await ask<{ mac: string }[]>(rightVtep, 'fdb');
      if (!rows.some((r) => r.mac === leftMac)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(rows.map((r) => r.mac)).to.not.include(leftMac);
  });
});

describe('e2e: two vtepkit VTEPs, Geneve with options, judged by tshark on the underlay (seed 000)', function () {
  this.timeout(60_000);
  const lab = new Lab('gn');
  let dir = '';
  let left = '';
  let veth = '';

  before(async function () {
    skipWithoutLab(this);
    if (tsharkMissing()) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'vtepkit-geneve-'));
    ({ left, veth: [veth] } = await startVtepPair(
      lab,
      // Seed 000: metadata in a Geneve option (a customer ID); critical, and known to both ends.
      { name: 'gnv0', type: 'geneve', vni: 500, options: [{ class: 0x0102, type: 0x80, data: '0x00003039' }] },
      ['203.0.113.1/24', '203.0.113.2/24'],
      ['10.201.0.1/24', '10.201.0.2/24'],
    ));
  });

  after(() => {
    lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pings across; the capture shows VNI 500, the option, and nothing malformed', async () => {
    const file = join(dir, 'underlay.pcap');
    await captureWhile(lab, left, veth, 'udp port 6081', 6, file, () => {
      const r = lab.try(left, 'ping', '-c', '3', '-i', '0.2', '-W', '2', '10.201.0.2');
      expect(r.status, r.stdout + r.stderr).to.equal(0);
    });
    const dissected = spawnSync('tshark', ['-r', file, '-T', 'json', '--no-duplicate-keys'], { encoding: 'utf8' });
    const packets = JSON.parse(dissected.stdout) as { _source: { layers: Record<string, Record<string, unknown>> } }[];
    expect(packets.length).to.be.at.least(6);
    for (const p of packets) {
      const layers = p._source.layers;
      expect(Object.keys(layers)).to.not.include('_ws.malformed');
      const geneve = layers['geneve']!;
      expect(geneve['geneve.vni']).to.equal('0x0001f4');
      const option = (geneve['geneve.options_tree'] as Record<string, Record<string, string>>)['geneve.option_tree']!;
      expect(option).to.include({ 'geneve.option.class': '0x0102', 'geneve.option.type': '0x80' });
      expect(option['geneve.option.unknown.data']).to.equal('00:00:30:39');
    }
  });
});
