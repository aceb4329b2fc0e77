// `docker-terminal images add`: what it writes is checked against the layout contract
// (docs/static-registry.md) for each kind of input: `docker save` tarballs (Docker 25+ and legacy)
// and OCI archives made by ./archive.mjs, and references pulled from a real registry (Debian's
// docker-registry, distribution 2.8, on loopback, behind the anonymous token flow that Docker Hub
// uses; seeded with Debian's skopeo).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { busyboxFiles, makeImageArchive, tar } from './archive.mjs';
import { indexTar } from '../../bin/tar.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repo, 'bin/docker-terminal.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dt-images-'));
const sha256 = (bytes) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;

const DOCKER = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
};
const OCI = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

let busybox;
let n = 0;
const fresh = (name) => path.join(tmp, `${n++}-${name}`);

before(() => {
  busybox = busyboxFiles();
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs `docker-terminal images add ARGS` (asynchronously: the token service answers in this process). */
function imagesAdd(...args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, 'images', 'add', ...args], { cwd: tmp }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

async function added(...args) {
  const r = await imagesAdd(...args);
  assert.equal(r.code, 0, `images add ${args.join(' ')} failed:\n${r.stderr}`);
  const mb = /added (\d+\.\d+) MB/.exec(r.stdout);
  assert.ok(mb, `no "added … MB" line in:\n${r.stdout}`);
  return { ...r, mb: Number(mb[1]) };
}

/** Every file under dir: relative path → bytes. */
function snapshot(dir) {
  const files = new Map();
  if (!fs.existsSync(dir)) return files;
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    const full = path.join(dir, f);
    if (fs.statSync(full).isFile()) files.set(f.split(path.sep).join('/'), fs.readFileSync(full));
  }
  return files;
}

/**
 * Checks the layout in `out` against the contract, and that it holds `images` ({ name, tag,
 * configDigest, diffIds, manifestDigest? }) with manifests of the media types `types`.
 */
function checkLayout(out, images, types) {
  const files = snapshot(out);
  for (const [name, bytes] of files) {
    assert.ok(name === 'docker-terminal-registry.json' || /^v2\/blobs\/sha256\/[a-f0-9]{64}$/.test(name) || /^v2\/[a-z0-9._/-]+\/manifests\/[\w][\w.-]*$/.test(name), `unexpected file ${name}`);
    if (name.startsWith('v2/blobs/')) assert.equal(sha256(bytes), `sha256:${path.basename(name)}`, `${name} does not match its digest`);
  }
  const index = JSON.parse(files.get('docker-terminal-registry.json'));
  assert.equal(index.version, 1);
  const blob = (digest) => files.get(`v2/blobs/sha256/${digest.slice(7)}`) ?? assert.fail(`blob ${digest} is missing`);
  for (const image of images) {
    const entries = index.images.filter((i) => i.name === image.name && i.tag === image.tag);
    assert.equal(entries.length, 1, `docker-terminal-registry.json lists ${image.name}:${image.tag} ${entries.length} times`);
    const [entry] = entries;
    assert.equal(entry.platform, 'linux/386');
    const manifestBytes = files.get(`v2/${image.name}/manifests/${image.tag}`) ?? assert.fail(`v2/${image.name}/manifests/${image.tag} is missing`);
    assert.equal(sha256(manifestBytes), entry.digest, 'the tag and the json name different manifests');
    assert.deepEqual(blob(entry.digest), manifestBytes, 'the manifest is not stored under its digest');
    if (image.manifestDigest) assert.equal(entry.digest, image.manifestDigest, 'the manifest was not kept as it was');
    const manifest = JSON.parse(manifestBytes);
    assert.equal(manifest.schemaVersion, 2);
    assert.equal(manifest.mediaType, types.manifest);
    assert.equal(manifest.config.mediaType, types.config);
    assert.equal(manifest.config.digest, image.configDigest);
    const config = JSON.parse(blob(manifest.config.digest));
    assert.equal(config.architecture, '386');
    assert.equal(config.os, 'linux');
    assert.deepEqual(config.rootfs.diff_ids, image.diffIds);
    assert.equal(manifest.layers.length, image.diffIds.length);
    let size = manifest.config.size;
    for (const [i, layer] of manifest.layers.entries()) {
      assert.equal(layer.mediaType, types.layer);
      const bytes = blob(layer.digest);
      assert.equal(bytes.length, layer.size);
      assert.equal(sha256(zlib.gunzipSync(bytes)), image.diffIds[i], `layer ${i} does not unpack to its diff_id`);
      size += layer.size;
    }
    assert.equal(entry.size, size, 'the json size is not config + layers');
  }
  return { files, index };
}

const twoImages = () => [
  { name: 'busybox', tag: '1', files: busybox, cmd: ['sh'] },
  { name: 'user/app', tag: '2', files: busybox, extraLayerBytes: 300_000, cmd: ['httpd', '-f'] },
];
const stored = (images) => images.map((i) => ({ ...i, name: i.name.includes('/') ? i.name : `library/${i.name}` }));

for (const format of ['docker-save', 'docker-save-legacy', 'oci']) {
  test(`images add writes a ${format} archive's images in the layout`, async () => {
    const archive = fresh(`${format}.tar`);
    const images = makeImageArchive({ out: archive, format, images: twoImages() });
    const out = fresh('out');
    const r = await added(archive, '--out', out);
    const expected = stored(images).map((i) => (format === 'oci' ? i : { ...i, manifestDigest: undefined }));
    const { files, index } = checkLayout(out, expected, format === 'oci' ? OCI : DOCKER);
    // One line per image, and the busybox layer the two share stored once: 2 manifests, 2 configs, 2 layers.
    assert.match(r.stdout, /^library\/busybox:1 {2}sha256:[a-f0-9]{64} {2}\d+\.\d\d MB$/m);
    assert.match(r.stdout, /^user\/app:2 {2}sha256:[a-f0-9]{64} {2}\d+\.\d\d MB$/m);
    assert.equal([...files.keys()].filter((f) => f.startsWith('v2/blobs/')).length, 6);
    assert.equal(index.images.length, 2);
    const blobBytes = [...files].filter(([f]) => f.startsWith('v2/blobs/')).reduce((s, [, b]) => s + b.length, 0);
    assert.equal(r.mb, Number((blobBytes / 1e6).toFixed(2)), 'the MB added are not the blobs written');
    // The config keeps what the image runs.
    const manifest = JSON.parse(files.get('v2/user/app/manifests/2'));
    assert.deepEqual(JSON.parse(files.get(`v2/blobs/sha256/${manifest.config.digest.slice(7)}`)).config.Cmd, ['httpd', '-f']);
  });
}

test('blobs are stored once across images and runs; a repeated image adds 0 MB', async () => {
  const out = fresh('out');
  const first = fresh('first.tar');
  makeImageArchive({ out: first, format: 'docker-save', images: [{ name: 'busybox', tag: '1', files: busybox }] });
  const r1 = await added(first, '--out', out);
  assert.ok(r1.mb > 0.5, `the busybox layer should add about 1 MB, not ${r1.mb}`);

  // Another image on the same busybox layer, from another archive: only its own blobs are new.
  const second = fresh('second.tar');
  const [app] = makeImageArchive({ out: second, format: 'docker-save-legacy', images: [{ name: 'app', tag: 'v2', files: busybox, extraLayerBytes: 200_000 }] });
  const before = snapshot(out);
  const r2 = await added(second, '--out', out);
  const after = snapshot(out);
  const newBlobs = [...after.keys()].filter((f) => f.startsWith('v2/blobs/') && !before.has(f));
  assert.equal(newBlobs.length, 3, `expected a new config, layer and manifest, got ${newBlobs.join(', ')}`);
  assert.equal(r2.mb, Number((newBlobs.reduce((s, f) => s + after.get(f).length, 0) / 1e6).toFixed(2)));
  assert.ok(r2.mb < 0.3, `the shared layer was counted again (${r2.mb} MB)`);
  for (const [f, b] of before) if (f !== 'docker-terminal-registry.json') assert.deepEqual(after.get(f), b, `${f} changed`);
  checkLayout(out, [{ ...app, name: 'library/app' }], DOCKER);
  assert.deepEqual(JSON.parse(after.get('docker-terminal-registry.json')).images.map((i) => `${i.name}:${i.tag}`), ['library/busybox:1', 'library/app:v2']);

  // The same images again, as they were, in the other docker save form, and gzip-compressed: nothing new.
  const legacyFirst = fresh('first-legacy.tar');
  makeImageArchive({ out: legacyFirst, format: 'docker-save-legacy', images: [{ name: 'busybox', tag: '1', files: busybox }] });
  fs.writeFileSync(`${second}.gz`, zlib.gzipSync(fs.readFileSync(second)));
  for (const again of [[first], [legacyFirst], [`${second}.gz`], [first, second]]) {
    const r = await added(...again, '--out', out);
    assert.equal(r.mb, 0, `${again.map((a) => path.basename(a)).join(' ')} added ${r.mb} MB:\n${r.stdout}`);
    assert.deepEqual(snapshot(out), after);
  }
});

test('an amd64 image is refused, and nothing of the run is written', async () => {
  const amd64 = fresh('amd64.tar');
  makeImageArchive({ out: amd64, format: 'docker-save', images: [{ name: 'nginx', tag: 'latest', files: { 'hello.txt': 'hello' }, architecture: 'amd64' }] });
  const good = fresh('good.tar');
  makeImageArchive({ out: good, format: 'oci', images: [{ name: 'busybox', tag: '1', files: busybox }] });

  const none = fresh('out');
  const r = await imagesAdd(amd64, '--out', none);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nginx:latest .*linux\/amd64/);
  assert.match(r.stderr, /only linux\/386 images run on the v86 engine/);
  assert.match(r.stderr, /docker pull --platform linux\/386 nginx:latest && docker save nginx:latest -o nginx-latest\.tar/);
  assert.deepEqual(snapshot(none), new Map());

  // Into an existing layout, with a good image before it: the layout stays as it was.
  const out = fresh('out');
  await added(good, '--out', out);
  const before = snapshot(out);
  const r2 = await imagesAdd(good, amd64, '--out', out);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /linux\/amd64/);
  assert.deepEqual(snapshot(out), before);
});

