// ChunkPrefetcher against a small fake of v86's chunked disk (AsyncXHRPartfileBuffer): a fetch per
// missing chunk that takes a few milliseconds, a cache of what came in. The real disk, in Chromium,
// is covered by the component tests (test/component) and the bench.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkPrefetcher } from '../../dist/esm/engines/v86/prefetch.js';

const SIZE = 1024;

/** Fake chunked disk: records every chunk fetch and how many were under way at once. */
function fakeDisk() {
  const cache = new Set();
  const fetches = [];
  let running = 0;
  const disk = {
    fetches,
    cache,
    maxRunning: 0,
    get(offset, len, fn) {
      const first = Math.floor(offset / SIZE);
      const last = Math.floor((offset + len - 1) / SIZE);
      const missing = [];
      for (let c = first; c <= last; c++) if (!cache.has(c)) missing.push(c);
      if (!missing.length) return fn(new Uint8Array(len));
      let left = missing.length;
      for (const c of missing) {
        fetches.push(c);
        running++;
        disk.maxRunning = Math.max(disk.maxRunning, running);
        setTimeout(() => {
          running--;
          cache.add(c);
          if (--left === 0) fn(new Uint8Array(len));
        }, 5);
      }
    },
  };
  return disk;
}

const read = (disk, chunk, count = 1) => new Promise((resolve) => disk.get(chunk * SIZE, count * SIZE, resolve));

test('fetches every listed chunk once, a few at a time, in the listed order', async () => {
  const disk = fakeDisk();
  const p = new ChunkPrefetcher(disk, SIZE, 3);
  const list = [7, 3, 9, 1, 12, 4, 3, 8];
  await p.fetch(list);
  assert.deepEqual(disk.fetches, [7, 3, 9, 1, 12, 4, 8]);
  assert.equal(disk.maxRunning, 3);
  assert.deepEqual([...disk.cache].sort((a, b) => a - b), [1, 3, 4, 7, 8, 9, 12]);
});

test('a guest read of a chunk being prefetched waits for that fetch instead of fetching again', async () => {
  const disk = fakeDisk();
  const p = new ChunkPrefetcher(disk, SIZE, 2);
  const prefetch = p.fetch([5, 6]);
  const data = await read(disk, 5);
  assert.equal(data.length, SIZE);
  await prefetch;
  assert.deepEqual(disk.fetches, [5, 6]);
});

test('a prefetch of a chunk the guest is reading waits for that read', async () => {
  const disk = fakeDisk();
  const p = new ChunkPrefetcher(disk, SIZE, 2);
  const guest = read(disk, 2, 2);
  await p.fetch([3, 2, 4]);
  await guest;
  assert.deepEqual(disk.fetches, [2, 3, 4]);
});

test('chunks already on hand are not fetched', async () => {
  const disk = fakeDisk();
  disk.cache.add(1).add(2);
  await new ChunkPrefetcher(disk, SIZE).fetch([1, 2, 3]);
  assert.deepEqual(disk.fetches, [3]);
});

test('stop() starts no new fetches; the guest still reads what it needs', async () => {
  const disk = fakeDisk();
  const p = new ChunkPrefetcher(disk, SIZE, 1);
  const prefetch = p.fetch([1, 2, 3, 4, 5]);
  p.stop();
  await prefetch;
  assert.deepEqual(disk.fetches, [1]);
  await read(disk, 9);
  assert.deepEqual(disk.fetches, [1, 9]);
});
