// A node:test reporter that writes one tab-separated line per top-level test: the time it took and
// its file. scripts/test.mjs runs it beside the TAP reporter, sums the lines per file and prints
// the slowest files after the summary, so a run that came near CI's limit says where its time went.

/** Reads the test runner's events; yields `ms<TAB>file` for each top-level test. */
export default async function* times(source) {
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0) continue;
    yield `${Math.round(event.data.details?.duration_ms ?? 0)}\t${event.data.file ?? '?'}\n`;
  }
}
