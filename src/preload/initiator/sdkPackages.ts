/**
 * The SDKs whose calls the preload follows from the program's call to the requests it causes
 * (sdkCalls.ts), and http2-wrapper, the agent of got's HTTP/2, by the name a `require` gives:
 * shared by the loader, for which loading one is a use of the network (firstUse.ts: the body must
 * be there to patch it as it loads), and the body.
 */

/** Package names, as `require` and `import` name them. */
export const SDK_PACKAGES: ReadonlySet<string> = new Set([
  'stripe',
  '@anthropic-ai/sdk',
  '@aws-sdk/lib-storage',
  '@octokit/rest',
  'octokit',
  'http2-wrapper',
]);

/** The main file of a CommonJS package as Node's ESM loader passes it to `Module._load` (`import` of a CommonJS package). */
const MAIN_FILE =
  /[\\/]node_modules[\\/](stripe|@anthropic-ai[\\/]sdk|@aws-sdk[\\/]lib-storage|http2-wrapper)[\\/](?:cjs[\\/]stripe\.cjs\.node\.js|index\.js|dist-cjs[\\/]index\.js|source[\\/]index\.js)$/;

/** The SDK package a `Module._load` request loads (its name, or its main file's path), or undefined. */
export function sdkPackageOf(request: string): string | undefined {
  if (SDK_PACKAGES.has(request)) return request;
  const c = request.charCodeAt(0);
  // Only an absolute path can be a main file: `/…` or `C:\…`.
  if (c !== 47 && c !== 92 && request.charCodeAt(1) !== 58) return undefined;
  const m = MAIN_FILE.exec(request);
  return m ? m[1]!.replace('\\', '/') : undefined;
}
