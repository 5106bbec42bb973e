// Products by category through each client; the totals agree.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson } from './client';

const categories = ['books', 'garden', 'tools', 'toys', 'music', 'games', 'food', 'shoes', 'bags', 'lamps'];

describe('products', () => {
  test.each(
    categories.flatMap((c) => [
      [c, 'a'],
      [c, 'b'],
    ]),
  )('category %s (%s)', async (category) => {
    const a = await api.get('/api/products', { params: { category } });
    const b = await fetchJson('GET', `${API}/api/products?category=${category}`);
    const c = await httpJson('GET', `${API}/api/products?category=${category}`);
    expect(a.data).toEqual(b.body);
    expect(c.body.category).toBe(category);
    const total = a.data.products.reduce((s: number, p: { price: number }) => s + p.price, 0);
    expect(total).toBeGreaterThan(0);
    const unknown = await fetchJson('GET', `${API}/api/products/none/extra`);
    expect(unknown.status).toBe(200);
    const nowhere = await httpJson('GET', `${API}/nowhere/${category}`);
    expect(nowhere.status).toBe(404);
  });
});
