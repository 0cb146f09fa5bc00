/** ESP on the engine's underlay, on both underlays (the addon's batched raw socket, and raw-socket with node:dgram): frames sealed both ways; plaintext refused ('esp-required') from a peer with an inbound SA. */
import { expect } from 'chai';
import { isOpensslBackendAvailable } from '../../src/esp/openssl-backend.js';
import { Vtep } from '../../src/vtep/vtep.js';
import type { MemoryPort } from '../../src/vtep/ports.js';
import { rawSocketMissing } from '../../src/io/raw.js';
import { isBatchUdpAvailable } from '../../src/io/udp-batch.js';
import { EtherType, MAC_BROADCAST, encodeEthernet, parseMac } from '../../src/wire/ethernet.js';

function frame(): Uint8Array {
  const bytes = new Uint8Array(64).fill(0x33);
  encodeEthernet({ destination: MAC_BROADCAST, source: parseMac('02:00:00:00:00:0a'), etherType: EtherType.IPV4 }, bytes, 0);
  return bytes;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

for (const underlay of ['batch', 'dgram'] as const) {
  describe(`vtep: ESP required from peers with an inbound SA (${underlay} underlay)`, () => {
    let a: Vtep;
    let b: Vtep;

    before(function () {
      if (rawSocketMissing(4) || (underlay === 'batch' && !isBatchUdpAvailable())) this.skip();
    });

    beforeEach(async () => {
      a = new Vtep({ underlay });
      b = new Vtep({ underlay });
      const dstport = 20000 + Math.floor(Math.random() * 20000);
      await a.addLink({ name: 'va', type: 'vxlan', vni: 100, dstport, local: '127.0.0.1', remote: '127.0.0.2', port: 'memory' });
      await b.addLink({ name: 'vb', type: 'vxlan', vni: 100, dstport, local: '127.0.0.2', remote: '127.0.0.1', port: 'memory' });
      await a.setLink('va', { up: true });
      await b.setLink('vb', { up: true });
    });
    afterEach(async () => {
      await a.close();
      await b.close();
    });

    it('carries frames sealed in ESP (raw IP protocol 50 on loopback), counted by both SAs', async () => {
      // One direction: on loopback every raw ESP socket of the host sees every packet, so A also
      // reads what it sends; the counters of B's SA are B's alone.
      const sa = { src: '127.0.0.1', dst: '127.0.0.2', spi: 0x5001, mode: 'transport' as const, aead: { name: 'rfc4106(gcm(aes))', key: '0x' + '22'.repeat(20), icvBits: 128 } };
      a.xfrmStateAdd(sa);
      b.xfrmStateAdd(sa);
      const portB = b.portOf('vb') as MemoryPort;
      (a.portOf('va') as MemoryPort).inject(frame(), frame(), frame());
      await until(() => portB.delivered.length === 3, 'three frames at B');
      const stats = (v: Vtep): Record<string, unknown> => (v.xfrmStateShow().find((s) => s.spi === 0x5001)!.stats as { stats: Record<string, unknown> }).stats;
      expect(stats(a)).to.deep.include({ sealed: 3 });
      expect(stats(b)).to.deep.include({ opened: 3 });
      expect(Buffer.from(portB.delivered[0]!).equals(Buffer.from(frame()))).to.equal(true);
      expect(b.showLinks({ name: 'vb', stats: true })[0]!.stats!.rxPackets).to.equal(3);
    });

    it('delivers plaintext while B has no SA from A, and refuses it (counted) once it has one', async () => {
      const portA = a.portOf('va') as MemoryPort;
      const portB = b.portOf('vb') as MemoryPort;
      portA.inject(frame());
      await until(() => portB.delivered.length === 1, 'the plaintext frame at B');

      // An SA from A to B on B: A's traffic must now come as ESP (A itself still sends plaintext).
      b.xfrmStateAdd({ src: '127.0.0.1', dst: '127.0.0.2', spi: 0x4242, mode: 'transport', aead: { name: 'rfc4106(gcm(aes))', key: '0x' + '11'.repeat(20), icvBits: 128 } });
      portA.inject(frame(), frame());
      await until(() => (b.showLinks({ name: 'vb', stats: true })[0]!.stats!.rxDrops!['esp-required'] ?? 0) === 2, 'two esp-required drops at B');
      expect(portB.delivered).to.have.length(1);
    });
  });
}

describe('vtep: ESP to one remote of a flood, plaintext to the other (batch underlay)', () => {
  before(function () {
    if (rawSocketMissing(4) || !isBatchUdpAvailable()) this.skip();
  });

  it('the sealed copy leaves the frame intact for the next remote; a unicast frame is sealed in its own buffer', async () => {
    const a = new Vtep({ underlay: 'batch' });
    const b = new Vtep({ underlay: 'batch' });
    const c = new Vtep({ underlay: 'batch' });
    try {
      const dstport = 20000 + Math.floor(Math.random() * 20000);
      await a.addLink({ name: 'va', type: 'vxlan', vni: 100, dstport, local: '127.0.0.1', port: 'memory' });
      await b.addLink({ name: 'vb', type: 'vxlan', vni: 100, dstport, local: '127.0.0.2', port: 'memory' });
      await c.addLink({ name: 'vc', type: 'vxlan', vni: 100, dstport, local: '127.0.0.3', port: 'memory' });
      for (const [v, name] of [[a, 'va'], [b, 'vb'], [c, 'vc']] as const) await v.setLink(name, { up: true });
      // Head-end replication to B (ESP) and C (plaintext), as `bridge fdb append 00:00:00:00:00:00 dst …`.
      a.fdbAppend('va', '00:00:00:00:00:00', { dst: '127.0.0.2' });
      a.fdbAppend('va', '00:00:00:00:00:00', { dst: '127.0.0.3' });
      const sa = { src: '127.0.0.1', dst: '127.0.0.2', spi: 0x5101, mode: 'transport' as const, aead: { name: 'rfc4106(gcm(aes))', key: '0x' + '44'.repeat(20), icvBits: 128 } };
      a.xfrmStateAdd(sa);
      b.xfrmStateAdd(sa);
      const portB = b.portOf('vb') as MemoryPort;
      const portC = c.portOf('vc') as MemoryPort;
      (a.portOf('va') as MemoryPort).inject(frame(), frame());
      await until(() => portB.delivered.length === 2 && portC.delivered.length === 2, 'both frames at B and at C');
      for (const delivered of [...portB.delivered, ...portC.delivered]) expect(Buffer.from(delivered).equals(Buffer.from(frame()))).to.equal(true);
      // Now unicast to B only (its MAC learnt behind 127.0.0.2): sealed where the frame lies.
      a.fdbAdd('va', '02:00:00:00:00:0b', { dst: '127.0.0.2' });
      const unicast = frame();
      unicast.set([2, 0, 0, 0, 0, 0x0b], 0);
      (a.portOf('va') as MemoryPort).inject(unicast);
      await until(() => portB.delivered.length === 3, 'the unicast frame at B');
      expect(Buffer.from(portB.delivered[2]!).equals(Buffer.from(unicast))).to.equal(true);
      expect(portC.delivered.length).to.equal(2);
      const stats = (v: Vtep): Record<string, unknown> => (v.xfrmStateShow().find((s) => s.spi === 0x5101)!.stats as { stats: Record<string, unknown> }).stats;
      expect(stats(a)).to.deep.include({ sealed: 3 });
      expect(stats(b)).to.deep.include({ opened: 3 });
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  });
});

describe('vtep: espBackend for the underlay SAs', () => {
  before(function () {
    if (rawSocketMissing(4)) this.skip();
  });

  // 'auto' (the default) is openssl when the cipher addon is built, node otherwise.
  const auto = isOpensslBackendAvailable() ? 'openssl' : 'node';

  it(`gcm-js: AES-GCM SAs use it, ChaCha20 gets ${auto}; frames cross sealed by one backend and opened by the other`, async () => {
    const a = new Vtep({ espBackend: 'gcm-js' });
    const b = new Vtep();
    try {
      const dstport = 20000 + Math.floor(Math.random() * 20000);
      await a.addLink({ name: 'va', type: 'vxlan', vni: 100, dstport, local: '127.0.0.1', remote: '127.0.0.2', port: 'memory' });
      await b.addLink({ name: 'vb', type: 'vxlan', vni: 100, dstport, local: '127.0.0.2', remote: '127.0.0.1', port: 'memory' });
      await a.setLink('va', { up: true });
      await b.setLink('vb', { up: true });
      const gcm = { src: '127.0.0.1', dst: '127.0.0.2', spi: 0x6001, mode: 'transport' as const, aead: { name: 'rfc4106(gcm(aes))', key: '0x' + '33'.repeat(20), icvBits: 128 } };
      a.xfrmStateAdd(gcm);
      b.xfrmStateAdd(gcm);
      a.xfrmStateAdd({ src: '127.0.0.2', dst: '127.0.0.1', spi: 0x6002, mode: 'transport', aead: { name: 'rfc7539esp(chacha20,poly1305)', key: '0x' + '44'.repeat(36), icvBits: 128 } });
      const backend = (v: Vtep, spi: number): unknown => (v.xfrmStateShow().find((s) => s.spi === spi)!.stats as { backend: string }).backend;
      expect([backend(a, 0x6001), backend(b, 0x6001), backend(a, 0x6002)]).to.deep.equal(['gcm-js', auto, auto]);
      const portB = b.portOf('vb') as MemoryPort;
      (a.portOf('va') as MemoryPort).inject(frame(), frame());
      await until(() => portB.delivered.length === 2, 'two frames at B');
      expect(Buffer.from(portB.delivered[1]!).equals(Buffer.from(frame()))).to.equal(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("'node' and 'openssl' apply to every algorithm", async () => {
    const choices = isOpensslBackendAvailable() ? (['node', 'openssl'] as const) : (['node'] as const);
    for (const choice of choices) {
      const v = new Vtep({ espBackend: choice });
      try {
        v.xfrmStateAdd({ src: '127.0.0.1', dst: '127.0.0.2', spi: 0x7001, mode: 'transport', aead: { name: 'rfc4106(gcm(aes))', key: '0x' + '33'.repeat(20), icvBits: 128 } });
        v.xfrmStateAdd({ src: '127.0.0.2', dst: '127.0.0.1', spi: 0x7002, mode: 'transport', aead: { name: 'rfc7539esp(chacha20,poly1305)', key: '0x' + '44'.repeat(36), icvBits: 128 } });
        const backends = v.xfrmStateShow().map((s) => (s.stats as { backend: string }).backend);
        expect(backends, choice).to.deep.equal([choice, choice]);
      } finally {
        await v.close();
      }
    }
  });

  it('refuses another backend name', () => {
    expect(() => new Vtep({ espBackend: 'libsodium' as never })).to.throw(/espBackend must be auto, openssl, node, gcm-js/);
  });
});
