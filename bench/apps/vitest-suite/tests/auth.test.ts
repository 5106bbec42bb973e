// Auth: a token, a wrong password (401), the health check on a fresh connection, the admin API
// refused without a token and with a user's (403).
import { describe, expect, test } from 'vitest';
import { API, AUTH, api, fetchJson, httpJson, login } from './client';

describe('auth', () => {
  test.each(Array.from({ length: 20 }, (_, i) => `user${i + 1}`))('%s signs in', async (user) => {
    const ok = await login(user);
    expect(ok.status).toBe(200);
    expect(ok.body.token).toBe(`token-${user}`);
    const bad = await login(user, 'wrong');
    expect(bad.status).toBe(401);
    const health = await httpJson('GET', `${AUTH}/health`, undefined, true);
    expect(health.body.status).toBe('ok');
    const anonymous = await fetchJson('GET', `${API}/api/admin/stats`);
    expect(anonymous.status).toBe(403);
    const asUser = await api.get('/api/admin/stats', { headers: { authorization: `Bearer ${ok.body.token}` } });
    expect(asUser.status).toBe(403);
  });
});
