/**
 * Shared test material for the ESP tests: one configuration per algorithm, and IP packets
 * built byte by byte (no vtepkit encoder involved), with their checksums computed here.
 */
import { expect } from 'chai';
import { EspError } from '../../src/esp/errors.js';
import type { SecurityAssociationConfig } from '../../src/esp/sa.js';
import type { EspAlgorithmName } from '../../src/esp/algorithms.js';

export interface AlgorithmCase {
  /** Our name. */
  algorithm: string;
  key: string;
  authKey?: string;
  /** scapy's names. */
  scapyCrypt: string;
  scapyAuth: string | null;
  aead: boolean;
  forge: boolean;
}

const hexOf = (byte: number, count: number): string => `0x${byte.toString(16).padStart(2, '0').repeat(count)}`;

export const ALGORITHM_CASES: readonly AlgorithmCase[] = [
  { algorithm: 'aes-gcm-128', key: '0x000102030405060708090a0b0c0d0e0fdeadbeef', scapyCrypt: 'AES-GCM', scapyAuth: null, aead: true, forge: true },
  { algorithm: 'aes-gcm-256', key: `${hexOf(0x42, 32)}cafebabe`, scapyCrypt: 'AES-GCM', scapyAuth: null, aead: true, forge: true },
  { algorithm: 'chacha20-poly1305', key: `${hexOf(0x5a, 32)}01020304`, scapyCrypt: 'CHACHA20-POLY1305', scapyAuth: null, aead: true, forge: false },
  { algorithm: 'aes-cbc-128-hmac-sha256', key: hexOf(0x33, 16), authKey: hexOf(0x77, 32), scapyCrypt: 'AES-CBC', scapyAuth: 'SHA2-256-128', aead: false, forge: true },
  { algorithm: 'aes-cbc-256-hmac-sha256', key: hexOf(0x34, 32), authKey: hexOf(0x78, 32), scapyCrypt: 'AES-CBC', scapyAuth: 'SHA2-256-128', aead: false, forge: true },
];

/** The SA configuration for an algorithm case (no mode, no SPI). */
export function keysOf(c: AlgorithmCase): Pick<SecurityAssociationConfig, 'algorithm' | 'key' | 'authKey'> {
  return c.authKey === undefined ? { algorithm: c.algorithm, key: c.key } : { algorithm: c.algorithm, key: c.key, authKey: c.authKey };
}

