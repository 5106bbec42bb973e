// A real @grpc/grpc-js unary call against a grpc-js server on loopback (grpc-js hands
// http2.connect a socket it connected itself, through createConnection). The server reports
// what it saw: each call's path and message length.
const grpc = require('@grpc/grpc-js');

const seen = [];
const identity = { serialize: (b) => b, deserialize: (b) => b };
const service = {
  echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity.serialize,
    requestDeserialize: identity.deserialize,
    responseSerialize: identity.serialize,
    responseDeserialize: identity.deserialize,
  },
};
const server = new grpc.Server();
server.addService(service, {
  echo: (call, cb) => {
    seen.push({ path: call.getPath(), reqLen: call.request.length });
    if (call.request.toString() === 'fail') cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    else cb(null, Buffer.concat([Buffer.from('echo:'), call.request]));
  },
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  const Client = grpc.makeGenericClientConstructor(service, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (msg) =>
    new Promise((resolve) => client.echo(Buffer.from(msg), (e, res) => resolve(e ? { code: e.code } : { len: res.length })));
  (async () => {
    const results = [await call('hello'), await call('a longer message'), await call('fail')];
    client.close();
    server.forceShutdown();
    console.log(JSON.stringify({ port, results, seen }));
  })();
});
