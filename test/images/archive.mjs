// Real image archives for tests: `docker save` tarballs (Docker 25+ and legacy) and OCI archives of
// linux/386 images made from given files, the way Docker and OCI tools lay them out, without Docker.
// busyboxFiles() gives the content for images that run: Debian's i386 busybox-static and the links
// that make `sh`, `httpd`, `wget` … of it. (Nothing here executes an i386 program: the host's kernel
// may refuse them.)
//
//   makeImageArchive({ out: 'x.tar', format: 'docker-save' | 'docker-save-legacy' | 'oci',
//     images: [{ name, tag, files: { 'bin/x': bytes | string | { data, mode } | { symlink } },
//                extraLayerBytes?, cmd?, architecture? ('386'), platforms? (oci: ['386', 'amd64']) }] })
//
// returns, per image, what a test checks a copy against: { name, tag, architecture, configDigest,
// diffIds, manifestDigest (oci and docker-save: the manifest in the archive), platforms (a
// multi-platform oci image: architecture → { manifestDigest, configDigest, diffIds }), indexDigest }.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const sha256 = (bytes) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
const hex = (digest) => digest.slice('sha256:'.length);
const json = (value) => Buffer.from(JSON.stringify(value));

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

// ---------------------------------------------------------------------------------------------
// tar

