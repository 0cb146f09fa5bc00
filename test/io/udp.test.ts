import { expect } from 'chai';
import { UdpError, UdpTransport } from '../../src/io/udp.js';

function nextMessage(t: UdpTransport): Promise<{ message: Buffer; address: string; port: number }> {
  return new Promise((resolve) => t.onMessage((message, address, port) => resolve({ message, address, port })));
}

describe('io/udp', () => {
  const open: UdpTransport[] = [];
  afterEach(() => {
    for (const t of open.splice(0)) t.close();
  });
  async function transport(options: Parameters<typeof UdpTransport.open>[0]): Promise<UdpTransport> {
    const t = await UdpTransport.open(options);
    open.push(t);
    return t;
  }

  it('sends a range of a buffer and receives it with the sender, over IPv4 loopback', async () => {
    const a = await transport({ port: 0, address: '127.0.0.1' });
    const b = await transport({ port: 0, address: '127.0.0.1' });
    const received = nextMessage(b);
    const buf = Uint8Array.from({ length: 100 }, (_, i) => i);
    expect(a.send(buf, 10, 20, b.address().port, '127.0.0.1')).to.equal(true);
    const { message, address, port } = await received;
    expect([...message]).to.deep.equal([...buf.subarray(10, 30)]);
    expect(address).to.equal('127.0.0.1');
    expect(port).to.equal(a.address().port);
    expect(a.stats).to.include({ txPackets: 1, txBytes: 20 });
    expect(b.stats).to.include({ rxPackets: 1, rxBytes: 20 });
  });

  it('works over IPv6 loopback', async () => {
    const a = await transport({ port: 0, address: '::1' });
    const b = await transport({ port: 0, address: '::1' });
    expect(a.family).to.equal(6);
    const received = nextMessage(b);
    a.send(Uint8Array.of(1, 2, 3), 0, 3, b.address().port, '::1');
    expect([...(await received).message]).to.deep.equal([1, 2, 3]);
  });

  it('counts bad sends instead of throwing: bad port, bad range, bad address, closed', async () => {
    const a = await transport({ port: 0, address: '127.0.0.1' });
    const buf = new Uint8Array(10);
    expect(a.send(buf, 0, 10, 0, '127.0.0.1')).to.equal(false);
    expect(a.send(buf, 5, 10, 4789, '127.0.0.1')).to.equal(false);
    expect(a.send(buf, 0, 10, 4789, 'no-such-host.invalid')).to.equal(false); // never resolved with DNS
    a.close();
    expect(a.send(buf, 0, 10, 4789, '127.0.0.1')).to.equal(false);
    expect(a.stats.txErrors).to.equal(4);
    expect(a.stats.txPackets).to.equal(0);
  });

  it('refuses bad options with a typed error naming the field, and reports a busy port', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ port: 70000 }, 'port'],
      [{ port: 4789, address: 'eth0' }, 'address'],
      [{ port: 4789, group: 'x' }, 'group'],
      [{ port: 4789, address: '127.0.0.1', group: 'ff02::1' }, 'group'],
      [{ port: 4789, ttl: 0 }, 'ttl'],
      [{ port: 4789, receiveBufferSize: 1 }, 'receiveBufferSize'],
    ];
    for (const [options, field] of cases) {
      try {
        await UdpTransport.open(options as never);
        expect.fail(`accepted ${JSON.stringify(options)}`);
      } catch (error) {
        expect(error).to.be.instanceOf(UdpError);
        expect((error as UdpError).field).to.equal(field);
      }
    }
    const a = await transport({ port: 0, address: '127.0.0.1' });
    try {
      await UdpTransport.open({ port: a.address().port, address: '127.0.0.1' });
      expect.fail('bound a busy port');
    } catch (error) {
      expect((error as UdpError).code).to.equal('BIND');
    }
  });
});
