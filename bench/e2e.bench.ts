/**
 * End to end on real devices (root; builds network namespaces): a traffic
 * generator on host a sends 64-byte frames through a path to a counting sink
 * on host b, for each mode in turn, alternating for several rounds; medians
 * reported. The modes (bench/e2e/modes.ts): plain veth, the kernel's vxlan,
 * and vtepkit daemons with VXLAN, Geneve with an option, and VXLAN in ESP
 * (AES-GCM, ChaCha20-Poly1305).
 *
 *   npm run bench:e2e [-- --seconds 3 --rounds 3 --modes veth,kernel-vxlan,vtepkit-vxlan]
 *
 * Per mode and round: a 0.5 s warm-up flood (not counted; it must arrive),
 * then latency probes at a low rate (1000 at 2 k/s), then the measured flood
 * with a probe every millisecond in it. Reported: packets/s delivered at the
 * sink, loss, CPU of each VTEP process (/proc/<pid>/stat) and of softirq
 * (/proc/stat), one-way latency percentiles and jitter.
 *
 * 64-byte frames: 14 Ethernet + 20 IPv4 + 8 UDP + 18 payload = 60 bytes + 4 FCS.
 * The generator and the sink are bench/e2e/traffic.py (Debian's python3,
 * sendmmsg/recvmmsg through ctypes). Every figure, the parameters and the
 * machine go to bench/results/e2e-<date>.json, a chart to e2e-<date>.svg.
 * docs/benchmarks.md, "End to end", says how to read them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable } from './alloc.js';
import { CommandError, Lab, Lines, cleanupAll, run } from './e2e/lab.js';
import { DESCRIPTIONS, MODE_NAMES, setUp, type Host, type ModeName, type Path } from './e2e/modes.js';
import { median, summarizeLatencies, type LatencySummary } from './e2e/stats.js';
import { describeMachine, machineLine } from './machine.js';
import { barChart } from './svg.js';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
const TRAFFIC = join(here, 'e2e', 'traffic.py');
const LAUNCHER = join(here, '..', 'bin', 'vtepkit.mjs');
const BUILT_CLI = join(here, '..', 'dist', 'cli', 'main.js');
const FLOOD_PORT = 9;
const PROBE_PORT = 10;
const WARM_UP_SECONDS = 0.5;
const DRAIN_MS = 500;

class BenchError extends Error {}

// ---------------------------------------------------------------- arguments

interface Parameters {
  seconds: number;
  rounds: number;
  modes: ModeName[];
  /** Frames per sendmmsg call. */
  batch: number;
  /** The flood's rate, frames per second; 0: as fast as the generator goes. */
  rate: number;
  probes: number;
  probeRate: number;
  /** A probe in the flood every this many microseconds (0: none). */
  loadedIntervalUs: number;
  generator: 'packet' | 'udp';
  /** Where the JSON and the chart go ('' : bench/results). */
  out: string;
  verbose: boolean;
}

const USAGE = `usage: npm run bench:e2e -- [--seconds S] [--rounds N] [--modes ${MODE_NAMES.join(',')}]
       [--batch N] [--rate PPS] [--probes N] [--probe-rate PER_S] [--loaded-interval-us US] [--generator packet|udp] [--out DIR] [--verbose]`;

