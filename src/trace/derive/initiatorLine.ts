/**
 * The one rule for which frame of an initiator is "the line that made the request": the program's
 * own first frame. Library frames (node_modules) are never that line; a stack with none of the
 * program's frames has no such line (the list, CodeLens and CLI then say so instead of pointing
 * into a library).
 */

import type { HttpRequest, Initiator } from '../contract/types';
import type { StackFrame } from '../contract/incoming';

/** The program's first frame of an initiator, or undefined when it holds only library frames. */
export function programFrame(initiator: Initiator | undefined): StackFrame | undefined {
  const frames = initiator?.frames;
  if (!Array.isArray(frames)) return undefined;
  return frames.find((f) => !f.library);
}

/** The line that made a request: its initiator's program frame, or undefined. */
export function requestLine(req: HttpRequest): StackFrame | undefined {
  return programFrame(req.initiator);
}

/** What to say when a request has an initiator stack but none of the program's frames. */
export const NO_PROGRAM_FRAME = 'library code only (no frame of the program)';

/**
 * The initiator of a request that a library made on its own from a previous request's response
 * (a redirect followed by axios/follow-redirects, got, needle…): that request's program frames,
 * marked `async`, then the hop's own library frames. Undefined when there is nothing to inherit.
 */
export function inheritInitiator(hop: Initiator | undefined, from: Initiator | undefined): Initiator | undefined {
  if (programFrame(hop) || !from) return undefined;
  const own = from.frames.filter((f) => !f.library);
  if (own.length === 0) return undefined;
  return { frames: own.concat(hop?.frames ?? []), async: true };
}
