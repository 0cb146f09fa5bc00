/** `apply` (what `vtepkit up FILE` runs) is all or nothing. */
import { expect } from 'chai';
import { Vtep, VtepError } from '../../src/vtep/vtep.js';
import type { VtepDocument } from '../../src/vtep/api.js';

describe('vtep: apply is all or nothing', () => {
  let vtep: Vtep;
  let dstport: number;

  beforeEach(async () => {
    vtep = new Vtep();
    dstport = 20000 + Math.floor(Math.random() * 20000);
    await vtep.addLink({ name: 'a', type: 'vxlan', vni: 100, dstport, local: '127.0.0.1', port: 'memory', learning: false });
    vtep.fdbAppend('a', '02:00:00:00:00:01', { dst: '192.0.2.5' });
    vtep.neighAdd({ dev: 'a', address: '10.0.0.9', lladdr: '02:00:00:00:00:09' });
  });
  afterEach(() => vtep.close());

  const state = (v: Vtep): unknown => ({ links: v.showLinks().map((l) => [l.name, l.up]), fdb: v.fdbShow({}), neigh: v.neighShow(), sas: v.xfrmStateShow() });

  it('a failing step undoes every earlier one: new links, up, FDB appends and replaces, neighbours', async () => {
    const before = state(vtep);
    const document: VtepDocument = {
      version: 1,
      links: [{ name: 'b', type: 'vxlan', vni: 200, dstport: dstport + 1, local: '127.0.0.1', port: 'memory' }],
      up: ['a', 'b'],
      fdb: [
        { op: 'append', mac: '02:00:00:00:00:02', dev: 'a', dst: '192.0.2.6' },
        { op: 'replace', mac: '02:00:00:00:00:01', dev: 'a', dst: '192.0.2.7' },
        { op: 'append', mac: '02:00:00:00:00:03', dev: 'b', dst: '192.0.2.8' },
      ],
      neighbours: [
        { dev: 'a', address: '10.0.0.10', lladdr: '02:00:00:00:00:10' },
        { dev: 'nosuchlink', address: '10.0.0.11', lladdr: '02:00:00:00:00:11' },
      ],
    };
    const error = await vtep.apply(document).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(VtepError);
    expect((error as VtepError).code).to.equal('NOT_FOUND');
    expect(state(vtep)).to.deep.equal(before);
    // The same document without the bad line applies whole.
    document.neighbours!.pop();
    await vtep.apply(document);
    expect(vtep.showLinks().map((l) => [l.name, l.up])).to.deep.equal([['a', true], ['b', true]]);
    expect(vtep.fdbShow({ dev: 'a' }).map((r) => `${r.mac} ${r.dst}`)).to.include.members(['02:00:00:00:00:01 192.0.2.7', '02:00:00:00:00:02 192.0.2.6']);
  });

  it('a bad link in the middle leaves none of the document\'s links', async () => {
    const error = await vtep
      .apply({ version: 1, links: [{ name: 'b', type: 'vxlan', vni: 200, dstport: dstport + 1, port: 'memory' }, { name: 'c', type: 'vxlan', vni: 100, dstport: dstport + 2, port: 'memory' }] })
      .then(() => undefined, (e: unknown) => e);
    expect((error as VtepError).code).to.equal('EXISTS');
    expect(vtep.showLinks().map((l) => l.name)).to.deep.equal(['a']);
  });
});
