/**
 * The engine end to end over loopback UDP with in-memory ports: two VTEPs, frames
 * injected on one side come out on the other, learning fills the FDB.
 */
import { expect } from 'chai';
import { Vtep, VtepError } from '../../src/vtep/vtep.js';
import type { MemoryPort } from '../../src/vtep/ports.js';
import { EtherType, encodeEthernet, MAC_BROADCAST, parseMac } from '../../src/wire/ethernet.js';
import { encodeVxlan } from '../../src/wire/vxlan.js';
import { GeneveOptionCursor } from '../../src/wire/geneve.js';
import { UdpTransport } from '../../src/io/udp.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as join_ } from 'node:path';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, readPcap } from '../../src/wire/pcap.js';
import { ENCAP_FORCE_VXLAN, decapsulate } from '../../src/wire/encap.js';
import { tsharkMissing } from '../helpers/judges.js';

const dstportOf = (v: Vtep): number => v.showLinks()[0]!.dstport!;
import { isBatchUdpAvailable } from '../../src/io/udp-batch.js';

const A_MAC = parseMac('02:00:00:00:00:0a');
const B_MAC = parseMac('02:00:00:00:00:0b');

function frame(destination: number, source: number, size = 64, fill = 0x5a): Uint8Array {
  const bytes = new Uint8Array(size).fill(fill);
  encodeEthernet({ destination, source, etherType: EtherType.IPV4 }, bytes, 0);
  return bytes;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const underlay of ['batch', 'dgram'] as const) describe(`vtep: two engines over loopback UDP (${underlay}) with memory ports`, () => {
  let a: Vtep;
  let b: Vtep;
  let portA: MemoryPort;
  let portB: MemoryPort;

  before(function () {
    if (underlay === 'batch' && !isBatchUdpAvailable()) {
      console.log('      SKIPPED: the addon is not built (npm run build:addon)');
      this.skip();
    }
  });

  beforeEach(async () => {
    a = new Vtep({ underlay });
    b = new Vtep({ underlay });
    // A random high port keeps parallel runs apart; both ends use it as dstport.
    const dstport = 20000 + Math.floor(Math.random() * 20000);
    await a.addLink({ name: 'vxa', type: 'vxlan', vni: 100, dstport, local: '127.0.0.1', remote: '127.0.0.2', port: 'memory' });
    await b.addLink({ name: 'vxb', type: 'vxlan', vni: 100, dstport, local: '127.0.0.2', remote: '127.0.0.1', port: 'memory' });
    await a.setLink('vxa', { up: true });
    await b.setLink('vxb', { up: true });
    portA = a.portOf('vxa') as MemoryPort;
    portB = b.portOf('vxb') as MemoryPort;
  });

  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('floods a broadcast to the remote, which learns the sender and answers by unicast', async () => {
    const hello = frame(MAC_BROADCAST, A_MAC);
    portA.inject(hello);
    await until(() => portB.delivered.length === 1, 'the broadcast at B');
    expect([...portB.delivered[0]!]).to.deep.equal([...hello]);
    // B learnt A's MAC against A's underlay address.
    expect(b.fdbShow({ dev: 'vxb' }).find((r) => r.mac === '02:00:00:00:00:0a')).to.include({ dst: '127.0.0.1', state: '' });
    const reply = frame(A_MAC, B_MAC, 100, 0x33);
    portB.inject(reply);
    await until(() => portA.delivered.length === 1, 'the reply at A');
    expect([...portA.delivered[0]!]).to.deep.equal([...reply]);
    expect(a.fdbShow({ dev: 'vxa' }).map((r) => r.mac)).to.include('02:00:00:00:00:0b');
    const [info] = a.showLinks({ name: 'vxa', stats: true });
    expect(info!.stats).to.include({ txPackets: 1, rxPackets: 1 });
    expect(info!.mtu).to.equal(1450);
  });

  it('captures both sides to pcap: frames at the port, tunnel packets with outer IP/UDP at the underlay (tshark agrees)', async () => {
    const tapChunks: Uint8Array[] = [];
    const underlayChunks: Uint8Array[] = [];
    const stopTap = a.capture('vxa', 'tap', (chunk) => tapChunks.push(Uint8Array.from(chunk)));
    const stopUnderlay = a.capture('vxa', 'underlay', (chunk) => underlayChunks.push(Uint8Array.from(chunk)));
    portA.inject(frame(MAC_BROADCAST, A_MAC));
    await until(() => portB.delivered.length === 1, 'the broadcast at B');
    portB.inject(frame(A_MAC, B_MAC, 80, 0x44));
    await until(() => portA.delivered.length === 1, 'the reply at A');
    stopTap();
    stopUnderlay();
    portA.inject(frame(MAC_BROADCAST, A_MAC)); // not captured any more
    const join = (chunks: Uint8Array[]): Uint8Array => Uint8Array.from(chunks.flatMap((c) => [...c]));
    const tap = readPcap(join(tapChunks));
    expect(tap.linkType).to.equal(LINKTYPE_ETHERNET);
    expect(tap.records.map((r) => r.data.length)).to.deep.equal([64, 80]);
    const underlay = readPcap(join(underlayChunks));
    expect(underlay.linkType).to.equal(LINKTYPE_RAW);
    const packets = underlay.records.map((r) => decapsulate(r.data, { layer: 'ip', mode: ENCAP_FORCE_VXLAN }));
    expect(packets.map((p) => [p.vni, p.innerLength])).to.deep.equal([[100, 64], [100, 80]]);
    if (tsharkMissing()) return;
    const dir = mkdtempSync(join_(tmpdir(), 'vtepkit-capture-'));
    try {
      writeFileSync(join_(dir, 'u.pcap'), join(underlayChunks));
      const r = spawnSync('tshark', ['-r', join_(dir, 'u.pcap'), '-d', `udp.port==${dstportOf(a)},vxlan`, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'vxlan.vni'], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      const lines = r.stdout.trim().split('\n').map((l) => l.split('\t'));
      expect(lines.map((l) => [l[0]!.split(',')[0], l[1]!.split(',')[0], l[2]])).to.deep.equal([['127.0.0.1', '127.0.0.2', '100'], ['127.0.0.2', '127.0.0.1', '100']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts drops instead of sending: link down, runt, too big, no destination', async () => {
    // The batched underlay keeps receive buffers armed; nothing else may stay out of the pool.
    const armed = a.pool.inUse;
    await a.setLink('vxa', { up: false });
    portA.inject(frame(MAC_BROADCAST, A_MAC));
    await a.setLink('vxa', { up: true });
    portA.inject(new Uint8Array(10));
    portA.inject(frame(MAC_BROADCAST, A_MAC, 1450 + 14 + 1));
    a.fdbDel('vxa', '00:00:00:00:00:00');
    portA.inject(frame(B_MAC, A_MAC));
    const stats = a.showLinks({ name: 'vxa', stats: true })[0]!.stats!;
    expect(stats.drops).to.deep.equal({ 'link-down': 1, runt: 1, 'too-big': 1, 'no-destination': 1 });
    expect(stats.txPackets).to.equal(0);
    expect(a.pool.inUse).to.equal(armed);
  });

  it('survives garbage at the UDP port: counted, never delivered', async () => {
    const dstport = a.showLinks()[0]!.dstport!;
    const sender = await UdpTransport.open({ port: 0, address: '127.0.0.1' });
    try {
      const good = new Uint8Array(8 + 64);
      encodeVxlan({ vni: 100 }, good, 0);
      good.set(frame(B_MAC, A_MAC), 8);
      const unknownVni = Uint8Array.from(good);
      encodeVxlan({ vni: 999 }, unknownVni, 0);
      for (const junk of [new Uint8Array(0), Uint8Array.of(1, 2, 3), new Uint8Array(8), unknownVni, good.subarray(0, 20)]) {
        sender.send(junk, 0, junk.length, dstport, '127.0.0.2');
      }
      sender.send(good, 0, good.length, dstport, '127.0.0.2');
      await until(() => portB.delivered.length === 1, 'the good packet');
      const underlay = b.underlayCounters()[0]!;
      expect(underlay).to.include({ badHeader: 3, unknownVni: 1 });
      expect(b.showLinks({ stats: true })[0]!.stats!.drops).to.deep.equal({ runt: 1 });
    } finally {
      sender.close();
    }
  });

  it('refuses bad link configurations with typed errors naming the field', async () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ name: 'x', type: 'gre', vni: 1 }, 'type'],
      [{ name: 'x', type: 'vxlan', vni: -1 }, 'vni'],
      [{ name: 'this-name-is-too-long', type: 'vxlan', vni: 1 }, 'name'],
      [{ name: 'x', type: 'vxlan', vni: 1, remote: 'nope' }, 'remote'],
      [{ name: 'x', type: 'vxlan', vni: 1, remote: '127.0.0.9', group: '239.1.1.1' }, 'group'],
      [{ name: 'vxa', type: 'vxlan', vni: 5, port: 'memory' }, 'name'],
      [{ name: 'y', type: 'vxlan', vni: 100, port: 'memory' }, 'vni'],
      [{ name: 'x', type: 'geneve', vni: 1, options: [{ class: 1, type: 1, data: '0x123' }], port: 'memory' }, 'options[0].data'],
    ];
    for (const [config, field] of bad) {
      try {
        await a.addLink(config as never);
        expect.fail(`accepted ${JSON.stringify(config)}`);
      } catch (error) {
        expect(error, JSON.stringify(config)).to.be.instanceOf(VtepError);
        expect((error as VtepError).field, JSON.stringify(config)).to.equal(field);
      }
    }
    expect(a.showLinks().map((l) => l.name)).to.deep.equal(['vxa']);
  });
});

