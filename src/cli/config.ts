/**
 * The declarative document (`vtepkit up vtep.json`, `vtepkit dump`) and the
 * arguments of every control-socket request, checked field by field before
 * anything reaches the engine.
 *
 * Every failure is a {@link ConfigError} with a stable `code`, the JSON path of
 * the bad field (`links[0].vni`) and what is allowed:
 *
 *   links[0].vni: must be an integer in 0..16777215, got "abc"
 *
 * The validators return fresh, normalised objects (MACs in lower case with
 * colons, `enc aes` as `cbc(aes)`, integers given as "0x1000" as numbers), so
 * nothing the caller did not mean to pass reaches the engine.
 */
import { createReadStream } from 'node:fs';
import { resolveAlgorithm } from '../esp/algorithms.js';
import { EspError } from '../esp/errors.js';
import type { FdbDeleteOptions, FdbEntryOptions, FdbShowOptions } from '../fdb/index.js';
import type { GeneveOptionConfig, LinkChange, LinkConfig, NeighbourConfig, SaConfigInput, VtepDocument } from '../vtep/api.js';
import { formatMac, parseMac } from '../wire/ethernet.js';
import { parseIpv4 } from '../wire/ipv4.js';
import { parseIpv6 } from '../wire/ipv6.js';
import { describe } from '../fdb/errors.js';

// ---------------------------------------------------------------------------
// The error
// ---------------------------------------------------------------------------

/** The stable codes of {@link ConfigError}. */
export type ConfigErrorCode =
  /** The text is not JSON (the message gives the line and column). */
  | 'BAD_JSON'
  /** A field is of the wrong type, out of range or badly spelt; the message says what is allowed. */
  | 'BAD_VALUE'
  /** A required field is absent. */
  | 'MISSING'
  /** A field the schema does not know (a typo such as `vnii`); the message lists the allowed ones. */
  | 'UNKNOWN_FIELD'
  /** Two entries that must be unique are not (link names, SAs by SPI and destination, neighbours). */
  | 'DUPLICATE'
  /** Fields that exclude each other, or one that does not apply (`gbp` on a Geneve link). */
  | 'CONFLICT'
  /** A `dev` or `up` entry names a link the document does not define. */
  | 'UNKNOWN_LINK'
  /** An array longer than its limit (see {@link DOCUMENT_LIMITS}). */
  | 'TOO_MANY'
  /** The file is bigger than {@link MAX_DOCUMENT_BYTES}. */
  | 'TOO_LARGE'
  /** The file cannot be read (missing, a directory, no permission). */
  | 'UNREADABLE';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly code: ConfigErrorCode,
    /** The JSON path of the bad field (`links[0].vni`, `xfrm[2].aead.key`); '' for the document itself. */
    readonly field: string,
    /** What is wrong and what is allowed, without the path. */
    readonly detail: string,
  ) {
    super(field === '' ? detail : `${field}: ${detail}`);
  }
}

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

export const VNI_MAX = 0xffffff;
export const PORT_MAX = 0xffff;
/** Linux IFNAMSIZ - 1. */
export const INTERFACE_NAME_MAX = 15;
export const AGEING_MAX = 0x7fffffff;
export const MTU_MIN = 68;
export const MTU_MAX = 65535;
/** RFC 4303 2.1: SPI 0 is never sent, 1..255 are reserved by IANA. */
export const SPI_MIN = 256;
export const SPI_MAX = 0xffffffff;
export const REPLAY_WINDOW_LIMIT = 32768;
export const REQID_MAX = 0xffffffff;
/** RFC 8926 3.5: an option's data is a multiple of 4 bytes, at most 124; all options together at most 252 bytes. */
export const GENEVE_OPTION_DATA_MAX = 124;
export const GENEVE_OPTIONS_MAX = 252;
/** The largest file `readDocumentFile` reads. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

/** Most entries of each array of a document. */
export const DOCUMENT_LIMITS = {
  links: 4096,
  up: 4096,
  addresses: 65536,
  fdb: 1 << 20,
  neighbours: 1 << 18,
  xfrm: 1 << 20,
  knownOptions: 256,
} as const;

// ---------------------------------------------------------------------------
// Primitive checks, shared with the word parser (words.ts)
// ---------------------------------------------------------------------------

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;
const HEX = /^0[xX][0-9a-fA-F]{1,13}$/;

/**
 * An integer written as iproute2 users write them: decimal (`4789`) or hex
 * (`0x1000`). Leading zeros (`010`, which iproute2 would read as octal) are
 * refused, as is anything above 2^52. Returns undefined when `text` is not one.
 */
export function parseInteger(text: string): number | undefined {
  if (DECIMAL.test(text) || HEX.test(text)) {
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  return undefined;
}

/** 4 for IPv4 text, 6 for IPv6 text, 0 for anything else. */
export function ipFamily(text: string): 0 | 4 | 6 {
  try {
    if (text.includes(':')) {
      parseIpv6(text);
      return 6;
    }
    parseIpv4(text);
    return 4;
  } catch {
    return 0;
  }
}

/** 224.0.0.0/4 or ff00::/8 (the text must be an address). */
export function isMulticastAddress(text: string): boolean {
  if (text.includes(':')) return parseIpv6(text)[0] === 0xff;
  return parseIpv4(text) >>> 28 === 0xe;
}

/** 0.0.0.0 or :: (the text must be an address). */
export function isUnspecifiedAddress(text: string): boolean {
  if (text.includes(':')) return parseIpv6(text).every((byte) => byte === 0);
  return parseIpv4(text) === 0;
}

/** `02:00:00:00:00:01` (or with `-`, or one-digit bytes) as lower-case colon text; undefined if not a MAC. */
export function normaliseMac(text: string): string | undefined {
  try {
    return formatMac(parseMac(text));
  } catch {
    return undefined;
  }
}

/** A MAC text with the I/G bit clear and not all zeros (a station's own address). */
export function isUnicastMac(text: string): boolean {
  const mac = parseMac(text);
  return mac !== 0 && Math.floor(mac / 2 ** 40) % 2 === 0;
}

/**
 * Linux's rule for interface names (dev_valid_name): 1..15 bytes, not `.` or
 * `..`, no `/`, `:` or white space.
 */
export function isInterfaceName(text: string): boolean {
  return (
    text.length > 0 &&
    Buffer.byteLength(text) <= INTERFACE_NAME_MAX &&
    text !== '.' &&
    text !== '..' &&
    !/[\s/:\0]/u.test(text)
  );
}

/** `10.0.0.1/24`, `fd00::1/64`; without a prefix the host prefix (/32, /128) is added. Undefined if not an address. */
export function normaliseCidr(text: string): string | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = ipFamily(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  if (slash < 0) return `${address}/${max}`;
  const prefix = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > max) return undefined;
  return `${address}/${prefix}`;
}

