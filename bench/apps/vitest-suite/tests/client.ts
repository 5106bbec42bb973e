// The suite's three ways to call the services, as application code has them: node:http (with a
// keep-alive agent, or a connection per request), axios (an instance on a keep-alive agent) and
// fetch (undici's pool). Every call is one HTTP request; API_URL and AUTH_URL come from the bench.
import http from 'node:http';
import axios from 'axios';

export const API = process.env.API_URL ?? 'http://127.0.0.1:1';
export const AUTH = process.env.AUTH_URL ?? 'http://127.0.0.1:1';

export interface Reply {
  status: number;
  // The services' JSON, as a test reads it (a test suite's usual looseness).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** node:http: JSON in and out; `fresh` opens a connection for this request alone (Connection: close). */
export function httpJson(method: string, url: string, body?: unknown, fresh = false): Promise<Reply> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent: fresh ? false : keepAlive,
        headers: {
          accept: 'application/json',
          ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** axios on a keep-alive agent; every status resolves (the tests check it). */
export const api = axios.create({ baseURL: API, httpAgent: keepAlive, validateStatus: () => true, timeout: 20000 });

/** fetch: JSON in and out. */
export async function fetchJson(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, {
    method,
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A token from the auth service (one request). */
export async function login(user: string, password = 'correct horse'): Promise<Reply> {
  return fetchJson('POST', `${AUTH}/token`, { user, password });
}
