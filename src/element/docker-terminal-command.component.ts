import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { isNoOp, type RunResult } from '../protocol/prompt.js';
import type { DockerTerminal } from './docker-terminal.component.js';
import { emit, type DockerTerminalCommandDoneDetail, type DockerTerminalCommandStartDetail } from './events.js';
import { findTerminal } from './find-terminal.js';
import { styles } from './docker-terminal-command.styles.js';

export type CommandStatus = 'idle' | 'waiting' | 'running' | 'done' | 'failed';

/** What this element needs of a `<docker-terminal>`: its public API. */
type Terminal = Pick<DockerTerminal, 'state' | 'start' | 'busy' | 'run' | 'interrupt'> & HTMLElement;

/** Per terminal, the end of the commands the Run buttons of the page have queued on it, in click order. */
const queues = new WeakMap<Element, Promise<unknown>>();
const COPIED_MS = 2000;

/**
 * A command from a tutorial with Run and Copy buttons. Run types it into a `<docker-terminal>`
 * (starting the machine first if needed) and shows whether it is running, done or failed.
 *
 * The command is the element's text (indentation removed; one command per line, a line ending in
 * `\` continues on the next), or its `command` attribute. The terminal is the one whose id `for`
 * names; without `for`, the nearest `<docker-terminal>` before this element, or else the first after it.
 *
 * @summary "Run this" button for a command in a tutorial, driving a `<docker-terminal>`.
 *
 * @fires {CustomEvent<DockerTerminalCommandStartDetail>} docker-terminal-command-start - Run was pressed (cancelable: preventDefault() stops it). `detail`: `{command, terminal}`.
 * @fires {CustomEvent<DockerTerminalCommandDoneDetail>} docker-terminal-command-done - The command finished. `detail`: `{command, exitCode, output, error}`; `exitCode` is null when it could not run.
 * @fires {CustomEvent<DockerTerminalCommandCopyDetail>} docker-terminal-command-copy - The command was copied. `detail`: `{command}`.
 *
 * @csspart base - The box around everything.
 * @csspart command - The command text (a `<pre>`).
 * @csspart actions - The box around the buttons.
 * @csspart run-button - The Run button.
 * @csspart copy-button - The Copy button.
 * @csspart status - The running/done/failed line, a polite live region.
 * @csspart error - A wrong `for` or a missing terminal: what to do (role=alert).
 *
 * @cssprop --docker-terminal-command-background - Background colour.
 * @cssprop --docker-terminal-command-foreground - Text colour.
 * @cssprop --docker-terminal-command-accent - The Run button (white text on it must stay readable).
 * @cssprop --docker-terminal-command-muted - The status line and the Copy button's border.
 * @cssprop --docker-terminal-command-success - The status line when done.
 * @cssprop --docker-terminal-command-error - The status line when failed, and errors.
 * @cssprop --docker-terminal-command-font-family - The command's font.
 * @cssprop --docker-terminal-command-radius - Corner radius.
 * @cssprop --docker-terminal-command-prompt - What is shown before each line (default `"$ "`).
 */
export class DockerTerminalCommand extends LitElement {
  static override styles = styles;

  /** Id of the `<docker-terminal>` to run in. Default: the nearest one before this element, else the first after it. */
  @property({ attribute: 'for' }) htmlFor: string | null = null;
  /** The command to run; default: the element's text content. */
  @property() command: string | null = null;
  /** Press Ctrl-C in the terminal first, ending what runs there (say `docker compose up` or `sleep`). */
  @property({ type: Boolean, reflect: true }) interrupt = false;
  /** idle, waiting (for the terminal to start or earlier commands to end), running, done or failed. Reflected for styling. */
  @property({ reflect: true }) status: CommandStatus = 'idle';
  /** Exit status of the last run (the first failing line of a multi-line command); null before and while running. */
  @property({ type: Number, reflect: true, attribute: 'exit-code' }) exitCode: number | null = null;

  /** Output of the last run, without escape sequences. */
  output = '';

  /** Why the command cannot run (a wrong `for`), or why it failed. */
  @state() private problem: string | undefined;
  @state() private message = '';
  @state() private copied = false;
  @state() private text = '';

