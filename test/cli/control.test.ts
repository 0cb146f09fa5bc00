/**
 * The control socket over a fake engine: every op reaches the right VtepApi
 * method with checked arguments; typed errors keep their code and field; and
 * the abuse of issue 5 test 6 — random bytes, truncated JSON, huge lines, many
 * connections, idle and half-closed clients — always gets an answer or a clean
 * close, never harms the daemon, and a good request is answered afterwards.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { stat, writeFile, readFile } from 'node:fs/promises';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import {
  CONTROL_OPS,
  ControlClient,
  ControlError,
  ControlServer,
  DEFAULT_SOCKET_PATH,
  encodeResponse,
  prepareSocketPath,
  resolveSocketPath,
  sendRequest,
  startDaemon,
  type ControlResponse,
} from '../../src/cli/control.js';
import { ConfigError } from '../../src/cli/config.js';
import { FakeApi, FDB_ROWS, LINK, TypedError, tempDir } from './fake-api.js';

const GCM_KEY = '0x0123456789abcdef0123456789abcdef01234567';

/** A raw connection: write anything, read answer lines. */
class Raw {
  private buffer = '';
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffer += text;
      let newline;
      while ((newline = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, newline));
        this.buffer = this.buffer.slice(newline + 1);
      }
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static open(path: string): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      socket.once('connect', () => resolve(new Raw(socket)));
      socket.once('error', reject);
    });
  }

  send(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** The next answer line, parsed; undefined if the connection closed first. */
  async next(timeout = 5000): Promise<ControlResponse | undefined> {
    const deadline = Date.now() + timeout;
    while (this.lines.length === 0) {
      if (this.ended) return undefined;
      if (Date.now() > deadline) throw new Error('no answer in time');
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return JSON.parse(this.lines.shift()!) as ControlResponse;
  }

  /** Every answer up to the one with this id. */
  async until(id: number | string): Promise<ControlResponse[]> {
    const seen: ControlResponse[] = [];
    for (;;) {
      const answer = await this.next();
      if (answer === undefined) throw new Error(`closed before the answer to ${id}; got ${JSON.stringify(seen)}`);
      seen.push(answer);
      if (answer.id === id) return seen;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function ping(id: number | string): string {
  return `${JSON.stringify({ id, op: 'ping' })}\n`;
}

describe('cli control: socket path', () => {
  it('the option, else $VTEPKIT_SOCKET, else /run/vtepkit.sock', () => {
    expect(resolveSocketPath('/tmp/a.sock', { VTEPKIT_SOCKET: '/tmp/b.sock' })).to.equal('/tmp/a.sock');
    expect(resolveSocketPath(undefined, { VTEPKIT_SOCKET: '/tmp/b.sock' })).to.equal('/tmp/b.sock');
    expect(resolveSocketPath(undefined, { VTEPKIT_SOCKET: '' })).to.equal(DEFAULT_SOCKET_PATH);
    expect(resolveSocketPath(undefined, {})).to.equal('/run/vtepkit.sock');
    expect(new ControlServer(new FakeApi(), { env: { VTEPKIT_SOCKET: '/tmp/c.sock' } }).path).to.equal('/tmp/c.sock');
  });
});

describe('cli control: operations', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let api: FakeApi;
  let server: ControlServer;
  let client: ControlClient;
  const internal: [unknown, string][] = [];

  before(async () => {
    ({ dir, remove } = await tempDir());
  });
  after(async () => remove());
  beforeEach(async () => {
    api = new FakeApi();
    server = new ControlServer(api, { path: join(dir, 'ops.sock'), onInternalError: (error, op) => internal.push([error, op]) });
    await server.listen();
    client = await ControlClient.connect({ path: server.path });
  });
  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('listens on a socket of mode 0600, and removes it on close', async () => {
    const info = await stat(server.path);
    expect(info.isSocket()).to.equal(true);
    expect(info.mode & 0o777).to.equal(0o600);
    await server.close();
    expect(await stat(server.path).catch((error: NodeJS.ErrnoException) => error.code)).to.equal('ENOENT');
  });

  it('every op reaches its VtepApi method with the checked, normalised arguments', async () => {
    const cases: [string, unknown, string, unknown[], unknown][] = [
      ['link.add', { name: 'vxlan100', type: 'vxlan', vni: '0x64', learning: false }, 'addLink', [{ name: 'vxlan100', type: 'vxlan', vni: 100, learning: false }], { name: 'vxlan100', type: 'vxlan', vni: 100, learning: false, up: false, mtu: 1450, address: '02:00:00:00:00:99' }],
      ['link.set', { name: 'vxlan100', up: true, mtu: 1400 }, 'setLink', ['vxlan100', { up: true, mtu: 1400 }], { ...LINK, up: true, mtu: 1400 }],
      ['link.del', { name: 'vxlan100' }, 'deleteLink', ['vxlan100'], null],
      ['link.show', { stats: true }, 'showLinks', [{ stats: true }], JSON.parse(JSON.stringify(api.links))],
      ['addr.add', { dev: 'vxlan100', address: '10.200.0.1/24' }, 'addAddress', ['vxlan100', '10.200.0.1/24'], null],
      ['addr.show', { dev: 'gnv0' }, 'dump', [], [{ dev: 'gnv0', address: 'fd00:1234::1/64' }]],
      ['fdb.add', { dev: 'vxlan100', mac: '02:00:00:00:00:0A', dst: '10.0.0.2', state: 'static' }, 'fdbAdd', ['vxlan100', '02:00:00:00:00:0a', { dst: '10.0.0.2', state: 'static' }], null],
      ['fdb.append', { dev: 'vxlan100', mac: '00:00:00:00:00:00', dst: '192.168.1.20' }, 'fdbAppend', ['vxlan100', '00:00:00:00:00:00', { dst: '192.168.1.20' }], null],
      ['fdb.replace', { dev: 'vxlan100', mac: '02:00:00:00:00:0a', dst: 'fd00::2', port: 8472, vni: 7, via: 'eth1' }, 'fdbReplace', ['vxlan100', '02:00:00:00:00:0a', { dst: 'fd00::2', port: 8472, vni: 7, via: 'eth1' }], null],
      ['fdb.del', { dev: 'vxlan100', mac: '00:00:00:00:00:00', dst: '192.168.1.20' }, 'fdbDel', ['vxlan100', '00:00:00:00:00:00', { dst: '192.168.1.20' }], true],
      ['fdb.show', { dev: 'vxlan100', stats: true }, 'fdbShow', [{ dev: 'vxlan100', stats: true }], FDB_ROWS],
      ['neigh.add', { dev: 'vxlan100', address: '10.200.0.2', lladdr: '02:00:00:00:00:02' }, 'neighAdd', [{ dev: 'vxlan100', address: '10.200.0.2', lladdr: '02:00:00:00:00:02' }], null],
      ['neigh.del', { dev: 'vxlan100', address: '10.200.0.2' }, 'neighDel', [{ dev: 'vxlan100', address: '10.200.0.2' }], true],
      ['neigh.show', {}, 'neighShow', [{}], [{ dev: 'vxlan100', address: '10.200.0.2', lladdr: '02:00:00:00:00:02', state: 'permanent' }]],
      ['xfrm.state.add', { src: '10.0.0.1', dst: '10.0.0.2', spi: 4096, aead: { name: 'rfc4106(gcm(aes))', key: GCM_KEY, icvBits: 128 } }, 'xfrmStateAdd', [{ src: '10.0.0.1', dst: '10.0.0.2', spi: 4096, aead: { name: 'rfc4106(gcm(aes))', key: GCM_KEY, icvBits: 128 } }], null],
      ['xfrm.state.del', { dst: '10.0.0.2', spi: '0x1000' }, 'xfrmStateDel', [4096, '10.0.0.2'], true],
      ['apply', { version: 1, links: [{ name: 'v', type: 'geneve', vni: 5 }] }, 'apply', [{ version: 1, links: [{ name: 'v', type: 'geneve', vni: 5 }] }], null],
    ];
    for (const [op, args, method, expectedArgs, expectedResult] of cases) {
      const before = api.calls.length;
      const result = await client.request(op, args);
      expect(result, op).to.deep.equal(expectedResult);
      const calls = api.calls.slice(before);
      expect(calls.map((call) => call.method), op).to.deep.equal([method]);
      expect(calls[0]!.args, op).to.deep.equal(expectedArgs);
    }
    expect(await client.request('xfrm.state.show')).to.have.length(1);
    expect(await client.request({ op: 'dump', args: {} })).to.have.property('version', 1);
    expect(await client.request('ping')).to.deep.include({ pong: true, pid: process.pid, connections: 1 });
    expect(await client.request('xfrm.stats')).to.deep.equal({ drops: { 'unknown-spi': 2 } });
    expect(CONTROL_OPS).to.have.length(25);
  });

  it('capture.start/show/stop: the daemon writes the pcap file (0600), bounded by count; bad args refused first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtepkit-capture-'));
    try {
      const file = join(dir, 'c.pcap');
      const started = (await client.request('capture.start', { dev: 'vxlan100', side: 'underlay', file, count: 5 })) as { id: number; file: string };
      expect(started).to.deep.equal({ id: started.id, file });
      expect(api.calls.at(-1)).to.deep.include({ method: 'capture', args: ['vxlan100', 'underlay', 5] });
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      expect(readFileSync(file).subarray(0, 4).toString('hex')).to.equal('d4c3b2a1');
      expect(await client.request('capture.show')).to.deep.equal([{ id: started.id, dev: 'vxlan100', side: 'underlay', file, count: 5, packets: 1, running: false }]);
      expect(await client.request('capture.stop', { id: started.id })).to.deep.include({ packets: 1 });
      expect(await client.request('capture.show')).to.deep.equal([]);
      const bad = async (args: unknown): Promise<[string, string | undefined]> => {
        const e = (await client.request('capture.start', args).catch((x: unknown) => x)) as ControlError;
        return [e.code, e.field];
      };
      expect(await bad({ dev: 'vxlan100', file: 'relative.pcap' })).to.deep.equal(['BAD_VALUE', 'args.file']);
      expect(await bad({ dev: 'vxlan100', file, side: 'both' })).to.deep.equal(['BAD_VALUE', 'args.side']);
      expect(await bad({ dev: 'vxlan100', file, count: 0 })).to.deep.equal(['BAD_VALUE', 'args.count']);
      expect(await bad({ dev: 'vxlan100', file: join(dir, 'no', 'such', 'dir.pcap') })).to.deep.equal(['UNREADABLE', 'args.file']);
      const missing = (await client.request('capture.stop', { id: 999 }).catch((x: unknown) => x)) as ControlError;
      expect([missing.code, missing.field]).to.deep.equal(['NOT_FOUND', 'args.id']);

      // Finished captures whose client never stopped them do not block new ones, and their rows are bounded.
      for (let i = 0; i < 70; i++) await client.request('capture.start', { dev: 'vxlan100', file: join(dir, `f${i}.pcap`), count: 1 });
      expect((await client.request('capture.show')) as unknown[]).to.have.length.at.most(64);
      // At most 16 running at once.
      api.capturesKeepRunning = true;
      for (let i = 0; i < 16; i++) await client.request('capture.start', { dev: 'vxlan100', file: join(dir, `r${i}.pcap`) });
      const busy = (await client.request('capture.start', { dev: 'vxlan100', file: join(dir, 'r16.pcap') }).catch((x: unknown) => x)) as ControlError;
      expect(busy.code).to.equal('BUSY');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad args are refused before the engine: the code, the JSON path under args, what is allowed', async () => {
    const error = (await client.request('fdb.add', { dev: 'vxlan100', mac: '02:00:00:00:00:0a', dst: '10.0.0.2', vni: 'abc' }).catch((e: unknown) => e)) as ControlError;
    expect(error).to.be.instanceOf(ControlError);
    expect([error.code, error.field, error.message]).to.deep.equal(['BAD_VALUE', 'args.vni', 'args.vni: must be an integer in 0..16777215, got "abc"']);
    const missing = (await client.request('link.add', { type: 'vxlan', vni: 1 }).catch((e: unknown) => e)) as ControlError;
    expect([missing.code, missing.field]).to.deep.equal(['MISSING', 'args.name']);
    const extra = (await client.request('dump', { all: true }).catch((e: unknown) => e)) as ControlError;
    expect([extra.code, extra.field]).to.deep.equal(['UNKNOWN_FIELD', 'args.all']);
    const document = (await client.request('apply', { version: 1, links: [{ name: 'v', type: 'vxlan', vni: -1 }] }).catch((e: unknown) => e)) as ControlError;
    expect([document.code, document.field]).to.deep.equal(['BAD_VALUE', 'args.links[0].vni']);
    expect(api.calls).to.deep.equal([]);
  });

  it('engine errors keep their code and field; untyped ones are INTERNAL and reported', async () => {
    api.failures.set('fdbAdd', new TypedError('EXISTS', 'mac', 'EXISTS (mac): 02:00:00:00:00:0a is already in VNI 100'));
    let error = (await client.request('fdb.add', { dev: 'vxlan100', mac: '02:00:00:00:00:0a', dst: '10.0.0.2' }).catch((e: unknown) => e)) as ControlError;
    expect([error.code, error.field, error.message]).to.deep.equal(['EXISTS', 'mac', 'EXISTS (mac): 02:00:00:00:00:0a is already in VNI 100']);
    const systemError = Object.assign(new Error('EPERM: operation not permitted, open /dev/net/tun'), { code: 'EPERM' });
    api.failures.set('addLink', systemError);
    error = (await client.request('link.add', { name: 'v', type: 'vxlan', vni: 1 }).catch((e: unknown) => e)) as ControlError;
    expect([error.code, error.message]).to.deep.equal(['EPERM', 'EPERM: operation not permitted, open /dev/net/tun']);
    internal.length = 0;
    api.failures.set('dump', new TypeError('cannot read x of undefined'));
    error = (await client.request('dump').catch((e: unknown) => e)) as ControlError;
    expect([error.code, error.message]).to.deep.equal(['INTERNAL', 'cannot read x of undefined']);
    api.failures.set('neighShow', 'a string');
    error = (await client.request('neigh.show').catch((e: unknown) => e)) as ControlError;
    expect(error.code).to.equal('INTERNAL');
    expect(internal.map(([, op]) => op)).to.deep.equal(['dump', 'neigh.show']);
    expect(await client.request('ping')).to.have.property('pong', true);
  });

  it('requests that are not requests: BAD_JSON, BAD_REQUEST, UNKNOWN_OP — with the id when it could be read', async () => {
    const raw = await Raw.open(server.path);
    raw.send('{"id": 1, "op": "ping"\n');
    raw.send('[1, 2]\n');
    raw.send('{"id": {"x": 1}, "op": "ping"}\n');
    raw.send(`{"id": "${'x'.repeat(300)}", "op": "ping"}\n`);
    raw.send('{"id": 5, "op": "ping", "extra": true}\n');
    raw.send('{"id": 6, "op": "fdb.ad"}\n');
    raw.send('{"id": 7, "op": "__proto__"}\n');
    raw.send('{"id": 8, "op": "constructor"}\n');
    raw.send('{"id": 9}\n');
    raw.send('\n   \r\n');
    raw.send('{"id": "last", "op": "ping"}\r\n');
    const answers = await raw.until('last');
    raw.close();
    const brief = answers.map((a) => (a.ok ? [a.id, 'ok'] : [a.id, a.error.code, a.error.field]));
    expect(brief).to.deep.equal([
      [null, 'BAD_JSON', undefined],
      [null, 'BAD_REQUEST', undefined],
      [null, 'BAD_REQUEST', 'id'],
      [null, 'BAD_REQUEST', 'id'],
      [5, 'BAD_REQUEST', 'extra'],
      [6, 'UNKNOWN_OP', 'op'],
      [7, 'UNKNOWN_OP', 'op'],
      [8, 'UNKNOWN_OP', 'op'],
      [9, 'UNKNOWN_OP', 'op'],
      ['last', 'ok'],
    ]);
    const unknown = answers[5]!;
    expect(!unknown.ok && unknown.error.message).to.match(/op must be one of link\.add, .* \(did you mean "fdb\.add"\?\); got "fdb\.ad"/);
    expect(!answers[0]!.ok && answers[0]!.error.message).to.match(/^not valid JSON: .* at line 1 column \d+/);
    expect(server.stats.malformed).to.equal(1);
  });

  it('reqid: accepted, not passed to the engine (VtepApi has no field for it), shown by xfrm.state.show and dump', async () => {
    await client.request('xfrm.state.add', { src: '192.168.1.10', dst: '192.168.1.20', spi: 4096, reqid: 9, aead: { name: 'rfc4106(gcm(aes))', key: GCM_KEY, icvBits: 128 } });
    expect(api.callsOf('xfrmStateAdd')[0]![0]).to.not.have.property('reqid');
    expect(await client.request('xfrm.state.show')).to.deep.equal([
      { src: '192.168.1.10', dst: '192.168.1.20', spi: 4096, mode: 'transport', replayWindow: 64, aead: { name: 'rfc4106(gcm(aes))', key: `0x${'33'.repeat(20)}`, icvBits: 128 }, reqid: 9 },
    ]);
    api.returns.set('dump', { version: 1, xfrm: [{ src: '192.168.1.10', dst: '192.168.1.20', spi: 4096, aead: { name: 'rfc4106(gcm(aes))', key: GCM_KEY } }] });
    expect(((await client.request('dump')) as { xfrm: unknown[] }).xfrm[0]).to.have.property('reqid', 9);
    await client.request('xfrm.state.del', { dst: '192.168.1.20', spi: 4096 });
    expect(server.reqids.size).to.equal(0);
    await client.request('apply', { version: 1, xfrm: [{ src: '10.0.0.1', dst: '10.0.0.2', spi: 300, reqid: 2, aead: { name: 'aes-gcm-128', key: GCM_KEY } }] });
    expect((api.callsOf('apply')[0]![0] as { xfrm: object[] }).xfrm[0]).to.not.have.property('reqid');
    expect(server.reqids.get('300 10.0.0.2')).to.equal(2);
  });

  it('addr.del: NOT_SUPPORTED (with the ip command that does it) until the engine has deleteAddress', async () => {
    const error = (await client.request('addr.del', { dev: 'vxlan100', address: '10.200.0.1/24' }).catch((e: unknown) => e)) as ControlError;
    expect(error.code).to.equal('NOT_SUPPORTED');
    expect(error.message).to.include('ip addr del 10.200.0.1/24 dev vxlan100');
    const deleted: string[] = [];
    (api as unknown as { deleteAddress: (dev: string, cidr: string) => Promise<void> }).deleteAddress = async (dev, cidr) => {
      deleted.push(`${dev} ${cidr}`);
    };
    expect(await client.request('addr.del', { dev: 'vxlan100', address: '10.200.0.1/24' })).to.equal(null);
    expect(deleted).to.deep.equal(['vxlan100 10.200.0.1/24']);
  });

  it('answers come in request order on a connection, even when the engine is slow; clients may pipeline', async () => {
    api.delay = 5;
    const raw = await Raw.open(server.path);
    let burst = '';
    for (let id = 1; id <= 30; id++) {
      burst += id % 3 === 0 ? ping(id) : `${JSON.stringify({ id, op: 'link.del', args: { name: `v${id}` } })}\n`;
    }
    raw.send(burst);
    const answers = await raw.until(30);
    raw.close();
    expect(answers.map((a) => a.id)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(answers.every((a) => a.ok)).to.equal(true);
    // And the client matches concurrent requests by id.
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => client.request('link.set', { name: `v${i}`, mtu: 1400 + i })));
    expect(results.map((r) => (r as { mtu: number }).mtu)).to.deep.equal([1401, 1402, 1403, 1404, 1405]);
  });

  it('results JSON cannot carry: bigint and bytes are encoded, a cycle becomes an INTERNAL answer', async () => {
    api.returns.set('xfrmStateShow', [{ spi: 4096, outboundSeq: 5n, key: new Uint8Array([1, 2, 255]) }]);
    expect(await client.request('xfrm.state.show')).to.deep.equal([{ spi: 4096, outboundSeq: '5', key: '0x0102ff' }]);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    api.returns.set('neighShow', [cycle]);
    const error = (await client.request('neigh.show').catch((e: unknown) => e)) as ControlError;
    expect(error.code).to.equal('INTERNAL');
    expect(encodeResponse({ id: 1, ok: true, result: cycle })).to.match(/"code":"INTERNAL"/);
  });
});

