/**
 * Model test: random sequences of add / append / replace / del / learn / age /
 * lookup / forward / nolearning, applied to the FDB and to a plain Map-based
 * reference written from the Linux semantics. After every command the outcome
 * (error code or return value) and the whole `show` output must agree.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { FdbError, type Fdb, type FdbRow } from '../../src/fdb/index.js';
import { formatMac, isMulticastMac } from '../../src/wire/ethernet.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { manualFdb, sweepAll } from './helpers.js';

const PORT = 4789;
const MAX_ENTRIES = 8;
const MAX_PER_VNI_1 = 5;
const MAX_DESTINATIONS = 3;
const AGEING: Record<number, number> = { 1: 300, 2: 50, 3: 0 };

type State = 'permanent' | 'static' | 'dynamic';
interface Dest {
  dst: string;
  port: number;
  remoteVni: number | undefined;
}
interface Entry {
  dests: Dest[];
  state: State;
  extern: boolean;
  router: boolean;
  user: boolean;
  updated: number;
}
interface DestInput {
  dst: string;
  port: number | undefined;
  vni: number | undefined;
}

type Command =
  | { op: 'add' | 'append' | 'replace'; vni: number; mac: number; dest: DestInput; state: State; externLearn: boolean; router: boolean }
  | { op: 'del'; vni: number; mac: number; dest: DestInput | undefined }
  | { op: 'learn'; vni: number; mac: number; source: string }
  | { op: 'age'; seconds: number }
  | { op: 'lookup' | 'forward'; vni: number; mac: number }
  | { op: 'learning'; vni: number; on: boolean };

const nonUnicast = (mac: number): boolean => mac === 0 || isMulticastMac(mac);

class Model {
  readonly entries = new Map<string, Entry>();
  now = 1000;
  readonly learning = new Map<number, boolean>();

  private key(vni: number, mac: number): string {
    return `${vni}/${mac}`;
  }

  private count(vni?: number): number {
    let n = 0;
    for (const key of this.entries.keys()) if (vni === undefined || key.startsWith(`${vni}/`)) n++;
    return n;
  }

  private dest(vni: number, input: DestInput): Dest {
    return { dst: input.dst, port: input.port ?? PORT, remoteVni: input.vni === vni ? undefined : input.vni };
  }

  private same(a: Dest, b: Dest): boolean {
    return a.dst === b.dst && a.port === b.port && a.remoteVni === b.remoteVni;
  }

  private create(vni: number, mac: number, dest: Dest, c: { state: State; externLearn: boolean; router: boolean }): string {
    if (this.count() >= MAX_ENTRIES) return 'LIMIT';
    if (vni === 1 && this.count(1) >= MAX_PER_VNI_1) return 'LIMIT';
    this.entries.set(this.key(vni, mac), { dests: [dest], state: c.state, extern: c.externLearn, router: c.router, user: true, updated: this.now });
    return 'ok';
  }

  /** Linux 6.18: `updated` moves only when state or flags change. */
  private updateFlags(e: Entry, c: { state: State; externLearn: boolean; router: boolean }): void {
    if (!c.externLearn || !e.user) {
      if (e.state !== c.state || e.extern !== c.externLearn || e.router !== c.router || !e.user) e.updated = this.now;
      e.state = c.state;
      e.extern = c.externLearn;
      e.router = c.router;
      e.user = true;
    }
  }

  apply(c: Command): string | number | Dest[] {
    switch (c.op) {
      case 'add': {
        if (this.entries.has(this.key(c.vni, c.mac))) return 'EXISTS';
        return this.create(c.vni, c.mac, this.dest(c.vni, c.dest), c);
      }
      case 'append': {
        const e = this.entries.get(this.key(c.vni, c.mac));
        const d = this.dest(c.vni, c.dest);
        if (e === undefined) return this.create(c.vni, c.mac, d, c);
        const present = e.dests.some((x) => this.same(x, d));
        if (!nonUnicast(c.mac)) {
          if (!present) return 'NOT_SUPPORTED';
        } else if (!present) {
          if (e.dests.length >= MAX_DESTINATIONS) return 'LIMIT';
          e.dests.push(d);
          e.updated = this.now;
        }
        this.updateFlags(e, c);
        return 'ok';
      }
      case 'replace': {
        if (nonUnicast(c.mac)) return 'NOT_SUPPORTED';
        const e = this.entries.get(this.key(c.vni, c.mac));
        const d = this.dest(c.vni, c.dest);
        if (e === undefined) return this.create(c.vni, c.mac, d, c);
        if (!e.dests.some((x) => this.same(x, d))) {
          e.dests[0] = d;
          e.updated = this.now;
        }
        this.updateFlags(e, c);
        return 'ok';
      }
      case 'del': {
        const key = this.key(c.vni, c.mac);
        const e = this.entries.get(key);
        if (e === undefined) return 'NOT_FOUND';
        if (c.dest === undefined) {
          this.entries.delete(key);
          return 'true';
        }
        const d = this.dest(c.vni, c.dest);
        const at = e.dests.findIndex((x) => this.same(x, d));
        if (at < 0) return 'false';
        if (e.dests.length === 1) this.entries.delete(key);
        else e.dests.splice(at, 1);
        return 'true';
      }
      case 'learn': {
        if (nonUnicast(c.mac)) return -2;
        if (this.learning.get(c.vni) === false) return 3;
        const e = this.entries.get(this.key(c.vni, c.mac));
        const d: Dest = { dst: c.source, port: PORT, remoteVni: undefined };
        if (e !== undefined) {
          e.updated = this.now;
          if (e.dests[0]!.dst === c.source) return 0;
          if (e.state !== 'dynamic') return -1;
          e.dests = [d];
          return 2;
        }
        if (this.count() >= MAX_ENTRIES || (c.vni === 1 && this.count(1) >= MAX_PER_VNI_1)) return 4;
        this.entries.set(this.key(c.vni, c.mac), { dests: [d], state: 'dynamic', extern: false, router: false, user: false, updated: this.now });
        return 1;
      }
      case 'age': {
        this.now += c.seconds;
        for (const [key, e] of [...this.entries]) {
          const vni = Number(key.split('/')[0]);
          const ageing = AGEING[vni]!;
          if (e.state === 'dynamic' && !e.extern && ageing > 0 && this.now - e.updated >= ageing) this.entries.delete(key);
        }
        return 'ok';
      }
      case 'lookup':
        return this.entries.get(this.key(c.vni, c.mac))?.dests ?? -1;
      case 'forward':
        return this.entries.get(this.key(c.vni, c.mac))?.dests ?? this.entries.get(this.key(c.vni, 0))?.dests ?? -1;
      case 'learning':
        this.learning.set(c.vni, c.on);
        return 'ok';
    }
  }

  rows(): FdbRow[] {
    const keys = [...this.entries.keys()].map((k) => k.split('/').map(Number) as [number, number]);
    keys.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const rows: FdbRow[] = [];
    for (const [vni, mac] of keys) {
      const e = this.entries.get(`${vni}/${mac}`)!;
      for (const d of e.dests) {
        const row = { mac: formatMac(mac), dst: d.dst } as FdbRow;
        if (d.port !== PORT) row.port = d.port;
        if (d.remoteVni !== undefined) row.vni = d.remoteVni;
        row.src_vni = vni;
        row.flags = ['self', ...(e.router ? ['router'] : []), ...(e.extern ? ['extern_learn'] : [])];
        row.state = e.state === 'dynamic' ? '' : e.state;
        rows.push(row);
      }
    }
    return rows;
  }
}