function parseArguments(argv: string[]): Parameters {
  const p: Parameters = {
    seconds: 3,
    rounds: 3,
    modes: [...MODE_NAMES],
    batch: 256,
    rate: 0,
    probes: 1000,
    probeRate: 2000,
    loadedIntervalUs: 1000,
    generator: 'packet',
    out: '',
    verbose: false,
  };
  const number = (flag: string, value: string | undefined, min: number, max: number, integer: boolean): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new BenchError(`${flag}: must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${JSON.stringify(value ?? '')}\n${USAGE}`);
    }
    return n;
  };
  /** The numeric flags: the parameter each sets, its range, and whether it is a whole number. */
  const NUMBERS: Record<string, [keyof Parameters, number, number, boolean]> = {
    '--seconds': ['seconds', 0.2, 600, false],
    '--rounds': ['rounds', 1, 100, true],
    '--batch': ['batch', 1, 1024, true],
    '--rate': ['rate', 0, 100_000_000, false],
    '--probes': ['probes', 10, 1_000_000, true],
    '--probe-rate': ['probeRate', 1, 100_000, false],
    '--loaded-interval-us': ['loadedIntervalUs', 0, 1_000_000, true],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (Object.hasOwn(NUMBERS, flag)) {
      const [field, min, max, integer] = NUMBERS[flag]!;
      (p as unknown as Record<string, number>)[field] = number(flag, value, min, max, integer);
      i++;
      continue;
    }
    switch (flag) {
      case '--generator':
        if (value !== 'packet' && value !== 'udp') throw new BenchError(`--generator: packet or udp, got ${JSON.stringify(value ?? '')}`);
        p.generator = value;
        i++;
        break;
      case '--modes': {
        const names = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = names.filter((n) => !(MODE_NAMES as readonly string[]).includes(n));
        if (names.length === 0 || unknown.length > 0) {
          throw new BenchError(`--modes: unknown mode ${unknown.map((u) => JSON.stringify(u)).join(', ') || '(none given)'}; allowed: ${MODE_NAMES.join(', ')}`);
        }
        p.modes = MODE_NAMES.filter((m) => names.includes(m));
        i++;
        break;
      }
      case '--out':
        if (value === undefined || value === '' || value.startsWith('--')) throw new BenchError(`--out: a directory for the JSON and the chart, got ${JSON.stringify(value ?? '')}`);
        p.out = value;
        i++;
        break;
      case '--verbose':
        p.verbose = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new BenchError(`unknown argument ${JSON.stringify(flag)}\n${USAGE}`);
    }
  }
  return p;
}

// ---------------------------------------------------------------- preflight

function preflight(p: Parameters): void {
  if (process.getuid?.() !== 0) throw new BenchError('bench:e2e builds network namespaces, veth pairs and TAP devices: run it as root');
  const tool = (command: string, args: string[], why: string): void => {
    const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new BenchError(`missing tool: ${command}, not found in PATH (${why})`);
    if (r.error || r.status !== 0) throw new BenchError(`${command} ${args.join(' ')} fails (${why}): ${(r.stderr || r.stdout || r.error?.message || `exit ${r.status}`).trim()}`);
  };
  tool('ip', ['-V'], 'iproute2, for namespaces and devices');
  tool('ip', ['netns', 'list'], 'network namespaces');
  if (p.modes.includes('kernel-vxlan')) tool('bridge', ['-V'], "iproute2's bridge, for the kernel vxlan's FDB");
  if (!existsSync(PYTHON)) throw new BenchError(`missing tool: ${PYTHON} (Debian's python3 runs the generator and the sink)`);
  tool(PYTHON, [TRAFFIC, 'check'], 'the generator: Python with ctypes, sendmmsg and recvmmsg');
  if (p.modes.some((m) => m.startsWith('vtepkit'))) {
    if (!existsSync('/dev/net/tun')) throw new BenchError('missing /dev/net/tun: vtepkit needs TAP devices');
    if (!existsSync(BUILT_CLI)) throw new BenchError(`missing ${BUILT_CLI}: vtepkit is not built (npm run build), or a build is under way`);
  }
}

// ---------------------------------------------------------------- CPU

let clockTicks = 100;

function processTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5), utime and stime: every thread of the process, softirq work done in its context included.
  return Number(fields[11]) + Number(fields[12]);
}

interface SystemTicks {
  softirq: number;
  busy: number;
}

function systemTicks(): SystemTicks {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  // user nice system idle iowait irq softirq steal …
  const total = n.slice(0, 8).reduce((s, v) => s + v, 0);
  return { softirq: n[6] ?? 0, busy: total - (n[3] ?? 0) - (n[4] ?? 0) };
}

interface CpuSample {
  at: number;
  vteps: number[];
  system: SystemTicks;
}

function sampleCpu(pids: number[]): CpuSample {
  return { at: performance.now(), vteps: pids.map(processTicks), system: systemTicks() };
}

