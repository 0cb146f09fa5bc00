/**
 * The engine's control API: what the `vtepkit` command, the control socket, a
 * configuration file and an external controller all drive. `Vtep` (vtep.ts)
 * implements it; the CLI and the daemon are thin layers over it.
 *
 * Plain data in, plain data out (JSON-safe), so every call can cross the
 * control socket unchanged.
 */
import type { FdbDeleteOptions, FdbEntryOptions, FdbRow, FdbShowOptions } from '../fdb/index.js';

/** The underlay SAs' crypto backend (VtepOptions.espBackend, `vtepkit daemon --esp-backend`). */
export type EspBackendChoice = 'auto' | 'openssl' | 'node' | 'gcm-js';
export const ESP_BACKEND_CHOICES: readonly EspBackendChoice[] = ['auto', 'openssl', 'node', 'gcm-js'];

/** A Geneve option to send on every packet of a link (RFC 8926 3.5). Data as hex ('0x0000abcd') or bytes. */
export interface GeneveOptionConfig {
  /** 0..0xffff */
  class: number;
  /** 0..0xff; the high bit is the critical bit. */
  type: number;
  /** A multiple of 4 bytes, at most 124. */
  data: string;
}

/** `vtepkit link add NAME type vxlan|geneve …`: the words of `ip link add … type vxlan`. */
export interface LinkConfig {
  /** Device name (also the TAP's name), 1..15 bytes. */
  name: string;
  type: 'vxlan' | 'geneve';
  /** VXLAN `id` / Geneve `vni`, 0..16777215. */
  vni: number;
  /** UDP destination (and listening) port. Default 4789 (vxlan) / 6081 (geneve). */
  dstport?: number;
  /** Local underlay address: the outer source and the address the socket binds. */
  local?: string;
  /** A single remote: installs the all-zeros FDB entry with this destination, as Linux does. */
  remote?: string;
  /** A multicast group for broadcast/unknown/multicast frames (installs the all-zeros entry with it). */
  group?: string;
  /** Underlay interface for the group (its address is used to join and send). */
  dev?: string;
  /** Learn remote MACs on receive. Default true (`nolearning` sets false). */
  learning?: boolean;
  /** FDB ageing, seconds; 0 = never. Default 300. */
  ageing?: number;
  /** ARP/ND suppression. Default false. */
  proxy?: boolean;
  /** Outer TTL (Linux `ttl`); default 64, 1 for a multicast group. */
  ttl?: number;
  /** Outer TOS byte (Linux `tos`); default 0. */
  tos?: number;
  /** Frame-side MTU. Default: underlay MTU (1500) minus the encapsulation overhead (and ESP's, when an SA seals the link). */
  mtu?: number;
  /**
   * Path MTU discovery for the overlay: a frame bigger than the tunnel carries
   * unfragmented (IPv4 with DF, or IPv6) is answered with ICMP "fragmentation
   * needed" / ICMPv6 "packet too big" from its destination's address, and dropped
   * (counted 'too-big-answered'). Default false: such frames are sent and the
   * outer datagram is fragmented, as Linux with `df unset`.
   */
  pmtud?: boolean;
  /** The frame side's MAC address ('02:…'); default: the kernel's (TAP) or a random local one. */
  address?: string;
  /** UDP source port range, as Linux `srcport MIN MAX`. Default 49152 65535 (hashed per flow). */
  srcport?: { min: number; max: number };
  /** Outer UDP checksum (Linux `udpcsum`). Default off over IPv4, on over IPv6. */
  udpChecksum?: boolean;
  /** VXLAN Group Based Policy extension (Linux `gbp`). */
  gbp?: boolean;
  /** Geneve options sent on every packet (vtepkit `option class … type … data …`). */
  options?: GeneveOptionConfig[];
  /** Geneve options (class, type) this end understands; a packet with another critical option is dropped (RFC 8926 3.5.1). */
  knownOptions?: { class: number; type: number }[];
  /** The frame side: a TAP device (default) or an in-memory port (embedding, tests). */
  port?: 'tap' | 'memory';
}

/** `vtepkit link set NAME up|down|mtu N|address MAC`. */
export interface LinkChange {
  up?: boolean;
  mtu?: number;
  address?: string;
}

