/**
 * A fake engine for the CLI tests: records every call, returns canned data,
 * throws a typed error on demand. The real engine (src/vtep/vtep.ts) is tested
 * end to end elsewhere.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FdbRow } from '../../src/fdb/index.js';
import type { LinkChange, LinkConfig, LinkInfo, NeighbourConfig, SaConfigInput, VtepApi, VtepDocument } from '../../src/vtep/api.js';

export interface Call {
  method: string;
  args: unknown[];
}

/** An error shaped like the engine's typed errors (FdbError, EspError): a code, a field. */
export class TypedError extends Error {
  constructor(
    readonly code: string,
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export const LINK: LinkInfo = {
  name: 'vxlan100',
  type: 'vxlan',
  vni: 100,
  dstport: 4789,
  local: '192.168.1.10',
  dev: 'eth0',
  learning: false,
  ageing: 300,
  srcport: { min: 49152, max: 65535 },
  udpChecksum: false,
  up: true,
  mtu: 1450,
  address: '02:11:22:33:44:55',
  ifindex: 7,
  stats: { rxPackets: 12, rxBytes: 1234, txPackets: 10, txBytes: 987, rxDropped: 3, txDropped: 0, drops: { 'bad-header': 2, 'unknown-vni': 1, 'too-big': 0 } },
};

export const GENEVE: LinkInfo = {
  name: 'gnv0',
  type: 'geneve',
  vni: 500,
  dstport: 6081,
  remote: '192.168.2.30',
  options: [{ class: 0x0102, type: 0x80, data: '0x00003039' }],
  up: false,
  mtu: 1442,
  address: '02:aa:bb:cc:dd:ee',
};

export const FDB_ROWS: (FdbRow & { dev: string })[] = [
  { dev: 'vxlan100', mac: '00:00:00:00:00:00', dst: '192.168.1.20', src_vni: 100, flags: ['self'], state: 'permanent' },
  { dev: 'vxlan100', mac: '02:00:00:00:00:0a', dst: '192.168.1.20', src_vni: 100, flags: ['self'], state: '' },
];

export class FakeApi implements VtepApi {
  readonly calls: Call[] = [];
  /** method → error thrown by the next call of it. */
  readonly failures = new Map<string, unknown>();
  /** method → value returned instead of the default. */
  readonly returns = new Map<string, unknown>();
  links: LinkInfo[] = [LINK, GENEVE];
  closed = 0;
  /** ms every async method waits (ordering tests). */
  delay = 0;

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failures.get(method);
    if (failure !== undefined) {
      this.failures.delete(method);
      throw failure;
    }
  }

  private canned<T>(method: string, fallback: T): T {
    return this.returns.has(method) ? (this.returns.get(method) as T) : fallback;
  }

  private async wait(): Promise<void> {
    if (this.delay > 0) await new Promise((resolve) => setTimeout(resolve, this.delay));
  }

  async addLink(config: LinkConfig): Promise<LinkInfo> {
    await this.wait();
    this.record('addLink', config);
    return this.canned('addLink', { ...config, up: false, mtu: 1450, address: '02:00:00:00:00:99' });
  }
  async setLink(name: string, change: LinkChange): Promise<LinkInfo> {
    await this.wait();
    this.record('setLink', name, change);
    return this.canned('setLink', { ...LINK, name, ...change });
  }
  async deleteLink(name: string): Promise<void> {
    await this.wait();
    this.record('deleteLink', name);
  }
  showLinks(options?: { name?: string; stats?: boolean }): LinkInfo[] {
    this.record('showLinks', options);
    return this.canned('showLinks', this.links);
  }
  async addAddress(dev: string, cidr: string): Promise<void> {
    await this.wait();
    this.record('addAddress', dev, cidr);
  }
  fdbAdd(dev: string, mac: string, options: object): void {
    this.record('fdbAdd', dev, mac, options);
  }
  fdbAppend(dev: string, mac: string, options: object): void {
    this.record('fdbAppend', dev, mac, options);
  }
  fdbReplace(dev: string, mac: string, options: object): void {
    this.record('fdbReplace', dev, mac, options);
  }
  fdbDel(dev: string, mac: string, options?: object): boolean {
    this.record('fdbDel', dev, mac, options);
    return this.canned('fdbDel', true);
  }
  fdbShow(options?: object): (FdbRow & { dev: string })[] {
    this.record('fdbShow', options);
    return this.canned('fdbShow', FDB_ROWS);
  }
  neighAdd(config: NeighbourConfig): void {
    this.record('neighAdd', config);
  }
  neighDel(config: Omit<NeighbourConfig, 'lladdr'>): boolean {
    this.record('neighDel', config);
    return this.canned('neighDel', true);
  }
  neighShow(options?: { dev?: string }): { dev: string; address: string; lladdr: string; state: string }[] {
    this.record('neighShow', options);
    return this.canned('neighShow', [{ dev: 'vxlan100', address: '10.200.0.2', lladdr: '02:00:00:00:00:02', state: 'permanent' }]);
  }
  xfrmStateAdd(config: SaConfigInput): void {
    this.record('xfrmStateAdd', config);
  }
  xfrmStateDel(spi: number, dst: string): boolean {
    this.record('xfrmStateDel', spi, dst);
    return this.canned('xfrmStateDel', true);
  }
  xfrmStateShow(): Record<string, unknown>[] {
    this.record('xfrmStateShow');
    return this.canned('xfrmStateShow', [
      { src: '192.168.1.10', dst: '192.168.1.20', spi: 0x1000, mode: 'transport', replayWindow: 64, aead: { name: 'rfc4106(gcm(aes))', key: '0x' + '33'.repeat(20), icvBits: 128 } },
    ]);
  }
  xfrmDrops(): Record<string, number> {
    this.record('xfrmDrops');
    return this.canned('xfrmDrops', { 'unknown-spi': 2 });
  }
  /** Captures keep running until stopped (otherwise they stop at once, as if their count were reached). */
  capturesKeepRunning = false;
  /** A capture that writes a pcap header and one fake 4-byte packet record, then stops as if its count were reached. */
  capture(name: string, side: 'tap' | 'underlay', sink: (bytes: Uint8Array) => void, options: { count?: number; onStop?: () => void } = {}): (() => void) & { readonly packets: number; readonly running: boolean } {
    this.record('capture', name, side, options.count);
    sink(new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0]));
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      options.onStop?.();
    };
    const keepsRunning = this.capturesKeepRunning;
    return Object.defineProperties(stop, { packets: { get: () => 1 }, running: { get: () => keepsRunning && !stopped } }) as (() => void) & { readonly packets: number; readonly running: boolean };
  }
  async apply(document: VtepDocument): Promise<void> {
    await this.wait();
    this.record('apply', document);
  }
  dump(): VtepDocument {
    this.record('dump');
    return this.canned('dump', { version: 1, links: [{ name: 'vxlan100', type: 'vxlan', vni: 100 }], addresses: [{ dev: 'vxlan100', address: '10.200.0.1/24' }, { dev: 'gnv0', address: 'fd00:1234::1/64' }] });
  }
  async close(): Promise<void> {
    this.closed++;
    this.record('close');
  }

  /** The calls of one method. */
  callsOf(method: string): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }
}

/** A fresh temporary directory for sockets and files; remove it with the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'vtepkit-cli-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A stream that collects what is written. */
export class Collector {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}
