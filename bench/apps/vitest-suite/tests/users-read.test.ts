// Reading users: the same user through each client, a missing one, and a page.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson } from './client';

const ids = Array.from({ length: 20 }, (_, i) => i * 37 + 1);

describe('users: read', () => {
  test.each(ids)('user %i reads the same through http, axios and fetch', async (id) => {
    const a = await httpJson('GET', `${API}/api/users/${id}`);
    const b = await api.get(`/api/users/${id}`);
    const c = await fetchJson('GET', `${API}/api/users/${id}`);
    expect(a.status).toBe(200);
    expect(b.data).toEqual(a.body);
    expect(c.body).toEqual(a.body);
    const missing = await api.get(`/api/users/${id + 1000}`);
    expect(missing.status).toBe(404);
    const page = await fetchJson('GET', `${API}/api/users?page=${(id % 5) + 1}`);
    expect(page.body.users).toHaveLength(20);
  });
});
