/**
 * A simple security policy (RFC 4301 4.4.1, much reduced): an ordered list of rules, each a
 * selector (protocol, source and destination address or prefix, source and destination port
 * ranges) and an action: protect with an SA, bypass, or discard. The first rule that matches
 * decides; when none does, `defaultAction` (bypass unless configured otherwise).
 *
 * The VTEP use: protect the VXLAN packets between two VTEPs.
 *
 *   const policy = new SecurityPolicy();
 *   policy.add({ selector: { protocol: 'udp', source: '192.0.2.1', destination: '192.0.2.2', destinationPort: 4789 }, action: 'protect', sa });
 *   policy.protect(buf); // seals buf with `sa` if it matches; leaves it alone otherwise
 *
 * Matching reads the packet in place (no allocation) and is a linear scan: policies here are
 * a handful of rules, bounded by `limit`.
 */
import { parseIpv4 } from '../wire/ipv4.js';
import { parseIpv6 } from '../wire/ipv6.js';
import { EspError, EspStats, EspStatus, countEspStatus, describeValue } from './errors.js';
import { SecurityAssociation } from './sa.js';
import type { PacketView } from './sa.js';
import { IpWalker, WALK_SELECTOR } from './walk.js';

export type PolicyAction = 'protect' | 'bypass' | 'discard';

export interface PolicySelector {
  /** A protocol number or name ('udp', 'tcp', 'icmp', 'icmpv6', 'sctp', 'gre', 'any'). Default any. */
  protocol?: number | string;
  /** An address or a prefix ('192.0.2.0/24', '2001:db8::/32'). Default any (of either family). */
  source?: string;
  destination?: string;
  /** A port or an inclusive range [low, high]; only TCP, UDP and SCTP packets have ports. */
  sourcePort?: number | readonly [number, number];
  destinationPort?: number | readonly [number, number];
}

export interface PolicyRuleConfig {
  selector?: PolicySelector;
  /** Default 'protect' when `sa` is given. */
  action?: PolicyAction;
  /** The SA that protects matching packets (action 'protect'). */
  sa?: SecurityAssociation;
}

export interface SecurityPolicyOptions {
  rules?: PolicyRuleConfig[];
  /** What happens to a packet no rule matches. Default 'bypass'. */
  defaultAction?: 'bypass' | 'discard';
  /** Most rules, 1..4096. Default 256. */
  limit?: number;
}

const PROTOCOLS: Record<string, number> = { any: -1, icmp: 1, tcp: 6, udp: 17, gre: 47, esp: 50, icmpv6: 58, sctp: 132 };
const PORTS_PROTOCOLS = [6, 17, 132];
export const POLICY_ACTION_BYPASS = 0;
export const POLICY_ACTION_PROTECT = 1;
export const POLICY_ACTION_DISCARD = 2;

interface AddressMatch {
  /** 0: any; 4 or 6. */
  family: 0 | 4 | 6;
  v4Network: number;
  v4Mask: number;
  v6Prefix: Uint8Array;
  v6Length: number;
}

/** A rule, compiled: numbers only, compared in place against packets. */
export class PolicyRule {
  /** -1 for any. */
  readonly protocol: number;
  readonly source: AddressMatch;
  readonly destination: AddressMatch;
  readonly sourcePortLow: number;
  readonly sourcePortHigh: number;
  readonly destinationPortLow: number;
  readonly destinationPortHigh: number;
  /** POLICY_ACTION_BYPASS / _PROTECT / _DISCARD. */
  readonly action: number;
  readonly sa: SecurityAssociation | null;
  /** Packets that matched this rule. */
  matched = 0;

