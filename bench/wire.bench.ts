/**
 * Codec bench: per-packet cost of VXLAN and Geneve (0, 1 and 4 options of 4
 * data bytes each) encapsulation and decapsulation over batches of 64 64-byte
 * inner frames, each frame a distinct flow in its own slot.
 *
 *   npx tsx bench/wire.bench.ts [--quick] [--json out.json] [--filter text] [--rounds n]
 */
import { writeFileSync } from 'node:fs';
import { EncapFields, LAYER_IP, compileEncap, readEncap, writeEncap, type EncapConfig } from '../src/wire/encap.js';
import { EtherType, encodeEthernet } from '../src/wire/ethernet.js';
import { GeneveFields, GeneveOptionRegistry, readGeneve } from '../src/wire/geneve.js';
import { IpProtocol, encodeIpv4 } from '../src/wire/ipv4.js';
import { encodeUdp } from '../src/wire/udp.js';
import { VXLAN_READ_GBP, VxlanFields, readVxlan } from '../src/wire/vxlan.js';
import { runPacketCases, type PacketCase } from './harness.js';

const BATCH = 64;
const SLOT = 512;
const HEADROOM = 384;
const INNER = 64;

/** BATCH slots of one slab, each holding a 64-byte inner frame (a distinct flow) after the headroom. */
function makeFrames(): Uint8Array {
  const slab = new Uint8Array(BATCH * SLOT);
  for (let i = 0; i < BATCH; i++) {
    const at = i * SLOT + HEADROOM;
    encodeEthernet({ destination: 0x020000000002, source: 0x020000000001 + i, etherType: EtherType.IPV4 }, slab, at);
    encodeIpv4({ source: 0x0a000001, destination: 0x0a000002, protocol: IpProtocol.UDP, totalLength: INNER - 14 }, slab, at + 14);
    encodeUdp({ sourcePort: 1024 + i, destinationPort: 9, length: INNER - 34 }, slab, at + 34);
  }
  return slab;
}

const base = { vni: 100, source: '192.0.2.10', destination: '192.0.2.20' } as const;
const opt = (n: number) => Array.from({ length: n }, (_, i) => ({ optionClass: 0x0102, type: i, data: Uint8Array.of(0, 0, 0x30, i) }));

function encapCase(name: string, config: EncapConfig): PacketCase {
  const plan = compileEncap(config);
  const slab = makeFrames();
  let sink = 0;
  return {
    name,
    batch: BATCH,
    innerBytes: INNER,
    fn: () => {
      for (let i = 0; i < BATCH; i++) sink ^= writeEncap(plan, slab, i * SLOT + HEADROOM, INNER);
    },
  };
}

/** Encapsulated packets (from the IP header) ready for the decap cases. */
function encapsulated(config: EncapConfig): { slab: Uint8Array; start: number; end: number } {
  const plan = compileEncap(config);
  const slab = makeFrames();
  let start = 0;
  for (let i = 0; i < BATCH; i++) start = writeEncap(plan, slab, i * SLOT + HEADROOM, INNER) - i * SLOT;
  return { slab, start, end: HEADROOM + INNER };
}

function decapCase(name: string, config: EncapConfig, mode: number): PacketCase {
  const { slab, start, end } = encapsulated(config);
  const out = new EncapFields();
  let sink = 0;
  return {
    name,
    batch: BATCH,
    innerBytes: INNER,
    fn: () => {
      for (let i = 0; i < BATCH; i++) {
        sink ^= readEncap(slab, i * SLOT + start, i * SLOT + end, LAYER_IP, mode, out);
        sink ^= out.innerOffset;
      }
    },
  };
}

