// Drives the guest in v86 under Node: used by the builder (provisioning, saved state) and by the
// node:test suite. Speaks the same console protocol as the element (compiled from src/ to dist/esm/).
import { V86 } from 'v86';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { controlBytes, CONTROL_PORT } from '../../dist/esm/protocol/control.js';
import { PromptTracker } from '../../dist/esm/protocol/prompt.js';
import { MarkerParser } from '../../dist/esm/protocol/stages.js';
import { v86Config } from '../../dist/esm/engines/v86/config.js';
import { raiseJitThreshold, tuneJit } from '../../dist/esm/engines/v86/jit.js';
import { trim } from '../../dist/esm/engines/v86/ide-trim.js';

const require = createRequire(import.meta.url);
const V86_WASM = path.join(path.dirname(require.resolve('v86')), 'v86.wasm');

/**
 * Starts a machine. `dir` is a folder laid out like the bundle (seabios.bin, vgabios.bin, vmlinuz unpacked,
 * initrd.img) plus `disk.img`. Options: memoryMB, cmdline (cold boot), state (ArrayBuffer: restore),
 * diskBuffer (ArrayBuffer: the whole disk in memory, written in place), hdb (ArrayBuffer: a second
 * disk), logFile, tunedJit (v86's JIT as the element sets it up; with jitThreshold: false, at v86's
 * own compile threshold). The machine itself is the element's (src/engines/v86/config.ts).
 */
export function startMachine(dir, opts = {}) {
  const file = (name) => ({ url: path.join(dir, name) });
  const wasm = opts.tunedJit && opts.jitThreshold !== false ? fs.readFileSync(V86_WASM) : undefined;
  const config = v86Config({
    memoryMB: opts.memoryMB ?? 512,
    wasmPath: V86_WASM,
    wasmFn: wasm && (async (env) => (await WebAssembly.instantiate(raiseJitThreshold(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.length)), env)).instance.exports),
    bios: file('seabios.bin'),
    vgaBios: file('vgabios.bin'),
    disk: opts.diskBuffer ? { buffer: opts.diskBuffer } : { url: path.join(dir, 'disk.img'), async: true, size: fs.statSync(path.join(dir, 'disk.img')).size },
    disk2: opts.hdb && { buffer: opts.hdb },
    ...(opts.state ? { state: { buffer: opts.state } } : { kernel: file('vmlinuz'), initrd: file('initrd.img'), cmdline: opts.cmdline }),
  });
  const emulator = new V86(config);
  let jitTuned = false;
  if (opts.tunedJit) emulator.add_listener('emulator-loaded', () => { jitTuned = tuneJit(emulator.v86.cpu); });
  // (as in the browser: the disk has TRIM, so the saved state's kernel knows it; a file image discards nothing)
  emulator.add_listener('emulator-loaded', () => trim(emulator.v86.cpu.devices.ide.primary.master));
  const markers = new MarkerParser();
  const prompts = new PromptTracker();
  const log = opts.logFile ? fs.createWriteStream(opts.logFile) : null;
  const t0 = performance.now();
  const seen = [];
  const watchers = new Set();
  let console_ = '';
  let control = '';
  const started = new Promise((resolve) => emulator.add_listener('emulator-started', resolve));

  const decoder = new TextDecoder();
  emulator.add_listener('serial0-output-byte', (byte) => {
    const text = decoder.decode(new Uint8Array([byte]), { stream: true });
    console_ += text;
    log?.write(text);
    prompts.feed(text);
    for (const m of markers.feed(text)) {
      const at = (performance.now() - t0) / 1000;
      seen.push({ ...m, at });
      if (opts.verbose) process.stderr.write(`[${at.toFixed(1)}s] ${JSON.stringify(m)}\n`);
      for (const w of watchers) w(m);
    }
  });
  emulator.add_listener('serial1-output-byte', (byte) => { control += String.fromCharCode(byte); });

  /** Resolves with the first marker for which `test` is true (also among those already seen). */
  function waitMarker(test, timeoutS) {
    const hit = seen.find(test);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { watchers.delete(w); reject(new Error(`no matching console marker within ${timeoutS}s; console tail:\n${console_.slice(-3000)}`)); }, timeoutS * 1000);
      const w = (m) => { if (test(m)) { clearTimeout(timer); watchers.delete(w); resolve(m); } };
      watchers.add(w);
    });
  }

  return {
    emulator,
    started,
    seen,
    get console() { return console_; },
    get control() { return control; },
    get jitTuned() { return jitTuned; },
    elapsed: () => (performance.now() - t0) / 1000,
    waitMarker,
    /** Waits for `ready` (or `failed`) and for the shell's first prompt. */
    async ready(timeoutS = 900) {
      const prompt = prompts.nextPrompt();
      const m = await waitMarker((x) => x.kind === 'failed' || (x.kind === 'stage' && x.stage === 'ready'), timeoutS);
      if (m.kind === 'failed') throw new Error(`guest failed: ${m.detail}\n${seen.filter((x) => x.kind === 'log').map((x) => x.line).join('\n')}`);
      await withTimeout(prompt, 120, 'the first shell prompt');
      return m;
    },
    /** After a restore: poke the shell and wait for a prompt. */
    async prompt(timeoutS = 60) {
      await started;
      const p = prompts.nextPrompt();
      emulator.serial0_send('\r');
      return withTimeout(p, timeoutS, 'a shell prompt');
    },
    run(command, timeoutS = 600) {
      return withTimeout(prompts.run(command, (t) => emulator.serial0_send(t)), timeoutS, `command ${command}`);
    },
    sendControl(line) { emulator.serial_send_bytes(CONTROL_PORT, controlBytes(line)); },
    async destroy() {
      prompts.abort(new Error('machine stopped'));
      // v86's destroy() throws on a machine that has not started yet, and leaves it running (a
      // test run filtered down to another suite then never exits).
      await withTimeout(started, 60, 'the emulator to start').catch(() => {});
      await emulator.destroy();
      log?.end();
    },
  };
}

function withTimeout(promise, seconds, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${seconds}s waiting for ${what}`)), seconds * 1000); }),
  ]);
}

