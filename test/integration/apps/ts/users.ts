// A TypeScript program: compiled with a source map by the test, its initiator must point here.
import http from 'node:http';

interface Urls {
  http: string;
}

const urls: Urls = JSON.parse(process.env.NT_URLS ?? '{}');

export function loadUsers(): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(`${urls.http}/users-ts`, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

loadUsers().then((status) => console.log('status', status));
