/**
 * The command against the real engine (src/vtep/vtep.ts) on in-memory ports
 * and loopback sockets (no TAP, no network configuration): what the parser
 * produces is what Vtep takes, and `dump` → `up` restores the state.
 */
import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateDocument } from '../../src/cli/config.js';
import { startDaemon, type Daemon } from '../../src/cli/control.js';
import { main } from '../../src/cli/main.js';
import { Vtep } from '../../src/vtep/vtep.js';
import { Collector, tempDir } from './fake-api.js';

describe('cli with the real engine (memory ports, loopback)', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let daemon: Daemon | undefined;
  const port = 40000 + (process.pid % 20000);

  before(async () => {
    ({ dir, remove } = await tempDir());
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
  });
  after(async () => remove());

  async function vtepkit(socket: string, line: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new Collector();
    const stderr = new Collector();
    const code = await main(['--socket', socket, ...line.split(' ')], { stdout, stderr, env: {} });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('link, addr, fdb, neigh verbs; errors from the engine; dump → up on a fresh daemon gives the same state', async () => {
    const socket = join(dir, 'engine.sock');
    daemon = await startDaemon({ path: socket, createApi: () => new Vtep() });
    const ok = async (line: string): Promise<string> => {
      const result = await vtepkit(socket, line);
      expect(result, line).to.deep.include({ code: 0, stderr: '' });
      return result.stdout;
    };
    await ok(`link add vxlan100 type vxlan id 100 dstport ${port} local 127.0.0.1 nolearning ageing 60 port memory`);
    await ok(`link add gnv0 type geneve vni 500 dstport ${port + 1} local 127.0.0.1 port memory option class 0x0102 type 0x80 data 0x00003039`);
    await ok('addr add 10.200.0.1/24 dev vxlan100');
    await ok('link set vxlan100 up mtu 1400');
    await ok('fdb append 00:00:00:00:00:00 dev vxlan100 dst 127.0.0.2');
    await ok('fdb append 00:00:00:00:00:00 dev vxlan100 dst 127.0.0.3');
    await ok('fdb add 02:00:00:00:00:0a dev vxlan100 dst 127.0.0.2 static');
    await ok('neigh add 10.200.0.2 lladdr 02:00:00:00:00:0a dev vxlan100');
    expect(await ok('fdb show dev vxlan100')).to.equal(
      [
        `00:00:00:00:00:00 dst 127.0.0.2 port ${port} src_vni 100 self permanent`,
        `00:00:00:00:00:00 dst 127.0.0.3 port ${port} src_vni 100 self permanent`,
        `02:00:00:00:00:0a dst 127.0.0.2 port ${port} src_vni 100 self static`,
        '',
      ].join('\n'),
    );
    expect(await ok('-d link show vxlan100')).to.match(/^vxlan100: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 state UNKNOWN mode DEFAULT\n    link\/ether [0-9a-f:]{17} brd ff:ff:ff:ff:ff:ff\n    vxlan id 100 local 127\.0\.0\.1 dstport \d+ nolearning ttl auto ageing 60 port memory\n$/);
    expect(await ok('-d link show gnv0')).to.include('    option class 0x0102 type 0x80 data 0x00003039\n');
    expect(await ok('neigh show dev vxlan100')).to.match(/^10\.200\.0\.2 dev vxlan100 lladdr 02:00:00:00:00:0a /);
    const missing = await vtepkit(socket, 'fdb del 02:00:00:00:00:99 dev vxlan100');
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^Error: .*02:00:00:00:00:99/);
    const duplicate = await vtepkit(socket, `link add vxlan100 type vxlan id 101 port memory`);
    expect(duplicate).to.deep.include({ code: 1, stderr: 'Error: link vxlan100 exists\n' });

    const dump = await ok('dump');
    const document = validateDocument(JSON.parse(dump), { references: true });
    expect(document.links!.map((l) => l.name)).to.deep.equal(['vxlan100', 'gnv0']);
    const file = join(dir, 'vtep.json');
    await writeFile(file, dump);
    await daemon.stop();

    daemon = await startDaemon({ path: socket, createApi: () => new Vtep() });
    await ok(`up ${file}`);
    expect(JSON.parse(await ok('dump'))).to.deep.equal(JSON.parse(dump));
  });
});
