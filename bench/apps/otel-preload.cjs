// The OpenTelemetry comparison condition, loaded with `node --require bench/apps/otel-preload.cjs`:
// a NodeTracerProvider (sdk-trace-node 2.x: span processors given to the constructor) with a
// BatchSpanProcessor (the production setup) feeding an exporter that counts spans and discards
// them, and the http (client + server hooks on `http`/`https`) and undici (fetch) instrumentations
// registered with registerInstrumentations(). Leaves globalThis.__benchFinish for the client to
// flush and report how many spans were recorded.
'use strict';
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');

let spans = 0;
/** @type {import('@opentelemetry/sdk-trace-node').SpanExporter} */
const discardExporter = {
  export(batch, done) {
    spans += batch.length;
    done({ code: 0 }); // ExportResultCode.SUCCESS
  },
  shutdown: () => Promise.resolve(),
  forceFlush: () => Promise.resolve(),
};

// maxQueueSize above the default 2048 so a 50-wide burst between scheduled exports never drops
// spans (dropping would make OpenTelemetry look cheaper than it is).
const processor = new BatchSpanProcessor(discardExporter, { maxQueueSize: 65536, maxExportBatchSize: 512 });
const provider = new NodeTracerProvider({ spanProcessors: [processor] });
provider.register();

registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()],
});

// The instrumentations patch `http`/`https` when they are first require()d (require-in-the-middle).
// The client is an ES module (`import http from 'node:http'`), which never goes through require,
// so load them here once: the patched functions live on the shared module object, which is what
// the ESM default import hands out. (Without this the http cells would run uninstrumented.)
require('node:http');
require('node:https');

// The instrumentations patch `http`/`https` when they are first require()d (require-in-the-middle).
// The client is an ES module (`import http from 'node:http'`), which never goes through require,
// so load them here once: the patched functions live on the shared module object, which is what
// the ESM default import hands out. (Without this the http cells would run uninstrumented.)
require('node:http');
require('node:https');

globalThis.__benchFinish = async () => {
  await provider.forceFlush();
  return { spans };
};
