/**
 * A patch of v86's chunked disk (AsyncXHRPartfileBuffer.prototype.get in v86's src/buffer.js,
 * https://github.com/copy/v86/blob/master/src/buffer.js). No upstream report names this fault yet;
 * the nearest is https://github.com/copy/v86/issues/16 ("AsyncFileLoader doesn't use written
 * blocks"), the same kind of fault in the disk loader v86 had then. Remove this file once v86 lays
 * the written blocks over a fetched chunk itself.
 */

/** The parts of v86's AsyncXHRPartfileBuffer (the chunked disk) that fixDiskOverlay touches. */
export interface ChunkedDisk {
  fixed_chunk_size?: number;
  block_cache: Map<number, Uint8Array>;
  block_cache_is_write: Set<number>;
  get(offset: number, len: number, fn: (data: Uint8Array) => void, options?: unknown): void;
}

const BLOCK = 256;

/**
 * v86 0.5.462's chunked disk hands out a freshly fetched chunk *before* laying the blocks written
 * since (by the saved state, or by the reader) over it, so the guest's first read of such a chunk
 * sees stale data and ext4 breaks ("deleted inode referenced"). Lay the written blocks over every
 * read result; where v86 got it right this rewrites the same bytes.
 */
export function fixDiskOverlay(disk: ChunkedDisk | undefined): boolean {
  if (!disk?.fixed_chunk_size || !(disk.block_cache instanceof Map) || !(disk.block_cache_is_write instanceof Set)) return false;
  const get = disk.get.bind(disk);
  disk.get = (offset, len, fn, options) =>
    get(
      offset,
      len,
      (data) => {
        for (let b = offset / BLOCK, end = (offset + len) / BLOCK; b < end; b++) {
          if (!disk.block_cache_is_write.has(b)) continue;
          const block = disk.block_cache.get(b);
          if (block && block !== data) data.set(block, b * BLOCK - offset);
        }
        fn(data);
      },
      options,
    );
  return true;
}
