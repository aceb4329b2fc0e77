// The guest restored in real v86 under Node with the element's JIT settings (src/engines/v86/jit.ts): Docker keeps
// working while v86 compiles more modules than its own 900 slots, and it never drops them all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMachine } from '../../guest/tools/machine.mjs';
import { JIT_SLOTS } from '../../dist/esm/engines/v86/jit.js';
import { nodeMachineDir, stateBuffer } from './bundle.mjs';

const { dir, manifest } = nodeMachineDir();

test('docker run, again and again, past 900 compiled modules without v86 dropping them', { timeout: 900_000 }, async () => {
  // At v86's own compile threshold: with the element's (five times higher) v86 compiles too few
  // modules under Node to fill 900 slots in a test's time.
  const m = startMachine(dir, { memoryMB: manifest.memory, state: stateBuffer(manifest), tunedJit: true, jitThreshold: false });
  const seen = { compiled: 0, dropped: 0, slots: new Set() };
  m.emulator.add_listener('emulator-loaded', () => {
    const cpu = m.emulator.v86.cpu;
    const finalize = cpu.codegen_finalize;
    cpu.codegen_finalize = function (index, ...rest) {
      seen.compiled++;
      seen.slots.add(index);
      return finalize.call(this, index, ...rest);
    };
    const clearAll = cpu.jit_clear_all_funcs;
    cpu.jit_clear_all_funcs = function () {
      seen.dropped++;
      return clearAll.call(this);
    };
  });
  try {
    await m.prompt(60);
    assert.equal(m.jitTuned, true);
    assert.equal(m.emulator.v86.cpu.wm.exports.get_jit_config(1), 1);
    const times = [];
    for (let i = 0; i < 12 && seen.compiled <= 1000; i++) {
      const t0 = Date.now();
      const r = await m.run(`docker run --rm busybox echo run${i}`, 600);
      times.push((Date.now() - t0) / 1000);
      assert.equal(r.exitCode, 0, r.output);
      assert.match(r.output, new RegExp(`^run${i}\\r?$`, 'm'));
    }
    assert.ok(seen.compiled > 1000, `compiled only ${seen.compiled} modules in ${times.length} runs`);
    assert.ok([...seen.slots].some((s) => s >= 900) && Math.max(...seen.slots) < JIT_SLOTS, 'slots past v86\'s 900 were used');
    assert.equal(seen.dropped, 0, 'v86 dropped every module');
    const r = await m.run('docker ps -aq | wc -l');
    assert.match(r.output, /^0\r?$/m);
  } finally {
    await m.destroy();
  }
});
