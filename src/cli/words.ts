/**
 * The `vtepkit` command line, in iproute2's words: `vtepkit link add vxlan100
 * type vxlan id 100 dstport 4789 local 192.168.1.10 nolearning` is the seeds'
 * `ip link add …` with `ip` replaced by `vtepkit`; `vtepkit fdb append …` is
 * `bridge fdb append …`.
 *
 * `parseWords(argv)` turns the words into a typed request, `{ op: 'link.add',
 * args: LinkConfig }` and so on: the same objects the control socket carries
 * (control.ts) and the engine's `VtepApi` takes. The parser knows the grammar
 * (keywords, their synonyms, positional words); the values are checked by the
 * validators of config.ts, so a word and a JSON field are held to the same rules.
 *
 * Every failure is a {@link CliError} naming the bad word and what was expected
 * at that point, as iproute2 does:
 *
 *   Error: argument "abc" is wrong: "id" must be an integer in 0..16777215
 */
import type { FdbDeleteOptions, FdbEntryOptions, FdbShowOptions } from '../fdb/index.js';
import type { LinkChange, LinkConfig, NeighbourConfig, VtepDocument } from '../vtep/api.js';
import { ESP_BACKEND_CHOICES, type EspBackendChoice } from '../vtep/api.js';
import {
  ConfigError,
  ipFamily,
  nearest,
  validateAddress,
  validateDevFilter,
  validateFdbDelete,
  validateFdbEntry,
  validateFdbShow,
  validateLinkConfig,
  validateLinkName,
  validateLinkSet,
  validateLinkShow,
  validateNeighbour,
  validateNeighbourKey,
  validateSa,
  validateSaKey,
  type XfrmStateInput,
} from './config.js';

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

export type FdbEntryArgs = FdbEntryOptions & { mac: string; dev: string };
export type FdbDeleteArgs = FdbDeleteOptions & { mac: string; dev: string };
export type Empty = Record<string, never>;

/** Every request the control socket carries: `{ op, args }`, args as the engine's API takes them. */
export type ControlRequest =
  | { op: 'link.add'; args: LinkConfig }
  | { op: 'link.set'; args: LinkChange & { name: string } }
  | { op: 'link.del'; args: { name: string } }
  | { op: 'link.show'; args: { name?: string; stats?: boolean } }
  | { op: 'addr.add'; args: { dev: string; address: string } }
  | { op: 'addr.del'; args: { dev: string; address: string } }
  | { op: 'addr.show'; args: { dev?: string } }
  | { op: 'fdb.add'; args: FdbEntryArgs }
  | { op: 'fdb.append'; args: FdbEntryArgs }
  | { op: 'fdb.replace'; args: FdbEntryArgs }
  | { op: 'fdb.del'; args: FdbDeleteArgs }
  | { op: 'fdb.show'; args: FdbShowOptions & { dev?: string } }
  | { op: 'neigh.add'; args: NeighbourConfig }
  | { op: 'neigh.del'; args: { dev: string; address: string } }
  | { op: 'neigh.show'; args: { dev?: string } }
  | { op: 'xfrm.state.add'; args: XfrmStateInput }
  | { op: 'xfrm.state.del'; args: { spi: number; dst: string; src?: string } }
  | { op: 'xfrm.state.show'; args: Empty }
  | { op: 'xfrm.stats'; args: Empty }
  | { op: 'capture.start'; args: { dev: string; side?: 'tap' | 'underlay'; file: string; count?: number } }
  | { op: 'capture.stop'; args: { id: number } }
  | { op: 'capture.show'; args: Empty }
  | { op: 'apply'; args: VtepDocument }
  | { op: 'dump'; args: Empty }
  | { op: 'ping'; args: Empty };

export type ControlOp = ControlRequest['op'];

export const HELP_TOPICS = ['link', 'addr', 'fdb', 'neigh', 'xfrm', 'capture', 'up', 'dump', 'daemon', 'demo'] as const;
export type HelpTopic = (typeof HELP_TOPICS)[number];

/** Commands the `vtepkit` process runs itself rather than sending to the daemon. */
export type LocalRequest =
  | { op: 'up'; args: { file: string } }
  | { op: 'daemon'; args: { config?: string; espBackend?: EspBackendChoice } }
  | { op: 'demo'; args: { words: string[] } }
  | { op: 'help'; args: { topic?: HelpTopic } }
  | { op: 'version'; args: Empty }
  | { op: 'capture'; args: { dev: string; side: 'tap' | 'underlay'; file: string; count?: number; seconds?: number } };

export type CliRequest = ControlRequest | LocalRequest;

/** iproute2's global options, which may stand before the object or anywhere after it. */
export interface GlobalOptions {
  /** `-s` (`-stats`, `-statistics`), counted: `-s -s` is 2. */
  stats: number;
  /** `-d` (`-details`). */
  details: boolean;
  /** `-j` (`-json`, `--json`). */
  json: boolean;
  /** `-p` (`-pretty`): indented JSON. */
  pretty: boolean;
  /** `-4` / `-6`: only that family in `addr show`. 0 = both. */
  family: 0 | 4 | 6;
  /** `--socket PATH`. */
  socket?: string;
}

export interface ParsedCommand {
  options: GlobalOptions;
  request: CliRequest;
}

// ---------------------------------------------------------------------------
// The error
// ---------------------------------------------------------------------------

export type CliErrorCode =
  /** The command cannot be identified: no or an unknown object, verb or option. Exit status 2. */
  | 'USAGE'
  /** A word the command does not take at that point; the message lists those it does. */
  | 'UNKNOWN_WORD'
  /** A value that is not allowed (`id abc`, `remote 224.1.1.1`). */
  | 'BAD_ARGUMENT'
  /** A keyword without its value, or a required word missing (`fdb add … ` without `dev`). */
  | 'MISSING_ARGUMENT'
  /** The same setting given twice (`id 1 … vni 2`, `learning … nolearning`). */
  | 'DUPLICATE_ARGUMENT';

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliErrorCode,
    /** The word at fault, when there is one. */
    readonly word: string | undefined,
    message: string,
    /** The help topic whose usage fits the mistake. */
    readonly topic?: HelpTopic,
  ) {
    super(message);
  }

  /** 2 for usage errors (the command was not understood), 1 for the rest. */
  get exitCode(): 1 | 2 {
    return this.code === 'USAGE' ? 2 : 1;
  }
}

function list(words: readonly string[]): string {
  return words.join(', ');
}

function unknownWord(word: string, context: string, allowed: readonly string[], topic?: HelpTopic): CliError {
  const guess = nearest(word, allowed);
  return new CliError(
    'UNKNOWN_WORD',
    word,
    `argument "${word}" is wrong: unknown word in "${context}"${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; expected one of: ${list(allowed)}`,
    topic,
  );
}

function usage(word: string | undefined, message: string, topic?: HelpTopic): CliError {
  return new CliError('USAGE', word, message, topic);
}

// ---------------------------------------------------------------------------
// Reading words
// ---------------------------------------------------------------------------

/** What a keyword's value is, for messages. */
const EXPECT = {
  name: 'an interface name (1..15 bytes)',
  vni: 'a VNI, an integer in 0..16777215',
  port: 'a UDP port, 1..65535',
  address: 'an IPv4 or IPv6 address',
  group: 'a multicast group address',
  cidr: 'an address with a prefix length, like 10.0.0.1/24',
  mac: 'a MAC address like 02:00:00:00:00:01',
  ttl: 'a TTL, 1..255, or auto',
  tos: 'a TOS byte, 0..255 (0x hex allowed), or inherit',
  seconds: 'seconds, an integer',
  mtu: 'an MTU, 68..65535',
  spi: 'an SPI, 256..4294967295 (0x hex allowed)',
  key: "a key as hex, '0x' and an even number of digits",
  bits: 'a length in bits (128)',
  integer: 'an integer (decimal or 0x hex)',
  file: 'a file name',
} as const;

