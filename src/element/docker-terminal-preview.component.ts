import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import type { DockerTerminal } from './docker-terminal.component.js';
import { emit } from './events.js';
import { findTerminal } from './find-terminal.js';
import { styles } from './docker-terminal-preview.styles.js';

/** What a link inside the preview posts to the page (the same key as ./preview-page.ts's). */
const LINK_MESSAGE = 'docker-terminal-preview-link';

export type PreviewState = 'idle' | 'loading' | 'loaded' | 'error';

type Terminal = Pick<DockerTerminal, 'state' | 'fetch'> & HTMLElement;

/**
 * What a web server in a `<docker-terminal>`'s machine answers, shown in the page: the reader runs
 * `docker run -d -p 8080:80 nginx`, and this shows http://localhost:8080/ with its stylesheets,
 * scripts and images. It asks the machine through the terminal (`term.fetch()`), not a server.
 * It loads when the terminal is ready and when Reload is pressed; if nothing listens yet it says so.
 *
 * @summary Shows a web page served from inside a `<docker-terminal>`.
 *
 * @fires {CustomEvent<DockerTerminalPreviewLoadDetail>} docker-terminal-preview-load - A page was shown. `detail`: `{url, status}`.
 * @fires {CustomEvent<DockerTerminalPreviewErrorDetail>} docker-terminal-preview-error - Nothing could be shown. `detail`: `{url, message}`.
 *
 * @csspart base - The box around everything.
 * @csspart toolbar - The bar with the address and Reload.
 * @csspart address - The address shown (http://localhost:PORT/PATH).
 * @csspart reload-button - Reload.
 * @csspart frame - The iframe with the page.
 * @csspart message - What is wrong (nothing listens, no terminal) and what to do (role=status).
 *
 * @cssprop --docker-terminal-preview-height - The page's height (default 320px).
 * @cssprop --docker-terminal-preview-background - The toolbar's background.
 * @cssprop --docker-terminal-preview-foreground - The toolbar's text colour.
 * @cssprop --docker-terminal-preview-radius - Corner radius.
 */
export class DockerTerminalPreview extends LitElement {
  static override styles = styles;

  /** Id of the `<docker-terminal>` whose machine serves the page. Default: the nearest one before this element. */
  @property({ attribute: 'for' }) htmlFor: string | null = null;
  /** The port in the machine (as published with `docker run -p PORT:…`). */
  @property() port = '80';
  /** The path to show first. */
  @property() path = '/';
  /** idle, loading, loaded or error. Reflected for styling. */
  @property({ reflect: true }) state: PreviewState = 'idle';

  /** The path shown now (links followed inside the preview change it). */
  @state() private current = '';
  @state() private message = '';
  @state() private srcdoc: string | undefined;

  private terminal: Terminal | undefined;
  private loading = 0;
  private readonly onReady = () => void this.reload();
  private readonly onMessage = (e: MessageEvent) => {
    const frame = this.renderRoot.querySelector('iframe');
    const path = (e.data as Record<string, unknown> | null)?.[LINK_MESSAGE];
    if (frame && e.source === frame.contentWindow && typeof path === 'string' && path.startsWith('/')) void this.load(path);
  };

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('message', this.onMessage);
    // (the page may still be parsing, the terminal further down)
    queueMicrotask(() => this.attach());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('message', this.onMessage);
    this.terminal?.removeEventListener('docker-terminal-ready', this.onReady);
    this.terminal = undefined;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if ((changed.has('port') || changed.has('path')) && changed.get('port') !== undefined) void this.reload();
    if (changed.has('htmlFor') && changed.get('htmlFor') !== undefined) this.attach();
  }

  /** The address shown: http://localhost:PORT/PATH. */
  get url(): string {
    return `http://localhost:${this.portNumber ?? this.port}${this.current || this.path}`;
  }

  /** Loads the page again (from `path`), as the Reload button does. */
  reload(): Promise<void> {
    return this.load(this.path.startsWith('/') ? this.path : `/${this.path}`);
  }

  private get portNumber(): number | undefined {
    const n = Number(this.port);
    return /^\d+$/.test(this.port.trim()) && n >= 1 && n <= 65535 ? n : undefined;
  }

  private attach(): void {
    this.terminal?.removeEventListener('docker-terminal-ready', this.onReady);
    const found = this.findTerminal();
    this.terminal = found.terminal;
    if (!found.terminal) return this.fail(found.problem!);
    found.terminal.addEventListener('docker-terminal-ready', this.onReady);
    if (found.terminal.state === 'ready') void this.reload();
    else this.message = 'The page shows here once the terminal runs a server on this port.';
  }

  private async load(path: string): Promise<void> {
    const terminal = this.terminal;
    this.current = path;
    if (!terminal) return this.fail(this.findTerminal().problem ?? 'No terminal.');
    if (this.portNumber === undefined) return this.fail(`port="${this.port}" is not a port: write a whole number from 1 to 65535, the port published with docker run -p.`);
    if (terminal.state !== 'ready') {
      this.message = 'The page shows here once the terminal runs a server on this port. Start the terminal first.';
      this.state = 'idle';
      return;
    }
    const url = this.url;
    const mine = ++this.loading;
    this.state = 'loading';
    this.message = `Loading ${url}…`;
    try {
      const res = await terminal.fetch(url);
      const type = res.headers.get('content-type') ?? '';
      const body = await res.text();
      // (loaded with the first page: the tag's own script stays small)
      const { previewDocument, textDocument } = await import('./preview-page.js');
      const doc = /html/i.test(type) || (!type && /^\s*</.test(body)) ? await previewDocument(body, new URL(url), (u) => terminal.fetch(u)) : textDocument(body);
      if (mine !== this.loading) return;
      this.srcdoc = doc;
      this.state = 'loaded';
      this.message = res.ok ? '' : `The server answered ${res.status} ${res.statusText}.`;
      emit(this, 'docker-terminal-preview-load', { url, status: res.status });
    } catch (e) {
      if (mine !== this.loading) return;
      this.fail(`${(e as Error).message} Then press Reload.`);
    }
  }

  private fail(message: string): void {
    this.state = 'error';
    this.message = message;
    emit(this, 'docker-terminal-preview-error', { url: this.url, message });
  }

  private findTerminal(): { terminal?: Terminal; problem?: string } {
    const found = findTerminal(this, this.htmlFor, (el): el is Terminal => el.localName === 'docker-terminal' && typeof (el as Terminal).fetch === 'function');
    if ('terminal' in found) return found;
    if (found.problem === 'none') return { problem: 'There is no <docker-terminal> on this page whose server to show. Add one, and give its id in this element\'s for attribute.' };
    return { problem: `for="${this.htmlFor}" names no <docker-terminal> on this page. Give the terminal that id, or set for to its id.` };
  }

  protected override render() {
    const showFrame = this.srcdoc !== undefined && this.state !== 'error';
    return html`<div part="base">
      <div part="toolbar">
        <span part="address" title="The address inside the machine">${this.url}</span>
        <button part="reload-button" aria-label="Reload the preview of ${this.url}" ?disabled=${this.state === 'loading'} @click=${() => void this.reload()}>Reload</button>
      </div>
      ${this.message ? html`<p part="message" role="status">${this.message}</p>` : nothing}
      ${showFrame ? html`<iframe part="frame" title="Preview of ${this.url}" sandbox="allow-scripts allow-forms allow-popups" .srcdoc=${this.srcdoc!}></iframe>` : nothing}
    </div>`;
  }
}
