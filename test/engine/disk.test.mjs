// The v86 engine's disk (src/engines/v86/disk.ts) against a FAKE NETWORK: a fetch that serves chunk
// files from memory and can be told to fail a chunk (HTTP status, stall, garbage). The chunk files
// are the chunk bytes themselves ("unpack" copies them), so what a read returns can be checked. The
// real disk, with v86 and zstd chunks in Chromium, is covered by the component tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ChunkedDisk, FAILED } from '../../dist/esm/engines/v86/disk.js';
import { trimRanges } from '../../dist/esm/engines/v86/ide-trim.js';

const CHUNK = 4096;
const CHUNKS = 16;

/** Chunk i's bytes: a pattern that differs per chunk and per offset. */
const chunkBytes = (i) => Uint8Array.from({ length: CHUNK }, (_, j) => (i * 7 + j) & 0xff);
const sha = (bytes) => new Uint8Array(crypto.createHash('sha256').update(bytes).digest());

/** A fake network: serves chunk i at chunk-i; `faults` maps a chunk to what goes wrong with it. */
function fakeNetwork() {
  const net = { requests: [], faults: new Map(), running: 0, maxRunning: 0 };
  net.fetch = async (url, { signal } = {}) => {
    const i = Number(/chunk-(\d+)$/.exec(url)[1]);
    net.requests.push(i);
    const fault = net.faults.get(i);
    if (typeof fault === 'number') return new Response('no', { status: fault });
    net.running++;
    net.maxRunning = Math.max(net.maxRunning, net.running);
    await new Promise((r) => setTimeout(r, 3));
    net.running--;
    if (fault === 'stall')
      return new Response(new ReadableStream({ start(c) { signal?.addEventListener('abort', () => c.error(signal.reason)); } }));
    if (fault === 'garbage') return new Response(new Uint8Array(CHUNK).fill(0x55));
    return new Response(chunkBytes(i));
  };
  return net;
}

function disk(net, opts = {}) {
  const trouble = [];
  const recovered = [];
  const d = new ChunkedDisk({
    size: CHUNK * CHUNKS,
    chunkSize: CHUNK,
    source: {
      url: (i) => `https://bundle.test/disk/chunk-${i}`,
      digest: async (i) => (opts.digests === false ? undefined : sha(chunkBytes(i))),
      unpack: async (file) => file.slice(),
    },
    onTrouble: (m) => trouble.push(m),
    onRecovered: () => recovered.push(true),
    fetch: net.fetch,
    stallMs: 200,
    giveUpMs: 2000,
    ...opts,
  });
  return Object.assign(d, { trouble, recovered });
}

const read = (d, offset, len) => new Promise((resolve) => d.get(offset, len, resolve));

test('a read fetches the chunks under it once, and returns their bytes', async () => {
  const net = fakeNetwork();
  const d = disk(net);
  const data = await read(d, CHUNK * 2 + 512, CHUNK);
  assert.deepEqual(data, Uint8Array.from([...chunkBytes(2).subarray(512), ...chunkBytes(3).subarray(0, 512)]));
  await read(d, CHUNK * 2, 512);
  assert.deepEqual(net.requests, [2, 3]);
});

test('written blocks are read back over the chunk, and a fully written range needs no fetch', async () => {
  const net = fakeNetwork();
  const d = disk(net);
  const block = new Uint8Array(512).fill(9);
  d.set(CHUNK * 5 + 1024, block, () => undefined);
  assert.deepEqual(await read(d, CHUNK * 5 + 1024, 512), block);
  assert.deepEqual(net.requests, [], 'a read of written blocks only fetched the chunk');
  const mixed = await read(d, CHUNK * 5 + 512, 1024 + 512);
  assert.deepEqual(mixed.subarray(0, 512), chunkBytes(5).subarray(512, 1024));
  assert.deepEqual(mixed.subarray(512, 1024), block);
  assert.deepEqual(mixed.subarray(1024), chunkBytes(5).subarray(1536, 2048));
  assert.equal(d.writtenBytes, 4096);
});

test('discard (TRIM) lets whole written blocks go: the memory comes back and they read as the image again', async () => {
  const net = fakeNetwork();
  const d = disk(net);
  d.set(CHUNK * 2, new Uint8Array(CHUNK * 3).fill(7), () => undefined);
  assert.equal(d.writtenBytes, CHUNK * 3);
  // (a range that starts and ends inside blocks: the blocks it only partly covers stay)
  d.discard(CHUNK * 2 + 100, CHUNK * 2);
  assert.deepEqual((await read(d, CHUNK * 2, 256)), new Uint8Array(256).fill(7), 'a partly covered block stays');
  assert.deepEqual((await read(d, CHUNK * 3, CHUNK)), chunkBytes(3), 'a freed block reads as the image');
  d.discard(0, CHUNK * CHUNKS);
  assert.equal(d.writtenBytes, 0);
  assert.deepEqual(d.get_state(), [[]]);
});

test('the TRIM payload: 48-bit sector numbers and 16-bit counts, empty entries skipped', () => {
  const payload = new Uint8Array(512);
  const view = new DataView(payload.buffer);
  view.setUint32(0, 0x12345678, true);
  view.setUint16(4, 0x0001, true);
  view.setUint16(6, 8, true);
  view.setUint32(16, 2048, true);
  view.setUint16(22, 0xffff, true);
  assert.deepEqual(trimRanges(payload), [[0x1_12345678, 8], [2048, 0xffff]]);
});

