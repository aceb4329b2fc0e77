// A FAKE CDN for the release tests: serves npm package tarballs the way jsDelivr and unpkg lay them
// out, /npm/<name>@<version>/<path>, reading each file straight out of the .tgz, with CORS for
// any page. It holds them to jsDelivr's limits: a package over 150 MB is refused at start, a file
// of 20 MB or more is answered 403 (jsDelivr refuses to serve it). `alter(name, path, bytes)` may
// change a file as it is served (a corrupt chunk, another manifest).
import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import { readTgz } from '../../bin/tar.mjs';

export const PACKAGE_LIMIT = 150e6;
export const FILE_LIMIT = 20e6;

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.md': 'text/markdown; charset=utf-8' };

/** Starts the CDN on 127.0.0.1 over the tarballs in `dir`; resolves with { url, requests, close() }. */
export async function startCdn(dir, { alter } = {}) {
  const packages = new Map();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.tgz'))) {
    const size = fs.statSync(path.join(dir, file)).size;
    if (size > PACKAGE_LIMIT) throw new Error(`${file} is ${size} bytes, over the CDN's ${PACKAGE_LIMIT} bytes a package`);
    const files = readTgz(path.join(dir, file));
    const meta = JSON.parse(files.get('package/package.json').toString('utf8'));
    packages.set(`${meta.name}@${meta.version}`, files);
  }
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://cdn');
    requests.push(url.pathname);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Headers', 'Range');
      return res.writeHead(204).end();
    }
    const m = /^\/npm\/((?:@[^/]+\/)?[^/@]+@[^/]+)\/(.+)$/.exec(decodeURIComponent(url.pathname));
    const files = m && packages.get(m[1]);
    let body = files?.get(`package/${m?.[2]}`);
    if (!body) return res.writeHead(404).end('not found');
    if (body.length >= FILE_LIMIT) return res.writeHead(403).end(`file over ${FILE_LIMIT} bytes`);
    body = alter?.(m[1], m[2], body) ?? body;
    res.setHeader('Content-Type', TYPES[path.extname(m[2])] ?? 'application/octet-stream');
    res.setHeader('Accept-Ranges', 'bytes');
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
      if (start >= body.length) return res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${body.length}`, 'Content-Length': end - start + 1 });
      return res.end(body.subarray(start, end + 1));
    }
    res.writeHead(200, { 'Content-Length': body.length });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    packages,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
