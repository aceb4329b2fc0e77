/**
 * The prompt protocol behind run(): runs commands in the guest's interactive shell and learns when
 * they finish. The guest's prompt (PS1 in guest/rootfs/root/.bashrc) carries invisible OSC 133
 * marks: `ESC ] 133 ; D ; <status> ; <key> BEL` when a command has finished, then the prompt, then
 * `ESC ] 133 ; B ; <n> ; <key> BEL` once readline listens, where n is bash's command number: a
 * redrawn prompt (after a resize) repeats it. The key is a secret of this boot, which the host
 * gives the guest (src/protocol/control.ts, `mark`): once it is set, a mark without it, as a
 * command's output could print, counts for nothing. The reader sees only the command and its
 * output. Change the marks here and in .bashrc together.
 */
export interface RunResult {
  exitCode: number;
  /** What the command printed, without the echoed command line, escape sequences or CRs. */
  output: string;
}

const ESCAPES = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]/g;
/** The longest mark, for the text kept between two chunks. */
const TAIL = 160;

export function stripEscapes(text: string): string {
  return text.replace(ESCAPES, '').replace(/\r/g, '');
}

/** A command that would run nothing: empty, blank, or comment lines only. */
export function isNoOp(command: string): boolean {
  return command.split('\n').every((line) => /^\s*(#.*)?$/.test(line));
}

interface Pending {
  command: string;
  /** Number of the prompt the command was typed at; its redraws do not end the command. */
  prompt: string;
  captured: string;
  resolve(result: RunResult): void;
  reject(error: Error): void;
}

// Readline's keys: Ctrl-E (end of line), Ctrl-U (kill the line, into the kill ring), Ctrl-Y (yank it back).
const KILL_LINE = '\x05\x15';
const YANK = '\x19';
// Bracketed paste: readline takes what is between these as one edit, newlines included.
const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';

export class PromptTracker {
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private promptWaiters: Array<{ resolve(status: number): void; reject(error: Error): void }> = [];
  /** Set once the machine stopped: later calls fail at once instead of waiting for a prompt. */
  private stopped: Error | undefined;
  private tail = '';
  private lastStatus = 0;
  private lastPrompt = '';
  /** True while the shell waits at its prompt: after a prompt mark, until Enter is typed. */
  private atPrompt = false;
  /**
   * Since Enter was typed, the guest has printed a newline. Until it has, a prompt mark is the
   * same line drawn again, not a new prompt: readline redraws it as it takes the Enter (after a
   * paste, to clear the pasted text's highlight), before it moves on and runs the command.
   */
  private newlineSinceEnter = true;
  /** Characters at the start of the kept tail that came before Enter (their newlines do not count). */
  private tailBeforeEnter = 0;
  private lineLength = 0;
  private marks = /\x1b\]133;(?:D;(\d+)(?:;[^\x07]*)?|B;?(\d*)(?:;[^\x07]*)?)\x07/g;
  private doneMark = /\x1b\]133;D;(\d+)(?:;[^\x07]*)?\x07/g;
  private queued = 0;

  /** From now on only marks that carry `key` count (the guest was given it; see the top). */
  setKey(key: string): void {
    if (!/^[0-9a-f]+$/.test(key)) throw new Error('a prompt key is hex digits');
    this.marks = new RegExp(`\\x1b\\]133;(?:D;(\\d+);${key}|B;(\\d*);${key})\\x07`, 'g');
    this.doneMark = new RegExp(`\\x1b\\]133;D;(\\d+);${key}\\x07`, 'g');
  }

  /** Feed everything the guest prints on the shell's console. */
  feed(text: string): void {
    if (this.pending) this.pending.captured += text;
    // Marks are found in the text seen since the last one (a mark may span two chunks).
    const seen = this.tail + text;
    let end = -1;
    const from = this.tailBeforeEnter;
    for (const m of seen.matchAll(this.marks)) {
      if (seen.slice(Math.max(from, end), m.index).includes('\n')) this.newlineSinceEnter = true;
      end = m.index! + m[0].length;
      if (m[1] !== undefined) this.lastStatus = Number(m[1]);
      else this.promptReady(m[2]);
    }
    if (seen.slice(Math.max(from, end)).includes('\n')) this.newlineSinceEnter = true;
    this.tail = (end >= 0 ? seen.slice(end) : seen).slice(-TAIL);
    this.tailBeforeEnter = 0;
  }

  private promptReady(prompt: string): void {
    // (the line drawn again as readline takes the Enter: the command has not run yet)
    if (!this.newlineSinceEnter && prompt !== '' && prompt === this.lastPrompt) return;
    const status = this.lastStatus;
    this.lastPrompt = prompt;
    this.atPrompt = true;
    for (const w of this.promptWaiters.splice(0)) w.resolve(status);
    const p = this.pending;
    if (p && (prompt === '' || prompt !== p.prompt)) {
      this.pending = undefined;
      p.resolve({ exitCode: status, output: extractOutput(p.command, p.captured, this.doneMark) });
    }
  }

  /** Tell the tracker about everything typed into the console, so it knows when a command runs. */
  typed(text: string): void {
    if (/[\r\n]/.test(text)) {
      this.atPrompt = false;
      this.newlineSinceEnter = false;
      this.tailBeforeEnter = this.tail.length;
    }
    // Characters on the line since Enter, Ctrl-C or Ctrl-U, less those rubbed out (cursor keys aside).
    for (const c of text.replace(/\x1b\[[0-9;]*[A-Za-z~]|\x1b./g, '')) {
      if (c === '\r' || c === '\n' || c === '\x03' || c === '\x15') this.lineLength = 0;
      else if (c === '\x7f' || c === '\b') this.lineLength = Math.max(0, this.lineLength - 1);
      else if (c >= ' ') this.lineLength++;
    }
  }

  /** The reader has typed at the prompt without pressing Enter. */
  private get halfTyped(): boolean {
    return this.lineLength > 0;
  }

  /** False while a command runs or is queued, or the shell is not at its prompt (say, a foreground container). */
  get idle(): boolean {
    return this.atPrompt && !this.pending && this.queued === 0;
  }

  /** Resolves at the next prompt the shell prints (with the last exit status). */
  nextPrompt(): Promise<number> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => this.promptWaiters.push({ resolve, reject }));
  }

  /**
   * Waits until the shell is at its prompt (a command or a container in the foreground finishes
   * first), types `command` and resolves with its exit code and output once the next prompt
   * appears. Calls are queued so that two commands never interleave. `onStart` is called just
   * before the command is typed.
   *
   * A command of several lines is typed as one paste and runs as one unit, with one result. A
   * command that runs nothing (blank, or comments only) resolves at once, typing nothing. A line
   * the reader left half-typed is taken out of the way first (Ctrl-U) and put back after (Ctrl-Y).
   */
  run(command: string, send: (text: string) => void, onStart?: () => void): Promise<RunResult> {
    if (isNoOp(command)) return this.stopped ? Promise.reject(this.stopped) : Promise.resolve({ exitCode: 0, output: '' });
    this.queued++;
    const result = this.queue.then(async () => {
      try {
        if (this.stopped) throw this.stopped;
        if (!this.atPrompt) await this.nextPrompt();
      } finally {
        this.queued--;
      }
      const putBack = this.halfTyped;
      const done = new Promise<RunResult>((resolve, reject) => {
        this.pending = { command, prompt: this.lastPrompt, captured: '', resolve, reject };
        this.typed('\r');
        onStart?.();
        const text = command.includes('\n') ? `${PASTE_START}${command}${PASTE_END}` : command;
        send(`${putBack ? KILL_LINE : ''}${text}\r`);
      });
      if (putBack)
        void done.then(() => {
          if (this.queued === 0 && !this.stopped) {
            send(YANK);
            this.lineLength = 1;
          }
        }, () => undefined);
      return done;
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Fails the command in flight and every one queued or waiting for a prompt (the machine stopped). */
  abort(error: Error): void {
    this.stopped = error;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(error);
    for (const w of this.promptWaiters.splice(0)) w.reject(error);
  }
}

function extractOutput(command: string, captured: string, doneMark: RegExp): string {
  // Up to the last D: a prompt redrawn before the command ran (a resize) carries a D of its own.
  const done = [...captured.matchAll(new RegExp(doneMark.source, 'g'))].pop();
  const lines = stripEscapes(captured.slice(0, done?.index ?? captured.length)).split('\n');
  // The command is echoed before its output: by the tty if it arrived before readline was
  // listening, and again by readline after the prompt. Skip up to the last echo near the top.
  const cmdLines = command.split('\n');
  const last = cmdLines[cmdLines.length - 1].trimEnd();
  let skip = cmdLines.length;
  for (let i = 0; i < Math.min(lines.length, cmdLines.length + 2); i++) if (last && lines[i].trimEnd().endsWith(last)) skip = i + 1;
  return lines.slice(skip).join('\n').replace(/\n$/, '');
}
