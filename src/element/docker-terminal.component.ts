import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { TerminalError } from '../boot/errors.js';
import { Machine } from '../boot/machine.js';
import { loadManifest, startBytes, type Manifest } from '../boot/manifest.js';
import { BOOT_STAGES, stageIndex, type BootStage } from '../boot/stages.js';
import { loadEngine, type Engine, type ShellChannel } from '../engines/engine.js';
import { stripEscapes, type RunResult } from '../engines/shell.js';
import { checkPath, filesFromRecord, filesFromScripts, mergeFiles, pageFile, WORKDIR, type FileData, type FileEntry, type PageFile } from '../files/page-files.js';
import type { TerminalView } from '../terminal/xterm.js';
import { emit, type DockerTerminalErrorDetail, type DockerTerminalProgressDetail } from './events.js';
import { checkLoadMode, resolveSettings, type Settings } from './settings.js';
import { styles } from './docker-terminal.styles.js';

export type TerminalState = 'idle' | 'loading' | 'booting' | 'ready' | 'error' | 'stopped';

/** Set by the entry module: the folder the element's script was loaded from. */
export const assetsBase = { url: new URL('./', import.meta.url) };

const BOOT_LOG_LIMIT = 64 * 1024;
const STAGE_LABELS: Record<BootStage, string> = { kernel: 'Kernel', containerd: 'containerd', dockerd: 'dockerd', ready: 'Ready' };

/**
 * A live terminal with a real Docker daemon, running in the reader's tab.
 *
 * @summary One tag: a Linux guest with Docker, emulated in the browser, behind a poster until started.
 *
 * @fires docker-terminal-progress - Download progress, then each boot stage.
 * @fires docker-terminal-ready - The prompt is up and Docker answers.
 * @fires docker-terminal-error - Something went wrong; `detail.message` says what to do.
 * @fires docker-terminal-exit - The machine stopped (stop(), removal, or an error).
 *
 * @slot - Files for the reader's working directory (`~/work`): `<script type="text/plain" data-path="Dockerfile">…</script>`, optionally with `data-mode="0755"`. Not displayed.
 *
 * @csspart poster - The start screen.
 * @csspart start-button - The Start button on the poster.
 * @csspart progress - The download and boot progress block.
 * @csspart progress-bar - The progress bar itself.
 * @csspart stages - The list of boot stages.
 * @csspart boot-log - The console output shown by "Show boot log".
 * @csspart error - The error screen.
 * @csspart retry-button - Retry on the error screen.
 * @csspart notice - A banner over a running terminal (a later failure).
 * @csspart terminal - The xterm.js terminal.
 *
 * @cssprop --docker-terminal-height - Height of the element (default 24rem).
 * @cssprop --docker-terminal-background - Background colour (also the terminal's).
 * @cssprop --docker-terminal-foreground - Text colour (also the terminal's).
 * @cssprop --docker-terminal-accent - Buttons and the progress bar (white text on it must stay readable).
 * @cssprop --docker-terminal-muted - Secondary text.
 * @cssprop --docker-terminal-error - Error headings.
 * @cssprop --docker-terminal-font-family - The terminal's font.
 * @cssprop --docker-terminal-font-size - The terminal's font size.
 * @cssprop --docker-terminal-radius - Corner radius.
 */
export class DockerTerminal extends LitElement {
  static override styles = styles;

