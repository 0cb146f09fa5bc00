/** Helpers for end-to-end tests that run test/e2e/vtep-host.ts inside namespaces. */
import type { ChildProcess } from 'node:child_process';
import { isTapAvailable } from '../../src/io/tap.js';
import type { LinkConfig } from '../../src/vtep/api.js';
import { tsharkStarted } from '../helpers/judges.js';
import { Lab, canUseNetns, waitForLine } from '../helpers/netns.js';

export function ask<T>(child: ChildProcess, command: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      const line = chunk.toString().split('\n').find((l) => l.startsWith('[') || l.startsWith('{'));
      if (line === undefined) return;
      child.stdout!.off('data', onData);
      try {
        resolve(JSON.parse(line) as T);
      } catch (error) {
        reject(error);
      }
    };
    child.stdout!.on('data', onData);
    child.stdin!.write(`${command}\n`);
  });
}

export async function startVtep(lab: Lab, ns: string, document: unknown): Promise<ChildProcess> {
  const child = lab.spawn(ns, process.execPath, ['--import', 'tsx', 'test/e2e/vtep-host.ts', JSON.stringify(document)]);
  await waitForLine(child, /^ready/);
  return child;
}

export function skipWithoutLab(context: Mocha.Context): void {
  const why = canUseNetns() || (isTapAvailable() ? '' : 'the TAP addon is not built (npm run build:addon)');
  if (why) {
    console.log(`      SKIPPED: ${why}`);
    context.skip();
  }
}


export interface VtepPair {
  left: string;
  right: string;
  /** The underlay veth's name on the left host, and on the right. */
  veth: [string, string];
  leftVtep: ChildProcess;
  rightVtep: ChildProcess;
}

/**
 * The seeds' point-to-point set-up: hosts `left` and `right` joined by veth at
 * `underlay` (two CIDRs), each running a VTEP with one link `link` (its `local`
 * and `remote` filled in from the underlay addresses), up, with the overlay
 * address `overlay[i]`. `extra[i]` is merged into side i's link.
 */
export async function startVtepPair(
  lab: Lab,
  link: Omit<LinkConfig, 'local' | 'remote'>,
  underlay: [string, string],
  overlay: [string, string],
  extra: [Partial<LinkConfig>, Partial<LinkConfig>] = [{}, {}],
): Promise<VtepPair> {
  const left = lab.host('left');
  const right = lab.host('right');
  const veth = lab.link(left, underlay[0], right, underlay[1]);
  const local = underlay.map((cidr) => cidr.split('/')[0]!);
  const side = (i: 0 | 1): unknown => ({
    version: 1,
    links: [{ ...link, local: local[i], remote: local[1 - i], ...extra[i] }],
    up: [link.name],
    addresses: [{ dev: link.name, address: overlay[i] }],
  });
  const leftVtep = await startVtep(lab, left, side(0));
  const rightVtep = await startVtep(lab, right, side(1));
  return { left, right, veth, leftVtep, rightVtep };
}

/**
 * Captures `count` packets matching `filter` on `iface` in namespace `ns` into
 * `file` while `action` runs: the action starts once tshark captures, and
 * tshark stops at the count or after 15 s, whichever comes first.
 */
export async function captureWhile(lab: Lab, ns: string, iface: string, filter: string, count: number, file: string, action: () => void): Promise<void> {
  const capture = lab.spawn(ns, 'tshark', ['-i', iface, '-f', filter, '-c', String(count), '-a', 'duration:15', '-w', file]);
  const exited = new Promise<void>((resolve) => capture.once('exit', () => resolve()));
  await tsharkStarted(capture);
  action();
  await exited;
}
