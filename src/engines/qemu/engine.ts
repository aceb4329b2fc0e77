import { download, downloadAll } from '../../boot/download.js';
import { TerminalError, README_URL } from '../../boot/errors.js';
import type { Engine, EngineOptions } from '../engine.js';
import { parseArgModule, planArguments, type ArgumentPlan } from './args.js';
import { makeLocateFile, mainScriptUrl, qemuFiles } from './bundle.js';
import { guestPackInfo, packInfoText } from './pack-info.js';
import { openPtyBridge, type OpenPty, type PtyBridge } from './pty-bridge.js';

/** The parts of the Emscripten module object this engine sets or reads. */
interface EmscriptenModule {
  arguments: string[];
  locateFile(path: string, prefix?: string): string;
  mainScriptUrlOrBlob: string;
  pty: unknown;
  preRun: Array<(mod: EmscriptenModule) => void>;
  wasmBinary?: ArrayBuffer;
  getPreloadedPackage?(name: string, size: number): ArrayBuffer | null;
  print(text: string): void;
  printErr(text: string): void;
  onAbort?(what: unknown): void;
  FS: {
    analyzePath(path: string): { exists: boolean };
    mkdir(path: string): void;
    writeFile(path: string, data: string): void;
  };
  TTY?: { stream_ops: { poll?: (stream: unknown, timeout: number) => number } };
  PThread?: { terminateAllThreads?(): void };
}

/**
 * The Emscripten module is a page-wide global (load.js and arg-module.js write to `Module`), so a
 * page runs one QEMU machine at a time: the engine that holds it, until it stops.
 */
let pageMachine: QemuEngine | undefined;

/** Seconds QEMU-wasm may take from its factory call to running main (instantiating a big wasm). */
const START_TIMEOUT = 120;

/**
 * container2wasm (`c2w --to-js`) QEMU-wasm bundles: x86_64 guests with several cores through
 * multi-threaded TCG. Needs SharedArrayBuffer, so the page must be cross-origin isolated.
 */