function resolve(fdb: Fdb, set: number): Dest[] | number {
  if (set < 0) return -1;
  const dests: Dest[] = [];
  for (let i = 0; i < fdb.setSize(set); i++) {
    const d = fdb.setMember(set, i);
    const text = fdb.destinations.formatAddress(d);
    const remote = fdb.destinations.remoteVni[d]!;
    dests.push({ dst: text, port: fdb.destinationPort(d), remoteVni: remote === -1 ? undefined : remote });
  }
  return dests;
}

function run(fdb: Fdb, clock: { advance(s: number): void }, c: Command): string | number | Dest[] {
  try {
    switch (c.op) {
      case 'add':
      case 'append':
      case 'replace':
        fdb[c.op](c.vni, c.mac, { dst: c.dest.dst, port: c.dest.port, vni: c.dest.vni, state: c.state, externLearn: c.externLearn, router: c.router });
        return 'ok';
      case 'del':
        return String(fdb.del(c.vni, c.mac, c.dest === undefined ? {} : { dst: c.dest.dst, port: c.dest.port, vni: c.dest.vni }));
      case 'learn':
        return fdb.learnIpv4(c.vni, c.mac, parseIpv4(c.source));
      case 'age':
        clock.advance(c.seconds);
        fdb.advanceClock();
        sweepAll(fdb);
        return 'ok';
      case 'lookup':
        return resolve(fdb, fdb.lookup(c.vni, c.mac));
      case 'forward':
        return resolve(fdb, fdb.forward(c.vni, c.mac));
      case 'learning':
        fdb.setVni(c.vni, { learning: c.on });
        return 'ok';
    }
  } catch (error) {
    if (error instanceof FdbError) return error.code;
    throw error;
  }
}

