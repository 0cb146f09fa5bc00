/**
 * UDP underlay bench over loopback: tunnel packets of a 64-byte frame (8-byte VXLAN
 * header + 60-byte frame = 68-byte datagrams), node:dgram (`UdpTransport`, today's
 * underlay) against the batched socket (`BatchUdpTransport`: sendmmsg/recvmmsg in the
 * addon), in the same run.
 *
 *   npx tsx bench/udp.bench.ts [--quick] [--json out.json] [--window 256]
 *
 * Loop cases: one process sends and receives (as a VTEP does both), with at most
 * `window` datagrams in flight; the receive handler tops the window up once it is half
 * empty, so neither side outruns the other and nothing is lost. The four pairings show
 * where the cost is: dgram→dgram, batch→batch, and the two mixed ones.
 * Send-only cases: bursts of `window` datagrams to a socket nobody reads (the kernel
 * drops them at its receive buffer), for the transmit side alone.
 *
 * Every case runs several interleaved rounds (this VM's speed drifts over seconds);
 * the table gives the median datagrams/s and the process CPU time per datagram
 * (user + system: the kernel's loopback and UDP work is in it too).
 */
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { BatchUdpTransport, isBatchUdpAvailable, batchUdpProblem } from '../src/io/udp-batch.js';
import { UdpTransport } from '../src/io/udp.js';
import { BufferPool } from '../src/pool/pool.js';
import { formatTable } from './alloc.js';

const quick = process.argv.includes('--quick');
const windowAt = process.argv.indexOf('--window');
const WINDOW = windowAt > 0 ? Number(process.argv[windowAt + 1]) : 256;
const ROUNDS = quick ? 3 : 7;
const SECONDS = quick ? 0.5 : 1;
const DATAGRAM = 8 + 60;
const HOST = '127.0.0.1';
const HOST_BYTES = Uint8Array.of(127, 0, 0, 1);

if (!isBatchUdpAvailable()) {
  console.error(`udp bench: the batched UDP socket is unavailable: ${batchUdpProblem()}. Run \`npm run build:addon\`.`);
  process.exit(1);
}

/** A VXLAN header (RFC 7348 5: I flag, VNI 100) and a 60-byte frame, in a pool buffer's headroom layout. */
const packet = new Uint8Array(512);
packet.set([0x08, 0, 0, 0, 0, 0, 100, 0], 128);
for (let i = 8; i < DATAGRAM; i++) packet[128 + i] = i;
const PACKET_OFFSET = 128;

interface Measure {
  datagrams: number;
  seconds: number;
  cpuMicros: number;
  lost: number;
}

type Side = 'dgram' | 'batch';

interface Endpoint {
  port: number;
  /** Sends n datagrams to `port`. */
  send(n: number, port: number): void;
  /** Calls onReceive(count) per message (dgram) or per batch (batch). */
  listen(onReceive: (count: number) => void): void;
  close(): void;
}

async function endpoint(side: Side, pool: BufferPool): Promise<Endpoint> {
  if (side === 'dgram') {
    const t = await UdpTransport.open({ port: 0, address: HOST });
    return {
      port: t.port,
      send(n, port) {
        for (let i = 0; i < n; i++) t.send(packet, PACKET_OFFSET, DATAGRAM, port, HOST);
      },
      listen(onReceive) {
        t.onMessage(() => onReceive(1));
      },
      close: () => t.close(),
    };
  }
  const t = BatchUdpTransport.open({ port: 0, address: HOST });
  return {
    port: t.port,
    send(n, port) {
      for (let i = 0; i < n; i++) t.queue(packet, PACKET_OFFSET, DATAGRAM, HOST_BYTES, 0, port);
      t.flush();
    },
    listen(onReceive) {
      t.start(pool, (buffers, _sources, _ports, count) => {
        pool.releaseBatch(buffers, count);
        onReceive(count);
      });
    },
    close: () => t.close(),
  };
}

