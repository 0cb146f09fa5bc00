import { expect } from 'chai';
import { SecurityAssociation } from '../../src/esp/sa.js';
import { XfrmError, saConfigFromXfrm } from '../../src/vtep/xfrm.js';

const KEY16 = '0x' + '01'.repeat(16);
const KEY32 = '0x' + '02'.repeat(32);

describe('vtep/xfrm: ip xfrm words to an SA', () => {
  it("maps the seeds' enc aes … auth sha256 … to AES-CBC + HMAC-SHA-256-128", () => {
    const config = saConfigFromXfrm({ src: '192.0.2.1', dst: '192.0.2.2', spi: 0x1000, mode: 'transport', enc: { name: 'aes', key: KEY32 }, auth: { name: 'sha256', key: KEY32 } });
    expect(config).to.include({ spi: 0x1000, mode: 'transport', source: '192.0.2.1', destination: '192.0.2.2', algorithm: 'cbc(aes)', authAlgorithm: 'hmac(sha256)' });
    const sa = new SecurityAssociation(config);
    expect(sa.snapshot()).to.include({ algorithm: 'aes-cbc-256-hmac-sha256' });
    sa.close();
  });

  it("maps aead 'rfc4106(gcm(aes))' KEY 128, ESN, replay window and ESP-in-UDP", () => {
    const config = saConfigFromXfrm({
      src: '192.0.2.1', dst: '192.0.2.2', spi: 0x2000, aead: { name: 'rfc4106(gcm(aes))', key: '0x' + '03'.repeat(20), icvBits: 128 },
      esn: true, replayWindow: 128, encap: { type: 'espinudp', sport: 4500, dport: 4500 },
    });
    expect(config).to.deep.include({ algorithm: 'rfc4106(gcm(aes))', esn: true, replayWindow: 128, udpEncapsulation: { sourcePort: 4500, destinationPort: 4500 } });
    const sa = new SecurityAssociation(config);
    expect(sa.snapshot()).to.include({ algorithm: 'aes-gcm-128' });
    sa.close();
  });

  it('refuses what it cannot honour, naming the field', () => {
    const base = { src: '192.0.2.1', dst: '192.0.2.2', spi: 0x1000 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, aead: { name: 'rfc4106(gcm(aes))', key: KEY16, icvBits: 64 } }, 'aead'],
      [{ ...base, aead: { name: 'x', key: KEY16 }, enc: { name: 'aes', key: KEY16 } }, 'aead'],
      [{ ...base, enc: { name: 'aes', key: KEY16 } }, 'enc'],
      [{ ...base, enc: { name: 'des', key: KEY16 }, auth: { name: 'sha256', key: KEY32 } }, 'enc'],
      [{ ...base, enc: { name: 'aes', key: KEY16 }, auth: { name: 'md5', key: KEY32 } }, 'auth'],
      [{ ...base, enc: { name: 'aes', key: KEY16 }, auth: { name: 'sha256', key: KEY32, truncBits: 96 } }, 'auth'],
    ];
    for (const [input, field] of cases) {
      try {
        saConfigFromXfrm(input as never);
        expect.fail(JSON.stringify(input));
      } catch (error) {
        expect(error, JSON.stringify(input)).to.be.instanceOf(XfrmError);
        expect((error as XfrmError).field).to.equal(field);
      }
    }
  });
});
