// longerSlices against a small fake of v86's main-loop object and a fake clock: each main_loop()
// advances the clock by 1 ms and returns what v86's does (0 after a busy slice, else ms to the next
// timer of a halted guest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longerSlices, SLICE_MS } from '../../dist/esm/engines/v86/slices.js';

let clock = 0;
Object.defineProperty(globalThis, 'performance', { value: { now: () => clock }, configurable: true });

function fakeLoop(results) {
  const calls = { main: 0, next: [], original: 0 };
  const v = {
    running: true, stopping: false, idle: true, calls,
    cpu: { main_loop: () => { calls.main++; clock += 1; return results.length ? results.shift() : 0; } },
    do_tick() { calls.original++; },
    next_tick(t) { calls.next.push(t); },
  };
  return v;
}

test('joins busy 1 ms slices for SLICE_MS before yielding once', () => {
  const v = fakeLoop([]);
  assert.equal(longerSlices(v), true);
  v.do_tick();
  assert.equal(v.calls.main, SLICE_MS);
  assert.deepEqual(v.calls.next, [0]);
  assert.equal(v.idle, false);
});

test('a halted guest (main_loop > 0) yields at once with its timer', () => {
  const v = fakeLoop([0, 0, 2.5]);
  longerSlices(v);
  v.do_tick();
  assert.equal(v.calls.main, 3);
  assert.deepEqual(v.calls.next, [2.5]);
});

test('a stopping emulator goes through v86\'s own do_tick', () => {
  const v = fakeLoop([]);
  longerSlices(v);
  v.stopping = true;
  v.do_tick();
  assert.equal(v.calls.original, 1);
  assert.equal(v.calls.main, 0);
});

test('refuses an object that is not v86\'s loop', () => {
  assert.equal(longerSlices(undefined), false);
  assert.equal(longerSlices({ do_tick() {} }), false);
});