describe('vtep: Geneve options on receive (a user hook) and the critical-option rule', () => {
  let a: Vtep;
  let b: Vtep;
  afterEach(async () => {
    await a?.close();
    await b?.close();
  });

  it('the hook sees the options sent; returning false drops and counts; an unknown critical option is dropped', async () => {
    a = new Vtep();
    b = new Vtep();
    const dstport = 20000 + Math.floor(Math.random() * 20000);
    const option = { class: 0x0102, type: 0x80, data: '0x00003039' };
    await a.addLink({ name: 'gna', type: 'geneve', vni: 500, dstport, local: '127.0.0.1', remote: '127.0.0.2', options: [option], port: 'memory' });
    await b.addLink({ name: 'gnb', type: 'geneve', vni: 500, dstport, local: '127.0.0.2', remote: '127.0.0.1', knownOptions: [{ class: 0x0102, type: 0x80 }], port: 'memory' });
    await a.setLink('gna', { up: true });
    await b.setLink('gnb', { up: true });
    const seen: [number, number, number, string][] = [];
    let verdict = true;
    b.setGeneveOptionsHook('gnb', (vni, packet, offset, length) => {
      const cursor = new GeneveOptionCursor();
      cursor.reset(packet, offset, offset + length);
      while (cursor.next() === 0) {
        seen.push([vni, cursor.optionClass, cursor.type, Buffer.from(packet.subarray(cursor.dataOffset, cursor.dataOffset + cursor.dataLength)).toString('hex')]);
      }
      return verdict;
    });
    const portA = a.portOf('gna') as MemoryPort;
    const portB = b.portOf('gnb') as MemoryPort;
    portA.inject(frame(MAC_BROADCAST, A_MAC));
    await until(() => portB.delivered.length === 1, 'the frame at B');
    expect(seen).to.deep.equal([[500, 0x0102, 0x80, '00003039']]);
    verdict = false;
    portA.inject(frame(MAC_BROADCAST, A_MAC));
    await until(() => b.showLinks({ stats: true })[0]!.stats!.drops['option-hook'] === 1, 'the hook drop');
    expect(portB.delivered.length).to.equal(1);
    // A third end that does not know the critical option drops it (RFC 8926 3.5.1).
    b.setGeneveOptionsHook('gnb', undefined);
    await b.deleteLink('gnb');
    await b.addLink({ name: 'gnb', type: 'geneve', vni: 500, dstport, local: '127.0.0.2', remote: '127.0.0.1', port: 'memory' });
    await b.setLink('gnb', { up: true });
    portA.inject(frame(MAC_BROADCAST, A_MAC));
    await until(() => b.showLinks({ stats: true })[0]!.stats!.drops['unknown-critical-option'] === 1, 'the critical-option drop');
    expect((b.portOf('gnb') as MemoryPort).delivered.length).to.equal(0);
    expect(() => a.setGeneveOptionsHook('nope', undefined)).to.throw(VtepError);
  });
});
