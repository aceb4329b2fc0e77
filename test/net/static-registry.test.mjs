// The in-tab registry (src/net/static-registry.ts) against a plain static file server on 127.0.0.1
// that knows nothing of registries (files, CORS, Range; no registry headers), serving a layout
// written here as docs/static-registry.md describes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { staticRegistry } from '../../dist/esm/net/static-registry.js';

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const json = (v) => Buffer.from(JSON.stringify(v, null, 2));
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

let dir;
let server;
let base;
/** What the host was asked: [method, path, range header]. */
const asked = [];
/** Paths the host answers with 500, and paths it sends without Content-Length (chunked). */
const failing = new Set();
const unsized = new Set();

const image = {};

function write(rel, bytes) {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
}

const blob = (bytes) => {
  const hex = sha(bytes);
  write(`site/v2/blobs/sha256/${hex}`, bytes);
  return { hex, digest: `sha256:${hex}`, size: bytes.length, bytes };
};

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'static-registry-'));
  // The image: a config, one gzip layer, a Docker schema 2 manifest for linux/386.
  image.config = blob(json({ architecture: '386', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['/hello'] } }));
  image.layer = blob(zlib.gzipSync(Buffer.from('a layer, standing in for a tar'.repeat(2000))));
  image.manifest = blob(
    json({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: image.config.digest, size: image.config.size },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: image.layer.digest, size: image.layer.size }],
    }),
  );
  write('site/v2/library/tiny/manifests/latest', image.manifest.bytes);
  write('site/docker-terminal-registry.json', json({ version: 1, images: [{ name: 'library/tiny', tag: 'latest', digest: image.manifest.digest, platform: 'linux/386', size: 0 }] }));

  // An index another tool wrote: OCI manifests without a mediaType field, for amd64 and 386.
  const ociManifest = (arch) => json({ schemaVersion: 2, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: image.config.digest, size: image.config.size, annotations: { arch } }, layers: [] });
  image.amd64 = blob(ociManifest('amd64'));
  image.i386 = blob(ociManifest('386'));
  image.index = blob(
    json({
      schemaVersion: 2,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: image.amd64.digest, size: image.amd64.size, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: OCI_MANIFEST, digest: image.i386.digest, size: image.i386.size, platform: { architecture: '386', os: 'linux' } },
        { mediaType: OCI_MANIFEST, digest: image.amd64.digest, size: image.amd64.size, platform: { architecture: 'unknown', os: 'unknown' } },
      ],
    }),
  );
  write('site/v2/library/multi/manifests/1.0', image.index.bytes);
  write(
    'site/v2/someone/amd64-only/manifests/latest',
    json({
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [
        { mediaType: DOCKER_MANIFEST, digest: image.amd64.digest, size: image.amd64.size, platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: DOCKER_MANIFEST, digest: image.amd64.digest, size: image.amd64.size, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
      ],
    }),
  );
  // A manifest file whose bytes are not its name's digest, and a tag that holds no JSON.
  image.damagedHex = sha('what the manifest was');
  write(`site/v2/blobs/sha256/${image.damagedHex}`, Buffer.from('{"schemaVersion":2,"damaged":true}'));
  write('site/v2/library/html/manifests/latest', Buffer.from('<!doctype html><title>Not here</title>'));
  // Outside the layout: what a path with ../ would reach.
  write('secret/manifests/latest', json({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, secret: true }));
  write('site/secret/manifests/latest', json({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, secret: true }));

  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    asked.push([req.method, url.pathname, req.headers.range]);
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (failing.has(url.pathname)) return res.writeHead(500).end('boom');
    const file = path.join(dir, decodeURIComponent(url.pathname));
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return res.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>404</h1>');
    const data = fs.readFileSync(file);
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let status = 200;
    let body = data;
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), data.length - 1) : data.length - 1;
      if (start >= data.length) return res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end();
      status = 206;
      body = data.subarray(start, end + 1);
      res.setHeader('Content-Range', `bytes ${start}-${end}/${data.length}`);
    }
    res.setHeader('Content-Type', 'application/octet-stream');
    if (!unsized.has(url.pathname)) res.setHeader('Content-Length', body.length);
    res.writeHead(status);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${server.address().port}/site/`);
});

after(() => {
  server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const registry = () => staticRegistry(base);
const get = (target, headers = {}, method = 'GET') => registry()({ method, target, headers });
const head = (target) => get(target, {}, 'HEAD');

async function bodyOf(res) {
  if (res.body === undefined) return undefined;
  if (res.body instanceof Uint8Array) return Buffer.from(res.body);
  return Buffer.from(await new Response(res.body).arrayBuffer());
}

/** The registry error in a response: status, content type and the one error's code. */
async function errorOf(res) {
  const body = await bodyOf(res);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(Number(res.headers['content-length']), body.length);
  const parsed = JSON.parse(body.toString());
  assert.equal(parsed.errors.length, 1);
  assert.ok('detail' in parsed.errors[0]);
  return { status: res.status, ...parsed.errors[0] };
}

function askedSince(mark) {
  return asked.slice(mark).map(([m, p, r]) => [m, p.replace(/^\/site\//, ''), r].filter(Boolean).join(' '));
}

test('GET /v2/ is 200 {} with the API version, without asking the host', async () => {
  const mark = asked.length;
  const res = await get('/v2/');
  assert.equal(res.status, 200);
  assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal((await bodyOf(res)).toString(), '{}');
  const h = await head('/v2/');
  assert.equal(h.status, 200);
  assert.equal(h.body, undefined);
  assert.equal(h.headers['content-length'], '2');
  assert.equal((await get('/v2')).status, 200);
  assert.deepEqual(askedSince(mark), []);
});

test('a manifest by tag: the file\'s bytes, its media type, its digest and length', async () => {
  const mark = asked.length;
  const res = await get('/v2/library/tiny/manifests/latest');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], DOCKER_MANIFEST);
  assert.equal(res.headers['docker-content-digest'], image.manifest.digest);
  assert.equal(res.headers['content-length'], String(image.manifest.size));
  assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
  assert.deepEqual(await bodyOf(res), image.manifest.bytes);
  assert.deepEqual(askedSince(mark), ['GET v2/library/tiny/manifests/latest']);

  const h = await head('/v2/library/tiny/manifests/latest?ns=docker.io');
  assert.equal(h.status, 200);
  assert.equal(h.body, undefined);
  assert.deepEqual(h.headers, res.headers, 'HEAD: the same headers (a query string is ignored)');
});

test('a manifest by digest comes from v2/blobs/sha256/, checked against its digest', async () => {
  const mark = asked.length;
  const res = await get(`/v2/library/tiny/manifests/${image.manifest.digest}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], DOCKER_MANIFEST);
  assert.equal(res.headers['docker-content-digest'], image.manifest.digest);
  assert.equal(res.headers['content-length'], String(image.manifest.size));
  assert.deepEqual(await bodyOf(res), image.manifest.bytes);
  const h = await head(`/v2/library/tiny/manifests/${image.manifest.digest}`);
  assert.equal(h.body, undefined);
  assert.deepEqual(h.headers, res.headers);
  assert.deepEqual(askedSince(mark), [`GET v2/blobs/sha256/${image.manifest.hex}`, `GET v2/blobs/sha256/${image.manifest.hex}`]);
  // A manifest with no mediaType field gets the one its shape says.
  assert.equal((await get(`/v2/library/multi/manifests/${image.i386.digest}`)).headers['content-type'], OCI_MANIFEST);
  // An index asked for by digest is sent as it is: the client checks what it gets against the digest.
  const index = await get(`/v2/library/multi/manifests/${image.index.digest}`);
  assert.equal(index.headers['content-type'], OCI_INDEX);
  assert.equal(index.headers['docker-content-digest'], image.index.digest);
});

