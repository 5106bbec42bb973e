/** Small text helpers of the diagnosis sentences (diagnosis.ts, dnsStory.ts). */

/** Formats milliseconds for a sentence: "0.4", "3", "12", "1250". */
export function formatMs(ms: number): string {
  if (ms < 10) {
    const s = (Math.round(ms * 10) / 10).toFixed(1);
    return s.endsWith('.0') ? s.slice(0, -2) : s;
  }
  return String(Math.round(ms));
}

/** "1 attempt", "2 attempts". */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
