// The errors a client meets: unknown routes, missing records, refused writes, wrong methods.
import { describe, expect, test } from 'vitest';
import { API, AUTH, api, fetchJson, httpJson } from './client';

describe('errors', () => {
  test.each(Array.from({ length: 20 }, (_, i) => i + 1))('round %i', async (i) => {
    expect((await api.get(`/api/users/${2000 + i}`)).status).toBe(404);
    expect((await fetchJson('GET', `${API}/v2/users/${i}`)).status).toBe(404);
    expect((await httpJson('POST', `${API}/api/users`, { nick: `x${i}` })).status).toBe(422);
    expect((await fetchJson('GET', `${AUTH}/token`)).status).toBe(404);
    const ok = await api.get(`/api/users/${i}`);
    expect(ok.status).toBe(200);
  });
});