const vni = fc.constantFrom(1, 2, 3);
const mac = fc.constantFrom(0, 0x01005e000001, 0xffffffffffff, 0x020000000001, 0x020000000002, 0x020000000003, 0x0a0000000004);
const dest: fc.Arbitrary<DestInput> = fc.record({
  dst: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', '2001:db8::1'),
  port: fc.constantFrom(undefined, 4789, 4790),
  vni: fc.constantFrom(undefined, 1, 7),
});
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('add', 'append', 'replace') as fc.Arbitrary<'add' | 'append' | 'replace'>, vni, mac, dest, state: fc.constantFrom('permanent', 'static', 'dynamic') as fc.Arbitrary<State>, externLearn: fc.boolean(), router: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('del' as const), vni, mac, dest: fc.option(dest, { nil: undefined }) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('learn' as const), vni, mac, source: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3') }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('age' as const), seconds: fc.constantFrom(1, 49, 50, 100, 299, 300, 301) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('lookup', 'forward') as fc.Arbitrary<'lookup' | 'forward'>, vni, mac }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('learning' as const), vni, on: fc.boolean() }) },
);

describe('fdb: model test against a Map-based reference of the Linux semantics', () => {
  it('every outcome and every show() agree over random command sequences', function () {
    this.timeout(120_000);
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 60 }), (commands) => {
        const { fdb, clock } = manualFdb({ maxEntries: MAX_ENTRIES, maxDestinationsPerEntry: MAX_DESTINATIONS, capacity: 0 });
        fdb.setVni(1, { maxEntries: MAX_PER_VNI_1, ageing: AGEING[1] });
        fdb.setVni(2, { ageing: AGEING[2] });
        fdb.setVni(3, { ageing: AGEING[3] });
        const model = new Model();
        commands.forEach((c, step) => {
          const expected = model.apply(c);
          const actual = run(fdb, clock, c);
          expect(actual, `step ${step}: ${JSON.stringify(c)}`).to.deep.equal(expected);
          expect(fdb.show(), `show after step ${step}: ${JSON.stringify(c)}`).to.deep.equal(model.rows());
        });
        // Every reference is accounted for: clearing the table frees every destination and set.
        fdb.flush();
        expect(fdb.snapshot()).to.include({ entries: 0, destinations: 0, destinationSets: 0 });
      }),
      { numRuns: 400 },
    );
  });
});
