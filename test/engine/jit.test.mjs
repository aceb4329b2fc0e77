// tuneJit on a real v86 (the npm package's wasm, booting only the bundle's BIOS), raiseJitThreshold
// on the package's wasm, and both on small fakes for what they must refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createRequire } from 'node:module';
import { V86 } from 'v86';
import { tuneJit, findFreeList, raiseJitThreshold, JIT_SLOTS, JIT_THRESHOLD } from '../../dist/esm/engines/v86/jit.js';
import { bundleDir, readArrayBuffer, readManifest } from '../guest/bundle.mjs';

const wasmPath = path.join(path.dirname(createRequire(import.meta.url).resolve('v86')), 'v86.wasm');

function loadedV86() {
  const manifest = readManifest();
  const file = (name) => readArrayBuffer(path.join(bundleDir, manifest.files[name].path));
  const emulator = new V86({
    wasm_path: wasmPath, memory_size: 32 << 20, vga_memory_size: 2 << 20,
    bios: { buffer: file('bios') }, vga_bios: { buffer: file('vgaBios') },
    autostart: false, disable_keyboard: true, disable_mouse: true, disable_speaker: true,
  });
  return new Promise((resolve) => emulator.add_listener('emulator-loaded', () => resolve(emulator)));
}

test('on a real v86: one page per module, JIT_SLOTS slots, once; the machine still runs', async () => {
  const emulator = await loadedV86();
  try {
    const cpu = emulator.v86.cpu;
    assert.equal(cpu.wm.exports.get_jit_config(1), 3, 'v86 default: up to 3 pages per module');
    const found = findFreeList(cpu.wasm_memory.buffer, cpu.mem8.byteOffset);
    assert.ok(found?.headers.length >= 1, 'v86 free-slot list found');
    assert.equal(tuneJit(cpu), true);
    assert.equal(cpu.wm.exports.get_jit_config(1), 1);
    assert.equal(cpu.wm.wasm_table.length, 1024 + JIT_SLOTS);
    const [cap, at, len] = new Uint32Array(cpu.wasm_memory.buffer, found.headers[0], 3);
    assert.deepEqual([cap, len], [JIT_SLOTS - 1, JIT_SLOTS - 1]);
    assert.notEqual(at, found.list);
    const list = new Uint16Array(cpu.wasm_memory.buffer, at, JIT_SLOTS - 1);
    assert.equal(list[0], 1);
    assert.equal(list[JIT_SLOTS - 2], JIT_SLOTS - 1);
    // A second call finds v86 changed and leaves it alone.
    assert.equal(tuneJit(cpu), false);
    assert.equal(cpu.wm.wasm_table.length, 1024 + JIT_SLOTS);
    // v86's clear-all (when its slots run out) now empties the new slots too.
    cpu.wm.wasm_table.set(1024 + JIT_SLOTS - 1, cpu.wm.exports.get_jit_config);
    cpu.jit_clear_all_funcs();
    assert.equal(cpu.wm.wasm_table.get(1024 + JIT_SLOTS - 1), null);
    // The BIOS runs, and the CPU gets past its first instructions.
    const before = emulator.v86.cpu.instruction_pointer[0];
    emulator.run();
    await new Promise((r) => setTimeout(r, 1500));
    emulator.stop();
    assert.notEqual(emulator.v86.cpu.instruction_pointer[0], before);
  } finally {
    await emulator.destroy();
  }
});

test('findFreeList: 899, pointer, 899 headers over one list of 1…899, else nothing', () => {
  const buffer = new ArrayBuffer(64 * 1024);
  const words = new Uint32Array(buffer);
  const list = 8192;
  new Uint16Array(buffer, list, 899).forEach((_, k, a) => { a[k] = k + 1; });
  words.set([899, list, 899], 100);
  assert.deepEqual(findFreeList(buffer, 4096), { list, headers: [400] });
  // Past `end` (guest memory) nothing is looked at.
  assert.equal(findFreeList(buffer, 400), undefined);
  // A second header (a stale copy) for the same list: both.
  words.set([899, list, 899], 200);
  assert.deepEqual(findFreeList(buffer, 4096), { list, headers: [400, 800] });
  // Headers for two different lists: ambiguous.
  const other = 16384;
  new Uint16Array(buffer, other, 899).forEach((_, k, a) => { a[k] = k + 1; });
  words.set([899, other, 899], 200);
  assert.equal(findFreeList(buffer, 4096), undefined);
  words.fill(0, 200, 203);
  // A list that has been used (v86 has compiled) is not v86's initial one.
  new Uint16Array(buffer, list, 899)[898] = 0;
  assert.equal(findFreeList(buffer, 4096), undefined);
});

test('tuneJit refuses what is not the v86 it knows', () => {
  assert.equal(tuneJit(undefined), false);
  const table = new WebAssembly.Table({ element: 'anyfunc', initial: 1024 });
  const memory = new WebAssembly.Memory({ initial: 1 });
  assert.equal(tuneJit({ wasm_memory: memory, mem8: { byteOffset: 4096 }, wm: { exports: {}, wasm_table: table }, jit_clear_all_funcs() {} }), false);
  assert.equal(table.length, 1024);
  const full = new WebAssembly.Table({ element: 'anyfunc', initial: 1924 });
  assert.equal(tuneJit({ wasm_memory: memory, mem8: { byteOffset: 4096 }, wm: { exports: {}, wasm_table: full }, jit_clear_all_funcs() {} }), false);
  assert.equal(full.length, 1924);
});

test('raiseJitThreshold rewrites the one threshold check of the real v86.wasm, and nothing else', async () => {
  const wasm = readArrayBuffer(wasmPath);
  const raised = raiseJitThreshold(wasm);
  assert.notEqual(raised, wasm);
  const before = new Uint8Array(wasm);
  const after = new Uint8Array(raised);
  assert.equal(after.length, before.length);
  const changed = [];
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) changed.push(i);
  // i32.const JIT_THRESHOLD (signed LEB128, three bytes), then i32.lt_u; in place of 200000's.
  const leb = [JIT_THRESHOLD & 0x7f | 0x80, JIT_THRESHOLD >> 7 & 0x7f | 0x80, JIT_THRESHOLD >> 14 & 0x7f];
  const at = Buffer.from(after).indexOf(Buffer.from([0x41, ...leb, 0x49]));
  assert.ok(at > 0);
  assert.deepEqual([...before.subarray(at, at + 5)], [0x41, 0xc0, 0x9a, 0x0c, 0x49]);
  assert.ok(changed.length > 0 && changed.every((i) => i > at && i < at + 4), `changed at ${changed}`);
  assert.ok(await WebAssembly.compile(raised));
  // Once raised, there is nothing left to rewrite.
  assert.equal(raiseJitThreshold(raised), raised);
});

test('raiseJitThreshold leaves bytes alone without exactly one threshold check', () => {
  const check = [0x41, 0xc0, 0x9a, 0x0c, 0x49];
  const none = new Uint8Array([0, 0x41, 0xc0, 0x9a, 0x0c, 0x48, 0]).buffer;
  assert.equal(raiseJitThreshold(none), none);
  const twice = new Uint8Array([...check, 1, ...check]).buffer;
  assert.equal(raiseJitThreshold(twice), twice);
  const once = new Uint8Array([7, ...check, 7]).buffer;
  assert.notEqual(raiseJitThreshold(once), once);
  assert.equal(new Uint8Array(once)[2], 0xc0, 'the input itself is not changed');
});