  /** Base URL of the machine bundle: a folder with manifest.json. Default: `guest/` beside the script. */
  @property() src: string | null = null;
  /** `v86` or `qemu`; default: the engine the bundle was built for. */
  @property() engine: string | null = null;
  /** Virtual CPUs (v86 runs one). */
  @property() cores: string | null = null;
  /** Guest memory in MiB; default: what the bundle's saved state was taken with. */
  @property() memory: string | null = null;
  /** A preloaded Docker image to start the reader in (`docker run --rm -it <image>`). */
  @property() image: string | null = null;
  /** When to start: `click` (a poster with a Start button), `visible` (scrolled into view) or `eager`. */
  @property() load: string | null = null;
  /** Seconds the guest waits for containerd on a cold boot. */
  @property({ attribute: 'containerd-timeout' }) containerdTimeout: string | null = null;
  /**
   * The id of another `<docker-terminal>` whose machine this one shares: a shell of its own on
   * that machine, with the same files, images and containers, and no second emulator (each costs
   * about 1 GB). Starting this one starts that one if needed. src, engine, cores, memory and image
   * are the other terminal's: setting them here as well is an error.
   */
  @property() share: string | null = null;
  /** Tell xterm.js to keep an accessible text mirror of the screen for screen readers. */
  @property({ type: Boolean, attribute: 'screen-reader' }) screenReader = false;
  /**
   * Files for the reader's working directory (`~/work`), by path relative to it:
   * `{ "Dockerfile": "FROM busybox\n", "run.sh": { data: "…", mode: 0o755 } }`. Written before the
   * prompt; setting it on a running terminal writes them at once.
   */
  @property({ attribute: false }) files: Record<string, FileEntry> | null = null;
  /** Where the element is: idle, loading, booting, ready, error or stopped. Reflected for styling. */
  @property({ reflect: true }) state: TerminalState = 'idle';

  @state() private manifest: Manifest | undefined;
  @state() private error: DockerTerminalErrorDetail | undefined;
  @state() private notice: string | undefined;
  @state() private progress: DockerTerminalProgressDetail = { stage: 'download', loaded: 0, total: 0 };
  @state() private notes: string[] = [];
  @state() private showLog = false;
  @state() private bootLog = '';

  private machine: Machine | undefined;
  private terminal: TerminalView | undefined;
  private abort: AbortController | undefined;
  private starting: Promise<void> | undefined;
  private visibility: IntersectionObserver | undefined;
  private readyWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  /** Undoes what sharing another terminal's machine set up (its exit listener). */
  private unshare: (() => void) | undefined;
  /** Files given with writeFile(): written now if running, and on every start. */
  private writtenFiles = new Map<string, PageFile>();

  override connectedCallback(): void {
    super.connectedCallback();
    let mode;
    try {
      mode = checkLoadMode(this.load);
    } catch (e) {
      this.fail(e);
      return;
    }
    if (mode === 'eager') void this.start().catch(() => undefined);
    else {
      void this.peekManifest();
      if (mode === 'visible') this.startWhenVisible();
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.visibility?.disconnect();
    this.visibility = undefined;
    if (this.machine || this.abort) {
      void this.shutdown('disconnect');
      this.state = 'stopped';
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    // The page pointed src elsewhere before starting: show that bundle's size (or its error) instead.
    if (changed.has('files') && this.state === 'ready') void this.writePageFiles(filesFromRecord(this.files)).catch((e) => this.fail(e));
    if (changed.has('src') && changed.get('src') !== undefined && (this.state === 'idle' || this.state === 'error') && !this.starting) {
      this.state = 'idle';
      this.error = undefined;
      void this.peekManifest();
    }
  }

  /** Downloads and boots the machine; resolves when the prompt is up. Calling it again while starting returns the same promise. */
  start(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    this.starting ??= this.boot().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Stops the machine and frees its memory. What ran inside it is gone. */
  async stop(): Promise<void> {
    await this.shutdown('stop');
    this.state = 'stopped';
  }

  /**
   * Types `command` into the guest shell (starting the machine first if needed) and resolves
   * when it finishes, with its exit code and output. If something runs in the foreground (say
   * the `image` container), the command waits until the shell's prompt is back. `onStart` is
   * called when the command is typed, after whatever was ahead of it.
   */
  async run(command: string, options: { onStart?: () => void } = {}): Promise<RunResult> {
    await this.whenReady();
    return this.machine!.run(command, options.onStart);
  }

  /**
   * True while the shell is not waiting at its prompt: a command (the reader's or run()'s) or a
   * container holds the foreground, or run() calls wait their turn. False when not running.
   */
  get busy(): boolean {
    return this.state === 'ready' && !!this.machine && !this.machine.idle;
  }

  /**
   * Presses Ctrl-C in the shell (ending a foreground command, or clearing a half-typed line) and
   * resolves once its prompt is back, with the exit status (130 for an interrupted command); or
   * with null after 10 s if no prompt came (something in the foreground ignores Ctrl-C).
   */
  async interrupt(): Promise<number | null> {
    await this.whenReady();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 10_000)));
    return Promise.race([this.machine!.interrupt(), late]).finally(() => clearTimeout(timer));
  }

