import { downloadAll, sha256Hex, type Wanted } from '../../boot/download.js';
import { TerminalError } from '../../boot/errors.js';
import { gunzip } from '../../boot/gunzip.js';
import type { PageFile } from '../../files/page-files.js';
import { control, controlBytes, CONTROL_PORT } from '../../protocol/control.js';
import type { Engine, EngineOptions, ShellChannel } from '../engine.js';
import { v86Config } from './config.js';
import { ChunkedDisk, type DiskStats } from './disk.js';
import { diskSource } from './disk-source.js';
import { readFile, writeFile, type Fs9p } from './files.js';
import { readErrors, type IdeInterface } from './ide-errors.js';
import { trim, type TrimInterface } from './ide-trim.js';
import { sparseZeroing } from './sparse-zero.js';
import { unpackState } from './state-unpack.js';
import { raiseJitThreshold, tuneJit, type V86Cpu } from './jit.js';
import { serialText } from './serial-text.js';
import { longerSlices, type V86Loop } from './slices.js';
import type { MachineNetwork, V86Adapter } from './network.js';

type V86Instance = import('v86').V86 & {
  // Internals used on purpose: with our own wasm_fn, v86 does not keep the wasm bytes its zstd
  // worker (which unpacks the disk chunks) needs; its destroy() leaves that worker running; and the
  // IDE disk gets read errors (./ide-errors.ts).
  wasm_source?: ArrayBuffer;
  zstd_worker?: Worker;
  zstd_decompress_worker(size: number, src: Uint8Array): Promise<ArrayBuffer>;
  fs9p?: Fs9p;
  network_adapter?: V86Adapter;
  v86?: Partial<V86Loop> & { cpu?: { devices?: { ide?: { primary?: { master?: Partial<IdeInterface> } } } } };
};

/** Seconds from the downloaded files to a running emulator (a restore takes one or two). */
const START_LIMIT_S = 60;

/**
 * The default engine: v86, an x86-to-wasm JIT that needs no cross-origin isolation. Restores the
 * bundle's saved state when the memory size matches it, otherwise cold-boots the kernel.
 */
export class V86Engine implements Engine {
  readonly restored: boolean;
  private emulator: V86Instance | undefined;
  private stopped = false;
  private disk: ChunkedDisk | undefined;
  private network: MachineNetwork | undefined;
  /** The reader has the prompt: a disk that fails is a notice over the terminal from now on. */
  private atPrompt = false;

  constructor(private readonly opts: EngineOptions) {
    this.restored = opts.restore;
  }

