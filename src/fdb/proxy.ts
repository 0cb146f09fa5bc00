/**
 * ARP/ND suppression (Linux vxlan `proxy`): answering a local ARP request or IPv6
 * neighbour solicitation from the neighbour table instead of flooding it, and
 * learning neighbour bindings from ARP / neighbour discovery frames received from
 * remotes. The reply is written into a caller-given buffer; nothing is allocated.
 *
 * The replies are built as Linux builds them (drivers/net/vxlan/vxlan_core.c,
 * arp_reduce / neigh_reduce / vxlan_na_create), so the kernel is their judge in
 * test/fdb/kernel-conformance.test.ts:
 *  - ARP reply (42 bytes, not padded): Ethernet destination = the request's sender
 *    hardware address, source = the neighbour's MAC; ARP op 2, sha = neighbour MAC,
 *    spa = the requested address, tha/tpa = the requester.
 *  - Neighbour advertisement (86 bytes): Ethernet destination = the solicitation's
 *    source link-layer address option, else its Ethernet source; IPv6 source = the
 *    target, destination = the solicitation's source, hop limit 255, traffic class
 *    = the request's upper 4 bits (Linux copies `priority`); ICMPv6 type 136 with
 *    S and O set, R from the `router` flag; a Target Link-Layer Address option.
 */
import { ArpFields, ArpOperation, readArp, writeArp } from '../wire/arp.js';
import { ipv6PseudoHeaderSum } from '../wire/checksum.js';
import { EtherType, readMac, writeMac } from '../wire/ethernet.js';
import {
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ND_FLAG_OVERRIDE,
  ND_FLAG_ROUTER,
  ND_FLAG_SOLICITED,
  ND_READ_VERIFY_CHECKSUM,
  NeighborMessageFields,
  readNeighborMessage,
  writeIcmpv6Checksum,
  writeNeighborAdvertisement,
} from '../wire/icmpv6.js';
import { IpProtocol } from '../wire/ipv4.js';
import { writeIpv6 } from '../wire/ipv6.js';
import { DESTINATION_LOCAL } from './destinations.js';
import type { Fdb } from './fdb.js';
import { NEIGHBOUR_IGNORED, NEIGHBOUR_ROUTER } from './neighbours.js';

/** Length of the ARP reply frame proxyReply writes: Ethernet 14 + ARP 28. */
export const PROXY_ARP_REPLY_LENGTH = 42;
/** Length of the neighbour advertisement frame: Ethernet 14 + IPv6 40 + NA 24 + option 8. */
export const PROXY_NA_REPLY_LENGTH = 86;

const ENTRY_ROUTER = 16;
const ETHERNET = 14;
const IPV6 = 40;

const arp = new ArpFields();
const nd = new NeighborMessageFields();
/** The request's IPv6 source (0..15) and target (16..31), copied before the reply overwrites them. */
const addresses = new Uint8Array(32);

export function proxyReply(fdb: Fdb, vni: number, buf: Uint8Array, offset: number, end: number, out: Uint8Array, outOffset: number): number {
  if (!(offset >= 0 && offset + ETHERNET <= end && end <= buf.length)) return 0;
  const v = fdb.vnis.index(vni);
  if (v < 0 || fdb.vnis.proxy[v] === 0) return 0;
  const etherType = (buf[offset + 12]! << 8) | buf[offset + 13]!;
  if (etherType === EtherType.ARP) return arpReply(fdb, vni, buf, offset, end, out, outOffset);
  if (etherType === EtherType.IPV6) return neighborAdvertisement(fdb, vni, buf, offset, end, out, outOffset);
  return 0;
}

