/**
 * The helper's `kernelEvent` lines (src/protocol/helper.ts) as `tcpConns[].kernelEvents` entries
 * (docs/trace-format.md), and the connection a failed connect's event belongs to: the preload
 * reports a connect that never succeeded without a local address, so its tuple cannot name it; the
 * process, the destination and the dial's attempts do.
 */

import { constants } from 'node:os';
import type { HelperKernelEventMessage } from '../protocol/helper';
import { plainIP } from '../trace/derive/incomingLinks';
import type { Dial, TcpConn } from '../trace/contract/types';
import type { KernelEvent } from '../trace/contract/kernelRecords';

/** Events kept per connection besides arrivals (the helper sends at most as many, and counts the rest). */
export const MAX_KERNEL_EVENTS = 256;
/**
 * Arrivals (`dataIn`, `dataEnd`) kept per connection: one comes per exchange the program itself
 * made (a request and its response), and each request reads its own, so a long kept-alive
 * connection keeps them all up to this (native/bpf/nettrace.h NT_KEV_DATA_MAX).
 */
export const MAX_DATA_EVENTS = 65_536;

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The trace's entry for a helper line, times made trace-relative; undefined for an unknown kind. */
export function kernelEventOf(m: HelperKernelEventMessage, rel: (epochMs: number) => number): KernelEvent | undefined {
  const at = rel(m.at);
  switch (m.kind) {
    case 'retransmit': {
      const ev: KernelEvent = { kind: 'retransmit', at };
      if (typeof m.total === 'number') ev.total = m.total;
      if (m.rto) ev.rto = true;
      return ev;
    }
    case 'zeroWindow':
      if (typeof m.beginAt !== 'number') return undefined;
      return { kind: 'zeroWindow', at, beginAt: rel(m.beginAt), side: m.side === 'local' ? 'local' : 'peer' };
    case 'dataIn':
      return arrivalEvent(
        at,
        typeof m.prevLastAt === 'number' ? rel(m.prevLastAt) : undefined,
        typeof m.ackedAt === 'number' ? rel(m.ackedAt) : undefined,
      );
    case 'drop':
      return {
        kind: 'drop',
        at,
        reason: typeof m.reason === 'string' ? m.reason : `reason ${Number(m.reasonCode) || 0}`,
        direction: m.direction === 'out' ? 'out' : 'in',
      };
    case 'socketError': {
      const ev: KernelEvent = { kind: 'socketError', at };
      if (typeof m.errno === 'number' && m.errno > 0) {
        ev.errno = m.errno;
        const code = ERRNO_NAMES.get(m.errno);
        if (code) ev.code = code;
      }
      if (m.icmp) ev.icmp = { version: m.icmp.version === 6 ? 6 : 4, type: m.icmp.type, code: m.icmp.code, from: m.icmp.from };
      return ev;
    }
    default:
      return undefined;
  }
}

/**
 * A `dataIn` event, times trace-relative (an arrival line, HelperArrivalLine, or an older helper's
 * object line). Made whole in one literal for the lines of most (a kept-alive connection's arrival
 * has both times, its first has the acknowledgement alone): an object grown field by field kept a
 * property array beside it for the whole run, one per response.
 */
export function arrivalEvent(at: number, prevLastAt: number | undefined, ackedAt: number | undefined): KernelEvent {
  if (ackedAt !== undefined) {
    return prevLastAt !== undefined ? { kind: 'dataIn', at, prevLastAt, ackedAt } : { kind: 'dataIn', at, ackedAt };
  }
  return prevLastAt !== undefined ? { kind: 'dataIn', at, prevLastAt } : { kind: 'dataIn', at };
}

/** The earliest moment a kernel event tells of (a zero window's begin, the previous arrival's end, an acknowledgement): requests that ended before it do not read it. */
export function earliestAt(ev: KernelEvent): number {
  if (ev.kind === 'zeroWindow') return Math.min(ev.at, ev.beginAt);
  if (ev.kind === 'dataIn') return Math.min(ev.at, ev.prevLastAt ?? Infinity, ev.ackedAt ?? Infinity);
  return ev.at;
}

const isArrival = (ev: KernelEvent): boolean => ev.kind === 'dataIn' || ev.kind === 'dataEnd';
/** Per list: how many of its events are not arrivals (counted once for a list made elsewhere). */
const otherCounts = new WeakMap<KernelEvent[], number>();

/**
 * Adds `ev` to `list` in time order, in place — events come nearly in order, so this is a push
 * (a copy per event made a connection's events cost the square of their number). False, and
 * nothing added, when the list is at its cap for the event's class (MAX_KERNEL_EVENTS,
 * MAX_DATA_EVENTS).
 */
export function addKernelEvent(list: KernelEvent[], ev: KernelEvent): boolean {
  const n = list.length;
  // The line of most: an arrival after every event so far, the list shorter than the arrivals' cap
  // (so both classes are under theirs): a push, without counting the list's other events.
  if (n < MAX_DATA_EVENTS && isArrival(ev) && (n === 0 || list[n - 1].at <= ev.at)) {
    list.push(ev);
    return true;
  }
  let others = otherCounts.get(list);
  if (others === undefined) {
    others = 0;
    for (const e of list) if (!isArrival(e)) others++;
    otherCounts.set(list, others);
  }
  const arrival = isArrival(ev);
  if (arrival ? list.length - others >= MAX_DATA_EVENTS : others >= MAX_KERNEL_EVENTS) return false;
  let i = list.length;
  while (i > 0 && list[i - 1].at > ev.at) i--;
  if (i === list.length) list.push(ev);
  else list.splice(i, 0, ev);
  if (!arrival) otherCounts.set(list, others + 1);
  return true;
}

/**
 * The connection of a failed connect that `m` (its socket's error) belongs to: among the last
 * `window` connections of that process without a tuple, the one whose dial tried the same address
 * and port in the attempt nearest to `at` — at most `slackMs` outside the attempt's begin and end
 * (the helper's and the preload's clocks are read apart). The latest wins a tie. A program that
 * polls a port that refuses tries it again and again, often from the same local port: a loose
 * window would give one attempt's error to an earlier one, so the caller asks with a small slack
 * while the right connection may still be on its way, and with a wide one at the end.
 */
export function failedConnectOf(
  m: HelperKernelEventMessage,
  at: number,
  conns: readonly TcpConn[],
  dialOf: (id: string) => Dial | undefined,
  slackMs: number,
  window = 256,
): TcpConn | undefined {
  const to = m.addrTuple;
  if (!to) return undefined;
  const ip = plainIP(to.dstIP);
  let best: TcpConn | undefined;
  let bestGap = Infinity;
  for (let i = conns.length - 1; i >= 0 && i >= conns.length - window; i--) {
    const c = conns[i];
    if (c.pid !== m.pid || c.addrTuple || c.connected || !c.fromDial) continue;
    for (const a of dialOf(c.fromDial)?.connectAttempts ?? []) {
      if (plainIP(a.address) !== ip || a.port !== to.dstPort) continue;
      const gap = Math.max(0, a.beginAt - at, at - (a.endAt ?? Infinity));
      if (gap <= slackMs && gap < bestGap) {
        best = c;
        bestGap = gap;
      }
    }
  }
  return best;
}
