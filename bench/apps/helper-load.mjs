// Load generators for bench/helper.mjs (each runs as its own process, so the helper can trace
// exactly one of them):
//   server PORT...                      accepts; in "churn" ports closes at once, else discards
//   churn PORT SECONDS CONCURRENCY [RATE]  opens/closes connections; prints {connections, seconds}
//   blast PORT SECONDS PPS              one connection, small writes with Nagle off; prints {writes}
import net from 'node:net';

const [mode, ...rest] = process.argv.slice(2);

if (mode === 'server') {
  const [churnPort, ...others] = rest.map(Number);
  // The server closes first, so TIME_WAIT stays on its side and client ports are reused at once.
  net.createServer((s) => s.on('error', () => {}).end()).listen(churnPort, '127.0.0.1');
  for (const p of others) net.createServer((s) => s.on('error', () => {}).resume()).listen(p, '127.0.0.1');
  setTimeout(() => console.log('LISTENING'), 50);
} else if (mode === 'churn') {
  const [port, seconds, concurrency, rate] = rest.map(Number);
  const start = performance.now();
  const end = start + seconds * 1000;
  let started = 0;
  let done = 0;
  let inFlight = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    const cpu = process.cpuUsage();
    console.log(JSON.stringify({ connections: done, seconds: (performance.now() - start) / 1000, cpuUs: cpu.user + cpu.system }));
    process.exit(0);
  };
  const one = () => {
    inFlight++;
    started++;
    const c = net.connect(port, `127.0.0.${1 + (started % 8)}`); // 8 addresses, as loadgen's server listens on
    c.on('error', () => {});
    c.on('end', () => c.end());
    c.on('close', () => {
      inFlight--;
      done++;
      pump();
    });
  };
  const pump = () => {
    const now = performance.now();
    if (now >= end) {
      if (inFlight === 0) finish();
      return;
    }
    while (inFlight < concurrency && (!rate || started < ((now - start) / 1000) * rate)) one();
    if (rate && inFlight === 0) setTimeout(pump, 1);
  };
  if (rate) setInterval(pump, 1).unref();
  pump();
} else if (mode === 'blast') {
  const [port, seconds, pps] = rest.map(Number);
  const chunk = Buffer.alloc(64, 97);
  const c = net.connect(port, '127.0.0.1', () => {
    c.setNoDelay(true);
    const start = performance.now();
    let writes = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      if (now - start >= seconds * 1000) {
        clearInterval(tick);
        c.end();
        console.log(JSON.stringify({ writes, seconds: (now - start) / 1000 }));
        return;
      }
      // One write per segment (Nagle off, libuv writes at once while the queue is empty).
      while (writes < ((now - start) / 1000) * pps) {
        c.write(chunk);
        writes++;
      }
    }, 1);
  });
  c.on('error', (e) => {
    console.error(e.message);
    process.exit(1);
  });
}