/** Where a validated field came from: the keyword the user typed and the value word. */
interface Origin {
  keyword: string;
  word: string;
}

class Words {
  private index = 0;
  /** Field path → the words that set it, to name them when validation fails. */
  readonly origins = new Map<string, Origin>();
  /** Settings already given (for duplicates): setting → keyword used. */
  private readonly given = new Map<string, string>();

  constructor(
    private readonly words: readonly string[],
    /** The command so far, for messages ("link add vxlan100 type vxlan"). */
    public context: string,
    readonly topic: HelpTopic,
  ) {}

  get done(): boolean {
    return this.index >= this.words.length;
  }

  peek(offset = 0): string | undefined {
    return this.words[this.index + offset];
  }

  next(): string {
    const word = this.words[this.index];
    if (word === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${this.context}" is not complete`, this.topic);
    this.index++;
    return word;
  }

  /** The word after `keyword`, or MISSING_ARGUMENT. */
  value(keyword: string, expected: string): string {
    const word = this.words[this.index];
    if (word === undefined) {
      throw new CliError('MISSING_ARGUMENT', keyword, `argument missing after "${keyword}": expected ${expected}`, this.topic);
    }
    this.index++;
    return word;
  }

  /** Marks a setting as given by `keyword`; DUPLICATE_ARGUMENT if it was already. */
  once(setting: string, keyword: string): void {
    const previous = this.given.get(setting);
    if (previous !== undefined) {
      const what = previous === keyword ? `"${keyword}" is given twice` : `"${keyword}" repeats "${previous}"`;
      throw new CliError('DUPLICATE_ARGUMENT', keyword, `argument "${keyword}" is wrong: ${what}; give it once`, this.topic);
    }
    this.given.set(setting, keyword);
  }

  /** `raw[field] = value word`, remembering the keyword (and refusing it twice). */
  set(raw: Record<string, unknown>, field: string, keyword: string, expected: string): string {
    this.once(field, keyword);
    const word = this.value(keyword, expected);
    raw[field] = word;
    this.origins.set(field, { keyword, word });
    return word;
  }

  /**
   * A keyword of `values` (keyword → field and what its value is): reads its
   * value into `raw` as {@link set} does, and says it was one.
   */
  setFrom(raw: Record<string, unknown>, keyword: string, values: Readonly<Record<string, readonly [string, string]>>): boolean {
    if (!Object.hasOwn(values, keyword)) return false;
    const [field, expected] = values[keyword]!;
    this.set(raw, field, keyword, expected);
    return true;
  }

  /** `raw[field] = value` for a flag word (`nolearning`). */
  flag(raw: Record<string, unknown>, field: string, keyword: string, value: unknown): void {
    this.once(field, keyword);
    raw[field] = value;
    this.origins.set(field, { keyword, word: keyword });
  }

  unknown(word: string, allowed: readonly string[]): CliError {
    return unknownWord(word, this.context, allowed, this.topic);
  }

  /** Runs a config.ts validator; a ConfigError becomes a CliError naming the word that set the field. */
  validate<T>(validator: (value: unknown, path: string) => T, raw: Record<string, unknown>): T {
    try {
      return validator(raw, '');
    } catch (error) {
      if (error instanceof ConfigError) throw this.fromConfigError(error);
      throw error;
    }
  }

  private fromConfigError(error: ConfigError): CliError {
    // The word that set the field, or the nearest enclosing one (`aead.key` → `aead`), or a field inside it (`options` → `options[0]`).
    let origin: Origin | undefined;
    for (let path = error.field; ; ) {
      origin = this.origins.get(path);
      const parent = path.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
      if (origin !== undefined || parent === path) break;
      path = parent;
    }
    if (origin === undefined) {
      for (const [path, candidate] of this.origins) {
        if (path.startsWith(`${error.field}[`) || path.startsWith(`${error.field}.`)) {
          origin = candidate;
          break;
        }
      }
    }
    const detail = error.detail.replace(/, got .*$/s, '');
    if (origin === undefined) {
      const code = error.code === 'MISSING' ? 'MISSING_ARGUMENT' : 'BAD_ARGUMENT';
      const what = error.code === 'MISSING' ? `"${this.context}" needs "${error.field.replace(/\..*$/, '')}": ${detail.replace(/^missing; /, '')}` : `"${this.context}": ${error.field} ${detail}`;
      return new CliError(code, undefined, what, this.topic);
    }
    const subject =
      error.code === 'CONFLICT' || error.code === 'MISSING' ? detail : detail.startsWith('must') ? `"${origin.keyword}" ${detail}` : `"${origin.keyword}": ${detail}`;
    return new CliError('BAD_ARGUMENT', origin.word, `argument "${origin.word}" is wrong: ${subject}`, this.topic);
  }
}

// ---------------------------------------------------------------------------
// Global options
// ---------------------------------------------------------------------------

const STATS_FLAGS = ['-s', '-stats', '-statistics', '--stats'];
const DETAILS_FLAGS = ['-d', '-details', '--details'];
const JSON_FLAGS = ['-j', '-json', '--json'];
const PRETTY_FLAGS = ['-p', '-pretty', '--pretty'];
const SOCKET_FLAGS = ['--socket', '-socket'];
const HELP_FLAGS = ['-h', '-help', '--help'];
const VERSION_FLAGS = ['-V', '-Version', '--version'];
const GLOBAL_FLAGS = [...STATS_FLAGS, ...DETAILS_FLAGS, ...JSON_FLAGS, ...PRETTY_FLAGS, '-4', '-6', ...SOCKET_FLAGS, ...HELP_FLAGS, ...VERSION_FLAGS];

/**
 * Takes a global option at `argv[i]`; returns how many words it used (0 if it
 * is not one). `help`/`version` are noted in `wants`.
 */
function globalOption(argv: readonly string[], i: number, options: GlobalOptions, wants: { help: boolean; version: boolean }): number {
  const word = argv[i]!;
  if (STATS_FLAGS.includes(word)) options.stats++;
  else if (DETAILS_FLAGS.includes(word)) options.details = true;
  else if (JSON_FLAGS.includes(word)) options.json = true;
  else if (PRETTY_FLAGS.includes(word)) options.pretty = true;
  else if (word === '-4') options.family = 4;
  else if (word === '-6') options.family = 6;
  else if (HELP_FLAGS.includes(word)) wants.help = true;
  else if (VERSION_FLAGS.includes(word)) wants.version = true;
  else if (SOCKET_FLAGS.includes(word) || word.startsWith('--socket=')) {
    const inline = word.startsWith('--socket=');
    const path = inline ? word.slice('--socket='.length) : argv[i + 1];
    if (path === undefined || path === '') throw new CliError('MISSING_ARGUMENT', word, `argument missing after "--socket": expected the control socket's path`);
    if (options.socket !== undefined) throw new CliError('DUPLICATE_ARGUMENT', word, `argument "--socket" is wrong: given twice; give it once`);
    options.socket = path;
    return inline ? 1 : 2;
  } else return 0;
  return 1;
}

// ---------------------------------------------------------------------------
// The top level
// ---------------------------------------------------------------------------

const OBJECTS: Record<string, HelpTopic | 'help'> = {
  link: 'link',
  l: 'link',
  addr: 'addr',
  address: 'addr',
  a: 'addr',
  fdb: 'fdb',
  neigh: 'neigh',
  neighbour: 'neigh',
  neighbor: 'neigh',
  n: 'neigh',
  xfrm: 'xfrm',
  capture: 'capture',
  up: 'up',
  dump: 'dump',
  daemon: 'daemon',
  demo: 'demo',
  help: 'help',
};
export const OBJECT_WORDS = ['link', 'addr', 'fdb', 'neigh', 'xfrm', 'capture', 'up', 'dump', 'daemon', 'demo', 'help'];

const ADD = ['add'];
const DEL = ['del', 'delete'];
const SHOW = ['show', 'list', 'ls', 'lst'];

/**
 * Parses the words after `vtepkit` (process.argv.slice(2)). Throws only
 * {@link CliError}.
 */
export function parseWords(argv: readonly string[]): ParsedCommand {
  if (!Array.isArray(argv) || argv.some((word) => typeof word !== 'string')) {
    throw usage(undefined, 'the command line must be a list of words');
  }
  const options: GlobalOptions = { stats: 0, details: false, json: false, pretty: false, family: 0 };
  const wants = { help: false, version: false };
  let i = 0;
  // Leading options, then the object.
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') {
    const used = globalOption(argv, i, options, wants);
    if (used === 0) throw usage(argv[i], `option "${argv[i]}" is unknown; expected one of: ${list(GLOBAL_FLAGS)}`);
    i += used;
  }
  if (argv[i] === '--') i++;
  const objectWord = argv[i];
  if (objectWord === undefined) {
    if (wants.version) return { options, request: { op: 'version', args: {} } };
    if (wants.help) return { options, request: { op: 'help', args: {} } };
    throw usage(undefined, `no command given; expected one of: ${list(OBJECT_WORDS)}`);
  }
  const object = Object.hasOwn(OBJECTS, objectWord) ? OBJECTS[objectWord] : undefined;
  if (object === undefined) {
    const guess = nearest(objectWord, OBJECT_WORDS);
    throw usage(objectWord, `unknown command "${objectWord}"${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; expected one of: ${list(OBJECT_WORDS)}`);
  }
  i++;
  // `demo` takes its words verbatim (its options are its own).
  if (object === 'demo') return { options, request: { op: 'demo', args: { words: argv.slice(i) } } };
  // The rest, with global options taken out wherever they stand (`fdb show -j`).
  const rest: string[] = [];
  while (i < argv.length) {
    if (argv[i] === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    const used = globalOption(argv, i, options, wants);
    if (used === 0) rest.push(argv[i]!);
    i += Math.max(used, 1);
  }
  if (object === 'help') {
    if (rest.length > 1) throw unknownWord(rest[1]!, `help ${rest[0]}`, []);
    const topic = rest[0];
    if (topic === undefined) return { options, request: { op: 'help', args: {} } };
    const known = Object.hasOwn(OBJECTS, topic) ? OBJECTS[topic] : undefined;
    if (known === undefined || known === 'help') throw usage(topic, `no help on "${topic}"; topics: ${list(HELP_TOPICS)}`);
    return { options, request: { op: 'help', args: { topic: known } } };
  }
  if (wants.help || rest[0] === 'help' || (object === 'xfrm' && rest[1] === 'help')) {
    return { options, request: { op: 'help', args: { topic: object } } };
  }
  if (wants.version) return { options, request: { op: 'version', args: {} } };
  return { options, request: parseObject(object, rest, options) };
}

function parseObject(object: HelpTopic, words: string[], options: GlobalOptions): CliRequest {
  switch (object) {
    case 'link':
      return parseLink(words, options);
    case 'addr':
      return parseAddr(words);
    case 'fdb':
      return parseFdb(words, options);
    case 'neigh':
      return parseNeigh(words);
    case 'xfrm':
      return parseXfrm(words);
    case 'capture':
      return parseCapture(words);
    case 'up': {
      const w = new Words(words, 'up', 'up');
      const file = w.value('up', EXPECT.file);
      if (!w.done) throw w.unknown(w.next(), []);
      return { op: 'up', args: { file } };
    }
    case 'dump': {
      const w = new Words(words, 'dump', 'dump');
      if (!w.done) throw w.unknown(w.next(), []);
      return { op: 'dump', args: {} };
    }
    case 'daemon':
      return parseDaemon(words);
    case 'demo':
      return { op: 'demo', args: { words } };
  }
}

function verb(w: Words, object: HelpTopic, verbs: Record<string, string>, fallback: string): string {
  const word = w.peek();
  if (word === undefined) return fallback;
  const found = Object.hasOwn(verbs, word) ? verbs[word] : undefined;
  if (found === undefined) {
    const allowed = [...new Set(Object.keys(verbs))];
    const guess = nearest(word, allowed);
    throw usage(word, `unknown verb "${word}" for "${object}"${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; expected one of: ${list(allowed)}`, object);
  }
  w.next();
  w.context = `${object} ${word}`;
  return found;
}

function table(entries: [string[], string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [words, value] of entries) for (const word of words) out[word] = value;
  return out;
}

// ---------------------------------------------------------------------------
// link
// ---------------------------------------------------------------------------

const LINK_VERBS = table([[ADD, 'add'], [['set', 'change'], 'set'], [DEL, 'del'], [SHOW, 'show']]);
const LINK_BEFORE_TYPE = ['NAME', 'name', 'dev', 'type', 'mtu', 'address'];
const TUNNEL_WORDS = [
  'id', 'vni', 'dstport', 'local', 'remote', 'group', 'dev', 'ttl', 'hoplimit', 'tos', 'ageing', 'learning', 'nolearning',
  'proxy', 'noproxy', 'udpcsum', 'noudpcsum', 'srcport', 'port', 'mtu', 'address', 'pmtud', 'nopmtud',
];
const VXLAN_WORDS = [...TUNNEL_WORDS, 'gbp'];
/** The keywords of `link add` that take a value: the field each sets, and what the value is. */
const LINK_VALUES: Record<string, readonly [string, string]> = {
  id: ['vni', EXPECT.vni],
  vni: ['vni', EXPECT.vni],
  dstport: ['dstport', EXPECT.port],
  local: ['local', EXPECT.address],
  remote: ['remote', EXPECT.address],
  group: ['group', EXPECT.group],
  dev: ['dev', 'the underlay interface name'],
  mtu: ['mtu', EXPECT.mtu],
  address: ['address', EXPECT.mac],
  ageing: ['ageing', EXPECT.seconds],
};
/** The on/off words of `link add` (iproute2's `[no]learning` …): the field each sets, and to what. */
const LINK_FLAGS: Record<string, [string, boolean]> = {
  learning: ['learning', true],
  nolearning: ['learning', false],
  proxy: ['proxy', true],
  noproxy: ['proxy', false],
  udpcsum: ['udpChecksum', true],
  noudpcsum: ['udpChecksum', false],
  pmtud: ['pmtud', true],
  nopmtud: ['pmtud', false],
};
const GENEVE_WORDS = [...TUNNEL_WORDS, 'option', 'known-option'];

function parseLink(words: string[], options: GlobalOptions): ControlRequest {
  const w = new Words(words, 'link', 'link');
  switch (verb(w, 'link', LINK_VERBS, 'show')) {
    case 'add':
      return { op: 'link.add', args: linkAdd(w) };
    case 'set':
      return { op: 'link.set', args: linkSet(w) };
    case 'del': {
      const raw: Record<string, unknown> = {};
      linkName(w, raw, true);
      if (!w.done) throw w.unknown(w.next(), []);
      return { op: 'link.del', args: w.validate(validateLinkName, raw) };
    }
    default: {
      const raw: Record<string, unknown> = {};
      linkName(w, raw, false);
      if (!w.done) throw w.unknown(w.next(), []);
      if (options.stats > 0) raw.stats = true;
      return { op: 'link.show', args: w.validate(validateLinkShow, raw) };
    }
  }
}

/** `[dev] NAME`, as `ip link del|show` take it. */
function linkName(w: Words, raw: Record<string, unknown>, required: boolean): void {
  if (w.done) {
    if (required) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs the link's name: ${w.context} [dev] NAME`, w.topic);
    return;
  }
  if (w.peek() === 'dev') w.next();
  w.set(raw, 'name', 'dev', EXPECT.name);
}

function linkAdd(w: Words): LinkConfig {
  const raw: Record<string, unknown> = {};
  let type: 'vxlan' | 'geneve' | undefined;
  const options: unknown[] = [];
  const knownOptions: unknown[] = [];
  while (!w.done) {
    const word = w.next();
    if (type === undefined) {
      switch (word) {
        case 'name':
        case 'dev':
          w.set(raw, 'name', word, EXPECT.name);
          continue;
        case 'mtu':
          w.set(raw, 'mtu', word, EXPECT.mtu);
          continue;
        case 'address':
          w.set(raw, 'address', word, EXPECT.mac);
          continue;
        case 'type': {
          const kind = w.value('type', 'vxlan or geneve');
          if (kind !== 'vxlan' && kind !== 'geneve') {
            throw new CliError('BAD_ARGUMENT', kind, `argument "${kind}" is wrong: "type" must be vxlan or geneve (vtepkit makes tunnel links only)`, 'link');
          }
          type = kind;
          raw.type = kind;
          w.context = `link add${raw.name === undefined ? '' : ` ${String(raw.name)}`} type ${kind}`;
          continue;
        }
        default:
          if (raw.name === undefined && !LINK_BEFORE_TYPE.includes(word)) {
            w.once('name', 'NAME');
            raw.name = word;
            w.origins.set('name', { keyword: 'NAME', word });
            continue;
          }
          throw w.unknown(word, LINK_BEFORE_TYPE);
      }
    }
    if (w.setFrom(raw, word, LINK_VALUES)) continue;
    switch (word) {
      case 'ttl':
      case 'hoplimit': {
        w.once('ttl', word);
        const value = w.value(word, EXPECT.ttl);
        if (value !== 'auto') {
          if (value === 'inherit') throw new CliError('BAD_ARGUMENT', value, `argument "${value}" is wrong: "${word}" must be 1..255 or auto (vtepkit does not inherit the inner TTL)`, 'link');
          raw.ttl = value;
          w.origins.set('ttl', { keyword: word, word: value });
        }
        break;
      }
      case 'tos':
      case 'dsfield': {
        w.once('tos', word);
        const value = w.value(word, EXPECT.tos);
        // Linux stores `tos inherit` as 1 (IFLA_VXLAN_TOS), and so do we.
        raw.tos = value === 'inherit' ? 1 : value;
        w.origins.set('tos', { keyword: word, word: value });
        break;
      }
      case 'gbp':
        if (type !== 'vxlan') throw w.unknown(word, GENEVE_WORDS);
        w.flag(raw, 'gbp', word, true);
        break;
      case 'srcport':
        srcport(w, raw, word);
        break;
      case 'port': {
        // `port tap|memory`: the frame side (LinkConfig.port); `port MIN MAX`: iproute2's old spelling of srcport.
        const next = w.peek();
        if (next === 'tap' || next === 'memory') {
          w.set(raw, 'port', word, 'tap or memory');
        } else {
          srcport(w, raw, word);
        }
        break;
      }
      case 'option': {
        if (type !== 'geneve') throw w.unknown(word, VXLAN_WORDS);
        options.push(geneveOption(w, `options[${options.length}]`, true));
        break;
      }
      case 'known-option': {
        if (type !== 'geneve') throw w.unknown(word, VXLAN_WORDS);
        knownOptions.push(geneveOption(w, `knownOptions[${knownOptions.length}]`, false));
        break;
      }
      default: {
        const flag = Object.hasOwn(LINK_FLAGS, word) ? LINK_FLAGS[word]! : undefined;
        if (flag === undefined) throw w.unknown(word, type === 'vxlan' ? VXLAN_WORDS : GENEVE_WORDS);
        w.flag(raw, flag[0], word, flag[1]);
      }
    }
  }
  if (raw.name === undefined) throw new CliError('MISSING_ARGUMENT', undefined, '"link add" needs the link\'s name: link add NAME type vxlan|geneve id VNI …', 'link');
  if (type === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"link add ${String(raw.name)}" needs "type vxlan" or "type geneve"`, 'link');
  if (raw.vni === undefined) {
    throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs the VNI: ${type === 'vxlan' ? 'id' : 'vni'} N (0..16777215)`, 'link');
  }
  if (options.length > 0) raw.options = options;
  if (knownOptions.length > 0) raw.knownOptions = knownOptions;
  return w.validate(validateLinkConfig, raw);
}

