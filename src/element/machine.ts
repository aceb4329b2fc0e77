import { TerminalError } from '../boot/errors.js';
import type { Engine } from '../engines/engine.js';
import { PromptTracker, type RunResult } from '../protocol/prompt.js';
import { MarkerParser, type BootStage } from '../protocol/stages.js';

export interface MachineHooks {
  onStage(stage: BootStage, detail: string): void;
  /** Everything the guest prints, for the terminal and the boot log. */
  onConsole(text: string): void;
}

export interface BootLimits {
  /** Seconds of console silence before a cold boot counts as hung. */
  silence: number;
  /** Seconds a cold boot may take in all before it counts as hung. */
  total: number;
  /** Seconds a restored machine may take to show a prompt. */
  restore: number;
}

/**
 * One running guest: follows its boot from the console markers to the first prompt, then runs
 * commands in its shell. Engine-independent; the element drives it.
 */
export class Machine {
  private readonly markers = new MarkerParser();
  private readonly prompts = new PromptTracker();
  private readonly log: string[] = [];
  private failure: ((e: TerminalError) => void) | undefined;
  private failedDetail = '';
  private lastOutput = Date.now();
  private bootStage: ((stage: BootStage, detail: string) => void) | undefined;
  private timers: ReturnType<typeof setTimeout>[] = [];

  constructor(
    readonly engine: Engine,
    private readonly hooks: MachineHooks,
  ) {}

  /** Feed console text from the engine here. */
  consoleText(text: string): void {
    this.lastOutput = Date.now();
    this.hooks.onConsole(text);
    this.prompts.feed(text);
    for (const m of this.markers.feed(text)) {
      if (m.kind === 'stage') {
        this.hooks.onStage(m.stage, m.detail);
        this.bootStage?.(m.stage, m.detail);
      } else if (m.kind === 'log') {
        if (m.line !== 'end') this.log.push(m.line);
        else this.failure?.(new TerminalError('boot-failed', `The guest failed to start Docker: ${this.failedDetail}`, this.log.slice()));
      } else {
        this.failedDetail = m.detail;
      }
    }
  }
  /** Resolves when the shell prompt is up and Docker is ready. */
  async boot(limits: BootLimits, signal: AbortSignal): Promise<void> {
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([this.bootSteps(limits), aborted]);
    } finally {
      this.clearTimers();
    }
  }

  private async bootSteps(limits: BootLimits): Promise<void> {
    await this.engine.start();
    const started = performance.now();
    if (this.engine.restored) {
      // A restored guest sits at its prompt with a stale clock; input before start-up was lost.
      this.engine.setClock(Date.now() / 1000);
      await this.keyPrompts();
      await this.freshPrompt(limits.restore).catch(() => {
        throw new TerminalError('boot-timeout', `The restored machine did not show a prompt within ${limits.restore} s. Press Retry; if it happens again, rebuild the bundle.`);
      });
      // (a User Timing measure, as the engine's phases: src/engines/v86/engine.ts)
      performance.measure('docker-terminal first prompt', { start: started });
      this.hooks.onStage('ready', 'restored from saved state');
      return;
    }
    const prompt = this.prompts.nextPrompt();
    const ready = new Promise<void>((resolve, reject) => {
      this.bootStage = (stage) => stage === 'ready' && resolve();
      this.failure = reject;
      this.watchSilence(limits.silence, reject);
    });
    await this.within(ready, limits.total, `The guest did not get Docker ready within ${limits.total} s. Open the boot log to see how far it got, then press Retry.`);
    await this.within(prompt, limits.restore, 'Docker is ready but the shell did not show a prompt.');
    await this.keyPrompts();
  }

  /**
   * The key of the prompt marks (src/protocol/prompt.ts): a new one for this boot, given to the
   * guest, or the machine's for a shell that shares it. A guest that does not answer keeps marks
   * without a key.
   */
  private async keyPrompts(): Promise<void> {
    if (this.engine.setPromptKey) {
      const key = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
      if (await this.engine.setPromptKey(key)) this.prompts.setKey(key);
    } else if (this.engine.promptKey) this.prompts.setKey(this.engine.promptKey);
  }

  /**
   * The reader has the prompt: the engine may fetch and warm up for the first commands. Called
   * after the element's own Enter, which the engine would otherwise take for the reader's typing.
   */
  ready(): void {
    this.engine.ready?.();
  }

  /** Types into the guest's console (the reader's keys, send()). */
  send(text: string): void {
    this.prompts.typed(text);
    this.engine.send(text);
  }

  /** Presses Enter in the shell and waits for the prompt it brings. */
  async freshPrompt(seconds: number): Promise<void> {
    const prompt = this.prompts.nextPrompt();
    this.send('\r');
    await this.within(prompt, seconds, 'The shell did not answer with a prompt.');
  }

  run(command: string, onStart?: () => void): Promise<RunResult> {
    return this.prompts.run(command, (t) => this.engine.send(t), onStart);
  }

  /**
   * Sends Ctrl-C and resolves at the prompt it brings (with that prompt's exit status), or with null
   * after `seconds` if none came (something in the foreground ignores Ctrl-C).
   */
  interrupt(seconds: number): Promise<number | null> {
    const prompt = this.prompts.nextPrompt();
    this.send('\x03');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), seconds * 1000)));
    return Promise.race([prompt, late]).finally(() => clearTimeout(timer));
  }

  /** False while a command runs or waits its turn, or something holds the foreground. */
  get idle(): boolean {
    return this.prompts.idle;
  }

  async stop(): Promise<void> {
    this.clearTimers();
    this.prompts.abort(new TerminalError('stopped', 'The machine was stopped.'));
    await this.engine.stop();
  }

  private watchSilence(seconds: number, reject: (e: TerminalError) => void): void {
    const check = () => {
      if (Date.now() - this.lastOutput > seconds * 1000)
        reject(new TerminalError('boot-timeout', `The guest printed nothing for ${seconds} s while booting. Open the boot log to see where it stopped, then press Retry.`));
      else this.timers.push(setTimeout(check, 1000));
    };
    this.timers.push(setTimeout(check, 1000));
  }

  private within<T>(promise: Promise<T>, seconds: number, message: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TerminalError('boot-timeout', message)), seconds * 1000);
      this.timers.push(timer);
      promise.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}
