// Writes the bundle's manifest.json (see src/boot/manifest.ts for the format the element reads).
// Usage: node manifest.mjs BUNDLE_DIR WORK_DIR MEMORY_MB CHUNK_SIZE "pkg=version ..." NO_I386_GUARD
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const [bundle, work, memory, chunk, versions, guard] = process.argv.slice(2);
function sha256(file) {
  // Streamed in pieces: the disk image is larger than fs.readFileSync takes.
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(16 << 20);
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  fs.closeSync(fd);
  return hash.digest('hex');
}
const file = (name, extra = {}) => {
  const p = path.join(bundle, name);
  return { path: name, size: fs.statSync(p).size, sha256: sha256(p), ...extra };
};
const diskImage = path.join(work, 'disk.img');
const chunkSize = Number(chunk);
const diskSize = fs.statSync(diskImage).size;
const chunkFile = (i) => `disk-${i * chunkSize}-${(i + 1) * chunkSize}.img.zst`;
const chunks = fs.readdirSync(path.join(bundle, 'disk')).filter((f) => /^disk-\d+-\d+\.img\.zst$/.test(f));
// The sha256 of every chunk file, 32 bytes each, in order: the element checks each chunk as it arrives.
const digests = Buffer.concat(chunks.map((_, i) => crypto.createHash('sha256').update(fs.readFileSync(path.join(bundle, 'disk', chunkFile(i)))).digest()));
fs.writeFileSync(path.join(bundle, 'disk', 'sha256.bin'), digests);
// The saved state in parts (state.bin.zst.0, .1, …), each under the 20 MB a CDN serves.
const stateParts = fs.readdirSync(bundle).filter((f) => /^state\.bin\.zst\.\d+$/.test(f)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
const v86Version = createRequire(import.meta.url)('v86/package.json').version;
const packages = Object.fromEntries(versions.trim().split(/\s+/).map((pv) => pv.split('=')));
const provision = fs.readFileSync(path.join(work, 'provision.log'), 'utf8');

const manifest = {
  format: 1,
  engine: 'v86',
  name: 'Debian bookworm i386 with Docker',
  arch: 'i386',
  memory: Number(memory),
  cores: 1,
  cmdline: fs.readFileSync(path.join(work, 'cmdline.txt'), 'utf8').trim(),
  stages: ['kernel', 'containerd', 'dockerd', 'ready'],
  // The v86 that made the saved state: another one cannot restore it.
  v86: v86Version,
  images: [...provision.matchAll(/DT:PROVISION image (\S+)/g)].map((m) => m[1]),
  packages,
  // How it was built: under guest/tools/no-i386.c, so no guest program ran on the build host.
  build: { noI386Guard: Boolean(guard) },
  files: {
    bios: file('seabios.bin'),
    vgaBios: file('vgabios.bin'),
    kernel: file('vmlinuz.gz', { compression: 'gzip', rawSize: fs.statSync(path.join(work, 'vmlinuz')).size }),
    initrd: file('initrd.img'),
    state: {
      path: 'state.bin.zst',
      size: stateParts.reduce((n, p) => n + fs.statSync(path.join(bundle, p)).size, 0),
      sha256: sha256(path.join(work, 'state.bin.zst')),
      rawSize: fs.statSync(path.join(work, 'state.bin')).size,
      parts: stateParts.map((p) => file(p)),
    },
    disk: {
      path: 'disk/disk.img.zst',
      size: diskSize,
      sha256: sha256(diskImage),
      chunkSize,
      chunks: chunks.length,
      compression: 'zstd',
      bytes: chunks.reduce((n, c) => n + fs.statSync(path.join(bundle, 'disk', c)).size, 0),
      prefetch: JSON.parse(fs.readFileSync(path.join(work, 'prefetch.json'), 'utf8')),
      sha256s: file('disk/sha256.bin'),
    },
  },
};
if (chunks.length !== Math.ceil(diskSize / chunkSize)) throw new Error('disk chunks missing');
if (!stateParts.length) throw new Error('the state has no parts');
process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