/** `0x` followed by an even number of hex digits (what `ip xfrm` takes as a key). */
export function isHexKey(text: string): boolean {
  return /^0x([0-9a-fA-F]{2})+$/.test(text);
}

/** A short, safe rendering of any value for messages (the FDB's, shared). */
export { describe };

/** The allowed word nearest to `word` (by edit distance), if it is close enough to be a typo. */
export function nearest(word: string, allowed: readonly string[]): string | undefined {
  if (word.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of allowed) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1]!;
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

// ---------------------------------------------------------------------------
// ESP algorithm names, as `ip xfrm state add` and the seeds spell them
// ---------------------------------------------------------------------------

/** Names accepted after `aead` (case-insensitive): iproute2's, then ours and strongSwan's. */
export const AEAD_NAMES: readonly string[] = [
  'rfc4106(gcm(aes))',
  'rfc7539esp(chacha20,poly1305)',
  'aes-gcm-128',
  'aes-gcm-256',
  'chacha20-poly1305',
  'aes128gcm16',
  'aes256gcm16',
  'chacha20poly1305',
];
/** Names accepted after `enc`; `aes` is the kernel's compatibility name of `cbc(aes)` (the seeds write `enc aes`). */
export const ENC_NAMES: readonly string[] = ['cbc(aes)', 'aes'];
/** Names accepted after `auth` / `auth-trunc`; `sha256` is the kernel's compatibility name of `hmac(sha256)`. */
export const AUTH_NAMES: readonly string[] = ['hmac(sha256)', 'sha256'];
/** The one ICV length the ESP engine implements (16 bytes: RFC 4106 6, RFC 7634 2, RFC 4868 2.3). */
export const ICV_BITS = 128;
/** RFC 4868 2.1.1: the HMAC-SHA-256 key is 32 bytes. */
export const AUTH_KEY_BYTES = 32;

const ENC_CANONICAL: Record<string, string> = { 'cbc(aes)': 'cbc(aes)', aes: 'cbc(aes)' };
const AUTH_CANONICAL: Record<string, string> = { 'hmac(sha256)': 'hmac(sha256)', sha256: 'hmac(sha256)' };

// ---------------------------------------------------------------------------
// Field readers
// ---------------------------------------------------------------------------

