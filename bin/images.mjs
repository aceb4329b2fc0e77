// `docker-terminal images add <ref|archive>… --out DIR`: writes linux/386 images into a folder in the
// static registry layout (docs/static-registry.md), which the element's in-tab registry serves to
// dockerd in the tab. Inputs: `docker save` tarballs (Docker 25+ and legacy), OCI archives, and
// references pulled from a registry over HTTPS with its anonymous token flow.
//
// It works in three steps so that a refusal leaves the folder as it was: every input is read and
// checked first (names, platform, configs; no layer bytes), then the blobs are written, then the tags
// and docker-terminal-registry.json. Every file is written under a temporary name and renamed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { indexTar } from './tar.mjs';

/** A failure the user can act on: printed as it is, exit status 1. */
export class ImagesError extends Error {}
const refuse = (message) => {
  throw new ImagesError(message);
};

const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};
const PLATFORM = 'linux/386';
const ENGINE_NOTE = 'only linux/386 images run on the v86 engine';

// ---------------------------------------------------------------------------------------------
// The command line

export const imagesUsage = `  images add <ref|archive>… --out DIR [--name NAME[:TAG]] [--insecure]
             put linux/386 images into DIR in the static registry layout, for the element's
             registry attribute. Each argument is a \`docker save\` tarball, an OCI archive, or a
             registry reference (nginx:alpine, registry.example:5000/x/y:tag, …@sha256:…).
  --out      the folder to write (created; an existing one is added to)
  --name     the name (and tag) to store the image under, for an archive that names none;
             only when this run adds one image
  --insecure fetch from the registry over plain http (127.0.0.1 and localhost always are)`;

/** `images …` arguments → exit status (2: wrong usage, the caller prints the usage). */
export async function imagesCommand(args) {
  const [sub, ...rest] = args;
  const opts = { inputs: [], insecure: false };
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i].startsWith('--') ? rest[i].split(/=(.*)/s) : [rest[i]];
    const value = () => inline ?? rest[++i];
    if (flag === '--out') opts.out = value();
    else if (flag === '--name') opts.name = value();
    else if (flag === '--insecure') opts.insecure = true;
    else if (flag.startsWith('-')) return usageError(`unknown option ${flag}`);
    else opts.inputs.push(flag);
  }
  if (sub !== 'add') return usageError(sub ? `unknown images command ${sub}` : 'images needs a command: add');
  if (!opts.out) return usageError('images add needs --out DIR');
  if (!opts.inputs.length) return usageError('images add needs an image: a reference or an archive');
  if (opts.name === undefined && rest.includes('--name')) return usageError('--name needs a name');
  // (Ctrl-C exits through 'exit', whose handler removes the temporary files)
  process.once('SIGINT', () => process.exit(130));
  try {
    await imagesAdd(opts.inputs, { out: path.resolve(opts.out), name: opts.name, insecure: opts.insecure });
    return 0;
  } catch (e) {
    if (!(e instanceof ImagesError)) throw e;
    console.error(`docker-terminal: ${e.message}`);
    return 1;
  }
}

function usageError(message) {
  console.error(`docker-terminal: ${message}`);
  return 2;
}

/**
 * Adds the images of `inputs` to the layout in `out`; prints a line per name:tag and the bytes added.
 * Returns { images: [{ name, tag, digest, size }], added }.
 */
