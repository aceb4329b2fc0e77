// npm run release: the publishable tarballs, in dist/release/, for npm and the CDNs that serve it.
//  - docker-terminal: the element (entry module, chunks, v86's wasm), its ES modules and types,
//    custom-elements.json, the command (npx docker-terminal copy), LICENSE and the third-party
//    notices, and dist/guest/manifest.json: the machine's manifest with every file under the guest
//    packages of the same version, as a CDN serves them beside it (…/npm/<name>@<version>/…), so a
//    page that loads …/npm/docker-terminal@X.Y.Z/dist/docker-terminal.js needs no src.
//  - docker-terminal-guest: the machine (manifest, the state in parts, kernel, initrd, BIOS, the
//    disk chunks' digests), with the licences and the list of Debian sources it was built from.
//  - docker-terminal-guest-disk-N: the disk chunks, as many packages as the CDNs' limits need.
// Limits (jsDelivr: 150 MB a package, 20 MB a file; npm refuses about 200 MB): each package at most
// PACKAGE_LIMIT packed, every file under FILE_LIMIT. Usage: node scripts/release.mjs [OUTDIR]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repo } from './setup.mjs';

export const PACKAGE_LIMIT = 120e6;
export const FILE_LIMIT = 20e6;
/** Chunks go into a disk package until it holds this much (what npm pack then writes is a little larger). */
const DISK_PACKAGE_BYTES = 100e6;

const root = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const version = root.version;
const out = path.resolve(process.argv[2] ?? path.join(repo, 'dist/release'));
const stage = path.join(out, 'stage');
const dist = path.join(repo, 'dist');
const guest = path.join(dist, 'guest');
const say = (m) => console.log(`release: ${m}`);
const fail = (m) => {
  console.error(`release: ${m}`);
  process.exit(1);
};

for (const f of ['docker-terminal.js', 'v86.wasm', 'custom-elements.json', 'esm/docker-terminal.js', 'guest/manifest.json'])
  if (!fs.existsSync(path.join(dist, f))) fail(`dist/${f} is missing: run npm run build and npm run build:guest first`);

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });

const copy = (from, to) => fs.cpSync(from, to, { recursive: true });
const writeJson = (file, data) => (fs.mkdirSync(path.dirname(file), { recursive: true }), fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n'));
const manifest = JSON.parse(fs.readFileSync(path.join(guest, 'manifest.json'), 'utf8'));
const disk = manifest.files.disk;
const chunkName = (i) => `disk-${i * disk.chunkSize}-${(i + 1) * disk.chunkSize}.img.zst`;

// ---- the disk packages: chunks in order, DISK_PACKAGE_BYTES at a time ----
const diskPackages = [];
for (let i = 0; i < disk.chunks; i++) {
  const size = fs.statSync(path.join(guest, 'disk', chunkName(i))).size;
  let last = diskPackages.at(-1);
  if (!last || last.bytes + size > DISK_PACKAGE_BYTES) diskPackages.push((last = { name: `docker-terminal-guest-disk-${diskPackages.length}`, from: i, to: i, bytes: 0 }));
  last.to = i + 1;
  last.bytes += size;
}
for (const p of diskPackages) {
  const dir = path.join(stage, p.name);
  fs.mkdirSync(path.join(dir, 'disk'), { recursive: true });
  for (let i = p.from; i < p.to; i++) fs.linkSync(path.join(guest, 'disk', chunkName(i)), path.join(dir, 'disk', chunkName(i)));
  writeJson(path.join(dir, 'package.json'), packageJson(p.name, `Disk chunks ${p.from}–${p.to - 1} of the machine of docker-terminal ${version}`));
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${p.name}\n\nPart of the machine of [docker-terminal](https://www.npmjs.com/package/docker-terminal) ${version}: chunks ${p.from} to ${p.to - 1} of its disk. The element loads them itself; licences and sources: the docker-terminal-guest package.\n`);
}

// ---- the guest package: the manifest names the disk packages beside it ----
const bases = (prefix) => diskPackages.map((p) => ({ from: p.from, url: `${prefix}${p.name}@${version}/disk/` }));
{
  const dir = path.join(stage, 'docker-terminal-guest');
  fs.mkdirSync(dir, { recursive: true });
  for (const e of fs.readdirSync(guest)) if (e !== 'disk' && e !== 'manifest.json') copy(path.join(guest, e), path.join(dir, e));
  fs.mkdirSync(path.join(dir, 'disk'));
  if (disk.sha256s) fs.copyFileSync(path.join(guest, disk.sha256s.path), path.join(dir, disk.sha256s.path));
  writeJson(path.join(dir, 'manifest.json'), { ...manifest, files: { ...manifest.files, disk: { ...disk, bases: bases('../') } } });
  writeJson(path.join(dir, 'package.json'), { ...packageJson('docker-terminal-guest', `The machine of docker-terminal ${version}: Debian bookworm i386 with Docker, for v86`), license: 'SEE LICENSE IN SOURCES.md' });
  fs.writeFileSync(path.join(dir, 'README.md'), `# docker-terminal-guest\n\nThe machine of [docker-terminal](https://www.npmjs.com/package/docker-terminal) ${version}: a Debian bookworm i386 system with Docker, its saved state, kernel and BIOS, for the v86 emulator. Its disk is in the docker-terminal-guest-disk-N packages of the same version. It holds free software under several licences (the Linux kernel and BusyBox under the GPL among them): the licences are in licenses/, the Debian source packages it was built from, with their versions and where their sources are, in SOURCES.md.\n`);
}

// ---- the element's package ----
{
  const dir = path.join(stage, 'docker-terminal');
  for (const f of ['docker-terminal.js', 'docker-terminal.js.map', 'v86.wasm', 'custom-elements.json', 'chunks', 'esm']) copy(path.join(dist, f), path.join(dir, 'dist', f));
  copy(path.join(repo, 'bin'), path.join(dir, 'bin'));
  for (const f of ['README.md', 'LICENSE']) fs.copyFileSync(path.join(repo, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'THIRD_PARTY_NOTICES.md'), notices());
  // Every file of the machine under the guest packages, as a CDN serves them: from
  // …/npm/docker-terminal@X/dist/guest/, three folders up is …/npm/.
  const up = '../../../';
  const moved = (f) => (f && !f.path.startsWith('../') ? { ...f, path: `${up}docker-terminal-guest@${version}/${f.path}`, ...(f.parts ? { parts: f.parts.map((p) => ({ ...p, path: `${up}docker-terminal-guest@${version}/${p.path}` })) } : {}) } : f);
  const files = Object.fromEntries(Object.entries(manifest.files).map(([k, f]) => [k, moved(f)]));
  files.disk = { ...moved(disk), bases: bases(up), ...(disk.sha256s ? { sha256s: moved(disk.sha256s) } : {}) };
  writeJson(path.join(dir, 'dist/guest/manifest.json'), { ...manifest, files });
  const { name, description, license, type, main, module, types, exports, customElements, sideEffects, engines, dependencies, keywords } = root;
  writeJson(path.join(dir, 'package.json'), {
    name, version, description, license, type, main, module, types, exports, customElements, sideEffects, engines, dependencies, keywords,
    bin: { 'docker-terminal': 'bin/docker-terminal.mjs' },
    files: ['dist', 'bin', 'THIRD_PARTY_NOTICES.md'],
  });
}

// ---- pack, and hold each to the limits ----
const packed = [];
for (const name of ['docker-terminal', 'docker-terminal-guest', ...diskPackages.map((p) => p.name)]) {
  const dir = path.join(stage, name);
  for (const f of walk(dir)) if (fs.statSync(f).size >= FILE_LIMIT) fail(`${path.relative(stage, f)} is ${fs.statSync(f).size} bytes, over the ${FILE_LIMIT / 1e6} MB a CDN serves`);
  const tgz = execFileSync('npm', ['pack', dir, '--pack-destination', out, '--silent'], { encoding: 'utf8' }).trim().split('\n').pop();
  const size = fs.statSync(path.join(out, tgz)).size;
  if (size > PACKAGE_LIMIT) fail(`${tgz} is ${(size / 1e6).toFixed(1)} MB packed, over ${PACKAGE_LIMIT / 1e6} MB`);
  packed.push({ name, file: tgz, size, files: walk(dir).length });
  say(`${tgz}: ${(size / 1e6).toFixed(1)} MB, ${walk(dir).length} files`);
}
fs.rmSync(stage, { recursive: true, force: true });
writeJson(path.join(out, 'packages.json'), { version, packages: packed });
say(`${packed.length} packages in ${out}; publish them all with the same version (${version})`);

function packageJson(name, description) {
  return { name, version, description, license: root.license, repository: root.repository, files: ['**'] };
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** The licences of the code bundled into dist/ (the chunks hold lit, xterm.js, xterm-pty and v86). */
function notices() {
  const bundled = ['lit', 'lit-html', 'lit-element', '@lit/reactive-element', '@xterm/xterm', '@xterm/addon-fit', 'xterm-pty', 'v86'];
  const parts = bundled.map((name) => {
    const dir = path.join(repo, 'node_modules', name);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    if (!file) fail(`node_modules/${name} has no licence file to ship in the notices`);
    return `## ${name} ${meta.version} (${meta.license})\n\n\`\`\`\n${fs.readFileSync(path.join(dir, file), 'utf8').trim()}\n\`\`\`\n`;
  });
  return `# Third-party notices\n\ndocker-terminal's files in dist/ include the following packages, under their own licences. The machine (the docker-terminal-guest packages) lists its own in SOURCES.md and licenses/.\n\n${parts.join('\n')}`;
}
