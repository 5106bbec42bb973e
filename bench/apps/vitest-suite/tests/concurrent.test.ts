// Calls in flight together: five at once through the three clients.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson, login } from './client';

describe('concurrent', () => {
  test.each(Array.from({ length: 20 }, (_, i) => i + 100))('dashboard %i loads in parallel', async (id) => {
    const [user, order, products, search, token] = await Promise.all([
      api.get(`/api/users/${id}`),
      fetchJson('GET', `${API}/api/orders/${id}`),
      httpJson('GET', `${API}/api/products?category=dash`),
      api.post('/api/search', { q: `user ${id}` }),
      login(`dash${id}`),
    ]);
    expect(user.data.id).toBe(id);
    expect(order.body.id).toBe(id);
    expect(products.body.products).toHaveLength(10);
    expect(search.status).toBe(200);
    expect(token.body.token).toBe(`token-dash${id}`);
  });
});
