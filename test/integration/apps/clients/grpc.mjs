// @grpc/grpc-js (HTTP/2 over a socket it connects itself, through http2.connect's
// createConnection) against the suite's gRPC server: a unary call, one with a body of some size,
// a refused server, a deadline, and a retry policy retrying UNAVAILABLE. Each call is made on the
// line marked `@line <case>`; its message text starts with the run id (the server logs it).
import grpc from '@grpc/grpc-js';
import loader from '@grpc/proto-loader';
import { run, runCases } from './_run.mjs';

const { Echo } = grpc.loadPackageDefinition(
  loader.loadSync(process.env.NT_PROTO, { keepCase: true, longs: String, defaults: true }),
).nettrace;
const target = `127.0.0.1:${process.env.NT_GRPC_PORT}`;
const retryConfig = {
  methodConfig: [
    {
      name: [{ service: 'nettrace.Echo', method: 'Flaky' }],
      retryPolicy: {
        maxAttempts: 3,
        initialBackoff: '0.01s',
        maxBackoff: '0.05s',
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    },
  ],
};
const client = new Echo(target, grpc.credentials.createInsecure(), { 'grpc.service_config': JSON.stringify(retryConfig) });
const refusedClient = new Echo(`127.0.0.1:${process.env.NT_GRPC_REFUSED_PORT}`, grpc.credentials.createInsecure());
const pad = Buffer.alloc(1000, 7);
/** Settles with the call's answer or error. */
const settle = (resolve, reject) => (err, res) =>
  err ? reject(Object.assign(err, { code: grpc.status[err.code] })) : resolve({ text: res.text, padLen: res.pad.length });
const soon = (ms) => new Date(Date.now() + ms);

await runCases({
  get: () => new Promise((resolve, reject) => client.Ok({ text: `${run} get` }, settle(resolve, reject))), // @line get
  post: () => new Promise((resolve, reject) => client.Big({ text: `${run} post`, pad }, settle(resolve, reject))), // @line post
  refused: () =>
    new Promise((resolve, reject) => refusedClient.Ok({ text: `${run} refused` }, { deadline: soon(3000) }, settle(resolve, reject))), // @line refused
  timeout: () =>
    new Promise((resolve, reject) => client.Slow({ text: `${run} timeout` }, { deadline: soon(300) }, settle(resolve, reject))), // @line timeout
  retry: () => new Promise((resolve, reject) => client.Flaky({ text: `${run} retry` }, settle(resolve, reject))), // @line retry
});
client.close();
refusedClient.close();