test('the saved state holds the written blocks in v86\'s format, and restores them', async () => {
  const net = fakeNetwork();
  const d = disk(net);
  d.set(256 * 3, new Uint8Array(256).fill(1), () => undefined);
  d.set(CHUNK * 9, new Uint8Array(512).fill(2), () => undefined);
  const [blocks] = d.get_state();
  assert.deepEqual(blocks.map(([i]) => i).sort((a, b) => a - b), [3, (CHUNK * 9) / 256, (CHUNK * 9) / 256 + 1]);
  const e = disk(net);
  e.set_state([blocks]);
  assert.deepEqual(await read(e, CHUNK * 9, 512), new Uint8Array(512).fill(2));
  assert.deepEqual((await read(e, 0, 1024)).subarray(768, 1024), new Uint8Array(256).fill(1));
});

test('prefetch fetches each listed chunk once, a few at a time, in order; a read waits for it', async () => {
  const net = fakeNetwork();
  const d = disk(net);
  const prefetch = d.prefetch([7, 3, 9, 1, 12, 4, 3, 8], 3);
  const data = await read(d, CHUNK * 7, 512);
  assert.deepEqual(data, chunkBytes(7).subarray(0, 512));
  await prefetch;
  assert.deepEqual(net.requests, [7, 3, 9, 1, 12, 4, 8]);
  assert.equal(net.maxRunning, 3);
});

test('a chunk that fails (404, then 500) is retried, named, and comes in once the server recovers', async () => {
  const net = fakeNetwork();
  const d = disk(net, { giveUpMs: 10_000 });
  net.faults.set(4, 404);
  setTimeout(() => net.faults.set(4, 500), 300);
  setTimeout(() => net.faults.delete(4), 1200);
  const data = await read(d, CHUNK * 4, 512);
  assert.deepEqual(data, chunkBytes(4).subarray(0, 512));
  assert.ok(net.requests.filter((i) => i === 4).length >= 3);
  assert.equal(d.trouble.length, 1, 'said once, not at every retry');
  assert.match(d.trouble[0], /disk\/chunk-4: HTTP 404.*Trying again/);
  assert.equal(d.recovered.length, 1);
});

test('a stalled transfer and bytes that are not the chunk count as failures, by name', async () => {
  for (const [fault, why] of [['stall', /no byte for 0.2 s/], ['garbage', /sha256 is not the one in the bundle/]]) {
    const net = fakeNetwork();
    const d = disk(net, { giveUpMs: 10_000 });
    net.faults.set(6, fault);
    setTimeout(() => net.faults.delete(6), 700);
    assert.deepEqual(await read(d, CHUNK * 6, 512), chunkBytes(6).subarray(0, 512), fault);
    assert.match(d.trouble[0], why, fault);
  }
});

test('a read that cannot get its chunk gives up with FAILED; a later read tries again', async () => {
  const net = fakeNetwork();
  const d = disk(net, { giveUpMs: 1500 });
  net.faults.set(2, 503);
  const began = Date.now();
  assert.equal(await read(d, CHUNK * 2, 512), FAILED);
  assert.ok(Date.now() - began < 5000);
  assert.match(d.trouble.at(-1), /gets a read error; later reads try again/);
  net.faults.delete(2);
  assert.deepEqual(await read(d, CHUNK * 2, 512), chunkBytes(2).subarray(0, 512));
});

test('unpacked chunks are kept up to their budget, the oldest read dropped first', async () => {
  const net = fakeNetwork();
  const d = disk(net, { keepBytes: CHUNK * 3 });
  for (const c of [0, 1, 2]) await read(d, CHUNK * c, 512);
  await read(d, 0, 512); // chunk 0 is now the newest
  await read(d, CHUNK * 3, 512); // drops chunk 1
  net.requests.length = 0;
  await read(d, 0, 512);
  await read(d, CHUNK * 1, 512);
  assert.deepEqual(net.requests, [1]);
});

test('prefetch holds what it fetched until it is read, and goes no further than its window ahead of the reads', async () => {
  const net = fakeNetwork();
  const d = disk(net, { aheadBytes: CHUNK * 3, keepBytes: CHUNK * 8 });
  const done = d.prefetch([0, 1, 2, 3, 4, 5], 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(net.requests, [0, 1, 2], 'three chunks ahead, then it waits');
  assert.deepEqual(await read(d, 0, 512), chunkBytes(0).subarray(0, 512));
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(net.requests, [0, 1, 2, 3], 'a chunk read makes room for one more');
  for (const c of [1, 2, 3, 4, 5]) assert.deepEqual(await read(d, CHUNK * c, 512), chunkBytes(c).subarray(0, 512));
  await done;
  assert.deepEqual(net.requests, [0, 1, 2, 3, 4, 5], 'nothing fetched twice');
});

test('after stop() nothing is fetched and a pending read never calls back', async () => {
  const net = fakeNetwork();
  const d = disk(net);
  net.faults.set(1, 'stall');
  let called = false;
  d.get(CHUNK, 512, () => (called = true));
  d.stop();
  await d.prefetch([5, 6]);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(called, false);
  assert.deepEqual(net.requests, [1]);
});
