/** ARP and neighbour-discovery frames for the suppression tests (built with our encoders). */
import { ARP_LENGTH, encodeArp } from '../../src/wire/arp.js';
import { EtherType, MAC_BROADCAST, encodeEthernet } from '../../src/wire/ethernet.js';
import { ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION, encodeNeighborMessage, encodingLengthNeighborMessage } from '../../src/wire/icmpv6.js';
import { IpProtocol } from '../../src/wire/ipv4.js';
import { encodeIpv6, parseIpv6 } from '../../src/wire/ipv6.js';

export function arpFrame(operation: number, sha: number, spa: number, tha: number, tpa: number, destination = MAC_BROADCAST): Uint8Array {
  const frame = new Uint8Array(14 + ARP_LENGTH);
  encodeEthernet({ destination, source: sha, etherType: EtherType.ARP }, frame, 0);
  encodeArp({ operation, senderHardwareAddress: sha, senderProtocolAddress: spa, targetHardwareAddress: tha, targetProtocolAddress: tpa }, frame, 14);
  return frame;
}

/** The solicited-node multicast address of a target (RFC 4291 2.7.1): ff02::1:ffXX:XXXX. */
export function solicitedNode(target: Uint8Array): Uint8Array {
  const address = parseIpv6('ff02::1:ff00:0');
  address.set(target.subarray(13, 16), 13);
  return address;
}

export interface NdOptions {
  type?: number;
  hopLimit?: number;
  trafficClass?: number;
  /** Ethernet source. */
  ethernetSource: number;
  /** IPv6 source (text). */
  source: string;
  destination?: string;
  target: string;
  sourceLinkLayerAddress?: number;
  targetLinkLayerAddress?: number;
  solicited?: boolean;
  override?: boolean;
  router?: boolean;
  checksum?: number;
}

export function ndFrame(o: NdOptions): Uint8Array {
  const type = o.type ?? ICMPV6_NEIGHBOR_SOLICITATION;
  const target = parseIpv6(o.target);
  const source = parseIpv6(o.source);
  const destination = o.destination === undefined ? solicitedNode(target) : parseIpv6(o.destination);
  const message = {
    type,
    targetAddress: target,
    sourceLinkLayerAddress: o.sourceLinkLayerAddress,
    targetLinkLayerAddress: o.targetLinkLayerAddress,
    checksum: o.checksum,
    ...(type === ICMPV6_NEIGHBOR_ADVERTISEMENT ? { solicited: o.solicited, override: o.override, router: o.router } : {}),
  };
  const length = encodingLengthNeighborMessage(message);
  const frame = new Uint8Array(14 + 40 + length);
  const ethernetDestination = destination[0] === 0xff ? 0x3333_0000_0000 + ((destination[12]! << 24) | (destination[13]! << 16) | (destination[14]! << 8) | destination[15]!) : 0x02_00_00_00_00_99;
  encodeEthernet({ destination: ethernetDestination, source: o.ethernetSource, etherType: EtherType.IPV6 }, frame, 0);
  encodeIpv6({ source, destination, nextHeader: IpProtocol.ICMPV6, payloadLength: length, hopLimit: o.hopLimit ?? 255, trafficClass: o.trafficClass ?? 0 }, frame, 14);
  encodeNeighborMessage(message, frame, 54, source, destination);
  return frame;
}