export class QemuEngine implements Engine {
  /** A c2w snapshot is taken before the container starts: the boot stages always follow. */
  readonly restored = false;
  /** The command line QEMU got; for tests and the boot log. */
  plan: ArgumentPlan | undefined;
  /** What was written to /pack/info. */
  packInfo: string | undefined;
  private bridge: PtyBridge | undefined;
  private module: EmscriptenModule | undefined;
  private readonly workers = new Set<Worker>();
  private restoreWorker: (() => void) | undefined;
  private loaderSettled: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: EngineOptions) {}

  async start(): Promise<void> {
    const { bundle, manifest, signal } = this.opts;
    if (this.stopped) throw new TerminalError('stopped', 'This machine was stopped; start a new one.');
    if (!globalThis.crossOriginIsolated)
      throw new TerminalError(
        'not-isolated',
        'The qemu engine needs SharedArrayBuffer, so this page must be cross-origin isolated: serve it with the headers ' +
          '"Cross-Origin-Opener-Policy: same-origin" and "Cross-Origin-Embedder-Policy: require-corp" ' +
          `(see ${README_URL}#cross-origin-isolation; hosts that cannot set headers can use a service worker such as coi-serviceworker). ` +
          'Or use engine="v86", which needs neither.',
      );
    if ((pageMachine && pageMachine !== this) || ('Module' in globalThis && !pageMachine))
      throw new TerminalError(
        'engine-in-use',
        'This page already runs a QEMU-wasm machine (another <docker-terminal> with the qemu engine, or a container2wasm page script). ' +
          'Emscripten keeps QEMU in one page-wide Module object, so a page can run one at a time: stop the other one first (its stop() method), or use engine="v86" here.',
      );
    pageMachine = this;
    const files = qemuFiles(manifest);

    // The command line: the bundle's, with cores and memory, and its snapshot only where it fits.
    const argsText = new TextDecoder().decode(await download(new URL(files.arguments!.path, bundle), { signal }));
    const plan = planArguments(parseArgModule(argsText, new URL(files.arguments!.path, bundle).href), { cores: this.opts.cores, memory: this.opts.memory, restore: this.opts.restore });
    this.plan = plan;
    if (plan.coldBoot) {
      this.opts.onNotice?.(plan.coldBoot);
      this.opts.onConsole(`docker-terminal: ${plan.coldBoot}\r\n`);
    }
    this.packInfo = packInfoText(guestPackInfo({ now: Date.now(), containerdTimeout: this.opts.containerdTimeout, image: this.opts.image }));

    // The big files come through download() (progress, retries, resumption) and are handed to
    // Emscripten, which would otherwise fetch them again without telling anyone how far it got.
    const [ptyModule, { wasm, data }] = await Promise.all([
      import('xterm-pty'),
      downloadAll(
        {
          wasm: { url: new URL(files.wasm!.path, bundle), size: files.wasm!.size, sha256: files.wasm!.sha256 },
          data: { url: new URL(files.data!.path, bundle), size: files.data!.size, sha256: files.data!.sha256 },
        },
        { signal, onProgress: (loaded, total) => this.opts.onDownload(loaded, total) },
      ),
    ]);
    signal.throwIfAborted();

    const locateFile = makeLocateFile(bundle, files);
    const dataUrl = new URL(files.data!.path, bundle).href;
    const bridge = openPtyBridge(ptyModule.openpty as unknown as OpenPty, (text) => !this.stopped && this.opts.onConsole(text));
    this.bridge = bridge;
    const packInfo = this.packInfo;
    const module: Partial<EmscriptenModule> = {
      arguments: plan.args,
      // load.js reads these when it runs, so they are set before it is loaded.
      locateFile,
      getPreloadedPackage: (name) => {
        if (name !== dataUrl) return null; // not the file we downloaded: let load.js fetch it
        return data;
      },
      mainScriptUrlOrBlob: mainScriptUrl(bundle, files.module!),
      pty: bridge.slave,
      wasmBinary: wasm,
      preRun: [
        (mod) => {
          // load.js's own preRun may already have made /pack (it holds the kernel and disk).
          if (!mod.FS.analyzePath('/pack').exists) mod.FS.mkdir('/pack');
          mod.FS.writeFile('/pack/info', packInfo);
        },
      ],
      print: (text) => console.log(text),
      printErr: (text) => console.warn(text),
      onAbort: (what) => {
        if (!this.stopped) this.opts.onError(new TerminalError('engine-failed', `QEMU-wasm stopped: ${String(what)}. Press Retry; if it happens again, check the browser console.`));
      },
    };
    (globalThis as { Module?: unknown }).Module = module;
    this.trackWorkers(bundle);

    const loader = loadScript(new URL(files.loader!.path, bundle), signal);
    this.loaderSettled = loader.settled;
    await loader.loaded;
    const factory = await importModule(mainScriptUrl(bundle, files.module!));
    signal.throwIfAborted();
    let instance: EmscriptenModule;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // A pthread worker that cannot load out.js only logs to the console; do not wait forever.
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`it did not start within ${START_TIMEOUT} s; the browser console may say why`)), START_TIMEOUT * 1000);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      instance = await Promise.race([factory(module), stuck]);
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw new TerminalError('engine-failed', `This browser could not start QEMU-wasm (${(e as Error)?.message ?? e}). Try a current Chrome or Firefox.`);
    } finally {
      clearTimeout(timer);
    }
    this.module = instance;
    // As container2wasm's own page does: report the pty writable while it has nothing to read, so a
    // poll() on it returns at once instead of waiting on input that never comes.
    const tty = instance.TTY?.stream_ops;
    const poll = tty?.poll;
    if (tty && poll) {
      const slave = bridge.slave as { readable: boolean; writable?: boolean };
      tty.poll = (stream, timeout) => (slave.readable ? poll.call(tty, stream, timeout) : slave.writable === false ? 0 : 4);
    }
  }

  /** pthread workers are the machine's CPUs; note the ones started from this bundle so stop() can end them. */
  private trackWorkers(bundle: URL): void {
    const Original = globalThis.Worker;
    const workers = this.workers;
    const prefix = bundle.href;
    class TrackedWorker extends Original {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        const href = String(url);
        if (href.startsWith(prefix) || href.startsWith('blob:')) workers.add(this);
      }
    }
    globalThis.Worker = TrackedWorker;
    this.restoreWorker = () => {
      if (globalThis.Worker === TrackedWorker) globalThis.Worker = Original;
    };
  }

  send(text: string): void {
    this.bridge?.send(text);
  }

  /** Sets the pty's size. QEMU gets SIGWINCH; the guest's serial console does not learn it. */
  resize(rows: number, cols: number): void {
    this.bridge?.resize(rows, cols);
  }

  /** The guest's clock comes from the `t:` line of /pack/info, read after boot or snapshot. */
  setClock(): void {}

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.bridge?.dispose();
    try {
      this.module?.PThread?.terminateAllThreads?.();
    } catch {
      // Newer Emscripten keeps PThread to itself; the workers are ended below.
    }
    for (const w of this.workers) w.terminate();
    this.workers.clear();
    this.restoreWorker?.();
    this.module = undefined;
    // load.js may still be on its way (stopped during start-up); it would set up Module again.
    if (this.loaderSettled) await Promise.race([this.loaderSettled, new Promise((r) => setTimeout(r, 30_000))]);
    if (pageMachine === this) {
      pageMachine = undefined;
      delete (globalThis as { Module?: unknown }).Module;
    }
  }
}

/**
 * Runs load.js as a classic script, as container2wasm's page does. `settled` resolves once the
 * browser has run it or given up: a script already added runs even if the page no longer wants it,
 * and this one writes the page-wide `Module`, so stop() waits for it before clearing up.
 */
function loadScript(url: URL, signal: AbortSignal): { loaded: Promise<void>; settled: Promise<void> } {
  const script = document.createElement('script');
  script.src = url.href;
  script.async = false;
  const settled = new Promise<boolean>((resolve) => {
    script.onload = () => resolve(true);
    script.onerror = () => resolve(false);
  }).then((ok) => {
    script.remove();
    return ok;
  });
  const loaded = new Promise<void>((resolve, reject) => {
    settled.then((ok) =>
      ok ? resolve() : reject(new TerminalError('download-failed', `Could not load ${url} (the bundle's load.js). Check that the whole c2w --to-js output was copied beside manifest.json, then press Retry.`)),
    );
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  document.head.append(script);
  return { loaded, settled: settled.then(() => undefined) };
}

type Factory = (module: Partial<EmscriptenModule>) => Promise<EmscriptenModule>;

async function importModule(url: string): Promise<Factory> {
  let mod: { default?: unknown };
  try {
    mod = await import(/* @vite-ignore */ url);
  } catch (e) {
    throw new TerminalError('download-failed', `Could not load ${url} (the bundle's out.js): ${(e as Error).message}. Check that the whole c2w --to-js output was copied beside manifest.json, then press Retry.`);
  }
  if (typeof mod.default !== 'function')
    throw new TerminalError('bundle-invalid', `${url} does not export an Emscripten module factory; it should be the out.js that c2w --to-js writes (QEMU built with -sEXPORT_ES6).`);
  return mod.default as Factory;
}
