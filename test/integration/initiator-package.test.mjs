// covers: src/preload/initiator/, src/trace/derive/initiatorLine.ts
// A program that lives in node_modules (issue 49 item 11): npm, pnpm, a globally installed CLI, an
// `npx` tool. Its entry script is inside a package, so that package's frames are the program's:
// the initiator of a request it makes through axios, or through a package nested in its own
// node_modules, is the CLI's line, not "library code only". Run through a link outside
// node_modules as a global bin is (Node runs the real path), as CommonJS and as an ES module; a
// script beside node_modules keeps axios's frames as the library's. Every Node the harness runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, nodeBinaries, root, run } from './harness.mjs';

let server;
let base;
let dir;
/** File → line of each `// @line NAME` marker. */
const lines = {};

function write(file, text) {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  text.split('\n').forEach((l, i) => {
    const m = /\/\/ @line ([\w-]+)/.exec(l);
    if (m) lines[m[1]] = { file: realpathSync(file), line: i + 1 };
  });
}

before(async () => {
  server = http.createServer((req, res) => res.end('ok'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'nettrace-pkg-initiator-')));
  const nm = join(dir, 'node_modules');
  mkdirSync(nm);
  symlinkSync(join(root, 'node_modules', 'axios'), join(nm, 'axios'));
  const cliDir = join(nm, 'some-cli');
  write(join(cliDir, 'package.json'), JSON.stringify({ name: 'some-cli', version: '1.0.0', bin: { x: 'bin/x.js' } }));
  write(join(cliDir, 'bin', 'x.js'), "#!/usr/bin/env node\nrequire('../lib/run.js').main(process.env.NT_BASE);\n");
  write(
    join(cliDir, 'lib', 'run.js'),
    [
      "const axios = require('axios');",
      "const dep = require('dep');",
      'exports.main = async (base) => {',
      '  await axios.get(`${base}/cli-axios`); // @line cli-axios',
      '  await dep.get(`${base}/cli-dep`); // @line cli-dep',
      '};',
      '',
    ].join('\n'),
  );
  // A package of the CLI's own dependencies: a library, though inside the CLI's folder.
  write(
    join(cliDir, 'node_modules', 'dep', 'index.js'),
    "const http = require('node:http');\nexports.get = (url) => new Promise((resolve, reject) => http.get(url, (res) => res.resume().on('end', resolve)).on('error', reject)); // @line dep-get\n",
  );
  write(join(cliDir, 'node_modules', 'dep', 'package.json'), JSON.stringify({ name: 'dep', version: '1.0.0' }));
  // The same CLI as an ES module.
  const esm = join(nm, '@scope', 'esm-cli');
  write(join(esm, 'package.json'), JSON.stringify({ name: '@scope/esm-cli', version: '1.0.0', type: 'module' }));
  write(join(esm, 'bin', 'x.mjs'), "import axios from 'axios';\nawait axios.get(`${process.env.NT_BASE}/esm-axios`); // @line esm-axios\n");
  // A global bin: a link outside node_modules to the CLI's script.
  mkdirSync(join(dir, 'bin'));
  symlinkSync(join(cliDir, 'bin', 'x.js'), join(dir, 'bin', 'x'));
  // A program beside node_modules: axios's frames stay the library's.
  write(join(dir, 'app.js'), "require('axios').get(`${process.env.NT_BASE}/app-axios`); // @line app-axios\n");
});

after(() => {
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function traced(bin, script) {
  const out = join(dir, `t-${Math.random().toString(36).slice(2)}.json`);
  const res = await run(process.execPath, [cli, 'run', '--quiet', '--helper', 'off', '--out', out, '--', bin, script], {
    env: { NT_BASE: base },
    cwd: dir,
  });
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(readFileSync(out, 'utf8'));
}

function programFrame(trace, path) {
  const r = trace.httpRequests.find((q) => q.reqURL === `${base}${path}`);
  assert.ok(r, `${path} traced`);
  assert.ok(r.initiator, `${path} has an initiator`);
  return { first: r.initiator.frames.find((f) => !f.library), frames: r.initiator.frames };
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a CLI inside node_modules (run through a global bin's link): its lines are the program's, its dependencies' are not`, async () => {
    const trace = await traced(bin, join(dir, 'bin', 'x'));
    const viaAxios = programFrame(trace, '/cli-axios');
    assert.deepEqual(
      [viaAxios.first?.file, viaAxios.first?.line],
      [lines['cli-axios'].file, lines['cli-axios'].line],
      JSON.stringify(viaAxios.frames),
    );
    assert.ok(
      viaAxios.frames.some((f) => f.library && /node_modules[\\/]axios[\\/]/.test(f.file)),
      'axios frames stay the library’s',
    );
    const viaDep = programFrame(trace, '/cli-dep');
    assert.deepEqual(
      [viaDep.first?.file, viaDep.first?.line],
      [lines['cli-dep'].file, lines['cli-dep'].line],
      JSON.stringify(viaDep.frames),
    );
    const depFrame = viaDep.frames.find((f) => f.file === lines['dep-get'].file);
    assert.equal(depFrame?.library, true, 'a package nested in the CLI’s node_modules is a library');
  });

  test(`${label}: a scoped ES-module CLI inside node_modules: its line is the program's; a script beside node_modules keeps axios a library`, async () => {
    const esm = await traced(bin, join(dir, 'node_modules', '@scope', 'esm-cli', 'bin', 'x.mjs'));
    const f = programFrame(esm, '/esm-axios').first;
    assert.ok(f, 'a program frame');
    assert.equal(f.line, lines['esm-axios'].line);
    assert.match(f.file, /@scope[\\/]esm-cli[\\/]bin[\\/]x\.mjs$/);
    const app = await traced(bin, join(dir, 'app.js'));
    const a = programFrame(app, '/app-axios');
    assert.deepEqual([a.first?.file, a.first?.line], [lines['app-axios'].file, lines['app-axios'].line]);
    assert.ok(a.frames.filter((x) => /node_modules[\\/]axios/.test(x.file)).every((x) => x.library));
  });
}
