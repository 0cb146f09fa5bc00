/**
 * Independent judge: tshark (Wireshark 4.0's ESP dissector, libgcrypt) decrypts a pcap of our
 * ESP packets when given the SAs in its `esp_sa` table, checks the ICV, and dissects what is
 * inside: VXLAN between two VTEPs, the inner Ethernet frame, its IPv4 and UDP, with valid
 * checksums (so the IP header our transport mode rebuilds on the far side is the one we sealed).
 *
 * The UAT row format (tshark -G / Wireshark's packet-ipsec.c): protocol, source, destination,
 * SPI, encryption algorithm, encryption key, authentication algorithm, authentication key,
 * passed as `-o uat:esp_sa:"IPv4","*","*","0x…","AES-GCM with 16 octet ICV [RFC4106]","0x…","NULL",""`.
 * Wireshark 4.0 has neither ChaCha20-Poly1305 for ESP nor ESN, so those are judged by scapy.
 */
import { expect } from 'chai';
import { SecurityAssociation } from '../../src/esp/sa.js';
import type { SecurityAssociationConfig } from '../../src/esp/sa.js';
import { encapsulate } from '../../src/wire/encap.js';
import { LINKTYPE_RAW } from '../../src/wire/pcap.js';
import { innerFrame } from '../helpers/frames.js';
import { tsharkAll, tsharkDissect, tsharkMissing, tsharkProblems } from '../helpers/judges.js';
import { ALGORITHM_CASES, keysOf } from './fixtures.js';

type Layers = Record<string, unknown>;

interface Case {
  name: string;
  config: SecurityAssociationConfig;
  packet: Uint8Array;
  vni: number;
  outerFamily: 4 | 6;
  udp: boolean;
  encryption: string;
  authentication: string;
}

const ENCRYPTION: Record<string, string> = {
  'aes-gcm-128': 'AES-GCM with 16 octet ICV [RFC4106]',
  'aes-gcm-256': 'AES-GCM with 16 octet ICV [RFC4106]',
  'aes-cbc-128-hmac-sha256': 'AES-CBC [RFC3602]',
  'aes-cbc-256-hmac-sha256': 'AES-CBC [RFC3602]',
};

const cases: Case[] = [];
let spi = 0x7000;
for (const algorithm of ALGORITHM_CASES.filter((c) => ENCRYPTION[c.algorithm] !== undefined)) {
  const shapes: { shape: string; mode: 'transport' | 'tunnel'; vteps: 4 | 6; outer: 4 | 6; udp: boolean }[] = [
    { shape: 'transport over VXLAN/IPv4', mode: 'transport', vteps: 4, outer: 4, udp: false },
    { shape: 'transport over VXLAN/IPv6, ESP in UDP', mode: 'transport', vteps: 6, outer: 6, udp: true },
    { shape: 'tunnel IPv6 outer, VXLAN/IPv4 inside', mode: 'tunnel', vteps: 4, outer: 6, udp: false },
    { shape: 'tunnel IPv4 outer in UDP, VXLAN/IPv6 inside', mode: 'tunnel', vteps: 6, outer: 4, udp: true },
  ];
  for (const s of shapes) {
    spi++;
    const vni = spi & 0xffff;
    const vteps = s.vteps === 4 ? { source: '192.0.2.1', destination: '192.0.2.2' } : { source: '2001:db8::1', destination: '2001:db8::2' };
    const vxlan = encapsulate({ tunnel: 'vxlan', vni, ...vteps, udpChecksum: true }, innerFrame(1000 + spi, 2000, 80));
    const tunnel = s.outer === 4 ? { source: '198.51.100.1', destination: '198.51.100.2' } : { source: '2001:db8:ff::1', destination: '2001:db8:ff::2' };
    const config: SecurityAssociationConfig = { spi, ...keysOf(algorithm), mode: s.mode, ...(s.mode === 'tunnel' ? { tunnel } : {}), udpEncapsulation: s.udp };
    const sa = new SecurityAssociation({ ...config, outboundSeq: BigInt(spi) });
    cases.push({
      name: `${algorithm.algorithm} ${s.shape}`,
      config,
      packet: sa.seal(vxlan),
      vni,
      outerFamily: s.outer,
      udp: s.udp,
      encryption: ENCRYPTION[algorithm.algorithm]!,
      authentication: algorithm.aead ? 'NULL' : 'HMAC-SHA-256-128 [RFC4868]',
    });
  }
}

function uatRow(c: Case): string {
  const key = c.config.key as string;
  const authKey = (c.config.authKey as string | undefined) ?? '';
  const protocol = c.outerFamily === 4 ? 'IPv4' : 'IPv6';
  return `uat:esp_sa:"${protocol}","*","*","0x${c.config.spi.toString(16).padStart(8, '0')}","${c.encryption}","${key}","${c.authentication}","${authKey}"`;
}



describe('esp: tshark decrypts our ESP and dissects what is inside', function () {
  this.timeout(60000);
  let dissected: { _source: { layers: Layers } }[] = [];

  before(function () {
    const missing = tsharkMissing();
    if (missing) {
      console.log(`      skipped: ${missing}`);
      this.skip();
    }
    const args = ['-o', 'esp.enable_encryption_decode:TRUE', '-o', 'esp.enable_authentication_check:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
    for (const c of cases) args.push('-o', uatRow(c));
    dissected = tsharkDissect(LINKTYPE_RAW, cases.map((c) => c.packet), args);
  });

  it('reads every packet', () => {
    expect(dissected).to.have.length(cases.length);
  });

  cases.forEach((c, i) => {
    it(c.name, () => {
      const layers = dissected[i]!._source.layers;
      expect(tsharkProblems(layers), 'malformed, error or bad checksum').to.deep.equal([]);
      const esp = tsharkAll(layers, 'esp')[0]!;
      expect(esp['esp.spi']).to.equal(`0x${c.config.spi.toString(16).padStart(8, '0')}`);
      expect(esp['esp.sequence']).to.equal(String(c.config.spi + 1));
      expect(esp['esp.decrypted_data'], 'decrypted').to.be.a('string');
      const icv = esp['esp.icv_tree'] as Layers | undefined;
      if (c.authentication === 'NULL') expect(icv?.['esp.icv_bad'] ?? '0', 'GCM tag').to.equal('0');
      else expect(icv?.['esp.icv_good'], 'HMAC-SHA-256-128').to.equal('1');
      if (c.udp) {
        expect(layers['udpencap'], 'RFC 3948 UDP encapsulation').to.not.equal(undefined);
        expect(tsharkAll(layers, 'udp')[0]!['udp.srcport']).to.equal('4500');
      }
      // Inside: VXLAN with our VNI, then the inner frame's IPv4 and UDP.
      expect(tsharkAll(layers, 'vxlan')[0]!['vxlan.vni']).to.equal(String(c.vni));
      const ips = tsharkAll(layers, 'ip');
      const inner = ips[ips.length - 1]!;
      expect(inner).to.include({ 'ip.src': '10.0.0.1', 'ip.dst': '10.0.0.2', 'ip.checksum.status': '1' });
      const udps = tsharkAll(layers, 'udp');
      expect(udps[udps.length - 1]).to.include({ 'udp.srcport': String(1000 + c.config.spi), 'udp.dstport': '2000' });
    });
  });
});
