// The network parts of the end-to-end tests, tested on their own (node --test test/support/):
// the real Wisp relay (its names, its refusals, its stop), Debian's registry seeded by skopeo,
// and the static host. All on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { client as wisp } from '@mercuryworkshop/wisp-js/client';
import { startRelay, startRegistry, seedRegistry, startStaticServer } from './net-parts.mjs';

const HOST_BLOCKED = 0x48;
const NETWORK_ERROR = 0x03;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'net-parts-test-'));
let registry;
const started = [];

before(async () => {
  registry = await startRegistry();
  started.push(registry);
});

after(async () => {
  await Promise.all(started.map((p) => p.stop()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/* ---- helpers ---- */

function within(ms, promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A Wisp connection from the package's own client, open. */
function wispConnect(url) {
  const conn = new wisp.ClientConnection(url);
  conn.closed = new Promise((resolve) => {
    conn.onclose = () => resolve('close');
  });
  return within(5000, new Promise((resolve, reject) => {
    conn.onopen = () => resolve(conn);
    conn.onerror = () => reject(new Error(`wisp connection to ${url} failed`));
  }), `opening ${url}`);
}

/**
 * A Wisp stream as a Node Duplex. `ended` resolves to the close reason the relay (or the client
 * library) gave, or to 'local' if this side closed it first (the client library then calls no
 * onclose: ClientStream.close() just sends CLOSE and forgets the stream).
 */
function wispStream(conn, hostname, port) {
  const stream = conn.create_stream(hostname, port);
  let closeReason, ended;
  const duplex = new Duplex({
    allowHalfOpen: false, // (a closed Wisp stream is closed both ways)
    read() {},
    write(chunk, _enc, cb) {
      stream.send(new Uint8Array(chunk));
      cb();
    },
    destroy(err, cb) {
      if (closeReason === undefined) {
        closeReason = 'local';
        stream.close();
        ended(closeReason);
      }
      cb(err);
    },
  });
  duplex.ended = new Promise((resolve) => {
    ended = resolve;
  });
  stream.onclose = (reason) => {
    if (closeReason !== undefined) return;
    closeReason = reason;
    duplex.push(null);
    ended(reason);
  };
  stream.onmessage = (data) => duplex.push(Buffer.from(data));
  Object.defineProperty(duplex, 'closeReason', { get: () => closeReason });
  return duplex;
}

/** TLS over a Wisp stream, verified against `ca` for `servername`. */
function tlsOver(duplex, servername, ca) {
  return within(5000, new Promise((resolve, reject) => {
    const socket = tls.connect({ socket: duplex, servername, ca });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  }), `TLS to ${servername}`);
}

/** One HTTP/1.1 request over an open socket (Connection: close), the whole answer. */
function httpOver(socket, host, urlPath) {
  return within(5000, new Promise((resolve, reject) => {
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.once('error', reject);
    socket.once('end', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head, ...body] = raw.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: body.join('\r\n\r\n') });
    });
    socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  }), `GET ${urlPath} from ${host}`);
}

function request(url, { method = 'GET', headers = {}, ca, rawPath } = {}) {
  return within(5000, new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request({ host: u.hostname, port: u.port, path: rawPath ?? u.pathname + u.search, method, headers, ca, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  }), `${method} ${url}`);
}

const sha256 = (b) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

/** A tiny linux/386 layer: one text file, as an uncompressed tar made by the system tar. */
function layerTar(text) {
  const dir = fs.mkdtempSync(path.join(tmp, 'layer-'));
  fs.writeFileSync(path.join(dir, 'hello.txt'), text);
  const tar = path.join(dir, '..', `${path.basename(dir)}.tar`);
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-cf', tar, 'hello.txt']);
  return fs.readFileSync(tar);
}

function configFor(tarBytes) {
  return Buffer.from(JSON.stringify({
    architecture: '386',
    os: 'linux',
    config: { Cmd: ['/bin/cat', '/hello.txt'] },
    rootfs: { type: 'layers', diff_ids: [sha256(tarBytes)] },
    history: [{ created_by: 'net-parts.test.mjs' }],
  }));
}

/** An oci-archive of a one-layer linux/386 image, made by hand; returns its path and digests. */
function makeOciArchive(text) {
  const tar = layerTar(text);
  const layer = zlib.gzipSync(tar);
  const config = configFor(tar);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
  }));
  const dir = fs.mkdtempSync(path.join(tmp, 'oci-'));
  fs.mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
  for (const blob of [layer, config, manifest]) fs.writeFileSync(path.join(dir, 'blobs/sha256', sha256(blob).slice(7)), blob);
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(manifest), size: manifest.length,
      platform: { architecture: '386', os: 'linux' },
    }],
  }));
  const archive = `${dir}.tar`;
  execFileSync('tar', ['-C', dir, '-cf', archive, 'oci-layout', 'index.json', 'blobs']);
  return { archive, manifestDigest: sha256(manifest), configDigest: sha256(config), layerDigest: sha256(layer) };
}

