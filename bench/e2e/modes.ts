/**
 * The paths the end-to-end bench measures, each built on two fresh hosts
 * joined by one veth (`eth0`, 192.0.2.1 and 192.0.2.2): what sits between the
 * generator on host a and the sink on host b.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, Lab } from './lab.js';

export const MODE_NAMES = [
  'veth',
  'kernel-vxlan',
  'vtepkit-vxlan',
  'vtepkit-geneve',
  'vtepkit-vxlan-esp-gcm',
  'vtepkit-vxlan-esp-chacha',
  'vtepkit-vxlan-esp-gcm-node',
  'vtepkit-vxlan-espinudp-gcm',
] as const;
export type ModeName = (typeof MODE_NAMES)[number];

export const DESCRIPTIONS: Record<ModeName, string> = {
  veth: 'plain veth, no tunnel (the ceiling)',
  'kernel-vxlan': "the kernel's vxlan device, VNI 100",
  'vtepkit-vxlan': 'two vtepkit daemons, VXLAN VNI 100',
  'vtepkit-geneve': 'two vtepkit daemons, Geneve VNI 500 with one 4-byte option',
  'vtepkit-vxlan-esp-gcm': "vtepkit VXLAN in ESP transport mode, rfc4106(gcm(aes)) 128-bit key, default backend (openssl when the cipher addon is built)",
  'vtepkit-vxlan-esp-chacha': 'vtepkit VXLAN in ESP transport mode, rfc7539esp(chacha20,poly1305), default backend',
  'vtepkit-vxlan-esp-gcm-node': 'the same as esp-gcm, the daemons started with --esp-backend node (node:crypto, a cipher object per packet)',
  'vtepkit-vxlan-espinudp-gcm': 'the same as esp-gcm in UDP 4500 (encap espinudp 4500 4500 0.0.0.0, RFC 3948)',
};

export interface Host {
  ns: string;
  /** Underlay address on eth0. */
  underlay: string;
  /** Overlay address on the tunnel device. */
  overlay: string;
}

/** Where the generator writes and what it addresses; what to sample for CPU. */
export interface Path {
  /** The device on host a the generator writes frames into. */
  dev: string;
  /** Source and destination IPv4 addresses of the generated packets (the sink binds dst). */
  src: string;
  dst: string;
  /** MAC addresses of `dev` on host a and of its counterpart on host b (the frames' source and destination). */
  srcMac: string;
  dstMac: string;
  /** The VTEP processes, sender side first; empty when the kernel does the work. */
  vtepPids: number[];
  /** Counters for a failure message or --verbose: the kernel's and (vtepkit) the daemons' view of both ends. */
  counters(): Promise<string>;
  /** The kernel's view of the generator's device: its TX drops (a full TAP queue), as `ip -s link` counts them. */
  senderTxDropped(): number;
}

export interface SetupContext {
  lab: Lab;
  a: Host;
  b: Host;
  /** A private directory for the daemons' control sockets. */
  dir: string;
  /** bin/vtepkit.mjs. */
  launcher: string;
}

const VNI_VXLAN = '100';
const VNI_GENEVE = '500';

function macOf(lab: Lab, ns: string, dev: string): string {
  const parsed = JSON.parse(lab.exec(ns, 'ip', '-j', 'link', 'show', 'dev', dev)) as { address: string }[];
  return parsed[0]!.address;
}

function txDropped(lab: Lab, ns: string, dev: string): number {
  const parsed = JSON.parse(lab.exec(ns, 'ip', '-s', '-j', 'link', 'show', 'dev', dev)) as { stats64?: { tx?: { dropped?: number } } }[];
  return parsed[0]?.stats64?.tx?.dropped ?? 0;
}

/** Static neighbours both ways on the overlay: the measurement carries no ARP. */
function neighbours(lab: Lab, a: Host, b: Host, dev: string): { srcMac: string; dstMac: string } {
  const srcMac = macOf(lab, a.ns, dev);
  const dstMac = macOf(lab, b.ns, dev);
  lab.exec(a.ns, 'ip', 'neigh', 'replace', b.overlay, 'lladdr', dstMac, 'dev', dev);
  lab.exec(b.ns, 'ip', 'neigh', 'replace', a.overlay, 'lladdr', srcMac, 'dev', dev);
  return { srcMac, dstMac };
}

function kernelCounters(lab: Lab, hosts: Host[], dev: string): string {
  return hosts.map((h) => `  [${h.ns}] ${lab.exec(h.ns, 'ip', '-s', 'link', 'show', 'dev', dev).trim().replace(/\n/g, '\n    ')}`).join('\n');
}

