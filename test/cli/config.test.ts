/**
 * The document validator: the example of docs/cli.md is valid; every field is
 * checked (each leaf replaced by a wrong type fails at exactly its path, each
 * object refuses an unknown field, each required field is required); errors
 * carry a stable code, the JSON path and what is allowed; files are read with a
 * size limit; random JSON and random mutations of a valid document only ever
 * give a ConfigError.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfigError,
  DOCUMENT_LIMITS,
  MAX_DOCUMENT_BYTES,
  parseDocument,
  readDocumentFile,
  validateDocument,
  validateLinkConfig,
  validateSa,
  type ConfigErrorCode,
} from '../../src/cli/config.js';
import { tempDir } from './fake-api.js';

/** The ```json blocks of docs/cli.md that are documents. */
async function docsDocuments(): Promise<unknown[]> {
  const text = await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8');
  const blocks = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!);
  return blocks.filter((block) => block.includes('"version": 1')).map((block) => JSON.parse(block) as unknown);
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  expect.fail('no ConfigError');
}

type Path = (string | number)[];

function pathText(path: Path): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? key : `${text}.${key}`), '');
}

/** Every leaf (scalar) of a JSON value, with its path. */
function leaves(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => leaves(item, [...path, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => leaves(item, [...path, key]));
  return [path];
}

/** Every object (not array) inside a JSON value, with its path. */
function objects(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => objects(item, [...path, i]));
  if (typeof value === 'object' && value !== null) return [path, ...Object.entries(value).flatMap(([key, item]) => objects(item, [...path, key]))];
  return [];
}

