/**
 * The bench's hosts: the tests' Lab (test/helpers/netns.ts: namespaces, veth,
 * processes, a synchronous cleanup a signal handler can call, cleanupAll), and
 * what the bench adds: `run` and a line reader for its helper processes.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { CommandError } from '../../test/helpers/netns.js';

// The namespaces and their processes: the tests' Lab, one implementation for both.
export { CommandError, Lab, cleanupAll } from '../../test/helpers/netns.js';

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
