// Build step run by guest/build.sh: boots the freshly built guest three times in v86 under Node.
//  1. provision: dockerd imports the preloaded images; the guest's disk writes go back into disk.img.
//  2. state: a cold boot to `ready`, the reader's first commands warmed up, then save_state().
//  3. prefetch lists: which disk chunks a cold boot reads, and which the reader's first commands
//     read after a restore, in the order first read (prefetch.json; the element fetches them ahead).
// Usage: node guest/tools/bake.mjs WORKDIR MEMORY_MB CHUNK_SIZE
import fs from 'node:fs';
import path from 'node:path';
import { startMachine } from './machine.mjs';
import { readWhole, writeWhole, until } from './disk-file.mjs';

const [dir, memory, chunk] = process.argv.slice(2);
const memoryMB = Number(memory);
const chunkSize = Number(chunk);
// What a reader types first; after a restore these read the CLI, shim, runtime and image layers.
const FIRST_COMMANDS = ['docker run --rm busybox echo hi', 'docker ps', 'docker images'];
const cmdline = fs.readFileSync(path.join(dir, 'cmdline.txt'), 'utf8').trim();
const say = (m) => console.log(`bake: ${m}`);

async function provision() {
  const file = path.join(dir, 'disk.img');
  const buffer = readWhole(file);
  const m = startMachine(dir, { memoryMB, cmdline: `${cmdline} dt_mode=provision`, diskBuffer: buffer, logFile: path.join(dir, 'provision.log'), verbose: true });
  await m.waitMarker((x) => x.kind === 'failed' || (x.kind === 'stage' && x.stage === 'dockerd'), 900).then(rejectFailed);
  // dt-provision runs with `set -e` as PID 1: if a step fails, the kernel panics.
  await until(() => /DT:PROVISIONED|Kernel panic/.test(m.console), 900);
  if (!/DT:PROVISIONED/.test(m.console)) throw new Error(`provisioning failed:\n${m.console.slice(-3000)}`);
  await m.destroy();
  writeWhole(file, buffer);
  say(`provisioned in ${m.elapsed().toFixed(0)}s`);
}

/** Records the disk chunks the machine reads, in the order first read. */
function chunkReads(m) {
  const order = [];
  const seen = new Set();
  m.emulator.add_listener('emulator-loaded', () => {
    const disk = m.emulator.v86.cpu.devices.ide.primary.master.buffer;
    const get = disk.get.bind(disk);
    disk.get = (offset, len, fn, options) => {
      for (let c = Math.floor(offset / chunkSize); c <= Math.floor((offset + len - 1) / chunkSize); c++)
        if (!seen.has(c)) seen.add(c), order.push(c);
      return get(offset, len, fn, options);
    };
  });
  return order;
}

const prefetch = {};

async function state() {
  // Pages are zeroed as they are freed (init_on_free=1) in the machine that is saved, so its free
  // memory compresses to nothing. A cold boot has no use for it: clearing all memory at start-up
  // alone takes half a second under Node.
  const m = startMachine(dir, { memoryMB, cmdline: `${cmdline} init_on_free=1`, logFile: path.join(dir, 'state-boot.log'), verbose: true });
  const reads = chunkReads(m);
  const ready = await m.ready(900);
  prefetch.boot = reads.slice();
  say(`ready after ${m.elapsed().toFixed(0)}s: ${ready.detail}`);
  // What a reader runs first: the CLI, a container. Their pages are then in the state.
  for (const c of ['docker --version', 'docker run --rm busybox echo warm', 'docker run --rm busybox echo warm', 'docker ps', 'docker images']) {
    const t = m.elapsed();
    const r = await m.run(c, 600);
    say(`${c}: rc=${r.exitCode} ${(m.elapsed() - t).toFixed(1)}s ${JSON.stringify(r.output.slice(0, 200))}`);
    if (r.exitCode !== 0) throw new Error(`warm-up command failed: ${c}\n${r.output}`);
  }
  // Freed pages are zeroed (init_on_free=1), so dropping caches makes the state compress well.
  await m.run('sync; echo 3 > /proc/sys/vm/drop_caches; history -c; clear');
  const state = await m.emulator.save_state();
  await m.destroy();
  fs.writeFileSync(path.join(dir, 'state.bin'), new Uint8Array(state));
  say(`state saved: ${state.byteLength} bytes`);
}

async function firstCommands() {
  const b = fs.readFileSync(path.join(dir, 'state.bin'));
  const m = startMachine(dir, { memoryMB, state: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) });
  const reads = chunkReads(m);
  await m.prompt(120);
  for (const c of FIRST_COMMANDS) {
    const r = await m.run(c, 600);
    if (r.exitCode !== 0) throw new Error(`first command failed after a restore: ${c}\n${r.output}`);
  }
  await m.destroy();
  prefetch.firstCommands = reads.slice();
  fs.writeFileSync(path.join(dir, 'prefetch.json'), JSON.stringify(prefetch) + '\n');
  say(`prefetch lists: ${prefetch.boot.length} chunks for a cold boot, ${prefetch.firstCommands.length} for the first commands`);
}

function rejectFailed(x) {
  if (x.kind === 'failed') throw new Error(`guest failed: ${x.detail}`);
}
await provision();
await state();
await firstCommands();
process.exit(0);
