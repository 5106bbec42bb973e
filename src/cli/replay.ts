/**
 * `nettrace run --replay FILE` (docs/replay.md): the recording read into the replay table the
 * collector answers from: a file that is not a recorded trace or a HAR with content is refused with
 * the reader's plain sentence, before anything runs. The run's closing lines: ./replayLines.ts.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { ReplayInputError } from '../replay';
import type { ReplaySettings } from '../protocol/options';
import { MAX_RECORDING_BYTES, replaySetupOf, unreadableWhy, type ReplaySetup } from '../collector/replay';
import { CliError } from './runTraced';

/** Reads `settings.file` into the collector's replay; a CliError (exit 2) says why it cannot be replayed. */
export function loadReplay(settings: ReplaySettings): ReplaySetup {
  const path = settings.file;
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new CliError(`--replay ${path}: a directory, not a recording`);
    if (!st.isFile()) throw new CliError(`--replay ${path}: not a regular file`);
    if (st.size > MAX_RECORDING_BYTES)
      throw new CliError(`--replay ${path}: ${Math.round(st.size / 1048576)} MiB, larger than the 512 MiB a replay reads`);
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    text = buf
      .subarray(0, at)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`--replay ${path}: ${unreadableWhy(err)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  try {
    return replaySetupOf(text, basename(path), settings);
  } catch (err) {
    if (err instanceof ReplayInputError) throw new CliError(`--replay: ${err.message}`);
    throw err;
  }
}
