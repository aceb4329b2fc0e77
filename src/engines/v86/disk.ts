/**
 * The machine's disk, as v86 takes a disk of its own (any object with load, get and set): the
 * bundle's disk image in chunk files, fetched as the guest reads them, and what the guest writes.
 *
 * - Every chunk fetch has its own stall timeout and retries with backoff (HTTP errors, a stall, a
 *   reset, bytes that are not the chunk), so the disk recovers once the server does. Each chunk
 *   file is checked against its sha256 from the bundle before it is unpacked. While a chunk keeps
 *   failing, onTrouble names it; a guest read that cannot get its data within giveUpMs ends with
 *   FAILED (./ide-errors.ts turns that into an I/O error for the guest) instead of waiting for ever.
 * - What the guest writes is kept in 4 KiB pages with a mask of the 256-byte blocks written:
 *   compact, and readable without fetching the chunk under a fully written page. What the guest
 *   frees (TRIM) is let go, so deleted files give the tab its memory back; the file system's size
 *   caps what is held.
 * - Unpacked chunks the guest has read are kept for re-reads up to a small budget, the oldest
 *   dropped first: the guest's own page cache holds what it read, so these serve the next reads of
 *   the same chunk (a chunk read again later comes from the browser's HTTP cache). Chunks fetched
 *   ahead (prefetch) are held apart until the guest reads them, and prefetch goes no further than a
 *   window ahead of the reads: a bounded memory, and nothing fetched twice because it was dropped
 *   before it was read.
 * - The saved state keeps the written blocks in v86's own format, so states taken by v86's disk
 *   under Node restore here.
 * - Chunks are fetched once: a read waits for a fetch under way, and prefetch() (the chunks the
 *   bundle lists for a cold boot or the first commands) skips what is held.
 */

/** v86's disk block: the unit of get/set and of its saved state. */
const BLOCK = 256;
const PAGE = 4096;
const BLOCKS_PER_PAGE = PAGE / BLOCK;

/** Handed to a read that cannot get its data: no bytes at all. */
export const FAILED = new Uint8Array(0);

/** Where chunk i comes from, how to check it and how to unpack it. */
export interface ChunkSource {
  /** URL of chunk i's file (as served: zstd). */
  url(i: number): string;
  /** The sha256 the bundle gives for chunk i's file; undefined where it gives none. */
  digest(i: number): Promise<Uint8Array | undefined>;
  /** chunkSize bytes from chunk i's file. */
  unpack(file: Uint8Array): Promise<Uint8Array>;
}

export interface DiskOptions {
  size: number;
  chunkSize: number;
  source: ChunkSource;
  /** A chunk fails and is retried; `message` names it and says why. */
  onTrouble(message: string): void;
  /** Every chunk that failed has come in since. */
  onRecovered?(): void;
  /** A transfer that brings no byte for this long counts as stalled. */
  stallMs?: number;
  /** A guest read gives up after this long; later reads try again. */
  giveUpMs?: number;
  /** Bytes of unpacked chunks the guest has read, kept for re-reads (default 32 MiB). */
  keepBytes?: number;
  /** Bytes of chunks fetched ahead and not read yet; prefetch waits while this many are held (default 64 MiB). */
  aheadBytes?: number;
  /** The network (tests pass a fake, named as such). */
  fetch?: typeof fetch;
}

/** What the guest's reads have waited for. */
export interface DiskStats {
  /** The waits of reads for chunks not held yet, summed (ms); reads wait one at a time, so this is time the guest waited. */
  waitedMs: number;
  /** Chunk files fetched (for reads and ahead). */
  fetched: number;
}

interface Page {
  data: Uint8Array;
  /** Bit b: block b of the page was written. */
  mask: number;
}

type Read = (offset: number, len: number, fn: (data: Uint8Array) => void, options?: unknown) => void;

