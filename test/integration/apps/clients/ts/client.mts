// A TypeScript program (ESM) with axios and fetch, run through `--import tsx` (transpiled in
// memory, its source map registered with Node only) and through Node's own type stripping (22+).
// Each case's request is made on the line marked `@line <case>`: the initiator must name this
// .mts file and that line.
import axios from 'axios';

interface Seen {
  ok: boolean;
  status?: number;
  len?: number;
  error?: string;
}

const base: string = process.env.NT_BASE ?? '';
const out: Record<string, Seen> = {};

async function viaFetch(path: string): Promise<Seen> {
  const res: Response = await fetch(`${base}${path}`); // @line fetch
  const text: string = await res.text();
  return { ok: true, status: res.status, len: text.length };
}

async function viaAxios(path: string): Promise<Seen> {
  const res = await axios.get<string>(`${base}${path}`, { responseType: 'text' }); // @line axios
  return { ok: true, status: res.status, len: res.data.length };
}

async function followed(path: string): Promise<Seen> {
  const res = await axios.get<string>(`${base}${path}`, { responseType: 'text' }); // @line redirect
  return { ok: true, status: res.status, len: res.data.length };
}

for (const [name, call] of [
  ['fetch', () => viaFetch('/fetch/ok?size=64')],
  ['axios', () => viaAxios('/axios/ok?size=128')],
  ['redirect', () => followed('/redirect/redir/ok?size=16')],
] as const) {
  try {
    out[name] = await call();
  } catch (e) {
    out[name] = { ok: false, error: String(e) };
  }
}
console.log(JSON.stringify(out));