/** A docker-archive (docker save's format) of a one-layer linux/386 image. */
function makeDockerArchive(text, tag) {
  const tar = layerTar(text);
  const config = configFor(tar);
  const dir = fs.mkdtempSync(path.join(tmp, 'docker-'));
  const configName = `${sha256(config).slice(7)}.json`;
  fs.writeFileSync(path.join(dir, configName), config);
  fs.mkdirSync(path.join(dir, 'l1'));
  fs.writeFileSync(path.join(dir, 'l1/layer.tar'), tar);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: ['l1/layer.tar'] }]));
  const archive = `${dir}.tar`;
  execFileSync('tar', ['-C', dir, '-cf', archive, 'manifest.json', configName, 'l1']);
  return { archive, configDigest: sha256(config) };
}

/* ---- the relay ---- */

test('relay: a test name reaches the registry over TLS; 127.0.0.1, localhost, public names are refused', { timeout: 30_000 }, async () => {
  const relay = await startRelay();
  started.push(relay);
  assert.match(relay.url, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
  const conn = await wispConnect(relay.url);
  try {
    // registry.test resolves (in the relay only) to 127.0.0.1; TLS verified against the test CA.
    const stream = wispStream(conn, 'registry.test', registry.port);
    const socket = await tlsOver(stream, 'registry.test', registry.caPem);
    const res = await httpOver(socket, registry.host, '/v2/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
    assert.equal(res.body.trim(), '{}');

    // The destination closing a stream reaches the client as a CLOSE (0x02, voluntary), with
    // all the data before it: plain HTTP to the TLS port, which Go answers with a 400 and closes.
    const plain = wispStream(conn, 'registry.test', registry.port);
    const chunks = [];
    plain.on('data', (c) => chunks.push(c));
    plain.write('GET /v2/ HTTP/1.0\r\n\r\n');
    assert.equal(await within(5000, plain.ended, 'the registry closing'), 0x02);
    assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.[01] 400 Bad Request[^]*HTTP request to an HTTPS server/);

    // Everything else: refused by the relay's filter (HostBlocked), not merely failing.
    for (const hostname of ['127.0.0.1', 'localhost', 'example.com', 'registry.test.example.com', '::1', '0.0.0.0']) {
      const refused = wispStream(conn, hostname, registry.port);
      assert.equal(await within(5000, refused.ended, hostname), HOST_BLOCKED, `${hostname} should be refused`);
    }
    // A test name with nothing listening: let through, then the connection fails.
    const free = await freePort();
    const failed = wispStream(conn, 'nothing.test', free);
    assert.equal(await within(5000, failed.ended, 'nothing.test'), NETWORK_ERROR);

    assert.equal(relay.connections.length, 9);
    const byHost = Object.fromEntries(relay.connections.map((c) => [`${c.hostname}:${c.port}`, c.status]));
    assert.deepEqual(byHost, {
      [`registry.test:${registry.port}`]: 'closed',
      [`127.0.0.1:${registry.port}`]: 'refused',
      [`localhost:${registry.port}`]: 'refused',
      [`example.com:${registry.port}`]: 'refused',
      [`registry.test.example.com:${registry.port}`]: 'refused',
      [`::1:${registry.port}`]: 'refused',
      [`0.0.0.0:${registry.port}`]: 'refused',
      [`nothing.test:${free}`]: 'failed',
    });
    assert.deepEqual(relay.connections.filter((c) => c.status !== 'refused' && c.status !== 'failed').map((c) => [c.hostname, c.port]), [['registry.test', registry.port], ['registry.test', registry.port]]);
  } finally {
    conn.close();
    await relay.stop();
  }
});

test('relay: its own names only (testNames), and only Wisp on /', { timeout: 30_000 }, async () => {
  // (a pattern that also matches an IP: IP literals are refused all the same)
  const relay = await startRelay({ testNames: /^(only\.example|127\.0\.0\.1)$/g });
  started.push(relay);
  const conn = await wispConnect(relay.url);
  try {
    for (const hostname of ['registry.test', '127.0.0.1']) {
      assert.equal(await within(5000, wispStream(conn, hostname, registry.port).ended, hostname), HOST_BLOCKED, hostname);
    }
    // (twice: a /g pattern must not keep state between tests)
    for (let i = 0; i < 2; i++) {
      const s = wispStream(conn, 'only.example', registry.port);
      const socket = await tlsOver(s, 'registry.test', registry.caPem);
      assert.equal((await httpOver(socket, registry.host, '/v2/')).status, 200);
    }
    // Another URL would be wisp-js's "wsproxy" tunnel, which bypasses the hook: not served.
    for (const urlPath of [`/only.example:${registry.port}`, `/?only.example:${registry.port}`]) {
      const res = await new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: relay.port, path: urlPath, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64') } });
        req.on('response', (r) => resolve(r.statusCode));
        req.on('upgrade', (_res, socket) => {
          socket.destroy();
          resolve('upgraded');
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(res, 404, urlPath);
    }
  } finally {
    conn.close();
    await relay.stop();
  }
});

test('relay: stop() ends an open stream at once and closes the port', { timeout: 30_000 }, async () => {
  const relay = await startRelay();
  started.push(relay);
  const conn = await wispConnect(relay.url);
  const stream = wispStream(conn, 'registry.test', registry.port);
  const socket = await tlsOver(stream, 'registry.test', registry.caPem);
  const socketClosed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  assert.equal(relay.connections[0].status, 'open');

  const t0 = Date.now();
  await within(2000, relay.stop(), 'relay.stop()');
  await within(2000, Promise.all([stream.ended, socketClosed, conn.closed]), 'the stream and the connection ending');
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(stream.closeReason, NETWORK_ERROR); // (the client's own reason: its WebSocket went)
  assert.equal(relay.connections[0].status, 'closed');
  await assert.rejects(new Promise((resolve, reject) => {
    const s = net.connect(relay.port, '127.0.0.1', () => {
      s.destroy();
      resolve();
    });
    s.on('error', reject);
  }), { code: 'ECONNREFUSED' });

  // Started again on the same port (as after a cut): a new connection works, the old one stays
  // closed (the wisp-js client does not reconnect by itself).
  const again = await startRelay({ port: relay.port });
  started.push(again);
  try {
    assert.equal(again.url, relay.url);
    const conn2 = await wispConnect(again.url);
    const socket2 = await tlsOver(wispStream(conn2, 'registry.test', registry.port), 'registry.test', registry.caPem);
    assert.equal((await httpOver(socket2, registry.host, '/v2/')).status, 200);
    assert.equal(conn.connected, false);
    assert.deepEqual(again.connections.map((c) => c.hostname), ['registry.test']);
    conn2.close();
  } finally {
    await again.stop();
  }
});

/* ---- the registry ---- */

test('registry: TLS for registry.test and 127.0.0.1 with the throwaway CA, plain /v2/', { timeout: 30_000 }, async () => {
  assert.match(registry.host, /^registry\.test:\d+$/);
  assert.equal(registry.host, `registry.test:${registry.port}`);
  assert.match(registry.caPem, /BEGIN CERTIFICATE/);
  const res = await request(`https://127.0.0.1:${registry.port}/v2/`, { ca: registry.caPem });
  assert.equal(res.status, 200);
  // Not trusted without the CA.
  await assert.rejects(request(`https://127.0.0.1:${registry.port}/v2/`), /self[- ]signed|unable to (get|verify)/i);
  const cert = new crypto.X509Certificate(registry.certPem);
  assert.match(cert.subjectAltName, /DNS:registry\.test/);
  assert.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);
  assert.ok(cert.verify(new crypto.X509Certificate(registry.caPem).publicKey));
});

test('registry: an oci-archive pushed with skopeo reads back (linux/386)', { timeout: 60_000 }, async () => {
  const image = makeOciArchive('hello from an OCI archive\n');
  const { digest } = await seedRegistry(registry, image.archive, 'test/hello:1', { format: 'oci-archive' });
  assert.equal(digest, image.manifestDigest);
  const ca = registry.caPem;
  const res = await request(`${registry.url}/v2/test/hello/manifests/1`, { ca, headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['docker-content-digest'], image.manifestDigest);
  const manifest = JSON.parse(res.body);
  assert.equal(manifest.config.digest, image.configDigest);
  assert.deepEqual(manifest.layers.map((l) => l.digest), [image.layerDigest]);
  const config = JSON.parse((await request(`${registry.url}/v2/test/hello/blobs/${image.configDigest}`, { ca })).body);
  assert.equal(config.architecture, '386');
  const layer = await request(`${registry.url}/v2/test/hello/blobs/${image.layerDigest}`, { ca });
  assert.equal(sha256(layer.body), image.layerDigest);
  const tags = JSON.parse((await request(`${registry.url}/v2/test/hello/tags/list`, { ca })).body);
  assert.deepEqual(tags, { name: 'test/hello', tags: ['1'] });
});

test('registry: without TLS, a docker-archive pushed with skopeo reads back', { timeout: 60_000 }, async () => {
  const plain = await startRegistry({ tls: false, name: 'plain.test' });
  started.push(plain);
  try {
    assert.equal(plain.caPem, null);
    assert.equal(plain.host, `plain.test:${plain.port}`);
    assert.equal((await request(`http://127.0.0.1:${plain.port}/v2/`)).status, 200);
    const image = makeDockerArchive('hello from a docker archive\n', 'hello:2');
    const { digest } = await seedRegistry(plain, image.archive, 'library/hello:2');
    const res = await request(`http://127.0.0.1:${plain.port}/v2/library/hello/manifests/2`, { headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-content-digest'], digest);
    const manifest = JSON.parse(res.body);
    assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(manifest.config.digest, image.configDigest);
  } finally {
    await plain.stop();
  }
  assert.equal(fs.existsSync(plain.dir), false);
  assert.throws(() => process.kill(plain.pid, 0), { code: 'ESRCH' });
});

/* ---- the static server ---- */

test('static server: files with CORS and Content-Length, preflight, 404s, no listing, no way out', { timeout: 30_000 }, async () => {
  const site = fs.mkdtempSync(path.join(tmp, 'site-'));
  const root = path.join(site, 'www');
  fs.mkdirSync(path.join(root, 'images'), { recursive: true });
  fs.writeFileSync(path.join(root, 'images/blob.bin'), crypto.randomBytes(3000));
  fs.writeFileSync(path.join(root, 'a b.json'), '{"ok":true}');
  fs.writeFileSync(path.join(site, 'secret.txt'), 'SECRET');
  fs.symlinkSync(path.join(site, 'secret.txt'), path.join(root, 'link.txt'));

  const server = await startStaticServer(root);
  started.push(server);
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const u = (p) => new URL(p, server.url).href;

  const blob = await request(u('images/blob.bin'), { headers: { Origin: 'http://localhost:8000' } });
  assert.equal(blob.status, 200);
  assert.equal(blob.headers['access-control-allow-origin'], '*');
  assert.equal(blob.headers['content-length'], '3000');
  assert.deepEqual(blob.body, fs.readFileSync(path.join(root, 'images/blob.bin')));
  for (const h of Object.keys(blob.headers)) assert.doesNotMatch(h, /docker|distribution|www-authenticate/i);

  const head = await request(u('a%20b.json'), { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '11');
  assert.equal(head.headers['content-type'], 'application/json');

  const pre = await request(u('images/blob.bin'), { method: 'OPTIONS', headers: { Origin: 'http://localhost:8000', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers['access-control-allow-origin'], '*');
  assert.match(pre.headers['access-control-allow-methods'], /GET/);
  assert.match(pre.headers['access-control-allow-headers'], /range/);

  const missing = await request(u('images/nope.bin'));
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['access-control-allow-origin'], '*');
  assert.equal((await request(u('images/'))).status, 404); // (no listing)
  assert.equal((await request(u(''))).status, 404);
  assert.equal((await request(u('images/blob.bin'), { method: 'POST' })).status, 405);

  for (const rawPath of ['/../secret.txt', '/images/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/images/..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/link.txt', '/%00', '/%zz']) {
    const res = await request(server.url, { rawPath });
    assert.equal(res.status, 404, rawPath);
    assert.doesNotMatch(res.body.toString(), /SECRET/, rawPath);
  }
  assert.equal(server.requests.length, 16);
  assert.deepEqual(server.requests.slice(0, 3), ['/images/blob.bin', '/a%20b.json', '/images/blob.bin']);
  assert.deepEqual(server.log.slice(0, 4), [
    { method: 'GET', path: '/images/blob.bin', status: 200 },
    { method: 'HEAD', path: '/a%20b.json', status: 200 },
    { method: 'OPTIONS', path: '/images/blob.bin', status: 204 },
    { method: 'GET', path: '/images/nope.bin', status: 404 },
  ]);
  await server.stop();
  await assert.rejects(request(u('images/blob.bin')), { code: 'ECONNREFUSED' });
});

/* ---- nothing left ---- */

test('everything stops: no docker-registry of ours left running', { timeout: 30_000 }, async () => {
  const pids = started.filter((p) => p.pid).map((p) => p.pid);
  assert.ok(pids.length >= 2);
  await Promise.all(started.map((p) => p.stop()));
  // (others may run registries of their own on this machine: ours must not be among them)
  const running = spawnSync('pgrep', ['-x', 'docker-registry'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
  for (const pid of pids) {
    assert.ok(!running.includes(pid), `docker-registry ${pid} still running`);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  }
  assert.equal(fs.existsSync(registry.dir), false);
});

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}
