import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { TerminalError } from '../boot/errors.js';
import { loadManifest, type Manifest } from '../boot/manifest.js';
import type { Engine } from '../engines/engine.js';
import { loadEngine } from '../engines/index.js';
import type { PageFile } from '../files/page-files.js';
import { stripEscapes } from '../protocol/prompt.js';
import { BOOT_STAGES, stageIndex } from '../protocol/stages.js';
import { barKeySequence, withCtrl, type BarKey } from '../terminal/keys.js';
import type { TerminalView } from '../terminal/xterm.js';
import { emit, type DockerTerminalErrorDetail, type DockerTerminalExitDetail, type DockerTerminalProgressDetail } from './events.js';
import { Machine } from './machine.js';
import { resolveSettings, type RawSettings, type Settings } from './settings.js';
import { joinShare, shareHost, type Sharable } from './share.js';

export type TerminalState = 'idle' | 'loading' | 'booting' | 'ready' | 'error' | 'stopped';

const BOOT_LOG_LIMIT = 64 * 1024;

/** What the machine's life needs of the element it lives in. */
export interface MachineHost extends ReactiveControllerHost, Sharable {
  state: TerminalState;
  screenReader: boolean;
  readonly renderRoot: HTMLElement | DocumentFragment;
  /** The folder of the machine bundle (ends with a slash). */
  readonly bundleBase: URL;
  /** Where the element's own files are (the v86 wasm). */
  readonly assets: URL;
  rawSettings(): RawSettings;
  /** Every file the page gives for ~/work, checked (throws an invalid-file error). */
  pageFiles(): PageFile[];
  writePageFiles(files: PageFile[]): Promise<void>;
  isTerminal(x: Element): x is MachineHost;
}

/**
 * The machine's life inside a `<docker-terminal>`: download and boot (or join a shared machine),
 * the engine's callbacks, the terminal screen, errors and notices, waiting for ready, and
 * shutdown. The element keeps its attributes, its public API and its rendering; what this holds
 * for rendering (progress, notes, the boot log, the error) it hands over with requestUpdate().
 */
export class MachineController implements ReactiveController {
  machine: Machine | undefined;
  terminal: TerminalView | undefined;
  manifest: Manifest | undefined;
  error: DockerTerminalErrorDetail | undefined;
  /** A banner over the running terminal: a later failure (set with setNotice, which tells the terminals that share this machine). */
  notice: string | undefined;
  progress: DockerTerminalProgressDetail = { stage: 'download', loaded: 0, total: 0 };
  notes: string[] = [];
  bootLog = '';
  /** The boot log is open under the progress or the error. */
  showLog = false;

  private abort: AbortController | undefined;
  private starting: Promise<void> | undefined;
  private readyWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  /** What the reader typed before the prompt, typed at it; undefined once the prompt is there. */
  private earlyKeys: string | undefined;
  /** Undoes what sharing another terminal's machine set up (its exit and notice listeners). */
  private unshare: (() => void) | undefined;
  private noticeWatchers = new Set<(text: string | undefined) => void>();

  constructor(private readonly host: MachineHost) {
    host.addController(this);
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    if (this.machine || this.abort) {
      void this.shutdown('disconnect');
      this.host.state = 'stopped';
    }
  }

  /** True while the machine starts or runs (or its boot is being torn down). */
  get active(): boolean {
    return !!(this.machine || this.abort);
  }

  /** Downloads and boots the machine; resolves at the prompt. While starting, returns the same promise. */
  start(): Promise<void> {
    if (this.host.state === 'ready') return Promise.resolve();
    this.starting ??= this.boot().finally(() => (this.starting = undefined));
    return this.starting;
  }

  get isStarting(): boolean {
    return !!this.starting;
  }

