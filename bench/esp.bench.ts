/**
 * ESP bench: seal and open of 64-byte payloads (an IPv4 packet carrying a 64-byte UDP
 * datagram, transport mode) for every algorithm and backend, on buffers with headroom as the
 * pool hands them out; plus the bare node:crypto AES-128-GCM calls per packet (a fresh cipher
 * each time, no ESP work) so the cost of the protocol work is visible as a ratio in one run.
 *
 *   npx tsx bench/esp.bench.ts [--quick] [--json out.json] [--filter text] [--rounds n] [--no-forge]
 *
 * Every case goes through runPacketCases (interleaved rounds; allocations over up to a
 * million packets, fewer for the slow cases: the harness caps the allocation run by
 * time). node-forge is ~100x slower than node:crypto: its cases run as a second set,
 * with 3 rounds in quick mode.
 *
 * Each seal first restores the 84-byte plaintext packet and each open the sealed packet
 * (a TypedArray#set of ~130 bytes), since both work in place; that copy is part of the figures.
 * The open cases reopen a ring of 1024 sealed packets with anti-replay off (replayWindow 0),
 * so no SA is ever replaced and what they allocate is the open's own; one extra row keeps
 * the default 64-packet window (a new receiving SA every 4096 packets, its set-up included).
 */
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { EspStatus } from '../src/esp/errors.js';
import { SecurityAssociation } from '../src/esp/sa.js';
import type { SecurityAssociationConfig } from '../src/esp/sa.js';
import type { EspCryptoBackend } from '../src/esp/backend.js';
import { isOpensslBackendAvailable, opensslBackendProblem } from '../src/esp/openssl-backend.js';
import { quick, runPacketCases, type PacketCase, type PacketResult } from './harness.js';

const BATCH = 64;
const PAYLOAD = 64;
const SLOT = 256;
const HEADROOM = 96;
/** Sealed packets prepared per open case with the replay window on; the receiving SA is replaced when the ring wraps (its window would call them replays). */
const RING = 4096;
/** Sealed packets per open case with anti-replay off: in sequence, as they arrive, for 1024 packets at a time (gcm-js makes keystream for runs of up to 128 nonces). */
const RING_NO_WINDOW = 1024;

const ALGORITHMS: { name: string; config: Pick<SecurityAssociationConfig, 'algorithm' | 'key' | 'authKey'> }[] = [
  { name: 'aes-gcm-128', config: { algorithm: 'aes-gcm-128', key: `0x${'11'.repeat(20)}` } },
  { name: 'aes-gcm-256', config: { algorithm: 'aes-gcm-256', key: `0x${'22'.repeat(36)}` } },
  { name: 'chacha20-poly1305', config: { algorithm: 'chacha20-poly1305', key: `0x${'33'.repeat(36)}` } },
  { name: 'aes-cbc-128-hmac-sha256', config: { algorithm: 'aes-cbc-128-hmac-sha256', key: `0x${'44'.repeat(16)}`, authKey: `0x${'55'.repeat(32)}` } },
  { name: 'aes-cbc-256-hmac-sha256', config: { algorithm: 'aes-cbc-256-hmac-sha256', key: `0x${'66'.repeat(32)}`, authKey: `0x${'77'.repeat(32)}` } },
];

