/**
 * The security association database (RFC 4301 4.4.2): SAs by SPI for inbound packets, and by
 * destination for whoever picks an outbound SA. Bounded: `capacity` SAs, an `add` beyond it is
 * an EspError LIMIT.
 *
 * The SPI lookup is an open-addressing hash table over an Int32Array, so the datapath lookup
 * neither allocates nor boxes the 32-bit SPI (a Map keyed by numbers above 2^30 would).
 * RFC 4301 4.4.2 also allows a lookup on SPI + destination; SPIs here are unique per database,
 * which is what Linux does for one destination and what a VTEP with one peer per SA needs.
 */
import { ESP_HEADER_LENGTH, ESP_UDP_PORT, isNatKeepalive, isNonEspMarker } from '../wire/esp.js';
import { WireStatus } from '../wire/errors.js';
import { UDP_HEADER_LENGTH, UdpFields, readUdp } from '../wire/udp.js';
import { EspError, EspStats, EspStatus, countEspStatus, describeValue } from './errors.js';
import { SecurityAssociation, canonicalAddress, readSpi } from './sa.js';
import type { PacketView } from './sa.js';
import { IpWalker, WALK_INBOUND } from './walk.js';

export interface SaDatabaseOptions {
  /** Most SAs held, 1..1048576. Default 4096. */
  capacity?: number;
}

export const SAD_DEFAULT_CAPACITY = 4096;
export const SAD_CAPACITY_MAX = 1 << 20;

const IPPROTO_ESP = 50;
const IPPROTO_UDP = 17;

export class SaDatabase {
  readonly capacity: number;
  /** What fails before an SA is found (unknown SPI, not ESP, keep-alives); each SA counts the rest. */
  readonly stats = new EspStats();
  /** The SA that handled the last successful `openBuffer` / `openPayload` (or DUMMY). */
  lastSa: SecurityAssociation | null = null;

  private readonly keys: Int32Array;
  private readonly values: (SecurityAssociation | null)[];
  private readonly shift: number;
  private count = 0;
  private readonly byDestinationMap = new Map<string, SecurityAssociation[]>();
  /** UDP destination ports that carry ESP (RFC 3948), with how many SAs use each. */
  private readonly udpPorts = new Map<number, number>();
  private readonly walker = new IpWalker();
  private readonly udp = new UdpFields();

