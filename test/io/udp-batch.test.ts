/**
 * The batched UDP socket (sendmmsg/recvmmsg in the addon) on loopback only:
 * 127.0.0.1, ::1, and a multicast group joined on lo.
 *
 * Judges: node:dgram (the kernel path through libuv) on the other end, for what we
 * send and what we receive, and the pool's own counters for buffer ownership.
 *
 * Skipped (with a loud note) only when the addon is not built; with
 * VTEPKIT_REQUIRE_ADDON=1 (CI) a missing addon fails.
 */
import { createSocket, type Socket } from 'node:dgram';
import { expect } from 'chai';
import {
  BatchUdpError,
  BatchUdpTransport,
  UDP_ADDRESS_BYTES,
  batchUdpMissingMessage,
  batchUdpProblem,
  isBatchUdpAvailable,
  udpAddonProblem,
} from '../../src/io/udp-batch.js';
import type { BatchUdpOptions, UdpAddon } from '../../src/io/udp-batch.js';
import { tapAddon } from '../../src/io/native.js';
import { BufferPool } from '../../src/pool/pool.js';
import type { PacketBuffer } from '../../src/pool/pool.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6.js';
import { collectUncaught } from '../helpers/uncaught.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const LOOPBACK4 = Uint8Array.of(127, 0, 0, 1);
const LOOPBACK6 = parseIpv6('::1');

interface Received {
  bytes: number[];
  source: string;
  port: number;
  /** Where the datagram sat in its buffer, relative to the pool's headroom. */
  offsetFromHeadroom: number;
}

function expectBatchUdpError(fn: () => unknown, code: string, field?: string): BatchUdpError {
  try {
    fn();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(BatchUdpError);
    expect((error as BatchUdpError).code, (error as Error).message).to.equal(code);
    if (field !== undefined) expect((error as BatchUdpError).field, (error as Error).message).to.equal(field);
    return error as BatchUdpError;
  }
  expect.fail(`expected BatchUdpError ${code}, nothing was thrown`);
}

async function waitFor(what: string, predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A datagram of `length` bytes that says which one it is: [seq hi, seq lo, tag, then (seq + i) & 0xff]. */
function datagram(seq: number, length: number, tag: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seq + i) & 0xff;
  if (length >= 3) {
    bytes[0] = seq >>> 8;
    bytes[1] = seq & 0xff;
    bytes[2] = tag;
  }
  return bytes;
}

function sourceText(family: 4 | 6, sources: Uint8Array, at: number): string {
  if (family === 4) {
    // An IPv4 source is the first 4 bytes; the other 12 must be zero.
    for (let i = 4; i < UDP_ADDRESS_BYTES; i++) expect(sources[at + i], 'bytes 4..15 of an IPv4 source').to.equal(0);
    return formatIpv4(((sources[at]! << 24) | (sources[at + 1]! << 16) | (sources[at + 2]! << 8) | sources[at + 3]!) >>> 0);
  }
  return formatIpv6(sources, at);
}

/** Starts `t` reading into `pool`, copying each datagram out and releasing its buffer. */
function collect(t: BatchUdpTransport, pool: BufferPool, budget?: number): { received: Received[]; batches: number[] } {
  const received: Received[] = [];
  const batches: number[] = [];
  t.start(
    pool,
    (buffers, sources, ports, count) => {
      batches.push(count);
      for (let i = 0; i < count; i++) {
        const buf = buffers[i]!;
        received.push({
          bytes: [...buf.bytes.subarray(buf.offset, buf.offset + buf.length)],
          source: sourceText(t.family, sources, i * UDP_ADDRESS_BYTES),
          port: ports[i]!,
          offsetFromHeadroom: buf.offset - pool.headroom,
        });
        expect(buf.release()).to.equal(true);
      }
    },
    budget,
  );
  return { received, batches };
}

// ---------------------------------------------------------------------------