/** A vtepkit daemon in each host's namespace, and the `vtepkit` command against it. */
class Daemon {
  readonly socket: string;
  readonly pid: number;
  private readonly stderr: string[] = [];

  private constructor(
    private readonly context: SetupContext,
    readonly host: Host,
    child: ReturnType<Lab['spawn']>,
  ) {
    this.socket = join(context.dir, `${host.ns}.sock`);
    this.pid = child.pid ?? 0;
    child.stderr!.on('data', (c: Buffer) => this.stderr.push(c.toString()));
  }

  static async start(context: SetupContext, host: Host, daemonArgs: string[] = []): Promise<Daemon> {
    const socket = join(context.dir, `${host.ns}.sock`);
    // VTEPKIT_BENCH_PROFILE=DIR: each daemon writes a CPU profile there when it stops (bench/profile-summary.ts reads them).
    const profile = process.env.VTEPKIT_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.VTEPKIT_BENCH_PROFILE}`] : [];
    const child = context.lab.spawn(host.ns, process.execPath, [...profile, context.launcher, 'daemon', '--socket', socket, ...daemonArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    const daemon = new Daemon(context, host, child);
    const deadline = Date.now() + 15_000;
    while (!existsSync(socket)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new CommandError(`vtepkit daemon in ${host.ns} exited (${child.signalCode ?? child.exitCode}): ${daemon.stderr.join('').trim()}`);
      }
      if (Date.now() > deadline) throw new CommandError(`vtepkit daemon in ${host.ns}: no control socket after 15 s: ${daemon.stderr.join('').trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return daemon;
  }

  /** `vtepkit --socket S WORDS…` in the host's namespace, as a user types it. */
  cli(...words: string[]): Promise<string> {
    return this.context.lab.execAsync(this.host.ns, process.execPath, [this.context.launcher, '--socket', this.socket, ...words], `vtepkit ${words.join(' ')}`);
  }

  /** Runs several commands in order. */
  async script(commands: string[][]): Promise<void> {
    for (const words of commands) await this.cli(...words);
  }
}

function hex(bytes: number): string {
  return `0x${randomBytes(bytes).toString('hex')}`;
}

async function vtepkitPath(context: SetupContext, dev: string, linkWords: (self: Host, peer: Host) => string[][], sas?: string[][], daemonArgs: string[] = []): Promise<Path> {
  const { lab, a, b } = context;
  const daemons = await Promise.all([Daemon.start(context, a, daemonArgs), Daemon.start(context, b, daemonArgs)]);
  await Promise.all(
    daemons.map((daemon) => {
      const self = daemon.host;
      const peer = self === a ? b : a;
      return daemon.script([...linkWords(self, peer), ['addr', 'add', `${self.overlay}/24`, 'dev', dev], ['link', 'set', dev, 'up'], ...(sas ?? [])]);
    }),
  );
  const macs = neighbours(lab, a, b, dev);
  return {
    dev,
    src: a.overlay,
    dst: b.overlay,
    ...macs,
    vtepPids: daemons.map((d) => d.pid),
    async counters() {
      const views = await Promise.all(daemons.map(async (d) => `  [${d.host.ns}] vtepkit -s link show:\n    ${(await d.cli('-s', 'link', 'show')).trim().replace(/\n/g, '\n    ')}`));
      // With ESP, also the raw sockets' receive-queue drops (the last column of /proc/net/raw).
      const xfrm = sas
        ? await Promise.all(
            daemons.map(
              async (d) =>
                `  [${d.host.ns}] vtepkit -s xfrm state show:\n    ${(await d.cli('-s', 'xfrm', 'state', 'show')).trim().replace(/\n/g, '\n    ')}\n` +
                `  [${d.host.ns}] /proc/net/raw:\n    ${lab.exec(d.host.ns, 'cat', '/proc/net/raw').trim().replace(/\n/g, '\n    ')}`,
            ),
          )
        : [];
      return [kernelCounters(lab, [a, b], dev), ...views, ...xfrm].join('\n');
    },
    senderTxDropped: () => txDropped(lab, a.ns, dev),
  };
}

