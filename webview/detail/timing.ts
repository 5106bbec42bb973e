/** The Timing tab: the request's phases as bars on its own axis (timings.ts geometry), then its times. */

import { KERNEL_PART_LABELS, kernelParts } from '../../src/trace/derive/kernel';
import { synStory } from '../../src/trace/diagnosis/kernelStory';
import { isStreaming } from '../../src/trace/derive/timings';
import { timeBudget } from '../../src/trace/derive/timeBudget';
import type { TcpConn } from '../../src/trace/contract/types';
import { connectionText } from '../../src/trace/derive/labels';
import { h, type Child } from '../dom';
import { formatHttp2Error, formatMs } from '../format';
import type { Row } from '../model';
import { formatSpan, LOOP_NOTE_MIN_MS, loopBlockedSegments, loopBlockedText, PHASE_LABELS, requestSegments } from '../waterfall';
import { PHASES } from '../../src/trace/derive/timings';
import { kv } from './common';

/** The Timing tab: the phases as bars on the request's own axis (its time budget, timeBudget.ts), then its times. */
export function renderTiming(row: Row, conn?: TcpConn): Child[] {
  const req = row.req;
  const budget = req.timings ? timeBudget({ request: req }) : undefined;
  const t = budget?.timings;
  const segs = requestSegments(row);
  const out: Child[] = [];
  const start = row.start;
  if (!segs.length) return [h('div', 'placeholder', null, 'No timing information for this request.')];
  const begin = segs[0]!.start;
  const end = segs[segs.length - 1]!.end;
  const span = Math.max(end - begin, 1e-6);
  const table = h('div', 'timing-table', { role: 'table' });
  const durations: Record<string, number> = {};
  const loops = loopBlockedSegments(req, segs);
  const parts = budget?.kernelParts ?? kernelParts(req);
  const pct = (ms: number): string => `${((ms / span) * 100).toFixed(3)}%`;
  for (const s of segs) durations[s.phase] = (durations[s.phase] ?? 0) + (s.end - s.start);
  for (const p of PHASES) {
    const raw = t ? t[p] : undefined;
    const applies = raw !== undefined ? raw >= 0 : p in durations;
    const bar = h('div', 'timing-track');
    const seg = segs.find((s) => s.phase === p);
    if (seg) {
      const b = h('div', `seg ph-${p}`);
      b.style.left = `${(((seg.start - begin) / span) * 100).toFixed(3)}%`;
      b.style.width = `${(((seg.end - seg.start) / span) * 100).toFixed(3)}%`;
      bar.append(b);
    }
    // The event loop's blocked share, hatched inside the phase it delayed.
    for (const l of loops) {
      if (l.phase !== p) continue;
      const o = h('div', 'wf-loop', { 'aria-hidden': 'true' });
      o.style.left = `${(((l.start - begin) / span) * 100).toFixed(3)}%`;
      o.style.width = `${(((l.end - l.start) / span) * 100).toFixed(3)}%`;
      bar.append(o);
    }
    // The row shows what its bar draws: TCP connect without the TLS handshake inside it.
    const ms = p === 'connect' && t && t.ssl > 0 ? (durations.connect ?? 0) : raw !== undefined ? raw : durations[p];
    table.append(
      h(
        'div',
        `timing-row${applies ? '' : ' muted'}`,
        { role: 'row' },
        h('div', 'timing-label', { role: 'cell' }, h('span', `swatch ph-${p}`), PHASE_LABELS[p]),
        h('div', 'timing-bar', { role: 'cell' }, bar),
        h('div', 'timing-ms', { role: 'cell' }, applies && ms !== undefined ? formatMs(ms) : 'n/a'),
      ),
    );
    // The kernel's split of the phase (privileged helper): one indented row per part.
    for (const k of parts) {
      if (k.phase !== p) continue;
      const track = h('div', 'timing-track');
      const b = h('div', `seg ph-${p} kp-${k.part}`);
      b.style.left = pct(k.start - begin);
      b.style.width = pct(k.end - k.start);
      track.append(b);
      table.append(
        h(
          'div',
          'timing-row kernel-part',
          { role: 'row' },
          h('div', 'timing-label', { role: 'cell' }, KERNEL_PART_LABELS[k.part]),
          h('div', 'timing-bar', { role: 'cell' }, track),
          h('div', 'timing-ms', { role: 'cell' }, formatMs(k.end - k.start)),
        ),
      );
    }
  }
  out.push(h('h3', null, null, 'Phases'), table);
  if (t && t.ssl > 0) out.push(h('div', 'note', null, `HAR "connect" is ${formatMs(t.connect)}: TCP connect plus the TLS handshake.`));
  const syn = !req.reusedConn && conn?.tcpMetrics ? synStory(conn.tcpMetrics) : undefined;
  if (syn) out.push(h('div', 'note', null, `TCP connect: ${syn} (the kernel's count).`));
  const loopText = loopBlockedText(req);
  if (loopText)
    out.push(
      h(
        'div',
        'note loop-note',
        null,
        h('span', 'swatch wf-loop-swatch'),
        `${loopText}: the program held its thread, the response waited for it (times since the trace began, to find in a CPU profile).`,
      ),
    );
  const paused = budget?.debuggerMs ?? req.debuggerPaused;
  if (typeof paused === 'number' && paused >= LOOP_NOTE_MIN_MS)
    out.push(
      h(
        'div',
        'note pause-note',
        null,
        `Stopped in the debugger ${formatSpan(paused)} of it: the program was paused (a breakpoint, a step), so the phases it spans waited for the debugger, not for the network.`,
      ),
    );
  if (parts.length)
    out.push(
      h(
        'div',
        'note',
        null,
        'The indented rows are the kernel’s view (privileged helper): when the request’s last byte was acknowledged and when the response arrived, next to when the program read it.',
      ),
    );
  const total = budget ? budget.total : row.duration;
  const times: Array<[string, Child]> = [
    ['Total', formatMs(total)],
    ['Started', Number.isFinite(start) ? `+${formatMs(start)}` : '—'],
    ['Request sent', req.reqSentAt !== undefined ? `+${formatMs(req.reqSentAt)}` : '—'],
    ['First byte', req.respRecvAt !== undefined ? `+${formatMs(req.respRecvAt)}` : '—'],
    [
      'Done',
      req.respDoneAt !== undefined
        ? `+${formatMs(req.respDoneAt)}`
        : row.cls === 'pending'
          ? 'pending'
          : isStreaming(req)
            ? 'streaming'
            : '—',
    ],
    ['Connection', connectionText(req, conn) ?? '—'],
  ];
  // On HTTP/2 the stream shares its session's connection: the phases above are the stream's.
  if (req.http2StreamId !== undefined) times.push(['HTTP/2 stream', `#${req.http2StreamId}`]);
  if (req.http2RstCode !== undefined)
    times.push(['Stream reset', h('span', 'error-text', null, `RST_STREAM ${formatHttp2Error(req.http2RstCode)}`)]);
  if (req.http2Goaway)
    times.push(['Session GOAWAY', `${formatHttp2Error(req.http2Goaway.errorCode)}, last stream #${req.http2Goaway.lastStreamID}`]);
  out.push(h('h3', null, null, 'Times'), kv(times));
  return out;
}
