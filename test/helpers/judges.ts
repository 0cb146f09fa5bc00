/**
 * Independent judges: scapy (Debian's python3-scapy) and tshark. Tests hand them
 * bytes we produced and compare what they dissect with what we meant to encode.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcapFileBytes } from '../../src/wire/pcap.js';

/** Debian's interpreter: scapy is installed for it, not for a pyenv python on PATH. */
export const PYTHON = process.env.VTEPKIT_PYTHON ?? '/usr/bin/python3';

let scapyChecked: string | undefined;

/** Empty string when scapy can be imported; otherwise why not. */
export function scapyMissing(): string {
  if (scapyChecked === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import scapy.all, cryptography; print(scapy.VERSION)'], { encoding: 'utf8' });
    scapyChecked = r.status === 0 ? '' : `scapy not importable with ${PYTHON}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`;
  }
  return scapyChecked;
}

/**
 * Runs a Python script with scapy imported. The script reads hex lines from
 * `INPUT` (a list of bytes objects) and must print one JSON document.
 */
export function runScapy<T = unknown>(script: string, inputs: Uint8Array[] = []): T {
  const prelude = [
    'import sys, json, warnings',
    'warnings.filterwarnings("ignore")',
    'from scapy.all import *',
    'INPUT = [bytes.fromhex(l) for l in sys.stdin.read().split()]',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', `${prelude}\n${script}`], {
    input: inputs.map((b) => Buffer.from(b).toString('hex')).join('\n'),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`scapy script failed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

let tsharkChecked: string | undefined;

export function tsharkMissing(): string {
  if (tsharkChecked === undefined) {
    const r = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
    tsharkChecked = r.status === 0 ? '' : 'tshark is not installed (apt-get install tshark)';
  }
  return tsharkChecked;
}

/** A dissected packet's layers, from `tshark -T json --no-duplicate-keys`. */
export type TsharkLayers = Record<string, unknown>;

/** Every instance of a layer (a repeated layer, e.g. outer and inner IP, comes as an array). Throws when absent. */
export function tsharkAll(layers: TsharkLayers, name: string): TsharkLayers[] {
  const value = layers[name];
  if (value === undefined) throw new Error(`tshark found no ${name} layer; layers: ${Object.keys(layers).join(',')}`);
  return [value].flat() as TsharkLayers[];
}

/** Every key anywhere in a dissection that marks a malformed packet, an error-level expert item or a bad checksum. */
export function tsharkProblems(node: unknown, path = ''): string[] {
  if (node === null || typeof node !== 'object') return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(node as TsharkLayers)) {
    if (key.startsWith('_ws.malformed') || (key === '_ws.expert.severity' && value === '8388608')) found.push(`${path}${key}`);
    if (/checksum\.status$/.test(key) && value === '0') found.push(`${path}${key}=bad`);
    found.push(...tsharkProblems(value, `${path}${key}/`));
  }
  return found;
}

/**
 * Resolves when a live tshark is capturing: "Capturing on" comes before dumpcap
 * is ready, "Capture started" when it is (tshark 3.x/4.x); a tshark that does
 * not print the latter gets two seconds after the former. Rejects when it exits
 * first or after `timeoutMs`.
 */
export function tsharkStarted(capture: ChildProcess, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    let grace: NodeJS.Timeout | undefined;
    const done = (error?: Error): void => {
      clearTimeout(timer);
      clearTimeout(grace);
      capture.stderr!.off('data', onData);
      capture.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      stderr += chunk.toString();
      if (/Capture started/.test(stderr)) done();
      else if (grace === undefined && /Capturing on/.test(stderr)) grace = setTimeout(() => done(), 2000);
    };
    const onExit = (): void => done(new Error(`tshark exited before capturing: ${stderr.trim()}`));
    const timer = setTimeout(() => done(new Error(`tshark did not start capturing in ${timeoutMs} ms: ${stderr.trim()}`)), timeoutMs);
    capture.stderr!.on('data', onData);
    capture.once('exit', onExit);
  });
}

/**
 * tshark's JSON dissection (`-T json --no-duplicate-keys`) of `packets` written
 * as a pcap of `linkType`, with extra arguments (`-o` preferences). The file
 * lives in a temporary directory removed before returning. Throws when tshark fails.
 */
export function tsharkDissect(linkType: number, packets: readonly Uint8Array[], extraArgs: readonly string[] = []): { _source: { layers: TsharkLayers } }[] {
  const dir = mkdtempSync(join(tmpdir(), 'vtepkit-tshark-'));
  try {
    const file = join(dir, 'packets.pcap');
    writeFileSync(file, pcapFileBytes(linkType, packets));
    const r = spawnSync('tshark', ['-r', file, '-T', 'json', '--no-duplicate-keys', ...extraArgs], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as { _source: { layers: TsharkLayers } }[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
