// Ports for tests.
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
