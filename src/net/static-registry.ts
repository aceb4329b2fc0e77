/**
 * The in-tab registry: dockerd's registry mirror, answered from a read-only layout on a static host
 * (docs/static-registry.md) through the page's fetch. The host sends plain files; the headers a
 * registry sends (media type, digest) are added here.
 *
 * Fetches: a tag is asked for with `cache: 'no-cache'` (the browser revalidates, so a layout written
 * again is seen at once, at the cost of a small round trip); manifests by digest and blobs are
 * content-addressed, never change, and use the HTTP cache as it is ('default'). A manifest fetched by
 * digest that differs from it is fetched once more past the cache before it is refused.
 */

export interface RegistryRequest {
  method: string;
  /** The request target as dockerd sends it: '/v2/library/nginx/manifests/alpine'. */
  target: string;
  /** Lower-case names (as RequestReader gives them). */
  headers: Record<string, string>;
  /** Ends the host fetch (the guest closed the connection). */
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  /** Lower-case names, as the request's. */
  headers: Record<string, string>;
  /** None for HEAD. */
  body?: Uint8Array | ReadableStream<Uint8Array>;
}

export interface StaticRegistryOptions {
  fetch?: typeof fetch;
}

export type RegistryHandler = (req: RegistryRequest) => Promise<RegistryResponse>;

export const MEDIA_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A repository name as the distribution spec has it: lower-case components separated by '/'. */
const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:([0-9a-f]{64})$/;
/** The distribution spec's cap on a manifest: anything bigger is not one. */
const MAX_MANIFEST = 4 << 20;

const API_VERSION = { 'docker-distribution-api-version': 'registry/2.0' };
const encoder = new TextEncoder();

