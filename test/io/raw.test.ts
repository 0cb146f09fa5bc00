/**
 * ESP directly over IP protocol 50 with raw-socket, on loopback only (127.0.0.1 and ::1).
 * Raw sockets need root (or CAP_NET_RAW): without, the tests are skipped with the reason.
 */
import { expect } from 'chai';
import { SecurityAssociation } from '../../src/esp/sa.js';
import type { SecurityAssociationConfig } from '../../src/esp/sa.js';
import { SaDatabase } from '../../src/esp/sad.js';
import { RawEspTransport, RawEspPacketView, rawSocketMissing } from '../../src/io/raw.js';
import { ALGORITHM_CASES, hexOfBytes, ipv4Udp, ipv6Udp, keysOf, udp, pattern } from '../esp/fixtures.js';

for (const family of [4, 6] as const) {
  const loopback = family === 4 ? '127.0.0.1' : '::1';
  describe(`io/raw: ESP as IP protocol 50 over ${loopback}`, function () {
    this.timeout(10000);
    let receiver: RawEspTransport;
    let sender: RawEspTransport;
    const sad = new SaDatabase();
    const tunnelConfig: SecurityAssociationConfig = {
      spi: 0x5050_0000 + family,
      ...keysOf(ALGORITHM_CASES[3]!),
      mode: 'tunnel',
      tunnel: { source: loopback, destination: loopback },
    };
    const transportConfig: SecurityAssociationConfig = { spi: 0x5050_0100 + family, ...keysOf(ALGORITHM_CASES[1]!), source: loopback, destination: loopback };
    const tunnelTx = new SecurityAssociation(tunnelConfig);
    const transportTx = new SecurityAssociation(transportConfig);
    sad.add(new SecurityAssociation(tunnelConfig));
    sad.add(new SecurityAssociation(transportConfig));

    before(function () {
      const missing = rawSocketMissing(family);
      if (missing) {
        console.log(`      skipped: ${missing}`);
        this.skip();
      }
      receiver = new RawEspTransport({ family, sad });
      sender = new RawEspTransport({ family });
    });

    after(() => {
      receiver?.close();
      sender?.close();
    });

    /** The next opened packet with this SPI (other ESP on the host is dropped as UNKNOWN_SPI). */
    function nextPacket(spi: number): Promise<Uint8Array> {
      return new Promise((resolve) => {
        const listener = (view: RawEspPacketView, sa: SecurityAssociation): void => {
          if (sa.spi !== spi) return;
          receiver.off('packet', listener);
          resolve(view.bytes.slice(view.offset, view.offset + view.length));
        };
        receiver.on('packet', listener);
      });
    }

    it('tunnel mode: the inner packet sent is the inner packet received', async () => {
      const inner = family === 4 ? ipv4Udp(64) : ipv6Udp(64);
      const arrived = nextPacket(tunnelConfig.spi);
      await sender.sealAndSend(tunnelTx, inner, family === 4 ? 4 : 41, loopback);
      expect(hexOfBytes(await arrived)).to.equal(hexOfBytes(inner));
    });

    it('transport mode: the UDP datagram arrives behind the IP header the kernel built', async () => {
      const datagram = udp(1234, 4789, pattern(40));
      const arrived = nextPacket(transportConfig.spi);
      await sender.sealAndSend(transportTx, datagram, 17, loopback);
      const packet = await arrived;
      if (family === 4) {
        // IPv4 raw sockets deliver the header: openBuffer rebuilt it with protocol 17.
        expect(packet[9]).to.equal(17);
        expect((packet[2]! << 8) | packet[3]!).to.equal(packet.length);
        expect(hexOfBytes(packet.subarray(20))).to.equal(hexOfBytes(datagram));
      } else {
        // IPv6 raw sockets deliver the payload only: openPayload gives the datagram.
        expect(hexOfBytes(packet)).to.equal(hexOfBytes(datagram));
      }
    });

    it('a replay is dropped with REPLAY', async () => {
      const inner = family === 4 ? ipv4Udp(8) : ipv6Udp(8);
      const bytes = new Uint8Array(32 + inner.length + 64);
      bytes.set(inner, 32);
      const view = { bytes, offset: 32, length: inner.length };
      tunnelTx.sealPayload(view, family === 4 ? 4 : 41);
      const esp = bytes.slice(view.offset, view.offset + view.length);
      const first = nextPacket(tunnelConfig.spi);
      await sender.send(esp, loopback);
      await first;
      const drop = new Promise<string>((resolve) => {
        const listener = (_status: number, reason: string): void => {
          if (reason === 'UNKNOWN_SPI') return;
          receiver.off('drop', listener);
          resolve(reason);
        };
        receiver.on('drop', listener);
      });
      await sender.send(esp, loopback);
      expect(await drop).to.equal('REPLAY');
    });
  });
}
