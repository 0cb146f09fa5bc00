/**
 * `npm run bench`: every in-memory bench in quick mode, one child process each
 * (so one bench's JIT state does not colour the next), then a JSON record of
 * every figure and of the machine in bench/results/<date>.json.
 *
 *   npm run bench                 # quick, under 2 minutes
 *   npm run bench -- --full       # longer samples
 *   npm run bench -- --only wire  # one suite
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites = ['wire', 'pool', 'fdb'].filter((name) => existsSync(join(here, `${name}.bench.ts`)));
const full = process.argv.includes('--full');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;

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
const started = Date.now();
for (const suite of suites) {
  if (only && suite !== only) continue;
  const json = join(here, 'results', `.${suite}.tmp.json`);
  const args = ['--import', 'tsx', join(here, `${suite}.bench.ts`), '--json', json, ...(full ? [] : ['--quick'])];
  console.log(`\n=== ${suite} ===`);
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error(`${suite} bench failed with status ${r.status}`);
    process.exitCode = 1;
    continue;
  }
  if (existsSync(json)) {
    results[suite] = JSON.parse(readFileSync(json, 'utf8')) as unknown;
    rmSync(json);
  }
}
mkdirSync(join(here, 'results'), { recursive: true });
const date = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, '');
const out = join(here, 'results', `${date}.json`);
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine, quick: !full, results }, null, 2)}\n`);
console.log(`\nall figures: ${out} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
