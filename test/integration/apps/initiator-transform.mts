// A TypeScript program with syntax that type stripping cannot erase (an enum), run with Node's
// --experimental-transform-types (22+): Node transpiles it and keeps the source map in memory.
// Its requests' initiators must be these lines (marked `// @line NAME`).
import http from 'node:http';

enum Path {
  First = '/c/transform-http',
  Second = '/c/transform-fetch',
}

const base: string = process.env.BASE ?? '';

function get(path: Path): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const req: http.ClientRequest = http.get(`${base}${path}`, (r) => r.resume().on('end', () => resolve(r.statusCode ?? 0))); // @line transform-http
    req.on('error', reject);
  });
}

const first: number = await get(Path.First);
const res: Response = await fetch(`${base}${Path.Second}`); // @line transform-fetch
await res.text();
console.log(first, res.status);