/** Sender → receiver with at most WINDOW in flight, for SECONDS. */
async function loop(from: Side, to: Side): Promise<Measure> {
  const pool = new BufferPool({ capacity: 1024 });
  const sender = await endpoint(from, pool);
  const receiver = await endpoint(to, pool);
  let inFlight = 0;
  let received = 0;
  let lost = 0;
  let running = true;
  const topUp = (): void => {
    if (!running) return;
    const n = WINDOW - inFlight;
    inFlight += n;
    sender.send(n, receiver.port);
  };
  receiver.listen((count) => {
    received += count;
    inFlight -= count;
    if (inFlight <= WINDOW >> 1) topUp();
  });
  // A datagram lost on the way would stall the window: notice and refill.
  let seen = -1;
  const watchdog = setInterval(() => {
    if (received === seen && running) {
      lost += inFlight;
      inFlight = 0;
      topUp();
    }
    seen = received;
  }, 100);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  topUp();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  running = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const datagrams = received;
  clearInterval(watchdog);
  await new Promise((resolve) => setTimeout(resolve, 20));
  sender.close();
  receiver.close();
  return { datagrams, seconds, cpuMicros: used.user + used.system, lost };
}

/** Bursts of WINDOW datagrams to a socket that does not read, for SECONDS. */
async function sendOnly(side: Side): Promise<Measure> {
  const pool = new BufferPool({ capacity: 16 });
  const sender = await endpoint(side, pool);
  const sink = BatchUdpTransport.open({ port: 0, address: HOST, receiveBufferSize: 4096 });
  let sent = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  while (process.hrtime.bigint() < deadline) {
    sender.send(WINDOW, sink.port);
    sent += WINDOW;
    // Let node:dgram finish its send requests (and the GC run) as it would in a server.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  sender.close();
  sink.close();
  return { datagrams: sent, seconds, cpuMicros: used.user + used.system, lost: 0 };
}

interface Case {
  name: string;
  run: () => Promise<Measure>;
}

const cases: Case[] = [
  { name: 'loop node:dgram -> node:dgram', run: () => loop('dgram', 'dgram') },
  { name: 'loop batch -> batch', run: () => loop('batch', 'batch') },
  { name: 'loop node:dgram -> batch', run: () => loop('dgram', 'batch') },
  { name: 'loop batch -> node:dgram', run: () => loop('batch', 'dgram') },
  { name: 'send only node:dgram', run: () => sendOnly('dgram') },
  { name: 'send only batch', run: () => sendOnly('batch') },
];

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

console.log(
  `udp bench: ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Linux ${release()}, node ${process.version}; ` +
    `${DATAGRAM}-byte datagrams over ${HOST}, window ${WINDOW}, ${ROUNDS} interleaved rounds of ${SECONDS} s${quick ? ' (quick)' : ''}`,
);
// Warm up: JIT and socket paths.
for (const c of cases) await c.run();
const samples = new Map<Case, Measure[]>(cases.map((c) => [c, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of cases) samples.get(c)!.push(await c.run());
  process.stdout.write(`  round ${round + 1}/${ROUNDS} done\n`);
}

const rows = cases.map((c) => {
  const runs = samples.get(c)!;
  const rates = runs.map((m) => m.datagrams / m.seconds);
  const rate = median(rates);
  const spread = ((Math.max(...rates) - Math.min(...rates)) / 2 / rate) * 100;
  const cpu = median(runs.map((m) => m.cpuMicros / Math.max(1, m.datagrams)));
  const lost = runs.reduce((sum, m) => sum + m.lost, 0);
  return { name: c.name, datagramsPerSecond: rate, spreadPercent: spread, cpuMicrosPerDatagram: cpu, lost };
});
const base = (name: string): number => rows.find((r) => r.name === name)!.datagramsPerSecond;
console.log('');
console.log(
  formatTable(
    ['case', 'k datagrams/s', '±%', 'CPU µs/datagram', 'vs node:dgram', 'lost'],
    rows.map((r) => {
      const reference = r.name.startsWith('send only') ? base('send only node:dgram') : base('loop node:dgram -> node:dgram');
      return [
        r.name,
        (r.datagramsPerSecond / 1e3).toFixed(0),
        r.spreadPercent.toFixed(1),
        r.cpuMicrosPerDatagram.toFixed(2),
        `${(r.datagramsPerSecond / reference).toFixed(2)}x`,
        String(r.lost),
      ];
    }),
  ),
);
const jsonAt = process.argv.indexOf('--json');
if (jsonAt > 0 && process.argv[jsonAt + 1]) {
  writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify({ datagramBytes: DATAGRAM, window: WINDOW, rounds: ROUNDS, seconds: SECONDS, rows }, null, 2));
}
