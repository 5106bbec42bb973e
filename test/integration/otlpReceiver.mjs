// A local OTLP trace receiver for the OpenTelemetry export tests: http/protobuf and http/json on
// POST /v1/traces, grpc on TraceService/Export. It decodes with the official opentelemetry-proto
// definitions (the protobufjs root generated from them, as @opentelemetry/otlp-transformer 0.52
// shipped it; installed as the alias `otlp-proto-root`), so a span that does not fit the schema
// fails here, not in a backend. `statuses` makes it answer e.g. 503 to the first requests, or
// not at all ('hang').
import http from 'node:http';
import { createRequire } from 'node:module';
import grpc from '@grpc/grpc-js';

const require = createRequire(import.meta.url);
const root = require('otlp-proto-root/build/src/generated/root.js');
const v1 = root.opentelemetry.proto;
const Request = v1.collector.trace.v1.ExportTraceServiceRequest;
const Response = v1.collector.trace.v1.ExportTraceServiceResponse;

const hex = (b) => (b && b.length ? Buffer.from(b).toString('hex') : '');

/** An AnyValue as a plain value. */
function valueOf(v) {
  if (!v) return undefined;
  if (v.stringValue !== undefined && v.stringValue !== null && v.value === 'stringValue') return v.stringValue;
  if (v.value === 'intValue') return Number(v.intValue);
  if (v.value === 'doubleValue') return v.doubleValue;
  if (v.value === 'boolValue') return v.boolValue;
  if (v.value === 'arrayValue') return v.arrayValue.values.map(valueOf);
  if (v.value === 'bytesValue') return hex(v.bytesValue);
  return undefined;
}

const attrs = (list) => Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));

/** A decoded ExportTraceServiceRequest (protobufjs message) as flat spans with their resource's attributes. */
function flatten(message) {
  const out = [];
  for (const rs of message.resourceSpans) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        out.push({
          resource,
          scope: ss.scope?.name,
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind, // OTLP numbering: 1 INTERNAL, 2 SERVER, 3 CLIENT
          startNs: BigInt(s.startTimeUnixNano.toString()),
          endNs: BigInt(s.endTimeUnixNano.toString()),
          attributes: attrs(s.attributes),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          links: s.links.map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), attributes: attrs(l.attributes) })),
        });
      }
    }
  }
  return out;
}

/** Protobuf bytes → flat spans (throws when they are not an ExportTraceServiceRequest). */
export function decodeProtobuf(bytes) {
  return flatten(Request.decode(bytes));
}

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/**
 * OTLP/JSON text → flat spans: ids are hex (OTLP/JSON's rule) and become bytes, then the object
 * goes through the proto schema (fromObject, verify, encode, decode) like a protobuf request.
 */
export function decodeJson(text) {
  const obj = JSON.parse(text, function (key, value) {
    if (ID_FIELDS.has(key) && typeof value === 'string') {
      if (!/^[0-9a-f]*$/.test(value)) throw new Error(`${key} is not lower-case hex: ${value}`);
      return Buffer.from(value, 'hex');
    }
    return value;
  });
  const message = Request.fromObject(obj);
  const problem = Request.verify(message);
  if (problem) throw new Error(`not an ExportTraceServiceRequest: ${problem}`);
  return decodeProtobuf(Request.encode(message).finish());
}

/**
 * Starts a receiver for `protocol` ('http/protobuf', 'http/json', 'grpc'). `statuses`: what to
 * answer to the first requests (HTTP codes, or 'hang' for no answer (HTTP only); for gRPC any
 * non-200 is UNAVAILABLE), then 200. `refuse(spans)`: a request whose spans it holds true for
 * is answered 503 / UNAVAILABLE every time (counted in `state.refused`).
 * Returns { url, spans, requests, close() }; `requests` counts every export request received.
 */
export async function startReceiver(protocol, { statuses = [], refuse } = {}) {
  const state = { spans: [], requests: 0, refused: 0, errors: [], contentTypes: [] };
  const next = () => (state.requests <= statuses.length ? statuses[state.requests - 1] : 200);
  if (protocol === 'grpc') {
    const server = new grpc.Server();
    const service = {
      Export: {
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: (m) => Buffer.from(Request.encode(m).finish()),
        requestDeserialize: (b) => Request.decode(b),
        responseSerialize: (m) => Buffer.from(Response.encode(m).finish()),
        responseDeserialize: (b) => Response.decode(b),
      },
    };
    server.addService(service, {
      Export: (call, callback) => {
        state.requests++;
        const status = next();
        if (status !== 200) return callback({ code: grpc.status.UNAVAILABLE, details: 'try later' });
        let spans;
        try {
          spans = flatten(call.request);
        } catch (err) {
          state.errors.push(err);
          return callback(null, {});
        }
        if (refuse?.(spans)) {
          state.refused++;
          return callback({ code: grpc.status.UNAVAILABLE, details: 'not these' });
        }
        for (const span of spans) span.receivedAt = Date.now();
        state.spans.push(...spans);
        callback(null, {});
      },
    });
    const port = await new Promise((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return {
      url: `http://127.0.0.1:${port}`,
      state,
      get spans() {
        return state.spans;
      },
      close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
    };
  }
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      state.requests++;
      const status = next();
      if (req.url !== '/v1/traces' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      if (status === 'hang') return; // a backend that takes the request and never answers
      if (status !== 200) {
        res.writeHead(status).end();
        return;
      }
      state.contentTypes.push(req.headers['content-type']);
      state.headers = req.headers;
      let spans;
      try {
        const body = Buffer.concat(chunks);
        spans = protocol === 'http/json' ? decodeJson(body.toString('utf8')) : decodeProtobuf(body);
      } catch (err) {
        state.errors.push(err);
        res.writeHead(400).end();
        return;
      }
      if (refuse?.(spans)) {
        state.refused++;
        res.writeHead(503).end();
        return;
      }
      for (const span of spans) span.receivedAt = Date.now();
      state.spans.push(...spans);
      if (protocol === 'http/json') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(Response.encode({}).finish()));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    get spans() {
      return state.spans;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
