// Test-server middleware: variants of the real bundle in dist/guest under /__bundle/<variant>/,
// for the error paths, and request records under /__requests for tests that assert on the network.
// `slow` and `flaky` are small fakes of a slow or broken network, nothing more. `faults` is the
// FAULT SERVER, also a fake: the test sets rules with GET /__faults?set=[{ file, fault, times }] (JSON;
// `file` a regular expression over the path in the bundle; `cacheable` true: the answer may be kept
// for an hour, as CDNs keep a 404), and each matching response goes wrong
// as told: 404, 500, stall (half the bytes, then nothing), reset (half, then the connection cut),
// truncate (half, then the end, short of Content-Length), garbage (as many random bytes), flip (one
// byte changed: a wrong sha256).
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const bundle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/guest');
const requests = [];
const cutOnce = new Set();

const manifestOf = {
  good: (m) => m,
  faults: (m) => m,
  slow: (m) => m,
  flaky: (m) => m,
  'missing-state': (m) => ({ ...m, files: { ...m.files, state: { ...m.files.state, path: 'no-such-state.bin.zst', parts: undefined } } }),
  'missing-disk': (m) => ({ ...m, files: { ...m.files, disk: { ...m.files.disk, path: 'no-such-disk/disk.img.zst' } } }),
  qemu: (m) => ({ ...m, engine: 'qemu' }),
  'wrong-format': (m) => ({ ...m, format: 7 }),
  // The kernel's entry names a file that is not gzip (the BIOS).
  // (without a sha256, as a hand-written manifest may be: with one, the check refuses it first)
  'bad-kernel': (m) => ({ ...m, files: { ...m.files, kernel: { ...m.files.kernel, path: 'seabios.bin', size: m.files.bios.size, sha256: undefined } } }),
  'bad-compression': (m) => ({ ...m, files: { ...m.files, kernel: { ...m.files.kernel, compression: 'brotli' } } }),
  'bad-prefetch': (m) => ({ ...m, files: { ...m.files, disk: { ...m.files.disk, prefetch: { boot: [], firstCommands: [m.files.disk.chunks] } } } }),
  malformed: () => '{ "format": 1, "engine": ',
  missing: () => null,
};

let faultRules = [];

export async function bundleVariants(ctx, next) {
  if (ctx.path === '/__requests') {
    ctx.body = JSON.stringify(requests);
    ctx.type = 'json';
    return;
  }
  if (ctx.path === '/__faults') {
    const set = ctx.query.set;
    if (typeof set === 'string') faultRules = JSON.parse(set).map((r) => ({ ...r, re: new RegExp(r.file), times: r.times ?? Infinity, hits: 0 }));
    ctx.type = 'json';
    ctx.body = JSON.stringify(faultRules.map(({ file, fault, times, hits }) => ({ file, fault, times, hits })));
    return;
  }
  const m = /^\/__bundle\/([^/]+)\/(.*)$/.exec(ctx.path);
  if (!m) return next();
  const [, variant, file] = m;
  if (!(variant in manifestOf)) return next();
  const record = { variant, file, range: ctx.get('range') || null, complete: false, aborted: false, at: Date.now() };
  requests.push(record);
  // web-test-runner marks every path with an extension cacheable for a year, after us. Nothing here
  // may be cached, or one test's fault (or its fix) would be the next one's, unless a rule asks for
  // a cacheable answer, as a CDN gives for a 404 (the element's Retry must go past it).
  let cacheControl = 'no-store';
  const setHeader = ctx.res.setHeader.bind(ctx.res);
  ctx.res.setHeader = (name, value) => setHeader(name, String(name).toLowerCase() === 'cache-control' ? cacheControl : value);
  ctx.set('Cache-Control', cacheControl);
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
  let data = fs.readFileSync(full);
  const rule = variant === 'faults' ? faultRules.find((r) => r.re.test(file) && r.hits < r.times) : undefined;
  if (rule) {
    rule.hits++;
    record.fault = rule.fault;
    if (rule.cacheable) ctx.set('Cache-Control', (cacheControl = 'public, max-age=3600'));
    if (rule.fault === '404' || rule.fault === '500') {
      ctx.status = Number(rule.fault);
      ctx.body = 'fault';
      return;
    }
    if (rule.fault === 'garbage') data = Buffer.from(data.map(() => Math.floor(Math.random() * 256)));
    if (rule.fault === 'flip') (data = Buffer.from(data))[data.length >> 1] ^= 0xff;
    if (['stall', 'reset', 'truncate'].includes(rule.fault)) return misbehave(ctx, data, rule.fault);
  }
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

/** Sends half of `data` under a Content-Length for all of it, then stalls, cuts the connection, or ends. */
function misbehave(ctx, data, fault) {
  const half = data.subarray(0, data.length >> 1);
  ctx.respond = false;
  const res = ctx.res;
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length), 'Cache-Control': 'no-store' });
  res.write(half);
  if (fault === 'reset') setTimeout(() => res.socket?.destroy(), 50);
  if (fault === 'truncate') setTimeout(() => res.socket?.end(), 50);
  // stall: nothing more; the client gives up and the socket closes with it
}
