import { download } from '../boot/download.js';
import { TerminalError } from '../boot/errors.js';
import { gunzip } from '../boot/gunzip.js';
import type { BundleFile } from '../boot/manifest.js';
import type { PageFile } from '../files/page-files.js';
import type { Engine, EngineOptions, ShellChannel } from './engine.js';
import { readFile, writeFile, type Fs9p } from './v86-files.js';
import { raiseJitThreshold, tuneJit, type V86Cpu } from './v86-jit.js';
import { ChunkPrefetcher } from './v86-prefetch.js';
import { longerSlices, type V86Loop } from './v86-slices.js';

type V86Instance = import('v86').V86 & {
  // Internals used on purpose: with our own wasm_fn, v86 does not keep the wasm bytes its zstd
  // worker needs for the compressed disk chunks; its destroy() leaves that worker running; and the
  // disk buffer needs the fix below.
  wasm_source?: ArrayBuffer;
  zstd_worker?: Worker;
  fs9p?: Fs9p;
  v86?: Partial<V86Loop> & { cpu?: { devices?: { ide?: { primary?: { master?: { buffer?: ChunkedDisk } } } } } };
};

/** The parts of v86's AsyncXHRPartfileBuffer (the chunked disk) that fixDiskOverlay touches. */
interface ChunkedDisk {
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

const MiB = 1024 * 1024;

/** Serial bytes arrive one at a time: a listener that hands them on as text, in batches. */
function serialText(onText: (text: string) => void): (byte: number) => void {
  const decoder = new TextDecoder();
  let pending: number[] = [];
  const flush = () => {
    const text = decoder.decode(new Uint8Array(pending), { stream: true });
    pending = [];
    onText(text);
  };
  return (byte) => {
    if (pending.push(byte) === 1) queueMicrotask(flush);
  };
}

/**
 * The default engine: v86, an x86-to-wasm JIT that needs no cross-origin isolation. Restores the
 * bundle's saved state when the memory size matches it, otherwise cold-boots the kernel.
 */
export class V86Engine implements Engine {
  readonly restored: boolean;
  private emulator: V86Instance | undefined;
  private observer: PerformanceObserver | undefined;
  private stopped = false;
  private prefetcher: ChunkPrefetcher | undefined;

  constructor(private readonly opts: EngineOptions) {
    this.restored = !!opts.manifest.files.state && opts.memory === opts.manifest.memory;
  }

  async start(): Promise<void> {
    const { manifest, bundle, signal } = this.opts;
    const f = manifest.files;
    const wanted: Record<string, BundleFile | { path: URL; size: number }> = {
      wasm: { path: new URL('v86.wasm', this.opts.assets), size: 0 },
      bios: f.bios!,
      vgaBios: f.vgaBios!,
      ...(this.restored ? { state: f.state! } : { kernel: f.kernel!, initrd: f.initrd! }),
    };
    if (!this.restored && !(f.kernel && f.initrd))
      throw new TerminalError('invalid-attribute', `This bundle can only start from its saved state, taken with memory="${manifest.memory}". Remove the memory attribute or set it to ${manifest.memory}.`);
    const loaded: Record<string, number> = {};
    // Sizes as learned while downloading (the wasm's is not in the manifest); the manifest stays as it is.
    const sizes: Record<string, number> = Object.fromEntries(Object.entries(wanted).map(([k, w]) => [k, w.size]));
    const total = () => Object.values(sizes).reduce((n, size) => n + size, 0);
    const report = () => this.opts.onDownload(Object.values(loaded).reduce((a, b) => a + b, 0), total());
    const [v86, ...buffers] = await Promise.all([
      import('v86'),
      ...Object.entries(wanted).map(async ([name, file]) => {
        const url = new URL(file.path, bundle);
        const data = await download(url, {
          signal,
          size: file.size || undefined,
          onProgress: (n, size) => {
            loaded[name] = n;
            sizes[name] = Math.max(sizes[name], size ?? n);
            report();
          },
        });
        // (any file the manifest marks gzip, as its validation allows: today the kernel)
        return 'compression' in file && file.compression === 'gzip' ? gunzip(data, url) : data;
      }),
    ]);
    const files = Object.fromEntries(Object.keys(wanted).map((k, i) => [k, buffers[i]]));
    signal.throwIfAborted();

    const disk = f.disk!;
    const config: Record<string, unknown> = {
      wasm_fn: async (env: WebAssembly.Imports) => {
        try {
          return (await WebAssembly.instantiate(raiseJitThreshold(files.wasm), env)).instance.exports;
        } catch (e) {
          this.opts.onError(new TerminalError('engine-failed', `This browser could not start the v86 emulator (${(e as Error).message}). Try a current Chrome, Firefox or Safari.`));
          throw e;
        }
      },
      memory_size: this.opts.memory * MiB,
      vga_memory_size: 2 * MiB,
      bios: { buffer: files.bios },
      vga_bios: { buffer: files.vgaBios },
      hda: {
        url: new URL(disk.path, bundle).href,
        size: disk.size,
        async: true,
        use_parts: true,
        fixed_chunk_size: disk.chunkSize,
      },
      uart1: true,
      // A spare shell on the third port, for a terminal that shares this machine (the state was
      // saved with these ports; the guest does not detect the fourth).
      uart2: true,
      uart3: true,
      // An empty 9p file system: the reader's working directory (the saved state has it mounted).
      filesystem: {},
      autostart: true,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
    };
    if (this.restored) config.initial_state = { buffer: files.state };
    else
      Object.assign(config, {
        bzimage: { buffer: files.kernel },
        initrd: { buffer: files.initrd },
        cmdline: `${manifest.cmdline ?? ''} dt_containerd_timeout=${this.opts.containerdTimeout}`.trim(),
      });

    this.watchDisk(new URL(disk.path, bundle));
    const emulator = new v86.V86(config as never) as V86Instance;
    this.emulator = emulator;
    emulator.wasm_source = files.wasm.slice(0);
    emulator.add_listener('emulator-loaded', () => {
      const buffer = emulator.v86?.cpu?.devices?.ide?.primary?.master?.buffer;
      if (!fixDiskOverlay(buffer)) {
        this.opts.onError(new TerminalError('engine-failed', 'This v86 version keeps its disk differently than docker-terminal expects; the disk could be read wrongly. Rebuild docker-terminal against the v86 version in its package.json.'));
        return;
      }
      // (optimisations only: with another v86 inside, the guest runs in v86's own slices and JIT settings)
      longerSlices(emulator.v86 as V86Loop);
      tuneJit(emulator.v86?.cpu as unknown as V86Cpu);
      this.prefetcher = new ChunkPrefetcher(buffer!, disk.chunkSize);
      // A cold boot reads these anyway; fetched a few at a time, the boot waits less for them.
      if (!this.restored) void this.prefetcher.fetch(disk.prefetch?.boot ?? []);
    });
    emulator.add_listener('serial0-output-byte', serialText((text) => {
        if (!this.stopped) this.opts.onConsole(text);
      }));
    await new Promise<void>((resolve, reject) => {
      emulator.add_listener('emulator-started', () => resolve());
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  /** v86 retries a failed disk chunk forever without telling anyone; notice it and say so. */
  private watchDisk(disk: URL): void {
    if (typeof PerformanceObserver === 'undefined') return;
    const prefix = disk.href.replace(/[^/]*$/, '');
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries() as PerformanceResourceTiming[]) {
        const status = (e as { responseStatus?: number }).responseStatus ?? 0;
        if (e.name.startsWith(prefix) && status >= 400)
          this.opts.onError(new TerminalError('download-failed', `A block of the machine's disk could not be downloaded (${e.name}: HTTP ${status}). Check that the bundle's disk/ folder was copied completely, then press Retry.`));
      }
    });
    this.observer.observe({ type: 'resource', buffered: false });
  }

