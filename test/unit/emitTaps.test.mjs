// covers: src/preload/emitTaps.ts
// The observing `emit` (src/preload/emitTaps.ts): an observer sees the events it was added for,
// before the listeners, and no other; the listeners get every event with its arguments as given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs(["export { tapEmit, observeEvents, observeOnce, CLOSE } from './src/preload/emitTaps';"]);

/** A class of its own per test: a tapped prototype keeps its emit. */
function tappedClass(every, everyEvents) {
  class Thing extends EventEmitter {}
  m.tapEmit(Thing.prototype, every, everyEvents);
  return Thing;
}

test('an observer sees only the events it was added for, before the listeners', () => {
  const Thing = tappedClass();
  const x = new Thing();
  const seen = [];
  m.observeEvents(x, ['connect', 'close'], (event, a) => seen.push(`tap ${String(event)} ${a}`));
  x.on('data', (a) => seen.push(`listener data ${a}`));
  x.on('close', (a) => seen.push(`listener close ${a}`));
  x.emit('data', 1);
  x.emit('connect', 2);
  x.emit('close', 3);
  assert.deepEqual(seen, ['listener data 1', 'tap connect 2', 'tap close 3', 'listener close 3']);
  // No listener of ours, no own property but the prototype's emit.
  assert.equal(x.listenerCount('close'), 1);
  assert.deepEqual(x.eventNames(), ['data', 'close']);
});

test('the listeners get the arguments as given, their number too', () => {
  const Thing = tappedClass();
  const x = new Thing();
  m.observeEvents(x, ['e'], () => {});
  const counts = [];
  x.on('e', (...args) => counts.push(args.length));
  x.on('f', (...args) => counts.push(args.length));
  x.emit('e');
  x.emit('e', 1, 2, 3, 4, 5, 6);
  x.emit('f', undefined);
  assert.deepEqual(counts, [0, 6, 1]);
  assert.equal(x.emit('g'), false);
  assert.equal(x.emit('e'), true);
});

test('the every-object observer sees only its events, for objects observed or not', () => {
  const seen = [];
  const Thing = tappedClass((obj, event, a) => seen.push(`${obj.name} ${String(event)} ${a}`), ['information']);
  const x = Object.assign(new Thing(), { name: 'x' });
  x.emit('response', 1);
  x.emit('information', 2);
  assert.deepEqual(seen, ['x information 2']);
});

test('observeOnce sees the first of its event only; an observer that throws does not reach the program', () => {
  const Thing = tappedClass();
  const x = new Thing();
  const seen = [];
  m.observeOnce(x, 'close', (a) => seen.push(a));
  m.observeEvents(x, m.CLOSE, () => {
    throw new Error('an observer bug');
  });
  x.emit('close', 1);
  x.emit('close', 2);
  assert.deepEqual(seen, [1]);
});
