// Paging through users: five pages in turn, each through another client, the ids consecutive.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson } from './client';

const get = [
  (p: number) => httpJson('GET', `${API}/api/users?page=${p}`).then((r) => r.body),
  (p: number) => api.get('/api/users', { params: { page: p } }).then((r) => r.data),
  (p: number) => fetchJson('GET', `${API}/api/users?page=${p}`).then((r) => r.body),
];

describe('pagination', () => {
  test.each(Array.from({ length: 20 }, (_, i) => i * 2 + 1))('five pages from page %i', async (start) => {
    const ids: number[] = [];
    for (let k = 0; k < 5; k++) {
      const page = await get[(start + k) % 3](start + k);
      ids.push(...page.users.map((u: { id: number }) => u.id));
    }
    expect(ids).toHaveLength(100);
    expect(ids[99] - ids[0]).toBe(99);
  });
});