test('an OCI archive that names only a tag needs --name', async () => {
  const archive = fresh('tag-only.tar');
  const [image] = makeImageArchive({ out: archive, format: 'oci', images: [{ tag: 'v3', files: busybox }] });
  const out = fresh('out');
  const r = await imagesAdd(archive, '--out', out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /only by the tag "v3".*--name/);
  assert.equal(fs.existsSync(path.join(out, 'docker-terminal-registry.json')), false);

  const r2 = await added(archive, '--out', out, '--name', 'myapp');
  assert.match(r2.stdout, /^library\/myapp:v3 /m);
  checkLayout(out, [{ ...image, name: 'library/myapp', tag: 'v3' }], OCI);
});

test('an OCI layout with uncompressed layers gets them gzip-compressed, in an OCI manifest', async () => {
  // A Docker 25+ docker save without its manifest.json is such a layout, named by containerd's annotation.
  const save = fresh('docker-save.tar');
  const [image] = makeImageArchive({ out: save, format: 'docker-save', images: [{ name: 'user/plain', tag: '5', files: busybox }] });
  const layout = fresh('layout.tar');
  const entries = [...indexTar(save)].filter(([name]) => name !== 'manifest.json' && name !== 'repositories');
  fs.writeFileSync(layout, tar(entries.map(([name, { offset, size }]) => ({ name, type: 'file', data: fs.readFileSync(save).subarray(offset, offset + size) }))));
  const out = fresh('out');
  await added(layout, '--out', out);
  const { files } = checkLayout(out, [{ ...image, manifestDigest: undefined }], OCI);
  assert.notEqual(sha256(files.get('v2/user/plain/manifests/5')), image.manifestDigest, 'the manifest of uncompressed layers was kept');
});

