/**
 * docs/vtep.md, run as written. The page's walk-throughs are ```sh blocks whose
 * first line is `# host: NAME`; this test builds the hosts of each walk-through
 * (network namespaces joined by veth, with the underlay addresses of the page's
 * tables), starts `vtepkit daemon` in each (the launcher bin/vtepkit.mjs, as
 * `vtepkit demo` does: run `npm run build` first), runs every block on its host
 * in the page's order, and checks what the page promises: pings answer, learnt
 * MACs show in `vtepkit fdb show`, tshark sees the Geneve option, the underlay
 * holds only ESP, and the library example prints what it says.
 *
 * A block runs as one `sh -e` script (every command must succeed) through
 * nsenter into the host's network namespace and a private mount namespace of
 * its own, whose /run/netns is a fresh tmpfs: the containers a block makes with
 * `ip netns add` stay private to that host, never collide with anything else,
 * and vanish with it. `vtepkit` on the PATH is a two-line shim for the launcher;
 * VTEPKIT_SOCKET points at the host's daemon; each host has its own working
 * directory. VTEPKIT_DOCS_VERBOSE=1 prints every block's output.
 */
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, waitForLine } from '../helpers/netns.js';
import { skipWithoutLab } from './host.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGE = join(ROOT, 'docs', 'vtep.md');
const LAUNCHER = join(ROOT, 'bin', 'vtepkit.mjs');
const VERBOSE = process.env.VTEPKIT_DOCS_VERBOSE === '1';

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

interface Block {
  host: string;
  script: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
}

interface Section {
  title: string;
  blocks: Block[];
  /** Every fenced block of the section, by language tag. */
  code: { lang: string; text: string; line: number }[];
}

