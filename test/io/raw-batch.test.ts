/** The batched socket as a raw IP socket (protocol 50): ESP packets sent and received in batches, on loopback. */
import { expect } from 'chai';
import { BatchUdpError, BatchUdpTransport, isBatchUdpAvailable } from '../../src/io/udp-batch.js';
import { BufferPool, type PacketBuffer } from '../../src/pool/pool.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

const LOOPBACK = parseIpv4('127.0.0.1');

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe('io/udp-batch: raw IP protocol 50 (ESP) in batches', () => {
  before(function () {
    if (!isBatchUdpAvailable() || process.getuid?.() !== 0) this.skip();
  });

  it('sends 100 packets in one flush and reads them whole (IPv4 header, protocol 50, our bytes) with their source', async () => {
    const receiver = BatchUdpTransport.open({ port: 0, family: 4, protocol: 50 });
    const sender = BatchUdpTransport.open({ port: 0, family: 4, protocol: 50, address: '127.0.0.1' });
    const pool = new BufferPool({ capacity: 256 });
    const got: Uint8Array[] = [];
    const sourcesSeen: string[] = [];
    try {
      receiver.start(pool, (buffers: PacketBuffer[], sources: Uint8Array, _ports: Int32Array, count: number) => {
        for (let i = 0; i < count; i++) {
          const b = buffers[i]!;
          got.push(b.bytes.slice(b.offset, b.offset + b.length));
          sourcesSeen.push([...sources.subarray(i * 16, i * 16 + 4)].join('.'));
        }
        pool.releaseBatch(buffers, count);
      });
      const packets = Array.from({ length: 100 }, (_, i) => {
        const p = new Uint8Array(40);
        new DataView(p.buffer).setUint32(0, 0xfeed0000 + i); // an SPI per packet, to tell ours from any other ESP on lo
        p.fill(i, 8);
        return p;
      });
      for (const p of packets) expect(sender.queueIpv4(p, 0, p.length, LOOPBACK, 0)).to.equal(true);
      expect(sender.flush()).to.equal(100);
      await until(() => got.filter((g) => g[20] === 0xfe && g[21] === 0xed).length === 100, '100 ESP packets');
      const ours = got.filter((g) => g[20] === 0xfe && g[21] === 0xed);
      for (const [i, g] of ours.entries()) {
        expect(g[0]! >> 4, 'IPv4').to.equal(4);
        expect(g[9], 'protocol').to.equal(50);
        expect(g.length).to.equal(20 + 40);
        expect([...g.subarray(28, 60)].every((x) => x === g[23])).to.equal(true);
        expect(g[23]).to.equal(i);
      }
      expect(sourcesSeen).to.include('127.0.0.1');
    } finally {
      receiver.close();
      sender.close();
    }
  });

  it('refuses a port, a group or noChecksum with a protocol; a UDP socket still refuses port 0', () => {
    const error = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).to.be.instanceOf(BatchUdpError);
        return (e as BatchUdpError).field;
      }
      return 'no error';
    };
    expect(error(() => BatchUdpTransport.open({ protocol: 50, port: 4789 }))).to.equal('port');
    expect(error(() => BatchUdpTransport.open({ port: 0, protocol: 50, group: '239.1.1.1' }))).to.equal('group');
    expect(error(() => BatchUdpTransport.open({ port: 0, protocol: 50, noChecksum: true }))).to.equal('noChecksum');
    expect(error(() => BatchUdpTransport.open({ port: 0, protocol: 256 }))).to.equal('protocol');
    const udp = BatchUdpTransport.open({ port: 0, address: '127.0.0.1' });
    try {
      expect(udp.queueIpv4(new Uint8Array(8), 0, 8, LOOPBACK, 0)).to.equal(false);
      expect(udp.stats.txInvalid).to.equal(1);
    } finally {
      udp.close();
    }
  });
});
