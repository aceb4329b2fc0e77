// Lays out the built bundle (dist/guest) for v86 under Node: v86's zstd disk chunks need a browser
// Worker, so the disk is reassembled from the chunks into one image, and checked against the
// manifest's sha256 (which also proves the chunks are complete and in order).
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bundleDir = path.join(repo, 'dist/guest');

export function readManifest() {
  const file = path.join(bundleDir, 'manifest.json');
  if (!fs.existsSync(file)) throw new Error(`no bundle at ${bundleDir}: run \`npm run build:guest\` first`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** A folder with the bundle's files and an uncompressed disk.img; reused while the disk hash matches. */
export function nodeMachineDir() {
  const manifest = readManifest();
  const disk = manifest.files.disk;
  const dir = path.join(process.env.DT_CACHE ?? path.join(os.homedir(), '.cache/docker-terminal'), `node-${disk.sha256.slice(0, 16)}`);
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['bios', 'vgaBios', 'kernel', 'initrd']) {
    const target = path.join(dir, { bios: 'seabios.bin', vgaBios: 'vgabios.bin', kernel: 'vmlinuz', initrd: 'initrd.img' }[name]);
    const source = path.join(bundleDir, manifest.files[name].path);
    if (manifest.files[name].compression === 'gzip') fs.writeFileSync(target, zlib.gunzipSync(fs.readFileSync(source)));
    else fs.copyFileSync(source, target);
  }
  fs.writeFileSync(path.join(dir, 'cmdline.txt'), manifest.cmdline);
  const image = path.join(dir, 'disk.img');
  if (!fs.existsSync(path.join(dir, '.disk-ok'))) {
    const parts = Array.from({ length: disk.chunks }, (_, i) => path.join(bundleDir, 'disk', `disk-${i * disk.chunkSize}-${(i + 1) * disk.chunkSize}.img.zst`));
    execFileSync('sh', ['-c', 'zstd -dcq "$@" > "$0"', image, ...parts], { maxBuffer: 1 << 20 });
    const hash = crypto.createHash('sha256');
    const fd = fs.openSync(image, 'r');
    const buf = Buffer.alloc(16 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
    fs.closeSync(fd);
    const got = hash.digest('hex');
    if (got !== disk.sha256) throw new Error(`disk chunks reassemble to sha256 ${got}, manifest says ${disk.sha256}`);
    fs.writeFileSync(path.join(dir, '.disk-ok'), got);
  }
  return { dir, manifest };
}

/** A file's bytes as an ArrayBuffer of their own (what v86 takes; a Buffer may share a larger one). */
export function readArrayBuffer(file) {
  const b = fs.readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
}

/** The saved state, as v86 takes it (zstd; v86 decompresses it): its parts joined. */
export function stateBuffer(manifest) {
  const state = manifest.files.state;
  const b = Buffer.concat((state.parts ?? [state]).map((p) => fs.readFileSync(path.join(bundleDir, p.path))));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
}
