#!/usr/bin/env node
// Writes the manifest.json docker-terminal reads beside a `c2w --to-js` output folder, so the
// element can show the download size, check its attributes against the bundle and load it.
//
//   node guest/c2w/manifest.mjs OUTDIR [--images busybox,alpine] [--name NAME]
//
// Memory and cores are read from the bundle's own arg-module.js (-m, -smp): with a pre-boot
// snapshot those are the only values that restore it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Files of the output folder; `worker` exists only when QEMU was built with Emscripten < 3.1.58. */
const FILES = {
  module: 'out.js',
  wasm: 'qemu-system-x86_64.wasm',
  data: 'qemu-system-x86_64.data',
  loader: 'load.js',
  arguments: 'arg-module.js',
  worker: 'qemu-system-x86_64.worker.js',
};

export function readArguments(text) {
  const m = /^\s*Module\s*\[\s*['"]arguments['"]\s*\]\s*=([\s\S]*?);?\s*$/.exec(text);
  if (!m) throw new Error("arg-module.js does not start with Module['arguments'] =");
  return JSON.parse(m[1]);
}

export function writeManifest(dir, { images = [], name } = {}) {
  const args = readArguments(fs.readFileSync(path.join(dir, FILES.arguments), 'utf8'));
  const value = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const mem = /^(?:size=)?(\d+)([MG]?)/i.exec(value('-m') ?? '128M');
  const memory = Number(mem[1]) * (mem[2].toUpperCase() === 'G' ? 1024 : 1);
  const cores = Number(/^(?:cpus=)?(\d+)/.exec(value('-smp') ?? '1')?.[1] ?? 1);
  const files = {};
  for (const [key, file] of Object.entries(FILES)) {
    const full = path.join(dir, file);
    if (!fs.existsSync(full)) {
      if (key === 'worker') continue;
      throw new Error(`${full} is missing: is ${dir} a c2w --to-js output folder (LOAD_MODE=single)?`);
    }
    const data = fs.readFileSync(full);
    files[key] = { path: file, size: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') };
  }
  const manifest = {
    format: 1,
    engine: 'qemu',
    ...(name ? { name } : {}),
    memory,
    cores,
    snapshot: args.includes('-incoming'),
    stages: ['kernel', 'containerd', 'dockerd', 'ready'],
    images,
    files,
  };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, ...rest] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: node guest/c2w/manifest.mjs OUTDIR [--images a,b] [--name NAME]');
    process.exit(2);
  }
  const opt = (flag) => (rest.includes(flag) ? rest[rest.indexOf(flag) + 1] : undefined);
  const m = writeManifest(dir, { images: (opt('--images') ?? '').split(',').filter(Boolean), name: opt('--name') });
  const bytes = Object.values(m.files).reduce((n, f) => n + f.size, 0);
  console.log(`${path.join(dir, 'manifest.json')}: qemu, ${m.memory} MiB, ${m.cores} cores, ${m.snapshot ? 'with' : 'without'} snapshot, ${(bytes / 1e6).toFixed(1)} MB`);
}