test('a damaged archive is refused, and no blob of it is left', async () => {
  const archive = fresh('damaged.tar');
  makeImageArchive({ out: archive, format: 'docker-save-legacy', images: [{ name: 'busybox', tag: '1', files: busybox }] });
  const [, layer] = [...indexTar(archive)].find(([name]) => name.endsWith('/layer.tar'));
  const bytes = fs.readFileSync(archive);
  bytes[layer.offset + layer.size - 2000] ^= 0xff; // inside the busybox binary
  fs.writeFileSync(archive, bytes);
  const out = fresh('out');
  const r = await imagesAdd(archive, '--out', out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /layer 1 of busybox:1 .* does not match its diff_id sha256:[a-f0-9]{64} .*damaged/);
  assert.deepEqual([...snapshot(out).keys()], []);
});

test('wrong arguments are said plainly', async () => {
  const r = await imagesAdd('./missing.tar', '--out', fresh('out'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /missing\.tar: no such file/);
  const r2 = await imagesAdd('Not_A_Ref', '--out', fresh('out'));
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /neither a file nor a valid image reference/);
  const r3 = await imagesAdd('busybox:1');
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /needs --out/);
});

// ---------------------------------------------------------------------------------------------
// A real registry

/** Debian's docker-registry on loopback, with token auth: a token service here grants anyone anything. */
async function startRegistry() {
  const dir = fresh('registry');
  fs.mkdirSync(dir);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '2', '-subj', '/CN=test-token-issuer'], { stdio: 'ignore' });
  const key = fs.readFileSync(`${dir}/key.pem`);
  const cert = new crypto.X509Certificate(fs.readFileSync(`${dir}/cert.pem`)).raw.toString('base64');
  const tokens = [];
  const tokenService = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://token');
    tokens.push(url.searchParams.getAll('scope'));
    const access = url.searchParams.getAll('scope').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: actions.split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const part = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${part({ alg: 'RS256', typ: 'JWT', x5c: [cert] })}.${part({ iss: 'test-issuer', sub: '', aud: 'test-registry', exp: now + 600, nbf: now - 10, iat: now, jti: crypto.randomUUID(), access })}`;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token: `${unsigned}.${crypto.sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`, expires_in: 600 }));
  });
  const tokenPort = await listen(tokenService);
  const port = await freePort();
  fs.writeFileSync(
    `${dir}/config.yml`,
    `version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: ${dir}/data } }
