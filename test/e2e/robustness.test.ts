/**
 * Issue 5, test 6: robustness of the real `vtepkit` command (daemon and verbs)
 * in network namespaces. Garbage at the VTEP's UDP port, bad configuration
 * files, bad command words and malformed control-socket requests: the daemon
 * stays up, counts what it can see, answers with clear errors; a `kill -9` of
 * one end and a restart with the same configuration: traffic resumes.
 */
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../helpers/netns.js';
import { PYTHON } from '../helpers/judges.js';
import { skipWithoutLab } from './host.js';
import { exited, linkStats, sleep, startDaemon, vtepkit, vtepkitJson, vtepkitOk, type LinkStats } from './cli-host.js';

/** Sends each hex line of stdin as one UDP datagram to ADDRESS PORT. */
const DATAGRAM_SENDER = 'import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); [s.sendto(bytes.fromhex(l),(sys.argv[1],int(sys.argv[2]))) for l in sys.stdin.read().split()]';

function sendDatagrams(ns: string, address: string, port: number, datagrams: Buffer[]): void {
  const r = spawnSync('ip', ['netns', 'exec', ns, PYTHON, '-c', DATAGRAM_SENDER, address, String(port)], {
    input: datagrams.map((d) => (d.length === 0 ? '' : d.toString('hex'))).join('\n'),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`sending datagrams from ${ns}: ${r.stderr}`);
}

/** Pings until one answer comes back or `seconds` pass; true when one did. */
function pingWithin(lab: Lab, ns: string, address: string, seconds: number): boolean {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (lab.try(ns, 'ping', '-c', '1', '-W', '1', address).status === 0) return true;
  }
  return false;
}

/** One end of a point-to-point segment: its namespace, its daemon's socket, underlay and overlay addresses. */
interface End {
  ns: string;
  socket: string;
  local: string;
  overlay: string;
  daemon?: ChildProcess;
}

/** The seeds' point-to-point words: vxlan100 to `remote`, up, with the end's overlay address. */
async function configureEnd(end: End, remote: string): Promise<void> {
  await vtepkitOk(end.ns, end.socket, 'link', 'add', 'vxlan100', 'type', 'vxlan', 'id', '100', 'dstport', '4789', 'local', end.local, 'remote', remote);
  await vtepkitOk(end.ns, end.socket, 'link', 'set', 'vxlan100', 'up');
  await vtepkitOk(end.ns, end.socket, 'addr', 'add', `${end.overlay}/24`, 'dev', 'vxlan100');
}

