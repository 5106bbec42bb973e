/**
 * The HTML shell of the panel, as a pure function the extension host calls when it creates the
 * WebviewPanel (and in its WebviewPanelSerializer after a reload). No remote resources: the
 * script, its stylesheet and the codicon font come from the extension's own folder.
 *
 * Host side, roughly:
 *   const root = vscode.Uri.joinPath(context.extensionUri, 'dist');
 *   panel = vscode.window.createWebviewPanel('nettrace.panel', 'Net Trace', column,
 *     { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [root] });
 *   const uri = (f) => panel.webview.asWebviewUri(vscode.Uri.joinPath(root, f)).toString();
 *   panel.webview.html = renderPanelHtml({ cspSource: panel.webview.cspSource, nonce: createNonce(),
 *     scriptUri: uri('webview.js'), styleUri: uri('webview.css'), codiconUri: uri('codicon.css') });
 *
 * `dist/webview.js` + `dist/webview.css` come from webview/main.ts (esbuild emits the CSS it
 * imports next to the bundle); `dist/codicon.css` + `dist/codicon.ttf` are copied from
 * @vscode/codicons by scripts/build.mjs. The font is loaded by codicon.css, hence `font-src`.
 */

/** Inputs of the shell; every URI must be a webview URI (`asWebviewUri`) under `cspSource`. */
export interface PanelHtmlOptions {
  /** `webview.cspSource` */
  cspSource: string;
  /** A fresh random nonce per render (see `createNonce`). */
  nonce: string;
  /** URI of dist/webview.js */
  scriptUri: string;
  /** URI of dist/webview.css */
  styleUri: string;
  /** URI of dist/codicon.css */
  codiconUri: string;
  /** Document title (default "Net Trace"). */
  title?: string;
  /** The panel's saved UI state of this workspace (SaveStateMessage), as `data-state` JSON on #app. */
  initialState?: unknown;
}

/** Escapes text for an HTML attribute value or text content. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The Content-Security-Policy of the panel. */
export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
  ].join('; ');
}

/** A random 32-character nonce (Web Crypto; available in Node 20+ and browsers). */
export function createNonce(): string {
  const bytes = new Uint8Array(24);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[b & 63];
  return s;
}

/** Renders the panel's HTML document. */
export function renderPanelHtml(o: PanelHtmlOptions): string {
  const a = escapeHtml;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${a(panelCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${a(o.codiconUri)}" nonce="${a(o.nonce)}">
<link rel="stylesheet" href="${a(o.styleUri)}" nonce="${a(o.nonce)}">
<title>${a(o.title ?? 'Net Trace')}</title>
</head>
<body>
<div id="app" class="app" aria-busy="true"${o.initialState !== undefined ? ` data-state="${a(JSON.stringify(o.initialState))}"` : ''}></div>
<script nonce="${a(o.nonce)}" src="${a(o.scriptUri)}"></script>
</body>
</html>
`;
}
