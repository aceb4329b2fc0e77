#!/usr/bin/env node
// Builds the STAND-IN for a container2wasm QEMU-wasm bundle (see standin.c) with Debian's
// `emscripten`, laid out as `c2w --to-js` lays out its output (out.js, qemu-system-x86_64.wasm,
// .worker.js, .data + load.js, arg-module.js) plus the manifest.json from guest/c2w/manifest.mjs.
// Cached outside the repo in $DT_CACHE (~/.cache/docker-terminal)/qemu-standin-<hash of sources
// and emcc version>; prints that folder's path. Installs emscripten first if it is missing (root).
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeManifest } from '../../../guest/c2w/manifest.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const cache = process.env.DT_CACHE ?? path.join(os.homedir(), '.cache/docker-terminal');

/** QEMU's command line as c2w writes it for VM_MEMORY_SIZE_MB=1024 VM_CORE_NUMS=2 with a snapshot (config/qemu/args-x86_64.json.template). */
export const STANDIN_ARGS = [
  '-incoming', 'file:/pack/vm.state',
  '-nographic', '-m', '1024M', '-accel', 'tcg,tb-size=500,thread=multi', '-smp', '2,sockets=2',
  '-L', '/pack/',
  '-drive', 'if=virtio,format=raw,file=/pack/rootfs.bin',
  '-kernel', '/pack/bzImage',
  '-append', 'earlyprintk=ttyS0,115200n8 console=ttyS0,115200n8 root=/dev/vda rootwait ro QEMU_MODE=1 init=/sbin/tini -- /sbin/init',
];

function ensureEmscripten() {
  if (spawnSync('sh', ['-c', 'command -v emcc'], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error('the qemu stand-in needs Emscripten: run `sudo apt-get install -y emscripten`');
  console.error('qemu stand-in: installing Debian\'s emscripten');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-q'], ['install', '-y', '-q', 'emscripten']]) {
    const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
  }
}

export function buildStandin({ quiet = false } = {}) {
  ensureEmscripten();
  // Debian's emcc runs its JS tools with the system node, whose modules (acorn) live here.
  const env = { ...process.env, NODE_PATH: ['/usr/share/nodejs', process.env.NODE_PATH].filter(Boolean).join(':') };
  const version = execFileSync('emcc', ['--version'], { env, encoding: 'utf8' }).split('\n')[0];
  const hash = crypto.createHash('sha256');
  for (const f of ['standin.c', 'pty.js', 'build.mjs']) hash.update(fs.readFileSync(path.join(here, f)));
  hash.update(fs.readFileSync(path.join(repo, 'guest/c2w/manifest.mjs')));
  hash.update(version);
  const out = path.join(cache, `qemu-standin-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(path.join(out, 'manifest.json'))) return out;

  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qemu-standin-'));
  const run = (cmd, args, opts = {}) => {
    const r = spawnSync(cmd, args, { cwd: work, env, encoding: 'utf8', ...opts });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout ?? ''}${r.stderr ?? ''}`);
    return r.stdout;
  };
  // Small files where c2w puts the kernel, root disk and snapshot.
  fs.mkdirSync(path.join(work, 'pack'));
  fs.writeFileSync(path.join(work, 'pack/bzImage'), 'stand-in kernel\n');
  fs.writeFileSync(path.join(work, 'pack/rootfs.bin'), Buffer.alloc(64 * 1024));
  fs.writeFileSync(path.join(work, 'pack/vm.state'), 'stand-in pre-boot snapshot\n');
  // Named as QEMU's build names it; c2w renames the JS to out.js, so out.js != the name baked into
  // the worker script (which is why pages must set Module.mainScriptUrlOrBlob).
  run('emcc', [
    '-O2', '-pthread', '-sPROXY_TO_PTHREAD=1', '-sEXPORT_ES6=1', '-sMODULARIZE=1', '-sFORCE_FILESYSTEM=1',
    '-sINITIAL_MEMORY=64MB', '-sEXIT_RUNTIME=0', '-sEXPORTED_RUNTIME_METHODS=FS,TTY',
    '--js-library', path.join(here, 'pty.js'), path.join(here, 'standin.c'), '-o', 'qemu-system-x86_64.js',
  ]);
  fs.renameSync(path.join(work, 'qemu-system-x86_64.js'), path.join(work, 'out.js'));
  const filePackager = ['/usr/share/emscripten/tools/file_packager.py', '/usr/share/emscripten/tools/file_packager'].find((f) => fs.existsSync(f));
  const loader = run('python3', [filePackager, 'qemu-system-x86_64.data', '--preload', 'pack@/pack']);
  fs.writeFileSync(path.join(work, 'load.js'), loader);
  fs.writeFileSync(path.join(work, 'arg-module.js'), `Module['arguments'] =\n${JSON.stringify(STANDIN_ARGS, null, 4)}\n;\n`);
  fs.rmSync(path.join(work, 'pack'), { recursive: true });
  writeManifest(work, { images: ['busybox'], name: 'qemu stand-in (not QEMU)' });
  fs.mkdirSync(cache, { recursive: true });
  // Old stand-ins are a few hundred KB each; keep only this one.
  for (const old of fs.readdirSync(cache).filter((n) => n.startsWith('qemu-standin-'))) fs.rmSync(path.join(cache, old), { recursive: true, force: true });
  fs.cpSync(work, `${out}.tmp`, { recursive: true });
  fs.renameSync(`${out}.tmp`, out);
  fs.rmSync(work, { recursive: true, force: true });
  if (!quiet) console.error(`qemu stand-in: built ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) console.log(buildStandin());
