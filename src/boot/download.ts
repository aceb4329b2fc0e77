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
