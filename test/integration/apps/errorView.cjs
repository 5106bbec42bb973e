// What a program observed of an error, as plain data two runs can compare: class, name, message,
// code, errno, syscall, address/port/hostname, own property names, an AggregateError's errors
// and the cause chain. Shared by the what-if test programs (whatif.cjs, whatifUndici.cjs).
'use strict';

function errorView(e, depth = 0) {
  if (e === undefined || e === null || depth > 4) return e;
  if (typeof e !== 'object') return { value: String(e) };
  return {
    class: e.constructor && e.constructor.name,
    name: e.name,
    message: e.message,
    code: e.code,
    errno: e.errno,
    syscall: e.syscall,
    address: e.address,
    port: e.port,
    hostname: e.hostname,
    own: Object.getOwnPropertyNames(e).filter((n) => n !== 'stack'),
    errors: Array.isArray(e.errors) ? e.errors.map((x) => errorView(x, depth + 1)) : undefined,
    cause: errorView(e.cause, depth + 1),
  };
}

module.exports = { errorView };