/** Percent of one core between two samples. */
function cpuPercent(before: CpuSample, after: CpuSample): { vteps: number[]; softirq: number; busy: number } {
  const seconds = (after.at - before.at) / 1000;
  const percent = (ticks: number): number => (ticks / clockTicks / seconds) * 100;
  return {
    vteps: after.vteps.map((t, i) => percent(t - before.vteps[i]!)),
    softirq: percent(after.system.softirq - before.system.softirq),
    busy: percent(after.system.busy - before.system.busy),
  };
}

// ---------------------------------------------------------------- one round of one mode

interface FloodReport {
  offered: number;
  sent: number;
  rejected: number;
  probesOffered: number;
  probes: number;
  seconds: number;
  cpuSeconds: number;
}
interface ProbeReport {
  offered: number;
  sent: number;
  seconds: number;
}
interface SinkReport {
  received: number;
  firstNs: number;
  lastNs: number;
  probes: [number, number][];
  loadedProbes: [number, number][];
  seconds: number;
  cpuSeconds: number;
}

export interface RoundResult {
  round: number;
  mode: ModeName;
  /** Frames the generator handed to the first device, and those it took (the rest it refused: its queue was full). */
  offered: number;
  sent: number;
  rejected: number;
  received: number;
  /** The generator's sending time. */
  seconds: number;
  /** received / seconds: packets per second delivered at the sink. */
  pps: number;
  offeredPps: number;
  /** 1 − received/offered. */
  loss: number;
  /** CPU of each VTEP process (sender's, receiver's), percent of one core; empty for kernel modes. */
  vtepCpu: number[];
  /** softirq time of the whole machine, percent of one core. */
  softirqCpu: number;
  /** All CPUs busy (not idle or iowait), percent of one core (200 = both cores of this VM). */
  machineCpu: number;
  generatorCpu: number;
  sinkCpu: number;
  /** TX drops the kernel counted on the generator's device (a TAP's full queue). */
  senderTxDropped: number;
  warmUpReceived: number;
  latency: LatencySummary;
  loadedLatency: LatencySummary;
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const socketDirs = new Set<string>();
let labCount = 0;

async function measure(mode: ModeName, round: number, p: Parameters): Promise<{ result: RoundResult; probes: [number, number][] }> {
  const lab = new Lab(`be${labCount++ % 10}`);
  const dir = mkdtempSync(join(tmpdir(), 'vtepkit-e2e-'));
  socketDirs.add(dir);
  let path: Path | undefined;
  try {
    const a: Host = { ns: lab.host('a'), underlay: '192.0.2.1', overlay: '10.220.0.1' };
    const b: Host = { ns: lab.host('b'), underlay: '192.0.2.2', overlay: '10.220.0.2' };
    lab.veth(a.ns, 'eth0', b.ns, 'eth0');
    for (const self of [a, b]) {
      lab.exec(self.ns, 'ip', 'addr', 'add', `${self.underlay}/24`, 'dev', 'eth0');
      lab.exec(self.ns, 'ip', 'link', 'set', 'eth0', 'up');
    }
    // Static underlay neighbours: no ARP in the measurement.
    const underlayMac = (ns: string): string => (JSON.parse(lab.exec(ns, 'ip', '-j', 'link', 'show', 'dev', 'eth0')) as { address: string }[])[0]!.address;
    lab.exec(a.ns, 'ip', 'neigh', 'replace', b.underlay, 'lladdr', underlayMac(b.ns), 'dev', 'eth0');
    lab.exec(b.ns, 'ip', 'neigh', 'replace', a.underlay, 'lladdr', underlayMac(a.ns), 'dev', 'eth0');

    path = await setUp(mode, { lab, a, b, dir, launcher: LAUNCHER });
    const target = {
      method: p.generator,
      dev: path.dev,
      srcMac: path.srcMac,
      dstMac: path.dstMac,
      src: path.src,
      dst: path.dst,
      port: FLOOD_PORT,
      probePort: PROBE_PORT,
    };

    const sink = lab.spawn(b.ns, PYTHON, [TRAFFIC, 'sink', JSON.stringify({ address: path.dst, port: FLOOD_PORT, probePort: PROBE_PORT })]);
    const sinkLines = new Lines(sink);
    await sinkLines.expect('ready', 'the sink');
    const report = async (): Promise<SinkReport> => {
      sink.stdin!.write('report\n');
      return sinkLines.json<SinkReport>('the sink');
    };
    const generate = async <T>(command: 'flood' | 'probe', config: object, onGo?: () => void): Promise<T> => {
      const generator = lab.spawn(a.ns, PYTHON, [TRAFFIC, command, JSON.stringify({ ...target, ...config })], { stdio: ['ignore', 'pipe', 'pipe'] });
      const lines = new Lines(generator);
      if (command === 'flood') {
        await lines.expect('go', 'the generator');
        onGo?.();
      }
      return lines.json<T>('the generator', 60_000 + p.seconds * 2000);
    };
    const failure = async (what: string): Promise<BenchError> => {
      let counters = '';
      try {
        counters = await path!.counters();
      } catch (error) {
        counters = `(counters unavailable: ${(error as Error).message})`;
      }
      return new BenchError(`mode ${mode}, round ${round}: ${what}\n${counters}`);
    };

    // Warm-up: the JIT, the caches, the FDB; and the path must deliver.
    const warm = await generate<FloodReport>('flood', { seconds: WARM_UP_SECONDS, batch: p.batch, rate: p.rate, stampIntervalUs: 0 });
    await delay(300);
    const warmUp = await report();
    if (warmUp.received === 0) throw await failure(`delivered 0 packets in the warm-up (the generator offered ${warm.offered})`);

    // Latency at a low rate, nothing else on the path.
    const probes = await generate<ProbeReport>('probe', { count: p.probes, rate: p.probeRate });
    await delay(200);
    const idle = await report();

    // The measured flood, with probes in it.
    const txDroppedBefore = path.senderTxDropped();
    const pids = path.vtepPids;
    let before: CpuSample | undefined;
    let sinkWindowStart: Promise<SinkReport> | undefined;
    const flood = await generate<FloodReport>('flood', { seconds: p.seconds, batch: p.batch, rate: p.rate, stampIntervalUs: p.loadedIntervalUs }, () => {
      before = sampleCpu(pids);
      // Starts the sink's CPU count with the flood.
      sinkWindowStart = report();
    });
    const after = sampleCpu(pids);
    // The flood's first packets may arrive before the sink reads "report": they count.
    const early = await sinkWindowStart!;
    await delay(DRAIN_MS);
    const late = await report();
    const loaded: SinkReport = { ...late, received: early.received + late.received, loadedProbes: [...early.loadedProbes, ...late.loadedProbes] };
    const cpu = cpuPercent(before!, after);
    const senderTxDropped = path.senderTxDropped() - txDroppedBefore;
    if (p.verbose) console.log(await path.counters());
    sink.stdin!.write('stop\n');
    if (loaded.received === 0) throw await failure(`delivered 0 packets (the generator offered ${flood.offered})`);

    const result: RoundResult = {
      round,
      mode,
      offered: flood.offered,
      sent: flood.sent,
      rejected: flood.rejected,
      received: loaded.received,
      seconds: flood.seconds,
      pps: loaded.received / flood.seconds,
      offeredPps: flood.offered / flood.seconds,
      loss: flood.offered > 0 ? Math.max(0, 1 - loaded.received / flood.offered) : 0,
      vtepCpu: cpu.vteps,
      softirqCpu: cpu.softirq,
      machineCpu: cpu.busy,
      generatorCpu: (flood.cpuSeconds / flood.seconds) * 100,
      // The sink's CPU over the flood and the drain, per second of flood: draining is the flood's work.
      sinkCpu: (loaded.cpuSeconds / flood.seconds) * 100,
      senderTxDropped,
      warmUpReceived: warmUp.received,
      latency: summarizeLatencies(idle.probes, probes.sent),
      loadedLatency: summarizeLatencies(loaded.loadedProbes, flood.probes),
    };
    return { result, probes: idle.probes };
  } finally {
    // Profiling: the daemons write their profiles on a clean exit, not on cleanup's SIGKILL.
    if (process.env.VTEPKIT_BENCH_PROFILE && path !== undefined) await stopGently(path.vtepPids);
    lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
    socketDirs.delete(dir);
  }
}

// ---------------------------------------------------------------- output

const grouped = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US').replace(/,/g, ' ') : '–');
const percent = (x: number, digits = 0): string => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)} %` : '–');
const cpu = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)}%` : '–');
const us = (x: number): string => (Number.isFinite(x) ? (x >= 100 ? grouped(x) : x.toFixed(1)) : '–');

