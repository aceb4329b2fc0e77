// sparseZeroing (src/engines/v86/sparse-zero.ts) against a FAKE v86: a real WebAssembly.Memory with
// JS stand-ins for v86's allocate_memory and zero_memory, which record what they are asked to do.
// The real thing (v86 restoring its state in Chromium) is measured by the bench's memory row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sparseZeroing } from '../../dist/esm/engines/v86/sparse-zero.js';

const PAGE = 4096;

function fakeV86() {
  const memory = new WebAssembly.Memory({ initial: 4 });
  const base = 8192;
  const zeroed = [];
  const exports = {
    memory,
    other: () => 42,
    allocate_memory: () => base,
    zero_memory: (addr, len) => {
      zeroed.push([addr, len]);
      new Uint8Array(memory.buffer, base + addr, len).fill(0);
    },
  };
  return { exports, memory, base, zeroed };
}

test('only the pages that are not zero are zeroed, and the memory ends all zero', () => {
  const v86 = fakeV86();
  const e = sparseZeroing(v86.exports);
  assert.equal(e.other(), 42, 'the other exports are kept');
  assert.equal(e.allocate_memory(16 * PAGE), v86.base);
  const guest = new Uint8Array(v86.memory.buffer, v86.base, 16 * PAGE);
  guest[3 * PAGE + 100] = 1;
  guest[9 * PAGE + PAGE - 1] = 7;
  e.zero_memory(0, 16 * PAGE);
  assert.deepEqual(v86.zeroed, [[3 * PAGE, PAGE], [9 * PAGE, PAGE]]);
  assert.ok(guest.every((b) => b === 0));
});

test('a range that ends inside a page zeroes that part as asked', () => {
  const v86 = fakeV86();
  const e = sparseZeroing(v86.exports);
  e.allocate_memory(16 * PAGE);
  e.zero_memory(PAGE, PAGE + 100);
  assert.deepEqual(v86.zeroed, [[2 * PAGE, 100]]);
});

test('exports that are not as expected are left as they are', () => {
  const exports = { zero_memory: () => undefined };
  assert.equal(sparseZeroing(exports), exports);
});
