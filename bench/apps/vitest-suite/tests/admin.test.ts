// The admin API with an admin's token, through axios and fetch.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson, login } from './client';

describe('admin', () => {
  for (let i = 1; i <= 20; i++) {
    test(`admin session ${i}`, async () => {
      const { body } = await login('admin');
      const headers = { authorization: `Bearer ${body.token}` };
      const a = await api.get('/api/admin/stats', { headers });
      expect(a.status).toBe(200);
      const b = await fetchJson('GET', `${API}/api/admin/users`, undefined, headers);
      expect(b.body.ok).toBe(true);
      const page = await httpJson('GET', `${API}/api/users?page=${i}`);
      expect(page.body.page).toBe(i);
      const first = await api.get(`/api/users/${page.body.users[0].id}`);
      expect(first.data.id).toBe(page.body.users[0].id);
    });
  }
});
