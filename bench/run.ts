/**
 * `npm run bench`: every in-memory bench in quick mode, one child process each
 * (so one bench's JIT state does not colour the next), then a JSON record of
 * every figure and of the machine in bench/results/<date>.json, and the headline
 * figures against the issue's targets.
 *
 *   npm run bench                      # quick, under 2 minutes
 *   npm run bench -- --full            # longer samples, more rounds
 *   npm run bench -- --only datapath   # one suite: wire, datapath, pool, fdb, esp
 *   npm run bench -- --out DIR         # the JSON goes to DIR instead of bench/results
 *   npm run bench -- --rounds N        # passed to each suite (2..; quick runs 5)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites = ['wire', 'datapath', 'pool', 'fdb', 'esp'].filter((name) => existsSync(join(here, `${name}.bench.ts`)));
const full = process.argv.includes('--full');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
const outAt = process.argv.indexOf('--out');
const outDir = outAt > 0 && process.argv[outAt + 1] ? process.argv[outAt + 1]! : join(here, 'results');
const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt > 0 ? ['--rounds', process.argv[roundsAt + 1] ?? ''] : [];

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  v8: process.versions.v8,
};
console.log(`vtepkit bench on ${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}, Node ${machine.node}${full ? '' : ' (quick)'}`);

const results: Record<string, unknown> = {};
const seconds: Record<string, number> = {};
const started = Date.now();
const selected = suites.filter((suite) => !only || suite === only);
if (only && selected.length === 0) {
  console.error(`no suite ${only}; suites: ${suites.join(', ')}`);
  process.exit(2);
}
for (const [index, suite] of selected.entries()) {
  const json = join(outDir, `.${suite}.tmp.json`);
  mkdirSync(outDir, { recursive: true });
  const args = ['--import', 'tsx', join(here, `${suite}.bench.ts`), '--json', json, ...(full ? [] : ['--quick']), ...rounds];
  const suiteStarted = Date.now();
  console.log(`\n=== [${index + 1}/${selected.length}] ${suite} (${((suiteStarted - started) / 1000).toFixed(0)} s so far) ===`);
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  seconds[suite] = (Date.now() - suiteStarted) / 1000;
  if (r.status !== 0) {
    console.error(`${suite} bench failed with status ${r.status}`);
    process.exitCode = 1;
    continue;
  }
  console.log(`=== ${suite} done in ${seconds[suite]!.toFixed(0)} s ===`);
  if (existsSync(json)) {
    results[suite] = JSON.parse(readFileSync(json, 'utf8')) as unknown;
    rmSync(json);
  }
}

// ---------------------------------------------------------------------------
// Headlines: the issue's in-memory targets.

interface Row {
  name: string;
  id?: string;
  packetsPerSecond?: number;
  errorPercent?: number;
  bytesPerPacket?: number;
  bytesPerOp?: number;
}

/** Every per-packet (or per-operation) row of every suite, with the suite's name. */
function rowsOf(suite: string): Row[] {
  const data = results[suite] as unknown;
  if (Array.isArray(data)) return data as Row[];
  if (data !== null && typeof data === 'object') {
    const object = data as Record<string, unknown>;
    // pool: { throughput: PacketResult[] }; fdb: { throughput: Row[] (bytesPerOp) }.
    if (Array.isArray(object.throughput)) return object.throughput as Row[];
  }
  return [];
}