  /** Types text into the terminal as if the reader did (use "\r" for Enter). */
  async send(text: string): Promise<void> {
    await this.whenReady();
    this.machine!.send(text);
  }

  /**
   * Creates or replaces a file in the reader's working directory (`~/work`); `path` is relative to
   * it. On a running terminal it is written at once; otherwise when the terminal starts.
   */
  async writeFile(path: string, data: FileData, options: { mode?: number | string } = {}): Promise<void> {
    const file = pageFile(path, data, options.mode);
    mergeFiles([...this.writtenFiles.values()], [file]);
    this.writtenFiles.set(file.path, file);
    if (this.state === 'ready') await this.writePageFiles([file]);
  }

  /** Reads a file from the reader's working directory (starting the machine first if needed). */
  async readFile(path: string): Promise<Uint8Array>;
  async readFile(path: string, options: { encoding: 'utf8' }): Promise<string>;
  async readFile(path: string, options: { encoding?: 'utf8' } = {}): Promise<Uint8Array | string> {
    const p = checkPath(path);
    await this.whenReady();
    const engine = this.machine!.engine;
    if (!engine.readFile) throw this.noFiles();
    const data = await engine.readFile(p);
    return options.encoding === 'utf8' ? new TextDecoder().decode(data) : data;
  }

  /** Every file the page gives: child scripts, the files property, writeFile(); checked. */
  private pageFiles(): PageFile[] {
    return mergeFiles(filesFromScripts(this), filesFromRecord(this.files), [...this.writtenFiles.values()]);
  }

  private async writePageFiles(files: PageFile[]): Promise<void> {
    if (!files.length) return;
    const engine = this.machine?.engine;
    if (!engine?.writeFile) throw this.noFiles();
    for (const f of files) await engine.writeFile(f);
  }

  private noFiles(): TerminalError {
    return new TerminalError('engine-unavailable', `The ${this.engine ?? 'qemu'} engine cannot take files from the page; use engine="v86", or let the reader create the files in ${WORKDIR}.`);
  }

  private whenReady(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'idle' || this.state === 'stopped' || this.state === 'error') return this.start();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  private bundleUrl(): URL {
    return new URL(this.src ?? 'guest/', this.src ? document.baseURI : assetsBase.url);
  }

  private get bundleBase(): URL {
    const url = this.bundleUrl();
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return url;
  }

  /** The poster shows the download size, so fetch the (small) manifest before the reader clicks. */
  private async peekManifest(): Promise<void> {
    if (this.share !== null) return this.peekShare();
    try {
      this.manifest = await loadManifest(this.bundleBase);
      // Check the attributes against the bundle now, so a page author sees mistakes before clicking.
      resolveSettings(this.rawSettings(), this.manifest);
      // Files given as child scripts are checked now too, before anything is downloaded.
      this.pageFiles();
    } catch (e) {
      if (this.state === 'idle') this.fail(e);
    }
  }

  /** A `share` naming no terminal is shown before anyone clicks (once the page has been parsed). */
  private async peekShare(): Promise<void> {
    if (document.readyState === 'loading') await new Promise((r) => document.addEventListener('DOMContentLoaded', r, { once: true }));
    try {
      this.shareHost();
      this.pageFiles();
    } catch (e) {
      if (this.state === 'idle') this.fail(e);
    }
  }

  /** The terminal whose machine this one shares, checked. */
  private shareHost(): DockerTerminal {
    const id = this.share ?? '';
    const root = this.getRootNode() as Document | ShadowRoot;
    const host = root.getElementById?.(id) ?? null;
    const bad = (why: string) => new TerminalError('invalid-attribute', `share="${id}" ${why}. Set share to the id of another <docker-terminal> on this page, or remove it to give this terminal a machine of its own.`);
    const own = ['src', 'engine', 'cores', 'memory', 'image'].filter((name) => this.hasAttribute(name));
    if (own.length)
      throw new TerminalError('invalid-attribute', `A terminal with share="${id}" uses that terminal's machine, so ${own.map((n) => `"${n}"`).join(', ')} cannot be set here: set ${own.length > 1 ? 'them' : 'it'} on "${id}", or remove share.`);
    if (!host) throw bad('names no element on this page');
    if (host === this) throw bad('names this terminal itself');
    if (!(host instanceof DockerTerminal)) throw bad(`names a <${host.localName}>, not a <docker-terminal>`);
    if (host.share !== null) throw bad(`names a terminal that itself shares "${host.share}"'s machine; name "${host.share}" instead`);

    return host;
  }