export async function imagesAdd(inputs, { out, name, insecure = false, log = console.log }) {
  const index = readRegistryJson(out);
  const plans = [];
  const cleanups = []; // temporary copies of gzip-compressed archives
  let store;
  const written = [];
  try {
    for (const input of inputs) plans.push(...(await planInput(input, { insecure, cleanups })));
    nameImages(plans, name);
    store = openStore(out);
    for (const plan of plans) written.push({ plan, ...(await plan.write(store)) });
    for (const { plan, manifest, digest, size } of written) {
      for (const { name: repo, tag } of plan.names) {
        writeAtomic(path.join(out, 'v2', repo, 'manifests', tag), manifest);
        // (an image added again keeps its place, so the file changes only where an image did)
        const entry = { name: repo, tag, digest, platform: PLATFORM, size };
        const at = index.images.findIndex((i) => i.name === repo && i.tag === tag);
        if (at >= 0) index.images[at] = entry;
        else index.images.push(entry);
      }
    }
    writeAtomic(path.join(out, 'docker-terminal-registry.json'), JSON.stringify(index, null, 2) + '\n');
  } finally {
    store?.close();
    for (const c of cleanups) c();
  }
  const images = written.flatMap(({ plan, digest, size }) => plan.names.map((n) => ({ ...n, digest, size })));
  for (const i of images) log(`${i.name}:${i.tag}  ${i.digest}  ${mb(i.size)}`);
  log(`docker-terminal: added ${mb(store.added)} to ${out} (new blobs only)`);
  return { images, added: store.added };
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;

/** Archive or reference: an argument that is an existing file is an archive. */
async function planInput(input, { insecure, cleanups }) {
  const stat = fs.statSync(input, { throwIfNoEntry: false });
  if (stat?.isFile()) return archivePlans(input, cleanups);
  if (stat?.isDirectory()) refuse(`${input} is a folder: give a tar archive (a \`docker save\` tarball, or a tar of an OCI layout).`);
  if (/^\.{0,2}\//.test(input) || /\.(tar|tar\.gz|tgz)$/.test(input)) refuse(`${input}: no such file.`);
  return [await registryPlan(input, { insecure })];
}

/**
 * Gives each planned image its names: from the input, or from --name (which also fills the tag an
 * archive gave without a name).
 */
function nameImages(plans, name) {
  if (name !== undefined) {
    if (plans.length !== 1) refuse(`--name names one image, but this run adds ${plans.length}; add them one at a time.`);
    const given = parseReference(name, '--name');
    if (given.digest) refuse('--name takes NAME[:TAG], without a digest.');
    const tag = given.tag ?? plans[0].names[0]?.tag ?? 'latest';
    plans[0].names = [{ name: given.name, tag }];
  }
  for (const plan of plans) {
    if (!plan.names.length) refuse(`${plan.label} gives no name for its image: give one with --name NAME[:TAG].`);
    for (const n of plan.names) {
      if (!n.name) refuse(`${plan.label} names its image only by the tag "${n.tag}": give the name with --name NAME (e.g. --name myapp:${n.tag}).`);
      if (!n.tag) refuse(`${plan.label} has no tag, and the registry serves images by tag: give one, as ${shortName(n.name)}:TAG@${plan.digestAsked} or with --name ${shortName(n.name)}:TAG.`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Names

/**
 * A reference as Docker reads it: [domain/]path[:tag][@sha256:hex]. `name` is the repository as
 * dockerd asks its mirror for it: the path without the domain, `library/` before a one-part path
 * (the in-tab registry is dockerd's Docker Hub mirror, so `docker pull nginx` asks for library/nginx).
 */
export function parseReference(ref, what = ref) {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  let rest = at >= 0 ? ref.slice(0, at) : ref;
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) refuse(`${what}: the digest must be sha256:<64 hex digits>.`);
  const colon = rest.lastIndexOf(':');
  let tag;
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  const first = parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost') ? parts.shift() : 'docker.io';
  const domain = first === 'index.docker.io' ? 'docker.io' : first;
  const repo = parts.join('/');
  if (tag !== undefined && !/^\w[\w.-]{0,127}$/.test(tag)) refuse(`${what}: "${tag}" is not a valid tag.`);
  if (!parts.every((p) => /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(p))) refuse(`${what} is neither a file nor a valid image reference (names are lowercase letters, digits and . _ - separated by /).`);
  return { domain, repo: domain === 'docker.io' && parts.length === 1 ? `library/${repo}` : repo, name: parts.length === 1 ? `library/${repo}` : repo, tag, digest };
}

/** library/nginx → nginx, as people type it. */
const shortName = (name) => name.replace(/^library\//, '');

/** The name and tag a docker save RepoTag or an OCI ref.name gives. */
function nameFrom(ref, what) {
  const r = parseReference(ref, what);
  return { name: r.name, tag: r.tag ?? 'latest' };
}

// ---------------------------------------------------------------------------------------------
// Archives: `docker save` (manifest.json) and OCI archives (index.json)

async function archivePlans(file, cleanups) {
  const archive = await openArchive(file, cleanups);
  const label = path.basename(file);
  if (archive.files.has('manifest.json')) return dockerSavePlans(archive, label);
  if (archive.files.has('index.json')) return ociPlans(archive, label);
  refuse(`${file} is neither a \`docker save\` tarball (manifest.json) nor an OCI archive (index.json).`);
}

/**
 * A tar on disk, indexed; a gzip-compressed one (`docker save | gzip`) is unpacked to a temporary
 * file first, so that layers can be read at their offsets.
 */
async function openArchive(file, cleanups) {
  const head = readAt(file, 0, 2);
  let tar = file;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-terminal-images-'));
    cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
    tar = path.join(tmp, 'archive.tar');
    try {
      await pipeline(fs.createReadStream(file), zlib.createGunzip(), fs.createWriteStream(tar));
    } catch (e) {
      refuse(`${file} looks gzip-compressed but does not unpack (${e.message}).`);
    }
  }
  let files;
  try {
    files = indexTar(tar);
  } catch (e) {
    refuse(`${file} is not a readable tar archive (${e.message}).`);
  }
  const entry = (name, what) => files.get(name) ?? refuse(`${file} lacks ${name} (${what}): the archive is incomplete.`);
  return {
    file,
    files,
    size: (name) => files.get(name)?.size,
    read: (name, what) => {
      const e = entry(name, what);
      return readAt(tar, e.offset, e.size);
    },
    head: (name, n) => {
      const e = entry(name, 'a layer');
      return readAt(tar, e.offset, Math.min(n, e.size));
    },
    stream: (name) => {
      const e = entry(name, 'a layer');
      return e.size ? fs.createReadStream(tar, { start: e.offset, end: e.offset + e.size - 1 }) : Readable.from([]);
    },
  };
}

function readAt(file, offset, size) {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size);
    return buf.subarray(0, fs.readSync(fd, buf, 0, size, offset));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A docker save's images, from its manifest.json: [{ Config, RepoTags, Layers }], paths into the
 * tar (Docker 25+: blobs/sha256/<hex>; before: <id>.json and <id>/layer.tar).
 */
function dockerSavePlans(archive, label) {
  const list = parseJson(archive.read('manifest.json'), `${label}: manifest.json`);
  if (!Array.isArray(list) || !list.length) refuse(`${label}: manifest.json lists no image.`);
  return list.map((entry, n) => {
    const config = archive.read(entry.Config, 'the image config');
    const configDigest = sha256(config);
    const named = /([a-f0-9]{64})(\.json)?$/.exec(entry.Config ?? '')?.[1];
    if (named && `sha256:${named}` !== configDigest) refuse(`${label}: ${entry.Config} does not match its digest: the archive is damaged.`);
    const names = (entry.RepoTags ?? []).map((t) => nameFrom(t, `${label}: RepoTag ${t}`));
    const what = names.length ? `${shortName(names[0].name)}:${names[0].tag} (${label})` : `image ${n + 1} of ${label}`;
    const cfg = parseJson(config, `${what}: its config`);
    checkPlatform(cfg, what, archiveHint(names[0]));
    const diffIds = cfg.rootfs?.diff_ids ?? [];
    if (diffIds.length !== (entry.Layers ?? []).length) refuse(`${what}: its config lists ${diffIds.length} layers, manifest.json ${(entry.Layers ?? []).length}: the archive is damaged.`);
    const layers = entry.Layers.map((p, i) => ({ ...archiveLayer(archive, p), diffId: diffIds[i], what: `layer ${i + 1} of ${what}` }));
    return { label: what, names, config, configDigest, write: (store) => writeArchiveImage(store, { config, configDigest, layers }) };
  });
}

/** A layer inside an archive; its digest when the path tells it (blobs/sha256/<hex>). */
function archiveLayer(archive, name) {
  const hex = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(name)?.[1];
  return { digest: hex && `sha256:${hex}`, size: archive.size(name), head: (n) => archive.head(name, n), stream: () => archive.stream(name) };
}

/**
 * An OCI archive's images: index.json's manifests, each named by its org.opencontainers.image.ref.name
 * annotation (a full reference, or only a tag) or containerd's io.containerd.image.name.
 */
function ociPlans(archive, label) {
  const index = parseJson(archive.read('index.json'), `${label}: index.json`);
  if (!Array.isArray(index.manifests) || !index.manifests.length) refuse(`${label}: index.json lists no image.`);
  return index.manifests.map((desc, n) => {
    const ref = desc.annotations?.['org.opencontainers.image.ref.name'];
    const full = desc.annotations?.['io.containerd.image.name'];
    const tagOnly = ref !== undefined && /^\w[\w.-]{0,127}$/.test(ref) && !full;
    const names = full ? [nameFrom(full, `${label}: ${full}`)] : tagOnly ? [{ tag: ref }] : ref ? [nameFrom(ref, `${label}: ${ref}`)] : [];
    const what = names[0]?.name ? `${shortName(names[0].name)}:${names[0].tag} (${label})` : `image ${n + 1} of ${label}`;
    const blob = (d) => archiveBlob(archive, d, what);
    const { manifest, json } = resolveManifest(blob(desc), desc, (d) => blob(d), what, archiveHint(names[0]));
    const config = blob(json.config);
    const cfg = parseJson(config, `${what}: its config`);
    checkPlatform(cfg, what, archiveHint(names[0]));
    const diffIds = cfg.rootfs?.diff_ids ?? [];
    if (diffIds.length !== json.layers.length) refuse(`${what}: its config lists ${diffIds.length} layers, its manifest ${json.layers.length}: the archive is damaged.`);
    const layers = json.layers.map((l, i) => {
      const name = blobPath(l.digest, what);
      return { digest: l.digest, size: archive.size(name), head: (k) => archive.head(name, k), stream: () => archive.stream(name), diffId: diffIds[i], what: `layer ${i + 1} of ${what}` };
    });
    return { label: what, names, config, configDigest: json.config.digest, write: (store) => writeArchiveImage(store, { config, configDigest: json.config.digest, layers, manifest, json }) };
  });
}

const blobPath = (digest, what) => (/^sha256:[a-f0-9]{64}$/.test(digest ?? '') ? `blobs/sha256/${digest.slice(7)}` : refuse(`${what}: unsupported digest ${digest} (only sha256).`));

/** A small blob (manifest, config) of an archive, checked against its digest. */
function archiveBlob(archive, desc, what) {
  const bytes = archive.read(blobPath(desc.digest, what), `a blob of ${what}`);
  if (sha256(bytes) !== desc.digest) refuse(`${what}: blob ${desc.digest} does not match its digest: the archive is damaged.`);
  return bytes;
}

const archiveHint = (n) => {
  const ref = n?.name ? `${shortName(n.name)}:${n.tag}` : 'IMAGE';
  const file = ref.replace(/[^\w.-]+/g, '-');
  return `Save the 386 one instead, e.g. docker pull --platform linux/386 ${ref} && docker save ${ref} -o ${file}.tar`;
};

/**
 * Writes an archive's image: its layers (an uncompressed tar gzip-compressed, a compressed one as it
 * is), config and manifest. The archive's own manifest is kept when no layer changed; otherwise (and
 * for a docker save, which has none) a new one: Docker schema 2, or OCI when the source was OCI or a
 * layer is zstd (which schema 2 has no type for).
 */
async function writeArchiveImage(store, { config, configDigest, layers, manifest, json }) {
  const stored = [];
  for (const layer of layers) stored.push(await storeArchiveLayer(store, layer));
  await store.putBuffer(configDigest, config);
  if (!manifest || stored.some((l) => l.changed)) {
    const oci = json ? json.mediaType !== MT.dockerManifest : stored.some((l) => l.compression === 'zstd');
    const layerType = (l) => (l.compression === 'zstd' ? MT.ociZstd : oci ? MT.ociGzip : MT.dockerGzip);
    const descriptors = stored.map((l, i) => ({ ...(json?.layers[i] ?? {}), mediaType: layerType(l), size: l.size, digest: l.digest }));
    const fresh = json
      ? { ...json, layers: descriptors }
      : { schemaVersion: 2, mediaType: oci ? MT.ociManifest : MT.dockerManifest, config: { mediaType: oci ? MT.ociConfig : MT.dockerConfig, size: config.length, digest: configDigest }, layers: descriptors };
    manifest = Buffer.from(JSON.stringify(fresh));
  }
  const digest = sha256(manifest);
  await store.putBuffer(digest, manifest);
  return { manifest, digest, size: config.length + stored.reduce((n, l) => n + l.size, 0) };
}

/** Compression by the first bytes: gzip, zstd, or none (a tar). */
function compressionOf(head) {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'tar';
}

async function storeArchiveLayer(store, layer) {
  const compression = compressionOf(layer.head(4));
  if (compression === 'tar') return { ...(await store.putGzipped(layer.stream, layer.diffId, layer.what)), compression: 'gzip', changed: true };
  return { ...(await store.putStream(layer.digest, layer.stream, layer.what)), compression, changed: false };
}

// ---------------------------------------------------------------------------------------------
// Manifests and platforms

const isIndex = (json, mediaType) => [MT.dockerList, MT.ociIndex].includes(json.mediaType ?? mediaType) || (!json.mediaType && Array.isArray(json.manifests) && !json.layers);

/**
 * The linux/386 manifest of `bytes`, which is a manifest or an index (from which its linux/386 entry
 * is read through getBlob(desc)).
 */
function resolveManifest(bytes, desc, getBlob, what, hint) {
  for (let depth = 0; depth < 4; depth++) {
    const json = parseJson(bytes, `${what}: its manifest`);
    if (!isIndex(json, desc?.mediaType)) return { manifest: bytes, json: checkManifest(json, what) };
    desc = pick386(json, what, hint);
    bytes = getBlob(desc);
  }
  refuse(`${what}: its indexes nest too deep.`);
}

function checkManifest(json, what) {
  if (json.schemaVersion === 1) refuse(`${what} has a schema 1 manifest, which Docker no longer pulls: push it again with a current Docker.`);
  if (!json.config?.digest || !Array.isArray(json.layers)) refuse(`${what}: its manifest has no config or layers (media type ${json.mediaType ?? 'none'}).`);
  return json;
}

function pick386(index, what, hint) {
  const found = index.manifests.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === '386');
  if (found) return found;
  const has = [...new Set(index.manifests.map((m) => m.platform).filter((p) => p && p.os !== 'unknown').map((p) => [p.os, p.architecture, p.variant].filter(Boolean).join('/')))];
  refuse(`${what} has no linux/386 image (it has ${has.join(', ') || 'no platform named'}); ${ENGINE_NOTE}. ${hint}`);
}

function checkPlatform(config, what, hint) {
  if (config.os === 'linux' && config.architecture === '386') return;
  refuse(`${what} is a ${config.os ?? '?'}/${config.architecture ?? '?'} image; ${ENGINE_NOTE}. ${hint}`);
}

// ---------------------------------------------------------------------------------------------
// Registries

/**
 * A reference pulled from its registry: the manifest (the linux/386 one of an index) and config now,
 * the layers when written. The bytes are kept as the registry serves them, so digests stay.
 */
async function registryPlan(input, { insecure }) {
  const ref = parseReference(input);
  const client = registryClient(ref, insecure);
  const what = input;
  const hint = `Look for a tag or image that has a linux/386 variant (docker manifest inspect ${input} lists them).`;
  const asked = await client.manifest(ref.digest ?? ref.tag ?? 'latest');
  if (ref.digest && sha256(asked.bytes) !== ref.digest) refuse(`${what}: the registry sent a manifest that does not match the digest.`);
  let manifest = asked.bytes;
  let json = parseJson(manifest, `${what}: its manifest`);
  if (isIndex(json, asked.mediaType)) {
    const d = pick386(json, what, hint);
    manifest = (await client.manifest(d.digest)).bytes;
    if (sha256(manifest) !== d.digest) refuse(`${what}: the registry sent a linux/386 manifest that does not match its digest.`);
    json = parseJson(manifest, `${what}: its linux/386 manifest`);
    if (isIndex(json)) refuse(`${what}: an index inside an index is not supported.`);
  }
  checkManifest(json, what);
  const config = await client.blobBuffer(json.config.digest, `the config of ${what}`);
  checkPlatform(parseJson(config, `${what}: its config`), what, hint);
  const names = [{ name: ref.name, tag: ref.tag ?? (ref.digest ? undefined : 'latest') }];
  const write = async (store) => {
    let size = config.length;
    for (const [i, l] of json.layers.entries()) size += (await store.putStream(l.digest, () => client.blobStream(l.digest, `layer ${i + 1} of ${what}`), `layer ${i + 1} of ${what}`)).size;
    await store.putBuffer(json.config.digest, config);
    const digest = sha256(manifest);
    await store.putBuffer(digest, manifest);
    return { manifest, digest, size };
  };
  return { label: what, names, digestAsked: ref.digest, config, configDigest: json.config.digest, write };
}

const ACCEPT = [MT.dockerManifest, MT.dockerList, MT.ociManifest, MT.ociIndex].join(', ');

/**
 * The HTTP side of a pull: GET with the anonymous token flow (a 401 with `WWW-Authenticate: Bearer
 * realm,service,scope` → GET a token from the realm → the same request with it). Docker Hub is
 * registry-1.docker.io. Redirects are followed by hand so that the token never goes to the storage
 * host a blob redirects to (which would reject a second credential).
 */
function registryClient(ref, insecure) {
  const host = ref.domain === 'docker.io' ? 'registry-1.docker.io' : ref.domain;
  const plain = insecure || /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(host);
  const base = `${plain ? 'http' : 'https'}://${host}/v2/${ref.repo}`;
  const origin = new URL(base).origin;
  let token;

  async function get(url, accept, what) {
    let authed = false;
    for (let hop = 0; hop < 8; hop++) {
      const same = new URL(url).origin === origin;
      const headers = { accept, ...(token && same ? { authorization: `Bearer ${token}` } : {}) };
      const res = await request(url, { headers, redirect: 'manual' }, host);
      if (res.status === 401 && same && !authed) {
        token = await fetchToken(res.headers.get('www-authenticate'), what);
        authed = true;
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.get('location')) {
        url = new URL(res.headers.get('location'), url).href;
        continue;
      }
      if (res.ok) return res;
      const body = await res.text().catch(() => '');
      const code = /"code"\s*:\s*"(\w+)"/.exec(body)?.[1];
      if (res.status === 404) refuse(`${what}: not found on ${host}${code ? ` (${code})` : ''}; check the name and tag.`);
      if (res.status === 401 || res.status === 403) refuse(`${what}: ${host} refused an anonymous pull (${res.status}${code ? ` ${code}` : ''}): the repository does not exist or is private. For a private image, docker pull it, docker save it, and add the tarball.`);
      if (res.status === 429) refuse(`${what}: ${host} limits pulls and this machine is over the limit (429); wait, or docker pull + docker save it and add the tarball.`);
      refuse(`${what}: ${host} answered ${res.status} ${res.statusText}${code ? ` (${code})` : ''}.`);
    }
    refuse(`${what}: ${host} redirected too often.`);
  }

  async function fetchToken(challenge, what) {
    const [, scheme, params] = /^(\w+)\s+(.*)$/s.exec(challenge ?? '') ?? [];
    if (scheme?.toLowerCase() !== 'bearer') refuse(`${what}: ${host} wants a login (${scheme ?? 'no challenge'}); docker-terminal pulls anonymously. docker pull and docker save the image, and add the tarball.`);
    const p = Object.fromEntries([...params.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!p.realm) refuse(`${what}: ${host} asked for a token but named no realm.`);
    const url = new URL(p.realm);
    if (p.service) url.searchParams.set('service', p.service);
    url.searchParams.set('scope', p.scope ?? `repository:${ref.repo}:pull`);
    const res = await request(url.href, {}, url.host);
    if (!res.ok) refuse(`${what}: the token service ${url.host} answered ${res.status} for an anonymous pull token.`);
    const body = parseJson(Buffer.from(await res.arrayBuffer()), `${what}: the token from ${url.host}`);
    return body.token ?? body.access_token ?? refuse(`${what}: the token service ${url.host} sent no token.`);
  }

  return {
    async manifest(reference) {
      const res = await get(`${base}/manifests/${reference}`, ACCEPT, `${ref.domain}/${ref.repo}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`);
      return { bytes: Buffer.from(await res.arrayBuffer()), mediaType: res.headers.get('content-type')?.split(';')[0] };
    },
    async blobBuffer(digest, what) {
      const bytes = Buffer.from(await (await get(`${base}/blobs/${digest}`, '*/*', what)).arrayBuffer());
      if (sha256(bytes) !== digest) refuse(`${what}: the registry sent bytes that do not match ${digest}.`);
      return bytes;
    },
    async blobStream(digest, what) {
      const res = await get(`${base}/blobs/${digest}`, '*/*', what);
      return Readable.fromWeb(res.body);
    },
  };
}

/** fetch, with network failures said as such (and the --insecure hint for a plain http registry). */
async function request(url, init, host) {
  try {
    return await fetch(url, init);
  } catch (e) {
    const cause = e.cause?.code ?? e.cause?.message ?? e.message;
    const tls = /SSL|TLS|EPROTO|wrong version/i.test(String(e.cause?.message ?? '') + cause);
    refuse(`could not reach ${host} (${cause})${tls ? '; a registry on plain http needs --insecure' : '; check the name and the network'}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// The layout on disk

function readRegistryJson(out) {
  const file = path.join(out, 'docker-terminal-registry.json');
  if (!fs.existsSync(file)) return { version: 1, images: [] };
  const json = parseJson(fs.readFileSync(file), file);
  if (json.version !== 1 || !Array.isArray(json.images)) refuse(`${file} is not a docker-terminal registry of version 1; write to another folder.`);
  return json;
}

/**
 * The blobs of the layout: each stored once (a blob already there with its size is not written
 * again), checked against its digest as it is written, and counted in `added` when new.
 */
function openStore(out) {
  const dir = path.join(out, 'v2/blobs/sha256');
  fs.mkdirSync(dir, { recursive: true });
  const file = (digest) => path.join(dir, digest.slice('sha256:'.length));
  // A blob file exists only once verified and renamed into place, so one that exists is complete.
  const has = (digest) => fs.existsSync(file(digest));
  const gzipped = new Map(); // diff_id → blob, for layers this run compressed already
  const store = {
    added: 0,
    /** Keeps a temporary file as the blob of its digest, unless that blob is already there. */
    commit(tmp) {
      if (has(tmp.digest)) return discard(tmp.path), { digest: tmp.digest, size: tmp.size };
      fs.renameSync(tmp.path, file(tmp.digest));
      temps.delete(tmp.path);
      store.added += tmp.size;
      return { digest: tmp.digest, size: tmp.size };
    },
    async putBuffer(digest, bytes) {
      return store.putStream(digest, () => Readable.from([bytes]), digest);
    },
    /** A blob whose digest is known (or, for a legacy docker save's compressed layer, found). */
    async putStream(digest, open, what) {
      if (digest) checkDigest(digest, what);
      if (digest && has(digest)) return { digest, size: fs.statSync(file(digest)).size };
      const tmp = await toTemp(dir, [await open()], what);
      if (digest && tmp.digest !== digest) {
        discard(tmp.path);
        refuse(`${what} does not match its digest ${digest} (got ${tmp.digest}): the source is damaged or changed.`);
      }
      return store.commit(tmp);
    },
    /** An uncompressed layer, gzip-compressed; its uncompressed bytes checked against its diff_id. */
    async putGzipped(open, diffId, what) {
      if (gzipped.has(diffId)) return gzipped.get(diffId);
      const plain = crypto.createHash('sha256');
      const tap = new Transform({ transform: (chunk, _, done) => done(null, (plain.update(chunk), chunk)) });
      const tmp = await toTemp(dir, [open(), tap, zlib.createGzip()], what);
      const got = `sha256:${plain.digest('hex')}`;
      if (got !== diffId) {
        discard(tmp.path);
        refuse(`${what} does not match its diff_id ${diffId} (got ${got}): the archive is damaged.`);
      }
      const blob = store.commit(tmp);
      gzipped.set(diffId, blob);
      return blob;
    },
    close() {
      for (const t of temps) discard(t);
    },
  };
  return store;
}

const checkDigest = (digest, what) => /^sha256:[a-f0-9]{64}$/.test(digest) || refuse(`${what}: unsupported digest ${digest} (only sha256).`);

/** Temporary files being written, removed if the command stops before renaming them. */
const temps = new Set();
let tempCount = 0;
const tempName = (file) => `${file}.tmp-${process.pid}-${tempCount++}`;
const discard = (file) => (fs.rmSync(file, { force: true }), temps.delete(file));
process.on('exit', () => temps.forEach((t) => fs.rmSync(t, { force: true })));

/** Streams `streams` (a source, then transforms) into a temporary file in dir; its sha256 and size. */
async function toTemp(dir, streams, what) {
  const tmp = tempName(path.join(dir, 'blob'));
  temps.add(tmp);
  const hash = crypto.createHash('sha256');
  let size = 0;
  const count = new Transform({ transform: (chunk, _, done) => done(null, (hash.update(chunk), (size += chunk.length), chunk)) });
  try {
    await pipeline(...streams, count, fs.createWriteStream(tmp));
  } catch (e) {
    discard(tmp);
    if (e instanceof ImagesError) throw e;
    refuse(`${what}: reading or writing it failed (${e.message}).`);
  }
  return { path: tmp, digest: `sha256:${hash.digest('hex')}`, size };
}

/** Writes a small file whole or not at all: a temporary name, then a rename. */
function writeAtomic(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  temps.add(tmp);
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
  temps.delete(tmp);
}

const sha256 = (bytes) => `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;

function parseJson(bytes, what) {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    refuse(`${what} is not valid JSON (${e.message}).`);
  }
}