  constructor(config: PolicyRuleConfig, field: string) {
    if (config === null || typeof config !== 'object') throw new EspError('BAD_CONFIG', field, 'must be an object { selector, action, sa }');
    for (const key of Object.keys(config)) {
      if (!['selector', 'action', 'sa'].includes(key)) throw new EspError('BAD_CONFIG', `${field}.${key}`, 'unknown field; allowed: selector, action, sa');
    }
    const selector = config.selector ?? {};
    for (const key of Object.keys(selector)) {
      if (!['protocol', 'source', 'destination', 'sourcePort', 'destinationPort'].includes(key)) {
        throw new EspError('BAD_CONFIG', `${field}.selector.${key}`, 'unknown field; allowed: protocol, source, destination, sourcePort, destinationPort');
      }
    }
    const action = config.action ?? (config.sa !== undefined ? 'protect' : undefined);
    if (action !== 'protect' && action !== 'bypass' && action !== 'discard') {
      throw new EspError('BAD_CONFIG', `${field}.action`, `must be 'protect' (with sa), 'bypass' or 'discard', got ${describeValue(action)}`);
    }
    if (action === 'protect' && !(config.sa instanceof SecurityAssociation)) {
      throw new EspError('BAD_CONFIG', `${field}.sa`, "action 'protect' needs sa: a SecurityAssociation");
    }
    this.action = action === 'protect' ? POLICY_ACTION_PROTECT : action === 'discard' ? POLICY_ACTION_DISCARD : POLICY_ACTION_BYPASS;
    this.sa = action === 'protect' ? config.sa! : null;
    this.protocol = parseProtocol(selector.protocol, `${field}.selector.protocol`);
    this.source = parsePrefix(selector.source, `${field}.selector.source`);
    this.destination = parsePrefix(selector.destination, `${field}.selector.destination`);
    if (this.source.family !== 0 && this.destination.family !== 0 && this.source.family !== this.destination.family) {
      throw new EspError('BAD_CONFIG', `${field}.selector.destination`, 'source and destination must be of the same family');
    }
    [this.sourcePortLow, this.sourcePortHigh] = parsePorts(selector.sourcePort, `${field}.selector.sourcePort`);
    [this.destinationPortLow, this.destinationPortHigh] = parsePorts(selector.destinationPort, `${field}.selector.destinationPort`);
    const hasPorts = this.sourcePortLow !== 0 || this.sourcePortHigh !== 0xffff || this.destinationPortLow !== 0 || this.destinationPortHigh !== 0xffff;
    if (hasPorts && !PORTS_PROTOCOLS.includes(this.protocol)) {
      throw new EspError('BAD_CONFIG', `${field}.selector.protocol`, "ports select only TCP, UDP or SCTP packets: set protocol to 'tcp', 'udp' or 'sctp'");
    }
  }
}

function parseProtocol(value: unknown, field: string): number {
  if (value === undefined) return -1;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255) return value;
  if (typeof value === 'string' && PROTOCOLS[value.toLowerCase()] !== undefined) return PROTOCOLS[value.toLowerCase()]!;
  throw new EspError('BAD_CONFIG', field, `must be a protocol number 0..255 or one of ${Object.keys(PROTOCOLS).join(', ')}, got ${describeValue(value)}`);
}

