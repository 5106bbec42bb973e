/**
 * The one entry to a recording: a parsed file (or its text) becomes a replay table, whichever of
 * the two kinds it is: a trace recorded with `--record` (./fromTrace.ts) or a HAR with content
 * (./fromHar.ts). Anything else is a ReplayInputError with a sentence that says what the file is.
 */

import { tableFromHar } from './fromHar';
import { tableFromTrace } from './fromTrace';
import { isRecord } from './shape';
import { ReplayInputError, type ReplayTable } from './types';

/** The replay table of a parsed trace or HAR file. Throws ReplayInputError (only) when it is neither. */
export function readReplayTable(file: unknown): ReplayTable {
  if (!isRecord(file))
    throw new ReplayInputError('A recording is a JSON object (a trace recorded with `--record`, or a HAR): this file is not one.');
  if (isRecord(file.log)) return tableFromHar(file);
  if ('httpRequests' in file || 'formatVersion' in file) return tableFromTrace(file);
  throw new ReplayInputError('This file is neither a Net Trace trace (no `httpRequests`) nor a HAR (no `log`).');
}

/** The replay table of a file's text (`name` is how the error names the file). Throws ReplayInputError (only). */
export function parseReplayTable(text: string, name = 'the recording'): ReplayTable {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ReplayInputError(`${name} is not JSON (${why}): a recording is a trace recorded with \`--record\` or a HAR.`);
  }
  try {
    return readReplayTable(file);
  } catch (err) {
    if (err instanceof ReplayInputError) throw new ReplayInputError(`${name}: ${err.message}`);
    // A reader that met a shape it did not check is a bug of ours; the user still gets a sentence.
    throw new ReplayInputError(`${name} could not be read as a recording: ${err instanceof Error ? err.message : String(err)}`);
  }
}
