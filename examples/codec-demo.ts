/**
 * The codec demo: one inner frame, encapsulated in VXLAN and in Geneve (with a
 * metadata option, as the seeds' "customer ID" example) in front of the frame in
 * a pool buffer, parsed back, and written to a pcap you can open in Wireshark.
 *
 *   npm run demo                # writes vtepkit-demo.pcap in the current directory
 *   npm run demo -- out.pcap    # or where you say
 *
 * Nothing is sent on any network: this only writes a file.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import {
  BufferPool,
  EncapFields,
  EtherType,
  LAYER_ETHERNET,
  LINKTYPE_ETHERNET,
  WireStatus,
  compileEncap,
  decodeGeneve,
  encodeEthernet,
  encodeIpv4,
  encodeUdp,
  formatIpv4,
  formatMac,
  parseIpv4,
  parseMac,
  pcapFileBytes,
  readMac,
  readEncap,
  writeEncap,
  IpProtocol,
} from '../src/index.js';

const file = process.argv[2] ?? 'vtepkit-demo.pcap';

// 1. A pool of packet buffers with headroom for outer headers.
const pool = new BufferPool({ capacity: 16 });

// 2. An inner frame (Ethernet + IPv4 + UDP, 64 bytes) from container A to container B,
//    written straight into a pool buffer, after the headroom.
function innerFrameInto(buf: NonNullable<ReturnType<BufferPool['acquire']>>): void {
  const at = buf.offset;
  encodeEthernet({ destination: parseMac('02:00:0a:c8:00:02'), source: parseMac('02:00:0a:c8:00:01'), etherType: EtherType.IPV4 }, buf.bytes, at);
  encodeIpv4({ source: parseIpv4('10.200.0.1'), destination: parseIpv4('10.200.0.2'), protocol: IpProtocol.UDP, totalLength: 50 }, buf.bytes, at + 14);
  encodeUdp({ sourcePort: 40000, destinationPort: 7, length: 30 }, buf.bytes, at + 34);
  buf.bytes.fill(0x61, at + 42, at + 64);
  buf.length = 64;
}

// 3. Two tunnels, compiled once: VXLAN VNI 100 (seed 000: vxlan100, dstport 4789) and
//    Geneve VNI 500 with a critical option carrying customer ID 12345 (seed 000: gnv0).
const underlay = { source: '192.0.2.10', destination: '192.0.2.20', ethernet: { source: '02:00:c0:00:02:0a', destination: '02:00:c0:00:02:14' } };
const tunnels = {
  vxlan: compileEncap({ ...underlay, tunnel: 'vxlan', vni: 100 }),
  geneve: compileEncap({
    ...underlay,
    tunnel: 'geneve',
    vni: 500,
    geneve: { options: [{ optionClass: 0x0102, type: 0x80, data: Uint8Array.of(0, 0, 0x30, 0x39) }] },
  }),
};

const frames: Uint8Array[] = [];
const fields = new EncapFields();
for (const [name, plan] of Object.entries(tunnels)) {
  const buf = pool.acquire();
  if (buf === null) throw new Error('pool exhausted');
  innerFrameInto(buf);
  // 4. Outer Ethernet + IPv4 + UDP + tunnel header written in front of the frame: no copy.
  const start = writeEncap(plan, buf.bytes, buf.offset, buf.length);
  if (start < 0) throw new Error(`encapsulation failed: status ${-start}`);
  const end = buf.offset + buf.length;
  console.log(`${name}: ${plan.overhead} bytes of outer headers written in front of a ${buf.length}-byte frame`);

  // 5. And back: the parser finds the inner frame.
  const status = readEncap(buf.bytes, start, end, LAYER_ETHERNET, 0, fields);
  if (status !== WireStatus.OK) throw new Error(`parse failed: ${status}`);
  console.log(
    `  outer ${formatIpv4(fields.ipv4.source)} -> ${formatIpv4(fields.ipv4.destination)} udp ${fields.udp.sourcePort} -> ${fields.udp.destinationPort}` +
      `, vni ${fields.vni}, inner frame at +${fields.innerOffset - start} (${fields.innerLength} bytes)` +
      `, inner ${formatMac(readMac(buf.bytes, fields.innerOffset + 6))} -> ${formatMac(readMac(buf.bytes, fields.innerOffset))}`,
  );
  if (name === 'geneve') {
    for (const option of decodeGeneve(buf.bytes, fields.tunnelOffset).options) {
      console.log(`  geneve option class 0x${option.optionClass.toString(16).padStart(4, '0')} type 0x${option.type.toString(16)} critical=${option.critical} data ${Buffer.from(option.data).toString('hex')}`);
    }
  }
  frames.push(buf.bytes.slice(start, end));
  pool.release(buf);
}

// 6. A pcap for Wireshark/tcpdump/tshark.
writeFileSync(file, pcapFileBytes(LINKTYPE_ETHERNET, frames));
console.log(`\nwrote ${file} (${frames.length} packets). Open it with: tshark -r ${file} -V   or Wireshark`);
const tshark = spawnSync('tshark', ['-r', file], { encoding: 'utf8' });
if (tshark.status === 0) console.log(`\ntshark says:\n${tshark.stdout}`);
console.log(`pool: ${JSON.stringify(pool.snapshot())}`);
