/**
 * Small text helpers of the diagnosis sentences (diagnosis.ts, dnsStory.ts, loopDiagnosis.ts,
 * kernelStory.ts), and the one formatting of durations and byte counts of src/ (the sentences,
 * the kernel facts, the CLI; the panel's own columns and tooltips: webview/format.ts).
 */

/** Formats milliseconds for a sentence: "0.4", "3", "12", "1250". */
export function formatMs(ms: number): string {
  if (ms < 10) {
    const s = (Math.round(ms * 10) / 10).toFixed(1);
    return s.endsWith('.0') ? s.slice(0, -2) : s;
  }
  return String(Math.round(ms));
}

/** Microseconds as "0.42 ms", "12.3 ms", "1.25 s". */
export function formatUs(us: number): string {
  const ms = us / 1000;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A byte count: "512 B", "1.2 kB", "3.4 MB" (decimal units); "-" when unknown. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || n < 0) return '-';
  if (n < 1000) return `${n} B`;
  if (n < 1000 * 1000) return `${(n / 1000).toFixed(1)} kB`;
  if (n < 1000 * 1000 * 1000) return `${(n / 1000 / 1000).toFixed(1)} MB`;
  return `${(n / 1000 / 1000 / 1000).toFixed(1)} GB`;
}

/** "1 attempt", "2 attempts". */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Why a request never finished (its `incomplete` reason), in words: "the process exited". */
export function incompleteWhy(reason: string): string {
  const who: Record<string, string> = {
    'process killed': 'the process was killed',
    'thread terminated': 'its worker thread was terminated',
    'process exited': 'the process exited',
    'thread exited': 'its worker thread exited',
    'trace stopped': 'the trace stopped',
  };
  return who[reason] ?? reason;
}
