/** Shared test helpers for codecs: hex, truncations, "throws only WireError". */
import { expect } from 'chai';
import { WireError } from '../../src/wire/errors.js';

export function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd hex: ${text}`);
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Runs fn; it must either return or throw a WireError (never another error). Returns the error, if any. */
export function onlyWireError(fn: () => unknown): WireError | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (!(error instanceof WireError)) throw new Error(`expected WireError, got ${String(error)}`, { cause: error });
    return error;
  }
}

/** fn must throw a WireError with this code. */
export function expectWireError(fn: () => unknown, code: string): WireError {
  const error = onlyWireError(fn);
  expect(error, 'expected a WireError').to.be.instanceOf(WireError);
  expect(error!.code).to.equal(code);
  return error!;
}

/**
 * Embeds `bytes` in a larger buffer between guard bytes and returns the subarray,
 * so a decoder that reads out of bounds sees guards instead of failing silently.
 */
export function guarded(bytes: Uint8Array, guard = 0xa5): Uint8Array {
  const outer = new Uint8Array(bytes.length + 64).fill(guard);
  outer.set(bytes, 32);
  return outer.subarray(32, 32 + bytes.length);
}

/** Every proper prefix of a packet (0 .. length-1 bytes), embedded with guards. */
export function* truncations(packet: Uint8Array): Generator<Uint8Array> {
  for (let length = 0; length < packet.length; length++) yield guarded(packet.subarray(0, length));
}
