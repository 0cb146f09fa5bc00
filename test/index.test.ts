/** The package root exports what the docs promise (through the package name, i.e. dist/ and the exports map). */
import { expect } from 'chai';

describe('package root', () => {
  it('exports the codecs, checksums, encap builder, pcap and pool by name', async () => {
    const root = (await import('vtepkit')) as Record<string, unknown>;
    for (const name of [
      'encodeVxlan', 'decodeVxlan', 'encodeGeneve', 'decodeGeneve', 'GeneveOptionRegistry', 'GeneveOptionCursor',
      'encodeIpv4', 'decodeIpv4', 'encodeIpv6', 'decodeIpv6', 'encodeUdp', 'decodeUdp', 'encodeEthernet', 'decodeEthernet',
      'internetChecksum', 'onesComplementSum', 'udpChecksumIpv4', 'udpChecksumIpv6', 'verifyUdpChecksumIpv4',
      'compileEncap', 'writeEncap', 'readEncap', 'encapsulate', 'decapsulate', 'flowHash',
      'encodeEspHeader', 'espFrameLayout', 'readPcap', 'PcapWriter', 'BufferPool', 'WireError', 'parseMac', 'formatMac',
      'openTap', 'TapDevice', 'TapError', 'isTapAvailable',
    ]) {
      expect(root[name], name).to.be.a('function');
    }
    const decodeVxlan = root['decodeVxlan'] as (b: Uint8Array) => unknown;
    expect(decodeVxlan(Uint8Array.of(8, 0, 0, 0, 0, 0, 100, 0))).to.deep.equal({ vni: 100, flags: 8 });
  });
});
