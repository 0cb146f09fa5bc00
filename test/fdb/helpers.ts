/** Shared helpers for the FDB tests: a table with a hand-driven clock. */
import { expect } from 'chai';
import { Fdb, FdbError, type FdbOptions } from '../../src/fdb/index.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseMac } from '../../src/wire/ethernet.js';

export class ManualClock {
  ms = 1_000_000;
  read = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** A table without its own timer, on a manual clock (advance it, then fdb.tick() / fdb.advanceClock()). */
export function manualFdb(options: FdbOptions = {}): { fdb: Fdb; clock: ManualClock } {
  const clock = new ManualClock();
  const fdb = new Fdb({ timer: false, autoFlush: false, clock: clock.read, ...options });
  return { fdb, clock };
}

export const mac = parseMac;
export const ip = parseIpv4;

/** fn must throw an FdbError with this code; returns it. */
export function expectFdbError(fn: () => unknown, code: string, field?: string): FdbError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an FdbError').to.be.instanceOf(FdbError);
  const error = caught as FdbError;
  expect(error.code, error.message).to.equal(code);
  if (field !== undefined) expect(error.field, error.message).to.equal(field);
  return error;
}

/** Removes every expired entry whatever the slice bounds (tests only). */
export function sweepAll(fdb: Fdb): number {
  let total = 0;
  for (;;) {
    const removed = fdb.sweep(fdb.capacity * 2, 10_000) + fdb.neighbours.sweep(1 << 24, 10_000);
    total += removed;
    if (removed === 0) return total;
  }
}