/** What the datapath does with a UDP socket's payload: the tunnel header only. */
function tunnelOnlyCases(): PacketCase[] {
  const vx = encapsulated({ ...base, tunnel: 'vxlan' });
  const gn = encapsulated({ ...base, tunnel: 'geneve', geneve: { options: opt(4) } });
  const vxFields = new VxlanFields();
  const gnFields = new GeneveFields();
  const registry = new GeneveOptionRegistry();
  for (let type = 0; type < 4; type++) registry.add(0x0102, type);
  const udpPayload = 20 + 8;
  let sink = 0;
  return [
    {
      name: 'VXLAN decap, UDP payload (socket path)',
      batch: BATCH,
      innerBytes: INNER,
      fn: () => {
        for (let i = 0; i < BATCH; i++) sink ^= readVxlan(vx.slab, i * SLOT + vx.start + udpPayload, i * SLOT + vx.end, VXLAN_READ_GBP, vxFields) + vxFields.vni;
      },
    },
    {
      name: 'Geneve decap 4 opts + critical check, UDP payload',
      batch: BATCH,
      innerBytes: INNER,
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          const at = i * SLOT + gn.start + udpPayload;
          sink ^= readGeneve(gn.slab, at, i * SLOT + gn.end, gnFields);
          sink ^= registry.checkCritical(gn.slab, gnFields.optionsOffset, gnFields.optionsOffset + gnFields.optionsLength);
        }
      },
    },
  ];
}

/** Reference: the same number of byte stores as the VXLAN outer headers (36), in a bare loop. */
function bareStoresCase(): PacketCase {
  const slab = makeFrames();
  return {
    name: 'baseline: 36 byte stores per packet, bare loop',
    batch: BATCH,
    innerBytes: INNER,
    fn: () => {
      for (let i = 0; i < BATCH; i++) {
        const start = i * SLOT + HEADROOM - 36;
        for (let j = 0; j < 36; j++) slab[start + j] = j;
      }
    },
  };
}

const cases: PacketCase[] = [
  bareStoresCase(),
  encapCase('VXLAN encap IPv4+UDP (IPv4 csum, UDP csum 0)', { ...base, tunnel: 'vxlan' }),
  encapCase('VXLAN encap IPv4+UDP with UDP checksum', { ...base, tunnel: 'vxlan', udpChecksum: true }),
  encapCase('VXLAN encap Eth+IPv4+UDP', { ...base, tunnel: 'vxlan', ethernet: { source: 1, destination: 2 } }),
  encapCase('VXLAN encap IPv6+UDP with UDP checksum', { tunnel: 'vxlan', vni: 100, source: '2001:db8::1', destination: '2001:db8::2' }),
  encapCase('Geneve encap IPv4, 0 options', { ...base, tunnel: 'geneve' }),
  encapCase('Geneve encap IPv4, 1 option', { ...base, tunnel: 'geneve', geneve: { options: opt(1) } }),
  encapCase('Geneve encap IPv4, 4 options', { ...base, tunnel: 'geneve', geneve: { options: opt(4) } }),
  decapCase('VXLAN decap IPv4 (verify IPv4 csum)', { ...base, tunnel: 'vxlan' }, 1),
  decapCase('Geneve decap IPv4, 0 options', { ...base, tunnel: 'geneve' }, 1),
  decapCase('Geneve decap IPv4, 1 option', { ...base, tunnel: 'geneve', geneve: { options: opt(1) } }, 1),
  decapCase('Geneve decap IPv4, 4 options', { ...base, tunnel: 'geneve', geneve: { options: opt(4) } }, 1),
  ...tunnelOnlyCases(),
];

const results = await runPacketCases(`vtepkit wire codecs, 64-byte inner frames, batches of ${BATCH}`, cases);
const vxlan = results.find((r) => r.name.startsWith('VXLAN encap IPv4+UDP (IPv4'))?.packetsPerSecond ?? NaN;
const bare = results.find((r) => r.name.startsWith('baseline'))?.packetsPerSecond ?? NaN;
const geneve1 = results.find((r) => r.name === 'Geneve encap IPv4, 1 option')?.packetsPerSecond ?? NaN;
console.log(`\nGeneve (1 option) / VXLAN encap: ${(geneve1 / vxlan).toFixed(3)} (target >= 0.97)`);
console.log(`VXLAN encap: ${(vxlan / 1e6).toFixed(2)} Mpps (target >= 19); bare store loop ${(bare / 1e6).toFixed(2)} Mpps; ratio ${(vxlan / bare).toFixed(2)}`);
const jsonAt = process.argv.indexOf('--json');
if (jsonAt > 0 && process.argv[jsonAt + 1]) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(results, null, 2));