  private observer: MutationObserver | undefined;
  private copiedTimer: ReturnType<typeof setTimeout> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.readText();
    this.observer ??= new MutationObserver(() => this.readText());
    this.observer.observe(this, { childList: true, characterData: true, subtree: true });
    // The page may still be parsing (the terminal further down): check the target once it is done.
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => this.check(), { once: true });
    else queueMicrotask(() => this.check());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.observer?.disconnect();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('htmlFor') && this.hasUpdated) this.check();
  }

  /** The command lines Run types, one run() each. */
  get commands(): string[] {
    return splitCommands(this.command ?? this.text);
  }

  /** The terminal Run would use, or undefined (then `problem` says why). */
  get terminal(): Terminal | undefined {
    return this.findTerminal().terminal;
  }

  /**
   * Runs the command in the terminal, as the Run button does, and resolves when it is done. While a
   * run is under way it returns that run's promise, so nothing is typed twice.
   */
  run(): Promise<DockerTerminalCommandDoneDetail> {
    this.running ??= this.runOnce().finally(() => (this.running = undefined));
    return this.running;
  }
  private running: Promise<DockerTerminalCommandDoneDetail> | undefined;

  /** Copies the command to the clipboard. Resolves false if the browser refused. */
  async copy(): Promise<boolean> {
    const command = this.commands.join('\n');
    let ok = false;
    try {
      await navigator.clipboard.writeText(command);
      ok = true;
    } catch {
      ok = copyWithSelection(command, this.renderRoot as ShadowRoot);
    }
    clearTimeout(this.copiedTimer);
    this.copied = ok;
    this.message = ok ? 'Copied to the clipboard' : 'Could not copy: select the command and copy it by hand';
    if (ok) {
      emit(this, 'docker-terminal-command-copy', { command });
      this.copiedTimer = setTimeout(() => (this.copied = false), COPIED_MS);
    }
    return ok;
  }

  private async runOnce(): Promise<DockerTerminalCommandDoneDetail> {
    const command = this.commands.join('\n');
    const found = this.findTerminal();
    this.problem = found.problem;
    const finish = (detail: DockerTerminalCommandDoneDetail, status: CommandStatus, message: string) => {
      this.exitCode = detail.exitCode;
      this.output = detail.output;
      this.status = status;
      this.message = message;
      emit(this, 'docker-terminal-command-done', detail);
      return detail;
    };
    if (!found.terminal || !command) {
      const error = found.problem ?? (this.problem = 'There is no command to run: put it inside the element or in its command attribute.');
      return finish({ command, exitCode: null, output: '', error }, 'failed', `Failed: ${error}`);
    }
    const terminal = found.terminal;
    const start: DockerTerminalCommandStartDetail = { command, terminal };
    if (!emit(this, 'docker-terminal-command-start', start, { cancelable: true })) {
      return { command, exitCode: null, output: '', error: 'Cancelled by the page.' };
    }
    this.exitCode = null;
    this.output = '';
    this.status = 'waiting';
    this.message = 'Waiting for the terminal…';
    // Run buttons take turns on a terminal, so two multi-line commands never interleave. With
    // `interrupt` this one does not wait: its Ctrl-C ends the earlier one.
    const before = queues.get(terminal) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    queues.set(terminal, before.then(() => mine));
    // A run queued behind the reader's foreground command would never settle if the machine stops.
    let onExit!: () => void;
    const exited = new Promise<never>((_, reject) => {
      onExit = () => reject(new Error('The terminal stopped before the command finished. Start it again and press Run.'));
      terminal.addEventListener('docker-terminal-exit', onExit);
    });
    exited.catch(() => undefined);
    try {
      if (terminal.state !== 'ready') {
        this.message = 'Starting the terminal…';
        await terminal.start().catch((e: Error) => {
          throw new Error(`The terminal could not start: ${e?.message ?? e}`);
        });
      }
      if (this.interrupt) {
        // Ctrl-C, then the prompt it brings: what follows is typed only once bash listens again.
        this.message = 'Interrupting what runs in the terminal…';
        await Promise.race([terminal.interrupt(), exited]);
      } else {
        this.message = 'Waiting for earlier commands to finish…';
        await before;
      }
      if (terminal.busy) this.message = 'Waiting: something is running in the terminal; this runs when its prompt is back.';
      let result: RunResult = { exitCode: 0, output: '' };
      const outputs: string[] = [];
      const typed = () => {
        this.status = 'running';
        this.message = 'Running…';
      };
      // (comment lines are shown, not typed)
      for (const line of this.commands.filter((l) => !isNoOp(l))) {
        result = await Promise.race([terminal.run(line, { onStart: typed }), exited]);
        outputs.push(result.output);
        if (result.exitCode !== 0) break;
      }
      const detail = { command, exitCode: result.exitCode, output: outputs.join('\n') };
      return result.exitCode === 0
        ? finish(detail, 'done', 'Done (exit code 0)')
        : finish(detail, 'failed', `Failed with exit code ${result.exitCode}`);
    } catch (e) {
      const error = (e as Error)?.message ?? String(e);
      return finish({ command, exitCode: null, output: '', error }, 'failed', `Failed: ${error}`);
    } finally {
      terminal.removeEventListener('docker-terminal-exit', onExit);
      release();
    }
  }

  private readText(): void {
    this.text = this.textContent ?? '';
  }

  /** Shows (or clears) the error for a `for` naming no terminal; a run checks again. */
  private check(): void {
    if (!this.isConnected) return;
    this.problem = this.findTerminal().problem;
  }

  private findTerminal(): { terminal?: Terminal; problem?: string } {
    const found = findTerminal(this, this.htmlFor, (el): el is Terminal => el.localName === 'docker-terminal' && typeof (el as Terminal).run === 'function');
    if ('terminal' in found) return found;
    if (found.problem === 'for-missing')
      return { problem: `for="${this.htmlFor}" names no element on this page. Give the <docker-terminal> the id "${this.htmlFor}", or set for to the id of a <docker-terminal>.` };
    if (found.problem === 'for-not-terminal') return { problem: `for="${this.htmlFor}" names a <${found.named}>, not a <docker-terminal>. Set for to the id of a <docker-terminal>.` };
    return { problem: 'There is no <docker-terminal> on this page to run this in. Add one, and give its id in this element\'s for attribute.' };
  }

  protected override render() {
    const lines = this.commands;
    const busy = this.status === 'waiting' || this.status === 'running';
    return html`<div part="base">
      <pre part="command" id="command">${lines.map((l) => html`<code>${l}</code>`)}</pre>
      <div part="actions">
        <button
          part="run-button"
          aria-describedby=${this.interrupt ? 'command interrupt-note' : 'command'}
          aria-disabled=${busy ? 'true' : 'false'}
          @click=${() => void this.run()}
        >${this.status === 'running' ? 'Running…' : this.status === 'waiting' ? 'Waiting…' : 'Run'}</button>
        <button part="copy-button" aria-describedby="command" @click=${() => void this.copy()}>${this.copied ? 'Copied' : 'Copy'}</button>
        <span id="interrupt-note" hidden>Presses Ctrl-C in the terminal first, ending what runs there.</span>
      </div>
      <p part="status" role="status" aria-live="polite">${this.message}</p>
      ${this.problem ? html`<p part="error" role="alert">${this.problem}</p>` : nothing}
    </div>`;
  }
}

/** Dedents, trims and splits text into commands: one per line, a trailing `\` joins the next line. */
export function splitCommands(text: string): string[] {
  const lines = text.replace(/\r/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length));
  const out: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = (Number.isFinite(indent) ? raw.slice(indent) : raw).trimEnd();
    if (!current && !line.trim()) continue;
    current = current ? `${current}\n${line}` : line;
    if (!line.endsWith('\\')) {
      out.push(current);
      current = '';
    }
  }
  if (current) out.push(current.replace(/\\$/, '').trimEnd());
  return out;
}

/** Clipboard API refused (an insecure page, no permission): copy a selection instead. */
function copyWithSelection(text: string, root: ShadowRoot): boolean {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.cssText = 'position:fixed;top:0;left:0;opacity:0';
  root.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}
