/**
 * Datapath bench: the whole transmit and receive paths in memory, per packet,
 * over batches of 64 64-byte inner frames held in pool buffers, built from the
 * library's own pieces as src/vtep/vtep.ts uses them.
 *
 *   transmit: pool.acquireBatch → Fdb.forwardAt (destination set) → writeEncap
 *             (IPv4 + UDP + VXLAN/Geneve into the headroom) → [ESP: sealPayload
 *             over UDP + tunnel header + frame, then the IPv4 header (protocol 50)
 *             in front, as the raw socket's kernel adds it] → wire bytes → releaseBatch
 *   receive:  pool.acquireBatch (wire bytes in the buffers) → [ESP: openBuffer,
 *             transport mode] → readEncap (IPv4 checksum verified) → [Geneve:
 *             critical-option check] → Fdb.learnAt (inner source MAC against the
 *             sender's pinned destination) → the inner frame view → releaseBatch
 *
 * Variants: VXLAN, Geneve with one 4-byte option, VXLAN + ESP aes-gcm-128 (node:crypto
 * and gcm-js backends, and the 'openssl' addon when built) and chacha20-poly1305 (openssl, node:crypto), transport mode.
 *
 * What is left out: the I/O (TAP read, socket send/receive) and the engine's
 * bookkeeping around the pieces (counters, link lookup by VNI, capture taps). Frames
 * sit in the pool buffers as a TAP read leaves them; the ESP rows first restore the
 * 64-byte plaintext frame (transmit) or the sealed packet (receive) into the buffer,
 * since seal and open work in place: that copy is part of their figures. The ESP
 * receiver runs with anti-replay off (replayWindow 0) so that a ring of 1024 sealed
 * packets (sequence numbers in order, as they arrive) can be opened again and again
 * without replacing the SA; the window check is a few array reads next to the cipher.
 *
 * Before timing, every variant's output is checked: each transmitted packet is
 * decoded again (and opened, for ESP) and must give back the original frame; each
 * receive call must deliver all 64 frames.
 *
 *   npx tsx bench/datapath.bench.ts [--quick] [--json out.json] [--filter text] [--rounds n]
 */
import { writeFileSync } from 'node:fs';
import { EspStatus } from '../src/esp/errors.js';
import { isOpensslBackendAvailable } from '../src/esp/openssl-backend.js';
import { SecurityAssociation, type SecurityAssociationConfig } from '../src/esp/sa.js';
import { DESTINATION_IPV4, Fdb, LEARN_REFRESHED } from '../src/fdb/index.js';
import { BufferPool, type PacketBuffer } from '../src/pool/index.js';
import { ENCAP_VERIFY_IPV4_CHECKSUM, EncapFields, LAYER_IP, TUNNEL_GENEVE, compileEncap, readEncap, writeEncap, type EncapConfig, type EncapPlan } from '../src/wire/encap.js';
import { IPPROTO_ESP } from '../src/wire/esp.js';
import { EtherType, encodeEthernet } from '../src/wire/ethernet.js';
import { GeneveOptionRegistry } from '../src/wire/geneve.js';
import { IPV4_HEADER_LENGTH, IpProtocol, encodeIpv4, writeIpv4, writeIpv4Checksum } from '../src/wire/ipv4.js';
import { encodeUdp } from '../src/wire/udp.js';
import { formatMpps, runPacketCases, type PacketCase, type PacketResult } from './harness.js';

const BATCH = 64;
const INNER = 64;
const VNI = 100;
const LOCAL = 0xc0_00_02_0a; // 192.0.2.10
/** Remote VTEPs 192.0.2.20 .. 192.0.2.23; the remote MACs are spread over them. */
const REMOTES = [0xc0_00_02_14, 0xc0_00_02_15, 0xc0_00_02_16, 0xc0_00_02_17];
const REMOTE_MACS = 1000;
/** Sealed packets the ESP receive rows cycle through (a power of two). */
const RING = 1024;
const GENEVE_OPTION = [{ optionClass: 0x0102, type: 0, data: Uint8Array.of(0, 0, 0x30, 0) }];

/** The in-memory target: the seeds' 9.8 Gbit/s of 64-byte frames. */
export const TARGET_FRAMES_PER_SECOND = 19e6;

type Tunnel = { kind: 'vxlan' } | { kind: 'geneve' };
interface EspVariant {
  label: string;
  config: Pick<SecurityAssociationConfig, 'algorithm' | 'key' | 'backend'>;
}

