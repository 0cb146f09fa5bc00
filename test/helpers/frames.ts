/** Inner frames for tests and examples. */
import { EtherType, encodeEthernet } from '../../src/wire/ethernet.js';
import { IpProtocol, encodeIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeUdp } from '../../src/wire/udp.js';

/** An Ethernet + IPv4 + UDP frame (64 bytes by default) with the given ports and a counting payload. */
export function innerFrame(sourcePort = 1234, destinationPort = 5678, length = 64): Uint8Array {
  const frame = new Uint8Array(length);
  encodeEthernet({ destination: 0x02_00_00_00_00_02, source: 0x02_00_00_00_00_01, etherType: EtherType.IPV4 }, frame, 0);
  encodeIpv4({ source: parseIpv4('10.0.0.1'), destination: parseIpv4('10.0.0.2'), protocol: IpProtocol.UDP, totalLength: length - 14 }, frame, 14);
  encodeUdp({ sourcePort, destinationPort, length: length - 34 }, frame, 34);
  for (let i = 42; i < length; i++) frame[i] = i;
  return frame;
}
