// Test-server middleware: variants of the real bundle in dist/guest under /__bundle/<variant>/,
// for the error paths, and request records under /__requests for tests that assert on the network.
// `slow` and `flaky` are small fakes of a slow or broken network, nothing more.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const bundle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/guest');
const requests = [];
const cutOnce = new Set();

const manifestOf = {
  good: (m) => m,
  slow: (m) => m,
  flaky: (m) => m,
  'missing-state': (m) => ({ ...m, files: { ...m.files, state: { ...m.files.state, path: 'no-such-state.bin.zst' } } }),
  'missing-disk': (m) => ({ ...m, files: { ...m.files, disk: { ...m.files.disk, path: 'no-such-disk/disk.img.zst' } } }),
  qemu: (m) => ({ ...m, engine: 'qemu' }),
  'wrong-format': (m) => ({ ...m, format: 7 }),
  // The kernel's entry names a file that is not gzip (the BIOS).
  'bad-kernel': (m) => ({ ...m, files: { ...m.files, kernel: { ...m.files.kernel, path: 'seabios.bin', size: m.files.bios.size } } }),
  'bad-compression': (m) => ({ ...m, files: { ...m.files, kernel: { ...m.files.kernel, compression: 'brotli' } } }),
  'bad-prefetch': (m) => ({ ...m, files: { ...m.files, disk: { ...m.files.disk, prefetch: { boot: [], firstCommands: [m.files.disk.chunks] } } } }),
  malformed: () => '{ "format": 1, "engine": ',
  missing: () => null,
};

export async function bundleVariants(ctx, next) {
  if (ctx.path === '/__requests') {
    ctx.body = JSON.stringify(requests);
    ctx.type = 'json';
    return;
  }
  const m = /^\/__bundle\/([^/]+)\/(.*)$/.exec(ctx.path);
  if (!m) return next();
  const [, variant, file] = m;
  if (!(variant in manifestOf)) return next();
  const record = { variant, file, range: ctx.get('range') || null, complete: false, aborted: false, at: Date.now() };
  requests.push(record);
  ctx.set('Cache-Control', 'no-store');
  if (file === 'manifest.json') {
    const manifest = manifestOf[variant](JSON.parse(fs.readFileSync(path.join(bundle, 'manifest.json'), 'utf8')));
    if (manifest === null) {
      ctx.status = 404;
      return;
    }
    ctx.type = 'json';
    ctx.body = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    return;
  }
  const full = path.join(bundle, file);
  if (!full.startsWith(bundle) || !fs.existsSync(full)) {
    ctx.status = 404;
    return;
  }
  const data = fs.readFileSync(full);
  let start = 0;
  const range = /^bytes=(\d+)-$/.exec(record.range ?? '');
  if (range) {
    start = Number(range[1]);
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${start}-${data.length - 1}/${data.length}`);
  }
  const body = data.subarray(start);
  ctx.type = 'application/octet-stream';
  ctx.set('Content-Length', String(body.length));
  // slow: 256 KiB every 50 ms. flaky: the first response of each big file breaks off half way.
  const piece = variant === 'slow' || variant === 'flaky' ? 256 * 1024 : body.length;
  const cut = variant === 'flaky' && body.length > 1 << 20 && !cutOnce.has(file) ? Math.floor(body.length / 2) : -1;
  if (cut >= 0) cutOnce.add(file);
  ctx.req.on('close', () => {
    if (!record.complete) record.aborted = true;
  });
  ctx.body = Readable.from(
    (async function* () {
      for (let at = 0; at < body.length; at += piece) {
        if (cut >= 0 && at + piece > cut) {
          yield body.subarray(at, cut);
          ctx.req.socket.destroy();
          return;
        }
        yield body.subarray(at, Math.min(at + piece, body.length));
        if (variant === 'slow') await new Promise((r) => setTimeout(r, 50));
        if (cut >= 0) await new Promise((r) => setTimeout(r, 10));
      }
      record.complete = true;
    })(),
  );
}
