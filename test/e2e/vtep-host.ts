/**
 * A VTEP process for end-to-end tests: applies the VtepDocument given as JSON in
 * argv[2], prints "ready", then answers one-word commands on stdin with one JSON
 * line each: `links` (with counters), `fdb`, `underlay`, `esp` (ESP drops by reason), `quit`.
 * Run inside a namespace: ip netns exec NS node --import tsx test/e2e/vtep-host.ts '{…}'
 */
import { createInterface } from 'node:readline';
import { Vtep } from '../../src/vtep/vtep.js';
import type { VtepDocument } from '../../src/vtep/api.js';

const document = JSON.parse(process.argv[2] ?? '{}') as VtepDocument;
const vtep = new Vtep();
try {
  await vtep.apply(document);
} catch (error) {
  console.error(`apply failed: ${(error as Error).message}`);
  await vtep.close();
  process.exit(1);
}
console.log('ready');

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = line.trim();
  if (command === 'links') console.log(JSON.stringify(vtep.showLinks({ stats: true })));
  else if (command === 'fdb') console.log(JSON.stringify(vtep.fdbShow({})));
  else if (command === 'underlay') console.log(JSON.stringify(vtep.underlayCounters()));
  else if (command === 'esp') console.log(JSON.stringify(Object.fromEntries(vtep.espDrops)));
  else if (command === 'quit') void vtep.close().then(() => process.exit(0));
  else console.log(JSON.stringify({ error: `unknown command ${command}` }));
});
lines.on('close', () => void vtep.close().then(() => process.exit(0)));
