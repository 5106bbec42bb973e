// covers: src/trace/formats/copyAs.ts, src/extension/copyCommands.ts
// Copy as cURL pasted into a terminal (issue 34, item 2): a recorded header or body holding ESC
// "[201~" (the end of bracketed paste), ^C and a command ran that command when the copied line was
// pasted into an interactive bash. Each hostile case here is pasted, the way a terminal pastes
// (ESC[200~ … ESC[201~), into a real interactive bash on a pseudo-terminal (python3's pty module)
// with bracketed paste on, then Enter is pressed: no command may run (the marker file stays
// absent), and the pasted command must send the recorded bytes to a real local server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';
import { rawServer } from '../lib/rawServer.mjs';

const c = bundleTs(["export * from './src/trace/formats/copyAs';"]);
const tools = ['python3', 'bash', 'curl'].filter((t) => spawnSync(t, ['--version']).status !== 0);
const skip = tools.length > 0 && `not installed: ${tools.join(', ')}`;

/**
 * Runs an interactive bash on a pseudo-terminal, turns bracketed paste on, pastes the file
 * argv[1] as a terminal does, presses Enter, then types a sentinel command and waits for its
 * output (so whatever the paste started has finished). Prints everything the terminal showed.
 */
const DRIVER = String.raw`
import os, pty, select, sys, time
paste = open(sys.argv[1], 'rb').read()
env = dict(os.environ, PS1='PROMPT> ', PS2='MORE> ', TERM='xterm', HISTFILE='/dev/null', INPUTRC='/dev/null', LANG='C.UTF-8')
pid, fd = pty.fork()
if pid == 0:
    os.execvpe('bash', ['bash', '--norc', '--noprofile', '-i'], env)
out = b''
def pump(until, timeout):
    global out
    end = time.time() + timeout
    while time.time() < end:
        if until is not None and out.count(until[0]) >= until[1]:
            return True
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r:
            continue
        try:
            d = os.read(fd, 65536)
        except OSError:
            return False
        if not d:
            return False
        out += d
    return until is not None and out.count(until[0]) >= until[1]
def send(b):
    for i in range(0, len(b), 256):
        os.write(fd, b[i:i + 256])
        pump(None, 0.01)
pump((b'PROMPT> ', 1), 10)
send(b"bind 'set enable-bracketed-paste on'\r")
pump((b'PROMPT> ', 2), 10)
send(b'\x1b[200~' + paste + b'\x1b[201~')
pump(None, 0.3)
send(b'\r')
send(b'echo SENTINEL-$((6*7))\r')
done = pump((b'SENTINEL-42', 1), 10)
send(b'\x03exit\r')
pump(None, 1)
try:
    os.kill(pid, 9)
except OSError:
    pass
sys.stdout.buffer.write(out)
sys.stdout.buffer.write(b'\nDRIVER-DONE\n' if done else b'\nDRIVER-TIMEOUT\n')
`;

/**
 * The hostile cases: where the value goes, and the value (MARKER: the file a command would create).
 * After ^C bash drops the next character typed: the commands begin with two spaces.
 */
const CASES = [
  { name: 'end of paste, ^C, command, CR in a header', header: 'x\x1b[201~\x03  touch MARKER\r' },
  { name: 'end of paste, ^C, command, LF in the body', body: '{"a":"\x1b[201~\x03  touch MARKER\n"}' },
  { name: 'end of paste, ^C, quote and command in the body', body: "it's \x1b[201~\x03  touch MARKER #'\r" },
  {
    name: 'C1 CSI, DEL, tabs and history expansion',
    header: 'a\u009b201~\x7f\t!!\ttouch MARKER',
    body: "b'!-1\t\x1b[201~\x7ftouch MARKER\r\n",
  },
  { name: 'other C0 controls (^D ^Z ^U ^W ^V)', body: '\x04\x1a\x15\x17\x16\x1b[201~\x03  touch MARKER\r\x0f' },
];

for (const k of CASES) {
  test(`a pasted Copy as cURL runs nothing and sends the recorded bytes: ${k.name}`, { skip }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-paste-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const marker = join(dir, 'owned');
    const { server, got, url } = await rawServer();
    t.after(() => server.close());
    const header = k.header?.replace('MARKER', marker);
    const body = k.body?.replace('MARKER', marker);
    const req = {
      traceID: 'r1',
      pid: 1,
      client: 'http',
      reqMethod: body === undefined ? 'GET' : 'POST',
      reqURL: `${url}/p?filter[name]=x`,
      reqHeaders: header === undefined ? [] : [['X-Evil', header]],
      ...(body === undefined ? {} : { reqBody: { size: Buffer.byteLength(body), truncated: false, text: body } }),
    };
    const { text } = c.toCurl(req);
    const file = join(dir, 'paste');
    writeFileSync(file, text.replace(/^curl /, 'curl -sS '));
    const screen = await new Promise((resolve) => {
      execFile('python3', ['-c', DRIVER, file], { encoding: 'latin1', timeout: 60_000 }, (err, stdout) =>
        resolve(`${stdout}${err ? `\n${err}` : ''}`),
      );
    });
    assert.equal(existsSync(marker), false, `the paste ran a command:\n${JSON.stringify(screen)}`);
    assert.match(screen, /DRIVER-DONE/, `bash did not come back to its prompt after the paste:\n${JSON.stringify(screen)}`);
    assert.equal(got.length, 1, `one request expected, got ${got.length}:\n${JSON.stringify(screen)}`);
    const bytes = got[0];
    assert.ok(bytes.toString('latin1').startsWith(`${req.reqMethod} /p?filter[name]=x HTTP/1.1\r\n`), bytes.toString());
    if (header !== undefined)
      assert.ok(bytes.includes(Buffer.from(`\r\nX-Evil: ${header}`)), `header not sent as recorded: ${JSON.stringify(bytes.toString())}`);
    if (body !== undefined) {
      const sent = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
      assert.ok(sent.equals(Buffer.from(body)), `body not sent as recorded: ${JSON.stringify(sent.toString())}`);
    }
  });
}