http: { addr: 127.0.0.1:${port}, secret: test }
auth: { token: { realm: "http://127.0.0.1:${tokenPort}/token", service: test-registry, issuer: test-issuer, rootcertbundle: ${dir}/cert.pem } }
`,
  );
  let log = '';
  const proc = spawn('docker-registry', ['serve', `${dir}/config.yml`], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  for (let i = 0; ; i++) {
    const status = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.status, () => 0);
    if (status === 401) break;
    if (i > 100 || proc.exitCode !== null) throw new Error(`docker-registry did not start (is Debian's docker-registry installed?):\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const host = `127.0.0.1:${port}`;
  return {
    host,
    tokens,
    /** skopeo copy SRC to docker://HOST/DEST (over plain http, with a token from the service). */
    push: (src, dest, ...flags) => run('skopeo', ['copy', '--quiet', '--insecure-policy', '--dest-tls-verify=false', ...flags, src, `docker://${host}/${dest}`]),
    inspectRaw: async (ref) => Buffer.from(await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${host}/${ref}`], 'buffer')),
    async stop() {
      proc.kill();
      await exited;
      await new Promise((r) => tokenService.close(r));
    },
  };
}

function run(cmd, args, encoding = 'utf8') {
  return new Promise((resolve, reject) => execFile(cmd, args, { encoding, maxBuffer: 64 << 20 }, (e, stdout, stderr) => (e ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`)) : resolve(stdout))));
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const freePort = async () => {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
};

