/**
 * undici's errors as a what-if rule gives them in the connection's place (undiciWhatIf.ts): the
 * class name, the fields, and the brand (a `Symbol.for` getter) that undici's `instanceof` checks
 * (undici 6+), so a program's `err instanceof errors.HeadersTimeoutError` holds for any copy of
 * undici, as for the real one.
 */

/** Set by undici's error classes (undici 6+), which their `instanceof` checks, across copies of undici. */
const UND_ERR = Symbol.for('undici.error.UND_ERR');
const UND_ERR_HEADERS_TIMEOUT = Symbol.for('undici.error.UND_ERR_HEADERS_TIMEOUT');
const UND_ERR_SOCKET = Symbol.for('undici.error.UND_ERR_SOCKET');

/** As undici's UndiciError: its fields, and its brand for `instanceof`. */
class UndiciError extends Error {
  constructor(message?: string) {
    super(message);
    this.name = 'UndiciError';
    (this as { code?: string }).code = 'UND_ERR';
  }
  get [UND_ERR](): boolean {
    return true;
  }
}

/** As undici's HeadersTimeoutError (its connection's error when no head came within `headersTimeout`). */
export class HeadersTimeoutError extends UndiciError {
  constructor(message?: string) {
    super(message);
    this.name = 'HeadersTimeoutError';
    this.message = message || 'Headers Timeout Error';
    (this as { code?: string }).code = 'UND_ERR_HEADERS_TIMEOUT';
  }
  get [UND_ERR_HEADERS_TIMEOUT](): boolean {
    return true;
  }
}

/** As undici's SocketError (its connection's error when the server closed it before the response was whole: "other side closed"). */
export class SocketError extends UndiciError {
  constructor(message?: string) {
    super(message);
    this.name = 'SocketError';
    this.message = message || 'Socket error';
    (this as { code?: string }).code = 'UND_ERR_SOCKET';
  }
  get [UND_ERR_SOCKET](): boolean {
    return true;
  }
}
