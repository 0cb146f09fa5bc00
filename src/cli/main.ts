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
import type { LinkInfo, VtepApi } from '../vtep/api.js';
import { ConfigError, readDocumentFile } from './config.js';
import { ControlClient, resolveSocketPath, startDaemon, type Daemon } from './control.js';
import { formatJson, formatResult } from './format.js';
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
async function defaultCreateApi(): Promise<VtepApi> {
  // A variable specifier: the engine is optional at build time of this file.
  const specifier = '../vtep/vtep.js';
  let module: { Vtep?: new () => VtepApi };
  try {
    module = (await import(specifier)) as { Vtep?: new () => VtepApi };
  } catch (error) {
    throw new Error(`the vtepkit engine cannot be loaded (${specifier}): ${(error as Error).message}`);
  }
  if (typeof module.Vtep !== 'function') throw new Error(`${specifier} exports no Vtep class`);
  return new module.Vtep();
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
        return await runDaemon(socket, request.args.config, io, hooks);
      case 'up': {
        const document = await readDocumentFile(request.args.file);
        await call({ op: 'apply', args: document }, socket, hooks, options, io);
        return EXIT_OK;
      }
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
    print(io.stdout, text);
    return EXIT_OK;
  } finally {
    client.close();
  }
}

async function runDaemon(socket: string, config: string | undefined, io: MainIo, hooks: MainHooks): Promise<number> {
  const daemon = await startDaemon({
    path: socket,
    createApi: hooks.createApi ?? defaultCreateApi,
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

