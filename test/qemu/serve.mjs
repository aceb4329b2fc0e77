// Test-server middleware for the qemu engine's tests:
//  - every page is cross-origin isolated (COOP same-origin + COEP require-corp), as a host of a
//    QEMU-wasm bundle must serve it, except test files named *not-isolated*;
//  - /__qemu/<variant>/[any/folders/]<file> serves the stand-in bundle (test/qemu/standin, built
//    by buildStandin()) on a path that is not the page's, in variants for the error paths. The
//    test runner tells browsers to cache every file for a year, so tests that count requests use
//    folders of their own;
//  - /__qemu-requests lists what was requested there, and requests for c2w file names elsewhere
//    (pthread workers' requests included).
import fs from 'node:fs';
import path from 'node:path';
import { buildStandin } from './standin/build.mjs';

const standin = buildStandin();
const requests = [];

const argsOf = (text) => JSON.parse(text.replace(/^[^=]*=/, '').replace(/;\s*$/, ''));
const argModule = (args) => `Module['arguments'] =\n${JSON.stringify(args, null, 4)}\n;\n`;

/** Per variant: changes to the manifest and to arg-module.js. */
const variants = {
  standin: {},
  // Built without a pre-boot snapshot (c2w without QEMU_MIGRATION).
  'no-snapshot': {
    args: (a) => a.filter((x, i) => x !== '-incoming' && a[i - 1] !== '-incoming'),
    manifest: (m) => ({ ...m, snapshot: false }),
  },
  'missing-files': { manifest: (m) => ({ ...m, files: { wasm: m.files.wasm, data: m.files.data } }) },
  'bad-arguments': { argsText: () => 'console.log("not an argument list")\n' },
  'missing-loader': { manifest: (m) => ({ ...m, files: { ...m.files, loader: { ...m.files.loader, path: 'no-such-load.js' } } }) },
};

export async function qemuBundles(ctx, next) {
  if (!/not-isolated/.test(ctx.path)) {
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    ctx.set('Cross-Origin-Embedder-Policy', 'require-corp');
  }
  if (ctx.path === '/__qemu-requests') {
    ctx.type = 'json';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = JSON.stringify(requests);
    return;
  }
  // Any request for a c2w bundle file, wherever it points: one at the page's path is a resolution bug.
  if (ctx.path.startsWith('/__qemu/') || /\/(?:out\.js|load\.js|arg-module\.js|qemu-system-x86_64\.[a-z.]+)$/.test(ctx.path)) requests.push({ path: ctx.path, at: Date.now() });
  if (!ctx.path.startsWith('/__qemu/')) return next();
  ctx.set('Cache-Control', 'no-store');
  const m = /^\/__qemu\/([^/]+)\/(?:[^/]+\/)*([^/]+)$/.exec(ctx.path);
  const variant = m && variants[m[1]];
  const full = m && path.join(standin, m[2]);
  if (!variant || !fs.existsSync(full)) {
    ctx.status = 404;
    return;
  }
  const file = m[2];
  if (file === 'manifest.json') {
    ctx.type = 'json';
    ctx.body = JSON.stringify((variant.manifest ?? ((x) => x))(JSON.parse(fs.readFileSync(full, 'utf8'))));
  } else if (file === 'arg-module.js' && (variant.args || variant.argsText)) {
    ctx.type = 'js';
    ctx.body = variant.argsText ? variant.argsText() : argModule(variant.args(argsOf(fs.readFileSync(full, 'utf8'))));
  } else {
    ctx.type = file.endsWith('.js') ? 'js' : file.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    ctx.body = fs.readFileSync(full);
  }
}