/** IPv4 (20) + UDP (8) + 56 data bytes: a 64-byte ESP payload in transport mode. */
function plaintextPacket(): Uint8Array {
  const p = new Uint8Array(20 + PAYLOAD);
  p.set([0x45, 0, 0, p.length, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  p[10] = (~sum >> 8) & 0xff;
  p[11] = ~sum & 0xff;
  p.set([0x9c, 0x40, 0x12, 0xb5, 0, PAYLOAD, 0, 0], 20);
  for (let i = 28; i < p.length; i++) p[i] = i;
  return p;
}

function sealCase(name: string, config: SecurityAssociationConfig): PacketCase {
  const sa = new SecurityAssociation(config);
  const plain = plaintextPacket();
  const slab = new Uint8Array(BATCH * SLOT);
  const view = { bytes: slab, offset: 0, length: 0 };
  let failures = 0;
  return {
    name,
    batch: BATCH,
    innerBytes: PAYLOAD,
    fn: () => {
      for (let i = 0; i < BATCH; i++) {
        const at = i * SLOT + HEADROOM;
        slab.set(plain, at);
        view.offset = at;
        view.length = plain.length;
        if (sa.sealBuffer(view) !== EspStatus.OK) failures++;
      }
      if (failures !== 0) throw new Error(`${name}: ${failures} seal failures`);
    },
  };
}

/**
 * Opens of sealed packets. `window` false: the receiver has anti-replay off and a ring of
 * RING_NO_WINDOW packets is reopened forever. `window` true: the default window, a ring of RING
 * packets, and a new receiving SA each time the ring wraps.
 */
function openCase(name: string, config: SecurityAssociationConfig, window = false): PacketCase {
  const sealer = new SecurityAssociation(config);
  const plain = plaintextPacket();
  const ring: Uint8Array[] = [];
  const ringSize = window ? RING : RING_NO_WINDOW;
  for (let i = 0; i < ringSize; i++) ring.push(sealer.seal(plain));
  const receiverConfig: SecurityAssociationConfig = window ? config : { ...config, replayWindow: 0 };
  let receiver = new SecurityAssociation(receiverConfig);
  let next = 0;
  const slab = new Uint8Array(BATCH * SLOT);
  const view = { bytes: slab, offset: 0, length: 0 };
  let failures = 0;
  return {
    name,
    batch: BATCH,
    innerBytes: PAYLOAD,
    fn: () => {
      for (let i = 0; i < BATCH; i++) {
        if (next === ringSize) {
          next = 0;
          if (window) receiver = new SecurityAssociation(receiverConfig);
        }
        const packet = ring[next++]!;
        const at = i * SLOT + HEADROOM;
        slab.set(packet, at);
        view.offset = at;
        view.length = packet.length;
        if (receiver.openBuffer(view) !== EspStatus.OK) failures++;
      }
      if (failures !== 0) throw new Error(`${name}: ${failures} open failures`);
    },
  };
}

/** The ceiling: node:crypto AES-128-GCM with a fresh cipher per packet and nothing else. */
function bareGcmCases(): PacketCase[] {
  const key = createSecretKey(Buffer.alloc(16, 0x11));
  const nonce = Buffer.alloc(12, 2);
  const aad = Buffer.alloc(8, 3);
  const data = new Uint8Array(PAYLOAD + 4); // payload + padding + trailer, as ESP encrypts
  const cipher = createCipheriv('aes-128-gcm', key, nonce);
  cipher.setAAD(aad);
  const ciphertext = cipher.update(data);
  cipher.final();
  const tag = cipher.getAuthTag();
  let sink = 0;
  return [
    {
      name: 'baseline: createCipheriv+setAAD+update+final+getAuthTag (gcm-128)',
      batch: BATCH,
      innerBytes: PAYLOAD,
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          const c = createCipheriv('aes-128-gcm', key, nonce);
          c.setAAD(aad);
          const out = c.update(data);
          c.final();
          sink ^= out[0]! ^ c.getAuthTag()[0]!;
        }
      },
    },
    {
      name: 'baseline: createDecipheriv+setAAD+setAuthTag+update+final (gcm-128)',
      batch: BATCH,
      innerBytes: PAYLOAD,
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          const d = createDecipheriv('aes-128-gcm', key, nonce);
          d.setAAD(aad);
          d.setAuthTag(tag);
          const out = d.update(ciphertext);
          d.final();
          sink ^= out[0]!;
        }
      },
    },
  ];
}

const transport = (extra: Pick<SecurityAssociationConfig, 'algorithm' | 'key' | 'authKey'>, backend: 'openssl' | 'node' | 'forge' | 'gcm-js'): SecurityAssociationConfig => ({ spi: 0x1000, ...extra, backend });
const openssl = isOpensslBackendAvailable();
if (!openssl) console.log(`(the 'openssl' backend is unavailable: ${opensslBackendProblem()}; its rows are left out)`);

/**
 * The protocol work alone: the same SA code with a backend whose cipher does nothing (no
 * encryption, no ICV). Shows what seal/open cost and allocate outside node:crypto.
 */
const noCipher: EspCryptoBackend = {
  name: 'no-op',
  supports: () => true,
  createCipher: (algorithm) => ({ algorithm, seal: () => EspStatus.OK, open: () => EspStatus.OK }),
};