  /**
   * A shell on this terminal's machine for a terminal that shares it, or undefined if none is free.
   * @internal
   */
  openSharedShell(onConsole: (text: string) => void): { engine: Engine; channel: ShellChannel } | undefined {
    const engine = this.state === 'ready' ? this.machine?.engine : undefined;
    const channel = engine?.openShell?.(onConsole);
    return engine && channel ? { engine, channel } : undefined;
  }

  /** Starts the shared machine (if needed) and takes one of its shells. */
  private async attachToShare(signal: AbortSignal): Promise<Engine> {
    const host = this.shareHost();
    this.notes = [`This terminal shares the machine of "${host.id}": no download of its own.`];
    await host.start().catch((e: Error) => {
      throw new TerminalError('engine-failed', `The terminal "${host.id}", whose machine this one shares, could not start: ${e?.message ?? e}`);
    });
    signal.throwIfAborted();
    const shell = host.openSharedShell((text) => this.machine?.consoleText(text));
    if (!shell)
      throw new TerminalError('engine-in-use', `The machine of "${host.id}" has no free shell: one machine serves at most two terminals (its own and one that shares it). Stop one of them, or remove share to give this terminal a machine of its own.`);
    const onExit = () => {
      if (this.state === 'idle' || this.state === 'stopped') return;
      void this.shutdown('stop').then(() => {
        this.state = 'stopped';
        this.notes = [];
      });
    };
    host.addEventListener('docker-terminal-exit', onExit);
    this.unshare = () => host.removeEventListener('docker-terminal-exit', onExit);
    const { SharedEngine } = await import('../engines/shared.js');
    const engine = new SharedEngine(shell.engine, shell.channel);
    this.machine = new Machine(engine, this.machineHooks());
    return engine;
  }

  private rawSettings() {
    return { engine: this.engine, cores: this.cores, memory: this.memory, image: this.image, containerdTimeout: this.containerdTimeout };
  }