function quiet(lab: Lab, ns: string): void {
  // IPv6 off: no DAD, MLD or router solicitations on the TAPs, so the counters only count the test's packets.
  lab.exec(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1');
  lab.exec(ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1');
}

/** The point-to-point pair (daemons up, the seeds' words applied) and a third host, `noise`, routed through `left`. */
interface NoisyPair {
  dir: string;
  left: End;
  right: End;
  noise: string;
}

/** Builds the hosts of {@link NoisyPair} in `lab`, overlay 10.`overlayNet`.0.0/24; `extra` runs on each end before the first ping. */
async function noisyPair(lab: Lab, tag: string, overlayNet: number, extra: (end: End) => Promise<void> = async () => {}): Promise<NoisyPair> {
  const dir = mkdtempSync(join(tmpdir(), `vtepkit-${tag}-`));
  const left: End = { ns: lab.host('left'), socket: join(dir, 'left.sock'), local: '198.51.100.1', overlay: `10.${overlayNet}.0.1` };
  const right: End = { ns: lab.host('right'), socket: join(dir, 'right.sock'), local: '198.51.100.2', overlay: `10.${overlayNet}.0.2` };
  // (Lab.link names its veth by the number of namespaces: one link per host() call, or the names collide.)
  lab.link(left.ns, '198.51.100.1/24', right.ns, '198.51.100.2/24');
  const noise = lab.host('noise');
  for (const ns of [left.ns, right.ns, noise]) quiet(lab, ns);
  // The noise comes from a third host, routed through the left one to its underlay address.
  lab.link(left.ns, '203.0.113.1/24', noise, '203.0.113.2/24');
  lab.exec(noise, 'ip', 'route', 'add', '198.51.100.0/24', 'via', '203.0.113.1');
  left.daemon = await startDaemon(lab, left.ns, left.socket);
  right.daemon = await startDaemon(lab, right.ns, right.socket);
  await Promise.all([configureEnd(left, right.local), configureEnd(right, left.local)]);
  for (const end of [left, right]) await extra(end);
  expect(pingWithin(lab, left.ns, right.overlay, 5), 'ping before the noise').to.equal(true);
  return { dir, left, right, noise };
}

// ---------------------------------------------------------------------------
// Datagrams
// ---------------------------------------------------------------------------

const VNI = 100;

/** A VXLAN header (RFC 7348 5): flags, 3 reserved bytes (GBP: D/A bits and policy), VNI, 1 reserved byte. */
function vxlanHeader(vni: number, flags = 0x08, byte1 = 0, byte7 = 0): Buffer {
  return Buffer.from([flags, byte1, 0, 0, (vni >>> 16) & 0xff, (vni >>> 8) & 0xff, vni & 0xff, byte7]);
}

/** An Ethernet frame to the broadcast address from a locally administered MAC, EtherType 0x88b5 (local experimental). */
function innerFrame(length: number, source = '02:00:00:00:99:01'): Buffer {
  const frame = Buffer.alloc(Math.max(length, 14), 0x5a);
  Buffer.from('ffffffffffff', 'hex').copy(frame, 0);
  Buffer.from(source.replaceAll(':', ''), 'hex').copy(frame, 6);
  frame.writeUInt16BE(0x88b5, 12);
  return frame.subarray(0, length);
}

/** Random bytes that are certainly not a valid VXLAN header for VNI 100 (the I flag cleared). */
function garbage(length: number): Buffer {
  const bytes = randomBytes(length);
  if (length > 0) bytes[0]! &= ~0x08;
  return bytes;
}

describe('e2e: vtepkit daemon under random and truncated datagrams at UDP 4789 (issue 5, test 6)', function () {
  this.timeout(60_000);
  const lab = new Lab('rd');
  let dir = '';
  let left: End;
  let right: End;
  let noise = '';

  before(async function () {
    skipWithoutLab(this);
    ({ dir, left, right, noise } = await noisyPair(lab, 'rd', 211));
  });

  after(() => {
    lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps serving: garbage is dropped, the drops it can attribute to the link are counted, ping still works', async () => {
    const before = await linkStats(left.ns, left.socket, 'vxlan100');
    const datagrams: Buffer[] = [];
    // Dropped at the underlay socket (counted by Vtep.underlayCounters(), which the command does not show):
    datagrams.push(Buffer.alloc(0)); // an empty datagram
    for (let n = 1; n < 8; n++) datagrams.push(vxlanHeader(VNI).subarray(0, n)); // every truncation of the header
    for (let i = 0; i < 300; i++) datagrams.push(garbage(Math.floor(Math.random() * 200)));
    datagrams.push(garbage(9000)); // a jumbo of garbage: IP-fragmented on the veth, reassembled for the socket
    datagrams.push(Buffer.concat([vxlanHeader(VNI, 0x00), innerFrame(60)])); // I flag clear (RFC 7348 5)
    datagrams.push(Buffer.concat([vxlanHeader(VNI, 0x0c), innerFrame(60)])); // a reserved flag set
    datagrams.push(Buffer.concat([vxlanHeader(VNI, 0x08, 0x01), innerFrame(60)])); // a reserved byte set
    datagrams.push(Buffer.concat([vxlanHeader(VNI, 0x08, 0, 0xff), innerFrame(60)])); // the last reserved byte set
    datagrams.push(Buffer.concat([vxlanHeader(4242), innerFrame(60)])); // an unknown VNI
    // Attributed to vxlan100 (shown by `vtepkit -s link show`):
    for (let i = 0; i < 3; i++) datagrams.push(Buffer.concat([vxlanHeader(VNI, 0x88), innerFrame(60)])); // GBP G flag, link without gbp: bad-header
    datagrams.push(vxlanHeader(VNI)); // a header and no frame: runt
    datagrams.push(Buffer.concat([vxlanHeader(VNI), innerFrame(13)])); // a frame shorter than an Ethernet header: runt
    sendDatagrams(noise, left.local, 4789, datagrams);

    // Then a flood of 3000 more garbage datagrams, as fast as python sends them.
    sendDatagrams(noise, left.local, 4789, Array.from({ length: 3000 }, () => garbage(8 + Math.floor(Math.random() * 100))));

    let after: LinkStats = before;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      after = await linkStats(left.ns, left.socket, 'vxlan100');
      if ((after.stats.drops['bad-header'] ?? 0) >= 3 && (after.stats.drops.runt ?? 0) >= 2) break;
      await sleep(200);
    }
    expect(left.daemon!.exitCode, 'the daemon exited').to.equal(null);
    expect(after.stats.drops['bad-header'] ?? 0, JSON.stringify(after.stats)).to.equal((before.stats.drops['bad-header'] ?? 0) + 3);
    expect(after.stats.drops.runt ?? 0, JSON.stringify(after.stats)).to.equal((before.stats.drops.runt ?? 0) + 2);
    // Nothing of the garbage reached the TAP.
    expect(after.stats.rxPackets, JSON.stringify(after.stats)).to.equal(before.stats.rxPackets);

    // Still serving: traffic across, and the control socket.
    const r = lab.try(left.ns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', right.overlay);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/3 received/);
    const rows = await vtepkitJson<{ mac: string; dst?: string }[]>(left.ns, left.socket, 'fdb', 'show', 'dev', 'vxlan100');
    expect(rows.map((row) => row.dst)).to.include(right.local);
  });

  it('a 9000-byte VXLAN datagram for the link (a frame far over the MTU) is counted, and harms nothing', async () => {
    const before = await linkStats(left.ns, left.socket, 'vxlan100');
    sendDatagrams(noise, left.local, 4789, [Buffer.concat([vxlanHeader(VNI), innerFrame(8992, '02:00:00:00:99:02')])]);
    let after: LinkStats = before;
    // Delivered, dropped by the link, or (batched socket: longer than a pool slot) dropped as oversize at the socket.
    const accounted = (s: LinkStats): number => s.stats.rxPackets + s.stats.rxDropped + s.stats.txDropped + (s.stats.underlay?.oversize ?? 0);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && accounted(after) === accounted(before)) {
      await sleep(200);
      after = await linkStats(left.ns, left.socket, 'vxlan100');
    }
    // Delivered to the TAP (the kernel takes a frame over the MTU from a TAP) or dropped: either way, counted once.
    expect(accounted(after) - accounted(before), JSON.stringify([before.stats, after.stats])).to.equal(1);
    if (after.stats.rxPackets !== before.stats.rxPackets) expect(after.stats.rxBytes - before.stats.rxBytes).to.equal(8992);
    const r = lab.try(left.ns, 'ping', '-c', '1', '-W', '2', right.overlay);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  // Regression: receive-side drops (runt, link-down, no-buffer) once counted as TX drops.
  it('a runt received from the underlay counts as an RX drop, not a TX drop', async () => {
    const before = await linkStats(left.ns, left.socket, 'vxlan100');
    sendDatagrams(noise, left.local, 4789, [vxlanHeader(VNI)]);
    await sleep(500);
    const after = await linkStats(left.ns, left.socket, 'vxlan100');
    expect(after.stats.rxDropped - before.stats.rxDropped).to.equal(1);
    expect(after.stats.txDropped - before.stats.txDropped).to.equal(0);
  });
});

// ---------------------------------------------------------------------------
// Bad configuration files, bad words, malformed control requests
// ---------------------------------------------------------------------------

/** One request line on a raw connection, and the answers read back (one JSON object per line). */
function rawExchange(path: string, payload: Buffer | string, answers: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out; got ${text}`));
    }, 10_000);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const lines = text.split('\n').filter(Boolean);
      if (lines.length >= answers) {
        clearTimeout(timer);
        socket.destroy();
        resolve(lines.map((line) => JSON.parse(line) as Record<string, unknown>));
      }
    });
    socket.write(payload);
  });
}

describe('e2e: vtepkit daemon under garbage at UDP 4500 with ESP in UDP (encap espinudp)', function () {
  this.timeout(60_000);
  const lab = new Lab('ru');
  let dir = '';
  let left: End;
  let right: End;
  let noise = '';
  const key = (byte: string): string => '0x' + byte.repeat(20);

  before(async function () {
    skipWithoutLab(this);
    // Both SAs on both ends, in UDP 4500: the first ping already goes through ESP in UDP.
    ({ dir, left, right, noise } = await noisyPair(lab, 'ru', 212, async (end) => {
      for (const [src, dst, spi, k] of [['198.51.100.1', '198.51.100.2', '0x3000', key('aa')], ['198.51.100.2', '198.51.100.1', '0x3001', key('bb')]]) {
        await vtepkitOk(end.ns, end.socket, 'xfrm', 'state', 'add', 'src', src!, 'dst', dst!, 'proto', 'esp', 'spi', spi!, 'mode', 'transport',
          'aead', 'rfc4106(gcm(aes))', k!, '128', 'encap', 'espinudp', '4500', '4500', '0.0.0.0');
      }
    }));
  });

  after(() => {
    lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keep-alives, IKE, truncations, unknown SPIs, forged ICVs and a flood of garbage are counted by kind; ping still works', async () => {
    const espHeader = (spi: number, seq: number): Buffer => {
      const b = Buffer.alloc(8);
      b.writeUInt32BE(spi, 0);
      b.writeUInt32BE(seq, 4);
      return b;
    };
    const datagrams: Buffer[] = [
      Buffer.from([0xff]), // NAT keep-alive (RFC 3948 2.3)
      Buffer.concat([Buffer.alloc(4), randomBytes(40)]), // non-ESP marker: an IKE message (RFC 3948 2.2)
      Buffer.from([0x00, 0x00, 0x30]), // shorter than an ESP header
      Buffer.concat([espHeader(0x7777, 1), randomBytes(60)]), // an SPI nobody has
      Buffer.concat([espHeader(0x3000, 1_000_000), randomBytes(60)]), // the right SPI, a forged ICV
    ];
    sendDatagrams(noise, left.local, 4500, datagrams);
    sendDatagrams(noise, left.local, 4500, Array.from({ length: 2000 }, () => randomBytes(Math.floor(Math.random() * 120))));
    type Drops = Record<string, number>;
    let drops: Drops = {};
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      drops = (await vtepkitJson<{ drops: Drops }>(left.ns, left.socket, '-s', 'xfrm', 'state', 'show')).drops;
      if ((drops['NAT_KEEPALIVE'] ?? 0) >= 1 && (drops['NON_ESP'] ?? 0) >= 1 && (drops['UNKNOWN_SPI'] ?? 0) >= 1 && (drops['BAD_ICV'] ?? 0) >= 1) break;
      await sleep(200);
    }
    expect(left.daemon!.exitCode, 'the daemon exited').to.equal(null);
    for (const kind of ['NAT_KEEPALIVE', 'NON_ESP', 'TRUNCATED', 'UNKNOWN_SPI', 'BAD_ICV']) expect(drops[kind] ?? 0, `${kind}: ${JSON.stringify(drops)}`).to.be.at.least(1);
    const r = lab.try(left.ns, 'ping', '-c', '3', '-i', '0.2', '-W', '2', right.overlay);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/3 received/);
  });
});

describe('e2e: bad config files, bad words and malformed control requests against a running vtepkit daemon (issue 5, test 6)', function () {
  this.timeout(60_000);
  const lab = new Lab('rc');
  let dir = '';
  let left: End;
  let right: End;
  let dumpBefore = '';

  before(async function () {
    skipWithoutLab(this);
    dir = mkdtempSync(join(tmpdir(), 'vtepkit-rc-'));
    left = { ns: lab.host('left'), socket: join(dir, 'left.sock'), local: '198.51.100.1', overlay: '10.212.0.1' };
    right = { ns: lab.host('right'), socket: join(dir, 'right.sock'), local: '198.51.100.2', overlay: '10.212.0.2' };
    for (const ns of [left.ns, right.ns]) quiet(lab, ns);
    lab.link(left.ns, '198.51.100.1/24', right.ns, '198.51.100.2/24');
    left.daemon = await startDaemon(lab, left.ns, left.socket);
    right.daemon = await startDaemon(lab, right.ns, right.socket);
    await Promise.all([configureEnd(left, right.local), configureEnd(right, left.local)]);
    dumpBefore = await vtepkitOk(left.ns, left.socket, 'dump');
  });

  after(() => {
    lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The running daemon is unharmed: it answers, its state is what it was, traffic flows. */
  async function unharmed(): Promise<void> {
    expect(left.daemon!.exitCode, 'the running daemon exited').to.equal(null);
    expect(await vtepkitOk(left.ns, left.socket, 'dump')).to.equal(dumpBefore);
    const r = lab.try(left.ns, 'ping', '-c', '1', '-W', '2', right.overlay);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  }

  const BAD_FILES: { name: string; text: string; error: RegExp }[] = [
    {
      name: 'syntax.json',
      text: '{\n  "version": 1,\n  "links": [ { "name": "vxlan300",, "type": "vxlan", "vni": 300 } ]\n}\n',
      error: /not valid JSON: .* at line 3 column \d+/,
    },
    {
      name: 'types.json',
      text: JSON.stringify({ version: 1, links: [{ name: 'vxlan300', type: 'vxlan', vni: 'abc' }] }),
      error: /links\[0\]\.vni: must be an integer in 0\.\.16777215, got "abc"/,
    },
    {
      name: 'types2.json',
      text: JSON.stringify({ version: 1, links: [{ name: 'vxlan300', type: 'vxlan', vni: 300, learning: 'yes' }] }),
      error: /links\[0\]\.learning: /,
    },
    {
      name: 'unknown.json',
      text: JSON.stringify({ version: 1, links: [{ name: 'vxlan300', type: 'vxlan', vnii: 300 }] }),
      error: /links\[0\]\.vnii: unknown field \(did you mean "vni"\?\)/,
    },
    {
      name: 'unknown-top.json',
      text: JSON.stringify({ version: 1, linkz: [] }),
      error: /linkz: unknown field/,
    },
    {
      name: 'reference.json',
      text: JSON.stringify({ version: 1, links: [{ name: 'vxlan300', type: 'vxlan', vni: 300 }], fdb: [{ mac: '00:00:00:00:00:00', dev: 'vxlan301', dst: '198.51.100.2' }] }),
      error: /fdb\[0\]\.dev: no link "vxlan301" in links/,
    },
  ];

  it('vtepkit daemon --config BAD: exit 1, an error naming the JSON path, no socket, no TAP; the running daemon is unharmed', async () => {
    for (const bad of BAD_FILES) {
      const file = join(dir, bad.name);
      writeFileSync(file, bad.text, { mode: 0o600 });
      const socket = join(dir, `bad-${bad.name}.sock`);
      // Run by the command as a user would (a detached daemon that fails must exit by itself).
      const r = await vtepkit(left.ns, socket, 'daemon', '--config', file);
      expect(r.status, `${bad.name}: ${r.stderr}`).to.equal(1);
      expect(r.stderr, bad.name).to.match(/^Error: /);
      expect(r.stderr, bad.name).to.match(bad.error);
      expect(existsSync(socket), `${bad.name}: socket left behind`).to.equal(false);
      expect(lab.try(left.ns, 'ip', 'link', 'show', 'vxlan300').status, `${bad.name}: a TAP was left`).to.not.equal(0);
    }
    await unharmed();
  });

  it('vtepkit up BAD: exit 1, the error names the file and the JSON path; nothing applied', async () => {
    for (const bad of BAD_FILES) {
      const file = join(dir, bad.name);
      writeFileSync(file, bad.text, { mode: 0o600 });
      const r = await vtepkit(left.ns, left.socket, 'up', file);
      expect(r.status, `${bad.name}: ${r.stderr}`).to.equal(1);
      expect(r.stderr, bad.name).to.match(new RegExp(`^Error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
      expect(r.stderr, bad.name).to.match(bad.error);
    }
    const missing = await vtepkit(left.ns, left.socket, 'up', join(dir, 'missing.json'));
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.match(/^Error: cannot read .*missing\.json: no such file/);
    await unharmed();
  });

  it('a second daemon on the running one\'s socket is refused and leaves it alone; a valid file that cannot be applied leaves nothing behind', async () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ version: 1, links: [{ name: 'vxlan300', type: 'vxlan', vni: 300, local: '198.51.100.1', dstport: 4790 }] }), { mode: 0o600 });
    const again = await vtepkit(left.ns, left.socket, 'daemon', '--config', good);
    expect(again.status, again.stderr).to.equal(1);
    expect(again.stderr).to.match(/^Error: a vtepkit daemon already listens on /);
    expect(existsSync(left.socket)).to.equal(true);

    // Checks pass, then the engine fails on the second link: UDP 198.51.100.1:4789 is the running daemon's.
    const clash = join(dir, 'clash.json');
    writeFileSync(clash, JSON.stringify({
      version: 1,
      links: [
        { name: 'vxlan300', type: 'vxlan', vni: 300, local: '198.51.100.1', dstport: 4790 },
        { name: 'vxlan301', type: 'vxlan', vni: 301, local: '198.51.100.1', dstport: 4789 },
      ],
    }), { mode: 0o600 });
    const socket = join(dir, 'clash.sock');
    const r = await vtepkit(left.ns, socket, 'daemon', '--config', clash);
    expect(r.status, r.stderr).to.equal(1);
    expect(r.stderr).to.match(/^Error: .*cannot open the underlay socket/);
    expect(existsSync(socket), 'socket left behind').to.equal(false);
    // The first link's TAP was made, then removed when the daemon gave up.
    expect(lab.try(left.ns, 'ip', 'link', 'show', 'vxlan300').status, 'TAP vxlan300 left behind').to.not.equal(0);
    await unharmed();
  });

  it('bad words: the iproute2-like error on stderr, exit 2 when not understood, 1 when a value or the engine says no; the daemon keeps answering', async () => {
    const cases: [string[], number, RegExp][] = [
      [['lnik', 'show'], 2, /^Error: unknown command "lnik" \(did you mean "link"\?\); expected one of: link, .*\nTry "vtepkit help"\.\n$/],
      [['link', 'frobnicate'], 2, /^Error: unknown verb "frobnicate" for "link"; expected one of: add, /],
      [['--bogus', 'link', 'show'], 2, /^Error: option "--bogus" is unknown; expected one of: /],
      [[], 2, /^Error: no command given; /],
      [['xfrm', 'policy', 'show'], 2, /^Error: unknown word "policy" after "xfrm"; expected: state/],
      [['link', 'add', 'vxlan101', 'type', 'vxlan', 'id', 'abc'], 1, /^Error: argument "abc" is wrong: "id" must be an integer in 0\.\.16777215\n$/],
      [['link', 'add', 'vxlan101', 'type', 'vxlan', 'id', '101', 'nolerning'], 1, /^Error: argument "nolerning" is wrong: unknown word in "link add vxlan101 type vxlan" \(did you mean "nolearning"\?\)/],
      [['link', 'add', 'vxlan101', 'type', 'vxlan', 'id', '101', 'remote', '239.1.1.1'], 1, /^Error: argument "239\.1\.1\.1" is wrong: "remote" must be a unicast address/],
      [['fdb', 'add', '02:00:00:00:00:01', 'dev', 'vxlan100', 'port', '8472'], 1, /^Error: argument "8472" is wrong: port applies to a remote: it needs dst/],
      [['fdb', 'add', '02:00:00:00:00:0g', 'dev', 'vxlan100', 'dst', '198.51.100.2'], 1, /^Error: argument "02:00:00:00:00:0g" is wrong: /],
      // Understood, then refused by the daemon's engine:
      [['link', 'add', 'vxlan100', 'type', 'vxlan', 'id', '100'], 1, /^Error: link vxlan100 exists\n$/],
      [['link', 'add', 'vxlan101', 'type', 'vxlan', 'id', '101', 'tos', 'inherit'], 1, /^Error: tos inherit: the outer TOS is one value per socket/],
      [['link', 'show', 'vxlan999'], 1, /^Error: no link "vxlan999"; links: vxlan100\n$/],
      [['link', 'del', 'vxlan999'], 1, /^Error: no link "vxlan999"/],
      [['fdb', 'add', '02:00:00:00:00:01', 'dev', 'vxlan999', 'dst', '198.51.100.2'], 1, /^Error: no link "vxlan999"/],
      [['fdb', 'del', '00:00:00:00:00:00', 'dev', 'vxlan100', 'dst', '198.51.100.9'], 1, /^Error: no FDB entry 00:00:00:00:00:00 on vxlan100 with dst 198\.51\.100\.9\n$/],
      [['neigh', 'del', '10.212.0.9', 'dev', 'vxlan100'], 1, /^Error: no neighbour 10\.212\.0\.9 on vxlan100\n$/],
    ];
    for (const [words, status, error] of cases) {
      const r = await vtepkit(left.ns, left.socket, ...words);
      expect(r.status, `vtepkit ${words.join(' ')}: ${r.stderr}`).to.equal(status);
      expect(r.stderr, `vtepkit ${words.join(' ')}`).to.match(error);
      expect(r.stdout, `vtepkit ${words.join(' ')}`).to.equal('');
    }
    await unharmed();
  });

  // Regression: a miss once came back as the table's NOT_FOUND error instead of false.
  it('fdb del of a MAC with no entry: the answer is false and the error is the command\'s own', async () => {
    const answers = await rawExchange(left.socket, '{"id": 1, "op": "fdb.del", "args": {"dev": "vxlan100", "mac": "02:00:00:00:00:99"}}\n', 1);
    expect(answers[0]).to.deep.equal({ id: 1, ok: true, result: false });
    const r = await vtepkit(left.ns, left.socket, 'fdb', 'del', '02:00:00:00:00:99', 'dev', 'vxlan100');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.equal('Error: no FDB entry 02:00:00:00:00:99 on vxlan100\n');
  });

  it('malformed control-socket JSON from a raw client gets error answers; good requests are still answered, on the same connection and on new ones', async () => {
    const lines = [
      '{"id": 1, "op": "link.show",, }', // not JSON
      '[1, 2, 3]', // not an object
      '"ping"',
      '{"id": {"x": 1}, "op": "ping"}', // a bad id
      '{"id": 2, "op": "ping", "extra": true}', // a field other than id, op, args
      '{"id": 3, "op": "link.shwo"}', // an unknown op
      '{"id": 4, "op": "link.add", "args": {"name": "vxlan102", "type": "vxlan", "vni": "abc"}}', // bad args
      '{"id": 5, "op": "link.add", "args": {"name": "vxlan102", "type": "vxlan", "vni": 102, "bogus": 1}}', // unknown field in args
      '{"id": 6, "op": "fdb.show", "args": []}', // args of the wrong type
      '{"id": 7, "op": "ping"}', // good
    ];
    const answers = await rawExchange(left.socket, `${lines.join('\n')}\n`, lines.length);
    const summary = answers.map((a) => [a.id, a.ok, (a.error as { code?: string } | undefined)?.code ?? null]);
    expect(summary).to.deep.equal([
      [null, false, 'BAD_JSON'],
      [null, false, 'BAD_REQUEST'],
      [null, false, 'BAD_REQUEST'],
      [null, false, 'BAD_REQUEST'],
      [2, false, 'BAD_REQUEST'],
      [3, false, 'UNKNOWN_OP'],
      [4, false, 'BAD_VALUE'],
      [5, false, 'UNKNOWN_FIELD'],
      [6, false, 'BAD_VALUE'],
      [7, true, null],
    ]);
    expect((answers[5]!.error as { message: string }).message).to.match(/did you mean "link\.show"/);
    expect(answers[6]!.error).to.include({ field: 'args.vni' });

    // Bytes that are not UTF-8, then a good request on the same connection.
    const binary = await rawExchange(left.socket, Buffer.concat([randomBytes(512).map((b) => (b === 0x0a ? 0 : b)), Buffer.from('\n{"id": 8, "op": "ping"}\n')]), 2);
    expect(binary.map((a) => [a.id, a.ok])).to.deep.equal([[null, false], [8, true]]);

    // A line over the 8 MiB limit is dropped up to its newline; the connection goes on.
    const huge = Buffer.alloc(9 * 1024 * 1024, 0x61);
    const oversized = await rawExchange(left.socket, Buffer.concat([huge, Buffer.from('\n{"id": 9, "op": "ping"}\n')]), 2);
    expect(oversized.map((a) => [a.id, a.ok, (a.error as { code?: string } | undefined)?.code ?? null])).to.deep.equal([[null, false, 'TOO_LARGE'], [9, true, null]]);

    // Clients that hang up mid-request, or right after sending garbage.
    for (const payload of ['{"id": 10, "op": "li', '\u0000\u0001\u0002garbage\n', '{"id": 11, "op": "link.add", "args": {"name": "vxlan103", "type": "vxlan", "vni": 103}']) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(left.socket, () => {
          socket.write(payload, () => {
            socket.destroy();
            resolve();
          });
        });
        socket.on('error', () => resolve());
      });
    }
    await sleep(200);
    const links = await vtepkitJson<LinkStats[]>(left.ns, left.socket, 'link', 'show');
    expect(links.map((l) => l.name)).to.deep.equal(['vxlan100']);
    // Nothing was created by the half requests.
    expect(lab.try(left.ns, 'ip', 'link', 'show', 'vxlan103').status).to.not.equal(0);
    await unharmed();
  });
});

