// Handler lines in a TypeScript program run with `--import tsx` (servers.test.mjs): transpiled
// in memory, its map held only by Node; each incoming request's handler must be the line of
// this .ts file (marked `// @line NAME`), not of the generated JavaScript.
import http from 'node:http';
import express, { type Request, type Response } from 'express';
import Fastify from 'fastify';

interface Order {
  id: string;
  total: number;
}

type Reply = { ok: boolean; order?: Order };

const app = express();
// prettier-ignore
app.get('/orders/:id', (req: Request, res: Response): void => { // @line ts-ex
  const order: Order = { id: String(req.params.id), total: 3 };
  res.json({ ok: true, order } satisfies Reply);
});

const fa = Fastify();
fa.get('/items/:id', async (): Promise<Reply> => ({ ok: true })); // @line ts-fa

const listen = (s: http.Server): Promise<number> =>
  new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));

async function main(): Promise<void> {
  const ex = http.createServer(app);
  const exPort: number = await listen(ex);
  await fa.listen({ port: 0, host: '127.0.0.1' });
  const faPort: number = (fa.server.address() as { port: number }).port;
  for (let i = 0; i < 3; i++) {
    await (await fetch(`http://127.0.0.1:${exPort}/orders/${i}`)).text();
    await (await fetch(`http://127.0.0.1:${faPort}/items/${i}`)).text();
  }
  await new Promise((r) => setTimeout(r, 50));
  ex.close();
  await fa.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