  async start(): Promise<void> {
    const { manifest, bundle, signal } = this.opts;
    const f = manifest.files;
    if (!this.restored && !(f.kernel && f.initrd))
      throw new TerminalError('invalid-attribute', `This bundle can only start from its saved state, taken with memory="${manifest.memory}". Remove the memory attribute or set it to ${manifest.memory}.`);
    const want = (file: { path: string; size: number; sha256?: string }): Wanted => ({ url: new URL(file.path, bundle), size: file.size, sha256: file.sha256 });
    // (the wasm's size is not in the manifest: 0, learned as it arrives; the state may come in parts)
    const state = f.state?.parts ?? (f.state ? [f.state] : []);
    const wanted: Record<string, Wanted> = {
      wasm: { url: new URL('v86.wasm', this.opts.assets), size: 0 },
      bios: want(f.bios!),
      vgaBios: want(f.vgaBios!),
      ...(this.restored ? Object.fromEntries(state.map((p, i) => [`state${i}`, want(p)])) : { kernel: want(f.kernel!), initrd: want(f.initrd!) }),
    };
    const began = performance.now();
    const [v86, net, files] = await Promise.all([import('v86'), import('./network.js'), downloadAll(wanted, { signal, onProgress: (loaded, total) => this.opts.onDownload(loaded, total) })]);
    const downloaded = phase('download', began);
    // (any file the manifest marks gzip, as its validation allows: today the kernel)
    for (const name of Object.keys(files)) if (f[name]?.compression === 'gzip') files[name] = await gunzip(files[name], wanted[name].url);
    const packed = this.restored ? await joinParts(state.map((_, i) => files[`state${i}`]), f.state!, bundle) : undefined;
    // (raw, unpacked in a worker: ./state-unpack.ts says why; without rawSize v86 unpacks it)
    const stateFile = packed && { buffer: (f.state!.rawSize ? await unpackState(files.wasm, packed, f.state!.rawSize, signal) : packed) as ArrayBuffer | undefined };
    const unpacked = phase('unpack state', downloaded);
    // (the parts are in the joined copy now; several closures here share this scope, and with it `files`)
    for (let i = 0; i < state.length; i++) {
      if (state.length > 1) detach(files[`state${i}`]);
      delete files[`state${i}`];
    }
    signal.throwIfAborted();
    // (v86 keeps the function it was given, and with it whatever that closes over: the wasm only)
    const wasm = files.wasm;

    const disk = f.disk!;
    const config = v86Config({
      memoryMB: this.opts.memory,
      wasmFn: async (env) => {
        try {
          return sparseZeroing((await WebAssembly.instantiate(raiseJitThreshold(wasm), env)).instance.exports);
        } catch (e) {
          this.opts.onError(new TerminalError('engine-failed', `This browser could not start the v86 emulator (${(e as Error).message}). Try a current Chrome, Firefox or Safari.`));
          throw e;
        }
      },
      bios: { buffer: files.bios },
      vgaBios: { buffer: files.vgaBios },
      disk: this.newDisk(),
      ...(this.restored
        ? { state: stateFile as { buffer: ArrayBuffer } }
        : {
            kernel: { buffer: files.kernel },
            initrd: { buffer: files.initrd },
            cmdline: `${manifest.cmdline ?? ''} dt_containerd_timeout=${this.opts.containerdTimeout}`.trim(),
          }),
    });

    const emulator = new v86.V86(config as never) as V86Instance;
    this.emulator = emulator;
    emulator.wasm_source = files.wasm.slice(0);
    emulator.add_listener('emulator-loaded', () => {
      // (the guest's router: DNS, the page's registry, the relay; ./network.ts. v86 makes its adapter
      // once the wasm is in, before this event.)
      if (emulator.network_adapter)
        this.network = new net.MachineNetwork(emulator.network_adapter, {
          relay: this.opts.network,
          registry: this.opts.registry,
          onNotice: (error) => (this.atPrompt ? this.opts.onError(error) : console.info(`docker-terminal: ${error.message}`)),
        });
      // (without it a read that cannot get its data waits, as with v86's own disk)
      readErrors(emulator.v86?.cpu?.devices?.ide?.primary?.master);
      // (the guest's freed blocks leave the tab's memory: ./ide-trim.ts)
      trim(emulator.v86?.cpu?.devices?.ide?.primary?.master as unknown as Partial<TrimInterface> | undefined);
      // (optimisations only: with another v86 inside, the guest runs in v86's own slices and JIT settings)
      longerSlices(emulator.v86 as V86Loop);
      tuneJit(emulator.v86?.cpu as unknown as V86Cpu);
      // A cold boot reads these anyway; fetched a few at a time, the boot waits less for them.
      if (!this.restored) void this.disk?.prefetch(disk.prefetch?.boot ?? []);
    });
    emulator.add_listener('serial0-output-byte', serialText((text) => {
        if (!this.stopped) this.opts.onConsole(text);
      }));
    // (the guest's answers on the control port, line by line)
    let answers = '';
    emulator.add_listener('serial1-output-byte', serialText((text) => {
      answers += text;
      const lines = answers.split('\n');
      answers = lines.pop() ?? '';
      for (const line of lines) this.answer(line.trim());
    }));
    // (v86 fails a state it cannot read inside its own promise, and the machine never starts)
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve, reject) => {
      emulator.add_listener('emulator-started', () => resolve());
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      timer = setTimeout(
        () => reject(new TerminalError('engine-failed', `The emulator did not start within ${START_LIMIT_S} s of the download. The bundle may be damaged or from another build: press Retry, and if it happens again, copy the bundle again.`)),
        START_LIMIT_S * 1000,
      );
    }).finally(() => clearTimeout(timer));
    phase(this.restored ? 'restore' : 'emulator start', unpacked);
    // v86's closures keep its options, and so the saved state (34 MB), for the machine's whole life:
    // it is in the guest's memory now, and the tab need not hold it twice. Detached, its bytes go
    // whoever still points at it (v86's file list does).
    if (stateFile?.buffer) detach(stateFile.buffer);
    if (stateFile) stateFile.buffer = undefined;
  }

  /** What the guest's disk reads have waited for, so far (for the bench and the docs' breakdowns). */
  get diskStats(): DiskStats | undefined {
    return this.disk?.stats;
  }

  /** The machine's disk (./disk.ts): its chunks from the bundle, unpacked by v86's zstd worker. */
  private newDisk(): ChunkedDisk {
    const { manifest, bundle } = this.opts;
    const disk = manifest.files.disk!;
    this.disk = new ChunkedDisk({
      size: disk.size,
      chunkSize: disk.chunkSize,
      source: diskSource(disk, bundle, async (file) => new Uint8Array(await this.emulator!.zstd_decompress_worker(disk.chunkSize, file))),
      // Before the prompt the boot's own checks end a boot that cannot go on; after it, a notice.
      onTrouble: (message) => (this.atPrompt ? this.opts.onError(new TerminalError('download-failed', message)) : this.opts.onNotice?.(message)),
      onRecovered: () => this.opts.onRecovered?.(),
    });
    return this.disk;
  }

  /**
   * Fetches, in the background, the disk chunks the reader's first commands read (about 24 MB for
   * `docker run`, `docker ps`, `docker images`): after ready, so the bytes before the prompt stay few.
   * Then has the guest warm v86's compiler up for a first `docker run` (dt-warm in the guest's
   * /usr/local/sbin: at idle priority, and nothing Docker lists). Neither for a reader who asked
   * the browser to save data: the warm-up reads most of those chunks too.
   */
  ready(): void {
    this.atPrompt = true;
    if ((globalThis.navigator as { connection?: { saveData?: boolean } } | undefined)?.connection?.saveData) return;
    void this.disk?.prefetch(this.opts.manifest.files.disk?.prefetch?.firstCommands ?? []);
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
    // (as UTF-8: serial0_send would cut each UTF-16 unit to a byte)
    this.emulator?.serial_send_bytes(0, new TextEncoder().encode(text));
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

  private readonly answerWaiters = new Set<(line: string) => void>();

  /** A line the guest wrote on the control port: an answer someone waits for, news of a daemon or of the disk. */
  private answer(line: string): void {
    for (const w of [...this.answerWaiters]) w(line);
    const daemon = /^daemon (down|up) (\S+)$/.exec(line);
    if (daemon?.[1] === 'down')
      this.opts.onError(new TerminalError('daemon-down', `Docker's ${daemon[2]} stopped, and the machine is starting it again: docker commands fail until it is back. If they keep failing, press Restart machine.`));
    else if (daemon) this.opts.onRecovered?.();
    const disk = /^disk (low|ok)(?: (\d+))?$/.exec(line);
    if (disk?.[1] === 'low')
      this.opts.onError(new TerminalError('disk-full', `The machine's disk is nearly full (${disk[2]} MB left): soon writes fail with "No space left on device". Remove what you no longer need: files, or images and containers with docker system prune -af.`));
    else if (disk) this.opts.onRecovered?.();
  }
  promptKey: string | undefined;

  async setPromptKey(key: string): Promise<boolean> {
    const answered = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => (this.answerWaiters.delete(w), resolve(false)), 5000);
      const w = (line: string) => line === `marked ${key}` && (clearTimeout(timer), this.answerWaiters.delete(w), resolve(true));
      this.answerWaiters.add(w);
    });
    this.control(control.mark(key));
    if (await answered) this.promptKey = key;
    return this.promptKey === key;
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

  fetch(input: string | URL, init?: RequestInit): Promise<Response> {
    if (!this.network) return Promise.reject(new TypeError('The machine is not running.'));
    return this.network.fetch(input, init);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.disk?.stop();
    this.network?.stop();
    const emulator = this.emulator;
    this.emulator = undefined;
    if (!emulator) return;
    emulator.zstd_worker?.terminate();
    await emulator.destroy();
  }
}