function setAt(root: unknown, path: Path, value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

function getAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

describe('cli config: the documented example', () => {
  it('docs/cli.md holds a full document, valid with references checked, and normalised', async () => {
    const [example] = await docsDocuments();
    expect(example).to.not.equal(undefined);
    const document = validateDocument(example, { references: true });
    expect(document.links).to.have.length(2);
    expect(document.links![1]!.options).to.deep.equal([{ class: 0x0102, type: 0x80, data: '0x00003039' }]);
    expect(document.xfrm![0]).to.deep.include({ spi: 0x1000, enc: { name: 'cbc(aes)', key: '0x000102030405060708090a0b0c0d0e0f' } });
    expect(document.xfrm![0]!.auth).to.deep.include({ name: 'hmac(sha256)', truncBits: 128 });
    expect(document.xfrm![1]).to.deep.include({ spi: 4097, reqid: 1, esn: true, replayWindow: 128 });
    // Normalised once, stable after: validate(validate(x)) = validate(x), and it survives JSON.
    expect(validateDocument(clone(document), { references: true })).to.deep.equal(document);
  });

  it('the minimal document, and every array empty', () => {
    expect(validateDocument({ version: 1 })).to.deep.equal({ version: 1 });
    const empty = { version: 1, links: [], up: [], addresses: [], fdb: [], neighbours: [], xfrm: [] };
    expect(validateDocument(empty, { references: true })).to.deep.equal(empty);
  });

  it('the example message of the brief, word for word', () => {
    const error = configError(() => validateDocument({ version: 1, links: [{ name: 'vxlan100', type: 'vxlan', vni: 'abc' }] }));
    expect(error.message).to.equal('links[0].vni: must be an integer in 0..16777215, got "abc"');
    expect(error.code).to.equal('BAD_VALUE');
    expect(error.field).to.equal('links[0].vni');
    expect(error.detail).to.equal('must be an integer in 0..16777215, got "abc"');
  });
});

describe('cli config: every field is checked', () => {
  let example: unknown;
  before(async () => {
    [example] = await docsDocuments();
  });

  it('each leaf replaced by an object fails at exactly its path (BAD_VALUE)', () => {
    const paths = leaves(example);
    expect(paths.length).to.be.greaterThan(60);
    for (const path of paths) {
      const document = clone(example);
      setAt(document, path, { wrong: true });
      const error = configError(() => validateDocument(document, { references: true }));
      expect(error.field, pathText(path)).to.equal(pathText(path));
      expect(error.code, pathText(path)).to.equal('BAD_VALUE');
      expect(error.message.startsWith(`${pathText(path)}: must be`) || error.message.startsWith(`${pathText(path)}: `), error.message).to.equal(true);
    }
  });

  it('each object refuses an unknown field, naming it and the allowed ones', () => {
    for (const path of objects(example)) {
      const document = clone(example);
      const target = path.length === 0 ? document : getAt(document, path);
      (target as Record<string, unknown>).bogus = 1;
      const error = configError(() => validateDocument(document, { references: true }));
      const where = pathText([...path, 'bogus']);
      expect(error.code, where).to.equal('UNKNOWN_FIELD');
      expect(error.field).to.equal(where);
      expect(error.message).to.match(/unknown field; allowed: \w+/);
    }
  });

  it('a typo is answered with the nearest field', () => {
    const error = configError(() => validateDocument({ version: 1, links: [{ name: 'v', type: 'vxlan', vnii: 1 }] }));
    expect(error.message).to.match(/^links\[0\]\.vnii: unknown field \(did you mean "vni"\?\); allowed: name, type, vni, dstport/);
  });

  const required: [string, Path, string][] = [
    ['version', ['version'], 'version'],
    ['link name', ['links', 0, 'name'], 'links[0].name'],
    ['link type', ['links', 0, 'type'], 'links[0].type'],
    ['link vni', ['links', 0, 'vni'], 'links[0].vni'],
    ['srcport min', ['links', 0, 'srcport', 'min'], 'links[0].srcport.min'],
    ['option data', ['links', 1, 'options', 0, 'data'], 'links[1].options[0].data'],
    ['option class', ['links', 1, 'options', 0, 'class'], 'links[1].options[0].class'],
    ['known option type', ['links', 1, 'knownOptions', 0, 'type'], 'links[1].knownOptions[0].type'],
    ['address dev', ['addresses', 0, 'dev'], 'addresses[0].dev'],
    ['address address', ['addresses', 0, 'address'], 'addresses[0].address'],
    ['fdb mac', ['fdb', 0, 'mac'], 'fdb[0].mac'],
    ['fdb dev', ['fdb', 0, 'dev'], 'fdb[0].dev'],
    ['neighbour lladdr', ['neighbours', 0, 'lladdr'], 'neighbours[0].lladdr'],
    ['SA src', ['xfrm', 0, 'src'], 'xfrm[0].src'],
    ['SA spi', ['xfrm', 1, 'spi'], 'xfrm[1].spi'],
    ['SA aead key', ['xfrm', 1, 'aead', 'key'], 'xfrm[1].aead.key'],
    ['SA auth (with enc)', ['xfrm', 0, 'auth'], 'xfrm[0].auth'],
    ['SA enc (with auth)', ['xfrm', 0, 'enc'], 'xfrm[0].enc'],
    ['SA aead (alone)', ['xfrm', 1, 'aead'], 'xfrm[1].aead'],
  ];
  for (const [name, path, field] of required) {
    it(`${name} is required (MISSING at ${field})`, () => {
      const document = clone(example);
      setAt(document, path, undefined);
      const error = configError(() => validateDocument(document, { references: true }));
      expect(error.code).to.equal('MISSING');
      expect(error.field).to.equal(field);
      expect(error.message).to.match(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: missing; `));
    });
  }

  const values: [string, Path, unknown, ConfigErrorCode, string, RegExp][] = [
    ['version 2', ['version'], 2, 'BAD_VALUE', 'version', /must be 1, got 2/],
    ['a long name', ['links', 0, 'name'], 'abcdefghijklmnop', 'BAD_VALUE', 'links[0].name', /1\.\.15 bytes/],
    ['a name with a slash', ['links', 0, 'name'], 'a/b', 'BAD_VALUE', 'links[0].name', /no spaces, '\/' or ':'/],
    ['a name of 15 bytes in 5 characters too many', ['links', 0, 'name'], 'ééééééééé', 'BAD_VALUE', 'links[0].name', /1\.\.15 bytes/],
    ['type veth', ['links', 0, 'type'], 'veth', 'BAD_VALUE', 'links[0].type', /must be one of "vxlan", "geneve", got "veth"/],
    ['vni 2^24', ['links', 0, 'vni'], 16777216, 'BAD_VALUE', 'links[0].vni', /0\.\.16777215, got 16777216/],
    ['vni 1.5', ['links', 0, 'vni'], 1.5, 'BAD_VALUE', 'links[0].vni', /integer/],
    ['vni "010"', ['links', 0, 'vni'], '010', 'BAD_VALUE', 'links[0].vni', /integer/],
    ['dstport 0', ['links', 0, 'dstport'], 0, 'BAD_VALUE', 'links[0].dstport', /1\.\.65535/],
    ['local multicast', ['links', 0, 'local'], '224.0.0.1', 'BAD_VALUE', 'links[0].local', /unicast/],
    ['local not an address', ['links', 0, 'local'], '192.168.1.300', 'BAD_VALUE', 'links[0].local', /IPv4 or IPv6 address/],
    ['remote unspecified', ['links', 1, 'remote'], '0.0.0.0', 'BAD_VALUE', 'links[1].remote', /unspecified/],
    ['learning "no"', ['links', 0, 'learning'], 'no', 'BAD_VALUE', 'links[0].learning', /true or false, got "no"/],
    ['ttl 256', ['links', 0, 'ttl'], 256, 'BAD_VALUE', 'links[0].ttl', /1\.\.255/],
    ['mtu 67', ['links', 0, 'mtu'], 67, 'BAD_VALUE', 'links[0].mtu', /68\.\.65535/],
    ['address multicast', ['links', 0, 'address'], '01:00:5e:00:00:01', 'BAD_VALUE', 'links[0].address', /unicast MAC/],
    ['address all zeros', ['links', 0, 'address'], '00:00:00:00:00:00', 'BAD_VALUE', 'links[0].address', /unicast MAC/],
    ['srcport min > max', ['links', 0, 'srcport'], { min: 10, max: 9 }, 'BAD_VALUE', 'links[0].srcport.max', /at least min \(10\), got 9/],
    ['gbp on geneve', ['links', 1, 'gbp'], true, 'CONFLICT', 'links[1].gbp', /VXLAN extension/],
    ['options on vxlan', ['links', 0, 'options'], [], 'CONFLICT', 'links[0].options', /need type "geneve"/],
    ['option data not /4', ['links', 1, 'options', 0, 'data'], '0x0000', 'BAD_VALUE', 'links[1].options[0].data', /multiple of 4 bytes/],
    ['option data too long', ['links', 1, 'options', 0, 'data'], `0x${'00'.repeat(128)}`, 'BAD_VALUE', 'links[1].options[0].data', /at most 124 bytes/],
    [
      'options over 252 bytes',
      ['links', 1, 'options'],
      [1, 2, 3].map(() => ({ class: 1, type: 1, data: `0x${'00'.repeat(120)}` })),
      'BAD_VALUE',
      'links[1].options',
      /take 372 bytes .* at most 252/,
    ],
    ['port "udp"', ['links', 0, 'port'], 'udp', 'BAD_VALUE', 'links[0].port', /"tap", "memory"/],
    ['remote and group', ['links', 1, 'group'], '239.1.1.1', 'CONFLICT', 'links[1].group', /exclude each other/],
    ['local v4, remote v6', ['links', 0, 'remote'], 'fd00::2', 'CONFLICT', 'links[0].remote', /same address family as local \(192\.168\.1\.10\)/],
    ['up not a string', ['up', 0], 7, 'BAD_VALUE', 'up[0]', /interface name/],
    ['address prefix 33', ['addresses', 0, 'address'], '10.200.0.1/33', 'BAD_VALUE', 'addresses[0].address', /prefix length/],
    ['fdb mac bad', ['fdb', 0, 'mac'], '00:00:00:00:00', 'BAD_VALUE', 'fdb[0].mac', /MAC address like/],
    ['fdb op', ['fdb', 0, 'op'], 'insert', 'BAD_VALUE', 'fdb[0].op', /"add", "append", "replace"/],
    ['fdb state', ['fdb', 1, 'state'], 'sticky', 'BAD_VALUE', 'fdb[1].state', /"permanent", "static", "dynamic"/],
    ['fdb entry without dst', ['fdb', 1, 'dst'], undefined, 'MISSING', 'fdb[1].dst', /missing; an entry needs dst \(a remote VTEP address\) or localPort/],
    ['fdb dst and localPort', ['fdb', 1, 'localPort'], 3, 'CONFLICT', 'fdb[1].localPort', /exclude each other/],
    ['neighbour lladdr multicast', ['neighbours', 0, 'lladdr'], 'ff:ff:ff:ff:ff:ff', 'BAD_VALUE', 'neighbours[0].lladdr', /unicast MAC/],
    ['SA spi 255', ['xfrm', 0, 'spi'], 255, 'BAD_VALUE', 'xfrm[0].spi', /256\.\.4294967295/],
    ['SA spi 2^32', ['xfrm', 0, 'spi'], '0x100000000', 'BAD_VALUE', 'xfrm[0].spi', /256\.\.4294967295/],
    ['SA mode beet', ['xfrm', 0, 'mode'], 'beet', 'BAD_VALUE', 'xfrm[0].mode', /"transport", "tunnel"/],
    ['SA enc name', ['xfrm', 0, 'enc', 'name'], 'des', 'BAD_VALUE', 'xfrm[0].enc.name', /"cbc\(aes\)", "aes"/],
    ['SA enc key length', ['xfrm', 0, 'enc', 'key'], '0x0011', 'BAD_VALUE', 'xfrm[0].enc.key', /16-byte \(AES-128\) or 32-byte/],
    ['SA key odd digits', ['xfrm', 0, 'enc', 'key'], '0x001', 'BAD_VALUE', 'xfrm[0].enc.key', /even number of digits/],
    ['SA auth key length', ['xfrm', 0, 'auth', 'key'], '0x00', 'BAD_VALUE', 'xfrm[0].auth.key', /32-byte key/],
    ['SA truncBits 96', ['xfrm', 0, 'auth', 'truncBits'], 96, 'BAD_VALUE', 'xfrm[0].auth.truncBits', /must be 128/],
    ['SA aead key length', ['xfrm', 1, 'aead', 'key'], '0x00112233', 'BAD_VALUE', 'xfrm[1].aead.key', /20 bytes \(AES-128\) or 36 bytes/],
    ['SA icvBits 64', ['xfrm', 1, 'aead', 'icvBits'], 64, 'BAD_VALUE', 'xfrm[1].aead.icvBits', /must be 128/],
    ['SA aead and enc', ['xfrm', 1, 'enc'], { name: 'aes', key: '0x000102030405060708090a0b0c0d0e0f' }, 'CONFLICT', 'xfrm[1].enc', /give aead alone/],
    ['SA esn without a window', ['xfrm', 1, 'replayWindow'], 0, 'CONFLICT', 'xfrm[1].replayWindow', /need a replay window/],
    ['SA window too big', ['xfrm', 1, 'replayWindow'], 32769, 'BAD_VALUE', 'xfrm[1].replayWindow', /0\.\.32768/],
    ['SA encap type', ['xfrm', 1, 'encap'], { type: 'espinudp-nonike', sport: 4500, dport: 4500 }, 'BAD_VALUE', 'xfrm[1].encap.type', /"espinudp"/],
    ['SA family mismatch', ['xfrm', 1, 'dst'], 'fd00::1', 'CONFLICT', 'xfrm[1].dst', /same address family as src/],
    ['links not an array', ['links'], {}, 'BAD_VALUE', 'links', /must be an array of links/],
  ];
  for (const [name, path, value, code, field, message] of values) {
    it(`${name} → ${code} at ${field === '' ? '(any)' : field}`, () => {
      const document = clone(example);
      setAt(document, path, value);
      const error = configError(() => validateDocument(document, { references: true }));
      expect(error.code, error.message).to.equal(code);
      if (field !== '') expect(error.field, error.message).to.equal(field);
      expect(error.message).to.match(message);
    });
  }

  it('duplicates: link names, SAs by SPI and dst, neighbours by address on a link', () => {
    const document = clone(example) as { links: unknown[]; xfrm: unknown[]; neighbours: unknown[] };
    document.links.push(clone(document.links[0]));
    let error = configError(() => validateDocument(document));
    expect([error.code, error.field, error.message]).to.deep.equal(['DUPLICATE', 'links[2].name', 'links[2].name: "vxlan100" is also the name of links[0]']);
    const twoSas = clone(example) as { xfrm: { spi: unknown }[] };
    twoSas.xfrm.push({ ...clone(twoSas.xfrm[0]!), spi: 4096 });
    error = configError(() => validateDocument(twoSas));
    expect([error.code, error.field]).to.deep.equal(['DUPLICATE', 'xfrm[2].spi']);
    const twoNeighbours = clone(example) as { neighbours: unknown[] };
    twoNeighbours.neighbours.push({ dev: 'vxlan100', address: '10.200.0.2', lladdr: '02:00:00:00:00:03' });
    error = configError(() => validateDocument(twoNeighbours));
    expect([error.code, error.field]).to.deep.equal(['DUPLICATE', 'neighbours[1].address']);
  });

  it('references: up, addresses, fdb and neighbours must name links of the file (only when asked)', () => {
    for (const [path, field] of [
      [['up', 1], 'up[1]'],
      [['addresses', 2, 'dev'], 'addresses[2].dev'],
      [['fdb', 1, 'dev'], 'fdb[1].dev'],
      [['neighbours', 0, 'dev'], 'neighbours[0].dev'],
    ] as [Path, string][]) {
      const document = clone(example);
      setAt(document, path, 'vxlan101');
      const error = configError(() => validateDocument(document, { references: true }));
      expect(error.code).to.equal('UNKNOWN_LINK');
      expect(error.message).to.equal(`${field}: no link "vxlan101" in links (defined: vxlan100, gnv0)`);
      expect(() => validateDocument(document)).to.not.throw();
    }
    expect(configError(() => validateDocument({ version: 1, up: ['x'] }, { references: true })).message).to.equal('up[0]: no link "x" in links (none defined)');
  });

  it('limits: an array longer than its limit is TOO_MANY', () => {
    const error = configError(() => validateDocument({ version: 1, links: new Array(DOCUMENT_LIMITS.links + 1).fill(0) }));
    expect([error.code, error.field]).to.deep.equal(['TOO_MANY', 'links']);
    expect(error.message).to.equal(`links: at most ${DOCUMENT_LIMITS.links} entries, got ${DOCUMENT_LIMITS.links + 1}`);
  });

  it('integers: JSON numbers or strings of decimal or 0x hex digits; nothing else', () => {
    const link = (vni: unknown): unknown => validateLinkConfig({ name: 'v', type: 'vxlan', vni }).vni;
    expect(link(0)).to.equal(0);
    expect(link('100')).to.equal(100);
    expect(link('0xffffff')).to.equal(0xffffff);
    for (const bad of ['1e3', ' 1', '0x', '-1', '+1', '0b1', '1.0', '', 'ten', null, true, [], {}, Number.NaN, Infinity, -0.5]) {
      expect(() => link(bad), String(bad)).to.throw(ConfigError, /must be an integer in 0\.\.16777215/);
    }
  });

  it('the validators return fresh objects: nothing unasked passes through, inputs are not changed', () => {
    const input = { src: '10.0.0.1', dst: '10.0.0.2', spi: '0x100', aead: { name: 'RFC4106(GCM(AES))', key: `0x${'AB'.repeat(20)}`, icvBits: '128' } };
    const frozen = clone(input);
    const sa = validateSa(input);
    expect(sa).to.deep.equal({ src: '10.0.0.1', dst: '10.0.0.2', spi: 256, aead: { name: 'rfc4106(gcm(aes))', key: `0x${'ab'.repeat(20)}`, icvBits: 128 } });
    expect(input).to.deep.equal(frozen);
    expect(sa.aead).to.not.equal(input.aead);
  });
});

describe('cli config: text and files', () => {
  let dir: string;
  let remove: () => Promise<void>;
  before(async () => {
    ({ dir, remove } = await tempDir());
  });
  after(async () => remove());

  it('a JSON syntax error is BAD_JSON with the line and column', () => {
    let error = configError(() => parseDocument('{\n  "version": 1\n  "links": []\n}'));
    expect(error.code).to.equal('BAD_JSON');
    expect(error.field).to.equal('');
    expect(error.message).to.match(/^not valid JSON: .* at line 3 column 3$/);
    error = configError(() => parseDocument('{"version": 1,'));
    expect(error.message).to.match(/^not valid JSON: .* at line 1 column 15$/);
    error = configError(() => parseDocument(''));
    expect(error.code).to.equal('BAD_JSON');
    error = configError(() => parseDocument('[1,]'));
    expect(error.message).to.not.include('[1,]');
    expect(configError(() => parseDocument('[]')).message).to.match(/^must be an object \(a vtepkit document/);
  });

  it('a byte-order mark is skipped', () => {
    expect(parseDocument('\ufeff{"version": 1}')).to.deep.equal({ version: 1 });
  });

  it('readDocumentFile: reads, checks references; missing file, directory, oversized file', async () => {
    const good = join(dir, 'vtep.json');
    await writeFile(good, JSON.stringify({ version: 1, links: [{ name: 'v', type: 'vxlan', vni: 1 }], up: ['v'] }));
    expect(await readDocumentFile(good)).to.deep.equal({ version: 1, links: [{ name: 'v', type: 'vxlan', vni: 1 }], up: ['v'] });
    const dangling = join(dir, 'dangling.json');
    await writeFile(dangling, JSON.stringify({ version: 1, up: ['v'] }));
    expect((await readDocumentFile(dangling).catch((e: unknown) => e)) as ConfigError).to.have.property('code', 'UNKNOWN_LINK');
    expect(await readDocumentFile(dangling, { references: false })).to.deep.equal({ version: 1, up: ['v'] });
    const missing = (await readDocumentFile(join(dir, 'nope.json')).catch((e: unknown) => e)) as ConfigError;
    expect([missing.code, missing.message]).to.deep.equal(['UNREADABLE', `cannot read ${join(dir, 'nope.json')}: no such file`]);
    await mkdir(join(dir, 'sub'));
    expect(((await readDocumentFile(join(dir, 'sub')).catch((e: unknown) => e)) as ConfigError).message).to.match(/it is a directory/);
    const huge = join(dir, 'huge.json');
    await writeFile(huge, Buffer.alloc(MAX_DOCUMENT_BYTES + 1, 0x20));
    const tooLarge = (await readDocumentFile(huge).catch((e: unknown) => e)) as ConfigError;
    expect(tooLarge.code).to.equal('TOO_LARGE');
  });
});

describe('cli config: properties', () => {
  let example: unknown;
  before(async () => {
    [example] = await docsDocuments();
  });

  it('random values (any JS value, null prototypes, boxed values) only ever give a ConfigError', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true, withSparseArray: true, maxDepth: 4 }), (value) => {
        try {
          validateDocument(value, { references: true });
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('random JSON texts only ever give a ConfigError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify({ version: 1, links: [v], fdb: v, xfrm: [v] }))), (text) => {
        try {
          parseDocument(text);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          expect(error.message.length).to.be.greaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a valid document with one field replaced by random JSON: valid, or a ConfigError at or around that field', () => {
    const paths = [...leaves(example), ...objects(example).filter((p) => p.length > 0)];
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 2 }), (path, value) => {
        const document = clone(example);
        setAt(document, path, value);
        try {
          validateDocument(document, { references: true });
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          // The error is at the replaced field, inside it, or at a field it conflicts with in the same entry.
          const entry = pathText(path.slice(0, 2));
          expect(error.field.startsWith(entry) || error.code === 'DUPLICATE' || error.code === 'UNKNOWN_LINK', `${pathText(path)} → ${error.message}`).to.equal(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
