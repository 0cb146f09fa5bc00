/**
 * The `vtepkit` command: words → request → daemon → printed answer.
 *
 * Exit status: 0 done; 1 the command failed (a bad word or value, an error
 * from the daemon, the daemon unreachable), with `Error: …` on stderr as
 * iproute2 prints it; 2 the command was not understood (usage).
 *
 * `bin/vtepkit.mjs` runs `main(process.argv.slice(2))` from dist/.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { EspBackendChoice, LinkInfo, VtepApi } from '../vtep/api.js';
import { ConfigError, readDocumentFile } from './config.js';
import { ControlClient, resolveSocketPath, startDaemon, type Daemon } from './control.js';
import { formatJson, formatResult, formatXfrmDrops } from './format.js';
import { CliError, parseWords, USAGE, type ControlRequest, type GlobalOptions, type HelpTopic } from './words.js';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export interface MainIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

export interface MainHooks {
  /** Makes the engine for `vtepkit daemon`. Default: `new Vtep()` from src/vtep/vtep.ts. */
  createApi?: () => VtepApi | Promise<VtepApi>;
  /** Runs `vtepkit demo WORDS…`; returns the exit status. */
  demo?: (words: string[], io: MainIo) => Promise<number>;
  /** Stops `vtepkit daemon` when aborted (tests). SIGINT and SIGTERM always do. */
  stopSignal?: AbortSignal;
  /** Told when the daemon listens (tests). */
  onDaemon?: (daemon: Daemon) => void;
  /** Per-request timeout of the client, ms. */
  timeout?: number;
}

function processIo(): MainIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** The engine, loaded when the daemon starts (so that the other verbs never load it). */
async function defaultCreateApi(options: { espBackend?: EspBackendChoice } = {}): Promise<VtepApi> {
  // A variable specifier: the engine is optional at build time of this file.
  const specifier = '../vtep/vtep.js';
  let module: { Vtep?: new (options?: { espBackend?: EspBackendChoice }) => VtepApi };
  try {
    module = (await import(specifier)) as { Vtep?: new (options?: { espBackend?: EspBackendChoice }) => VtepApi };
  } catch (error) {
    throw new Error(`the vtepkit engine cannot be loaded (${specifier}): ${(error as Error).message}`);
  }
  if (typeof module.Vtep !== 'function') throw new Error(`${specifier} exports no Vtep class`);
  return new module.Vtep(options);
}

