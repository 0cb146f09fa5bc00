/**
 * DataViews over packet memory, without one allocation per packet.
 *
 * Word-sized stores through a DataView are inlined by V8's optimizing compiler
 * and are several times faster than byte stores, but a DataView is an object:
 * building one per packet would allocate. Packets live in a few large slabs
 * (the buffer pool), so a small cache keyed by ArrayBuffer hands back the same
 * view for every packet of a slab. Offsets passed to the view are
 * `buf.byteOffset + offset`.
 */

const CACHE_SIZE = 8;
const buffers: (ArrayBufferLike | null)[] = new Array<ArrayBufferLike | null>(CACHE_SIZE).fill(null);
const views: (DataView | null)[] = new Array<DataView | null>(CACHE_SIZE).fill(null);
let next = 0;

/** A DataView over the whole ArrayBuffer behind `buf` (index it with buf.byteOffset + offset). */
export function dataViewOf(buf: Uint8Array): DataView {
  const buffer = buf.buffer;
  for (let i = 0; i < CACHE_SIZE; i++) {
    if (buffers[i] === buffer) return views[i]!;
  }
  const view = new DataView(buffer);
  buffers[next] = buffer;
  views[next] = view;
  next = (next + 1) % CACHE_SIZE;
  return view;
}
