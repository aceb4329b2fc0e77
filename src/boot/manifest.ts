import { TerminalError } from './errors.js';

/** One file of a machine bundle, relative to the bundle's folder. */
export interface BundleFile {
  path: string;
  /** Bytes of the file as served. */
  size: number;
  sha256?: string;
  /** gzip: the element unpacks the file after downloading it (the kernel). The disk has its own. */
  compression?: 'gzip' | 'zstd';
  /** Bytes once unpacked. */
  rawSize?: number;
  /** The file in parts (each under the 20 MB a CDN serves), joined in order; path names the whole. */
  parts?: BundleFilePart[];
}

export interface BundleFilePart {
  path: string;
  size: number;
  sha256?: string;
}

export interface DiskFile extends BundleFile {
  /** The disk is served as `disk-<start>-<end>.img[.zst]` chunks of this many bytes, loaded on demand. */
  chunkSize: number;
  chunks: number;
  compression?: 'zstd';
  /** Bytes of all chunk files together (what a reader would download at most). */
  bytes?: number;
  /** Where the chunks are, if not beside path: from chunk `from` on, under `url` (relative to the bundle). */
  bases?: Array<{ from: number; url: string }>;
  /** One 32-byte sha256 per chunk file, in order. */
  sha256s?: BundleFile;
  /**
   * Chunk indexes in the order the guest first reads them: during a cold boot, and during the
   * reader's first commands after a restore. The v86 engine fetches them ahead of the guest.
   */
  prefetch?: { boot?: number[]; firstCommands?: number[] };
}

/** `manifest.json` of a machine bundle (format 1). Written by guest/tools/manifest.mjs. */
export interface Manifest {
  format: 1;
  engine: 'v86' | 'qemu';
  name?: string;
  /** MiB of guest memory the saved state was taken with. */
  memory: number;
  cores?: number;
  /** qemu: the bundle restores a pre-boot snapshot (c2w's `-incoming file:/pack/vm.state`). */
  snapshot?: boolean;
  cmdline?: string;
  stages?: string[];
  /** Docker images preloaded in the guest, usable offline. */
  images: string[];
  /** The v86 version the saved state was made with; another v86 cannot restore it. */
  v86?: string;
  files: {
    bios?: BundleFile;
    vgaBios?: BundleFile;
    kernel?: BundleFile;
    initrd?: BundleFile;
    state?: BundleFile;
    disk?: DiskFile;
    [name: string]: BundleFile | undefined;
  };
}

/** Fetches and checks `<base>/manifest.json`; every problem becomes a TerminalError saying what to fix. */
export async function loadManifest(base: URL, signal?: AbortSignal): Promise<Manifest> {
  const url = new URL('manifest.json', base);
  let response: Response;
  try {
    response = await fetch(url, { signal, cache: 'no-cache' });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new TerminalError('manifest-missing', `Could not fetch the machine bundle's manifest at ${url} (${(e as Error).message}). Check the src attribute and that the server is reachable.`);
  }
  if (!response.ok)
    throw new TerminalError('manifest-missing', `No machine bundle at ${base}: ${url} answered HTTP ${response.status}. Set src to a folder that holds manifest.json (build one with \`npm run build:guest\`).`);
  let data: unknown;
  try {
    data = await response.json();
  } catch {
    throw new TerminalError('manifest-invalid', `${url} is not valid JSON. Rebuild the bundle or fix the file.`);
  }
  return validateManifest(data, url.href);
}

export function validateManifest(data: unknown, where = 'manifest.json'): Manifest {
  const bad = (what: string) => new TerminalError('manifest-invalid', `${where} is not a docker-terminal machine manifest: ${what}.`);
  if (!data || typeof data !== 'object') throw bad('it is not a JSON object');
  const m = data as Record<string, unknown>;
  if (m.format !== 1) throw bad(`"format" is ${JSON.stringify(m.format)}, this element reads format 1`);
  if (m.engine !== 'v86' && m.engine !== 'qemu') throw bad(`"engine" must be "v86" or "qemu", not ${JSON.stringify(m.engine)}`);
  if (typeof m.memory !== 'number' || !(m.memory > 0)) throw bad('"memory" (MiB) must be a positive number');
  if (!Array.isArray(m.images) || m.images.some((i) => typeof i !== 'string')) throw bad('"images" must be a list of image names');
  if (!m.files || typeof m.files !== 'object') throw bad('"files" is missing');
  for (const [name, f] of Object.entries(m.files as Record<string, unknown>)) {
    const file = f as Partial<BundleFile> | null;
    if (!file || typeof file.path !== 'string' || typeof file.size !== 'number')
      throw bad(`files.${name} needs a "path" and a "size"`);
    if (name !== 'disk' && file.compression !== undefined && file.compression !== 'gzip')
      throw bad(`files.${name}.compression must be "gzip" if given, not ${JSON.stringify(file.compression)}`);
    if (file.parts !== undefined && (!Array.isArray(file.parts) || !file.parts.length || file.parts.some((p) => typeof p?.path !== 'string' || typeof p?.size !== 'number')))
      throw bad(`files.${name}.parts must be a list of parts, each with a "path" and a "size"`);
  }
  if (m.v86 !== undefined && typeof m.v86 !== 'string') throw bad('"v86" must be the version string of v86');
  const files = m.files as Manifest['files'];
  if (m.engine === 'v86') {
    for (const need of ['bios', 'vgaBios', 'disk'] as const) if (!files[need]) throw bad(`files.${need} is missing`);
    if (!files.state && !(files.kernel && files.initrd)) throw bad('it has neither a saved state nor a kernel and initrd');
    if (!(files.disk!.chunkSize > 0)) throw bad('files.disk.chunkSize must be a positive number');
    const disk = files.disk!;
    if (disk.bases !== undefined && (!Array.isArray(disk.bases) || disk.bases.some((b) => !Number.isInteger(b?.from) || typeof b?.url !== 'string')))
      throw bad('files.disk.bases must be a list of {"from": a chunk index, "url": a folder}');
    if (disk.sha256s !== undefined && (typeof disk.sha256s?.path !== 'string' || disk.sha256s.size !== disk.chunks * 32))
      throw bad(`files.disk.sha256s must name a file of 32 bytes per chunk (${disk.chunks * 32} bytes)`);
    const prefetch = files.disk!.prefetch as Record<string, unknown> | undefined;
    if (prefetch !== undefined) {
      const chunks = files.disk!.chunks;
      const isList = (l: unknown) => l === undefined || (Array.isArray(l) && l.every((c) => Number.isInteger(c) && c >= 0 && c < chunks));
      if (!prefetch || typeof prefetch !== 'object' || !isList(prefetch.boot) || !isList(prefetch.firstCommands))
        throw bad(`files.disk.prefetch must hold "boot" and "firstCommands" lists of chunk indexes below ${chunks}`);
    }
  }
  return data as Manifest;
}

/** Bytes a reader downloads before the prompt: the saved state (or kernel) plus the BIOS files. */
export function startBytes(m: Manifest, restoring: boolean): number {
  const f = m.files;
  // qemu: everything in the c2w output loads before the machine starts.
  if (m.engine === 'qemu') return Object.values(f).reduce((n, p) => n + (p?.size ?? 0), 0);
  const parts = restoring ? [f.bios, f.vgaBios, f.state] : [f.bios, f.vgaBios, f.kernel, f.initrd];
  return parts.reduce((n, p) => n + (p?.size ?? 0), 0);
}
