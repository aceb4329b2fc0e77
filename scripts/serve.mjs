// A small static file server for the demo page, the tests and the bench: HTTP Range requests (the
// way v86 and resumable downloads read), correct types for .wasm, and optional COOP/COEP headers.
// Usage: node scripts/serve.mjs [--port 8080] [--root DIR] [--isolated]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Starts the server; resolves with { server, url, close() }. Options: root, port (0 = any free
 * port), host, isolated (send COOP/COEP), headers (more to send with every response), onRequest(req)
 * for tests that watch the network.
 */
export function serve({ root, port = 0, host = '127.0.0.1', isolated = false, headers = {}, onRequest } = {}) {
  const base = path.resolve(root ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const server = http.createServer((req, res) => {
    onRequest?.(req, res);
    const url = new URL(req.url, 'http://x');
    let file = path.join(base, decodeURIComponent(url.pathname));
    if (!file.startsWith(base)) return end(res, 403);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    fs.stat(file, (err, st) => {
      if (!err && st.isDirectory()) {
        if (!url.pathname.endsWith('/')) {
          res.writeHead(301, { Location: url.pathname + '/' + url.search });
          return res.end();
        }
        file = path.join(file, 'index.html');
        try { st = fs.statSync(file); } catch (e) { err = e; }
      }
      if (err) return end(res, 404);
      const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      const headers = { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-cache' };
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      if (range && (range[1] || range[2])) {
        let start = range[1] ? Number(range[1]) : st.size - Number(range[2]);
        let stop = range[1] && range[2] ? Math.min(Number(range[2]), st.size - 1) : st.size - 1;
        if (start >= st.size || start > stop) {
          res.writeHead(416, { 'Content-Range': `bytes */${st.size}` });
          return res.end();
        }
        res.writeHead(206, { ...headers, 'Content-Length': stop - start + 1, 'Content-Range': `bytes ${start}-${stop}/${st.size}` });
        if (req.method === 'HEAD') return res.end();
        return fs.createReadStream(file, { start, end: stop }).pipe(res);
      }
      res.writeHead(200, { ...headers, 'Content-Length': st.size });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  });
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${server.address().port}/`;
      resolve({ server, url, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) });
    });
  });
}

function end(res, status) {
  res.writeHead(status, { 'Content-Type': 'text/plain' });
  res.end(`${status}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const { url } = await serve({ root: arg('--root'), port: Number(arg('--port', 8080)), isolated: process.argv.includes('--isolated') });
  console.log(`serving on ${url}`);
}
