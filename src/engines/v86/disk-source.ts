import type { DiskFile } from '../../boot/manifest.js';
import type { ChunkSource } from './disk.js';

/**
 * Where the bundle's disk chunks are (the manifest's files.disk): chunk i is
 * `disk-<start>-<end>.img.zst` in the folder of files.disk.path, or under the last of
 * files.disk.bases that starts at or before i (a release spreads the chunks over several packages).
 * Their digests are files.disk.sha256s: one 32-byte sha256 per chunk file, in order, itself checked
 * against its own sha256 once it arrives.
 */
export function diskSource(disk: DiskFile, bundle: URL, unpack: (file: Uint8Array) => Promise<Uint8Array>): ChunkSource {
  const folder = new URL(disk.path.replace(/[^/]*$/, ''), bundle);
  const bases = (disk.bases ?? []).map((b) => ({ from: b.from, url: new URL(b.url, bundle) })).sort((a, b) => a.from - b.from);
  let digests: Promise<Uint8Array | undefined> | undefined;
  const loadDigests = async () => {
    const list = disk.sha256s;
    if (!list) return undefined;
    const response = await fetch(new URL(list.path, bundle));
    if (!response.ok) throw new Error(`HTTP ${response.status} for the disk's digests (${list.path})`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (list.sha256 && hex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))) !== list.sha256) throw new Error(`the disk's digests (${list.path}) are not the file the manifest describes`);
    return bytes;
  };
  return {
    url(i) {
      const base = bases.filter((b) => b.from <= i).at(-1)?.url ?? folder;
      return new URL(`disk-${i * disk.chunkSize}-${(i + 1) * disk.chunkSize}.img.zst`, base).href;
    },
    async digest(i) {
      // (fetched once; a failure is forgotten, so the next chunk asks again)
      digests ??= loadDigests().catch((e) => {
        digests = undefined;
        throw e;
      });
      return (await digests)?.subarray(i * 32, i * 32 + 32);
    },
    unpack,
  };
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
