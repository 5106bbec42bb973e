// A connection per request (no keep-alive), as scripts and old clients make them.
import { describe, expect, test } from 'vitest';
import { API, AUTH, httpJson } from './client';

describe('fresh connections', () => {
  test.each(Array.from({ length: 20 }, (_, i) => i * 11 + 3))('user %i, one connection per call', async (id) => {
    const user = await httpJson('GET', `${API}/api/users/${id}`, undefined, true);
    expect(user.body.id).toBe(id);
    const order = await httpJson('GET', `${API}/api/orders/${id}`, undefined, true);
    expect(order.status).toBe(200);
    const put = await httpJson('PUT', `${API}/api/users/${id}`, { name: 'Fresh' }, true);
    expect(put.body.name).toBe('Fresh');
    const health = await httpJson('GET', `${AUTH}/health`, undefined, true);
    expect(health.status).toBe(200);
    const missing = await httpJson('GET', `${API}/api/orders/${id + 5000}`, undefined, true);
    expect(missing.status).toBe(404);
  });
});