function vtepCpuText(cpus: number[]): string {
  return cpus.length ? cpus.map(cpu).join(' / ') : 'kernel';
}

function roundLine(r: RoundResult, index: number, total: number, rounds: number): string {
  const lat = r.latency;
  return (
    `[${String(index).padStart(String(total).length)}/${total}] round ${r.round}/${rounds} ${r.mode.padEnd(24)} ` +
    `${grouped(r.pps).padStart(9)} pps (offered ${grouped(r.offeredPps)}) loss ${percent(r.loss, 1)}  ` +
    `VTEP CPU ${vtepCpuText(r.vtepCpu)}  softirq ${cpu(r.softirqCpu)}  gen ${cpu(r.generatorCpu)} sink ${cpu(r.sinkCpu)} all ${cpu(r.machineCpu)}  ` +
    `latency p50 ${us(lat.p50)} p99 ${us(lat.p99)} p99.9 ${us(lat.p999)} µs jitter ${us(lat.jitter)} µs  ` +
    `loaded p50 ${us(r.loadedLatency.p50)} p99 ${us(r.loadedLatency.p99)} µs`
  );
}

/** A mode's medians over its rounds: each field of a round's result, the median of the rounds' values. */
interface ModeSummary
  extends Pick<RoundResult, 'mode' | 'pps' | 'offeredPps' | 'loss' | 'vtepCpu' | 'softirqCpu' | 'machineCpu' | 'generatorCpu' | 'sinkCpu'> {
  description: string;
  rounds: number;
  latency: Pick<LatencySummary, 'p50' | 'p99' | 'p999' | 'jitter' | 'loss'>;
  loadedLatency: Pick<LatencySummary, 'p50' | 'p99' | 'p999' | 'jitter' | 'loss'>;
  /** Latency percentiles over every round's probes together (more samples for the tail). */
  pooledLatency: LatencySummary;
  /** pps / kernel-vxlan's pps, when kernel-vxlan ran. */
  vsKernel: number;
}

