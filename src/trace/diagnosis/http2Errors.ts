/** HTTP/2 error codes (RFC 9113 section 7), shared by the diagnosis and the panel. */

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
