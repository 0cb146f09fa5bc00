import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { WireStatus } from '../../src/wire/errors.js';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_RAW,
  PCAP_DEFAULT_SNAPLEN,
  PCAP_HEADER_LENGTH,
  PCAP_RECORD_HEADER_LENGTH,
  PcapHeaderFields,
  PcapRecordFields,
  PcapWriter,
  decodePcapHeader,
  decodePcapRecordHeader,
  encodePcapHeader,
  encodePcapRecordHeader,
  pcapFileBytes,
  readPcap,
  readPcapHeader,
  readPcapRecordHeader,
} from '../../src/wire/pcap.js';
import type { PcapFile } from '../../src/wire/pcap.js';
import { runScapy, scapyMissing, tsharkMissing } from '../helpers/judges.js';
import { expectWireError, guarded, hex, onlyWireError, toHex } from '../helpers/wire.js';

const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z

function pattern(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 13 + seed * 5 + 1) & 0xff);
}

/** Collects sink chunks, copying them as the sink contract requires. */
function collector(): { sink: (chunk: Uint8Array) => void; chunks: Uint8Array[]; bytes: () => Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    chunks,
    sink: (chunk) => chunks.push(chunk.slice()),
    bytes: () => Uint8Array.from(Buffer.concat(chunks)),
  };
}

/** A clock that returns the given nanosecond timestamps in turn. */
function clockOf(...ns: (bigint | number)[]): () => bigint | number {
  let i = 0;
  return () => ns[i++ % ns.length]!;
}

/** Big- or little-endian 32-bit word as hex. */
function u32(value: number, littleEndian: boolean): string {
  const b = Buffer.alloc(4);
  if (littleEndian) b.writeUInt32LE(value >>> 0);
  else b.writeUInt32BE(value >>> 0);
  return b.toString('hex');
}

function u16(value: number, littleEndian: boolean): string {
  const b = Buffer.alloc(2);
  if (littleEndian) b.writeUInt16LE(value);
  else b.writeUInt16BE(value);
  return b.toString('hex');
}

/** A pcap file written by hand, field by field, in either byte order and resolution. */
function fileByHand(opts: {
  littleEndian: boolean;
  nanosecond: boolean;
  linkType: number;
  snaplen: number;
  versionMinor?: number;
  records: { seconds: number; fraction: number; data: Uint8Array; originalLength?: number; swapLengths?: boolean }[];
}): Uint8Array {
  const le = opts.littleEndian;
  let text = u32(opts.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, le) + u16(2, le) + u16(opts.versionMinor ?? 4, le);
  text += u32(0, le) + u32(0, le) + u32(opts.snaplen, le) + u32(opts.linkType, le);
  for (const r of opts.records) {
    const original = r.originalLength ?? r.data.length;
    const [first, second] = r.swapLengths ? [original, r.data.length] : [r.data.length, original];
    text += u32(r.seconds, le) + u32(r.fraction, le) + u32(first, le) + u32(second, le) + toHex(r.data);
  }
  return hex(text);
}

