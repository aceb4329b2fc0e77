import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import { TerminalError } from '../boot/errors.js';
import { startBytes } from '../boot/manifest.js';
import type { Engine, ShellChannel } from '../engines/engine.js';
import { checkPath, filesFromRecord, filesFromScripts, mergeFiles, pageFile, WORKDIR, type FileData, type FileEntry, type PageFile } from '../files/page-files.js';
import type { RunResult } from '../protocol/prompt.js';
import { bundleFolder, getBasePath } from './base-path.js';
import { MachineController, type TerminalState } from './machine-controller.js';
import { errorScreen, noticeBanner, poster, progressScreen, type BootLogView } from './screens.js';
import { keyBar, keyBarShown, type KeyBarMode } from './key-bar.js';
import { LoadController } from './load-controller.js';
import { resolveSettings } from './settings.js';
import { shareHost } from './share.js';
import { styles } from './docker-terminal.styles.js';

export type { TerminalState };

/**
 * A live terminal with a real Docker daemon, running in the reader's tab.
 *
 * @summary One tag: a Linux guest with Docker, emulated in the browser, behind a poster until started.
 *
 * @fires {CustomEvent<DockerTerminalProgressDetail>} docker-terminal-progress - Download progress, then each boot stage.
 * @fires {CustomEvent<DockerTerminalReadyDetail>} docker-terminal-ready - The prompt is up and Docker answers.
 * @fires {CustomEvent<DockerTerminalErrorDetail>} docker-terminal-error - Something went wrong; `detail.message` says what to do.
 * @fires {CustomEvent<DockerTerminalExitDetail>} docker-terminal-exit - The machine stopped (stop(), removal, or an error).
 *
 * @slot - Files for the reader's working directory (`~/work`): `<script type="text/plain" data-path="Dockerfile">…</script>`, optionally with `data-mode="0755"`. Not displayed.
 *
 * @csspart poster - The start screen.
 * @csspart start-button - The Start button on the poster.
 * @csspart warning - On the poster: the device reports little memory, or the browser asks to save data.
 * @csspart progress-screen - The screen shown while downloading and booting (holds the parts below).
 * @csspart progress - The download and boot progress block.
 * @csspart progress-bar - The progress bar itself.
 * @csspart stages - The list of boot stages.
 * @csspart boot-log - The console output shown by "Show boot log", and the daemon logs of a failed boot.
 * @csspart error - The error screen.
 * @csspart retry-button - Retry on the error screen.
 * @csspart notice - A banner over a running terminal (a later failure).
 * @csspart restart-button - Restart machine, in the notice.
 * @csspart cancel-button - Cancel, on the progress screen: stops the start.
 * @csspart terminal - The xterm.js terminal.
 * @csspart key-bar - The bar of keys a touch keyboard lacks, under the terminal (see key-bar).
 * @csspart key - Each button of the key bar.
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
  @property() engine: 'v86' | 'qemu' | null = null;
  /** Virtual CPUs (v86 runs one). */
  @property() cores: string | null = null;
  /** Guest memory in MiB; default: what the bundle's saved state was taken with. */
  @property() memory: string | null = null;
  /**
   * A Docker image to start the reader in (`docker run --rm -it <image>`): one in the bundle, or one
   * the registry or the network provides (pulled first, with its progress in the terminal).
   */
  @property() image: string | null = null;
  /**
   * A Wisp relay (`wisps://relay.example/`, or wss://, ws://, wisp://) through which the machine
   * opens TCP connections: docker pull from Docker Hub, apt-get and wget in containers. The relay
   * resolves the names. Unset: nothing leaves the tab.
   */
  @property() network: string | null = null;
  /**
   * The folder of a read-only registry on a static host (made with `npx docker-terminal images add`):
   * `docker pull nginx:alpine`, `FROM redis` and `image` find their images there. Relative to the
   * page; another origin must send CORS headers.
   */
  @property() registry: string | null = null;
  /** When to start: `click` (a poster with a Start button), `visible` (scrolled into view) or `eager`. */
  @property() load: 'click' | 'visible' | 'eager' | null = null;
  /** Seconds the guest waits for containerd on a cold boot. */
  @property({ attribute: 'containerd-timeout' }) containerdTimeout: string | null = null;
  /**
   * The id of another `<docker-terminal>` whose machine this one shares: a shell of its own on
   * that machine, with the same files, images and containers, and no second emulator (each costs
   * about 600 MB). Starting this one starts that one if needed. src, engine, cores, memory, image,
   * network and registry are the other terminal's: setting them here as well is an error.
   */
  @property() share: string | null = null;
  /**
   * A bar of the keys a touch keyboard lacks (Esc, Tab, a sticky Ctrl, the arrows, | ~ / -) under
   * the terminal: `auto` (the default) shows it on a touch screen, `on` and `off` always or never.
   */
  @property({ attribute: 'key-bar' }) keyBar: KeyBarMode | null = null;
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

  private readonly machine = new MachineController(this);
  /** Files given with writeFile(): written now if running, and on every start. */
  private writtenFiles = new Map<string, PageFile>();

  constructor() {
    super();
    new LoadController(this);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('files') && this.state === 'ready') void this.writePageFiles(filesFromRecord(this.files)).catch((e) => this.fail(e));
    // The page pointed src elsewhere before starting: show that bundle's size (or its error) instead.
    if (changed.has('src') && changed.get('src') !== undefined && (this.state === 'idle' || this.state === 'error') && !this.machine.isStarting) {
      this.state = 'idle';
      this.machine.error = undefined;
      void this.peek();
    }
  }

  /** Downloads and boots the machine; resolves when the prompt is up. Calling it again while starting returns the same promise. */
  start(): Promise<void> {
    return this.machine.start();
  }

  /** Stops the machine and frees its memory. What ran inside it is gone. */
  stop(): Promise<void> {
    return this.machine.stop();
  }

  /**
   * Stops the machine and starts a fresh one (the saved state again, the page's files again). With
   * `share`, the shared machine is restarted; the terminals on it take a shell on the fresh one.
   */
  async restart(): Promise<void> {
    if (this.share !== null && this.machine.active) {
      const host = shareHost(this, this.isTerminal);
      await this.machine.stop();
      await host.restart();
    } else await this.machine.stop('restart');
    return this.start();
  }

  /**
   * Types `command` into the guest shell (starting the machine first if needed) and resolves
   * when it finishes, with its exit code and output. If something runs in the foreground (say
   * the `image` container), the command waits until the shell's prompt is back. `onStart` is
   * called when the command is typed, after whatever was ahead of it.
   */
  async run(command: string, options: { onStart?: () => void } = {}): Promise<RunResult> {
    return (await this.machine.whenReady()).run(command, options.onStart);
  }

  /**
   * True while the shell is not waiting at its prompt: a command (the reader's or run()'s) or a
   * container holds the foreground, or run() calls wait their turn. False when not running.
   */
  get busy(): boolean {
    return this.state === 'ready' && !!this.machine.machine && !this.machine.machine.idle;
  }

  /**
   * Presses Ctrl-C in the shell (ending a foreground command, or clearing a half-typed line) and
   * resolves once its prompt is back, with the exit status (130 for an interrupted command); or
   * with null after 10 s if no prompt came (something in the foreground ignores Ctrl-C).
   */
  async interrupt(): Promise<number | null> {
    return (await this.machine.whenReady()).interrupt(10);
  }

  /** Types text into the terminal as if the reader did (use "\r" for Enter). */
  async send(text: string): Promise<void> {
    (await this.machine.whenReady()).send(text);
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
    const engine = (await this.machine.whenReady()).engine;
    if (!engine.readFile) throw this.noFiles();
    const data = await engine.readFile(p);
    return options.encoding === 'utf8' ? new TextDecoder().decode(data) : data;
  }

  /**
   * An HTTP request to a server in the machine, say `term.fetch('http://localhost:8080/')`, answered
   * with a Response as fetch() gives (starting the machine first if needed). Rejects if nothing
   * listens on that port. What `<docker-terminal-preview>` shows comes from here.
   */
  async fetch(input: string | URL, init?: RequestInit): Promise<Response> {
    const engine = (await this.machine.whenReady()).engine;
    if (!engine.fetch) throw new TerminalError('engine-failed', `The ${this.engine ?? 'qemu'} engine cannot reach servers in the machine from the page; use the v86 engine.`);
    return engine.fetch(input, init);
  }

  /**
   * A shell on this terminal's machine for a terminal that shares it, or undefined if none is free.
   * @internal
   */
  openSharedShell(onConsole: (text: string) => void): { engine: Engine; channel: ShellChannel } | undefined {
    const engine = this.state === 'ready' ? this.machine.machine?.engine : undefined;
    const channel = engine?.openShell?.(onConsole);
    return engine && channel ? { engine, channel } : undefined;
  }

  /** @internal */
  watchNotice(onNotice: (text: string | undefined) => void): () => void {
    return this.machine.watchNotice(onNotice);
  }

  /** @internal */
  get bundleBase(): URL {
    return bundleFolder(this.src);
  }

  /** @internal */
  get assets(): URL {
    return getBasePath();
  }

  /** @internal */
  rawSettings() {
    return { engine: this.engine, cores: this.cores, memory: this.memory, image: this.image, containerdTimeout: this.containerdTimeout, network: this.network, registry: this.registry };
  }

  /** Every file the page gives: child scripts, the files property, writeFile(); checked. @internal */
  pageFiles(): PageFile[] {
    return mergeFiles(filesFromScripts(this), filesFromRecord(this.files), [...this.writtenFiles.values()]);
  }

  /** @internal */
  async writePageFiles(files: PageFile[]): Promise<void> {
    if (!files.length) return;
    const engine = this.machine.machine?.engine;
    if (!engine?.writeFile) throw this.noFiles();
    for (const f of files) await engine.writeFile(f);
  }

  /** @internal */
  isTerminal(x: Element): x is DockerTerminal {
    return x instanceof DockerTerminal;
  }

  /** Shows an error in the element. @internal */
  fail(e: unknown): void {
    this.machine.fail(e);
  }

  private noFiles(): TerminalError {
    return new TerminalError('engine-unavailable', `The ${this.engine ?? 'qemu'} engine cannot take files from the page; use engine="v86", or let the reader create the files in ${WORKDIR}.`);
  }

  /**
   * Before the reader clicks: the bundle's manifest (the poster shows the download size), the
   * attributes checked against it and the page's files checked, so a page author sees mistakes
   * at once. With `share`, the terminal it names (once the page is parsed).
   */
  /** @internal */
  async peek(): Promise<void> {
    try {
      if (this.share !== null) {
        if (document.readyState === 'loading') await new Promise((r) => document.addEventListener('DOMContentLoaded', r, { once: true }));
        shareHost(this, this.isTerminal);
      } else resolveSettings(this.rawSettings(), await this.machine.fetchManifest());
      this.pageFiles();
    } catch (e) {
      if (this.state === 'idle') this.fail(e);
    }
  }

  protected override render() {
    const m = this.machine;
    return html`
      <div class="stack">
        <div part="terminal" role="region" aria-label="Docker terminal"></div>
        ${this.state === 'ready' && keyBarShown(this.keyBar) ? keyBar(m.ctrl, (k) => m.pressKey(k)) : nothing}
      </div>
      ${noticeBanner(m.notice, () => m.dismissNotice(), () => void this.restart().catch(() => undefined))} ${this.renderScreen()}
    `;
  }

  private renderScreen() {
    const m = this.machine;
    const log: BootLogView = { log: m.bootLog, open: m.showLog, onToggle: () => m.toggleLog() };
    switch (this.state) {
      case 'idle':
      case 'stopped':
        return poster({ stopped: this.state === 'stopped', bytes: this.startBytes(), disk: !!m.manifest?.files.disk, share: this.share, onStart: () => m.retry() });
      case 'loading':
      case 'booting':
        return progressScreen(m.progress, this.state === 'loading', m.notes, log, () => void this.stop());
      case 'error':
        return errorScreen(m.error!, () => m.retry(), log);
      default:
        return nothing;
    }
  }

  /** What Start downloads before the prompt, as the settings decide (restore or cold boot). */
  private startBytes(): number | undefined {
    const manifest = this.machine.manifest;
    if (!manifest || this.share !== null) return undefined;
    try {
      return startBytes(manifest, resolveSettings(this.rawSettings(), manifest).restore);
    } catch {
      return undefined;
    }
  }
}
