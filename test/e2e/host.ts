/** Helpers for end-to-end tests that run test/e2e/vtep-host.ts inside namespaces. */
import type { ChildProcess } from 'node:child_process';
import { isTapAvailable } from '../../src/io/tap.js';
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