function srcport(w: Words, raw: Record<string, unknown>, keyword: string): void {
  w.once('srcport', keyword);
  const min = w.value(keyword, 'the lowest source port, 1..65535, then the highest');
  const max = w.value(keyword, 'the highest source port, 1..65535');
  raw.srcport = { min, max };
  w.origins.set('srcport.min', { keyword, word: min });
  w.origins.set('srcport.max', { keyword, word: max });
}

/** `option class C type T [data HEX]` / `known-option class C type T`. */
function geneveOption(w: Words, path: string, withData: boolean): Record<string, unknown> {
  const keyword = withData ? 'option' : 'known-option';
  const allowed = withData ? ['class', 'type', 'data'] : ['class', 'type'];
  const option: Record<string, unknown> = {};
  while (!w.done && allowed.includes(w.peek()!) && option[w.peek()!] === undefined) {
    const field = w.next();
    const value = w.value(`${keyword} ${field}`, field === 'data' ? "hex, '0x' and a multiple of 8 digits" : EXPECT.integer);
    option[field] = value;
    w.origins.set(`${path}.${field}`, { keyword: `${keyword} ${field}`, word: value });
  }
  for (const field of ['class', 'type']) {
    if (option[field] === undefined) {
      throw new CliError('MISSING_ARGUMENT', keyword, `argument "${keyword}" is wrong: it needs "${field} N": ${keyword} class C type T${withData ? ' [data 0x…]' : ''}`, 'link');
    }
  }
  if (withData && option.data === undefined) option.data = '0x';
  w.origins.set(path, { keyword, word: keyword });
  return option;
}