const ESP_VARIANTS: { id: string; esp: EspVariant }[] = [
  ...(isOpensslBackendAvailable()
    ? [
        { id: 'esp-gcm128-openssl', esp: { label: 'aes-gcm-128 (openssl)', config: { algorithm: 'aes-gcm-128', key: `0x${'11'.repeat(20)}`, backend: 'openssl' } } },
        { id: 'esp-chacha-openssl', esp: { label: 'chacha20-poly1305 (openssl)', config: { algorithm: 'chacha20-poly1305', key: `0x${'33'.repeat(36)}`, backend: 'openssl' } } },
      ] satisfies { id: string; esp: EspVariant }[]
    : []),
  { id: 'esp-gcm128-node', esp: { label: 'aes-gcm-128 (node)', config: { algorithm: 'aes-gcm-128', key: `0x${'11'.repeat(20)}`, backend: 'node' } } },
  { id: 'esp-gcm128-gcmjs', esp: { label: 'aes-gcm-128 (gcm-js)', config: { algorithm: 'aes-gcm-128', key: `0x${'11'.repeat(20)}`, backend: 'gcm-js' } } },
  { id: 'esp-chacha-node', esp: { label: 'chacha20-poly1305 (node)', config: { algorithm: 'chacha20-poly1305', key: `0x${'33'.repeat(36)}`, backend: 'node' } } },
];

function remoteMac(k: number): number {
  // Spread over the address space, as real MACs are: not sequential.
  return 0x02_00_00_00_00_00 + ((Math.imul(k + 1, 0x9e3779b1) >>> 0) % 0xff_ffff_ffff);
}

function localMac(i: number): number {
  return 0x02_aa_00_00_00_00 + i;
}

/** A 64-byte inner frame: Ethernet + IPv4 + UDP + 22 data bytes, flow i. */
function writeFrame(bytes: Uint8Array, at: number, destination: number, source: number, i: number): void {
  encodeEthernet({ destination, source, etherType: EtherType.IPV4 }, bytes, at);
  encodeIpv4({ source: 0x0a000001, destination: 0x0a000002, protocol: IpProtocol.UDP, totalLength: INNER - 14 }, bytes, at + 14);
  encodeUdp({ sourcePort: 1024 + i, destinationPort: 9, length: INNER - 34 }, bytes, at + 34);
  for (let j = 42; j < INNER; j++) bytes[at + j] = (i + j) & 0xff;
}

/** The table both directions share: 1000 remote MACs learnt behind the 4 remotes. */
function makeFdb(): Fdb {
  const fdb = new Fdb({ timer: false, capacity: 2 * REMOTE_MACS });
  for (let k = 0; k < REMOTE_MACS; k++) fdb.learnIpv4(VNI, remoteMac(k), REMOTES[k % REMOTES.length]!);
  return fdb;
}

function encapConfig(tunnel: Tunnel, source: number, destination: number): EncapConfig {
  return tunnel.kind === 'vxlan'
    ? { tunnel: 'vxlan', vni: VNI, source, destination }
    : { tunnel: 'geneve', vni: VNI, source, destination, geneve: { options: GENEVE_OPTION } };
}

function saConfig(esp: EspVariant, spi: number, replayWindow?: number): SecurityAssociationConfig {
  return { spi, ...esp.config, ...(replayWindow === undefined ? {} : { replayWindow }) };
}

/** A pool whose one batch is always the same 64 buffers (the free list is a stack). */
function makePool(): BufferPool {
  return new BufferPool({ capacity: BATCH, slabSlots: BATCH });
}

let sink = 0;

// ---------------------------------------------------------------------------
// Transmit
// ---------------------------------------------------------------------------

interface Transmitter {
  case: PacketCase;
  /** One call, returning each buffer's wire packet (a copy), by slot index, for the checks. */
  sample(): Uint8Array[];
  /** Each slot's inner frame, by slot index. */
  originals: Uint8Array[];
}

