/**
 * Node's networking modules, hooked when the program loads them rather than loaded by the
 * preload: a program's `process.moduleLoadList` holds no `net`, `tls`, `dns`, `http` or `https`
 * before its own first `require`, anything it sets up before that is in place when they load, and
 * a process that never makes a connection never pays for loading them.
 *
 * When a module is loaded is read from `process.moduleLoadList` (Node adds "NativeModule <id>"
 * for every built-in module it loads, by whatever path), checked at each moment that can come
 * first: after every `Module._load` (each `require`, and Node's ESM loader for CommonJS packages),
 * and at the channels Node publishes before a connection is made or a request is sent
 * (`net.client.socket`, `undici:client:beforeConnect`, `http.client.request.created`/`start`).
 *
 * Workaround: an ES module's `import 'node:https'` loads the module through Node's ESM loader,
 * which goes through nothing a preload can see (no `Module._load`, no channel), and an HTTPS
 * request made right after reaches `tls.connect` before any of the moments above. So when the
 * program may run ES modules from its start (firstUse.ts, mayImportAtStart: an `.mjs`/`.mts`
 * entry, a package of `"type": "module"`, `import`/`export` in an entry Node would detect as ESM,
 * `--import`/`--loader`, `--input-type=module`, or a worker thread), the modules are loaded and
 * hooked when the body starts: at the program's start, or on Node 24+ at its first import of one
 * of them, seen by the loader's resolve hook before Node makes the module's namespace
 * (firstUse.ts, watchImports).
 */

import { unsubscribe } from 'node:diagnostics_channel';
import { loadList } from './firstUse';
import { onModuleLoad } from './moduleLoad';
import { onDetach, subscribe } from './detach';

interface Pending {
  id: string;
  install: () => void;
}

const pending: Pending[] = [];
/** Entries of process.moduleLoadList already looked at. */
let seen = 0;
const TRIGGER_CHANNELS = ['net.client.socket', 'undici:client:beforeConnect', 'http.client.request.created', 'http.client.request.start'];
let listening = false;

/** True once Node has loaded the built-in module `id`. */
export function isLoaded(id: string): boolean {
  return loadList().includes(`NativeModule ${id}`);
}

/** Runs the installs whose module has been loaded since the last check. */
export function checkLoaded(): void {
  if (pending.length === 0) return;
  const list = loadList();
  if (list.length === seen) return;
  seen = list.length;
  for (let i = 0; i < pending.length;) {
    const p = pending[i]!;
    if (list.includes(`NativeModule ${p.id}`)) {
      pending.splice(i, 1);
      p.install();
    } else i++;
  }
  if (pending.length === 0) stopListening();
}

const onTrigger = (): void => checkLoaded();

function stopListening(): void {
  if (!listening) return;
  listening = false;
  for (const name of TRIGGER_CHANNELS) unsubscribe(name, onTrigger);
}

/**
 * Runs `install` once the built-in module `id` is loaded: now, when it is, or at the first moment
 * after (see above). `eager`: load it now (the program may import it unseen).
 */
export function whenLoaded(id: string, install: () => void, eager: boolean): void {
  if (eager || isLoaded(id)) {
    if (eager) require(`node:${id}`);
    install();
    return;
  }
  pending.push({ id, install });
  if (!listening) {
    listening = true;
    onModuleLoad(() => checkLoaded());
    for (const name of TRIGGER_CHANNELS) subscribe(name, onTrigger);
    // Detached, a module loaded later gets no hooks.
    onDetach(() => void (pending.length = 0));
  }
}

/**
 * This thread's id and whether it is the main thread, without loading `worker_threads` in the main
 * thread (it loads `stream` and Node's worker machinery: ≈ 37 M instructions, a third of the
 * preload's start-up before issue 52). A worker's bootstrap has loaded it already (and
 * `internal/process/worker_thread_only`, which the main thread never loads), so there it is free.
 */
export function threadInfo(): { threadId: number; isMainThread: boolean } {
  if (isLoaded('worker_threads') || isLoaded('internal/process/worker_thread_only')) {
    const { threadId, isMainThread } = require('node:worker_threads') as typeof import('node:worker_threads');
    return { threadId, isMainThread };
  }
  return { threadId: 0, isMainThread: true };
}
