// Whole-disk files for the build's boots in v86 under Node (configure, provision): the disk is
// 2 GiB, more than fs.readFileSync takes, so it is read and written in pieces.
import fs from 'node:fs';

const PIECE = 64 * 1024 * 1024;

export function readWhole(file) {
  const size = fs.statSync(file).size;
  const buffer = new ArrayBuffer(size);
  const fd = fs.openSync(file, 'r');
  for (let at = 0; at < size; at += PIECE) fs.readSync(fd, new Uint8Array(buffer, at, Math.min(PIECE, size - at)), 0, Math.min(PIECE, size - at), at);
  fs.closeSync(fd);
  return buffer;
}

export function writeWhole(file, buffer) {
  const fd = fs.openSync(file, 'r+');
  for (let at = 0; at < buffer.byteLength; at += PIECE) fs.writeSync(fd, new Uint8Array(buffer, at, Math.min(PIECE, buffer.byteLength - at)), 0, Math.min(PIECE, buffer.byteLength - at), at);
  fs.closeSync(fd);
}

/** Polls `test` four times a second; rejects after `timeoutS`. */
export async function until(test, timeoutS) {
  const end = Date.now() + timeoutS * 1000;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}
