#!/usr/bin/env node
// The docker-terminal package's command.
//
//   npx docker-terminal copy DIR [--from TARBALLS]
//   npx docker-terminal images add <ref|archive>… --out DIR    (bin/images.mjs)
//
// Copies the element (docker-terminal.js, chunks/, v86.wasm) and its machine (guest/) into DIR, a
// folder of a site, so that DIR works as it is: a page loads DIR/docker-terminal.js, and the
// element finds DIR/guest/ beside it. A bundler user (Vite) copies into its public folder and calls
// setBasePath() with that folder's URL.
//
// The machine comes from the docker-terminal-guest packages of this version: installed ones
// (node_modules), else the tarballs in TARBALLS (what `npm run release` writes), else `npm pack`
// from the registry.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { readTgz } from './tar.mjs';
import { imagesCommand, imagesUsage } from './images.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(here, '../package.json'), 'utf8'));
const GUEST = 'docker-terminal-guest';

function fail(message) {
  console.error(`docker-terminal: ${message}`);
  process.exit(1);
}

function usage() {
  console.log(`usage: docker-terminal copy DIR [--from TARBALLS]
       docker-terminal images add <ref|archive>… --out DIR [--name NAME[:TAG]] [--insecure]

  copy DIR   put the element and its machine (about 200 MB in about 8,200 files) into DIR,
             a folder of your site; then load DIR/docker-terminal.js on a page.
  --from     a folder with the docker-terminal-guest*.tgz tarballs of version ${pkg.version}
             (otherwise installed packages, or npm pack from the registry)

${imagesUsage}`);
}

/** The files of a guest package (path inside the package → bytes), from wherever they are. */
function guestPackage(name, from) {
  const tgzName = `${name}-${pkg.version}.tgz`;
  if (from) {
    const file = path.join(from, tgzName);
    if (!fs.existsSync(file)) fail(`${file} is missing: --from must name a folder with the tarballs of version ${pkg.version}.`);
    return fromTgz(file);
  }
  try {
    const dir = path.dirname(createRequire(path.join(process.cwd(), 'x.js')).resolve(`${name}/package.json`));
    if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version === pkg.version) return fromDir(dir);
  } catch {
    // not installed: fetch it
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-terminal-'));
  console.log(`docker-terminal: fetching ${name}@${pkg.version} from the npm registry`);
  try {
    execFileSync('npm', ['pack', `${name}@${pkg.version}`, '--pack-destination', tmp, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    fail(`could not fetch ${name}@${pkg.version} (npm pack failed). Install it (npm install ${name}@${pkg.version}) or pass --from with the tarballs.`);
  }
  const files = fromTgz(path.join(tmp, tgzName));
  fs.rmSync(tmp, { recursive: true, force: true });
  return files;
}

function fromTgz(file) {
  const files = new Map();
  for (const [name, data] of readTgz(file)) files.set(name.replace(/^package\//, ''), data);
  return files;
}

function fromDir(dir) {
  const files = new Map();
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else files.set(path.relative(dir, full).split(path.sep).join('/'), fs.readFileSync(full));
    }
  };
  walk(dir);
  return files;
}

function write(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

function copy(dir, from) {
  const dist = path.join(here, '../dist');
  if (!fs.existsSync(path.join(dist, 'docker-terminal.js'))) fail(`${dist} has no docker-terminal.js: is this package built?`);
  // The element: the entry module, its lazily loaded chunks and v86's wasm.
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['docker-terminal.js', 'v86.wasm', 'custom-elements.json']) fs.copyFileSync(path.join(dist, name), path.join(dir, name));
  fs.rmSync(path.join(dir, 'chunks'), { recursive: true, force: true });
  fs.cpSync(path.join(dist, 'chunks'), path.join(dir, 'chunks'), { recursive: true, filter: (f) => !f.endsWith('.map') });

  // The machine: the guest package, and the disk chunks from its disk packages, in one folder.
  const guest = guestPackage(GUEST, from);
  const manifest = JSON.parse(guest.get('manifest.json')?.toString('utf8') ?? fail(`${GUEST} has no manifest.json`));
  const out = path.join(dir, 'guest');
  fs.rmSync(out, { recursive: true, force: true });
  for (const [name, data] of guest) if (name !== 'package.json' && name !== 'manifest.json') write(path.join(out, name), data);
  const disk = manifest.files.disk;
  let chunks = 0;
  for (const base of disk.bases ?? []) {
    const name = /(docker-terminal-guest-disk-\d+)@/.exec(base.url)?.[1];
    if (!name) fail(`the manifest's disk base ${base.url} names no disk package`);
    for (const [file, data] of guestPackage(name, from)) if (file.startsWith('disk/')) write(path.join(out, file), data), chunks++;
  }
  // (here every chunk sits in guest/disk/, beside the manifest)
  delete disk.bases;
  write(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const missing = Array.from({ length: disk.chunks }, (_, i) => `disk-${i * disk.chunkSize}-${(i + 1) * disk.chunkSize}.img.zst`).filter((f) => !fs.existsSync(path.join(out, 'disk', f)));
  if (missing.length) fail(`${missing.length} disk chunks are missing after the copy (the first: ${missing[0]}); the guest packages do not match.`);
  console.log(`docker-terminal: copied the element and its machine (${chunks} disk chunks) into ${dir}. Load ${path.join(dir, 'docker-terminal.js')} on a page.`);
}

const [command, ...args] = process.argv.slice(2);
if (command === 'copy' && args[0] && !args[0].startsWith('-')) {
  const i = args.indexOf('--from');
  copy(path.resolve(args[0]), i > 0 ? path.resolve(args[i + 1] ?? fail('--from needs a folder')) : undefined);
} else if (command === 'images' && !args.includes('--help')) {
  const status = await imagesCommand(args);
  if (status === 2) usage();
  process.exitCode = status;
} else if (!command || command === 'help' || command === '--help' || command === 'images') usage();
else {
  usage();
  process.exit(2);
}