/** Both SAs (a→b and b→a), installed on both hosts, as docs/vtep.md walk-through 6 does. */
function securityAssociations(a: Host, b: Host, algorithm: string, keyBytes: number, inUdp = false): string[][] {
  const forward = hex(keyBytes);
  const backward = hex(keyBytes);
  const encap = inUdp ? ['encap', 'espinudp', '4500', '4500', '0.0.0.0'] : [];
  return [
    ['xfrm', 'state', 'add', 'src', a.underlay, 'dst', b.underlay, 'proto', 'esp', 'spi', '0x1000', 'mode', 'transport', 'aead', algorithm, forward, '128', ...encap],
    ['xfrm', 'state', 'add', 'src', b.underlay, 'dst', a.underlay, 'proto', 'esp', 'spi', '0x1001', 'mode', 'transport', 'aead', algorithm, backward, '128', ...encap],
  ];
}

export async function setUp(mode: ModeName, context: SetupContext): Promise<Path> {
  const { lab, a, b } = context;
  switch (mode) {
    case 'veth': {
      const srcMac = macOf(lab, a.ns, 'eth0');
      const dstMac = macOf(lab, b.ns, 'eth0');
      return {
        dev: 'eth0',
        src: a.underlay,
        dst: b.underlay,
        srcMac,
        dstMac,
        vtepPids: [],
        counters: async () => kernelCounters(lab, [a, b], 'eth0'),
        senderTxDropped: () => txDropped(lab, a.ns, 'eth0'),
      };
    }
    case 'kernel-vxlan': {
      for (const [self, peer] of [[a, b], [b, a]] as const) {
        lab.exec(self.ns, 'ip', 'link', 'add', 'vxlan100', 'type', 'vxlan', 'id', VNI_VXLAN, 'dstport', '4789', 'local', self.underlay, 'dev', 'eth0', 'nolearning');
        lab.exec(self.ns, 'bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan100', 'dst', peer.underlay);
        lab.exec(self.ns, 'ip', 'addr', 'add', `${self.overlay}/24`, 'dev', 'vxlan100');
        lab.exec(self.ns, 'ip', 'link', 'set', 'vxlan100', 'up');
      }
      const macs = neighbours(lab, a, b, 'vxlan100');
      return {
        dev: 'vxlan100',
        src: a.overlay,
        dst: b.overlay,
        ...macs,
        vtepPids: [],
        counters: async () => kernelCounters(lab, [a, b], 'vxlan100'),
        senderTxDropped: () => txDropped(lab, a.ns, 'vxlan100'),
      };
    }
    case 'vtepkit-vxlan':
      // docs/vtep.md walk-through 1, the seeds' point-to-point words.
      return vtepkitPath(context, 'vxlan100', (self, peer) => [
        ['link', 'add', 'vxlan100', 'type', 'vxlan', 'id', VNI_VXLAN, 'dstport', '4789', 'local', self.underlay, 'dev', 'eth0', 'nolearning'],
        ['fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxlan100', 'dst', peer.underlay],
      ]);
    case 'vtepkit-geneve':
      // docs/vtep.md walk-through 5: the option is critical (type 0x80), so the
      // receiver must declare it; here each side sends it and knows it.
      return vtepkitPath(context, 'gnv0', (self, peer) => [
        [
          'link', 'add', 'gnv0', 'type', 'geneve', 'vni', VNI_GENEVE, 'remote', peer.underlay, 'local', self.underlay, 'dstport', '6081',
          'option', 'class', '0x0102', 'type', '0x80', 'data', '0x00000001',
          'known-option', 'class', '0x0102', 'type', '0x80',
        ],
      ]);
    case 'vtepkit-vxlan-esp-gcm':
    case 'vtepkit-vxlan-esp-gcm-node':
    case 'vtepkit-vxlan-espinudp-gcm':
    case 'vtepkit-vxlan-esp-chacha': {
      // docs/vtep.md walk-through 6: the link first (an SA whose src is the
      // link's local address is outbound), then both SAs on both hosts.
      const [algorithm, keyBytes] = mode === 'vtepkit-vxlan-esp-chacha' ? ['rfc7539esp(chacha20,poly1305)', 36] : ['rfc4106(gcm(aes))', 20];
      return vtepkitPath(
        context,
        'vxlan100',
        (self, peer) => [['link', 'add', 'vxlan100', 'type', 'vxlan', 'id', VNI_VXLAN, 'dstport', '4789', 'local', self.underlay, 'remote', peer.underlay]],
        securityAssociations(a, b, algorithm, keyBytes, mode === 'vtepkit-vxlan-espinudp-gcm'),
        mode === 'vtepkit-vxlan-esp-gcm-node' ? ['--esp-backend', 'node'] : [],
      );
    }
  }
}
