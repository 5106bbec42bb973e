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

/**
 * A TCP port on 127.0.0.1 that refuses connections for the whole test: one below the kernel's
 * ephemeral range (net.ipv4.ip_local_port_range), free when chosen. A port the kernel picked
 * (freePort) goes back to its pool when closed, and a test running beside this one may be given it
 * — a server listening on port 0, a client's local port — so "refused" became "reset" under load;
 * below the range only a socket that names the port explicitly can take it.
 */
export async function refusedPort() {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: the usual range's start
  }
  const from = Math.max(1024, low - 12000);
  for (let i = 0; i < 50; i++) {
    const port = from + Math.floor(Math.random() * (low - from));
    const free = await new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port below ${low} after 50 tries`);
}
