/**
 * The prompt protocol behind run(): runs commands in the guest's interactive shell and learns when
 * they finish. The guest's prompt (PS1 in guest/rootfs/root/.bashrc) carries invisible OSC 133
 * marks: `ESC ] 133 ; D ; <status> BEL` when a command has finished, then the prompt, then
 * `ESC ] 133 ; B ; <n> BEL` once readline listens, where n is bash's command number: a redrawn
 * prompt (after a resize) repeats it. The reader sees only the command and its output. Change the
 * marks here and in .bashrc together.
 */
export interface RunResult {
  exitCode: number;
  /** What the command printed, without the echoed command line, escape sequences or CRs. */
  output: string;
}

const DONE_MARK = /\x1b\]133;D;(\d+)\x07/;
const MARKS = /\x1b\]133;(?:D;(\d+)|B;?(\d*))\x07/g;
const ESCAPES = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-9;?<=>]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]/g;

export function stripEscapes(text: string): string {
  return text.replace(ESCAPES, '').replace(/\r/g, '');
}

interface Pending {
  command: string;
  /** Number of the prompt the command was typed at; its redraws do not end the command. */
  prompt: string;
  captured: string;
  resolve(result: RunResult): void;
  reject(error: Error): void;
}

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

  /** Feed everything the guest prints on the shell's console. */
  feed(text: string): void {
    if (this.pending) this.pending.captured += text;
    // Marks are found in the text seen since the last one (a mark may span two chunks).
    const seen = this.tail + text;
    let end = -1;
    for (const m of seen.matchAll(MARKS)) {
      end = m.index! + m[0].length;
      if (m[1] !== undefined) this.lastStatus = Number(m[1]);
      else this.promptReady(m[2]);
    }
    this.tail = (end >= 0 ? seen.slice(end) : seen).slice(-64);
  }

  private promptReady(prompt: string): void {
    const status = this.lastStatus;
    this.lastPrompt = prompt;
    this.atPrompt = true;
    for (const w of this.promptWaiters.splice(0)) w.resolve(status);
    const p = this.pending;
    if (p && (prompt === '' || prompt !== p.prompt)) {
      this.pending = undefined;
      p.resolve({ exitCode: status, output: extractOutput(p.command, p.captured) });
    }
  }

  /** Tell the tracker about everything typed into the console, so it knows when a command runs. */
  typed(text: string): void {
    if (/[\r\n]/.test(text)) this.atPrompt = false;
  }

  /** False while a command runs or is queued, or the shell is not at its prompt (say, a foreground container). */
  get idle(): boolean {
    return this.atPrompt && !this.pending && this.queued === 0;
  }
  private queued = 0;

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
   */
  run(command: string, send: (text: string) => void, onStart?: () => void): Promise<RunResult> {
    this.queued++;
    const result = this.queue.then(async () => {
      try {
        if (this.stopped) throw this.stopped;
        if (!this.atPrompt) await this.nextPrompt();
      } finally {
        this.queued--;
      }
      return new Promise<RunResult>((resolve, reject) => {
        this.pending = { command, prompt: this.lastPrompt, captured: '', resolve, reject };
        this.typed('\r');
        onStart?.();
        send(command + '\r');
      });
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

function extractOutput(command: string, captured: string): string {
  // Up to the last D: a prompt redrawn before the command ran (a resize) carries a D of its own.
  const done = [...captured.matchAll(new RegExp(DONE_MARK, 'g'))].pop();
  const lines = stripEscapes(captured.slice(0, done?.index ?? captured.length)).split('\n');
  // The command is echoed before its output: by the tty if it arrived before readline was
  // listening, and again by readline after the prompt. Skip up to the last echo near the top.
  const cmdLines = command.split('\n');
  const last = cmdLines[cmdLines.length - 1].trimEnd();
  let skip = cmdLines.length;
  for (let i = 0; i < Math.min(lines.length, cmdLines.length + 2); i++) if (last && lines[i].trimEnd().endsWith(last)) skip = i + 1;
  return lines.slice(skip).join('\n').replace(/\n$/, '');
}