function parsePrefix(value: unknown, field: string): AddressMatch {
  const any: AddressMatch = { family: 0, v4Network: 0, v4Mask: 0, v6Prefix: new Uint8Array(16), v6Length: 0 };
  if (value === undefined) return any;
  if (typeof value !== 'string') throw new EspError('BAD_CONFIG', field, `must be an address or prefix as text ('192.0.2.1', '192.0.2.0/24', '2001:db8::/32'), got ${describeValue(value)}`);
  const [address, lengthText, extra] = value.split('/');
  const v6 = address!.includes(':');
  const max = v6 ? 128 : 32;
  const length = lengthText === undefined ? max : Number(lengthText);
  if (extra !== undefined || !Number.isInteger(length) || length < 0 || length > max || (lengthText !== undefined && !/^\d+$/.test(lengthText))) {
    throw new EspError('BAD_CONFIG', field, `prefix length must be 0..${max}, got ${describeValue(value)}`);
  }
  try {
    if (v6) {
      const bytes = parseIpv6(address!);
      for (let bit = length; bit < 128; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
      return { ...any, family: 6, v6Prefix: bytes, v6Length: length };
    }
    const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    return { ...any, family: 4, v4Network: (parseIpv4(address!) & mask) >>> 0, v4Mask: mask };
  } catch {
    throw new EspError('BAD_CONFIG', field, `must be an IPv4 or IPv6 address or prefix, got ${describeValue(value)}`);
  }
}

function parsePorts(value: unknown, field: string): [number, number] {
  if (value === undefined) return [0, 0xffff];
  const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffff;
  if (isPort(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && isPort(value[0]) && isPort(value[1]) && value[0] <= value[1]) return [value[0], value[1]];
  throw new EspError('BAD_CONFIG', field, `must be a port 0..65535 or a range [low, high], got ${describeValue(value)}`);
}

function addressMatches(match: AddressMatch, bytes: Uint8Array, at: number, version: number): boolean {
  if (match.family === 0) return true;
  if (match.family !== version) return false;
  if (version === 4) {
    const address = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
    return ((address & match.v4Mask) >>> 0) === match.v4Network;
  }
  const prefix = match.v6Prefix;
  const whole = match.v6Length >> 3;
  for (let i = 0; i < whole; i++) if (bytes[at + i] !== prefix[i]) return false;
  const rest = match.v6Length & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return (bytes[at + whole]! & mask) === prefix[whole];
}

export class SecurityPolicy {
  readonly defaultAction: 'bypass' | 'discard';
  readonly limit: number;
  /** Packets protected (sealed), bypassed and discarded by `protect`; discards are also `policyDiscard` in `stats`. */
  protectedPackets = 0;
  bypassedPackets = 0;
  /** Unparsable packets and discards (`badPacket`, `truncated`, `policyDiscard`, …). SA errors are counted by the SA. */
  readonly stats = new EspStats();
  /** What the last `protect` did: POLICY_ACTION_BYPASS, _PROTECT or _DISCARD. */
  lastAction = POLICY_ACTION_BYPASS;

  private readonly rules: PolicyRule[] = [];
  private readonly walker = new IpWalker();

  constructor(options: SecurityPolicyOptions = {}) {
    if (options === null || typeof options !== 'object') throw new EspError('BAD_CONFIG', 'options', 'must be an object { rules, defaultAction, limit }');
    for (const key of Object.keys(options)) {
      if (!['rules', 'defaultAction', 'limit'].includes(key)) throw new EspError('BAD_CONFIG', key, 'unknown option; allowed: rules, defaultAction, limit');
    }
    const defaultAction = options.defaultAction ?? 'bypass';
    if (defaultAction !== 'bypass' && defaultAction !== 'discard') throw new EspError('BAD_CONFIG', 'defaultAction', `must be 'bypass' or 'discard', got ${describeValue(defaultAction)}`);
    this.defaultAction = defaultAction;
    const limit = options.limit ?? 256;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 4096) throw new EspError('BAD_CONFIG', 'limit', `must be an integer in 1..4096, got ${describeValue(limit)}`);
    this.limit = limit;
    for (const rule of options.rules ?? []) this.add(rule);
  }

  /** Appends a rule (rules are tried in order). Throws EspError BAD_CONFIG or LIMIT. */
  add(config: PolicyRuleConfig): PolicyRule {
    if (this.rules.length >= this.limit) throw new EspError('LIMIT', 'rules', `the policy holds at most ${this.limit} rules`);
    const rule = new PolicyRule(config, `rules[${this.rules.length}]`);
    this.rules.push(rule);
    return rule;
  }

  get size(): number {
    return this.rules.length;
  }

  /** The first rule matching the IP packet at [offset, end), or null (also for a packet that cannot be parsed). */
  match(bytes: Uint8Array, offset: number, end: number): PolicyRule | null {
    const walker = this.walker;
    if (walker.walk(bytes, offset, end, WALK_SELECTOR) !== EspStatus.OK) return null;
    return this.matchWalked(bytes, offset);
  }

  private matchWalked(bytes: Uint8Array, offset: number): PolicyRule | null {
    const walker = this.walker;
    const version = walker.version;
    const protocol = walker.protocol;
    const sourceAt = offset + (version === 4 ? 12 : 8);
    const destinationAt = offset + (version === 4 ? 16 : 24);
    const l4 = offset + walker.headerLength;
    const hasPorts = !walker.laterFragment && (protocol === 6 || protocol === 17 || protocol === 132) && l4 + 4 <= walker.packetEnd;
    const sourcePort = hasPorts ? (bytes[l4]! << 8) | bytes[l4 + 1]! : -1;
    const destinationPort = hasPorts ? (bytes[l4 + 2]! << 8) | bytes[l4 + 3]! : -1;
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (rule.protocol !== -1 && rule.protocol !== protocol) continue;
      if (!addressMatches(rule.source, bytes, sourceAt, version)) continue;
      if (!addressMatches(rule.destination, bytes, destinationAt, version)) continue;
      if (rule.sourcePortLow !== 0 || rule.sourcePortHigh !== 0xffff) {
        if (sourcePort < rule.sourcePortLow || sourcePort > rule.sourcePortHigh) continue;
      }
      if (rule.destinationPortLow !== 0 || rule.destinationPortHigh !== 0xffff) {
        if (destinationPort < rule.destinationPortLow || destinationPort > rule.destinationPortHigh) continue;
      }
      rule.matched++;
      return rule;
    }
    return null;
  }

  /**
   * Applies the policy to the outgoing IP packet in `buf`: seals it with the rule's SA
   * (returning that SA's status), leaves it as it is (bypass: OK), or returns POLICY_DISCARD.
   * `lastAction` tells which. Never throws.
   */
  protect(buf: PacketView): number {
    const bytes = buf.bytes;
    const offset = buf.offset;
    const status = this.walker.walk(bytes, offset, offset + buf.length, WALK_SELECTOR);
    if (status !== EspStatus.OK) {
      this.lastAction = POLICY_ACTION_DISCARD;
      return countEspStatus(this.stats, status);
    }
    const rule = this.matchWalked(bytes, offset);
    const action = rule === null ? (this.defaultAction === 'discard' ? POLICY_ACTION_DISCARD : POLICY_ACTION_BYPASS) : rule.action;
    this.lastAction = action;
    if (action === POLICY_ACTION_PROTECT) {
      this.protectedPackets++;
      return rule!.sa!.sealBuffer(buf);
    }
    if (action === POLICY_ACTION_DISCARD) return countEspStatus(this.stats, EspStatus.POLICY_DISCARD);
    this.bypassedPackets++;
    return EspStatus.OK;
  }
}