function summarize(mode: ModeName, results: RoundResult[], pooled: [number, number][], pooledSent: number): ModeSummary {
  const mine = results.filter((r) => r.mode === mode);
  const m = (f: (r: RoundResult) => number): number => median(mine.map(f));
  const lat = (f: (r: RoundResult) => LatencySummary): ModeSummary['latency'] => ({
    p50: m((r) => f(r).p50),
    p99: m((r) => f(r).p99),
    p999: m((r) => f(r).p999),
    jitter: m((r) => f(r).jitter),
    loss: m((r) => f(r).loss),
  });
  const vteps = mine[0]?.vtepCpu.length ?? 0;
  return {
    mode,
    description: DESCRIPTIONS[mode],
    rounds: mine.length,
    pps: m((r) => r.pps),
    offeredPps: m((r) => r.offeredPps),
    loss: m((r) => r.loss),
    vtepCpu: Array.from({ length: vteps }, (_, i) => m((r) => r.vtepCpu[i]!)),
    softirqCpu: m((r) => r.softirqCpu),
    machineCpu: m((r) => r.machineCpu),
    generatorCpu: m((r) => r.generatorCpu),
    sinkCpu: m((r) => r.sinkCpu),
    latency: lat((r) => r.latency),
    loadedLatency: lat((r) => r.loadedLatency),
    pooledLatency: summarizeLatencies(pooled, pooledSent),
    vsKernel: Number.NaN,
  };
}