test('an index under a tag is answered with its linux/386 manifest', async () => {
  const mark = asked.length;
  const res = await get('/v2/library/multi/manifests/1.0');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], OCI_MANIFEST);
  assert.equal(res.headers['docker-content-digest'], image.i386.digest);
  assert.equal(res.headers['content-length'], String(image.i386.size));
  assert.deepEqual(await bodyOf(res), image.i386.bytes);
  assert.deepEqual(askedSince(mark), ['GET v2/library/multi/manifests/1.0', `GET v2/blobs/sha256/${image.i386.hex}`]);
  const h = await head('/v2/library/multi/manifests/1.0');
  assert.deepEqual(h.headers, res.headers);
  assert.equal(h.body, undefined);
});

test('an index with no linux/386 manifest is MANIFEST_UNKNOWN, saying so', async () => {
  const res = await get('/v2/someone/amd64-only/manifests/latest');
  const e = await errorOf(res);
  assert.equal(e.status, 404);
  assert.equal(e.code, 'MANIFEST_UNKNOWN');
  assert.match(e.message, /no linux\/386 variant/);
  assert.match(e.message, /linux\/amd64, linux\/arm\/v7/);
});

test('a blob streams from the host with its length and digest; HEAD asks the host for headers only', async () => {
  const mark = asked.length;
  const res = await get(`/v2/library/tiny/blobs/${image.layer.digest}`);
  assert.equal(res.status, 200);
  assert.ok(res.body instanceof ReadableStream, 'a stream, not bytes held in memory');
  assert.equal(res.headers['docker-content-digest'], image.layer.digest);
  assert.equal(res.headers['content-length'], String(image.layer.size));
  assert.equal(res.headers['content-type'], 'application/octet-stream');
  assert.deepEqual(await bodyOf(res), image.layer.bytes);
  const h = await head(`/v2/library/tiny/blobs/${image.config.digest}`);
  assert.equal(h.status, 200);
  assert.equal(h.body, undefined);
  assert.equal(h.headers['content-length'], String(image.config.size));
  assert.equal(h.headers['docker-content-digest'], image.config.digest);
  assert.deepEqual(askedSince(mark), [`GET v2/blobs/sha256/${image.layer.hex}`, `HEAD v2/blobs/sha256/${image.config.hex}`]);
});