/** Ethernet II / IPv4 / UDP frame written byte by byte (no codec involved). */
function ethIpv4UdpByHand(opts: { dstMac: number[]; srcMac: number[]; srcIp: number[]; dstIp: number[]; srcPort: number; dstPort: number; payload: Uint8Array; id: number }): Uint8Array {
  const udpLength = 8 + opts.payload.length;
  const totalLength = 20 + udpLength;
  const f = new Uint8Array(14 + totalLength);
  f.set(opts.dstMac, 0);
  f.set(opts.srcMac, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  const ip = f.subarray(14, 34);
  ip[0] = 0x45;
  ip[2] = totalLength >> 8;
  ip[3] = totalLength & 0xff;
  ip[4] = opts.id >> 8;
  ip[5] = opts.id & 0xff;
  ip[8] = 64;
  ip[9] = 17;
  ip.set(opts.srcIp, 12);
  ip.set(opts.dstIp, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (ip[i]! << 8) | ip[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip[10] = (~sum >> 8) & 0xff;
  ip[11] = ~sum & 0xff;
  const udp = f.subarray(34, 42);
  udp[0] = opts.srcPort >> 8;
  udp[1] = opts.srcPort & 0xff;
  udp[2] = opts.dstPort >> 8;
  udp[3] = opts.dstPort & 0xff;
  udp[4] = udpLength >> 8;
  udp[5] = udpLength & 0xff; // checksum 0: none (allowed over IPv4)
  f.set(opts.payload, 42);
  return f;
}

describe('wire/pcap', () => {
  describe('file header', () => {
    it('encodes little-endian, microsecond, version 2.4, snaplen 262144 by default', () => {
      const buf = new Uint8Array(26).fill(0xee);
      expect(encodePcapHeader({ linkType: LINKTYPE_ETHERNET }, buf, 1)).to.equal(24);
      // draft-ietf-opsawg-pcap 4: magic, 2, 4, Reserved1 = 0, Reserved2 = 0, SnapLen, LinkType.
      expect(toHex(buf)).to.equal('ee' + 'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000' + 'ee');
      expect(decodePcapHeader(buf, 1)).to.deep.equal({
        littleEndian: true, nanosecond: false, versionMajor: 2, versionMinor: 4, snaplen: 262144, linkType: 1, linkTypeInfo: 0,
      });
      expect([LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6]).to.deep.equal([1, 101, 228, 229]);
      expect([PCAP_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, PCAP_DEFAULT_SNAPLEN]).to.deep.equal([24, 16, 262144]);
    });

    it('round-trips link types and snaplens at their limits', () => {
      for (const linkType of [0, 1, 101, 228, 229, 0xffff]) {
        for (const snaplen of [1, 65535, 262144, 0x7fffffff]) {
          const buf = new Uint8Array(24);
          encodePcapHeader({ linkType, snaplen }, buf, 0);
          const h = decodePcapHeader(buf);
          expect([h.linkType, h.snaplen]).to.deep.equal([linkType, snaplen]);
        }
      }
    });

    it('rejects bad header fields', () => {
      const buf = new Uint8Array(24);
      expectWireError(() => encodePcapHeader({ linkType: 0x10000 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapHeader({ linkType: -1 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapHeader({ linkType: 1, snaplen: 0 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapHeader({ linkType: 1, snaplen: 0x80000000 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapHeader({ linkType: 1, snaplen: 1.5 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapHeader({ linkType: 1 }, buf, 1), 'TRUNCATED');
    });

    it('reads all four magic / byte-order combinations', () => {
      for (const littleEndian of [true, false]) {
        for (const nanosecond of [false, true]) {
          const file = fileByHand({ littleEndian, nanosecond, linkType: LINKTYPE_RAW, snaplen: 65535, records: [] });
          expect(decodePcapHeader(file), `le=${littleEndian} ns=${nanosecond}`).to.deep.equal({
            littleEndian, nanosecond, versionMajor: 2, versionMinor: 4, snaplen: 65535, linkType: 101, linkTypeInfo: 0,
          });
        }
      }
      // The four magic numbers as they appear in a file (pcap-savefile(5)).
      expect(toHex(fileByHand({ littleEndian: true, nanosecond: false, linkType: 1, snaplen: 1, records: [] }).subarray(0, 4))).to.equal('d4c3b2a1');
      expect(toHex(fileByHand({ littleEndian: false, nanosecond: false, linkType: 1, snaplen: 1, records: [] }).subarray(0, 4))).to.equal('a1b2c3d4');
      expect(toHex(fileByHand({ littleEndian: true, nanosecond: true, linkType: 1, snaplen: 1, records: [] }).subarray(0, 4))).to.equal('4d3cb2a1');
      expect(toHex(fileByHand({ littleEndian: false, nanosecond: true, linkType: 1, snaplen: 1, records: [] }).subarray(0, 4))).to.equal('a1b23c4d');
    });

    it('keeps only the low 16 bits as the link type, reporting the FCS bits raw', () => {
      // LinkType field 0x14000001: FCS length 1 (x 16 bits), f bit set, Ethernet.
      const file = hex('d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000014');
      const h = decodePcapHeader(file);
      expect([h.linkType, h.linkTypeInfo]).to.deep.equal([1, 0x1400]);
    });

    it('rejects what is not classic pcap 2.x', () => {
      expectWireError(() => decodePcapHeader(hex('00000000 0200 0400 00000000 00000000 ffff0000 01000000')), 'BAD_VALUE');
      expectWireError(() => decodePcapHeader(hex('d4c3b2a2 0200 0400 00000000 00000000 ffff0000 01000000')), 'BAD_VALUE');
      // pcapng Section Header Block.
      const ng = expectWireError(() => decodePcapHeader(hex('0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff')), 'UNSUPPORTED');
      expect(ng.message).to.match(/pcapng/);
      expectWireError(() => decodePcapHeader(hex('d4c3b2a1 0100 0400 00000000 00000000 ffff0000 01000000')), 'BAD_VERSION');
      expectWireError(() => decodePcapHeader(hex('d4c3b2a1 0300 0000 00000000 00000000 ffff0000 01000000')), 'BAD_VERSION');
      expectWireError(() => decodePcapHeader(hex('d4c3b2a1 0200 0500 00000000 00000000 ffff0000 01000000')), 'BAD_VERSION');
      // Version 2.0 .. 2.3 are read, as libpcap does.
      expect(decodePcapHeader(hex('d4c3b2a1 0200 0200 00000000 00000000 ffff0000 01000000')).versionMinor).to.equal(2);
    });

    it('every truncation of the header is TRUNCATED; `end` bounds the reader', () => {
      const file = fileByHand({ littleEndian: false, nanosecond: true, linkType: 1, snaplen: 100, records: [] });
      const out = new PcapHeaderFields();
      for (let length = 0; length < 24; length++) {
        const t = guarded(file.subarray(0, length));
        expectWireError(() => decodePcapHeader(t), 'TRUNCATED');
        expectWireError(() => readPcap(t), 'TRUNCATED');
        expect(readPcapHeader(t, 0, t.length, out)).to.equal(WireStatus.TRUNCATED);
      }
      expect(readPcapHeader(file, 0, 23, out)).to.equal(WireStatus.TRUNCATED);
      expect(readPcapHeader(file, 0, 25, out)).to.equal(WireStatus.TRUNCATED);
      expect(readPcapHeader(file, -1, 24, out)).to.equal(WireStatus.TRUNCATED);
      expect(readPcapHeader(file, Number.NaN, 24, out)).to.equal(WireStatus.TRUNCATED);
      expect(readPcapRecordHeader(file, 0, Number.NaN, true, false, new PcapRecordFields())).to.equal(WireStatus.TRUNCATED);
      expect(readPcapHeader(file, 0, 24, out)).to.equal(WireStatus.OK);
    });
  });

  describe('record header', () => {
    it('encodes little-endian seconds, microseconds, captured and original length', () => {
      const buf = new Uint8Array(16);
      expect(encodePcapRecordHeader({ seconds: 0x01020304, microseconds: 999999, capturedLength: 60, originalLength: 1514 }, buf, 0)).to.equal(16);
      expect(toHex(buf)).to.equal('04030201' + '3f420f00' + '3c000000' + 'ea050000');
      expect(decodePcapRecordHeader(buf, 0, true, false)).to.deep.equal({
        timestampSeconds: 0x01020304, timestampFraction: 999999, capturedLength: 60, originalLength: 1514,
      });
      // The same bytes read as big-endian are other numbers, but valid ones except the fraction.
      expectWireError(() => decodePcapRecordHeader(buf, 0, false, false), 'BAD_VALUE');
    });

    it('round-trips fields at their limits and rejects out-of-range ones', () => {
      const buf = new Uint8Array(16);
      for (const h of [
        { seconds: 0, microseconds: 0, capturedLength: 0, originalLength: 0 },
        { seconds: 0xffffffff, microseconds: 999999, capturedLength: 0xffffffff, originalLength: 0xffffffff },
      ]) {
        encodePcapRecordHeader(h, buf, 0);
        expect(decodePcapRecordHeader(buf, 0, true, false)).to.deep.equal({
          timestampSeconds: h.seconds, timestampFraction: h.microseconds, capturedLength: h.capturedLength, originalLength: h.originalLength,
        });
      }
      const ok = { seconds: 1, microseconds: 1, capturedLength: 1, originalLength: 1 };
      expectWireError(() => encodePcapRecordHeader({ ...ok, seconds: -1 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapRecordHeader({ ...ok, seconds: 2 ** 32 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapRecordHeader({ ...ok, microseconds: 1_000_000 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapRecordHeader({ ...ok, capturedLength: 2 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapRecordHeader({ ...ok, originalLength: 2 ** 32 }, buf, 0), 'BAD_VALUE');
      expectWireError(() => encodePcapRecordHeader(ok, buf, 1), 'TRUNCATED');
    });

    it('checks the fraction against the resolution: < 10^6 us, < 10^9 ns', () => {
      const out = new PcapRecordFields();
      const us = hex('00000000' + u32(999_999, true) + '00000000 00000000');
      const usBad = hex('00000000' + u32(1_000_000, true) + '00000000 00000000');
      const nsMax = hex('00000000' + u32(999_999_999, false) + '00000000 00000000');
      const nsBad = hex('00000000' + u32(1_000_000_000, false) + '00000000 00000000');
      expect(readPcapRecordHeader(us, 0, 16, true, false, out)).to.equal(WireStatus.OK);
      expect(readPcapRecordHeader(usBad, 0, 16, true, false, out)).to.equal(WireStatus.BAD_VALUE);
      expect(readPcapRecordHeader(usBad, 0, 16, true, true, out)).to.equal(WireStatus.OK);
      expect(readPcapRecordHeader(nsMax, 0, 16, false, true, out)).to.equal(WireStatus.OK);
      expect(out.timestampFraction).to.equal(999_999_999);
      expect(readPcapRecordHeader(nsBad, 0, 16, false, true, out)).to.equal(WireStatus.BAD_VALUE);
      for (let length = 0; length < 16; length++) {
        expect(readPcapRecordHeader(guarded(us.subarray(0, length)), 0, length, true, false, out)).to.equal(WireStatus.TRUNCATED);
        expectWireError(() => decodePcapRecordHeader(guarded(us.subarray(0, length)), 0, true, false), 'TRUNCATED');
      }
      expect(readPcapRecordHeader(us, 0, 17, true, false, out)).to.equal(WireStatus.TRUNCATED);
    });
  });

  describe('readPcap', () => {
    const records = [
      { seconds: T0, fraction: 1, data: pattern(60, 1) },
      { seconds: T0 + 1, fraction: 500_000, data: pattern(1, 2), originalLength: 1500 },
      { seconds: T0 + 2, fraction: 999_999, data: new Uint8Array(0) },
    ];

    it('reads records in every magic / byte order as subarrays of the input', () => {
      for (const littleEndian of [true, false]) {
        for (const nanosecond of [false, true]) {
          const file = fileByHand({ littleEndian, nanosecond, linkType: LINKTYPE_ETHERNET, snaplen: 1500, records });
          const parsed = readPcap(file);
          expect([parsed.linkType, parsed.snaplen, parsed.nanosecond, parsed.littleEndian]).to.deep.equal([1, 1500, nanosecond, littleEndian]);
          expect(parsed.records).to.have.length(3);
          parsed.records.forEach((r, i) => {
            const want = records[i]!;
            expect([r.timestampSeconds, r.timestampFraction, r.originalLength]).to.deep.equal([want.seconds, want.fraction, want.originalLength ?? want.data.length]);
            expect(toHex(r.data)).to.equal(toHex(want.data));
            expect(r.data.buffer, 'no copy').to.equal(file.buffer);
          });
        }
      }
    });

    it('un-swaps the lengths of version 2.2 files, and of 2.3 files where captured > original (libpcap)', () => {
      const data = pattern(10);
      const v22 = readPcap(fileByHand({ littleEndian: true, nanosecond: false, linkType: 1, snaplen: 100, versionMinor: 2, records: [{ seconds: 1, fraction: 0, data, originalLength: 90, swapLengths: true }] }));
      expect([v22.records[0]!.data.length, v22.records[0]!.originalLength]).to.deep.equal([10, 90]);
      const v23 = readPcap(fileByHand({ littleEndian: false, nanosecond: false, linkType: 1, snaplen: 100, versionMinor: 3, records: [{ seconds: 1, fraction: 0, data, originalLength: 90, swapLengths: true }] }));
      expect([v23.records[0]!.data.length, v23.records[0]!.originalLength]).to.deep.equal([10, 90]);
      const v23plain = readPcap(fileByHand({ littleEndian: false, nanosecond: false, linkType: 1, snaplen: 100, versionMinor: 3, records: [{ seconds: 1, fraction: 0, data, originalLength: 90 }] }));
      expect([v23plain.records[0]!.data.length, v23plain.records[0]!.originalLength]).to.deep.equal([10, 90]);
    });

    it('every truncation of a file is TRUNCATED unless it ends exactly between records', () => {
      const file = fileByHand({ littleEndian: true, nanosecond: false, linkType: 1, snaplen: 1500, records });
      const boundaries = new Map<number, number>([[24, 0]]);
      let at = 24;
      records.forEach((r, i) => {
        at += 16 + r.data.length;
        boundaries.set(at, i + 1);
      });
      expect(at).to.equal(file.length);
      for (let length = 0; length < file.length; length++) {
        const t = guarded(file.subarray(0, length));
        const count = boundaries.get(length);
        if (count === undefined) {
          expectWireError(() => readPcap(t), 'TRUNCATED');
        } else {
          expect(readPcap(t).records, `length ${length}`).to.have.length(count);
        }
      }
    });

    it('a record longer than the snaplen is BAD_LENGTH; snaplen 0 means 262144', () => {
      const big = pattern(101);
      expectWireError(() => readPcap(fileByHand({ littleEndian: true, nanosecond: false, linkType: 1, snaplen: 100, records: [{ seconds: 0, fraction: 0, data: big }] })), 'BAD_LENGTH');
      expect(readPcap(fileByHand({ littleEndian: true, nanosecond: false, linkType: 1, snaplen: 101, records: [{ seconds: 0, fraction: 0, data: big }] })).records).to.have.length(1);
      expect(readPcap(fileByHand({ littleEndian: true, nanosecond: false, linkType: 1, snaplen: 0, records: [{ seconds: 0, fraction: 0, data: big }] })).records).to.have.length(1);
      // A captured length near 2^32 in a tiny file: refused without reading or allocating.
      const huge = hex('d4c3b2a1 0200 0400 00000000 00000000 ffffff7f 01000000' + '00000000 00000000 ffffff7f ffffff7f 00');
      expectWireError(() => readPcap(huge), 'TRUNCATED');
      const overSnap = hex('d4c3b2a1 0200 0400 00000000 00000000 00010000 01000000' + '00000000 00000000 ffffffff ffffffff 00');
      expectWireError(() => readPcap(overSnap), 'BAD_LENGTH');
    });

    it('a timestamp fraction out of range is BAD_VALUE; a captured length above the original is tolerated', () => {
      const bad = fileByHand({ littleEndian: true, nanosecond: false, linkType: 1, snaplen: 100, records: [{ seconds: 0, fraction: 1_000_000, data: pattern(3) }] });
      expectWireError(() => readPcap(bad), 'BAD_VALUE');
      const odd = readPcap(fileByHand({ littleEndian: true, nanosecond: false, linkType: 1, snaplen: 100, records: [{ seconds: 0, fraction: 0, data: pattern(30), originalLength: 20 }] }));
      expect([odd.records[0]!.data.length, odd.records[0]!.originalLength]).to.deep.equal([30, 20]);
    });
  });

  describe('PcapWriter', () => {
    it('writes the file header at construction, then a record header and the frame per packet', () => {
      const c = collector();
      const writer = new PcapWriter(LINKTYPE_ETHERNET, c.sink, { clock: clockOf(BigInt(T0) * 1_000_000_000n + 123_456_789n) });
      expect(c.chunks).to.have.length(1);
      expect(toHex(c.chunks[0]!)).to.equal('d4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000');
      const frame = pattern(42);
      writer.write(frame);
      expect(c.chunks).to.have.length(3);
      expect(decodePcapRecordHeader(c.chunks[1]!, 0, true, false)).to.deep.equal({
        timestampSeconds: T0, timestampFraction: 123_456, capturedLength: 42, originalLength: 42,
      });
      expect(toHex(c.chunks[2]!)).to.equal(toHex(frame));
      expect([writer.packets, writer.bytes]).to.deep.equal([1, 24 + 16 + 42]);
    });

    it('reuses one record-header buffer and passes a whole frame through without copying', () => {
      const seen: Uint8Array[] = [];
      const writer = new PcapWriter(LINKTYPE_RAW, (chunk) => seen.push(chunk), { clock: () => 0 });
      const a = pattern(20);
      const b = pattern(30);
      writer.write(a);
      writer.write(b);
      expect(seen[1]).to.equal(seen[3], 'the record header chunk is reused: the sink must copy or consume it');
      expect(seen[2]).to.equal(a);
      expect(seen[4]).to.equal(b);
    });

    it('writes a sub-range of a pool buffer and truncates to the snaplen, keeping the original length', () => {
      const c = collector();
      const writer = new PcapWriter(LINKTYPE_ETHERNET, c.sink, { snaplen: 64, clock: () => 0 });
      const slab = pattern(300, 9);
      writer.write(slab, 100, 50, 5_000_000_001n);
      writer.write(slab, 0, 200, 1);
      writer.write(slab, 300, 0, 2);
      const file = readPcap(c.bytes());
      expect(file.snaplen).to.equal(64);
      expect(file.records.map((r) => [r.data.length, r.originalLength, r.timestampSeconds, r.timestampFraction])).to.deep.equal([
        [50, 50, 5, 0],
        [64, 200, 0, 0],
        [0, 0, 0, 0],
      ]);
      expect(toHex(file.records[0]!.data)).to.equal(toHex(slab.subarray(100, 150)));
      expect(toHex(file.records[1]!.data)).to.equal(toHex(slab.subarray(0, 64)));
    });

    it('converts number and bigint nanosecond timestamps to seconds + microseconds (rounding down)', () => {
      const c = collector();
      const writer = new PcapWriter(LINKTYPE_RAW, c.sink);
      const frame = pattern(4);
      const cases: [bigint | number, number, number][] = [
        [0, 0, 0],
        [999, 0, 0],
        [1000, 0, 1],
        [999_999_999, 0, 999_999],
        [1_000_000_000, 1, 0],
        [BigInt(T0) * 1_000_000_000n + 999_999_999n, T0, 999_999],
        [0xffffffffn * 1_000_000_000n + 999_999_999n, 0xffffffff, 999_999],
        [T0 * 1e9 + 500_000_000, T0, 500_000], // exactly representable as a double
        [T0 * 1e9 - 1024, T0 - 1, 999_998],
      ];
      for (const [ns] of cases) writer.write(frame, 0, 4, ns);
      const got = readPcap(c.bytes()).records.map((r) => [r.timestampSeconds, r.timestampFraction]);
      expect(got).to.deep.equal(cases.map(([, s, us]) => [s, us]));
    });

    it('uses the wall clock by default', () => {
      const c = collector();
      const before = Date.now();
      new PcapWriter(LINKTYPE_RAW, c.sink).write(pattern(4));
      const after = Date.now();
      const r = readPcap(c.bytes()).records[0]!;
      const ms = r.timestampSeconds * 1000 + r.timestampFraction / 1000;
      expect(ms).to.be.within(before - 5, after + 5);
    });

    it('refuses bad ranges, timestamps and header fields with WireError', () => {
      const writer = new PcapWriter(LINKTYPE_RAW, () => {}, { clock: () => 0 });
      const frame = pattern(10);
      expectWireError(() => writer.write(frame, 5, 6), 'TRUNCATED');
      expectWireError(() => writer.write(frame, 11), 'BAD_VALUE');
      expectWireError(() => writer.write(frame, -1, 2), 'TRUNCATED');
      expectWireError(() => writer.write(frame, 0, 1.5), 'BAD_VALUE');
      expectWireError(() => writer.write(frame, 0, 10, -1), 'BAD_VALUE');
      expectWireError(() => writer.write(frame, 0, 10, -1n), 'BAD_VALUE');
      expectWireError(() => writer.write(frame, 0, 10, Number.NaN), 'BAD_VALUE');
      expectWireError(() => writer.write(frame, 0, 10, 2n ** 32n * 1_000_000_000n), 'BAD_VALUE');
      expect(writer.packets).to.equal(0);
      expectWireError(() => new PcapWriter(0x10000, () => {}), 'BAD_VALUE');
      expectWireError(() => new PcapWriter(1, () => {}, { snaplen: 0 }), 'BAD_VALUE');
      expectWireError(() => pcapFileBytes(1, [frame], { snaplen: -100 }), 'BAD_VALUE');
    });

    it('pcapFileBytes round-trips frames through readPcap', () => {
      const frames = [pattern(0), pattern(1), pattern(60, 1), pattern(1514, 2), pattern(9000, 3)];
      const bytes = pcapFileBytes(LINKTYPE_ETHERNET, frames, { clock: clockOf(1_000, 2_000_000) });
      expect(bytes.length).to.equal(24 + frames.reduce((n, f) => n + 16 + f.length, 0));
      const file = readPcap(bytes);
      expect(file.records.map((r) => toHex(r.data))).to.deep.equal(frames.map(toHex));
      expect(file.records.map((r) => r.timestampFraction)).to.deep.equal([1, 2000, 1, 2000, 1]);
      const truncated = readPcap(pcapFileBytes(LINKTYPE_ETHERNET, frames, { snaplen: 100, clock: () => 0 }));
      expect(truncated.records.map((r) => [r.data.length, r.originalLength])).to.deep.equal([[0, 0], [1, 1], [60, 60], [100, 1514], [100, 9000]]);
    });
  });

  describe('property tests', () => {
    it('random bytes: readPcap throws only WireError and its records stay inside the input', () => {
      const header = new PcapHeaderFields();
      const record = new PcapRecordFields();
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(130), fc.nat(130), fc.boolean(), fc.boolean(), (bytes, a, b, le, ns) => {
          const view = guarded(bytes);
          const checkRecords = (input: Uint8Array): void => {
            let file: PcapFile | undefined;
            onlyWireError(() => {
              file = readPcap(input);
            });
            if (file !== undefined) {
              for (const r of file.records) {
                expect(r.data.buffer).to.equal(input.buffer);
                expect(r.data.byteOffset).to.be.at.least(input.byteOffset + 40);
                expect(r.data.byteOffset + r.data.length).to.be.at.most(input.byteOffset + input.length);
              }
            }
          };
          checkRecords(view);
          // Random bytes behind a valid header exercise the record loop.
          const withHeader = new Uint8Array(24 + bytes.length);
          encodePcapHeader({ linkType: 1, snaplen: 64 }, withHeader, 0);
          withHeader.set(bytes, 24);
          checkRecords(guarded(withHeader));
          const start = Math.min(a, b);
          const end = Math.max(a, b);
          expect(readPcapHeader(view, start, end, header)).to.be.oneOf([
            WireStatus.OK, WireStatus.TRUNCATED, WireStatus.BAD_VALUE, WireStatus.BAD_VERSION, WireStatus.UNSUPPORTED,
          ]);
          expect(readPcapRecordHeader(view, start, end, le, ns, record)).to.be.oneOf([WireStatus.OK, WireStatus.TRUNCATED, WireStatus.BAD_VALUE]);
          onlyWireError(() => decodePcapHeader(view, start));
          onlyWireError(() => decodePcapRecordHeader(view, start, le, ns));
        }),
        { numRuns: 3000 },
      );
    });

    it('mutated valid files: only WireError, and a file that parses keeps its records in bounds', () => {
      fc.assert(
        fc.property(
          fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }),
          fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
          (frames, mutations) => {
            const file = pcapFileBytes(LINKTYPE_RAW, frames, { clock: () => 0, snaplen: 32 });
            for (const [at, value] of mutations) file[at % file.length] = value;
            const view = guarded(file);
            let parsed: PcapFile | undefined;
            onlyWireError(() => {
              parsed = readPcap(view);
            });
            for (const r of parsed?.records ?? []) {
              expect(r.data.byteOffset + r.data.length).to.be.at.most(view.byteOffset + view.length);
            }
          },
        ),
        { numRuns: 2000 },
      );
    });
  });

  describe('independent judges: tshark and scapy', function () {
    this.timeout(60000);
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'vtepkit-pcap-'));
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const frames = [
      ethIpv4UdpByHand({ dstMac: [0x02, 0, 0, 0, 0, 0x02], srcMac: [0x02, 0, 0, 0, 0, 0x01], srcIp: [10, 1, 2, 3], dstIp: [10, 1, 2, 4], srcPort: 40000, dstPort: 9999, payload: pattern(18), id: 1 }),
      ethIpv4UdpByHand({ dstMac: [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee], srcMac: [0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f], srcIp: [192, 0, 2, 77], dstIp: [198, 51, 100, 9], srcPort: 5353, dstPort: 12345, payload: pattern(100, 1), id: 2 }),
      ethIpv4UdpByHand({ dstMac: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], srcMac: [0x02, 0, 0, 0, 0, 0x03], srcIp: [172, 16, 0, 1], dstIp: [172, 16, 255, 255], srcPort: 7, dstPort: 7777, payload: pattern(400, 2), id: 3 }),
    ];
    const expected = [
      { ethSrc: '02:00:00:00:00:01', ipSrc: '10.1.2.3', dstPort: '9999' },
      { ethSrc: '0a:1b:2c:3d:4e:5f', ipSrc: '192.0.2.77', dstPort: '12345' },
      { ethSrc: '02:00:00:00:00:03', ipSrc: '172.16.0.1', dstPort: '7777' },
    ];
    const stamps = [BigInt(T0) * 1_000_000_000n + 1_000n, BigInt(T0 + 1) * 1_000_000_000n + 250_000_000n, BigInt(T0 + 2) * 1_000_000_000n + 999_999_000n];

    type TsharkLayers = Record<string, Record<string, unknown>>;
    function tsharkJson(file: string): TsharkLayers[] {
      const r = spawnSync('tshark', ['-r', file, '-T', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
      return (JSON.parse(r.stdout) as { _source: { layers: TsharkLayers } }[]).map((p) => p._source.layers);
    }

    function skipWithout(context: Mocha.Context, missing: string): void {
      if (missing) {
        console.log(`      skipped: ${missing}`);
        context.skip();
      }
    }

    it('tshark dissects our Ethernet capture (written through a file-descriptor sink): count, lengths, times, addresses, ports', function () {
      skipWithout(this, tsharkMissing());
      const path = join(dir, 'ours.pcap');
      const fd = openSync(path, 'w');
      try {
        // A synchronous sink: consumes each chunk before returning, so reuse is safe.
        const writer = new PcapWriter(LINKTYPE_ETHERNET, (chunk) => void writeSync(fd, chunk), { snaplen: 128, clock: clockOf(...stamps) });
        for (const f of frames) writer.write(f);
      } finally {
        closeSync(fd);
      }
      const packets = tsharkJson(path);
      expect(packets).to.have.length(3);
      packets.forEach((layers, i) => {
        const frame = layers.frame!;
        expect(frame['frame.len'], `frame ${i}`).to.equal(String(frames[i]!.length));
        expect(frame['frame.cap_len'], `frame ${i}`).to.equal(String(Math.min(frames[i]!.length, 128)));
        const epoch = stamps[i]! / 1000n;
        expect(frame['frame.time_epoch']).to.equal(`${epoch / 1_000_000n}.${String(epoch % 1_000_000n).padStart(6, '0')}000`);
        expect(layers.eth!['eth.src']).to.equal(expected[i]!.ethSrc);
        expect(layers.ip!['ip.src']).to.equal(expected[i]!.ipSrc);
        expect(layers.ip!['ip.proto']).to.equal('17');
        expect(layers.udp!['udp.dstport']).to.equal(expected[i]!.dstPort);
      });
    });

    it('tshark dissects a LINKTYPE_RAW capture as IPv4', function () {
      skipWithout(this, tsharkMissing());
      const path = join(dir, 'raw.pcap');
      writeFileSync(path, pcapFileBytes(LINKTYPE_RAW, frames.map((f) => f.subarray(14)), { clock: () => 0 }));
      const packets = tsharkJson(path);
      expect(packets.map((p) => p.ip!['ip.src'])).to.deep.equal(expected.map((e) => e.ipSrc));
      expect(packets.map((p) => p.udp!['udp.dstport'])).to.deep.equal(expected.map((e) => e.dstPort));
      expect(packets.every((p) => p.eth === undefined)).to.equal(true);
    });

    it('readPcap reads what tshark rewrites (pcap microsecond and nanosecond)', function () {
      skipWithout(this, tsharkMissing());
      const ours = join(dir, 'in.pcap');
      writeFileSync(ours, pcapFileBytes(LINKTYPE_ETHERNET, frames, { clock: clockOf(...stamps) }));
      for (const [format, nanosecond] of [['pcap', false], ['nsecpcap', true]] as const) {
        const out = join(dir, `out-${format}.pcap`);
        const r = spawnSync('tshark', ['-r', ours, '-w', out, '-F', format], { encoding: 'utf8' });
        expect(r.status, r.stderr).to.equal(0);
        const file = readPcap(new Uint8Array(readFileSync(out)));
        expect([file.linkType, file.nanosecond], format).to.deep.equal([LINKTYPE_ETHERNET, nanosecond]);
        expect(file.records.map((x) => toHex(x.data))).to.deep.equal(frames.map(toHex));
        expect(file.records.map((x) => x.originalLength)).to.deep.equal(frames.map((f) => f.length));
        expect(file.records.map((x) => [x.timestampSeconds, x.timestampFraction])).to.deep.equal(
          stamps.map((ns) => [Number(ns / 1_000_000_000n), Number((ns % 1_000_000_000n) / (nanosecond ? 1n : 1000n))]),
        );
      }
    });

    it('readPcap reads what scapy wrpcap writes in both byte orders and resolutions', function () {
      skipWithout(this, scapyMissing());
      const outputs = runScapy<{ endian: string; nano: boolean; file: string }[]>(
        `
import os, tempfile
out = []
d = tempfile.mkdtemp(dir=${JSON.stringify(dir)})
for endian in ('<', '>'):
    for nano in (False, True):
        path = os.path.join(d, 'x.pcap')
        w = RawPcapWriter(path, linktype=1, endianness=endian, nano=nano, snaplen=65535)
        w.write_header(None)  # write_packet alone does not put the header first
        for i, b in enumerate(INPUT):
            w.write_packet(b, sec=${T0} + i, usec=(123456789 if nano else 123456) + i)
        w.close()
        out.append(dict(endian=endian, nano=nano, file=open(path, 'rb').read().hex()))
print(json.dumps(out))
`,
        frames,
      );
      expect(outputs).to.have.length(4);
      for (const o of outputs) {
        const file = readPcap(hex(o.file));
        const where = `endian ${o.endian} nano ${o.nano}`;
        expect([file.littleEndian, file.nanosecond, file.linkType, file.snaplen], where).to.deep.equal([o.endian === '<', o.nano, 1, 65535]);
        expect(file.records.map((x) => toHex(x.data)), where).to.deep.equal(frames.map(toHex));
        expect(file.records.map((x) => [x.timestampSeconds, x.timestampFraction]), where).to.deep.equal(
          frames.map((_, i) => [T0 + i, (o.nano ? 123456789 : 123456) + i]),
        );
      }
      // And our header matches the header scapy writes for the same parameters (little-endian, microseconds).
      const scapyLe = hex(outputs.find((o) => o.endian === '<' && !o.nano)!.file);
      const mine = new Uint8Array(24);
      encodePcapHeader({ linkType: 1, snaplen: 65535 }, mine, 0);
      expect(toHex(mine)).to.equal(toHex(scapyLe.subarray(0, 24)));
    });
  });
});
