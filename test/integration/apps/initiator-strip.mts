// A TypeScript program run with Node's own type stripping (22+): no transpiler, no source map.
// Its requests' initiators must be these lines (marked `// @line NAME`).
import http from 'node:http';

interface Reply {
  status: number;
}

const base: string = process.env.BASE ?? '';

function get(path: string): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const req: http.ClientRequest = http.get(`${base}${path}`, (r) => r.resume().on('end', () => resolve({ status: r.statusCode ?? 0 }))); // @line strip-http
    req.on('error', reject);
  });
}

const first: Reply = await get('/c/strip-http');
const res: Response = await fetch(`${base}/c/strip-fetch`); // @line strip-fetch
await res.text();
console.log(first.status, res.status);
