/**
 * The words diagnosis sentences use for codes: what a DNS or connect error code means, and an
 * HTTP status with its reason phrase (diagnosis.ts).
 */

/** What a lookup's error code means ("name not found"). */
export const DNS_REASONS: Record<string, string> = {
  ENOTFOUND: 'name not found',
  EAI_NONAME: 'name not found',
  EAI_AGAIN: 'temporary resolver failure (is a DNS server reachable?)',
  EAI_FAIL: 'the resolver failed permanently',
  ESERVFAIL: 'the DNS server failed',
  ENODATA: 'no address records',
  ETIMEOUT: 'the DNS query timed out',
  ECONNREFUSED: 'the DNS server refused the query',
};

/** How a connect ended, by its error code ("refused", "timed out"). */
export const CONNECT_REASONS: Record<string, string> = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  EHOSTUNREACH: 'failed: host unreachable',
  ENETUNREACH: 'failed: network unreachable',
  EADDRNOTAVAIL: 'failed: address not available',
  EACCES: 'failed: permission denied',
  EPERM: 'failed: not permitted (firewall?)',
  ECONNRESET: 'was reset',
};

/** Short reasons for the other failed attempts ("2 other addresses refused"). */
export const ATTEMPT_REASONS: Record<string, string> = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  EHOSTUNREACH: 'were unreachable',
  ENETUNREACH: 'had no route',
  EADDRNOTAVAIL: 'were not available',
};

/** The reason phrases of the error statuses a diagnosis names when the response gave none. */
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** "503 Service Unavailable": the response's own reason phrase, else the standard one, else the number. */
export function statusText(status: number, text: string | undefined): string {
  const t = text || STATUS_TEXT[status] || '';
  return t ? `${status} ${t}` : String(status);
}
