/**
 * The bench suite itself (issue 6): what it writes and whether its meters measure. No
 * figure is asserted here (performance lives in bench/, not in tests): the runners
 * must finish, write every field the docs describe, clean up after themselves, refuse
 * bad flags; the allocation meter must tell an allocating loop from one that is not;
 * the chart must be well-formed SVG whatever the labels say.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureAllocations } from '../../bench/alloc.js';
import { barChart } from '../../bench/svg.js';
import { canUseNetns } from '../helpers/netns.js';
import { isTapAvailable } from '../../src/io/tap.js';

/** Runs a bench script with tsx; returns its status and output. */
function bench(script: string, args: string[], timeout = 240_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Well-formed XML, as an independent parser (Python's) reads it: the root tag and how many of `tag` it holds. */
function parseXml(file: string, tag: string): { root: string; count: number } {
  const script = `import sys, xml.etree.ElementTree as E
t = E.parse(sys.argv[1]); r = t.getroot()
print(r.tag.split('}')[-1], sum(1 for e in r.iter() if e.tag.split('}')[-1] == sys.argv[2]))`;
  const r = spawnSync('python3', ['-c', script, file, tag], { encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  const [root, count] = r.stdout.trim().split(' ');
  return { root: root!, count: Number(count) };
}

describe('bench: the suite itself', function () {
  this.timeout(300_000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vtepkit-bench-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the allocation meter tells 100 doubles per call (≈ 830 B of V8 heap) from nothing per call', async () => {
    // The meter counts V8's heap: an array of 100 doubles is 800 bytes of elements plus headers.
    // (A Uint8Array's bytes live outside it: docs/benchmarks.md's pool line shows 184 B for 2 KiB.)
    const keep: number[][] = new Array<number[]>(8);
    const allocating = await measureAllocations('allocating', 20_000, (i) => {
      keep[i & 7] = new Array<number>(100).fill(i + 0.5);
    });
    const fixed = new Uint8Array(1024);
    let sum = 0;
    const quiet = await measureAllocations('quiet', 20_000, (i) => {
      sum += fixed[i & 1023]!;
    });
    expect(allocating.bytesPerOp, JSON.stringify(allocating)).to.be.within(800, 1000);
    expect(quiet.bytesPerOp, JSON.stringify(quiet)).to.be.lessThan(1);
    expect(sum).to.equal(0);
  });

  it('the chart is well-formed SVG with one bar per mode, whatever the labels hold', () => {
    const file = join(dir, 'chart.svg');
    writeFileSync(
      file,
      barChart({
        title: 'a <title> & "quotes"',
        unit: 'packets/s',
        bars: [
          { label: 'kernel-vxlan', value: 150_000 },
          { label: 'vtepkit <&> "x"', value: 120_000, note: "0.80× 'kernel'", highlight: true },
          { label: 'zero', value: 0 },
        ],
      }),
    );
    const svg = parseXml(file, 'rect');
    expect(svg.root).to.equal('svg');
    // A background plus one rect per bar at least.
    expect(svg.count).to.be.at.least(3);
    expect(readFileSync(file, 'utf8')).to.include('vtepkit &lt;&amp;&gt; &quot;x&quot;');
  });

  it('npm run bench (one suite, 2 rounds): exits 0 and writes the machine, every row with its fields, the headlines, nothing left behind', () => {
    const out = join(dir, 'in-memory');
    const r = bench('bench/run.ts', ['--only', 'wire', '--rounds', '2', '--out', out]);
    expect(r.status, r.stdout.slice(-2000) + r.stderr).to.equal(0);
    const files = readdirSync(out);
    expect(files.filter((f) => f.endsWith('.json')), files.join(' ')).to.have.length(1);
    expect(files.filter((f) => f.startsWith('.')), 'temporary files').to.deep.equal([]);
    const document = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as {
      machine: { cpu: string; cores: number; node: string; kernel: string };
      quick: boolean;
      headlines: string[];
      results: { wire: { name: string; packetsPerSecond: number; errorPercent: number; rounds: number[]; nsPerPacket: number; innerGbps: number; bytesPerPacket: number }[] };
    };
    expect(document.machine.cores).to.be.at.least(1);
    expect(document.machine.node).to.equal(process.version);
    expect(document.machine.cpu).to.be.a('string').and.not.equal('');
    expect(document.quick).to.equal(true);
    expect(document.results.wire.length).to.be.at.least(10);
    for (const row of document.results.wire) {
      expect(row.packetsPerSecond, row.name).to.be.greaterThan(0);
      expect(Number.isFinite(row.errorPercent), row.name).to.equal(true);
      expect(row.rounds, row.name).to.have.length(2);
      // ns/pkt and Gbit/s are packets/s seen another way.
      expect(row.nsPerPacket * row.packetsPerSecond, row.name).to.be.closeTo(1e9, 1e6);
      expect(row.innerGbps, row.name).to.be.closeTo((row.packetsPerSecond * 64 * 8) / 1e9, 1e-6);
      expect(row.bytesPerPacket, row.name).to.be.at.least(0);
    }
    expect(r.stdout).to.include('=== headlines ===');
  });

  it('the datapath suite checks what it transmits and receives before timing it (a quick run passes those checks)', () => {
    const r = bench('bench/datapath.bench.ts', ['--quick', '--rounds', '2', '--filter', 'VXLAN:']);
    expect(r.status, r.stdout.slice(-2000) + r.stderr).to.equal(0);
    expect(r.stdout).to.include('TX VXLAN: frame → FDB → encap → bytes').and.include('RX VXLAN: bytes → decap → learn → frame');
  });

  describe('npm run bench:e2e (root, namespaces)', () => {
    before(function () {
      const why = canUseNetns() || (isTapAvailable() ? '' : 'the TAP addon is not built');
      if (why) {
        console.log(`      SKIPPED: ${why}`);
        this.skip();
      }
    });

    it('refuses bad flags with exit status 1 and says which', () => {
      for (const [args, words] of [
        [['--rounds', '0'], '--rounds'],
        [['--modes', 'kernel-vxlan,warp-drive'], 'warp-drive'],
        [['--seconds', 'soon'], '--seconds'],
        [['--out'], '--out'],
        [['--frobnicate'], '--frobnicate'],
      ] as const) {
        const r = bench('bench/e2e.bench.ts', [...args], 60_000);
        expect(r.status, args.join(' ')).to.equal(1);
        expect(r.stderr + r.stdout, args.join(' ')).to.include(words);
      }
    });

    it('three modes, one short round: the JSON and the chart hold every mode and the headline; no namespace is left', () => {
      const out = join(dir, 'e2e');
      const r = bench('bench/e2e.bench.ts', ['--modes', 'veth,kernel-vxlan,vtepkit-vxlan', '--rounds', '1', '--seconds', '0.5', '--probes', '20', '--out', out]);
      expect(r.status, r.stdout.slice(-3000) + r.stderr.slice(-3000)).to.equal(0);
      const files = readdirSync(out);
      const json = files.find((f) => f.endsWith('.json'));
      const svg = files.find((f) => f.endsWith('.svg'));
      expect(json, files.join(' ')).to.not.equal(undefined);
      expect(svg, files.join(' ')).to.not.equal(undefined);
      const document = JSON.parse(readFileSync(join(out, json!), 'utf8')) as {
        machine: { cores: number };
        medians: { mode: string; pps: number; loss: number; vtepCpu: number[]; latency: { p50: number; p99: number; p999: number; jitter: number } }[];
        headlines: { name: string; ratio: number; perRound: number[]; met: boolean }[];
      };
      expect(document.medians.map((m) => m.mode)).to.deep.equal(['veth', 'kernel-vxlan', 'vtepkit-vxlan']);
      for (const m of document.medians) {
        expect(m.pps, m.mode).to.be.greaterThan(0);
        expect(m.loss, m.mode).to.be.within(0, 1);
        expect(m.latency.p50, m.mode).to.be.greaterThan(0);
        expect(m.latency.p99, m.mode).to.be.at.least(m.latency.p50);
      }
      expect(document.medians[2]!.vtepCpu, 'two VTEP processes measured').to.have.length(2);
      const headline = document.headlines.find((h) => h.name === 'vtepkit-vxlan / kernel-vxlan');
      expect(headline, JSON.stringify(document.headlines)).to.not.equal(undefined);
      expect(headline!.ratio).to.be.closeTo(document.medians[2]!.pps / document.medians[1]!.pps, 1e-9);
      expect(headline!.perRound).to.have.length(1);
      const chart = parseXml(join(out, svg!), 'rect');
      expect(chart.root).to.equal('svg');
      expect(chart.count).to.be.at.least(3);
      const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
      expect(left, 'namespaces left behind').to.not.match(/vtkbe/);
      expect(existsSync(join(out, '.tmp'))).to.equal(false);
    });
  });
});