export function bytesOfHex(text: string): Uint8Array {
  const clean = text.replace(/^0x/, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function hexOfBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function checksum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) | (i + 1 < end ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function dotted(text: string): number[] {
  return text.split('.').map(Number);
}

/** 16 bytes of an IPv6 address written as 8 groups (no '::' shorthand needed by the tests). */
function groups(text: string): number[] {
  const [head = '', tail = ''] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const all = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

export interface Ipv4Options {
  source?: string;
  destination?: string;
  protocol?: number;
  tos?: number;
  ttl?: number;
  id?: number;
  dontFragment?: boolean;
  /** IPv4 options bytes (multiple of 4). */
  options?: number[];
}

/** An IPv4 packet around `payload`, header checksum by RFC 1071. */
export function ipv4(payload: Uint8Array, o: Ipv4Options = {}): Uint8Array {
  const options = o.options ?? [];
  const headerLength = 20 + options.length;
  const packet = new Uint8Array(headerLength + payload.length);
  packet[0] = 0x40 | (headerLength >> 2);
  packet[1] = o.tos ?? 0;
  packet[2] = packet.length >> 8;
  packet[3] = packet.length & 0xff;
  packet[4] = (o.id ?? 0x1234) >> 8;
  packet[5] = (o.id ?? 0x1234) & 0xff;
  packet[6] = o.dontFragment === false ? 0 : 0x40;
  packet[8] = o.ttl ?? 64;
  packet[9] = o.protocol ?? 17;
  packet.set(dotted(o.source ?? '10.0.0.1'), 12);
  packet.set(dotted(o.destination ?? '10.0.0.2'), 16);
  packet.set(options, 20);
  const sum = checksum(packet, 0, headerLength);
  packet[10] = sum >> 8;
  packet[11] = sum & 0xff;
  packet.set(payload, headerLength);
  return packet;
}

/** A UDP datagram with `length` bytes of patterned payload; checksum left 0 (the IP helpers fill it). */
export function udp(sourcePort: number, destinationPort: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  out[0] = sourcePort >> 8;
  out[1] = sourcePort & 0xff;
  out[2] = destinationPort >> 8;
  out[3] = destinationPort & 0xff;
  out[4] = out.length >> 8;
  out[5] = out.length & 0xff;
  out.set(data, 8);
  return out;
}

export function pattern(length: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17 + 7) & 0xff);
}

/** IPv4/UDP with a correct UDP checksum. */
export function ipv4Udp(dataLength: number, o: Ipv4Options & { sourcePort?: number; destinationPort?: number; seed?: number } = {}): Uint8Array {
  const datagram = udp(o.sourcePort ?? 40000, o.destinationPort ?? 4789, pattern(dataLength, o.seed));
  const packet = ipv4(datagram, { ...o, protocol: 17 });
  const at = packet.length - datagram.length;
  const pseudo = ((packet[12]! << 8) | packet[13]!) + ((packet[14]! << 8) | packet[15]!) + ((packet[16]! << 8) | packet[17]!) + ((packet[18]! << 8) | packet[19]!) + 17 + datagram.length;
  const sum = checksum(packet, at, packet.length, pseudo) || 0xffff;
  packet[at + 6] = sum >> 8;
  packet[at + 7] = sum & 0xff;
  return packet;
}

export interface Ipv6Options {
  source?: string;
  destination?: string;
  trafficClass?: number;
  flowLabel?: number;
  hopLimit?: number;
  /** Extension headers in order, each [type, bodyBytes] (body padded by the helper to 8n - 2). */
  extensions?: [number, number][];
}

/** An IPv6 packet carrying `upper` (protocol `protocol`), with optional extension headers. */
export function ipv6(upper: Uint8Array, protocol: number, o: Ipv6Options = {}): Uint8Array {
  const extensions = o.extensions ?? [];
  const extensionBytes: number[] = [];
  const types = extensions.map(([type]) => type);
  extensions.forEach(([, units], i) => {
    const next = i + 1 < types.length ? types[i + 1]! : protocol;
    const length = (units + 1) * 8;
    const header = new Array<number>(length).fill(0);
    header[0] = next;
    header[1] = units;
    // Pad options (PadN) for hop-by-hop/destination options, type-specific zeros otherwise.
    if (types[i] === 0 || types[i] === 60) {
      header[2] = 1;
      header[3] = length - 4;
    }
    if (types[i] === 43) header[2] = 0; // routing type 0 … segments left 0 (RFC 5095: not processed)
    extensionBytes.push(...header);
  });
  const payloadLength = extensionBytes.length + upper.length;
  const packet = new Uint8Array(40 + payloadLength);
  const tc = o.trafficClass ?? 0;
  const flow = o.flowLabel ?? 0x12345;
  packet[0] = 0x60 | (tc >> 4);
  packet[1] = ((tc & 0x0f) << 4) | (flow >> 16);
  packet[2] = (flow >> 8) & 0xff;
  packet[3] = flow & 0xff;
  packet[4] = payloadLength >> 8;
  packet[5] = payloadLength & 0xff;
  packet[6] = types.length > 0 ? types[0]! : protocol;
  packet[7] = o.hopLimit ?? 64;
  packet.set(groups(o.source ?? '2001:db8:0:0:0:0:0:1'), 8);
  packet.set(groups(o.destination ?? '2001:db8:0:0:0:0:0:2'), 24);
  packet.set(extensionBytes, 40);
  packet.set(upper, 40 + extensionBytes.length);
  return packet;
}

/** IPv6/UDP with a correct checksum (over the IPv6 pseudo-header, RFC 8200 8.1). */
export function ipv6Udp(dataLength: number, o: Ipv6Options & { sourcePort?: number; destinationPort?: number; seed?: number } = {}): Uint8Array {
  const datagram = udp(o.sourcePort ?? 40000, o.destinationPort ?? 4789, pattern(dataLength, o.seed));
  const packet = ipv6(datagram, 17, o);
  const at = packet.length - datagram.length;
  let pseudo = 17 + datagram.length;
  for (let i = 8; i < 40; i += 2) pseudo += (packet[i]! << 8) | packet[i + 1]!;
  const sum = checksum(packet, at, packet.length, pseudo) || 0xffff;
  packet[at + 6] = sum >> 8;
  packet[at + 7] = sum & 0xff;
  return packet;
}

/** A packet in a larger buffer with headroom and tailroom, as a pool buffer holds it. */
export function inBuffer(packet: Uint8Array, front = 256, back = 128): { bytes: Uint8Array; offset: number; length: number } {
  const bytes = new Uint8Array(front + packet.length + back).fill(0xa5);
  bytes.set(packet, front);
  return { bytes, offset: front, length: packet.length };
}

export function dataOf(view: { bytes: Uint8Array; offset: number; length: number }): Uint8Array {
  return view.bytes.slice(view.offset, view.offset + view.length);
}

/** fn must throw an EspError with this code (and, when given, naming this field). */
export function expectEspError(fn: () => unknown, code: string, field?: string): EspError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an EspError').to.be.instanceOf(EspError);
  const error = caught as EspError;
  expect(error.code, error.message).to.equal(code);
  if (field !== undefined) expect(error.field, error.message).to.equal(field);
  return error;
}

