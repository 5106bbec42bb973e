// Loaded with `node -r` into `dist/cli.cjs run` (bench/tools/collector-input.mjs record): records
// the collector's raw input as it arrives, in order: every preload connection's bytes (the socket
// server's `connection`, `data` and end) and the kernel helper's stdout text (as its HelperClient
// reads it), into the file named by BENCH_INPUT_OUT at exit. Each entry: kind (u8: 1 a preload
// connection opened, 2 its bytes, 3 its end, 4 helper text, 5 the helper's stdout ended),
// connection number (u32 LE), length (u32 LE), bytes; the first entry (kind 0) holds the wall
// clock when the CLI started (f64 LE, ms), the trace's begin. Changes nothing it records.
const net = require('node:net');
const childProcess = require('node:child_process');
const { writeFileSync } = require('node:fs');

const parts = [];
let connections = 0;
function entry(kind, conn, bytes = Buffer.alloc(0)) {
  const head = Buffer.alloc(9);
  head.writeUInt8(kind, 0);
  head.writeUInt32LE(conn, 1);
  head.writeUInt32LE(bytes.length, 5);
  parts.push(head, Buffer.from(bytes));
}

const start = Buffer.alloc(8);
start.writeDoubleLE(Date.now());
entry(0, 0, start);

const serverEmit = net.Server.prototype.emit;
net.Server.prototype.emit = function (event, socket, ...rest) {
  const where = event === 'connection' ? this.address() : undefined;
  if (typeof where === 'string' && where.endsWith('ipc.sock')) {
    const conn = ++connections;
    entry(1, conn);
    let ended = false;
    const emit = socket.emit;
    socket.emit = function (ev, data, ...more) {
      if (ev === 'data') entry(2, conn, data);
      else if ((ev === 'end' || ev === 'close') && !ended) {
        ended = true;
        entry(3, conn);
      }
      return emit.call(this, ev, data, ...more);
    };
  }
  return serverEmit.call(this, event, socket, ...rest);
};

const spawn = childProcess.spawn;
childProcess.spawn = function (command, args, ...rest) {
  const child = spawn.call(this, command, args, ...rest);
  const helper = [command, ...(Array.isArray(args) ? args : [])].some((a) => /helper\.cjs|nettrace-helper/.test(String(a)));
  if (helper && child.stdout) {
    const emit = child.stdout.emit;
    child.stdout.emit = function (ev, data, ...more) {
      if (ev === 'data') entry(4, 0, Buffer.from(data));
      else if (ev === 'end') entry(5, 0);
      return emit.call(this, ev, data, ...more);
    };
  }
  return child;
};

process.on('exit', () => {
  if (process.env.BENCH_INPUT_OUT) writeFileSync(process.env.BENCH_INPUT_OUT, Buffer.concat(parts));
});
