/** `vtepkit demo`, the README's main-job command, runs and cleans up after itself. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { skipWithoutLab } from './host.js';

describe('e2e: vtepkit demo', function () {
  this.timeout(60_000);
  before(function () {
    skipWithoutLab(this);
  });

  it('builds two hosts, pings across the overlay with no loss, prints counters and FDBs, and removes everything', () => {
    const demoNamespaces = (): string[] => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('vtkdemo'));
    const before = demoNamespaces();
    const r = spawnSync(process.execPath, ['bin/vtepkit.mjs', 'demo'], { encoding: 'utf8', timeout: 50_000 });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/4 packets transmitted, 4 received, 0% packet loss/);
    expect(r.stdout).to.include('00:00:00:00:00:00 dst 192.0.2.2 src_vni 100 self permanent');
    expect(r.stdout).to.include('The overlay works');
    expect(demoNamespaces()).to.deep.equal(before);
  });

  it('refuses arguments with a usage error', () => {
    const r = spawnSync(process.execPath, ['bin/vtepkit.mjs', 'demo', 'extra'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/takes no arguments/);
  });
});
