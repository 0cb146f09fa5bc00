#!/usr/bin/env node
/**
 * Builds the TAP addon, native-shims/build/Release/vtepkit_tap.node (and the ESP cipher
 * addon vtepkit_crypto.node next to it), with the
 * node-gyp that npm bundles (node-gyp 13 needs Node 22; npm 10/11's copy runs on Node 20).
 *
 * Run by npm's `install` script, or by hand: `node scripts/build-addon.mjs [--verbose]`.
 * A failed build prints one warning line and exits 0, so the package still installs
 * (codecs, FDB and ESP do not need the addon; openTap() then throws ADDON_MISSING).
 *
 * Environment:
 *   VTEPKIT_REQUIRE_ADDON=1   a failed build exits 1 and prints the compiler output (CI)
 *   VTEPKIT_SKIP_ADDON=1      do not build at all
 *   npm_config_node_gyp       node-gyp to use (npm sets it during lifecycle scripts)
 *   npm_config_nodedir        Node headers to build against (else <node prefix>/include/node
 *                             when present, so nothing is downloaded)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shims = path.join(root, 'native-shims');
const output = path.join(shims, 'build', 'Release', 'vtepkit_tap.node');
const cryptoOutput = path.join(shims, 'build', 'Release', 'vtepkit_crypto.node');
const required = process.env.VTEPKIT_REQUIRE_ADDON === '1';
const verbose = required || process.argv.includes('--verbose');

/** Prints the one-line warning (and, when asked, the build output) and exits. */
function giveUp(reason, log = '') {
  if (verbose && log.trim() !== '') {
    const tail = log.trimEnd().split('\n').slice(-40).join('\n');
    console.error(tail);
  }
  const retry = verbose ? '' : ' (details: node scripts/build-addon.mjs --verbose)';
  console.error(
    `vtepkit: warning: TAP addon not built: ${reason}. The library works without it except openTap(), which throws ADDON_MISSING; retry with \`npm run build:addon\`${retry}.`,
  );
  process.exit(required ? 1 : 0);
}

/** The first of `names` found on PATH (or as given, if it is a path), else undefined. */
function onPath(...names) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of names) {
    if (!name) continue;
    if (name.includes('/')) {
      if (existsSync(name)) return name;
      continue;
    }
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** npm's bundled node-gyp: from npm itself when it runs us, else next to this node binary. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const candidate of candidates) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return onPath('node-gyp');
}

if (process.env.VTEPKIT_SKIP_ADDON === '1') {
  console.error('vtepkit: VTEPKIT_SKIP_ADDON=1: not building the TAP addon; openTap() will throw ADDON_MISSING.');
  process.exit(0);
}
if (process.platform !== 'linux') {
  giveUp(`TAP devices are Linux-only, this is ${process.platform}`);
}

const missing = [];
if (!onPath(process.env.npm_config_python, process.env.PYTHON, 'python3', 'python')) missing.push('python3');
if (!onPath('make')) missing.push('make');
if (!onPath(process.env.CC, 'cc', 'gcc', 'clang')) missing.push('a C compiler (gcc)');
if (!onPath(process.env.CXX, 'g++', 'c++', 'clang++')) missing.push('g++ (node-gyp links with it)');
if (missing.length > 0) {
  giveUp(`missing ${missing.join(', ')} (Debian/Ubuntu: apt-get install python3 make g++)`);
}

const nodeGyp = findNodeGyp();
if (nodeGyp === undefined) {
  giveUp("npm's bundled node-gyp was not found (set npm_config_node_gyp to node-gyp's bin/node-gyp.js)");
}

const args = ['rebuild'];
if (!process.env.npm_config_nodedir) {
  // Headers installed with Node (Debian/NodeSource packages, official tarballs): use them, download nothing.
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
}
const command = nodeGyp.endsWith('.js') ? process.execPath : nodeGyp;
const commandArgs = nodeGyp.endsWith('.js') ? [nodeGyp, ...args] : args;
const result = spawnSync(command, commandArgs, { cwd: shims, encoding: 'utf8', timeout: 10 * 60 * 1000, env: process.env });
const log = `${result.stdout ?? ''}${result.stderr ?? ''}`;
if (result.error) giveUp(`could not run node-gyp (${result.error.message})`, log);
if (result.status !== 0) {
  const firstError = log.split('\n').find((line) => /error/i.test(line) && !/gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(line));
  giveUp(`node-gyp rebuild failed${firstError ? `: ${firstError.trim()}` : ` with exit code ${result.status}`}`, log);
}
if (!existsSync(output)) giveUp(`node-gyp succeeded but ${path.relative(root, output)} is missing`, log);

try {
  createRequire(import.meta.url)(output);
} catch (error) {
  giveUp(`${path.relative(root, output)} was built but does not load: ${error instanceof Error ? error.message : String(error)}`, log);
}
if (verbose) console.error(log.trimEnd());
console.error(`vtepkit: built ${path.relative(root, output)}`);
// The ESP backend 'openssl' (src/esp/openssl-backend.ts): optional on its own, since it needs
// Node's OpenSSL symbols; without it ESP falls back to node:crypto.
try {
  createRequire(import.meta.url)(cryptoOutput);
  console.error(`vtepkit: built ${path.relative(root, cryptoOutput)}`);
} catch (error) {
  console.error(
    `vtepkit: warning: ${path.relative(root, cryptoOutput)} does not load (${error instanceof Error ? error.message : String(error)}); ESP uses node:crypto instead of the 'openssl' backend.`,
  );
  if (required) process.exit(1);
}
