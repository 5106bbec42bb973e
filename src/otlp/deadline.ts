/**
 * A wall-clock deadline for each HTTP export request. OpenTelemetry's HTTP transport
 * (otlp-exporter-base 0.223, sendWithHttp) sets only an idle timeout on its request
 * (`req.setTimeout`): a backend that answers 200 and then sends one byte every 500 ms never trips
 * it, and the request, its socket and the program's exit wait for ever. The exporter lets us give
 * its agent (`httpAgentOptions` as a factory); this agent arms a timer on every request it is
 * given (`addRequest`, the hook every `http.Agent` sees each request through) and destroys the
 * request at the deadline, with an error saying what the backend did. abort() destroys whatever is
 * still open (the end of an export whose total deadline passed).
 */

import http from 'node:http';
import https from 'node:https';

/** A request cut at its deadline: the message says whether the backend had answered. */
export class ExportDeadlineError extends Error {
  override readonly name = 'ExportDeadlineError';
}

/** What http.Agent does with each request (not in its type definitions, used by agent libraries). */
interface AgentWithAddRequest {
  addRequest(req: http.ClientRequest, options: unknown): void;
}

/** The agents of one sink, the requests they carry, and their deadline. */
export class ExportDeadlines {
  private readonly agents = new Map<string, http.Agent>();
  private readonly open = new Map<http.ClientRequest, { status?: number }>();

  constructor(private readonly timeoutMillis: number) {}

  /** The exporter's agent factory (`httpAgentOptions`): one keep-alive agent per protocol. */
  readonly agentFor = (protocol: string): http.Agent => {
    let agent = this.agents.get(protocol);
    if (!agent) {
      agent = protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
      const target = agent as unknown as AgentWithAddRequest;
      const add = target.addRequest.bind(agent);
      target.addRequest = (req, options) => {
        this.arm(req);
        add(req, options);
      };
      this.agents.set(protocol, agent);
    }
    return agent;
  };

  /** Gives `req` its deadline: destroyed with an ExportDeadlineError if not closed by then. */
  private arm(req: http.ClientRequest): void {
    const state: { status?: number } = {};
    this.open.set(req, state);
    req.once('response', (res: http.IncomingMessage) => (state.status = res.statusCode));
    const timer = setTimeout(() => req.destroy(new ExportDeadlineError(this.what(state, this.timeoutMillis))), this.timeoutMillis);
    timer.unref();
    req.once('close', () => {
      clearTimeout(timer);
      this.open.delete(req);
    });
  }

  /** What the backend did with a request, when its time (`ms`) ran out. */
  private what(state: { status?: number }, ms: number): string {
    return state.status === undefined
      ? `the backend did not answer within ${ms} ms`
      : `the backend answered ${state.status} but did not finish its answer within ${ms} ms (the connection was closed)`;
  }

  /**
   * Destroys every request still open and every socket the agents keep, so that nothing holds the
   * program's exit; returns what the backend did with the first open request (undefined: none was
   * open), given the export's deadline `ms`.
   */
  abort(ms: number): string | undefined {
    let what: string | undefined;
    for (const [req, state] of this.open) {
      what ??= this.what(state, ms);
      req.destroy(new ExportDeadlineError(this.what(state, ms)));
    }
    this.open.clear();
    for (const agent of this.agents.values()) agent.destroy();
    return what;
  }
}
