// Ports for tests.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that no socket holds right now (the kernel's pick: listened on, then
 * closed), so connecting to it is refused until something listens there.
 */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The first port of the kernel's ephemeral range (net.ipv4.ip_local_port_range). */
function ephemeralLow() {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768; // not Linux: the usual range's start
  }
}

/**
 * A random port number below the ephemeral range, where only a socket naming the port can land:
 * refused ports (`listening` false) from the lower half of the 12,000 below it, listening ones from
 * the upper half, so a server that tests start never lands on a port another test counts on being
 * refused.
 */
function belowRange(listening) {
  const low = ephemeralLow();
  const from = Math.max(1024, low - 12000);
  const mid = from + Math.floor((low - from) / 2);
  const [a, b] = listening ? [mid, low] : [from, mid];
  return a + Math.floor(Math.random() * (b - a));
}

/**
 * A TCP port on 127.0.0.1 that refuses connections for the whole test: one below the kernel's
 * ephemeral range (net.ipv4.ip_local_port_range), free when chosen. A port the kernel picked
 * (freePort) goes back to its pool when closed, and a test running beside this one may be given it
 * — a server listening on port 0, a client's local port — so "refused" became "reset" under load;
 * below the range only a socket that names the port explicitly can take it.
 */
export async function refusedPort() {
  for (let i = 0; i < 50; i++) {
    const port = belowRange(false);
    const free = await new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port below ${ephemeralLow()} after 50 tries`);
}

/**
 * Listens with `server` (any `net.Server`) on `host` at a port below the ephemeral range, and
 * resolves to that port: once the server closes, the port refuses again for the rest of the test,
 * which a port-0 server's does not (the kernel may give it to a test running beside this one).
 */
export async function listenBelowRange(server, host = '127.0.0.1') {
  for (let i = 0; i < 50; i++) {
    const port = belowRange(true);
    const ok = await new Promise((resolve, reject) => {
      const onError = (err) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err));
      server.once('error', onError);
      server.listen(port, host, () => (server.off('error', onError), resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port below ${ephemeralLow()} after 50 tries`);
}

/**
 * Runs `start(port)` with ports below the ephemeral range until one is free (its error is
 * EADDRINUSE otherwise), for servers that bind more than one socket (a DNS server's UDP and TCP).
 */
export async function startBelowRange(start) {
  for (let i = 0; ; i++) {
    try {
      return await start(belowRange(true));
    } catch (err) {
      if (err?.code !== 'EADDRINUSE' || i >= 49) throw err;
    }
  }
}