/** A tar (ustar, pax records for long names) of entries { name, type: file|dir|symlink, data, mode, link }. */
export function tar(entries) {
  const blocks = [];
  for (const e of entries) {
    const data = e.type === 'file' ? Buffer.from(e.data) : Buffer.alloc(0);
    const name = e.type === 'dir' ? `${e.name}/` : e.name;
    const pax = {};
    if (Buffer.byteLength(name) > 100) pax.path = name;
    if (e.link && Buffer.byteLength(e.link) > 100) pax.linkpath = e.link;
    if (Object.keys(pax).length) {
      const body = Buffer.from(Object.entries(pax).map(([k, v]) => paxRecord(k, v)).join(''));
      blocks.push(header({ name: 'PaxHeader', size: body.length, flag: 'x', mode: 0o644 }), pad(body));
    }
    const flag = { file: '0', dir: '5', symlink: '2' }[e.type];
    blocks.push(header({ name: name.slice(0, 100), size: data.length, flag, mode: e.mode ?? (e.type === 'file' ? 0o644 : 0o755), link: (e.link ?? '').slice(0, 100) }), pad(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function paxRecord(key, value) {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

const pad = (data) => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);

/** A ustar header; owner root, time 0, so that the same files always make the same tar. */
function header({ name, size, flag, mode, link = '' }) {
  const h = Buffer.alloc(512);
  const put = (text, at, len) => h.write(text, at, len, 'utf8');
  const octal = (n, at, len) => put(n.toString(8).padStart(len - 1, '0'), at, len - 1);
  put(name, 0, 100);
  octal(mode, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(0, 136, 12);
  h.fill(0x20, 148, 156);
  put(flag, 156, 1);
  put(link, 157, 100);
  put('ustar\u000000', 257, 8);
  put('root', 265, 32);
  put('root', 297, 32);
  octal(h.reduce((n, b) => n + b, 0), 148, 7);
  return h;
}

/** A layer: the files (folders added), sorted, as a tar. */
export function layerTar(files) {
  const entries = new Map();
  for (const [p, value] of Object.entries(files)) {
    const name = p.replace(/^\/+/, '');
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!entries.has(dir)) entries.set(dir, { name: dir, type: 'dir' });
    }
    if (typeof value === 'string' || Buffer.isBuffer(value) || value instanceof Uint8Array) entries.set(name, { name, type: 'file', data: value });
    else if (value.symlink) entries.set(name, { name, type: 'symlink', link: value.symlink });
    else if (value.dir) entries.set(name, { name, type: 'dir', mode: value.mode });
    else entries.set(name, { name, type: 'file', data: value.data, mode: value.mode });
  }
  return tar([...entries.values()].sort((a, b) => (a.name < b.name ? -1 : 1)));
}

/** `n` bytes that do not compress, the same for the same seed. */
function noise(n, seed) {
  const out = Buffer.alloc(n);
  for (let at = 0, i = 0; at < n; at += 32, i++) crypto.createHash('sha256').update(`${seed}/${i}`).digest().copy(out, at);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Images

/** One platform of an image: its layers (uncompressed tars), config, and their digests. */
function buildImage(image, architecture) {
  const layers = [layerTar(image.files ?? {})];
  if (image.extraLayerBytes) layers.push(layerTar({ [`extra/${image.name ?? 'unnamed'}-${image.tag ?? 'latest'}.bin`]: noise(image.extraLayerBytes, `${image.name}:${image.tag}`) }));
  const diffIds = layers.map(sha256);
  const config = json({
    architecture,
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: image.cmd ?? ['sh'], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layers.map(() => ({ created: '1970-01-01T00:00:00Z', created_by: 'makeImageArchive' })),
  });
  return { architecture, layers, diffIds, config, configDigest: sha256(config) };
}

/** docker.io/library/nginx:latest for nginx (containerd's io.containerd.image.name). */
function fullName(name, tag) {
  const parts = name.split('/');
  const domain = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost') ? '' : parts.length === 1 ? 'docker.io/library/' : 'docker.io/';
  return `${domain}${name}:${tag}`;
}

/** Writes an archive of `images` to `out` (a file); see the top of this file. */
export function makeImageArchive({ out, format, images }) {
  if (!['docker-save', 'docker-save-legacy', 'oci'].includes(format)) throw new Error(`unknown format ${format}`);
  const files = new Map(); // path in the archive → entry
  const file = (name, data) => files.has(name) || files.set(name, { name, type: 'file', data });
  const blob = (bytes) => (file(`blobs/sha256/${hex(sha256(bytes))}`, bytes), sha256(bytes));
  const described = [];
  const manifestJson = [];
  const index = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] };
  const repositories = {};
  const legacyLayers = new Map(); // diff_id → its first <id>/layer.tar

  for (const image of images) {
    const tag = image.tag ?? 'latest';
    const platforms = image.platforms ?? [image.architecture ?? '386'];
    if (platforms.length > 1 && format !== 'oci') throw new Error('a docker save holds one platform of an image: platforms need format oci');
    const builds = platforms.map((arch) => buildImage({ ...image, tag }, arch));
    const info = { name: image.name, tag, architecture: builds[0].architecture, configDigest: builds[0].configDigest, diffIds: builds[0].diffIds, config: JSON.parse(builds[0].config) };
    const repoTags = image.name ? [`${image.name}:${tag}`] : [];

    if (format === 'docker-save-legacy') {
      // <id>/layer.tar per layer, ids in a chain; a layer already written is a symlink to it (as Docker does).
      let parent;
      const paths = builds[0].layers.map((layer, i) => {
        const id = hex(sha256(`${builds[0].configDigest} ${i}`));
        const first = legacyLayers.get(builds[0].diffIds[i]);
        if (first) files.set(`${id}/layer.tar`, { name: `${id}/layer.tar`, type: 'symlink', link: `../${first}` });
        else file(`${id}/layer.tar`, layer), legacyLayers.set(builds[0].diffIds[i], `${id}/layer.tar`);
        file(`${id}/VERSION`, '1.0');
        file(`${id}/json`, json({ id, ...(parent ? { parent } : {}), created: '1970-01-01T00:00:00Z', container_config: {} }));
        parent = id;
        return `${id}/layer.tar`;
      });
      file(`${hex(builds[0].configDigest)}.json`, builds[0].config);
      manifestJson.push({ Config: `${hex(builds[0].configDigest)}.json`, RepoTags: repoTags, Layers: paths });
      if (image.name) (repositories[image.name] ??= {})[tag] = parent;
    } else if (format === 'docker-save') {
      // Docker 25+: an OCI layout (uncompressed layers) with manifest.json beside it.
      const b = builds[0];
      const layers = b.layers.map((l) => ({ mediaType: MT.ociLayer, digest: blob(l), size: l.length }));
      blob(b.config);
      const manifest = json({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: b.configDigest, size: b.config.length }, layers });
      info.manifestDigest = blob(manifest);
      const annotations = image.name ? { 'io.containerd.image.name': fullName(image.name, tag), 'org.opencontainers.image.ref.name': tag } : undefined;
      index.manifests.push({ mediaType: MT.ociManifest, digest: info.manifestDigest, size: manifest.length, ...(annotations ? { annotations } : {}) });
      manifestJson.push({ Config: `blobs/sha256/${hex(b.configDigest)}`, RepoTags: repoTags, Layers: layers.map((l) => `blobs/sha256/${hex(l.digest)}`) });
      if (image.name) (repositories[image.name] ??= {})[tag] = hex(b.diffIds.at(-1));
    } else {
      // OCI: gzip layers; a multi-platform image is an index of one manifest per platform.
      const manifests = builds.map((b) => {
        const layers = b.layers.map((l) => zlib.gzipSync(l)).map((gz) => ({ mediaType: MT.ociGzip, digest: blob(gz), size: gz.length }));
        blob(b.config);
        const manifest = json({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: b.configDigest, size: b.config.length }, layers });
        return { mediaType: MT.ociManifest, digest: blob(manifest), size: manifest.length, platform: { architecture: b.architecture, os: 'linux' } };
      });
      const annotations = { 'org.opencontainers.image.ref.name': image.name ? `${image.name}:${tag}` : tag };
      if (builds.length === 1) {
        info.manifestDigest = manifests[0].digest;
        const { platform, ...desc } = manifests[0];
        index.manifests.push({ ...desc, annotations });
      } else {
        const nested = json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests });
        info.indexDigest = blob(nested);
        info.platforms = Object.fromEntries(builds.map((b, i) => [b.architecture, { manifestDigest: manifests[i].digest, configDigest: b.configDigest, diffIds: b.diffIds }]));
        info.manifestDigest = manifests[0].digest;
        index.manifests.push({ mediaType: MT.ociIndex, digest: info.indexDigest, size: nested.length, annotations });
      }
    }
    described.push(info);
  }

  if (format !== 'oci') {
    file('manifest.json', json(manifestJson));
    file('repositories', json(repositories));
  }
  if (format !== 'docker-save-legacy') {
    file('oci-layout', json({ imageLayoutVersion: '1.0.0' }));
    file('index.json', json(index));
  }
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  // Folders first, as a tar tool writes them.
  const dirs = new Set([...files.keys()].flatMap((n) => n.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))));
  fs.writeFileSync(out, tar([...[...dirs].sort().map((name) => ({ name, type: 'dir' })), ...files.values()]));
  return described;
}