describe('cli control: robustness (issue 5, test 6)', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let api: FakeApi;
  let server: ControlServer;

  before(async () => {
    ({ dir, remove } = await tempDir());
  });
  after(async () => remove());
  beforeEach(async () => {
    api = new FakeApi();
    server = new ControlServer(api, { path: join(dir, 'robust.sock'), maxRequestBytes: 4096, maxConnections: 8, idleTimeout: 0 });
    await server.listen();
  });
  afterEach(async () => server.close());

  async function stillAnswers(): Promise<void> {
    const answer = await sendRequest({ op: 'ping', args: {} }, { path: server.path });
    expect(answer).to.have.property('pong', true);
  }

  it('random bytes: every line gets an error answer (or none when empty), and the next request is answered', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => {
        const raw = await Raw.open(server.path);
        raw.send(bytes);
        raw.send(`\n${ping('after')}`);
        const answers = await raw.until('after');
        raw.close();
        for (const answer of answers.slice(0, -1)) expect(answer.ok === false || answer.id === 'after' || typeof answer.id === 'number').to.equal(true);
      }),
      { numRuns: 150 },
    );
    await stillAnswers();
  });

  it('random JSON values as requests: an answer for each, never a crash', async () => {
    const raw = await Raw.open(server.path);
    const values = fc.sample(fc.jsonValue({ maxDepth: 3 }), 300);
    const ops = fc.sample(fc.record({ id: fc.integer(), op: fc.constantFrom(...CONTROL_OPS), args: fc.jsonValue({ maxDepth: 3 }) }), 300);
    for (const value of [...values, ...ops]) raw.send(`${JSON.stringify(value)}\n`);
    raw.send(ping('end'));
    const answers = await raw.until('end');
    raw.close();
    expect(answers).to.have.length(601);
    await stillAnswers();
  });

  it('a request truncated at every byte: an error answer, then the next request is answered', async () => {
    const good = JSON.stringify({ id: 1, op: 'fdb.append', args: { dev: 'vxlan100', mac: '00:00:00:00:00:00', dst: '192.168.1.20' } });
    const raw = await Raw.open(server.path);
    for (let cut = 1; cut < good.length; cut++) {
      raw.send(`${good.slice(0, cut)}\n${ping(cut + 1000)}`);
      const answers = await raw.until(cut + 1000);
      expect(answers, `cut ${cut}`).to.have.length(2);
      expect(answers[0]!.ok, `cut ${cut}`).to.equal(false);
    }
    raw.close();
    expect(api.callsOf('fdbAppend')).to.deep.equal([]);
  });

  it('huge lines: TOO_LARGE (id null), dropped up to the newline, the connection goes on; at the limit is fine', async () => {
    const raw = await Raw.open(server.path);
    // One huge line in one write, and one in many small writes.
    raw.send(`${'x'.repeat(20_000)}\n${ping(1)}`);
    for (let i = 0; i < 50; i++) raw.send('y'.repeat(500));
    raw.send(`\n${ping(2)}`);
    // A request exactly at the limit is read (and refused for what it says, not for its size).
    const padded = JSON.stringify({ id: 3, op: 'ping', args: {} });
    raw.send(`${padded.slice(0, -1)}${' '.repeat(4096 - padded.length)}}\n`);
    // A line one byte over the limit.
    raw.send(`${padded.slice(0, -1)}${' '.repeat(4097 - padded.length)}}\n${ping(4)}`);
    const answers = await raw.until(4);
    raw.close();
    expect(answers.map((a) => (a.ok ? [a.id, 'ok'] : [a.id, a.error.code]))).to.deep.equal([
      [null, 'TOO_LARGE'],
      [1, 'ok'],
      [null, 'TOO_LARGE'],
      [2, 'ok'],
      [3, 'ok'],
      [null, 'TOO_LARGE'],
      [4, 'ok'],
    ]);
    expect(server.stats.oversized).to.equal(3);
    await stillAnswers();
  });

  it('a stream of garbage with no newline at all costs bounded memory and never an answer to anyone else', async () => {
    const flood = await Raw.open(server.path);
    for (let i = 0; i < 200; i++) flood.send(Buffer.alloc(16_384, 0x7b));
    await stillAnswers();
    flood.send('\n');
    expect((await flood.next())!.ok).to.equal(false);
    flood.close();
  });

  it('too many connections: the one over the limit is told BUSY and closed; the others keep working; a slot frees on close', async () => {
    const open = await Promise.all(Array.from({ length: 8 }, () => Raw.open(server.path)));
    const extra = await Raw.open(server.path);
    const busy = await extra.next();
    expect(busy).to.deep.include({ id: null, ok: false });
    expect(busy!.ok === false && busy!.error.code).to.equal('BUSY');
    expect(await extra.next()).to.equal(undefined);
    for (const [i, raw] of open.entries()) {
      raw.send(ping(i));
      expect((await raw.until(i)).at(-1)!.ok).to.equal(true);
    }
    open[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await Raw.open(server.path);
    again.send(ping('again'));
    expect((await again.until('again')).at(-1)!.ok).to.equal(true);
    again.close();
    for (const raw of open) raw.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.stats.rejected).to.equal(1);
    const client = (await ControlClient.connect({ path: server.path }).catch((e: unknown) => e)) as ControlClient;
    expect(await client.request('ping')).to.have.property('pong', true);
    client.close();
  });

  it('many clients at once (more than the limit): each is answered or told BUSY; the daemon goes on', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        try {
          return (await sendRequest({ op: 'link.del', args: { name: `v${i}` } }, { path: server.path })) === null ? 'ok' : 'other';
        } catch (error) {
          return (error as ControlError).code;
        }
      }),
    );
    expect(outcomes.every((o) => o === 'ok' || o === 'BUSY' || o === 'CONNECTION_CLOSED'), outcomes.join()).to.equal(true);
    expect(outcomes.filter((o) => o === 'ok').length).to.be.greaterThan(7);
    await stillAnswers();
  });

  it('a client that half-closes after its request still gets the answer; one that vanishes mid-answer harms no one', async () => {
    const raw = await Raw.open(server.path);
    raw.socket.end(`${JSON.stringify({ id: 'half', op: 'fdb.show', args: {} })}`);
    const answer = await raw.next();
    expect(answer).to.deep.include({ id: 'half', ok: true });
    expect(await raw.next()).to.equal(undefined);
    api.delay = 20;
    const rude = await Raw.open(server.path);
    rude.send(`${JSON.stringify({ id: 1, op: 'link.del', args: { name: 'v' } })}\n`);
    rude.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    await stillAnswers();
  });

  it('an idle connection is closed after the idle timeout', async () => {
    const idle = new ControlServer(api, { path: join(dir, 'idle.sock'), idleTimeout: 100 });
    await idle.listen();
    try {
      const raw = await Raw.open(idle.path);
      expect(await raw.next(2000)).to.equal(undefined);
      expect(idle.stats.idleClosed).to.equal(1);
    } finally {
      await idle.close();
    }
  });

  it('the counters saw it all', async () => {
    const raw = await Raw.open(server.path);
    raw.send(`nonsense\n${'z'.repeat(5000)}\n${ping(1)}`);
    await raw.until(1);
    raw.close();
    expect(server.stats).to.deep.include({ malformed: 1, oversized: 1, errors: 2, requests: 3 });
  });
});

