// covers: src/protocol/options.ts, src/protocol/optionTable.ts, src/protocol/optionBase.ts,
//   scripts/sync-options.mjs
// needs: the build (dist/core.cjs, dist/cli.cjs)
// The one definition of the tracing options (src/protocol/options.ts) and the surfaces derived
// from it: package.json's launch attributes and settings, the README tables, `nettrace run`'s
// flags and --help, the preload's NETTRACE_CONFIG; and the one validation and normalization.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { firstDifference, loadOptions, root, syncPackage, syncReadme } from '../../scripts/sync-options.mjs';

const o = loadOptions();
const cli = join(root, 'dist', 'cli.cjs');

test('package.json contributes (launch attributes, nettrace.* settings) match the definition', () => {
  const text = readFileSync(join(root, 'package.json'), 'utf8');
  const expected = JSON.stringify(syncPackage(JSON.parse(text), o), null, 2) + '\n';
  const diff = firstDifference(text, expected);
  assert.equal(diff, undefined, `package.json differs from src/protocol/options.ts at ${diff}\nrun: node scripts/sync-options.mjs`);
  // Every launch option and setting is there, with its default.
  const pkg = JSON.parse(text);
  const launch = pkg.contributes.debuggers[0].configurationAttributes.launch.properties;
  const settings = pkg.contributes.configuration.properties;
  for (const def of o.OPTIONS) {
    if (def.launch) assert.ok(launch[def.name], `launch attribute ${def.name}`);
    const name = o.settingName(def);
    if (name) assert.deepEqual(settings[name].default, def.default, name);
  }
  assert.equal(Object.keys(settings).length, o.OPTIONS.filter((d) => d.setting).length, 'no setting outside the definition');
});

test('README options tables match the definition', () => {
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  const diff = firstDifference(text, syncReadme(text, o));
  assert.equal(diff, undefined, `README.md differs from src/protocol/options.ts at ${diff}\nrun: node scripts/sync-options.mjs`);
});