function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** An object whose keys are all in `allowed`. */
function record(value: unknown, path: string, allowed: readonly string[], what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('BAD_VALUE', path, `must be an object (${what}), got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const guess = nearest(key, allowed);
      throw new ConfigError(
        'UNKNOWN_FIELD',
        at(path, key),
        `unknown field${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; allowed: ${allowed.join(', ')}`,
      );
    }
  }
  return value as Record<string, unknown>;
}

function required(object: Record<string, unknown>, key: string, path: string, what: string): unknown {
  const value = object[key];
  if (value === undefined) throw new ConfigError('MISSING', at(path, key), `missing; must be ${what}`);
  return value;
}

function array(value: unknown, path: string, limit: number, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ConfigError('BAD_VALUE', path, `must be an array of ${what}, got ${describe(value)}`);
  if (value.length > limit) throw new ConfigError('TOO_MANY', path, `at most ${limit} entries, got ${value.length}`);
  return value;
}

/** A JSON number, or a string of decimal or 0x-hex digits (`"0x1000"`), in [min, max]. */
function integer(value: unknown, min: number, max: number, path: string): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? parseInteger(value) : undefined;
  if (number === undefined || !Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError('BAD_VALUE', path, `must be an integer in ${min}..${max}, got ${describe(value)}`);
  }
  return number;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError('BAD_VALUE', path, `must be true or false, got ${describe(value)}`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ConfigError('BAD_VALUE', path, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function interfaceName(value: unknown, path: string): string {
  if (typeof value !== 'string' || !isInterfaceName(value)) {
    throw new ConfigError('BAD_VALUE', path, `must be an interface name (1..15 bytes, no spaces, '/' or ':'), got ${describe(value)}`);
  }
  return value;
}

type AddressKind = 'any' | 'unicast' | 'multicast' | 'local';

/** An IPv4 or IPv6 address as text. `unicast`: not multicast nor unspecified; `local`: not multicast; `multicast`: a group. */
function address(value: unknown, kind: AddressKind, path: string): string {
  const family = typeof value === 'string' ? ipFamily(value) : 0;
  const text = value as string;
  if (family === 0) throw new ConfigError('BAD_VALUE', path, `must be an IPv4 or IPv6 address, got ${describe(value)}`);
  if (kind === 'multicast' && !isMulticastAddress(text)) {
    throw new ConfigError('BAD_VALUE', path, `must be a multicast group (224.0.0.0/4 or ff00::/8), got ${describe(value)}`);
  }
  if ((kind === 'unicast' || kind === 'local') && isMulticastAddress(text)) {
    throw new ConfigError('BAD_VALUE', path, `must be a unicast address${kind === 'unicast' ? ' (a multicast group goes in "group")' : ''}, got ${describe(value)}`);
  }
  if ((kind === 'unicast' || kind === 'any') && isUnspecifiedAddress(text)) {
    throw new ConfigError('BAD_VALUE', path, `must not be the unspecified address (0.0.0.0 or ::)`);
  }
  return text;
}

function mac(value: unknown, path: string, unicast: boolean): string {
  const text = typeof value === 'string' ? normaliseMac(value) : undefined;
  if (text === undefined) throw new ConfigError('BAD_VALUE', path, `must be a MAC address like 02:00:00:00:00:01, got ${describe(value)}`);
  if (unicast && !isUnicastMac(text)) {
    throw new ConfigError('BAD_VALUE', path, `must be a unicast MAC address (not all zeros, first byte even), got ${describe(value)}`);
  }
  return text;
}

function cidr(value: unknown, path: string): string {
  const text = typeof value === 'string' ? normaliseCidr(value) : undefined;
  if (text === undefined) {
    throw new ConfigError('BAD_VALUE', path, `must be an address with an optional prefix length (10.0.0.1/24, fd00::1/64), got ${describe(value)}`);
  }
  return text;
}

function hexKey(value: unknown, path: string): string {
  if (typeof value !== 'string' || !isHexKey(value)) {
    throw new ConfigError('BAD_VALUE', path, `must be a key as hex, '0x' and an even number of digits, got ${describe(value)}`);
  }
  return value.toLowerCase();
}

function sameFamily(a: string, b: string, path: string, what: string): void {
  if (ipFamily(a) !== ipFamily(b)) throw new ConfigError('CONFLICT', path, `must be of the same address family as ${what}`);
}

// ---------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------

export const LINK_FIELDS = [
  'name', 'type', 'vni', 'dstport', 'local', 'remote', 'group', 'dev', 'learning', 'ageing', 'proxy', 'ttl', 'tos', 'mtu',
  'address', 'srcport', 'udpChecksum', 'gbp', 'pmtud', 'options', 'knownOptions', 'port',
] as const;
const LINK_TYPES = ['vxlan', 'geneve'] as const;
const PORT_KINDS = ['tap', 'memory'] as const;

function geneveOption(value: unknown, path: string): GeneveOptionConfig {
  const o = record(value, path, ['class', 'type', 'data'], 'a Geneve option: class, type, data');
  const data = required(o, 'data', path, "the option's data as hex, '0x' and a multiple of 8 digits");
  if (typeof data !== 'string' || !/^0x([0-9a-fA-F]{8})*$/.test(data) || (data.length - 2) / 2 > GENEVE_OPTION_DATA_MAX) {
    throw new ConfigError(
      'BAD_VALUE',
      at(path, 'data'),
      `must be hex, '0x' and a multiple of 4 bytes (8 digits), at most ${GENEVE_OPTION_DATA_MAX} bytes (RFC 8926 3.5), got ${describe(data)}`,
    );
  }
  return {
    class: integer(required(o, 'class', path, 'an integer in 0..65535'), 0, 0xffff, at(path, 'class')),
    type: integer(required(o, 'type', path, 'an integer in 0..255'), 0, 0xff, at(path, 'type')),
    data: data.toLowerCase(),
  };
}

/** `vtepkit link add …` / `links[i]` of a document. */
export function validateLinkConfig(value: unknown, path = ''): LinkConfig {
  const o = record(value, path, LINK_FIELDS, 'a link');
  const type = oneOf(required(o, 'type', path, '"vxlan" or "geneve"'), LINK_TYPES, at(path, 'type'));
  const link: LinkConfig = {
    name: interfaceName(required(o, 'name', path, 'an interface name'), at(path, 'name')),
    type,
    vni: integer(required(o, 'vni', path, `an integer in 0..${VNI_MAX}`), 0, VNI_MAX, at(path, 'vni')),
  };
  if (o.dstport !== undefined) link.dstport = integer(o.dstport, 1, PORT_MAX, at(path, 'dstport'));
  if (o.local !== undefined) link.local = address(o.local, 'local', at(path, 'local'));
  if (o.remote !== undefined) link.remote = address(o.remote, 'unicast', at(path, 'remote'));
  if (o.group !== undefined) link.group = address(o.group, 'multicast', at(path, 'group'));
  if (o.dev !== undefined) link.dev = interfaceName(o.dev, at(path, 'dev'));
  if (o.learning !== undefined) link.learning = boolean(o.learning, at(path, 'learning'));
  if (o.ageing !== undefined) link.ageing = integer(o.ageing, 0, AGEING_MAX, at(path, 'ageing'));
  if (o.proxy !== undefined) link.proxy = boolean(o.proxy, at(path, 'proxy'));
  if (o.ttl !== undefined) link.ttl = integer(o.ttl, 1, 255, at(path, 'ttl'));
  if (o.tos !== undefined) link.tos = integer(o.tos, 0, 255, at(path, 'tos'));
  if (o.mtu !== undefined) link.mtu = integer(o.mtu, MTU_MIN, MTU_MAX, at(path, 'mtu'));
  if (o.address !== undefined) link.address = mac(o.address, at(path, 'address'), true);
  if (o.srcport !== undefined) {
    const range = record(o.srcport, at(path, 'srcport'), ['min', 'max'], 'a UDP source port range: min, max');
    const where = at(path, 'srcport');
    const min = integer(required(range, 'min', where, `an integer in 1..${PORT_MAX}`), 1, PORT_MAX, at(where, 'min'));
    const max = integer(required(range, 'max', where, `an integer in 1..${PORT_MAX}`), 1, PORT_MAX, at(where, 'max'));
    if (min > max) throw new ConfigError('BAD_VALUE', at(where, 'max'), `must be at least min (${min}), got ${max}`);
    link.srcport = { min, max };
  }
  if (o.udpChecksum !== undefined) link.udpChecksum = boolean(o.udpChecksum, at(path, 'udpChecksum'));
  if (o.pmtud !== undefined) link.pmtud = boolean(o.pmtud, at(path, 'pmtud'));
  if (o.gbp !== undefined) {
    link.gbp = boolean(o.gbp, at(path, 'gbp'));
    if (type !== 'vxlan') throw new ConfigError('CONFLICT', at(path, 'gbp'), 'gbp (Group Based Policy) is a VXLAN extension; remove it for type "geneve"');
  }
  if (o.options !== undefined) {
    if (type !== 'geneve') throw new ConfigError('CONFLICT', at(path, 'options'), 'options are Geneve options; they need type "geneve"');
    const list = array(o.options, at(path, 'options'), GENEVE_OPTIONS_MAX / 4, 'Geneve options');
    link.options = list.map((item, i) => geneveOption(item, at(at(path, 'options'), i)));
    const total = link.options.reduce((sum, option) => sum + 4 + (option.data.length - 2) / 2, 0);
    if (total > GENEVE_OPTIONS_MAX) {
      throw new ConfigError('BAD_VALUE', at(path, 'options'), `take ${total} bytes with their 4-byte headers; Geneve carries at most ${GENEVE_OPTIONS_MAX} (RFC 8926 3.4)`);
    }
  }
  if (o.knownOptions !== undefined) {
    if (type !== 'geneve') throw new ConfigError('CONFLICT', at(path, 'knownOptions'), 'knownOptions are Geneve options; they need type "geneve"');
    const list = array(o.knownOptions, at(path, 'knownOptions'), DOCUMENT_LIMITS.knownOptions, 'Geneve option classes and types');
    link.knownOptions = list.map((item, i) => {
      const where = at(at(path, 'knownOptions'), i);
      const known = record(item, where, ['class', 'type'], 'a Geneve option class and type');
      return {
        class: integer(required(known, 'class', where, 'an integer in 0..65535'), 0, 0xffff, at(where, 'class')),
        type: integer(required(known, 'type', where, 'an integer in 0..255'), 0, 0xff, at(where, 'type')),
      };
    });
  }
  if (o.port !== undefined) link.port = oneOf(o.port, PORT_KINDS, at(path, 'port'));
  if (link.remote !== undefined && link.group !== undefined) {
    throw new ConfigError('CONFLICT', at(path, 'group'), 'remote and group exclude each other: give a single remote or a multicast group');
  }
  const peer = link.remote ?? link.group;
  if (link.local !== undefined && peer !== undefined) {
    sameFamily(link.local, peer, at(path, link.remote !== undefined ? 'remote' : 'group'), `local (${link.local})`);
  }
  return link;
}

/** `vtepkit link set NAME up|down|mtu N|address MAC`: `{ name, up?, mtu?, address? }`. */
export function validateLinkSet(value: unknown, path = ''): LinkChange & { name: string } {
  const o = record(value, path, ['name', 'up', 'mtu', 'address'], 'a link change: name, up, mtu, address');
  const change: LinkChange & { name: string } = { name: interfaceName(required(o, 'name', path, 'an interface name'), at(path, 'name')) };
  if (o.up !== undefined) change.up = boolean(o.up, at(path, 'up'));
  if (o.mtu !== undefined) change.mtu = integer(o.mtu, MTU_MIN, MTU_MAX, at(path, 'mtu'));
  if (o.address !== undefined) change.address = mac(o.address, at(path, 'address'), true);
  if (change.up === undefined && change.mtu === undefined && change.address === undefined) {
    throw new ConfigError('MISSING', at(path, 'up'), 'nothing to change; give up, mtu or address');
  }
  return change;
}

/** `{ name }` of `link del`. */
export function validateLinkName(value: unknown, path = ''): { name: string } {
  const o = record(value, path, ['name'], 'a link: name');
  return { name: interfaceName(required(o, 'name', path, 'an interface name'), at(path, 'name')) };
}

/** `link show [NAME]` with `-s`. */
export function validateLinkShow(value: unknown, path = ''): { name?: string; stats?: boolean } {
  const o = record(value ?? {}, path, ['name', 'stats'], 'link show options: name, stats');
  const out: { name?: string; stats?: boolean } = {};
  if (o.name !== undefined) out.name = interfaceName(o.name, at(path, 'name'));
  if (o.stats !== undefined) out.stats = boolean(o.stats, at(path, 'stats'));
  return out;
}

// ---------------------------------------------------------------------------
// Addresses, FDB, neighbours
// ---------------------------------------------------------------------------

/** `addr add|del CIDR dev NAME` / `addresses[i]`. */
export function validateAddress(value: unknown, path = ''): { dev: string; address: string } {
  const o = record(value, path, ['dev', 'address'], 'an address: dev, address');
  return {
    dev: interfaceName(required(o, 'dev', path, 'an interface name'), at(path, 'dev')),
    address: cidr(required(o, 'address', path, 'an address with a prefix length, like 10.0.0.1/24'), at(path, 'address')),
  };
}

/** Options naming only a device (`addr show`, `neigh show`). */
export function validateDevFilter(value: unknown, path = ''): { dev?: string } {
  const o = record(value ?? {}, path, ['dev'], 'a filter: dev');
  return o.dev === undefined ? {} : { dev: interfaceName(o.dev, at(path, 'dev')) };
}

const ENTRY_STATES = ['permanent', 'static', 'dynamic'] as const;
const FDB_OPS = ['add', 'append', 'replace'] as const;
export const FDB_ENTRY_FIELDS = ['mac', 'dev', 'dst', 'localPort', 'port', 'vni', 'via', 'state', 'externLearn', 'router'] as const;
const FDB_DELETE_FIELDS = ['mac', 'dev', 'dst', 'localPort', 'port', 'vni', 'via'] as const;

function destination(o: Record<string, unknown>, path: string, out: FdbDeleteOptions): void {
  if (o.dst !== undefined) out.dst = address(o.dst, 'any', at(path, 'dst'));
  if (o.localPort !== undefined) out.localPort = integer(o.localPort, 0, 0x7fffffff, at(path, 'localPort'));
  if (o.port !== undefined) out.port = integer(o.port, 1, PORT_MAX, at(path, 'port'));
  if (o.vni !== undefined) out.vni = integer(o.vni, 0, VNI_MAX, at(path, 'vni'));
  if (o.via !== undefined) out.via = interfaceName(o.via, at(path, 'via'));
  if (out.dst !== undefined && out.localPort !== undefined) {
    throw new ConfigError('CONFLICT', at(path, 'localPort'), 'dst (a remote VTEP) and localPort (a local port) exclude each other');
  }
  for (const name of ['port', 'vni', 'via'] as const) {
    if (out[name] !== undefined && out.dst === undefined) {
      throw new ConfigError('CONFLICT', at(path, name), `${name} applies to a remote: it needs dst`);
    }
  }
}

/** `fdb add|append|replace MAC dev NAME …`: `FdbEntryOptions & { mac, dev }`. */
export function validateFdbEntry(value: unknown, path = ''): FdbEntryOptions & { mac: string; dev: string } {
  const o = record(value, path, FDB_ENTRY_FIELDS, 'an FDB entry');
  return fdbEntryFields(o, path);
}

function fdbEntryFields(o: Record<string, unknown>, path: string): FdbEntryOptions & { mac: string; dev: string } {
  const entry: FdbEntryOptions & { mac: string; dev: string } = {
    mac: mac(required(o, 'mac', path, 'a MAC address like 02:00:00:00:00:01'), at(path, 'mac'), false),
    dev: interfaceName(required(o, 'dev', path, 'the name of a link'), at(path, 'dev')),
  };
  destination(o, path, entry);
  if (entry.dst === undefined && entry.localPort === undefined) {
    throw new ConfigError('MISSING', at(path, 'dst'), 'missing; an entry needs dst (a remote VTEP address) or localPort');
  }
  if (o.state !== undefined) entry.state = oneOf(o.state, ENTRY_STATES, at(path, 'state'));
  if (o.externLearn !== undefined) entry.externLearn = boolean(o.externLearn, at(path, 'externLearn'));
  if (o.router !== undefined) entry.router = boolean(o.router, at(path, 'router'));
  return entry;
}

/** `fdb del MAC dev NAME [dst …]`: `FdbDeleteOptions & { mac, dev }`. */
export function validateFdbDelete(value: unknown, path = ''): FdbDeleteOptions & { mac: string; dev: string } {
  const o = record(value, path, FDB_DELETE_FIELDS, 'an FDB entry to delete');
  const entry: FdbDeleteOptions & { mac: string; dev: string } = {
    mac: mac(required(o, 'mac', path, 'a MAC address like 02:00:00:00:00:01'), at(path, 'mac'), false),
    dev: interfaceName(required(o, 'dev', path, 'the name of a link'), at(path, 'dev')),
  };
  destination(o, path, entry);
  return entry;
}

/** `fdb show [dev NAME] [vni N] [state S]` with `-s`. */
export function validateFdbShow(value: unknown, path = ''): FdbShowOptions & { dev?: string } {
  const o = record(value ?? {}, path, ['dev', 'vni', 'mac', 'state', 'stats'], 'fdb show options: dev, vni, mac, state, stats');
  const out: FdbShowOptions & { dev?: string } = {};
  if (o.dev !== undefined) out.dev = interfaceName(o.dev, at(path, 'dev'));
  if (o.vni !== undefined) out.vni = integer(o.vni, 0, VNI_MAX, at(path, 'vni'));
  if (o.mac !== undefined) out.mac = mac(o.mac, at(path, 'mac'), false);
  if (o.state !== undefined) out.state = oneOf(o.state, ENTRY_STATES, at(path, 'state'));
  if (o.stats !== undefined) out.stats = boolean(o.stats, at(path, 'stats'));
  return out;
}

/** `neigh add IP lladdr MAC dev NAME` / `neighbours[i]`. */
export function validateNeighbour(value: unknown, path = ''): NeighbourConfig {
  const o = record(value, path, ['dev', 'address', 'lladdr'], 'a neighbour: dev, address, lladdr');
  return {
    dev: interfaceName(required(o, 'dev', path, 'the name of a link'), at(path, 'dev')),
    address: address(required(o, 'address', path, 'an IPv4 or IPv6 address'), 'unicast', at(path, 'address')),
    lladdr: mac(required(o, 'lladdr', path, 'a MAC address like 02:00:00:00:00:01'), at(path, 'lladdr'), true),
  };
}

/** `neigh del IP dev NAME`. */
export function validateNeighbourKey(value: unknown, path = ''): { dev: string; address: string } {
  const o = record(value, path, ['dev', 'address'], 'a neighbour: dev, address');
  return {
    dev: interfaceName(required(o, 'dev', path, 'the name of a link'), at(path, 'dev')),
    address: address(required(o, 'address', path, 'an IPv4 or IPv6 address'), 'unicast', at(path, 'address')),
  };
}

// ---------------------------------------------------------------------------
// Security associations
// ---------------------------------------------------------------------------

/** What `xfrm state add` carries: {@link SaConfigInput} plus `reqid` (accepted and kept; see docs/cli.md). */
export type XfrmStateInput = SaConfigInput & { reqid?: number };

export const SA_FIELDS = ['src', 'dst', 'spi', 'mode', 'reqid', 'aead', 'enc', 'auth', 'esn', 'replayWindow', 'encap'] as const;

function algorithmName(value: unknown, allowed: readonly string[], path: string): string {
  const name = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (name === undefined || !allowed.includes(name)) {
    throw new ConfigError('BAD_VALUE', path, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(value)}`);
  }
  return name;
}