/** A registry answered from the layout under base (a directory URL: a missing final '/' is added). */
export function staticRegistry(base: URL, opts: StaticRegistryOptions = {}): RegistryHandler {
  const root = new URL(base.href);
  root.search = '';
  root.hash = '';
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  const doFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  return async (req) => {
    const method = req.method.toUpperCase();
    const head = method === 'HEAD';
    const answer = (r: RegistryResponse): RegistryResponse => (head ? { status: r.status, headers: r.headers } : r);
    if (method !== 'GET' && !head) return answer(error(405, 'UNSUPPORTED', 'this registry is read-only: it answers GET and HEAD', { method: req.method }, { allow: 'GET, HEAD' }));

    const path = pathOf(req.target);
    if (path === '/v2/' || path === '/v2') return answer(json(200, {}));
    const parts = path?.startsWith('/v2/') ? path.slice(4).split('/') : [];
    if (parts.length < 3) return answer(error(404, 'UNSUPPORTED', `this registry answers only /v2/, manifests and blobs, not ${req.target}`));
    const kind = parts[parts.length - 2];
    const reference = parts[parts.length - 1];
    const name = parts.slice(0, -2).join('/');
    if (kind !== 'manifests' && kind !== 'blobs') return answer(error(404, 'UNSUPPORTED', `this registry answers only /v2/, manifests and blobs, not ${req.target}`));
    if (name.length > 255 || !NAME.test(name)) return answer(error(404, 'NAME_UNKNOWN', `repository name not known to registry: ${name}`, { name }));
    const digest = DIGEST.exec(reference)?.[1];

    try {
      if (kind === 'blobs') {
        if (!digest) return answer(invalidDigest(reference));
        return answer(await blob(digest, head, req));
      }
      if (digest) return answer(await manifestByDigest(name, digest, req.signal));
      if (reference.includes(':')) return answer(invalidDigest(reference));
      if (!TAG.test(reference)) return answer(error(400, 'TAG_INVALID', `not a tag: ${reference}`, { tag: reference }));
      return answer(await manifestByTag(name, reference, req.signal));
    } catch (e) {
      if (e instanceof Answer) return answer(e.response);
      throw e;
    }
  };

  /** The file at path under the layout, or an Answer: 404 as `unknown`, anything else as 503. */
  async function get(path: string, init: RequestInit, unknown: () => RegistryResponse): Promise<Response> {
    const url = new URL(path, root);
    let response: Response;
    try {
      response = await doFetch(url, init);
    } catch (e) {
      if (init.signal?.aborted) throw e;
      throw new Answer(error(503, 'UNAVAILABLE', `the registry's host did not answer for ${url}: ${(e as Error).message} (is it up, and does it send CORS headers?)`, { url: String(url) }));
    }
    if (response.ok) return response;
    void response.body?.cancel().catch(() => undefined);
    if (response.status === 404 || response.status === 410) throw new Answer(unknown());
    if (response.status === 416) {
      const contentRange = response.headers.get('Content-Range');
      throw new Answer(error(416, 'RANGE_INVALID', `the registry's host refused the range for ${url}`, { url: String(url) }, contentRange ? { 'content-range': contentRange } : {}));
    }
    throw new Answer(error(503, 'UNAVAILABLE', `the registry's host answered ${response.status} for ${url}`, { url: String(url), status: response.status }));
  }

  /** The bytes of a manifest file, parsed; a file that is no manifest is an Answer (503). */
  async function manifestFile(path: string, init: RequestInit, unknown: () => RegistryResponse): Promise<{ bytes: Uint8Array<ArrayBuffer>; manifest: Manifest; url: URL }> {
    const response = await get(path, init, unknown);
    const url = new URL(path, root);
    if (Number(response.headers.get('Content-Length')) > MAX_MANIFEST) {
      void response.body?.cancel().catch(() => undefined);
      throw new Answer(damaged(`${url} is not a manifest (it is over 4 MiB)`, url));
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    let manifest: Manifest | undefined;
    try {
      if (bytes.length <= MAX_MANIFEST) manifest = JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
    } catch {
      // (below)
    }
    if (!manifest || typeof manifest !== 'object') throw new Answer(damaged(`${url} is not a manifest`, url));
    return { bytes, manifest, url };
  }

  async function manifestByDigest(name: string, hex: string, signal?: AbortSignal): Promise<RegistryResponse> {
    const path = `v2/blobs/sha256/${hex}`;
    const unknown = () => error(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { name, digest: `sha256:${hex}` });
    let file = await manifestFile(path, { signal }, unknown);
    if ((await sha256Hex(file.bytes)) !== hex) {
      // (the browser's cache may hold a damaged copy: once more from the host)
      file = await manifestFile(path, { signal, cache: 'reload' }, unknown);
      if ((await sha256Hex(file.bytes)) !== hex)
        throw new Answer(damaged(`the registry's files are damaged: ${file.url} is not the manifest sha256:${hex} (its sha256 differs). Write the layout again.`, file.url));
    }
    return manifestResponse(file.bytes, file.manifest, `sha256:${hex}`);
  }

  async function manifestByTag(name: string, tag: string, signal?: AbortSignal): Promise<RegistryResponse> {
    const unknown = () => error(404, 'MANIFEST_UNKNOWN', 'manifest unknown', { name, tag });
    const file = await manifestFile(`v2/${name}/manifests/${tag}`, { signal, cache: 'no-cache' }, unknown);
    if (mediaTypeOf(file.manifest) !== MEDIA_OCI_INDEX && mediaTypeOf(file.manifest) !== MEDIA_DOCKER_LIST)
      return manifestResponse(file.bytes, file.manifest, `sha256:${await sha256Hex(file.bytes)}`);
    // An index (a layout another tool wrote): its linux/386 manifest, which the layout holds by digest.
    const entry = (file.manifest.manifests ?? []).find((m) => m?.platform?.os === 'linux' && m.platform.architecture === '386' && typeof m.digest === 'string');
    const hex = entry && DIGEST.exec(entry.digest!)?.[1];
    if (!hex) {
      const platforms = (file.manifest.manifests ?? []).map((m) => [m?.platform?.os, m?.platform?.architecture, m?.platform?.variant].filter(Boolean).join('/')).filter((p) => p && p !== 'unknown/unknown');
      return error(404, 'MANIFEST_UNKNOWN', `${name}:${tag} has no linux/386 variant, which is the only one this machine runs${platforms.length ? ` (it has ${platforms.join(', ')})` : ''}`, { name, tag });
    }
    return manifestByDigest(name, hex, signal);
  }

  async function blob(hex: string, head: boolean, req: RegistryRequest): Promise<RegistryResponse> {
    const digest = `sha256:${hex}`;
    // (a resumed download asks for the rest: dockerd refuses a 200 to a Range request)
    const range = !head && /^bytes=\d+-\d*$/.test(req.headers['range']?.trim() ?? '') ? req.headers['range'].trim() : undefined;
    const response = await get(`v2/blobs/sha256/${hex}`, { method: head ? 'HEAD' : 'GET', signal: req.signal, headers: range ? { Range: range } : {} }, () => error(404, 'BLOB_UNKNOWN', 'blob unknown to registry', { digest }));
    const headers: Record<string, string> = { ...API_VERSION, 'content-type': 'application/octet-stream', 'docker-content-digest': digest };
    // (a host that compresses on the fly gives the compressed length, while fetch hands over the
    // bytes unpacked: then the length is left to the end of the stream)
    const length = response.headers.get('content-length');
    const encoding = response.headers.get('Content-Encoding');
    if (length && /^\d+$/.test(length) && (!encoding || encoding === 'identity')) headers['content-length'] = length;
    const partial = range !== undefined && response.status === 206;
    if (partial) {
      const start = Number(/\d+/.exec(range)![0]);
      // (Content-Range is no header a cross-origin page may read unless the host exposes it)
      const contentRange = response.headers.get('Content-Range') ?? (headers['content-length'] ? `bytes ${start}-${start + Number(headers['content-length']) - 1}/*` : undefined);
      if (contentRange) headers['content-range'] = contentRange;
    }
    return { status: partial ? 206 : 200, headers, body: head ? undefined : (response.body ?? new Uint8Array(0)) };
  }
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  platform?: { os?: string; architecture?: string; variant?: string };
}

interface Manifest {
  mediaType?: unknown;
  manifests?: Descriptor[];
}

const MEDIA_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** The manifest's own mediaType, or the one its shape gives (an OCI manifest may leave it out). */
function mediaTypeOf(manifest: Manifest): string {
  if (typeof manifest.mediaType === 'string' && manifest.mediaType) return manifest.mediaType;
  return Array.isArray(manifest.manifests) ? MEDIA_OCI_INDEX : MEDIA_OCI_MANIFEST;
}

function manifestResponse(bytes: Uint8Array, manifest: Manifest, digest: string): RegistryResponse {
  return { status: 200, headers: { ...API_VERSION, 'content-type': mediaTypeOf(manifest), 'docker-content-digest': digest, 'content-length': String(bytes.length) }, body: bytes };
}

/** A response the handler gives at once, thrown from deep in a fetch. */
class Answer {
  constructor(readonly response: RegistryResponse) {}
}

function json(status: number, value: unknown, extra: Record<string, string> = {}): RegistryResponse {
  const body = encoder.encode(JSON.stringify(value));
  return { status, headers: { ...API_VERSION, 'content-type': 'application/json', 'content-length': String(body.length), ...extra }, body };
}

/** The registry's error body: Docker prints message (for a 404, its own "not found"). */
function error(status: number, code: string, message: string, detail?: unknown, extra?: Record<string, string>): RegistryResponse {
  return json(status, { errors: [{ code, message, detail: detail ?? null }] }, extra);
}

const invalidDigest = (reference: string) => error(400, 'DIGEST_INVALID', `not a sha256 digest (this registry holds no other): ${reference}`, { digest: reference });

const damaged = (message: string, url: URL) => error(503, 'UNAVAILABLE', message, { url: String(url) });

/** The target's path: origin-form as is, absolute-form (a proxy's) by its path; no query. */
function pathOf(target: string): string | undefined {
  if (target.startsWith('/')) return target.split(/[?#]/)[0];
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}
