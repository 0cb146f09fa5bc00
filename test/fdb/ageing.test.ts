/**
 * Ageing (injected clock), the incremental sweep's bounds, the table's timer,
 * and the events.
 */
import { expect } from 'chai';
import { Fdb, LEARN_LEARNT, type FdbEvent, type NeighbourEvent } from '../../src/fdb/index.js';
import { expectFdbError, ip, mac, manualFdb, sweepAll } from './helpers.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';

function age(fdb: Fdb, clock: { advance(s: number): void }, seconds: number): number {
  clock.advance(seconds);
  fdb.advanceClock();
  return sweepAll(fdb);
}

describe('fdb: ageing', () => {
  it('a dynamic entry expires 300 s (the default) after its last update, not before', () => {
    const { fdb, clock } = manualFdb();
    fdb.learnIpv4(100, mac(A), ip('10.0.0.2'));
    expect(age(fdb, clock, 299)).to.equal(0);
    expect(fdb.size).to.equal(1);
    expect(age(fdb, clock, 1)).to.equal(1);
    expect(fdb.size).to.equal(0);
    expect(fdb.stats.aged).to.equal(1);
    expect(fdb.snapshot()).to.include({ destinations: 0, destinationSets: 0 });
  });

  it('receiving refreshes (updated), transmitting does not (used): Linux ≥ 6.15 ages on updated', () => {
    const { fdb, clock } = manualFdb();
    fdb.learnIpv4(100, mac(A), ip('10.0.0.2'));
    fdb.learnIpv4(100, mac(B), ip('10.0.0.2'));
    for (let t = 0; t < 5; t++) {
      clock.advance(100);
      fdb.advanceClock();
      fdb.learnIpv4(100, mac(A), ip('10.0.0.2'));
      fdb.lookup(100, mac(B));
      sweepAll(fdb);
    }
    expect(fdb.show().map((r) => r.mac)).to.deep.equal([A]);
  });

  it('static, permanent and extern_learn entries never age; a user-added dynamic entry does', () => {
    const { fdb, clock } = manualFdb();
    fdb.add(100, '02:00:00:00:00:01', { dst: '10.0.0.2' });
    fdb.add(100, '02:00:00:00:00:02', { dst: '10.0.0.2', state: 'static' });
    fdb.add(100, '02:00:00:00:00:03', { dst: '10.0.0.2', state: 'dynamic', externLearn: true });
    fdb.add(100, '02:00:00:00:00:04', { dst: '10.0.0.2', state: 'dynamic' });
    expect(age(fdb, clock, 10_000)).to.equal(1);
    expect(fdb.show().map((r) => r.mac)).to.deep.equal(['02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03']);
  });

  it('ageing per VNI; 0 = never', () => {
    const { fdb, clock } = manualFdb({ ageing: 60 });
    fdb.setVni(200, { ageing: 0 });
    fdb.setVni(300, { ageing: 10 });
    for (const vni of [100, 200, 300]) fdb.learnIpv4(vni, mac(A), ip('10.0.0.2'));
    expect(age(fdb, clock, 10)).to.equal(1);
    expect(fdb.show().map((r) => r.src_vni)).to.deep.equal([100, 200]);
    expect(age(fdb, clock, 50)).to.equal(1);
    expect(age(fdb, clock, 1_000_000)).to.equal(0);
    expect(fdb.show().map((r) => r.src_vni)).to.deep.equal([200]);
  });

  it('a replace or append refreshes `updated` when it changes something, not otherwise (checked on Linux 6.18)', () => {
    const { fdb, clock } = manualFdb();
    fdb.add(100, A, { dst: '10.0.0.2', state: 'dynamic' });
    fdb.add(100, B, { dst: '10.0.0.2', state: 'dynamic' });
    fdb.append(100, '00:00:00:00:00:00', { dst: '10.0.0.2', state: 'dynamic' });
    clock.advance(200);
    fdb.advanceClock();
    fdb.replace(100, A, { dst: '10.0.0.2', state: 'dynamic' }); // nothing changes
    fdb.replace(100, B, { dst: '10.0.0.3', state: 'dynamic' }); // the destination changes
    fdb.append(100, '00:00:00:00:00:00', { dst: '10.0.0.3', state: 'dynamic' }); // a destination is added
    fdb.del(100, '00:00:00:00:00:00', { dst: '10.0.0.2' }); // a removal does not refresh
    expect(fdb.show({ stats: true }).map((r) => `${r.mac} ${r.updated}`)).to.deep.equal(['00:00:00:00:00:00 0', `${A} 200`, `${B} 0`]);
    expect(age(fdb, clock, 100)).to.equal(1);
    expect(fdb.show().map((r) => r.mac)).to.deep.equal(['00:00:00:00:00:00', B]);
    fdb.replace(100, B, { dst: '10.0.0.3', state: 'dynamic', router: true }); // flags change
    expect(fdb.get(100, B, { stats: true })![0]!.updated).to.equal(0);
  });

  it('the clock never goes backwards', () => {
    const { fdb, clock } = manualFdb();
    const before = fdb.now;
    clock.advance(-100);
    fdb.advanceClock();
    expect(fdb.now).to.equal(before);
  });
});

