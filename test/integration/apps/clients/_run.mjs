// Shared by the clients suite's apps: the URLs the test gives them, and a runner that runs the
// cases one after the other and prints, as one JSON line, what the program saw in each.
/** http://127.0.0.1:<port>/<run>: the recording HTTP server, this run's prefix. */
export const base = process.env.NT_BASE;
/** https://localhost:<port>/<run>: the same router over HTTPS (test CA). */
export const httpsBase = process.env.NT_HTTPS_BASE;
/** http://127.0.0.1:<refused port>/<run>. */
export const refused = process.env.NT_REFUSED;
/** This run's id. */
export const run = process.env.NT_RUN;
/** A request body of a known size. */
export const body = JSON.stringify({ text: 'y'.repeat(1200) });

/** Seconds the cases may take, and the app may then take to exit, before it gives up loudly. */
const CASES_S = 30;
const EXIT_S = 10;

/**
 * Runs each case; a case returns what it saw ({ status, len, ... }) or throws. Watchdogs (not
 * keeping the app alive) end an app whose cases hang or that does not exit once they are done,
 * naming what is still open, so that a hang fails fast with a reason instead of a harness timeout.
 */
export async function runCases(cases) {
  let current = '(none)';
  setTimeout(() => {
    console.error(`app watchdog: case ${current} did not finish in ${CASES_S} s`);
    process.exit(3);
  }, CASES_S * 1000).unref();
  const out = {};
  for (const [name, fn] of Object.entries(cases)) {
    current = name;
    try {
      out[name] = { ok: true, ...(await fn()) };
    } catch (e) {
      out[name] = { ok: false, error: { name: e?.name, code: e?.code ?? e?.cause?.code, message: String(e?.message ?? e).slice(0, 300) } };
    }
  }
  console.log(JSON.stringify(out));
  setTimeout(() => {
    console.error(`app watchdog: still running ${EXIT_S} s after its cases; open: ${process.getActiveResourcesInfo().join(', ')}`);
    process.exit(4);
  }, EXIT_S * 1000).unref();
}