const LINK_SET_WORDS = ['dev', 'NAME', 'up', 'down', 'mtu', 'address'];

function linkSet(w: Words): LinkChange & { name: string } {
  const raw: Record<string, unknown> = {};
  while (!w.done) {
    const word = w.next();
    switch (word) {
      case 'dev':
        w.set(raw, 'name', word, EXPECT.name);
        break;
      case 'up':
      case 'down':
        w.flag(raw, 'up', word, word === 'up');
        break;
      case 'mtu':
        w.set(raw, 'mtu', word, EXPECT.mtu);
        break;
      case 'address':
        w.set(raw, 'address', word, EXPECT.mac);
        break;
      default:
        if (raw.name === undefined) {
          w.once('name', 'NAME');
          raw.name = word;
          w.origins.set('name', { keyword: 'NAME', word });
          break;
        }
        throw w.unknown(word, LINK_SET_WORDS);
    }
  }
  if (raw.name === undefined) throw new CliError('MISSING_ARGUMENT', undefined, '"link set" needs the link\'s name: link set [dev] NAME up|down|mtu N|address MAC', 'link');
  if (Object.keys(raw).length === 1) {
    throw new CliError('MISSING_ARGUMENT', undefined, `"link set ${String(raw.name)}" needs a change: up, down, mtu N or address MAC`, 'link');
  }
  return w.validate(validateLinkSet, raw);
}