describe('fdb: the incremental sweep', () => {
  it('examines at most maxSlots per slice and resumes where it stopped; a full pass removes everything expired', () => {
    const { fdb, clock } = manualFdb({ capacity: 20_000 });
    const n = 10_000;
    for (let i = 0; i < n; i++) fdb.learnIpv4(100, 0x020000000000 + i, ip('10.0.0.2'));
    const slots = fdb.capacity;
    clock.advance(301);
    fdb.advanceClock();
    let removed = 0;
    let slices = 0;
    while (removed < n) {
      const seen = fdb.stats.sweepSlots;
      removed += fdb.sweep(1000, 1000);
      expect(fdb.stats.sweepSlots - seen).to.be.at.most(1000);
      slices++;
      expect(slices, 'the sweep must make progress').to.be.below(200);
    }
    // Each slice examines 1000 slots; removals re-examine a slot, so a little more than slots/1000 slices.
    expect(slices).to.be.at.least(Math.ceil(slots / 1000));
    expect(fdb.size).to.equal(0);
    expect(fdb.stats.aged).to.equal(n);
  });

  it('stops at its time budget: one slice over a large table of expired entries stays near the budget', function () {
    this.timeout(60_000);
    const { fdb, clock } = manualFdb({ capacity: 400_000 });
    for (let i = 0; i < 300_000; i++) fdb.learnIpv4(100, 0x020000000000 + i * 7, ip('10.0.0.2') + (i & 1023));
    clock.advance(301);
    fdb.advanceClock();
    let worst = 0;
    for (let k = 0; k < 20; k++) {
      const started = performance.now();
      const removed = fdb.sweep(1 << 30, 0.5);
      worst = Math.max(worst, performance.now() - started);
      expect(removed).to.be.below(300_000);
    }
    // The bound is checked every 256 slots; allow generous slack for a loaded test machine (timing is asserted loosely here; the bench reports it).
    expect(worst).to.be.below(25);
    expect(fdb.stats.sweepMaxMs).to.be.at.least(0);
  });

  it('the automatic slice size scales with the table (4096..65536 slots)', () => {
    const small = manualFdb().fdb;
    small.sweep();
    expect(small.stats.sweepSlots).to.equal(1024); // a 1024-slot table: one slice covers it all
    const big = manualFdb({ capacity: 1 << 20 }).fdb;
    // A generous time budget: the first pass over a fresh 64 MiB table also pays its page faults.
    big.sweep(undefined, 10_000);
    expect(big.stats.sweepSlots).to.equal(65536);
  });

  it('neighbours age with the VNI ageing time, only when dynamic', () => {
    const { fdb, clock } = manualFdb({ proxy: true });
    fdb.setVni(100, { ageing: 30 });
    fdb.neighbours.add(100, '10.0.0.5', { lladdr: A });
    fdb.neighbours.add(100, '10.0.0.6', { lladdr: A, state: 'dynamic' });
    expect(fdb.neighbours.learnIpv4(100, ip('10.0.0.7'), mac(B))).to.equal(LEARN_LEARNT);
    expect(age(fdb, clock, 29)).to.equal(0);
    expect(age(fdb, clock, 1)).to.equal(2);
    expect(fdb.neighbours.show().map((r) => r.dst)).to.deep.equal(['10.0.0.5']);
    expect(fdb.stats.neighbourAged).to.equal(2);
  });
});

describe('fdb: the timer', () => {
  it('is unref\'d (never keeps the process alive), ticks, and stops on close()', async () => {
    let ms = 0;
    const fdb = new Fdb({ clock: () => ms, tickInterval: 5, ageing: 1 });
    const timer = (fdb as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).to.equal(false);
    fdb.learnIpv4(1, mac(A), ip('10.0.0.2'));
    ms = 5000;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(fdb.now).to.equal(5);
    expect(fdb.size).to.equal(0);
    fdb.close();
    expect((fdb as unknown as { timer: unknown }).timer).to.equal(undefined);
    ms = 9000;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fdb.now).to.equal(5);
  });
});

