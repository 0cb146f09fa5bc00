/**
 * `vtepkit demo`: two hosts (network namespaces joined by a veth pair), a
 * vtepkit daemon in each, configured with the seeds' point-to-point commands,
 * a ping across the overlay, the counters and FDBs, then everything removed.
 * It needs root (namespaces, TAP devices). Addresses: 192.0.2.0/24 underlay,
 * 10.200.0.0/24 overlay, only inside the namespaces it creates.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendRequest } from './control.js';
import type { MainIo } from './main.js';

interface Host {
  ns: string;
  socket: string;
  underlay: string;
  overlay: string;
  daemon?: ChildProcess;
}

function sh(io: MainIo, show: boolean, command: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (show) io.stdout.write(`# ${command} ${args.join(' ')}\n`);
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

function must(io: MainIo, show: boolean, command: string, ...args: string[]): string {
  const r = sh(io, show, command, ...args);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

async function waitForDaemon(socket: string, daemon: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (daemon.exitCode !== null) throw new Error(`the daemon exited with status ${daemon.exitCode}`);
    if (existsSync(socket)) {
      try {
        await sendRequest({ op: 'ping', args: {} }, { path: socket, timeout: 1000 });
        return;
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the daemon did not open ${socket}`);
}

export async function runDemo(words: string[], io: MainIo): Promise<number> {
  if (words.length > 0) {
    io.stderr.write(`Error: vtepkit demo takes no arguments, got "${words[0]}"\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    io.stderr.write('Error: vtepkit demo builds network namespaces and TAP devices: run it as root (sudo npx vtepkit demo)\n');
    return 1;
  }
  const launcher = fileURLToPath(new URL('../../bin/vtepkit.mjs', import.meta.url));
  const tag = `vtkdemo${process.pid % 100000}`;
  const dir = mkdtempSync(join(tmpdir(), 'vtepkit-demo-'));
  const hosts: Host[] = [
    { ns: `${tag}-a`, socket: join(dir, 'a.sock'), underlay: '192.0.2.1', overlay: '10.200.0.1' },
    { ns: `${tag}-b`, socket: join(dir, 'b.sock'), underlay: '192.0.2.2', overlay: '10.200.0.2' },
  ];
  const [a, b] = hosts as [Host, Host];
  const vtepkit = (host: Host, ...args: string[]): string => {
    io.stdout.write(`[${host.ns}] $ vtepkit ${args.join(' ')}\n`);
    const out = must(io, false, 'ip', 'netns', 'exec', host.ns, process.execPath, launcher, '--socket', host.socket, ...args);
    if (out) io.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
    return out;
  };
  let status = 1;
  try {
    io.stdout.write('== two hosts joined by a veth pair (the underlay) ==\n');
    for (const host of hosts) {
      must(io, true, 'ip', 'netns', 'add', host.ns);
      must(io, false, 'ip', 'netns', 'exec', host.ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    must(io, true, 'ip', 'link', 'add', 'eth0', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b.ns);
    for (const host of hosts) {
      must(io, true, 'ip', 'netns', 'exec', host.ns, 'ip', 'addr', 'add', `${host.underlay}/24`, 'dev', 'eth0');
      must(io, true, 'ip', 'netns', 'exec', host.ns, 'ip', 'link', 'set', 'eth0', 'up');
    }

    io.stdout.write('\n== a vtepkit daemon on each host ==\n');
    for (const host of hosts) {
      io.stdout.write(`[${host.ns}] $ vtepkit daemon --socket ${host.socket} &\n`);
      host.daemon = spawn('ip', ['netns', 'exec', host.ns, process.execPath, launcher, 'daemon', '--socket', host.socket], { stdio: ['ignore', 'ignore', 'pipe'] });
      await waitForDaemon(host.socket, host.daemon);
    }

    io.stdout.write('\n== the seeds\' point-to-point VXLAN, with vtepkit for ip/bridge ==\n');
    for (const [host, peer] of [[a, b], [b, a]] as const) {
      vtepkit(host, 'link', 'add', 'vxlan100', 'type', 'vxlan', 'id', '100', 'dstport', '4789', 'local', host.underlay, 'nolearning');
      vtepkit(host, 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan100', 'dst', peer.underlay);
      vtepkit(host, 'addr', 'add', `${host.overlay}/24`, 'dev', 'vxlan100');
      vtepkit(host, 'link', 'set', 'vxlan100', 'up');
    }

    io.stdout.write('\n== ping across the overlay ==\n');
    const ping = sh(io, true, 'ip', 'netns', 'exec', a.ns, 'ping', '-c', '4', '-i', '0.2', '-W', '2', b.overlay);
    io.stdout.write(ping.stdout);
    if (ping.status !== 0) io.stderr.write(ping.stderr);

    io.stdout.write('\n== counters and forwarding tables ==\n');
    for (const host of hosts) {
      vtepkit(host, '-s', 'link', 'show', 'vxlan100');
      vtepkit(host, 'fdb', 'show', 'dev', 'vxlan100');
    }
    status = ping.status === 0 ? 0 : 1;
    io.stdout.write(status === 0 ? '\nThe overlay works. Cleaning up.\n' : '\nThe ping failed; see above. Cleaning up.\n');
  } catch (error) {
    io.stderr.write(`Error: ${(error as Error).message}\n`);
    status = 1;
  } finally {
    for (const host of hosts) {
      if (host.daemon && host.daemon.exitCode === null) host.daemon.kill('SIGTERM');
    }
    await new Promise((r) => setTimeout(r, 200));
    for (const host of hosts) {
      if (host.daemon && host.daemon.exitCode === null) host.daemon.kill('SIGKILL');
      spawnSync('ip', ['netns', 'del', host.ns]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return status;
}