  private startWhenVisible(): void {
    this.visibility = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        this.visibility?.disconnect();
        this.visibility = undefined;
        void this.start().catch(() => undefined);
      }
    });
    this.visibility.observe(this);
  }

  private async boot(): Promise<void> {
    const began = performance.now();
    const abort = new AbortController();
    this.abort = abort;
    this.error = undefined;
    this.notice = undefined;
    this.bootLog = '';
    this.progress = { stage: 'download', loaded: 0, total: 0 };
    this.state = 'loading';
    try {
      // A terminal that shares a machine joins it at its prompt: no image, no boot of its own.
      let settings: Pick<Settings, 'image' | 'containerdTimeout'> = { image: null, containerdTimeout: 0 };
      let engine: Engine;
      let terminalModule: typeof import('../terminal/xterm.js');
      if (this.share !== null) {
        this.pageFiles();
        [terminalModule, engine] = await Promise.all([import('../terminal/xterm.js'), this.attachToShare(abort.signal)]);
      } else {
        const manifest = await loadManifest(this.bundleBase, abort.signal);
        this.manifest = manifest;
        const own = resolveSettings(this.rawSettings(), manifest);
        settings = own;
        this.notes = own.notes;
        this.pageFiles();
        await this.updateComplete;
        [terminalModule, engine] = await Promise.all([import('../terminal/xterm.js'), this.createEngine(manifest, own, abort.signal)]);
      }
      abort.signal.throwIfAborted();
      this.openTerminal(terminalModule.createTerminal);
      await this.machine!.boot({ silence: 240, total: settings.containerdTimeout + 900, restore: 90 }, abort.signal);
      abort.signal.throwIfAborted();
      // The page's files go in before the reader gets the prompt (read again: writeFile may have run meanwhile).
      await this.writePageFiles(this.pageFiles());
      this.state = 'ready';
      this.showLog = false;
      await this.updateComplete;
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
      this.terminal!.focus();
      emit(this, 'docker-terminal-ready', { restored: engine.restored, seconds: (performance.now() - began) / 1000 });
      for (const w of this.readyWaiters.splice(0)) w.resolve();
    } catch (e) {
      // Stopped or removed by the page: shutdown() has already run.
      if (abort.signal.aborted && (abort.signal.reason as TerminalError | undefined)?.code === 'stopped') {
        for (const w of this.readyWaiters.splice(0)) w.reject(abort.signal.reason);
        throw abort.signal.reason;
      }
      if ((this.state as TerminalState) !== 'error') this.fail(e);
      await this.shutdown('error');
      throw e;
    }
  }

  private async createEngine(manifest: Manifest, settings: Settings, signal: AbortSignal): Promise<Engine> {
    const engine = await loadEngine(settings.engine, {
      bundle: this.bundleBase,
      manifest,
      assets: assetsBase.url,
      memory: settings.memory,
      cores: settings.cores,
      containerdTimeout: settings.containerdTimeout,
      image: settings.image,
      signal,
      onDownload: (loaded, total) => {
        if (this.state !== 'loading') return;
        this.progress = { stage: 'download', loaded, total };
        emit(this, 'docker-terminal-progress', this.progress);
        if (loaded >= total) this.state = 'booting';
      },
      onConsole: (text) => this.machine?.consoleText(text),
      onError: (error) => this.fail(error),
      onNotice: (text) => (this.notes = [...this.notes, text]),
    });
    this.machine = new Machine(engine, this.machineHooks());
    return engine;
  }

  private machineHooks(): ConstructorParameters<typeof Machine>[1] {
    return {
      onStage: (stage, detail) => {
        if (this.state === 'loading') this.state = 'booting';
        this.progress = { stage, loaded: stageIndex(stage) + 1, total: BOOT_STAGES.length, detail };
        emit(this, 'docker-terminal-progress', this.progress);
      },
      onConsole: (text) => {
        if (this.state === 'ready') this.terminal?.write(text);
        else this.bootLog = (this.bootLog + stripEscapes(text)).slice(-BOOT_LOG_LIMIT);
      },
    };
  }

  private openTerminal(create: typeof import('../terminal/xterm.js').createTerminal): void {
    this.terminal?.dispose();
    const container = this.renderRoot.querySelector<HTMLElement>('[part="terminal"]')!;
    container.replaceChildren();
    const style = getComputedStyle(this);
    const reducedMotion = matchMedia('(prefers-reduced-motion: reduce)').matches;
    this.terminal = create(
      container,
      this.renderRoot as ShadowRoot,
      {
        onData: (data) => this.machine?.send(data),
        onResize: (rows, cols) => this.state === 'ready' && this.machine?.engine.resize(rows, cols),
      },
      {
        screenReaderMode: this.screenReader || reducedMotion,
        cursorBlink: !reducedMotion,
        fontFamily: style.getPropertyValue('--docker-terminal-font-family').trim() || 'monospace',
        fontSize: parseFloat(style.getPropertyValue('--docker-terminal-font-size')) || 14,
        theme: {
          background: style.getPropertyValue('--docker-terminal-background').trim() || '#1e1e2e',
          foreground: style.getPropertyValue('--docker-terminal-foreground').trim() || '#e4e4ef',
        },
      },
    );
  }

  /** Shows an error. Before the prompt it replaces the boot screen; afterwards it is a banner and the machine keeps running. */
  private fail(e: unknown): void {
    const err = e instanceof TerminalError ? e : new TerminalError('engine-failed', `The machine stopped unexpectedly: ${(e as Error)?.message ?? e}. Press Retry.`);
    const detail: DockerTerminalErrorDetail = { code: err.code, message: err.message, details: err.details };
    emit(this, 'docker-terminal-error', detail);
    if (this.state === 'ready') {
      this.notice = err.message;
      return;
    }
    this.error = detail;
    this.state = 'error';
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    // A boot in progress ends here; its clean-up runs in boot().
    this.abort?.abort(err);
  }

  private async shutdown(reason: 'stop' | 'disconnect' | 'error'): Promise<void> {
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
    emit(this, 'docker-terminal-exit', { reason });
  }

  private retry(): void {
    this.error = undefined;
    void this.start().catch(() => undefined);
  }

  protected override render() {
    return html`
      <div part="terminal" role="region" aria-label="Docker terminal"></div>
      ${this.notice
        ? html`<div part="notice" role="alert">
            <span>${this.notice}</span><button class="link" @click=${() => (this.notice = undefined)}>Dismiss</button>
          </div>`
        : nothing}
      ${this.renderOverlay()}
    `;
  }

  private renderOverlay() {
    switch (this.state) {
      case 'idle':
      case 'stopped':
        return this.renderPoster();
      case 'loading':
      case 'booting':
        return this.renderProgress();
      case 'error':
        return this.renderError();
      default:
        return nothing;
    }
  }

  private renderPoster() {
    const m = this.manifest;
    const restoring = !this.memory || Number(this.memory) === m?.memory;
    const size = m && this.share === null ? formatBytes(startBytes(m, restoring)) : undefined;
    return html`<div class="overlay" part="poster">
      <h2>${this.state === 'stopped' ? 'The machine is stopped' : 'Docker in your browser'}</h2>
      <p>
        A Linux machine with a real Docker daemon runs inside this page, on your computer.
        ${size ? html`Starting it downloads ${size}${m?.files.disk ? ', then disk blocks as they are needed' : ''}.` : nothing}
        ${this.share !== null ? html`This terminal shares the machine of “${this.share}”: starting it starts that one if needed, and downloads nothing more.` : nothing}
      </p>
      <button part="start-button" @click=${() => this.retry()}>${this.state === 'stopped' ? 'Start again' : 'Start'}</button>
    </div>`;
  }

  private renderProgress() {
    const p = this.progress;
    const downloading = this.state === 'loading';
    const current = p.stage === 'download' ? -1 : stageIndex(p.stage);
    const label = downloading
      ? p.total
        ? `Downloading ${formatBytes(p.loaded)} of ${formatBytes(p.total)}`
        : 'Preparing the download'
      : `Starting: ${p.stage === 'download' ? 'the machine' : STAGE_LABELS[p.stage]}`;
    return html`<div class="overlay" part="progress-screen">
      <div part="progress">
        <p id="progress-label" aria-live="polite">${label}</p>
        <progress
          part="progress-bar"
          aria-labelledby="progress-label"
          max=${downloading ? p.total || 1 : BOOT_STAGES.length}
          value=${downloading ? p.loaded : Math.max(0, current + 1)}
        ></progress>
      </div>
      ${downloading
        ? nothing
        : html`<ol part="stages" aria-label="Boot stages">
            ${BOOT_STAGES.map((s, i) => html`<li data-state=${i < current ? 'done' : i === current ? 'current' : 'pending'}>${STAGE_LABELS[s]}</li>`)}
          </ol>`}
      ${this.notes.map((n) => html`<p class="note">${n}</p>`)} ${this.renderBootLog()}
    </div>`;
  }

  private renderError() {
    const e = this.error!;
    return html`<div class="overlay" part="error" role="alert">
      <h2>Docker terminal could not start</h2>
      <p>${e.message}</p>
      ${e.details.length ? html`<pre part="boot-log">${e.details.join('\n')}</pre>` : nothing}
      <button part="retry-button" @click=${() => this.retry()}>Retry</button>
      ${this.renderBootLog()}
    </div>`;
  }

  private renderBootLog() {
    if (!this.bootLog) return nothing;
    return html`<button class="link" aria-expanded=${this.showLog ? 'true' : 'false'} @click=${() => (this.showLog = !this.showLog)}>
        ${this.showLog ? 'Hide boot log' : 'Show boot log'}
      </button>
      ${this.showLog ? html`<pre part="boot-log" tabindex="0" aria-label="Boot log">${this.bootLog}</pre>` : nothing}`;
  }
}

function formatBytes(n: number): string {
  if (n < 1e6) return `${Math.round(n / 1e3)} kB`;
  return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
}
