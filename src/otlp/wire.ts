/**
 * OpenTelemetry's exporter packages, the OTLP wire (protobuf, JSON, gRPC): bundled apart as
 * dist/otlp-wire.cjs and required only when a session exports (src/otlp/sink.ts). They are
 * ~1.7 MB of JavaScript (gRPC included) that the extension host would otherwise parse at every
 * start of VS Code, for a feature most sessions do not use.
 */

export { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
export { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
export { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
export { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
export { Metadata } from '@grpc/grpc-js';
