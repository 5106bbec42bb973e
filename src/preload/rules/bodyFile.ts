/**
 * The bodies of `respond` rules given as a file (`bodyFile`, docs/rules.md "What-if actions"), read
 * in the program when a rule set is applied (preloadRules.ts), before any request is decided: a
 * regular file of at most 1 MiB, opened without following a link and without blocking (a FIFO's
 * open would wait for a writer), checked on the descriptor it was opened with (fstat) and read
 * through it. A rule whose file is not such a file is refused there with a warning naming the file
 * and why: it acts on no request (the program's requests reach the server), rather than answering
 * with a body it could not have.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Rule } from '../../rules';
import { bodyFileProblem, type RespondSpec } from '../../rules/whatIfActions';

/** Each applied `respond` rule's body read from its file, by the rule's parameters (the engine's copies of a rule share them). */
const bodies = new WeakMap<RespondSpec, Buffer>();

/** The body a `respond` rule answers with: its file's bytes as read when the set was applied, or its `body`. */
export function respondBody(spec: RespondSpec): Buffer {
  return bodies.get(spec) ?? Buffer.from(spec.body ?? '');
}

/**
 * Reads a body file (a path relative to the program's working directory) through the descriptor
 * it checked; throws an Error whose message follows the path ("is a FIFO …") when it is not a
 * regular file of at most 1 MiB or cannot be read.
 */
export function readBodyFile(path: string): Buffer {
  const full = resolve(path);
  const noFollow = constants.O_NOFOLLOW;
  // Where the system has no O_NOFOLLOW (Windows), the link is looked for first.
  if (noFollow === undefined && lstatSafe(full)?.isSymbolicLink() === true) throw new Error(bodyFileProblem(undefined, 'ELOOP'));
  let fd: number;
  try {
    fd = openSync(full, constants.O_RDONLY | (noFollow ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(bodyFileProblem(undefined, e.code ?? 'EIO', e.message));
  }
  try {
    const st = fstatSync(fd);
    const problem = bodyFileProblem(st);
    if (problem !== undefined) throw new Error(problem);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function lstatSafe(path: string): import('node:fs').Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The rules of a set with each enabled `respond` rule's body file read (kept for respondBody);
 * a rule whose file cannot be its body comes back disabled, and `warn` says which and why. Never
 * throws.
 */
export function loadBodyFiles(rules: Rule[], warn: (message: string) => void): Rule[] {
  let out = rules;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    const file = r.respond?.bodyFile;
    if (!r.enabled || r.action !== 'respond' || r.respond === undefined || file === undefined) continue;
    try {
      bodies.set(r.respond, readBodyFile(file));
    } catch (err) {
      if (out === rules) out = rules.slice();
      out[i] = { ...r, enabled: false };
      warn(
        `what-if rule ${JSON.stringify(r.id)} is refused and acts on no request: its bodyFile ${JSON.stringify(resolve(file))} ${(err as Error).message}`,
      );
    }
  }
  return out;
}