describe('cli control: start-up, stale sockets, the client', () => {
  let dir: string;
  let remove: () => Promise<void>;
  before(async () => {
    ({ dir, remove } = await tempDir());
  });
  after(async () => remove());

  /** A socket file nobody listens on, as a killed daemon leaves it (bound by python, which then exits). */
  function staleSocket(path: string): void {
    execFileSync('/usr/bin/python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', path]);
  }

  it('a stale socket file is removed and replaced; the client meanwhile says nothing listens', async () => {
    const path = join(dir, 'stale.sock');
    staleSocket(path);
    expect((await stat(path)).isSocket()).to.equal(true);
    const error = (await ControlClient.connect({ path }).catch((e: unknown) => e)) as ControlError;
    expect([error.code, error.message]).to.deep.equal(['DAEMON_UNREACHABLE', `nothing listens on ${path} (a socket left by a stopped daemon): start "vtepkit daemon"`]);
    const server = new ControlServer(new FakeApi(), { path });
    await server.listen();
    expect(await sendRequest({ op: 'ping', args: {} }, { path })).to.have.property('pong', true);
    await server.close();
  });

  it('a live daemon on the path: ALREADY_RUNNING, and the running one is untouched', async () => {
    const path = join(dir, 'live.sock');
    const first = new ControlServer(new FakeApi(), { path });
    await first.listen();
    const second = new ControlServer(new FakeApi(), { path });
    const error = (await second.listen().catch((e: unknown) => e)) as ControlError;
    expect(error.code).to.equal('ALREADY_RUNNING');
    await second.close();
    expect(await sendRequest({ op: 'ping', args: {} }, { path })).to.have.property('pong', true);
    await first.close();
  });

  it('a path that is not a socket is never removed: SOCKET_PATH_IN_USE', async () => {
    const path = join(dir, 'precious.txt');
    await writeFile(path, 'keep me');
    const error = (await prepareSocketPath(path).catch((e: unknown) => e)) as ControlError;
    expect(error.code).to.equal('SOCKET_PATH_IN_USE');
    expect(await readFile(path, 'utf8')).to.equal('keep me');
  });

  it('the client: no socket, a daemon that never answers (TIMEOUT), a connection closed mid-request', async () => {
    const missing = (await sendRequest({ op: 'ping', args: {} }, { path: join(dir, 'nope.sock') }).catch((e: unknown) => e)) as ControlError;
    expect(missing.code).to.equal('DAEMON_UNREACHABLE');
    expect(missing.message).to.match(/no control socket at .*nope\.sock: is "vtepkit daemon" running\? \(choose the socket with --socket PATH or VTEPKIT_SOCKET\)/);
    const silentPath = join(dir, 'silent.sock');
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(silentPath, resolve));
    const timeout = (await sendRequest({ op: 'ping', args: {} }, { path: silentPath, timeout: 100 }).catch((e: unknown) => e)) as ControlError;
    expect(timeout.code).to.equal('TIMEOUT');
    const client = await ControlClient.connect({ path: silentPath, timeout: 0 });
    const pending = client.request('ping');
    await new Promise((resolve) => setTimeout(resolve, 30));
    for (const socket of sockets) socket.destroy();
    expect(((await pending.catch((e: unknown) => e)) as ControlError).code).to.equal('CONNECTION_CLOSED');
    expect(((await client.request('ping').catch((e: unknown) => e)) as ControlError).code).to.equal('CONNECTION_CLOSED');
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('startDaemon: checks and applies --config (reqid kept, not passed on), serves, stops closing the engine and the socket', async () => {
    const path = join(dir, 'daemon.sock');
    const config = join(dir, 'vtep.json');
    await writeFile(
      config,
      JSON.stringify({
        version: 1,
        links: [{ name: 'vxlan100', type: 'vxlan', vni: 100 }],
        up: ['vxlan100'],
        xfrm: [{ src: '192.168.1.10', dst: '192.168.1.20', spi: '0x1000', reqid: 3, aead: { name: 'rfc4106(gcm(aes))', key: GCM_KEY, icvBits: 128 } }],
      }),
    );
    const api = new FakeApi();
    const daemon = await startDaemon({ path, config, createApi: () => api });
    expect(api.calls.map((c) => c.method)).to.deep.equal(['apply']);
    const applied = api.calls[0]!.args[0] as { xfrm: object[] };
    expect(applied.xfrm[0]).to.deep.equal({ src: '192.168.1.10', dst: '192.168.1.20', spi: 4096, aead: { name: 'rfc4106(gcm(aes))', key: GCM_KEY, icvBits: 128 } });
    expect(((await sendRequest({ op: 'xfrm.state.show', args: {} }, { path })) as object[])[0]).to.have.property('reqid', 3);
    await daemon.stop();
    await daemon.stop();
    expect(api.closed).to.equal(1);
    expect(await stat(path).catch((error: NodeJS.ErrnoException) => error.code)).to.equal('ENOENT');
  });

  it('startDaemon: a bad config is refused before the engine is made; a failing apply closes the engine and leaves no socket', async () => {
    const path = join(dir, 'daemon2.sock');
    const config = join(dir, 'bad.json');
    await writeFile(config, JSON.stringify({ version: 1, up: ['vxlan100'] }));
    let made = 0;
    const error = (await startDaemon({ path, config, createApi: () => (made++, new FakeApi()) }).catch((e: unknown) => e)) as ConfigError;
    expect([error.code, error.message]).to.deep.equal(['UNKNOWN_LINK', 'up[0]: no link "vxlan100" in links (none defined)']);
    expect(made).to.equal(0);
    await writeFile(config, JSON.stringify({ version: 1 }));
    const api = new FakeApi();
    api.failures.set('apply', new TypedError('EPERM', undefined, 'cannot open /dev/net/tun'));
    expect(((await startDaemon({ path, config, createApi: () => api }).catch((e: unknown) => e)) as Error).message).to.equal('cannot open /dev/net/tun');
    expect(api.closed).to.equal(1);
    expect(await stat(path).catch((e: NodeJS.ErrnoException) => e.code)).to.equal('ENOENT');
  });

  it('startDaemon: refuses when a daemon already answers, without making an engine', async () => {
    const path = join(dir, 'daemon3.sock');
    const first = await startDaemon({ path, createApi: () => new FakeApi() });
    let made = 0;
    const error = (await startDaemon({ path, createApi: () => (made++, new FakeApi()) }).catch((e: unknown) => e)) as ControlError;
    expect(error.code).to.equal('ALREADY_RUNNING');
    expect(made).to.equal(0);
    await first.stop();
  });
});
