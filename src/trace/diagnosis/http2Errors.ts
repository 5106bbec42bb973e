/** HTTP/2 error codes (RFC 9113 section 7) and gRPC statuses, shared by the diagnosis and the panel. */

/** Names of the HTTP/2 error codes, indexed by code. */
export const HTTP2_ERRORS: readonly string[] = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

/** The name of an HTTP/2 error code, or undefined for an unknown one. */
export function http2ErrorName(code: number): string | undefined {
  return HTTP2_ERRORS[code];
}

/** Names of the gRPC status codes (grpc/doc/statuscodes.md), indexed by code. */
const GRPC_STATUSES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** A header's value in pairs (names lower-case, as recorded for HTTP/2). */
function pairValue(pairs: ReadonlyArray<readonly string[]> | undefined, name: string): string | undefined {
  const p = pairs?.find((h) => h[0] === name);
  return p?.[1];
}

/**
 * The sentence of a gRPC call the server ended with a status other than OK, in its trailers (or a
 * trailers-only answer's headers): the HTTP status is 200, and the program's call failed with it
 * (`4 DEADLINE_EXCEEDED: Deadline exceeded`). Undefined for any other request.
 */
export function grpcFailure(req: {
  respHeaders?: ReadonlyArray<readonly string[]>;
  respTrailers?: ReadonlyArray<readonly string[]>;
}): string | undefined {
  const raw = pairValue(req.respTrailers, 'grpc-status') ?? pairValue(req.respHeaders, 'grpc-status');
  if (raw === undefined || !/^\d+$/.test(raw) || raw === '0') return undefined;
  const code = Number(raw);
  let message = pairValue(req.respTrailers, 'grpc-message') ?? pairValue(req.respHeaders, 'grpc-message');
  if (message !== undefined) {
    try {
      message = decodeURIComponent(message);
    } catch {
      // Not percent-encoded as gRPC says: shown as received.
    }
  }
  const name = GRPC_STATUSES[code] ?? 'an unknown status';
  return `server ended the gRPC call with status ${code} ${name}${message ? `: ${JSON.stringify(message.slice(0, 200))}` : ''}`;
}
