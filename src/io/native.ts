/**
 * Loads the TAP addon (native-shims/build/Release/vtepkit_tap.node) once, on first use.
 *
 * The addon is optional, as `bufferutil` is for `ws`: importing vtepkit never loads
 * it, and when it is missing or broken only opening a TAP device fails, with a
 * message that says what is missing and how to build it ({@link tapAddonMissingMessage}).
 * The addon does syscalls only; every decision is made in `tap.ts`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** An error thrown by the addon for a failed syscall: `code` is the errno name. */
export interface NativeSyscallError extends Error {
  code: string;
  errno: number;
  syscall: string;
}

/**
 * The addon's functions (native-shims/src/tap.c). Names are interface names
 * (at most 15 bytes); `fd` is the descriptor `open` returned.
 */
export interface TapAddon {
  /**
   * open("/dev/net/tun") + TUNSETIFF with IFF_TAP | IFF_NO_PI (| IFF_MULTI_QUEUE, | IFF_TUN_EXCL),
   * O_NONBLOCK | O_CLOEXEC. Returns the kernel's name and whether the device is
   * persistent (IFF_PERSIST from TUNGETIFF: it existed and was kept).
   */
  open(name: string, multiQueue: boolean, exclusive: boolean): { fd: number; name: string; persist: boolean };
  /** TUNSETPERSIST */
  setPersist(fd: number, on: boolean): void;
  close(fd: number): void;
  /** SIOCGIFMTU / SIOCSIFMTU */
  getMtu(name: string): number;
  setMtu(name: string, mtu: number): void;
  /** SIOCGIFHWADDR / SIOCSIFHWADDR, as 6 bytes. */
  getMac(name: string): Uint8Array;
  setMac(name: string, bytes: Uint8Array): void;
  /** SIOCGIFFLAGS (IFF_UP = 0x1, IFF_RUNNING = 0x40, ...). */
  getFlags(name: string): number;
  /** SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP set or cleared. */
  setUp(name: string, up: boolean): void;
  /** SIOCGIFINDEX */
  getIfindex(name: string): number;
  /**
   * One write() per frame `views[i][offsets[i] .. offsets[i] + lengths[i])`, i < count.
   * Returns how many went: it stops at EAGAIN/ENOBUFS, or at another error once at
   * least one frame went (with none gone, that error is thrown).
   */
  writeBatch(fd: number, views: readonly Uint8Array[], offsets: Int32Array, lengths: Int32Array, count: number): number;
  /**
   * Watches `fd` on the event loop. When readable, reads up to `budget` frames, each
   * into `views[slot]` at `offsets[slot]` (at most `capacities[slot]` bytes), records
   * `(slot, length)` pairs in `batch`, and calls `callback` once per batch. A slot
   * is armed while `views[slot]` is a Uint8Array with room; after the callback the
   * addon re-reads every slot it consumed or found unarmed.
   */
  createReader(
    fd: number,
    budget: number,
    views: (Uint8Array | undefined)[],
    offsets: Int32Array,
    capacities: Int32Array,
    batch: Int32Array,
    callback: (count: number, noBuffer: number, oversize: number, error: NativeSyscallError | undefined) => void,
  ): TapReaderHandle;
  /** Stops watching and drops the addon's references to the arrays. Idempotent. */
  closeReader(reader: TapReaderHandle): void;
}

/** Opaque handle of a running reader. */
export type TapReaderHandle = { readonly __tapReader: unique symbol };

/** Where the build puts the addon: native-shims/build/Release/vtepkit_tap.node from the package root. */
export const TAP_ADDON_PATH = fileURLToPath(new URL('../../native-shims/build/Release/vtepkit_tap.node', import.meta.url));

const FUNCTIONS: readonly (keyof TapAddon)[] = [
  'open', 'setPersist', 'close', 'getMtu', 'setMtu', 'getMac', 'setMac',
  'getFlags', 'setUp', 'getIfindex', 'writeBatch', 'createReader', 'closeReader',
];

/** The outcome of loading the addon from one path. */
export type TapAddonLoad = { addon: TapAddon; problem?: undefined } | { addon?: undefined; problem: string };

/**
 * Loads the addon at `path` (no caching): the addon, or a sentence saying why not.
 * Never throws.
 */
export function loadTapAddonFrom(path: string): TapAddonLoad {
  if (process.platform !== 'linux') {
    return { problem: `TAP devices need Linux; this is ${process.platform}` };
  }
  if (!existsSync(path)) {
    return { problem: `the TAP addon is not built (${path} does not exist)` };
  }
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(path);
  } catch (error) {
    return { problem: `the TAP addon at ${path} does not load: ${error instanceof Error ? error.message : String(error)}` };
  }
  const lacking = FUNCTIONS.filter((name) => typeof (loaded as Record<string, unknown> | null)?.[name] !== 'function');
  if (lacking.length > 0) {
    return { problem: `the TAP addon at ${path} is from another version (it lacks ${lacking.join(', ')}); rebuild it` };
  }
  return { addon: loaded as TapAddon };
}

let cached: TapAddonLoad | undefined;

/** The addon, loaded once from {@link TAP_ADDON_PATH}; undefined when it is missing or broken. */
export function tapAddon(): TapAddon | undefined {
  cached ??= loadTapAddonFrom(TAP_ADDON_PATH);
  return cached.addon;
}

/** True when the TAP addon is built and loads. */
export function isTapAvailable(): boolean {
  return tapAddon() !== undefined;
}

/** Why the addon is unavailable (undefined when it loaded). */
export function tapAddonProblem(): string | undefined {
  cached ??= loadTapAddonFrom(TAP_ADDON_PATH);
  return cached.problem;
}

/** The full ADDON_MISSING message for a problem: what is missing and how to build it. */
export function tapAddonMissingMessage(problem: string): string {
  return (
    `${problem}. TAP devices need vtepkit's native addon; the rest of vtepkit (codecs, FDB, ESP) works without it. ` +
    'Build it with `npm run build:addon` in the vtepkit folder (from a project that depends on vtepkit: `npm rebuild vtepkit`; ' +
    'for the compiler output: `node scripts/build-addon.mjs --verbose`); ' +
    'that needs python3, make and g++ (Debian/Ubuntu: apt-get install python3 make g++).'
  );
}
