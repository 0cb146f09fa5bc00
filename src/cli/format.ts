/**
 * What `vtepkit` prints: text shaped like iproute2's (`ip -d link show`,
 * `ip -s link`, `bridge fdb show`, `ip neigh`, `ip addr`, `ip xfrm state`), or
 * with `-j` the control API's own JSON (the field names of vtep.json), indented
 * with `-p`.
 */
import { formatRow, type FdbRow } from '../fdb/index.js';
import type { LinkCounters, LinkInfo, VtepDocument } from '../vtep/api.js';
import type { ControlRequest, GlobalOptions } from './words.js';

/** JSON that survives what an engine may return: bigint as a decimal string, bytes as 0x hex. */
export function formatJson(value: unknown, pretty = false): string {
  return JSON.stringify(
    value,
    (_key, item: unknown) => {
      if (typeof item === 'bigint') return item.toString();
      if (item instanceof Uint8Array) return `0x${Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('hex')}`;
      return item;
    },
    pretty ? 2 : undefined,
  ) ?? 'null';
}

// ---------------------------------------------------------------------------
// Links (ip link show)
// ---------------------------------------------------------------------------

function hexByte(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}

function linkHeader(link: LinkInfo): string[] {
  const flags = link.up ? 'BROADCAST,MULTICAST,UP,LOWER_UP' : 'BROADCAST,MULTICAST';
  // A TAP or vxlan device that is up has no carrier state of its own: Linux shows UNKNOWN.
  const state = link.up ? 'UNKNOWN' : 'DOWN';
  const index = link.ifindex === undefined ? '' : `${link.ifindex}: `;
  return [`${index}${link.name}: <${flags}> mtu ${link.mtu} state ${state} mode DEFAULT`, `    link/ether ${link.address} brd ff:ff:ff:ff:ff:ff`];
}

/** The `-d` line: `vxlan id 100 remote … local … dev … srcport … dstport … nolearning ttl auto ageing 300 noudpcsum`. */
export function linkDetails(link: LinkInfo): string[] {
  const words: string[] = [link.type, 'id', String(link.vni)];
  if (link.remote !== undefined) words.push('remote', link.remote);
  if (link.group !== undefined) words.push('group', link.group);
  if (link.local !== undefined) words.push('local', link.local);
  if (link.dev !== undefined) words.push('dev', link.dev);
  if (link.srcport !== undefined) words.push('srcport', String(link.srcport.min), String(link.srcport.max));
  if (link.dstport !== undefined) words.push('dstport', String(link.dstport));
  if (link.learning === false) words.push('nolearning');
  if (link.proxy === true) words.push('proxy');
  words.push('ttl', link.ttl === undefined ? 'auto' : String(link.ttl));
  if (link.tos !== undefined && link.tos !== 0) words.push('tos', link.tos === 1 ? 'inherit' : hexByte(link.tos));
  if (link.ageing !== undefined) words.push('ageing', String(link.ageing));
  if (link.udpChecksum !== undefined) words.push(link.udpChecksum ? 'udpcsum' : 'noudpcsum');
  if (link.gbp === true) words.push('gbp');
  if (link.pmtud === true) words.push('pmtud');
  if (link.port === 'memory') words.push('port', 'memory');
  const lines = [`    ${words.join(' ')}`];
  for (const option of link.options ?? []) {
    lines.push(`    option class 0x${option.class.toString(16).padStart(4, '0')} type ${hexByte(option.type)} data ${option.data}`);
  }
  for (const known of link.knownOptions ?? []) {
    lines.push(`    known-option class 0x${known.class.toString(16).padStart(4, '0')} type ${hexByte(known.type)}`);
  }
  return lines;
}

