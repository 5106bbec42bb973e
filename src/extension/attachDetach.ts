/**
 * The end of an attach session: every process the preload was loaded into through the debugger
 * (debugProviders.ts registerAttachLoading) gets its hooks taken out, through the process's own
 * inspector (inspectorEval.ts), since the debugger is gone by the time VS Code says the session
 * ended. A process whose inspector cannot be reached detaches itself when the trace ends (its
 * collector closes: PreloadConfig.attached).
 */

import { DETACHED, preloadDetachExpression } from './nodeSessions';
import { evaluateOverInspector } from './inspectorEval';
import type { Services } from './services';

/** An attach session's preload load: the expression, the configuration's name, and each loaded pid with its inspector URL. */
export interface AttachLoad {
  expression: string;
  name: string;
  loaded: Map<string, string | undefined>;
}

/** The attach sessions whose trace is open, by trace key. */
export const attachLoads = new Map<string, AttachLoad>();

/**
 * The sessions of found processes (js-debug's auto attach, or a debug terminal's process without
 * the preload; autoAttach.ts) traced from the attach on: debug session id → trace key. Their child
 * sessions load the preload into the same trace.
 */
export const foundProcessTraces = new Map<string, string>();

/** How long one process's inspector may take to answer the detach (ms). */
const DETACH_TIMEOUT_MS = 1500;

/** Detaches the preload from every process of the attach session traced under `key`; never rejects. */
export async function detachAttached(s: Services, key: string): Promise<void> {
  const load = attachLoads.get(key);
  if (!load) return;
  const expression = preloadDetachExpression(`the debugger detached ("${load.name}" ended)`);
  await Promise.all(
    [...load.loaded].map(async ([pid, inspector]) => {
      if (!inspector) {
        s.log(`${key}: pid ${pid} has no inspector URL; it detaches itself when the trace ends`);
        return;
      }
      try {
        const answer = String(await evaluateOverInspector(inspector, expression, DETACH_TIMEOUT_MS));
        s.log(`${key}: ${answer.startsWith(DETACHED) ? answer : `pid ${pid}: ${answer}`}`);
      } catch (err) {
        s.log(
          `${key}: could not detach pid ${pid} through its inspector (${(err as Error).message}); it detaches itself when the trace ends`,
        );
      }
    }),
  );
  load.loaded.clear();
}