const headlines: string[] = [];
const datapath = rowsOf('datapath');
const byId = (id: string): Row | undefined => datapath.find((r) => r.id === id);
const pps = (id: string): number => byId(id)?.packetsPerSecond ?? NaN;
const TARGET = 19e6;
const tx = byId('tx-vxlan');
if (tx?.packetsPerSecond !== undefined) {
  const m = tx.packetsPerSecond / 1e6;
  const verdict = tx.packetsPerSecond >= TARGET ? 'met' : `missed by ${(19 - m).toFixed(1)} M frames/s (${((m / 19) * 100).toFixed(0)} % of the target)`;
  headlines.push(`VXLAN transmit path in memory: ${m.toFixed(2)} M frames/s ± ${(tx.errorPercent ?? NaN).toFixed(0)} % (${((tx.packetsPerSecond * 64 * 8) / 1e9).toFixed(2)} Gbit/s of 64-byte frames); target >= 19 M: ${verdict}`);
  headlines.push(`Geneve (1 option) / VXLAN, in-memory path: transmit ${(pps('tx-geneve-1') / pps('tx-vxlan')).toFixed(2)}, receive ${(pps('rx-geneve-1') / pps('rx-vxlan')).toFixed(2)}`);
  const esp = datapath.filter((r) => r.id?.startsWith('tx-vxlan-esp-'));
  for (const r of esp) {
    const rx = byId(r.id!.replace(/^tx-/, 'rx-'));
    headlines.push(
      `${r.name.replace(/^TX /, '')} / VXLAN, in-memory path: transmit ${(r.packetsPerSecond! / pps('tx-vxlan')).toFixed(3)} (${(r.packetsPerSecond! / 1e3).toFixed(0)} k/s), receive ${((rx?.packetsPerSecond ?? NaN) / pps('rx-vxlan')).toFixed(3)} (${((rx?.packetsPerSecond ?? NaN) / 1e3).toFixed(0)} k/s)`,
    );
  }
}
// Allocations: every path of every suite, leaving out the rows that allocate on purpose (baseline: …).
const allocations: { suite: string; name: string; bytes: number }[] = [];
for (const suite of Object.keys(results)) {
  for (const r of rowsOf(suite)) {
    const bytes = r.bytesPerPacket ?? r.bytesPerOp;
    if (bytes === undefined || r.name.startsWith('baseline')) continue;
    allocations.push({ suite, name: r.name, bytes });
  }
}
if (allocations.length > 0) {
  allocations.sort((a, b) => b.bytes - a.bytes);
  const worst = allocations[0]!;
  /** Below this a path counts as allocation-free: the meter's own noise is a few hundredths of a byte per packet. */
  const ZERO = 0.1;
  const allocating = allocations.filter((a) => a.bytes >= ZERO);
  headlines.push(`Allocation per packet (or FDB operation), ${allocations.length} paths: max ${worst.bytes.toFixed(1)} B (${worst.suite}: ${worst.name}); ${allocations.length - allocating.length} paths < ${ZERO} B (zero up to the meter's noise)`);
  // The allocating paths, grouped by the crypto backend they use.
  const groups = new Map<string, typeof allocations>();
  for (const a of allocating) {
    const group = /forge/.test(a.name) ? 'node-forge' : /gcm-js/.test(a.name) ? 'gcm-js' : /\(node\)| node$/.test(a.name) ? 'node:crypto backend' : 'other';
    groups.set(group, [...(groups.get(group) ?? []), a]);
  }
  const bytes = (b: number): string => (b >= 10 ? b.toFixed(0) : b.toFixed(2));
  for (const [group, list] of groups) {
    const low = list[list.length - 1]!.bytes;
    const high = list[0]!.bytes;
    headlines.push(
      group === 'other'
        ? `  allocating, other: ${list.map((a) => `${a.name} ${bytes(a.bytes)} B`).join('; ')}`
        : `  allocating, ${group}: ${list.length} paths, ${bytes(low)}–${bytes(high)} B/packet`,
    );
  }
  const engine = allocations.filter((a) => a.suite === 'datapath');
  const engineMax = engine.filter((a) => !/\(node\)/.test(a.name))[0];
  if (engineMax !== undefined) headlines.push(`  in-memory paths without node:crypto: max ${bytes(engineMax.bytes)} B/packet (${engineMax.name})`);
}
if (headlines.length > 0) {
  console.log('\n=== headlines ===');
  for (const line of headlines) console.log(line);
}

mkdirSync(outDir, { recursive: true });
const date = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, '');
const out = join(outDir, `${date}.json`);
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine, quick: !full, seconds, headlines, results }, null, 2)}\n`);
console.log(`\nall figures: ${out} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
