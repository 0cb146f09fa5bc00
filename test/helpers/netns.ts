/**
 * Test hosts: network namespaces joined by veth pairs, created by a test and
 * always removed afterwards (call `cleanup()` in `after`, which also runs when a
 * test fails). Names carry the process id so parallel runs never collide, and
 * only documentation / private ranges are used inside them.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

export function canUseNetns(): string {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns does not work here: ${r.stderr || r.error}`;
  return '';
}

/** A command run in a namespace failed: its words and its stderr. */
export class CommandError extends Error {}

const live = new Set<Lab>();

export class Lab {
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private links = 0;

  /** Namespaces are named `vtk<tag><pid>-<name>`: parallel runs never collide. */
  constructor(tag: string) {
    this.prefix = `vtk${tag}${process.pid % 100000}`;
    live.add(this);
  }

  /** Creates a namespace with its loopback up. */
  host(name: string): string {
    const ns = `${this.prefix}-${name}`;
    execFileSync('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    this.exec(ns, 'ip', 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** A veth pair between two namespaces, `aIf` in `a` and `bIf` in `b` (the same name may serve both). */
  veth(a: string, aIf: string, b: string, bIf: string, mtu = 1500): void {
    execFileSync('ip', ['link', 'add', aIf, 'netns', a, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', bIf, 'netns', b, 'mtu', String(mtu)]);
  }

  /** Joins two namespaces with a veth pair, with addresses (CIDR) on each end, up; returns the interface names. */
  link(a: string, aAddress: string, b: string, bAddress: string, mtu = 1500): [string, string] {
    const index = this.links++;
    const aIf = `ve${index}a${process.pid % 1000}`;
    const bIf = `ve${index}b${process.pid % 1000}`;
    this.veth(a, aIf, b, bIf, mtu);
    this.exec(a, 'ip', 'addr', 'add', aAddress, 'dev', aIf);
    this.exec(b, 'ip', 'addr', 'add', bAddress, 'dev', bIf);
    this.exec(a, 'ip', 'link', 'set', aIf, 'up');
    this.exec(b, 'ip', 'link', 'set', bIf, 'up');
    return [aIf, bIf];
  }

  /** Runs a command in a namespace; throws a CommandError with its stderr on failure; returns stdout. */
  exec(ns: string, command: string, ...args: string[]): string {
    const r = spawnSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new CommandError(`[${ns}] ${command} ${args.join(' ')}: ${(r.stderr || r.stdout || String(r.error ?? `exit ${r.status}`)).trim()}`);
    return r.stdout;
  }

  /** Runs a command and returns its status and output, without throwing. */
  try(ns: string, command: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** As exec, without blocking the event loop (so two hosts can be set up at once). */
  execAsync(ns: string, command: string, args: string[], what = `${command} ${args.join(' ')}`): Promise<string> {
    const child = this.spawn(ns, command, args);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => {
        if (code === 0) resolve(stdout);
        else reject(new CommandError(`[${ns}] ${what}: ${signal ? `killed by ${signal}` : `exit ${code}`}: ${(stderr || stdout).trim()}`));
      });
    });
  }

  /** Starts a long-running process in a namespace (killed by cleanup); `ip netns exec` execs it, so child.pid is the process itself. */
  spawn(ns: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.children.push(child);
    return child;
  }

  /** Kills every child and any other process left in the namespaces, then deletes them (and so their devices). Synchronous (a signal handler may call it); safe to call twice. */
  cleanup(): void {
    for (const child of this.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
    live.delete(this);
  }
}

/** Cleans up every Lab not yet cleaned up (for signal and exit handlers). */
export function cleanupAll(): void {
  for (const lab of [...live]) lab.cleanup();
}

/** Resolves with the first line of a child's stdout that matches, or rejects on exit/timeout. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let errors = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; stdout: ${buffered}; stderr: ${errors}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before ${pattern}; stdout: ${buffered}; stderr: ${errors}`));
    });
  });
}
