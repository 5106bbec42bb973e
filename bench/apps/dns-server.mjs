// The benchmark's DNS server, in its own process (so its cost never mixes with the client's or the
// collector's): test/integration/dnsServer.mjs (dns-packet, UDP and TCP on one loopback port)
// serving `bench.test` A 127.0.0.1 (no AAAA: an AAAA query gets NODATA). Prints
// {"address": "127.0.0.1:PORT", "port": PORT} once listening, then {"queries": n} on each stdin
// line "stats". Exits on SIGTERM or when its stdin closes.
import { createInterface } from 'node:readline';
import { startDnsServer } from '../../test/integration/dnsServer.mjs';

const ns = await startDnsServer({ host: '127.0.0.1', zone: { 'bench.test': { A: ['127.0.0.1'] } } });
process.stdout.write(JSON.stringify({ address: ns.address, port: ns.port }) + '\n');
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  ns.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(JSON.stringify({ queries: ns.log.length }) + '\n');
  })
  .on('close', stop);
process.on('SIGTERM', stop);