test('a reference is pulled from a registry through its token flow; from an index, linux/386', async (t) => {
  const registry = await startRegistry();
  t.after(() => registry.stop());

  // A docker save pushed by skopeo (which gzips the layers and writes a Docker schema 2 manifest).
  const save = fresh('busybox.tar');
  const [busy] = makeImageArchive({ out: save, format: 'docker-save', images: [{ name: 'busybox', tag: '1', files: busybox }] });
  await registry.push(`docker-archive:${save}:busybox:1`, 'busybox:1');
  const out = fresh('out');
  const r = await added(`${registry.host}/busybox:1`, '--out', out);
  const raw = await registry.inspectRaw('busybox:1');
  checkLayout(out, [{ ...busy, name: 'library/busybox', manifestDigest: sha256(raw) }], DOCKER);
  assert.match(r.stdout, new RegExp(`^library/busybox:1 {2}${sha256(raw)} `, 'm'));
  assert.ok(registry.tokens.some((scopes) => scopes.includes('repository:busybox:pull')), `no anonymous pull token was asked for: ${JSON.stringify(registry.tokens)}`);

  // A multi-platform OCI image (386 and amd64), pushed as it is: images add keeps the 386 manifest.
  const oci = fresh('multi.tar');
  const [multi] = makeImageArchive({ out: oci, format: 'oci', images: [{ name: 'multi', tag: '1', files: busybox, extraLayerBytes: 100_000, platforms: ['amd64', '386'] }] });
  await registry.push(`oci-archive:${oci}:multi:1`, 'tools/multi:1', '--all', '--preserve-digests');
  assert.equal(sha256(await registry.inspectRaw('tools/multi:1')), multi.indexDigest, 'the registry does not hold the index as pushed');
  const out2 = fresh('out');
  await added(`${registry.host}/tools/multi:1`, '--out', out2);
  const want = { name: 'tools/multi', tag: '1', ...multi.platforms['386'] };
  checkLayout(out2, [want], OCI);
  // … also when asked for by the index's digest, with a tag to store it under.
  const out3 = fresh('out');
  await added(`${registry.host}/tools/multi:pinned@${multi.indexDigest}`, '--out', out3);
  checkLayout(out3, [{ ...want, tag: 'pinned' }], OCI);
  const r4 = await imagesAdd(`${registry.host}/tools/multi@${multi.indexDigest}`, '--out', fresh('out'));
  assert.equal(r4.code, 1);
  assert.match(r4.stderr, /has no tag.*--name tools\/multi:TAG/);

  // An index without linux/386, and a reference the registry lacks, are refused plainly.
  const noI386 = fresh('no386.tar');
  makeImageArchive({ out: noI386, format: 'oci', images: [{ name: 'other', tag: '1', files: { a: 'a' }, platforms: ['amd64', 'arm64'] }] });
  await registry.push(`oci-archive:${noI386}:other:1`, 'other:1', '--all', '--preserve-digests');
  const r5 = await imagesAdd(`${registry.host}/other:1`, '--out', fresh('out'));
  assert.equal(r5.code, 1);
  assert.match(r5.stderr, /has no linux\/386 image \(it has linux\/amd64, linux\/arm64\); only linux\/386 images run on the v86 engine/);
  const r6 = await imagesAdd(`${registry.host}/busybox:nope`, '--out', fresh('out'));
  assert.equal(r6.code, 1);
  assert.match(r6.stderr, /not found on 127\.0\.0\.1:\d+ \(MANIFEST_UNKNOWN\)/);
});
