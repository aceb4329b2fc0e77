// Reads tar archives (ustar, with pax or GNU headers for long names): the files out of an npm package
// tarball (.tgz) in memory, for the docker-terminal command (copy) and the tests' CDN; and an index
// of a plain tar on disk (a `docker save`, an OCI archive) whose files are read only when needed, as
// those can be larger than memory likes. No dependency.
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';

/** Every regular file in the tarball, by path ("package/…" as npm writes it). */
export function readTgz(file) {
  const tar = zlib.gunzipSync(fs.readFileSync(file));
  const files = new Map();
  for (const e of entries((at, len) => tar.subarray(at, at + len))) {
    if (e.type === 'file') files.set(e.name, tar.subarray(e.offset, e.offset + e.size));
  }
  return files;
}

/**
 * The files of a plain (uncompressed) tar on disk: name → { offset, size } of its bytes, with
 * symbolic and hard links resolved to the file they name (`docker save` writes a layer shared by two
 * images once, and a symlink for the second). Names lose a leading "./" or "/".
 */
export function indexTar(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const read = (at, len) => {
      const buf = Buffer.alloc(len);
      return buf.subarray(0, fs.readSync(fd, buf, 0, len, at));
    };
    const files = new Map();
    const links = new Map();
    for (const e of entries(read)) {
      const name = clean(e.name);
      if (e.type === 'file') files.set(name, { offset: e.offset, size: e.size });
      // A symlink's target is relative to its folder, a hard link's to the archive's root.
      else if (e.type === 'symlink') links.set(name, e.link.startsWith('/') ? clean(e.link) : path.posix.join(path.posix.dirname(name), e.link));
      else if (e.type === 'hardlink') links.set(name, clean(e.link));
    }
    for (const [name, target] of links) {
      let to = target;
      for (let hops = 0; links.has(to) && hops < 32; hops++) to = links.get(to);
      if (files.has(to)) files.set(name, files.get(to));
    }
    return files;
  } finally {
    fs.closeSync(fd);
  }
}

const clean = (name) => path.posix.normalize(name.replace(/^\/+/, '')).replace(/^\.\//, '').replace(/\/$/, '');

/**
 * Walks a tar's headers; read(at, len) gives its bytes. Yields { name, type, size, offset (of the
 * body), link } for files, links and folders; the long-name records are folded into the next entry.
 */
function* entries(read) {
  let at = 0;
  let pax = {};
  for (;;) {
    const header = read(at, 512);
    if (header.length < 512 || header.every((b) => b === 0)) return;
    const field = (from, len) => header.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
    const size = pax.size !== undefined ? Number(pax.size) : number(header.subarray(124, 136));
    const flag = String.fromCharCode(header[156] || 0x30);
    const prefix = field(257, 6).startsWith('ustar') ? field(345, 155) : '';
    const name = pax.path ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const link = pax.linkpath ?? field(157, 100);
    const offset = at + 512;
    at = offset + Math.ceil(size / 512) * 512;
    if (flag === 'x') pax = { ...pax, ...paxRecords(read(offset, size)) };
    else if (flag === 'L') pax = { ...pax, path: read(offset, size).toString('utf8').replace(/\0.*$/s, '') };
    else if (flag === 'K') pax = { ...pax, linkpath: read(offset, size).toString('utf8').replace(/\0.*$/s, '') };
    else if (flag === 'g') continue; // global pax header: nothing we use
    else {
      pax = {};
      const type = { 0: 'file', '\0': 'file', 7: 'file', 1: 'hardlink', 2: 'symlink', 5: 'dir' }[flag] ?? 'other';
      yield { name, type, size: type === 'file' ? size : 0, offset, link };
    }
  }
}

/** A header's numeric field: octal text, or base-256 (high bit set) for sizes past 8 GB. */
function number(bytes) {
  if (bytes[0] & 0x80) return bytes.subarray(1).reduce((n, b) => n * 256 + b, bytes[0] & 0x7f);
  return parseInt(bytes.toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
}

/** "LEN key=value\n" records of a pax header. */
function paxRecords(body) {
  const out = {};
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const len = parseInt(body.subarray(at, space).toString('latin1'), 10);
    if (space < 0 || !len) break;
    const record = body.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}
