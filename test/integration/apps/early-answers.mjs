// Requests a server answers before the program has sent them whole, for early-answers.test.mjs:
// an `Expect: 100-continue` PUT refused before its body, one let through with `100 Continue`, a
// streamed upload rejected after its first chunk, the AWS SDK's multipart upload whose part is
// refused (lib-storage: the SDK sends `Expect: 100-continue` for a part of 2 MB or more), and an
// event stream read with fetch that the server resets. Each scenario prints one JSON line of what
// the program saw (status, events in order, body bytes it wrote and read), for the test to hold
// the trace to. NT_BASE: the test's server.
import http from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const base = process.env.NT_BASE;
const out = (o) => console.log(JSON.stringify(o));

/**
 * One http request: `send(req, note)` writes its body (note(n): n bytes written); resolves at its
 * 'close' with what the program saw.
 */
function exchange(id, options, send) {
  return new Promise((resolve) => {
    const seen = { id, method: options.method, events: [], written: 0, read: 0, interim: [] };
    const url = `${base}${options.path}`;
    // A ClientRequest made directly: not through http.request() (the preload's wrapper).
    const req = options.direct
      ? new http.ClientRequest(url, { method: options.method, headers: options.headers })
      : http.request(url, { method: options.method, headers: options.headers });
    const note = (n) => (seen.written += n);
    req.on('information', (info) => seen.interim.push(info.statusCode));
    req.on('continue', () => seen.events.push('continue'));
    req.on('response', (res) => {
      seen.events.push('response');
      seen.status = res.statusCode;
      seen.statusText = res.statusMessage;
      res.on('data', (d) => (seen.read += d.length));
      res.on('end', () => seen.events.push('end'));
    });
    req.on('error', (err) => seen.events.push(`error:${err.code ?? err.name}`));
    req.on('close', () => {
      seen.events.push('close');
      resolve(seen);
    });
    send(req, note, seen);
  });
}

const scenarios = {
  /** `Expect: 100-continue`: the body waits for `100 Continue`; the server answers 503 first. */
  async expectRefused() {
    const body = Buffer.alloc(4096, 'a');
    const seen = await exchange(
      'e1',
      { method: 'PUT', path: '/expect/refuse?id=e1', headers: { expect: '100-continue', 'content-length': body.length } },
      (req, note) => req.on('continue', () => (note(body.length), req.end(body))),
    );
    out(seen);
  },

  /** The same, its ClientRequest made with `new` (no http.request() wrapper on the way). */
  async expectRefusedDirect() {
    const body = Buffer.alloc(4096, 'a');
    const seen = await exchange(
      'e3',
      { method: 'PUT', path: '/expect/refuse?id=e3', headers: { expect: '100-continue', 'content-length': body.length }, direct: true },
      (req, note) => req.on('continue', () => (note(body.length), req.end(body))),
    );
    out(seen);
  },

  /** `Expect: 100-continue` let through: `100 Continue`, then the body, then 201. */
  async expectContinued() {
    const body = Buffer.alloc(3000, 'b');
    const seen = await exchange(
      'e2',
      { method: 'PUT', path: '/expect/continue?id=e2', headers: { expect: '100-continue', 'content-length': body.length } },
      (req, note) => req.on('continue', () => (note(body.length), req.end(body))),
    );
    out(seen);
  },

  /** A streamed (chunked) upload: its first chunk, then the next ones 50 ms apart; the server answers 413 after the first. */
  async uploadRejected() {
    const chunk = Buffer.alloc(1000, 'c');
    const seen = await exchange('u1', { method: 'POST', path: '/upload/reject?id=u1' }, (req, note, s) => {
      let n = 0;
      const next = () => {
        if (s.status !== undefined || req.destroyed) return;
        if (n++ === 5) return req.end();
        note(chunk.length);
        req.write(chunk);
        setTimeout(next, 50);
      };
      next();
    });
    out(seen);
  },

  /** lib-storage's Upload of two 5 MB parts: CreateMultipartUpload, the parts (each refused 403 before its body), AbortMultipartUpload. */
  async s3Multipart() {
    const client = new S3Client({
      region: 'us-east-1',
      endpoint: base,
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDNETTRACE', secretAccessKey: 'nettrace-secret' },
      maxAttempts: 1,
    });
    const upload = new Upload({
      client,
      params: { Bucket: 'bucket', Key: 'big.bin', Body: Buffer.alloc(10 * 1024 * 1024, 'd') },
      queueSize: 1,
    });
    const seen = { id: 's3' };
    try {
      await upload.done();
      seen.result = 'done';
    } catch (err) {
      seen.error = err.name;
      seen.status = err.$metadata?.httpStatusCode;
    }
    client.destroy();
    out(seen);
  },

  /** An event stream read with fetch: three events, then the server resets the connection. */
  async sseReset() {
    const seen = { id: 'f1', events: 0, read: 0 };
    const res = await fetch(`${base}/sse/reset?id=f1`);
    seen.status = res.status;
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of res.body) {
        seen.read += chunk.length;
        text += decoder.decode(chunk, { stream: true });
        const blocks = text.split('\n\n');
        text = blocks.pop();
        seen.events += blocks.filter((b) => /^data:/m.test(b)).length;
      }
    } catch (err) {
      seen.error = err.cause?.code ?? err.name;
    }
    out(seen);
  },
};

for (const name of process.argv.slice(2)) await scenarios[name]();