/** Checks the key length for the algorithm with the ESP engine's own rules; EspError becomes ConfigError at `path`. */
function checkKeyLength(algorithm: string, key: string, auth: string | undefined, path: string): void {
  try {
    resolveAlgorithm(algorithm, (key.length - 2) / 2, auth);
  } catch (error) {
    if (error instanceof EspError) throw new ConfigError('BAD_VALUE', path, error.message.replace(/^BAD_CONFIG \([^)]*\): /, ''));
    throw error;
  }
}

/** `xfrm state add …` / `xfrm[i]`. */
export function validateSa(value: unknown, path = ''): XfrmStateInput {
  const o = record(value, path, SA_FIELDS, 'a security association');
  const sa: XfrmStateInput = {
    src: address(required(o, 'src', path, 'the IPv4 or IPv6 source address'), 'unicast', at(path, 'src')),
    dst: address(required(o, 'dst', path, 'the IPv4 or IPv6 destination address'), 'unicast', at(path, 'dst')),
    spi: integer(required(o, 'spi', path, `an integer in ${SPI_MIN}..${SPI_MAX}`), SPI_MIN, SPI_MAX, at(path, 'spi')),
  };
  sameFamily(sa.src, sa.dst, at(path, 'dst'), `src (${sa.src})`);
  if (o.mode !== undefined) sa.mode = oneOf(o.mode, ['transport', 'tunnel'] as const, at(path, 'mode'));
  if (o.reqid !== undefined) sa.reqid = integer(o.reqid, 0, REQID_MAX, at(path, 'reqid'));
  if (o.aead !== undefined) {
    const where = at(path, 'aead');
    const a = record(o.aead, where, ['name', 'key', 'icvBits'], 'an AEAD: name, key, icvBits');
    const name = algorithmName(required(a, 'name', where, 'an AEAD algorithm name'), AEAD_NAMES, at(where, 'name'));
    const key = hexKey(required(a, 'key', where, "the key and salt as hex '0x…'"), at(where, 'key'));
    sa.aead = { name, key };
    if (a.icvBits !== undefined) {
      if (integer(a.icvBits, 0, 1024, at(where, 'icvBits')) !== ICV_BITS) {
        throw new ConfigError('BAD_VALUE', at(where, 'icvBits'), `must be ${ICV_BITS} (vtepkit's ESP uses 16-byte ICVs), got ${describe(a.icvBits)}`);
      }
      sa.aead.icvBits = ICV_BITS;
    }
    checkKeyLength(name, key, undefined, at(where, 'key'));
  }
  if (o.enc !== undefined) {
    const where = at(path, 'enc');
    const e = record(o.enc, where, ['name', 'key'], 'a cipher: name, key');
    const name = ENC_CANONICAL[algorithmName(required(e, 'name', where, 'a cipher name'), ENC_NAMES, at(where, 'name'))]!;
    const key = hexKey(required(e, 'key', where, "the key as hex '0x…'"), at(where, 'key'));
    sa.enc = { name, key };
    checkKeyLength(name, key, undefined, at(where, 'key'));
  }
  if (o.auth !== undefined) {
    const where = at(path, 'auth');
    const a = record(o.auth, where, ['name', 'key', 'truncBits'], 'an integrity algorithm: name, key, truncBits');
    const name = AUTH_CANONICAL[algorithmName(required(a, 'name', where, 'an integrity algorithm name'), AUTH_NAMES, at(where, 'name'))]!;
    const key = hexKey(required(a, 'key', where, "the key as hex '0x…'"), at(where, 'key'));
    if ((key.length - 2) / 2 !== AUTH_KEY_BYTES) {
      throw new ConfigError('BAD_VALUE', at(where, 'key'), `HMAC-SHA-256 takes a ${AUTH_KEY_BYTES}-byte key (RFC 4868 2.1.1), got ${(key.length - 2) / 2}`);
    }
    sa.auth = { name, key };
    if (a.truncBits !== undefined) {
      if (integer(a.truncBits, 0, 1024, at(where, 'truncBits')) !== ICV_BITS) {
        throw new ConfigError('BAD_VALUE', at(where, 'truncBits'), `must be ${ICV_BITS} (HMAC-SHA-256-128, RFC 4868 2.3), got ${describe(a.truncBits)}`);
      }
      sa.auth.truncBits = ICV_BITS;
    }
  }
  if (sa.aead !== undefined && (sa.enc !== undefined || sa.auth !== undefined)) {
    throw new ConfigError('CONFLICT', at(path, sa.enc !== undefined ? 'enc' : 'auth'), 'an AEAD (aead) carries its own integrity: give aead alone, or enc with auth');
  }
  if (sa.aead === undefined && sa.enc === undefined && sa.auth === undefined) {
    throw new ConfigError('MISSING', at(path, 'aead'), "missing; give aead NAME KEY ICV_BITS, or enc NAME KEY with auth NAME KEY");
  }
  if (sa.enc !== undefined && sa.auth === undefined) {
    throw new ConfigError('MISSING', at(path, 'auth'), 'missing; enc (AES-CBC) needs auth (HMAC-SHA-256): vtepkit does not run ESP without integrity');
  }
  if (sa.auth !== undefined && sa.enc === undefined) {
    throw new ConfigError('MISSING', at(path, 'enc'), 'missing; auth needs enc: vtepkit does not run integrity-only ESP (enc cipher_null)');
  }
  if (o.esn !== undefined) sa.esn = boolean(o.esn, at(path, 'esn'));
  if (o.replayWindow !== undefined) sa.replayWindow = integer(o.replayWindow, 0, REPLAY_WINDOW_LIMIT, at(path, 'replayWindow'));
  if (sa.esn === true && sa.replayWindow === 0) {
    throw new ConfigError('CONFLICT', at(path, 'replayWindow'), 'extended sequence numbers (esn) need a replay window; give replayWindow 1..32768');
  }
  if (o.encap !== undefined) {
    const where = at(path, 'encap');
    const e = record(o.encap, where, ['type', 'sport', 'dport'], 'ESP-in-UDP: type, sport, dport');
    sa.encap = {
      type: oneOf(required(e, 'type', where, '"espinudp"'), ['espinudp'] as const, at(where, 'type')),
      sport: integer(required(e, 'sport', where, `an integer in 1..${PORT_MAX}`), 1, PORT_MAX, at(where, 'sport')),
      dport: integer(required(e, 'dport', where, `an integer in 1..${PORT_MAX}`), 1, PORT_MAX, at(where, 'dport')),
    };
  }
  return sa;
}

