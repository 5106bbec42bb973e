/** How a user sets the kernel helper up: named by every "helper unavailable" message. */

/** The extension command's title, as the Command Palette shows it (package.json contributes.commands). */
export const SETUP_COMMAND_TITLE = 'Net Trace: Set Up Kernel Helper';
/** The CLI equivalent. */
export const SETUP_CLI = 'nettrace helper setup';
/** The sentence every "helper unavailable" message ends with. */
export const SETUP_HINT = `set it up with "${SETUP_COMMAND_TITLE}" from the Command Palette (CLI: \`${SETUP_CLI}\`)`;
