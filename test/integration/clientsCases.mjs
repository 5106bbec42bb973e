// The cases the clients suite runs for each client (see clientsCheck.mjs checkCase): what the
// server must have answered, what the program must have seen, and the error the trace must hold.

/** A GET answered 200. */
export const GET = { name: 'get', program: 'ok', statuses: [200] };
/** A POST with a JSON body of 1212 bytes, answered 200. */
export const POST = { name: 'post', program: 'ok', statuses: [200] };
/** A 302 (307 for other methods) the client follows to a 200; the hops are linked. */
export const REDIRECT = { name: 'redirect', program: 'ok', statuses: [302, 200], redirect: true };
/** A connection refused: one attempt, failed in phase connect, nothing reached a server. */
export const REFUSED = { name: 'refused', program: 'error', attempts: 1, error: { phase: 'connect', code: 'ECONNREFUSED' } };
/** The client's own timeout against a server that never answers: failed waiting for the response, timed out. */
export const TIMEOUT = { name: 'timeout', program: 'error', statuses: [null], error: { phase: 'response', timedOut: true } };
/** Two 503s the client retries, then 200: three requests, the 503s are not failures. */
export const RETRY = { name: 'retry', program: 'ok', statuses: [503, 503, 200] };