export class ChunkedDisk {
  readonly byteLength: number;
  /** Set by v86: called once load() is done. */
  onload: ((e: object) => void) | undefined;
  onprogress: ((e: object) => void) | undefined;
  /** Chunks the guest has read, oldest first. */
  private readonly kept = new Map<number, Uint8Array>();
  /** Chunks fetched ahead that the guest has not read yet. */
  private readonly ahead = new Map<number, Uint8Array>();
  /** Prefetchers waiting for room ahead. */
  private roomWaiters: Array<() => void> = [];
  private readonly pages = new Map<number, Page>();
  private readonly inFlight = new Map<number, Promise<Uint8Array>>();
  private readonly failing = new Set<number>();
  private readonly stopper = new AbortController();
  private readonly chunkSize: number;
  readonly stats: DiskStats = { waitedMs: 0, fetched: 0 };

  constructor(private readonly opts: DiskOptions) {
    this.byteLength = opts.size;
    this.chunkSize = opts.chunkSize;
  }

  load(): void {
    this.onload?.(Object.create(null));
  }

  /** Bytes the guest has written and this disk holds. */
  get writtenBytes(): number {
    return this.pages.size * PAGE;
  }

  readonly get: Read = (offset, len, fn) => {
    const now = this.get_from_cache(offset, len);
    if (now) return fn(now);
    const chunks = this.chunksNeeded(offset, len);
    const deadline = Date.now() + (this.opts.giveUpMs ?? 60_000);
    const began = performance.now();
    Promise.all(chunks.map((c) => this.chunk(c, deadline))).then(
      (data) => {
        this.stats.waitedMs += performance.now() - began;
        fn(this.assemble(offset, len, new Map(chunks.map((c, i) => [c, data[i]]))));
      },
      () => {
        if (!this.stopper.signal.aborted) fn(FAILED);
      },
    );
  };

  /** A read whose chunks stay held (a cold boot's first read of the MBR, before the geometry). */
  get_and_cache(offset: number, len: number, fn: (data: Uint8Array) => void): void {
    this.get(offset, len, fn);
  }

  /** The bytes at once if this disk holds them, else undefined (v86's IDE reads the MBR so). */
  get_from_cache(offset: number, len: number): Uint8Array | undefined {
    const chunks = this.chunksNeeded(offset, len);
    const held = chunks.map((c) => this.held(c));
    return held.every((d) => d) ? this.assemble(offset, len, new Map(chunks.map((c, i) => [c, held[i]!]))) : undefined;
  }

  set(offset: number, data: Uint8Array, fn: () => void): void {
    for (let at = 0; at < data.length; at += BLOCK) {
      const block = (offset + at) / BLOCK;
      const key = Math.floor(block / BLOCKS_PER_PAGE);
      let page = this.pages.get(key);
      if (!page) this.pages.set(key, (page = { data: new Uint8Array(PAGE), mask: 0 }));
      const b = block % BLOCKS_PER_PAGE;
      page.data.set(data.subarray(at, at + BLOCK), b * BLOCK);
      page.mask |= 1 << b;
    }
    fn();
  }

  /**
   * The guest freed these bytes (TRIM, ./ide-trim.ts): the written blocks in them are let go, and
   * read again as the bundle's image has them. Partly covered blocks stay.
   */
  discard(offset: number, length: number): void {
    for (let block = Math.ceil(offset / BLOCK); (block + 1) * BLOCK <= offset + length; block++) {
      const key = Math.floor(block / BLOCKS_PER_PAGE);
      const page = this.pages.get(key);
      if (!page) {
        block = (key + 1) * BLOCKS_PER_PAGE - 1;
        continue;
      }
      page.mask &= ~(1 << block % BLOCKS_PER_PAGE);
      if (!page.mask) this.pages.delete(key);
    }
  }

