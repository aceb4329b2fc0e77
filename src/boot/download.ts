import { TerminalError } from './errors.js';

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Called with the bytes of this file received so far, and its size once known. */
  onProgress?: (loaded: number, total: number | undefined) => void;
  /** Expected size, for the progress bar and to check the result. */
  size?: number;
  /** Attempts before giving up; each retry resumes with a Range request where the server allows. */
  attempts?: number;
  /** Milliseconds before the first retry; doubled each time. */
  retryDelay?: number;
  fetch?: typeof fetch;
}

/**
 * Downloads a file into memory with progress, retries and resumption. A failed or truncated
 * transfer continues from the last byte received when the server answers Range requests with 206.
 */
export async function download(url: URL | string, opts: DownloadOptions = {}): Promise<ArrayBuffer> {
  const { signal, onProgress, size, attempts = 4, retryDelay = 500 } = opts;
  const doFetch = opts.fetch ?? fetch;
  const chunks: Uint8Array[] = [];
  let received = 0;
  let lastError = '';
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await sleep(retryDelay * 2 ** (attempt - 1), signal);
    try {
      const headers: HeadersInit = received > 0 ? { Range: `bytes=${received}-` } : {};
      const response = await doFetch(url, { signal, headers });
      if (received > 0 && response.status === 200) {
        // The server ignored the Range header: start over.
        chunks.length = 0;
        received = 0;
      } else if (!response.ok) {
        lastError = `HTTP ${response.status}`;
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) break;
        continue;
      }
      if (!response.body) throw new Error('empty response');
      const length = Number(response.headers.get('Content-Length'));
      const total = size ?? (length > 0 ? received + length : undefined);
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.byteLength;
        onProgress?.(received, total);
      }
      if (size !== undefined && received < size) {
        lastError = `connection closed after ${received} of ${size} bytes`;
        continue;
      }
      return concat(chunks, received);
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      lastError = (e as Error).message;
    }
  }
  throw new TerminalError('download-failed', `Downloading ${url} failed (${lastError}). Check your connection and press Retry.`);
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

/** A file to fetch with downloadAll(): its URL, and its size where the manifest knows it (0: unknown). */
export interface Wanted {
  url: URL;
  size: number;
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
  const buffers = await Promise.all(
    names.map((k) =>
      download(files[k].url, {
        signal: opts.signal,
        size: files[k].size || undefined,
        onProgress: (n, size) => {
          loaded[k] = n;
          sizes[k] = Math.max(sizes[k], size ?? n);
          opts.onProgress(sum(loaded), sum(sizes));
        },
      }),
    ),
  );
  return Object.fromEntries(names.map((k, i) => [k, buffers[i]])) as Record<K, ArrayBuffer>;
}