  /**
   * Fetches, in the background, the disk chunks the reader's first commands read (about 24 MB for
   * `docker run`, `docker ps`, `docker images`): after ready, so the bytes before the prompt stay few.
   * Then has the guest warm v86's compiler up for a first `docker run` (dt-warm in the guest's
   * /usr/local/sbin: at idle priority, and nothing Docker lists). Neither for a reader who asked
   * the browser to save data: the warm-up reads most of those chunks too.
   */
  ready(): void {
    if ((globalThis.navigator as { connection?: { saveData?: boolean } } | undefined)?.connection?.saveData) return;
    void this.prefetcher?.fetch(this.opts.manifest.files.disk?.prefetch?.firstCommands ?? []);
    this.control('warm');
    this.warming = true;
  }

  /** From `warm` until the reader first types: then the guest stops the warm-up at once (dt-warm). */
  private warming = false;

  private typed(): void {
    if (!this.warming) return;
    this.warming = false;
    this.control('warm-stop');
  }

  send(text: string): void {
    this.typed();
    this.emulator?.serial0_send(text);
  }

  private control(line: string): void {
    this.emulator?.serial_send_bytes(1, new TextEncoder().encode(line + '\n'));
  }

  resize(rows: number, cols: number): void {
    this.control(`resize ${rows} ${cols}`);
  }

  setClock(epochSeconds: number): void {
    this.control(`clock ${Math.floor(epochSeconds)}`);
  }

  /**
   * Serial ports with a spare shell for a terminal that shares the machine (see dt-init), and
   * whether taken. Only the third: Linux does not detect v86's fourth UART ("uart:unknown").
   */
  private readonly extraShells = new Map<number, boolean>([[2, false]]);

  openShell(onConsole: (text: string) => void): ShellChannel | undefined {
    const emulator = this.emulator;
    const port = [...this.extraShells].find(([, taken]) => !taken)?.[0];
    if (!emulator || port === undefined) return undefined;
    this.extraShells.set(port, true);
    const listener = serialText(onConsole);
    // (v86's typings know serial0 and serial1 only)
    const events = emulator as unknown as Record<'add_listener' | 'remove_listener', (name: string, fn: (byte: number) => void) => void>;
    const event = `serial${port}-output-byte`;
    events.add_listener(event, listener);
    return {
      send: (text) => {
        this.typed();
        emulator.serial_send_bytes(port, new TextEncoder().encode(text));
      },
      resize: (rows, cols) => this.control(`resize ${rows} ${cols} ttyS${port}`),
      close: () => {
        events.remove_listener(event, listener);
        // Ctrl-C and a fresh line, so the next terminal that takes this shell finds a prompt.
        if (!this.stopped) emulator.serial_send_bytes(port, new TextEncoder().encode('\x03'));
        this.extraShells.set(port, false);
      },
    };
  }

  private get fs(): Fs9p {
    const fs = this.emulator?.fs9p;
    if (!fs) throw new TerminalError('engine-failed', 'The machine has no file system for the page\'s files (it is stopped, or this v86 version lacks 9p). Start it again.');
    return fs;
  }

  writeFile(file: PageFile): Promise<void> {
    return writeFile(this.fs, file.path, file.data, file.mode);
  }

  readFile(path: string): Promise<Uint8Array> {
    return readFile(this.fs, path);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.prefetcher?.stop();
    this.observer?.disconnect();
    const emulator = this.emulator;
    this.emulator = undefined;
    if (!emulator) return;
    emulator.zstd_worker?.terminate();
    await emulator.destroy();
  }
}
