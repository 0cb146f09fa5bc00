/**
 * The SA database (by SPI, by destination, bounded) and the security policy (selectors and
 * actions), including the VTEP case: VXLAN (UDP 4789) between two VTEP addresses.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { EspStatus } from '../../src/esp/errors.js';
import { POLICY_ACTION_BYPASS, POLICY_ACTION_DISCARD, POLICY_ACTION_PROTECT, SecurityPolicy } from '../../src/esp/policy.js';
import { SecurityAssociation } from '../../src/esp/sa.js';
import { SaDatabase } from '../../src/esp/sad.js';
import { BufferPool } from '../../src/pool/pool.js';
import { EncapFields, LAYER_IP, compileEncap, readEncap, writeEncap } from '../../src/wire/encap.js';
import { innerFrame } from '../helpers/frames.js';
import { ALGORITHM_CASES, dataOf, expectEspError, hexOfBytes, inBuffer, ipv4, ipv4Udp, ipv6, ipv6Udp, keysOf, pattern, udp } from './fixtures.js';

const gcm = ALGORITHM_CASES[0]!;
const saWith = (spi: number, extra: Record<string, unknown> = {}): SecurityAssociation => new SecurityAssociation({ spi, ...keysOf(gcm), ...extra });

describe('esp/sad', () => {
  describe('SaDatabase', () => {
    it('finds SAs by SPI, including SPIs above 2^31 and SPIs that collide in the table', () => {
      const sad = new SaDatabase({ capacity: 8 });
      const spis = [0x100, 0x80000000, 0xffffffff, 0x101, 0x7fffffff, 0x12345678];
      for (const spi of spis) sad.add(saWith(spi));
      for (const spi of spis) expect(sad.get(spi)!.spi).to.equal(spi);
      expect(sad.get(0x102)).to.equal(undefined);
      expect(sad.size).to.equal(6);
      expect([...sad].map((sa) => sa.spi).sort((a, b) => a - b)).to.deep.equal([...spis].sort((a, b) => a - b));
    });

    it('refuses a duplicate SPI (EXISTS) and more than its capacity (LIMIT)', () => {
      const sad = new SaDatabase({ capacity: 2 });
      sad.add(saWith(0x100));
      expectEspError(() => sad.add(saWith(0x100)), 'EXISTS', 'spi');
      sad.add(saWith(0x200));
      expectEspError(() => sad.add(saWith(0x300)), 'LIMIT', 'capacity');
      expect(sad.delete(0x100)).to.equal(true);
      sad.add(saWith(0x300));
      expectEspError(() => new SaDatabase({ capacity: 0 }), 'BAD_CONFIG', 'capacity');
      expectEspError(() => new SaDatabase({ size: 3 } as never), 'BAD_CONFIG', 'size');
    });

    it('property: add/delete/get behave as a Map (backward-shift deletion keeps every chain)', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 256, max: 300 })), { maxLength: 200 }), (ops) => {
          const sad = new SaDatabase({ capacity: 64 });
          const model = new Map<number, SecurityAssociation>();
          for (const [add, spi] of ops) {
            if (add) {
              if (model.has(spi)) continue;
              const sa = saWith(spi);
              sad.add(sa);
              model.set(spi, sa);
            } else {
              expect(sad.delete(spi)).to.equal(model.delete(spi));
            }
            expect(sad.size).to.equal(model.size);
          }
          for (let spi = 256; spi <= 300; spi++) expect(sad.get(spi)).to.equal(model.get(spi));
        }),
        { numRuns: 200 },
      );
    });

    it('lists SAs by destination', () => {
      const sad = new SaDatabase();
      sad.add(saWith(0x100, { source: '192.0.2.1', destination: '192.0.2.2' }));
      sad.add(saWith(0x101, { mode: 'tunnel', tunnel: { source: '192.0.2.1', destination: '192.0.2.2' } }));
      sad.add(saWith(0x102, { destination: '2001:0db8::0002' }));
      expect(sad.byDestination('192.0.2.2').map((sa) => sa.spi)).to.deep.equal([0x100, 0x101]);
      expect(sad.byDestination('2001:db8::2').map((sa) => sa.spi)).to.deep.equal([0x102]);
      expect(sad.byDestination('2001:DB8:0:0::2').map((sa) => sa.spi)).to.deep.equal([0x102]);
      expect(sad.byDestination('not an address')).to.deep.equal([]);
      sad.delete(0x100);
      expect(sad.byDestination('192.0.2.2').map((sa) => sa.spi)).to.deep.equal([0x101]);
      expect(sad.byDestination('192.0.2.9')).to.deep.equal([]);
    });

    it('opens packets through the SA their SPI names; counts unknown SPIs and non-ESP', () => {
      const sad = new SaDatabase();
      const config = (spi: number) => ({ spi, ...keysOf(gcm), udpEncapsulation: spi === 0x300 });
      for (const spi of [0x100, 0x200, 0x300]) sad.add(new SecurityAssociation(config(spi)));
      for (const spi of [0x100, 0x200, 0x300]) {
        const p = ipv4Udp(spi >> 8);
        const view = inBuffer(new SecurityAssociation(config(spi)).seal(p));
        expect(sad.openBuffer(view)).to.equal(EspStatus.OK);
        expect(sad.lastSa!.spi).to.equal(spi);
        expect(hexOfBytes(dataOf(view))).to.equal(hexOfBytes(p));
      }
      expect(sad.openBuffer(inBuffer(new SecurityAssociation(config(0x400)).seal(ipv4Udp(1))))).to.equal(EspStatus.UNKNOWN_SPI);
      expect(sad.openBuffer(inBuffer(ipv4Udp(10)))).to.equal(EspStatus.BAD_PACKET); // UDP to 4789: not an ESP port
      const bare = inBuffer(new SecurityAssociation({ ...config(0x200), outboundSeq: 7n }).seal(ipv4Udp(3)).subarray(20));
      expect(sad.openPayload(bare)).to.equal(EspStatus.OK);
      expect(sad.openPayload(inBuffer(Uint8Array.of(0xff)))).to.equal(EspStatus.NAT_KEEPALIVE);
      expect(sad.openPayload(inBuffer(new Uint8Array(12)))).to.equal(EspStatus.NON_ESP);
      expect([sad.stats.unknownSpi, sad.stats.badPacket, sad.stats.natKeepalive, sad.stats.nonEsp]).to.deep.equal([1, 1, 1, 1]);
    });
  });

  describe('SecurityPolicy', () => {
    it('protects VXLAN (UDP 4789) between two VTEPs and nothing else', () => {
      const sa = saWith(0x1000);
      const policy = new SecurityPolicy();
      policy.add({ selector: { protocol: 'udp', source: '192.0.2.1', destination: '192.0.2.2', destinationPort: 4789 }, action: 'protect', sa });
      const vxlan = inBuffer(ipv4Udp(50, { source: '192.0.2.1', destination: '192.0.2.2', destinationPort: 4789 }));
      expect(policy.protect(vxlan)).to.equal(EspStatus.OK);
      expect(policy.lastAction).to.equal(POLICY_ACTION_PROTECT);
      expect(vxlan.bytes[vxlan.offset + 9]).to.equal(50);
      for (const other of [
        ipv4Udp(50, { source: '192.0.2.1', destination: '192.0.2.3', destinationPort: 4789 }),
        ipv4Udp(50, { source: '192.0.2.1', destination: '192.0.2.2', destinationPort: 4790 }),
        ipv4(udp(1, 4789, pattern(4)), { protocol: 6, source: '192.0.2.1', destination: '192.0.2.2' }),
      ]) {
        const view = inBuffer(other);
        expect(policy.protect(view)).to.equal(EspStatus.OK);
        expect(policy.lastAction).to.equal(POLICY_ACTION_BYPASS);
        expect(hexOfBytes(dataOf(view))).to.equal(hexOfBytes(other));
      }
      expect([policy.protectedPackets, policy.bypassedPackets, sa.stats.sealed]).to.deep.equal([1, 3, 1]);
    });

    it('first match wins; prefixes, port ranges, IPv6, discard and the default action', () => {
      const a = saWith(0x100);
      const b = saWith(0x200);
      const policy = new SecurityPolicy({
        defaultAction: 'discard',
        rules: [
          { selector: { protocol: 'udp', destination: '10.0.0.0/8', destinationPort: [5000, 5999] }, action: 'bypass' },
          { selector: { destination: '10.1.0.0/16' }, sa: a },
          { selector: { source: '2001:db8::/33', protocol: 17, sourcePort: 40000 }, sa: b },
        ],
      });
      const at = (p: Uint8Array): number => {
        policy.protect(inBuffer(p));
        return policy.lastAction;
      };
      expect(at(ipv4Udp(1, { destination: '10.9.9.9', destinationPort: 5500 }))).to.equal(POLICY_ACTION_BYPASS);
      expect(at(ipv4Udp(1, { destination: '10.1.2.3', destinationPort: 6000 }))).to.equal(POLICY_ACTION_PROTECT);
      expect(a.stats.sealed).to.equal(1);
      expect(at(ipv4Udp(1, { destination: '11.1.2.3' }))).to.equal(POLICY_ACTION_DISCARD);
      expect(at(ipv6Udp(1, { source: '2001:db8:7fff:0:0:0:0:1' }))).to.equal(POLICY_ACTION_PROTECT);
      expect(b.stats.sealed).to.equal(1);
      expect(at(ipv6Udp(1, { source: '2001:db8:8000:0:0:0:0:1' }))).to.equal(POLICY_ACTION_DISCARD);
      // Ports are found behind IPv6 extension headers.
      expect(at(ipv6(ipv6Udp(1).subarray(40), 17, { extensions: [[0, 0], [60, 0]] }))).to.equal(POLICY_ACTION_PROTECT);
      expect(policy.stats.policyDiscard).to.equal(2);
      expect(policy.match(new Uint8Array(3), 0, 3)).to.equal(null);
      expect(policy.protect(inBuffer(Uint8Array.of(0x45, 0, 0)))).to.equal(EspStatus.TRUNCATED);
      expect(policy.protect(inBuffer(new Uint8Array(3)))).to.equal(EspStatus.BAD_PACKET);
    });

    it('refuses bad rules, naming the field', () => {
      const policy = new SecurityPolicy({ limit: 1 });
      expectEspError(() => policy.add({ action: 'protect' }), 'BAD_CONFIG', 'rules[0].sa');
      expectEspError(() => policy.add({ action: 'allow' as never }), 'BAD_CONFIG', 'rules[0].action');
      expectEspError(() => policy.add({ selector: { destinationPort: 4789 }, action: 'bypass' }), 'BAD_CONFIG', 'rules[0].selector.protocol');
      expectEspError(() => policy.add({ selector: { source: '10.0.0.0/33' }, action: 'bypass' }), 'BAD_CONFIG', 'rules[0].selector.source');
      expectEspError(() => policy.add({ selector: { source: '10.0.0.0/8', destination: '2001:db8::/32' }, action: 'bypass' }), 'BAD_CONFIG', 'rules[0].selector.destination');
      expectEspError(() => policy.add({ selector: { protocol: 'udp', sourcePort: [10, 5] }, action: 'bypass' }), 'BAD_CONFIG', 'rules[0].selector.sourcePort');
      expectEspError(() => policy.add({ selector: { protocol: 'bgp' }, action: 'bypass' }), 'BAD_CONFIG', 'rules[0].selector.protocol');
      expectEspError(() => policy.add({ selector: { vni: 5 } as never, action: 'bypass' }), 'BAD_CONFIG', 'rules[0].selector.vni');
      policy.add({ action: 'bypass' });
      expectEspError(() => policy.add({ action: 'bypass' }), 'LIMIT', 'rules');
      expectEspError(() => new SecurityPolicy({ defaultAction: 'protect' as never }), 'BAD_CONFIG', 'defaultAction');
    });
  });

  it('docs/esp.md example: VXLAN between two VTEPs, sealed by policy on A, opened through the SAD on B', () => {
    const key = `0x${'5e'.repeat(20)}`;
    const aToB = { spi: 0x1001, mode: 'transport' as const, source: '192.0.2.1', destination: '192.0.2.2', algorithm: 'rfc4106(gcm(aes))', key };
    // VTEP A
    const out = new SecurityAssociation(aToB);
    const policy = new SecurityPolicy({ rules: [{ selector: { protocol: 'udp', source: '192.0.2.1', destination: '192.0.2.2', destinationPort: 4789 }, action: 'protect', sa: out }] });
    const plan = compileEncap({ tunnel: 'vxlan', vni: 4242, source: '192.0.2.1', destination: '192.0.2.2' });
    // VTEP B
    const sad = new SaDatabase();
    sad.add(new SecurityAssociation(aToB));

    const pool = new BufferPool({ capacity: 8 });
    const buf = pool.acquire()!;
    const frame = innerFrame(1111, 2222, 80);
    buf.copyFrom(frame);
    const start = writeEncap(plan, buf.bytes, buf.offset, buf.length);
    expect(start).to.be.greaterThan(0);
    buf.length += buf.offset - start;
    buf.offset = start;
    const vxlanPacket = buf.data().slice();
    expect(policy.protect(buf)).to.equal(EspStatus.OK);
    expect(policy.lastAction).to.equal(POLICY_ACTION_PROTECT);
    expect(buf.bytes[buf.offset + 9]).to.equal(50);

    expect(sad.openBuffer(buf)).to.equal(EspStatus.OK);
    expect(hexOfBytes(buf.data())).to.equal(hexOfBytes(vxlanPacket));
    const fields = new EncapFields();
    expect(readEncap(buf.bytes, buf.offset, buf.offset + buf.length, LAYER_IP, 0, fields)).to.equal(0);
    expect(fields.vni).to.equal(4242);
    expect(hexOfBytes(buf.bytes.subarray(fields.innerOffset, fields.innerOffset + fields.innerLength))).to.equal(hexOfBytes(frame));
    pool.release(buf);
  });
});
