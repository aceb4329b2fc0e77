/**
 * The machine v86 emulates, in one place: the element's engine and the guest builder
 * (guest/tools/machine.mjs, which bakes the saved state) both build v86's options here. A saved
 * state restores only into the devices it was saved with, so the two must never differ.
 */

/** A file for v86: bytes in memory, or (under Node) a path or URL it reads itself. */
export type V86File = { buffer: ArrayBuffer } | { url: string; size?: number; async?: boolean; use_parts?: boolean; fixed_chunk_size?: number };

/** A disk of the page's own, which v86 takes as it is: anything with load, get and set (see ./disk.ts). */
export interface V86Disk {
  load(): void;
  get(offset: number, len: number, fn: (data: Uint8Array) => void): void;
  set(offset: number, data: Uint8Array, fn: () => void): void;
}

export interface V86Machine {
  memoryMB: number;
  bios: V86File;
  vgaBios: V86File;
  /** The root disk (hda). */
  disk: V86File | V86Disk;
  /** A second disk (hdb): the build's configure boot writes its result there. */
  disk2?: V86File;
  /** Restore this saved state; otherwise boot `kernel` + `initrd` with `cmdline`. */
  state?: V86File;
  kernel?: V86File;
  initrd?: V86File;
  cmdline?: string;
  wasmPath?: string;
  wasmFn?: (env: WebAssembly.Imports) => Promise<WebAssembly.Exports>;
}

export function v86Config(m: V86Machine): Record<string, unknown> {
  const config: Record<string, unknown> = {
    memory_size: m.memoryMB * 1024 * 1024,
    vga_memory_size: 2 * 1024 * 1024,
    bios: m.bios,
    vga_bios: m.vgaBios,
    hda: m.disk,
    // The control port (src/protocol/control.ts).
    uart1: true,
    // A spare shell on the third port, for a terminal that shares this machine (the guest does not
    // detect the fourth, but the saved state holds it).
    uart2: true,
    uart3: true,
    // An empty 9p file system: the reader's working directory (the saved state has it mounted).
    filesystem: {},
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  };
  if (m.disk2) config.hdb = m.disk2;
  if (m.wasmPath) config.wasm_path = m.wasmPath;
  if (m.wasmFn) config.wasm_fn = m.wasmFn;
  if (m.state) config.initial_state = m.state;
  else Object.assign(config, { bzimage: m.kernel, initrd: m.initrd, cmdline: m.cmdline ?? '' });
  return config;
}
