// covers: src/trace/contract/types.ts
// The project owns its documentation: docs/trace-format.md must describe every field of the trace
// model (src/trace/contract/types.ts, parsed with the TypeScript compiler API), and no tracked file may point
// at documents outside the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** contract/types.ts and the contract files whose types it re-exports: one model. */
const modelSource = () =>
  ['types.ts', 'incoming.ts', 'ruleTypes.ts', 'webSocket.ts', 'dnsMessages.ts', 'recording.ts']
    .map((f) => readFileSync(join(root, 'src', 'trace', 'contract', f), 'utf8'))
    .join('\n');
const docPath = join(root, 'docs', 'trace-format.md');

/**
 * The trace model as documented: every exported interface reachable from `Trace` (through its
 * fields, arrays, unions and exported type aliases), each with its field names (nested object
 * types as dotted paths), plus the string literal values those fields may take.
 */
export function traceModel(source) {
  const sf = ts.createSourceFile('types.ts', source, ts.ScriptTarget.Latest, true);
  const exported = (n) => n.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) === true;
  const interfaces = new Map();
  const declared = new Map(); // every interface, exported or not: the bases an `extends` names
  const aliases = new Map();
  let formatVersion;
  for (const s of sf.statements) {
    if (ts.isInterfaceDeclaration(s)) declared.set(s.name.text, s);
    if (ts.isInterfaceDeclaration(s) && exported(s)) interfaces.set(s.name.text, s);
    if (ts.isTypeAliasDeclaration(s) && exported(s)) aliases.set(s.name.text, s);
    if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) {
        if (d.name.getText(sf) === 'FORMAT_VERSION' && d.initializer && ts.isNumericLiteral(d.initializer))
          formatVersion = Number(d.initializer.text);
      }
    }
  }
  const reached = new Map(); // interface name -> field paths
  const literals = new Set();
  const seenAliases = new Set();
  const queue = ['Trace'];

  /** Walks a type node: records literals, queues referenced interfaces, returns nested type literals. */
  function walkType(node, nested) {
    if (!node) return;
    if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) literals.add(node.literal.text);
    else if (ts.isTypeLiteralNode(node)) nested.push(node);
    else if (ts.isArrayTypeNode(node)) walkType(node.elementType, nested);
    else if (ts.isUnionTypeNode(node) || ts.isIntersectionTypeNode(node)) for (const t of node.types) walkType(t, nested);
    else if (ts.isParenthesizedTypeNode(node)) walkType(node.type, nested);
    else if (ts.isTupleTypeNode(node)) for (const t of node.elements) walkType(t, nested);
    else if (ts.isTypeReferenceNode(node)) {
      const name = node.typeName.getText(sf);
      if (interfaces.has(name)) queue.push(name);
      else if (aliases.has(name) && !seenAliases.has(name)) {
        seenAliases.add(name);
        walkType(aliases.get(name).type, nested);
      }
      for (const arg of node.typeArguments ?? []) walkType(arg, nested);
    }
  }

  function collect(members, prefix, out) {
    for (const m of members) {
      if (!ts.isPropertySignature(m) || !m.name) continue;
      const name = m.name.getText(sf).replace(/^['"]|['"]$/g, '');
      out.push(prefix + name);
      const nested = [];
      walkType(m.type, nested);
      for (const lit of nested) collect(lit.members, `${prefix}${name}.`, out);
    }
  }

  /** An interface's members with those it inherits (`extends`), so inherited fields are checked too. */
  function membersOf(decl) {
    const out = [...decl.members];
    for (const clause of decl.heritageClauses ?? []) {
      for (const t of clause.types) {
        const base = declared.get(t.expression.getText(sf));
        if (base) out.push(...membersOf(base));
      }
    }
    return out;
  }

  while (queue.length > 0) {
    const name = queue.shift();
    if (reached.has(name)) continue;
    const fields = [];
    reached.set(name, fields);
    collect(membersOf(interfaces.get(name)), '', fields);
  }
  return { interfaces: reached, literals, formatVersion };
}

/** The identifiers inside `code spans` of a piece of Markdown. */
function codeWords(markdown) {
  const words = new Set();
  for (const m of markdown.matchAll(/`([^`\n]+)`/g)) for (const w of m[1].match(/[A-Za-z_$][\w$]*/g) ?? []) words.add(w);
  return words;
}

/** The code spans of a piece of Markdown, without surrounding quotes. */
function codeSpans(markdown) {
  return new Set([...markdown.matchAll(/`([^`\n]+)`/g)].map((m) => m[1].replace(/^"(.*)"$/, '$1')));
}

/**
 * The section of the document that documents `typeName`: from the heading that names it as
 * `TypeName` (in backticks) to the next heading of the same or a higher level.
 */
