// Search: the same query through each client, an empty one (400), and a product from the results.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson } from './client';

const queries = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon'.split(' ');

describe('search', () => {
  test.each(queries)('query "%s"', async (q) => {
    const a = await fetchJson('POST', `${API}/api/search`, { q });
    const b = await api.post('/api/search', { q });
    const c = await httpJson('POST', `${API}/api/search`, { q });
    expect(a.body).toEqual(b.data);
    expect(c.body.hits).toHaveLength(q.length % 8);
    const empty = await api.post('/api/search', { q: '' });
    expect(empty.status).toBe(400);
    const product = await fetchJson('GET', `${API}/api/products?category=${q}`);
    expect(product.status).toBe(200);
  });
});