const nodeCases: PacketCase[] = [...bareGcmCases()];
nodeCases.push(sealCase('seal aes-gcm-128 protocol only (no-op cipher)', { spi: 0x1000, ...ALGORITHMS[0]!.config, backend: noCipher }));
nodeCases.push(openCase('open aes-gcm-128 protocol only (no-op cipher)', { spi: 0x1000, ...ALGORITHMS[0]!.config, backend: noCipher }));
nodeCases.push(openCase('open aes-gcm-128 protocol only, replay window 64 (new SA / 4096 pkts)', { spi: 0x1000, ...ALGORITHMS[0]!.config, backend: noCipher }, true));
for (const a of ALGORITHMS) {
  // The default backend when the cipher addon is built: OpenSSL, one N-API call per packet.
  if (openssl) {
    nodeCases.push(sealCase(`seal ${a.name} openssl`, transport(a.config, 'openssl')));
    nodeCases.push(openCase(`open ${a.name} openssl`, transport(a.config, 'openssl')));
  }
  nodeCases.push(sealCase(`seal ${a.name} node`, transport(a.config, 'node')));
  nodeCases.push(openCase(`open ${a.name} node`, transport(a.config, 'node')));
  // The opt-in gcm-js backend (AES-GCM only): one ECB cipher per SA, GHASH in JavaScript.
  if (a.name === 'aes-gcm-128' || a.name === 'aes-gcm-256') {
    nodeCases.push(sealCase(`seal ${a.name} gcm-js`, transport(a.config, 'gcm-js')));
    nodeCases.push(openCase(`open ${a.name} gcm-js`, transport(a.config, 'gcm-js')));
  }
}
const results: PacketResult[] = await runPacketCases(`vtepkit ESP, transport mode, ${PAYLOAD}-byte payloads, batches of ${BATCH}`, nodeCases);

/** node-forge (pure JavaScript): the same cases, as a second set (3 rounds in quick mode). */
async function runForge(): Promise<PacketResult[]> {
  const cases: PacketCase[] = [];
  for (const a of ALGORITHMS) {
    if (a.name === 'chacha20-poly1305') continue; // node-forge has no ChaCha20-Poly1305
    cases.push(sealCase(`seal ${a.name} forge`, transport(a.config, 'forge')));
    cases.push(openCase(`open ${a.name} forge`, transport(a.config, 'forge')));
  }
  return runPacketCases(`node-forge (pure JavaScript), ${PAYLOAD}-byte payloads, batches of ${BATCH}`, cases, quick ? { rounds: 3 } : {});
}

if (!process.argv.includes('--no-forge')) results.push(...(await runForge()));

const find = (name: string): number => results.find((r) => r.name === name)?.packetsPerSecond ?? NaN;
const bareSeal = results.find((r) => r.name.startsWith('baseline: createCipheriv'))?.packetsPerSecond ?? NaN;
const bareOpen = results.find((r) => r.name.startsWith('baseline: createDecipheriv'))?.packetsPerSecond ?? NaN;
const seal = find('seal aes-gcm-128 node');
const open = find('open aes-gcm-128 node');
const sealJs = find('seal aes-gcm-128 gcm-js');
const openJs = find('open aes-gcm-128 gcm-js');
console.log(`\naes-gcm-128 node:crypto: seal ${(seal / 1e3).toFixed(0)} k/s (${((seal / bareSeal) * 100).toFixed(0)}% of the bare cipher calls, ${(bareSeal / 1e3).toFixed(0)} k/s); open ${(open / 1e3).toFixed(0)} k/s (${((open / bareOpen) * 100).toFixed(0)}% of bare, ${(bareOpen / 1e3).toFixed(0)} k/s); target >= 300 k/s each`);
console.log(`aes-gcm-128 gcm-js: seal ${(sealJs / 1e3).toFixed(0)} k/s (${(sealJs / seal).toFixed(1)}x node); open ${(openJs / 1e3).toFixed(0)} k/s (${(openJs / open).toFixed(1)}x node); target >= 300 k/s each`);
if (openssl) {
  const sealSsl = find('seal aes-gcm-128 openssl');
  const openSsl = find('open aes-gcm-128 openssl');
  console.log(`aes-gcm-128 openssl: seal ${(sealSsl / 1e3).toFixed(0)} k/s (${(sealSsl / seal).toFixed(1)}x node); open ${(openSsl / 1e3).toFixed(0)} k/s (${(openSsl / open).toFixed(1)}x node)`);
}
const jsonAt = process.argv.indexOf('--json');
if (jsonAt > 0 && process.argv[jsonAt + 1]) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(results, null, 2));
