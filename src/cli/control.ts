/**
 * The control socket: how `vtepkit` verbs, `vtepkit up` and an external
 * controller drive the daemon's engine.
 *
 * A UNIX stream socket (path: the option, else $VTEPKIT_SOCKET, else
 * /run/vtepkit.sock; mode 0600) carrying newline-delimited JSON:
 *
 *   → {"id": 1, "op": "fdb.append", "args": {"dev": "vxlan100", "mac": "00:00:00:00:00:00", "dst": "192.168.1.20"}}
 *   ← {"id": 1, "ok": true, "result": null}
 *   ← {"id": 2, "ok": false, "error": {"code": "BAD_VALUE", "message": "args.vni: must be …", "field": "args.vni"}}
 *
 * `op` and `args` are the {@link ControlRequest}s of words.ts; every `args` is
 * checked by the validators of config.ts before the engine sees it. Requests
 * on one connection are answered in order; connections run independently.
 * A malformed, unknown or oversized request gets an error answer (with `id`
 * null when it could not be read) and harms neither the daemon nor the other
 * clients; the limits (request size, connections, idle time) are counted in
 * `ControlServer.stats`.
 */
import { once } from 'node:events';
import { closeSync, openSync, writeSync } from 'node:fs';
import { chmod, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import type { LinkConfig, SaConfigInput, VtepApi, VtepDocument } from '../vtep/api.js';
import {
  ConfigError,
  describe,
  jsonErrorText,
  nearest,
  readDocumentFile,
  validateAddress,
  validateCaptureId,
  validateCaptureStart,
  validateDevFilter,
  validateDocument,
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
  type CaptureStartArgs,
  type XfrmStateInput,
} from './config.js';
import type { ControlOp, ControlRequest, FdbDeleteArgs, FdbEntryArgs } from './words.js';

// ---------------------------------------------------------------------------
// Protocol
// ---------------------------------------------------------------------------

export const DEFAULT_SOCKET_PATH = '/run/vtepkit.sock';
export const SOCKET_ENV = 'VTEPKIT_SOCKET';
/** Largest request line (a whole `vtepkit up` document travels as one `apply`). */
export const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 32;
/** A connection with no traffic for this long is closed (ms). */
export const DEFAULT_IDLE_TIMEOUT = 120_000;
/** Longest `id` string echoed back. */
export const MAX_ID_LENGTH = 256;

export type RequestId = string | number | null;

export interface ControlErrorBody {
  /** Stable: the engine's codes (FdbError, EspError, …), ConfigError's, or the protocol's (BAD_JSON, BAD_REQUEST, UNKNOWN_OP, TOO_LARGE, BUSY, NOT_SUPPORTED, SHUTTING_DOWN, INTERNAL). */
  code: string;
  message: string;
  /** The JSON path of the bad field (`args.vni`), when there is one. */
  field?: string;
}

export type ControlResponse = { id: RequestId; ok: true; result: unknown } | { id: RequestId; ok: false; error: ControlErrorBody };

/** The path to use: the option, else $VTEPKIT_SOCKET, else /run/vtepkit.sock. */
export function resolveSocketPath(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option !== undefined && option !== '') return option;
  const fromEnv = env[SOCKET_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_SOCKET_PATH;
}

/** Errors of the client, of socket set-up, and error answers from the daemon. */
export class ControlError extends Error {
  override readonly name = 'ControlError';
  constructor(
    /** An answer's code, or the client's own: DAEMON_UNREACHABLE, PERMISSION_DENIED, TIMEOUT, CONNECTION_CLOSED, BAD_RESPONSE, ALREADY_RUNNING, SOCKET_PATH_IN_USE. */
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** An error as an answer: typed errors keep their code and field; anything else is INTERNAL. */
export function errorBody(error: unknown): ControlErrorBody {
  if (error instanceof Error) {
    const { code, field } = error as Error & { code?: unknown; field?: unknown };
    const body: ControlErrorBody = { code: typeof code === 'string' && code !== '' ? code : 'INTERNAL', message: error.message };
    if (typeof field === 'string' && field !== '') body.field = field;
    return body;
  }
  return { code: 'INTERNAL', message: `non-Error thrown: ${describe(error)}` };
}

/** One answer line; a result JSON cannot carry becomes an INTERNAL error answer. */
export function encodeResponse(response: ControlResponse): string {
  const replacer = (_key: string, value: unknown): unknown => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Uint8Array) return `0x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
    return value;
  };
  try {
    return `${JSON.stringify(response, replacer)}\n`;
  } catch (error) {
    return `${JSON.stringify({ id: response.id, ok: false, error: { code: 'INTERNAL', message: `the result cannot be sent as JSON: ${(error as Error).message}` } })}\n`;
  }
}

// ---------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------

function validateEmpty(value: unknown, path: string): Record<string, never> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('BAD_VALUE', path, `must be an object ({}), got ${describe(value)}`);
  const key = Object.keys(value)[0];
  if (key !== undefined) throw new ConfigError('UNKNOWN_FIELD', `${path}.${key}`, 'unknown field; this operation takes no arguments');
  return {};
}

function engineSa(sa: XfrmStateInput): SaConfigInput {
  const { reqid: _reqid, ...rest } = sa;
  return rest;
}

function engineDocument(document: VtepDocument): VtepDocument {
  return document.xfrm === undefined ? document : { ...document, xfrm: document.xfrm.map(engineSa) };
}

/** What the control layer knows about one operation. */
interface Operation {
  validate(value: unknown, path: string): unknown;
  run(server: ControlServer, args: never): unknown;
}

function operation<A>(validate: (value: unknown, path: string) => A, run: (server: ControlServer, args: A) => unknown): Operation {
  return { validate, run: run as (server: ControlServer, args: never) => unknown };
}

/** Engines may offer `deleteAddress(dev, cidr)` before VtepApi does. */
interface AddressDeleter {
  deleteAddress?(dev: string, cidr: string): Promise<void> | void;
}

const OPERATIONS: Record<ControlOp, Operation> = {
  'link.add': operation(validateLinkConfig, (s, a: LinkConfig) => s.api.addLink(a)),
  'link.set': operation(validateLinkSet, (s, { name, ...change }) => s.api.setLink(name, change)),
  'link.del': operation(validateLinkName, async (s, a) => {
    await s.api.deleteLink(a.name);
    return null;
  }),
  'link.show': operation(validateLinkShow, (s, a) => s.api.showLinks(a)),
  'addr.add': operation(validateAddress, async (s, a) => {
    await s.api.addAddress(a.dev, a.address);
    return null;
  }),
  'addr.del': operation(validateAddress, async (s, a) => {
    const api = s.api as VtepApi & AddressDeleter;
    if (typeof api.deleteAddress !== 'function') {
      throw new ControlError('NOT_SUPPORTED', `this engine cannot delete addresses yet; the link is a kernel TAP device, so "ip addr del ${a.address} dev ${a.dev}" does it`);
    }
    await api.deleteAddress(a.dev, a.address);
    return null;
  }),
  'addr.show': operation(validateDevFilter, (s, a) => (s.api.dump().addresses ?? []).filter((row) => a.dev === undefined || row.dev === a.dev)),
  'fdb.add': operation(validateFdbEntry, (s, { dev, mac, ...options }: FdbEntryArgs) => {
    s.api.fdbAdd(dev, mac, options);
    return null;
  }),
  'fdb.append': operation(validateFdbEntry, (s, { dev, mac, ...options }: FdbEntryArgs) => {
    s.api.fdbAppend(dev, mac, options);
    return null;
  }),
  'fdb.replace': operation(validateFdbEntry, (s, { dev, mac, ...options }: FdbEntryArgs) => {
    s.api.fdbReplace(dev, mac, options);
    return null;
  }),
  'fdb.del': operation(validateFdbDelete, (s, { dev, mac, ...options }: FdbDeleteArgs) => s.api.fdbDel(dev, mac, options)),
  'fdb.show': operation(validateFdbShow, (s, a) => s.api.fdbShow(a)),
  'neigh.add': operation(validateNeighbour, (s, a) => {
    s.api.neighAdd(a);
    return null;
  }),
  'neigh.del': operation(validateNeighbourKey, (s, a) => s.api.neighDel(a)),
  'neigh.show': operation(validateDevFilter, (s, a) => s.api.neighShow(a)),
  'xfrm.state.add': operation(validateSa, (s, a) => {
    s.api.xfrmStateAdd(engineSa(a));
    s.keepReqid(a);
    return null;
  }),
  'xfrm.state.del': operation(validateSaKey, (s, a) => {
    const deleted = s.api.xfrmStateDel(a.spi, a.dst);
    if (deleted) s.reqids.delete(`${a.spi} ${a.dst}`);
    return deleted;
  }),
  'xfrm.state.show': operation(validateEmpty, (s) => s.withReqids(s.api.xfrmStateShow())),
  'xfrm.stats': operation(validateEmpty, (s) => ({ drops: s.api.xfrmDrops?.() ?? {} })),
  'capture.start': operation(validateCaptureStart, (s, a) => s.startCapture(a)),
  'capture.stop': operation(validateCaptureId, (s, a) => s.stopCapture(a.id)),
  'capture.show': operation(validateEmpty, (s) => s.showCaptures()),
  apply: operation(
    (value, path) => {
      try {
        return validateDocument(value);
      } catch (error) {
        if (error instanceof ConfigError) throw new ConfigError(error.code, error.field === '' ? path : `${path}.${error.field}`, error.detail);
        throw error;
      }
    },
    async (s, document: VtepDocument) => {
      await s.api.apply(engineDocument(document));
      for (const sa of document.xfrm ?? []) s.keepReqid(sa);
      return null;
    },
  ),
  dump: operation(validateEmpty, (s) => {
    const document = s.api.dump();
    if (document.xfrm === undefined || s.reqids.size === 0) return document;
    return { ...document, xfrm: s.withReqids(document.xfrm as unknown as Record<string, unknown>[]) };
  }),
  ping: operation(validateEmpty, (s) => ({ pong: true, pid: process.pid, uptime: Math.round(process.uptime()), connections: s.stats.open })),
};

export const CONTROL_OPS = Object.keys(OPERATIONS) as ControlOp[];

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

export interface ControlServerOptions {
  /** Socket path; default $VTEPKIT_SOCKET, else /run/vtepkit.sock. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** Default {@link DEFAULT_MAX_REQUEST_BYTES}. */
  maxRequestBytes?: number;
  /** Default {@link DEFAULT_MAX_CONNECTIONS}; one more is told BUSY and closed. */
  maxConnections?: number;
  /** ms; 0 = never. Default {@link DEFAULT_IDLE_TIMEOUT}. */
  idleTimeout?: number;
  /** Told about INTERNAL errors (bugs in an engine method): default none. */
  onInternalError?: (error: unknown, op: string) => void;
}

export interface ControlServerStats {
  /** Connections open now. */
  open: number;
  accepted: number;
  /** Connections refused with BUSY. */
  rejected: number;
  requests: number;
  /** Answers with ok: false. */
  errors: number;
  /** Lines that were not JSON. */
  malformed: number;
  /** Requests over the size limit. */
  oversized: number;
  /** Connections closed for idleness. */
  idleClosed: number;
}

type QueueItem = { line: Buffer } | { response: ControlResponse };

const MAX_CAPTURES = 16;

interface CaptureEntry {
  id: number;
  dev: string;
  side: string;
  file: string;
  count: number;
  fd: number;
  stop: ((() => void) & { readonly packets: number; readonly running: boolean }) | undefined;
  error: string;
}

/** What capture.show / capture.stop answer. */
export interface CaptureRow {
  id: number;
  dev: string;
  side: string;
  file: string;
  count: number;
  packets: number;
  running: boolean;
  error?: string;
}

function captureRow(entry: CaptureEntry): CaptureRow {
  const row: CaptureRow = { id: entry.id, dev: entry.dev, side: entry.side, file: entry.file, count: entry.count, packets: entry.stop?.packets ?? 0, running: entry.stop?.running ?? false };
  if (entry.error !== '') row.error = entry.error;
  return row;
}

/** A UNIX-socket JSON server over a {@link VtepApi}. */
export class ControlServer {
  readonly path: string;
  readonly maxRequestBytes: number;
  readonly maxConnections: number;
  readonly idleTimeout: number;
  readonly stats: ControlServerStats = { open: 0, accepted: 0, rejected: 0, requests: 0, errors: 0, malformed: 0, oversized: 0, idleClosed: 0 };
  /** `xfrm state add … reqid N` kept per SA (`spi dst`) until VtepApi carries it; shown by xfrm.state.show and dump. */
  readonly reqids = new Map<string, number>();
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private closing = false;
  private readonly captures = new Map<number, CaptureEntry>();
  private captureIds = 0;
  private readonly onInternalError: ((error: unknown, op: string) => void) | undefined;

  constructor(
    readonly api: VtepApi,
    options: ControlServerOptions = {},
  ) {
    this.path = resolveSocketPath(options.path, options.env);
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
    this.onInternalError = options.onInternalError;
  }

  /** Removes a stale socket file, listens, and makes the socket mode 0600. */
  async listen(): Promise<void> {
    if (this.server !== undefined) throw new ControlError('ALREADY_LISTENING', `already listening on ${this.path}`);
    await prepareSocketPath(this.path);
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket is created by bind(2), synchronously inside listen(): with umask 0177 it is 0600 from the start.
      const previous = process.umask(0o177);
      try {
        server.listen(this.path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(previous);
      }
    });
    server.on('error', (error) => this.onInternalError?.(error, 'listen'));
    this.server = server;
    await chmod(this.path, 0o600);
  }

  /** Stops accepting, closes every connection, removes the socket file. */
  async close(): Promise<void> {
    this.closing = true;
    for (const entry of this.captures.values()) entry.stop?.();
    this.captures.clear();
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server !== undefined) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(this.path).catch(() => undefined);
    }
  }

  /** Answers one parsed request (what a line carries). Never throws. */
  async handle(message: unknown): Promise<ControlResponse> {
    this.stats.requests++;
    const response = await this.answer(message);
    if (!response.ok) this.stats.errors++;
    return response;
  }

  /** Answers one line of text; undefined for an empty line (no answer). Never throws. */
  async handleLine(line: Buffer | string): Promise<ControlResponse | undefined> {
    const text = (typeof line === 'string' ? line : line.toString('utf8')).replace(/\r$/, '');
    if (text.trim() === '') return undefined;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (error) {
      this.stats.requests++;
      this.stats.errors++;
      this.stats.malformed++;
      return { id: null, ok: false, error: { code: 'BAD_JSON', message: `not valid JSON: ${jsonErrorText(error, text)}; a request is one line {"id": …, "op": …, "args": {…}}` } };
    }
    return this.handle(message);
  }

  private async answer(message: unknown): Promise<ControlResponse> {
    const fail = (id: RequestId, code: string, text: string, field?: string): ControlResponse => ({
      id,
      ok: false,
      error: field === undefined ? { code, message: text } : { code, message: text, field },
    });
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return fail(null, 'BAD_REQUEST', `a request is a JSON object {"id": …, "op": …, "args": {…}}, got ${describe(message)}`);
    }
    const request = message as Record<string, unknown>;
    let id: RequestId = null;
    if (typeof request.id === 'string' && request.id.length <= MAX_ID_LENGTH) id = request.id;
    else if (typeof request.id === 'number' && Number.isFinite(request.id)) id = request.id;
    else if (request.id !== undefined && request.id !== null) {
      return fail(null, 'BAD_REQUEST', `id must be a number or a string of at most ${MAX_ID_LENGTH} characters, got ${describe(request.id)}`, 'id');
    }
    for (const key of Object.keys(request)) {
      if (key !== 'id' && key !== 'op' && key !== 'args') return fail(id, 'BAD_REQUEST', `unknown field "${key}"; a request has id, op and args`, key);
    }
    const op = request.op;
    if (typeof op !== 'string' || !Object.hasOwn(OPERATIONS, op)) {
      const guess = typeof op === 'string' ? nearest(op, CONTROL_OPS) : undefined;
      return fail(
        id,
        'UNKNOWN_OP',
        `op must be one of ${CONTROL_OPS.join(', ')}${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; got ${describe(op)}`,
        'op',
      );
    }
    if (this.closing) return fail(id, 'SHUTTING_DOWN', 'the daemon is stopping');
    const spec = OPERATIONS[op as ControlOp];
    try {
      const args = spec.validate(request.args ?? {}, 'args');
      const result = await spec.run(this, args as never);
      return { id, ok: true, result: result === undefined ? null : result };
    } catch (error) {
      const body = errorBody(error);
      if (body.code === 'INTERNAL') this.onInternalError?.(error, op);
      return { id, ok: false, error: body };
    }
  }

  /** @internal The daemon writes the pcap file itself (the client may be elsewhere); bounded by count. */
  startCapture(args: CaptureStartArgs): { id: number; file: string } {
    const capture = this.api.capture;
    if (typeof capture !== 'function') throw new ControlError('NOT_SUPPORTED', 'this engine has no packet capture');
    // Finished captures stay listed (for capture.stop's answer) but do not count; the oldest go when too many pile up.
    const running = [...this.captures.values()].filter((entry) => entry.stop?.running === true).length;
    if (running >= MAX_CAPTURES) throw new ControlError('BUSY', `at most ${MAX_CAPTURES} captures at once; stop one (vtepkit capture show)`);
    for (const [id, entry] of this.captures) {
      if (this.captures.size < 4 * MAX_CAPTURES) break;
      if (entry.stop?.running !== true) this.captures.delete(id);
    }
    let fd: number;
    try {
      fd = openSync(args.file, 'w', 0o600);
    } catch (error) {
      throw new ConfigError('UNREADABLE', 'args.file', `cannot create ${args.file}: ${(error as Error).message}`);
    }
    const id = ++this.captureIds;
    const entry: CaptureEntry = { id, dev: args.dev, side: args.side, file: args.file, count: args.count, fd, stop: undefined, error: '' };
    const closeFile = (): void => {
      if (entry.fd >= 0) closeSync(entry.fd);
      entry.fd = -1;
    };
    try {
      entry.stop = capture.call(this.api, args.dev, args.side, (bytes) => {
        if (entry.fd < 0) return;
        try {
          writeSync(entry.fd, bytes);
        } catch (error) {
          // A full disk or a removed file ends the capture, never the daemon.
          entry.error = (error as Error).message;
          entry.stop?.();
        }
      }, { count: args.count, onStop: closeFile });
    } catch (error) {
      closeFile();
      throw error;
    }
    this.captures.set(id, entry);
    return { id, file: args.file };
  }

  /** @internal */
  stopCapture(id: number): CaptureRow {
    const entry = this.captures.get(id);
    if (entry === undefined) throw new ControlError('NOT_FOUND', `no capture ${id}; running: ${[...this.captures.keys()].join(', ') || 'none'}`, 'args.id');
    entry.stop?.();
    this.captures.delete(id);
    return captureRow(entry);
  }

  /** @internal */
  showCaptures(): CaptureRow[] {
    return [...this.captures.values()].map(captureRow);
  }

  /** @internal */
  keepReqid(sa: XfrmStateInput): void {
    if (sa.reqid !== undefined) this.reqids.set(`${sa.spi} ${sa.dst}`, sa.reqid);
  }

  /** @internal Adds the kept reqid to SA records that lack one. */
  withReqids(states: Record<string, unknown>[]): Record<string, unknown>[] {
    if (this.reqids.size === 0 || !Array.isArray(states)) return states;
    return states.map((state) => {
      if (typeof state !== 'object' || state === null || state.reqid !== undefined) return state;
      const reqid = this.reqids.get(`${String(state.spi)} ${String(state.dst ?? state.destination)}`);
      return reqid === undefined ? state : { ...state, reqid };
    });
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (this.closing || this.sockets.size >= this.maxConnections) {
      this.stats.rejected++;
      const text = this.closing ? 'the daemon is stopping' : `too many connections (at most ${this.maxConnections}); try again`;
      socket.end(encodeResponse({ id: null, ok: false, error: { code: this.closing ? 'SHUTTING_DOWN' : 'BUSY', message: text } }));
      socket.setTimeout(1000, () => socket.destroy());
      return;
    }
    this.stats.accepted++;
    this.sockets.add(socket);
    this.stats.open = this.sockets.size;
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.stats.open = this.sockets.size;
    });
    if (this.idleTimeout > 0) {
      socket.setTimeout(this.idleTimeout, () => {
        this.stats.idleClosed++;
        socket.destroy();
      });
    }
    new Connection(this, socket).start();
  }

  /** @internal */
  countOversized(): void {
    this.stats.oversized++;
    this.stats.requests++;
    this.stats.errors++;
  }
}

/** One client connection: line framing, an ordered queue, back-pressure both ways. */
class Connection {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside an oversized line: drop bytes up to the next newline. */
  private discarding = false;
  private readonly queue: QueueItem[] = [];
  private queuedBytes = 0;
  private busy = false;
  private ended = false;
  private paused = false;

  constructor(
    private readonly server: ControlServer,
    private readonly socket: net.Socket,
  ) {}

  start(): void {
    this.socket.on('data', (chunk: Buffer) => this.data(chunk));
    this.socket.on('end', () => {
      this.ended = true;
      // A request without a final newline still counts.
      if (!this.discarding && this.pendingBytes > 0) this.push({ line: Buffer.concat(this.pending) });
      this.pending = [];
      this.pendingBytes = 0;
      void this.pump();
    });
  }

  private data(chunk: Buffer): void {
    const max = this.server.maxRequestBytes;
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) {
        const tail = chunk.subarray(start);
        if (!this.discarding) {
          if (this.pendingBytes + tail.length > max) {
            this.oversized();
            this.discarding = true;
          } else {
            this.pending.push(tail);
            this.pendingBytes += tail.length;
          }
        }
        break;
      }
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.discarding) {
        this.discarding = false;
        continue;
      }
      if (this.pendingBytes + piece.length > max) {
        this.oversized();
        continue;
      }
      const line = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.pending = [];
      this.pendingBytes = 0;
      this.push({ line });
    }
    void this.pump();
  }

  private oversized(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.server.countOversized();
    this.push({
      response: {
        id: null,
        ok: false,
        error: { code: 'TOO_LARGE', message: `request longer than ${this.server.maxRequestBytes} bytes; it was dropped up to its newline` },
      },
    });
  }

  private push(item: QueueItem): void {
    this.queue.push(item);
    this.queuedBytes += 'line' in item ? item.line.length : 64;
    // Back-pressure: a client that sends faster than we answer waits.
    if (!this.paused && (this.queue.length >= 256 || this.queuedBytes > this.server.maxRequestBytes * 2)) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.socket.destroyed) {
        const item = this.queue.shift()!;
        this.queuedBytes -= 'line' in item ? item.line.length : 64;
        if (this.paused && this.queue.length < 64 && this.queuedBytes <= this.server.maxRequestBytes) {
          this.paused = false;
          this.socket.resume();
        }
        const response = 'response' in item ? item.response : await this.server.handleLine(item.line);
        if (response === undefined || this.socket.destroyed) continue;
        if (!this.socket.write(encodeResponse(response))) {
          await Promise.race([once(this.socket, 'drain'), once(this.socket, 'close')]).catch(() => undefined);
        }
      }
    } finally {
      this.busy = false;
      if (this.ended && this.queue.length === 0 && !this.socket.destroyed) this.socket.end();
    }
  }
}

/**
 * Before listening: a socket file nobody answers on (left by a killed daemon)
 * is removed; a live one is ALREADY_RUNNING; a path that is not a socket is
 * SOCKET_PATH_IN_USE (never deleted).
 */
export async function prepareSocketPath(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!info.isSocket()) {
    throw new ControlError('SOCKET_PATH_IN_USE', `${path} exists and is not a socket; remove it or choose another path with --socket`);
  }
  const live = await new Promise<boolean>((resolve, reject) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      probe.destroy();
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else reject(error);
    });
  });
  if (live) throw new ControlError('ALREADY_RUNNING', `a vtepkit daemon already listens on ${path}`);
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

export interface ControlClientOptions {
  /** Socket path; default $VTEPKIT_SOCKET, else /run/vtepkit.sock. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** Per request, ms. Default 60000. */
  timeout?: number;
  /** Largest answer line accepted. Default 1 GiB. */
  maxResponseBytes?: number;
}

interface Waiter {
  resolve(result: unknown): void;
  reject(error: ControlError): void;
  timer: NodeJS.Timeout | undefined;
}

function connectError(error: NodeJS.ErrnoException, path: string): ControlError {
  switch (error.code) {
    case 'ENOENT':
      return new ControlError('DAEMON_UNREACHABLE', `no control socket at ${path}: is "vtepkit daemon" running? (choose the socket with --socket PATH or ${SOCKET_ENV})`);
    case 'ECONNREFUSED':
      return new ControlError('DAEMON_UNREACHABLE', `nothing listens on ${path} (a socket left by a stopped daemon): start "vtepkit daemon"`);
    case 'EACCES':
    case 'EPERM':
      return new ControlError('PERMISSION_DENIED', `permission denied on ${path}: the socket is mode 0600, owned by the daemon's user; run vtepkit as that user`);
    case 'ENOTSOCK':
      return new ControlError('DAEMON_UNREACHABLE', `${path} is not a socket`);
    default:
      return new ControlError('DAEMON_UNREACHABLE', `cannot connect to ${path}: ${error.message}`);
  }
}

/** A connection to the daemon; several requests may be in flight, matched by id. */
export class ControlClient {
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private buffer: Buffer[] = [];
  private bufferBytes = 0;
  private failure: ControlError | undefined;

  private constructor(
    private readonly socket: net.Socket,
    readonly path: string,
    private readonly timeout: number,
    private readonly maxResponseBytes: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', (error) => this.fail(connectError(error, path)));
    socket.on('close', () => this.fail(new ControlError('CONNECTION_CLOSED', `the daemon closed the connection on ${path}`)));
  }

  static async connect(options: ControlClientOptions = {}): Promise<ControlClient> {
    const path = resolveSocketPath(options.path, options.env);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(path);
      s.once('connect', () => {
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (error: NodeJS.ErrnoException) => reject(connectError(error, path)));
    });
    return new ControlClient(socket, path, options.timeout ?? 60_000, options.maxResponseBytes ?? 1024 * 1024 * 1024);
  }

  /** Sends one request; resolves its result, rejects with the answer's error as a ControlError. */
  request(request: ControlRequest): Promise<unknown>;
  request(op: string, args?: unknown): Promise<unknown>;
  request(opOrRequest: string | ControlRequest, args?: unknown): Promise<unknown> {
    const op = typeof opOrRequest === 'string' ? opOrRequest : opOrRequest.op;
    const body = typeof opOrRequest === 'string' ? args : opOrRequest.args;
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (this.timeout > 0) {
        waiter.timer = setTimeout(() => {
          this.waiters.delete(id);
          reject(new ControlError('TIMEOUT', `no answer to ${op} from ${this.path} within ${this.timeout} ms`));
        }, this.timeout);
      }
      this.waiters.set(id, waiter);
      this.socket.write(`${JSON.stringify({ id, op, args: body ?? {} })}\n`);
    });
  }

  close(): void {
    this.socket.end();
    this.fail(new ControlError('CONNECTION_CLOSED', 'the client was closed'));
  }

  private data(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) {
        this.buffer.push(chunk.subarray(start));
        this.bufferBytes += chunk.length - start;
        if (this.bufferBytes > this.maxResponseBytes) {
          this.fail(new ControlError('BAD_RESPONSE', `an answer longer than ${this.maxResponseBytes} bytes`));
          this.socket.destroy();
        }
        return;
      }
      const line = Buffer.concat([...this.buffer, chunk.subarray(start, newline)]).toString('utf8');
      this.buffer = [];
      this.bufferBytes = 0;
      start = newline + 1;
      this.line(line);
    }
  }

  private line(text: string): void {
    let response: ControlResponse;
    try {
      response = JSON.parse(text) as ControlResponse;
    } catch {
      this.fail(new ControlError('BAD_RESPONSE', `the daemon answered with something that is not JSON: ${describe(text)}`));
      return;
    }
    if (typeof response !== 'object' || response === null) return;
    const error = response.ok === false ? new ControlError(String(response.error?.code ?? 'INTERNAL'), String(response.error?.message ?? 'unknown error'), response.error?.field) : undefined;
    const waiter = typeof response.id === 'number' ? this.waiters.get(response.id) : undefined;
    if (waiter === undefined) {
      // An answer to no request of ours (BUSY, TOO_LARGE, BAD_JSON: id null) fails everything in flight.
      if (error !== undefined) this.fail(error);
      return;
    }
    this.waiters.delete(response.id as number);
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    if (error !== undefined) waiter.reject(error);
    else waiter.resolve((response as { result: unknown }).result);
  }

  private fail(error: ControlError): void {
    if (this.failure === undefined) this.failure = error;
    for (const [id, waiter] of this.waiters) {
      this.waiters.delete(id);
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}

/** Connects, sends one request, closes. Rejects with ControlError. */
export async function sendRequest(request: ControlRequest, options: ControlClientOptions = {}): Promise<unknown> {
  const client = await ControlClient.connect(options);
  try {
    return await client.request(request);
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------------------
// The daemon
// ---------------------------------------------------------------------------

export interface DaemonOptions extends ControlServerOptions {
  /** Makes the engine: `() => new Vtep()`; tests inject a fake. */
  createApi: () => VtepApi | Promise<VtepApi>;
  /** A vtep.json applied before the socket opens (checked first, references included). */
  config?: string;
}

export interface Daemon {
  readonly server: ControlServer;
  readonly api: VtepApi;
  /** Closes the socket (removing the file), then the engine. */
  stop(): Promise<void>;
}

/**
 * `vtepkit daemon`: refuses to start when a daemon answers on the socket,
 * checks and applies `config`, then serves. On failure the engine is closed again.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const path = resolveSocketPath(options.path, options.env);
  await prepareSocketPath(path);
  const document = options.config === undefined ? undefined : await readDocumentFile(options.config);
  const api = await options.createApi();
  const server = new ControlServer(api, { ...options, path });
  try {
    if (document !== undefined) {
      await api.apply(engineDocument(document));
      for (const sa of document.xfrm ?? []) server.keepReqid(sa);
    }
    await server.listen();
  } catch (error) {
    await server.close().catch(() => undefined);
    await api.close().catch(() => undefined);
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    server,
    api,
    stop: () => {
      stopped ??= (async () => {
        await server.close();
        await api.close();
      })();
      return stopped;
    },
  };
}
