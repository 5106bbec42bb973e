// Runs under vitest (test/integration/runners.test.mjs): each request is made on the line marked
// `@line <name>`, the line the trace must name, though vite transformed this file (its types gone,
// its imports rewritten) and runs the result from memory.
import { expect, test } from 'vitest';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';

/** What the test saw. */
interface Answer {
  status: number;
  bytes: number;
}

const base: string = process.env.NT_BASE ?? '';

function get(path: string): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    };
    http.get(`${base}${path}`, onResponse).on('error', reject); // @line http
  });
}

test('http', async () => {
  const answer: Answer = await get('/vitest-http');
  expect(answer.status).toBe(200);
});