test('a blob the host sends without a length is passed on without one', async () => {
  unsized.add(`/site/v2/blobs/sha256/${image.config.hex}`);
  try {
    const res = await get(`/v2/library/tiny/blobs/${image.config.digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], undefined);
    assert.deepEqual(await bodyOf(res), image.config.bytes);
  } finally {
    unsized.clear();
  }
});

test('a blob download resumed with Range gets 206 and the rest', async () => {
  const mark = asked.length;
  const res = await get(`/v2/library/tiny/blobs/${image.layer.digest}`, { range: 'bytes=100-' });
  assert.equal(res.status, 206);
  assert.equal(res.headers['content-range'], `bytes 100-${image.layer.size - 1}/${image.layer.size}`);
  assert.equal(res.headers['content-length'], String(image.layer.size - 100));
  assert.deepEqual(await bodyOf(res), image.layer.bytes.subarray(100));
  assert.deepEqual(askedSince(mark), [`GET v2/blobs/sha256/${image.layer.hex} bytes=100-`]);
  assert.equal((await get(`/v2/library/tiny/blobs/${image.layer.digest}`, { range: `bytes=${image.layer.size + 5}-` })).status, 416);
});

test('what the host lacks is the registry\'s "unknown", 404, for GET and HEAD', async () => {
  const missing = 'sha256:' + '0'.repeat(64);
  const cases = [
    ['/v2/library/tiny/manifests/nope', 'MANIFEST_UNKNOWN'],
    ['/v2/library/nothere/manifests/latest', 'MANIFEST_UNKNOWN'],
    [`/v2/library/tiny/manifests/${missing}`, 'MANIFEST_UNKNOWN'],
    [`/v2/library/tiny/blobs/${missing}`, 'BLOB_UNKNOWN'],
  ];
  for (const [target, code] of cases) {
    const e = await errorOf(await get(target));
    assert.equal(e.status, 404, target);
    assert.equal(e.code, code, target);
    const h = await head(target);
    assert.equal(h.status, 404);
    assert.equal(h.body, undefined);
    assert.equal(h.headers['content-type'], 'application/json');
  }
});

test('names, tags and digests are checked before anything is fetched; ../ reaches nothing', async () => {
  const mark = asked.length;
  const cases = [
    ['/v2/../secret/manifests/latest', 404, 'NAME_UNKNOWN'],
    ['/v2/../../secret/manifests/latest', 404, 'NAME_UNKNOWN'],
    ['/v2/library/../../secret/manifests/latest', 404, 'NAME_UNKNOWN'],
    ['/v2/%2e%2e/secret/manifests/latest', 404, 'NAME_UNKNOWN'],
    ['/v2/Library/Tiny/manifests/latest', 404, 'NAME_UNKNOWN'],
    ['/v2//manifests/latest', 404, 'NAME_UNKNOWN'],
    ['/v2/library/tiny-/manifests/latest', 404, 'NAME_UNKNOWN'],
    ['/v2/library/tiny/manifests/..', 400, 'TAG_INVALID'],
    ['/v2/library/tiny/manifests/.hidden', 400, 'TAG_INVALID'],
    ['/v2/library/tiny/manifests/%2e%2e%2f%2e%2e%2fsecret', 400, 'TAG_INVALID'],
    [`/v2/library/tiny/manifests/sha512:${'a'.repeat(128)}`, 400, 'DIGEST_INVALID'],
    [`/v2/library/tiny/manifests/sha256:${'a'.repeat(63)}`, 400, 'DIGEST_INVALID'],
    [`/v2/library/tiny/blobs/sha256:${'A'.repeat(64)}`, 400, 'DIGEST_INVALID'],
    ['/v2/library/tiny/blobs/sha256:../../../secret/manifests/latest', 404, 'NAME_UNKNOWN'],
    ['/v2/library/tiny/blobs/sha256:..%2f..%2f..%2fsecret', 400, 'DIGEST_INVALID'],
    [`/v2/library/tiny/blobs/${image.layer.hex}`, 400, 'DIGEST_INVALID'],
    ['/v2/library/tiny/tags/list', 404, 'UNSUPPORTED'],
    ['/v2/_catalog', 404, 'UNSUPPORTED'],
    ['/secret/manifests/latest', 404, 'UNSUPPORTED'],
  ];
  for (const [target, status, code] of cases) {
    const e = await errorOf(await get(target));
    assert.deepEqual([e.status, e.code], [status, code], target);
  }
  const push = await errorOf(await get('/v2/library/tiny/blobs/uploads/', {}, 'POST'));
  assert.deepEqual([push.status, push.code], [405, 'UNSUPPORTED']);
  assert.deepEqual(askedSince(mark), [], 'the host was asked nothing');
  // (a proxy's absolute-form target: its path is read, and checked the same way)
  const abs = await get(`http://192.168.86.1:5000/v2/library/tiny/manifests/latest`);
  assert.equal(abs.headers['docker-content-digest'], image.manifest.digest);
});

test('a manifest whose bytes are not its digest is refused as damaged, after one fetch past the cache', async () => {
  const seen = [];
  const spy = (url, init) => (seen.push(init?.cache ?? 'default'), fetch(url, init));
  const mark = asked.length;
  const e = await errorOf(await staticRegistry(base, { fetch: spy })({ method: 'GET', target: `/v2/library/tiny/manifests/sha256:${image.damagedHex}`, headers: {} }));
  assert.equal(e.status, 503);
  assert.match(e.message, /damaged/);
  assert.deepEqual(askedSince(mark), [`GET v2/blobs/sha256/${image.damagedHex}`, `GET v2/blobs/sha256/${image.damagedHex}`]);
  assert.deepEqual(seen, ['default', 'reload']);
  // A tag is asked for past the cache's freshness.
  seen.length = 0;
  await staticRegistry(base, { fetch: spy })({ method: 'GET', target: '/v2/library/tiny/manifests/latest', headers: {} });
  assert.deepEqual(seen, ['no-cache']);
  // A tag holding no manifest at all.
  const html = await errorOf(await get('/v2/library/html/manifests/latest'));
  assert.equal(html.status, 503);
  assert.match(html.message, /is not a manifest/);
});

test('a host that fails (500, or no answer) is 503, naming the URL', async () => {
  failing.add('/site/v2/library/tiny/manifests/latest');
  failing.add(`/site/v2/blobs/sha256/${image.layer.hex}`);
  try {
    const e = await errorOf(await get('/v2/library/tiny/manifests/latest'));
    assert.equal(e.status, 503);
    assert.match(e.message, /answered 500/);
    assert.ok(e.message.includes(`${base}v2/library/tiny/manifests/latest`), e.message);
    const b = await errorOf(await get(`/v2/library/tiny/blobs/${image.layer.digest}`));
    assert.equal(b.status, 503);
    const h = await head(`/v2/library/tiny/blobs/${image.layer.digest}`);
    assert.equal(h.status, 503);
    assert.equal(h.body, undefined);
  } finally {
    failing.clear();
  }
  const down = http.createServer();
  await new Promise((resolve) => down.listen(0, '127.0.0.1', resolve));
  const port = down.address().port;
  await new Promise((resolve) => down.close(resolve));
  const e = await errorOf(await staticRegistry(new URL(`http://127.0.0.1:${port}/layout`))({ method: 'GET', target: '/v2/library/tiny/manifests/latest', headers: {} }));
  assert.equal(e.status, 503);
  assert.ok(e.message.includes(`http://127.0.0.1:${port}/layout/v2/library/tiny/manifests/latest`), e.message);
  assert.equal(e.code, 'UNAVAILABLE');
});

test('a base URL without its final slash is the same directory', async () => {
  const res = await staticRegistry(new URL(base.href.slice(0, -1)))({ method: 'GET', target: '/v2/library/tiny/manifests/latest', headers: {} });
  assert.equal(res.status, 200);
  assert.equal(res.headers['docker-content-digest'], image.manifest.digest);
});