/** `upTo`: 'pool' and 'fdb' stop early (reference rows). */
function transmitter(id: string, name: string, tunnel: Tunnel, esp: EspVariant | undefined, upTo: 'pool' | 'fdb' | 'all' = 'all'): Transmitter {
  const fdb = makeFdb();
  const pool = makePool();
  const frames: PacketBuffer[] = new Array<PacketBuffer>(BATCH);
  const originals: Uint8Array[] = [];
  const n0 = pool.acquireBatch(frames, BATCH);
  if (n0 !== BATCH) throw new Error('pool too small');
  for (let i = 0; i < BATCH; i++) {
    const buf = frames[i]!;
    writeFrame(buf.bytes, buf.offset, remoteMac((i * 13) % REMOTE_MACS), localMac(i), i);
    originals[buf.index] = buf.bytes.slice(buf.offset, buf.offset + INNER);
  }
  pool.releaseBatch(frames, BATCH);

  // One plan (and, for ESP, one outbound SA) per remote destination, indexed by destination id.
  let maxId = 0;
  const remoteOf = new Map<number, number>();
  // Int32Array: an address read from it stays a small integer (a number[] of addresses above
  // 2^31 would hold doubles, and passing one to writeIpv4 would box it: 16 bytes per packet).
  const addresses = new Int32Array(maxId + 1);
  for (let k = 0; k < REMOTE_MACS; k++) {
    const set = fdb.forward(VNI, remoteMac(k));
    const destination = fdb.setMember(set, 0);
    remoteOf.set(destination, fdb.destinationIpv4(destination));
    maxId = Math.max(maxId, destination);
  }
  const fallback = compileEncap(encapConfig(tunnel, LOCAL, REMOTES[0]!));
  const plans: EncapPlan[] = Array.from({ length: maxId + 1 }, () => fallback);
  const sas: SecurityAssociation[] = [];
  for (const [destination, address] of remoteOf) {
    plans[destination] = compileEncap(encapConfig(tunnel, LOCAL, address));
    if (esp !== undefined) sas[destination] = new SecurityAssociation(saConfig(esp, 0x1000 + destination));
  }
  for (let d = 0; d <= maxId; d++) {
    addresses[d] = (remoteOf.get(d) ?? REMOTES[0]!) | 0;
    if (esp !== undefined) sas[d] ??= sas[[...remoteOf.keys()][0]!]!;
  }

  let drops = 0;
  // Named functions, so that a CPU profile (bench/profile-summary.ts) can tell the cases apart.
  function transmitPoolOnly(): void {
    const n = pool.acquireBatch(frames, BATCH);
    for (let i = 0; i < n; i++) {
      const buf = frames[i]!;
      buf.length = INNER;
      sink ^= buf.bytes[buf.offset]!;
    }
    pool.releaseBatch(frames, n);
  }
  function transmitFdbOnly(): void {
    const n = pool.acquireBatch(frames, BATCH);
    for (let i = 0; i < n; i++) {
      const buf = frames[i]!;
      buf.length = INNER;
      const set = fdb.forwardAt(VNI, buf.bytes, buf.offset);
      if (set < 0) drops++;
      else sink ^= fdb.setMember(set, 0);
    }
    pool.releaseBatch(frames, n);
  }
  function transmitPlain(): void {
    const n = pool.acquireBatch(frames, BATCH);
    for (let i = 0; i < n; i++) {
      const buf = frames[i]!;
      buf.length = INNER; // what the TAP read sets
      const bytes = buf.bytes;
      const offset = buf.offset;
      const length = buf.length;
      const set = fdb.forwardAt(VNI, bytes, offset);
      if (set < 0) {
        drops++;
        continue;
      }
      const members = fdb.setSize(set);
      for (let m = 0; m < members; m++) {
        const destination = fdb.setMember(set, m);
        if (fdb.destinationKind(destination) !== DESTINATION_IPV4) {
          drops++;
          continue;
        }
        const start = writeEncap(plans[destination]!, bytes, offset, length);
        if (start < 0) {
          drops++;
          continue;
        }
        // The buffer now holds the wire packet.
        buf.offset = start;
        buf.length = offset + length - start;
        sink ^= bytes[start + 10]!;
      }
    }
    pool.releaseBatch(frames, n);
  }
  function transmitEsp(): void {
    const n = pool.acquireBatch(frames, BATCH);
    for (let i = 0; i < n; i++) {
      const buf = frames[i]!;
      const bytes = buf.bytes;
      // The seal of the previous call encrypted the frame in place: put the plaintext back (the TAP read's copy).
      bytes.set(originals[buf.index]!, buf.offset);
      buf.length = INNER;
      const offset = buf.offset;
      const length = buf.length;
      const set = fdb.forwardAt(VNI, bytes, offset);
      if (set < 0) {
        drops++;
        continue;
      }
      // Unicast here: one member (a flood would seal a copy per remote, as the engine does).
      const destination = fdb.setMember(set, 0);
      if (fdb.destinationKind(destination) !== DESTINATION_IPV4) {
        drops++;
        continue;
      }
      const plan = plans[destination]!;
      const start = writeEncap(plan, bytes, offset, length);
      if (start < 0) {
        drops++;
        continue;
      }
      // ESP in transport mode over UDP + tunnel header + frame (as Vtep.sendEsp)...
      buf.offset = start + IPV4_HEADER_LENGTH;
      buf.length = offset + length - buf.offset;
      if (sas[destination]!.sealPayload(buf, IpProtocol.UDP) !== EspStatus.OK) {
        drops++;
        continue;
      }
      // ... and the IPv4 header in front, protocol 50 (what the raw socket's kernel writes).
      const ip = buf.offset - IPV4_HEADER_LENGTH;
      writeIpv4(bytes, ip, IPV4_HEADER_LENGTH, 0, IPV4_HEADER_LENGTH + buf.length, plan.identification, 0, 64, IPPROTO_ESP, LOCAL, addresses[destination]!);
      writeIpv4Checksum(bytes, ip);
      buf.offset = ip;
      buf.length += IPV4_HEADER_LENGTH;
      sink ^= bytes[ip + 10]!;
    }
    pool.releaseBatch(frames, n);
  }
  const fn = upTo === 'pool' ? transmitPoolOnly : upTo === 'fdb' ? transmitFdbOnly : esp === undefined ? transmitPlain : transmitEsp;
  const checked = (): void => {
    fn();
    if (drops !== 0) throw new Error(`${name}: ${drops} frames dropped`);
  };
  return {
    case: { name, id, batch: BATCH, innerBytes: INNER, fn: checked },
    originals,
    sample: (): Uint8Array[] => {
      checked();
      // Released but untouched until the next acquire: each handle still frames its wire packet.
      const out: Uint8Array[] = [];
      for (const buf of frames) out[buf.index] = buf.bytes.slice(buf.offset, buf.offset + buf.length);
      return out;
    },
  };
}

