// A local DNS server for tests and benchmarks, built on dns-packet: UDP and TCP on the same port of
// a loopback address (127.0.0.2 and friends work on Linux), programmable per name.
//
//   const ns = await startDnsServer({ host: '127.0.0.1', zone: { 'a.test': { A: ['192.0.2.1'] } } });
//   ns.address        // "127.0.0.1:40123" — what the resolver's `nameservers` option takes
//   ns.set('b.test', { rcode: 'NXDOMAIN' }); ns.log; await ns.close();
//
// A zone entry (names are case-insensitive, without trailing dot) may hold:
//   A: ['192.0.2.1', ...], AAAA: ['2001:db8::1', ...], ttl: 300   — answers, in this order
//   cname: 'target.test'    — answer with a CNAME, then follow the target inside the zone
//   rcode: 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | ...             — answer with that rcode, no records
//   truncate: true          — over UDP: an empty reply with the TC bit; over TCP: the full answer
//   silent: true            — never answer (UDP or TCP)
//   tcpSilent: true         — never answer over TCP (with truncate: the TCP retry hangs)
//   malformed: true         — reply with the query's id, then bytes that do not decode
//   delayMs: n              — answer after n ms
// A name not in the zone gets NXDOMAIN; a name without records of the asked type gets NODATA.
// `silent: true` in the server options makes the whole server a black hole (for failover tests).
//
// Run as a script (`node dnsServer.mjs [host] [port]`) it serves `bench.test` (A 192.0.2.10,
// AAAA 2001:db8::10) and prints `{"address": "..."}` on its first stdout line.
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const packet = require('dns-packet');

const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

const key = (name) => String(name).toLowerCase().replace(/\.$/, '');

/** Starts a server; resolves when both UDP and TCP listen on the same port. */
export async function startDnsServer({ host = '127.0.0.1', port = 0, zone = {}, silent = false } = {}) {
  const names = new Map(Object.entries(zone).map(([k, v]) => [key(k), v]));
  const log = [];
  const family = net.isIP(host) === 6 ? 'udp6' : 'udp4';
  const timers = new Set();
  const tcpSockets = new Set();
  let udp;
  let tcp;
  for (let tries = 0; ; tries++) {
    udp = dgram.createSocket(family);
    udp.on('error', () => {});
    await new Promise((resolve, reject) => {
      udp.once('error', (err) => {
        // A port taken (a caller trying ports, startBelowRange): this socket is not left open.
        try {
          udp.close();
        } catch {
          // closed already
        }
        reject(err);
      });
      udp.bind(port, host, () => {
        udp.removeAllListeners('error');
        udp.on('error', () => {});
        resolve();
      });
    });
    const bound = udp.address().port;
    tcp = net.createServer({ noDelay: true }, (s) => onTcp(s));
    tcp.on('error', () => {});
    try {
      await new Promise((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(bound, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      break;
    } catch (err) {
      udp.close();
      if (port !== 0 || tries > 20) throw err;
    }
  }
  const boundPort = udp.address().port;

  /** The reply to one query message, or undefined to stay silent. */
  function answer(query, proto) {
    const q = query.questions?.[0];
    const entry = q ? names.get(key(q.name)) : undefined;
    log.push({ proto, id: query.id, name: q?.name, type: q?.type, at: Date.now() });
    if (silent || entry?.silent || (proto === 'tcp' && entry?.tcpSilent)) return undefined;
    const reply = {
      id: query.id,
      type: 'response',
      flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
      questions: query.questions,
      answers: [],
    };
    if (!q) return { reply: { ...reply, flags: reply.flags | RCODES.FORMERR }, entry };
    if (entry?.malformed) return { raw: malformedReply(query.id), entry };
    if (!entry) return { reply: { ...reply, flags: reply.flags | RCODES.NXDOMAIN }, entry };
    if (entry.rcode) return { reply: { ...reply, flags: reply.flags | (RCODES[entry.rcode] ?? 2) }, entry };
    if (entry.truncate && proto === 'udp') return { reply: { ...reply, flags: reply.flags | packet.TRUNCATED_RESPONSE }, entry };
    let name = q.name;
    let rec = entry;
    for (let hops = 0; rec && hops < 10; hops++) {
      if (rec.cname) {
        reply.answers.push({ name, type: 'CNAME', class: 'IN', ttl: rec.ttl ?? 300, data: rec.cname });
        name = rec.cname;
        rec = names.get(key(name));
        continue;
      }
      for (const data of rec[q.type] ?? []) reply.answers.push({ name, type: q.type, class: 'IN', ttl: rec.ttl ?? 300, data });
      break;
    }
    return { reply, entry };
  }

  function respond(buf, proto, send) {
    let query;
    try {
      query = packet.decode(buf);
    } catch {
      return; // not DNS: ignore
    }
    const res = answer(query, proto);
    if (!res) return;
    const out = res.raw ?? packet.encode(res.reply);
    const delay = res.entry?.delayMs ?? 0;
    if (delay > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        send(out);
      }, delay);
      timers.add(t);
    } else send(out);
  }

  udp.on('message', (buf, rinfo) => {
    respond(buf, 'udp', (out) => udp.send(out, rinfo.port, rinfo.address, () => {}));
  });

  function onTcp(socket) {
    tcpSockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => tcpSockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        respond(msg, 'tcp', (out) => {
          const frame = Buffer.alloc(2 + out.length);
          frame.writeUInt16BE(out.length, 0);
          out.copy(frame, 2);
          if (!socket.destroyed) socket.write(frame);
        });
      }
    });
  }

  const address = net.isIP(host) === 6 ? `[${host}]:${boundPort}` : `${host}:${boundPort}`;
  return {
    host,
    port: boundPort,
    address,
    log,
    /** Sets (or with `undefined`, removes) one name's behaviour. */
    set(name, spec) {
      if (spec === undefined) names.delete(key(name));
      else names.set(key(name), spec);
    },
    close() {
      for (const t of timers) clearTimeout(t);
      for (const s of tcpSockets) s.destroy();
      return new Promise((resolve) => {
        let left = 2;
        const done = () => --left === 0 && resolve();
        udp.close(done);
        tcp.close(done);
      });
    },
  };
}

/** The query's id, QR set, claims one question, then stops: does not decode. */
function malformedReply(id) {
  const buf = Buffer.alloc(14);
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(0x8180, 2);
  buf.writeUInt16BE(1, 4); // one question...
  buf.writeUInt16BE(1, 6); // ...and one answer, neither of which is there
  buf[12] = 0x3f; // a 63-byte label that is not there
  buf[13] = 0x61;
  return buf;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const host = process.argv[2] ?? '127.0.0.1';
  const port = Number(process.argv[3] ?? 0);
  const ns = await startDnsServer({ host, port, zone: { 'bench.test': { A: ['192.0.2.10'], AAAA: ['2001:db8::10'] } } });
  process.stdout.write(`${JSON.stringify({ address: ns.address, port: ns.port })}\n`);
  process.on('SIGTERM', () => ns.close().then(() => process.exit(0)));
  process.stdin.on('end', () => ns.close().then(() => process.exit(0)));
  process.stdin.resume();
}
