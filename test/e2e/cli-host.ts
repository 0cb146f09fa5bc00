/**
 * Helpers for end-to-end tests that drive the real `vtepkit` command (the
 * launcher bin/vtepkit.mjs, which runs the build in dist/: `npm run build`
 * first) inside network namespaces: one `vtepkit daemon` per host, verbs sent
 * to it over its control socket, and a packet counter as the judge.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitForLine, type Lab } from '../helpers/netns.js';
import { PYTHON } from '../helpers/judges.js';

export const VTEPKIT_BIN = fileURLToPath(new URL('../../bin/vtepkit.mjs', import.meta.url));

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command inside a namespace without blocking the event loop; never rejects. */
export function runIn(ns: string, command: string, args: string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** `vtepkit --socket SOCKET WORDS…` run inside `ns`. */
export function vtepkit(ns: string, socket: string, ...words: string[]): Promise<CommandResult> {
  return runIn(ns, process.execPath, [VTEPKIT_BIN, '--socket', socket, ...words]);
}

/** The same; throws with the command's stderr unless it exits 0. Resolves its stdout. */
export async function vtepkitOk(ns: string, socket: string, ...words: string[]): Promise<string> {
  const r = await vtepkit(ns, socket, ...words);
  if (r.status !== 0) throw new Error(`[${ns}] vtepkit ${words.join(' ')}: exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** `vtepkit -j WORDS…`, parsed. */
export async function vtepkitJson<T>(ns: string, socket: string, ...words: string[]): Promise<T> {
  return JSON.parse(await vtepkitOk(ns, socket, '-j', ...words)) as T;
}

/** What a link reports with `vtepkit -s -j link show NAME`. */
export interface LinkStats {
  name: string;
  address: string;
  up: boolean;
  stats: { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number; rxDropped: number; txDropped: number; drops: Record<string, number>; underlay?: { oversize: number; badHeader: number; unknownVni: number } };
}

export async function linkStats(ns: string, socket: string, name: string): Promise<LinkStats> {
  const links = await vtepkitJson<LinkStats[]>(ns, socket, '-s', 'link', 'show', name);
  return links[0]!;
}

/**
 * Starts `vtepkit daemon --socket SOCKET [ARGS…]` in `ns` (killed by the lab's
 * cleanup) and resolves once it says it listens; rejects with its stderr if it
 * exits first.
 */
export function startDaemon(lab: Lab, ns: string, socket: string, ...args: string[]): Promise<ChildProcess> {
  const child = lab.spawn(ns, process.execPath, [VTEPKIT_BIN, 'daemon', '--socket', socket, ...args]);
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`[${ns}] vtepkit daemon did not start within 20 s: ${stderr}`)), 20_000);
    child.stdout!.resume();
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/vtepkit daemon: listening on /.test(stderr)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`[${ns}] vtepkit daemon exited (${code ?? signal}) before listening: ${stderr}`));
    });
  });
}

/** Resolves when the process has exited (at once if it has already). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts, for `seconds`, the frames on every interface of the namespace (an
 * unbound AF_PACKET socket: the TAP and the underlay alike, both directions)
 * that contain one of the tokens. A key is `tN IFNAME KIND`, KIND being the
 * packet type (host, broadcast, multicast, otherhost, outgoing), followed by
 * ` to ADDR` for an outer IPv4 packet to UDP port 4789 (the underlay copy of
 * the frame), so that a copy sent to each remote, or one sent to a group,
 * shows as such.
 */
const SNIFFER = `
import json, select, socket, struct, sys, time
tokens = [bytes.fromhex(t) for t in sys.argv[2:]]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
kinds = {0: 'host', 1: 'broadcast', 2: 'multicast', 3: 'otherhost', 4: 'outgoing'}
counts = {}
print('ready', flush=True)
end = time.monotonic() + float(sys.argv[1])
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    if not select.select([s], [], [], left)[0]:
        continue
    data, addr = s.recvfrom(65535)
    for i, token in enumerate(tokens):
        if token not in data:
            continue
        key = 't%d %s %s' % (i, addr[0], kinds.get(addr[2], str(addr[2])))
        if len(data) >= 38 and data[12:14] == b'\\x08\\x00' and data[23] == 17:
            ihl = (data[14] & 15) * 4
            if struct.unpack('!H', data[14 + ihl + 2:14 + ihl + 4])[0] == 4789:
                key += ' to ' + socket.inet_ntoa(data[30:34])
        counts[key] = counts.get(key, 0) + 1
print(json.dumps(counts, sort_keys=True), flush=True)
`;

export type Sightings = Record<string, number>;

/** Starts the counter in `ns`; resolves, once it is capturing, with the promise of its counts (wrapped: an async function would wait for it). */
export async function startSniffer(lab: Lab, ns: string, seconds: number, tokens: string[]): Promise<{ counts: Promise<Sightings> }> {
  const child = lab.spawn(ns, PYTHON, ['-c', SNIFFER, String(seconds), ...tokens]);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<Sightings>((resolve, reject) => {
    // 'close', not 'exit': the last line may still be in the pipe when the process exits.
    child.once('close', () => {
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as Sightings);
      } catch {
        reject(new Error(`[${ns}] the packet counter failed: ${stderr}${stdout}`));
      }
    });
  });
  result.catch(() => undefined);
  await waitForLine(child, /^ready$/);
  return { counts: result };
}

/**
 * The counts of one token, without the token's prefix: `{ 'vxlan100 broadcast': 1, … }`. Frames of
 * kind otherhost are left out: a bridge floods a unicast frame to every port until it has learnt the
 * destination's port, and the host's stack (and so its VTEP) never takes such a frame.
 */
export function ofToken(sightings: Sightings, index: number): Sightings {
  const prefix = `t${index} `;
  return Object.fromEntries(
    Object.entries(sightings)
      .filter(([key]) => key.startsWith(prefix) && !/ otherhost( |$)/.test(key))
      .map(([key, n]) => [key.slice(prefix.length), n]),
  );
}