/** Decodes every packet a transmitter produced (opening it, for ESP) and compares the inner frame with the original. */
function checkTransmit(name: string, tx: Transmitter, tunnel: Tunnel, esp: EspVariant | undefined): void {
  const packets = tx.sample();
  const fields = new EncapFields();
  let checked = 0;
  for (const [index, packet] of packets.entries()) {
    if (packet === undefined) continue;
    const original = tx.originals[index]!;
    const view = { bytes: packet, offset: 0, length: packet.length };
    if (packet[0] !== 0x45 || ((packet[2]! << 8) | packet[3]!) !== packet.length) throw new Error(`${name}: slot ${index} is not one whole IPv4 packet`);
    if (packet[9] !== (esp === undefined ? IpProtocol.UDP : IPPROTO_ESP)) throw new Error(`${name}: slot ${index}: wrong IP protocol ${packet[9]}`);
    if (esp !== undefined) {
      // The destination's SA has SPI 0x1000 + destination id: take it from the packet.
      const spi = ((packet[20]! << 24) | (packet[21]! << 16) | (packet[22]! << 8) | packet[23]!) >>> 0;
      const status = new SecurityAssociation(saConfig(esp, spi, 0)).openBuffer(view);
      if (status !== EspStatus.OK) throw new Error(`${name}: slot ${index} does not open (status ${status})`);
    }
    const status = readEncap(view.bytes, view.offset, view.offset + view.length, LAYER_IP, ENCAP_VERIFY_IPV4_CHECKSUM, fields);
    if (status !== 0) throw new Error(`${name}: slot ${index} does not decode (status ${status})`);
    if ((tunnel.kind === 'geneve') !== (fields.tunnel === TUNNEL_GENEVE) || fields.vni !== VNI) throw new Error(`${name}: slot ${index}: wrong tunnel or VNI`);
    const inner = view.bytes.subarray(fields.innerOffset, fields.innerOffset + fields.innerLength);
    if (inner.length !== INNER || inner.some((b, j) => b !== original[j])) throw new Error(`${name}: slot ${index}: inner frame differs`);
    checked++;
  }
  if (checked !== BATCH) throw new Error(`${name}: checked ${checked} packets, expected ${BATCH}`);
}

// ---------------------------------------------------------------------------
// Receive
// ---------------------------------------------------------------------------

