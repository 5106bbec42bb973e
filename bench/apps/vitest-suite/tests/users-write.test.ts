// Writing users: create, a refused create (422), replace, patch and delete.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson } from './client';

describe('users: write', () => {
  for (let i = 1; i <= 20; i++) {
    test(`user ${i}: create, update, delete`, async () => {
      const created = await api.post('/api/users', { name: `New ${i}`, email: `new${i}@example.test` });
      expect(created.status).toBe(201);
      expect(created.data.name).toBe(`New ${i}`);
      const refused = await fetchJson('POST', `${API}/api/users`, { email: 'nobody@example.test' });
      expect(refused.status).toBe(422);
      const put = await httpJson('PUT', `${API}/api/users/${i}`, { name: `Renamed ${i}` });
      expect(put.body.name).toBe(`Renamed ${i}`);
      const patch = await api.patch(`/api/users/${i}`, { roles: ['user', 'editor'] });
      expect(patch.data.roles).toContain('editor');
      const del = await fetchJson('DELETE', `${API}/api/users/${i}`);
      expect(del.status).toBe(204);
    });
  }
});