/** Frees an ArrayBuffer's bytes now, whoever still holds it (it becomes empty). */
/**
 * A User Timing measure of a start-up phase, `docker-terminal <name>` (the Performance panel shows
 * them; the bench reads them); returns its end.
 */
function phase(name: string, start: number): number {
  const end = performance.now();
  performance.measure(`docker-terminal ${name}`, { start, end });
  return end;
}

function detach(buffer: ArrayBuffer | undefined): void {
  if (!buffer || buffer.byteLength === 0) return;
  // (not buffer.transfer(0): Chromium may keep the whole allocation behind the empty buffer it returns)
  structuredClone(buffer, { transfer: [buffer] });
}

/**
 * The saved state from its parts, checked against the whole file's sha256 where the manifest gives
 * it and a part lacks its own (each part was checked on arrival: all checked, the whole is the
 * manifest's, and hashing 34 MB again would cost the start some 0.2 s).
 */
async function joinParts(parts: ArrayBuffer[], state: { path: string; sha256?: string; parts?: Array<{ sha256?: string }> }, bundle: URL): Promise<ArrayBuffer> {
  const whole = parts.length === 1 ? parts[0] : new Blob(parts).arrayBuffer();
  const data = await whole;
  const partsChecked = state.parts?.every((p) => p.sha256) ?? false;
  if (parts.length > 1 && state.sha256 && !partsChecked && (await sha256Hex(data)) !== state.sha256)
    throw new TerminalError('file-corrupt', `The parts of ${new URL(state.path, bundle)} do not join into the file the bundle's manifest describes: they come from different builds. Copy the whole bundle again (or use the packages of one version), then press Retry.`);
  return data;
}