function receiver(id: string, name: string, tunnel: Tunnel, esp: EspVariant | undefined): PacketCase {
  const fdb = makeFdb();
  const pool = makePool();
  const buffers: PacketBuffer[] = new Array<PacketBuffer>(BATCH);
  // What the remote 192.0.2.20 sent us: frames from its MACs (k ≡ 0 mod 4: learnt behind it) to ours.
  const remote = REMOTES[0]!;
  const plan = compileEncap(encapConfig(tunnel, remote, LOCAL));
  const sender = esp === undefined ? undefined : new SecurityAssociation(saConfig(esp, 0x2000));
  /** The packet as the socket delivers it, for packet k (ESP: a ring of RING sealed packets; else one per buffer). */
  function wirePacket(bytes: Uint8Array, frameAt: number, i: number): Uint8Array {
    writeFrame(bytes, frameAt, localMac(i % BATCH), remoteMac(4 * ((i * 7) % (REMOTE_MACS / 4))), i % BATCH);
    let start = writeEncap(plan, bytes, frameAt, INNER);
    let length = frameAt + INNER - start;
    if (sender !== undefined) {
      // The remote's transmit path, as above: ESP over UDP + tunnel + frame, IPv4 (protocol 50) in front.
      const view = { bytes, offset: start + IPV4_HEADER_LENGTH, length: length - IPV4_HEADER_LENGTH };
      if (sender.sealPayload(view, IpProtocol.UDP) !== EspStatus.OK) throw new Error(`${name}: seal failed`);
      start = view.offset - IPV4_HEADER_LENGTH;
      length = view.length + IPV4_HEADER_LENGTH;
      writeIpv4(bytes, start, IPV4_HEADER_LENGTH, 0, length, i & 0xffff, 0, 64, IPPROTO_ESP, remote, LOCAL);
      writeIpv4Checksum(bytes, start);
    }
    return bytes.slice(start, start + length);
  }
  const ring: Uint8Array[] = [];
  let wireLength = 0;
  if (pool.acquireBatch(buffers, BATCH) !== BATCH) throw new Error('pool too small');
  const scratch = new Uint8Array(2048);
  for (let k = 0; k < (sender === undefined ? 0 : RING); k++) ring.push(wirePacket(scratch, 448, k));
  for (let i = 0; i < BATCH; i++) {
    const buf = buffers[i]!;
    // Plain tunnels: each buffer keeps its datagram (decapsulation only reads it).
    const packet = sender === undefined ? wirePacket(buf.bytes, buf.offset, i) : ring[i]!;
    buf.bytes.set(packet, buf.offset);
    wireLength = packet.length;
  }
  pool.releaseBatch(buffers, BATCH);
  let next = 0;
  const sa = esp === undefined ? undefined : new SecurityAssociation(saConfig(esp, 0x2000, 0));
  const pinned = fdb.pinDestination({ dst: '192.0.2.20' });
  const fields = new EncapFields();
  const registry = new GeneveOptionRegistry();
  registry.add(GENEVE_OPTION[0]!.optionClass, GENEVE_OPTION[0]!.type);
  /** The inner frame handed to the port (a FrameRef in the engine). */
  const frame: { bytes: Uint8Array; offset: number; length: number } = { bytes: new Uint8Array(0), offset: 0, length: 0 };
  let drops = 0;
  let delivered = 0;
  let notRefreshed = 0;
  function receive(): void {
    const n = pool.acquireBatch(buffers, BATCH);
    for (let i = 0; i < n; i++) {
      const buf = buffers[i]!;
      const bytes = buf.bytes;
      buf.length = wireLength; // what the socket's receive sets
      if (sa !== undefined) {
        // The next sealed packet of the ring, into the buffer (the socket's receive copy; open works in place).
        bytes.set(ring[next]!, buf.offset);
        next = (next + 1) & (RING - 1);
        if (sa.openBuffer(buf) !== EspStatus.OK) {
          drops++;
          continue;
        }
      }
      if (readEncap(bytes, buf.offset, buf.offset + buf.length, LAYER_IP, ENCAP_VERIFY_IPV4_CHECKSUM, fields) !== 0) {
        drops++;
        continue;
      }
      if (fields.tunnel === TUNNEL_GENEVE) {
        const g = fields.geneve;
        // RFC 8926 3.5.1: a critical option this end does not know drops the packet.
        if (registry.checkCritical(bytes, g.optionsOffset, g.optionsOffset + g.optionsLength) !== 0) {
          drops++;
          continue;
        }
      }
      const innerOffset = fields.innerOffset;
      if (fields.innerLength < 14) {
        drops++;
        continue;
      }
      const learnt = fdb.learnAt(fields.vni, bytes, innerOffset + 6, pinned);
      if (learnt < 0) {
        drops++;
        continue;
      }
      if (learnt !== LEARN_REFRESHED) notRefreshed++;
      frame.bytes = bytes;
      frame.offset = innerOffset;
      frame.length = fields.innerLength;
      delivered++;
      sink ^= frame.bytes[frame.offset + frame.length - 1]!;
    }
    pool.releaseBatch(buffers, n);
    if (drops !== 0) throw new Error(`${name}: ${drops} packets dropped`);
  }
  const fn = receive;
  // Check: one call delivers all 64 frames, and learning is a refresh in the steady state.
  fn();
  notRefreshed = 0;
  delivered = 0;
  fn();
  if (delivered !== BATCH || notRefreshed !== 0) throw new Error(`${name}: delivered ${delivered}/${BATCH}, ${notRefreshed} learnt anew (expected refreshes)`);
  return { name, id, batch: BATCH, innerBytes: INNER, fn };
}

