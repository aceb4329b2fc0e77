import { Terminal, type ITerminalOptions } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { xtermCss } from './xterm-css.js';

export { terminalOptions } from './options.js';

export interface TerminalHooks {
  /** Keys the reader typed (already encoded as the terminal would send them). */
  onData(data: string): void;
  onResize(rows: number, cols: number): void;
}

export interface TerminalView {
  readonly term: Terminal;
  write(text: string): void;
  fit(): void;
  focus(): void;
  dispose(): void;
}

let sheet: CSSStyleSheet | undefined;

/**
 * xterm.js inside the element's shadow root, with its DOM renderer (readable by assistive technology,
 * and a page with many terminals does not run out of WebGL contexts).
 */
export function createTerminal(container: HTMLElement, root: ShadowRoot, hooks: TerminalHooks, options: ITerminalOptions = {}): TerminalView {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(xtermCss);
  }
  if (!root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];

  const term = new Terminal({ convertEol: false, scrollback: 5000, allowProposedApi: false, ...options });
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  term.open(container);
  term.onData(hooks.onData);
  term.onResize(({ rows, cols }) => hooks.onResize(rows, cols));
  // Ctrl+Shift+C / Ctrl+Shift+V copy and paste, as in desktop terminals; Ctrl+C stays an interrupt.
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === 'KeyC' && term.hasSelection()) {
      void navigator.clipboard?.writeText(term.getSelection());
      return false;
    }
    if (e.code === 'KeyV') {
      void navigator.clipboard?.readText().then((t) => term.paste(t), () => undefined);
      return false;
    }
    return true;
  });

  const fit = () => {
    // Hidden or detached: nothing to measure, and FitAddon would compute nonsense.
    if (!container.isConnected || container.clientWidth === 0 || container.clientHeight === 0) return;
    try {
      fitAddon.fit();
    } catch {
      /* the renderer is not measured yet; the next resize fits */
    }
  };
  const observer = new ResizeObserver(() => fit());
  observer.observe(container);
  fit();

  return {
    term,
    write: (text) => term.write(text),
    fit,
    focus: () => term.focus(),
    dispose: () => {
      observer.disconnect();
      term.dispose();
    },
  };
}