function arpReply(fdb: Fdb, vni: number, buf: Uint8Array, offset: number, end: number, out: Uint8Array, outOffset: number): number {
  if (readArp(buf, offset + ETHERNET, end, arp) !== 0) return 0;
  if (arp.operation !== ArpOperation.REQUEST) return 0;
  const tpa = arp.targetProtocolAddress;
  const spa = arp.senderProtocolAddress;
  const sha = arp.senderHardwareAddress;
  // Linux arp_reduce: no answer for a loopback or multicast target.
  if (tpa >>> 24 === 127 || tpa >>> 28 === 0xe) return 0;
  // A gratuitous ARP (RFC 5227 3, sender = target) announces; it asks nothing.
  if (spa === tpa) return 0;
  const mac = fdb.neighbours.lookupIpv4(vni, tpa);
  if (mac < 0) {
    fdb.neighbours.missIpv4(vni, tpa);
    return 0;
  }
  // The requester owns the address (e.g. an RFC 5227 probe after a move): let it be.
  if (mac === sha) return 0;
  if (isLocal(fdb, vni, mac)) return 0;
  if (!(outOffset >= 0 && outOffset + PROXY_ARP_REPLY_LENGTH <= out.length)) {
    fdb.stats.proxyNoRoom++;
    return 0;
  }
  writeMac(out, outOffset, sha);
  writeMac(out, outOffset + 6, mac);
  out[outOffset + 12] = EtherType.ARP >>> 8;
  out[outOffset + 13] = EtherType.ARP & 0xff;
  writeArp(out, outOffset + ETHERNET, ArpOperation.REPLY, mac, tpa, sha, spa);
  fdb.stats.proxyReplies++;
  return PROXY_ARP_REPLY_LENGTH;
}

function neighborAdvertisement(fdb: Fdb, vni: number, buf: Uint8Array, offset: number, end: number, out: Uint8Array, outOffset: number): number {
  const ip = offset + ETHERNET;
  const icmp = parseNeighborDiscovery(buf, ip, end);
  if (icmp < 0 || nd.type !== ICMPV6_NEIGHBOR_SOLICITATION) return 0;
  const target = nd.targetOffset;
  // RFC 4861 7.1.1: the target of a solicitation is not multicast.
  if (buf[target] === 0xff) return 0;
  // Duplicate address detection (unspecified source, RFC 4862 5.4.2): the owner must answer, not us.
  if (isZero(buf, ip + 8, 16)) return 0;
  // Linux neigh_reduce: no answer to a loopback destination.
  if (isZero(buf, ip + 24, 15) && buf[ip + 39] === 1) return 0;
  const mac = fdb.neighbours.lookupIpv6(vni, buf, target);
  if (mac < 0) {
    fdb.neighbours.missIpv6(vni, buf, target);
    return 0;
  }
  const neighbourFlags = fdb.neighbours.lastFlags;
  const requester = nd.sourceLinkLayerAddress >= 0 ? nd.sourceLinkLayerAddress : readMac(buf, offset + 6);
  if (mac === requester) return 0;
  if (isLocal(fdb, vni, mac)) return 0;
  if (!(outOffset >= 0 && outOffset + PROXY_NA_REPLY_LENGTH <= out.length)) {
    fdb.stats.proxyNoRoom++;
    return 0;
  }
  const router = (neighbourFlags & NEIGHBOUR_ROUTER) !== 0 || (fdb.entryFlags(vni, mac) & ENTRY_ROUTER) !== 0;
  const trafficClass = (((buf[ip]! & 0x0f) << 4) | (buf[ip + 1]! >>> 4)) & 0xf0;
  for (let i = 0; i < 16; i++) {
    addresses[i] = buf[ip + 8 + i]!;
    addresses[16 + i] = buf[target + i]!;
  }
  const o = outOffset;
  writeMac(out, o, requester);
  writeMac(out, o + 6, mac);
  out[o + 12] = EtherType.IPV6 >>> 8;
  out[o + 13] = EtherType.IPV6 & 0xff;
  const length = PROXY_NA_REPLY_LENGTH - ETHERNET - IPV6;
  writeIpv6(out, o + ETHERNET, trafficClass, 0, length, IpProtocol.ICMPV6, 255);
  for (let i = 0; i < 16; i++) {
    out[o + 22 + i] = addresses[16 + i]!;
    out[o + 38 + i] = addresses[i]!;
  }
  const flags = (router ? ND_FLAG_ROUTER : 0) | ND_FLAG_SOLICITED | ND_FLAG_OVERRIDE;
  writeNeighborAdvertisement(out, o + ETHERNET + IPV6, flags, addresses, 16, mac);
  writeIcmpv6Checksum(out, o + ETHERNET + IPV6, length, ipv6PseudoHeaderSum(out, o + 22, out, o + 38, IpProtocol.ICMPV6, length));
  fdb.stats.proxyReplies++;
  return PROXY_NA_REPLY_LENGTH;
}

