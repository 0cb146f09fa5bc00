/**
 * Export and bulk load (the JSON a controller pushes), and bad inputs to every
 * friendly method: a typed FdbError, never a crash, no lost state.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Fdb, FdbError, type FdbDocument } from '../../src/fdb/index.js';
import { expectFdbError, ip, mac, manualFdb } from './helpers.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const ZERO = '00:00:00:00:00:00';

function populated(): Fdb {
  const { fdb } = manualFdb();
  fdb.add(100, A, { dst: '10.0.0.2' });
  fdb.add(100, B, { dst: '2001:db8::2', port: 8472, vni: 200, via: 'eth1', state: 'static', router: true });
  fdb.add(200, A, { localPort: 4, state: 'dynamic', externLearn: true });
  for (const dst of ['10.0.0.2', '10.0.0.3', '2001:db8::9']) fdb.append(100, ZERO, { dst });
  fdb.learnIpv4(100, mac('02:00:00:00:00:0c'), ip('10.0.0.4'));
  fdb.neighbours.add(100, '10.0.0.20', { lladdr: A });
  fdb.neighbours.add(100, '2001:db8::20', { lladdr: B, router: true, state: 'static' });
  fdb.neighbours.add(200, '10.0.0.20', { lladdr: B, state: 'dynamic' });
  return fdb;
}

describe('fdb: JSON export and bulk load', () => {
  it('toJSON → load into an empty table gives the same table (and the same document)', () => {
    const source = populated();
    const document = source.toJSON();
    expect(document.version).to.equal(1);
    expect(document.port).to.equal(4789);
    const copy = manualFdb().fdb;
    expect(copy.load(JSON.parse(JSON.stringify(document)) as FdbDocument)).to.deep.equal({ entries: 5, neighbours: 3 });
    expect(copy.toJSON()).to.deep.equal(document);
    expect(copy.showText()).to.equal(source.showText());
    // Same destination sets on the datapath.
    const set = copy.forward(100, mac('ff:ff:ff:ff:ff:ff'));
    expect(copy.setSize(set)).to.equal(3);
  });

  it('the document format: rows as `bridge -j fdb show` prints them (plus src_vni), neighbours like `ip -j neigh`', () => {
    expect(populated().toJSON()).to.deep.equal({
      version: 1,
      port: 4789,
      fdb: [
        { mac: ZERO, dst: '10.0.0.2', src_vni: 100, flags: ['self'], state: 'permanent' },
        { mac: ZERO, dst: '10.0.0.3', src_vni: 100, flags: ['self'], state: 'permanent' },
        { mac: ZERO, dst: '2001:db8::9', src_vni: 100, flags: ['self'], state: 'permanent' },
        { mac: A, dst: '10.0.0.2', src_vni: 100, flags: ['self'], state: 'permanent' },
        { mac: B, dst: '2001:db8::2', port: 8472, vni: 200, src_vni: 100, viaIf: 'eth1', flags: ['self', 'router'], state: 'static' },
        { mac: '02:00:00:00:00:0c', dst: '10.0.0.4', src_vni: 100, flags: ['self'], state: '' },
        { mac: A, localPort: 4, src_vni: 200, flags: ['self', 'extern_learn'], state: '' },
      ],
      neighbours: [
        { dst: '10.0.0.20', lladdr: A, src_vni: 100, flags: [], state: 'permanent' },
        { dst: '2001:db8::20', lladdr: B, src_vni: 100, flags: ['router'], state: 'static' },
        { dst: '10.0.0.20', lladdr: B, src_vni: 200, flags: [], state: '' },
      ],
    });
  });

  it('loads rows straight from `bridge -j -s fdb show` output (timers ignored) and a bare array of rows', () => {
    const { fdb } = manualFdb();
    fdb.load([
      { mac: ZERO, dst: '10.0.0.2', src_vni: 100, used: 145, updated: 145, flags: ['self'], state: 'permanent' },
      { mac: ZERO, dst: '10.0.0.3', src_vni: 100, flags: ['self'], state: 'permanent' },
      { mac: A, dst: '10.0.0.9', port: 1000, vni: 200, src_vni: 100, flags: ['self'], state: '' },
      { mac: B, dst: '10.0.0.9', src_vni: 100 },
    ]);
    expect(fdb.showText()).to.equal(
      [
        `${ZERO} dst 10.0.0.2 src_vni 100 self permanent`,
        `${ZERO} dst 10.0.0.3 src_vni 100 self permanent`,
        `${A} dst 10.0.0.9 port 1000 vni 200 src_vni 100 self`,
        `${B} dst 10.0.0.9 src_vni 100 self permanent`,
      ].join('\n'),
    );
  });

  it('rows without a port use the document\'s port (8472 here), not the table\'s', () => {
    const { fdb } = manualFdb();
    fdb.load({ version: 1, port: 8472, fdb: [{ mac: A, dst: '10.0.0.2', src_vni: 1, flags: ['self'], state: 'permanent' }] });
    expect(fdb.show()[0]).to.include({ port: 8472 });
  });

  it('merge (default) overwrites the entries it names and keeps the others; replace keeps only the document', () => {
    const fdb = populated();
    fdb.load({ version: 1, fdb: [{ mac: A, dst: '10.0.0.7', src_vni: 100, flags: ['self'], state: 'static' }, { mac: ZERO, dst: '10.0.0.8', src_vni: 100, flags: ['self'], state: 'permanent' }] });
    expect(fdb.show({ vni: 100, mac: A })).to.deep.equal([{ mac: A, dst: '10.0.0.7', src_vni: 100, flags: ['self'], state: 'static' }]);
    expect(fdb.show({ vni: 100, mac: ZERO }).map((r) => r.dst)).to.deep.equal(['10.0.0.8']);
    expect(fdb.size).to.equal(5);
    fdb.load({ version: 1, fdb: [{ mac: B, dst: '10.0.0.7', src_vni: 5, flags: ['self'], state: 'permanent' }], neighbours: [] }, { replace: true });
    expect(fdb.show().map((r) => `${r.src_vni} ${r.mac}`)).to.deep.equal([`5 ${B}`]);
    expect(fdb.neighbours.size).to.equal(0);
    expect(fdb.snapshot()).to.include({ destinations: 1, destinationSets: 1 });
  });

  it('a bad document changes nothing, and the error names the row and field', () => {
    const fdb = populated();
    const before = JSON.stringify(fdb.toJSON());
    const cases: [unknown, string, string][] = [
      [{ version: 2, fdb: [] }, 'BAD_VALUE', 'document.version'],
      [{ version: 1, fdb: {} }, 'BAD_VALUE', 'fdb'],
      [{ version: 1, fdb: [], extra: 1 }, 'BAD_VALUE', 'document.extra'],
      [{ version: 1, fdb: [{ mac: A, dst: '10.0.0.2', src_vni: 1 }, { mac: 'nope', dst: '10.0.0.2', src_vni: 1 }] }, 'BAD_VALUE', 'fdb[1].mac'],
      [{ version: 1, fdb: [{ mac: A, dst: '10.0.0.2' }] }, 'BAD_VALUE', 'fdb[0].src_vni'],
      [{ version: 1, fdb: [{ mac: A, dst: '10.0.0.256', src_vni: 1 }] }, 'BAD_VALUE', 'fdb[0].dst'],
      [{ version: 1, fdb: [{ mac: A, src_vni: 1 }] }, 'BAD_VALUE', 'fdb[0].dst'],
      [{ version: 1, fdb: [{ mac: A, dst: '10.0.0.2', src_vni: 1, port: 0 }] }, 'BAD_VALUE', 'fdb[0].port'],
      [{ version: 1, fdb: [{ mac: A, dst: '10.0.0.2', src_vni: 1, flags: ['offload'] }] }, 'BAD_VALUE', 'fdb[0].flags'],
      [{ version: 1, fdb: [{ mac: A, dst: '10.0.0.2', src_vni: 1, state: 'stale' }] }, 'BAD_VALUE', 'fdb[0].state'],
      [{ version: 1, fdb: [{ mac: A, dst: '10.0.0.2', src_vni: 1, 'src-vni': 1 }] }, 'BAD_VALUE', 'fdb[0].src-vni'],
      [{ version: 1, fdb: [{ mac: A, dst: '10.0.0.2', src_vni: 1 }, { mac: A, dst: '10.0.0.3', src_vni: 1 }] }, 'BAD_VALUE', 'fdb[1].dst'],
      [{ version: 1, fdb: [{ mac: ZERO, dst: '10.0.0.2', src_vni: 1 }, { mac: ZERO, dst: '10.0.0.3', src_vni: 1, state: 'static' }] }, 'BAD_VALUE', 'fdb[1].state'],
      [{ version: 1, neighbours: [{ dst: '10.0.0.1', src_vni: 1 }] }, 'BAD_VALUE', 'neighbours[0].lladdr'],
      [{ version: 1, neighbours: [{ dst: '224.0.0.1', lladdr: A, src_vni: 1 }] }, 'BAD_VALUE', 'neighbours[0].dst'],
      [{ version: 1, neighbours: [{ dst: '10.0.0.1', lladdr: '01:00:5e:00:00:01', src_vni: 1 }] }, 'BAD_VALUE', 'neighbours[0].lladdr'],
      [{ version: 1, neighbours: [{ dst: '10.0.0.1', lladdr: A, src_vni: 1 }, { dst: '10.0.0.1', lladdr: B, src_vni: 1 }] }, 'BAD_VALUE', 'neighbours[1].dst'],
      [null, 'BAD_VALUE', 'document'],
      ['{}', 'BAD_VALUE', 'document'],
    ];
    for (const [document, code, field] of cases) {
      expectFdbError(() => fdb.load(document as FdbDocument), code, field);
      expect(JSON.stringify(fdb.toJSON()), field).to.equal(before);
    }
  });

  it('limits are checked before anything changes', () => {
    const { fdb } = manualFdb({ maxEntries: 3, maxNeighbours: 1 });
    fdb.add(1, A, { dst: '10.0.0.2' });
    const rows = ['02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03'].map((m) => ({ mac: m, dst: '10.0.0.2', src_vni: 1 }));
    expectFdbError(() => fdb.load(rows), 'LIMIT', 'fdb');
    expect(fdb.size).to.equal(1);
    // Overwriting an existing entry needs no room; replace:true starts from empty.
    fdb.load([{ mac: A, dst: '10.0.0.3', src_vni: 1 }, ...rows.slice(0, 2)]);
    expect(fdb.size).to.equal(3);
    fdb.load(rows, { replace: true });
    expect(fdb.size).to.equal(3);
    fdb.setVni(2, { maxEntries: 1 });
    expectFdbError(() => fdb.load(rows.map((r) => ({ ...r, src_vni: 2 })), { replace: true }), 'LIMIT', 'fdb');
    expect(fdb.size).to.equal(3);
    expectFdbError(() => fdb.load({ version: 1, neighbours: [{ dst: '10.0.0.1', lladdr: A, src_vni: 1 }, { dst: '10.0.0.2', lladdr: A, src_vni: 1 }] }), 'LIMIT', 'neighbours');
    expect(fdb.neighbours.size).to.equal(0);
  });

  it('property: a random table exported and loaded elsewhere shows the same', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            vni: fc.integer({ min: 0, max: 3 }),
            mac: fc.constantFrom(0, 0x01005e000001, 0x020000000001, 0x020000000002, 0xffffffffffff, 0x0a0000000003),
            dst: fc.constantFrom('10.0.0.1', '10.0.0.2', '2001:db8::1', 'fe80::1'),
            port: fc.option(fc.constantFrom(4789, 8472, 1), { nil: undefined }),
            vni2: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
            state: fc.constantFrom('permanent', 'static', 'dynamic') as fc.Arbitrary<'permanent' | 'static' | 'dynamic'>,
          }),
          { maxLength: 30 },
        ),
        (ops) => {
          const { fdb } = manualFdb();
          for (const op of ops) {
            try {
              fdb.append(op.vni, op.mac, { dst: op.dst, port: op.port, vni: op.vni2, state: op.state });
            } catch (error) {
              if (!(error instanceof FdbError)) throw error;
            }
          }
          const other = manualFdb().fdb;
          other.load(JSON.parse(JSON.stringify(fdb.toJSON())) as FdbDocument);
          expect(other.show()).to.deep.equal(fdb.show());
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('fdb: bad inputs to every friendly method', () => {
  const badMacs: unknown[] = ['', 'zz:00:00:00:00:00', '02:00:00:00:00', 2 ** 48, -1, 1.5, null, {}, [], undefined, Number.NaN];
  const badVnis: unknown[] = [-1, 1 << 24, 1.5, '100', null, undefined, Number.NaN, Infinity];

  it('typed errors, never another exception, and no change to the table', () => {
    const fdb = populated();
    const before = JSON.stringify(fdb.toJSON());
    const calls: [string, () => unknown][] = [];
    for (const method of ['add', 'append', 'replace'] as const) {
      for (const m of badMacs) calls.push([`${method} mac ${String(m)}`, () => fdb[method](1, m as string, { dst: '10.0.0.1' })]);
      for (const v of badVnis) calls.push([`${method} vni ${String(v)}`, () => fdb[method](v as number, A, { dst: '10.0.0.1' })]);
      const badOptions: unknown[] = [
        null,
        'dst',
        [],
        { dst: 1 },
        { dst: '10.0.0' },
        { dst: '0.0.0.0' },
        { dst: '::' },
        { dst: '10.0.0.1', localPort: 1 },
        { localPort: -1 },
        { localPort: 1, port: 5 },
        { dst: '10.0.0.1', port: 70000 },
        { dst: '10.0.0.1', port: '4789' },
        { dst: '10.0.0.1', vni: 1 << 24 },
        { dst: '10.0.0.1', via: '' },
        { dst: '10.0.0.1', via: 'a/b' },
        { dst: '10.0.0.1', via: 'x'.repeat(16) },
        { dst: '10.0.0.1', state: 'stale' },
        { dst: '10.0.0.1', externLearn: 'yes' },
        { dst: '10.0.0.1', router: 1 },
        { dst: '10.0.0.1', master: true },
        { vni: 5 },
      ];
      for (const o of badOptions) calls.push([`${method} options ${JSON.stringify(o)}`, () => fdb[method](1, A, o as never)]);
    }
    for (const m of badMacs) calls.push([`del mac ${String(m)}`, () => fdb.del(1, m as string)]);
    for (const v of badVnis) calls.push([`del vni ${String(v)}`, () => fdb.del(v as number, A)]);
    calls.push(['del options', () => fdb.del(100, A, { dst: 'x' })]);
    calls.push(['del options unknown', () => fdb.del(100, A, { state: 'static' } as never)]);
    calls.push(['get', () => fdb.get(1, 'nope')]);
    calls.push(['show', () => fdb.show({ vni: -1 })]);
    calls.push(['show mac', () => fdb.show({ mac: 'x' })]);
    calls.push(['show state', () => fdb.show({ state: 'x' as never })]);
    calls.push(['show key', () => fdb.show({ dev: 'vx0' } as never)]);
    calls.push(['flush', () => fdb.flush({ vni: 1.5 })]);
    calls.push(['flush key', () => fdb.flush({ all: true } as never)]);
    calls.push(['setVni', () => fdb.setVni(1, { ageing: -1 })]);
    calls.push(['setVni learning', () => fdb.setVni(1, { learning: 'no' as never })]);
    calls.push(['setVni key', () => fdb.setVni(1, { nolearning: true } as never)]);
    calls.push(['getVni', () => fdb.getVni(-5)]);
    calls.push(['reserve', () => fdb.reserve(-1)]);
    calls.push(['pinDestination', () => fdb.pinDestination({})]);
    calls.push(['pinDestination bad', () => fdb.pinDestination({ dst: 'x' })]);
    calls.push(['load options', () => fdb.load([], { replace: 'yes' } as never)]);
    calls.push(['neighbours.add', () => fdb.neighbours.add(1, '10.0.0.1', {} as never)]);
    calls.push(['neighbours.add ip', () => fdb.neighbours.add(1, '127.0.0.1', { lladdr: A })]);
    calls.push(['neighbours.add ip6', () => fdb.neighbours.add(1, 'ff02::1', { lladdr: A })]);
    calls.push(['neighbours.add mac', () => fdb.neighbours.add(1, '10.0.0.1', { lladdr: 0 })]);
    calls.push(['neighbours.add state', () => fdb.neighbours.add(1, '10.0.0.1', { lladdr: A, state: 'x' as never })]);
    calls.push(['neighbours.add exists', () => fdb.neighbours.add(100, '10.0.0.20', { lladdr: B })]);
    calls.push(['neighbours.replace', () => fdb.neighbours.replace(1, 'x', { lladdr: A })]);
    calls.push(['neighbours.del', () => fdb.neighbours.del(1, '10.0.0.99')]);
    calls.push(['neighbours.get', () => fdb.neighbours.get(1, '')]);
    calls.push(['neighbours.show', () => fdb.neighbours.show({ vni: 'a' as never })]);
    calls.push(['neighbours.clear', () => fdb.neighbours.clear(-1)]);
    for (const [name, call] of calls) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(caught, name).to.be.instanceOf(FdbError);
      expect(['BAD_VALUE', 'NOT_FOUND', 'EXISTS', 'NOT_SUPPORTED', 'LIMIT'], name).to.include((caught as FdbError).code);
      expect(JSON.stringify(fdb.toJSON()), name).to.equal(before);
    }
  });

  it('constructor options are validated with the field and the allowed values', () => {
    const cases: [unknown, string][] = [
      [{ port: 0 }, 'options.port'],
      [{ ageing: -1 }, 'options.ageing'],
      [{ learning: 1 }, 'options.learning'],
      [{ maxEntries: 0 }, 'options.maxEntries'],
      [{ maxVnis: 0 }, 'options.maxVnis'],
      [{ clock: 5 }, 'options.clock'],
      [{ sweepBudget: 0 }, 'options.sweepBudget'],
      [{ tickInterval: 0 }, 'options.tickInterval'],
      [{ eventQueue: 0 }, 'options.eventQueue'],
      [{ agieng: 5 }, 'options.agieng'],
      [null, 'options'],
    ];
    for (const [options, field] of cases) {
      const error = expectFdbError(() => new Fdb(options as never), 'BAD_VALUE', field);
      expect(error.message).to.match(/must|unknown field/);
    }
  });
});
