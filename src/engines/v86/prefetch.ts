/**
 * Fetches disk chunks ahead of the guest. v86 fetches a chunk only when the guest reads it, one
 * after another, and the guest waits for each: a first `docker run` after a restore reads about
 * 300 chunks (the CLI, the shim, the runtime, the image), and in Chromium those waits alone took
 * 8 s. The bundle lists the chunks a cold boot and the reader's first commands read; fetching them
 * a few at a time in that order means the guest's reads find them ready.
 */

/** The part of v86's chunked disk (AsyncXHRPartfileBuffer) the prefetcher uses. */
export interface PrefetchDisk {
  get(offset: number, len: number, fn: (data: Uint8Array) => void, options?: unknown): void;
}

export class ChunkPrefetcher {
  /** Chunks being fetched, by index: a read of one waits for that fetch instead of fetching it again. */
  private readonly inFlight = new Map<number, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly disk: PrefetchDisk,
    private readonly chunkSize: number,
    private readonly concurrency = 4,
  ) {
    const get = disk.get.bind(disk);
    disk.get = (offset, len, fn, options) => {
      const range = this.chunksOf(offset, len);
      const waits = range.map((c) => this.inFlight.get(c)).filter((w) => w !== undefined);
      // Once those are in, the read is a cache hit (or fetches only what is still missing).
      if (waits.length) void Promise.all(waits).then(() => disk.get(offset, len, fn, options));
      else this.track(range, (done) => get(offset, len, (data) => (done(), fn(data)), options));
    };
  }

  /** Fetches the listed chunks (v86 keeps them); resolves when all are in, or after stop(). */
  async fetch(chunks: readonly number[]): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (!this.stopped && next < chunks.length) {
        const c = chunks[next++];
        await new Promise<void>((resolve) => this.disk.get(c * this.chunkSize, this.chunkSize, () => resolve()));
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
  }

  /** No new fetches after this (those under way finish: v86 keeps what they bring). */
  stop(): void {
    this.stopped = true;
  }

  private chunksOf(offset: number, len: number): number[] {
    const out = [];
    for (let c = Math.floor(offset / this.chunkSize); c <= Math.floor((offset + len - 1) / this.chunkSize); c++) out.push(c);
    return out;
  }

  /** Runs a read; until it calls back, later reads of its chunks wait for it. */
  private track(range: number[], read: (done: () => void) => void): void {
    let finished = false;
    let resolve!: () => void;
    const p = new Promise<void>((r) => (resolve = r));
    read(() => {
      finished = true;
      resolve();
      for (const c of range) if (this.inFlight.get(c) === p) this.inFlight.delete(c);
    });
    // (a cache hit has called back already: nothing is in flight)
    if (!finished) for (const c of range) if (!this.inFlight.has(c)) this.inFlight.set(c, p);
  }
}