/** Counters of one link, as `ip -s link` shows them, plus drops by reason. */
export interface LinkCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  rxDropped: number;
  txDropped: number;
  /** Drops by reason, both directions: 'link-down', 'runt', 'too-big', 'no-destination', 'static-move', 'bad-header', 'unknown-critical-option', 'not-ethernet', 'no-buffer', 'tx-error', 'esp-required', 'esp-seal', … */
  drops: Record<string, number>;
  /** The same, on the way in (underlay → port) and on the way out (port → underlay). */
  rxDrops?: Record<string, number>;
  txDrops?: Record<string, number>;
  /** The link's UDP socket (shared by the links on it): datagrams dropped before a link was known, and send failures. */
  underlay?: { badHeader: number; unknownVni: number; oversize: number; noBuffer: number; txErrors: number };
}

export interface LinkInfo extends LinkConfig {
  up: boolean;
  mtu: number;
  address: string;
  ifindex?: number;
  stats?: LinkCounters;
}

/** `vtepkit neigh add IP lladdr MAC dev NAME`. */
export interface NeighbourConfig {
  dev: string;
  address: string;
  lladdr: string;
}

/** An ESP security association in `ip xfrm state add` words (see docs/esp.md). */
export interface SaConfigInput {
  src: string;
  dst: string;
  spi: number;
  mode?: 'transport' | 'tunnel';
  /** e.g. 'rfc4106(gcm(aes))' with key and ICV bits, or 'aes-gcm-128' … */
  aead?: { name: string; key: string; icvBits?: number };
  enc?: { name: string; key: string };
  auth?: { name: string; key: string; truncBits?: number };
  esn?: boolean;
  replayWindow?: number;
  encap?: { type: 'espinudp'; sport: number; dport: number };
}

/** The whole state as one declarative document (`vtepkit up vtep.json`, `vtepkit dump`). */
export interface VtepDocument {
  version: 1;
  links?: LinkConfig[];
  /** Per link (by name): `vtepkit link set NAME up` etc. applied after creation. */
  up?: string[];
  addresses?: { dev: string; address: string }[];
  fdb?: (FdbEntryOptions & { mac: string; dev: string; op?: 'add' | 'append' | 'replace' })[];
  neighbours?: NeighbourConfig[];
  xfrm?: SaConfigInput[];
}

/** Every operation the control socket accepts. */
export interface VtepApi {
  addLink(config: LinkConfig): Promise<LinkInfo>;
  setLink(name: string, change: LinkChange): Promise<LinkInfo>;
  deleteLink(name: string): Promise<void>;
  showLinks(options?: { name?: string; stats?: boolean }): LinkInfo[];
  /** `addr add CIDR dev NAME`: an address on the frame-side device (for a TAP, in the kernel). */
  addAddress(dev: string, cidr: string): Promise<void>;
  fdbAdd(dev: string, mac: string, options: FdbEntryOptions): void;
  fdbAppend(dev: string, mac: string, options: FdbEntryOptions): void;
  fdbReplace(dev: string, mac: string, options: FdbEntryOptions): void;
  fdbDel(dev: string, mac: string, options?: FdbDeleteOptions): boolean;
  fdbShow(options?: FdbShowOptions & { dev?: string }): (FdbRow & { dev: string })[];
  neighAdd(config: NeighbourConfig): void;
  neighDel(config: Omit<NeighbourConfig, 'lladdr'>): boolean;
  neighShow(options?: { dev?: string }): { dev: string; address: string; lladdr: string; state: string }[];
  xfrmStateAdd(config: SaConfigInput): void;
  xfrmStateDel(spi: number, dst: string): boolean;
  xfrmStateShow(): Record<string, unknown>[];
  /** Apply a whole document (links, addresses, fdb, neighbours, SAs). */
  apply(document: VtepDocument): Promise<void>;
  /** The running state as a document `apply` accepts. */
  dump(): VtepDocument;
  /** Received ESP packets dropped outside any SA's counters (unknown SPI, …), by reason. Optional for other engines. */
  xfrmDrops?(): Record<string, number>;
  /**
   * A pcap capture on a link's TAP side or underlay side (docs/vtep.md): `sink`
   * gets the pcap bytes. Optional for other engines.
   */
  capture?(
    name: string,
    side: 'tap' | 'underlay',
    sink: (bytes: Uint8Array) => void,
    options?: { count?: number; onStop?: () => void },
  ): (() => void) & { readonly packets: number; readonly running: boolean };
  close(): Promise<void>;
}