export interface PublishedEspVector {
  name: string;
  algorithm: EspAlgorithmName;
  key: string;
  salt: string;
  /** The ESP packet: SPI, sequence number, IV, ciphertext, ICV. */
  esp: string;
  /** The plaintext payload (before padding). */
  plaintext: string;
  nextHeader: number;
}

// draft-mcgrew-gcm-test-01 section 3 (via ODP test_vectors.h) and RFC 7634 Appendix A.
export const PUBLISHED_ESP_VECTORS: PublishedEspVector[] = [
  {
    name: 'draft-mcgrew-gcm-test-01 case 2 (AES-128, SPI 0xa5f8, seq 10)',
    algorithm: 'aes-gcm-128',
    key: 'feffe9928665731c6d6a8f9467308308',
    salt: 'cafebabe',
    esp: '0000a5f80000000afacedbaddecaf888deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd426f8391b9927d0fcc984561bbbce9fc0',
    plaintext: '4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d001000001000000000000037369700963796265726369747902646b0000010001',
    nextHeader: 4,
  },
  {
    name: 'draft-mcgrew-gcm-test-01 case 3 (AES-256, SPI 0x4a2cbfe3, seq 2)',
    algorithm: 'aes-gcm-256',
    key: 'abbccddef00112233445566778899aababbccddef00112233445566778899aab',
    salt: '11223344',
    esp: '4a2cbfe3000000020102030405060708ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8b42f564f52dfdd6eef4f92eadbac23990',
    plaintext: '4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b401010402',
    nextHeader: 4,
  },
  {
    name: 'draft-mcgrew-gcm-test-01 case 4 (AES-128, all-zero key, SPI 0)',
    algorithm: 'aes-gcm-128',
    key: '00000000000000000000000000000000',
    salt: '00000000',
    esp: '00000000000000010000000000000000' + '4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af6fe1d7372228a69f40deb373ddc01676b',
    plaintext: '4500003c99c500008001cb7a40679318010101010800075c020044006162636465666768696a6b6c6d6e6f7071727374757677616263646566676869',
    nextHeader: 4,
  },
  {
    name: 'draft-mcgrew-gcm-test-01 case 12 (dummy packet: next header 59, seq 2^32-1)',
    algorithm: 'aes-gcm-128',
    key: '7d773d00c144c525ac619d18c84a3f47',
    salt: 'd9664267',
    esp: '335467aeffffffff43457e9182443bc6437f86517ea595d2ca004c33388c46770c590ad6',
    plaintext: '',
    nextHeader: 59,
  },
  {
    name: 'RFC 7634 Appendix A (ChaCha20-Poly1305, SPI 0x01020304, seq 5)',
    algorithm: 'chacha20-poly1305',
    key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
    salt: 'a0a1a2a3',
    esp: '0102030400000005101112131415161724039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c614ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3cbec163fac469b502773f6fb94e664da9165b82829f641e076aaa8266b7fb0f7b11b369907e1ad43',
    plaintext: '45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec100007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
    nextHeader: 4,
  },
];

/** Payload + default padding 1, 2, … (`pad` bytes) + Pad Length + Next Header (RFC 4303 2.4), built without our encoder. */
export function plaintextByHand(payload: Uint8Array, pad: number, nextHeader: number): Uint8Array {
  const out = new Uint8Array(payload.length + pad + 2);
  out.set(payload, 0);
  for (let i = 0; i < pad; i++) out[payload.length + i] = i + 1;
  out[out.length - 2] = pad;
  out[out.length - 1] = nextHeader;
  return out;
}

/** The same, padded to the 4-byte alignment of the AEADs. */
export function withTrailer(payload: Uint8Array, nextHeader: number): Uint8Array {
  return plaintextByHand(payload, (4 - ((payload.length + 2) % 4)) % 4, nextHeader);
}
