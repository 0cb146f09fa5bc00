/**
 * ESP in UDP (RFC 3948) over node:dgram, on loopback only: a sealed packet sent, received,
 * sorted from keep-alives and IKE, opened through the SA database.
 */
import { expect } from 'chai';
import { once } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import { EspStatus } from '../../src/esp/errors.js';
import { SecurityAssociation } from '../../src/esp/sa.js';
import type { SecurityAssociationConfig } from '../../src/esp/sa.js';
import { SaDatabase } from '../../src/esp/sad.js';
import { EspDatagramView, EspUdpTransport } from '../../src/io/esp-udp.js';
import { ALGORITHM_CASES, hexOfBytes, ipv4Udp, ipv6Udp, keysOf } from '../esp/fixtures.js';

for (const family of [4, 6] as const) {
  const loopback = family === 4 ? '127.0.0.1' : '::1';
  describe(`io/esp-udp over ${loopback}`, function () {
    this.timeout(10000);
    let receiver: EspUdpTransport;
    let sender: EspUdpTransport;
    let port = 0;
    const sad = new SaDatabase();
    const config: SecurityAssociationConfig = {
      spi: 0x4500 + family,
      ...keysOf(ALGORITHM_CASES[0]!),
      mode: 'tunnel',
      tunnel: family === 4 ? { source: '127.0.0.1', destination: '127.0.0.1' } : { source: '::1', destination: '::1' },
      udpEncapsulation: true,
    };
    const tx = new SecurityAssociation(config);
    sad.add(new SecurityAssociation(config));

    before(async () => {
      // Port 0: the test must not need (or collide with an IKE daemon on) 4500.
      receiver = new EspUdpTransport({ type: family === 4 ? 'udp4' : 'udp6', port: 0, address: loopback, sad });
      sender = new EspUdpTransport({ type: family === 4 ? 'udp4' : 'udp6', port: 0, address: loopback });
      port = (await receiver.bind()).port;
      await sender.bind();
    });

    after(async () => {
      await receiver.close();
      await sender.close();
    });

    it('a sealed packet arrives, is opened by the SA its SPI names, and equals what was sent', async () => {
      const inner = family === 4 ? ipv4Udp(100) : ipv6Udp(100);
      const arrived = once(receiver, 'packet') as Promise<[EspDatagramView, SecurityAssociation, RemoteInfo]>;
      await sender.sealAndSend(tx, inner, family === 4 ? 4 : 41, loopback, port);
      const [view, sa, from] = await arrived;
      expect(hexOfBytes(view.data())).to.equal(hexOfBytes(inner));
      expect(sa.spi).to.equal(config.spi);
      expect(sa.lastNextHeader).to.equal(family === 4 ? 4 : 41);
      expect(from.address).to.equal(loopback);
      expect(receiver.stats.opened).to.equal(1);
    });

    it('a NAT-keepalive (0xFF) is recognised and ignored (RFC 3948 2.3)', async () => {
      const seen = once(receiver, 'keepalive');
      await sender.sendKeepalive(port, loopback);
      await seen;
      expect(receiver.stats.keepalives).to.equal(1);
    });

    it('a datagram with the non-ESP marker goes to IKE without the marker (RFC 3948 2.2)', async () => {
      const seen = once(receiver, 'ike') as Promise<[Uint8Array, RemoteInfo]>;
      await sender.send(Uint8Array.of(0, 0, 0, 0, 0x11, 0x22, 0x33), port, loopback);
      const [message] = await seen;
      expect(hexOfBytes(message)).to.equal('112233');
      expect(receiver.stats.ike).to.equal(1);
    });

    it('a replayed or forged datagram is dropped with its status', async () => {
      const inner = family === 4 ? ipv4Udp(10) : ipv6Udp(10);
      const bytes = new Uint8Array(32 + inner.length + 64);
      bytes.set(inner, 32);
      const view = { bytes, offset: 32, length: inner.length };
      expect(tx.sealPayload(view, family === 4 ? 4 : 41)).to.equal(EspStatus.OK);
      const esp = bytes.slice(view.offset, view.offset + view.length);
      const first = once(receiver, 'packet');
      await sender.send(esp, port, loopback);
      await first;
      const replay = once(receiver, 'drop') as Promise<[number, string]>;
      await sender.send(esp, port, loopback);
      expect((await replay).slice(0, 2)).to.deep.equal([EspStatus.REPLAY, 'REPLAY']);
      const forged = Uint8Array.from(esp);
      forged[forged.length - 1]! ^= 1;
      forged[7] = 0x7f; // a new sequence number, so the ICV is what fails
      const bad = once(receiver, 'drop') as Promise<[number, string]>;
      await sender.send(forged, port, loopback);
      expect((await bad)[1]).to.equal('BAD_ICV');
    });

    it('without an SA database, ESP is handed on untouched', async () => {
      const plain = new EspUdpTransport({ type: family === 4 ? 'udp4' : 'udp6', port: 0, address: loopback });
      const plainPort = (await plain.bind()).port;
      const seen = once(plain, 'esp') as Promise<[EspDatagramView]>;
      await sender.send(Uint8Array.of(0, 0, 0x45, 0, 0, 0, 0, 1, 9, 9), plainPort, loopback);
      const [view] = await seen;
      expect(hexOfBytes(view.data())).to.equal('00004500000000010909');
      await plain.close();
    });
  });
}
