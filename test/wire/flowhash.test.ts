/**
 * writeEncap writes nothing outside its array, whatever backs it (a pool slot, a
 * subarray, a Buffer); and the flow hash's properties: the same value from any array
 * holding the same bytes, nothing read outside the frame, ports only where they
 * belong, a port range covered evenly.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { BufferPool } from '../../src/pool/index.js';
import { compileEncap, writeEncap } from '../../src/wire/encap.js';
import { WireStatus } from '../../src/wire/errors.js';
import { flowHash, hashToPort } from '../../src/wire/flowhash.js';

const innerBytes = fc
  .record({
    etherType: fc.constantFrom(0x0800, 0x86dd, 0x8100, 0x0806, 0x88cc),
    tagged: fc.constantFrom(0x0800, 0x86dd, 0x0806),
    ihl: fc.integer({ min: 0, max: 15 }),
    protocol: fc.constantFrom(6, 17, 132, 136, 1, 47),
    fragment: fc.constantFrom(0, 0x2000, 0x0001, 0x4000),
    body: fc.uint8Array({ minLength: 0, maxLength: 120 }),
  })
  .map((r) => {
    const frame = new Uint8Array(14 + r.body.length);
    frame.set(r.body, 14);
    for (let i = 0; i < 12; i++) frame[i] = (i * 37 + r.body.length) & 0xff;
    frame[12] = r.etherType >>> 8;
    frame[13] = r.etherType & 0xff;
    const l3 = r.etherType === 0x8100 ? 18 : 14;
    if (r.etherType === 0x8100 && frame.length >= 18) {
      frame[16] = r.tagged >>> 8;
      frame[17] = r.tagged & 0xff;
    }
    if (frame.length >= l3 + 20) {
      frame[l3] = 0x40 | r.ihl;
      frame[l3 + 6] = r.fragment >>> 8;
      frame[l3 + 7] = r.fragment & 0xff;
      frame[l3 + 9] = r.protocol;
    }
    if (frame.length >= l3 + 8 && (r.etherType === 0x86dd || r.tagged === 0x86dd)) frame[l3 + 6] = r.protocol;
    return frame;
  });

/** Arrays the datapath meets: a pool slot, a plain array, a subarray of a shared buffer, a Buffer. */
type Holder = 'pool' | 'plain' | 'subarray' | 'buffer';
const pool = new BufferPool({ capacity: 4, slotSize: 2048, headroom: 448 });
function holder(kind: Holder, size: number): Uint8Array {
  if (kind === 'pool') {
    const buf = pool.acquire()!;
    pool.release(buf);
    return buf.bytes;
  }
  if (kind === 'plain') return new Uint8Array(size);
  if (kind === 'subarray') return new Uint8Array(new ArrayBuffer(size + 200), 100, size);
  return Buffer.alloc(size);
}

describe('wire/encap: writeEncap bounds', () => {
  it('never writes outside the array, even when its buffer goes on (a pool slot, a subarray)', () => {
    const plan = compileEncap({ tunnel: 'vxlan', vni: 1, source: '192.0.2.1', destination: '192.0.2.2', ethernet: { source: 1, destination: 2 } });
    const backing = new ArrayBuffer(300);
    const whole = new Uint8Array(backing);
    for (const bytes of [new Uint8Array(backing, 100, 100), Buffer.from(backing, 100, 100)]) {
      whole.fill(0xee);
      // Frame at the very start, the very end, past the end, negative or fractional lengths.
      expect(writeEncap(plan, bytes, plan.overhead - 1, 14)).to.equal(-WireStatus.NO_ROOM);
      expect(writeEncap(plan, bytes, 90, 14)).to.equal(-WireStatus.NO_ROOM);
      expect(whole.every((b) => b === 0xee)).to.equal(true);
      expect(writeEncap(plan, bytes, 100, 0)).to.equal(100 - plan.overhead);
      expect(writeEncap(plan, bytes, plan.overhead, 100 - plan.overhead)).to.equal(0);
      expect(whole.subarray(0, 100).every((b) => b === 0xee)).to.equal(true);
      expect(whole.subarray(200).every((b) => b === 0xee)).to.equal(true);
    }
  });
});

describe('wire/flowhash: properties', () => {
  it('property: the same bytes hash the same in every kind of array and at every offset; bytes outside the frame do not count', () => {
    fc.assert(
      fc.property(innerBytes, fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.uint8Array({ minLength: 2, maxLength: 2 }), (frame, at, other, fills) => {
        const reference = flowHash(frame, 0, frame.length);
        for (const kind of ['pool', 'plain', 'subarray', 'buffer'] as const) {
          const bytes = holder(kind, 1024);
          bytes.fill(fills[0]!);
          bytes.set(frame, at);
          expect(flowHash(bytes, at, frame.length)).to.equal(reference);
          bytes.fill(fills[1]!, 0, at);
          bytes.fill(fills[1]!, at + frame.length);
          expect(flowHash(bytes, at, frame.length)).to.equal(reference);
        }
        const moved = new Uint8Array(1024);
        moved.set(frame, other);
        expect(flowHash(moved, other, frame.length)).to.equal(reference);
      }),
      { numRuns: 300 },
    );
  });

  it('IPv4: ports count only for TCP/UDP/SCTP/UDP-Lite without fragmentation; the 30-bit range; no read past the length', () => {
    const frame = new Uint8Array(64);
    frame[12] = 0x08;
    frame[14] = 0x45;
    frame[23] = 17;
    frame.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
    const withPort = (port: number, protocol = 17, fragment = 0): number => {
      frame[23] = protocol;
      frame[20] = fragment >>> 8;
      frame[21] = fragment & 0xff;
      frame[34] = port >>> 8;
      frame[35] = port & 0xff;
      return flowHash(frame, 0, 64);
    };
    expect(withPort(1000)).to.not.equal(withPort(1001));
    expect(withPort(1000, 47)).to.equal(withPort(1001, 47));
    expect(withPort(1000, 17, 0x2000)).to.equal(withPort(1001, 17, 0x2000));
    expect(withPort(1000, 17, 0x4000)).to.not.equal(withPort(1001, 17, 0x4000));
    for (let port = 0; port < 2000; port++) expect(withPort(port)).to.be.within(0, 2 ** 30 - 1);
    // 34 bytes: the IPv4 header but no ports; the hash must not see byte 34.
    frame[23] = 17;
    const short = flowHash(frame, 0, 34);
    frame[34] = frame[34]! ^ 0xff;
    expect(flowHash(frame, 0, 34)).to.equal(short);
    expect(flowHash(frame, 0, 13)).to.equal(0);
    expect(flowHash(frame, 60, 14)).to.equal(0);
  });

  it('hashToPort spreads 30-bit hashes over the whole range without leaving it', () => {
    const seen = new Set<number>();
    let outside = 0;
    for (let i = 0; i < 1 << 16; i++) {
      const port = hashToPort(i << 14, 49152, 65535);
      if (port < 49152 || port > 65535) outside++;
      seen.add(port);
    }
    expect(outside).to.equal(0);
    expect(seen.size).to.equal(16384);
    expect(hashToPort(2 ** 30 - 1, 0, 65535)).to.equal(65535);
    expect(hashToPort(2 ** 30 - 1, 7, 7)).to.equal(7);
  });
});