// ---------------------------------------------------------------------------------------------
// busybox

const APPLETS = ['sh', 'ash', 'httpd', 'wget', 'ls', 'cat', 'echo', 'env', 'mkdir', 'rm', 'cp', 'mv', 'ln', 'ps', 'sleep', 'true', 'false', 'test', '[', 'grep', 'sed', 'head', 'tail', 'wc', 'uname', 'id', 'hostname', 'ip', 'ifconfig', 'nc', 'ping', 'tar', 'gzip', 'vi', 'top', 'mount', 'which', 'date', 'touch', 'chmod', 'kill', 'pwd', 'du', 'df', 'free', 'nslookup', 'seq', 'sort', 'tee', 'xargs', 'find', 'awk', 'printf', 'whoami'];

/**
 * The files of an image that runs busybox: Debian's i386 busybox-static (apt-get download, cached in
 * ~/.cache/docker-terminal/test-debs/, unpacked with dpkg-deb -x) at /bin/busybox, and /bin/sh,
 * /bin/httpd, /bin/wget … as symlinks to it.
 */
export function busyboxFiles() {
  const cache = path.join(process.env.DT_CACHE ?? path.join(os.homedir(), '.cache/docker-terminal'), 'test-debs');
  fs.mkdirSync(cache, { recursive: true });
  let deb = fs.readdirSync(cache).find((f) => /^busybox-static_.*_i386\.deb$/.test(f));
  if (!deb) {
    downloadI386Deb('busybox-static', cache);
    deb = fs.readdirSync(cache).find((f) => /^busybox-static_.*_i386\.deb$/.test(f)) ?? fail('apt-get download left no busybox-static_*_i386.deb');
  }
  const unpacked = path.join(cache, deb.replace(/\.deb$/, ''));
  if (!fs.existsSync(unpacked)) {
    const tmp = `${unpacked}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    execFileSync('dpkg-deb', ['-x', path.join(cache, deb), tmp]);
    fs.renameSync(tmp, unpacked);
  }
  const binary = ['bin/busybox', 'usr/bin/busybox'].map((p) => path.join(unpacked, p)).find((p) => fs.existsSync(p)) ?? fail(`${deb} has no busybox binary`);
  const data = fs.readFileSync(binary);
  // An ELF for i386 (32-bit, machine 3): checked by its header, never run.
  if (data.readUInt32BE(0) !== 0x7f454c46 || data[4] !== 1 || data.readUInt16LE(18) !== 3) fail(`${binary} is not an i386 ELF program`);
  return { 'bin/busybox': { data, mode: 0o755 }, ...Object.fromEntries(APPLETS.map((a) => [`bin/${a}`, { symlink: '/bin/busybox' }])), 'usr/bin/env': { symlink: '/bin/busybox' }, tmp: { dir: true, mode: 0o1777 } };
}

/** apt-get download PKG:i386 into dir, adding Debian's i386 architecture to apt first if it lacks it. */
function downloadI386Deb(pkg, dir) {
  const download = () => spawnSync('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', `${pkg}:i386`], { cwd: dir, encoding: 'utf8' });
  let r = download();
  if (r.status === 0) return;
  const foreign = execFileSync('dpkg', ['--print-foreign-architectures'], { encoding: 'utf8' }).split('\n');
  if (process.getuid?.() !== 0) fail(`apt-get download ${pkg}:i386 failed (${r.stderr.trim()}); as root run: dpkg --add-architecture i386 && apt-get update`);
  if (!foreign.includes('i386')) execFileSync('dpkg', ['--add-architecture', 'i386']);
  execFileSync('apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=300'], { stdio: ['ignore', 'ignore', 'inherit'] });
  r = download();
  if (r.status !== 0) fail(`apt-get download ${pkg}:i386 failed: ${r.stderr.trim()}`);
}

function fail(message) {
  throw new Error(`busyboxFiles: ${message}`);
}