/** `xfrm state del [src ADDR] dst ADDR spi N`. */
export function validateSaKey(value: unknown, path = ''): { spi: number; dst: string; src?: string } {
  const o = record(value, path, ['src', 'dst', 'spi'], 'a security association: src, dst, spi');
  const key: { spi: number; dst: string; src?: string } = {
    spi: integer(required(o, 'spi', path, `an integer in ${SPI_MIN}..${SPI_MAX}`), SPI_MIN, SPI_MAX, at(path, 'spi')),
    dst: address(required(o, 'dst', path, 'the IPv4 or IPv6 destination address'), 'unicast', at(path, 'dst')),
  };
  if (o.src !== undefined) {
    key.src = address(o.src, 'unicast', at(path, 'src'));
    sameFamily(key.src, key.dst, at(path, 'dst'), `src (${key.src})`);
  }
  return key;
}

// ---------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------

export const DOCUMENT_FIELDS = ['version', 'links', 'up', 'addresses', 'fdb', 'neighbours', 'xfrm'] as const;

export interface ValidateDocumentOptions {
  /**
   * Check that every `up` name and every `dev` of addresses, fdb and neighbours
   * is a link of the document (UNKNOWN_LINK). On for `vtepkit up FILE` (a file
   * is the whole set-up); off for `apply` requests, which may refer to links
   * the daemon already has. Default false.
   */
  references?: boolean;
}

