/**
 * Before it restores a state, v86 zeroes the whole guest memory (CPU.unpack_memory calls its wasm
 * zero_memory over all 512 MiB), and writing zeros makes the browser commit every page: the tab
 * held 613 MB for the guest though the state has only about 140 MB of pages that are not zero.
 * This zero_memory clears only the pages that are not zero already. Reading a page the tab never
 * touched commits nothing, so after a restore the tab holds the state's pages and what the guest
 * uses since. The result is the same memory, byte for byte. (v86's src/cpu.js: create_memory,
 * unpack_memory; its Rust memory::zero_memory.)
 */
const PAGE = 4096;

type Fn = (...args: number[]) => number | undefined;

/** v86's wasm exports with zero_memory made sparse; as they are if they are not as expected. */
export function sparseZeroing(exports: WebAssembly.Exports): WebAssembly.Exports {
  const zero = exports.zero_memory as Fn | undefined;
  const allocate = exports.allocate_memory as Fn | undefined;
  const memory = exports.memory;
  if (typeof zero !== 'function' || typeof allocate !== 'function' || !(memory instanceof WebAssembly.Memory)) return exports;
  // (the guest memory's place in the wasm memory, as v86 allocates it once in create_memory)
  let base: number | undefined;
  return {
    ...exports,
    allocate_memory: (size: number) => {
      const at = allocate(size)!;
      if (base === undefined) base = at >>> 0;
      return at;
    },
    zero_memory: (addr: number, length: number) => {
      if (base === undefined || (base + addr) % 4 !== 0) return zero(addr, length);
      const words = new Int32Array(memory.buffer);
      for (let page = addr; page < addr + length; page += PAGE) {
        const size = Math.min(PAGE, addr + length - page);
        if (size < PAGE) {
          zero(page, size);
          continue;
        }
        // (16 words at a time: the whole scan of 512 MiB takes about 0.1 s, most of it the first
        // read of each page)
        const first = (base + page) >> 2;
        let bits = 0;
        for (let w = first; w < first + PAGE / 4 && bits === 0; w += 16)
          bits = words[w] | words[w + 1] | words[w + 2] | words[w + 3] | words[w + 4] | words[w + 5] | words[w + 6] | words[w + 7] |
            words[w + 8] | words[w + 9] | words[w + 10] | words[w + 11] | words[w + 12] | words[w + 13] | words[w + 14] | words[w + 15];
        if (bits !== 0) zero(page, PAGE);
      }
      return undefined;
    },
  };
}