describe('io/udp-batch', function () {
  const available = isBatchUdpAvailable();
  const open: BatchUdpTransport[] = [];
  const sockets: Socket[] = [];

  before(function () {
    if (!available) {
      const why = batchUdpProblem() ?? 'unknown';
      if (process.env.VTEPKIT_REQUIRE_ADDON === '1') throw new Error(`VTEPKIT_REQUIRE_ADDON=1 but the batched UDP socket is unavailable: ${why}`);
      console.warn(`\n  !!! SKIPPING the batched UDP socket tests: ${why}. Build it with \`npm run build:addon\`.\n`);
    }
  });

  afterEach(() => {
    for (const t of open.splice(0)) t.close();
    for (const s of sockets.splice(0)) s.close();
  });

  function transport(options: BatchUdpOptions, native?: UdpAddon): BatchUdpTransport {
    const t = BatchUdpTransport.open(options, native);
    open.push(t);
    return t;
  }

  async function dgram(type: 'udp4' | 'udp6', address: string): Promise<Socket> {
    const s = createSocket(type);
    sockets.push(s);
    await new Promise<void>((resolve) => s.bind(0, address, resolve));
    return s;
  }

  // -------------------------------------------------------------------------
  // Without the addon (these run whether or not it is built)
  // -------------------------------------------------------------------------

  describe('without the addon', () => {
    it('says what is missing and how to build it', () => {
      expect(udpAddonProblem(undefined, 'the TAP addon is not built (x does not exist)')).to.equal('the TAP addon is not built (x does not exist)');
      const old = udpAddonProblem({ open() {}, close() {}, getIfindex() {} });
      expect(old).to.match(/older version/).and.match(/udpSendBatch/).and.match(/rebuild/);
      const message = batchUdpMissingMessage(old!);
      expect(message).to.include('npm run build:addon').and.include('node:dgram').and.include('apt-get install python3 make g++');
      if (available) expect(udpAddonProblem(tapAddon())).to.equal(undefined);
    });

    it('checks the options before the addon: BAD_OPTION names the field', () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ port: 70000 }, 'port'],
        [{ port: -1 }, 'port'],
        [{ port: 1.5 }, 'port'],
        [{ port: 0, address: 'eth0' }, 'address'],
        [{ port: 0, address: 'fe80::1%' }, 'address'],
        [{ port: 0, group: 'x' }, 'group'],
        [{ port: 0, group: '10.0.0.1' }, 'group'],
        [{ port: 0, group: 'fe80::1' }, 'group'],
        [{ port: 0, address: '127.0.0.1', group: 'ff02::1' }, 'group'],
        [{ port: 0, address: '::1', family: 4 }, 'address'],
        [{ port: 0, family: 5 }, 'family'],
        [{ port: 0, ttl: 0 }, 'ttl'],
        [{ port: 0, ttl: 256 }, 'ttl'],
        [{ port: 0, multicastTtl: 300 }, 'multicastTtl'],
        [{ port: 0, multicastLoopback: 'yes' }, 'multicastLoopback'],
        [{ port: 0, receiveBufferSize: 100 }, 'receiveBufferSize'],
        [{ port: 0, sendBufferSize: 2 ** 31 }, 'sendBufferSize'],
        [{ port: 0, reuseAddr: 1 }, 'reuseAddr'],
        [{ port: 0, sendQueueSize: 0 }, 'sendQueueSize'],
        [{ port: 0, sendQueueSize: 1025 }, 'sendQueueSize'],
        [{ port: 0, colour: 'blue' }, 'colour'],
      ];
      for (const [options, field] of cases) {
        const error = expectBatchUdpError(() => BatchUdpTransport.open(options as unknown as BatchUdpOptions), 'BAD_OPTION', field);
        expect(error.message).to.include(field);
      }
      expectBatchUdpError(() => BatchUdpTransport.open(null as unknown as BatchUdpOptions), 'BAD_OPTION', 'options');
    });
  });

  // -------------------------------------------------------------------------
  // With the addon
  // -------------------------------------------------------------------------

  describe('with the addon', function () {
    beforeEach(function () {
      if (!available) this.skip();
    });

    for (const family of [4, 6] as const) {
      const host = family === 4 ? '127.0.0.1' : '::1';
      const hostBytes = family === 4 ? LOOPBACK4 : LOOPBACK6;

      it(`IPv${family}: batches of 1..200 datagrams both ways, one sendmmsg per flush, sources and ports right`, async () => {
        const a = transport({ port: 0, address: host });
        const b = transport({ port: 0, address: host });
        expect(a.family).to.equal(family);
        expect(a.address()).to.deep.equal({ address: host, port: a.port });
        const poolA = new BufferPool({ capacity: 512 });
        const poolB = new BufferPool({ capacity: 512 });
        const atA = collect(a, poolA);
        const atB = collect(b, poolB);
        let seq = 0;
        for (const size of [1, 2, 3, 63, 64, 127, 128, 129, 200]) {
          for (const [from, to, at, tag] of [[a, b, atB, 0xab], [b, a, atA, 0xba]] as const) {
            at.received.length = 0;
            const sent: Uint8Array[] = [];
            const batchesBefore = from.stats.txBatches;
            for (let i = 0; i < size; i++) {
              // 8 + 60 bytes: a VXLAN header and a minimum frame, with a few other lengths mixed in.
              const d = datagram(seq++, i % 7 === 3 ? 1 + (i % 50) : 68, tag);
              sent.push(d);
              expect(from.queue(d, 0, d.length, hostBytes, 0, to.port)).to.equal(true);
            }
            expect(from.queued).to.equal(size);
            expect(from.flush()).to.equal(size);
            expect(from.queued).to.equal(0);
            expect(from.stats.txBatches - batchesBefore).to.equal(1);
            await waitFor(`${size} datagrams`, () => at.received.length >= size);
            // One socket, one sender, loopback: order is kept.
            expect(at.received.map((r) => r.bytes)).to.deep.equal(sent.map((d) => [...d]));
            for (const r of at.received) {
              expect(r.source).to.equal(host);
              expect(r.port).to.equal(from.port);
              expect(r.offsetFromHeadroom).to.equal(0);
            }
          }
        }
        expect(atB.batches.every((n) => n >= 1 && n <= 128)).to.equal(true);
        expect(Math.max(...atB.batches), 'the receiver takes more than one datagram per callback').to.be.greaterThan(1);
        expect(a.stats.txPackets).to.equal(b.stats.rxPackets);
        expect(b.stats.txPackets).to.equal(a.stats.rxPackets);
        expect(a.stats.txBytes).to.equal(b.stats.rxBytes);
        expect(a.stats).to.include({ txErrors: 0, txAgain: 0, txInvalid: 0, rxNoBuffer: 0, rxOversize: 0, rxErrors: 0 });
        expect(b.stats.rxBatches).to.equal(atB.batches.length);
        a.close();
        b.close();
        expect(poolA.inUse).to.equal(0);
        expect(poolB.inUse).to.equal(0);
      });

      it(`IPv${family}: interoperates with node:dgram in both directions`, async () => {
        const t = transport({ port: 0, address: host });
        const s = await dgram(family === 4 ? 'udp4' : 'udp6', host);
        const pool = new BufferPool({ capacity: 256 });
        const at = collect(t, pool, 16);
        // node:dgram -> batched: 50 datagrams, more than the budget, in several callbacks.
        for (let i = 0; i < 50; i++) s.send(datagram(i, 68, 1), t.port, host);
        await waitFor('50 datagrams from node:dgram', () => at.received.length >= 50);
        expect(at.received.map((r) => r.bytes)).to.deep.equal(Array.from({ length: 50 }, (_, i) => [...datagram(i, 68, 1)]));
        expect(at.received.every((r) => r.source === host && r.port === s.address().port)).to.equal(true);
        expect(at.batches.every((n) => n <= 16)).to.equal(true);
        // batched -> node:dgram, through sendBatch with pool buffers.
        const got: { bytes: number[]; address: string; port: number }[] = [];
        s.on('message', (message, remote) => got.push({ bytes: [...message], address: remote.address, port: remote.port }));
        const buffers: PacketBuffer[] = [];
        const addresses = new Uint8Array(UDP_ADDRESS_BYTES * 120);
        const ports = new Int32Array(120);
        for (let i = 0; i < 120; i++) {
          const buf = pool.acquire()!;
          expect(buf.copyFrom(datagram(1000 + i, 68, 2))).to.equal(true);
          buffers.push(buf);
          addresses.set(hostBytes, i * UDP_ADDRESS_BYTES);
          ports[i] = s.address().port;
        }
        expect(t.sendBatch(buffers, 120, addresses, ports)).to.equal(120);
        pool.releaseBatch(buffers); // the kernel copied them
        await waitFor('120 datagrams at node:dgram', () => got.length >= 120);
        expect(got.map((g) => g.bytes)).to.deep.equal(Array.from({ length: 120 }, (_, i) => [...datagram(1000 + i, 68, 2)]));
        expect(got.every((g) => g.address === host && g.port === t.port)).to.equal(true);
        t.close();
        expect(pool.inUse).to.equal(0);
      });
    }

    it('sends one batch to several destinations, each its own address and port (queue from an address table, queueIpv4)', async () => {
      const sender = transport({ port: 0, address: '127.0.0.1' });
      const receivers = [await dgram('udp4', '127.0.0.1'), await dgram('udp4', '127.0.0.1'), await dgram('udp4', '127.0.0.2')];
      const got: number[][] = receivers.map(() => []);
      receivers.forEach((r, k) => r.on('message', (message) => got[k]!.push(message[1]!)));
      const addressBook = new Uint8Array(8);
      addressBook.set(Uint8Array.of(127, 0, 0, 2), 4);
      for (let i = 0; i < 90; i++) {
        const k = i % 3;
        const d = datagram(i, 20, 3);
        const port = receivers[k]!.address().port;
        if (k === 0) sender.queueIpv4(d, 0, d.length, 0x7f000001, port);
        else sender.queue(d, 0, d.length, addressBook, k === 1 ? 0 : 4, port);
        if (k === 1) addressBook.set(LOOPBACK4, 0); // copied at queue(): later changes do not matter
      }
      expect(sender.flush()).to.equal(90);
      await waitFor('30 datagrams at each receiver', () => got.every((g) => g.length >= 30));
      got.forEach((g, k) => expect(g).to.deep.equal(Array.from({ length: 30 }, (_, j) => 3 * j + k)));
    });

    it('flushes by itself when the queue is full', async () => {
      const sender = transport({ port: 0, address: '127.0.0.1', sendQueueSize: 4 });
      const receiver = transport({ port: 0, address: '127.0.0.1' });
      const pool = new BufferPool({ capacity: 64 });
      const at = collect(receiver, pool);
      for (let i = 0; i < 10; i++) expect(sender.queue(datagram(i, 68, 4), 0, 68, LOOPBACK4, 0, receiver.port)).to.equal(true);
      expect(sender.stats.txBatches).to.equal(2);
      expect(sender.queued).to.equal(2);
      expect(sender.flush()).to.equal(2);
      expect(sender.stats.txBatches).to.equal(3);
      await waitFor('10 datagrams', () => at.received.length >= 10);
      expect(at.received.map((r) => r.bytes[1])).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('partial sends: a datagram the kernel refuses (EMSGSIZE) is counted and the rest of the batch goes', async () => {
      const sender = transport({ port: 0, address: '127.0.0.1' });
      const receiver = transport({ port: 0, address: '127.0.0.1' });
      const pool = new BufferPool({ capacity: 64 });
      const at = collect(receiver, pool);
      const huge = new Uint8Array(65508); // RFC 768 over IPv4: at most 65535 - 20 - 8 = 65507 bytes of payload
      for (let i = 0; i < 20; i++) {
        if (i === 5 || i === 6 || i === 19) sender.queue(huge, 0, huge.length, LOOPBACK4, 0, receiver.port);
        else sender.queue(datagram(i, 68, 5), 0, 68, LOOPBACK4, 0, receiver.port);
      }
      expect(sender.flush()).to.equal(17);
      expect(sender.stats).to.include({ txPackets: 17, txBytes: 17 * 68, txErrors: 3, txAgain: 0 });
      expect(sender.lastSendError).to.equal('EMSGSIZE');
      await waitFor('17 datagrams', () => at.received.length >= 17);
      expect(at.received.map((r) => r.bytes[1])).to.deep.equal([0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    });

    it('EAGAIN: the rest of the batch is dropped and counted in txAgain (kernel busy, simulated: loopback never fills a send buffer)', async () => {
      const real = tapAddon() as unknown as UdpAddon;
      let calls = 0;
      // A socket whose send buffer fills after 7 datagrams: the real sendmmsg for 7,
      // then what udp.c reports when the next one meets EAGAIN.
      const busy: UdpAddon = {
        ...real,
        udpSendBatch(fd, family, views, offsets, lengths, addresses, ports, count, status, gsoSegments) {
          calls++;
          const sent = real.udpSendBatch(fd, family, views, offsets, lengths, addresses, ports, Math.min(count, 7), status, gsoSegments);
          if (count > 7) {
            status[1] = 11; // EAGAIN
            status[2] = 1;
          }
          return sent;
        },
      };
      const sender = transport({ port: 0, address: '127.0.0.1' }, busy);
      const receiver = transport({ port: 0, address: '127.0.0.1' });
      const pool = new BufferPool({ capacity: 64 });
      const at = collect(receiver, pool);
      for (let i = 0; i < 30; i++) sender.queue(datagram(i, 68, 6), 0, 68, LOOPBACK4, 0, receiver.port);
      expect(sender.flush()).to.equal(7);
      expect(calls).to.equal(1);
      expect(sender.stats).to.include({ txPackets: 7, txBytes: 7 * 68, txAgain: 23, txErrors: 0 });
      expect(sender.lastSendError).to.equal('EAGAIN');
      expect(sender.queued).to.equal(0);
      await waitFor('7 datagrams', () => at.received.length >= 7);
      expect(at.received.map((r) => r.bytes[1])).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
    });

    it('refuses bad datagrams in queue() without throwing: bad range, port, address, family; closed', () => {
      const t = transport({ port: 0, address: '127.0.0.1' });
      const six = transport({ port: 0, address: '::1' });
      const buf = new Uint8Array(10);
      expect(t.queue(buf, 5, 10, LOOPBACK4, 0, 4789)).to.equal(false);
      expect(t.queue(buf, -1, 1, LOOPBACK4, 0, 4789)).to.equal(false);
      expect(t.queue(buf, 0.5, 1, LOOPBACK4, 0, 4789)).to.equal(false);
      expect(t.queue(buf, 0, 10, LOOPBACK4, 0, 0)).to.equal(false);
      expect(t.queue(buf, 0, 10, LOOPBACK4, 0, 65536)).to.equal(false);
      expect(t.queue(buf, 0, 10, LOOPBACK4, 1, 4789)).to.equal(false); // 4 address bytes from 1 run past the end
      expect(t.queue(buf, 0, 10, LOOPBACK4, -1, 4789)).to.equal(false);
      expect(six.queue(buf, 0, 10, LOOPBACK4, 0, 4789)).to.equal(false); // IPv6 needs 16 bytes
      expect(six.queueIpv4(buf, 0, 10, 0x7f000001, 4789)).to.equal(false);
      expect(t.stats.txInvalid).to.equal(7);
      expect(six.stats.txInvalid).to.equal(2);
      expect(t.flush()).to.equal(0);
      t.close();
      t.close(); // idempotent
      expect(t.isClosed).to.equal(true);
      expect(t.queue(buf, 0, 10, LOOPBACK4, 0, 4789)).to.equal(false);
      expect(t.flush()).to.equal(0);
      expect(t.stats.txInvalid).to.equal(8);
      expect(() => t.sendBatch([], 1, new Uint8Array(16), new Int32Array(1))).to.throw(BatchUdpError, /count/);
    });

    it('an empty pool is counted (rxNoBuffer), not fatal; reading resumes when buffers come back', async () => {
      const sender = transport({ port: 0, address: '127.0.0.1' });
      const receiver = transport({ port: 0, address: '127.0.0.1' });
      const pool = new BufferPool({ capacity: 16 });
      const kept: PacketBuffer[] = [];
      let hold = true;
      receiver.start(
        pool,
        (buffers, _sources, _ports, count) => {
          for (let i = 0; i < count; i++) {
            if (hold) kept.push(buffers[i]!);
            else buffers[i]!.release();
          }
        },
        64,
      );
      expect(pool.available).to.equal(0); // 16 armed, budget 64
      for (let i = 0; i < 100; i++) sender.queue(datagram(i, 68, 7), 0, 68, LOOPBACK4, 0, receiver.port);
      expect(sender.flush()).to.equal(100);
      await waitFor('100 datagrams read', () => receiver.stats.rxPackets + receiver.stats.rxNoBuffer >= 100);
      expect(receiver.stats.rxPackets).to.equal(16);
      expect(receiver.stats.rxNoBuffer).to.equal(84);
      expect(kept.map((b) => b.bytes[b.offset + 1])).to.deep.equal(Array.from({ length: 16 }, (_, i) => i));
      expect(pool.stats.exhausted).to.be.greaterThan(0);
      expect(receiver.started).to.equal(true);
      // Buffers back: the slots are re-armed at the next batch's refill, or now by a datagram that meets none.
      hold = false;
      pool.releaseBatch(kept);
      for (let i = 0; i < 40; i++) sender.queue(datagram(200 + i, 68, 7), 0, 68, LOOPBACK4, 0, receiver.port);
      sender.flush();
      await waitFor('more datagrams after the pool refilled', () => receiver.stats.rxPackets > 16);
      await waitFor('all 40 read', () => receiver.stats.rxPackets + receiver.stats.rxNoBuffer >= 140);
      expect(receiver.stats.rxPackets).to.be.greaterThan(16);
      expect(receiver.stats.rxErrors).to.equal(0);
      receiver.stop();
      expect(pool.inUse).to.equal(0);
    });

    it('a datagram longer than a slot is counted (rxOversize) and the slot is reused', async () => {
      const sender = transport({ port: 0, address: '127.0.0.1' });
      const receiver = transport({ port: 0, address: '127.0.0.1' });
      const pool = new BufferPool({ capacity: 8, slotSize: 256, headroom: 64, tailroom: 0 });
      const at = collect(receiver, pool, 4);
      const room = 256 - 64; // slotSize - headroom: the tailroom is free on receive
      sender.queue(datagram(1, room + 1, 8), 0, room + 1, LOOPBACK4, 0, receiver.port);
      sender.queue(datagram(2, room, 8), 0, room, LOOPBACK4, 0, receiver.port);
      sender.queue(datagram(3, 1000, 8), 0, 1000, LOOPBACK4, 0, receiver.port);
      sender.queue(datagram(4, 60, 8), 0, 60, LOOPBACK4, 0, receiver.port);
      expect(sender.flush()).to.equal(4);
      await waitFor('2 datagrams and 2 oversize', () => at.received.length + receiver.stats.rxOversize >= 4);
      expect(receiver.stats.rxOversize).to.equal(2);
      expect(at.received.map((r) => r.bytes.length)).to.deep.equal([room, 60]);
      expect(at.received[0]!.bytes).to.deep.equal([...datagram(2, room, 8)]);
      receiver.stop();
      expect(pool.inUse).to.equal(0);
    });

    it('receives from a multicast group joined on lo, with the source reported', async () => {
      const receiver = transport({ port: 0, group: '239.255.77.1', multicastInterface: '127.0.0.1', multicastTtl: 0 });
      expect(receiver.address().address).to.equal('0.0.0.0');
      const sender = transport({ port: 0, address: '127.0.0.1' });
      const pool = new BufferPool({ capacity: 64 });
      const at = collect(receiver, pool);
      for (let i = 0; i < 5; i++) sender.queue(datagram(i, 68, 9), 0, 68, Uint8Array.of(239, 255, 77, 1), 0, receiver.port);
      expect(sender.flush()).to.equal(5);
      await waitFor('5 multicast datagrams', () => at.received.length >= 5);
      expect(at.received.every((r) => r.source === '127.0.0.1' && r.port === sender.port)).to.equal(true);
    });

    it('reports a busy port as BIND EADDRINUSE, and SO_REUSEADDR is honoured', () => {
      const a = transport({ port: 0, address: '127.0.0.1' });
      const error = expectBatchUdpError(() => transport({ port: a.port, address: '127.0.0.1' }), 'BIND', 'port');
      expect(error.errnoCode).to.equal('EADDRINUSE');
      expect(error.syscall).to.equal('bind');
      expect(error.message).to.include(String(a.port));
      const shared = transport({ port: 0, address: '127.0.0.1', reuseAddr: true });
      const again = transport({ port: shared.port, address: '127.0.0.1', reuseAddr: true });
      expect(again.port).to.equal(shared.port);
      const bad = expectBatchUdpError(() => transport({ port: 0, address: '192.0.2.1' }), 'BIND');
      expect(bad.errnoCode).to.equal('EADDRNOTAVAIL');
    });

    it('sets the socket buffer sizes it is asked for (the kernel books twice that)', () => {
      const t = transport({ port: 0, address: '127.0.0.1', receiveBufferSize: 65536, sendBufferSize: 32768, ttl: 9 });
      expect(t.bufferSizes()).to.deep.equal({ receive: 131072, send: 65536 });
    });

    it('start/stop: typed errors, armed buffers go back to the pool, restart works', async () => {
      const t = transport({ port: 0, address: '127.0.0.1' });
      const pool = new BufferPool({ capacity: 64 });
      expectBatchUdpError(() => t.start({} as BufferPool, () => {}), 'BAD_VALUE', 'pool');
      expectBatchUdpError(() => t.start(pool, 'x' as unknown as () => void), 'BAD_VALUE', 'onBatch');
      expectBatchUdpError(() => t.start(pool, () => {}, 0), 'BAD_VALUE', 'budget');
      expectBatchUdpError(() => t.start(pool, () => {}, 1025), 'BAD_VALUE', 'budget');
      t.start(pool, () => {}, 32);
      expect(pool.inUse).to.equal(32);
      expectBatchUdpError(() => t.start(pool, () => {}), 'STARTED');
      t.stop();
      expect(t.started).to.equal(false);
      expect(pool.inUse).to.equal(0);
      const at = collect(t, pool, 8);
      const sender = transport({ port: 0, address: '127.0.0.1' });
      sender.queue(datagram(1, 68, 10), 0, 68, LOOPBACK4, 0, t.port);
      sender.flush();
      await waitFor('1 datagram after restart', () => at.received.length === 1);
      t.close();
      expect(pool.inUse).to.equal(0);
      expectBatchUdpError(() => t.start(pool, () => {}), 'CLOSED');
      expectBatchUdpError(() => t.address(), 'CLOSED');
    });

    it('an onBatch that throws is an uncaught exception like any event handler: slots re-armed, reading goes on', async () => {
      const t = transport({ port: 0, address: '127.0.0.1' });
      const sender = transport({ port: 0, address: '127.0.0.1' });
      const pool = new BufferPool({ capacity: 64 });
      const seen: number[] = [];
      let calls = 0;
      t.start(
        pool,
        (buffers, _sources, _ports, count) => {
          calls++;
          for (let i = 0; i < count; i++) seen.push(buffers[i]!.bytes[buffers[i]!.offset + 1]!);
          pool.releaseBatch(buffers, count);
          if (calls === 1) throw new Error('thrown by onBatch');
        },
        8,
      );
      // Mocha fails the running test on an uncaught exception: stand in for its listeners meanwhile.
      const uncaught = await collectUncaught(async () => {
        for (const round of [0, 1]) {
          sender.queue(datagram(10 * round, 68, 12), 0, 68, LOOPBACK4, 0, t.port);
          sender.queue(datagram(10 * round + 1, 68, 12), 0, 68, LOOPBACK4, 0, t.port);
          sender.flush();
          await waitFor(`round ${round}`, () => seen.length === 2 * (round + 1));
        }
      });
      expect(uncaught).to.have.length(1);
      expect((uncaught[0] as Error).message).to.equal('thrown by onBatch');
      expect(seen).to.deep.equal([0, 1, 10, 11]);
      expect(t.started).to.equal(true);
      expect(pool.inUse, 'the budget is armed again').to.equal(8);
    });

    it('a fatal receive error stops the reader with a typed error to onError; nothing crashes (error injected)', async () => {
      const real = tapAddon() as unknown as UdpAddon;
      // A real addon error (EBADF from a closed descriptor), delivered as udp.c delivers a failed recvmmsg.
      let nativeError: unknown;
      try {
        real.udpBind(1 << 20, 4, LOOPBACK4, 0, 0);
      } catch (error) {
        nativeError = error;
      }
      expect(nativeError).to.include({ code: 'EBADF', syscall: 'bind' });
      let deliver: ((...args: Parameters<Parameters<UdpAddon['udpCreateReader']>[8]>) => void) | undefined;
      const failing: UdpAddon = {
        ...real,
        udpCreateReader(fd, budget, views, offsets, capacities, batch, sources, ports, callback) {
          deliver = callback;
          return real.udpCreateReader(fd, budget, views, offsets, capacities, batch, sources, ports, callback);
        },
      };
      const t = transport({ port: 0, address: '127.0.0.1' }, failing);
      const pool = new BufferPool({ capacity: 16 });
      const errors: BatchUdpError[] = [];
      t.start(pool, () => {}, 8, (error) => errors.push(error));
      deliver!(0, 0, 0, 2, nativeError as Parameters<NonNullable<typeof deliver>>[4]);
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include({ code: 'RECEIVE', errnoCode: 'EBADF', syscall: 'bind' });
      expect(t.lastError).to.equal(errors[0]);
      expect(t.stats.rxErrors).to.equal(3); // 2 transient + the fatal one
      expect(t.started).to.equal(false);
      expect(pool.inUse).to.equal(0);
    });

    it('a handler that stops the transport keeps the buffers it was given', async () => {
      const t = transport({ port: 0, address: '127.0.0.1' });
      const sender = transport({ port: 0, address: '127.0.0.1' });
      const pool = new BufferPool({ capacity: 64 });
      const kept: PacketBuffer[] = [];
      t.start(pool, (buffers, _sources, _ports, count) => {
        for (let i = 0; i < count; i++) kept.push(buffers[i]!);
        t.stop();
      });
      for (let i = 0; i < 10; i++) sender.queue(datagram(i, 68, 11), 0, 68, LOOPBACK4, 0, t.port);
      sender.flush();
      await waitFor('the first batch', () => kept.length > 0);
      expect(t.started).to.equal(false);
      expect(pool.inUse).to.equal(kept.length);
      pool.releaseBatch(kept);
      expect(pool.inUse).to.equal(0);
    });

    describe('UDP GSO (runs of equal datagrams to one peer as one UDP_SEGMENT message)', () => {
      /** A node:dgram socket (an independent receiver) that keeps every datagram it gets. */
      async function judge(type: 'udp4' | 'udp6', address: string): Promise<{ port: number; got: Buffer[] }> {
        const s = await dgram(type, address);
        const got: Buffer[] = [];
        s.on('message', (message) => got.push(message));
        return { port: s.address().port, got };
      }

      for (const family of [4, 6] as const) {
        it(`IPv${family}: 150 equal datagrams go as 3 messages and arrive as 150 datagrams, in order, byte for byte`, async () => {
          const host = family === 4 ? '127.0.0.1' : '::1';
          const sender = transport({ port: 0, address: host });
          expect(sender.gso).to.equal(true);
          const peer = await judge(family === 4 ? 'udp4' : 'udp6', host);
          const sent = Array.from({ length: 150 }, (_, i) => datagram(i, 114, 0x60 + family));
          for (const d of sent) sender.queue(d, 0, d.length, family === 4 ? LOOPBACK4 : LOOPBACK6, 0, peer.port);
          // The queue (256) holds them all: one flush, 64 + 64 + 22.
          expect(sender.flush()).to.equal(150);
          expect(sender.stats).to.include({ txPackets: 150, txBytes: 150 * 114, txGsoMessages: 3, txGsoRefused: 0, txErrors: 0 });
          await waitFor('150 datagrams', () => peer.got.length >= 150);
          expect(peer.got.map((b) => b.toString('hex'))).to.deep.equal(sent.map((d) => Buffer.from(d).toString('hex')));
        });
      }

      it('a run ends at a size change, another peer and 64 datagrams; a lone datagram is a plain message', async () => {
        const sender = transport({ port: 0, address: '127.0.0.1' });
        const x = await judge('udp4', '127.0.0.1');
        const y = await judge('udp4', '127.0.0.1');
        const plan: [number, number, { port: number; got: Buffer[] }][] = [[10, 100, x], [5, 60, x], [1, 100, y], [70, 100, x], [3, 100, y]];
        const expected = new Map<number, string[]>([[x.port, []], [y.port, []]]);
        let seq = 0;
        for (const [count, length, peer] of plan) {
          for (let i = 0; i < count; i++) {
            const d = datagram(seq++, length, 0x77);
            sender.queue(d, 0, length, LOOPBACK4, 0, peer.port);
            expected.get(peer.port)!.push(Buffer.from(d).toString('hex'));
          }
        }
        expect(sender.flush()).to.equal(89);
        // Runs: 10, 5, (1 alone), 64 + 6, 3.
        expect(sender.stats).to.include({ txPackets: 89, txGsoMessages: 5, txErrors: 0 });
        await waitFor('every datagram', () => x.got.length >= 85 && y.got.length >= 4);
        expect(x.got.map((b) => b.toString('hex'))).to.deep.equal(expected.get(x.port));
        expect(y.got.map((b) => b.toString('hex'))).to.deep.equal(expected.get(y.port));
      });

      it('gso: false sends a message per datagram; noChecksum turns it off, and asking for both is refused', async () => {
        const plain = transport({ port: 0, address: '127.0.0.1', gso: false });
        const peer = await judge('udp4', '127.0.0.1');
        for (let i = 0; i < 20; i++) plain.queue(datagram(i, 80, 1), 0, 80, LOOPBACK4, 0, peer.port);
        expect(plain.flush()).to.equal(20);
        expect(plain.stats).to.include({ txPackets: 20, txGsoMessages: 0 });
        await waitFor('20 datagrams', () => peer.got.length >= 20);
        expect(transport({ port: 0, address: '127.0.0.1', noChecksum: true }).gso).to.equal(false);
        expectBatchUdpError(() => BatchUdpTransport.open({ port: 0, address: '127.0.0.1', noChecksum: true, gso: true }), 'BAD_OPTION', 'gso');
        expectBatchUdpError(() => BatchUdpTransport.open({ port: 0, family: 4, protocol: 50, gso: true }), 'BAD_OPTION', 'gso');
        expectBatchUdpError(() => BatchUdpTransport.open({ port: 0, address: '127.0.0.1', gso: 'yes' as never }), 'BAD_OPTION', 'gso');
      });

      it('when the kernel refuses GSO (SO_NO_CHECK set behind the transport), every datagram still goes, one per message, from then on', async () => {
        const sender = transport({ port: 0, address: '127.0.0.1' });
        // Linux refuses UDP_SEGMENT on a socket that sends without checksums (udp_send_skb: EINVAL).
        (tapAddon() as unknown as UdpAddon).udpSetOption(sender.fd, 'SO_NO_CHECK', 1);
        const peer = await judge('udp4', '127.0.0.1');
        const sent = Array.from({ length: 40 }, (_, i) => datagram(i, 90, 0x42));
        for (const d of sent) sender.queue(d, 0, d.length, LOOPBACK4, 0, peer.port);
        expect(sender.flush()).to.equal(40);
        expect(sender.stats).to.include({ txPackets: 40, txGsoMessages: 0, txGsoRefused: 1, txErrors: 0 });
        expect(sender.gso).to.equal(false);
        await waitFor('40 datagrams', () => peer.got.length >= 40);
        expect(peer.got.map((b) => b.toString('hex'))).to.deep.equal(sent.map((d) => Buffer.from(d).toString('hex')));
      });
    });
  });
});