  /** Resolves when the machine is ready, starting it if it is not on its way. */
  whenReady(): Promise<Machine> {
    const state = this.host.state;
    if (state === 'ready') return Promise.resolve(this.machine!);
    if (state === 'idle' || state === 'stopped' || state === 'error') return this.start().then(() => this.machine!);
    return new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject })).then(() => this.machine!);
  }

  retry(): void {
    this.error = undefined;
    this.host.requestUpdate();
    void this.start().catch(() => undefined);
  }

  /** The key bar's Ctrl is down: the next letter typed becomes its control character. */
  ctrl = false;

  /** A key of the key bar. */
  pressKey(key: BarKey): void {
    if (key.sticky) this.ctrl = !this.ctrl;
    else this.type(barKeySequence(key, this.terminal?.term.modes.applicationCursorKeysMode ?? false));
    this.host.requestUpdate();
  }

  /** What the reader types; keys typed before the prompt wait for it (the shell would lose them). */
  private type(data: string): void {
    if (this.ctrl) {
      this.ctrl = false;
      data = withCtrl(data);
      this.host.requestUpdate();
    }
    if (this.earlyKeys === undefined) this.machine?.send(data);
    else this.earlyKeys += data;
  }

  toggleLog(): void {
    this.showLog = !this.showLog;
    this.host.requestUpdate();
  }

  dismissNotice(): void {
    this.setNotice(undefined);
  }

  private setNotice(text: string | undefined): void {
    this.notice = text;
    this.host.requestUpdate();
    for (const w of this.noticeWatchers) w(text);
  }

  /** See Sharable.watchNotice. */
  watchNotice(onNotice: (text: string | undefined) => void): () => void {
    this.noticeWatchers.add(onNotice);
    if (this.notice) onNotice(this.notice);
    return () => this.noticeWatchers.delete(onNotice);
  }

  async stop(reason: 'stop' | 'restart' = 'stop'): Promise<void> {
    await this.shutdown(reason);
    this.host.state = 'stopped';
  }

  /** Shows an error. Before the prompt it replaces the boot screen; afterwards it is a banner and the machine keeps running. */
  fail(e: unknown): void {
    const err = e instanceof TerminalError ? e : new TerminalError('engine-failed', `The machine stopped unexpectedly: ${(e as Error)?.message ?? e}. Press Retry.`);
    const detail: DockerTerminalErrorDetail = { code: err.code, message: err.message, details: err.details };
    emit(this.host, 'docker-terminal-error', detail);
    if (this.host.state === 'ready') {
      this.setNotice(err.message);
      return;
    }
    this.error = detail;
    this.host.state = 'error';
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    // A boot in progress ends here; its clean-up runs in boot().
    this.abort?.abort(err);
  }

  /** The manifest of the bundle, fetched once for the poster (its download size) and the checks. */
  async fetchManifest(): Promise<Manifest> {
    this.manifest = await loadManifest(this.host.bundleBase);
    this.host.requestUpdate();
    return this.manifest;
  }

  private async boot(): Promise<void> {
    const host = this.host;
    const began = performance.now();
    const abort = new AbortController();
    this.abort = abort;
    Object.assign(this, { error: undefined, bootLog: '', earlyKeys: '', progress: { stage: 'download', loaded: 0, total: 0 } });
    this.setNotice(undefined);
    host.state = 'loading';
    try {
      // A terminal that shares a machine joins it at its prompt: no image, no boot of its own.
      let settings: Pick<Settings, 'image' | 'containerdTimeout'> = { image: null, containerdTimeout: 0 };
      let engine: Engine;
      let terminalModule: typeof import('../terminal/xterm.js');
      if (host.share !== null) {
        host.pageFiles();
        [terminalModule, engine] = await Promise.all([import('../terminal/xterm.js'), this.joinShare(abort.signal)]);
      } else {
        const manifest = await loadManifest(host.bundleBase, abort.signal);
        this.manifest = manifest;
        const own = resolveSettings(host.rawSettings(), manifest);
        settings = own;
        this.notes = own.notes;
        host.pageFiles();
        host.requestUpdate();
        await host.updateComplete;
        [terminalModule, engine] = await Promise.all([import('../terminal/xterm.js'), this.createEngine(manifest, own, abort.signal)]);
      }
      abort.signal.throwIfAborted();
      this.openTerminal(terminalModule);
      await this.machine!.boot({ silence: 240, total: settings.containerdTimeout + 900, restore: 90 }, abort.signal);
      abort.signal.throwIfAborted();
      // The page's files go in before the reader gets the prompt (read again: writeFile may have run meanwhile).
      await host.writePageFiles(host.pageFiles());
      host.state = 'ready';
      this.showLog = false;
      await host.updateComplete;
      this.terminal!.fit();
      engine.resize(this.terminal!.term.rows, this.terminal!.term.cols);
      // The boot went to the boot log; give the reader a fresh prompt (or their image) in the terminal.
      if (settings.image) {
        this.machine!.ready();
        this.machine!.send(`docker run --rm -it ${settings.image}\r`);
      } else {
        await this.machine!.freshPrompt(30);
        this.machine!.ready();
      }
      if (this.earlyKeys) this.machine!.send(this.earlyKeys);
      this.earlyKeys = undefined;
      this.terminal!.focus();
      emit(host, 'docker-terminal-ready', { restored: engine.restored, seconds: (performance.now() - began) / 1000 });
      for (const w of this.readyWaiters.splice(0)) w.resolve();
    } catch (e) {
      // Stopped or removed by the page: shutdown() has already run.
      if (abort.signal.aborted && (abort.signal.reason as TerminalError | undefined)?.code === 'stopped') {
        for (const w of this.readyWaiters.splice(0)) w.reject(abort.signal.reason);
        throw abort.signal.reason;
      }
      if ((host.state as TerminalState) !== 'error') this.fail(e);
      await this.shutdown('error');
      throw e;
    }
  }

  private async createEngine(manifest: Manifest, settings: Settings, signal: AbortSignal): Promise<Engine> {
    const engine = await loadEngine(settings.engine, {
      bundle: this.host.bundleBase,
      manifest,
      assets: this.host.assets,
      memory: settings.memory,
      cores: settings.cores,
      restore: settings.restore,
      containerdTimeout: settings.containerdTimeout,
      network: settings.network,
      registry: settings.registry,
      image: settings.image,
      signal,
      onDownload: (loaded, total) => {
        if (this.host.state !== 'loading') return;
        this.progress = { stage: 'download', loaded, total };
        emit(this.host, 'docker-terminal-progress', this.progress);
        if (loaded >= total) this.host.state = 'booting';
        this.host.requestUpdate();
      },
      onConsole: (text) => this.machine?.consoleText(text),
      onError: (error) => this.fail(error),
      onRecovered: () => this.dismissNotice(),
      onNotice: (text) => {
        this.notes = [...this.notes, text];
        this.host.requestUpdate();
      },
    });
    this.machine = new Machine(engine, this.machineHooks());
    return engine;
  }

  /** Starts the shared machine (if needed) and takes one of its shells. */
  private async joinShare(signal: AbortSignal): Promise<Engine> {
    const host = shareHost(this.host, this.host.isTerminal);
    this.notes = [`This terminal shares the machine of "${host.id}": no download of its own.`];
    this.host.requestUpdate();
    const onHostExit = (e: CustomEvent<DockerTerminalExitDetail>) => {
      if (this.host.state === 'idle' || this.host.state === 'stopped') return;
      const restart = e.detail.reason === 'restart';
      void this.shutdown(restart ? 'restart' : 'stop').then(() => {
        this.host.state = 'stopped';
        this.notes = [];
        // A restarted machine comes back: this terminal takes a shell on the fresh one once it is ready.
        if (restart) host.addEventListener('docker-terminal-ready', () => void this.start().catch(() => undefined), { once: true });
      });
    };
    // The shared machine's notice, shown here too: its reader's commands wait on the same disk and daemons.
    const onNotice = (text: string | undefined) => {
      this.notice = text && `On the machine of "${host.id}": ${text}`;
      this.host.requestUpdate();
    };
    const shell = await joinShare(host, { onConsole: (text) => this.machine?.consoleText(text), onHostExit, onNotice }, signal);
    this.unshare = shell.leave;
    const { SharedShellEngine } = await import('../engines/shared-shell.js');
    const engine = new SharedShellEngine(shell.engine, shell.channel);
    this.machine = new Machine(engine, this.machineHooks());
    return engine;
  }

  private machineHooks(): ConstructorParameters<typeof Machine>[1] {
    return {
      onStage: (stage, detail) => {
        if (this.host.state === 'loading') this.host.state = 'booting';
        this.progress = { stage, loaded: stageIndex(stage) + 1, total: BOOT_STAGES.length, detail };
        emit(this.host, 'docker-terminal-progress', this.progress);
        this.host.requestUpdate();
      },
      onConsole: (text) => {
        if (this.host.state === 'ready') this.terminal?.write(text);
        else {
          this.bootLog = (this.bootLog + stripEscapes(text)).slice(-BOOT_LOG_LIMIT);
          this.host.requestUpdate();
        }
      },
    };
  }

  private openTerminal(module: typeof import('../terminal/xterm.js')): void {
    this.terminal?.dispose();
    const root = this.host.renderRoot as ShadowRoot;
    const container = root.querySelector<HTMLElement>('[part="terminal"]')!;
    container.replaceChildren();
    this.terminal = module.createTerminal(
      container,
      root,
      {
        onData: (data) => this.type(data),
        onResize: (rows, cols) => this.host.state === 'ready' && this.machine?.engine.resize(rows, cols),
      },
      module.terminalOptions(this.host, this.host.screenReader),
    );
  }

  private async shutdown(reason: DockerTerminalExitDetail['reason']): Promise<void> {
    this.abort?.abort(new TerminalError('stopped', 'The machine was stopped.'));
    this.unshare?.();
    this.unshare = undefined;
    this.abort = undefined;
    const machine = this.machine;
    this.machine = undefined;
    this.terminal?.dispose();
    this.terminal = undefined;
    if (!machine) return;
    await machine.stop().catch(() => undefined);
    emit(this.host, 'docker-terminal-exit', { reason });
  }
}

