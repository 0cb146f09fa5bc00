import { BufferPool, compileEncap, decodeVxlan, writeEncap } from 'vtepkit';

const pool = new BufferPool();
const tunnel = compileEncap({ tunnel: 'vxlan', vni: 100, source: '192.0.2.10', destination: '192.0.2.20' });
const frame = new Uint8Array(64); // an inner Ethernet frame, from a TAP device or your stack

const buf = pool.acquire()!; // a pool buffer: the frame goes at buf.offset, with headroom in front
buf.copyFrom(frame);
const start = writeEncap(tunnel, buf.bytes, buf.offset, buf.length); // IPv4 + UDP + VXLAN in front
const packet = buf.bytes.subarray(start, buf.offset + buf.length); // the outer packet, 100 bytes
console.log(packet.length, decodeVxlan(packet, 28)); // 100 { vni: 100, flags: 8 }
pool.release(buf);
