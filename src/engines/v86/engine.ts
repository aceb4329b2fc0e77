import { downloadAll, type Wanted } from '../../boot/download.js';
import { TerminalError } from '../../boot/errors.js';
import { gunzip } from '../../boot/gunzip.js';
import type { PageFile } from '../../files/page-files.js';
import { control, controlBytes, CONTROL_PORT } from '../../protocol/control.js';
import type { Engine, EngineOptions, ShellChannel } from '../engine.js';
import { v86Config } from './config.js';
import { fixDiskOverlay, type ChunkedDisk } from './disk-overlay.js';
import { readFile, writeFile, type Fs9p } from './files.js';
import { raiseJitThreshold, tuneJit, type V86Cpu } from './jit.js';
import { ChunkPrefetcher } from './prefetch.js';
import { serialText } from './serial-text.js';
import { longerSlices, type V86Loop } from './slices.js';

type V86Instance = import('v86').V86 & {
  // Internals used on purpose: with our own wasm_fn, v86 does not keep the wasm bytes its zstd
  // worker needs for the compressed disk chunks; its destroy() leaves that worker running; and the
  // disk buffer needs the fix in ./disk-overlay.ts.
  wasm_source?: ArrayBuffer;
  zstd_worker?: Worker;
  fs9p?: Fs9p;
  v86?: Partial<V86Loop> & { cpu?: { devices?: { ide?: { primary?: { master?: { buffer?: ChunkedDisk } } } } } };
};

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
    this.restored = opts.restore;
  }

  async start(): Promise<void> {
    const { manifest, bundle, signal } = this.opts;
    const f = manifest.files;
    if (!this.restored && !(f.kernel && f.initrd))
      throw new TerminalError('invalid-attribute', `This bundle can only start from its saved state, taken with memory="${manifest.memory}". Remove the memory attribute or set it to ${manifest.memory}.`);
    // (the wasm's size is not in the manifest: 0, learned as it arrives)
    const wanted: Record<string, Wanted> = {
      wasm: { url: new URL('v86.wasm', this.opts.assets), size: 0 },
      bios: { url: new URL(f.bios!.path, bundle), size: f.bios!.size },
      vgaBios: { url: new URL(f.vgaBios!.path, bundle), size: f.vgaBios!.size },
      ...(this.restored
        ? { state: { url: new URL(f.state!.path, bundle), size: f.state!.size } }
        : { kernel: { url: new URL(f.kernel!.path, bundle), size: f.kernel!.size }, initrd: { url: new URL(f.initrd!.path, bundle), size: f.initrd!.size } }),
    };
    const [v86, files] = await Promise.all([import('v86'), downloadAll(wanted, { signal, onProgress: (loaded, total) => this.opts.onDownload(loaded, total) })]);
    // (any file the manifest marks gzip, as its validation allows: today the kernel)
    for (const name of Object.keys(files)) if (f[name]?.compression === 'gzip') files[name] = await gunzip(files[name], wanted[name].url);
    signal.throwIfAborted();

    const disk = f.disk!;
    const config = v86Config({
      memoryMB: this.opts.memory,
      wasmFn: async (env) => {
        try {
          return (await WebAssembly.instantiate(raiseJitThreshold(files.wasm), env)).instance.exports;
        } catch (e) {
          this.opts.onError(new TerminalError('engine-failed', `This browser could not start the v86 emulator (${(e as Error).message}). Try a current Chrome, Firefox or Safari.`));
          throw e;
        }
      },
      bios: { buffer: files.bios },
      vgaBios: { buffer: files.vgaBios },
      disk: { url: new URL(disk.path, bundle).href, size: disk.size, async: true, use_parts: true, fixed_chunk_size: disk.chunkSize },
      ...(this.restored
        ? { state: { buffer: files.state } }
        : {
            kernel: { buffer: files.kernel },
            initrd: { buffer: files.initrd },
            cmdline: `${manifest.cmdline ?? ''} dt_containerd_timeout=${this.opts.containerdTimeout}`.trim(),
          }),
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
    this.control(control.warm());
    this.warming = true;
  }

  /** From `warm` until the reader first types: then the guest stops the warm-up at once (dt-warm). */
  private warming = false;

  private typed(): void {
    if (!this.warming) return;
    this.warming = false;
    this.control(control.warmStop());
  }

  send(text: string): void {
    this.typed();
    this.emulator?.serial0_send(text);
  }

  private control(line: string): void {
    this.emulator?.serial_send_bytes(CONTROL_PORT, controlBytes(line));
  }

  resize(rows: number, cols: number): void {
    this.control(control.resize(rows, cols));
  }

  setClock(epochSeconds: number): void {
    this.control(control.clock(epochSeconds));
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
      resize: (rows, cols) => this.control(control.resize(rows, cols, `ttyS${port}`)),
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

