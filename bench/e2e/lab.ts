/**
 * The bench's hosts: network namespaces joined by a veth pair, and the
 * processes started in them. Everything a Lab creates is removed by
 * `cleanup()`, which is synchronous so that a signal handler can call it too;
 * `cleanupAll()` removes what every live Lab holds.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

const live = new Set<Lab>();

export class CommandError extends Error {}

export class Lab {
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];

  /** prefix: unique per process and use (it carries the pid), at most 10 characters. */
  constructor(readonly prefix: string) {
    live.add(this);
  }

  /** Creates namespace `<prefix>-<name>` with its loopback up. */
  host(name: string): string {
    const ns = `${this.prefix}-${name}`;
    run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    this.exec(ns, 'ip', 'link', 'set', 'lo', 'up');
    return ns;
  }

  /** A veth pair named `dev` at both ends, between two namespaces. */
  veth(a: string, b: string, dev: string): void {
    run('ip', ['link', 'add', dev, 'netns', a, 'type', 'veth', 'peer', 'name', dev, 'netns', b]);
  }

  /** Runs a command in a namespace; throws with its stderr on failure; returns stdout. */
  exec(ns: string, command: string, ...args: string[]): string {
    return run('ip', ['netns', 'exec', ns, command, ...args]);
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

  /** Starts a process in a namespace; `ip netns exec` execs it, so child.pid is the process itself. */
  spawn(ns: string, command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.children.push(child);
    return child;
  }

  /** Kills every process this Lab started and any other left in its namespaces, then deletes the namespaces. Safe to call twice. */
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

/** Runs a command, throws a CommandError naming it with its stderr when it fails; returns stdout. */
export function run(command: string, args: string[], timeout = 30_000): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout });
  if (r.error) throw new CommandError(`${command} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new CommandError(`${command} ${args.join(' ')}: ${(r.stderr || r.stdout || `exit ${r.status}`).trim()}`);
  return r.stdout;
}

/**
 * The stdout lines of a child, in order, for a request/answer dialogue:
 * `await lines.next('sink')` is the next line not yet taken. stderr is kept
 * for error messages.
 */
export class Lines {
  private readonly queue: string[] = [];
  private partial = '';
  private stderr = '';
  private ended: string | null = null;
  private waiter: (() => void) | null = null;

  constructor(child: ChildProcess) {
    child.stdout!.on('data', (c: Buffer) => {
      const parts = (this.partial + c.toString()).split('\n');
      this.partial = parts.pop()!;
      this.queue.push(...parts.filter((l) => l.trim() !== ''));
      this.waiter?.();
    });
    child.stderr?.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString()).slice(-4000);
    });
    child.once('exit', (code, signal) => {
      this.ended = signal ?? String(code);
      this.waiter?.();
    });
  }

  get errors(): string {
    return this.stderr.trim();
  }

  /** The next line; rejects when the process exits without one or after timeoutMs. */
  async next(what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.queue.shift();
      if (line !== undefined) return line;
      if (this.ended !== null) throw new CommandError(`${what} exited (${this.ended}) before answering: ${this.errors || '(no message)'}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new CommandError(`${what}: no answer after ${timeoutMs / 1000} s ${this.errors}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = (): void => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  /** The next line, which must be `expected`. */
  async expect(expected: string, what: string, timeoutMs?: number): Promise<void> {
    const line = await this.next(what, timeoutMs);
    if (line.trim() !== expected) throw new CommandError(`${what}: expected "${expected}", got "${line}" ${this.errors}`);
  }

  /** The next line as JSON. */
  async json<T>(what: string, timeoutMs?: number): Promise<T> {
    const line = await this.next(what, timeoutMs);
    try {
      return JSON.parse(line) as T;
    } catch {
      throw new CommandError(`${what}: not JSON: ${line.slice(0, 200)} ${this.errors}`);
    }
  }
}