// ---------------------------------------------------------------------------
// addr
// ---------------------------------------------------------------------------

const ADDR_VERBS = table([[ADD, 'add'], [DEL, 'del'], [SHOW, 'show']]);

function parseAddr(words: string[]): ControlRequest {
  const w = new Words(words, 'addr', 'addr');
  const action = verb(w, 'addr', ADDR_VERBS, 'show');
  const raw: Record<string, unknown> = {};
  if (action === 'show') {
    if (w.peek() === 'dev') w.next();
    if (!w.done) w.set(raw, 'dev', 'dev', EXPECT.name);
    if (!w.done) throw w.unknown(w.next(), []);
    return { op: 'addr.show', args: w.validate(validateDevFilter, raw) };
  }
  const allowed = ['ADDRESS', 'local', 'dev'];
  while (!w.done) {
    const word = w.next();
    if (word === 'dev') w.set(raw, 'dev', word, EXPECT.name);
    else if (word === 'local') w.set(raw, 'address', word, EXPECT.cidr);
    else if (raw.address === undefined && !allowed.includes(word)) {
      w.once('address', 'ADDRESS');
      raw.address = word;
      w.origins.set('address', { keyword: 'ADDRESS', word });
    } else throw w.unknown(word, allowed);
  }
  if (raw.address === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs the address: ${w.context} 10.0.0.1/24 dev NAME`, 'addr');
  if (raw.dev === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs "dev NAME"`, 'addr');
  return { op: action === 'add' ? 'addr.add' : 'addr.del', args: w.validate(validateAddress, raw) };
}

// ---------------------------------------------------------------------------
// fdb (bridge fdb)
// ---------------------------------------------------------------------------

const FDB_VERBS = table([[ADD, 'add'], [['append'], 'append'], [['replace'], 'replace'], [DEL, 'del'], [SHOW, 'show']]);
const FDB_ENTRY_WORDS = ['LLADDR', 'to', 'dev', 'dst', 'port', 'dstport', 'vni', 'via', 'localport', 'self', 'permanent', 'static', 'dynamic', 'extern_learn', 'router'];
const FDB_SHOW_WORDS = ['dev', 'brport', 'vni', 'state', 'dynamic'];
/** The keywords of `fdb add|append|replace|del` that take a value: the field each sets, and what the value is. */
const FDB_VALUES: Record<string, readonly [string, string]> = {
  to: ['mac', EXPECT.mac],
  dev: ['dev', EXPECT.name],
  dst: ['dst', EXPECT.address],
  port: ['port', EXPECT.port],
  dstport: ['port', EXPECT.port],
  vni: ['vni', EXPECT.vni],
  via: ['via', EXPECT.name],
  localport: ['localPort', 'a local port number'],
};
const FDB_SHOW_VALUES: Record<string, readonly [string, string]> = {
  dev: ['dev', EXPECT.name],
  brport: ['dev', EXPECT.name],
  vni: ['vni', EXPECT.vni],
  state: ['state', 'permanent, static or dynamic'],
};

function parseFdb(words: string[], options: GlobalOptions): ControlRequest {
  const w = new Words(words, 'fdb', 'fdb');
  const action = verb(w, 'fdb', FDB_VERBS, 'show');
  if (action === 'show') return { op: 'fdb.show', args: fdbShow(w, options) };
  const raw: Record<string, unknown> = {};
  const deleting = action === 'del';
  while (!w.done) {
    const word = w.next();
    if (w.setFrom(raw, word, FDB_VALUES)) continue;
    switch (word) {
      case 'self':
        // vtepkit's entries are the device's own (Linux NTF_SELF): always so.
        break;
      case 'permanent':
      case 'static':
      case 'dynamic':
        // iproute2 takes (and the kernel ignores) a state on del; so do we.
        if (deleting) w.once('state', word);
        else w.flag(raw, 'state', word, word);
        break;
      case 'extern_learn':
        if (deleting) w.once('externLearn', word);
        else w.flag(raw, 'externLearn', word, true);
        break;
      case 'router':
        if (deleting) w.once('router', word);
        else w.flag(raw, 'router', word, true);
        break;
      case 'master':
      case 'br':
        throw new CliError('BAD_ARGUMENT', word, `argument "${word}" is wrong: vtepkit has no bridge; its FDB entries belong to the link itself (as "self")`, 'fdb');
      case 'src_vni':
        throw new CliError('BAD_ARGUMENT', word, `argument "${word}" is wrong: each vtepkit link has one VNI, set by "link add … id N"; the entry belongs to it (use "vni N" for the VNI to send with)`, 'fdb');
      default:
        if (raw.mac === undefined && !FDB_ENTRY_WORDS.includes(word)) {
          w.once('mac', 'LLADDR');
          raw.mac = word;
          w.origins.set('mac', { keyword: 'LLADDR', word });
          break;
        }
        throw w.unknown(word, FDB_ENTRY_WORDS);
    }
  }
  if (raw.mac === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs the MAC address: ${w.context} 00:00:00:00:00:00 dev NAME dst ADDRESS`, 'fdb');
  if (raw.dev === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs "dev NAME" (the link the entry belongs to)`, 'fdb');
  if (deleting) return { op: 'fdb.del', args: w.validate(validateFdbDelete, raw) };
  const args = w.validate(validateFdbEntry, raw);
  return action === 'add' ? { op: 'fdb.add', args } : action === 'append' ? { op: 'fdb.append', args } : { op: 'fdb.replace', args };
}

function fdbShow(w: Words, options: GlobalOptions): FdbShowOptions & { dev?: string } {
  const raw: Record<string, unknown> = {};
  while (!w.done) {
    const word = w.next();
    if (w.setFrom(raw, word, FDB_SHOW_VALUES)) continue;
    switch (word) {
      case 'dynamic':
        w.flag(raw, 'state', word, 'dynamic');
        break;
      default:
        throw w.unknown(word, FDB_SHOW_WORDS);
    }
  }
  if (options.stats > 0) raw.stats = true;
  return w.validate(validateFdbShow, raw);
}

// ---------------------------------------------------------------------------
// neigh
// ---------------------------------------------------------------------------

const NEIGH_VERBS = table([[ADD, 'add'], [DEL, 'del'], [SHOW, 'show']]);