/**
 * Checks the IPv6 header at `ip` for a Neighbor Discovery message (next header 58,
 * no extension header, hop limit 255 as RFC 4861 7.1.1 requires, valid checksum)
 * and reads it into `nd`. Returns the ICMPv6 offset, or -1.
 */
function parseNeighborDiscovery(buf: Uint8Array, ip: number, end: number): number {
  if (ip + IPV6 > end) return -1;
  if (buf[ip]! >>> 4 !== 6 || buf[ip + 6] !== IpProtocol.ICMPV6 || buf[ip + 7] !== 255) return -1;
  const payloadLength = (buf[ip + 4]! << 8) | buf[ip + 5]!;
  const icmpEnd = ip + IPV6 + payloadLength;
  if (icmpEnd > end) return -1;
  const pseudo = ipv6PseudoHeaderSum(buf, ip + 8, buf, ip + 24, IpProtocol.ICMPV6, payloadLength);
  if (readNeighborMessage(buf, ip + IPV6, icmpEnd, pseudo, ND_READ_VERIFY_CHECKSUM, nd) !== 0) return -1;
  return ip + IPV6;
}

/** Linux's "bridge-local neighbour": the MAC is behind a local port, whose host answers itself. */
function isLocal(fdb: Fdb, vni: number, mac: number): boolean {
  const set = fdb.peek(vni, mac);
  return set >= 0 && fdb.destinationKind(fdb.setMember(set, 0)) === DESTINATION_LOCAL;
}

function isZero(buf: Uint8Array, offset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (buf[offset + i] !== 0) return false;
  return true;
}

export function snoopNeighbour(fdb: Fdb, vni: number, buf: Uint8Array, offset: number, end: number): number {
  if (!(offset >= 0 && offset + ETHERNET <= end && end <= buf.length) || (vni & 0xffffff) !== vni) return NEIGHBOUR_IGNORED;
  const vnis = fdb.vnis;
  const v = vnis.indexOrCreate(vni);
  if (v < 0) return NEIGHBOUR_IGNORED;
  if (vnis.proxy[v] === 0 || vnis.learning[v] === 0) return 3; // LEARN_DISABLED
  const etherType = (buf[offset + 12]! << 8) | buf[offset + 13]!;
  if (etherType === EtherType.ARP) {
    if (readArp(buf, offset + ETHERNET, end, arp) !== 0) return NEIGHBOUR_IGNORED;
    if (arp.operation !== ArpOperation.REQUEST && arp.operation !== ArpOperation.REPLY) return NEIGHBOUR_IGNORED;
    // RFC 826: every ARP packet carries its sender's binding (a probe, RFC 5227 2.1.1, carries none).
    return fdb.neighbours.learnIpv4(vni, arp.senderProtocolAddress, arp.senderHardwareAddress);
  }
  if (etherType === EtherType.IPV6) {
    const ip = offset + ETHERNET;
    if (parseNeighborDiscovery(buf, ip, end) < 0) return NEIGHBOUR_IGNORED;
    if (nd.type === ICMPV6_NEIGHBOR_ADVERTISEMENT) {
      if (nd.targetLinkLayerAddress < 0) return NEIGHBOUR_IGNORED;
      return fdb.neighbours.learnIpv6(vni, buf, nd.targetOffset, nd.targetLinkLayerAddress);
    }
    // A solicitation from a configured address carries the solicitor's binding (RFC 4861 7.2.3).
    if (nd.sourceLinkLayerAddress < 0 || isZero(buf, ip + 8, 16)) return NEIGHBOUR_IGNORED;
    return fdb.neighbours.learnIpv6(vni, buf, ip + 8, nd.sourceLinkLayerAddress);
  }
  return NEIGHBOUR_IGNORED;
}
