/**
 * The `vtepkit` command end to end over a fake engine: words → control socket
 * → printed answer, exit statuses 0 / 1 / 2 with iproute2-style messages, `up`
 * and `dump`, the daemon verb, and every command and error example of
 * docs/cli.md run as written.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateDocument } from '../../src/cli/config.js';
import { ControlServer, sendRequest, type Daemon } from '../../src/cli/control.js';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE, main, type MainHooks } from '../../src/cli/main.js';
import { Collector, FakeApi, LINK, TypedError, tempDir } from './fake-api.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Splits a shell line into words: '…' and "…" quoting, nothing else. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /'([^']*)'|"([^"]*)"|(\S+)/g;
  for (const match of line.matchAll(pattern)) words.push(match[1] ?? match[2] ?? match[3]!);
  return words;
}

describe('cli main', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let api: FakeApi;
  let server: ControlServer;
  let socket: string;

  async function run(argv: string[], env: NodeJS.ProcessEnv = {}, hooks: MainHooks = {}): Promise<Run> {
    const stdout = new Collector();
    const stderr = new Collector();
    const code = await main(argv, { stdout, stderr, env }, hooks);
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  function vtepkit(line: string, env?: NodeJS.ProcessEnv): Promise<Run> {
    return run(['--socket', socket, ...shellWords(line)], env);
  }

  before(async () => {
    ({ dir, remove } = await tempDir());
    socket = join(dir, 'main.sock');
  });
  after(async () => remove());
  beforeEach(async () => {
    api = new FakeApi();
    server = new ControlServer(api, { path: socket });
    await server.listen();
  });
  afterEach(async () => server.close());

  it('a change: exit 0, nothing printed, the engine called', async () => {
    const result = await vtepkit('fdb append 00:00:00:00:00:00 dev vxlan100 dst 192.168.1.20');
    expect(result).to.deep.equal({ code: EXIT_OK, stdout: '', stderr: '' });
    expect(api.callsOf('fdbAppend')).to.deep.equal([['vxlan100', '00:00:00:00:00:00', { dst: '192.168.1.20' }]]);
  });

  it('show verbs print iproute2 text; -j the API JSON; -p indents', async () => {
    expect((await vtepkit('fdb show dev vxlan100')).stdout).to.equal('00:00:00:00:00:00 dst 192.168.1.20 src_vni 100 self permanent\n02:00:00:00:00:0a dst 192.168.1.20 src_vni 100 self\n');
    const json = await vtepkit('fdb show dev vxlan100 -j');
    expect(JSON.parse(json.stdout)).to.have.length(2);
    expect(json.stdout.split('\n')).to.have.length(2);
    expect((await vtepkit('-j -p link show')).stdout.split('\n').length).to.be.greaterThan(10);
    expect((await vtepkit('neigh')).stdout).to.equal('10.200.0.2 dev vxlan100 lladdr 02:00:00:00:00:02 PERMANENT\n');
    expect((await vtepkit('xfrm state')).stdout).to.match(/^src 192\.168\.1\.10 dst 192\.168\.1\.20\n\tproto esp spi 0x00001000 reqid 0 mode transport\n/);
    expect((await vtepkit('-4 addr show')).stdout).to.include('    inet 10.200.0.1/24 scope global vxlan100\n').and.not.include('inet6');
    expect(api.callsOf('showLinks')).to.have.length(2);
  });

  it('an engine error: exit 1 and "Error: …" on stderr', async () => {
    api.failures.set('fdbAdd', new TypedError('EXISTS', 'mac', 'EXISTS (mac): 02:00:00:00:00:0a is already in VNI 100'));
    expect(await vtepkit('fdb add 02:00:00:00:00:0a dev vxlan100 dst 10.0.0.2')).to.deep.equal({
      code: EXIT_ERROR,
      stdout: '',
      stderr: 'Error: EXISTS (mac): 02:00:00:00:00:0a is already in VNI 100\n',
    });
  });

  it('a delete that finds nothing: exit 1 with what was not found', async () => {
    api.returns.set('fdbDel', false);
    api.returns.set('neighDel', false);
    api.returns.set('xfrmStateDel', false);
    expect(await vtepkit('fdb del 02:00:00:00:00:0a dev vxlan100 dst 10.0.0.2')).to.deep.include({ code: 1, stderr: 'Error: no FDB entry 02:00:00:00:00:0a on vxlan100 with dst 10.0.0.2\n' });
    expect(await vtepkit('neigh del 10.0.0.2 dev vxlan100')).to.deep.include({ code: 1, stderr: 'Error: no neighbour 10.0.0.2 on vxlan100\n' });
    expect(await vtepkit('xfrm state del dst 10.0.0.2 spi 0x1000')).to.deep.include({ code: 1, stderr: 'Error: no SA with SPI 0x00001000 to 10.0.0.2\n' });
  });

  it('a bad word: exit 1, nothing sent; not understood: exit 2 with a hint', async () => {
    expect(await vtepkit('link add vxlan100 type vxlan id abc')).to.deep.equal({ code: EXIT_ERROR, stdout: '', stderr: 'Error: argument "abc" is wrong: "id" must be an integer in 0..16777215\n' });
    expect(await vtepkit('fdb frobnicate')).to.deep.equal({
      code: EXIT_USAGE,
      stdout: '',
      stderr: 'Error: unknown verb "frobnicate" for "fdb"; expected one of: add, append, replace, del, delete, show, list, ls, lst\nTry "vtepkit help fdb".\n',
    });
    expect((await run([])).code).to.equal(EXIT_USAGE);
    expect(api.calls).to.deep.equal([]);
  });

  it('the socket: --socket, else $VTEPKIT_SOCKET; none there: exit 1 saying how to start the daemon', async () => {
    expect((await run(['fdb', 'show'], { VTEPKIT_SOCKET: socket })).code).to.equal(EXIT_OK);
    const missing = await run(['--socket', join(dir, 'none.sock'), 'fdb', 'show']);
    expect(missing.code).to.equal(EXIT_ERROR);
    expect(missing.stderr).to.equal(`Error: no control socket at ${join(dir, 'none.sock')}: is "vtepkit daemon" running? (choose the socket with --socket PATH or VTEPKIT_SOCKET)\n`);
  });

  it('up FILE: the checked document is applied; a bad file is named with the JSON path, and nothing is sent', async () => {
    const file = join(dir, 'vtep.json');
    await writeFile(file, JSON.stringify({ version: 1, links: [{ name: 'vxlan100', type: 'vxlan', vni: 100 }], up: ['vxlan100'] }));
    expect(await vtepkit(`up ${file}`)).to.deep.equal({ code: 0, stdout: '', stderr: '' });
    expect(api.callsOf('apply')).to.deep.equal([[{ version: 1, links: [{ name: 'vxlan100', type: 'vxlan', vni: 100 }], up: ['vxlan100'] }]]);
    await writeFile(file, JSON.stringify({ version: 1, links: [{ name: 'vxlan100', type: 'vxlan', vni: 'abc' }] }));
    expect(await vtepkit(`up ${file}`)).to.deep.equal({ code: 1, stdout: '', stderr: `Error: ${file}: links[0].vni: must be an integer in 0..16777215, got "abc"\n` });
    await writeFile(file, '{"version": 1,\n  "links": [}');
    expect((await vtepkit(`up ${file}`)).stderr).to.match(new RegExp(`^Error: ${file}: not valid JSON: .* at line 2 column 13\\n$`));
    expect((await vtepkit(`up ${join(dir, 'missing.json')}`)).stderr).to.equal(`Error: cannot read ${join(dir, 'missing.json')}: no such file\n`);
    expect(api.callsOf('apply')).to.have.length(1);
  });

  it('dump prints a document that up accepts', async () => {
    const result = await vtepkit('dump');
    expect(result.code).to.equal(0);
    expect(validateDocument(JSON.parse(result.stdout))).to.deep.equal(api.dump());
  });

  it('help, version, demo', async () => {
    const help = await run(['help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.match(/^Usage: vtepkit \[ OPTIONS \] OBJECT/);
    expect((await run(['xfrm', 'help'])).stdout).to.include("aead 'rfc4106(gcm(aes))' 0xKEYSALT 128");
    const packageJson = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect((await run(['--version'])).stdout).to.equal(`vtepkit ${packageJson.version}\n`);
    // Without a hook, demo runs src/cli/demo.ts (exercised by test/e2e/demo.test.ts); its usage error needs no root:
    expect(await run(['demo', 'extra'])).to.deep.equal({ code: 2, stdout: '', stderr: 'Error: vtepkit demo takes no arguments, got "extra"\n' });
    const seen: string[][] = [];
    expect((await run(['demo', '--keep'], {}, { demo: async (words) => (seen.push(words), 3) })).code).to.equal(3);
    expect(seen).to.deep.equal([['--keep']]);
  });

  it('daemon: serves the injected engine until stopped, then removes its socket', async () => {
    const path = join(dir, 'verb.sock');
    const engine = new FakeApi();
    const stop = new AbortController();
    let daemon: Daemon | undefined;
    const running = run(['--socket', path, 'daemon'], {}, { createApi: () => engine, stopSignal: stop.signal, onDaemon: (d) => (daemon = d) });
    while (daemon === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await stat(path)).mode & 0o777).to.equal(0o600);
    expect((await run(['--socket', path, 'link', 'del', 'vxlan100'])).code).to.equal(0);
    expect(engine.callsOf('deleteLink')).to.deep.equal([['vxlan100']]);
    stop.abort();
    const result = await running;
    expect(result.code).to.equal(0);
    expect(result.stderr).to.equal(`vtepkit daemon: listening on ${path}\nvtepkit daemon: stopped\n`);
    expect(engine.closed).to.equal(1);
    expect(existsSync(path)).to.equal(false);
  });

  it('daemon: a bad --config or a daemon already running is exit 1 with the reason', async () => {
    const config = join(dir, 'bad-daemon.json');
    await writeFile(config, '{"version": 2}');
    const bad = await run(['--socket', join(dir, 'd.sock'), 'daemon', '--config', config], {}, { createApi: () => new FakeApi() });
    expect(bad).to.deep.equal({ code: 1, stdout: '', stderr: 'Error: version: must be 1, got 2\n' });
    const twice = await run(['--socket', socket, 'daemon'], {}, { createApi: () => new FakeApi() });
    expect(twice).to.deep.equal({ code: 1, stdout: '', stderr: `Error: a vtepkit daemon already listens on ${socket}\n` });
    expect(await sendRequest({ op: 'ping', args: {} }, { path: socket })).to.have.property('pong', true);
  });

  it('exit statuses from a real process: 0, 1, 2', async function () {
    this.timeout(60_000);
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const script = "import { main } from './src/cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";
    // Asynchronous: the daemon answering it runs in this process.
    const exec = (...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args], { cwd: root, env: { ...process.env, VTEPKIT_SOCKET: socket } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const [ok, bad, usage] = await Promise.all([exec('fdb', 'show'), exec('link', 'add', 'v', 'type', 'vxlan', 'id', 'abc'), exec('lnik')]);
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include('00:00:00:00:00:00 dev vxlan100 dst 192.168.1.20');
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.equal('Error: argument "abc" is wrong: "id" must be an integer in 0..16777215\n');
    expect(usage.status).to.equal(2);
  });

  describe('docs/cli.md, as written', () => {
    let docs: string;
    before(async () => {
      docs = await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    });

    it('every vtepkit command in the sh blocks runs with exit 0 (daemon, up and demo aside)', async () => {
      const lines = [...docs.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((block) => block[1]!.split('\n')).filter((line) => line.startsWith('vtepkit '));
      expect(lines.length).to.be.greaterThan(30);
      for (const line of lines) {
        const words = shellWords(line).slice(1);
        if (words.includes('daemon') || words[0] === 'up' || words[0] === 'demo') continue;
        const result = await run(['--socket', socket, ...words]);
        if (words[0] === 'capture') {
          // tcpdump's habit: what it listens to on stderr, the count on stdout.
          expect(result.code, line).to.equal(0);
          expect(result.stdout, line).to.match(/^1 packet captured to \//);
          continue;
        }
        expect(result, line).to.deep.include({ code: 0, stderr: '' });
      }
    });

    it('the error examples print exactly what the page shows', async () => {
      const block = [...docs.matchAll(/```text\n([\s\S]*?)```/g)].map((match) => match[1]!).find((text) => text.includes('$ vtepkit lnik show'))!;
      const examples = block.split(/^\$ /m).filter((part) => part !== '');
      expect(examples.length).to.be.greaterThan(4);
      for (const example of examples) {
        const [command, ...expected] = example.trimEnd().split('\n');
        const words = shellWords(command!).slice(1);
        let result: Run;
        if (words.join(' ') === 'fdb show') {
          if (existsSync('/run/vtepkit.sock')) continue;
          result = await run(words, {});
        } else {
          result = await run(['--socket', socket, ...words]);
        }
        expect(result.stderr, command).to.equal(`${expected.join('\n')}\n`);
      }
    });

    it('the -s link show example is what vtepkit prints', async () => {
      api.returns.set('showLinks', [LINK]);
      const block = [...docs.matchAll(/```text\n([\s\S]*?)```/g)].map((match) => match[1]!).find((text) => text.startsWith('7: vxlan100:'))!;
      expect((await vtepkit('-s link show vxlan100')).stdout).to.equal(block);
    });
  });
});