interface Headline {
  name: string;
  numerator: ModeName;
  denominator: ModeName;
  target: number;
  /** Ratio of the two medians. */
  ratio: number;
  /** The same ratio within each round (both modes measured minutes apart at most). */
  perRound: number[];
  met: boolean;
}

const HEADLINES: { numerator: ModeName; denominator: ModeName; target: number }[] = [
  { numerator: 'vtepkit-vxlan', denominator: 'kernel-vxlan', target: 0.5 },
  { numerator: 'vtepkit-geneve', denominator: 'vtepkit-vxlan', target: 0.97 },
  { numerator: 'vtepkit-vxlan-esp-gcm', denominator: 'vtepkit-vxlan', target: 0.63 },
  { numerator: 'vtepkit-vxlan-esp-chacha', denominator: 'vtepkit-vxlan', target: 0.63 },
  { numerator: 'vtepkit-vxlan-esp-gcm-node', denominator: 'vtepkit-vxlan', target: 0.63 },
  { numerator: 'vtepkit-vxlan-espinudp-gcm', denominator: 'vtepkit-vxlan', target: 0.63 },
];

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const p = parseArguments(process.argv.slice(2));
  preflight(p);
  try {
    clockTicks = Number(run('getconf', ['CLK_TCK']).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  const machine = describeMachine();
  const started = new Date();
  const loadBefore = loadavg();
  console.log(`vtepkit end to end: ${machineLine(machine)}`);
  console.log(
    `${p.rounds} rounds × ${p.modes.length} modes, ${p.seconds} s flood each (+${WARM_UP_SECONDS} s warm-up), 64-byte frames, ` +
      `generator: ${p.generator === 'packet' ? 'packet socket' : 'UDP socket'}, sendmmsg ${p.batch}, ${p.rate > 0 ? `${grouped(p.rate)} pps` : 'flat out'}; ` +
      `${p.probes} probes at ${grouped(p.probeRate)}/s, a loaded probe every ${p.loadedIntervalUs} µs\n`,
  );

  const results: RoundResult[] = [];
  const pooled = new Map<ModeName, { probes: [number, number][]; sent: number }>();
  const total = p.rounds * p.modes.length;
  for (let round = 1; round <= p.rounds; round++) {
    for (const mode of p.modes) {
      const { result: r, probes } = await measure(mode, round, p);
      results.push(r);
      const pool = pooled.get(mode) ?? { probes: [], sent: 0 };
      pool.probes.push(...probes);
      pool.sent += r.latency.sent;
      pooled.set(mode, pool);
      console.log(roundLine(r, results.length, total, p.rounds));
    }
  }

  // The idle probes of every round of a mode together, for the tail percentiles.
  const summaries = p.modes.map((mode) => summarize(mode, results, pooled.get(mode)?.probes ?? [], pooled.get(mode)?.sent ?? 0));
  const kernel = summaries.find((s) => s.mode === 'kernel-vxlan');
  for (const s of summaries) s.vsKernel = kernel ? s.pps / kernel.pps : Number.NaN;

  console.log(`\nmedians of ${p.rounds} round${p.rounds > 1 ? 's' : ''}, ${p.seconds} s each, 64-byte frames host to host (latency: ${p.probes} probes at ${grouped(p.probeRate)}/s; loaded: probes in the flood):\n`);
  console.log(
    formatTable(
      ['mode', 'pps', 'offered', '× kernel', 'loss', 'VTEP CPU tx / rx', 'softirq', 'p50 µs', 'p99 µs', 'p99.9 µs', 'jitter µs', 'loaded p50 µs', 'loaded p99 µs'],
      summaries.map((s) => [
        s.mode,
        grouped(s.pps),
        grouped(s.offeredPps),
        Number.isFinite(s.vsKernel) ? s.vsKernel.toFixed(2) : '–',
        percent(s.loss, 1),
        vtepCpuText(s.vtepCpu),
        cpu(s.softirqCpu),
        us(s.latency.p50),
        us(s.latency.p99),
        us(s.latency.p999),
        us(s.latency.jitter),
        us(s.loadedLatency.p50),
        us(s.loadedLatency.p99),
      ]),
    ),
  );

  const ppsOf = (mode: ModeName, round?: number): number =>
    round === undefined ? (summaries.find((s) => s.mode === mode)?.pps ?? Number.NaN) : (results.find((r) => r.mode === mode && r.round === round)?.pps ?? Number.NaN);
  const headlines: Headline[] = HEADLINES.filter((h) => p.modes.includes(h.numerator) && p.modes.includes(h.denominator)).map((h) => {
    const ratio = ppsOf(h.numerator) / ppsOf(h.denominator);
    const perRound = Array.from({ length: p.rounds }, (_, i) => ppsOf(h.numerator, i + 1) / ppsOf(h.denominator, i + 1));
    return { name: `${h.numerator} / ${h.denominator}`, ...h, ratio, perRound, met: ratio >= h.target };
  });
  if (headlines.length) {
    console.log('\nheadline ratios (medians of this run; per round in brackets):');
    for (const h of headlines) {
      console.log(
        `  ${h.name.padEnd(48)} ${h.ratio.toFixed(2)}  target ≥ ${h.target}: ${h.met ? 'met' : 'MISSED'}  [${h.perRound.map((x) => x.toFixed(2)).join(' ')}]`,
      );
    }
  }

  const stamp = started.toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const outDir = p.out || join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  const json = join(outDir, `e2e-${stamp}.json`);
  const svg = join(outDir, `e2e-${stamp}.svg`);
  const document = {
    date: started.toISOString(),
    finished: new Date().toISOString(),
    command: `npm run bench:e2e -- ${process.argv.slice(2).join(' ')}`.trim(),
    parameters: { ...p, warmUpSeconds: WARM_UP_SECONDS, drainMs: DRAIN_MS, frameBytes: 64, payloadBytes: 18, clockTicks },
    machine,
    // Other work on the machine skews everything: the 1, 5 and 15-minute load averages before and after.
    loadAverage: { before: loadBefore, after: loadavg() },
    modes: Object.fromEntries(p.modes.map((m) => [m, DESCRIPTIONS[m]])),
    medians: summaries,
    headlines,
    rounds: results,
  };
  writeFileSync(json, `${JSON.stringify(document, null, 2)}\n`);
  writeFileSync(
    svg,
    barChart({
      title: 'vtepkit end to end: 64-byte frames delivered per second (median)',
      subtitle: `${started.toISOString().slice(0, 10)}, ${p.rounds} × ${p.seconds} s, ${machineLine(machine)}`,
      unit: 'packets/s delivered at the sink',
      bars: summaries.map((s) => ({
        label: s.mode,
        value: s.pps,
        note: Number.isFinite(s.vsKernel) ? `${s.vsKernel.toFixed(2)}× kernel-vxlan` : '',
        highlight: s.mode.startsWith('vtepkit'),
      })),
    }),
  );
  console.log(`\nevery figure: ${json}\nchart: ${svg}\n(${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)`);
}

/** SIGTERM, then up to 10 s for the processes to exit. */
async function stopGently(pids: readonly number[]): Promise<void> {
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of pids) if (pid > 0 && alive(pid)) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (pids.some((pid) => pid > 0 && alive(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

// ---------------------------------------------------------------- cleanup, whatever happens

function removeEverything(): void {
  cleanupAll();
  for (const dir of socketDirs) rmSync(dir, { recursive: true, force: true });
  socketDirs.clear();
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(signal, () => {
    process.stderr.write(`\nbench:e2e: ${signal}: stopping; removing its namespaces and daemons\n`);
    removeEverything();
    process.exit(code);
  });
}
process.on('exit', removeEverything);

try {
  await main();
} catch (error) {
  removeEverything();
  if (error instanceof BenchError || error instanceof CommandError) {
    console.error(`\nbench:e2e failed: ${error.message}`);
  } else {
    console.error('\nbench:e2e failed:', error);
  }
  process.exitCode = 1;
}
