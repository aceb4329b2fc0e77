import { TerminalError } from './errors.js';

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Called with the bytes of this file received so far, and its size once known. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Expected size, for the progress bar and to check the result. */
  size?: number;
  /** Expected sha256 (hex) of the whole file: a file that differs is fetched once more, then refused. */
  sha256?: string;
  /** Attempts before giving up; each retry resumes with a Range request where the server allows. */
  attempts?: number;
  /** Milliseconds before the first retry; doubled each time. */
  retryDelay?: number;
  /** A transfer that brings no byte for this long is cut and resumed. */
  stallMs?: number;
  fetch?: typeof fetch;
}

/**
 * Downloads a file into memory with progress, retries and resumption. A failed, stalled or
 * truncated transfer continues from the last byte received when the server answers Range requests
 * with 206.
 */
export async function download(url: URL | string, opts: DownloadOptions = {}): Promise<ArrayBuffer> {
  try {
    const data = await fetchWithRetries(url, opts);
    failedBefore.delete(String(url));
    return data;
  } catch (e) {
    if (!opts.signal?.aborted) failedBefore.add(String(url));
    throw e;
  }
}

/**
 * URLs whose last download failed in this page. The browser's HTTP cache may hold the failure (a
 * 404 or a truncated body under a long max-age, as CDNs and dev servers send), so a retry, ours or
 * the reader's Retry, goes past it.
 */
const failedBefore = new Set<string>();

async function fetchWithRetries(url: URL | string, opts: DownloadOptions): Promise<ArrayBuffer> {
  const { signal, onProgress, size, attempts = 4, retryDelay = 500, stallMs = 30_000 } = opts;
  const doFetch = opts.fetch ?? fetch;
  const chunks: Uint8Array[] = [];
  let received = 0;
  let lastError = '';
  let serverSide = false;
  let refetched = false;
  let pastCache = failedBefore.has(String(url));
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(retryDelay * 2 ** (attempt - 1), signal);
    const cut = new AbortController();
    const onAbort = () => cut.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => cut.abort(new Error(`no byte for ${stallMs / 1000} s`)), stallMs);
    };
    try {
      watch();
      const headers: HeadersInit = received > 0 ? { Range: `bytes=${received}-` } : {};
      const response = await doFetch(url, { signal: cut.signal, headers, cache: refetched || pastCache ? 'reload' : 'default' });
      pastCache = true; // (whatever goes wrong next, the next attempt asks the server)
      // (an error's body is not wanted: left unread, it would hold the browser's cache entry)
      if (!response.ok) void response.body?.cancel().catch(() => undefined);
      if (received > 0 && response.status === 200) {
        // The server ignored the Range header: start over.
        chunks.length = 0;
        received = 0;
      } else if (received > 0 && response.status === 416) {
        // It refused the rest of the file (shorter there, or changed): start over.
        chunks.length = 0;
        received = 0;
        lastError = 'HTTP 416: the server refused the rest of the file';
        continue;
      } else if (!response.ok) {
        lastError = `HTTP ${response.status}`;
        serverSide = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
        if (serverSide) break;
        continue;
      }
      if (!response.body) throw new Error('empty response');
      const length = Number(response.headers.get('Content-Length'));
      const total = size ?? (length > 0 ? received + length : undefined);
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        watch();
        chunks.push(value);
        received += value.byteLength;
        onProgress?.(received, total);
      }
      if (size !== undefined && received < size) {
        lastError = `connection closed after ${received} of ${size} bytes`;
        continue;
      }
      const data = concat(chunks, received);
      if (opts.sha256 && (await sha256Hex(data)) !== opts.sha256) {
        // (once more, past any cache: a proxy may have mangled it)
        if (!refetched) {
          refetched = true;
          chunks.length = 0;
          received = 0;
          attempt--;
          continue;
        }
        throw new TerminalError(
          'file-corrupt',
          `${url} is not the file this bundle's manifest describes (its sha256 differs, twice). The copy on the server is damaged or from another build: copy the whole bundle again (or use the packages of one version), then press Retry.`,
        );
      }
      return data;
    } catch (e) {
      if (e instanceof TerminalError) throw e;
      if (signal?.aborted) throw signal.reason ?? e;
      lastError = cut.signal.aborted && cut.signal.reason instanceof Error ? cut.signal.reason.message : (e as Error).message;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
  throw new TerminalError(
    'download-failed',
    serverSide
      ? `Downloading ${url} failed (${lastError}): the server does not have it. Check that the whole bundle was copied to the server and that src points at it, then press Retry.`
      : `Downloading ${url} failed (${lastError}). Check your connection and press Retry.`,
  );
}

/** A file to fetch with downloadAll(): its URL, its size where the manifest knows it (0: unknown), and its sha256. */
export interface Wanted {
  url: URL;
  size: number;
  sha256?: string;
}

/**
 * Downloads several files at once, reporting their combined progress: bytes received of all of them,
 * of their sizes as learned (the manifest's, or the server's as the transfer goes). Resolves with
 * each file's bytes by name.
 */
export async function downloadAll<K extends string>(
  files: Record<K, Wanted>,
  opts: { signal?: AbortSignal; onProgress(loaded: number, total: number): void },
): Promise<Record<K, ArrayBuffer>> {
  const names = Object.keys(files) as K[];
  const loaded = Object.fromEntries(names.map((k) => [k, 0])) as Record<K, number>;
  const sizes = Object.fromEntries(names.map((k) => [k, files[k].size])) as Record<K, number>;
  const sum = (r: Record<K, number>) => names.reduce((n, k) => n + r[k], 0);
  // One failure fails them all: the others stop rather than fill the connection for nothing.
  const all = new AbortController();
  const stop = () => all.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', stop, { once: true });
  const buffers = await Promise.all(
    names.map((k) =>
      download(files[k].url, {
        signal: all.signal,
        size: files[k].size || undefined,
        sha256: files[k].sha256,
        onProgress: (n, size) => {
          loaded[k] = n;
          sizes[k] = Math.max(sizes[k], size ?? n);
          opts.onProgress(sum(loaded), sum(sizes));
        },
      }).catch((e) => {
        all.abort(new Error('another file failed'));
        throw e;
      }),
    ),
  ).finally(() => opts.signal?.removeEventListener('abort', stop));
  return Object.fromEntries(names.map((k, i) => [k, buffers[i]])) as Record<K, ArrayBuffer>;
}

export async function sha256Hex(data: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
  return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(chunks: Uint8Array[], total: number): ArrayBuffer {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