// ---------------------------------------------------------------------------
// kill -9 and restart
// ---------------------------------------------------------------------------

describe('e2e: kill -9 of one end\'s vtepkit daemon, restart with the same configuration, traffic resumes (issue 5, test 6)', function () {
  this.timeout(60_000);
  const lab = new Lab('rk');
  let dir = '';
  let left: End;
  let right: End;

  before(async function () {
    skipWithoutLab(this);
    dir = mkdtempSync(join(tmpdir(), 'vtepkit-rk-'));
    left = { ns: lab.host('left'), socket: join(dir, 'left.sock'), local: '198.51.100.1', overlay: '10.213.0.1' };
    right = { ns: lab.host('right'), socket: join(dir, 'right.sock'), local: '198.51.100.2', overlay: '10.213.0.2' };
    for (const ns of [left.ns, right.ns]) quiet(lab, ns);
    lab.link(left.ns, '198.51.100.1/24', right.ns, '198.51.100.2/24');
    left.daemon = await startDaemon(lab, left.ns, left.socket);
    right.daemon = await startDaemon(lab, right.ns, right.socket);
    await Promise.all([configureEnd(left, right.local), configureEnd(right, left.local)]);
    expect(pingWithin(lab, left.ns, right.overlay, 5), 'ping before the kill').to.equal(true);
  });

  after(() => {
    lab.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function kill(end: End): Promise<void> {
    end.daemon!.kill('SIGKILL');
    await exited(end.daemon!);
    // The TAP belongs to the process: it goes with it.
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && lab.try(end.ns, 'ip', 'link', 'show', 'vxlan100').status === 0) await sleep(100);
    expect(lab.try(end.ns, 'ip', 'link', 'show', 'vxlan100').status, 'the TAP outlived its daemon').to.not.equal(0);
    expect(lab.try(end.ns, 'ping', '-c', '1', '-W', '1', end === left ? right.overlay : left.overlay).status, 'ping with one end dead').to.not.equal(0);
    // A killed daemon cannot remove its socket: the file stays, and nobody answers on it.
    expect(existsSync(end.socket)).to.equal(true);
    const r = await vtepkit(end.ns, end.socket, 'link', 'show');
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^Error: nothing listens on .*: start "vtepkit daemon"/);
  }

  it('left: vtepkit dump > vtep.json, kill -9, vtepkit daemon --config vtep.json: ping resumes both ways', async () => {
    const file = join(dir, 'left.json');
    writeFileSync(file, await vtepkitOk(left.ns, left.socket, 'dump'), { mode: 0o600 });
    const mac = (await linkStats(left.ns, left.socket, 'vxlan100')).address;
    await kill(left);
    // The stale socket file is removed by the new daemon.
    left.daemon = await startDaemon(lab, left.ns, left.socket, '--config', file);
    const restarted = await linkStats(left.ns, left.socket, 'vxlan100');
    expect(restarted).to.include({ up: true, address: mac });
    // The dump kept the MAC, so the right end's ARP cache and FDB are still good: it can start.
    expect(pingWithin(lab, right.ns, left.overlay, 5), 'ping right → left after the restart').to.equal(true);
    expect(pingWithin(lab, left.ns, right.overlay, 5), 'ping left → right after the restart').to.equal(true);
  });

  it('right: kill -9, a bare vtepkit daemon and vtepkit up vtep.json (a new MAC): ping resumes both ways', async () => {
    const file = join(dir, 'right.json');
    writeFileSync(file, JSON.stringify({
      version: 1,
      links: [{ name: 'vxlan100', type: 'vxlan', vni: 100, dstport: 4789, local: right.local, remote: left.local }],
      up: ['vxlan100'],
      addresses: [{ dev: 'vxlan100', address: `${right.overlay}/24` }],
    }), { mode: 0o600 });
    await kill(right);
    right.daemon = await startDaemon(lab, right.ns, right.socket);
    await vtepkitOk(right.ns, right.socket, 'up', file);
    // The TAP has a new MAC: the restarted end speaks first (its ARP request updates the left end's cache).
    expect(pingWithin(lab, right.ns, left.overlay, 5), 'ping right → left after the restart').to.equal(true);
    expect(pingWithin(lab, left.ns, right.overlay, 5), 'ping left → right after the restart').to.equal(true);
    const stats = await linkStats(right.ns, right.socket, 'vxlan100');
    expect(stats.stats.rxPackets).to.be.greaterThan(0);
  });
});
