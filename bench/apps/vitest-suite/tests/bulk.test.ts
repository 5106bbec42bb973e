// Large responses (~40 KB of JSON) beside small ones.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson } from './client';

describe('bulk', () => {
  for (let i = 1; i <= 20; i++) {
    test(`bulk export ${i}`, async () => {
      const a = await fetchJson('GET', `${API}/api/products/bulk`);
      expect(a.body.items).toHaveLength(400);
      const b = await api.get('/api/products/bulk');
      expect(b.data.items[399].id).toBe(399);
      const c = await httpJson('GET', `${API}/api/orders/${i}`);
      expect(c.body.id).toBe(i);
      const d = await api.get(`/api/users/${i}`);
      expect(d.status).toBe(200);
      const e = await fetchJson('POST', `${API}/api/search`, { q: `bulk ${i}` });
      expect(e.status).toBe(200);
    });
  }
});
