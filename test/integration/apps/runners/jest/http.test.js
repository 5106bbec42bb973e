// Runs under Jest (test/integration/runners.test.mjs): each request is made on the line marked
// `@line <name>`, the line the trace must name, though babel-jest rewrote this file (its imports
// as requires) and Jest runs the result from memory.
import http from 'node:http';
/* global jest, test, expect -- Jest's globals */
import { answer } from './answer.js';

jest.setTimeout(20000);

const base = process.env.NT_BASE;

function get(path) {
  return new Promise((resolve, reject) => {
    const onResponse = (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    };
    http.get(`${base}${path}`, onResponse).on('error', reject); // @line http
  });
}

test('http', async () => {
  expect(answer(await get('/jest-http'))).toBe(200);
});
