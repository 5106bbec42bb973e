/**
 * The banner at the top of the panel that says, in a plain sentence, why what-if rules are off
 * (docs/security.md: an untrusted workspace), from the host's `traces` message (`whatIfOff`). A
 * status region (announced once, read in order), an icon and words, never colour alone. It listens
 * to the host's messages itself: main.ts only loads it.
 */
import { h, icon, setText } from './dom';

let banner: { el: HTMLElement; text: HTMLElement } | undefined;

/** Shows `reason` in the banner (undefined: hides it). */
export function showWhatIfBanner(reason: string | undefined): void {
  const app = document.querySelector<HTMLElement>('.app');
  if (!app) return;
  if (!banner) {
    const text = h('span', 'selectable');
    banner = { el: h('div', 'whatif-banner', { role: 'status' }, icon('shield'), text), text };
  }
  if (banner.el.parentElement !== app) app.prepend(banner.el);
  banner.el.hidden = reason === undefined;
  setText(banner.text, reason ?? '');
}

window.addEventListener('message', (e: MessageEvent) => {
  const m = e.data as { type?: unknown; whatIfOff?: unknown } | null;
  if (m && m.type === 'traces') showWhatIfBanner(typeof m.whatIfOff === 'string' ? m.whatIfOff : undefined);
});
