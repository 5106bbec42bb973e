// A user's profile page: the user, their orders, an edit, and a refused edit.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson } from './client';

describe('profile', () => {
  for (let i = 1; i <= 20; i++) {
    test(`profile of user ${i * 3}`, async () => {
      const id = i * 3;
      const user = await fetchJson('GET', `${API}/api/users/${id}`);
      expect(user.body.address.zip).toBe(String(10000 + id));
      const orders = await Promise.all([1, 2].map((k) => api.get(`/api/orders/${id + k}`)));
      expect(orders.map((o) => o.status)).toEqual([200, 200]);
      const edit = await httpJson('PATCH', `${API}/api/users/${id}`, { address: { city: 'Turin' } });
      expect(edit.body.address.city).toBe('Turin');
      const refused = await api.post('/api/users', {});
      expect(refused.status).toBe(422);
    });
  }
});
