// The AWS SDK v3 (S3 client: its own HTTP stack, NodeHttpHandler over http.request) pointed at the
// recording server: path-style addressing, fake credentials, the run id as the bucket. GetObject,
// PutObject, a refused endpoint, the handler's requestTimeout (throwOnRequestTimeout: recent versions only warn without it), and the SDK's retries of 503s.
// Each case's request is made on the line marked `@line <case>`.
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { base, body, refused, run, runCases } from './_run.mjs';

const s3 = (endpoint, extra = {}) =>
  new S3Client({
    region: 'us-east-1',
    endpoint: new URL(endpoint).origin,
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDNETTRACE', secretAccessKey: 'nettrace-secret' },
    ...extra,
  });
const client = s3(base);
const refusedClient = s3(refused, { maxAttempts: 1 });
const impatient = s3(base, { maxAttempts: 1, requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } });

await runCases({
  get: async () => {
    const r = await client.send(new GetObjectCommand({ Bucket: run, Key: 'get/ok' })); // @line get
    return { status: r.$metadata.httpStatusCode, len: (await r.Body.transformToString()).length };
  },
  post: async () => {
    const r = await client.send(new PutObjectCommand({ Bucket: run, Key: 'post/echo', Body: body })); // @line post
    return { status: r.$metadata.httpStatusCode, etag: r.ETag };
  },
  refused: async () => {
    await refusedClient.send(new GetObjectCommand({ Bucket: run, Key: 'refused/ok' })); // @line refused
  },
  timeout: async () => {
    await impatient.send(new GetObjectCommand({ Bucket: run, Key: 'timeout/stall/ok' })); // @line timeout
  },
  retry: async () => {
    const r = await client.send(new GetObjectCommand({ Bucket: run, Key: 'retry/flaky/ok' })); // @line retry
    await r.Body.transformToString();
    return { status: r.$metadata.httpStatusCode, attempts: r.$metadata.attempts };
  },
});
for (const c of [client, refusedClient, impatient]) c.destroy();
