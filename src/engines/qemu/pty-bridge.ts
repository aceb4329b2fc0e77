/**
 * QEMU-wasm talks to a terminal through an xterm-pty slave (`Module.pty`); its master side is
 * meant to be loaded into an xterm.js Terminal as an addon. The element keeps its own terminal and
 * talks to engines with send()/onConsole/resize(), so the master is given a small stand-in for a
 * Terminal that turns those calls into what the addon expects.
 */

type Listener<T> = (value: T) => void;
interface Disposable {
  dispose(): void;
}

/** The parts of xterm-pty's Master and Slave used here (see xterm-pty's index.d.ts). */
export interface PtyMaster {
  activate(terminal: never): void;
  dispose(): void;
}
export interface PtySlave {
  readonly readable: boolean;
  read(length?: number): number[];
  write(data: string | number[]): void;
  ioctl(request: 'TIOCGWINSZ'): [number, number];
}
export type OpenPty = () => { master: PtyMaster; slave: PtySlave };

export interface PtyBridge {
  /** Give this to the Emscripten module as Module.pty. */
  slave: PtySlave;
  /** Keys typed by the reader (or send()). */
  send(text: string): void;
  resize(rows: number, cols: number): void;
  dispose(): void;
}

export function openPtyBridge(openpty: OpenPty, onOutput: (text: string) => void): PtyBridge {
  const { master, slave } = openpty();
  const decoder = new TextDecoder();
  let input: Listener<string> | undefined;
  let resized: Listener<{ rows: number; cols: number }> | undefined;
  let open = true;
  const once = (clear: () => void): Disposable => ({ dispose: clear });
  // What Master.activate() uses of an xterm.js Terminal.
  const terminal = {
    write(data: Uint8Array | string, done?: () => void) {
      if (open) onOutput(typeof data === 'string' ? data : decoder.decode(data, { stream: true }));
      // The master waits for this before it sends more: a terminal that has drawn the text.
      done?.();
    },
    onData(listener: Listener<string>) {
      input = listener;
      return once(() => (input = undefined));
    },
    onBinary(_listener: Listener<string>) {
      return once(() => undefined);
    },
    onResize(listener: Listener<{ rows: number; cols: number }>) {
      resized = listener;
      return once(() => (resized = undefined));
    },
  };
  master.activate(terminal as never);
  return {
    slave,
    send: (text) => open && input?.(text),
    resize: (rows, cols) => open && resized?.({ rows, cols }),
    dispose() {
      open = false;
      master.dispose();
    },
  };
}