/** Checks a whole document (what `vtepkit up` reads and `vtepkit dump` prints); returns a normalised copy. */
export function validateDocument(value: unknown, options: ValidateDocumentOptions = {}): VtepDocument {
  const o = record(value, '', DOCUMENT_FIELDS, 'a vtepkit document: { "version": 1, "links": [...], ... }');
  if (o.version === undefined) throw new ConfigError('MISSING', 'version', 'missing; must be 1 (the document format)');
  if (o.version !== 1) throw new ConfigError('BAD_VALUE', 'version', `must be 1, got ${describe(o.version)}`);
  const document: VtepDocument = { version: 1 };
  const names = new Map<string, number>();
  if (o.links !== undefined) {
    document.links = array(o.links, 'links', DOCUMENT_LIMITS.links, 'links').map((item, i) => {
      const link = validateLinkConfig(item, `links[${i}]`);
      const first = names.get(link.name);
      if (first !== undefined) throw new ConfigError('DUPLICATE', `links[${i}].name`, `"${link.name}" is also the name of links[${first}]`);
      names.set(link.name, i);
      return link;
    });
  }
  const reference = (name: string, path: string): void => {
    if (options.references === true && !names.has(name)) {
      const defined = [...names.keys()];
      throw new ConfigError(
        'UNKNOWN_LINK',
        path,
        `no link "${name}" in links (${defined.length === 0 ? 'none defined' : `defined: ${defined.join(', ')}`})`,
      );
    }
  };
  if (o.up !== undefined) {
    document.up = array(o.up, 'up', DOCUMENT_LIMITS.up, 'link names').map((item, i) => {
      const name = interfaceName(item, `up[${i}]`);
      reference(name, `up[${i}]`);
      return name;
    });
  }
  if (o.addresses !== undefined) {
    document.addresses = array(o.addresses, 'addresses', DOCUMENT_LIMITS.addresses, 'addresses').map((item, i) => {
      const row = validateAddress(item, `addresses[${i}]`);
      reference(row.dev, `addresses[${i}].dev`);
      return row;
    });
  }
  if (o.fdb !== undefined) {
    document.fdb = array(o.fdb, 'fdb', DOCUMENT_LIMITS.fdb, 'FDB entries').map((item, i) => {
      const where = `fdb[${i}]`;
      const row = record(item, where, [...FDB_ENTRY_FIELDS, 'op'], 'an FDB entry');
      const entry: FdbEntryOptions & { mac: string; dev: string; op?: 'add' | 'append' | 'replace' } = fdbEntryFields(row, where);
      if (row.op !== undefined) entry.op = oneOf(row.op, FDB_OPS, `${where}.op`);
      reference(entry.dev, `${where}.dev`);
      return entry;
    });
  }
  if (o.neighbours !== undefined) {
    const seen = new Map<string, number>();
    document.neighbours = array(o.neighbours, 'neighbours', DOCUMENT_LIMITS.neighbours, 'neighbours').map((item, i) => {
      const row = validateNeighbour(item, `neighbours[${i}]`);
      reference(row.dev, `neighbours[${i}].dev`);
      const key = `${row.dev} ${row.address}`;
      const first = seen.get(key);
      if (first !== undefined) throw new ConfigError('DUPLICATE', `neighbours[${i}].address`, `${row.address} on ${row.dev} is also neighbours[${first}]`);
      seen.set(key, i);
      return row;
    });
  }
  if (o.xfrm !== undefined) {
    const seen = new Map<string, number>();
    document.xfrm = array(o.xfrm, 'xfrm', DOCUMENT_LIMITS.xfrm, 'security associations').map((item, i) => {
      const sa = validateSa(item, `xfrm[${i}]`);
      const key = `${sa.spi} ${sa.dst}`;
      const first = seen.get(key);
      if (first !== undefined) throw new ConfigError('DUPLICATE', `xfrm[${i}].spi`, `SPI ${sa.spi} to ${sa.dst} is also xfrm[${first}]`);
      seen.set(key, i);
      return sa;
    });
  }
  return document;
}

