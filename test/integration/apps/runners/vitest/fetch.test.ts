// Runs under vitest (test/integration/runners.test.mjs): each request is made on the line marked
// `@line <name>` (see http.test.ts).
import { expect, test } from 'vitest';
import axios from 'axios';
import type { AxiosResponse } from 'axios';

type Options = { timeout: number; headers: Record<string, string> };

const base: string = process.env.NT_BASE ?? '';
const options: Options = { timeout: 10000, headers: { 'x-suite': 'vitest' } };

test('fetch', async () => {
  const res: Response = await fetch(`${base}/vitest-fetch`, options); // @line fetch
  expect(res.status).toBe(200);
  await res.text();
});

test('axios', async () => {
  const res: AxiosResponse<string> = await axios.get<string>(`${base}/vitest-axios`, options); // @line axios
  expect(res.status).toBe(200);
});
