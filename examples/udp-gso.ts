import { BatchUdpTransport, BufferPool } from 'vtepkit';

const pool = new BufferPool();
const rx = BatchUdpTransport.open({ port: 0, address: '127.0.0.1' });
const tx = BatchUdpTransport.open({ port: 0, address: '127.0.0.1' });
rx.start(pool, (buffers, _sources, _ports, count) => {
  console.log(`${count} datagrams`); // 100 datagrams (in one or a few batches)
  pool.releaseBatch(buffers, count);
});
const payload = new Uint8Array(114);
for (let i = 0; i < 100; i++) tx.queue(payload, 0, payload.length, Uint8Array.of(127, 0, 0, 1), 0, rx.port);
tx.flush(); // one sendmmsg: two UDP GSO messages of 64 and 36 datagrams
console.log(tx.stats.txPackets, tx.stats.txGsoMessages); // 100 2
setTimeout(() => { rx.close(); tx.close(); }, 100);
