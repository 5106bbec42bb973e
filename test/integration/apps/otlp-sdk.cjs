// A program instrumented with the OpenTelemetry SDK (otlp.test.mjs): the http and undici (fetch)
// instrumentations inject W3C `traceparent` into its requests, made inside a span of its own;
// its spans go to an in-memory exporter and are printed as JSON at the end, for the test to
// compare with Net Trace's.
'use strict';
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici');
const { NodeTracerProvider, SimpleSpanProcessor, InMemorySpanExporter } = require('@opentelemetry/sdk-trace-node');

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
registerInstrumentations({ tracerProvider: provider, instrumentations: [new HttpInstrumentation(), new UndiciInstrumentation()] });
const http = require('node:http');
const urls = JSON.parse(process.env.NT_URLS);
const tracer = provider.getTracer('otlp-sdk-app');

const get = (url) =>
  new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      })
      .on('error', reject);
  });

tracer.startActiveSpan('work', async (work) => {
  await get(`${urls.http}/sdk-http`);
  await fetch(`${urls.http}/sdk-fetch`).then((r) => r.text());
  work.end();
  await provider.forceFlush();
  const spans = exporter.getFinishedSpans().map((s) => ({
    name: s.name,
    kind: s.kind,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId,
    url: s.attributes['url.full'] ?? s.attributes['http.url'],
  }));
  console.log(JSON.stringify(spans));
});
