/**
 * What the privileged helper records of a TCP connection from the kernel: its metrics
 * (`tcpConns[].tcpMetrics`) and the moments it saw (`tcpConns[].kernelEvents`), see
 * docs/trace-format.md. Part of the trace contract (re-exported by types.ts): imports nothing.
 */

/** Kernel TCP metrics (privileged helper: eBPF or inet_diag), its last reading; unreported ones absent. */
export interface TcpMetrics {
  /** "bpf" or "inet_diag" (a trace file's text is shown as it is). */
  source?: string;
  rttUs?: number;
  rttVarUs?: number;
  retransmits?: number;
  /** Retransmitted SYNs (part of the connect time, not of `retransmits`). */
  synRetransmits?: number;
  /** From the first SYN to the last retransmitted one: what the unanswered SYNs cost the connect. */
  synRetransmitAfterUs?: number;
  sndCwnd?: number;
  segsOut?: number;
  segsIn?: number;
  bytesSent?: number;
  bytesAcked?: number;
  bytesReceived?: number;
  bytesRetrans?: number;
  lost?: number;
  rtoCount?: number;
  resetsSent?: number;
  resetsReceived?: number;
  /** Whether the socket reached ESTABLISHED. */
  established?: boolean;
  /** SYN to ESTABLISHED as the kernel saw it. */
  connectLatencyUs?: number;
  lifespanUs?: number;
  /** Kernel events of the connection past the caps of `tcpConns[].kernelEvents` (256; arrivals 65,536): counted, not listed. */
  kernelEventsDropped?: number;
}

/** An ICMP message the kernel received for a connection (it caused a `socketError`). */
export interface IcmpMessage {
  version: 4 | 6;
  type: number;
  code: number;
  /** Who sent it (a router on the path, or the destination itself). */
  from: string;
}

/**
 * One moment in a connection's life the kernel saw (privileged helper, eBPF): a data segment
 * retransmitted (`rto`: after a retransmission timeout), a zero receive window (the peer's: it was
 * not reading; `local`: the program was not), an error the connection ended with or an ICMP error
 * the kernel received about it. Times in ms since traceBeginAt.
 */
export type KernelEvent =
  | {
      kind: 'retransmit';
      at: number;
      /** The connection's retransmitted segments so far (SYNs included), after this one: `tcp_info`'s total. */
      total?: number;
      rto?: boolean;
    }
  | { kind: 'zeroWindow'; at: number; beginAt: number; side: 'peer' | 'local' }
  | {
      /** Data arrived after the program had sent more (a response's first byte, on HTTP/1.x). */
      kind: 'dataIn';
      at: number;
      /** When the data before it last arrived (the previous response's last byte). */
      prevLastAt?: number;
      /** When the peer last acknowledged all the program had sent before it (the request's last byte). */
      ackedAt?: number;
    }
  | {
      /** The kernel dropped a packet of the connection. */
      kind: 'drop';
      at: number;
      /** The kernel's drop reason (`NETFILTER_DROP`, `TCP_CSUM`, `SOCKET_RCVBUFF`, … without `SKB_DROP_REASON_`). */
      reason: string;
      /** `out`: a packet the connection sent; `in`: one it received. */
      direction: 'in' | 'out';
    }
  | {
      /** When the connection's last data arrived (reported at its close). */
      kind: 'dataEnd';
      at: number;
    }
  | {
      kind: 'socketError';
      at: number;
      /** The socket's error number when the kernel still held it at the close (the program usually takes it first). */
      errno?: number;
      /** Its name (`EHOSTUNREACH`). */
      code?: string;
      /** The ICMP error the kernel received about the connection (then `at` is when). */
      icmp?: IcmpMessage;
    };

/**
 * When a request's response reached the machine, as the kernel saw it (privileged helper, eBPF;
 * HTTP/1.x), next to when the program read it (`respRecvAt`, `respDoneAt`): the difference is
 * time the response waited in the socket for the program. ms since traceBeginAt.
 */
export interface KernelTimings {
  /** The response's first byte arrived. */
  respFirstByteAt: number;
  /** Its last byte arrived (known once the program sent its next request or the connection closed). */
  respLastByteAt?: number;
  /** The peer acknowledged the request's last byte. */
  reqAckedAt?: number;
  /**
   * The `wait` phase (`reqSentAt` → `respRecvAt`) split, ms: `network` (a round trip: the request's
   * last byte sent → its acknowledgement; the connect handshake's round trip when that is shorter),
   * `server` (the rest until the response's first byte arrived), `program` (that byte waited in
   * the socket until the program read it). They add up to the phase.
   */
  wait?: { network: number; server: number; program: number };
  /**
   * The `receive` phase (`respRecvAt` → `respDoneAt`) split, ms: `wire` (the response was still
   * arriving), `queued` (all of it had arrived; the rest waited in the socket for the program).
   */
  receive?: { wire: number; queued: number };
}
