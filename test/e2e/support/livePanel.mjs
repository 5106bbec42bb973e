// The live Net Trace panel as the e2e tests drive it in code-server: its rows, selecting one, its
// row menu, the Rules view, and the quick picks its commands open (whatIf.e2e, room.e2e).
import { findFrame, quickInput, sleep, until } from './codeServer.mjs';

/** Picks `label` in the quick pick that shows (its title containing `title`, when given). */
export async function pick(page, label, title) {
  const widget = page.locator('.quick-input-widget');
  await until(`the quick pick${title ? ` "${title}"` : ''}`, async () => {
    if (!(await widget.isVisible())) return false;
    return !title || ((await widget.locator('.quick-input-title').textContent()) ?? '').includes(title);
  });
  await quickInput(page).fill(label);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first().waitFor({ state: 'visible', timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** The panel's gestures and reads. */
export function panelOf(page) {
  const frame = async () => {
    let f = await findFrame(page, '.list-body');
    if (
      !f ||
      !(await f
        .locator('.list-body')
        .isVisible()
        .catch(() => false))
    ) {
      // A pause may have put the program's source in front of the panel.
      await page.locator('.tabs-container .tab', { hasText: 'Net Trace' }).first().click();
      f = await until('the Net Trace panel', () => findFrame(page, '.list-body'), 30_000);
    }
    return f;
  };
  const ui = {
    frame,
    /** The rows drawn at the end of the list (scrolled there first: the newest requests). */
    rows: async () => {
      const f = await frame();
      await f.$eval('.list-body', (b) => (b.scrollTop = b.scrollHeight)).catch(() => {});
      await sleep(150);
      return f.$$eval('.list-rows .row', (els) =>
        els
          .filter((e) => e.style.display !== 'none')
          .map((e) => ({
            id: e.id,
            method: e.querySelector('.c-method')?.textContent ?? '',
            status: (e.querySelector('.c-status')?.textContent ?? '').trim(),
            path: e.querySelector('.url-path')?.textContent ?? '',
            badge: (e.querySelector('.flag-badge .flag-text')?.textContent ?? '').trim(),
            label: e.getAttribute('aria-label') ?? '',
          })),
      );
    },
    /** Right-clicks the last row of `path` with `status`. */
    rightClick: async (path, status) => {
      const f = await frame();
      const id = await until(
        `a ${path} ${status} row`,
        async () => (await ui.rows()).filter((r) => r.path === path && r.status === status && !r.badge).at(-1)?.id,
      );
      // The status cell: the panel drops the Method column with the detail beside the list.
      await f.locator(`[id="${id}"] .c-status`).click({ button: 'right' });
    },
    /**
     * Selects the row of `id`. The program keeps calling, so the live list keeps growing and its
     * pooled rows move: scrolled to the end and clicked again until one click lands.
     */
    select: async (id) =>
      until(
        `a click on the row ${id}`,
        async () => {
          const f = await frame();
          await f.$eval('.list-body', (b) => (b.scrollTop = b.scrollHeight)).catch(() => {});
          const clicked = await f
            .locator(`[id="${id}"] .c-status`)
            .click({ timeout: 2000 })
            .then(() => true)
            .catch(() => false);
          // The click landed when that request is the selected one (a pooled row may have moved
          // under the pointer to another request between finding it and the click).
          await sleep(100);
          return clicked && (await ui.selectedTraceID()) === id.replace(/^nt-row-/, '');
        },
        30_000,
        200,
      ),
    selectedTraceID: async () =>
      (await frame())
        .$eval('.list-rows .row[aria-selected="true"]', (e) => JSON.parse(e.dataset.vscodeContext ?? '{}').traceID)
        .catch(() => undefined),
    showRules: async () => {
      const f = await frame();
      if ((await f.$eval('.rules-toggle', (b) => b.getAttribute('aria-pressed'))) !== 'true') await f.click('.rules-toggle');
      await f.locator('.rules-list:not(.rules-saved-list)').waitFor({ state: 'visible', timeout: 10_000 });
    },
  };
  return ui;
}
