import { TerminalError } from '../boot/errors.js';
import type { PageFile } from '../files/page-files.js';
import type { Engine, ShellChannel } from './engine.js';

/**
 * The engine behind `share`: a terminal that shares another terminal's machine: one of its extra shells, the same files,
 * Docker and containers, and no second emulator (each costs about 1 GB). The machine stays the
 * other terminal's: stopping this one only frees the shell.
 */
export class SharedShellEngine implements Engine {
  readonly restored = true;

  constructor(
    private readonly host: Engine,
    private readonly channel: ShellChannel,
  ) {}

  async start(): Promise<void> {}

  send(text: string): void {
    this.channel.send(text);
  }

  resize(rows: number, cols: number): void {
    this.channel.resize(rows, cols);
  }

  // The clock is the machine's, set by the terminal that started it.
  setClock(): void {}

  /** The machine's prompt key (every shell of it reads the same), set by the terminal that started it. */
  get promptKey(): string | undefined {
    return this.host.promptKey;
  }

  writeFile(file: PageFile): Promise<void> {
    if (!this.host.writeFile) throw new TerminalError('engine-unavailable', 'This machine cannot take files from the page.');
    return this.host.writeFile(file);
  }

  readFile(path: string): Promise<Uint8Array> {
    if (!this.host.readFile) throw new TerminalError('engine-unavailable', 'This machine cannot read files for the page.');
    return this.host.readFile(path);
  }

  async stop(): Promise<void> {
    this.channel.close();
  }
}