async function version(): Promise<string> {
  try {
    const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
    return String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function print(stream: MainIo['stdout'], text: string): void {
  if (text !== '') stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** The message when a delete found nothing (the API answers false). */
function notFound(request: ControlRequest): string | undefined {
  switch (request.op) {
    case 'fdb.del':
      return `no FDB entry ${request.args.mac} on ${request.args.dev}${request.args.dst === undefined ? '' : ` with dst ${request.args.dst}`}`;
    case 'neigh.del':
      return `no neighbour ${request.args.address} on ${request.args.dev}`;
    case 'xfrm.state.del':
      return `no SA with SPI 0x${request.args.spi.toString(16).padStart(8, '0')} to ${request.args.dst}`;
    default:
      return undefined;
  }
}

/** Runs one `vtepkit` command line; resolves the exit status. Never throws. */
export async function main(argv: readonly string[] = process.argv.slice(2), io: MainIo = processIo(), hooks: MainHooks = {}): Promise<number> {
  let command;
  try {
    command = parseWords(argv);
  } catch (error) {
    if (error instanceof CliError) {
      print(io.stderr, `Error: ${error.message}`);
      if (error.exitCode === EXIT_USAGE) print(io.stderr, `Try "vtepkit help${error.topic === undefined ? '' : ` ${error.topic}`}".`);
      return error.exitCode;
    }
    print(io.stderr, `Error: ${(error as Error).message}`);
    return EXIT_ERROR;
  }
  const { options, request } = command;
  const socket = resolveSocketPath(options.socket, io.env);
  try {
    switch (request.op) {
      case 'help':
        print(io.stdout, USAGE[(request.args.topic ?? 'main') as HelpTopic | 'main']);
        return EXIT_OK;
      case 'version':
        print(io.stdout, `vtepkit ${await version()}`);
        return EXIT_OK;
      case 'demo': {
        const demo = hooks.demo ?? (await import('./demo.js')).runDemo;
        return await demo(request.args.words, io);
      }
      case 'daemon':
        return await runDaemon(socket, request.args.config, io, hooks, request.args.espBackend);
      case 'up': {
        const document = await readDocumentFile(request.args.file);
        await call({ op: 'apply', args: document }, socket, hooks, options, io);
        return EXIT_OK;
      }
      case 'capture':
        return await runCapture(request.args, socket, hooks, io);
      default:
        return await call(request, socket, hooks, options, io);
    }
  } catch (error) {
    if (error instanceof ConfigError && request.op === 'up' && error.code !== 'UNREADABLE' && error.code !== 'TOO_LARGE') {
      print(io.stderr, `Error: ${request.args.file}: ${error.message}`);
    } else {
      print(io.stderr, `Error: ${(error as Error).message}`);
    }
    return EXIT_ERROR;
  }
}

/**
 * `vtepkit capture`: the daemon writes the file; this process waits for the
 * count, the seconds or Ctrl-C, stops the capture and says how many packets.
 */
async function runCapture(
  args: { dev: string; side: 'tap' | 'underlay'; file: string; count?: number; seconds?: number },
  socket: string,
  hooks: MainHooks,
  io: MainIo,
): Promise<number> {
  const client = await ControlClient.connect({ path: socket, ...(hooks.timeout === undefined ? {} : { timeout: hooks.timeout }) });
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const file = resolve(args.file);
    const started = (await client.request({ op: 'capture.start', args: { dev: args.dev, side: args.side, file, ...(args.count === undefined ? {} : { count: args.count }) } })) as { id: number };
    print(io.stderr, `capturing ${args.side} of ${args.dev} to ${file}${args.count === undefined ? '' : `, ${args.count} packets`}${args.seconds === undefined ? '' : `, ${args.seconds} s`} (Ctrl-C stops)`);
    const deadline = args.seconds === undefined ? Infinity : Date.now() + args.seconds * 1000;
    const aborted = hooks.stopSignal;
    for (;;) {
      if (interrupted || aborted?.aborted || Date.now() >= deadline) break;
      const rows = (await client.request({ op: 'capture.show', args: {} })) as { id: number; running: boolean }[];
      if (!rows.find((row) => row.id === started.id)?.running) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const row = (await client.request({ op: 'capture.stop', args: { id: started.id } })) as { packets: number; error?: string };
    print(io.stdout, `${row.packets} packet${row.packets === 1 ? '' : 's'} captured to ${file}`);
    if (row.error !== undefined) {
      print(io.stderr, `Error: the capture stopped: ${row.error}`);
      return EXIT_ERROR;
    }
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    client.close();
  }
}

/** Sends a control request and prints the answer. */
async function call(request: ControlRequest, socket: string, hooks: MainHooks, options: GlobalOptions, io: MainIo): Promise<number> {
  const client = await ControlClient.connect({ path: socket, ...(hooks.timeout === undefined ? {} : { timeout: hooks.timeout }) });
  try {
    let links: LinkInfo[] = [];
    if (request.op === 'addr.show' && !options.json) links = (await client.request({ op: 'link.show', args: {} })) as LinkInfo[];
    const result = await client.request(request);
    if (result === false) {
      const message = notFound(request);
      if (message !== undefined) {
        print(io.stderr, `Error: ${message}`);
        return EXIT_ERROR;
      }
    }
    let text: string;
    try {
      text = formatResult(request, result, options, links);
    } catch {
      // An answer of an unexpected shape: show it rather than fail.
      text = formatJson(result, true);
    }
    if (request.op === 'xfrm.state.show' && options.stats > 0) {
      // ESP packets dropped before any SA could count them (unknown SPI, …): the engine's own counters.
      const { drops } = (await client.request({ op: 'xfrm.stats', args: {} })) as { drops: Record<string, number> };
      if (options.json) text = formatJson({ states: result, drops }, options.pretty);
      else text = `${text}${text === '' ? '' : '\n'}${formatXfrmDrops(drops)}`;
    }
    print(io.stdout, text);
    return EXIT_OK;
  } finally {
    client.close();
  }
}

async function runDaemon(socket: string, config: string | undefined, io: MainIo, hooks: MainHooks, espBackend?: EspBackendChoice): Promise<number> {
  const daemon = await startDaemon({
    path: socket,
    createApi: hooks.createApi ?? (() => defaultCreateApi(espBackend === undefined ? {} : { espBackend })),
    ...(config === undefined ? {} : { config }),
    onInternalError: (error, op) => print(io.stderr, `vtepkit daemon: internal error in ${op}: ${(error as Error)?.stack ?? String(error)}`),
  });
  print(io.stderr, `vtepkit daemon: listening on ${daemon.server.path}${config === undefined ? '' : ` (applied ${config})`}`);
  hooks.onDaemon?.(daemon);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      hooks.stopSignal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (hooks.stopSignal?.aborted === true) stop();
    else hooks.stopSignal?.addEventListener('abort', stop);
  });
  await daemon.stop();
  print(io.stderr, 'vtepkit daemon: stopped');
  return EXIT_OK;
}