  constructor(options: SaDatabaseOptions = {}) {
    if (options === null || typeof options !== 'object') throw new EspError('BAD_CONFIG', 'options', 'must be an object { capacity }');
    for (const key of Object.keys(options)) {
      if (key !== 'capacity') throw new EspError('BAD_CONFIG', key, 'unknown option; allowed: capacity');
    }
    const capacity = options.capacity ?? SAD_DEFAULT_CAPACITY;
    if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > SAD_CAPACITY_MAX) {
      throw new EspError('BAD_CONFIG', 'capacity', `must be an integer in 1..${SAD_CAPACITY_MAX}, got ${describeValue(capacity)}`);
    }
    this.capacity = capacity;
    let size = 8;
    while (size < capacity * 2) size *= 2;
    this.keys = new Int32Array(size);
    this.values = new Array<SecurityAssociation | null>(size).fill(null);
    this.shift = 32 - Math.log2(size);
  }

  get size(): number {
    return this.count;
  }

  /** Adds an SA. Throws EspError EXISTS (same SPI) or LIMIT (capacity reached). */
  add(sa: SecurityAssociation): void {
    if (!(sa instanceof SecurityAssociation)) throw new EspError('BAD_CONFIG', 'sa', `must be a SecurityAssociation, got ${describeValue(sa)}`);
    if (this.get(sa.spi) !== undefined) throw new EspError('EXISTS', 'spi', `an SA with SPI 0x${sa.spi.toString(16)} is already in the database`);
    if (this.count >= this.capacity) throw new EspError('LIMIT', 'capacity', `the database holds at most ${this.capacity} SAs`);
    const key = sa.spi | 0;
    const mask = this.keys.length - 1;
    let slot = this.slotOf(key);
    while (this.values[slot] !== null) slot = (slot + 1) & mask;
    this.keys[slot] = key;
    this.values[slot] = sa;
    this.count++;
    if (sa.destination !== null) {
      const list = this.byDestinationMap.get(sa.destination) ?? [];
      list.push(sa);
      this.byDestinationMap.set(sa.destination, list);
    }
    if (sa.udpEncapsulation) {
      for (const port of new Set([sa.udpEncapsulation.destinationPort, sa.udpEncapsulation.sourcePort])) {
        this.udpPorts.set(port, (this.udpPorts.get(port) ?? 0) + 1);
      }
    }
  }

  /** Removes the SA with this SPI (and stops its timers). Returns whether there was one. */
  delete(spi: number): boolean {
    const key = spi | 0;
    const mask = this.keys.length - 1;
    let slot = this.slotOf(key);
    for (;;) {
      const value = this.values[slot];
      if (value === null || value === undefined) return false;
      if (this.keys[slot] === key) break;
      slot = (slot + 1) & mask;
    }
    const sa = this.values[slot]!;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let hole = slot;
    let next = (slot + 1) & mask;
    while (this.values[next] !== null) {
      const home = this.slotOf(this.keys[next]!);
      // Move the entry into the hole if its home slot is not in (hole, next].
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        this.keys[hole] = this.keys[next]!;
        this.values[hole] = this.values[next]!;
        hole = next;
      }
      next = (next + 1) & mask;
    }
    this.keys[hole] = 0;
    this.values[hole] = null;
    this.count--;
    sa.close();
    if (sa.destination !== null) {
      const list = (this.byDestinationMap.get(sa.destination) ?? []).filter((other) => other !== sa);
      if (list.length === 0) this.byDestinationMap.delete(sa.destination);
      else this.byDestinationMap.set(sa.destination, list);
    }
    if (sa.udpEncapsulation) {
      for (const port of new Set([sa.udpEncapsulation.destinationPort, sa.udpEncapsulation.sourcePort])) {
        const left = (this.udpPorts.get(port) ?? 1) - 1;
        if (left === 0) this.udpPorts.delete(port);
        else this.udpPorts.set(port, left);
      }
    }
    if (this.lastSa === sa) this.lastSa = null;
    return true;
  }

  /** The SA with this SPI. No allocation: safe per packet. */
  get(spi: number): SecurityAssociation | undefined {
    const key = spi | 0;
    const mask = this.keys.length - 1;
    let slot = this.slotOf(key);
    for (;;) {
      const value = this.values[slot];
      if (value === null || value === undefined) return undefined;
      if (this.keys[slot] === key) return value;
      slot = (slot + 1) & mask;
    }
  }

  /** The SAs whose destination (tunnel destination in tunnel mode) is this address, in the order added. */
  byDestination(address: string): SecurityAssociation[] {
    const key = typeof address === 'string' ? canonicalAddress(address) : null;
    return key === null ? [] : [...(this.byDestinationMap.get(key) ?? [])];
  }

  *[Symbol.iterator](): IterableIterator<SecurityAssociation> {
    for (const value of this.values) if (value !== null) yield value;
  }

  /**
   * Opens a whole IP packet: finds the ESP header (directly, or in UDP on a port an SA
   * encapsulates on, 4500 by default), looks the SPI up and hands the packet to that SA's
   * `openBuffer`. UNKNOWN_SPI, NAT_KEEPALIVE, NON_ESP and malformed packets are counted here.
   */
  openBuffer(buf: PacketView): number {
    const bytes = buf.bytes;
    const start = buf.offset;
    const walker = this.walker;
    let status = walker.walk(bytes, start, start + buf.length, WALK_INBOUND);
    let espStart = start + walker.headerLength;
    let espEnd = walker.packetEnd;
    if (status === EspStatus.OK) {
      if (walker.protocol === IPPROTO_UDP) {
        const udpStatus = readUdp(bytes, espStart, espEnd, this.udp);
        if (udpStatus !== WireStatus.OK) status = udpStatus === WireStatus.TRUNCATED ? EspStatus.TRUNCATED : EspStatus.BAD_PACKET;
        else if (!this.udpPorts.has(this.udp.destinationPort) && !(this.udpPorts.size === 0 && this.udp.destinationPort === ESP_UDP_PORT)) status = EspStatus.BAD_PACKET;
        else {
          espEnd = espStart + this.udp.length;
          espStart += UDP_HEADER_LENGTH;
          if (isNatKeepalive(bytes, espStart, espEnd)) status = EspStatus.NAT_KEEPALIVE;
          else if (isNonEspMarker(bytes, espStart, espEnd)) status = EspStatus.NON_ESP;
        }
      } else if (walker.protocol !== IPPROTO_ESP) {
        status = EspStatus.BAD_PACKET;
      }
    }
    if (status === EspStatus.OK && espEnd - espStart < ESP_HEADER_LENGTH) status = EspStatus.TRUNCATED;
    if (status !== EspStatus.OK) return countEspStatus(this.stats, status);
    const sa = this.get(readSpi(bytes, espStart));
    if (sa === undefined) return countEspStatus(this.stats, EspStatus.UNKNOWN_SPI);
    status = sa.openBuffer(buf);
    if (status === EspStatus.OK || status === EspStatus.DUMMY) this.lastSa = sa;
    return status;
  }

  /**
   * Opens a bare ESP packet (SPI .. ICV: a UDP 4500 payload after the keep-alive and marker
   * checks, or an IPv6 raw socket's data) through the SA its SPI names.
   */
  openPayload(buf: PacketView): number {
    const bytes = buf.bytes;
    const start = buf.offset;
    const end = start + buf.length;
    if (!(start >= 0 && end >= start && end <= bytes.length)) return countEspStatus(this.stats, EspStatus.BAD_PACKET);
    if (isNatKeepalive(bytes, start, end)) return countEspStatus(this.stats, EspStatus.NAT_KEEPALIVE);
    if (end - start < ESP_HEADER_LENGTH) return countEspStatus(this.stats, EspStatus.TRUNCATED);
    if (isNonEspMarker(bytes, start, end)) return countEspStatus(this.stats, EspStatus.NON_ESP);
    const sa = this.get(readSpi(bytes, start));
    if (sa === undefined) return countEspStatus(this.stats, EspStatus.UNKNOWN_SPI);
    const status = sa.openPayload(buf);
    if (status === EspStatus.OK || status === EspStatus.DUMMY) this.lastSa = sa;
    return status;
  }

  private slotOf(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }
}
