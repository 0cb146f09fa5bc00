/**
 * End-to-end throughput of 64-byte frames host to host (root; builds namespaces):
 * a UDP generator on host A sends through the overlay to a counting sink on
 * host B, over the same veth, first through two kernel vxlan devices, then
 * through two vtepkit VTEPs, alternating for several rounds; medians reported.
 *
 *   npm run bench:e2e [-- --seconds 3 --rounds 3]
 *
 * 64-byte frames: 14 Ethernet + 20 IPv4 + 8 UDP + 18 payload = 60 bytes + 4 FCS.
 * The generator and sink are small Python programs (Debian's python3), each on
 * its own process; the VTEP processes' CPU is read from /proc.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const argument = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const SECONDS = argument('--seconds', 3);
const ROUNDS = argument('--rounds', 3);
const PYTHON = '/usr/bin/python3';
const launcher = new URL('../bin/vtepkit.mjs', import.meta.url).pathname;

const GENERATOR = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
payload = b'v' * 18
end = time.time() + float(sys.argv[2]); n = 0; dst = (sys.argv[1], 9)
while time.time() < end:
    for _ in range(256):
        try:
            s.sendto(payload, dst); n += 1
        except OSError:
            pass
print(n, flush=True)
`;
const SINK = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((sys.argv[1], 9)); s.settimeout(1.0)
n = 0; first = None; last = None
print('ready', flush=True)
while True:
    try:
        s.recv(64)
    except socket.timeout:
        if first is not None: break
        continue
    now = time.time(); n += 1
    if first is None: first = now
    last = now
print(n, (last - first) if first else 0, flush=True)
`;

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function lines(child: ChildProcess): Promise<string[]> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', () => resolve(out.trim().split('\n')));
  });
}

async function waitFor(child: ChildProcess, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${text}`)), 15000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

interface Result {
  mode: string;
  sent: number;
  received: number;
  pps: number;
  loss: number;
  vtepCpu: number[];
}

async function round(mode: 'kernel' | 'vtepkit', tag: string): Promise<Result> {
  const a = `${tag}-a`;
  const b = `${tag}-b`;
  const dir = mkdtempSync(join(tmpdir(), 'vtepkit-e2e-'));
  const daemons: ChildProcess[] = [];
  try {
    for (const ns of [a, b]) {
      ip('netns', 'add', ns);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    ip('link', 'add', 'eth0', 'netns', a, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
    const hosts = [[a, '192.0.2.1', '192.0.2.2', '10.220.0.1'], [b, '192.0.2.2', '192.0.2.1', '10.220.0.2']] as const;
    for (const [ns, local] of hosts) {
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${local}/24`, 'dev', 'eth0');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
    }
    for (const [ns, local, remote, overlay] of hosts) {
      if (mode === 'kernel') {
        ip('netns', 'exec', ns, 'ip', 'link', 'add', 'vxlan100', 'type', 'vxlan', 'id', '100', 'dstport', '4789', 'local', local, 'nolearning');
        ip('netns', 'exec', ns, 'bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan100', 'dst', remote);
        ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${overlay}/24`, 'dev', 'vxlan100');
        ip('netns', 'exec', ns, 'ip', 'link', 'set', 'vxlan100', 'up');
      } else {
        const socket = join(dir, `${ns}.sock`);
        const daemon = spawn('ip', ['netns', 'exec', ns, process.execPath, launcher, 'daemon', '--socket', socket], { stdio: 'ignore' });
        daemons.push(daemon);
        for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
        const cli = (...words: string[]): void => {
          const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, launcher, '--socket', socket, ...words], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`vtepkit ${words.join(' ')}: ${r.stderr}`);
        };
        cli('link', 'add', 'vxlan100', 'type', 'vxlan', 'id', '100', 'dstport', '4789', 'local', local, 'nolearning');
        cli('fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan100', 'dst', remote);
        cli('addr', 'add', `${overlay}/24`, 'dev', 'vxlan100');
        cli('link', 'set', 'vxlan100', 'up');
      }
    }
    // Static neighbours: no ARP in the measurement.
    const mac = (ns: string): string => JSON.parse(spawnSync('ip', ['netns', 'exec', ns, 'ip', '-j', 'link', 'show', 'vxlan100'], { encoding: 'utf8' }).stdout)[0].address;
    ip('netns', 'exec', a, 'ip', 'neigh', 'replace', '10.220.0.2', 'lladdr', mac(b), 'dev', 'vxlan100');
    ip('netns', 'exec', b, 'ip', 'neigh', 'replace', '10.220.0.1', 'lladdr', mac(a), 'dev', 'vxlan100');

    const sink = spawn('ip', ['netns', 'exec', b, PYTHON, '-c', SINK, '10.220.0.2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitFor(sink, 'ready');
    const sinkOut = lines(sink);
    const cpuBefore = daemons.map((d) => (d.pid ? cpuTicks(d.pid) : 0));
    const started = Date.now();
    const generator = spawn('ip', ['netns', 'exec', a, PYTHON, '-c', GENERATOR, '10.220.0.2', String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const sent = Number((await lines(generator))[0]);
    const elapsed = (Date.now() - started) / 1000;
    const cpuAfter = daemons.map((d) => (d.pid ? cpuTicks(d.pid) : 0));
    const result = (await sinkOut).at(-1)!.split(' ').map(Number);
    const received = result[0]!;
    if (process.argv.includes('--verbose')) {
      for (const [ns] of hosts) {
        const kernelView = JSON.parse(spawnSync('ip', ['netns', 'exec', ns, 'ip', '-s', '-j', 'link', 'show', 'vxlan100'], { encoding: 'utf8' }).stdout)[0].stats64;
        console.log(`  ${ns} kernel's view of vxlan100: rx ${JSON.stringify(kernelView.rx)} tx ${JSON.stringify(kernelView.tx)}`);
        if (mode === 'vtepkit') {
          const socket = join(dir, `${ns}.sock`);
          const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, launcher, '--socket', socket, '-s', '-j', 'link', 'show'], { encoding: 'utf8' });
          console.log(`  ${ns} vtepkit: ${r.stdout.trim()}`);
        }
      }
    }
    const ticksPerSecond = 100;
    return {
      mode,
      sent,
      received,
      pps: received / SECONDS,
      loss: sent > 0 ? 1 - received / sent : 0,
      vtepCpu: cpuAfter.map((t, i) => ((t - cpuBefore[i]!) / ticksPerSecond / elapsed) * 100),
    };
  } finally {
    for (const d of daemons) d.kill('SIGKILL');
    for (const ns of [a, b]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.getuid?.() !== 0) {
  console.error('bench:e2e builds network namespaces: run it as root');
  process.exit(1);
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const results: Result[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of ['kernel', 'vtepkit'] as const) {
    const result = await round(mode, `vtkbe${process.pid % 10000}${r}`);
    results.push(result);
    console.log(`round ${r + 1} ${mode.padEnd(8)} sent ${result.sent} received ${result.received} → ${Math.round(result.pps)} pps, loss ${(result.loss * 100).toFixed(1)} %, VTEP CPU ${result.vtepCpu.map((c) => c.toFixed(0) + '%').join(' ') || '(kernel)'}`);
  }
}
const kernel = median(results.filter((r) => r.mode === 'kernel').map((r) => r.pps));
const user = median(results.filter((r) => r.mode === 'vtepkit').map((r) => r.pps));
console.log(`\nmedian of ${ROUNDS} rounds, ${SECONDS} s each, 64-byte frames host to host:`);
console.log(`  kernel vxlan : ${Math.round(kernel)} pps`);
console.log(`  vtepkit VXLAN: ${Math.round(user)} pps (${(user / kernel).toFixed(2)}× the kernel)`);