  /**
   * Fetches the listed chunks a few at a time, in order, skipping those held, and holds them until
   * the guest reads them; waits while the window ahead is full. Never fails.
   */
  async prefetch(chunks: readonly number[], concurrency = 4): Promise<void> {
    const window = this.opts.aheadBytes ?? 64 * 1024 * 1024;
    let next = 0;
    const worker = async () => {
      while (!this.stopper.signal.aborted && next < chunks.length) {
        while ((this.ahead.size + this.inFlight.size) * this.chunkSize >= window && !this.stopper.signal.aborted)
          await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
        const c = chunks[next++];
        if (c === undefined || this.held(c)) continue;
        const data = await this.chunk(c, Date.now() + (this.opts.giveUpMs ?? 60_000)).catch(() => undefined);
        // (unless a read took it meanwhile)
        if (data && !this.kept.has(c) && !this.stopper.signal.aborted) this.ahead.set(c, data);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  /** Ends every fetch; reads under way never call back. */
  stop(): void {
    this.stopper.abort();
    this.kept.clear();
    this.ahead.clear();
    this.makeRoom();
  }

  get_buffer(fn: () => void): void {
    fn();
  }

  /** v86's format: the written blocks, as [block index, 256 bytes]. */
  get_state(): [Array<[number, Uint8Array]>] {
    const blocks: Array<[number, Uint8Array]> = [];
    for (const [key, page] of this.pages)
      for (let b = 0; b < BLOCKS_PER_PAGE; b++) if (page.mask & (1 << b)) blocks.push([key * BLOCKS_PER_PAGE + b, page.data.slice(b * BLOCK, (b + 1) * BLOCK)]);
    return [blocks];
  }

  set_state(state: [Array<[number, Uint8Array]>]): void {
    this.pages.clear();
    for (const [index, block] of state[0]) this.set(index * BLOCK, block, () => undefined);
  }

  /** The chunks a read must have: those under its blocks that are not all written. */
  private chunksNeeded(offset: number, len: number): number[] {
    const out: number[] = [];
    for (let c = Math.floor(offset / this.chunkSize); c * this.chunkSize < offset + len; c++) {
      const from = Math.max(offset, c * this.chunkSize);
      const to = Math.min(offset + len, (c + 1) * this.chunkSize);
      if (!this.written(from, to)) out.push(c);
    }
    return out;
  }

  private written(from: number, to: number): boolean {
    for (let block = from / BLOCK; block < to / BLOCK; block++) {
      const page = this.pages.get(Math.floor(block / BLOCKS_PER_PAGE));
      if (!page || !(page.mask & (1 << block % BLOCKS_PER_PAGE))) return false;
    }
    return true;
  }

  /** The bytes of [offset, offset + len): the chunks' data with the written blocks laid over it. */
  private assemble(offset: number, len: number, chunks: Map<number, Uint8Array>): Uint8Array {
    const out = new Uint8Array(len);
    for (const [c, data] of chunks) {
      this.keep(c, data);
      const from = Math.max(offset, c * this.chunkSize);
      const to = Math.min(offset + len, (c + 1) * this.chunkSize);
      out.set(data.subarray(from - c * this.chunkSize, to - c * this.chunkSize), from - offset);
    }
    for (let block = offset / BLOCK; block < (offset + len) / BLOCK; block++) {
      const page = this.pages.get(Math.floor(block / BLOCKS_PER_PAGE));
      const b = block % BLOCKS_PER_PAGE;
      if (page && page.mask & (1 << b)) out.set(page.data.subarray(b * BLOCK, (b + 1) * BLOCK), block * BLOCK - offset);
    }
    return out;
  }

  /** Chunk c's data: held, under way, or fetched now; rejects once `deadline` passes. */
  private chunk(c: number, deadline: number): Promise<Uint8Array> {
    const held = this.held(c);
    if (held) return Promise.resolve(held);
    let p = this.inFlight.get(c);
    if (!p) {
      p = this.fetchChunk(c, deadline).finally(() => {
        this.inFlight.delete(c);
        this.makeRoom();
      });
      this.inFlight.set(c, p);
    }
    return p;
  }

  private async fetchChunk(c: number, deadline: number): Promise<Uint8Array> {
    const url = this.opts.source.url(c);
    const name = url.replace(/^.*\/(?=[^/]*\/[^/]*$)/, '');
    for (let attempt = 0; ; attempt++) {
      try {
        const file = await this.download(url, attempt > 0 || this.failing.has(c));
        this.stats.fetched++;
        const want = await this.opts.source.digest(c);
        if (want && !equal(new Uint8Array(await crypto.subtle.digest('SHA-256', file)), want))
          throw new Error('its sha256 is not the one in the bundle (a corrupt or changed file)');
        const data = await within(this.opts.source.unpack(file), this.opts.stallMs ?? 15_000, 'unpacking it did not finish', this.stopper.signal);
        if (data.byteLength !== this.chunkSize) throw new Error(`it unpacks to ${data.byteLength} bytes, not ${this.chunkSize}`);
        if (this.failing.delete(c) && !this.failing.size) this.opts.onRecovered?.();
        return data;
      } catch (e) {
        if (this.stopper.signal.aborted) throw e;
        const first = !this.failing.has(c);
        this.failing.add(c);
        const retryIn = Math.min(30_000, 500 * 2 ** attempt);
        const giveUp = Date.now() + retryIn > deadline;
        // (said when a chunk starts failing and when a read gives up on it, not at every retry)
        if (first || giveUp)
          this.opts.onTrouble(
            `A block of the machine's disk could not be downloaded (${name}: ${(e as Error).message}). ` +
              (giveUp ? 'The command that needed it gets a read error; later reads try again.' : `Trying again in ${Math.round(retryIn / 1000)} s.`) +
              ' If it keeps failing, check that the bundle\'s disk/ folder was copied completely.',
          );
        if (giveUp) throw e;
        await sleep(retryIn, this.stopper.signal);
      }
    }
  }

  /**
   * A chunk file's bytes; an HTTP error, a reset, or no byte for stallMs throws. A retry goes past
   * the browser's cache, which may hold the failure (a 404 under a long max-age, a corrupt copy).
   */
  private async download(url: string, pastCache: boolean): Promise<Uint8Array<ArrayBuffer>> {
    const stallMs = this.opts.stallMs ?? 15_000;
    const abort = new AbortController();
    const stop = () => abort.abort(new Error('stopped'));
    this.stopper.signal.addEventListener('abort', stop, { once: true });
    let timer = setTimeout(() => abort.abort(new Error(`no byte for ${stallMs / 1000} s`)), stallMs);
    const progress = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new Error(`no byte for ${stallMs / 1000} s`)), stallMs);
    };
    try {
      const response = await (this.opts.fetch ?? fetch)(url, { signal: abort.signal, cache: pastCache ? 'reload' : 'default' });
      if (!response.ok || !response.body) {
        void response.body?.cancel().catch(() => undefined);
        throw new Error(`HTTP ${response.status}`);
      }
      const parts: Uint8Array[] = [];
      let length = 0;
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        progress();
        parts.push(value);
        length += value.byteLength;
      }
      const file = new Uint8Array(length);
      let at = 0;
      for (const p of parts) file.set(p, (at += p.byteLength) - p.byteLength);
      return file;
    } catch (e) {
      throw abort.signal.aborted && abort.signal.reason instanceof Error ? abort.signal.reason : e;
    } finally {
      clearTimeout(timer);
      this.stopper.signal.removeEventListener('abort', stop);
    }
  }

  private held(c: number): Uint8Array | undefined {
    return this.kept.get(c) ?? this.ahead.get(c);
  }

  /** Chunk c was read: the newest of the kept chunks (out of those fetched ahead, if it was there). */
  private keep(c: number, data: Uint8Array): void {
    this.kept.delete(c);
    this.kept.set(c, data);
    if (this.ahead.delete(c)) this.makeRoom();
    const budget = this.opts.keepBytes ?? 32 * 1024 * 1024;
    for (const oldest of this.kept.keys()) {
      if (this.kept.size * this.chunkSize <= budget) break;
      this.kept.delete(oldest);
    }
  }

  private makeRoom(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * `p`, or a rejection after `ms` or once `signal` aborts. (The abort matters: a stopped machine's
 * unpack worker never answers, and a timer still waiting would keep the whole machine, some
 * 300 MB, alive until it fires.)
 */
function within<T>(p: Promise<T>, ms: number, what: string, signal: AbortSignal): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([p, limit]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort!);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