/** Parses JSON text and validates it; a syntax error is BAD_JSON with the line and column. */
export function parseDocument(text: string, options: ValidateDocumentOptions = {}): VtepDocument {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new ConfigError('BAD_JSON', '', `not valid JSON: ${jsonErrorText(error, text)}`);
  }
  return validateDocument(value, options);
}

/** A JSON.parse error as "… at line L column C". */
export function jsonErrorText(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/\s*\(line \d+ column \d+\)$/, '')
    .replace(/, (\.\.\.)?".*" is not valid JSON$/s, '');
  const match = /at position (\d+)/.exec(message);
  const position = match === null ? jsonErrorOffset(text) : Number(match[1]);
  if (position === undefined) return reason;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${reason} at line ${line} column ${column}`;
}

const JSON_NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/**
 * Where JSON text first goes wrong (Node 20's JSON.parse does not always say):
 * a small syntax checker (RFC 8259), run only after JSON.parse has failed.
 * Undefined if it finds nothing wrong or the nesting is too deep to follow.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new JsonOffset(i);
  };
  const space = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = (): void => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) fail();
      }
      i++;
    }
    fail();
  };
  const value = (depth: number): void => {
    if (depth > 512) throw new JsonOffset(-1);
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        space();
        if (c === '{') {
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ':') fail();
          i++;
        }
        value(depth + 1);
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return string();
    JSON_NUMBER.lastIndex = i;
    if (c !== undefined && (c === '-' || (c >= '0' && c <= '9')) && JSON_NUMBER.test(text)) {
      i = JSON_NUMBER.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    fail();
  };
  try {
    value(0);
    space();
    if (i < text.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof JsonOffset) return error.offset < 0 ? undefined : error.offset;
    throw error;
  }
}

class JsonOffset {
  constructor(readonly offset: number) {}
}

/** Reads at most MAX_DOCUMENT_BYTES (a pipe or /dev/stdin too; /dev/zero stops at the limit). */
async function readCapped(file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = createReadStream(file);
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > MAX_DOCUMENT_BYTES) throw new ConfigError('TOO_LARGE', '', `${file} is larger than ${MAX_DOCUMENT_BYTES} bytes, the most that is read`);
      chunks.push(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

/** Reads, parses and validates a document file (checking references: a file is the whole set-up). */
export async function readDocumentFile(file: string, options: ValidateDocumentOptions = { references: true }): Promise<VtepDocument> {
  let bytes: Buffer;
  try {
    bytes = await readCapped(file);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
    throw new ConfigError('UNREADABLE', '', `cannot read ${file}: ${why}`);
  }
  return parseDocument(bytes.toString('utf8'), options);
}

// ---------------------------------------------------------------------------
// Captures (`vtepkit capture DEV [tap|underlay] file FILE [count N]`)
// ---------------------------------------------------------------------------

export const CAPTURE_SIDES = ['tap', 'underlay'] as const;
/** A capture stops by itself after this many packets at most (the daemon must not fill a disk for a vanished client). */
export const CAPTURE_MAX_COUNT = 10_000_000;
export const CAPTURE_DEFAULT_COUNT = 100_000;

export interface CaptureStartArgs {
  dev: string;
  side: (typeof CAPTURE_SIDES)[number];
  /** An absolute path; the daemon creates (or truncates) it with mode 0600. */
  file: string;
  count: number;
}

export function validateCaptureStart(value: unknown, path = ''): CaptureStartArgs {
  const o = record(value ?? {}, path, ['dev', 'side', 'file', 'count'], 'a capture: dev, side, file, count');
  const dev = interfaceName(required(o, 'dev', path, 'a link name'), at(path, 'dev'));
  const side = o.side ?? 'tap';
  if (typeof side !== 'string' || !(CAPTURE_SIDES as readonly string[]).includes(side)) {
    throw new ConfigError('BAD_VALUE', at(path, 'side'), `must be one of ${CAPTURE_SIDES.join(', ')}, got ${describe(side)}`);
  }
  const file = required(o, 'file', path, 'an absolute file path');
  if (typeof file !== 'string' || !file.startsWith('/') || file.length > 4096 || file.includes('\0')) {
    throw new ConfigError('BAD_VALUE', at(path, 'file'), `must be an absolute file path, got ${describe(file)}`);
  }
  const count = o.count === undefined ? CAPTURE_DEFAULT_COUNT : integer(o.count, 1, CAPTURE_MAX_COUNT, at(path, 'count'));
  return { dev, side: side as CaptureStartArgs['side'], file, count };
}

export function validateCaptureId(value: unknown, path = ''): { id: number } {
  const o = record(value ?? {}, path, ['id'], 'a capture id');
  return { id: integer(required(o, 'id', path, 'a capture id from capture.start'), 1, Number.MAX_SAFE_INTEGER, at(path, 'id')) };
}
