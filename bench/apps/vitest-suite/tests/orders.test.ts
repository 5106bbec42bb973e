// Orders: an order, its user and its products, the same order on a fresh connection, a missing one.
import { describe, expect, test } from 'vitest';
import { API, api, fetchJson, httpJson } from './client';

describe('orders', () => {
  test.each(Array.from({ length: 20 }, (_, i) => 11 + i * 23))('order %i joins its user and products', async (id) => {
    const order = await fetchJson('GET', `${API}/api/orders/${id}`);
    expect(order.status).toBe(200);
    const owner = await api.get(`/api/users/${order.body.userId || 1}`);
    expect(owner.status).toBe(200);
    const products = await httpJson('GET', `${API}/api/products?category=order-${id}`);
    expect(products.body.products.length).toBeGreaterThan(0);
    const again = await httpJson('GET', `${API}/api/orders/${id}`, undefined, true);
    expect(again.body).toEqual(order.body);
    const missing = await api.get(`/api/orders/${id + 9000}`);
    expect(missing.status).toBe(404);
  });
});
