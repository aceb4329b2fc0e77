import type { Manifest } from '../boot/manifest.js';
import type { TerminalError } from '../boot/errors.js';
import type { PageFile } from '../files/page-files.js';

/**
 * The small surface every machine engine implements (v86, qemu, and the shell of a shared machine),
 * and what the element hands one. The loader and the table of engines: ./index.ts.
 */

/** What the element hands an engine. */
export interface EngineOptions {
  /** Folder of the machine bundle (ends with a slash). */
  bundle: URL;
  manifest: Manifest;
  /** Where the element's own files are (the v86 wasm sits beside the entry module). */
  assets: URL;
  memory: number;
  cores: number;
  /** Restore the bundle's saved state (settled by the element's settings), or boot from scratch. */
  restore: boolean;
  /** Seconds the guest waits for containerd on a cold boot. */
  containerdTimeout: number;
  signal: AbortSignal;
  /** Bytes of the start-up files downloaded so far, of `total`. */
  onDownload(loaded: number, total: number): void;
  /** Text the guest prints on the terminal's console. */
  onConsole(text: string): void;
  /** A Wisp relay (a ws: or wss: URL) for the machine's outbound TCP; none: nothing leaves the tab. */
  network?: string;
  /** A read-only registry on a static host, dockerd's mirror (docs/static-registry.md). */
  registry?: URL;
  /** The image the reader starts in (the qemu guest checks it holds it before reporting ready). */
  image?: string | null;
  /** Something the reader should know that does not stop the machine (say, a slow cold boot). */
  onNotice?(text: string): void;
  /** A failure after start (say, a disk block that cannot be fetched). */
  onError(error: TerminalError): void;
  /** What a failure after start was about is well again (a daemon is back). */
  onRecovered?(): void;
}

/** Another shell on a running machine, for a terminal that shares it. */
export interface ShellChannel {
  send(text: string): void;
  resize(rows: number, cols: number): void;
  /** Frees the shell for the next terminal that shares the machine. */
  close(): void;
}

/** The small surface every machine engine implements (v86, qemu). */
export interface Engine {
  /** True when a saved state was restored: the guest is already at a prompt, no boot stages follow. */
  readonly restored: boolean;
  /** Downloads what start-up needs and starts the machine; resolves once it runs. */
  start(): Promise<void>;
  /**
   * Docker is ready and the reader has the prompt: a time to fetch what the first commands read,
   * and to warm up for them until the reader first types (send()).
   */
  ready?(): void;
  /** Types text into the guest's console. */
  send(text: string): void;
  /** Tells the guest the terminal's size. */
  resize(rows: number, cols: number): void;
  /** Sets the guest clock (seconds since the epoch); a restored state is behind. */
  setClock(epochSeconds: number): void;
  /**
   * Gives the guest's shells the key of their prompt marks (src/protocol/prompt.ts); resolves true
   * once the guest has it, false if it did not answer (a guest without it: the marks carry none).
   */
  setPromptKey?(key: string): Promise<boolean>;
  /** The key given, for a terminal that shares the machine. */
  readonly promptKey?: string;
  /** Creates or replaces a file in the reader's working directory (absent: this engine cannot). */
  writeFile?(file: PageFile): Promise<void>;
  /** Reads a file from the reader's working directory. */
  readFile?(path: string): Promise<Uint8Array>;
  /** Opens one of the machine's extra shells (absent: this engine has none; undefined: all in use). */
  openShell?(onConsole: (text: string) => void): ShellChannel | undefined;
  /** An HTTP request to a server in the machine (http://localhost:PORT/…), answered as fetch() would. */
  fetch?(input: string | URL, init?: RequestInit): Promise<Response>;
  /** Stops the machine and frees its memory, workers and timers. */
  stop(): Promise<void>;
}
