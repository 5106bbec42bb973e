// A TypeScript program run with `--import tsx`: transpiled in memory, its source map held only by
// Node. Its requests' initiators must be these lines of this .ts file (marked `// @line NAME`).
import http from 'node:http';

interface Reply {
  status: number;
}

const base: string = process.env.BASE ?? '';

function get(path: string): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const req: http.ClientRequest = http.get(`${base}${path}`, (r) => r.resume().on('end', () => resolve({ status: r.statusCode ?? 0 }))); // @line ts-http
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const first: Reply = await get('/c/ts-http');
  const res: Response = await fetch(`${base}/c/ts-fetch`); // @line ts-fetch
  await res.text();
  console.log(first.status, res.status);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
