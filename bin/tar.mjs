// Reads the files out of an npm package tarball (.tgz: gzip over ustar, with pax headers for long
// names), in memory. For the docker-terminal command (copy) and the tests' CDN; no dependency.
import zlib from 'node:zlib';
import fs from 'node:fs';

/** Every regular file in the tarball, by path ("package/…" as npm writes it). */
export function readTgz(file) {
  const tar = zlib.gunzipSync(fs.readFileSync(file));
  const files = new Map();
  let at = 0;
  let longName;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from, len) => header.subarray(from, from + len).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const prefix = field(257, 6).startsWith('ustar') ? field(345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const body = tar.subarray(at + 512, at + 512 + size);
    if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    else if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === '0' || type === '\0') files.set(name, body);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}
