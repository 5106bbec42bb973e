// One request per client, each made on a line marked `// @line NAME`: the initiator test asserts
// that every request's initiator is exactly that line of this file (never a library's).
// BASE: the test's HTTP server; GRPC: its gRPC server's port; argv: the clients to run (all by default).
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import got from 'got';
import superagent from 'superagent';
import needle from 'needle';
import nodeFetch2 from 'node-fetch-v2';
import nodeFetch3 from 'node-fetch';
import ky from 'ky';
import { request as undiciRequest, Pool, Agent } from 'undici';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const base = process.env.BASE;

const clients = {
  async http() {
    const req = http.request(`${base}/c/http`); // @line http
    await new Promise((resolve, reject) =>
      req
        .on('response', (r) => r.resume().on('end', resolve))
        .on('error', reject)
        .end(),
    );
  },
  async fetch() {
    await (await fetch(`${base}/c/fetch`)).text(); // @line fetch
  },
  async undici() {
    await (await undiciRequest(`${base}/c/undici`)).body.text(); // @line undici
  },
  async pool() {
    const pool = new Pool(base, { connections: 1 });
    await Promise.all([
      pool.request({ path: '/c/pool-1', method: 'GET' }).then((r) => r.body.text()), // @line pool-1
      pool.request({ path: '/c/pool-2', method: 'GET' }).then((r) => r.body.text()), // @line pool-2
    ]);
    await pool.close();
  },
  async agent() {
    // An Agent's pool per origin, two connections busy: the third request waits in its queue.
    const agent = new Agent({ connections: 2 });
    const get = (path) => undiciRequest(`${base}${path}`, { dispatcher: agent }).then((r) => r.body.text()); // @line agent
    await Promise.all([get('/c/agent-1'), get('/c/agent-2'), get('/c/agent-3')]);
    await agent.close();
  },
  async axios() {
    await axios.get(`${base}/c/axios`); // @line axios
    await axios.get(`${base}/c/axios-redirect`); // @line axios-redirect
  },
  async got() {
    await got(`${base}/c/got`).text(); // @line got
  },
  async superagent() {
    await superagent.get(`${base}/c/superagent`); // @line superagent
    await superagent('GET', `${base}/c/superagent-call`); // @line superagent-call
    await superagent.agent().get(`${base}/c/superagent-agent`); // @line superagent-agent
  },
  async nodeFetch2() {
    await (await nodeFetch2(`${base}/c/node-fetch-2`)).text(); // @line node-fetch-2
  },
  async nodeFetch3() {
    await (await nodeFetch3(`${base}/c/node-fetch-3`)).text(); // @line node-fetch-3
  },
  async needle() {
    await needle('get', `${base}/c/needle`); // @line needle
  },
  async ky() {
    await ky.get(`${base}/c/ky`).text(); // @line ky
  },
  async grpc() {
    const def = protoLoader.loadSync(fileURLToPath(new URL('echo.proto', import.meta.url)));
    const Echo = grpc.loadPackageDefinition(def).nettrace.Echo;
    const client = new Echo(`127.0.0.1:${process.env.GRPC}`, grpc.credentials.createInsecure());
    // The line that makes the call is inside this helper (the program's first frame).
    const say = (text) => new Promise((resolve, reject) => client.Say({ text }, (err, reply) => (err ? reject(err) : resolve(reply)))); // @line grpc-again
    await new Promise((resolve, reject) => client.Say({ text: 'first' }, (err, reply) => (err ? reject(err) : resolve(reply)))); // @line grpc
    await say('again');
    client.close();
  },
};

const names = process.argv.slice(2);
for (const name of names.length ? names : Object.keys(clients)) await clients[name]();
console.log('done');
