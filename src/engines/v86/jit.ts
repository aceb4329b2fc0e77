/**
 * v86 compiles a hot page of x86 code into a wasm module. Three of its settings cost Docker dearly
 * (`docker run` again and again in one Chromium tab, at once after ready; v86 defaults: 18.2 s for
 * the first run, 10.1 s for the second):
 * - Up to 3 pages per module: a module also takes in the neighbouring pages that have run at all,
 *   and compiles grow large (on average 87 ms from request to use; v86 compiles one at a time). With
 *   one page per module they took 20 ms, and the first run 13.1–14.3 s.
 * - 900 module slots: when they are full v86 drops every module and starts again cold. With one
 *   page per module that came at the seventh run (2.96 s, then 10.4 s). With JIT_SLOTS slots the
 *   runs went on falling: 14.3, 6.7, 5.7, 4.5, 4.3, 3.4 … 2.9 s.
 * - A page is compiled once it has run JIT_THRESHOLD instructions (v86: 200,000). Compiling less
 *   and only what is really hot paid: at 400,000 the first two runs took 10.6–11.0 s and 6.0–6.2 s,
 *   at 800,000 10.1–10.2 s and 5.6–5.9 s, at 1,000,000 10.0–10.3 s and 5.2–5.4 s; the twelfth run
 *   still 2.9 s. (Lower, at 50,000 or 100,000, was worse.)
 * The page count is a setting v86 exports. The slot count and the threshold are constants in v86's
 * wasm: this lengthens the list of free slots in its memory and grows the table to match, once,
 * before the first compile, and rewrites the threshold's one constant in the wasm before it is
 * compiled; each only if v86 is exactly as in the version it was measured with (0.5.462).
 */
export const JIT_SLOTS = 3000;

export const JIT_THRESHOLD = 1_000_000;

/** v86's slot count (WASM_TABLE_SIZE) and where its module slots start in the table. */
const V86_SLOTS = 900;
const TABLE_OFFSET = 1024;
/** v86's index of its pages-per-module setting (MAX_PAGES) in set_jit_config. */
const MAX_PAGES = 1;

/** The parts of v86's CPU object (`emulator.v86.cpu`) this touches. */
export interface V86Cpu {
  wasm_memory: WebAssembly.Memory;
  mem8: { byteOffset: number };
  wm: {
    exports: Record<string, unknown> & {
      set_jit_config?: (index: number, value: number) => void;
      get_jit_config?: (index: number) => number;
      v86_malloc?: (size: number) => number;
    };
    wasm_table: WebAssembly.Table;
  };
  jit_clear_all_funcs(): void;
}

/**
 * One page per module and JIT_SLOTS module slots. False, with v86 left as it is, if this v86 is not
 * laid out as expected (another version) or has compiled already.
 */
export function tuneJit(cpu: V86Cpu | undefined): boolean {
  const exports = cpu?.wm?.exports;
  const table = cpu?.wm?.wasm_table;
  if (!cpu || !exports || !(table instanceof WebAssembly.Table) || table.length !== TABLE_OFFSET + V86_SLOTS) return false;
  const { set_jit_config, get_jit_config, v86_malloc } = exports;
  if (typeof set_jit_config !== 'function' || typeof get_jit_config !== 'function' || typeof v86_malloc !== 'function') return false;
  if (!(cpu.wasm_memory instanceof WebAssembly.Memory) || !(cpu.mem8?.byteOffset > 0)) return false;
  const found = findFreeList(cpu.wasm_memory.buffer, cpu.mem8.byteOffset);
  if (!found) return false;

  const bytes = 2 * (JIT_SLOTS - 1);
  const list = v86_malloc(bytes) >>> 0;
  if (!list || list % 2 || list + bytes > cpu.wasm_memory.buffer.byteLength) return false;
  const slots = new Uint16Array(cpu.wasm_memory.buffer, list, JIT_SLOTS - 1);
  for (let i = 0; i < slots.length; i++) slots[i] = i + 1;
  table.grow(JIT_SLOTS - V86_SLOTS);
  // The Vec's capacity, pointer and length; the old 1.8 KB list stays allocated, unused.
  for (const header of found.headers) new Uint32Array(cpu.wasm_memory.buffer, header, 3).set([JIT_SLOTS - 1, list, JIT_SLOTS - 1]);
  cpu.jit_clear_all_funcs = function (this: V86Cpu) {
    for (let i = 0; i < JIT_SLOTS; i++) this.wm.wasm_table.set(TABLE_OFFSET + i, null);
  };
  set_jit_config(MAX_PAGES, 1);
  return get_jit_config(MAX_PAGES) === 1;
}

/**
 * Where v86 keeps the JIT's free-slot list (a Rust Vec<u16>: capacity, pointer, length), looked for
 * in its statics below guest memory: 899, 899 and a pointer to exactly 1, 2, … 899, as v86 leaves it
 * until its first compile. A stale copy of the header can sit in the free part of the wasm stack
 * (from building the state); it points to the same list, and writing it is harmless. Undefined
 * unless every header found points to one list.
 */
export function findFreeList(buffer: ArrayBuffer, end: number): { list: number; headers: number[] } | undefined {
  const words = new Uint32Array(buffer, 0, Math.floor(Math.min(end, buffer.byteLength) / 4));
  const n = V86_SLOTS - 1;
  const headers: number[] = [];
  let list: number | undefined;
  for (let i = 0; i + 2 < words.length; i++) {
    if (words[i] !== n || words[i + 2] !== n) continue;
    const at = words[i + 1];
    if (at % 2 || at + 2 * n > buffer.byteLength) continue;
    if (!new Uint16Array(buffer, at, n).every((v, k) => v === k + 1)) continue;
    if (list !== undefined && at !== list) return undefined;
    list = at;
    headers.push(4 * i);
  }
  return list === undefined ? undefined : { list, headers };
}

/** `i32.const 200000; i32.lt_u`: v86's `hotness >= JIT_THRESHOLD`, inlined once into its main loop. */
const THRESHOLD_CHECK = [0x41, 0xc0, 0x9a, 0x0c, 0x49];
/** The same with JIT_THRESHOLD, as a signed LEB128 of the same three bytes. */
const RAISED_CHECK = [0x41, ...leb128(JIT_THRESHOLD), 0x49];

/** v86's wasm with JIT_THRESHOLD; the bytes as they are if the check is not there exactly once. */
export function raiseJitThreshold(wasm: ArrayBuffer): ArrayBuffer {
  const bytes = new Uint8Array(wasm);
  const at = find(bytes, THRESHOLD_CHECK);
  if (at < 0 || find(bytes, THRESHOLD_CHECK, at + 1) >= 0 || RAISED_CHECK.length !== THRESHOLD_CHECK.length) return wasm;
  const raised = bytes.slice();
  raised.set(RAISED_CHECK, at);
  return raised.buffer;
}

function find(bytes: Uint8Array, pattern: number[], from = 0): number {
  outer: for (let i = bytes.indexOf(pattern[0], from); i >= 0 && i + pattern.length <= bytes.length; i = bytes.indexOf(pattern[0], i + 1)) {
    for (let k = 1; k < pattern.length; k++) if (bytes[i + k] !== pattern[k]) continue outer;
    return i;
  }
  return -1;
}

function leb128(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if (value === 0 && !(byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}
