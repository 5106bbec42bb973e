// Runs under Jest (test/integration/runners.test.mjs): each request is made on the line marked
// `@line <name>` (see http.test.js).
/* global test, expect -- Jest's globals */
import axios from 'axios';
import { answer } from './answer.js';

const base = process.env.NT_BASE;

test('fetch', async () => {
  const r = await fetch(`${base}/jest-fetch`); // @line fetch
  await r.text();
  expect(answer(r.status)).toBe(200);
});

test('axios', async () => {
  const { status } = await axios.get(`${base}/jest-axios`); // @line axios
  expect(answer(status)).toBe(200);
});
