/** The examples a newcomer pastes must run, and the README must show them as they are. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOpensslBackendAvailable } from '../src/esp/openssl-backend.js';
import { isBatchUdpAvailable } from '../src/io/udp-batch.js';
import { decapsulate } from '../src/wire/encap.js';
import { readPcap, LINKTYPE_ETHERNET } from '../src/wire/pcap.js';

function runExample(file: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout;
}

describe('examples', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vtepkit-examples-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('quickstart runs (through the package name, from dist/) and prints what the README says', () => {
    expect(runExample('examples/quickstart.ts').trim()).to.equal('100 { vni: 100, flags: 8 }');
  });

  it('the README shows examples/quickstart.ts verbatim', () => {
    expect(readFileSync('README.md', 'utf8')).to.include(readFileSync('examples/quickstart.ts', 'utf8'));
  });

  it('the ESP example seals with the default backend (openssl when the cipher addon is built) and opens back the packet', () => {
    const lines = runExample('examples/esp-seal.ts').trim().split('\n');
    const backend = isOpensslBackendAvailable() ? 'openssl' : 'node';
    expect(lines[0]).to.equal(`${backend} 64 50 true`);
    // docs/esp.md points a newcomer at it.
    expect(readFileSync('docs/esp.md', 'utf8')).to.include('examples/esp-seal.ts');
  });

  it('the UDP GSO example sends 100 datagrams as 2 GSO messages and they all arrive; docs/tap.md shows it verbatim', function () {
    if (!isBatchUdpAvailable()) {
      if (process.env.VTEPKIT_REQUIRE_ADDON === '1') throw new Error('VTEPKIT_REQUIRE_ADDON=1 but the batched UDP socket is unavailable');
      this.skip();
    }
    const lines = runExample('examples/udp-gso.ts').trim().split('\n');
    expect(lines[0]).to.equal('100 2');
    const received = lines.slice(1).map((line) => Number(/^(\d+) datagrams$/.exec(line)![1]));
    expect(received.reduce((a, b) => a + b, 0)).to.equal(100);
    expect(readFileSync('docs/tap.md', 'utf8')).to.include(readFileSync('examples/udp-gso.ts', 'utf8'));
  });

  it('the codec demo writes a pcap with a VXLAN and a Geneve packet', () => {
    const file = join(dir, 'demo.pcap');
    const out = runExample('examples/codec-demo.ts', file);
    expect(out).to.include('vni 100').and.include('vni 500').and.include('geneve option class 0x0102 type 0x80 critical=true data 00003039');
    const pcap = readPcap(readFileSync(file));
    expect(pcap.linkType).to.equal(LINKTYPE_ETHERNET);
    expect(pcap.records.map((r) => decapsulate(r.data)).map((d) => [d.tunnel, d.vni, d.innerLength])).to.deep.equal([
      ['vxlan', 100, 64],
      ['geneve', 500, 64],
    ]);
  });
});
