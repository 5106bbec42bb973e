// A node:test reporter that writes one line per failed test (file, name, first line of the error)
// and nothing else. scripts/test.mjs runs it beside the TAP reporter and prints what it wrote after
// the suite's summary: a log kept only in part (CI keeps the tail) still names what failed.

/** Reads the test runner's events; yields the failures' lines. */
export default async function* failures(source) {
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, line, details } = event.data;
    const error = details?.error;
    // A test that failed only because a subtest failed adds nothing: its subtest is named.
    if (error?.failureType === 'subtestsFailed') continue;
    const cause = error?.cause ?? error;
    const message = String(cause?.message ?? cause ?? 'failed')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(0, 6)
      .join(' ⏎ ')
      .slice(0, 600);
    const where = file ? `${file.replace(/^.*\/test\//, 'test/')}${line ? `:${line}` : ''}` : '?';
    yield `not ok: ${where} — ${name}\n    ${message}\n`;
  }
}