function parseNeigh(words: string[]): ControlRequest {
  const w = new Words(words, 'neigh', 'neigh');
  const action = verb(w, 'neigh', NEIGH_VERBS, 'show');
  const raw: Record<string, unknown> = {};
  if (action === 'show') {
    while (!w.done) {
      const word = w.next();
      if (word === 'dev') w.set(raw, 'dev', word, EXPECT.name);
      else throw w.unknown(word, ['dev']);
    }
    return { op: 'neigh.show', args: w.validate(validateDevFilter, raw) };
  }
  const adding = action === 'add';
  const allowed = adding ? ['ADDRESS', 'to', 'lladdr', 'dev', 'nud'] : ['ADDRESS', 'to', 'dev'];
  while (!w.done) {
    const word = w.next();
    if (word === 'to') w.set(raw, 'address', word, EXPECT.address);
    else if (word === 'dev') w.set(raw, 'dev', word, EXPECT.name);
    else if (word === 'lladdr' && adding) w.set(raw, 'lladdr', word, EXPECT.mac);
    else if (word === 'nud' && adding) {
      w.once('nud', word);
      const state = w.value(word, 'permanent or noarp');
      // vtepkit's neighbour entries are what the controller says they are: static.
      if (state !== 'permanent' && state !== 'noarp') {
        throw new CliError('BAD_ARGUMENT', state, `argument "${state}" is wrong: "nud" must be permanent or noarp (vtepkit's neighbour entries are static)`, 'neigh');
      }
    } else if (raw.address === undefined && !allowed.includes(word)) {
      w.once('address', 'ADDRESS');
      raw.address = word;
      w.origins.set('address', { keyword: 'ADDRESS', word });
    } else throw w.unknown(word, allowed);
  }
  if (raw.address === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs the IP address: ${w.context} 10.0.0.2${adding ? ' lladdr MAC' : ''} dev NAME`, 'neigh');
  if (adding && raw.lladdr === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs "lladdr MAC"`, 'neigh');
  if (raw.dev === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs "dev NAME"`, 'neigh');
  if (adding) return { op: 'neigh.add', args: w.validate(validateNeighbour, raw) };
  return { op: 'neigh.del', args: w.validate(validateNeighbourKey, raw) };
}

// ---------------------------------------------------------------------------
// xfrm state
// ---------------------------------------------------------------------------

const XFRM_VERBS = table([[ADD, 'add'], [DEL, 'del'], [SHOW, 'show']]);
const XFRM_ADD_WORDS = ['src', 'dst', 'proto', 'spi', 'mode', 'reqid', 'replay-window', 'flag', 'aead', 'enc', 'auth', 'auth-trunc', 'encap'];
const XFRM_DEL_WORDS = ['src', 'dst', 'proto', 'spi'];
/** `capture DEV [tap|underlay] file FILE [count N] [seconds S]`: tcpdump's job, by the daemon, on either side of a link. */
function parseCapture(words: string[]): CliRequest {
  const w = new Words(words, 'capture', 'capture');
  const dev = w.value('capture', EXPECT.name);
  w.context = `capture ${dev}`;
  const raw: Record<string, unknown> = { dev, side: 'tap' };
  const allowed = ['tap', 'underlay', 'file', 'count', 'seconds'];
  while (!w.done) {
    const word = w.next();
    switch (word) {
      case 'tap':
      case 'underlay':
        w.once('side', word);
        raw.side = word;
        break;
      case 'file':
      case 'count':
      case 'seconds': {
        w.once(word, word);
        const value = w.value(word, word === 'file' ? EXPECT.file : EXPECT.integer);
        if (word === 'file') raw.file = value;
        else {
          const n = Number(value);
          if (!/^\d+$/.test(value) || n < 1 || n > (word === 'count' ? 10_000_000 : 86_400)) {
            throw new CliError('BAD_ARGUMENT', value, `argument "${value}" is wrong: ${word} must be an integer in 1..${word === 'count' ? 10_000_000 : 86_400}`, 'capture');
          }
          raw[word] = n;
        }
        break;
      }
      default:
        throw w.unknown(word, allowed);
    }
  }
  if (raw.file === undefined) throw usage(undefined, `"capture ${dev}" needs "file FILE" (the daemon writes the pcap there)`, 'capture');
  return { op: 'capture', args: raw as { dev: string; side: 'tap' | 'underlay'; file: string; count?: number; seconds?: number } };
}

/** iproute2's `flag` words; vtepkit implements `esn`. */
const XFRM_FLAGS = ['noecn', 'decap-dscp', 'nopmtudisc', 'wildrecv', 'icmp', 'af-unspec', 'align4', 'esn'];

function parseXfrm(words: string[]): ControlRequest {
  const w = new Words(words, 'xfrm', 'xfrm');
  const object = w.peek();
  if (object !== 'state') {
    if (object === undefined) throw usage(undefined, '"xfrm" needs "state": xfrm state add|del|show …', 'xfrm');
    throw usage(object, `unknown word "${object}" after "xfrm"; expected: state (vtepkit keeps security associations, not xfrm policies)`, 'xfrm');
  }
  w.next();
  w.context = 'xfrm state';
  const action = verb(w, 'xfrm', XFRM_VERBS, 'show');
  w.context = `xfrm state ${action}`;
  if (action === 'show') {
    if (!w.done) throw w.unknown(w.next(), []);
    return { op: 'xfrm.state.show', args: {} };
  }
  const adding = action === 'add';
  const raw: Record<string, unknown> = {};
  while (!w.done) {
    const word = w.next();
    switch (word) {
      case 'src':
      case 'dst':
        w.set(raw, word, word, EXPECT.address);
        break;
      case 'spi':
        w.set(raw, 'spi', word, EXPECT.spi);
        break;
      case 'proto': {
        w.once('proto', word);
        const proto = w.value(word, 'esp');
        if (proto !== 'esp') throw new CliError('BAD_ARGUMENT', proto, `argument "${proto}" is wrong: "proto" must be esp (vtepkit implements ESP only)`, 'xfrm');
        break;
      }
      default:
        if (!adding) throw w.unknown(word, XFRM_DEL_WORDS);
        xfrmAddWord(w, raw, word);
    }
  }
  if (raw.dst === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs "dst ADDRESS"`, 'xfrm');
  if (raw.spi === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs "spi SPI"`, 'xfrm');
  if (!adding) return { op: 'xfrm.state.del', args: w.validate(validateSaKey, raw) };
  if (raw.src === undefined) throw new CliError('MISSING_ARGUMENT', undefined, `"${w.context}" needs "src ADDRESS"`, 'xfrm');
  return { op: 'xfrm.state.add', args: w.validate(validateSa, raw) };
}

function xfrmAddWord(w: Words, raw: Record<string, unknown>, word: string): void {
  switch (word) {
    case 'mode':
      w.set(raw, 'mode', word, 'transport or tunnel');
      return;
    case 'reqid':
      w.set(raw, 'reqid', word, EXPECT.integer);
      return;
    case 'replay-window':
      w.set(raw, 'replayWindow', word, 'a window in packets, 0..32768');
      return;
    case 'flag': {
      let count = 0;
      while (!w.done && (count === 0 || XFRM_FLAGS.includes(w.peek()!))) {
        const flag = w.next();
        count++;
        if (flag !== 'esn') {
          const known = XFRM_FLAGS.includes(flag);
          throw new CliError('BAD_ARGUMENT', flag, `argument "${flag}" is wrong: ${known ? 'vtepkit implements only the flag esn' : '"flag" takes esn'}`, 'xfrm');
        }
        w.flag(raw, 'esn', 'flag esn', true);
      }
      if (count === 0) throw new CliError('MISSING_ARGUMENT', word, 'argument missing after "flag": expected esn', 'xfrm');
      return;
    }
    case 'aead': {
      w.once('aead', word);
      const name = w.value(word, 'an AEAD name such as rfc4106(gcm(aes)), then KEY and ICV bits');
      const key = w.value(`${word} ${name}`, EXPECT.key);
      const icvBits = w.value(`${word} ${name} KEY`, 'the ICV length in bits (128)');
      raw.aead = { name, key, icvBits };
      w.origins.set('aead.name', { keyword: 'aead', word: name });
      w.origins.set('aead.key', { keyword: 'aead key', word: key });
      w.origins.set('aead.icvBits', { keyword: 'aead ICV length', word: icvBits });
      w.origins.set('aead', { keyword: 'aead', word: 'aead' });
      return;
    }
    case 'enc': {
      w.once('enc', word);
      const name = w.value(word, 'a cipher name such as aes or cbc(aes), then KEY');
      const key = w.value(`${word} ${name}`, EXPECT.key);
      raw.enc = { name, key };
      w.origins.set('enc.name', { keyword: 'enc', word: name });
      w.origins.set('enc.key', { keyword: 'enc key', word: key });
      w.origins.set('enc', { keyword: 'enc', word: 'enc' });
      return;
    }
    case 'auth':
    case 'auth-trunc': {
      w.once('auth', word);
      const name = w.value(word, 'an integrity algorithm such as sha256 or hmac(sha256), then KEY');
      const key = w.value(`${word} ${name}`, EXPECT.key);
      const auth: Record<string, unknown> = { name, key };
      w.origins.set('auth.name', { keyword: word, word: name });
      w.origins.set('auth.key', { keyword: `${word} key`, word: key });
      w.origins.set('auth', { keyword: word, word });
      if (word === 'auth-trunc') {
        const bits = w.value(`${word} ${name} KEY`, 'the truncation length in bits (128)');
        auth.truncBits = bits;
        w.origins.set('auth.truncBits', { keyword: 'auth-trunc length', word: bits });
      }
      raw.auth = auth;
      return;
    }
    case 'encap': {
      w.once('encap', word);
      const type = w.value(word, 'espinudp, then SPORT DPORT OADDR');
      if (type !== 'espinudp') {
        throw new CliError('BAD_ARGUMENT', type, `argument "${type}" is wrong: "encap" must be espinudp (RFC 3948 ESP-in-UDP)`, 'xfrm');
      }
      const sport = w.value('encap espinudp', 'the source port, e.g. 4500');
      const dport = w.value('encap espinudp SPORT', 'the destination port, e.g. 4500');
      const oa = w.value('encap espinudp SPORT DPORT', 'the original address, 0.0.0.0');
      if (ipFamily(oa) === 0) throw new CliError('BAD_ARGUMENT', oa, `argument "${oa}" is wrong: the encap original address must be an IP address (0.0.0.0 when there is none)`, 'xfrm');
      raw.encap = { type, sport, dport };
      w.origins.set('encap.sport', { keyword: 'encap sport', word: sport });
      w.origins.set('encap.dport', { keyword: 'encap dport', word: dport });
      return;
    }
    default:
      throw w.unknown(word, XFRM_ADD_WORDS);
  }
}

// ---------------------------------------------------------------------------
// daemon
// ---------------------------------------------------------------------------

function parseDaemon(words: string[]): LocalRequest {
  const w = new Words(words, 'daemon', 'daemon');
  const args: { config?: string; espBackend?: EspBackendChoice } = {};
  while (!w.done) {
    const word = w.next();
    if (word === '--esp-backend') {
      w.once('espBackend', word);
      const value = w.value(word, ESP_BACKEND_CHOICES.join(', '));
      const choice = ESP_BACKEND_CHOICES.find((name) => name === value);
      if (choice === undefined) throw new CliError('BAD_ARGUMENT', value, `argument "${value}" is wrong: --esp-backend must be ${ESP_BACKEND_CHOICES.join(', ')}`, 'daemon');
      args.espBackend = choice;
    } else if (word === '--config' || word === '-c' || word === 'config') {
      w.once('config', word);
      args.config = w.value(word, 'the vtep.json file to apply at start');
    } else if (word.startsWith('--config=') && word.length > '--config='.length) {
      w.once('config', '--config');
      args.config = word.slice('--config='.length);
    } else throw w.unknown(word, ['--config', '--socket', '--esp-backend']);
  }
  return { op: 'daemon', args };
}

// ---------------------------------------------------------------------------
// Requests back to words (docs, logs, and the parser's round-trip tests)
// ---------------------------------------------------------------------------

function hex(value: number, digits = 0): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** The words that make `request` (what `parseWords` turns back into the same request). */
export function requestToWords(request: ControlRequest): string[] {
  switch (request.op) {
    case 'link.add': {
      const l = request.args;
      const out = ['link', 'add', l.name];
      if (l.mtu !== undefined) out.push('mtu', String(l.mtu));
      if (l.address !== undefined) out.push('address', l.address);
      out.push('type', l.type, l.type === 'vxlan' ? 'id' : 'vni', String(l.vni));
      if (l.dstport !== undefined) out.push('dstport', String(l.dstport));
      if (l.local !== undefined) out.push('local', l.local);
      if (l.remote !== undefined) out.push('remote', l.remote);
      if (l.group !== undefined) out.push('group', l.group);
      if (l.dev !== undefined) out.push('dev', l.dev);
      if (l.ttl !== undefined) out.push('ttl', String(l.ttl));
      if (l.tos !== undefined) out.push('tos', hex(l.tos, 2));
      if (l.ageing !== undefined) out.push('ageing', String(l.ageing));
      if (l.learning !== undefined) out.push(l.learning ? 'learning' : 'nolearning');
      if (l.proxy !== undefined) out.push(l.proxy ? 'proxy' : 'noproxy');
      if (l.udpChecksum !== undefined) out.push(l.udpChecksum ? 'udpcsum' : 'noudpcsum');
      if (l.gbp === true) out.push('gbp');
      if (l.pmtud !== undefined) out.push(l.pmtud ? 'pmtud' : 'nopmtud');
      if (l.srcport !== undefined) out.push('srcport', String(l.srcport.min), String(l.srcport.max));
      for (const o of l.options ?? []) out.push('option', 'class', hex(o.class, 4), 'type', hex(o.type, 2), 'data', o.data);
      for (const o of l.knownOptions ?? []) out.push('known-option', 'class', hex(o.class, 4), 'type', hex(o.type, 2));
      if (l.port !== undefined) out.push('port', l.port);
      return out;
    }
    case 'link.set': {
      const out = ['link', 'set', 'dev', request.args.name];
      if (request.args.up !== undefined) out.push(request.args.up ? 'up' : 'down');
      if (request.args.mtu !== undefined) out.push('mtu', String(request.args.mtu));
      if (request.args.address !== undefined) out.push('address', request.args.address);
      return out;
    }
    case 'link.del':
      return ['link', 'del', 'dev', request.args.name];
    case 'link.show':
      return [...(request.args.stats === true ? ['-s'] : []), 'link', 'show', ...(request.args.name === undefined ? [] : ['dev', request.args.name])];
    case 'addr.add':
    case 'addr.del':
      return ['addr', request.op === 'addr.add' ? 'add' : 'del', request.args.address, 'dev', request.args.dev];
    case 'addr.show':
      return ['addr', 'show', ...(request.args.dev === undefined ? [] : ['dev', request.args.dev])];
    case 'fdb.add':
    case 'fdb.append':
    case 'fdb.replace':
    case 'fdb.del': {
      const a = request.args as FdbEntryArgs;
      const out = ['fdb', request.op.slice(4), a.mac, 'dev', a.dev];
      if (a.dst !== undefined) out.push('dst', a.dst);
      if (a.localPort !== undefined) out.push('localport', String(a.localPort));
      if (a.port !== undefined) out.push('port', String(a.port));
      if (a.vni !== undefined) out.push('vni', String(a.vni));
      if (a.via !== undefined) out.push('via', a.via);
      if (a.state !== undefined) out.push(a.state);
      if (a.externLearn === true) out.push('extern_learn');
      if (a.router === true) out.push('router');
      return out;
    }
    case 'fdb.show': {
      const a = request.args;
      const out = [...(a.stats === true ? ['-s'] : []), 'fdb', 'show'];
      if (a.dev !== undefined) out.push('dev', a.dev);
      if (a.vni !== undefined) out.push('vni', String(a.vni));
      if (a.state !== undefined) out.push('state', a.state);
      return out;
    }
    case 'neigh.add':
      return ['neigh', 'add', request.args.address, 'lladdr', request.args.lladdr, 'dev', request.args.dev];
    case 'neigh.del':
      return ['neigh', 'del', request.args.address, 'dev', request.args.dev];
    case 'neigh.show':
      return ['neigh', 'show', ...(request.args.dev === undefined ? [] : ['dev', request.args.dev])];
    case 'xfrm.state.add': {
      const s = request.args;
      const out = ['xfrm', 'state', 'add', 'src', s.src, 'dst', s.dst, 'proto', 'esp', 'spi', hex(s.spi, 8)];
      if (s.reqid !== undefined) out.push('reqid', String(s.reqid));
      if (s.mode !== undefined) out.push('mode', s.mode);
      if (s.replayWindow !== undefined) out.push('replay-window', String(s.replayWindow));
      if (s.esn === true) out.push('flag', 'esn');
      if (s.aead !== undefined) out.push('aead', s.aead.name, s.aead.key, String(s.aead.icvBits ?? 128));
      if (s.enc !== undefined) out.push('enc', s.enc.name, s.enc.key);
      if (s.auth !== undefined) {
        if (s.auth.truncBits === undefined) out.push('auth', s.auth.name, s.auth.key);
        else out.push('auth-trunc', s.auth.name, s.auth.key, String(s.auth.truncBits));
      }
      if (s.encap !== undefined) out.push('encap', s.encap.type, String(s.encap.sport), String(s.encap.dport), '0.0.0.0');
      return out;
    }
    case 'xfrm.state.del': {
      const out = ['xfrm', 'state', 'del'];
      if (request.args.src !== undefined) out.push('src', request.args.src);
      out.push('dst', request.args.dst, 'proto', 'esp', 'spi', hex(request.args.spi, 8));
      return out;
    }
    case 'xfrm.state.show':
      return ['xfrm', 'state', 'show'];
    case 'apply':
      return ['up', 'FILE'];
    case 'dump':
      return ['dump'];
    case 'ping':
    case 'xfrm.stats':
    case 'capture.start':
    case 'capture.stop':
    case 'capture.show':
      // No words of their own: `-s xfrm state show` and `capture …` run them from the client.
      return [];
  }
}

// ---------------------------------------------------------------------------
// Help
// ---------------------------------------------------------------------------

export const USAGE: Record<HelpTopic | 'main', string> = {
  main: `Usage: vtepkit [ OPTIONS ] OBJECT { COMMAND | help }
       vtepkit daemon [ --config FILE ]
       vtepkit up FILE | dump | demo
       vtepkit capture NAME [ tap | underlay ] file FILE [ count N ] [ seconds S ]
where  OBJECT := { link | addr | fdb | neigh | xfrm state }
       OPTIONS := { -s[tatistics] | -d[etails] | -j[son] | -p[retty] | -4 | -6 |
                    --socket PATH | -h[elp] | -V[ersion] }
The daemon's control socket: --socket PATH, else $VTEPKIT_SOCKET, else /run/vtepkit.sock.
Try "vtepkit help OBJECT" or see docs/cli.md.`,
  link: `Usage: vtepkit link add [ name ] NAME [ mtu MTU ] [ address LLADDR ] type { vxlan | geneve } ARGS
       vtepkit link set [ dev ] NAME { up | down | mtu MTU | address LLADDR } ...
       vtepkit link del [ dev ] NAME
       vtepkit [ -s ] [ -d ] link show [ [ dev ] NAME ]
ARGS := { id | vni } VNI [ dstport PORT ] [ local ADDR ] [ remote ADDR | group ADDR [ dev PHYS_DEV ] ]
        [ ttl { 1..255 | auto } ] [ tos { TOS | inherit } ] [ ageing SECONDS ] [ [no]learning ] [ [no]proxy ]
        [ [no]udpcsum ] [ srcport MIN MAX ] [ [no]pmtud ] [ port { tap | memory } ]
        vxlan only:  [ gbp ]
        geneve only: [ option class CLASS type TYPE data 0xHEX ]... [ known-option class CLASS type TYPE ]...`,
  addr: `Usage: vtepkit addr { add | del } ADDRESS[/PREFIX] dev NAME
       vtepkit [ -4 | -6 ] addr show [ [ dev ] NAME ]`,
  fdb: `Usage: vtepkit fdb { add | append | replace | del } LLADDR dev NAME [ dst ADDR ] [ port PORT ] [ vni VNI ]
                    [ via DEV ] [ self ] [ permanent | static | dynamic ] [ extern_learn ] [ router ] [ localport N ]
       vtepkit [ -s ] fdb show [ dev NAME ] [ vni VNI ] [ state { permanent | static | dynamic } ]`,
  neigh: `Usage: vtepkit neigh add ADDR lladdr LLADDR dev NAME [ nud { permanent | noarp } ]
       vtepkit neigh del ADDR dev NAME
       vtepkit neigh show [ dev NAME ]`,
  xfrm: `Usage: vtepkit xfrm state add src ADDR dst ADDR proto esp spi SPI [ mode { transport | tunnel } ]
                    [ reqid REQID ] [ replay-window SIZE ] [ flag esn ] ALGO [ encap espinudp SPORT DPORT OADDR ]
       vtepkit xfrm state del [ src ADDR ] dst ADDR proto esp spi SPI
       vtepkit [ -s ] xfrm state show          (-s: per-SA counters, then ESP drops outside any SA)
ALGO := aead 'rfc4106(gcm(aes))' 0xKEYSALT 128
      | enc { aes | cbc(aes) } 0xKEY { auth { sha256 | hmac(sha256) } 0xKEY | auth-trunc hmac(sha256) 0xKEY 128 }`,
  capture: `Usage: vtepkit capture NAME [ tap | underlay ] file FILE [ count N ] [ seconds S ]
The daemon writes a pcap of link NAME to FILE (created mode 0600): "tap" (default) the inner Ethernet
frames, "underlay" the tunnel packets as raw IP. It stops after N packets (default 100000), after S
seconds, or on Ctrl-C, and prints how many were written. Read it with tshark -r FILE or tcpdump -r FILE.`,
  up: `Usage: vtepkit up FILE
Applies the whole set-up in FILE (JSON: { "version": 1, "links": [...], "up": [...], "addresses": [...],
"fdb": [...], "neighbours": [...], "xfrm": [...] }); "vtepkit dump" prints the running state as such a file.`,
  dump: `Usage: vtepkit dump
Prints the running state as a document "vtepkit up" accepts.`,
  daemon: `Usage: vtepkit [ --socket PATH ] daemon [ --config FILE ] [ --esp-backend { auto | openssl | node | gcm-js } ]
Holds the state and serves the control socket (mode 0600) until SIGINT or SIGTERM.
--esp-backend: the SAs' crypto: auto (default: openssl when the cipher addon is built, else node),
openssl, node (node:crypto), gcm-js (AES-GCM in JavaScript, opt-in: see docs/esp.md).`,
  demo: `Usage: vtepkit demo
Builds two network namespaces, runs a VTEP in each, pings across, prints the counters and cleans up.`,
};