/** The page's `## ` sections with their fenced blocks; `# host:` blocks are the runnable ones. */
function readPage(): Map<string, Section> {
  const sections = new Map<string, Section>();
  let current: Section = { title: '', blocks: [], code: [] };
  const lines = readFileSync(PAGE, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^## (.+)$/.exec(line);
    if (heading) {
      current = { title: heading[1]!.trim(), blocks: [], code: [] };
      sections.set(current.title, current);
      continue;
    }
    const fence = /^```(\w*)\s*$/.exec(line);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]!);
    const lang = fence[1]!;
    current.code.push({ lang, text: body.join('\n'), line: start + 1 });
    const host = lang === 'sh' ? /^# host: ([\w-]+)\s*$/.exec(body[0] ?? '') : null;
    if (host) current.blocks.push({ host: host[1]!, script: body.slice(1).join('\n'), line: start + 1 });
  }
  return sections;
}

const page = readPage();

function section(title: string): Section {
  const found = page.get(title);
  if (found === undefined) throw new Error(`docs/vtep.md has no section "## ${title}" (sections: ${[...page.keys()].join(' | ')})`);
  return found;
}

// ---------------------------------------------------------------------------
// Hosts
// ---------------------------------------------------------------------------

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

interface PageHost {
  name: string;
  ns: string;
  dir: string;
  socket: string;
  /** Holds the host's private mount namespace (its own /run/netns). */
  holder: ChildProcess;
  daemon?: ChildProcess;
  daemonLog: string;
}

/** Resolves when `pattern` shows on the child's stderr; rejects if it exits first or after 20 s. */
function waitForStderr(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${what}: nothing matching ${pattern} within 20 s: ${text}`)), 20_000);
    child.stdout?.resume();
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what}: exited (${code ?? signal}): ${text}`));
    });
  });
}

/** The machines of one walk-through: namespaces, wires, a daemon per host, and the page's blocks run on them. */
class PageLab {
  readonly lab: Lab;
  readonly dir: string;
  private readonly shims: string;
  readonly hosts = new Map<string, PageHost>();
  readonly namespaces = new Map<string, string>();

  constructor(tag: string) {
    this.lab = new Lab(tag);
    this.dir = mkdtempSync(join(tmpdir(), 'vtepkit-docs-'));
    this.shims = join(this.dir, 'bin');
    mkdirSync(this.shims);
    // `vtepkit` as the page writes it: the launcher, run by this Node.
    writeFileSync(join(this.shims, 'vtepkit'), `#!/bin/sh\nexec '${process.execPath}' '${LAUNCHER}' "$@"\n`, { mode: 0o755 });
  }

  /** A machine: a namespace with loopback up. */
  machine(name: string): string {
    const ns = this.lab.host(name);
    this.namespaces.set(name, ns);
    return ns;
  }

  ns(name: string): string {
    const ns = this.namespaces.get(name);
    if (ns === undefined) throw new Error(`no machine ${name}`);
    return ns;
  }

  /** A veth wire between two machines, with the interface names the page uses, each end up and optionally addressed. */
  wire(a: string, aIf: string, aAddress: string | undefined, b: string, bIf: string, bAddress: string | undefined): void {
    execFileSync('ip', ['link', 'add', aIf, 'netns', this.ns(a), 'type', 'veth', 'peer', 'name', bIf, 'netns', this.ns(b)]);
    for (const [host, dev, address] of [[a, aIf, aAddress], [b, bIf, bAddress]] as const) {
      if (address !== undefined) this.lab.exec(this.ns(host), 'ip', 'addr', 'add', address, 'dev', dev);
      this.lab.exec(this.ns(host), 'ip', 'link', 'set', dev, 'up');
    }
  }

  /** Makes a machine a host the page's blocks run on: its mount namespace, its directory, and (unless told not to) its daemon. */
  async start(name: string, daemon = true): Promise<PageHost> {
    const ns = this.ns(name);
    const dir = join(this.dir, name);
    mkdirSync(dir);
    const holder = this.lab.spawn(ns, 'unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /run/netns && echo ready && exec sleep infinity']);
    await waitForLine(holder, /^ready$/);
    const host: PageHost = { name, ns, dir, socket: join(dir, 'vtepkit.sock'), holder, daemonLog: '' };
    if (daemon) {
      // As `vtepkit demo` starts its daemons: ip netns exec NS node bin/vtepkit.mjs daemon --socket PATH.
      const child = this.lab.spawn(ns, process.execPath, [LAUNCHER, 'daemon', '--socket', host.socket]);
      child.stderr!.on('data', (chunk: Buffer) => (host.daemonLog += chunk.toString()));
      await waitForStderr(child, /vtepkit daemon: listening on /, `[${name}] vtepkit daemon`);
      host.daemon = child;
    }
    this.hosts.set(name, host);
    return host;
  }

  /** Runs a script on a host as the page's blocks run: sh -e, the host's namespaces, directory, PATH and socket. */
  run(name: string, script: string, timeoutMs = 90_000): Promise<Result> {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`the page runs a block on "${name}", a host this walk-through does not build (${[...this.hosts.keys()].join(', ')})`);
    return new Promise((resolve) => {
      const child = spawn(
        'nsenter',
        [`--mount=/proc/${host.holder.pid}/ns/mnt`, `--net=/run/netns/${host.ns}`, `--wd=${host.dir}`, '--', 'sh', '-e', '-c', script],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
          env: { ...process.env, PATH: `${this.shims}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, VTEPKIT_SOCKET: host.socket },
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // The whole process group: a block may have started tshark in the background.
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone already
        }
      }, timeoutMs);
      child.once('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  }

  /** Runs every `# host:` block of a section in order; throws at the first that fails, with its output. */
  async runSection(title: string): Promise<(Block & Result)[]> {
    const blocks = section(title).blocks;
    expect(blocks.length, `runnable blocks in "## ${title}"`).to.be.greaterThan(0);
    const results: (Block & Result)[] = [];
    for (const block of blocks) {
      const result = await this.run(block.host, block.script);
      if (VERBOSE) console.log(`\n--- docs/vtep.md:${block.line} on ${block.host} (exit ${result.status})\n${result.stdout}${result.stderr}`);
      if (result.status !== 0) {
        const host = this.hosts.get(block.host);
        throw new Error(
          `docs/vtep.md:${block.line}, the block on ${block.host}, exited ${result.status}:\n${block.script}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}` +
            (host?.daemonLog ? `--- daemon\n${host.daemonLog}` : ''),
        );
      }
      results.push({ ...block, ...result });
    }
    return results;
  }

  /** One command's stdout on a host; throws unless it succeeds. */
  async output(name: string, script: string): Promise<string> {
    const r = await this.run(name, script);
    if (r.status !== 0) throw new Error(`[${name}] ${script}: exit ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** A tunnel device's MAC, from `vtepkit link show`. */
  async linkMac(name: string, dev: string): Promise<string> {
    return macOf(await this.output(name, `vtepkit link show ${dev}`));
  }

  cleanup(): void {
    for (const host of this.hosts.values()) {
      if (host.daemon && host.daemon.exitCode === null && host.daemon.signalCode === null) host.daemon.kill('SIGTERM');
    }
    // Kills the daemons left, the mount-namespace holders (and with them the
    // containers the blocks made), then deletes the namespaces.
    this.lab.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function macOf(linkShow: string): string {
  const mac = /link\/ether ([0-9a-f:]{17})/.exec(linkShow)?.[1];
  if (mac === undefined) throw new Error(`no link/ether in: ${linkShow}`);
  return mac;
}

/** The result of a host's i-th block (0-based, in the page's order). */
function nth(results: (Block & Result)[], host: string, i: number): Block & Result {
  const result = results.filter((r) => r.host === host)[i];
  if (result === undefined) throw new Error(`no result for block ${i + 1} on ${host}: the page's blocks did not all run (see the first failure above)`);
  return result;
}

function requireBuild(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('the build is missing: run "npm run build" first (the walk-throughs run bin/vtepkit.mjs)');
}

// ---------------------------------------------------------------------------
// The walk-throughs
// ---------------------------------------------------------------------------

/** Every section with runnable blocks must be one this file runs: no block is silently left out. */
const WALK_THROUGHS = [
  '1. Point to point',
  '2. Gateway to gateway',
  '3. A bridge with several hosts behind one VTEP',
  '4. Multicast group',
  '5. Geneve with an option',
  '6. VXLAN protected by ESP',
];

/** The two hosts most walk-throughs use: left and right, joined on eth0 (192.0.2.1 and .2), each with its daemon; cleaned up here if the set-up fails. */
async function leftAndRight(tag: string): Promise<PageLab> {
  const p = new PageLab(tag);
  try {
    p.machine('left');
    p.machine('right');
    p.wire('left', 'eth0', '192.0.2.1/24', 'right', 'eth0', '192.0.2.2/24');
    await p.start('left');
    await p.start('right');
  } catch (error) {
    // The caller's after() never sees this lab: clean it here.
    p.cleanup();
    throw error;
  }
  return p;
}

describe('e2e: docs/vtep.md, every walk-through run as written', function () {
  this.timeout(180_000);

  before(function () {
    skipWithoutLab(this);
    requireBuild();
  });

  it('the page has the six walk-throughs, and runnable blocks nowhere else', () => {
    const runnable = [...page.values()].filter((s) => s.blocks.length > 0).map((s) => s.title);
    expect(runnable).to.deep.equal(WALK_THROUGHS);
  });

  describe('1. Point to point (seeds 000, 003)', () => {
    const tag = 'dpp';
    let p!: PageLab;
    let results: (Block & Result)[] = [];

    before(async function () {
      skipWithoutLab(this);
      p = await leftAndRight(tag);
    });
    after(() => p?.cleanup());

    it("runs the page's blocks on both hosts", async () => {
      results = await p.runSection('1. Point to point');
      expect(results.map((r) => r.host)).to.deep.equal(['left', 'right', 'left', 'left', 'left']);
    });

    it('pings across, with the all-zeros entry and the default MTU the page shows', () => {
      const out = nth(results, 'left', 1).stdout;
      expect(out).to.match(/3 packets transmitted, 3 received/);
      expect(out).to.include('00:00:00:00:00:00 dst 192.0.2.2 src_vni 100 self permanent');
      expect(out).to.match(/vxlan100: <[^>]*UP[^>]*> mtu 1450 /);
      expect(out).to.match(/RX: +bytes packets dropped/);
    });

    it('dump, link del and up restore the link: the ping answers again, with the same MAC', async () => {
      const last = nth(results, 'left', 2);
      expect(last.stdout).to.match(/3 packets transmitted, 3 received/);
      const saved = JSON.parse(readFileSync(join(p.hosts.get('left')!.dir, 'vtep.json'), 'utf8')) as { links: { name: string; address: string }[] };
      expect(saved.links.map((l) => l.name)).to.deep.equal(['vxlan100']);
      expect(await p.linkMac('left', 'vxlan100')).to.equal(saved.links[0]!.address);
    });

    it('captures the underlay with vtepkit capture: the daemon writes a pcap tshark reads, pings inside VXLAN 100', () => {
      const out = nth(results, 'left', 3).stdout;
      expect(out).to.match(/\d+ packets? captured to \/.*underlay\.pcap/);
      expect(out).to.match(/192\.0\.2\.1,10\.200\.0\.1\t192\.0\.2\.2,10\.200\.0\.2\t100\t8/);
      expect(out).to.match(/192\.0\.2\.2,10\.200\.0\.2\t192\.0\.2\.1,10\.200\.0\.1\t100\t0/);
    });
  });

  describe('2. Gateway to gateway (seed 002)', () => {
    const tag = 'dgw';
    let p!: PageLab;
    let results: (Block & Result)[] = [];

    before(async function () {
      skipWithoutLab(this);
      p = new PageLab(tag);
      for (const name of ['server1', 'gateway1', 'gateway2', 'server2']) p.machine(name);
      p.wire('server1', 'eth0', '10.0.1.10/24', 'gateway1', 'eth1', '10.0.1.254/24');
      p.wire('gateway1', 'eth0', '192.0.2.150/24', 'gateway2', 'eth0', '192.0.2.160/24');
      p.wire('gateway2', 'eth1', '10.0.2.254/24', 'server2', 'eth0', '10.0.2.10/24');
      p.lab.exec(p.ns('server1'), 'ip', 'route', 'add', 'default', 'via', '10.0.1.254');
      p.lab.exec(p.ns('server2'), 'ip', 'route', 'add', 'default', 'via', '10.0.2.254');
      await p.start('server1', false);
      await p.start('gateway1');
      await p.start('gateway2');
      await p.start('server2', false);
    });
    after(() => p?.cleanup());

    it("runs the page's blocks on the four hosts", async () => {
      results = await p.runSection('2. Gateway to gateway');
      expect(results.map((r) => r.host)).to.deep.equal(['gateway1', 'gateway2', 'server1', 'server2', 'gateway2']);
    });

    it('each server pings the other through both gateways (ttl=62, as in the seed)', () => {
      for (const server of ['server1', 'server2']) {
        const out = nth(results, server, 0).stdout;
        expect(out, server).to.match(/3 packets transmitted, 3 received/);
        expect(out, server).to.match(/ttl=62/);
      }
    });

    it('the two tunnel devices came up with different MACs; the by-hand address is taken', () => {
      const first = macOf(nth(results, 'gateway1', 0).stdout);
      const second = macOf(nth(results, 'gateway2', 0).stdout);
      expect(first).to.not.equal(second);
      expect(macOf(nth(results, 'gateway2', 1).stdout)).to.equal('02:00:0a:01:01:02');
    });
  });

  describe('3. A bridge with several hosts behind one VTEP (seed 003)', () => {
    const tag = 'dbr';
    let p!: PageLab;
    let results: (Block & Result)[] = [];

    before(async function () {
      skipWithoutLab(this);
      p = await leftAndRight(tag);
    });
    after(() => p?.cleanup());

    it("runs the page's blocks: bridges, containers, pings between the hosts' containers", async () => {
      results = await p.runSection('3. A bridge with several hosts behind one VTEP');
      expect(results.map((r) => r.host)).to.deep.equal(['left', 'right', 'left']);
      const out = nth(results, 'left', 1).stdout;
      expect(out.match(/3 packets transmitted, 3 received/g) ?? []).to.have.length(2);
    });

    it("the left VTEP learnt both remote containers' MACs, behind the right host's underlay address", async () => {
      const fdb = nth(results, 'left', 1).stdout;
      for (const container of ['ctr-b1', 'ctr-b2']) {
        const mac = (await p.output('right', `ip netns exec ${container} cat /sys/class/net/eth0/address`)).trim();
        expect(fdb, container).to.include(`${mac} dst 192.0.2.2 src_vni 100 self\n`);
      }
      expect(fdb).to.include('00:00:00:00:00:00 dst 192.0.2.2 src_vni 100 self permanent');
    });

    it("the containers are private to their host's /run/netns", () => {
      const global = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
      expect(global).to.not.match(/^ctr-/m);
    });
  });

  describe('4. Multicast group (seed 003)', () => {
    const tag = 'dmc';
    let p!: PageLab;
    let results: (Block & Result)[] = [];

    before(async function () {
      skipWithoutLab(this);
      p = new PageLab(tag);
      // Three hosts on one LAN: a switch (a bridge in its own namespace).
      p.machine('switch');
      p.lab.exec(p.ns('switch'), 'ip', 'link', 'add', 'br0', 'type', 'bridge');
      p.lab.exec(p.ns('switch'), 'ip', 'link', 'set', 'br0', 'up');
      for (const n of [1, 2, 3]) {
        p.machine(`node${n}`);
        p.wire(`node${n}`, 'eth0', `192.0.2.${n}/24`, 'switch', `port${n}`, undefined);
        p.lab.exec(p.ns('switch'), 'ip', 'link', 'set', `port${n}`, 'master', 'br0');
        await p.start(`node${n}`);
      }
    });
    after(() => p?.cleanup());

    it("runs the page's blocks on the three hosts", async () => {
      results = await p.runSection('4. Multicast group');
      expect(results.map((r) => r.host)).to.deep.equal(['node1', 'node2', 'node3', 'node1']);
      expect(nth(results, 'node1', 1).stdout.match(/3 packets transmitted, 3 received/g) ?? []).to.have.length(2);
    });

    it('the all-zeros entry points at the group; both other VTEPs were learnt from what arrived', async () => {
      const out = nth(results, 'node1', 1).stdout;
      expect(out).to.include('00:00:00:00:00:00 dst 239.1.1.1 src_vni 42 self permanent');
      for (const n of [2, 3]) {
        const mac = await p.linkMac(`node${n}`, 'vxlan42');
        expect(out, `node${n}`).to.include(`${mac} dst 192.0.2.${n} src_vni 42 self\n`);
      }
    });

    it('the host joined 239.1.1.1 on eth0 (01:00:5e:01:01:01)', () => {
      const out = nth(results, 'node1', 1).stdout;
      expect(out).to.match(/inet\s+239\.1\.1\.1/);
      expect(out).to.include('01:00:5e:01:01:01');
    });
  });

  describe('5. Geneve with an option (seed 000)', () => {
    const tag = 'dgn';
    let p!: PageLab;
    let results: (Block & Result)[] = [];

    before(async function () {
      skipWithoutLab(this);
      p = await leftAndRight(tag);
    });
    after(() => p?.cleanup());

    it("runs the page's blocks: IPv4 and IPv6 pings across", async () => {
      results = await p.runSection('5. Geneve with an option');
      expect(results.map((r) => r.host)).to.deep.equal(['left', 'right', 'left']);
      const out = nth(results, 'left', 1).stdout;
      expect(out).to.match(/4 packets transmitted, 4 received/);
      expect(out).to.match(/3 packets transmitted, 3 received/);
    });

    it('the link shows its option and the MTU of the table (1442)', () => {
      const out = nth(results, 'left', 0).stdout;
      expect(out).to.include('option class 0x0102 type 0x80 data 0x00003039');
      expect(out).to.match(/gnv0: <[^>]*> mtu 1442 /);
    });

    it('tshark sees VNI 500 and the critical option 0x0102/0x80 with the customer ID 0x00003039', () => {
      const out = nth(results, 'left', 1).stdout;
      expect(out).to.match(/Virtual Network Identifier \(VNI\): 0x0001f4 \(500\)/);
      expect(out).to.match(/Critical Options Present: True/);
      expect(out).to.match(/Class: .*\(0x0102\)/);
      expect(out).to.match(/Type: 0x80 \(Critical\)/);
      expect(out).to.match(/Option Data: 00003039/);
      expect(out).to.not.match(/Malformed/i);
    });
  });

  describe('6. VXLAN protected by ESP (seed 000)', () => {
    const tag = 'des';
    let p!: PageLab;
    let results: (Block & Result)[] = [];

    before(async function () {
      skipWithoutLab(this);
      p = await leftAndRight(tag);
    });
    after(() => p?.cleanup());

    it("runs the page's blocks: the SAs on both hosts, a ping across", async () => {
      results = await p.runSection('6. VXLAN protected by ESP');
      expect(results.map((r) => r.host)).to.deep.equal(['left', 'right', 'left']);
      expect(nth(results, 'left', 1).stdout).to.match(/5 packets transmitted, 5 received/);
    });

    it('the capture holds only ESP, with the SPI of each direction', () => {
      const out = nth(results, 'left', 1).stdout;
      const packets = out.split('\n').filter((l) => l.includes('→'));
      expect(packets.length, out).to.be.at.least(4);
      for (const packet of packets) expect(packet).to.match(/ ESP \d+ ESP \(SPI=0x0000100[01]\)/);
      expect(packets.some((l) => l.includes('SPI=0x00001000'))).to.equal(true);
      expect(packets.some((l) => l.includes('SPI=0x00001001'))).to.equal(true);
    });

    it('the SAs count what they sealed and opened, with HMAC-SHA-256 (128-bit ICV, RFC 4868)', () => {
      const out = nth(results, 'left', 1).stdout;
      expect(out).to.match(/spi 0x00001000[\s\S]*?algorithm aes-cbc-128-hmac-sha256[\s\S]*?counters: sealed [1-9]/);
      expect(out).to.match(/ESP drops outside any SA: none\n?$/);
      expect(out).to.match(/spi 0x00001001[\s\S]*?counters: opened [1-9]/);
      expect(out).to.not.match(/badIcv/);
    });
  });

  describe('Using the engine as a library', () => {
    const lab = new Lab('dlb');
    let dir = '';

    before(function () {
      skipWithoutLab(this);
      dir = mkdtempSync(join(tmpdir(), 'vtepkit-docs-lib-'));
      // As an installed package: import ... from 'vtepkit' resolves through node_modules.
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(ROOT, join(dir, 'node_modules', 'vtepkit'), 'dir');
      const examples = section('Using the engine as a library').code.filter((c) => c.lang === 'ts');
      expect(examples, 'one ```ts example').to.have.length(1);
      writeFileSync(join(dir, 'example.mts'), `${examples[0]!.text}\n`);
    });
    after(() => {
      lab.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('the example type-checks against the published types', () => {
      const r = spawnSync(process.execPath, [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext',
        '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'example.mts',
      ], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).to.equal(0);
    });

    it('prints the payload, the learnt entry and the counters the page says (in a namespace of its own, loopback only)', () => {
      const ns = lab.host('lib');
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(dir, 'example.mts')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.include('hello over VXLAN');
      expect(r.stdout).to.match(/mac: '02:00:00:00:00:01'/);
      expect(r.stdout).to.match(/dst: '127\.0\.0\.1'/);
      expect(r.stdout).to.match(/txPackets: 1\b/);
    });
  });
});