/** Right-aligned columns, as `ip -s link` prints them. */
function counterTable(rows: [string, string[], number[]][]): string[] {
  const columns = Math.max(...rows.map(([, headers]) => headers.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) {
    widths.push(Math.max(...rows.map(([, headers, values]) => Math.max((headers[c] ?? '').length, String(values[c] ?? '').length))));
  }
  const lines: string[] = [];
  for (const [label, headers, values] of rows) {
    lines.push(`    ${`${label}:`.padEnd(4)} ${headers.map((h, c) => h.padStart(widths[c]!)).join(' ')}`);
    lines.push(`    ${''.padEnd(4)} ${values.map((v, c) => String(v).padStart(widths[c]!)).join(' ')}`);
  }
  return lines;
}

export function linkCounters(stats: LinkCounters): string[] {
  const lines = counterTable([
    ['RX', ['bytes', 'packets', 'dropped'], [stats.rxBytes, stats.rxPackets, stats.rxDropped]],
    ['TX', ['bytes', 'packets', 'dropped'], [stats.txBytes, stats.txPackets, stats.txDropped]],
  ]);
  const reasons = Object.entries(stats.drops ?? {}).filter(([, count]) => count !== 0);
  if (reasons.length > 0) lines.push(`    drops: ${reasons.map(([reason, count]) => `${reason} ${count}`).join(' ')}`);
  // The link's socket (shared by the links on it): datagrams dropped before a link could be known.
  const u = stats.underlay;
  if (u !== undefined) {
    const socket = ([['bad-header', u.badHeader], ['unknown-vni', u.unknownVni], ['oversize', u.oversize], ['no-buffer', u.noBuffer], ['tx-errors', u.txErrors]] as const)
      .filter(([, count]) => count !== 0);
    if (socket.length > 0) lines.push(`    socket drops: ${socket.map(([reason, count]) => `${reason} ${count}`).join(' ')}`);
  }
  return lines;
}

/** `ip [-d] [-s] link show`. */
export function formatLinks(links: readonly LinkInfo[], options: Pick<GlobalOptions, 'details' | 'stats'>): string {
  const lines: string[] = [];
  for (const link of links) {
    lines.push(...linkHeader(link));
    if (options.details) lines.push(...linkDetails(link));
    if (options.stats > 0 && link.stats !== undefined) lines.push(...linkCounters(link.stats));
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// Addresses (ip addr show)
// ---------------------------------------------------------------------------

/** `ip addr show`: each link's header, then its addresses. */
export function formatAddresses(
  links: readonly LinkInfo[],
  addresses: readonly { dev: string; address: string }[],
  options: Pick<GlobalOptions, 'family' | 'details'>,
  dev?: string,
): string {
  const lines: string[] = [];
  const byDev = new Map<string, string[]>();
  for (const row of addresses) {
    const v6 = row.address.includes(':');
    if ((options.family === 4 && v6) || (options.family === 6 && !v6)) continue;
    const list = byDev.get(row.dev) ?? [];
    list.push(`    ${v6 ? 'inet6' : 'inet'} ${row.address} scope global${v6 ? '' : ` ${row.dev}`}`);
    byDev.set(row.dev, list);
  }
  const shown = new Set<string>();
  for (const link of links) {
    if (dev !== undefined && link.name !== dev) continue;
    shown.add(link.name);
    lines.push(...linkHeader(link));
    if (options.details) lines.push(...linkDetails(link));
    lines.push(...(byDev.get(link.name) ?? []));
  }
  for (const [name, list] of byDev) {
    if (shown.has(name) || (dev !== undefined && name !== dev)) continue;
    lines.push(`${name}:`, ...list);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// FDB (bridge fdb show) and neighbours (ip neigh)
// ---------------------------------------------------------------------------

/** `bridge fdb show`: each row as src/fdb's formatRow prints it, with `dev NAME` after the MAC unless one device was asked for. */
export function formatFdbRows(rows: readonly (FdbRow & { dev: string })[], dev?: string): string {
  return rows
    .map((row) => {
      const line = formatRow(row);
      if (dev !== undefined) return line;
      const space = line.indexOf(' ');
      return space < 0 ? `${line} dev ${row.dev}` : `${line.slice(0, space)} dev ${row.dev}${line.slice(space)}`;
    })
    .join('\n');
}

/** `ip neigh show`: `10.200.0.2 dev vxlan100 lladdr 02:00:00:00:00:02 PERMANENT`. */
export function formatNeighbours(rows: readonly { dev: string; address: string; lladdr: string; state: string }[]): string {
  return rows.map((row) => `${row.address} dev ${row.dev} lladdr ${row.lladdr}${row.state === '' ? '' : ` ${row.state.toUpperCase()}`}`).join('\n');
}

// ---------------------------------------------------------------------------
// Security associations (ip xfrm state)
// ---------------------------------------------------------------------------

type Fields = Record<string, unknown>;

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return formatJson(value);
}

/** `\taead NAME KEY BITS`, from `{name, key, icvBits}` or from a name alone (the engine hides keys). */
function algorithmLine(keyword: string, value: unknown, bitsField: string): string | undefined {
  if (typeof value === 'string') return `\t${keyword} ${value}`;
  if (typeof value !== 'object' || value === null) return undefined;
  const a = value as Fields;
  const words = [keyword, text(a.name ?? '?')];
  if (a.key !== undefined) words.push(text(a.key));
  if (a[bitsField] !== undefined) words.push(text(a[bitsField]));
  return `\t${words.join(' ')}`;
}

/** Fields of an SA's counters that repeat what the first lines show. */
const SHOWN_ABOVE = new Set(['spi', 'mode', 'esn', 'replayWindow', 'source', 'destination', 'src', 'dst', 'udpEncapsulation', 'encap', 'reqid']);

/** `-s`: the SA's counters: its scalar fields on one line, the non-zero packet counters on the next. */
function statsLines(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`\tstats ${text(value)}`];
  const scalars: string[] = [];
  const counters: string[] = [];
  for (const [name, item] of Object.entries(value as Fields)) {
    if (SHOWN_ABOVE.has(name) || item === null || item === undefined) continue;
    if (typeof item === 'object' && !Array.isArray(item)) {
      for (const [counter, count] of Object.entries(item as Fields)) if (count !== 0) counters.push(`${counter} ${text(count)}`);
    } else {
      scalars.push(`${name} ${text(item)}`);
    }
  }
  const lines = [`\tstats: ${scalars.join(' ')}`];
  lines.push(`\tcounters: ${counters.length === 0 ? 'none' : counters.join(' ')}`);
  return lines;
}

/**
 * `ip xfrm state`: the SA records the engine returns, in iproute2's layout.
 * Known fields (src/source, dst/destination, spi, reqid, mode, replayWindow,
 * esn, aead, enc, auth, algorithm, encap/udpEncapsulation) are laid out as
 * iproute2 does; `stats` only with `-s`; any other field follows as `name value`.
 */
export function formatXfrmStates(states: readonly Fields[], options: Pick<GlobalOptions, 'stats'> = { stats: 0 }): string {
  const blocks: string[] = [];
  for (const state of states) {
    const used = new Set<string>(['stats']);
    const take = (...names: string[]): unknown => {
      for (const name of names) used.add(name);
      for (const name of names) if (state[name] !== undefined && state[name] !== null) return state[name];
      return undefined;
    };
    const src = take('src', 'source');
    const dst = take('dst', 'destination');
    const lines = [`src ${text(src ?? '0.0.0.0')} dst ${text(dst ?? '0.0.0.0')}`];
    const spi = take('spi');
    const spiText = typeof spi === 'number' ? `0x${spi.toString(16).padStart(8, '0')}` : text(spi ?? '?');
    lines.push(`\tproto esp spi ${spiText} reqid ${text(take('reqid') ?? 0)} mode ${text(take('mode') ?? 'transport')}`);
    const window = take('replayWindow', 'replay-window');
    const flags = take('esn') === true ? ' flag esn' : '';
    if (window !== undefined || flags !== '') lines.push(`\treplay-window ${text(window ?? 0)}${flags}`);
    const auth = take('auth');
    const truncated = typeof auth === 'object' && auth !== null && (auth as Fields).truncBits !== undefined;
    for (const line of [algorithmLine('aead', take('aead'), 'icvBits'), algorithmLine('enc', take('enc'), 'bits'), algorithmLine(truncated ? 'auth-trunc' : 'auth', auth, 'truncBits')]) {
      if (line !== undefined) lines.push(line);
    }
    const algorithm = take('algorithm');
    if (algorithm !== undefined) lines.push(`\talgorithm ${text(algorithm)}`);
    const encap = take('encap', 'udpEncapsulation');
    if (typeof encap === 'object' && encap !== null) {
      const e = encap as Fields;
      lines.push(`\tencap type espinudp sport ${text(e.sport ?? e.sourcePort ?? 4500)} dport ${text(e.dport ?? e.destinationPort ?? 4500)} addr 0.0.0.0`);
    }
    for (const key of Object.keys(state)) {
      const value = state[key];
      if (used.has(key) || value === undefined || value === null) continue;
      if (typeof value === 'object' && !Array.isArray(value)) {
        lines.push(`\t${key}: ${Object.entries(value as Fields).map(([name, item]) => `${name} ${text(item)}`).join(' ')}`);
      } else {
        lines.push(`\t${key} ${text(value)}`);
      }
    }
    if (options.stats > 0 && state.stats !== undefined && state.stats !== null) lines.push(...statsLines(state.stats));
    blocks.push(lines.join('\n'));
  }
  return blocks.join('\n');
}

/** The engine's ESP receive drops outside any SA (`vtepkit -s xfrm state show`, last line). */
export function formatXfrmDrops(drops: Readonly<Record<string, number>>): string {
  const entries = Object.entries(drops).filter(([, n]) => n > 0);
  return `ESP drops outside any SA: ${entries.length === 0 ? 'none' : entries.map(([reason, n]) => `${reason} ${n}`).join(' ')}`;
}

// ---------------------------------------------------------------------------
// Any result
// ---------------------------------------------------------------------------

/** The document `vtepkit dump` prints (what `vtepkit up` reads): indented JSON. */
export function formatDocument(document: VtepDocument): string {
  return formatJson(document, true);
}

/**
 * What to print for the result of `request` ('' for nothing, as iproute2
 * prints nothing after a change). `addr.show` needs the links too: pass them
 * as `links`.
 */
export function formatResult(request: ControlRequest, result: unknown, options: GlobalOptions, links: readonly LinkInfo[] = []): string {
  switch (request.op) {
    case 'link.show':
      return options.json ? formatJson(result, options.pretty) : formatLinks(result as LinkInfo[], options);
    case 'addr.show':
      return options.json ? formatJson(result, options.pretty) : formatAddresses(links, result as { dev: string; address: string }[], options, request.args.dev);
    case 'fdb.show':
      return options.json ? formatJson(result, options.pretty) : formatFdbRows(result as (FdbRow & { dev: string })[], request.args.dev);
    case 'neigh.show':
      return options.json ? formatJson(result, options.pretty) : formatNeighbours(result as { dev: string; address: string; lladdr: string; state: string }[]);
    case 'xfrm.state.show':
      return options.json ? formatJson(result, options.pretty) : formatXfrmStates(result as Fields[], options);
    case 'dump':
      return formatDocument(result as VtepDocument);
    case 'ping':
      return formatJson(result, options.pretty);
    case 'link.add':
    case 'link.set':
      return options.json ? formatJson(result, options.pretty) : '';
    default:
      return '';
  }
}