// ---------------------------------------------------------------------------

const VXLAN: Tunnel = { kind: 'vxlan' };
const GENEVE: Tunnel = { kind: 'geneve' };

const cases: PacketCase[] = [];
const transmitCase = (id: string, name: string, tunnel: Tunnel, esp?: EspVariant): void => {
  const tx = transmitter(id, name, tunnel, esp);
  checkTransmit(name, tx, tunnel, esp);
  cases.push(tx.case);
};
cases.push(transmitter('tx-ref-pool', 'TX reference: pool acquireBatch/releaseBatch only', VXLAN, undefined, 'pool').case);
cases.push(transmitter('tx-ref-fdb', 'TX reference: pool + FDB forwardAt (no encap)', VXLAN, undefined, 'fdb').case);
transmitCase('tx-vxlan', 'TX VXLAN: frame → FDB → encap → bytes', VXLAN);
transmitCase('tx-geneve-1', 'TX Geneve, 1 option', GENEVE);
for (const v of ESP_VARIANTS) transmitCase(`tx-vxlan-${v.id}`, `TX VXLAN + ESP ${v.esp.label}`, VXLAN, v.esp);
cases.push(receiver('rx-vxlan', 'RX VXLAN: bytes → decap → learn → frame', VXLAN, undefined));
cases.push(receiver('rx-geneve-1', 'RX Geneve, 1 option (+ critical check)', GENEVE, undefined));
for (const v of ESP_VARIANTS) cases.push(receiver(`rx-vxlan-${v.id}`, `RX VXLAN + ESP ${v.esp.label}`, VXLAN, v.esp));

const results: PacketResult[] = await runPacketCases(`vtepkit datapath in memory, 64-byte inner frames in pool buffers, batches of ${BATCH}`, cases);

const pps = (id: string): number => results.find((r) => r.id === id)?.packetsPerSecond ?? NaN;
const txVxlan = pps('tx-vxlan');
if (!Number.isNaN(txVxlan)) {
  const verdict = txVxlan >= TARGET_FRAMES_PER_SECOND ? 'met' : `missed by ${formatMpps(TARGET_FRAMES_PER_SECOND - txVxlan)} M (${((txVxlan / TARGET_FRAMES_PER_SECOND) * 100).toFixed(0)} % of it)`;
  console.log(`\nVXLAN transmit path: ${formatMpps(txVxlan)} M frames/s, target >= 19: ${verdict}`);
  console.log(`Geneve (1 option) / VXLAN: transmit ${(pps('tx-geneve-1') / txVxlan).toFixed(2)}, receive ${(pps('rx-geneve-1') / pps('rx-vxlan')).toFixed(2)}`);
  for (const v of ESP_VARIANTS) {
    console.log(`ESP ${v.esp.label} / VXLAN: transmit ${(pps(`tx-vxlan-${v.id}`) / txVxlan).toFixed(4)}, receive ${(pps(`rx-vxlan-${v.id}`) / pps('rx-vxlan')).toFixed(4)}`);
  }
}
const jsonAt = process.argv.indexOf('--json');
if (jsonAt > 0 && process.argv[jsonAt + 1]) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(results, null, 2));
if (sink === -1) console.log('');
