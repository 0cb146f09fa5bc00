/**
 * Where the time goes: sums the self time of a V8 CPU profile by function.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/datapath.bench.ts --filter "TX VXLAN:" --rounds 5
 *   npx tsx bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25] [--under name]
 *
 * Prints one line per function (name, file:line) with its self time in ms and as a
 * share of the profile, largest first. `--under name` keeps only the samples whose
 * stack contains a function of that name (e.g. the bench case's closure, to leave
 * out the set-up and the allocation run's GC), and adds the inclusive time of the
 * functions on those stacks.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { formatTable } from './alloc.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const underAt = args.indexOf('--under');
const under = underAt >= 0 ? args[underAt + 1]! : undefined;
const values = new Set([topAt, underAt].filter((at) => at >= 0).map((at) => at + 1));
const files = args.filter((a, i) => !a.startsWith('--') && !values.has(i));
if (files.length === 0) {
  console.error('usage: tsx bench/profile-summary.ts FILE.cpuprofile [--top n] [--under functionName]');
  process.exit(2);
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode): string => {
    const f = n.callFrame;
    const where = f.url === '' ? '' : ` ${basename(f.url.replace(/\?.*$/, ''))}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
    return `${f.functionName === '' ? '(anonymous)' : f.functionName}${where}`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000; // a sample's time runs to the next sample
    let node = byId.get(profile.samples[i]!)!;
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = node.id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
    if (under !== undefined && !stack.some((n) => n.callFrame.functionName === under)) continue;
    total += dt;
    self.set(label(node), (self.get(label(node)) ?? 0) + dt);
    if (under !== undefined) {
      const seen = new Set<string>();
      for (node of stack) {
        const l = label(node);
        if (seen.has(l)) continue;
        seen.add(l);
        inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
      }
    }
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`\n${basename(file)}: ${total.toFixed(0)} ms of samples${under ? ` under ${under}` : ''} (profile ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms)`);
  console.log(formatTable(['function (self time)', 'ms', '%'], rows.map(([name, ms]) => [name, ms.toFixed(1), ((ms / total) * 100).toFixed(1)])));
  if (under !== undefined) {
    const inc = [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
    console.log(formatTable(['function (inclusive time)', 'ms', '%'], inc.map(([name, ms]) => [name, ms.toFixed(1), ((ms / total) * 100).toFixed(1)])));
  }
}