function sectionOf(doc, typeName) {
  const lines = doc.split('\n');
  let inFence = false;
  const headings = [];
  lines.forEach((line, i) => {
    if (line.startsWith('```')) inFence = !inFence;
    const h = !inFence && /^(#{1,6})\s/.exec(line);
    if (h) headings.push({ i, level: h[1].length, text: line });
  });
  const at = headings.findIndex((h) => h.text.includes('`' + typeName + '`'));
  if (at < 0) return undefined;
  const end = headings.slice(at + 1).find((h) => h.level <= headings[at].level);
  return lines.slice(headings[at].i, end ? end.i : lines.length).join('\n');
}

/** Problems of a document against a model; empty when the document covers it. */
export function docProblems(doc, model) {
  const problems = [];
  for (const [name, fields] of model.interfaces) {
    const section = sectionOf(doc, name);
    if (section === undefined) {
      problems.push(`no heading names \`${name}\``);
      continue;
    }
    const words = codeWords(section);
    for (const path of fields) {
      const last = path.split('.').pop();
      if (!words.has(last)) problems.push(`${name}.${path} is not in the \`${name}\` section`);
    }
  }
  const spans = codeSpans(doc);
  const text = [...spans].join('\n');
  for (const lit of model.literals) {
    if (!spans.has(lit) && !text.includes(`"${lit}"`)) problems.push(`the value "${lit}" is not in the document`);
  }
  if (model.formatVersion === undefined) problems.push('FORMAT_VERSION not found in types.ts');
  else if (!new RegExp(`"formatVersion":\\s*${model.formatVersion}\\b`).test(doc) || !doc.includes(`(version ${model.formatVersion})`)) {
    problems.push(`the document does not describe format version ${model.formatVersion}`);
  }
  return problems;
}

test('docs/trace-format.md documents every field and value of the trace model', () => {
  const model = traceModel(modelSource());
  // The walk must have found the model, or the check below would pass on nothing.
  for (const kind of ['Trace', 'HttpRequest', 'Dial', 'TcpConn', 'UdpConn', 'DnsQuery', 'TlsTunnel', 'TraceStats']) {
    assert.ok(model.interfaces.has(kind), `${kind} reached from Trace`);
  }
  assert.ok(model.interfaces.get('HttpRequest').includes('proxy.tunnel'), 'nested object fields are collected');
  assert.ok(model.literals.has('fetch') && model.literals.has('trace stopped'), 'string literal values are collected');
  assert.deepEqual(docProblems(readFileSync(docPath, 'utf8'), model), []);
});

test('the document check fails on a field, a type or a value the document lacks', () => {
  const doc = readFileSync(docPath, 'utf8');
  const source = modelSource();
  const withField = source.replace('export interface Dial {', 'export interface Dial {\n  undocumentedField?: number;');
  assert.deepEqual(docProblems(doc, traceModel(withField)), ['Dial.undocumentedField is not in the `Dial` section']);
  const withType = source
    .replace('export interface Dial {', 'export interface Dial {\n  extra?: Extra;')
    .concat('\nexport interface Extra { a: number }\n');
  assert.deepEqual(docProblems(doc, traceModel(withType)), ['Dial.extra is not in the `Dial` section', 'no heading names `Extra`']);
  const withValue = source.replace("'http' | 'https'", "'http' | 'https' | 'undocumented-client'");
  assert.deepEqual(docProblems(doc, traceModel(withValue)), ['the value "undocumented-client" is not in the document']);
  // A field documented only in another type's section does not count for this one.
  const moved = source.replace('export interface Dial {', 'export interface Dial {\n  handshakeErrCode?: string;');
  assert.deepEqual(docProblems(doc, traceModel(moved)), ['Dial.handshakeErrCode is not in the `Dial` section']);
});

test('no tracked file points at documents outside the repository', (t) => {
  let files;
  try {
    files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\0')
      .filter(Boolean);
  } catch {
    t.skip('not a git checkout');
    return;
  }
  // Spelled in pieces so this file does not match itself.
  const outside = ['..' + '/shared', 'shared' + '/docs'];
  const hits = [];
  for (const file of files) {
    let text;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      continue; // listed but absent (deleted in the work tree), or not a file
    }
    if (text.includes('\0')) continue; // binary
    text.split('\n').forEach((line, i) => {
      if (outside.some((p) => line.includes(p))) hits.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
    });
  }
  assert.ok(files.length > 50, 'git listed the repository');
  assert.deepEqual(hits, []);
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown document (duplicates numbered as GitHub does). */
function anchors(markdown) {
  const out = new Set();
  const counts = new Map();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const h = !inFence && /^#{1,6}\s+(.*)$/.exec(line);
    if (!h) continue;
    const base = slug(h[1]);
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

test('relative links of the README and docs/ lead to files (and headings) inside the repository', () => {
  const pages = [
    'README.md',
    'native/README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  assert.ok(pages.includes('docs/trace-format.md') && pages.includes('docs/architecture.md') && pages.includes('docs/security.md'));
  const broken = [];
  let checked = 0;
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      checked++;
      const [path, anchor] = target.split('#');
      const file = path === '' ? join(root, page) : resolve(dirname(join(root, page)), decodeURIComponent(path));
      const rel = relative(root, file);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        broken.push(`${page}: ${target} points outside the repository`);
        continue;
      }
      if (!existsSync(file)) {
        broken.push(`${page}: ${target} does not exist`);
        continue;
      }
      if (anchor && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor))
        broken.push(`${page}: ${target} has no such heading`);
    }
  }
  assert.ok(checked > 20, `links found (${checked})`);
  assert.deepEqual(broken, []);
});