describe('fdb: events', () => {
  it('learnt, moved, aged and miss, delivered on flush, with where the entry points', () => {
    const { fdb, clock } = manualFdb();
    const seen: FdbEvent[] = [];
    for (const name of ['learnt', 'moved', 'aged', 'miss'] as const) fdb.on(name, (e) => seen.push(e));
    fdb.learnIpv4(100, mac(A), ip('10.0.0.2'));
    fdb.learnIpv4(100, mac(A), ip('10.0.0.3'));
    fdb.forward(100, mac(B));
    expect(seen).to.deep.equal([]);
    expect(fdb.snapshot().eventsQueued).to.equal(3);
    expect(fdb.flushEvents()).to.equal(3);
    clock.advance(300);
    fdb.tick();
    sweepAll(fdb);
    fdb.flushEvents();
    const base = { vni: 100, mac: A, macNumber: mac(A) };
    expect(seen).to.deep.equal([
      { type: 'learnt', ...base, to: { dst: '10.0.0.2', port: 4789 } },
      { type: 'moved', ...base, to: { dst: '10.0.0.3', port: 4789 }, from: { dst: '10.0.0.2', port: 4789 } },
      { type: 'miss', vni: 100, mac: B, macNumber: mac(B) },
      { type: 'aged', ...base, from: { dst: '10.0.0.3', port: 4789 } },
    ]);
    // The events held the destinations until delivered; nothing is left.
    expect(fdb.snapshot()).to.include({ destinations: 0, destinationSets: 0 });
  });

  it('queues nothing for event types nobody listens to; off() stops delivery', () => {
    const { fdb } = manualFdb();
    fdb.learnIpv4(100, mac(A), ip('10.0.0.2'));
    fdb.forward(100, mac(B));
    expect(fdb.snapshot().eventsQueued).to.equal(0);
    const seen: FdbEvent[] = [];
    const listener = (e: FdbEvent): void => void seen.push(e);
    fdb.on('miss', listener);
    fdb.forward(100, mac(B));
    fdb.flushEvents();
    fdb.off('miss', listener);
    fdb.forward(100, mac(B));
    expect(fdb.snapshot().eventsQueued).to.equal(0);
    fdb.flushEvents();
    expect(seen).to.have.length(1);
  });

  it('the queue is bounded: past it, events are dropped and counted', () => {
    const { fdb } = manualFdb({ eventQueue: 3 });
    let delivered = 0;
    fdb.on('miss', () => delivered++);
    for (let i = 0; i < 10; i++) fdb.forward(100, 0x020000000000 + i);
    expect(fdb.stats.eventsDropped).to.equal(7);
    fdb.flushEvents();
    expect(delivered).to.equal(3);
    // After a flush there is room again.
    fdb.forward(100, mac(A));
    fdb.flushEvents();
    expect(delivered).to.equal(4);
  });

  it('autoFlush delivers after the current batch (setImmediate), not inside the datapath call', async () => {
    const fdb = new Fdb({ timer: false });
    const seen: string[] = [];
    fdb.on('learnt', (e) => seen.push(e.mac));
    fdb.learnIpv4(100, mac(A), ip('10.0.0.2'));
    fdb.learnIpv4(100, mac(B), ip('10.0.0.2'));
    expect(seen).to.deep.equal([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).to.deep.equal([A, B]);
  });

  it('a listener may remove itself or throw: the queue is emptied first', () => {
    const { fdb } = manualFdb();
    const seen: number[] = [];
    const once = (): void => {
      seen.push(1);
      fdb.off('miss', once);
    };
    fdb.on('miss', once);
    fdb.on('miss', () => {
      throw new Error('listener failed');
    });
    fdb.forward(1, mac(A));
    fdb.forward(1, mac(B));
    expect(() => fdb.flushEvents()).to.throw('listener failed');
    expect(fdb.snapshot().eventsQueued).to.equal(0);
    expect(seen).to.deep.equal([1]);
  });

  it('neighbour events: learnt, moved, aged, miss', () => {
    const { fdb, clock } = manualFdb({ proxy: true });
    const seen: NeighbourEvent[] = [];
    for (const name of ['neighbourLearnt', 'neighbourMoved', 'neighbourAged', 'neighbourMiss'] as const) fdb.on(name, (e) => seen.push(e));
    fdb.neighbours.learnIpv4(100, ip('10.0.0.5'), mac(A));
    fdb.neighbours.learnIpv4(100, ip('10.0.0.5'), mac(B));
    fdb.neighbours.missIpv4(100, ip('10.0.0.6'));
    const v6 = new Uint8Array(16);
    v6[0] = 0x20;
    v6[1] = 0x01;
    v6[15] = 9;
    fdb.neighbours.learnIpv6(100, v6, 0, mac(A));
    clock.advance(300);
    fdb.advanceClock();
    sweepAll(fdb);
    fdb.flushEvents();
    expect(seen).to.deep.equal([
      { type: 'neighbourLearnt', vni: 100, ip: '10.0.0.5', lladdr: A },
      { type: 'neighbourMoved', vni: 100, ip: '10.0.0.5', lladdr: B, previousLladdr: A },
      { type: 'neighbourMiss', vni: 100, ip: '10.0.0.6' },
      { type: 'neighbourLearnt', vni: 100, ip: '2001::9', lladdr: A },
      { type: 'neighbourAged', vni: 100, ip: '10.0.0.5', lladdr: B },
      { type: 'neighbourAged', vni: 100, ip: '2001::9', lladdr: A },
    ]);
  });

  it('an unknown event name is BAD_VALUE naming the events', () => {
    const { fdb } = manualFdb();
    const error = expectFdbError(() => fdb.on('learned' as 'learnt', () => undefined), 'BAD_VALUE', 'event');
    expect(error.message).to.match(/learnt, moved, aged, miss/);
  });
});