test('nettrace run --help lists every flag of the definition', { skip: !existsSync(cli) && 'dist/cli.cjs not built' }, () => {
  const r = spawnSync(process.execPath, [cli, 'run', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const def of o.OPTIONS.filter((d) => d.cli)) {
    assert.ok(r.stdout.includes(`      ${o.flagUsage(def.cli)} `) || r.stdout.includes(`      ${o.flagUsage(def.cli)}\n`), def.cli.flag);
  }
  // An invalid value is rejected with the flag and its valid values.
  const bad = spawnSync(process.execPath, [cli, 'run', '--initiator', 'x', '--', 'node'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'nettrace: --initiator must be sampled, all or off, not "x"\n');
});

test('parseOption: one rule per kind, messages name the option and the valid values', () => {
  const p = (name, raw, opts) => o.parseOption(o.optionDef(name), raw, opts);
  const err = (name, raw, opts) => {
    try {
      p(name, raw, opts);
    } catch (e) {
      assert.ok(e instanceof o.OptionError);
      return e.message;
    }
    assert.fail(`${name}: ${JSON.stringify(raw)} was accepted`);
  };
  assert.equal(p('headers', 'names'), 'names');
  assert.equal(err('headers', 'all'), 'headers must be none, names or values, not "all"');
  assert.equal(err('headers', 'all', { label: 'nettrace.headers' }), 'nettrace.headers must be none, names or values, not "all"');
  // The CLI's --helper takes `required` too; a launch configuration does not.
  assert.equal(p('helper', 'required', { cli: true }), 'required');
  assert.equal(err('helper', 'required'), 'helper must be auto or off, not "required"');
  assert.deepEqual(p('sockTrace', true), { enabled: true });
  assert.deepEqual(p('sockTrace', 0), { enabled: true, limit: 0 });
  assert.deepEqual(p('sockTrace', '25', { cli: true }), { enabled: true, limit: 25 });
  assert.equal(err('sockTrace', '25'), 'sockTrace must be true, false or a whole number ≥ 0, not "25"');
  assert.equal(err('sockTrace', 'x', { cli: true, label: '--sock-trace' }), '--sock-trace takes a whole number, not "x"');
  assert.deepEqual(p('redact', [' X-Key ', 'x-key', '', 7, 'b']), ['X-Key', 'b']);
  assert.deepEqual(p('redact', 'a, b,,A', { cli: true }), ['a', 'b']);
  assert.equal(err('redact', 'a'), 'redact must be a list of names, not "a"');
  assert.equal(p('slowThresholdMs', '250', { cli: true }), 250);
  assert.equal(err('slowThresholdMs', 0), 'slowThresholdMs must be a number greater than 0, not 0');
  assert.equal(p('pcapBufferMiB', '1024', { cli: true }), 1024);
  assert.equal(err('pcapBufferMiB', '1025', { cli: true }), 'pcapBufferMiB must be a whole number from 1 to 1024, not "1025"');
  assert.equal(err('pcapMaxBytes', 100), 'pcapMaxBytes must be a whole number of at least 1024, not 100');
  assert.equal(err('dnsTrace', 'yes'), 'dnsTrace must be true or false, not "yes"');
  // Trace rules: the shape here; src/rules validates each rule where a session is made.
  assert.deepEqual(p('rules', [{ id: 'a', condition: 'true', action: 'skip' }]), [{ id: 'a', condition: 'true', action: 'skip' }]);
  assert.equal(err('rules', 'skip true'), 'rules must be a list of rules ({ "id", "condition", "action", ... }), not "skip true"');
  assert.equal(
    err('rules', [{ id: 'a' }, 7], { label: 'nettrace.rules' }),
    'nettrace.rules[1] must be a rule object ({ "id", "condition", "action", ... }), not 7',
  );
  assert.equal(p('defaultAction', 'skip'), 'skip');
  assert.equal(err('defaultAction', 'none'), 'defaultAction must be trace or skip, not "none"');
});

test("resolveTracingOptions: the launch configuration's rules first, then the setting's new ids; the first defaultAction wins", () => {
  const r = o.resolveTracingOptions([
    { values: { rules: [{ id: 'a', condition: 'host == "x"', action: 'skip' }], defaultAction: 'skip' }, label: (d) => d.name },
    {
      values: {
        rules: [
          { id: 'a', condition: 'true', action: 'trace' },
          { id: 'b', condition: 'true', action: 'mark' },
        ],
        defaultAction: 'trace',
      },
      label: (d) => `nettrace.${d.name}`,
    },
  ]);
  assert.deepEqual(
    r.rules.map((x) => [x.id, x.action]),
    [
      ['a', 'skip'],
      ['b', 'mark'],
    ],
  );
  assert.equal(r.defaultAction, 'skip');
  // No rules travel through toPreloadConfig: the session sends them validated (RulesController.preloadConfig).
  assert.deepEqual(o.toPreloadConfig(r, '/s'), { ipcPath: '/s', headers: 'values' });
});

test('resolveTracingOptions: first valid layer wins, lists add up, defaults once', () => {
  const layer = (values, label = (d) => d.name) => ({ values, label });
  const none = o.resolveTracingOptions([]);
  assert.deepEqual(none, {
    headers: o.DEFAULTS.headers,
    redact: [],
    redactQuery: [],
    slowThresholdMs: o.DEFAULTS.slowThresholdMs,
    initiator: o.DEFAULTS.initiator,
    bodies: { enabled: false, maxBytes: o.DEFAULTS.bodyMaxBytes },
    sockTrace: { enabled: false, maxOps: o.DEFAULTS.sockTraceMaxOps },
    dns: { enabled: false, servers: [] },
    helper: o.DEFAULTS.helper,
    pcap: false,
    rules: [],
    defaultAction: 'trace',
    otlp: '',
    addTraceparent: false,
    record: { enabled: false, maxBodyBytes: o.DEFAULTS.recordMaxBodyBytes, maxRunBytes: o.DEFAULTS.recordMaxRunBytes },
  });
  assert.equal(o.resolveTracingOptions([layer({ addTraceparent: true }), layer({ addTraceparent: false })]).addTraceparent, true);
  assert.equal(
    o.resolveTracingOptions([layer({ otlp: ' http://collector:4318 ' }), layer({ otlp: 'http://other' })]).otlp,
    'http://collector:4318',
  );
  const errors = [];
  const r = o.resolveTracingOptions(
    [
      layer({ headers: 'bogus', redact: ['a'], sockTrace: 5, dnsServers: ['10.0.0.1'], program: 'ignored.js' }),
      layer({ headers: 'names', redact: ['b', 'A'], sockTrace: false, dnsTrace: false, bodies: true }, (d) => `nettrace.${d.name}`),
    ],
    (e) => errors.push(e.message),
  );
  assert.equal(r.headers, 'names');
  assert.deepEqual(r.redact, ['b', 'A'], 'the settings first, then the configuration; one spelling per name');
  assert.deepEqual(r.sockTrace, { enabled: true, maxOps: 5 });
  assert.deepEqual(r.bodies, { enabled: true, maxBytes: 65536 });
  assert.deepEqual(r.dns, { enabled: true, servers: ['10.0.0.1'] }, 'dnsServers turns the DNS trace on in its layer');
  assert.deepEqual(errors, ['headers must be none, names or values, not "bogus"']);
});

test(
  'defaults kept elsewhere agree with the definition',
  { skip: !existsSync(join(root, 'dist', 'core.cjs')) && 'dist/core.cjs not built' },
  () => {
    const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
    assert.equal(core.DEFAULT_SLOW_THRESHOLD_MS, o.DEFAULTS.slowThresholdMs, 'src/trace/diagnosis/diagnosis.ts DEFAULT_SLOW_THRESHOLD_MS');
    assert.deepEqual(core.INITIATOR_MODES, o.INITIATOR_MODES);
  },
);

test('the preload configuration: only what differs from the preload defaults travels; the preload fills them in once', () => {
  const plain = o.toPreloadConfig(o.resolveTracingOptions([]), '/s');
  assert.deepEqual(plain, { ipcPath: '/s', headers: 'values' });
  const on = o.toPreloadConfig(
    o.resolveTracingOptions([
      { values: { sockTrace: true, bodies: 10, initiator: 'all', dnsTrace: true, addTraceparent: true }, label: (d) => d.name },
    ]),
    '/s',
  );
  assert.deepEqual(on, {
    ipcPath: '/s',
    headers: 'values',
    sockTrace: true,
    bodies: true,
    bodyMaxBytes: 10,
    initiator: 'all',
    dnsTrace: true,
    addTraceparent: true,
  });
  assert.deepEqual(o.withPreloadDefaults(on), {
    ...on,
    maxQueuedEvents: o.DEFAULTS.maxQueuedEvents,
    stackDepth: o.DEFAULTS.stackDepth,
    sockTraceMaxOps: o.DEFAULTS.sockTraceMaxOps,
    recordMaxBodyBytes: o.DEFAULTS.recordMaxBodyBytes,
    recordMaxRunBytes: o.DEFAULTS.recordMaxRunBytes,
  });
  // Never throws on a hand-written configuration: wrong types get the defaults.
  const odd = o.withPreloadDefaults({
    ipcPath: '/s',
    headers: 'all',
    initiator: 3,
    maxQueuedEvents: 5,
    sockTraceMaxOps: -1,
    bodyMaxBytes: '9',
  });
  assert.equal(odd.headers, 'values');
  assert.equal(odd.initiator, 'sampled');
  assert.equal(odd.maxQueuedEvents, 100, 'at least 100');
  assert.equal(odd.sockTraceMaxOps, 1000);
  assert.equal(odd.bodyMaxBytes, 65536);
});
